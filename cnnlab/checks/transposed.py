"""Exercise checkers of lesson 12: a strided convolution's matrix, its transpose, Gram matrices.

- :func:`check_conv_matrix`: ``fn(kernel, input_shape, stride)``, the matrix
  ``C`` of a strided 2D convolution, against :func:`cnnlab.transposed.conv_matrix`;
- :func:`check_transposed_conv`: ``fn(y, kernel, input_shape, stride)``, the
  transposed convolution ``C.T @ y`` reshaped to the input's shape, against
  the same matrix (and so against :func:`cnnlab.transposed.conv_transpose2d`);
- :func:`check_gram_batch`: ``fn(features)``, one Gram matrix per example of
  a batch ``(N, H, W, C) -> (N, C, C)``, against
  :func:`cnnlab.models.style.gram_matrix`.

At the first wrong case each raises :class:`~cnnlab.checks.CheckFailed` with
a hint found by recomputing the answer with one typical mistake built in
(column-major order, the stride ignored, ``C`` instead of ``C.T``, the wrong
normalisation, the product taken the wrong way round, the batch mixed
into one matrix, ...).
"""

from __future__ import annotations

import numpy as np

from .. import transposed
from . import _hints
from ._calls import DEFAULT_TIME_LIMIT, Call, Params, check_time_limit, compare
from ._cases import random_array
from ._results import CheckFailed, passed, short_traceback
from .classifier import explain_error

__all__ = ["check_conv_matrix", "check_gram_batch", "check_transposed_conv"]

MATMUL_WORDS = ("matmul", "aligned", "mismatch", "shapes")


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------

def matrix_cases():
    """``(kernel, input_shape, stride)``: a 5x5 input with stride 2 first, then odd cases."""
    setups = [((3, 3), (5, 5), 2), ((2, 2), (4, 4), 2), ((3, 2), (5, 7), 2), ((3, 3), (4, 4), 1),
              ((3, 3), (7, 7), 3), ((3, 3), (6, 6), 2), ((1, 2), (3, 5), 2), ((2, 3), (6, 8), 3)]
    cases = []
    for seed, (k_shape, input_shape, stride) in enumerate(setups):
        if seed == 0:
            kernel = np.arange(1.0, 10.0).reshape(3, 3)   # the lesson's kernel
        else:
            kernel = nonzero_kernel(k_shape, seed=800 + seed)
        cases.append((kernel, input_shape, stride))
    return cases


def nonzero_kernel(shape, seed):
    """Integers from -3 to 3 without 0, no two cells equal when it can be helped (flips show)."""
    rng = np.random.default_rng(seed)
    values = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0, -4.0])
    size = int(np.prod(shape))
    return rng.permutation(values)[:size].reshape(shape) if size <= len(values) else \
        rng.choice(values, size=shape)


def out_shape(kernel, input_shape, stride):
    """``(H_out, W_out)`` of the valid, strided convolution."""
    return tuple((n - k) // stride + 1 for n, k in zip(input_shape, kernel.shape))


# --------------------------------------------------------------------------
# The matrix C of a strided convolution
# --------------------------------------------------------------------------

def matrix_fits(kernel, input_shape, stride) -> str:
    """'floor((5 - 3) / 2) + 1 = 2 rows and ... columns of windows'."""
    (h, w), (kh, kw) = input_shape, kernel.shape
    ho, wo = out_shape(kernel, input_shape, stride)
    return (f"floor(({h} - {kh}) / {stride}) + 1 = {ho} window rows and floor(({w} - {kw}) / "
            f"{stride}) + 1 = {wo} window columns")


def column_major(c, input_shape, outputs):
    """``c`` with its input (columns) or output (rows) cells numbered column by column."""
    h, w = input_shape
    ho, wo = outputs
    cols = c.reshape(-1, h, w).transpose(0, 2, 1).reshape(len(c), h * w)
    rows = c.reshape(ho, wo, -1).transpose(1, 0, 2).reshape(len(c), -1)
    return cols, rows


def matrix_hint(kernel, input_shape, stride, want, got):
    """The likely mistake of a conv-matrix function that returned ``got``."""
    h, w = input_shape
    ho, wo = out_shape(kernel, input_shape, stride)
    fits = matrix_fits(kernel, input_shape, stride)
    if got.shape != want.shape:
        if got.shape == want.shape[::-1]:
            return (f"Your matrix is C.T: C has one ROW per output cell ({ho} x {wo} = {ho * wo}) "
                    f"and one COLUMN per input cell ({h} x {w} = {h * w}), so C @ x.ravel() "
                    "is the output.")
        stride_1 = transposed.conv_matrix(kernel, input_shape)
        if stride > 1 and got.shape == stride_1.shape:
            return (f"Your matrix has the rows of stride 1: the window jumps {stride} cells at a "
                    f"time, so there are {fits}, {ho * wo} rows in all.")
        return (f"C has one row per output cell and one column per input cell: {fits}, so C is "
                f"({ho * wo}, {h * w}).")
    cols, rows = column_major(want, input_shape, (ho, wo))
    stride_1 = transposed.conv_matrix(kernel, input_shape)
    h1, w1 = out_shape(kernel, input_shape, 1)
    unstrided = stride_1.reshape(h1, w1, -1)[:ho, :wo].reshape(ho * wo, -1)
    flipped = transposed.conv_matrix(kernel[::-1, ::-1], input_shape, stride=stride)
    mistakes = [
        (cols, f"Your columns number the input cells column by column: numpy's ravel is "
               f"row-major, so input cell (r, c) is column r * {w} + c (W = {w}), not c * {h} + r."),
        (rows, f"Your rows number the output cells column by column: output cell (i, j) is row "
               f"i * {wo} + j (W_out = {wo}), row-major like ravel."),
        (unstrided, f"Your windows move one cell at a time: with stride {stride}, window (i, j) "
                    f"starts at input cell (i * {stride}, j * {stride})."),
        (flipped, "Your kernel is flipped: the matrix of a convolution (cross-correlation) "
                  "uses the kernel as it is; kernel[a, b] multiplies the input cell "
                  "(i * stride + a, j * stride + b)."),
    ]
    if want.shape[0] == want.shape[1]:
        mistakes.append((want.T, "Your matrix is C.T: row r is output cell r."))
    for answer, text in mistakes:
        if _hints.close(got, answer):
            return text
    if not np.any(got):
        return "Your matrix holds only zeros: store the kernel's weights in it (C[r, col] = ...)."
    r = int(np.argwhere(~np.isclose(got, want, rtol=1e-5, atol=1e-6))[0][0])
    i, j = divmod(r, wo)
    return (f"Row {r} is output cell ({i}, {j}): its window starts at input cell "
            f"({i * stride}, {j * stride}), and kernel[a, b] goes in column "
            f"({i * stride} + a) * {w} + ({j * stride} + b); every other entry of the row is 0.")


def index_hint(failure, kernel, input_shape, stride):
    """A clearer hint when filling C went past its end."""
    ho, wo = out_shape(kernel, input_shape, stride)
    h, w = input_shape
    hint = (f"An index went past the end of C, which has shape ({ho * wo}, {h * w}): "
            f"{matrix_fits(kernel, input_shape, stride)}. Output cell (i, j) is row i * {wo} + j "
            f"(W_out = {wo}, not W = {w}); input cell (r, c) is column r * {w} + c, with "
            f"r = i * {stride} + a and c = j * {stride} + b.")
    return explain_error(failure, ("indexerror", "out of bounds"), hint)


@short_traceback
def check_conv_matrix(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(kernel, input_shape, stride)``: the matrix of a strided 2D convolution.

    Parameters
    ----------
    fn : callable
        ``fn(kernel, input_shape, stride)`` with ``kernel (KH, KW)``,
        ``input_shape`` ``(H, W)`` and an int ``stride``, returning ``C`` of
        shape ``(H_out * W_out, H * W)`` with
        ``C @ x.ravel() == kernels.conv2d(x, kernel, stride=stride).ravel()``
        (no padding).
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first wrong case, with a hint (column-major order, the stride
        ignored, ``C.T`` returned, a flipped kernel, ...).
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("kernel", "input_shape", "stride"))
    limit = check_time_limit(time_limit)
    cases = matrix_cases()
    for kernel, input_shape, stride in cases:
        want = transposed.conv_matrix(kernel, input_shape, stride=stride)
        call = Call(fn, params, (kernel, input_shape, stride), {}, limit)
        try:
            got = call.run(want.ndim)
        except CheckFailed as failure:
            raise index_hint(failure, kernel, input_shape, stride) from None
        compare(call, got, want, lambda g: matrix_hint(kernel, input_shape, stride, want, g))
    return passed(params.name, len(cases), ["strides 1, 2 and 3", "square and oblong inputs",
                                            "inputs the last window does not reach"])


# --------------------------------------------------------------------------
# The transposed convolution from C
# --------------------------------------------------------------------------

def transposed_reference(y, kernel, input_shape, stride):
    """``(C.T @ y.ravel()).reshape(input_shape)`` for the strided convolution's ``C``.

    Parameters
    ----------
    y : (H_out, W_out) ndarray
    kernel : (KH, KW) ndarray
    input_shape : (int, int)
    stride : int

    Returns
    -------
    (H, W) ndarray
        :func:`cnnlab.transposed.conv_transpose2d` of ``y``, with zeros in
        the last rows and columns that no window of the convolution reaches.
    """
    c = transposed.conv_matrix(kernel, input_shape, stride=stride)  # (H_out * W_out, H * W)
    return (c.T @ y.ravel()).reshape(input_shape)


def transposed_hint(y, kernel, input_shape, stride, want, got):
    """The likely mistake of a transposed convolution that returned ``got``."""
    h, w = input_shape
    if got.shape != want.shape:
        if got.size == want.size:
            return (f"The right number of values in the wrong arrangement: reshape C.T @ "
                    f"y.ravel() to input_shape = {tuple(input_shape)}.")
        painted = transposed.conv_transpose2d(y, kernel, stride=stride).shape
        if got.shape == transposed.conv_transpose2d(y, kernel).shape and stride > 1:
            return (f"Your output has the size of stride 1: the copies of the kernel sit "
                    f"{stride} cells apart, and C.T gives back the input's shape {want.shape}.")
        if got.shape == painted:
            return (f"C.T gives back exactly the input's shape {want.shape}: the last rows or "
                    "columns, which no window reached, are 0. Reshape C.T @ y.ravel() to "
                    "input_shape.")
        return f"The transposed convolution restores the input's shape: {want.shape}."
    c = transposed.conv_matrix(kernel, input_shape, stride=stride)
    flipped = transposed.conv_matrix(kernel[::-1, ::-1], input_shape, stride=stride)
    mistakes = [
        ((c.T @ y.T.ravel()).reshape(input_shape),
         "You flattened y column by column: ravel it row-major (y.ravel(), numpy's default), "
         "the order of C's rows."),
        ((c.T @ y.ravel()).reshape(w, h).T,
         "Your output is filled column by column: reshape C.T @ y.ravel() row-major, "
         ".reshape(input_shape), the order of C's columns."),
        ((flipped.T @ y.ravel()).reshape(input_shape),
         "Your kernel is flipped: C.T uses the kernel as it is (the flip belongs to the other "
         "view, an ordinary convolution of the zero-padded input)."),
    ]
    for answer, text in mistakes:
        if _hints.close(got, answer):
            return text
    if not np.any(got):
        return "Your output holds only zeros: return C.T @ y.ravel(), reshaped."
    return ("Each output cell is sum over r of C[r, cell] * y.ravel()[r]: compute C.T @ "
            "y.ravel() and reshape it to input_shape.")


def matmul_hint(failure, kernel, input_shape, stride):
    """A clearer hint when ``C @ y`` or a C of stride 1 made a matrix product fail."""
    ho, wo = out_shape(kernel, input_shape, stride)
    h, w = input_shape
    hint = (f"A matrix product did not fit. C has shape ({ho * wo}, {h * w}): one row per value "
            f"of y ({ho} x {wo}) and one column per input cell. Build C with the stride "
            f"({stride}), then go back with C.T @ y.ravel() — C @ y goes the other way.")
    return explain_error(failure, MATMUL_WORDS, hint)


@short_traceback
def check_transposed_conv(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(y, kernel, input_shape, stride)``: a transposed convolution from ``C.T``.

    Parameters
    ----------
    fn : callable
        ``fn(y, kernel, input_shape, stride)`` with ``y (H_out, W_out)``, the
        output shape of the valid convolution of an ``input_shape`` image with
        ``kernel (KH, KW)`` and an int ``stride``, returning
        ``(C.T @ y.ravel()).reshape(input_shape)``.
    time_limit : float or None
        As in :func:`check_conv_matrix`.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first wrong case, with a hint (``C`` instead of ``C.T``, the
        stride ignored, column-major order, a flipped kernel, ...).
    """
    params = Params(fn, ("y", "kernel", "input_shape", "stride"))
    limit = check_time_limit(time_limit)
    cases = matrix_cases()
    for seed, (kernel, input_shape, stride) in enumerate(cases):
        y = random_array(out_shape(kernel, input_shape, stride), seed=900 + seed)
        if seed == 0:
            y = np.array([[1.0, 2.0], [3.0, 4.0]])       # the lesson's 2x2 "small"
        want = transposed_reference(y, kernel, input_shape, stride)
        call = Call(fn, params, (y, kernel, input_shape, stride), {}, limit)
        try:
            got = call.run(want.ndim)
        except CheckFailed as failure:
            raise matmul_hint(failure, kernel, input_shape, stride) from None
        compare(call, got, want, lambda g: transposed_hint(y, kernel, input_shape, stride, want, g))
    return passed(params.name, len(cases), ["strides 1, 2 and 3", "square and oblong inputs",
                                            "inputs the last window does not reach"])


# --------------------------------------------------------------------------
# Gram matrices of a batch
# --------------------------------------------------------------------------

def gram_cases():
    """Feature batches ``(N, H, W, C)``: the lesson's two 2x2 maps first, then odd shapes."""
    lesson = np.zeros((1, 2, 2, 2))
    lesson[0, ..., 0] = [[1, 0], [0, 1]]
    lesson[0, ..., 1] = [[1, 1], [0, 0]]
    shapes_ = [(2, 3, 3, 3), (3, 2, 4, 5), (2, 1, 3, 1), (4, 2, 2, 3), (2, 4, 3, 2)]
    cases = [lesson]
    for seed, shape in enumerate(shapes_):
        cases.append(random_array(shape, seed=1000 + seed, fractional=(seed == len(shapes_) - 1)))
    return cases


def gram_reference(features):
    """:func:`cnnlab.models.style.gram_matrix` (imported on first use: it loads Keras)."""
    from ..models import style
    return style.gram_matrix(features)


def gram_hint(f, want, got):
    """The likely mistake of a batched Gram matrix that returned ``got``."""
    n, h, w, c = f.shape
    if got.shape != want.shape:
        if got.shape in ((n, h * w, h * w), (h * w, h * w)) and h * w != c:
            return (f"Your matrix is position by position ({h * w} x {h * w}): the product is "
                    f"the wrong way round. With F of shape (H*W, C) = ({h * w}, {c}) per example, "
                    "the Gram matrix is F.T @ F, channel by channel (C x C).")
        if got.shape == (c, c):
            return (f"You mixed the batch into one matrix: every example has its own Gram matrix, "
                    f"so the result is (N, C, C) = {want.shape}. Keep the batch axis: "
                    "F of shape (N, H*W, C), then F.transpose(0, 2, 1) @ F.")
        return f"One C x C Gram matrix per example: shape (N, C, C) = {want.shape}."
    ratio = scale(got, want)
    counts = [(1.0, None), (h * w, "you did not divide at all"),
              (1 / c, f"you divided by H*W*C = {h * w * c}"),
              (1 / n, f"you divided by N*H*W = {n * h * w} (the positions of the whole batch)"),
              (h * w / (h * w - 1) if h * w > 1 else None, f"you divided by H*W - 1 = {h * w - 1}"),
              (h * w / c if c != 1 else None, f"you divided by C = {c}")]
    for factor, text in counts:
        if text and factor is not None and ratio is not None and np.isclose(ratio, factor):
            return (f"Right up to a constant factor: {text}. The lesson's Gram matrix is the "
                    f"MEAN over the positions: divide by H*W = {h} x {w} = {h * w}.")
    flat = f.reshape(n, c, h * w)   # a reshape that does not move the channels
    mixed = flat @ flat.transpose(0, 2, 1) / (h * w)
    whole = np.broadcast_to(gram_reference(f.reshape(1, n * h, w, c))[0], want.shape)
    mistakes = [
        (mixed, "reshape(N, C, H*W) does not move the channels to the front: it cuts the "
                "numbers in the wrong places. Reshape to (N, H*W, C) (channels stay last), "
                "then take F.transpose(0, 2, 1) @ F."),
        (whole, "Every example got the same matrix, that of the whole batch: compute one Gram "
                "matrix per example, from its own positions only."),
    ]
    for answer, text in mistakes:
        if _hints.close(got, answer):
            return text
    return ("G[n, c, d] is the mean over the positions (i, j) of example n of "
            "F[n, i, j, c] * F[n, i, j, d].")


def scale(got, want):
    """``got / want`` when it is one constant, else None."""
    mask = np.abs(want) > 1e-9
    if not mask.any() or np.any(np.abs(got[~mask]) > 1e-9):
        return None
    ratios = got[mask] / want[mask]
    return float(ratios[0]) if np.allclose(ratios, ratios[0]) else None


@short_traceback
def check_gram_batch(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(features)``: the Gram matrix of every example of a batch.

    Parameters
    ----------
    fn : callable
        ``fn(features)`` with ``features (N, H, W, C)`` returning
        ``(N, C, C)``: ``G[n, c, d] = sum_{i, j} F[n, i, j, c] * F[n, i, j, d] / (H * W)``,
        as :func:`cnnlab.models.style.gram_matrix` computes it.
    time_limit : float or None
        As in :func:`check_conv_matrix`.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first wrong case, with a hint (the wrong normalisation, the
        product the wrong way round, the batch mixed into one matrix, ...).
    """
    params = Params(fn, ("features",))
    limit = check_time_limit(time_limit)
    cases = gram_cases()
    for f in cases:
        want = gram_reference(f)
        call = Call(fn, params, (f,), {}, limit)
        got = call.run(want.ndim)
        compare(call, got, want, lambda g: gram_hint(f, want, g))
    return passed(params.name, len(cases), ["batches of 1 to 4 examples", "1 to 5 channels",
                                            "oblong feature maps"])
