"""The sliding window, step by step.

A 1D convolution position by position (lesson 01), one step of a 2D
convolution (lesson 02), one output cell over several channels (lesson 04).
The numbers come from :mod:`cnnlab.kernels` (and, for the channels, from
:func:`cnnlab.steps.channel_step`), so the pictures show the arithmetic the
kernels compute.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from .. import kernels
from .._validate import as_array, check_pair
from ..steps import channel_step
from ._checks import check_figure, check_fmt, check_no_overflow, check_number, check_side
from ._parts import (
    INPUT_EDGE, OUTPUT_FILL, WINDOW_COLOUR, WINDOW_FILL, channel_equation, format_number,
)
from ._ranges import data_scale
from .matrices import show_kernel, show_matrix

__all__ = ["plot_conv1d_steps", "plot_conv2d_step", "plot_channel_step",
           "MAX_STEP_LENGTH", "MAX_STEP_SIDE"]

MAX_STEP_LENGTH = 24        # longest signal plot_conv1d_steps will draw
MAX_STEP_SIDE = 64          # largest input (rows or columns) plot_conv2d_step draws


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
    x = as_array(x, "x", ndims=1)
    kernel = as_array(kernel, "kernel", ndims=1)
    bias = check_number(bias, "bias")
    fmt = check_fmt(fmt)
    n, k = len(x), len(kernel)
    if not 1 <= n <= MAX_STEP_LENGTH:
        raise ValueError(
            f"`x` must hold 1 to {MAX_STEP_LENGTH} values for a readable picture, got {n}"
        )
    if not 1 <= k <= n:
        raise ValueError(f"`kernel` must hold 1 to len(x) = {n} weights, got {k}")
    y = kernels.conv1d(x, kernel, bias=bias)                    # (L - K + 1,)
    check_no_overflow(np.outer(x, kernel), "`x` and `kernel`")
    check_no_overflow(y, "`x`, `kernel` and `bias`")
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
                ax.text(j + 0.5, -0.32, "×" + format_number(fmt, kernel[j - i]), ha="center",
                        va="center", fontsize=8, color="0.3", gid="weight")
        ax.add_patch(Rectangle((i, 0), k, 1, fill=False, edgecolor=WINDOW_COLOUR,
                               linewidth=2.5, gid="window"))
        ax.text(n + 0.75, 0.5, "→", ha="center", va="center", fontsize=12)
        for j, v in enumerate(products):
            _cell(ax, cells, prod_x0 + j, v, fmt, fill=WINDOW_FILL, gid="product")
        sum_text = "Σ" + (f" + {format_number(fmt, bias)}" if bias else "") + " →"
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
        ax.text(x0 + 0.5, 0.5, format_number(fmt, value), ha="center", va="center", fontsize=10,
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
    x = as_array(x, "x", ndims=2)
    kernel = as_array(kernel, "kernel", ndims=2)
    check_side(x, "x", MAX_STEP_SIDE)
    check_side(kernel, "kernel", MAX_STEP_SIDE)
    bias = check_number(bias, "bias")
    sh, sw = check_pair(stride, "stride", minimum=1)
    row, col = check_pair(position, "position", minimum=0)
    fmt = check_fmt(fmt)
    check_figure(fig)
    y = kernels.conv2d(x, kernel, bias=bias, stride=(sh, sw))       # (H_out, W_out)
    check_no_overflow(y, "`x`, `kernel` and `bias`")
    if row >= y.shape[0] or col >= y.shape[1]:
        raise ValueError(
            f"`position` {(row, col)} is outside the {y.shape[0]}x{y.shape[1]} output; "
            f"rows run 0..{y.shape[0] - 1}, columns 0..{y.shape[1] - 1}"
        )
    kh, kw = kernel.shape
    top, left = row * sh, col * sw
    product = x[top:top + kh, left:left + kw] * kernel              # (KH, KW)
    check_no_overflow(product, "`x` and `kernel`")
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
    total = format_number(fmt, product.sum() + bias)
    bias_text = f" + {format_number(fmt, bias)}" if bias else ""
    show_kernel(product, axes[2], title=f"window × kernel\nsum{bias_text} = {total}", fmt=fmt)
    scale = data_scale(y)                # the whole output's scale, from 0: cells keep their colour
    show_matrix(done, axes[3], title=f"output y[{row}, {col}] = {total}", fmt=fmt,
                highlight=(row, col, 1, 1), vmin=scale.vmin, vmax=scale.vmax, cmap=scale.cmap)
    return fig


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
        ``MAX_FILTERS`` (64) filters (:mod:`cnnlab.steps`).
    fmt : str
    fig : matplotlib Figure, optional
        Cleared and reused; a new one is made when omitted.

    Returns
    -------
    matplotlib Figure
        Axes in order: for each channel input, filter slice, product; then the output map.
    """
    fmt = check_fmt(fmt)
    check_figure(fig)
    step = channel_step(x, kernel, position, bias, stride, padding)
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
    scale = data_scale(step.padded)      # one scale for every channel, from 0
    (top_pad, _), (left_pad, _) = step.pads
    for ch in range(c):
        ax = fig.add_subplot(grid[ch, 0])
        show_matrix(step.padded[..., ch], ax, fmt=fmt, highlight=(step.top, step.left, kh, kw),
                    vmin=scale.vmin, vmax=scale.vmax, cmap=scale.cmap,
                    title=f"input channel {ch}")
        ax.add_patch(Rectangle((left_pad - 0.5, top_pad - 0.5), wp - sum(step.pads[1]),
                               hp - sum(step.pads[0]), fill=False, edgecolor=INPUT_EDGE,
                               linestyle="--", linewidth=1.5, gid="input_region"))
        show_kernel(step.weights[..., ch], fig.add_subplot(grid[ch, 1]), fmt=fmt,
                    title=f"filter {f}, slice {ch}")
        show_kernel(step.products[..., ch], fig.add_subplot(grid[ch, 2]), fmt=fmt,
                    title=f"product, sum = {format_number(fmt, step.sums[ch])}")
    out = step.output[..., f]
    show_matrix(out, fig.add_subplot(grid[:, 3]), fmt=fmt, highlight=(row, col, 1, 1),
                title=f"output map {f}")
    fig.suptitle(channel_equation(step, (row, col, f), fmt), fontsize=11)
    return fig
