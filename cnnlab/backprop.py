"""Backward passes written out in numpy, and the tools to check them (lesson 08).

Training needs, for every layer, the gradient of the loss with respect to the
layer's input and weights, given the gradient with respect to its output
(``dout``). Each function here is the backward pass of one forward function
of :mod:`cnnlab.kernels`, with the same arguments plus ``dout``.

The convolution's backward pass is made of convolutions:

- ``dkernel`` is the cross-correlation of the (padded) input with ``dout``;
- ``dx`` is the *full* convolution of ``dout`` with the kernel, that is, the
  cross-correlation of ``dout`` padded by ``k - 1`` with the kernel flipped in
  both spatial axes (``C_in`` and ``C_out`` swapped). A stride ``s`` in the
  forward pass becomes ``s - 1`` zeros between the cells of ``dout``
  (:func:`cnnlab.kernels.insert_zeros`): the transposed convolution of
  lesson 12.

Both are computed with :func:`cnnlab.kernels.conv2d` itself.
:func:`numerical_gradient` and :func:`rel_error` check any hand-written
gradient by central differences, as in Stanford's cs231n assignments.
"""

from __future__ import annotations

import math
import numbers
from contextlib import contextmanager

import numpy as np

from . import kernels
from ._plans import pad_conv, pad_pool, pool_windows, prepare_conv2d, prepare_pool, window_sums
from ._validate import (
    MAX_STEPS, MAX_WORK, as_array, check_finite_result, check_work, describe,
)

__all__ = [
    "conv2d_backward", "max_pool2d_backward", "avg_pool2d_backward",
    "relu_backward", "dense_backward", "softmax_cross_entropy",
    "numerical_gradient", "rel_error",
]


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------

def conv2d_backward(dout, x, kernel, *, stride=1, padding="valid", dilation=1):
    """Gradients of :func:`cnnlab.kernels.conv2d` with respect to its inputs.

    Parameters
    ----------
    dout : (H_out, W_out) or (N, H_out, W_out, C_out) array_like
        Gradient of the loss with respect to the convolution's output.
    x : (H, W) or (N, H, W, C_in) array_like
        The input of the forward pass.
    kernel : (KH, KW) or (KH, KW, C_in, C_out) array_like
        The filters of the forward pass.
    stride, padding, dilation
        As given to :func:`cnnlab.kernels.conv2d`.

    Returns
    -------
    dx : same shape as ``x``
        The full convolution of ``dout`` (``stride - 1`` zeros between its
        cells) with ``kernel``, cropped to the input.
    dkernel : same shape as ``kernel``
        The cross-correlation of the padded input with ``dout``.
    dbias : float or (C_out,) ndarray
        ``dout`` summed over the batch and all positions.

    Examples
    --------
    >>> x, k = np.arange(16.0).reshape(4, 4), np.ones((3, 3))
    >>> dx, dk, db = conv2d_backward(np.ones((2, 2)), x, k)
    >>> dx[0], db
    (array([1., 2., 2., 1.]), 4.0)
    """
    conv = prepare_conv2d(x, kernel, None, stride, padding, dilation)
    dout = _check_dout(dout, conv)
    _check_backward_cost(conv)
    xp = pad_conv(conv)  # (N, H_padded, W_padded, C_in)
    if len(xp) == 0:  # an empty batch: nothing flows back
        return _empty_gradients(conv)
    with _named_overflow("`dout`, `x` and `kernel`"):
        dxp = _conv_input_gradient(dout, conv.kernel, conv.stride, conv.dilation, xp.shape)
        dkernel = _conv_kernel_gradient(dout, xp, conv.kernel.shape, conv.stride, conv.dilation)
    (top, _), (left, _) = conv.pads
    h, w = conv.x.shape[1:3]
    dx = dxp[:, top:top + h, left:left + w, :]  # (N, H, W, C_in)
    with np.errstate(over="ignore", invalid="ignore"):
        dbias = dout.sum(axis=(0, 1, 2))  # (C_out,)
    check_finite_result(dbias, "`dout`", what="the bias gradient (the sum of `dout`)")
    if conv.single:
        return dx[0, :, :, 0], dkernel[:, :, 0, 0], float(dbias[0])
    return dx, dkernel, dbias


def _check_backward_cost(conv):
    """Refuse, before starting, gradients too slow to compute (the forward checks cover memory).

    The input gradient is a "full" convolution of ``dout`` over the padded
    input's area with ``C_out`` channels in; the kernel gradient correlates
    the padded input with ``dout`` as the filter.
    """
    n, h, w, c_in = conv.x.shape
    kh, kw, _, c_out = conv.kernel.shape
    (top, bottom), (left, right) = conv.pads
    hp, wp = h + top + bottom, w + left + right
    (sh, sw), (dh, dw) = conv.stride, conv.dilation
    (ho, wo) = conv.out_size
    blame = "`x` and `kernel`" if not (top or bottom or left or right) else "`x` and `padding`"
    check_work(n * hp * wp * kh * kw * c_out, blame, what="the input gradient (a full convolution)",
               advice="Use fewer or smaller images in `x` (e.g. `x[:1000]`), or fewer filters.")
    kernel_rows = (hp - ((ho - 1) * sh + 1)) // dh + 1  # at least KH: the extra is cut off
    kernel_cols = (wp - ((wo - 1) * sw + 1)) // dw + 1
    check_work(c_in * kernel_rows * kernel_cols * ho * wo * n, blame,
               what="the kernel gradient (a correlation with `dout`)",
               advice="Use fewer or smaller images in `x` (e.g. `x[:1000]`).")


@contextmanager
def _named_overflow(names):
    """Report an overflow inside the convolutions of a backward pass under this call's arguments."""
    try:
        yield
    except ValueError as exc:
        if "overflowed" not in str(exc):
            raise
        raise ValueError(
            f"{names}: the gradients overflowed: they came out infinite or NaN, beyond the "
            "largest float64 number (about 1.8e+308); scale the inputs down (e.g. divide by 1e6)"
        ) from None


def _empty_gradients(conv):
    dx, dkernel = np.zeros_like(conv.x), np.zeros_like(conv.kernel)
    dbias = np.zeros(conv.kernel.shape[3], dtype=conv.x.dtype)
    return dx, dkernel, dbias


def _conv_input_gradient(dout, kernel, stride, dilation, padded_shape):
    """Gradient with respect to the padded input: a full convolution.

    Every output cell ``(i, j)`` was computed from the input window whose
    top-left corner is ``(i * s, j * s)``, so it sends ``dout * kernel`` back
    to that window. Summed over all windows, this is ``dout`` (with ``s - 1``
    zeros between its cells) correlated with the flipped kernel after "full"
    padding.
    """
    spread = kernels.insert_zeros(dout, stride) if stride != (1, 1) else dout  # (N, H_s, W_s, C_out)
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)  # (KH, KW, C_out, C_in)
    dxp = kernels.conv2d(spread, flipped, padding="full", dilation=dilation)  # (N, ., ., C_in)
    # rows/columns past the last window (when the stride does not fit) got nothing
    missing_h, missing_w = padded_shape[1] - dxp.shape[1], padded_shape[2] - dxp.shape[2]
    assert missing_h >= 0 and missing_w >= 0
    return np.pad(dxp, ((0, 0), (0, missing_h), (0, missing_w), (0, 0)))


def _conv_kernel_gradient(dout, xp, kernel_shape, stride, dilation):
    """Gradient with respect to the kernel: the input correlated with ``dout``.

    Kernel cell ``(a, b)`` met input cell ``(i * s + a * d, j * s + b * d)`` at
    output cell ``(i, j)``. Taking ``dout`` as the filter (dilated by the
    stride) and the batch as the channels to sum over, this is one convolution.
    """
    kh, kw = kernel_shape[:2]
    images = xp.transpose(3, 1, 2, 0)  # (C_in, H_padded, W_padded, N): one "image" per channel
    filters = dout.transpose(1, 2, 0, 3)  # (H_out, W_out, N, C_out): one filter per output channel
    dk = kernels.conv2d(images, filters, stride=dilation, dilation=stride)  # (C_in, >= KH, >= KW, C_out)
    return dk[:, :kh, :kw, :].transpose(1, 2, 0, 3)  # (KH, KW, C_in, C_out)


def _check_dout(dout, conv):
    """``dout`` as an array in batch form, checked against the forward output."""
    dout = as_array(dout, "dout", ndims=2 if conv.single else 4).astype(conv.x.dtype, copy=False)
    n, c_out = len(conv.x), conv.kernel.shape[3]
    want = conv.out_size if conv.single else (n, *conv.out_size, c_out)
    if dout.shape != tuple(want):
        raise ValueError(
            f"`dout` must have the shape of the forward output {tuple(want)}, got {dout.shape}"
        )
    return dout[None, :, :, None] if conv.single else dout


# --------------------------------------------------------------------------
# Pooling and activations
# --------------------------------------------------------------------------

def max_pool2d_backward(dout, x, pool_size=2, stride=None, padding="valid"):
    """Gradient of :func:`cnnlab.kernels.max_pool2d` with respect to ``x``.

    Each window passes its gradient to the cell that won the max (the first
    one, if several tie); every other cell gets nothing. Overlapping windows
    add up.

    Parameters
    ----------
    dout : (H_out, W_out) or (N, H_out, W_out, C) array_like
    x : (H, W) or (N, H, W, C) array_like
        The input of the forward pass.
    pool_size, stride, padding
        As given to :func:`cnnlab.kernels.max_pool2d`.

    Returns
    -------
    dx : same shape as ``x``
    """
    pool = prepare_pool(x, pool_size, stride, padding)
    dout = _check_pool_dout(dout, pool)
    _check_scatter_cost(pool, dout, copies=True)
    windows = pool_windows(pool, pad_pool(pool, pool.x, -np.inf))  # (N, Ho, Wo, C, PH, PW)
    ph, pw = pool.size
    winner = windows.reshape(*windows.shape[:4], ph * pw).argmax(axis=-1)  # (N, Ho, Wo, C)
    share = [dout * (winner == a * pw + b) for a in range(ph) for b in range(pw)]
    return _scatter_windows(share, pool)


def avg_pool2d_backward(dout, x, pool_size=2, stride=None, padding="valid"):
    """Gradient of :func:`cnnlab.kernels.avg_pool2d` with respect to ``x``.

    Each window shares its gradient equally among the input cells it
    averaged (padded cells are not counted, as in the forward pass).

    Parameters and result as in :func:`max_pool2d_backward`.
    """
    pool = prepare_pool(x, pool_size, stride, padding)
    dout = _check_pool_dout(dout, pool)
    _check_scatter_cost(pool, dout, copies=False)
    ones = np.ones((1, *pool.x.shape[1:3], 1), dtype=pool.x.dtype)  # (1, H, W, 1)
    counts = window_sums(pool, ones)  # (1, Ho, Wo, 1): real cells per window
    ph, pw = pool.size
    return _scatter_windows([dout / counts] * (ph * pw), pool)


def _check_scatter_cost(pool, dout, *, copies):
    """Refuse a pooling gradient whose loop over the window's cells would run for minutes.

    ``copies``: one array of ``dout``'s size is made per window cell (max pooling).
    """
    cells = math.prod(pool.size)
    check_work(cells, "`pool_size`", what="the loop over the window's cells", limit=MAX_STEPS,
               unit="steps", advice="Use a smaller `pool_size`.")
    check_work(cells * dout.size, "`pool_size` and `dout`",
               what="sending every window's gradient back", limit=MAX_WORK // (4 if copies else 1),
               advice="Use a smaller `pool_size` or fewer images.")


def _scatter_windows(shares, pool):
    """Add ``shares[a * PW + b]`` (N, Ho, Wo, C) to window cell (a, b) of every window."""
    (ph, pw), (sh, sw), (ho, wo) = pool.size, pool.stride, pool.out_size
    (top, bottom), (left, right) = pool.pads
    n, h, w, c = pool.x.shape
    dxp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=pool.x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        for a in range(ph):
            for b in range(pw):
                # cell (a, b) of window (i, j) is padded-input cell (i * sh + a, j * sw + b)
                dxp[:, a:a + (ho - 1) * sh + 1:sh, b:b + (wo - 1) * sw + 1:sw] += shares[a * pw + b]
    dx = dxp[:, top:top + h, left:left + w]  # (N, H, W, C)
    check_finite_result(dx, "`dout`", what="the sum of the gradients of overlapping windows")
    return dx[0, :, :, 0] if pool.single else dx


def _check_pool_dout(dout, pool):
    dout = as_array(dout, "dout", ndims=2 if pool.single else 4).astype(pool.x.dtype, copy=False)
    n, _, _, c = pool.x.shape
    want = pool.out_size if pool.single else (n, *pool.out_size, c)
    if dout.shape != tuple(want):
        raise ValueError(
            f"`dout` must have the shape of the pooled output {tuple(want)}, got {dout.shape}"
        )
    return dout[None, :, :, None] if pool.single else dout


def relu_backward(dout, x):
    """Gradient of :func:`cnnlab.kernels.relu`: ``dout`` where ``x > 0``, else 0.

    Parameters
    ----------
    dout, x : array_like, the same shape

    Returns
    -------
    ndarray, same shape
    """
    x = as_array(x, "x")
    dout = _same_shape(dout, "dout", x, "x")
    return np.where(x > 0, dout, 0).astype(x.dtype, copy=False)


def dense_backward(dout, x, weights):
    """Gradients of a fully connected layer ``x @ weights + bias``.

    Parameters
    ----------
    dout : (N, units) array_like
    x : (N, features) array_like
    weights : (features, units) array_like

    Returns
    -------
    dx : (N, features) ndarray
        ``dout @ weights.T``
    dweights : (features, units) ndarray
        ``x.T @ dout``
    dbias : (units,) ndarray
        ``dout`` summed over the batch.
    """
    x = as_array(x, "x", ndims=2)
    weights = as_array(weights, "weights", ndims=2)
    dout = as_array(dout, "dout", ndims=2)
    if weights.shape[0] != x.shape[1]:
        raise ValueError(
            f"`weights` must have {x.shape[1]} rows, one per feature of `x` {x.shape}, "
            f"got shape {weights.shape}"
        )
    if dout.shape != (len(x), weights.shape[1]):
        raise ValueError(
            f"`dout` must have shape {(len(x), weights.shape[1])} (N, units), got {dout.shape}"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        grads = dout @ weights.T, x.T @ dout, dout.sum(axis=0)
    for grad, names in zip(grads, ("`dout` and `weights`", "`x` and `dout`", "`dout`")):
        check_finite_result(grad, names, what="the gradient")
    return grads


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy loss of softmax probabilities, and its gradient.

    Parameters
    ----------
    logits : (N, K) array_like
        Raw class scores, one row per example.
    labels : (N,) array_like of int
        The true class of every example, ``0 <= label < K``.

    Returns
    -------
    loss : float
        ``mean(-log softmax(logits)[n, labels[n]])``, like
        ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``.
    dlogits : (N, K) ndarray
        ``(softmax(logits) - one_hot(labels)) / N``.
    """
    logits = as_array(logits, "logits", ndims=2)
    labels = _check_labels(labels, logits.shape)
    n = len(logits)
    with np.errstate(over="ignore"):  # scores more than ~1.8e308 below the top become -inf
        shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K), largest score is 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, K)
    with np.errstate(invalid="ignore"):
        loss = -log_probs[np.arange(n), labels].mean()
    check_finite_result(loss, "`logits`", what="the loss")  # a true class ~1e308 below the best
    dlogits = np.exp(log_probs)  # (N, K) softmax probabilities
    dlogits[np.arange(n), labels] -= 1
    return float(loss), dlogits / n


def _check_labels(labels, logits_shape):
    try:
        arr = np.asarray(labels)
    except (ValueError, TypeError):  # ragged nested lists
        raise ValueError(f"`labels` must be a flat list or array of class numbers, "
                         f"got {describe(labels)}") from None
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"`labels` must hold integer class numbers, got {describe(labels)}")
    n, k = logits_shape
    if k == 0:
        raise ValueError("`logits` must hold at least one class (one column), got shape "
                         f"{logits_shape}")
    if arr.shape != (n,):
        raise ValueError(f"`labels` must have shape ({n},), one per row of `logits`, got {arr.shape}")
    if n == 0:
        raise ValueError("`logits` must hold at least one example, got 0 rows")
    if arr.min() < 0 or arr.max() >= k:
        raise ValueError(
            f"`labels` must lie in 0..{k - 1} for {k} classes, got values {arr.min()}..{arr.max()}"
        )
    return arr


def _same_shape(value, name, ref, ref_name):
    arr = as_array(value, name)
    if arr.shape != ref.shape:
        raise ValueError(f"`{name}` must have the shape of `{ref_name}` {ref.shape}, got {arr.shape}")
    return arr


# --------------------------------------------------------------------------
# Gradient checking
# --------------------------------------------------------------------------

#: The most calls of ``f`` one :func:`numerical_gradient` makes (two per cell of ``x``).
MAX_GRADIENT_CALLS = 2 * 10**4


def numerical_gradient(f, x, h=1e-5, *, dout=None):
    """Gradient by central differences, one cell of ``x`` at a time.

    For every cell ``i`` of ``x``: ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``.
    ``x`` is changed in place while ``f`` is evaluated and restored afterwards,
    so ``f`` may read ``x`` from outside (a closure over the weights).

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a number (the loss) or, with ``dout``, an array of
        the shape of ``dout`` (a layer's output).
    x : ndarray of float64, any shape
        The point where the gradient is taken.
    h : float
        Step size. ``1e-5`` suits float64.
    dout : array_like, optional
        Gradient arriving from above. The result is then the gradient of
        ``sum(f(x) * dout)``, with the differences taken cell by cell before
        the sum (less rounding error than differencing the sum).

    Returns
    -------
    ndarray, the shape of ``x``

    Examples
    --------
    >>> numerical_gradient(lambda v: np.sum(v ** 2), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    if not callable(f):
        raise TypeError(f"`f` must be a function of `x` returning a number, got {describe(f)}")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            "`x` must be a float64 numpy array (it is changed in place, so f sees the change); "
            f"got {describe(x)}"
        )
    if not x.flags.writeable:
        raise TypeError("`x` must be a writable array (it is changed in place while `f` is "
                        "evaluated); pass a copy: x.copy()")
    check_work(2 * x.size, "x", what="central differences (two calls of `f` per cell of `x`)",
               limit=MAX_GRADIENT_CALLS, unit="calls of `f`",
               advice="Check the gradient on a small example (a few cells of a small layer), "
                      "or on a slice of `x`.")
    if not np.all(np.isfinite(x)):
        raise ValueError("`x` must hold finite numbers")
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not 0 < h < 1:
        raise ValueError(f"`h` must be a small positive number such as 1e-5, got {describe(h)}")
    with np.errstate(over="ignore"):
        unchanged = (x + h == x) | (x - h == x)  # h lost in rounding: the difference would be 0
    if np.any(unchanged):
        where = tuple(int(i) for i in np.argwhere(unchanged)[0])
        raise ValueError(
            f"`h` = {h:g} is too small to change `x`{list(where)} = {x[where]:g} in float64 "
            "(x + h == x), so the difference would be 0; use a larger `h` or rescale `x`")
    if dout is not None:
        dout = as_array(dout, "dout")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + h
            up = _evaluate(f, x, dout)
            x[i] = old - h
            down = _evaluate(f, x, dout)
        finally:
            x[i] = old  # restore, even when f fails
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
            change = up - down if dout is None else np.sum((up - down) * dout)  # differences first
            grad[i] = change / (2 * h)
    return check_finite_result(grad, "`f` and `h`", what="the difference quotient")


def _evaluate(f, x, dout):
    """``f(x)`` as a float, or as an array of the shape of ``dout``."""
    value = f(x)
    if dout is None:
        arr = np.asarray(value)
        if arr.size != 1 or not np.issubdtype(arr.dtype, np.number) \
                or np.issubdtype(arr.dtype, np.complexfloating):
            raise ValueError(f"`f` must return a single number, got {describe(value)}")
        result = float(arr.reshape(()))
        if not math.isfinite(result):
            raise ValueError(f"`f` must return a finite number, got {result} near `x`")
        return result
    try:
        arr = np.asarray(value, dtype=float)
    except (ValueError, TypeError):
        raise ValueError(f"`f` must return an array of numbers of the shape of `dout` "
                         f"{dout.shape}, got {describe(value)}") from None
    if arr.shape != dout.shape:
        raise ValueError(f"`f` must return an array of the shape of `dout` {dout.shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("`f` must return finite numbers, got infinite or NaN values near `x`")
    return arr


def rel_error(a, b):
    """Largest relative difference between two arrays (cs231n's measure).

    ``max(|a - b| / max(1e-8, |a| + |b|))``. A correct float64 gradient is
    usually below ``1e-7``; around ``1e-2`` something is wrong.

    Parameters
    ----------
    a, b : array_like, the same shape

    Returns
    -------
    float
    """
    a = as_array(a, "a")
    b = _same_shape(b, "b", a, "a")
    if a.size == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        error = float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
        if not math.isfinite(error):  # |a - b| overflowed: halving everything is exact
            a, b = a / 2, b / 2
            error = float(np.max(np.abs(a - b) / np.maximum(5e-9, np.abs(a) + np.abs(b))))
    return error
