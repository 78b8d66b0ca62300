"""Transposed convolution ("deconvolution") in numpy (lesson 12).

A convolution is a linear map, so it is a matrix. Unroll a 4x4 input into a
vector ``x`` of 16 values and the 2x2 output of a 3x3 kernel into a vector
``y`` of 4 values: then ``y = C @ x`` for a 4x16 matrix ``C`` built from the
kernel's weights (:func:`conv_matrix`). Its transpose ``C.T`` (16x4) goes the
other way, from 4 values back to 16: that is a *transposed convolution*. It
restores the input's *shape*, not its values (``C.T`` is not an inverse).

:func:`conv_transpose2d` computes it without building the matrix. Each input
cell "paints" a copy of the kernel, scaled by its value, onto the output; the
copies of neighbouring cells are ``stride`` cells apart and add up where they
overlap. The same result comes from an ordinary convolution: spread the input
out with ``stride - 1`` zeros between its cells (:func:`insert_zeros`), pad it
with ``k - 1`` zeros on every side ("full" padding) and slide the *flipped*
kernel over it.

Output size along one axis, for ``n`` input cells (as Keras's
``Conv2DTranspose`` computes it):

- ``"valid"``: ``n * stride + max(k - stride, 0)``, which is
  ``(n - 1) * stride + k`` whenever ``k >= stride``;
- ``"same"``: ``n * stride``.

Where ``k`` is not a multiple of ``stride`` the painted copies overlap
unevenly (:func:`overlap_counts`), which is the checkerboard pattern seen in
images made by stride-2 transposed convolutions with 3x3 kernels.
"""

from __future__ import annotations

import math

import numpy as np

from ._plans import axis_plan, split_padding
from ._validate import (
    MAX_STEPS, as_array, check_allocation, check_bias, check_choice, check_finite_result,
    check_int, check_pair, check_work,
)

__all__ = [
    "conv_matrix",
    "conv_transpose2d",
    "conv_transpose_output_size",
    "insert_zeros",
    "overlap_counts",
]

TRANSPOSE_PADDINGS = ("valid", "same")


def conv_matrix(kernel, input_shape, *, stride=1, padding="valid"):
    """The matrix ``C`` of a 2D convolution: ``conv2d(x, kernel).ravel() == C @ x.ravel()``.

    Row ``r`` of ``C`` is output cell ``r`` (in row-major order); it holds the
    kernel's weights in the columns of the input cells under the window and
    zeros everywhere else. Cells of zero padding have no column: they add
    nothing.

    Parameters
    ----------
    kernel : (KH, KW) array_like
        One kernel (cross-correlation, like :func:`cnnlab.kernels.conv2d`).
    input_shape : (int, int)
        ``(H, W)`` of the input image.
    stride : int or (int, int)
    padding : as in :func:`cnnlab.kernels.conv2d`
        ``"valid"``, ``"same"``, ``"full"``, an int, ``(ph, pw)`` or
        ``((top, bottom), (left, right))``.

    Returns
    -------
    C : (H_out * W_out, H * W) ndarray
        float64 (float32 for a float32 kernel).

    Examples
    --------
    >>> conv_matrix(np.ones((3, 3)), (4, 4)).shape
    (4, 16)
    """
    kernel = as_array(kernel, "kernel", ndims=2)
    if 0 in kernel.shape:
        raise ValueError(f"`kernel` must not be empty, got shape {kernel.shape}")
    h, w = check_pair(input_shape, "input_shape", minimum=1)
    stride = check_pair(stride, "stride", minimum=1)
    (top, bottom, h_out), (left, right, w_out) = (
        axis_plan(n, k, s, p, name="kernel", what=f"kernel ({axis})")
        for n, k, s, p, axis in zip((h, w), kernel.shape, stride, split_padding(padding),
                                    ("rows", "columns")))
    kh, kw = kernel.shape
    blame = "`input_shape`" + (" and `padding`" if top or bottom or left or right else "")
    check_allocation((h_out * w_out, h * w), blame, itemsize=kernel.itemsize, what="the matrix")
    check_work(h_out * w_out * h * w, blame, what="filling the matrix")
    check_work(h_out * w_out * kh * kw, f"{blame} and `kernel`", what="conv_matrix's loop",
               limit=10 * MAX_STEPS, unit="steps (one per output cell and kernel cell)",
               advice="The matrix is meant for small examples (a few cells a side).")
    c = np.zeros((h_out * w_out, h * w), dtype=kernel.dtype)  # (outputs, inputs)
    for i in range(h_out):
        for j in range(w_out):
            for a in range(kh):
                for b in range(kw):
                    # input cell under kernel cell (a, b) when the window is at (i, j)
                    row, col = i * stride[0] + a - top, j * stride[1] + b - left
                    if 0 <= row < h and 0 <= col < w:
                        c[i * w_out + j, row * w + col] = kernel[a, b]
    return c


def conv_transpose_output_size(n, kernel_size, stride=1, padding="valid") -> int:
    """Output size of a transposed convolution along one axis (Keras's rule).

    Parameters
    ----------
    n : int
        Input size (at least 1).
    kernel_size, stride : int
        At least 1.
    padding : {"valid", "same"}

    Returns
    -------
    int
        ``n * stride + max(kernel_size - stride, 0)`` for ``"valid"``,
        ``n * stride`` for ``"same"``.

    Examples
    --------
    >>> conv_transpose_output_size(2, 3)
    4
    >>> conv_transpose_output_size(14, 3, stride=2, padding="same")
    28
    """
    return _transpose_plan(n, kernel_size, stride, padding)[1]


def _transpose_plan(n, k, stride, padding, name="kernel_size"):
    """Return ``(crop_before, out)``: where the output starts in the painted canvas, its size."""
    n = check_int(n, "n", minimum=1)
    k = check_int(k, name, minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    check_choice(padding, "padding", TRANSPOSE_PADDINGS)
    if padding == "valid":
        return 0, n * stride + max(k - stride, 0)
    # "same": the adjoint of TensorFlow's "same" convolution of an input of n * stride cells
    total = max(k - stride, 0)
    return total // 2, n * stride


def conv_transpose2d(x, kernel, bias=None, *, stride=1, padding="valid"):
    """2D transposed convolution, as Keras's ``Conv2DTranspose`` computes it.

    Every input cell adds ``x[i, j] * kernel`` to the output window whose
    top-left corner is ``(i * stride, j * stride)``; overlapping windows add
    up. With ``"same"`` padding the result is cropped to ``n * stride``.

    Parameters
    ----------
    x : (H, W) or (N, H, W, C_in) array_like
    kernel : (KH, KW) or (KH, KW, C_in, C_out) array_like
        The same layout as :func:`cnnlab.kernels.conv2d`: ``C_in`` is the
        channel count of ``x``. Keras stores a ``Conv2DTranspose`` kernel the
        other way round, ``(KH, KW, C_out, C_in)``: use
        ``kernel.transpose(0, 1, 3, 2)`` when copying weights either way.
    bias : float or (C_out,) array_like, optional
    stride : int or (int, int)
    padding : {"valid", "same"}

    Returns
    -------
    (H_out, W_out) or (N, H_out, W_out, C_out) ndarray
        ``H_out = H * stride + max(KH - stride, 0)`` ("valid") or
        ``H * stride`` ("same"); likewise for ``W_out``.

    Notes
    -----
    It is the adjoint (the transpose) of :func:`cnnlab.kernels.conv2d`: for
    any ``x`` and ``y`` of the right shapes,
    ``sum(conv2d(x, k) * y) == sum(x * conv_transpose2d(y, k.transpose(0, 1, 3, 2)))``.

    Examples
    --------
    >>> conv_transpose2d(np.ones((2, 2)), np.ones((3, 3)))
    array([[1., 2., 2., 1.],
           [2., 4., 4., 2.],
           [2., 4., 4., 2.],
           [1., 2., 2., 1.]])
    """
    x, kernel, single = _prepare(x, kernel)
    n, h, w, c_in = x.shape
    kh, kw, _, c_out = kernel.shape
    stride = check_pair(stride, "stride", minimum=1)
    check_choice(padding, "padding", TRANSPOSE_PADDINGS)
    (top, h_out), (left, w_out) = (
        _transpose_plan(size, k, s, padding, name="kernel")
        for size, k, s in zip((h, w), (kh, kw), stride))
    b = check_bias(bias, c_out, single, x.dtype)
    sh, sw = stride
    # the canvas holds every painted window in full, plus room for the output
    canvas_shape = (n, max((h - 1) * sh + kh, top + h_out), max((w - 1) * sw + kw, left + w_out),
                    c_out)
    _check_cost(x.shape, kernel.shape, canvas_shape, (n, h_out, w_out, c_out), x.itemsize,
                size_names="`x` and `stride`" if stride != (1, 1) else "`x` and `kernel`",
                kernel_name="`kernel`")
    canvas = np.zeros(canvas_shape, dtype=x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        for a in range(kh):
            for c in range(kw):
                # kernel cell (a, c) of every window: one matrix product for all input cells
                painted = x @ kernel[a, c]  # (N, H, W, C_out)
                canvas[:, a:a + (h - 1) * sh + 1:sh, c:c + (w - 1) * sw + 1:sw, :] += painted
        out = canvas[:, top:top + h_out, left:left + w_out, :] + b  # (N, H_out, W_out, C_out)
    names = "`x`, `kernel` and `bias`" if bias is not None and np.any(b) else "`x` and `kernel`"
    check_finite_result(out, names, what="the transposed convolution")
    return out[0, :, :, 0] if single else out


def _check_cost(x_shape, kernel_shape, canvas_shape, out_shape, itemsize, *, size_names,
                kernel_name):
    """Refuse, before allocating, a transposed convolution too large for memory or too slow."""
    n, h, w, c_in = x_shape
    kh, kw, _, c_out = kernel_shape
    check_allocation(canvas_shape, size_names, itemsize=itemsize, what="the output canvas")
    check_work(math.prod(out_shape), size_names, what="the output")
    check_work(kh * kw, kernel_name, what="the loop over the kernel's cells", limit=MAX_STEPS,
               unit="steps", advice=f"Use a smaller {kernel_name}.")
    check_work(kh * kw * n * h * w * c_in * c_out, f"{kernel_name} and `x`",
               what="painting every kernel cell", advice="Use a smaller input or kernel.")


def insert_zeros(x, stride):
    """Spread an image out: ``stride - 1`` zeros between neighbouring cells.

    With "full" padding and the flipped kernel, an ordinary convolution of the
    result gives the transposed convolution with that stride (lesson 12).

    Parameters
    ----------
    x : (H, W) or (N, H, W, C) array_like
    stride : int or (int, int)

    Returns
    -------
    ((H - 1) * sh + 1, (W - 1) * sw + 1) or (N, ..., C) ndarray
        ``x`` in every ``stride``-th cell, zeros elsewhere.

    Examples
    --------
    >>> insert_zeros([[1, 2], [3, 4]], 2)
    array([[1., 0., 2.],
           [0., 0., 0.],
           [3., 0., 4.]])
    """
    x = as_array(x, "x", ndims=(2, 4))
    sh, sw = check_pair(stride, "stride", minimum=1)
    batch = x if x.ndim == 4 else x[None, :, :, None]  # (N, H, W, C)
    n, h, w, c = batch.shape
    if h == 0 or w == 0:
        raise ValueError(f"`x` must not be empty, got shape {x.shape}")
    shape = (n, (h - 1) * sh + 1, (w - 1) * sw + 1, c)
    check_allocation(shape if x.ndim == 4 else shape[1:3], "`stride`", itemsize=x.itemsize,
                     what="the spread-out image")
    out = np.zeros((n, (h - 1) * sh + 1, (w - 1) * sw + 1, c), dtype=x.dtype)
    out[:, ::sh, ::sw, :] = batch
    return out if x.ndim == 4 else out[0, :, :, 0]


def overlap_counts(input_shape, kernel_size, stride=2, padding="same"):
    """How many painted kernel windows cover each output cell of a transposed convolution.

    This is ``conv_transpose2d(ones(input_shape), ones(kernel_size))``. Away
    from the border it is constant when ``kernel_size`` is a multiple of
    ``stride``, and alternates (a checkerboard) when it is not.

    Parameters
    ----------
    input_shape : int or (int, int)
    kernel_size : int or (int, int)
    stride : int or (int, int)
    padding : {"valid", "same"}

    Returns
    -------
    counts : (H_out, W_out) ndarray of int

    Examples
    --------
    >>> overlap_counts(4, 3, stride=2)[2:6, 2:6]
    array([[4, 2, 4, 2],
           [2, 1, 2, 1],
           [4, 2, 4, 2],
           [2, 1, 2, 1]])
    """
    h, w = check_pair(input_shape, "input_shape", minimum=1)
    kh, kw = check_pair(kernel_size, "kernel_size", minimum=1)
    sh, sw = check_pair(stride, "stride", minimum=1)
    check_choice(padding, "padding", TRANSPOSE_PADDINGS)
    # every size checked here, before the arrays of ones exist, naming this function's arguments
    (top, h_out), (left, w_out) = (
        _transpose_plan(size, k, s, padding)
        for size, k, s in zip((h, w), (kh, kw), (sh, sw)))
    check_allocation((h, w), "`input_shape`", what="the input of ones")
    check_allocation((kh, kw), "`kernel_size`", what="the kernel of ones")
    canvas = (1, max((h - 1) * sh + kh, top + h_out), max((w - 1) * sw + kw, left + w_out), 1)
    _check_cost((1, h, w, 1), (kh, kw, 1, 1), canvas, (1, h_out, w_out, 1), 8,
                size_names="`input_shape` and `stride`", kernel_name="`kernel_size`")
    counts = conv_transpose2d(np.ones((h, w)), np.ones((kh, kw)), stride=stride, padding=padding)
    return np.rint(counts).astype(np.int64)


def _prepare(x, kernel):
    """Check ``x`` and ``kernel``; return them in batch form and whether the input was single."""
    x = as_array(x, "x", ndims=(2, 4))
    kernel = as_array(kernel, "kernel", ndims=(2, 4))
    single = x.ndim == 2
    if kernel.ndim != x.ndim:
        want = ("(KH, KW) for a single image x of shape (H, W)" if single else
                "(KH, KW, C_in, C_out) for a batch x of shape (N, H, W, C_in)")
        raise ValueError(f"`kernel` must have shape {want}; got x {x.shape} and kernel {kernel.shape}")
    if 0 in (x.shape if single else x.shape[1:]):
        raise ValueError(f"`x` must not be empty, got shape {x.shape}")
    if 0 in kernel.shape:
        raise ValueError(f"`kernel` must not be empty, got shape {kernel.shape}")
    if single:
        x, kernel = x[None, :, :, None], kernel[:, :, None, None]  # (1, H, W, 1), (KH, KW, 1, 1)
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(
            f"`kernel` expects C_in={kernel.shape[2]} input channels (shape {kernel.shape}) "
            f"but `x` has {x.shape[3]} channels (shape {x.shape}); a Keras Conv2DTranspose "
            "kernel is (KH, KW, C_out, C_in): use kernel.transpose(0, 1, 3, 2)")
    if x.dtype != kernel.dtype and float(np.max(np.abs(kernel))) > float(np.finfo(x.dtype).max):
        raise ValueError(f"`kernel` holds weights too large for the {x.dtype} of `x`; pass `x` "
                         "as float64 (x.astype(np.float64)) or scale the kernel down")
    return x, kernel.astype(x.dtype, copy=False), single
