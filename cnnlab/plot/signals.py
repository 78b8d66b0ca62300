"""Functions of one variable: a 1D signal as stems, activation functions as curves.

Introduced in lesson 01 (a signal or 1D feature map, one stem per position)
and lesson 06 (activation functions beside their derivatives).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.container import StemContainer

from .. import activations
from .._validate import as_array, describe
from ._checks import check_at_most, check_figure, check_flag, check_number, check_text
from ._parts import new_axes

__all__ = ["plot_signal", "plot_activations", "ACTIVATION_NAMES", "MAX_SIGNAL_POINTS",
           "MAX_ACTIVATION_PANELS", "MAX_CURVE_POINTS"]

MAX_SIGNAL_POINTS = 10_000  # longest signal plot_signal draws (one stem each)
ACTIVATION_NAMES = ("relu", "leaky_relu", "tanh", "sigmoid")
MAX_ACTIVATION_PANELS = 8   # most panels plot_activations draws
MAX_CURVE_POINTS = 100_000  # most points of x plot_activations evaluates


def plot_signal(x, ax=None, *, title=None, label=None):
    """Draw a 1D signal or feature map as a stem plot, one stem per position.

    Introduced in lesson 01. Call it twice on the same Axes to compare two
    signals; each call takes the next colour.

    Parameters
    ----------
    x : (L,) array_like
        At most ``MAX_SIGNAL_POINTS`` (10,000) values.
    ax : matplotlib Axes, optional
    title : str, optional
    label : str, optional
        Legend entry.

    Returns
    -------
    matplotlib Axes
    """
    x = as_array(x, "x", ndims=1)
    if x.size == 0:
        raise ValueError("`x` must hold at least one value, got an empty array")
    check_at_most(x.size, MAX_SIGNAL_POINTS, "x", "stems")
    title, label = check_text(title), check_text(label, "label")
    ax = new_axes(ax, (min(0.45 * len(x) + 1.5, 10), 2.4))
    n_stems = sum(isinstance(c, StemContainer) for c in ax.containers)
    colour = f"C{n_stems % 10}"
    stems = ax.stem(np.arange(len(x)), x, linefmt=colour, markerfmt=colour + "o",
                    basefmt="none", label=label)
    stems.markerline.set_markersize(6)
    ax.axhline(0, color="0.6", linewidth=0.8, zorder=0)
    if len(x) <= 32:
        ax.set_xticks(range(len(x)))
    ax.set_xlabel("position")
    ax.spines[["top", "right"]].set_visible(False)
    if label is not None:
        ax.legend(frameon=False)
    if title is not None:
        ax.set_title(title)
    return ax


def _activation_curves(name, x, alpha):
    """``(title, f(x), f'(x))`` of one activation function; f' where it exists."""
    if name == "relu":
        return "ReLU: max(0, x)", activations.relu(x), (x > 0).astype(float)
    if name == "leaky_relu":
        return (f"leaky ReLU: x or {alpha:g}·x", activations.leaky_relu(x, alpha),
                np.where(x > 0, 1.0, alpha))
    if name == "tanh":
        t = activations.tanh(x)
        return "tanh(x)", t, 1 - t ** 2
    s = activations.sigmoid(x)
    return "sigmoid: 1 / (1 + e^-x)", s, s * (1 - s)


def _break_jumps(x, y, jump=0.25):
    """Insert NaN between neighbours that differ by more than ``jump``: no vertical lines."""
    where = np.flatnonzero(np.abs(np.diff(y)) > jump) + 1
    return np.insert(x, where, np.nan), np.insert(y, where, np.nan)


def plot_activations(names=ACTIVATION_NAMES, *, x=None, derivatives=True, alpha=0.2, fig=None):
    """Activation functions side by side, each with its derivative.

    Introduced in lesson 06. One panel per function: the function as a solid
    line (gid ``"function"``) and, if asked, its derivative dashed (gid
    ``"derivative"``; left open where it jumps, at 0 for ReLU and leaky
    ReLU). The values are those of :mod:`cnnlab.activations`; the
    derivatives take the right-hand value at 0 as TensorFlow does (ReLU: 0).

    Parameters
    ----------
    names : sequence of {"relu", "leaky_relu", "tanh", "sigmoid"}
        At most ``MAX_ACTIVATION_PANELS`` (8) names.
    x : (L,) array_like, optional
        Where to evaluate; default 401 points from -4 to 4 (at most
        ``MAX_CURVE_POINTS``, 100,000).
    derivatives : bool
    alpha : float
        Slope of leaky ReLU for negative inputs (Keras's default 0.2).
    fig : matplotlib Figure, optional
        Cleared and reused; a new one is made when omitted.

    Returns
    -------
    matplotlib Figure
        One Axes per name, in order, sharing the y axis.
    """
    if isinstance(names, str):
        names = [names]
    if isinstance(names, np.ndarray) and names.ndim == 1:
        names = names.tolist()
    if not isinstance(names, (list, tuple)):
        raise TypeError(f"`names` must be a name or a list of names from "
                        f"{', '.join(map(repr, ACTIVATION_NAMES))}, got {describe(names)}")
    names = list(names)
    if not names:
        raise ValueError("`names` must name at least one activation function")
    check_at_most(len(names), MAX_ACTIVATION_PANELS, "names", "panels")
    for name in names:
        if not isinstance(name, str) or name not in ACTIVATION_NAMES:
            raise ValueError(
                f"`names` must hold names from {', '.join(map(repr, ACTIVATION_NAMES))}, "
                f"got {describe(name)}")
    x = np.linspace(-4, 4, 401) if x is None else as_array(x, "x", ndims=1)
    if x.size < 2:
        raise ValueError(f"`x` must hold at least 2 points, got {x.size}")
    check_at_most(x.size, MAX_CURVE_POINTS, "x", "points")
    derivatives = check_flag(derivatives, "derivatives")
    alpha = check_number(alpha, "alpha")
    check_figure(fig)
    if fig is None:
        fig = plt.figure(figsize=(3.2 * len(names), 3.0), layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
    for ax, name in zip(axes, names):
        title, y, dy = _activation_curves(name, x, alpha)
        ax.axhline(0, color="0.6", linewidth=0.8, zorder=0)
        ax.axvline(0, color="0.6", linewidth=0.8, zorder=0)
        ax.plot(x, y, color="C0", linewidth=2, label="f(x)", gid="function")
        if derivatives:
            ax.plot(*_break_jumps(x, dy), color="C3", linestyle="--", linewidth=1.6,
                    label="f'(x)", gid="derivative")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("x")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(frameon=False, loc="upper left")
    return fig
