"""Fixed colour ranges for value maps, shared by :mod:`cnnlab.plot` and :mod:`cnnlab.widgets`.

The course's display convention: where brightness is the point, the colour
range is fixed, never stretched from a map's minimum to its maximum behind
the reader's back. Non-negative maps are grey with white = high ("gray");
signed maps use a diverging map centred on 0 ("RdBu_r", blue < 0 < red,
limits ``-m`` and ``+m``); every picture says what its colours stand for
(:meth:`ColourScale.legend`).

:func:`feature_map_range` gives the range a kernel can produce from inputs
in a known range, the natural fixed range of a feature map.
:func:`colour_scale` turns a value range into the limits and colour map to
draw it with; :func:`data_scale` does the same for the values of some
arrays (from 0, or symmetric about 0), :func:`stretch_scale` for an
explicit min..max stretch (``range="auto"``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import as_array, describe
from ._checks import check_cmap, check_number

__all__ = ["ColourScale", "feature_map_range", "colour_scale", "data_scale", "stretch_scale",
           "check_value_range", "check_range_mode", "pick_scale", "GREY_CMAP", "SIGNED_CMAP",
           "RANGE_MODES"]

GREY_CMAP = "gray"          # non-negative maps: black = low, white = high
SIGNED_CMAP = "RdBu_r"      # signed maps: blue < 0 (white) < red, symmetric limits
_LARGEST_HALF = float(np.finfo(np.float64).max) / 2


class ColourScale(NamedTuple):
    """The colour limits and map of one picture: ``vmin`` gets the first colour, ``vmax`` the last."""

    vmin: float
    vmax: float
    cmap: str

    @property
    def signed(self) -> bool:
        """True for a range centred on 0 (a diverging map)."""
        return self.vmin < 0

    def legend(self) -> str:
        """What the colours stand for, with numbers: ``"black = 0, white = 1"``."""
        lo, hi = _short(self.vmin), _short(self.vmax)
        name = self.cmap if isinstance(self.cmap, str) else getattr(self.cmap, "name", "")
        if name == "gray":
            return f"black = {lo}, white = {hi}"
        if name == "gray_r":
            return f"white = {lo}, black = {hi}"
        if name == SIGNED_CMAP and self.vmin == -self.vmax:
            return f"blue = {lo}, white = 0, red = {hi}"
        return f"colours from {lo} to {hi} ({name})"


def _short(value: float) -> str:
    return f"{float(value) + 0.0:.3g}"


def check_value_range(value, name: str) -> tuple[float, float]:
    """A ``(low, high)`` pair of finite numbers with ``low <= high``."""
    if isinstance(value, np.ndarray) and value.shape == (2,):
        value = tuple(value.tolist())
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"`{name}` must be a (low, high) pair of numbers, got {describe(value)}")
    lo, hi = (check_number(v, name) for v in value)
    if lo > hi:
        raise ValueError(f"`{name}` must be (low, high) with low <= high, got ({lo:g}, {hi:g})")
    return lo, hi


def feature_map_range(kernel, input_range=(0.0, 1.0), bias=0.0) -> tuple[float, float]:
    """The range of values a kernel can produce from inputs in ``input_range``.

    Introduced in lesson 02, to draw every feature map on a fixed scale. Each
    weight ``w`` times an input in ``[lo, hi]`` lies between ``min(w*lo,
    w*hi)`` and ``max(w*lo, w*hi)``, so one output lies in::

        [sum(min(w*lo, w*hi)) + bias,  sum(max(w*lo, w*hi)) + bias]

    and both ends are reached: the smallest by the input that is ``lo``
    under positive weights and ``hi`` under negative ones, the largest by
    the opposite. A kernel with no negative weights that sums to 1 (a blur)
    gives back the input's own range; one that sums to 2 gives twice it.
    With zero padding, include 0 in ``input_range`` (the padded zeros are
    inputs too).

    Parameters
    ----------
    kernel : (KH, KW) or (K,) or (KH, KW, C_in) array_like
        Every weight that adds into one output value (for a bank of filters
        ``(KH, KW, C_in, C_out)`` pass one filter, ``kernel[..., f]``).
    input_range : (lo, hi) pair of float
        The smallest and largest input value, ``lo <= hi``; ``(0, 1)`` for
        the course's pictures.
    bias : float

    Returns
    -------
    (float, float)
        The smallest and largest value an output can take.
    """
    k = as_array(kernel, "kernel")
    if k.size == 0:
        raise ValueError(f"`kernel` must hold at least one weight, got shape {k.shape}")
    lo, hi = check_value_range(input_range, "input_range")
    bias = check_number(bias, "bias")
    k = k.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        ends = np.stack([k * lo, k * hi])                          # (2, *kernel.shape)
        low = float(ends.min(axis=0).sum()) + bias
        high = float(ends.max(axis=0).sum()) + bias
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"`kernel`, `input_range` and `bias` give outputs too large for float64 "
                         f"(weights up to {np.abs(k).max():g}, inputs up to "
                         f"{max(abs(lo), abs(hi)):g})")
    return low + 0.0, high + 0.0


def colour_scale(value_range, cmap=None) -> ColourScale:
    """The fixed limits and colour map to draw values in ``value_range`` with.

    A range that does not go below 0 is drawn from ``low`` to ``high`` in
    grey, white = high; a range that goes below 0 is drawn from ``-m`` to
    ``+m``, ``m`` the largest ``|value|``, so 0 is the middle colour (white
    in the diverging "RdBu_r", blue below 0 and red above). An empty range
    (``low == high``) is widened so that the colour bar still has two ends.

    Parameters
    ----------
    value_range : (low, high) pair of float
    cmap : str or Colormap, optional
        Replaces the colour map picked above (the limits stay).

    Returns
    -------
    ColourScale
        ``(vmin, vmax, cmap)`` with ``vmin < vmax``.
    """
    lo, hi = check_value_range(value_range, "value_range")
    if cmap is not None:
        cmap = check_cmap(cmap)
    if lo < 0:
        m = min(max(-lo, abs(hi)), _LARGEST_HALF)     # -m..m must span a finite width
        return ColourScale(-m, m, SIGNED_CMAP if cmap is None else cmap)
    if hi == lo:
        lo, hi = (0.0, hi) if hi > 0 else (0.0, 1.0)
    return ColourScale(lo + 0.0, hi + 0.0, GREY_CMAP if cmap is None else cmap)


def _finite_values(arrays) -> np.ndarray:
    values = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    values = np.concatenate(values) if values else np.zeros(0)
    return values[np.isfinite(values)]


def data_scale(*arrays, cmap=None) -> ColourScale:
    """:func:`colour_scale` of the values of ``arrays``, from 0 (0 always included).

    Non-negative values are drawn from 0 (black) to the largest (white),
    signed ones from ``-m`` to ``+m``: several arrays drawn with one scale
    compare by brightness, and 0 always has the same colour. NaN and
    infinities are left out.
    """
    values = _finite_values(arrays)
    if values.size == 0:
        return colour_scale((0.0, 1.0), cmap)
    return colour_scale((min(0.0, float(values.min())), max(0.0, float(values.max()))), cmap)


def stretch_scale(*arrays, cmap=None) -> ColourScale:
    """The minimum to the maximum of ``arrays`` in grey (``range="auto"``): a stretch.

    Use it only where the stretch is asked for and said: the brightest pixel
    is white and the darkest black whatever their values.
    """
    values = _finite_values(arrays)
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    cmap = GREY_CMAP if cmap is None else check_cmap(cmap)
    return ColourScale(lo + 0.0, hi + 0.0 if hi > lo else lo + 1.0, cmap)


RANGE_MODES = ("shared", "auto")


def check_range_mode(value, name: str = "range"):
    """``"shared"``, ``"auto"`` or a ``(low, high)`` pair (checked)."""
    if isinstance(value, str):
        if value not in RANGE_MODES:
            raise ValueError(f"`{name}` must be 'shared', 'auto' or a (low, high) pair, "
                             f"got {value!r}")
        return value
    if isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2 \
            and not isinstance(value[0], (tuple, list, np.ndarray)):
        return check_value_range(value, name)
    raise TypeError(f"`{name}` must be 'shared', 'auto' or a (low, high) pair of numbers, "
                    f"got {describe(value)}")


def pick_scale(mode, arrays, *, vmin=None, vmax=None, cmap=None) -> ColourScale:
    """The scale a picture of ``arrays`` is drawn with (``mode`` as :func:`check_range_mode`).

    ``"shared"``: :func:`data_scale` of all ``arrays``; ``"auto"``:
    :func:`stretch_scale`; a pair: :func:`colour_scale` of it. ``vmin`` and
    ``vmax`` (checked numbers or None) then replace the ends they give, as
    they are; an end given beyond the other one moves that one along.
    """
    mode = check_range_mode(mode)
    vmin = None if vmin is None else check_number(vmin, "vmin")
    vmax = None if vmax is None else check_number(vmax, "vmax")
    if isinstance(mode, tuple):
        scale = colour_scale(mode, cmap)
    elif mode == "auto":
        scale = stretch_scale(*arrays, cmap=cmap)
    else:
        scale = data_scale(*arrays, cmap=cmap)
    lo = scale.vmin if vmin is None else vmin
    hi = scale.vmax if vmax is None else vmax
    if lo > hi:
        if vmin is not None and vmax is not None:
            raise ValueError(f"`vmin` ({vmin:g}) must not be larger than `vmax` ({vmax:g})")
        lo, hi = (lo, lo) if vmin is not None else (hi, hi)
    return ColourScale(lo, hi, scale.cmap)
