"""Convolution arithmetic (lesson 03): padding, stride and dilation, one step at a time.

In the style of Dumoulin & Visin's animations: the frames of
:func:`cnnlab.steps.convolution_frames` drawn one at a time
(:func:`plot_convolution_frame`), all together (:func:`plot_convolution_frames`)
or as an animated GIF (:func:`save_convolution_animation`).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._validate import check_int, describe
from ..steps import ConvolutionFrame, convolution_frames
from ._checks import check_at_most, check_axes, check_fmt, check_font, check_number, check_text
from ._parts import (
    CELL_FONT, CELL_INCHES, CURRENT_FILL, GAP, GRID_CELL_INCHES, INPUT_FILL, KERNEL_FILL,
    OUTPUT_FILL, PAD_EDGE, PAD_UNDER_FILL, WINDOW_COLOUR, fit_font, format_number, frame_span,
    grid_cell, new_axes, pads_text, pair_text,
)

__all__ = ["plot_convolution_frame", "plot_convolution_frames", "show_convolution_frames",
           "save_convolution_animation", "MAX_FRAME_PANELS", "MAX_ANIMATION_FRAMES"]

MAX_FRAME_PANELS = 64       # most steps show_convolution_frames draws (an 8x8 output)
MAX_ANIMATION_FRAMES = 144  # most steps save_convolution_animation writes (a 12x12 output)


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
    fmt = check_fmt(fmt)
    check_axes(ax)
    title = check_text(title)
    if fontsize is not None:
        fontsize = check_font(fontsize)
    span = frame_span(frame)
    if ax is None:
        ax = new_axes(None, (span[0] * CELL_INCHES, span[1] * CELL_INCHES + 0.4))
        fontsize = CELL_FONT * CELL_INCHES * 72 if fontsize is None else fontsize
    fontsize = fit_font(ax, span) if fontsize is None else fontsize
    _draw_frame(ax, frame, fmt, fontsize)
    if title is None:
        r, c = frame.position
        title = (f"step {frame.step + 1} of {frame.output.size}: "
                 f"y[{r}, {c}] = {format_number(fmt, frame.value)}")
    ax.set_title(title, fontsize=min(max(fontsize, 8), 11))
    return ax


def plot_convolution_frames(x, kernel, *, stride=1, padding="valid", dilation=1, ncols=None,
                            fmt="{:g}"):
    """Draw every step of a convolution as a grid of small pictures.

    Introduced in lesson 03 (as ``show_convolution_frames``, the name the
    lesson calls): the frames of :func:`convolution_frames`, drawn by
    :func:`plot_convolution_frame`, in reading order.

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
    fmt = check_fmt(fmt)
    check_at_most(len(frames), MAX_FRAME_PANELS, "x",
                  "panels, one per output cell (use a stride, or a smaller input)")
    h_out, w_out = frames[0].output.shape
    ncols = w_out if ncols is None else check_int(ncols, "ncols", minimum=1)
    ncols = min(ncols, len(frames))
    nrows = math.ceil(len(frames) / ncols)
    span_x, span_y = frame_span(frames[0])
    cell = min(GRID_CELL_INCHES, 12.0 / (ncols * span_x))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(ncols * span_x * cell, nrows * (span_y * cell + 0.3)))
    fontsize = CELL_FONT * cell * 72
    for i, ax in enumerate(axes.flat):
        if i >= len(frames):
            ax.remove()
            continue
        r, c = frames[i].position
        plot_convolution_frame(frames[i], ax, fmt=fmt, fontsize=fontsize,
                               title=f"y[{r}, {c}] = {format_number(fmt, frames[i].value)}")
    kh, kw = frames[0].kernel.shape
    fig.suptitle(f"{_x_shape_text(frames[0])} input, {kh}x{kw} kernel, padding "
                 f"{pads_text(frames[0].pads)}, stride {pair_text(frames[0].stride)}"
                 f"{_dilation_text(frames[0])} → {h_out}x{w_out} output", fontsize=10)
    return fig


#: The name lesson 03 calls; :func:`plot_convolution_frames` follows the naming rule.
show_convolution_frames = plot_convolution_frames


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
    if not isinstance(path, (str, Path)):
        raise TypeError(f"`path` must be a file name ending in .gif, got {describe(path)}")
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"`path` must end in .gif, got {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"`path`: the folder {str(path.parent)!r} does not exist")
    fps = check_number(fps, "fps")
    if fps <= 0:
        raise ValueError(f"`fps` must be positive, got {fps}")
    if not 0.1 <= fps <= 100:
        raise ValueError(f"`fps` must be from 0.1 to 100 frames per second, got {fps:g}")
    dpi = check_int(dpi, "dpi", minimum=20)
    if dpi > 300:
        raise ValueError(f"`dpi` must be at most 300 (pixels per inch), got {dpi}")
    fmt = check_fmt(fmt)
    frames = convolution_frames(x, kernel, stride=stride, padding=padding, dilation=dilation)
    check_at_most(len(frames), MAX_ANIMATION_FRAMES, "x",
                  "frames, one per output cell (use a stride, or a smaller input)")
    span_x, span_y = frame_span(frames[0])
    fig = Figure(figsize=(span_x * CELL_INCHES, span_y * CELL_INCHES + 0.4))
    ax = fig.add_axes((0.02, 0.02, 0.96, span_y / (span_y + 0.4 / CELL_INCHES) - 0.02))
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, str(path), dpi):
        for frame in frames:
            ax.clear()
            plot_convolution_frame(frame, ax, fmt=fmt, fontsize=CELL_FONT * CELL_INCHES * 72)
            writer.grab_frame()
    return path


# -- pieces of the arithmetic pictures

def _x_shape_text(frame) -> str:
    (top, bottom), (left, right) = frame.pads
    h, w = frame.padded.shape
    return f"{h - top - bottom}x{w - left - right}"


def _dilation_text(frame) -> str:
    return "" if frame.dilation == (1, 1) else f", dilation {pair_text(frame.dilation)}"


def _draw_frame(ax, frame, fmt, fontsize):
    hp, wp = frame.padded.shape
    h_out, w_out = frame.output.shape
    (top, bottom), (left, right) = frame.pads
    under = {tuple(rc): w for rc, w in zip(frame.cells.tolist(), frame.kernel.ravel())}
    cells = []
    for (r, c), v in np.ndenumerate(frame.padded):
        is_pad = not (top <= r < hp - bottom and left <= c < wp - right)
        if is_pad:
            grid_cell(cells, c, r, fill=PAD_UNDER_FILL if (r, c) in under else "white",
                      edge=PAD_EDGE, style=(0, (3, 2)))
        else:
            grid_cell(cells, c, r, fill=KERNEL_FILL if (r, c) in under else INPUT_FILL)
        ax.text(c + 0.5, r + 0.5, format_number(fmt, v), ha="center", va="center",
                fontsize=fontsize, color="0.6" if is_pad else "black",
                gid="padding" if is_pad else "input")
        if (r, c) in under:
            ax.text(c + 0.96, r + 0.94, "×" + format_number(fmt, under[(r, c)]), ha="right",
                    va="bottom", fontsize=0.55 * fontsize, color="#08306b", gid="weight")
    dh, dw = frame.dilation
    kh, kw = frame.kernel.shape
    row0, col0 = frame.window
    ax.add_patch(Rectangle((col0, row0), (kw - 1) * dw + 1, (kh - 1) * dh + 1, fill=False,
                           edgecolor=WINDOW_COLOUR, linewidth=2.5, gid="window", zorder=3))

    x0, y0 = wp + GAP, (hp - h_out) / 2                           # top-left of the output grid
    for (r, c), v in np.ndenumerate(frame.output):
        current = (r, c) == tuple(frame.position)
        fill = CURRENT_FILL if current else OUTPUT_FILL if np.isfinite(v) else "white"
        grid_cell(cells, x0 + c, y0 + r, fill=fill)
        if np.isfinite(v):
            ax.text(x0 + c + 0.5, y0 + r + 0.5, format_number(fmt, v), ha="center",
                    va="center", fontsize=fontsize, fontweight="bold" if current else "normal",
                    gid="output")
    r, c = frame.position
    ax.add_patch(Rectangle((x0 + c, y0 + r), 1, 1, fill=False, edgecolor=WINDOW_COLOUR,
                           linewidth=2.5, gid="current", zorder=3))
    ax.add_collection(PatchCollection(cells, match_original=True, zorder=0.5, gid="cells"),
                      autolim=False)
    ax.annotate("", xy=(x0 - 0.2, hp / 2), xytext=(wp + 0.2, hp / 2),
                arrowprops=dict(arrowstyle="->", color="0.3", linewidth=1.2))
    label = 0.8 * fontsize
    padded_note = "" if frame.pads == ((0, 0), (0, 0)) else f"\npadding {pads_text(frame.pads)}"
    ax.text(wp / 2, hp + 0.15, f"input {_x_shape_text(frame)}{padded_note}", ha="center",
            va="top", fontsize=label, color="0.25")
    ax.text(x0 + w_out / 2, max(hp, y0 + h_out) + 0.15, f"output {h_out}x{w_out}",
            ha="center", va="top", fontsize=label, color="0.25")
    span_x, span_y = frame_span(frame)
    ax.set_xlim(-0.1, span_x - 0.1)
    ax.set_ylim(span_y - 0.1, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")
