"""Convolution written out by hand, in numpy (lessons 01-04).

Every layer comes twice, with the same signature and the same result:

- ``conv1d_naive`` / ``conv2d_naive``: plain Python loops over the output
  positions, one step per line; this is the version the lessons read.
- ``conv1d`` / ``conv2d``: the same arithmetic vectorised ("im2col"): cut every
  window out of the input at once with a strided view, then do all the
  element-wise-products-and-sums as one matrix product.

Like every deep-learning library, ``conv1d`` and ``conv2d`` compute a
*cross-correlation*: the kernel is not flipped. ``convolve2d`` flips it, which
is the convolution of mathematics and of ``scipy.signal.convolve2d``.

Shapes are channels-last, as in Keras: an image batch is ``(N, H, W, C)`` and
a bank of filters is ``(KH, KW, C_in, C_out)``, so weights can be copied to and
from ``keras.layers.Conv2D`` unchanged. A single grey-scale image ``(H, W)``
with a single kernel ``(KH, KW)`` is accepted too. Output sizes and padding
amounts follow :mod:`cnnlab.shapes`, through the plans of :mod:`cnnlab._plans`
that every numpy kernel shares.

Pooling and activations live in :mod:`cnnlab.pooling` and
:mod:`cnnlab.activations`, transposed convolution in :mod:`cnnlab.transposed`;
all are re-exported here.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._plans import (
    PADDING_NAMES, Conv2dPlan, axis_plan, pad_conv, prepare_conv1d, prepare_conv2d, split_padding,
)
from ._validate import (
    as_array, check_allocation, check_choice, check_finite_result, check_pair, check_work,
)
from .activations import gelu, leaky_relu, relu, sigmoid, softmax, tanh
from .pooling import avg_pool2d, global_avg_pool2d, max_pool2d, sum_pool2d
from .transposed import conv_matrix, conv_transpose2d, insert_zeros

__all__ = [
    "conv1d", "conv1d_naive", "conv2d", "conv2d_naive", "convolve2d", "pad2d",
    "max_pool2d", "avg_pool2d", "sum_pool2d", "global_avg_pool2d",
    "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax",
    "conv_matrix", "conv_transpose2d", "insert_zeros",
]


# --------------------------------------------------------------------------
# 2D convolution
# --------------------------------------------------------------------------

def conv2d(x, kernel, bias=None, *, stride=1, padding="valid", dilation=1):
    """2D cross-correlation of images with a bank of filters (vectorised).

    Parameters
    ----------
    x : (H, W) or (N, H, W, C_in) array_like
        One grey-scale image, or a batch of images with ``C_in`` channels.
    kernel : (KH, KW) or (KH, KW, C_in, C_out) array_like
        One kernel for a single image, or ``C_out`` filters for a batch.
    bias : float or (C_out,) array_like, optional
        Added to every output cell (one value per filter). Default 0.
    stride : int or (int, int)
        Step between two windows, along (rows, columns).
    padding : {"valid", "same", "full"}, int, (int, int) or ((int, int), (int, int))
        ``"same"`` is TensorFlow's (any odd row/column of zeros goes at the
        bottom/right); ``"full"`` pads ``k_eff - 1`` on every side; an int pads
        every side; ``(ph, pw)`` pads rows and columns; ``((top, bottom),
        (left, right))`` gives every side.
    dilation : int or (int, int)
        Spacing between kernel cells (1 = none), along (rows, columns).

    Returns
    -------
    (H_out, W_out) or (N, H_out, W_out, C_out) ndarray
        ``H_out = floor((H + top + bottom - k_eff) / stride) + 1`` with
        ``k_eff = (KH - 1) * dilation + 1``, likewise for ``W_out``.
        float32 if ``x`` is float32, float64 otherwise.

    Examples
    --------
    >>> image = np.zeros((8, 8)); image[:, 3:5] = 1   # vertical line
    >>> conv2d(image, [[0, 1, 0]] * 3)[0]
    array([0., 0., 3., 3., 0., 0.])
    """
    conv = prepare_conv2d(x, kernel, bias, stride, padding, dilation)
    return _finish2d(_correlate_im2col(conv), conv)


def conv2d_naive(x, kernel, bias=None, *, stride=1, padding="valid", dilation=1):
    """2D cross-correlation with explicit loops (the lesson version).

    Same parameters and result as :func:`conv2d`; slower, but every step of
    the sliding window is one line of Python.
    """
    conv = prepare_conv2d(x, kernel, bias, stride, padding, dilation, loops=True)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just after
        out = _correlate_loops(conv)
    return _finish2d(out, conv)


def convolve2d(x, kernel, bias=None, *, stride=1, padding="valid", dilation=1):
    """True 2D convolution: the kernel is flipped in both spatial axes.

    Same parameters and shapes as :func:`conv2d`. With ``"valid"`` or
    ``"full"`` padding a single image gives ``scipy.signal.convolve2d``'s
    result; ``"same"`` keeps TensorFlow's padding rule (for an even kernel
    scipy puts the extra zeros on the other side).
    """
    conv = prepare_conv2d(x, kernel, bias, stride, padding, dilation)
    flipped = conv._replace(kernel=conv.kernel[::-1, ::-1])  # (KH, KW, C_in, C_out)
    return _finish2d(_correlate_im2col(flipped), conv)


def pad2d(x, padding, kernel_size=None, stride=1, dilation=1):
    """Surround images with zeros the way the convolutions do.

    Parameters
    ----------
    x : (H, W) or (N, H, W, C) array_like
    padding : as in :func:`conv2d`
    kernel_size : int or (int, int), optional
        Needed for ``"same"`` and ``"full"``, whose amounts depend on it.
    stride, dilation : int or (int, int)
        As in :func:`conv2d` (``"same"`` depends on them).

    Returns
    -------
    padded : (H + top + bottom, W + left + right) or (N, ..., C) ndarray
    amounts : ((top, bottom), (left, right))
    """
    x = as_array(x, "x", ndims=(2, 4))
    if isinstance(padding, str):
        check_choice(padding, "padding", PADDING_NAMES)
        if padding != "valid" and kernel_size is None:
            raise ValueError(f"`kernel_size` is needed for padding={padding!r}")
    kernel_size = (1, 1) if kernel_size is None else check_pair(kernel_size, "kernel_size", minimum=1)
    stride = check_pair(stride, "stride", minimum=1)
    dilation = check_pair(dilation, "dilation", minimum=1)
    space = x.shape[:2] if x.ndim == 2 else x.shape[1:3]
    if 0 in space:
        raise ValueError(f"`x` must not be empty, got shape {x.shape}")
    amounts = tuple(
        axis_plan(n, k, s, p, d, name="kernel_size")[:2]
        for n, k, s, p, d in zip(space, kernel_size, stride, split_padding(padding), dilation)
    )
    widths = amounts if x.ndim == 2 else ((0, 0), *amounts, (0, 0))
    padded = tuple(n + before + after for n, (before, after) in zip(x.shape, widths))
    blame = "`padding`" if not isinstance(padding, str) else \
        "`kernel_size`" + (" and `dilation`" if dilation != (1, 1) else "")
    check_allocation(padded, blame, itemsize=x.itemsize, what="the padded input")
    check_work(math.prod(padded), blame, what="padding the input")
    return np.pad(x, widths), amounts


# --------------------------------------------------------------------------
# 1D convolution
# --------------------------------------------------------------------------

def conv1d(x, kernel, bias=None, *, stride=1, padding="valid", dilation=1):
    """1D cross-correlation of signals with a bank of filters (vectorised).

    Parameters
    ----------
    x : (L,) or (N, L, C_in) array_like
        One signal, or a batch of signals with ``C_in`` channels.
    kernel : (K,) or (K, C_in, C_out) array_like
    bias : float or (C_out,) array_like, optional
    stride, dilation : int
    padding : {"valid", "same", "full"}, int or (left, right)
        ``"same"`` is TensorFlow's (an odd extra zero goes at the end).

    Returns
    -------
    (L_out,) or (N, L_out, C_out) ndarray
        ``L_out = floor((L + left + right - k_eff) / stride) + 1``.

    Examples
    --------
    >>> conv1d([0, 0, 0, 1, 1, 0, 0, 0], [0, 1, 0])
    array([0., 0., 1., 1., 0., 0.])
    """
    sig = prepare_conv1d(x, kernel, bias, stride, padding, dilation, loops=False)
    conv = Conv2dPlan(
        x=sig.x[:, None],  # (N, 1, L, C_in)
        kernel=sig.kernel[None],  # (1, K, C_in, C_out)
        bias=sig.bias, stride=(1, sig.stride), dilation=(1, sig.dilation),
        pads=((0, 0), sig.pads), out_size=(1, sig.out_len), single=False,
    )
    out = _correlate_im2col(conv)[:, 0]  # (N, L_out, C_out)
    _check_overflow(out, sig.bias)
    return out[0, :, 0] if sig.single else out


def conv1d_naive(x, kernel, bias=None, *, stride=1, padding="valid", dilation=1):
    """1D cross-correlation with explicit loops (the lesson version).

    Same parameters and result as :func:`conv1d`.
    """
    sig = prepare_conv1d(x, kernel, bias, stride, padding, dilation)
    k, _, c_out = sig.kernel.shape
    span = (k - 1) * sig.dilation + 1  # cells covered by the (dilated) kernel
    xp = np.pad(sig.x, ((0, 0), sig.pads, (0, 0)))  # (N, L_padded, C_in)
    out = np.zeros((len(xp), sig.out_len, c_out), dtype=sig.x.dtype)  # (N, L_out, C_out)
    for i in range(sig.out_len):
        # the window under the kernel: K cells, every `dilation`-th one
        start = i * sig.stride
        window = xp[:, start:start + span:sig.dilation, :]  # (N, K, C_in)
        for f in range(c_out):
            # multiply cell by cell with filter f, add everything up, add the bias
            out[:, i, f] = np.sum(window * sig.kernel[:, :, f], axis=(1, 2)) + sig.bias[f]
    return out[0, :, 0] if sig.single else out


def _checked_result(fn):
    """``fn`` with its result checked for overflow, outside the function itself.

    Lesson 01 prints the source of :func:`conv1d_naive`, so the check cannot
    go inside it; ``inspect.getsource`` still shows the plain function.
    """
    @functools.wraps(fn)
    def checked(x, kernel, bias=None, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):  # refused just below instead
            out = fn(x, kernel, bias, **kwargs)
        _check_overflow(out, bias)
        return out
    return checked


conv1d_naive = _checked_result(conv1d_naive)


# --------------------------------------------------------------------------
# The two ways of computing: loops and im2col
# --------------------------------------------------------------------------

def _correlate_loops(conv):
    """Slide the kernel over every output position, one window at a time."""
    kh, kw, _, c_out = conv.kernel.shape
    (sh, sw), (dh, dw) = conv.stride, conv.dilation
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1  # rows/cols under the kernel
    xp = pad_conv(conv)  # (N, H_padded, W_padded, C_in)
    out = np.zeros((len(xp), *conv.out_size, c_out), dtype=conv.x.dtype)  # (N, H_out, W_out, C_out)
    for i in range(conv.out_size[0]):
        for j in range(conv.out_size[1]):
            # the window's top-left corner moves by `stride` cells
            top, left = i * sh, j * sw
            # take every `dilation`-th row and column of the span under the kernel
            window = xp[:, top:top + span_h:dh, left:left + span_w:dw, :]  # (N, KH, KW, C_in)
            for f in range(c_out):
                # element-wise product with filter f, summed, plus its bias
                out[:, i, j, f] = np.sum(window * conv.kernel[..., f], axis=(1, 2, 3)) + conv.bias[f]
    return out


def _correlate_im2col(conv):
    """All windows as the rows of one matrix, times the flattened filters."""
    n = len(conv.x)
    kh, kw, c_in, c_out = conv.kernel.shape
    (sh, sw), (dh, dw) = conv.stride, conv.dilation
    h_out, w_out = conv.out_size
    xp = pad_conv(conv)  # (N, H_padded, W_padded, C_in)
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)  # rows/cols under the dilated kernel
    # a view (no copy) of every span-sized window at every position
    windows = sliding_window_view(xp, span, axis=(1, 2))  # (N, ., ., C_in, span_h, span_w)
    # keep the positions the stride visits and the cells the dilation uses
    windows = windows[:, :(h_out - 1) * sh + 1:sh, :(w_out - 1) * sw + 1:sw,
                      :, ::dh, ::dw]  # (N, H_out, W_out, C_in, KH, KW)
    filters = conv.kernel.reshape(kh * kw * c_in, c_out)  # one column per filter
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused afterwards
        if c_in == 1 and w_out > kw:
            # one channel: copy the windows column by column (runs of W_out cells
            # instead of KW), then multiply from the left; same numbers, faster copy
            cols = windows.transpose(4, 5, 3, 0, 1, 2).reshape(kh * kw, n * h_out * w_out)
            out = np.ascontiguousarray((filters.T @ cols).T)  # (N * H_out * W_out, C_out)
        else:
            windows = windows.transpose(0, 1, 2, 4, 5, 3)  # (N, H_out, W_out, KH, KW, C_in)
            cols = windows.reshape(n * h_out * w_out, kh * kw * c_in)  # im2col: the one copy
            out = cols @ filters  # (N * H_out * W_out, C_out)
        out += conv.bias
    return out.reshape(n, h_out, w_out, c_out)  # (N, H_out, W_out, C_out)


def _finish2d(out, conv):
    """Undo the batch form for a single image (after checking for overflow)."""
    _check_overflow(out, conv.bias)
    return out[0, :, :, 0] if conv.single else out


def _check_overflow(out, bias):
    """Refuse a result that came out infinite although the inputs were finite."""
    names = "`x`, `kernel` and `bias`" if bias is not None and np.any(bias) else "`x` and `kernel`"
    check_finite_result(out, names, what="the convolution")
