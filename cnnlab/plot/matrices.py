"""Arrays drawn as grids of cells or pixels.

Matrices with their numbers and kernels (lesson 02, and 1D windows in
lesson 01), feature maps (lesson 04), a connection table and a confusion
matrix (lesson 09), rows of images (lesson 12).
"""

from __future__ import annotations

import builtins
import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .._validate import as_array, check_int, describe
from ..metrics import tally_confusions
from ._checks import (
    check_at_most, check_axes, check_between, check_cmap, check_flag, check_fmt, check_highlight,
    check_names, check_number, check_side, check_text,
)
from ._parts import WINDOW_COLOUR, format_number, new_axes, text_colour
from ._ranges import ColourScale, check_range_mode, pick_scale

__all__ = [
    "show_matrix", "show_kernel", "show_feature_maps", "show_image_grid",
    "show_connection_table", "show_confusion_matrix", "confusion_matrix",
    "MAX_ANNOTATED_CELLS", "MAX_MATRIX_CELLS", "MAX_FEATURE_MAPS", "MAX_PANELS",
    "KERNEL_COLOUR_MARGIN", "MAX_CLASSES", "MAX_TABLE_SIDE",
]

MAX_ANNOTATED_CELLS = 400   # above this many cells, numbers would be unreadable
MAX_MATRIX_CELLS = 1024 * 1024  # largest matrix show_matrix draws (a 1024x1024 picture)
MAX_FEATURE_MAPS = 256      # most panels show_feature_maps draws
MAX_PANELS = 400            # most panels show_image_grid draws
KERNEL_COLOUR_MARGIN = 1.4  # show_kernel: the largest |weight| sits short of the darkest colour
MAX_CLASSES = 100           # most classes confusion_matrix draws
MAX_TABLE_SIDE = 64         # most maps (rows or columns) show_connection_table draws


def show_matrix(a, ax=None, *, title=None, fmt="{:g}", cmap=None, highlight=None,
                annotate=True, vmin=None, vmax=None, range="shared", colorbar=None):
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
    cmap : str or Colormap, optional
        Colour map of the cells. By default grey with white = high
        (``"gray"``: a 1 is white, a 0 black) for a matrix with no negative
        values, and the diverging ``"RdBu_r"`` centred on 0 (blue < 0 <
        red) for one with negative values.
    highlight : (row, col, height, width) tuple, optional
        Outline this rectangle of cells (a sliding window, say).
    annotate : bool
        Write each value in its cell. Matrices with more than
        ``MAX_ANNOTATED_CELLS`` (400) cells are drawn without numbers; at
        most ``MAX_MATRIX_CELLS`` (1024 x 1024) cells are drawn at all.
    vmin, vmax : float, optional
        Fixed ends of the colour range (``vmin <= vmax``), used as given;
        they replace the ends ``range`` gives.
    range : {"shared", "auto"} or (low, high)
        ``"shared"`` (default): from 0 to the largest value, or from ``-m``
        to ``+m`` (``m`` the largest ``|value|``) when some are negative, so
        0 always has the same colour; ``"auto"``: stretched from the
        smallest to the largest value (grey); a pair: that fixed range (made
        symmetric about 0 when ``low < 0``).
    colorbar : bool, optional
        Add a colour bar; by default only when the numbers are not written.

    Returns
    -------
    matplotlib Axes
        Its image (``ax.images[0]``) carries the colour limits and map.
    """
    a = as_array(a, "a", ndims=(1, 2), finite=False)
    grid = a if a.ndim == 2 else a[np.newaxis, :]           # (rows, cols)
    rows, cols = grid.shape
    if grid.size == 0:
        raise ValueError(f"`a` must not be empty, got shape {a.shape}")
    check_at_most(grid.size, MAX_MATRIX_CELLS, "a", "cells")
    fmt = check_fmt(fmt)
    cmap = None if cmap is None else check_cmap(cmap)
    annotate = check_flag(annotate, "annotate")
    title = check_text(title)
    scale = pick_scale(range, [grid], vmin=vmin, vmax=vmax, cmap=cmap)
    if colorbar is not None:
        colorbar = check_flag(colorbar, "colorbar")
    if highlight is not None:
        highlight = check_highlight(highlight, grid.shape)
    ax = new_axes(ax, (min(0.5 * cols + 0.6, 10), min(0.5 * rows + 0.6, 10)))

    im = ax.imshow(np.ma.masked_invalid(grid), cmap=scale.cmap, vmin=scale.vmin,
                   vmax=scale.vmax, interpolation="nearest")
    small = grid.size <= MAX_ANNOTATED_CELLS
    if colorbar or (colorbar is None and not (annotate and small)):
        ax.figure.colorbar(im, ax=ax, shrink=0.8).ax.tick_params(labelsize=8)
    if annotate and small:
        size = 12 if max(rows, cols) <= 8 else 9 if max(rows, cols) <= 14 else 7
        for (r, c), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(c, r, format_number(fmt, v), ha="center", va="center", fontsize=size,
                        color=text_colour(im.cmap(im.norm(v))), gid="cell")
    if small:  # thin lines between the cells, index ticks on the sides
        ax.set_xticks(np.arange(-0.5, cols), minor=True)
        ax.set_yticks(np.arange(-0.5, rows), minor=True)
        ax.grid(which="minor", color="0.7", linewidth=0.8)
        ax.tick_params(which="both", length=0, labelsize=8)
        ax.set_xticks(np.arange(cols) if cols <= 16 else [])   # (`range` is an argument here)
        ax.set_yticks(np.arange(rows) if rows <= 16 and a.ndim == 2 else [])
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


def show_kernel(k, ax=None, *, title=None, fmt="{:.3g}", cmap="RdBu_r", annotate=True,
                colorbar=None):
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
    colorbar : bool, optional
        Add a colour bar; by default only when the weights are not written.

    Returns
    -------
    matplotlib Axes
    """
    k = as_array(k, "k", ndims=(1, 2))
    if k.size == 0:
        raise ValueError(f"`k` must not be empty, got shape {k.shape}")
    largest = float(np.max(np.abs(k)))
    limit = KERNEL_COLOUR_MARGIN * largest if largest > 0 else 1.0   # softer extremes
    limit = min(limit, float(np.finfo(np.float64).max) / 2)          # -limit..limit stays finite
    return show_matrix(k, ax, title=title, fmt=fmt, cmap=cmap, annotate=annotate,
                       vmin=-limit, vmax=limit, colorbar=colorbar)


def show_feature_maps(maps, ncols=8, titles=None, cmap=None, *, range="shared", vmin=None,
                      vmax=None, colorbar=True):
    """Draw several 2D maps in a grid, on one colour scale unless asked otherwise.

    Introduced in lesson 04. By default every panel shares one fixed scale
    (so brighter means larger across panels): grey from 0 (black) to the
    largest value (white) when no map has negative values, else the
    diverging ``"RdBu_r"`` from ``-m`` to ``+m`` (blue < 0 < red, white =
    0); one colour bar says what the colours stand for.

    Parameters
    ----------
    maps : (H, W, C) array_like, (1, H, W, C) array_like, (H, W) array_like or list of (H, W) arrays
        The maps; a 3D array is split along its last (channel) axis, a batch
        of one is unwrapped, a list may hold maps of different sizes.
    ncols : int
        Panels per row.
    titles : list of str, optional
        One title per map; by default ``"map 0"``, ``"map 1"``, ...
    cmap : str or Colormap, optional
        Replaces the colour map picked above (the limits stay).
    range : {"shared", "auto"}, (low, high) or list of (low, high)
        ``"shared"``: one scale for all maps, as above; ``"auto"``: each map
        stretched from its own minimum (black) to its maximum (white), each
        with its own colour bar (shapes show, brightness does not compare);
        a pair: that fixed range for every map (symmetric about 0 when
        ``low < 0``); a list: one pair per map, e.g. the range its kernel
        can produce, :func:`feature_map_range`.
    vmin, vmax : float, optional
        Fixed ends of the colour range for every map, used as given.
    colorbar : bool
        Draw the colour bar(s).

    At most ``MAX_FEATURE_MAPS`` (256) maps, each of at most
    ``MAX_MATRIX_CELLS`` cells.

    Returns
    -------
    matplotlib Figure
        One Axes per map (each image carries its colour limits and map),
        then the colour bars.
    """
    panels = _map_list(maps)
    n = len(panels)
    ncols = min(check_int(ncols, "ncols", minimum=1), n)
    cmap = None if cmap is None else check_cmap(cmap)
    if titles is None:
        titles = [f"map {i}" for i in builtins.range(n)]
    elif isinstance(titles, str) or not isinstance(titles, (list, tuple, np.ndarray)) \
            or len(titles) != n:
        raise ValueError(f"`titles` must hold one title per map ({n}), got {describe(titles)}")
    colorbar = check_flag(colorbar, "colorbar")
    scales = _panel_scales(range, panels, vmin, vmax, cmap)
    nrows = math.ceil(n / ncols)
    shared = len(set(scales)) == 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.8 * ncols + (0.8 if colorbar else 0),
                                                    1.9 * nrows),
                             squeeze=False, layout="constrained")
    shown = []
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.remove()
            continue
        im = ax.imshow(panels[i], cmap=scales[i].cmap, vmin=scales[i].vmin,
                       vmax=scales[i].vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(titles[i]), fontsize=9)
        shown.append(ax)
        if colorbar and not shared:
            bar = fig.colorbar(im, ax=ax, shrink=0.8, ticks=[scales[i].vmin, scales[i].vmax])
            bar.ax.tick_params(labelsize=7)
    if colorbar and shared:
        bar = fig.colorbar(shown[0].images[0], ax=shown, shrink=0.8)
        bar.ax.tick_params(labelsize=8)
        bar.set_label(scales[0].legend(), fontsize=8)
    return fig


def _panel_scales(mode, panels, vmin, vmax, cmap):
    """One :class:`ColourScale` per panel of :func:`show_feature_maps`."""
    if isinstance(mode, np.ndarray) and mode.ndim == 2:
        mode = list(mode)
    if isinstance(mode, (list, tuple)) and mode \
            and all(isinstance(m, (tuple, list, np.ndarray)) for m in mode):   # a pair per map
        if len(mode) != len(panels):
            raise ValueError(f"`range` must hold one (low, high) pair per map ({len(panels)}), "
                             f"got {len(mode)}")
        return [pick_scale(check_range_mode(m, f"range[{i}]"), [p], vmin=vmin, vmax=vmax,
                           cmap=cmap) for i, (m, p) in enumerate(zip(mode, panels))]
    mode = check_range_mode(mode)
    if mode == "auto":
        return [pick_scale(mode, [p], vmin=vmin, vmax=vmax, cmap=cmap) for p in panels]
    return [pick_scale(mode, panels, vmin=vmin, vmax=vmax, cmap=cmap)] * len(panels)


def _map_list(maps) -> list[np.ndarray]:
    """Turn the forms :func:`show_feature_maps` accepts into a list of 2D arrays."""
    if isinstance(maps, (list, tuple)):
        if not maps:
            raise ValueError("`maps` must hold at least one map, got an empty list")
        check_at_most(len(maps), MAX_FEATURE_MAPS, "maps", "maps")
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
            check_at_most(arr.shape[-1], MAX_FEATURE_MAPS, "maps", "maps (channels)")
        panels = [arr] if arr.ndim == 2 else [arr[..., c] for c in range(arr.shape[-1])]
    for i, m in enumerate(panels):
        label = f"maps[{i}]" if isinstance(maps, (list, tuple)) else "maps"
        if m.size == 0:
            raise ValueError(f"`{label}` must not be empty, got a map of shape {m.shape}")
        check_at_most(m.size, MAX_MATRIX_CELLS, label, "cells in one map")
    return panels


def show_image_grid(rows, *, row_labels=None, titles=None, cmap="gray", vmin=0.0, vmax=1.0,
                    size=1.6, colorbar=True):
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
    colorbar : bool
        Draw one colour bar for the shared scale (black = ``vmin``, white = ``vmax``).

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
    check_at_most(n_rows * n_cols, MAX_PANELS, "rows", "images")
    check_at_most(max(r[0].size for r in grid), MAX_MATRIX_CELLS, "rows", "pixels in one image")
    for name, labels, n in (("row_labels", row_labels, n_rows), ("titles", titles, n_cols)):
        if labels is not None:
            if isinstance(labels, str):
                raise ValueError(f"`{name}` must hold {n} strings, got {describe(labels)}")
            check_names(labels, name, n)
    cmap = check_cmap(cmap)
    vmin, vmax = check_number(vmin, "vmin"), check_number(vmax, "vmax")
    if vmin > vmax:
        raise ValueError(f"`vmin` ({vmin:g}) must not be larger than `vmax` ({vmax:g})")
    size = check_between(size, "size", 0.2, 10.0, unit=" inches")
    colorbar = check_flag(colorbar, "colorbar")
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols + (1.3 if colorbar else 0.6),
                                                      size * n_rows),
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
    if colorbar:
        bar = fig.colorbar(axes[0, 0].images[0], ax=axes, shrink=min(0.9, 2.5 / n_rows + 0.3))
        bar.ax.tick_params(labelsize=8)
        bar.set_label(ColourScale(vmin, vmax, cmap).legend(), fontsize=8)
    return fig


def show_confusion_matrix(y_true, y_pred, ax=None, *, labels=None, title=None):
    """Draw the confusion matrix of a classifier, counts written in the cells.

    Introduced in lesson 09 (as ``confusion_matrix``, the name the lesson
    calls). The colour scale stops at the largest off-diagonal count, so the
    mistakes stand out; the diagonal (correct answers, far larger) is drawn
    in the darkest colour. The counts are those of
    :func:`cnnlab.metrics.confusion_counts`.

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
        labels = check_names(labels, "labels")
        if not labels:
            raise ValueError("`labels` must name at least one class, got an empty list")
        check_at_most(len(labels), MAX_CLASSES, "labels", "classes")
    n = 10 if labels is None else len(labels)
    check_axes(ax)
    title = check_text(title)
    classes_from = (" (the classes of the 10 digits; pass `labels` for other classes)"
                    if labels is None else f" (`labels` names {n} classes)")
    counts = tally_confusions(y_true, y_pred, n, classes_from)        # (n, n)
    wrong = counts - np.diag(np.diag(counts))
    ax = new_axes(ax, (6.2, 5.6))
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


#: The name lesson 09 calls; :func:`show_confusion_matrix` follows the naming rule.
confusion_matrix = show_confusion_matrix


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
    check_side(table, "table", MAX_TABLE_SIDE)
    title = check_text(title)
    if not np.all((table == 0) | (table == 1)):
        raise ValueError("`table` must hold only 0 and 1 (1 = connected)")
    rows, cols = table.shape
    ax = new_axes(ax, (0.5 * cols + 1.4, 0.5 * rows + 1.4))
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
