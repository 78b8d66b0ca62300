"""Figures used by the lessons: matrices with numbers, signals, kernels, sliding windows.

Single-panel figures take ``ax=None`` and return the Axes they drew into;
multi-panel ones return their Figure. None of them calls ``plt.show()``.
:func:`array_to_png` is the fast path used by the widgets: it turns a 2D array
into PNG bytes without building a matplotlib figure.
"""

from __future__ import annotations

import io
import math
import numbers
import re
import string as _string
from typing import NamedTuple

import matplotlib
import matplotlib.axes
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.container import StemContainer
from matplotlib.patches import Rectangle
from PIL import Image

from ._validate import as_array, check_allocation, check_int, check_pair, describe

MAX_ANNOTATED_CELLS = 400   # above this many cells, numbers would be unreadable
MAX_STEP_LENGTH = 24        # longest signal plot_conv1d_steps will draw
MAX_STEP_SIDE = 64          # largest input (rows or columns) plot_conv2d_step draws
MAX_PNG_PIXELS = 4096 * 4096
MAX_MATRIX_CELLS = 1024 * 1024  # largest matrix show_matrix draws (a 1024x1024 picture)
MAX_FEATURE_MAPS = 256      # most panels show_feature_maps draws
MAX_SIGNAL_POINTS = 10_000  # longest signal plot_signal draws (one stem each)
MAX_PANELS = 400            # most panels show_image_grid draws
KERNEL_COLOUR_MARGIN = 1.4  # show_kernel: the largest |weight| sits short of the darkest colour

WINDOW_COLOUR = "tab:orange"
WINDOW_FILL = "#fde9b8"
OUTPUT_FILL = "#c7e9c0"


# ----------------------------------------------------------------- checks and small pieces

MAX_FORMAT_WIDTH = 99       # largest width or number of digits a `fmt` may ask for
MAX_CELL_TEXT = 64          # longest text a `fmt` may write for one number
_FMT_EXAMPLES = "'{:.2f}', '.2f' or '%.2f'"
_PRINTF_FIELD = re.compile(r"%[-+ #0]*(\d*)(?:\.(\d*))?")


def _check_number(value, name: str) -> float:
    """Return ``value`` as a finite float or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number, got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value}")
    return value


def _check_between(value, name: str, low: float, high: float, *, unit: str = "") -> float:
    """A finite number from ``low`` to ``high`` (inclusive), or an error naming ``name``."""
    value = _check_number(value, name)
    if not low <= value <= high:
        raise ValueError(f"`{name}` must be from {low:g} to {high:g}{unit}, got {value:g}")
    return value


def _check_text(value, name: str = "title"):
    """A title or label: a string, or None for none."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"`{name}` must be a string (or None), got {describe(value)}")
    return value


def _check_flag(value, name: str) -> bool:
    """``True`` or ``False`` (numpy booleans too); anything else is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {describe(value)}")
    return bool(value)


def _check_at_most(count: int, limit: int, name: str, what: str) -> None:
    """Refuse a picture of more than ``limit`` ``what`` (they could not be read anyway)."""
    if count > limit:
        raise ValueError(f"`{name}` would draw {count:,} {what}; the picture draws at most "
                         f"{limit:,}. Pass fewer (or a slice such as [:{limit}]).")


def _check_axes(ax, name: str = "ax") -> None:
    if ax is not None and not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"`{name}` must be a matplotlib Axes (one of those plt.subplots() "
                        f"returns) or None for a new figure, got {describe(ax)}")


def _check_figure(fig, name: str = "fig") -> None:
    if fig is not None and not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"`{name}` must be a matplotlib Figure (plt.figure()) or None for a "
                        f"new one, got {describe(fig)}")


def _check_cmap(cmap, name: str = "cmap"):
    """A colour map name matplotlib knows, or a Colormap; returned unchanged."""
    if isinstance(cmap, matplotlib.colors.Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in matplotlib.colormaps:
        return cmap
    error = TypeError if not isinstance(cmap, str) else ValueError
    raise error(f"`{name}` must be a matplotlib colour map name such as 'gray', 'viridis' or "
                f"'RdBu_r', got {describe(cmap)}")


def _check_names(labels, name: str, n: int | None = None) -> list[str]:
    """A list (or tuple, or 1D array) of labels, as strings; ``n`` of them if given."""
    if isinstance(labels, np.ndarray) and labels.ndim == 1:
        labels = labels.tolist()
    if not isinstance(labels, (list, tuple)):
        raise TypeError(f"`{name}` must be a list of strings, got {describe(labels)}")
    if n is not None and len(labels) != n:
        raise ValueError(f"`{name}` must hold {n} strings (one each), got {len(labels)}: "
                         f"{describe(labels)}")
    return [str(label) for label in labels]


class _NumberFormat:
    """A checked ``fmt``: ``.format(value)`` writes one number (see :func:`_check_fmt`)."""

    __slots__ = ("source", "_write")

    def __init__(self, source: str, write):
        self.source, self._write = source, write

    def format(self, value: float) -> str:
        return self._write(value)

    def __repr__(self) -> str:
        return f"_NumberFormat({self.source!r})"


def _check_fmt(fmt, name: str = "fmt") -> _NumberFormat:
    """Check a number format and return it ready to use with :func:`_format`.

    Three forms give the same text: a ``str.format`` template with one field
    (``"{:.2f}"``, ``"{:g} cm"``), a bare format spec (``".2f"``) and a
    printf-style format (``"%.2f"``). Anything else — a string without a
    field for the number, a spec that fails on a number, a width over
    ``MAX_FORMAT_WIDTH`` — is refused naming ``name``.
    """
    if isinstance(fmt, _NumberFormat):
        return fmt
    if not isinstance(fmt, str):
        raise TypeError(f"`{name}` must be a format string such as {_FMT_EXAMPLES}, got "
                        f"{describe(fmt)}")

    def refuse(why: str):
        return ValueError(f"`{name}` must be a format string with one field for the number, "
                          f"such as {_FMT_EXAMPLES}; {why} (got {describe(fmt)})")

    if "{" in fmt or "}" in fmt:
        try:
            fields = [(field, spec) for _, field, spec, _ in _string.Formatter().parse(fmt)
                      if field is not None]
        except ValueError as exc:              # unbalanced braces: "{:d"
            raise refuse(str(exc)) from None
        if len(fields) != 1 or fields[0][0] not in ("", "0") or "{" in (fields[0][1] or ""):
            raise refuse(f"it has {len(fields)} fields" if len(fields) != 1
                         else "its field must be {} or {:spec}")
        widths, write = re.findall(r"\d+", fields[0][1] or ""), fmt.format
    elif fmt and _is_spec(fmt):
        widths, write = re.findall(r"\d+", fmt), (lambda v: format(v, fmt))
    elif "%" in fmt:
        widths = [w for pair in _PRINTF_FIELD.findall(fmt) for w in pair if w]
        write = lambda v: fmt % v                                   # noqa: E731
    else:
        raise refuse("it has no field: write '{:g}' where the number goes")
    if any(int(w) > MAX_FORMAT_WIDTH for w in widths):
        raise refuse(f"widths and digits must be at most {MAX_FORMAT_WIDTH}")
    try:
        texts = [write(v) for v in (1.5, -1234.5678, 0.0, 1e300, math.inf, math.nan)]
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        whole = "'d'" in str(exc) or "integer" in str(exc)
        hint = " (for whole numbers use '{:.0f}' or '%.0f')" if whole else ""
        raise refuse(f"it fails on a number: {exc}{hint}") from None
    if not isinstance(texts[0], str) or max(len(t) for t in texts[:3]) > MAX_CELL_TEXT:
        raise refuse(f"a number must come out in at most {MAX_CELL_TEXT} characters")
    return _NumberFormat(fmt, write)


def _is_spec(fmt: str) -> bool:
    """True when ``fmt`` is a bare format spec such as ``".2f"`` or ``"g"``."""
    if any(int(w) > MAX_FORMAT_WIDTH for w in re.findall(r"\d+", fmt)):
        return "%" not in fmt            # a huge spec is refused later, a printf one checked there
    try:
        format(1.5, fmt)
    except (ValueError, TypeError):
        return False
    return True


def _format(fmt, value: float) -> str:
    """Format ``value``; ``+ 0.0`` turns ``-0.0`` into ``0`` on the page."""
    return fmt.format(float(value) + 0.0)


def _text_colour(rgba) -> str:
    """Black text on light cells, white text on dark ones."""
    r, g, b = rgba[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def _new_axes(ax, figsize):
    _check_axes(ax)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _check_finite_result(values, names: str) -> None:
    """Refuse inputs whose products or sums overflow to infinity (weights near 1e308)."""
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{names}: the products or sums overflow to infinity (the values are "
                         "too large, near 1e308); use numbers that are not so large")


def _check_side(arr, name: str, limit: int, what: str = "the picture") -> None:
    """Refuse an array with more than ``limit`` rows or columns (its first two axes)."""
    if max(arr.shape[:2], default=0) > limit:
        size = "x".join(str(n) for n in arr.shape[:2])
        raise ValueError(f"`{name}` is {size}; {what} draws at most {limit} cells a side")


def _check_highlight(highlight, shape) -> tuple[int, int, int, int]:
    if not isinstance(highlight, (tuple, list)) or len(highlight) != 4:
        raise ValueError(
            f"`highlight` must be a (row, col, height, width) tuple, got {describe(highlight)}"
        )
    row, col = (check_int(v, "highlight", minimum=0) for v in highlight[:2])
    h, w = (check_int(v, "highlight", minimum=1) for v in highlight[2:])
    rows, cols = shape
    if row + h > rows or col + w > cols:
        raise ValueError(
            f"`highlight` {tuple(highlight)} reaches outside the {rows}x{cols} matrix"
        )
    return row, col, h, w


# ----------------------------------------------------------------- matrices

def show_matrix(a, ax=None, *, title=None, fmt="{:g}", cmap="Greys", highlight=None,
                annotate=True, vmin=None, vmax=None):
    """Draw a small matrix as a heat map with its numbers written in the cells.

    Introduced in lesson 02 (and used for 1D windows in lesson 01).

    Parameters
    ----------
    a : (H, W) or (L,) array_like
        The matrix; a 1D array is drawn as one row. NaN cells are left blank.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
    fmt : str
        Format of the numbers: ``"{:.2f}"``, ``".2f"`` and ``"%.2f"`` all
        write two decimals (a ``str.format`` template, a format spec or a
        printf-style format).
    cmap : str or Colormap
        Colour map of the cells.
    highlight : (row, col, height, width) tuple, optional
        Outline this rectangle of cells (a sliding window, say).
    annotate : bool
        Write each value in its cell. Matrices with more than
        ``MAX_ANNOTATED_CELLS`` (400) cells are drawn without numbers; at
        most ``MAX_MATRIX_CELLS`` (1024 x 1024) cells are drawn at all.
    vmin, vmax : float, optional
        Fixed colour range (``vmin <= vmax``); by default the range of the
        finite values.

    Returns
    -------
    matplotlib Axes
    """
    a = as_array(a, "a", ndims=(1, 2), finite=False)
    grid = a if a.ndim == 2 else a[np.newaxis, :]           # (rows, cols)
    rows, cols = grid.shape
    if grid.size == 0:
        raise ValueError(f"`a` must not be empty, got shape {a.shape}")
    _check_at_most(grid.size, MAX_MATRIX_CELLS, "a", "cells")
    fmt = _check_fmt(fmt)
    cmap = _check_cmap(cmap)
    annotate = _check_flag(annotate, "annotate")
    title = _check_text(title)
    vmin = None if vmin is None else _check_number(vmin, "vmin")
    vmax = None if vmax is None else _check_number(vmax, "vmax")
    if vmin is not None and vmax is not None and vmin > vmax:
        raise ValueError(f"`vmin` ({vmin:g}) must not be larger than `vmax` ({vmax:g})")
    finite = grid[np.isfinite(grid)]
    if (vmin is None) != (vmax is None) and finite.size:  # one end given: the other from the data
        if vmin is not None and vmin > finite.max():
            vmax = vmin                                   # every cell at the lowest colour
        elif vmax is not None and vmax < finite.min():
            vmin = vmax
    if highlight is not None:
        highlight = _check_highlight(highlight, grid.shape)
    ax = _new_axes(ax, (min(0.5 * cols + 0.6, 10), min(0.5 * rows + 0.6, 10)))

    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    small = grid.size <= MAX_ANNOTATED_CELLS
    if annotate and small:
        size = 12 if max(rows, cols) <= 8 else 9 if max(rows, cols) <= 14 else 7
        for (r, c), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(c, r, _format(fmt, v), ha="center", va="center", fontsize=size,
                        color=_text_colour(im.cmap(im.norm(v))), gid="cell")
    if small:  # thin lines between the cells, index ticks on the sides
        ax.set_xticks(np.arange(-0.5, cols), minor=True)
        ax.set_yticks(np.arange(-0.5, rows), minor=True)
        ax.grid(which="minor", color="0.7", linewidth=0.8)
        ax.tick_params(which="both", length=0, labelsize=8)
        ax.set_xticks(range(cols) if cols <= 16 else [])
        ax.set_yticks(range(rows) if rows <= 16 and a.ndim == 2 else [])
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if highlight is not None:
        row, col, h, w = highlight
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), w, h, fill=False,
                               edgecolor=WINDOW_COLOUR, linewidth=3, gid="highlight"))
    if title is not None:
        ax.set_title(title)
    return ax


def show_kernel(k, ax=None, *, title=None, fmt="{:.3g}", cmap="RdBu_r", annotate=True):
    """Draw a kernel with its weights, on a diverging colour map centred on 0.

    Introduced in lesson 02. Positive weights are red, negative ones blue and
    zero white, so two kernels drawn side by side compare at a glance.

    Parameters
    ----------
    k : (KH, KW) or (K,) array_like
    ax : matplotlib Axes, optional
    title : str, optional
    fmt : str
        Format of the weights.
    cmap : str or Colormap
        A diverging colour map.
    annotate : bool
        Write the weights in the cells.

    Returns
    -------
    matplotlib Axes
    """
    k = as_array(k, "k", ndims=(1, 2))
    if k.size == 0:
        raise ValueError(f"`k` must not be empty, got shape {k.shape}")
    largest = float(np.max(np.abs(k)))
    limit = KERNEL_COLOUR_MARGIN * largest if largest > 0 else 1.0   # softer extremes
    limit = limit if math.isfinite(limit) else largest               # weights near 1e308
    return show_matrix(k, ax, title=title, fmt=fmt, cmap=cmap, annotate=annotate,
                       vmin=-limit, vmax=limit)


def show_feature_maps(maps, ncols=8, titles=None, cmap="viridis"):
    """Draw several 2D maps in a grid, each with its own colour range.

    Introduced in lesson 04.

    Parameters
    ----------
    maps : (H, W, C) array_like, (1, H, W, C) array_like, (H, W) array_like or list of (H, W) arrays
        The maps; a 3D array is split along its last (channel) axis, a batch
        of one is unwrapped, a list may hold maps of different sizes.
    ncols : int
        Panels per row.
    titles : list of str, optional
        One title per map; by default ``"map 0"``, ``"map 1"``, ...
    cmap : str or Colormap

    At most ``MAX_FEATURE_MAPS`` (256) maps, each of at most
    ``MAX_MATRIX_CELLS`` cells.

    Returns
    -------
    matplotlib Figure
        One Axes per map.
    """
    panels = _map_list(maps)
    n = len(panels)
    ncols = min(check_int(ncols, "ncols", minimum=1), n)
    cmap = _check_cmap(cmap)
    if titles is None:
        titles = [f"map {i}" for i in range(n)]
    elif isinstance(titles, str) or not isinstance(titles, (list, tuple, np.ndarray)) \
            or len(titles) != n:
        raise ValueError(f"`titles` must hold one title per map ({n}), got {describe(titles)}")
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.8 * ncols, 1.9 * nrows),
                             squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.remove()
            continue
        ax.imshow(panels[i], cmap=cmap, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(titles[i]), fontsize=9)
    return fig


def _map_list(maps) -> list[np.ndarray]:
    """Turn the forms :func:`show_feature_maps` accepts into a list of 2D arrays."""
    if isinstance(maps, (list, tuple)):
        if not maps:
            raise ValueError("`maps` must hold at least one map, got an empty list")
        _check_at_most(len(maps), MAX_FEATURE_MAPS, "maps", "maps")
        panels = [as_array(m, f"maps[{i}]", ndims=2) for i, m in enumerate(maps)]
    else:
        arr = as_array(maps, "maps", ndims=(2, 3, 4))
        if arr.ndim == 4:
            if arr.shape[0] != 1:
                raise ValueError(
                    "`maps` with 4 dimensions must be a batch of one (1, H, W, C), "
                    f"got shape {arr.shape}"
                )
            arr = arr[0]                                       # (H, W, C)
        if arr.ndim == 3 and arr.shape[-1] == 0:
            raise ValueError(f"`maps` must hold at least one channel, got shape {arr.shape}")
        if arr.ndim == 3:
            _check_at_most(arr.shape[-1], MAX_FEATURE_MAPS, "maps", "maps (channels)")
        panels = [arr] if arr.ndim == 2 else [arr[..., c] for c in range(arr.shape[-1])]
    for i, m in enumerate(panels):
        label = f"maps[{i}]" if isinstance(maps, (list, tuple)) else "maps"
        if m.size == 0:
            raise ValueError(f"`{label}` must not be empty, got a map of shape {m.shape}")
        _check_at_most(m.size, MAX_MATRIX_CELLS, label, "cells in one map")
    return panels


# ----------------------------------------------------------------- signals

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
    _check_at_most(x.size, MAX_SIGNAL_POINTS, "x", "stems")
    title, label = _check_text(title), _check_text(label, "label")
    ax = _new_axes(ax, (min(0.45 * len(x) + 1.5, 10), 2.4))
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


# ----------------------------------------------------------------- sliding windows

def plot_conv1d_steps(x, kernel, bias=0.0, *, fmt="{:.3g}"):
    """Draw a 1D convolution step by step: one row per position of the window.

    Introduced in lesson 01. Each row shows the input with the window
    outlined and the kernel weight under each window cell, the element-wise
    products, and the output with the new value (their sum plus the bias)
    written into its cell. Valid padding, stride 1, cross-correlation as in
    :func:`cnnlab.kernels.conv1d`.

    Parameters
    ----------
    x : (L,) array_like
        The input, at most ``MAX_STEP_LENGTH`` (24) values.
    kernel : (K,) array_like
        The weights, ``K <= L``.
    bias : float
    fmt : str
        Format of the numbers.

    Returns
    -------
    matplotlib Figure
        One Axes per output position (``L - K + 1`` rows). The artists carry
        gids: ``"window"`` (outline), ``"input"``, ``"weight"``, ``"product"``,
        ``"output"`` (the value being written) and ``"output_done"``.
    """
    from . import kernels

    x = as_array(x, "x", ndims=1)
    kernel = as_array(kernel, "kernel", ndims=1)
    bias = _check_number(bias, "bias")
    fmt = _check_fmt(fmt)
    n, k = len(x), len(kernel)
    if not 1 <= n <= MAX_STEP_LENGTH:
        raise ValueError(
            f"`x` must hold 1 to {MAX_STEP_LENGTH} values for a readable picture, got {n}"
        )
    if not 1 <= k <= n:
        raise ValueError(f"`kernel` must hold 1 to len(x) = {n} weights, got {k}")
    y = kernels.conv1d(x, kernel, bias=bias)                    # (L - K + 1,)
    _check_finite_result(np.outer(x, kernel), "`x` and `kernel`")
    _check_finite_result(y, "`x`, `kernel` and `bias`")
    n_out = len(y)

    # Horizontal layout in cell units: input | products | output.
    prod_x0 = n + 1.5
    out_x0 = prod_x0 + k + (3.2 if bias else 1.8)
    right = out_x0 + n_out
    height = 0.95 * n_out + 0.6
    fig = plt.figure(figsize=(0.42 * (right + 3), height))
    axes = fig.subplots(n_out, 1, squeeze=False)[:, 0]
    # every row has the same limits, so the columns line up; the headers
    # above the first row sit in the top margin
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.45 / height, bottom=0.01, hspace=0.05)
    for i, ax in enumerate(axes):
        window = x[i:i + k]                                      # (K,)
        products = window * kernel                               # (K,)
        cells = []                                               # squares, drawn at once below
        for j, v in enumerate(x):
            inside = i <= j < i + k
            _cell(ax, cells, j, v, fmt, fill=WINDOW_FILL if inside else "white", gid="input")
            if inside:
                ax.text(j + 0.5, -0.32, "×" + _format(fmt, kernel[j - i]), ha="center",
                        va="center", fontsize=8, color="0.3", gid="weight")
        ax.add_patch(Rectangle((i, 0), k, 1, fill=False, edgecolor=WINDOW_COLOUR,
                               linewidth=2.5, gid="window"))
        ax.text(n + 0.75, 0.5, "→", ha="center", va="center", fontsize=12)
        for j, v in enumerate(products):
            _cell(ax, cells, prod_x0 + j, v, fmt, fill=WINDOW_FILL, gid="product")
        sum_text = "Σ" + (f" + {_format(fmt, bias)}" if bias else "") + " →"
        ax.text((prod_x0 + k + out_x0) / 2, 0.5, sum_text, ha="center", va="center",
                fontsize=11)
        for j, v in enumerate(y):
            if j < i:
                _cell(ax, cells, out_x0 + j, v, fmt, fill="white", gid="output_done",
                      colour="0.45")
            elif j == i:
                _cell(ax, cells, out_x0 + j, v, fmt, fill=OUTPUT_FILL, gid="output",
                      weight="bold")
            else:
                _cell(ax, cells, out_x0 + j, None, fmt, fill="white", gid="output_empty")
        ax.add_collection(PatchCollection(cells, match_original=True, zorder=0.5),
                          autolim=False)
        ax.text(-0.4, 0.5, f"position {i}", ha="right", va="center", fontsize=9, color="0.3")
        if i == 0:
            for x0, width, name in ((0, n, "input x"), (prod_x0, k, "window × kernel"),
                                    (out_x0, n_out, "output y")):
                ax.text(x0 + width / 2, 1.3, name, ha="center", va="bottom", fontsize=10,
                        clip_on=False)
        ax.set_xlim(-3.4, right + 0.2)
        ax.set_ylim(-0.6, 1.15)
        ax.set_aspect("equal")
        ax.axis("off")
    return fig


def _cell(ax, cells, x0, value, fmt, *, fill, gid, colour="black", weight="normal"):
    """One square of ``plot_conv1d_steps`` (added to ``cells``) and its number (if any)."""
    cells.append(Rectangle((x0, 0), 1, 1, facecolor=fill, edgecolor="0.6", linewidth=0.8))
    if value is not None:
        ax.text(x0 + 0.5, 0.5, _format(fmt, value), ha="center", va="center", fontsize=10,
                color=colour, fontweight=weight, gid=gid)


def plot_conv2d_step(x, kernel, position, *, bias=0.0, stride=1, fig=None, fmt="{:.3g}"):
    """Draw one step of a 2D convolution: the window at one output position.

    Introduced in lesson 02. Four panels: the input with the window
    outlined, the kernel, their element-wise product (its sum plus the bias
    in the title), and the output filled in up to the cell being written,
    which is outlined. Valid padding, cross-correlation as in
    :func:`cnnlab.kernels.conv2d`.

    Parameters
    ----------
    x : (H, W) array_like
        At most ``MAX_STEP_SIDE`` (64) cells a side.
    kernel : (KH, KW) array_like
    position : (row, col) pair of int
        The output cell being computed.
    bias : float
    stride : int or (int, int)
    fig : matplotlib Figure, optional
        Cleared and reused (handy for a slider); a new one is made when omitted.
    fmt : str
        Format of the numbers.

    Returns
    -------
    matplotlib Figure
        Axes in order: input, kernel, product, output.
    """
    from . import kernels

    x = as_array(x, "x", ndims=2)
    kernel = as_array(kernel, "kernel", ndims=2)
    _check_side(x, "x", MAX_STEP_SIDE)
    _check_side(kernel, "kernel", MAX_STEP_SIDE)
    bias = _check_number(bias, "bias")
    sh, sw = check_pair(stride, "stride", minimum=1)
    row, col = check_pair(position, "position", minimum=0)
    fmt = _check_fmt(fmt)
    _check_figure(fig)
    y = kernels.conv2d(x, kernel, bias=bias, stride=(sh, sw))       # (H_out, W_out)
    _check_finite_result(y, "`x`, `kernel` and `bias`")
    if row >= y.shape[0] or col >= y.shape[1]:
        raise ValueError(
            f"`position` {(row, col)} is outside the {y.shape[0]}x{y.shape[1]} output; "
            f"rows run 0..{y.shape[0] - 1}, columns 0..{y.shape[1] - 1}"
        )
    kh, kw = kernel.shape
    top, left = row * sh, col * sw
    product = x[top:top + kh, left:left + kw] * kernel              # (KH, KW)
    _check_finite_result(product, "`x` and `kernel`")
    done = np.full(y.shape, np.nan)
    flat = row * y.shape[1] + col                                    # cells written so far
    done.flat[:flat + 1] = y.flat[:flat + 1]

    if fig is None:
        fig = plt.figure(figsize=(11, 3.2), layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [x.shape[1], kw, kw, y.shape[1]]})
    show_matrix(x, axes[0], title="input x", fmt=fmt, highlight=(top, left, kh, kw))
    show_kernel(kernel, axes[1], title="kernel", fmt=fmt)
    total = _format(fmt, product.sum() + bias)
    bias_text = f" + {_format(fmt, bias)}" if bias else ""
    show_kernel(product, axes[2], title=f"window × kernel\nsum{bias_text} = {total}", fmt=fmt)
    lo, hi = float(y.min()), float(y.max())
    show_matrix(done, axes[3], title=f"output y[{row}, {col}] = {total}", fmt=fmt,
                highlight=(row, col, 1, 1), vmin=lo, vmax=hi if hi > lo else lo + 1)
    return fig


# ----------------------------------------------------------------- fast PNG

_LUTS: dict[str, tuple[np.ndarray, bool]] = {}


def _lookup_table(cmap) -> tuple[np.ndarray, bool]:
    """256-entry RGB table of a colour map, and whether it is grey (R = G = B)."""
    if isinstance(cmap, str) and cmap in _LUTS:
        return _LUTS[cmap]
    if isinstance(cmap, matplotlib.colors.Colormap):
        colormap = cmap
    else:
        try:
            colormap = matplotlib.colormaps[cmap]
        except (KeyError, TypeError):
            raise ValueError(
                f"`cmap` must be a matplotlib colour map name such as 'gray' or 'viridis', "
                f"got {describe(cmap)}"
            ) from None
    lut = colormap(np.linspace(0.0, 1.0, 256), bytes=True)[:, :3]        # (256, 3) uint8
    entry = (lut, bool(np.all(lut == lut[:, :1])))
    if isinstance(cmap, str):
        _LUTS[cmap] = entry
    return entry


def array_to_png(a, *, cmap="gray", vmin=None, vmax=None, scale=1) -> bytes:
    """Encode a 2D array as PNG bytes through a colour map, without a figure.

    Introduced in lesson 01 (behind the widgets). Values are mapped linearly
    from ``[vmin, vmax]`` onto the colour map's 256 colours (values outside
    are clipped), so the first colour stands for ``vmin`` and the last for
    ``vmax``. A constant array with an automatic range gets the first colour.
    Grey colour maps give an 8-bit grey PNG, others RGB.

    Parameters
    ----------
    a : (H, W) array_like
    cmap : str or Colormap
    vmin, vmax : float, optional
        Value range; by default the array's minimum and maximum.
    scale : int
        Each value becomes a ``scale x scale`` block of pixels (nearest
        neighbour); the image may have at most ``MAX_PNG_PIXELS`` (4096 x 4096)
        pixels.

    Returns
    -------
    bytes
        A PNG image of ``W * scale`` by ``H * scale`` pixels.
    """
    a = as_array(a, "a", ndims=2)
    if a.size == 0:
        raise ValueError(f"`a` must not be empty, got shape {a.shape}")
    scale = check_int(scale, "scale", minimum=1)
    h, w = a.shape
    if h * w * scale * scale > MAX_PNG_PIXELS:
        name = "`scale`" if scale > 1 else "`a`"
        raise ValueError(
            f"{name}: a {h}x{w} array at scale {scale} would make a {w * scale}x{h * scale} "
            f"image; keep it under {MAX_PNG_PIXELS:,} pixels (4096 x 4096)"
        )
    lut, grey = _lookup_table(cmap)
    lo = float(a.min()) if vmin is None else _check_number(vmin, "vmin")
    hi = float(a.max()) if vmax is None else _check_number(vmax, "vmax")
    if hi < lo:
        raise ValueError(f"`vmin` ({lo}) must not be larger than `vmax` ({hi})")
    if hi > lo:
        index = np.clip((a - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)  # (H, W)
    else:
        index = np.zeros(a.shape, np.uint8)
    pixels = lut[index, 0] if grey else lut[index]               # (H, W) or (H, W, 3)
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if scale > 1:
        image = image.resize((w * scale, h * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


# ----------------------------------------------------------------- activations (lesson 06)

ACTIVATION_NAMES = ("relu", "leaky_relu", "tanh", "sigmoid")
MAX_ACTIVATION_PANELS = 8   # most panels plot_activations draws
MAX_CURVE_POINTS = 100_000  # most points of x plot_activations evaluates


def _activation_curves(name, x, alpha):
    """``(title, f(x), f'(x))`` of one activation function; f' where it exists."""
    from . import activations

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
    _check_at_most(len(names), MAX_ACTIVATION_PANELS, "names", "panels")
    for name in names:
        if not isinstance(name, str) or name not in ACTIVATION_NAMES:
            raise ValueError(
                f"`names` must hold names from {', '.join(map(repr, ACTIVATION_NAMES))}, "
                f"got {describe(name)}")
    x = np.linspace(-4, 4, 401) if x is None else as_array(x, "x", ndims=1)
    if x.size < 2:
        raise ValueError(f"`x` must hold at least 2 points, got {x.size}")
    _check_at_most(x.size, MAX_CURVE_POINTS, "x", "points")
    derivatives = _check_flag(derivatives, "derivatives")
    alpha = _check_number(alpha, "alpha")
    _check_figure(fig)
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


# ----------------------------------------------------------------- channels (lesson 04)

MAX_CHANNEL_SIDE = 32       # largest padded input (rows or columns) the channel pictures draw
MAX_CHANNELS = 8            # most input channels they draw (one row each)
MAX_FILTERS = 64            # most filters (the picture shows one at a time)


class _ChannelStep(NamedTuple):
    """One output cell of a multi-channel convolution, taken apart."""

    padded: np.ndarray      # (H_padded, W_padded, C) the input with its zero border
    pads: tuple             # ((top, bottom), (left, right))
    top: int                # window's top-left corner in the padded input
    left: int
    weights: np.ndarray     # (KH, KW, C) the chosen filter
    products: np.ndarray    # (KH, KW, C) window * filter, cell by cell
    sums: np.ndarray        # (C,) one sum per channel
    bias: float
    total: float            # sums.sum() + bias = the output cell
    output: np.ndarray      # (H_out, W_out, K) every output cell


def _channel_step(x, kernel, position, bias=None, stride=1, padding=0) -> _ChannelStep:
    """Check the arguments and compute one output cell channel by channel."""
    from . import kernels

    x = as_array(x, "x", ndims=3)                                     # (H, W, C)
    kernel = as_array(kernel, "kernel", ndims=4)                      # (KH, KW, C, K)
    if not isinstance(position, (tuple, list)) or len(position) != 3:
        raise ValueError(f"`position` must be (row, col, filter), got {describe(position)}")
    row, col, f = (check_int(v, "position", minimum=0) for v in position)
    _check_side(x, "x", MAX_CHANNEL_SIDE)
    _check_side(kernel, "kernel", MAX_CHANNEL_SIDE)
    _check_at_most(x.shape[2], MAX_CHANNELS, "x", "channels")
    _check_at_most(kernel.shape[3], MAX_FILTERS, "kernel", "filters")
    _check_padding_numbers(padding, MAX_CHANNEL_SIDE)
    output = kernels.conv2d(x[None], kernel, bias, stride=stride, padding=padding)[0]
    _check_finite_result(output, "`x`, `kernel` and `bias`")
    h_out, w_out, k = output.shape                                    # (H_out, W_out, K)
    if row >= h_out or col >= w_out or f >= k:
        raise ValueError(
            f"`position` {(row, col, f)} is outside the {h_out}x{w_out}x{k} output; rows run "
            f"0..{h_out - 1}, columns 0..{w_out - 1}, filters 0..{k - 1}")
    kh, kw = kernel.shape[:2]
    padded, pads = kernels.pad2d(x[None], padding, kernel_size=(kh, kw), stride=stride)
    if max(padded.shape[1:3]) > MAX_CHANNEL_SIDE:
        raise ValueError(
            f"`padding`: the padded input is {padded.shape[1]}x{padded.shape[2]} cells; the "
            f"pictures draw at most {MAX_CHANNEL_SIDE} cells a side. Use less padding.")
    sh, sw = check_pair(stride, "stride", minimum=1)
    top, left = row * sh, col * sw
    weights = kernel[..., f]                                          # (KH, KW, C)
    products = padded[0, top:top + kh, left:left + kw, :] * weights   # (KH, KW, C)
    sums = products.sum(axis=(0, 1))                                  # (C,)
    b = 0.0 if bias is None else float(np.broadcast_to(as_array(bias, "bias"), (k,))[f])
    _check_finite_result(products, "`x` and `kernel`")
    return _ChannelStep(padded[0], pads, top, left, weights, products, sums, b,
                        float(output[row, col, f]), output)


def _check_padding_numbers(padding, limit: int, name: str = "padding") -> None:
    """Refuse, before anything is padded, a number of zeros above ``limit`` in ``padding``.

    ``padding`` may be a name, an int or nested pairs of ints; anything else
    is left for :mod:`cnnlab.kernels` to explain.
    """
    stack = [padding]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)) and len(item) <= 4:
            stack.extend(item)
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool) and item > limit:
            raise ValueError(f"`{name}` of {item} is more than the picture can draw: at most "
                             f"{limit} cells a side. Use a smaller `{name}`.")


def _equation(step, position, fmt) -> str:
    """``out[r, c, f] = s0 + s1 + s2 + b = total`` with the numbers."""
    row, col, f = position
    terms = " + ".join(f"({_format(fmt, s)})" for s in step.sums)
    return (f"out[{row}, {col}, {f}] = {terms} + bias ({_format(fmt, step.bias)}) "
            f"= {_format(fmt, step.total)}")


def plot_channel_step(x, kernel, position, *, bias=None, stride=1, padding=0, fmt="{:g}",
                      fig=None):
    """One output cell of a convolution over several channels, channel by channel.

    Introduced in lesson 04. One row per input channel: the (padded) input
    channel with the window outlined and the real input dashed, the filter's
    slice for that channel, and their element-wise product with its sum. On
    the right, the output map of the chosen filter with the cell outlined;
    the title adds the channel sums and the bias up.

    Parameters
    ----------
    x : (H, W, C) array_like
        One image with ``C`` channels.
    kernel : (KH, KW, C, K) array_like
        ``K`` filters, each as deep as the input.
    position : (row, col, filter) tuple of int
        The output cell.
    bias : float or (K,) array_like, optional
    stride : int or (int, int)
    padding : as in :func:`cnnlab.kernels.conv2d`
        With it the input may be at most ``MAX_CHANNEL_SIDE`` (32) cells a
        side, with at most ``MAX_CHANNELS`` (8) channels and
        ``MAX_FILTERS`` (64) filters.
    fmt : str
    fig : matplotlib Figure, optional
        Cleared and reused; a new one is made when omitted.

    Returns
    -------
    matplotlib Figure
        Axes in order: for each channel input, filter slice, product; then the output map.
    """
    fmt = _check_fmt(fmt)
    _check_figure(fig)
    step = _channel_step(x, kernel, position, bias, stride, padding)
    row, col, f = position
    hp, wp, c = step.padded.shape
    kh, kw = step.weights.shape[:2]
    h_out, w_out = step.output.shape[:2]
    if fig is None:
        fig = plt.figure(figsize=(0.38 * (wp + 2 * kw + w_out) + 1.6, 0.38 * hp * c + 1.0),
                         layout="constrained")
    else:
        fig.clear()
    grid = fig.add_gridspec(c, 4, width_ratios=[wp, kw, kw, w_out])
    lo, hi = float(np.min(step.padded)), float(np.max(step.padded))
    (top_pad, _), (left_pad, _) = step.pads
    for ch in range(c):
        ax = fig.add_subplot(grid[ch, 0])
        # a soft grey scale: the largest value is mid-grey, so the numbers stay readable
        show_matrix(step.padded[..., ch], ax, fmt=fmt, highlight=(step.top, step.left, kh, kw),
                    vmin=lo, vmax=lo + 2.2 * (hi - lo) if hi > lo else lo + 1,
                    title=f"input channel {ch}")
        ax.add_patch(Rectangle((left_pad - 0.5, top_pad - 0.5), wp - sum(step.pads[1]),
                               hp - sum(step.pads[0]), fill=False, edgecolor="tab:blue",
                               linestyle="--", linewidth=1.5, gid="input_region"))
        show_kernel(step.weights[..., ch], fig.add_subplot(grid[ch, 1]), fmt=fmt,
                    title=f"filter {f}, slice {ch}")
        show_kernel(step.products[..., ch], fig.add_subplot(grid[ch, 2]), fmt=fmt,
                    title=f"product, sum = {_format(fmt, step.sums[ch])}")
    out = step.output[..., f]
    show_matrix(out, fig.add_subplot(grid[:, 3]), fmt=fmt, highlight=(row, col, 1, 1),
                cmap="Greens", title=f"output map {f}")
    fig.suptitle(_equation(step, (row, col, f), fmt), fontsize=11)
    return fig


def channel_step_html(x, kernel, position, *, bias=None, stride=1, padding=0, fmt="{:g}") -> str:
    """The picture of :func:`plot_channel_step` as an HTML snippet (for live widgets).

    Introduced in lesson 04, behind :class:`cnnlab.widgets.ChannelExplorer`.
    Same parameters. Cells carry classes: ``pad`` (zero padding), ``win``
    (under the window), ``out`` (the chosen output cell); the equation has
    class ``eq``.

    Returns
    -------
    str
        One block per channel (padded input, filter slice, sum), then the
        equation and the output map of the chosen filter.
    """
    fmt = _check_fmt(fmt)
    step = _channel_step(x, kernel, position, bias, stride, padding)
    row, col, f = position
    hp, wp, c = step.padded.shape
    kh, kw = step.weights.shape[:2]
    (top_pad, bottom_pad), (left_pad, right_pad) = step.pads

    def cls(r, q):
        inside = step.top <= r < step.top + kh and step.left <= q < step.left + kw
        padding_cell = not (top_pad <= r < hp - bottom_pad and left_pad <= q < wp - right_pad)
        return " ".join(name for name, on in (("win", inside), ("pad", padding_cell)) if on)

    blocks = []
    for ch in range(c):
        grid = _html_table(step.padded[..., ch], fmt, cls)
        weights = _html_table(step.weights[..., ch], fmt, lambda r, q: "w")
        blocks.append(
            f'<div class="channel"><div class="cap">channel {ch}</div>{grid}</div>'
            f'<div class="op">×</div>'
            f'<div class="channel"><div class="cap">filter {f}, slice {ch}</div>{weights}</div>'
            f'<div class="op">→ sum <b class="sum">{_format(fmt, step.sums[ch])}</b></div>')
    out = _html_table(step.output[..., f], fmt,
                      lambda r, q: "out" if (r, q) == (row, col) else "")
    style = ("<style>.cnnlab-ch table{border-collapse:collapse;font:12px monospace}"
             ".cnnlab-ch td{border:1px solid #bbb;width:24px;height:20px;text-align:center}"
             ".cnnlab-ch td.pad{color:#aaa;background:#f4f4f4}"
             f".cnnlab-ch td.win{{background:{WINDOW_FILL};border:2px solid {WINDOW_COLOUR}}}"
             ".cnnlab-ch td.w{background:#eef3fb}"
             f".cnnlab-ch td.out{{background:{OUTPUT_FILL};border:2px solid #2a8a2a;"
             "font-weight:bold}"
             ".cnnlab-ch .row{display:flex;align-items:center;gap:10px;margin:4px 0}"
             ".cnnlab-ch .cap{font:11px sans-serif;color:#555}"
             ".cnnlab-ch .op{font:13px sans-serif}.cnnlab-ch .eq{font:13px monospace;"
             "margin:6px 0}</style>")
    rows = "".join(f'<div class="row">{block}</div>' for block in blocks)
    return (f'<div class="cnnlab-ch">{style}{rows}'
            f'<div class="eq">{_equation(step, (row, col, f), fmt)}</div>'
            f'<div class="channel"><div class="cap">output map {f}</div>{out}</div></div>')


def _html_table(a, fmt, cell_class) -> str:
    """A 2D array as an HTML table; ``cell_class(r, c)`` gives each cell's class."""
    rows = []
    for r, values in enumerate(a):
        cells = []
        for q, v in enumerate(values):
            name = cell_class(r, q)
            attr = f' class="{name}"' if name else ""
            cells.append(f"<td{attr}>{_format(fmt, v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


# ----------------------------------------------------------------- convolution arithmetic (lesson 03)

MAX_ARITHMETIC_SIDE = 20    # largest padded input (rows or columns) the arithmetic pictures draw
MAX_POOL_SIDE = 32          # largest padded feature map show_pooling draws
MAX_FRAME_PANELS = 64       # most steps show_convolution_frames draws (an 8x8 output)
MAX_ANIMATION_FRAMES = 144  # most steps save_convolution_animation writes (a 12x12 output)
MAX_FONT_SIZE = 72.0        # largest fontsize (points) of the numbers in the cells
CELL_INCHES = 0.42          # side of one cell in the arithmetic and pooling pictures
GRID_CELL_INCHES = 0.27     # the same in show_convolution_frames' grid of small panels
INPUT_FILL = "#d6e6f5"      # input cells (blue, as in Dumoulin & Visin's guide)
KERNEL_FILL = "#7fb0dc"     # input cells under a kernel weight
CURRENT_FILL = "#74c476"    # the output cell being written
PAD_EDGE = "0.55"           # dashed edge of padding cells
PAD_UNDER_FILL = "#c6dbef"  # padding cells under a kernel weight
WINDOW_COLOURS = ("#f4a259", "#8e7cc3", "#5fb49c", "#e06c75")  # neighbouring pooling windows

#: The animations of Dumoulin & Visin's "A guide to convolution arithmetic for
#: deep learning" (lesson 03): input side ``n``, ``kernel_size``, ``padding``, ``stride``.
ARITHMETIC_CASES = {
    "no padding, no strides": dict(n=4, kernel_size=3, padding="valid", stride=1),
    "arbitrary padding, no strides": dict(n=5, kernel_size=4, padding=2, stride=1),
    "half (same) padding, no strides": dict(n=5, kernel_size=3, padding="same", stride=1),
    "full padding, no strides": dict(n=5, kernel_size=3, padding="full", stride=1),
    "no padding, strides": dict(n=5, kernel_size=3, padding="valid", stride=2),
    "padding, strides": dict(n=5, kernel_size=3, padding=1, stride=2),
    "padding, strides (odd)": dict(n=6, kernel_size=3, padding=1, stride=2),
}


class ConvolutionFrame(NamedTuple):
    """One step of a 2D convolution: the window at one output cell (lesson 03).

    Attributes
    ----------
    step : int
        0 .. ``H_out * W_out - 1``, output cells in reading order.
    position : (int, int)
        The output cell written at this step.
    window : (int, int)
        Top-left corner of the window in the padded input.
    cells : (KH * KW, 2) ndarray of int
        Padded-input coordinates under each kernel weight (row-major; spread
        out by the dilation).
    value : float
        The output value, ``kernels.conv2d(...)[position]``.
    output : (H_out, W_out) ndarray
        The output so far: written cells hold their value, the others NaN.
    padded : (H + top + bottom, W + left + right) ndarray
        The input surrounded by its zero padding.
    pads : ((int, int), (int, int))
        ``((top, bottom), (left, right))``.
    kernel : (KH, KW) ndarray
    stride, dilation : (int, int)
    """

    step: int
    position: tuple
    window: tuple
    cells: np.ndarray
    value: float
    output: np.ndarray
    padded: np.ndarray
    pads: tuple
    kernel: np.ndarray
    stride: tuple
    dilation: tuple


def arithmetic_example(n, kernel_size, *, seed=0):
    """A small integer input and kernel for the convolution-arithmetic pictures.

    Introduced in lesson 03. Small whole numbers keep every product and sum
    readable in the cells.

    Parameters
    ----------
    n : int
        Side of the square input, 1 to ``MAX_ARITHMETIC_SIDE`` (20).
    kernel_size : int
        Side of the square kernel, 1 to ``MAX_ARITHMETIC_SIDE``.
    seed : int
        Seed of the random numbers.

    Returns
    -------
    x : (n, n) ndarray
        Whole numbers 0 to 3.
    kernel : (kernel_size, kernel_size) ndarray
        Whole numbers 0 to 2, not all 0.
    """
    n = check_int(n, "n", minimum=1)
    k = check_int(kernel_size, "kernel_size", minimum=1)
    for name, value in (("n", n), ("kernel_size", k)):
        if value > MAX_ARITHMETIC_SIDE:
            raise ValueError(f"`{name}` must be at most {MAX_ARITHMETIC_SIDE} (the pictures draw "
                             f"at most {MAX_ARITHMETIC_SIDE} cells a side), got {value}")
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    x = rng.integers(0, 4, size=(n, n)).astype(float)           # (n, n)
    kernel = rng.integers(0, 3, size=(k, k)).astype(float)      # (k, k)
    if not kernel.any():
        kernel[k // 2, k // 2] = 1.0
    return x, kernel


def convolution_frames(x, kernel, *, stride=1, padding="valid", dilation=1):
    """Every step of a 2D convolution, ready to draw (lesson 03).

    The output values come from :func:`cnnlab.kernels.conv2d` and the padded
    input from :func:`cnnlab.kernels.pad2d`, so the pictures show exactly the
    arithmetic the kernels compute.

    Parameters
    ----------
    x : (H, W) array_like
        The input; with its padding at most ``MAX_ARITHMETIC_SIDE`` (20) cells a side.
    kernel : (KH, KW) array_like
    stride, padding, dilation
        As in :func:`cnnlab.kernels.conv2d`.

    Returns
    -------
    list of ConvolutionFrame
        One frame per output cell, in reading order (``H_out * W_out`` frames).
    """
    from . import kernels

    x = as_array(x, "x", ndims=2)
    kernel = as_array(kernel, "kernel", ndims=2)
    _check_side(x, "x", MAX_ARITHMETIC_SIDE, "the pictures")
    _check_side(kernel, "kernel", MAX_ARITHMETIC_SIDE, "the pictures")
    _check_padding_numbers(padding, MAX_ARITHMETIC_SIDE)
    _check_padding_numbers(dilation, MAX_ARITHMETIC_SIDE, "dilation")
    y = kernels.conv2d(x, kernel, stride=stride, padding=padding, dilation=dilation)  # (H_out, W_out)
    _check_finite_result(y, "`x` and `kernel`")
    padded, pads = kernels.pad2d(x, padding, kernel_size=kernel.shape, stride=stride,
                                 dilation=dilation)              # (H_p, W_p)
    if max(padded.shape) > MAX_ARITHMETIC_SIDE:
        raise ValueError(
            f"`x` with its padding is {padded.shape[0]}x{padded.shape[1]} cells; the pictures "
            f"draw at most {MAX_ARITHMETIC_SIDE} cells a side"
        )
    (sh, sw), (dh, dw) = check_pair(stride, "stride"), check_pair(dilation, "dilation")
    offsets = np.array([(a * dh, b * dw) for a, b in np.ndindex(kernel.shape)])  # (KH*KW, 2)
    frames = []
    for step, (r, c) in enumerate(np.ndindex(y.shape)):
        cells = offsets + (r * sh, c * sw)                       # (KH*KW, 2)
        under = padded[cells[:, 0], cells[:, 1]]                 # (KH*KW,)
        assert np.isclose(under @ kernel.ravel(), y[r, c]), "picture and kernel disagree"  # y finite
        output = np.full(y.shape, np.nan)
        output.flat[:step + 1] = y.flat[:step + 1]
        frames.append(ConvolutionFrame(
            step=step, position=(r, c), window=(r * sh, c * sw), cells=cells,
            value=float(y[r, c]), output=output, padded=padded, pads=pads, kernel=kernel,
            stride=(sh, sw), dilation=(dh, dw)))
    return frames


def plot_convolution_frame(frame, ax=None, *, fmt="{:g}", title=None, fontsize=None):
    """Draw one step of a convolution: padded input, window, output filling up.

    Introduced in lesson 03, in the style of Dumoulin & Visin's animations:
    the input cells are blue, padding cells are dashed and hold a grey 0, the
    cells under the kernel are darker with the weight in their corner
    (``×w``), the window is outlined, and the output grid on the right holds
    the values written so far, the new one in bold.

    Parameters
    ----------
    frame : ConvolutionFrame
        One of the frames returned by :func:`convolution_frames`.
    ax : matplotlib Axes, optional
    fmt : str
        Format of the numbers.
    title : str, optional
        By default ``"step i of N: y[r, c] = value"``.
    fontsize : float, optional
        Size of the numbers; by default fitted to the cells.

    Returns
    -------
    matplotlib Axes
        Text gids: ``"input"``, ``"padding"`` (the zeros), ``"weight"``,
        ``"output"`` (every written value); patch gids: ``"window"``,
        ``"current"`` (outline of the new output cell).
    """
    if not isinstance(frame, ConvolutionFrame):
        raise TypeError(
            "`frame` must be one of the frames returned by convolution_frames(), "
            f"got {describe(frame)}"
        )
    fmt = _check_fmt(fmt)
    _check_axes(ax)
    title = _check_text(title)
    if fontsize is not None:
        fontsize = _check_font(fontsize)
    span = _frame_span(frame)
    if ax is None:
        ax = _new_axes(None, (span[0] * CELL_INCHES, span[1] * CELL_INCHES + 0.4))
        fontsize = _CELL_FONT * CELL_INCHES * 72 if fontsize is None else fontsize
    fontsize = _fit_font(ax, span) if fontsize is None else fontsize
    _draw_frame(ax, frame, fmt, fontsize)
    if title is None:
        r, c = frame.position
        title = (f"step {frame.step + 1} of {frame.output.size}: "
                 f"y[{r}, {c}] = {_format(fmt, frame.value)}")
    ax.set_title(title, fontsize=min(max(fontsize, 8), 11))
    return ax


def _check_font(fontsize) -> float:
    fontsize = _check_number(fontsize, "fontsize")
    if not 0 < fontsize <= MAX_FONT_SIZE:
        raise ValueError(f"`fontsize` must be above 0 and at most {MAX_FONT_SIZE:g} points, "
                         f"got {fontsize:g}")
    return fontsize


def show_convolution_frames(x, kernel, *, stride=1, padding="valid", dilation=1, ncols=None,
                            fmt="{:g}"):
    """Draw every step of a convolution as a grid of small pictures.

    Introduced in lesson 03: the frames of :func:`convolution_frames`, drawn
    by :func:`plot_convolution_frame`, in reading order.

    Parameters
    ----------
    x : (H, W) array_like
    kernel : (KH, KW) array_like
    stride, padding, dilation
        As in :func:`cnnlab.kernels.conv2d`.
    ncols : int, optional
        Panels per row; by default the number of output columns.
    fmt : str

    At most ``MAX_FRAME_PANELS`` (64) steps are drawn (an 8x8 output).

    Returns
    -------
    matplotlib Figure
        One Axes per output cell.
    """
    frames = convolution_frames(x, kernel, stride=stride, padding=padding, dilation=dilation)
    fmt = _check_fmt(fmt)
    _check_at_most(len(frames), MAX_FRAME_PANELS, "x",
                   "panels, one per output cell (use a stride, or a smaller input)")
    h_out, w_out = frames[0].output.shape
    ncols = w_out if ncols is None else check_int(ncols, "ncols", minimum=1)
    ncols = min(ncols, len(frames))
    nrows = math.ceil(len(frames) / ncols)
    span_x, span_y = _frame_span(frames[0])
    cell = min(GRID_CELL_INCHES, 12.0 / (ncols * span_x))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(ncols * span_x * cell, nrows * (span_y * cell + 0.3)))
    fontsize = _CELL_FONT * cell * 72
    for i, ax in enumerate(axes.flat):
        if i >= len(frames):
            ax.remove()
            continue
        r, c = frames[i].position
        plot_convolution_frame(frames[i], ax, fmt=fmt, fontsize=fontsize,
                               title=f"y[{r}, {c}] = {_format(fmt, frames[i].value)}")
    kh, kw = frames[0].kernel.shape
    fig.suptitle(f"{_x_shape_text(frames[0])} input, {kh}x{kw} kernel, padding "
                 f"{_pads_text(frames[0].pads)}, stride {_pair_text(frames[0].stride)}"
                 f"{_dilation_text(frames[0])} → {h_out}x{w_out} output", fontsize=10)
    return fig


def save_convolution_animation(path, x, kernel, *, stride=1, padding="valid", dilation=1,
                               fps=2, fmt="{:g}", dpi=80):
    """Write the steps of a convolution to an animated GIF, one frame per output cell.

    Introduced in lesson 03. Uses matplotlib's ``PillowWriter``; each frame is
    drawn by :func:`plot_convolution_frame`.

    Parameters
    ----------
    path : str or pathlib.Path
        Where to write; must end in ``.gif``. The folder must exist.
    x : (H, W) array_like
    kernel : (KH, KW) array_like
    stride, padding, dilation
        As in :func:`cnnlab.kernels.conv2d`.
    fps : float
        Frames per second, 0.1 to 100.
    fmt : str
    dpi : int
        Pixels per inch (a cell is ``0.42 * dpi`` pixels wide), 20 to 300.

    At most ``MAX_ANIMATION_FRAMES`` (144) frames (a 12x12 output) are written.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from pathlib import Path

    from matplotlib.animation import PillowWriter
    from matplotlib.figure import Figure

    if not isinstance(path, (str, Path)):
        raise TypeError(f"`path` must be a file name ending in .gif, got {describe(path)}")
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"`path` must end in .gif, got {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"`path`: the folder {str(path.parent)!r} does not exist")
    fps = _check_number(fps, "fps")
    if fps <= 0:
        raise ValueError(f"`fps` must be positive, got {fps}")
    if not 0.1 <= fps <= 100:
        raise ValueError(f"`fps` must be from 0.1 to 100 frames per second, got {fps:g}")
    dpi = check_int(dpi, "dpi", minimum=20)
    if dpi > 300:
        raise ValueError(f"`dpi` must be at most 300 (pixels per inch), got {dpi}")
    fmt = _check_fmt(fmt)
    frames = convolution_frames(x, kernel, stride=stride, padding=padding, dilation=dilation)
    _check_at_most(len(frames), MAX_ANIMATION_FRAMES, "x",
                   "frames, one per output cell (use a stride, or a smaller input)")
    span_x, span_y = _frame_span(frames[0])
    fig = Figure(figsize=(span_x * CELL_INCHES, span_y * CELL_INCHES + 0.4))
    ax = fig.add_axes((0.02, 0.02, 0.96, span_y / (span_y + 0.4 / CELL_INCHES) - 0.02))
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, str(path), dpi):
        for frame in frames:
            ax.clear()
            plot_convolution_frame(frame, ax, fmt=fmt, fontsize=_CELL_FONT * CELL_INCHES * 72)
            writer.grab_frame()
    return path


# -- pieces of the arithmetic pictures

_CELL_FONT = 0.4        # numbers are this fraction of a cell high
_GAP = 1.6              # cells between the input and the output grid
_LABEL_ROWS = 0.6       # room under the grids for one line of label


def _x_shape_text(frame) -> str:
    (top, bottom), (left, right) = frame.pads
    h, w = frame.padded.shape
    return f"{h - top - bottom}x{w - left - right}"


def _pads_text(pads) -> str:
    (top, bottom), (left, right) = pads
    if top == bottom == left == right:
        return str(top)
    return f"top {top}, bottom {bottom}, left {left}, right {right}"


def _pair_text(pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _dilation_text(frame) -> str:
    return "" if frame.dilation == (1, 1) else f", dilation {_pair_text(frame.dilation)}"


def _frame_span(frame) -> tuple[float, float]:
    """Width and height of a frame picture, in cells."""
    hp, wp = frame.padded.shape
    h_out, w_out = frame.output.shape
    label_rows = _LABEL_ROWS if frame.pads == ((0, 0), (0, 0)) else 2 * _LABEL_ROWS
    return wp + _GAP + w_out + 0.2, max(hp, h_out) + label_rows + 0.2


def _fit_font(ax, span) -> float:
    """Font size (points) for numbers in cells when ``span`` cells fill ``ax``."""
    box = ax.get_position()
    width = box.width * ax.figure.get_figwidth() / span[0]
    height = box.height * ax.figure.get_figheight() / span[1]
    return float(np.clip(_CELL_FONT * 72 * min(width, height), 4, 13))


def _grid_cell(cells, x0, y0, *, fill, edge="0.6", style="solid", width=0.8):
    cells.append(Rectangle((x0, y0), 1, 1, facecolor=fill, edgecolor=edge, linestyle=style,
                           linewidth=width))


def _draw_frame(ax, frame, fmt, fontsize):
    hp, wp = frame.padded.shape
    h_out, w_out = frame.output.shape
    (top, bottom), (left, right) = frame.pads
    under = {tuple(rc): w for rc, w in zip(frame.cells.tolist(), frame.kernel.ravel())}
    cells = []
    for (r, c), v in np.ndenumerate(frame.padded):
        is_pad = not (top <= r < hp - bottom and left <= c < wp - right)
        if is_pad:
            _grid_cell(cells, c, r, fill=PAD_UNDER_FILL if (r, c) in under else "white",
                       edge=PAD_EDGE, style=(0, (3, 2)))
        else:
            _grid_cell(cells, c, r, fill=KERNEL_FILL if (r, c) in under else INPUT_FILL)
        ax.text(c + 0.5, r + 0.5, _format(fmt, v), ha="center", va="center",
                fontsize=fontsize, color="0.6" if is_pad else "black",
                gid="padding" if is_pad else "input")
        if (r, c) in under:
            ax.text(c + 0.96, r + 0.94, "×" + _format(fmt, under[(r, c)]), ha="right",
                    va="bottom", fontsize=0.55 * fontsize, color="#08306b", gid="weight")
    dh, dw = frame.dilation
    kh, kw = frame.kernel.shape
    row0, col0 = frame.window
    ax.add_patch(Rectangle((col0, row0), (kw - 1) * dw + 1, (kh - 1) * dh + 1, fill=False,
                           edgecolor=WINDOW_COLOUR, linewidth=2.5, gid="window", zorder=3))

    x0, y0 = wp + _GAP, (hp - h_out) / 2                          # top-left of the output grid
    for (r, c), v in np.ndenumerate(frame.output):
        current = (r, c) == tuple(frame.position)
        fill = CURRENT_FILL if current else OUTPUT_FILL if np.isfinite(v) else "white"
        _grid_cell(cells, x0 + c, y0 + r, fill=fill)
        if np.isfinite(v):
            ax.text(x0 + c + 0.5, y0 + r + 0.5, _format(fmt, v), ha="center", va="center",
                    fontsize=fontsize, fontweight="bold" if current else "normal", gid="output")
    r, c = frame.position
    ax.add_patch(Rectangle((x0 + c, y0 + r), 1, 1, fill=False, edgecolor=WINDOW_COLOUR,
                           linewidth=2.5, gid="current", zorder=3))
    ax.add_collection(PatchCollection(cells, match_original=True, zorder=0.5, gid="cells"),
                      autolim=False)
    ax.annotate("", xy=(x0 - 0.2, hp / 2), xytext=(wp + 0.2, hp / 2),
                arrowprops=dict(arrowstyle="->", color="0.3", linewidth=1.2))
    label = 0.8 * fontsize
    padded_note = "" if frame.pads == ((0, 0), (0, 0)) else f"\npadding {_pads_text(frame.pads)}"
    ax.text(wp / 2, hp + 0.15, f"input {_x_shape_text(frame)}{padded_note}", ha="center",
            va="top", fontsize=label, color="0.25")
    ax.text(x0 + w_out / 2, max(hp, y0 + h_out) + 0.15, f"output {h_out}x{w_out}",
            ha="center", va="top", fontsize=label, color="0.25")
    span_x, span_y = _frame_span(frame)
    ax.set_xlim(-0.1, span_x - 0.1)
    ax.set_ylim(span_y - 0.1, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")


# ----------------------------------------------------------------- pooling (lesson 05)

POOL_KINDS = ("max", "avg", "sum")
MIN_POOL_FONT = 6.5     # below this size show_pooling leaves the numbers out and shades the cells


def show_pooling(x, ax=None, *, pool_size=2, stride=None, padding="valid", kind="max",
                 fmt="{:g}", title=None, fontsize=None):
    """Draw pooling on a small feature map: the windows, their winners, the output.

    Introduced in lesson 05, after Harley's interactive visualisation. Each
    window gets a colour (neighbours differ) and its output cell the same
    colour. Max pooling fills the winning cell of each window (the first
    largest value, in reading order) and outlines the window; average and
    sum pooling shade the whole window (overlapping windows blend). With
    ``"same"`` padding the padded cells are dashed and empty: they never win
    and are not counted. The output values come from
    :func:`cnnlab.kernels.max_pool2d` / ``avg_pool2d`` / ``sum_pool2d``.

    When the cells are too small for numbers (a font under ``MIN_POOL_FONT``
    points, e.g. a 28x28 digit), both grids are drawn in greys instead and
    max pooling outlines the winner of every window that is not flat
    (average and sum pooling draw no windows then).

    Parameters
    ----------
    x : (H, W) array_like
        The feature map, at most ``MAX_POOL_SIDE`` (32) cells a side with padding.
    ax : matplotlib Axes, optional
    pool_size, stride, padding
        As in :func:`cnnlab.kernels.max_pool2d`.
    kind : {"max", "avg", "sum"}
    fmt : str
        Format of the numbers (left out when the cells are too small to read).
    title : str, optional
        By default the settings and the shapes.
    fontsize : float, optional
        Size of the numbers; by default fitted to the cells.

    Returns
    -------
    matplotlib Axes
        Patch gids: ``"winner"`` (max: one per output cell, at the winning
        input cell), ``"window"``; text gids ``"input"``, ``"output"``.
    """
    layout = _pooling_layout(x, pool_size, stride, padding, kind)
    fmt = _check_fmt(fmt)
    _check_axes(ax)
    title = _check_text(title)
    if fontsize is not None:
        fontsize = _check_font(fontsize)
    span = _pool_span(layout)
    if ax is None:
        cell = min(CELL_INCHES, 9.0 / span[0])
        ax = _new_axes(None, (span[0] * cell, span[1] * cell + 0.4))
        fontsize = _CELL_FONT * cell * 72 if fontsize is None else fontsize
    fontsize = _fit_font(ax, span) if fontsize is None else fontsize
    _draw_pooling(ax, layout, fmt, fontsize)
    if title is None:
        (ph, pw), (sh, sw) = layout.size, layout.stride
        h, w = layout.x.shape
        title = (f"{kind} pooling {ph}x{pw}, stride {_pair_text((sh, sw))}, {layout.padding}: "
                 f"{h}x{w} → {layout.out.shape[0]}x{layout.out.shape[1]}")
    ax.set_title(title, fontsize=min(max(fontsize, 9), 11))
    return ax


class _PoolingLayout(NamedTuple):
    x: np.ndarray          # (H, W) the feature map
    padded: np.ndarray     # (H_p, W_p), NaN in the padding
    pads: tuple            # ((top, bottom), (left, right))
    size: tuple            # (PH, PW)
    stride: tuple          # (SH, SW)
    padding: str
    kind: str
    out: np.ndarray        # (H_out, W_out) from cnnlab.kernels
    corners: np.ndarray    # (H_out, W_out, 2) window top-left corners, padded coordinates
    winners: np.ndarray    # (H_out, W_out, 2) first largest cell of each window, input coordinates


def _pooling_layout(x, pool_size, stride, padding, kind) -> _PoolingLayout:
    """Check the arguments of :func:`show_pooling` and find every window and winner."""
    from . import kernels, shapes
    from ._validate import check_choice

    x = as_array(x, "x", ndims=2)
    kind = check_choice(kind, "kind", POOL_KINDS)
    size = check_pair(pool_size, "pool_size", minimum=1)
    stride_arg, stride = stride, size if stride is None else check_pair(stride, "stride", minimum=1)
    padding = check_choice(padding, "padding", ("valid", "same"))
    if 0 in x.shape:
        raise ValueError(f"`x` must not be empty, got shape {x.shape}")
    if max(x.shape) > MAX_POOL_SIDE:
        raise ValueError(f"`x` is {x.shape[0]}x{x.shape[1]} cells; the picture draws at most "
                         f"{MAX_POOL_SIDE} cells a side")
    if max(size) > MAX_POOL_SIDE:
        raise ValueError(f"`pool_size` {size[0]}x{size[1]} is larger than the picture can draw "
                         f"(at most {MAX_POOL_SIDE} cells a side)")
    pads = tuple(shapes._pool_plan(n, p, s, padding)[:2] for n, p, s in zip(x.shape, size, stride))
    if max(n + a + b for n, (a, b) in zip(x.shape, pads)) > MAX_POOL_SIDE:
        h, w = (n + a + b for n, (a, b) in zip(x.shape, pads))
        raise ValueError(
            f"`x` with its padding is {h}x{w} cells; the picture draws at most {MAX_POOL_SIDE} "
            "cells a side"
        )
    pool = {"max": kernels.max_pool2d, "avg": kernels.avg_pool2d, "sum": kernels.sum_pool2d}
    out = pool[kind](x, pool_size, stride_arg, padding)           # (H_out, W_out)
    padded = np.pad(x, pads, constant_values=np.nan)              # (H_p, W_p)
    corners = np.zeros((*out.shape, 2), dtype=int)
    winners = np.zeros((*out.shape, 2), dtype=int)
    for i, j in np.ndindex(out.shape):
        r0, c0 = i * stride[0], j * stride[1]
        window = padded[r0:r0 + size[0], c0:c0 + size[1]]         # (PH, PW), NaN = padding
        a, b = np.unravel_index(np.nanargmax(window), window.shape)
        corners[i, j] = r0, c0
        winners[i, j] = r0 + a - pads[0][0], c0 + b - pads[1][0]
        if kind == "max":
            assert window[a, b] == out[i, j], "picture and kernel disagree"
    return _PoolingLayout(x=x, padded=padded, pads=pads, size=size, stride=stride,
                          padding=padding, kind=kind, out=out, corners=corners, winners=winners)


def _grey_shades(a, darkest):
    """Function from a value of ``a`` to a grey, white at the minimum, ``darkest`` at the maximum."""
    lo, hi = float(np.min(a)), float(np.max(a))
    greys = matplotlib.colormaps["Greys"]
    return lambda v: greys(darkest * (v - lo) / (hi - lo) if hi > lo else 0.0)


def _pool_span(layout) -> tuple[float, float]:
    hp, wp = layout.padded.shape
    h_out, w_out = layout.out.shape
    return wp + _GAP + w_out + 0.2, max(hp, h_out) + _LABEL_ROWS + 0.2


def _draw_pooling(ax, layout, fmt, fontsize):
    hp, wp = layout.padded.shape
    h_out, w_out = layout.out.shape
    (top, _), (left, _) = layout.pads
    (ph, pw), annotate = layout.size, fontsize >= MIN_POOL_FONT
    shade = _grey_shades(layout.x, 0.45 if annotate else 1.0)     # cell value -> colour
    cells = []
    for (r, c), v in np.ndenumerate(layout.padded):
        if np.isnan(v):
            _grid_cell(cells, c, r, fill="white", edge=PAD_EDGE, style=(0, (3, 2)))
            continue
        _grid_cell(cells, c, r, fill=shade(v))
        if annotate:
            ax.text(c + 0.5, r + 0.5, _format(fmt, v), ha="center", va="center",
                    fontsize=fontsize, gid="input", zorder=4)
    x0, y0 = wp + _GAP, (hp - h_out) / 2                          # top-left of the output grid
    inset = 0.06 if layout.stride[0] >= ph and layout.stride[1] >= pw else 0.0
    out_shade = _grey_shades(layout.out, 1.0)
    for i, j in np.ndindex(layout.out.shape):
        colour = WINDOW_COLOURS[2 * (i % 2) + j % 2]
        r0, c0 = layout.corners[i, j]
        if layout.kind == "max" and not annotate:       # shaded map: outline real winners only
            r, c = layout.winners[i, j] + (top, left)
            window = layout.padded[r0:r0 + ph, c0:c0 + pw]
            if np.nanmax(window) > np.nanmin(window):
                ax.add_patch(Rectangle((c + 0.08, r + 0.08), 0.84, 0.84, fill=False,
                                       edgecolor=colour, linewidth=1.6, zorder=3, gid="winner"))
        elif layout.kind == "max":
            r, c = layout.winners[i, j] + (top, left)
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour, edgecolor="none",
                                   zorder=1, gid="winner"))
            ax.add_patch(Rectangle((c0 + inset, r0 + inset), pw - 2 * inset, ph - 2 * inset,
                                   fill=False, edgecolor=colour, linewidth=2.2, zorder=3,
                                   gid="window"))
        elif annotate:                                   # avg / sum: shade the window
            rows = np.clip([r0, r0 + ph], top, top + layout.x.shape[0])
            cols = np.clip([c0, c0 + pw], left, left + layout.x.shape[1])
            ax.add_patch(Rectangle((cols[0], rows[0]), cols[1] - cols[0], rows[1] - rows[0],
                                   facecolor=colour, alpha=0.45, edgecolor=colour,
                                   linewidth=1.5, zorder=1, gid="window"))
        _grid_cell(cells, x0 + j, y0 + i, fill=colour if annotate else out_shade(layout.out[i, j]))
        if annotate:
            ax.text(x0 + j + 0.5, y0 + i + 0.5, _format(fmt, layout.out[i, j]), ha="center",
                    va="center", fontsize=fontsize, fontweight="bold", gid="output", zorder=4)
    ax.add_collection(PatchCollection(cells, match_original=True, zorder=0.5, gid="cells"),
                      autolim=False)
    ax.annotate("", xy=(x0 - 0.2, hp / 2), xytext=(wp + 0.2, hp / 2),
                arrowprops=dict(arrowstyle="->", color="0.3", linewidth=1.2))
    label = max(0.8 * fontsize, 8)
    h, w = layout.x.shape
    ax.text(wp / 2, hp + 0.15, f"feature map {h}x{w}", ha="center", va="top",
            fontsize=label, color="0.25")
    ax.text(x0 + w_out / 2, max(hp, y0 + h_out) + 0.15, f"output {h_out}x{w_out}",
            ha="center", va="top", fontsize=label, color="0.25")
    span_x, span_y = _pool_span(layout)
    ax.set_xlim(-0.1, span_x - 0.1)
    ax.set_ylim(span_y - 0.1, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")


# ----------------------------------------------------------------- LeNet-5 (lesson 09)

MAX_CLASSES = 100           # most classes confusion_matrix draws
MAX_TABLE_SIDE = 64         # most maps (rows or columns) show_connection_table draws

def confusion_counts(y_true, y_pred, n_classes=10) -> np.ndarray:
    """Count how often each true class was predicted as each class (lesson 09).

    Parameters
    ----------
    y_true, y_pred : (N,) array_like of int
        Labels and predictions in ``0 .. n_classes - 1``.
    n_classes : int
        The counts take ``8 * n_classes**2`` bytes (at most 4 GB).

    Returns
    -------
    (n_classes, n_classes) ndarray of int
        Row = true class, column = predicted class; the diagonal holds the
        correct answers and the rows sum to the number of examples per class.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    check_allocation((n_classes, n_classes), "n_classes", what="the table of counts")
    return _confusion_counts(y_true, y_pred, n_classes, "")


def _confusion_counts(y_true, y_pred, n_classes, classes_from) -> np.ndarray:
    """:func:`confusion_counts` after ``n_classes`` is checked; ``classes_from`` explains it."""
    t = as_array(y_true, "y_true", ndims=1)
    p = as_array(y_pred, "y_pred", ndims=1)
    if t.shape != p.shape:
        raise ValueError(f"`y_true` and `y_pred` must have the same length (one prediction per "
                         f"label), got {len(t)} and {len(p)}")
    for name, v in (("y_true", t), ("y_pred", p)):
        wrong = (v != np.round(v)) | (v < 0) | (v >= n_classes)
        if np.any(wrong):
            bad = v[np.argmax(wrong)]
            raise ValueError(f"`{name}` must hold whole class numbers 0 to {n_classes - 1}"
                             f"{classes_from}, got {bad:g} at position {int(np.argmax(wrong))}")
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (t.astype(np.int64), p.astype(np.int64)), 1)
    return counts


def confusion_matrix(y_true, y_pred, ax=None, *, labels=None, title=None):
    """Draw the confusion matrix of a classifier, counts written in the cells.

    Introduced in lesson 09. The colour scale stops at the largest
    off-diagonal count, so the mistakes stand out; the diagonal (correct
    answers, far larger) is drawn in the darkest colour.

    Parameters
    ----------
    y_true, y_pred : (N,) array_like of int
        Labels and predictions, ``0 .. 9`` (or ``0 .. len(labels) - 1``).
    ax : matplotlib Axes, optional
    labels : list of str, optional
        Class names for the axes, at most ``MAX_CLASSES`` (100); default
        ``"0"`` .. ``"9"``.
    title : str, optional
        Default: the accuracy and the number of mistakes.

    Returns
    -------
    matplotlib Axes
    """
    if labels is not None:
        labels = _check_names(labels, "labels")
        if not labels:
            raise ValueError("`labels` must name at least one class, got an empty list")
        _check_at_most(len(labels), MAX_CLASSES, "labels", "classes")
    n = 10 if labels is None else len(labels)
    _check_axes(ax)
    title = _check_text(title)
    classes_from = (" (the classes of the 10 digits; pass `labels` for other classes)"
                    if labels is None else f" (`labels` names {n} classes)")
    counts = _confusion_counts(y_true, y_pred, n, classes_from)        # (n, n)
    wrong = counts - np.diag(np.diag(counts))
    ax = _new_axes(ax, (6.2, 5.6))
    show_matrix(counts, ax, cmap="Blues", vmin=0, vmax=max(1, int(wrong.max())))
    names = [str(i) for i in range(n)] if labels is None else labels
    ax.set_xticks(range(n), names, fontsize=9)
    ax.set_yticks(range(n), names, fontsize=9)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title is None:
        total = int(counts.sum())
        title = (f"accuracy {100 * np.trace(counts) / max(total, 1):.2f} %: "
                 f"{int(wrong.sum())} mistakes in {total}")
    ax.set_title(title)
    return ax


def show_connection_table(table, ax=None, *, title=None):
    """Draw a connection table between two layers as a grid of crosses.

    Introduced in lesson 09 for LeNet-5's S2 -> C3 table
    (:func:`cnnlab.shapes.lenet5_c3_table`). Row ``i`` is an input map,
    column ``j`` an output map; a cross marks a connection. The number of
    inputs of each output map is written under its column.

    Parameters
    ----------
    table : (C_in, C_out) array_like of 0 and 1
        At most ``MAX_TABLE_SIDE`` (64) rows and columns.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    table = as_array(table, "table", ndims=2)
    if table.size == 0:
        raise ValueError(f"`table` must not be empty, got shape {table.shape}")
    _check_side(table, "table", MAX_TABLE_SIDE)
    title = _check_text(title)
    if not np.all((table == 0) | (table == 1)):
        raise ValueError("`table` must hold only 0 and 1 (1 = connected)")
    rows, cols = table.shape
    ax = _new_axes(ax, (0.5 * cols + 1.4, 0.5 * rows + 1.4))
    ax.imshow(table, cmap="Blues", vmin=0, vmax=2.5, interpolation="nearest")
    for r, c in np.argwhere(table == 1):
        ax.text(c, r, "X", ha="center", va="center", fontsize=11, fontweight="bold",
                color="#08306b", gid="connection")
    for c, n in enumerate(table.sum(axis=0).astype(int)):
        ax.text(c, rows - 0.5 + 0.35, str(n), ha="center", va="top", fontsize=9,
                color="0.3", gid="column_sum")
    ax.set_xticks(np.arange(-0.5, cols), minor=True)
    ax.set_yticks(np.arange(-0.5, rows), minor=True)
    ax.grid(which="minor", color="0.75", linewidth=0.8)
    ax.tick_params(which="both", length=0, labelsize=9)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("output map (inputs it sees, below)")
    ax.set_ylabel("input map")
    ax.set_ylim(rows - 0.5 + 0.9, -0.5)
    ax.spines[:].set_visible(False)
    if title is not None:
        ax.set_title(title, pad=28)
    return ax


# ----------------------------------------------------------------- training curves (lesson 08)

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
    _check_at_most(len(curves), MAX_LINES, "curves", "curves")
    smooth = check_int(smooth, "smooth", minimum=1)
    per_epoch = _steps_per_epoch(steps_per_epoch, curves)
    log = _check_flag(log, "log")
    title, ylabel = _check_text(title), _check_text(ylabel, "ylabel")
    losses_by_label = {}
    for label, losses in curves.items():
        y = as_array(losses, f"curves[{label!r}]", ndims=1)
        if len(y) == 0:
            raise ValueError(f"`curves[{label!r}]` is empty")
        _check_at_most(len(y), MAX_LOSS_STEPS, f"curves[{label!r}]", "steps")
        losses_by_label[label] = y
    ax = _new_axes(ax, (6.5, 3.8))
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
    _check_at_most(len(paths), MAX_LINES, "paths", "paths")
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
    title = _check_text(title)
    checked = {}
    for label, path in paths.items():
        p = as_array(path, f"paths[{label!r}]", ndims=2)
        if p.shape[1] != 2 or len(p) == 0:
            raise ValueError(f"`paths[{label!r}]` must have shape (steps + 1, 2), got {p.shape}")
        checked[label] = p
    _check_axes(ax)
    w, b = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))  # (200, 200) each
    z = _loss_grid(loss, w, b)
    ax = _new_axes(ax, (6, 4.5))
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
    return (_check_number(pair[0], name), _check_number(pair[1], name))


# ----------------------------------------------------------------- lessons 00 and 12

def show_image_grid(rows, *, row_labels=None, titles=None, cmap="gray", vmin=0.0, vmax=1.0,
                    size=1.6):
    """Rows of grey images on one shared brightness scale, e.g. noisy / denoised / clean.

    Introduced in lesson 12.

    Parameters
    ----------
    rows : list of (K, H, W) array_like, or (R, K, H, W) array_like
        ``R`` rows of ``K`` images each (a trailing channel axis of size 1 is dropped).
    row_labels : list of str, optional
        One label per row, written left of the row.
    titles : list of str, optional
        One title per column.
    cmap : str or Colormap
    vmin, vmax : float
        The brightness range shared by every panel (``[0, 1]`` by default).
    size : float
        Side of one panel in inches, 0.2 to 10.

    At most ``MAX_PANELS`` (400) images, each of at most ``MAX_MATRIX_CELLS`` pixels.

    Returns
    -------
    matplotlib Figure
    """
    if isinstance(rows, (list, tuple)):
        if not rows:
            raise ValueError("`rows` must hold at least one row of images, got an empty list")
        grid = [as_array(r, f"rows[{i}]", ndims=(3, 4)) for i, r in enumerate(rows)]
    else:
        grid = list(as_array(rows, "rows", ndims=(4, 5)))
    grid = [r[..., 0] if r.ndim == 4 and r.shape[-1] == 1 else r for r in grid]
    if not grid or any(r.ndim != 3 for r in grid) or len({len(r) for r in grid}) != 1 \
            or not len(grid[0]) or any(0 in r.shape for r in grid):
        raise ValueError("`rows` must hold rows of the same number K >= 1 of 2D images, got "
                         f"shapes {[r.shape for r in grid]}")
    n_rows, n_cols = len(grid), len(grid[0])
    _check_at_most(n_rows * n_cols, MAX_PANELS, "rows", "images")
    _check_at_most(max(r[0].size for r in grid), MAX_MATRIX_CELLS, "rows", "pixels in one image")
    for name, labels, n in (("row_labels", row_labels, n_rows), ("titles", titles, n_cols)):
        if labels is not None:
            if isinstance(labels, str):
                raise ValueError(f"`{name}` must hold {n} strings, got {describe(labels)}")
            _check_names(labels, name, n)
    cmap = _check_cmap(cmap)
    vmin, vmax = _check_number(vmin, "vmin"), _check_number(vmax, "vmax")
    if vmin > vmax:
        raise ValueError(f"`vmin` ({vmin:g}) must not be larger than `vmax` ({vmax:g})")
    size = _check_between(size, "size", 0.2, 10.0, unit=" inches")
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols + 0.6, size * n_rows),
                             squeeze=False, layout="constrained")
    for i, row in enumerate(grid):
        for j, image in enumerate(row):
            ax = axes[i, j]
            ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if titles is not None and i == 0:
                ax.set_title(str(titles[j]), fontsize=9)
        if row_labels is not None:
            axes[i, 0].set_ylabel(str(row_labels[i]), fontsize=10)
    return fig


def draw_course_map(ax=None):
    """The lessons as boxes in columns by part, with an arrow from each lesson it builds on.

    Introduced in lesson 00. The lessons, their parts and prerequisites come
    from :data:`cnnlab.course.LESSONS`.

    Returns
    -------
    matplotlib Axes
    """
    import textwrap

    from .tools.course import LESSONS, PARTS

    ax = _new_axes(ax, (13, 5.6))
    columns = {part: [item for item in LESSONS if item.part == part] for part in PARTS}
    tallest = max(len(c) for c in columns.values())
    boxes = {}
    for x, (part, items) in enumerate(columns.items()):
        ax.text(x, tallest - 0.35, part, ha="center", va="center", fontsize=11,
                fontweight="bold", color="0.35")
        for row, item in enumerate(items):
            label = f"{item.number}\n" + textwrap.fill(item.title, 20)
            boxes[item.number] = ax.text(
                x, tallest - 1 - row, label, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.45", facecolor="#e8f0fa", edgecolor="#4a6fa5"))
    order = [item.number for item in LESSONS]
    for item in LESSONS:
        for need in item.needs:
            source, target = boxes[need], boxes[item.number]
            skips = source.get_position()[0] == target.get_position()[0] and \
                abs(order.index(item.number) - order.index(need)) > 1
            bend = 0.55 if order.index(need) % 2 == 0 else -0.55  # neighbouring arcs on opposite sides
            ax.annotate("", xy=(0.5, 0.5), xycoords=target, xytext=(0.5, 0.5),
                        textcoords=source,
                        arrowprops=dict(arrowstyle="-|>", color="0.4", lw=1.2, shrinkA=2,
                                        shrinkB=2, patchA=source.get_bbox_patch(),
                                        patchB=target.get_bbox_patch(),
                                        connectionstyle=f"arc3,rad={bend if skips else 0.0}"))
    ax.set_xlim(-0.6, len(PARTS) - 0.4)
    ax.set_ylim(-0.6, tallest)
    ax.axis("off")
    return ax


# ----------------------------------------------------------------- architectures (lesson 10)

ARCHITECTURE_COLOURS = {
    "input": "#ffffff", "convolution": "#c6dbef", "pooling": "#fdd0a2", "dense": "#c7e9c0",
    "normalisation": "#e0e0e0", "merge": "#dadaeb", "reshape": "#f7f7f7", "other": "#f2f2f2",
}
_KIND_GROUPS = {
    "InputLayer": "input", "Conv2D": "convolution", "TableConv2D": "convolution",
    "DepthwiseConv2D": "convolution", "SeparableConv2D": "convolution",
    "MaxPooling2D": "pooling", "AveragePooling2D": "pooling", "Subsampling": "pooling",
    "GlobalAveragePooling2D": "pooling", "GlobalMaxPooling2D": "pooling", "Dense": "dense",
    "BatchNormalization": "normalisation", "LocalResponseNormalization": "normalisation",
    "Concatenate": "merge", "Add": "merge", "Flatten": "reshape", "ZeroPadding2D": "reshape",
}
_NOT_DRAWN = ("Dropout", "ReLU", "Activation")   # no weights, shape unchanged
MAX_BLOCKS = 500            # most layers draw_architecture draws


class _Block(NamedTuple):
    name: str
    kind: str
    shape: tuple
    parents: tuple
    window: str = ""     # e.g. "11x11/4" for a convolution with stride 4


def draw_architecture(model_or_layers, ax=None, *, title=None):
    """Draw a network as blocks, one per layer, each with its output shape (lesson 10).

    Blocks run from top (input) to bottom (output); parallel branches, as in
    an Inception module, sit side by side at the same depth, joined by lines
    to the layers they feed. Colours tell the kind of layer (legend).

    Parameters
    ----------
    model_or_layers : keras.Model or list
        A Keras model: one block for every layer except dropout and
        stand-alone activations (no weights, shape unchanged), the input
        included. Or a chain given as a list of ``(name, shape)`` or
        ``(name, kind, shape)`` entries (``kind`` a Keras class name such as
        ``"Conv2D"``), or of rows with ``.name``, ``.kind`` and ``.shape``
        (:func:`cnnlab.classic.model_table`).
    ax : matplotlib Axes, optional
    title : str, optional
        Default: the model's name.

    Returns
    -------
    matplotlib Axes
        Every block is a patch whose gid is ``"block:<layer name>"``.
    """
    _check_axes(ax)
    title = _check_text(title)
    if hasattr(model_or_layers, "layers") and hasattr(model_or_layers, "get_config"):
        blocks = _model_blocks(model_or_layers)
        title = model_or_layers.name if title is None else title
    else:
        blocks = _listed_blocks(model_or_layers)
    _check_at_most(len(blocks), MAX_BLOCKS, "model_or_layers", "blocks (layers)")
    xs, levels = _block_positions(blocks)
    columns = max(xs.values()) - min(xs.values()) + 1
    depth = max(levels.values()) + 1
    chars = max(len(b.name) + len(b.window) + len(str(b.shape)) for b in blocks)
    width, height = max(2.6, 0.075 * chars + 0.6), 0.62   # block size in data units
    step_x, step_y = width + 0.25, 1.0
    ax = _new_axes(ax, (max(4.5, 0.9 * step_x * columns + 1.2), 0.42 * depth + 1.0))
    fontsize = 8 if columns < 4 else 7
    centre = {b.name: (xs[b.name] * step_x, -levels[b.name] * step_y) for b in blocks}
    for b in blocks:
        x, y = centre[b.name]
        for parent in b.parents:
            px, py = centre[parent]
            if levels[b.name] - levels[parent] > 1:     # skip the levels between, straight down
                ax.plot([px, px], [py - height / 2, y + step_y - height / 2], color="0.45",
                        lw=0.9, zorder=0.5)
                py = y + step_y
            ax.annotate("", xy=(x, y + height / 2), xytext=(px, py - height / 2),
                        arrowprops=dict(arrowstyle="-|>", color="0.45", lw=0.9,
                                        shrinkA=0, shrinkB=0), zorder=0.5)
    seen = []
    for b in blocks:
        x, y = centre[b.name]
        group = _KIND_GROUPS.get(b.kind, "other")
        seen += [group] if group not in seen else []
        ax.add_patch(Rectangle((x - width / 2, y - height / 2), width, height,
                               facecolor=ARCHITECTURE_COLOURS[group], edgecolor="0.35",
                               linewidth=0.8, gid=f"block:{b.name}"))
        shape = "×".join(str(n) for n in b.shape)
        label = f"{b.name}  {b.window}" if b.window else b.name
        ax.text(x - width / 2 + 0.08, y, label, ha="left", va="center", fontsize=fontsize)
        ax.text(x + width / 2 - 0.08, y, shape, ha="right", va="center", fontsize=fontsize,
                color="0.2")
    left = min(c[0] for c in centre.values()) - width / 2 - 0.1
    right = max(c[0] for c in centre.values()) + width / 2 + 0.1
    ax.set_xlim(left, right)
    ax.set_ylim(-(depth - 1) * step_y - height / 2 - 0.15, height / 2 + 0.15)
    ax.axis("off")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor=ARCHITECTURE_COLOURS[g], edgecolor="0.35", label=g)
                       for g in seen],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def _listed_blocks(layers) -> list[_Block]:
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError("`model_or_layers` must be a Keras model or a non-empty list of "
                        f"(name, shape) or (name, kind, shape) entries, got {describe(layers)}")
    blocks = []
    for index, entry in enumerate(layers):
        if hasattr(entry, "name") and hasattr(entry, "shape") and hasattr(entry, "kind"):
            name, kind, shape = entry.name, entry.kind, entry.shape
        elif isinstance(entry, (list, tuple)) and len(entry) in (2, 3):
            name, kind, shape = (entry[0], "other", entry[1]) if len(entry) == 2 else entry
        else:
            raise ValueError(f"`model_or_layers[{index}]` must be (name, shape) or "
                             f"(name, kind, shape), got {describe(entry)}")
        shape = _check_block_shape(shape, index)
        parents = (blocks[-1].name,) if blocks else ()
        blocks.append(_Block(str(name), str(kind), shape, parents))
    return blocks


def _check_block_shape(shape, index) -> tuple:
    """A layer's output shape: an int or a short sequence of ints (``None`` for any size)."""
    def size(n):
        return n is None or (isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0)
    if size(shape) and shape is not None:
        return (int(shape),)
    if isinstance(shape, (tuple, list)) and len(shape) <= 8 and all(size(n) for n in shape):
        return tuple(None if n is None else int(n) for n in shape)
    raise ValueError(f"`model_or_layers[{index}]`: the shape must be an int or a tuple of "
                     f"ints such as (28, 28, 6), got {describe(shape)}")


def _keras_history(node) -> list[str]:
    """Names of the layers whose outputs appear in a serialised inbound node."""
    if isinstance(node, dict):
        history = node.get("config", {}).get("keras_history") if node.get(
            "class_name") == "__keras_tensor__" else None
        if history:
            return [history[0]]
        return [name for value in node.values() for name in _keras_history(value)]
    if isinstance(node, (list, tuple)):
        return [name for value in node for name in _keras_history(value)]
    return []


def _model_blocks(model) -> list[_Block]:
    """Blocks of a functional Keras model, with the skipped layers' edges passed through."""
    config = {entry["name"]: entry for entry in model.get_config()["layers"]}
    kept, source = [], {}
    for layer in model.layers:
        parents = []
        for name in _keras_history(config[layer.name].get("inbound_nodes", [])):
            for p in source.get(name, (name,)):
                if p not in parents:
                    parents.append(p)
        if type(layer).__name__ in _NOT_DRAWN:
            source[layer.name] = tuple(parents)       # edges go straight through
            continue
        shape = tuple(int(n) for n in layer.output.shape[1:])
        kept.append(_Block(layer.name, type(layer).__name__, shape, tuple(parents),
                           _window_text(layer)))
    return kept


def _window_text(layer) -> str:
    """``"KHxKW"`` of a layer's sliding window, with ``"/stride"`` when the stride is not 1."""
    kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    if kernel is None:
        return ""
    kernel = tuple(kernel) if isinstance(kernel, (list, tuple)) else (kernel, kernel)
    stride = getattr(layer, "strides", None) or kernel
    stride = tuple(stride) if isinstance(stride, (list, tuple)) else (stride, stride)
    text = "x".join(str(k) for k in kernel)
    if stride != (1, 1):
        text += "/" + (str(stride[0]) if stride[0] == stride[1] else "x".join(map(str, stride)))
    return text


def _block_positions(blocks):
    """Column (int or half-int) and depth of every block: branches side by side."""
    levels, xs = {}, {}
    children = {b.name: [] for b in blocks}
    by_name = {b.name: b for b in blocks}
    for b in blocks:
        levels[b.name] = 1 + max((levels[p] for p in b.parents), default=-1)
        for p in b.parents:
            children[p].append(b.name)
    branch = {}                      # a branch's place in the list of inputs of the merge it feeds
    for b in blocks:
        for i, name in enumerate(b.parents if len(b.parents) > 1 else ()):
            while name not in branch:
                branch[name] = i
                parents = by_name[name].parents
                if len(parents) != 1 or len(children[parents[0]]) != 1:
                    break
                name = parents[0]
    for kids in children.values():
        kids.sort(key=lambda name: branch.get(name, 0))
    for b in sorted(blocks, key=lambda blk: levels[blk.name]):
        if not b.parents:
            xs[b.name] = 0.0
        elif len(b.parents) > 1:
            xs[b.name] = sum(xs[p] for p in b.parents) / len(b.parents)
        else:
            siblings = children[b.parents[0]]
            if len(siblings) > 1:    # branches spread around their parent
                i = siblings.index(b.name)
                xs[b.name] = xs[b.parents[0]] + i - (len(siblings) - 1) / 2
            else:
                xs[b.name] = xs[b.parents[0]]
    return xs, levels


def plot_layer_values(values, ax=None, *, ylabel="value", log=False, title=None):
    """One value per layer (or block), input side on the left, one line per network.

    Introduced in lesson 11 for gradient norms and the size of residual
    branches. Networks that share layer names are drawn over the same
    positions; the ticks name the layers of the first network.

    Parameters
    ----------
    values : dict of str -> dict of str -> float
        ``{network label: {layer name: value}}``, layers in order.
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
    _check_at_most(len(values), MAX_LINES, "values", "networks")
    log = _check_flag(log, "log")
    title, ylabel = _check_text(title), _check_text(ylabel, "ylabel")
    names = [str(name) for name in next(iter(values.values()))]
    _check_at_most(max(len(v) for v in values.values()), MAX_BLOCKS, "values", "layers")
    lines = {}
    for label, by_layer in values.items():
        y = as_array(list(by_layer.values()), f"values[{label!r}]", ndims=1)
        if log and np.any(y <= 0):
            raise ValueError(f"`values[{label!r}]` must be positive on a logarithmic axis")
        lines[label] = y
    ax = _new_axes(ax, (max(5.5, 0.32 * len(names) + 2.0), 3.6))
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
