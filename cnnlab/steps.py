"""The numpy record of a convolution step (frames, channel steps, the arithmetic cases).

What the step-by-step pictures of :mod:`cnnlab.plot` and the explorers of
:mod:`cnnlab.widgets` draw, computed once, without drawing anything:

- :func:`convolution_frames`: every step of a 2D convolution, one
  :class:`ConvolutionFrame` per output cell (lesson 03), on the small
  integer inputs of :func:`arithmetic_example` and the named cases of
  :data:`ARITHMETIC_CASES`;
- :func:`channel_step`: one output cell of a convolution over several
  channels, taken apart channel by channel (:class:`ChannelStep`, lesson 04);
- :func:`pooling_layout`: every window of a pooling and the cell that wins
  it (:class:`PoolingLayout`, lesson 05).

The numbers come from :mod:`cnnlab.kernels`, so the pictures show exactly
the arithmetic the kernels compute. Every record is bounded by the size a
picture can draw (the ``MAX_*`` constants); :func:`check_side`,
:func:`check_at_most` and :func:`check_no_overflow` are the checks the
pictures share.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from . import kernels
from ._plans import pool_plan
from ._validate import as_array, check_choice, check_int, check_pair, describe

__all__ = [
    "ARITHMETIC_CASES", "ConvolutionFrame", "arithmetic_example", "convolution_frames",
    "ChannelStep", "channel_step", "PoolingLayout", "pooling_layout", "POOL_KINDS",
    "MAX_ARITHMETIC_SIDE", "MAX_CHANNEL_SIDE", "MAX_CHANNELS", "MAX_FILTERS", "MAX_POOL_SIDE",
]

MAX_ARITHMETIC_SIDE = 20    # largest padded input (rows or columns) the arithmetic pictures draw
MAX_CHANNEL_SIDE = 32       # largest padded input (rows or columns) the channel pictures draw
MAX_CHANNELS = 8            # most input channels they draw (one row each)
MAX_FILTERS = 64            # most filters (the picture shows one at a time)
MAX_POOL_SIDE = 32          # largest padded feature map show_pooling draws
POOL_KINDS = ("max", "avg", "sum")

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


# ----------------------------------------------------------------- what a picture can draw

def check_at_most(count: int, limit: int, name: str, what: str) -> None:
    """Refuse a picture of more than ``limit`` ``what`` (they could not be read anyway)."""
    if count > limit:
        raise ValueError(f"`{name}` would draw {count:,} {what}; the picture draws at most "
                         f"{limit:,}. Pass fewer (or a slice such as [:{limit}]).")


def check_side(arr, name: str, limit: int, what: str = "the picture") -> None:
    """Refuse an array with more than ``limit`` rows or columns (its first two axes)."""
    if max(arr.shape[:2], default=0) > limit:
        size = "x".join(str(n) for n in arr.shape[:2])
        raise ValueError(f"`{name}` is {size}; {what} draws at most {limit} cells a side")


def check_no_overflow(values, names: str) -> None:
    """Refuse inputs whose products or sums overflow to infinity (weights near 1e308)."""
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{names}: the products or sums overflow to infinity (the values are "
                         "too large, near 1e308); use numbers that are not so large")


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


# ----------------------------------------------------------------- arithmetic (lesson 03)

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
    x = as_array(x, "x", ndims=2)
    kernel = as_array(kernel, "kernel", ndims=2)
    check_side(x, "x", MAX_ARITHMETIC_SIDE, "the pictures")
    check_side(kernel, "kernel", MAX_ARITHMETIC_SIDE, "the pictures")
    _check_padding_numbers(padding, MAX_ARITHMETIC_SIDE)
    _check_padding_numbers(dilation, MAX_ARITHMETIC_SIDE, "dilation")
    y = kernels.conv2d(x, kernel, stride=stride, padding=padding, dilation=dilation)  # (H_out, W_out)
    check_no_overflow(y, "`x` and `kernel`")
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


# ----------------------------------------------------------------- channels (lesson 04)

class ChannelStep(NamedTuple):
    """One output cell of a multi-channel convolution, taken apart (lesson 04)."""

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


def channel_step(x, kernel, position, bias=None, stride=1, padding=0) -> ChannelStep:
    """Check the arguments and compute one output cell channel by channel.

    Introduced in lesson 04, behind :func:`cnnlab.plot.plot_channel_step` and
    :class:`cnnlab.widgets.ChannelExplorer`.

    Parameters
    ----------
    x : (H, W, C) array_like
        One image with ``C`` channels, at most ``MAX_CHANNEL_SIDE`` (32) cells
        a side with its padding and at most ``MAX_CHANNELS`` (8) channels.
    kernel : (KH, KW, C, K) array_like
        ``K`` filters (at most ``MAX_FILTERS``, 64), each as deep as the input.
    position : (row, col, filter) tuple of int
        The output cell.
    bias : float or (K,) array_like, optional
    stride : int or (int, int)
    padding : as in :func:`cnnlab.kernels.conv2d`

    Returns
    -------
    ChannelStep
        The padded input, the window's corner, the chosen filter, the
        products and their sum for each channel, the bias, the output cell
        and the whole output ``(H_out, W_out, K)``.
    """
    x = as_array(x, "x", ndims=3)                                     # (H, W, C)
    kernel = as_array(kernel, "kernel", ndims=4)                      # (KH, KW, C, K)
    if not isinstance(position, (tuple, list)) or len(position) != 3:
        raise ValueError(f"`position` must be (row, col, filter), got {describe(position)}")
    row, col, f = (check_int(v, "position", minimum=0) for v in position)
    check_side(x, "x", MAX_CHANNEL_SIDE)
    check_side(kernel, "kernel", MAX_CHANNEL_SIDE)
    check_at_most(x.shape[2], MAX_CHANNELS, "x", "channels")
    check_at_most(kernel.shape[3], MAX_FILTERS, "kernel", "filters")
    _check_padding_numbers(padding, MAX_CHANNEL_SIDE)
    output = kernels.conv2d(x[None], kernel, bias, stride=stride, padding=padding)[0]
    check_no_overflow(output, "`x`, `kernel` and `bias`")
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
    check_no_overflow(products, "`x` and `kernel`")
    return ChannelStep(padded[0], pads, top, left, weights, products, sums, b,
                       float(output[row, col, f]), output)


# ----------------------------------------------------------------- pooling (lesson 05)

class PoolingLayout(NamedTuple):
    """Every window of a pooling over one feature map, and its winner (lesson 05)."""

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


def pooling_layout(x, pool_size, stride, padding, kind) -> PoolingLayout:
    """Check the arguments of a pooling picture and find every window and winner.

    Introduced in lesson 05, behind :func:`cnnlab.plot.show_pooling` and
    :class:`cnnlab.widgets.PoolingExplorer`.

    Parameters
    ----------
    x : (H, W) array_like
        The feature map, at most ``MAX_POOL_SIDE`` (32) cells a side with padding.
    pool_size, stride, padding
        As in :func:`cnnlab.kernels.max_pool2d` (``stride=None``: the pool size).
    kind : {"max", "avg", "sum"}

    Returns
    -------
    PoolingLayout
        The output comes from :func:`cnnlab.kernels.max_pool2d` /
        ``avg_pool2d`` / ``sum_pool2d``; the winner of a window is its first
        largest cell in reading order (padding never wins).
    """
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
    pads = tuple(pool_plan(n, p, s, padding)[:2] for n, p, s in zip(x.shape, size, stride))
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
    return PoolingLayout(x=x, padded=padded, pads=pads, size=size, stride=stride,
                         padding=padding, kind=kind, out=out, corners=corners, winners=winners)
