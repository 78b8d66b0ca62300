"""Curves of training and of trained networks.

The loss step by step and the paths of optimisers on a loss surface (lesson
08), one value per layer such as gradient norms (lesson 11).
"""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_int, describe
from ._checks import check_at_most, check_axes, check_flag, check_number, check_text
from ._parts import new_axes
from .architecture import MAX_BLOCKS

__all__ = ["plot_loss_curves", "plot_descent_paths", "plot_layer_values",
           "MAX_LINES", "MAX_LOSS_STEPS", "MAX_LEVELS"]

MAX_LINES = 100             # most curves / paths / networks one plot draws
MAX_LOSS_STEPS = 10_000_000  # longest curve plot_loss_curves draws
MAX_LEVELS = 100            # most contour lines plot_descent_paths draws


def plot_loss_curves(curves, ax=None, *, smooth=1, steps_per_epoch=None, log=False,
                     ylabel=None, title=None):
    """Loss against training step, one line per run.

    Introduced in lesson 08 to compare optimisers and batch sizes.

    Parameters
    ----------
    curves : dict of str -> (steps,) array_like
        The loss of every step of each run, by label; at most ``MAX_LINES``
        (100) runs of at most ``MAX_LOSS_STEPS`` (10 million) steps.
    ax : matplotlib Axes, optional
    smooth : int
        Draw the mean of the last ``smooth`` steps (1 = the raw losses), which
        shows the trend through the noise of small batches.
    steps_per_epoch : int or dict of str -> int, optional
        Measure the horizontal axis in epochs instead of steps (one number
        for every run, or one per label when batch sizes differ).
    log : bool
        Logarithmic loss axis.
    ylabel : str, optional
        Label of the vertical axis (default "loss").
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(curves, dict) or not curves:
        raise TypeError(f"`curves` must be a non-empty dict of label -> losses, got {describe(curves)}")
    check_at_most(len(curves), MAX_LINES, "curves", "curves")
    smooth = check_int(smooth, "smooth", minimum=1)
    per_epoch = _steps_per_epoch(steps_per_epoch, curves)
    log = check_flag(log, "log")
    title, ylabel = check_text(title), check_text(ylabel, "ylabel")
    losses_by_label = {}
    for label, losses in curves.items():
        y = as_array(losses, f"curves[{label!r}]", ndims=1)
        if len(y) == 0:
            raise ValueError(f"`curves[{label!r}]` is empty")
        check_at_most(len(y), MAX_LOSS_STEPS, f"curves[{label!r}]", "steps")
        losses_by_label[label] = y
    ax = new_axes(ax, (6.5, 3.8))
    for label, y in losses_by_label.items():
        window = min(smooth, len(y))
        y = _running_mean(y, window)                                # mean of the last `window` steps
        steps = np.arange(window, window + len(y), dtype=float)  # step number of each mean (1-based)
        x = steps if per_epoch is None else steps / per_epoch[label]
        ax.plot(x, y, label=str(label), linewidth=1.6)
    ax.set_xlabel("step" if steps_per_epoch is None else "epoch")
    ylabel = "loss" if ylabel is None else str(ylabel)
    ax.set_ylabel(ylabel if smooth == 1 else f"{ylabel} (mean of {smooth} steps)")
    if log:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    if title is not None:
        ax.set_title(title)
    return ax


def _running_mean(y, window):
    """Means of ``window`` consecutive values (``np.convolve``; cumulative sums when long)."""
    if window * len(y) <= 10**7:
        return np.convolve(y, np.ones(window) / window, mode="valid")
    total = np.concatenate([[0.0], np.cumsum(y, dtype=np.float64)])
    return (total[window:] - total[:-window]) / window


def _steps_per_epoch(value, curves):
    """None, or the number of steps per epoch of every curve by label."""
    if value is None:
        return None
    if isinstance(value, dict):
        missing = [label for label in curves if label not in value]
        if missing:
            raise ValueError(f"`steps_per_epoch` has no entry for {missing}")
        return {label: check_int(value[label], f"steps_per_epoch[{label!r}]", minimum=1)
                for label in curves}
    n = check_int(value, "steps_per_epoch", minimum=1)
    return dict.fromkeys(curves, n)


def plot_descent_paths(loss, paths, ax=None, *, xlim, ylim, levels=12, minimum=None,
                       labels=("w", "b"), title=None):
    """Contour lines of a two-parameter loss with the path of each optimiser on it.

    Introduced in lesson 08 for gradient descent, momentum, RMSProp and Adam.

    Parameters
    ----------
    loss : callable
        ``loss(w, b)`` on two arrays of the same shape (a grid), returning an
        array of that shape.
    paths : dict of str -> (steps + 1, 2) array_like
        The parameters ``(w, b)`` after every step, starting point first.
    ax : matplotlib Axes, optional
    xlim, ylim : (float, float)
        The part of the plane to draw.
    levels : int
        Number of contour lines, 2 to ``MAX_LEVELS`` (100), spaced evenly in
        the square root of the loss, so the valley floor gets lines too.
    minimum : (float, float), optional
        Marked with a star.
    labels : (str, str)
        Names of the two parameters.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not callable(loss):
        raise TypeError(f"`loss` must be a function loss(w, b), got {describe(loss)}")
    if not isinstance(paths, dict):
        raise TypeError(f"`paths` must be a dict of label -> (steps, 2) arrays, got {describe(paths)}")
    check_at_most(len(paths), MAX_LINES, "paths", "paths")
    xlim, ylim = _check_limits(xlim, "xlim"), _check_limits(ylim, "ylim")
    for name, (low, high) in (("xlim", xlim), ("ylim", ylim)):
        if not low < high:
            raise ValueError(f"`{name}` must be (low, high) with low < high, got {(low, high)}")
    levels = check_int(levels, "levels", minimum=2)
    if levels > MAX_LEVELS:
        raise ValueError(f"`levels` must be at most {MAX_LEVELS} contour lines, got {levels}")
    minimum = None if minimum is None else _check_limits(minimum, "minimum")
    if not isinstance(labels, (tuple, list)) or len(labels) != 2:
        raise ValueError(f"`labels` must be a pair of names such as ('w', 'b'), got "
                         f"{describe(labels)}")
    title = check_text(title)
    checked = {}
    for label, path in paths.items():
        p = as_array(path, f"paths[{label!r}]", ndims=2)
        if p.shape[1] != 2 or len(p) == 0:
            raise ValueError(f"`paths[{label!r}]` must have shape (steps + 1, 2), got {p.shape}")
        checked[label] = p
    check_axes(ax)
    w, b = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))  # (200, 200) each
    z = _loss_grid(loss, w, b)
    ax = new_axes(ax, (6, 4.5))
    root = np.sqrt(np.maximum(z, 0))  # contour lines evenly spaced in sqrt(loss)
    if root.max() > root.min():       # a flat loss has no contour lines
        ax.contour(w, b, root, levels=np.linspace(root.min(), root.max(), levels + 1)[1:],
                   colors="0.7", linewidths=0.8)
    for label, p in checked.items():
        marker = "o" if len(p) <= 60 else None
        ax.plot(p[:, 0], p[:, 1], marker=marker, markersize=3, linewidth=1.4, label=str(label))
    if checked:
        start = next(iter(checked.values()))[0]
        ax.plot(*start, "ks", markersize=6, label="start")
    if minimum is not None:
        ax.plot(*minimum, "k*", markersize=12, label="minimum")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(str(labels[0]))
    ax.set_ylabel(str(labels[1]))
    ax.legend(frameon=False, fontsize=9, loc="best")
    if title is not None:
        ax.set_title(title)
    return ax


def _loss_grid(loss, w, b) -> np.ndarray:
    """``loss(w, b)`` on the grid, checked: finite numbers of the grid's shape."""
    try:
        z = loss(w, b)
    except Exception as exc:  # noqa: BLE001 - the caller's function: say which argument failed
        raise ValueError(f"`loss` raised {type(exc).__name__} when called on the grid: {exc}. "
                         "It must accept two arrays w and b of the same shape (use np.exp, "
                         "np.sqrt, ... rather than math.exp) and return loss values.") from exc
    z = as_array(z, "loss")
    if z.shape != w.shape:
        raise ValueError(f"`loss` must return an array of the grid's shape {w.shape}, got {z.shape}")
    return z


def _check_limits(pair, name):
    """A pair of finite numbers, e.g. axis limits."""
    if not isinstance(pair, (tuple, list, np.ndarray)) or len(pair) != 2:
        raise ValueError(f"`{name}` must be a pair of numbers, got {describe(pair)}")
    return (check_number(pair[0], name), check_number(pair[1], name))


def plot_layer_values(values, ax=None, *, ylabel="value", log=False, title=None):
    """One value per layer (or block), input side on the left, one line per network.

    Introduced in lesson 11 for gradient norms and the size of residual
    branches. Networks that share layer names are drawn over the same
    positions; the ticks name the layers of the first network.

    Parameters
    ----------
    values : dict of str -> dict of str -> float
        ``{network label: {layer name: value}}``, layers in order (at most
        ``MAX_BLOCKS``, 500, layers).
    ax : matplotlib Axes, optional
    ylabel : str
    log : bool
        Logarithmic vertical axis (for values spanning several powers of ten).
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(values, dict) or not values or not all(
            isinstance(v, dict) and v for v in values.values()):
        raise TypeError("`values` must be a non-empty dict of label -> {layer name: value}, "
                        f"got {describe(values)}")
    check_at_most(len(values), MAX_LINES, "values", "networks")
    log = check_flag(log, "log")
    title, ylabel = check_text(title), check_text(ylabel, "ylabel")
    names = [str(name) for name in next(iter(values.values()))]
    check_at_most(max(len(v) for v in values.values()), MAX_BLOCKS, "values", "layers")
    lines = {}
    for label, by_layer in values.items():
        y = as_array(list(by_layer.values()), f"values[{label!r}]", ndims=1)
        if log and np.any(y <= 0):
            raise ValueError(f"`values[{label!r}]` must be positive on a logarithmic axis")
        lines[label] = y
    ax = new_axes(ax, (max(5.5, 0.32 * len(names) + 2.0), 3.6))
    for label, y in lines.items():
        ax.plot(np.arange(len(y)), y, marker="o", markersize=4, linewidth=1.5, label=str(label))
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=8)
    ax.set_ylabel(str(ylabel))
    if log:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if len(values) > 1:
        ax.legend(frameon=False)
    if title is not None:
        ax.set_title(title)
    return ax
