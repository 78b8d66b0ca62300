"""Pieces the pictures of :mod:`cnnlab.plot` and the explorers of :mod:`cnnlab.widgets` share.

The colours of the sliding-window pictures, the size of a cell, numbers
written in cells, new Axes, the squares of the cell grids, and the layout
of a convolution frame or a pooling picture in cells (so that a widget can
size its off-screen figure before drawing).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle

from ._checks import check_axes

WINDOW_COLOUR = "tab:orange"
WINDOW_HEX = to_hex(WINDOW_COLOUR)   # "#ff7f0e": the same orange for CSS (HTML pictures)
INPUT_EDGE = "#1f77b4"      # dashed outline of the real input inside its padding
WINDOW_FILL = "#fde9b8"
OUTPUT_FILL = "#c7e9c0"
INPUT_FILL = "#d6e6f5"      # input cells (blue, as in Dumoulin & Visin's guide)
KERNEL_FILL = "#7fb0dc"     # input cells under a kernel weight
CURRENT_FILL = "#74c476"    # the output cell being written
PAD_EDGE = "0.55"           # dashed edge of padding cells
PAD_UNDER_FILL = "#c6dbef"  # padding cells under a kernel weight
WINDOW_COLOURS = ("#f4a259", "#8e7cc3", "#5fb49c", "#e06c75")  # neighbouring pooling windows

CELL_INCHES = 0.42          # side of one cell in the arithmetic and pooling pictures
GRID_CELL_INCHES = 0.27     # the same in show_convolution_frames' grid of small panels
CELL_FONT = 0.4             # numbers are this fraction of a cell high
GAP = 1.6                   # cells between the input and the output grid
LABEL_ROWS = 0.6            # room under the grids for one line of label


def format_number(fmt, value: float) -> str:
    """Format ``value`` with a checked ``fmt``; ``+ 0.0`` turns ``-0.0`` into ``0`` on the page."""
    return fmt.format(float(value) + 0.0)


def text_colour(rgba) -> str:
    """Black text on light cells, white text on dark ones."""
    r, g, b = rgba[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def new_axes(ax, figsize):
    """``ax`` once checked, or the Axes of a new figure of ``figsize`` inches."""
    check_axes(ax)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def grid_cell(cells, x0, y0, *, fill, edge="0.6", style="solid", width=0.8):
    """One square of a cell grid, added to ``cells`` (drawn at once, as a PatchCollection)."""
    cells.append(Rectangle((x0, y0), 1, 1, facecolor=fill, edgecolor=edge, linestyle=style,
                           linewidth=width))


def fit_font(ax, span) -> float:
    """Font size (points) for numbers in cells when ``span`` cells fill ``ax``."""
    box = ax.get_position()
    width = box.width * ax.figure.get_figwidth() / span[0]
    height = box.height * ax.figure.get_figheight() / span[1]
    return float(np.clip(CELL_FONT * 72 * min(width, height), 4, 13))


def frame_span(frame) -> tuple[float, float]:
    """Width and height of the picture of a :class:`~cnnlab.steps.ConvolutionFrame`, in cells."""
    hp, wp = frame.padded.shape
    h_out, w_out = frame.output.shape
    label_rows = LABEL_ROWS if frame.pads == ((0, 0), (0, 0)) else 2 * LABEL_ROWS
    return wp + GAP + w_out + 0.2, max(hp, h_out) + label_rows + 0.2


def pool_span(layout) -> tuple[float, float]:
    """Width and height of the picture of a :class:`~cnnlab.steps.PoolingLayout`, in cells."""
    hp, wp = layout.padded.shape
    h_out, w_out = layout.out.shape
    return wp + GAP + w_out + 0.2, max(hp, h_out) + LABEL_ROWS + 0.2


def pads_text(pads) -> str:
    """``"1"`` for the same padding on every side, else every side by name."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right:
        return str(top)
    return f"top {top}, bottom {bottom}, left {left}, right {right}"


def pair_text(pair) -> str:
    """``"2"`` for ``(2, 2)``, ``"2x3"`` for ``(2, 3)``."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def channel_equation(step, position, fmt) -> str:
    """``out[r, c, f] = s0 + s1 + s2 + b = total`` for a :class:`~cnnlab.steps.ChannelStep`."""
    row, col, f = position
    terms = " + ".join(f"({format_number(fmt, s)})" for s in step.sums)
    return (f"out[{row}, {col}, {f}] = {terms} + bias ({format_number(fmt, step.bias)}) "
            f"= {format_number(fmt, step.total)}")
