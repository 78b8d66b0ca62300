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

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.container import StemContainer
from matplotlib.patches import Rectangle
from PIL import Image

from ._validate import as_array, check_int, check_pair, describe

MAX_ANNOTATED_CELLS = 400   # above this many cells, numbers would be unreadable
MAX_STEP_LENGTH = 24        # longest signal plot_conv1d_steps will draw
MAX_PNG_PIXELS = 4096 * 4096
KERNEL_COLOUR_MARGIN = 1.4  # show_kernel: the largest |weight| sits short of the darkest colour

WINDOW_COLOUR = "tab:orange"
WINDOW_FILL = "#fde9b8"
OUTPUT_FILL = "#c7e9c0"


# ----------------------------------------------------------------- checks and small pieces

def _check_number(value, name: str) -> float:
    """Return ``value`` as a finite float or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number, got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value}")
    return value


def _check_fmt(fmt, name: str = "fmt") -> str:
    """Check that ``fmt`` is a format string such as ``"{:g}"`` or ``"{:.2f}"``."""
    try:
        fmt.format(1.5)
    except (AttributeError, IndexError, KeyError, ValueError):
        raise ValueError(
            f"`{name}` must be a format string with one field such as '{{:g}}', "
            f"got {describe(fmt)}"
        ) from None
    return fmt


def _format(fmt: str, value: float) -> str:
    """Format ``value``; ``+ 0.0`` turns ``-0.0`` into ``0`` on the page."""
    return fmt.format(float(value) + 0.0)


def _text_colour(rgba) -> str:
    """Black text on light cells, white text on dark ones."""
    r, g, b = rgba[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def _new_axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


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
        Format of the numbers, e.g. ``"{:g}"`` or ``"{:.2f}"``.
    cmap : str or Colormap
        Colour map of the cells.
    highlight : (row, col, height, width) tuple, optional
        Outline this rectangle of cells (a sliding window, say).
    annotate : bool
        Write each value in its cell. Matrices with more than
        ``MAX_ANNOTATED_CELLS`` (400) cells are drawn without numbers.
    vmin, vmax : float, optional
        Fixed colour range; by default the range of the finite values.

    Returns
    -------
    matplotlib Axes
    """
    a = as_array(a, "a", ndims=(1, 2), finite=False)
    grid = a if a.ndim == 2 else a[np.newaxis, :]           # (rows, cols)
    rows, cols = grid.shape
    if grid.size == 0:
        raise ValueError(f"`a` must not be empty, got shape {a.shape}")
    fmt = _check_fmt(fmt)
    vmin = None if vmin is None else _check_number(vmin, "vmin")
    vmax = None if vmax is None else _check_number(vmax, "vmax")
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
    largest = float(np.max(np.abs(k))) if k.size else 0.0
    limit = KERNEL_COLOUR_MARGIN * largest if largest > 0 else 1.0   # softer extremes
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

    Returns
    -------
    matplotlib Figure
        One Axes per map.
    """
    panels = _map_list(maps)
    n = len(panels)
    ncols = min(check_int(ncols, "ncols", minimum=1), n)
    if titles is None:
        titles = [f"map {i}" for i in range(n)]
    elif isinstance(titles, str) or len(titles) != n:
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
        return [as_array(m, f"maps[{i}]", ndims=2) for i, m in enumerate(maps)]
    arr = as_array(maps, "maps", ndims=(2, 3, 4))
    if arr.ndim == 4:
        if arr.shape[0] != 1:
            raise ValueError(
                "`maps` with 4 dimensions must be a batch of one (1, H, W, C), "
                f"got shape {arr.shape}"
            )
        arr = arr[0]                                           # (H, W, C)
    if arr.ndim == 2:
        return [arr]
    if arr.shape[-1] == 0:
        raise ValueError(f"`maps` must hold at least one channel, got shape {arr.shape}")
    return [arr[..., c] for c in range(arr.shape[-1])]


# ----------------------------------------------------------------- signals

def plot_signal(x, ax=None, *, title=None, label=None):
    """Draw a 1D signal or feature map as a stem plot, one stem per position.

    Introduced in lesson 01. Call it twice on the same Axes to compare two
    signals; each call takes the next colour.

    Parameters
    ----------
    x : (L,) array_like
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
    bias = _check_number(bias, "bias")
    sh, sw = check_pair(stride, "stride", minimum=1)
    row, col = check_pair(position, "position", minimum=0)
    fmt = _check_fmt(fmt)
    y = kernels.conv2d(x, kernel, bias=bias, stride=(sh, sw))       # (H_out, W_out)
    if row >= y.shape[0] or col >= y.shape[1]:
        raise ValueError(
            f"`position` {(row, col)} is outside the {y.shape[0]}x{y.shape[1]} output; "
            f"rows run 0..{y.shape[0] - 1}, columns 0..{y.shape[1] - 1}"
        )
    kh, kw = kernel.shape
    top, left = row * sh, col * sw
    product = x[top:top + kh, left:left + kw] * kernel              # (KH, KW)
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
        Each value becomes a ``scale x scale`` block of pixels (nearest neighbour).

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
        raise ValueError(
            f"`scale` {scale} would make a {w * scale}x{h * scale} image; keep it under "
            f"{MAX_PNG_PIXELS} pixels"
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
