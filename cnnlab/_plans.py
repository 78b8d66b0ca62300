"""The plans the numpy kernels share: how each axis is padded and where the windows fall.

Internal, for :mod:`cnnlab.kernels`, :mod:`cnnlab.pooling`,
:mod:`cnnlab.transposed`, :mod:`cnnlab.backprop` and :mod:`cnnlab.shapes`
(lessons 01-08). Each ``prepare_*`` function checks a kernel's arguments and
returns a *plan*: the input in batch form, the padding of every axis and the
output size, after refusing anything too large for memory or too slow
(:func:`check_cost`). The forward kernels and their gradients both start
from the same plan, so a padding rule lives in exactly one place:
:func:`axis_plan` for a convolution axis, :func:`pool_plan` for a pooling
axis, :func:`split_padding` to read a ``padding`` argument per axis or per side.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import (
    MAX_STEPS, as_array, check_allocation, check_bias, check_choice, check_int, check_pair,
    check_work, describe,
)

#: Padding by name: no padding, Keras's "same", and a full convolution.
PADDING_NAMES = ("valid", "same", "full")


# --------------------------------------------------------------------------
# One axis
# --------------------------------------------------------------------------

def axis_plan(n, kernel_size, stride=1, padding="valid", dilation=1, *,
              name="kernel_size", what="kernel"):
    """Check one axis and return ``(pad_before, pad_after, out_size)``.

    ``name`` is the argument named in the error when the window does not fit
    (``kernel_size`` for :mod:`cnnlab.shapes`, ``kernel`` or ``pool_size`` for
    the kernels), ``what`` the window it describes.
    """
    n = check_int(n, "n", minimum=1)
    k = check_int(kernel_size, name, minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    dilation = check_int(dilation, "dilation", minimum=1)
    k_eff = (k - 1) * dilation + 1  # cells spanned by the dilated kernel
    if isinstance(padding, str):
        padding = check_choice(padding, "padding", PADDING_NAMES)
        if padding == "same":
            out = -(-n // stride)  # ceil(n / stride)
            total = max((out - 1) * stride + k_eff - n, 0)
            return total // 2, total - total // 2, out
        before = after = 0 if padding == "valid" else k_eff - 1
    else:
        before, after = split_padding(padding, sides=True)
    padded = n + before + after
    if k_eff > padded:
        spans = f" (dilation {dilation}: spans {k_eff} cells)" if dilation > 1 else ""
        raise ValueError(
            f"`{name}`: the {what} of size {k}{spans} is larger than the padded input "
            f"of size {padded} (n={n} plus padding {before}+{after}); "
            "the output would be empty"
        )
    return before, after, (padded - k_eff) // stride + 1


def pool_plan(n, pool_size, stride=None, padding="valid", *, name="pool_size"):
    """Return ``(before, after, out)`` for a pooling axis (used by the kernels)."""
    pool_size = check_int(pool_size, name, minimum=1)
    stride = pool_size if stride is None else stride
    padding = check_choice(padding, "padding", ("valid", "same"))
    return axis_plan(n, pool_size, stride, padding, 1, name=name, what="pool window")


def split_padding(padding, *, sides=False, strict=True):
    """Split a ``padding`` argument in two; a name or an int stands for both halves.

    By default the halves are the two axes (rows, columns) of a 2D padding,
    each a name, an int or a ``(before, after)`` pair; anything else is a
    TypeError. With ``strict=False`` anything that is not a pair goes to both
    axes unchecked, for the check of each axis to report (as
    :func:`cnnlab.shapes.layer_table` does).

    With ``sides=True`` the halves are the two sides of one axis: an int or a
    ``(before, after)`` pair becomes two non-negative ints.
    """
    pair = isinstance(padding, (tuple, list)) and len(padding) == 2
    if sides and not pair and (isinstance(padding, bool) or not isinstance(padding, numbers.Integral)):
        raise TypeError(
            "`padding` must be 'valid', 'same', 'full', an int or a (before, after) "
            f"pair of ints, got {describe(padding)}"
        )
    if not sides and strict and not pair and not isinstance(padding, (str, numbers.Integral)):
        raise TypeError(
            "`padding` must be 'valid', 'same', 'full', an int, (ph, pw) or "
            f"((top, bottom), (left, right)), got {describe(padding)}"
        )
    halves = (padding[0], padding[1]) if pair else (padding, padding)
    if not sides:
        return halves
    for v in halves:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"`padding` amounts must be integers, got {describe(padding)}")
        if v < 0:
            raise ValueError(f"`padding` must not be negative, got {describe(padding)}")
    return int(halves[0]), int(halves[1])


# --------------------------------------------------------------------------
# Convolution plans
# --------------------------------------------------------------------------

class Conv2dPlan(NamedTuple):
    """Checked arguments of a 2D convolution, always in batch form."""

    x: np.ndarray  # (N, H, W, C_in)
    kernel: np.ndarray  # (KH, KW, C_in, C_out)
    bias: np.ndarray  # (C_out,)
    stride: tuple  # (rows, cols)
    dilation: tuple  # (rows, cols)
    pads: tuple  # ((top, bottom), (left, right))
    out_size: tuple  # (H_out, W_out)
    single: bool  # True when the caller passed (H, W) and (KH, KW)


def prepare_conv2d(x, kernel, bias, stride, padding, dilation, *, loops=False) -> Conv2dPlan:
    """Check the arguments of a 2D convolution and bring them to batch form.

    ``loops`` is True for the loop version, whose time is bounded by
    :data:`~cnnlab._validate.MAX_STEPS` instead of the im2col matrix's size.
    """
    x = as_array(x, "x", ndims=(2, 4))
    kernel = as_array(kernel, "kernel", ndims=(2, 4))
    single = x.ndim == 2
    if kernel.ndim != x.ndim:
        want = "(KH, KW) for a single image x of shape (H, W)" if single else \
            "(KH, KW, C_in, C_out) for a batch x of shape (N, H, W, C_in)"
        raise ValueError(f"`kernel` must have shape {want}; got x {x.shape} and kernel {kernel.shape}")
    check_not_empty(x, kernel, single)
    if single:
        x, kernel = x[None, :, :, None], kernel[:, :, None, None]  # (1, H, W, 1), (KH, KW, 1, 1)
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(
            f"`kernel` expects C_in={kernel.shape[2]} input channels (shape {kernel.shape}) "
            f"but `x` has {x.shape[3]} channels (shape {x.shape})"
        )
    stride = check_pair(stride, "stride", minimum=1)
    dilation = check_pair(dilation, "dilation", minimum=1)
    plans = [
        axis_plan(n, k, s, p, d, name="kernel", what=f"kernel ({axis})")
        for n, k, s, p, d, axis in zip(
            x.shape[1:3], kernel.shape[:2], stride, split_padding(padding), dilation,
            ("rows", "columns"))
    ]
    pads, out_size = tuple(plan[:2] for plan in plans), tuple(plan[2] for plan in plans)
    n, h, w, c_in = x.shape
    (top, bottom), (left, right) = pads
    check_cost(
        x, kernel, pads, dilation, loops=loops, fn="conv2d_naive" if loops else "conv2d",
        padded=(n, h + top + bottom, w + left + right, c_in),
        out=(n, *out_size, kernel.shape[3]) if not single else out_size,
        windows=n * math.prod(out_size) * kernel.shape[0] * kernel.shape[1] * c_in,
        steps=math.prod(out_size) * kernel.shape[3])
    check_kernel_fits(kernel, x.dtype)
    return Conv2dPlan(
        x=x, kernel=kernel.astype(x.dtype, copy=False),
        bias=check_bias(bias, kernel.shape[3], single, x.dtype),
        stride=stride, dilation=dilation, pads=pads, out_size=out_size, single=single,
    )


class Conv1dPlan(NamedTuple):
    """Checked arguments of a 1D convolution, always in batch form."""

    x: np.ndarray  # (N, L, C_in)
    kernel: np.ndarray  # (K, C_in, C_out)
    bias: np.ndarray  # (C_out,)
    stride: int
    dilation: int
    pads: tuple  # (left, right)
    out_len: int
    single: bool  # True when the caller passed (L,) and (K,)


def prepare_conv1d(x, kernel, bias, stride, padding, dilation, *, loops=True) -> Conv1dPlan:
    """Check the arguments of a 1D convolution and bring them to batch form.

    ``loops`` is True for the loop version (the default, so that the source of
    :func:`cnnlab.kernels.conv1d_naive`, printed in lesson 01, stays as it is).
    """
    x = as_array(x, "x", ndims=(1, 3))
    kernel = as_array(kernel, "kernel", ndims=(1, 3))
    single = x.ndim == 1
    if kernel.ndim != x.ndim:
        want = "(K,) for a single signal x of shape (L,)" if single else \
            "(K, C_in, C_out) for a batch x of shape (N, L, C_in)"
        raise ValueError(f"`kernel` must have shape {want}; got x {x.shape} and kernel {kernel.shape}")
    check_not_empty(x, kernel, single)
    if single:
        x, kernel = x[None, :, None], kernel[:, None, None]  # (1, L, 1), (K, 1, 1)
    if kernel.shape[1] != x.shape[2]:
        raise ValueError(
            f"`kernel` expects C_in={kernel.shape[1]} input channels (shape {kernel.shape}) "
            f"but `x` has {x.shape[2]} channels (shape {x.shape})"
        )
    stride = check_int(stride, "stride", minimum=1)
    dilation = check_int(dilation, "dilation", minimum=1)
    before, after, out_len = axis_plan(
        x.shape[1], kernel.shape[0], stride, padding, dilation, name="kernel")
    n, length, c_in = x.shape
    check_cost(
        x, kernel, ((0, 0), (before, after)), (1, dilation), loops=loops,
        fn="conv1d_naive" if loops else "conv1d",
        padded=(n, length + before + after, c_in),
        out=(n, out_len, kernel.shape[2]) if not single else (out_len,),
        windows=n * out_len * kernel.shape[0] * c_in, steps=out_len * kernel.shape[2])
    check_kernel_fits(kernel, x.dtype)
    return Conv1dPlan(
        x=x, kernel=kernel.astype(x.dtype, copy=False),
        bias=check_bias(bias, kernel.shape[2], single, x.dtype),
        stride=stride, dilation=dilation, pads=(before, after), out_len=out_len, single=single,
    )


def check_cost(x, kernel, pads, dilation, *, loops, fn, padded, out, windows, steps):
    """Refuse, before anything is allocated, a convolution too large or too slow.

    ``padded`` and ``out`` are the shapes of the padded input and of the
    result, ``windows`` the number of input values under the kernel summed
    over every output position (the size of the im2col matrix), ``steps`` the
    steps of the loop version (output cells times filters). The message names
    the arguments that made them large.
    """
    c_out = kernel.shape[-1]
    blame = " and ".join(
        (["`padding`"] if any(p for pair in pads for p in pair) else [])
        + (["`dilation`"] if any(d != 1 for d in dilation) else [])) or "`x` and `kernel`"
    itemsize = x.dtype.itemsize
    if math.prod(padded) != x.size:
        check_allocation(padded, blame, itemsize=itemsize, what="the padded input")
        check_work(math.prod(padded), blame, what="padding the input")
    check_allocation(out, blame, itemsize=itemsize, what="the output")
    smaller = (f"Use a smaller {blame}." if blame != "`x` and `kernel`" else
               "Use fewer or smaller images in `x` (e.g. `x[:1000]`), or fewer filters.")
    if loops:
        fast = fn.replace("_naive", "")
        check_work(steps, blame, what=f"{fn}'s loop", limit=MAX_STEPS,
                   unit="steps (one per output cell and filter)",
                   advice=f"{fn} is the readable version, for small examples: {fast} gives "
                          f"the same result, vectorised. {smaller}")
        check_work(windows * c_out, blame, what=f"{fn}'s loop", unit="products",
                   advice=smaller)
    else:
        check_allocation((windows,), blame, itemsize=itemsize,
                         what="the im2col matrix (every window as one row)")
        check_work(windows, blame, what="the im2col matrix (every window as one row)",
                   advice=smaller)


def check_kernel_fits(kernel, dtype):
    """Refuse kernel weights that a float32 ``x`` cannot hold (they would become inf)."""
    if dtype != kernel.dtype and kernel.size:
        largest = float(np.max(np.abs(kernel)))
        if largest > float(np.finfo(dtype).max):
            raise ValueError(
                f"`kernel` holds weights up to {largest:.3g}, too large for the {dtype} of `x` "
                f"(at most {float(np.finfo(dtype).max):.3g}); pass `x` as float64 "
                "(x.astype(np.float64)) or scale the kernel down")


def check_not_empty(x, kernel, single):
    """Refuse zero-sized axes (an empty batch, N = 0, is fine)."""
    if 0 in (x.shape if single else x.shape[1:]):
        raise ValueError(f"`x` must not be empty, got shape {x.shape}")
    if 0 in kernel.shape:
        raise ValueError(f"`kernel` must not be empty, got shape {kernel.shape}")


def pad_conv(conv):
    """The input surrounded by zeros: (N, H_padded, W_padded, C_in)."""
    if conv.pads == ((0, 0), (0, 0)):
        return conv.x
    return np.pad(conv.x, ((0, 0), *conv.pads, (0, 0)))


# --------------------------------------------------------------------------
# Pooling plans
# --------------------------------------------------------------------------

class PoolPlan:
    """Checked pooling arguments, in batch form ``(N, H, W, C)``."""

    def __init__(self, x, pool_size, stride, padding):
        self.single = x.ndim == 2
        self.x = x[None, :, :, None] if self.single else x  # (N, H, W, C)
        self.size = pool_size
        self.stride = stride
        plans = [pool_plan(n, p, s, padding)
                 for n, p, s in zip(self.x.shape[1:3], pool_size, stride)]
        self.pads = tuple(plan[:2] for plan in plans)  # ((top, bottom), (left, right))
        self.out_size = tuple(plan[2] for plan in plans)  # (H_out, W_out)
        self._check_cost()

    def _check_cost(self):
        """Refuse, before anything is allocated, pooling too large for memory or too slow."""
        n, h, w, c = self.x.shape
        (top, bottom), (left, right) = self.pads
        itemsize = self.x.dtype.itemsize
        if top or bottom or left or right:
            padded = (n, h + top + bottom, w + left + right, c)
            check_allocation(padded, "`pool_size` and `padding`", itemsize=itemsize,
                             what="the padded input")
            check_work(math.prod(padded), "`pool_size` and `padding`", what="padding the input",
                       advice="Use a smaller `pool_size`, or padding='valid'.")
        out = (n, *self.out_size, c)
        check_allocation(out, "`x`", itemsize=itemsize, what="the output")
        check_work(math.prod(out) * math.prod(self.size), "`pool_size` and `stride`",
                   what="reading every window",
                   advice="Windows overlap when `stride` is smaller than `pool_size`: use a "
                          "smaller `pool_size` or a larger `stride`, or pool a smaller `x`.")


def prepare_pool(x, pool_size, stride, padding) -> PoolPlan:
    """Check the arguments of a 2D pooling (``stride`` None: ``pool_size``) and plan it."""
    x = as_array(x, "x", ndims=(2, 4))
    if 0 in (x.shape if x.ndim == 2 else x.shape[1:]):
        raise ValueError(f"`x` must not be empty, got shape {x.shape}")
    pool_size = check_pair(pool_size, "pool_size", minimum=1)
    stride = pool_size if stride is None else check_pair(stride, "stride", minimum=1)
    return PoolPlan(x, pool_size, stride, padding)


def pad_pool(pool, a, value):
    """``a`` (N, H, W, C) surrounded by ``value`` as the padding requires."""
    if pool.pads == ((0, 0), (0, 0)):
        return a
    return np.pad(a, ((0, 0), *pool.pads, (0, 0)), constant_values=value)


def pool_windows(pool, padded):
    """View of the windows the stride visits: (N, H_out, W_out, C, PH, PW)."""
    (sh, sw), (h_out, w_out) = pool.stride, pool.out_size
    windows = sliding_window_view(padded, pool.size, axis=(1, 2))  # (N, ..., C, PH, PW)
    return windows[:, :(h_out - 1) * sh + 1:sh, :(w_out - 1) * sw + 1:sw]


def window_sums(pool, a):
    """Total of every window of ``a`` (N, H, W, C), zeros padded: (N, H_out, W_out, C)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused afterwards
        return pool_windows(pool, pad_pool(pool, a, 0)).sum(axis=(4, 5))  # (N, H_out, W_out, C)
