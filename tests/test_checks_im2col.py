"""Lesson 04's checkers (convolution by im2col, parameters and multiply-adds of a layer).

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks, kernels, shapes
from cnnlab.checks import CheckFailed, NotAFunction
from cnnlab.checks import im2col


def expect_hint(check, fn, *parts):
    """Run the checker, which must fail; every part must appear in its message."""
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------
# Exercise 1: convolution by im2col
# --------------------------------------------------------------------------

def by_im2col(x, kernel, bias, stride=1, padding=0, mistake=None):
    """The exercise's answer, one slice per kernel cell; ``mistake`` builds one in."""
    x = np.pad(np.asarray(x, dtype=float), ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    n, h, w, c_in = x.shape
    kh, kw, _, c_out = kernel.shape
    step = 1 if mistake == "stride" else stride
    h_out, w_out = (h - kh) // step + 1, (w - kw) // step + 1
    cols = np.zeros((n, h_out, w_out, kh, kw, c_in))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = x[:, i:i + step * h_out:step, j:j + step * w_out:step, :]
    if mistake == "order":
        cols = cols.transpose(0, 1, 2, 5, 3, 4)          # (.., C_in, KH, KW): channel first
    cols = cols.reshape(n * h_out * w_out, kh * kw * c_in)
    weights = kernel.reshape(c_out, -1).T if mistake == "reshape" else kernel.reshape(-1, c_out)
    if mistake == "bias-weights":
        weights = weights + bias
    product = cols @ weights
    if mistake not in ("no-bias", "bias-weights"):
        product = product + (np.sum(bias) if mistake == "bias-sum" else bias)
    if mistake == "transpose":
        return product.T.reshape(n, h_out, w_out, c_out)
    if mistake == "nchw":
        return product.reshape(n, c_out, h_out, w_out).transpose(0, 2, 3, 1)
    return product.reshape(n, h_out, w_out, c_out)


def right_im2col(x, kernel, bias, stride=1, padding=0):
    return by_im2col(x, kernel, bias, stride, padding)


def by_loops(x, kernel, bias, stride=1, padding=0):
    """A right answer written with loops over the output cells."""
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    kh, kw, _, c_out = kernel.shape
    h_out = (xp.shape[1] - kh) // stride + 1
    w_out = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            patch = xp[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, kernel, axes=3) + bias
    return out


def test_a_right_answer_passes(capsys):
    result = checks.check_conv2d_im2col(right_im2col)
    assert result.cases == len(im2col.im2col_cases(True, True))
    assert "Well done: right_im2col passed all" in capsys.readouterr().out


def test_a_loop_answer_and_kernels_conv2d_pass():
    checks.check_conv2d_im2col(by_loops)
    checks.check_conv2d_im2col(
        lambda x, kernel, bias, stride=1, padding=0:
        kernels.conv2d(x, kernel, bias, stride=stride, padding=padding))


def test_without_stride_and_padding_only_their_neutral_cases_are_tried():
    result = checks.check_conv2d_im2col(lambda x, kernel, bias: right_im2col(x, kernel, bias))
    assert result.cases == len(im2col.im2col_cases(False, False))
    assert not any("stride" in c or "padding" in c for c in result.covered)


def test_the_first_case_is_the_lessons_worked_example():
    x, w, bias, stride, padding = im2col.im2col_cases(True, True)[0]
    assert x.shape == (1, 5, 5, 3) and w.shape == (3, 3, 3, 2) and (stride, padding) == (2, 1)
    assert kernels.conv2d(x, w, bias, stride=2, padding=1).shape == (1, 3, 3, 2)


def test_the_patch_matrix_matches_the_kernels_order():
    x = np.random.default_rng(0).normal(size=(2, 6, 5, 3))
    k = np.random.default_rng(1).normal(size=(3, 2, 3, 4))
    cols, (n, h_out, w_out) = im2col.im2col_reference(x, (3, 2), stride=2, padding=1)
    assert cols.shape == (2 * 3 * 3, 3 * 2 * 3)
    np.testing.assert_allclose((cols @ k.reshape(-1, 4)).reshape(n, h_out, w_out, 4),
                               kernels.conv2d(x, k, stride=2, padding=1), atol=1e-12)


@pytest.mark.parametrize("mistake, text", [
    ("order", "flattened in a different order than the kernel"),
    ("reshape", "The filters and the channels are mixed up"),
    ("transpose", "sit in the wrong cells"),
    ("nchw", "sit in the wrong cells"),
    ("no-bias", "off by exactly the bias"),
    ("bias-weights", "The bias is added to every weight"),
    ("bias-sum", "the sum of all the biases"),
    ("stride", "stride"),
])
def test_each_im2col_mistake_is_named(mistake, text):
    def wrong(x, kernel, bias, stride=1, padding=0):
        return by_im2col(x, kernel, bias, stride, padding, mistake)
    expect_hint(checks.check_conv2d_im2col, wrong, text)


def test_the_order_hint_names_the_order_found():
    def channel_first(x, kernel, bias, stride=1, padding=0):
        return by_im2col(x, kernel, bias, stride, padding, "order")
    expect_hint(checks.check_conv2d_im2col, channel_first, "(channel, kernel row, kernel column)")


def test_padding_on_one_side_is_named_through_the_shared_hints():
    def one_side(x, kernel, bias, stride=1, padding=0):
        x = np.pad(x, ((0, 0), (2 * padding, 0), (2 * padding, 0), (0, 0)))
        return by_im2col(x, kernel, bias, stride, 0)
    expect_hint(checks.check_conv2d_im2col, one_side, "All the zeros are on one side")


@pytest.mark.parametrize("answer, text", [
    (lambda x, kernel, bias, stride=1, padding=0: np.zeros((1, 3, 3, 2), dtype=complex), "complex"),
    (lambda x, kernel, bias, stride=1, padding=0: "out", "text instead of numbers"),
    (lambda x, kernel, bias, stride=1, padding=0: np.array([object()]), "not an array of numbers"),
    (lambda x, kernel, bias, stride=1, padding=0: None, "returned None"),
])
def test_results_that_are_not_real_numbers_are_refused(answer, text):
    expect_hint(checks.check_conv2d_im2col, answer, text)


def test_changing_the_input_is_refused():
    def in_place(x, kernel, bias, stride=1, padding=0):
        out = right_im2col(x, kernel, bias, stride, padding)
        x[...] = 0
        return out
    expect_hint(checks.check_conv2d_im2col, in_place, "changed its input")


# --------------------------------------------------------------------------
# Exercise 2: parameters and multiply-adds
# --------------------------------------------------------------------------

def cost(input_shape, filters, kernel_size, stride=1, padding="valid", mistake=None):
    """The exercise's answer; ``mistake`` builds one in."""
    h, w, c_in = input_shape
    kh, kw = kernel_size
    if mistake == "depth":
        c_in = 1
    if mistake == "input-size":
        h_out, w_out = h, w
    else:
        h_out = shapes.conv_output_size(h, kh, 1 if mistake == "stride" else stride, padding)
        w_out = shapes.conv_output_size(w, kw, 1 if mistake == "stride" else stride, padding)
    weights = kh * kw * c_in * filters
    params = weights if mistake == "no-bias" else weights + filters
    madds = (params if mistake == "bias-madds" else weights) * h_out * w_out
    return (madds, params) if mistake == "swap" else (params, madds)


def right_cost(input_shape, filters, kernel_size, stride=1, padding="valid"):
    return cost(input_shape, filters, kernel_size, stride, padding)


def test_a_right_cost_passes(capsys):
    result = checks.check_conv_layer_cost(right_cost)
    assert result.cases == len(im2col.cost_cases(True, True))
    assert "Well done: right_cost passed all" in capsys.readouterr().out


def test_a_cost_as_an_integer_array_passes():
    checks.check_conv_layer_cost(lambda input_shape, filters, kernel_size, stride=1, padding="valid":
                                 np.array(right_cost(input_shape, filters, kernel_size, stride, padding)))


def test_the_reference_gives_the_lessons_numbers():
    for k in (1, 3, 5):
        params, madds = im2col.conv_layer_cost_reference((28, 28, 192), 64, k, 1, "same")
        assert params == shapes.conv2d_params(k, 192, 64)
        assert madds == shapes.conv2d_params(k, 192, 64, use_bias=False) * 28 * 28
    assert im2col.conv_layer_cost_reference((227, 227, 3), 96, (11, 11), 4) == (34944, 105415200)


def test_the_multiply_adds_count_the_products_of_a_real_convolution():
    """One multiply-add per (output cell, filter, weight of that filter): counted by the loops."""
    x, k = np.ones((1, 9, 7, 3)), np.ones((3, 2, 3, 4))
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    products = 0
    out = kernels.conv2d(x, k, stride=2, padding=1)                  # (1, 5, 4, 4)
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            window = xp[0, 2 * i:2 * i + 3, 2 * j:2 * j + 2, :]         # (3, 2, 3)
            products += window.size * k.shape[-1]
    assert im2col.conv_layer_cost_reference((9, 7, 3), 4, (3, 2), 2, 1) == (3 * 2 * 3 * 4 + 4, products)


@pytest.mark.parametrize("mistake, text", [
    ("no-bias", "leaves out the biases"),
    ("depth", "You left out the input's depth"),
    ("input-size", "each weight is used once per OUTPUT position"),
    ("bias-madds", "Your multiply-adds count the biases too"),
    ("stride", "ignores the stride"),
    ("swap", "the wrong way round"),
])
def test_each_cost_mistake_is_named(mistake, text):
    def wrong(input_shape, filters, kernel_size, stride=1, padding="valid"):
        return cost(input_shape, filters, kernel_size, stride, padding, mistake)
    expect_hint(checks.check_conv_layer_cost, wrong, text)


def test_ignored_padding_is_named():
    def no_padding(input_shape, filters, kernel_size, stride=1, padding="valid"):
        return cost(input_shape, filters, kernel_size, stride, "valid")
    expect_hint(checks.check_conv_layer_cost, no_padding, "ignores the padding")


@pytest.mark.parametrize("answer, text", [
    (7, "not two numbers"), ("(1, 2)", "not two numbers"), ((1, 2, 3), "not two numbers"),
    ((12352.0, 9633792), "not a whole number"), ((12352, 1j), "not a whole number"),
    ((True, 9633792), "not a whole number"), (np.array([12352.0, 9633792.0]), "not two numbers"),
])
def test_cost_results_that_are_not_two_ints_are_refused(answer, text):
    expect_hint(checks.check_conv_layer_cost, lambda input_shape, filters, kernel_size: answer, text)


# --------------------------------------------------------------------------
# Bad arguments to the checkers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("check", [checks.check_conv2d_im2col, checks.check_conv_layer_cost])
def test_a_checker_refuses_what_is_not_a_function(check):
    with pytest.raises(NotAFunction, match="Expected a function for `fn`"):
        check([1, 2])


@pytest.mark.parametrize("check", [checks.check_conv2d_im2col, checks.check_conv_layer_cost])
@pytest.mark.parametrize("limit, error", [("1", TypeError), (1e9, ValueError), (float("nan"), ValueError)])
def test_a_checker_refuses_a_bad_time_limit(check, limit, error):
    with pytest.raises(error, match="time_limit"):
        check(right_im2col, time_limit=limit)


def test_a_function_with_too_few_parameters_is_explained():
    expect_hint(checks.check_conv2d_im2col, lambda x, kernel: x, "takes 2 argument(s)",
                "(x, kernel, bias)")
    expect_hint(checks.check_conv_layer_cost, lambda input_shape: (0, 0), "takes 1 argument(s)")


def test_a_slow_function_runs_out_of_time():
    def forever(x, kernel, bias, stride=1, padding=0):
        while True:
            pass
    with pytest.raises(CheckFailed, match="did not finish within 0.2 s"):
        checks.check_conv2d_im2col(forever, time_limit=0.2)
