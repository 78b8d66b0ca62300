"""Pooling on a small feature map (lesson 05): every window, its winner, the output.

The windows and winners are those of :func:`cnnlab.steps.pooling_layout`.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from ..steps import pooling_layout
from ._checks import check_axes, check_fmt, check_font, check_text
from ._ranges import data_scale
from ._parts import (
    CELL_FONT, CELL_INCHES, GAP, PAD_EDGE, WINDOW_COLOURS, fit_font, format_number, grid_cell,
    new_axes, pair_text, pool_span,
)

__all__ = ["show_pooling", "MIN_POOL_FONT"]

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
    points, e.g. a 28x28 digit), both grids are drawn in greys instead
    (white = high, on a fixed scale from 0 that the title states; the
    output shares the input's scale except for sum pooling) and max pooling
    outlines the winner of every window that is not flat (average and sum
    pooling draw no windows then). With numbers, the input cells are shaded
    lightly on the same scale (mid-grey = 0, white = the largest value;
    light blue to light red when the map has negative values).

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
    layout = pooling_layout(x, pool_size, stride, padding, kind)
    fmt = check_fmt(fmt)
    check_axes(ax)
    title = check_text(title)
    if fontsize is not None:
        fontsize = check_font(fontsize)
    span = pool_span(layout)
    if ax is None:
        cell = min(CELL_INCHES, 9.0 / span[0])
        ax = new_axes(None, (span[0] * cell, span[1] * cell + 0.4))
        fontsize = CELL_FONT * cell * 72 if fontsize is None else fontsize
    fontsize = fit_font(ax, span) if fontsize is None else fontsize
    _draw_pooling(ax, layout, fmt, fontsize)
    if title is None:
        (ph, pw), (sh, sw) = layout.size, layout.stride
        h, w = layout.x.shape
        title = (f"{kind} pooling {ph}x{pw}, stride {pair_text((sh, sw))}, {layout.padding}: "
                 f"{h}x{w} → {layout.out.shape[0]}x{layout.out.shape[1]}")
        if fontsize < MIN_POOL_FONT:                  # shaded, without numbers: say the shades
            in_scale, out_scale = _scales(layout)
            title += f" · {in_scale.legend()}" + (
                "" if out_scale == in_scale else f" (output: {out_scale.legend()})")
    ax.set_title(title, fontsize=min(max(fontsize, 9), 11))
    return ax


def _shades(scale, soft: bool):
    """Function from a value to its colour on ``scale`` (a :class:`ColourScale`).

    ``soft`` keeps to the light part of the map (from mid-grey to white, or
    light blue to light red), so numbers written on the cells stay readable.
    """
    cmap = matplotlib.colormaps[scale.cmap] if isinstance(scale.cmap, str) else scale.cmap
    span = scale.vmax - scale.vmin

    def shade(v):
        t = min(max((v - scale.vmin) / span, 0.0), 1.0) if span > 0 else 0.0
        if soft:
            t = 0.25 + 0.5 * t if scale.signed else 0.55 + 0.45 * t
        return cmap(t)
    return shade


def _scales(layout):
    """The scales of the feature map and of the output: shared, except for sum pooling."""
    scale = data_scale(layout.x)                  # from 0 (or symmetric): fixed, not stretched
    return scale, data_scale(layout.out) if layout.kind == "sum" else scale


def _draw_pooling(ax, layout, fmt, fontsize):
    hp, wp = layout.padded.shape
    h_out, w_out = layout.out.shape
    (top, _), (left, _) = layout.pads
    (ph, pw), annotate = layout.size, fontsize >= MIN_POOL_FONT
    in_scale, out_scale = _scales(layout)
    shade = _shades(in_scale, soft=annotate)                       # cell value -> colour
    cells = []
    for (r, c), v in np.ndenumerate(layout.padded):
        if np.isnan(v):
            grid_cell(cells, c, r, fill="white", edge=PAD_EDGE, style=(0, (3, 2)))
            continue
        grid_cell(cells, c, r, fill=shade(v))
        if annotate:
            ax.text(c + 0.5, r + 0.5, format_number(fmt, v), ha="center", va="center",
                    fontsize=fontsize, gid="input", zorder=4)
    x0, y0 = wp + GAP, (hp - h_out) / 2                           # top-left of the output grid
    inset = 0.06 if layout.stride[0] >= ph and layout.stride[1] >= pw else 0.0
    out_shade = _shades(out_scale, soft=False)
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
        grid_cell(cells, x0 + j, y0 + i, fill=colour if annotate else out_shade(layout.out[i, j]))
        if annotate:
            ax.text(x0 + j + 0.5, y0 + i + 0.5, format_number(fmt, layout.out[i, j]),
                    ha="center", va="center", fontsize=fontsize, fontweight="bold",
                    gid="output", zorder=4)
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
    span_x, span_y = pool_span(layout)
    ax.set_xlim(-0.1, span_x - 0.1)
    ax.set_ylim(span_y - 0.1, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")
