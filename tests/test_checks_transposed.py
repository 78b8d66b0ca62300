"""Lesson 12's checkers (a strided convolution's matrix, its transpose, batched Gram matrices).

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks, kernels, transposed
from cnnlab.checks import CheckFailed, NotAFunction
from cnnlab.checks.transposed import transposed_reference


def expect_hint(check, fn, *parts):
    """Run a checker that must fail; every part must appear in its message."""
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------
# The matrix C of a strided convolution
# --------------------------------------------------------------------------

def conv_matrix(kernel, input_shape, stride, *, flat=None, step=None, flip=False):
    """Loops, as a learner writes them; the options build one mistake in."""
    kernel = np.asarray(kernel, dtype=float)
    kernel = kernel[::-1, ::-1] if flip else kernel
    (h, w), (kh, kw) = input_shape, kernel.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    step = stride if step is None else step
    flat = flat or (lambda r, c: r * w + c)
    C = np.zeros((ho * wo, h * w))
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    C[i * wo + j, flat(i * step + a, j * step + b)] = kernel[a, b]
    return C


def conv_matrix_column_major(kernel, input_shape, stride):
    return conv_matrix(kernel, input_shape, stride, flat=lambda r, c: c * input_shape[0] + r)


def conv_matrix_no_stride_in_windows(kernel, input_shape, stride):
    return conv_matrix(kernel, input_shape, stride, step=1)


def conv_matrix_stride_ignored(kernel, input_shape, stride):
    return conv_matrix(kernel, input_shape, 1)


def conv_matrix_transposed(kernel, input_shape, stride):
    return conv_matrix(kernel, input_shape, stride).T


def conv_matrix_flipped(kernel, input_shape, stride):
    return conv_matrix(kernel, input_shape, stride, flip=True)


def conv_matrix_by_unit_inputs(kernel, input_shape, stride):
    """Column by column: the convolution of each one-hot input."""
    h, w = input_shape
    columns = []
    for cell in range(h * w):
        one = np.zeros(h * w)
        one[cell] = 1
        columns.append(kernels.conv2d(one.reshape(h, w), kernel, stride=stride).ravel())
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("fn", [conv_matrix, conv_matrix_by_unit_inputs,
                                lambda k, shape, s: transposed.conv_matrix(k, shape, stride=s)])
def test_check_conv_matrix_passes_right_answers(fn, capsys):
    result = checks.check_conv_matrix(fn)
    assert result.cases >= 6
    assert capsys.readouterr().out.strip().startswith("Well done: ")


@pytest.mark.parametrize("fn, parts", [
    (conv_matrix_column_major, ["column by column", "row-major", "r * 5 + c"]),
    (conv_matrix_no_stride_in_windows, ["move one cell at a time", "(i * 2, j * 2)"]),
    (conv_matrix_stride_ignored, ["rows of stride 1", "jumps 2 cells"]),
    (conv_matrix_transposed, ["Your matrix is C.T", "one ROW per output cell"]),
    (conv_matrix_flipped, ["kernel is flipped"]),
])
def test_check_conv_matrix_names_the_mistake(fn, parts):
    expect_hint(checks.check_conv_matrix, fn, *parts)


def test_check_conv_matrix_explains_an_index_past_the_end():
    def rows_by_input_width(kernel, input_shape, stride):
        (h, w), (kh, kw) = input_shape, np.shape(kernel)
        ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
        C = np.zeros((ho * wo, h * w))
        for i in range(ho):
            for j in range(wo):
                for a in range(kh):
                    for b in range(kw):
                        C[i * w + j, (i * stride + a) * w + (j * stride + b)] = kernel[a, b]
        return C

    expect_hint(checks.check_conv_matrix, rows_by_input_width, "past the end of C",
                "row i * 2 + j (W_out = 2, not W = 5)")


def test_check_conv_matrix_points_at_the_first_wrong_row():
    def off_by_one(kernel, input_shape, stride):
        C = conv_matrix(kernel, input_shape, stride)
        C[3, 0] += 1
        return C

    expect_hint(checks.check_conv_matrix, off_by_one, "Row 3 is output cell (1, 1)",
                "(2 + a) * 5 + (2 + b)")


# --------------------------------------------------------------------------
# The transposed convolution from C
# --------------------------------------------------------------------------

def transposed_conv(y, kernel, input_shape, stride):
    C = transposed.conv_matrix(kernel, input_shape, stride=stride)   # (H_out * W_out, H * W)
    y = np.asarray(y, dtype=float)
    if y.size != C.shape[0]:
        raise ValueError(f"y has {y.size} values, C has {C.shape[0]} rows")
    return (C.T @ y.ravel()).reshape(input_shape)


def transposed_conv_painted(y, kernel, input_shape, stride):
    """Paint a copy of the kernel per cell of y, then pad to the input's shape."""
    out = np.zeros(input_shape)
    kh, kw = np.shape(kernel)
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            out[i * stride:i * stride + kh, j * stride:j * stride + kw] += y[i, j] * kernel
    return out


def transposed_c_not_ct(y, kernel, input_shape, stride):
    C = transposed.conv_matrix(kernel, input_shape, stride=stride)
    return (C @ y.ravel()).reshape(input_shape)


def transposed_stride_ignored(y, kernel, input_shape, stride):
    C = transposed.conv_matrix(kernel, input_shape)
    return (C.T @ y.ravel()).reshape(input_shape)


def transposed_column_major(y, kernel, input_shape, stride):
    C = transposed.conv_matrix(kernel, input_shape, stride=stride)
    return (C.T @ y.ravel(order="F")).reshape(input_shape)


def transposed_filled_by_columns(y, kernel, input_shape, stride):
    C = transposed.conv_matrix(kernel, input_shape, stride=stride)
    return (C.T @ y.ravel()).reshape(input_shape, order="F")


def transposed_flipped(y, kernel, input_shape, stride):
    return transposed_conv(y, np.asarray(kernel)[::-1, ::-1], input_shape, stride)


def transposed_keras_size(y, kernel, input_shape, stride):
    return kernels.conv_transpose2d(y, kernel, stride=stride)


def transposed_flat(y, kernel, input_shape, stride):
    return transposed_conv(y, kernel, input_shape, stride).ravel()


@pytest.mark.parametrize("fn", [transposed_conv, transposed_conv_painted])
def test_check_transposed_conv_passes_right_answers(fn):
    assert checks.check_transposed_conv(fn).cases >= 6


@pytest.mark.parametrize("fn, parts", [
    (transposed_c_not_ct, ["did not fit", "C.T @ y.ravel()", "C @ y goes the other way"]),
    (transposed_stride_ignored, ["did not fit", "with the stride (2)"]),
    (transposed_column_major, ["flattened y column by column"]),
    (transposed_filled_by_columns, ["filled column by column"]),
    (transposed_flipped, ["kernel is flipped"]),
    (transposed_keras_size, ["exactly the input's shape", "no window reached"]),
    (transposed_flat, ["wrong arrangement", "input_shape"]),
])
def test_check_transposed_conv_names_the_mistake(fn, parts):
    expect_hint(checks.check_transposed_conv, fn, *parts)


@pytest.mark.parametrize("case", range(len(checks.transposed.matrix_cases())))
def test_the_reference_is_conv_transpose2d_padded_to_the_input(case):
    kernel, input_shape, stride = checks.transposed.matrix_cases()[case]
    ho, wo = checks.transposed.out_shape(kernel, input_shape, stride)
    y = np.random.default_rng(case).normal(size=(ho, wo))
    painted = kernels.conv_transpose2d(y, kernel, stride=stride)
    want = transposed_reference(y, kernel, input_shape, stride)
    h, w = min(want.shape[0], painted.shape[0]), min(want.shape[1], painted.shape[1])
    np.testing.assert_allclose(want[:h, :w], painted[:h, :w], atol=1e-12)
    for extra in (want[h:], want[:, w:], painted[h:], painted[:, w:]):   # cells no window reaches
        assert not np.any(extra)


def test_the_reference_matches_keras_conv2d_transpose():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(12)
    kernel = rng.normal(size=(3, 3)).astype("float32")
    y = rng.normal(size=(3, 3)).astype("float32")                  # output of a 7x7 input
    layer = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="valid", use_bias=False)
    layer.build((1, 3, 3, 1))
    layer.set_weights([kernel[:, :, None, None]])
    got = np.asarray(layer(y[None, :, :, None]))[0, :, :, 0]       # (7, 7)
    np.testing.assert_allclose(transposed_reference(y, kernel, (7, 7), 2), got, atol=1e-5)


# --------------------------------------------------------------------------
# Gram matrices of a batch
# --------------------------------------------------------------------------

def gram_batch(features):
    f = np.asarray(features, dtype=float)
    n, h, w, c = f.shape
    flat = f.reshape(n, h * w, c)                       # (N, H*W, C)
    return flat.transpose(0, 2, 1) @ flat / (h * w)     # (N, C, C)


def gram_loops(features):
    n, h, w, c = features.shape
    out = np.zeros((n, c, c))
    for e in range(n):
        for a in range(c):
            for b in range(c):
                out[e, a, b] = np.mean(features[e, :, :, a] * features[e, :, :, b])
    return out


def gram_not_divided(features):
    return gram_batch(features) * features.shape[1] * features.shape[2]


def gram_by_all_cells(features):
    return gram_batch(features) / features.shape[3]


def gram_by_batch_positions(features):
    return gram_batch(features) / len(features)


def gram_positions(features):
    n, h, w, c = features.shape
    flat = features.reshape(n, h * w, c)
    return flat @ flat.transpose(0, 2, 1) / (h * w)      # (N, H*W, H*W)


def gram_one_matrix(features):
    flat = features.reshape(-1, features.shape[-1])     # (N*H*W, C): the batch mixed
    return flat.T @ flat / len(flat)


def gram_bad_reshape(features):
    n, h, w, c = features.shape
    flat = features.reshape(n, c, h * w)                 # channels not moved to the front
    return flat @ flat.transpose(0, 2, 1) / (h * w)


@pytest.mark.parametrize("fn", [gram_batch, gram_loops])
def test_check_gram_batch_passes_right_answers(fn):
    assert checks.check_gram_batch(fn).cases >= 5


@pytest.mark.parametrize("fn, parts", [
    (gram_not_divided, ["you did not divide at all", "divide by H*W"]),
    (gram_by_all_cells, ["you divided by H*W*C"]),
    (gram_by_batch_positions, ["you divided by N*H*W"]),
    (gram_positions, ["position by position", "wrong way round", "F.T @ F"]),
    (gram_one_matrix, ["mixed the batch into one matrix", "(N, C, C)"]),
    (gram_bad_reshape, ["reshape(N, C, H*W)", "(N, H*W, C)"]),
])
def test_check_gram_batch_names_the_mistake(fn, parts):
    expect_hint(checks.check_gram_batch, fn, *parts)


# --------------------------------------------------------------------------
# The checkers' own arguments
# --------------------------------------------------------------------------

@pytest.mark.parametrize("check", [checks.check_conv_matrix, checks.check_transposed_conv,
                                   checks.check_gram_batch])
def test_checkers_refuse_bad_arguments(check):
    with pytest.raises(NotAFunction, match="Expected a function for `fn`"):
        check("gram_batch")
    with pytest.raises(TypeError, match="time_limit"):
        check(lambda *args: None, time_limit=[1])
    with pytest.raises(ValueError, match="time_limit"):
        check(lambda *args: None, time_limit=1e9)


def test_checkers_refuse_a_function_with_too_few_arguments():
    with pytest.raises(CheckFailed, match=r"\(kernel, input_shape, stride\)"):
        checks.check_conv_matrix(lambda kernel, input_shape: None)
    with pytest.raises(CheckFailed, match=r"\(y, kernel, input_shape, stride\)"):
        checks.check_transposed_conv(lambda y, kernel: None)


def test_checkers_refuse_none_and_text():
    expect_hint(checks.check_gram_batch, lambda f: None, "returned None")
    expect_hint(checks.check_conv_matrix, lambda k, s, st: "C", "text instead")
