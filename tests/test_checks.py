"""The exercise checkers pass right answers and explain wrong ones.

Every wrong function below makes one mistake learners make; the test asserts
that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks, kernels, shapes
from cnnlab.checks import CheckFailed


# --------------------------------------------------------------------------
# Learner-style implementations (loops, as the lessons teach them)
# --------------------------------------------------------------------------

def my_conv1d(x, k):
    x, k = np.asarray(x, dtype=float), np.asarray(k, dtype=float)
    return np.array([np.dot(x[i:i + len(k)], k) for i in range(len(x) - len(k) + 1)])


def my_conv2d(image, k):
    image, k = np.asarray(image, dtype=float), np.asarray(k, dtype=float)
    kh, kw = k.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * k)
    return out


def conv2d_full(x, k, bias=0.0, stride=1, padding=0):
    """Bias, stride and zero padding of `padding` cells on every side."""
    xp = np.pad(np.asarray(x, dtype=float), padding)
    kh, kw = np.shape(k)
    out = np.zeros(((xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[i, j] = np.sum(window * k) + bias
    return out


def my_max_pool(x, size=2):
    x = np.asarray(x, dtype=float)
    out = np.zeros((x.shape[0] // size, x.shape[1] // size))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = x[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
    return out


def expect_hint(check, fn, *hint_parts, **options):
    """Run a checker that must fail; every part must appear in the message."""
    with pytest.raises(CheckFailed) as info:
        check(fn, **options)
    message = str(info.value)
    for part in hint_parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------
# Right answers pass
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [my_conv1d, kernels.conv1d, kernels.conv1d_naive])
def test_check_conv1d_passes_correct_functions(fn, capsys):
    result = checks.check_conv1d(fn)
    assert result.cases >= 6 and result.function == fn.__name__
    assert capsys.readouterr().out.strip() == str(result)


@pytest.mark.parametrize("fn", [my_conv2d, conv2d_full, kernels.conv2d, kernels.conv2d_naive])
def test_check_conv2d_passes_correct_functions(fn):
    assert checks.check_conv2d(fn).cases >= 6


@pytest.mark.parametrize("check, fn", [(checks.check_conv1d, kernels.conv1d),
                                       (checks.check_conv2d, kernels.conv2d)])
def test_check_conv_passes_the_batched_channels_form(check, fn):
    result = check(fn, channels=True)
    assert "with channels" in result.covered[0]


def test_success_prints_one_friendly_line(capsys):
    result = checks.check_conv2d(my_conv2d)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("Well done: my_conv2d passed all")
    assert isinstance(result, checks.CheckResult)


def test_result_shows_nothing_more_at_the_end_of_a_notebook_cell():
    result = checks.check_feature_map_length(lambda n, k: n - k + 1)
    assert result._ipython_display_() is None


# --------------------------------------------------------------------------
# Only what the signature accepts is tested
# --------------------------------------------------------------------------

def test_plain_two_argument_function_is_not_tested_with_stride_or_padding():
    result = checks.check_conv2d(my_conv2d)
    assert result.covered == ("2D images",)


def test_keyword_arguments_are_read_from_the_signature():
    result = checks.check_conv2d(conv2d_full)
    assert result.covered == ("2D images", "bias", "stride 2, 3", "padding 1, 2")


def test_string_padding_default_tests_valid_and_same():
    result = checks.check_conv2d(kernels.conv2d)
    assert "padding 'valid', 'same'" in result.covered


def test_var_keyword_arguments_declare_nothing():
    def conv(x, k, **options):
        assert not options, "no keyword should be passed"
        return my_conv2d(x, k)
    assert checks.check_conv2d(conv).covered == ("2D images",)


def test_teacher_can_choose_the_values():
    result = checks.check_conv2d(conv2d_full, strides=(1, 2), paddings=(0, 1))
    assert result.covered == ("2D images", "bias", "stride 2", "padding 0, 1")


def test_teacher_values_for_a_missing_parameter_are_refused():
    with pytest.raises(TypeError, match="no such parameter"):
        checks.check_conv2d(my_conv2d, strides=(2,))


def test_required_stride_without_default_is_passed_explicitly():
    def conv(x, k, stride):
        return conv2d_full(x, k, stride=stride)
    assert "stride 2, 3" in checks.check_conv2d(conv).covered


# --------------------------------------------------------------------------
# Wrong answers fail with the right diagnosis
# --------------------------------------------------------------------------

def test_same_size_output_is_told_how_many_times_the_window_fits():
    def same(x, k):
        return kernels.conv2d(x, k, padding="same")
    error = expect_hint(checks.check_conv2d, same, "Expected shape (6, 6) but got (8, 8)",
                        "Did you forget that a 3x3 window fits 8 - 3 + 1 = 6 times?")
    assert error.expected.shape == (6, 6) and error.got.shape == (8, 8)


@pytest.mark.parametrize("check, fn", [
    (checks.check_conv1d, lambda x, k: np.array([np.dot(x[i:i + len(k)], k)
                                                 for i in range(len(x) - len(k))])),
    (checks.check_conv2d, lambda x, k: my_conv2d(x, k)[:-1, :-1]),
])
def test_one_window_short(check, fn):
    expect_hint(check, fn, "One window position is missing", "range(n - k + 1)")


@pytest.mark.parametrize("check, flip", [(checks.check_conv1d, lambda k: k[::-1]),
                                         (checks.check_conv2d, lambda k: k[::-1, ::-1])])
def test_flipped_kernel(check, flip):
    base = my_conv1d if check is checks.check_conv1d else my_conv2d
    expect_hint(check, lambda x, k: base(x, flip(np.asarray(k))),
                "matches the true convolution: the kernel is flipped",
                "deep learning slides it unflipped")


def test_kernel_flipped_upside_down_only():
    expect_hint(checks.check_conv2d, lambda x, k: my_conv2d(x, np.asarray(k)[::-1]),
                "flipped upside down")


def test_true_convolution_from_cnnlab_is_caught_as_flipped():
    expect_hint(checks.check_conv2d, kernels.convolve2d, "the kernel is flipped")


def test_missing_bias():
    def no_bias(x, k, bias=0.0):
        return my_conv2d(x, k)
    expect_hint(checks.check_conv2d, no_bias, "off by exactly the bias", "forget to add `bias`")


def test_bias_added_to_every_product():
    def per_cell(x, k, bias=0.0):
        return my_conv2d(x, k) + (np.size(k) - 1) * bias + bias
    expect_hint(checks.check_conv2d, per_cell, "added 9 times", "once per output cell")


def test_padding_ignored():
    def ignores(x, k, padding=0):
        return my_conv2d(x, k)
    expect_hint(checks.check_conv2d, ignores, "size without padding", "1 zero(s) before and 1 after")


def test_padding_on_one_side_only():
    def one_side(x, k, padding=0):
        return my_conv2d(np.pad(x, ((0, 2 * padding), (0, 2 * padding))), k)
    expect_hint(checks.check_conv2d, one_side, "All the zeros are on one side")


def test_padding_with_edge_values_instead_of_zeros():
    def edge(x, k, padding=0):
        return my_conv2d(np.pad(x, padding, mode="edge"), k)
    expect_hint(checks.check_conv2d, edge, "cells near the border are wrong but the inside is right")


def test_same_padding_with_the_extra_zero_at_the_start():
    def early(x, k, padding="valid"):
        if padding == "valid":
            return kernels.conv2d(x, k)
        pads = [shapes.padding_amounts(n, m, padding="same")[::-1] for n, m in zip(x.shape, k.shape)]
        return kernels.conv2d(x, k, padding=tuple(pads))
    expect_hint(checks.check_conv2d, early, "extra zero of 'same' padding goes at the end",
                paddings=("valid", "same"), strides=None)


def test_padding_counted_once_in_the_size():
    def once(x, k, padding=0):
        return my_conv2d(np.pad(x, ((padding, 0), (padding, 0))), k)
    expect_hint(checks.check_conv2d, once, "Padding goes on both sides")


def test_stride_ignored_in_the_size():
    def ignores(x, k, stride=1):
        return my_conv2d(x, k)
    expect_hint(checks.check_conv2d, ignores, "size for stride 1", "jumps 2 cells")


def test_window_not_moved_by_the_stride():
    def slow(x, k, stride=1):
        want = kernels.conv2d(x, k, stride=stride).shape
        return my_conv2d(x, k)[:want[0], :want[1]]
    expect_hint(checks.check_conv2d, slow, "values are those of stride 1", "i * 2")


@pytest.mark.parametrize("check", [checks.check_conv1d, checks.check_conv2d])
def test_function_still_raising_not_implemented(check):
    def stub(x, k):
        raise NotImplementedError("Exercise: replace this line with your code")
    error = expect_hint(check, stub, "raised NotImplementedError: Exercise: replace this line",
                        "Replace the line `raise NotImplementedError(...)`")
    assert "Traceback" not in str(error) and error.__cause__ is None and error.__suppress_context__


def test_index_error_from_an_output_one_too_small():
    def too_small(x, k):
        out = np.zeros(len(x) - len(k))
        for i in range(len(x) - len(k) + 1):
            out[i] = np.dot(x[i:i + len(k)], k)
        return out
    expect_hint(checks.check_conv1d, too_small, "raised IndexError", "last window starts at n - k")


def test_short_window_from_a_loop_one_too_long():
    def too_far(x, k):
        return np.array([np.dot(x[i:i + len(k)], k) for i in range(len(x))])
    expect_hint(checks.check_conv1d, too_far, "raised ValueError", "Two arrays of different shapes",
                "the last window starts at n - k")


def test_returning_none():
    def forgets(x, k):
        out = my_conv2d(x, k)  # noqa: F841
    expect_hint(checks.check_conv2d, forgets, "forgets returned None", "end it with `return`")


def test_returning_only_zeros():
    def never_stores(x, k):
        return np.zeros_like(my_conv2d(x, k))
    expect_hint(checks.check_conv2d, never_stores, "returns only zeros")


def test_integer_output_array_cuts_decimals():
    def int_output(x, k):
        return my_conv2d(x, k).astype(int)
    expect_hint(checks.check_conv2d, int_output, "decimals cut off", "dtype=float")


def test_changing_the_input_in_place():
    def clobbers(x, k):
        out = my_conv1d(x, k)
        x[:] = 0
        return out
    expect_hint(checks.check_conv1d, clobbers, "changed its input")


def test_returning_text():
    expect_hint(checks.check_conv1d, lambda x, k: "six values", "returned 'six values'")


def test_wrong_number_of_arguments():
    expect_hint(checks.check_conv2d, lambda x: x, "takes 1 argument(s)", "def <lambda>(x, k)")


def test_not_a_function():
    expect_hint(checks.check_conv2d, np.zeros(3), "Expected a function", "without calling it")


def test_failure_message_shows_the_call_the_expected_and_the_answer():
    def plus_one(x, k):
        return my_conv1d(x, k) + 1
    error = expect_hint(checks.check_conv1d, plus_one, "called   plus_one(x, k)",
                        "x = [0., 0., 0., 1., 1., 0., 0., 0.]", "expected [0., 0., 1., 1., 0., 0.]",
                        "got      [1., 1., 2., 2., 1., 1.]", "Hint: ")
    assert isinstance(error, AssertionError)


def test_messages_are_the_same_on_every_run():
    def flipped(x, k):
        return kernels.convolve2d(x, k)
    first = str(expect_hint(checks.check_conv2d, flipped))
    assert str(expect_hint(checks.check_conv2d, flipped)) == first


def test_channels_mistake_on_the_number_of_filters():
    def one_filter(x, k):
        return kernels.conv2d(x, k)[..., :1]
    expect_hint(checks.check_conv2d, one_filter, "one feature map per filter", channels=True)


# --------------------------------------------------------------------------
# Output sizes
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda n, k: n - k + 1,
    lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride + 1,
    shapes.conv_output_size,
])
def test_check_output_size_passes_correct_functions(fn):
    assert checks.check_output_size(fn).cases >= 6


@pytest.mark.parametrize("fn, hint", [
    (lambda n, k: n - k, "Count the first window too"),
    (lambda n, k: (n - k) / 1 + 1, "use // (floor division)"),
    (lambda n, k: k - n + 1, "n and k are swapped"),
    (lambda n, k, stride=1: n - k + 1, "the one for stride 1"),
    (lambda n, k, stride=1: -(-(n - k) // stride) + 1, "Round down"),
    (lambda n, k, padding=0: n + padding - k + 1, "Padding goes on both sides"),
    (lambda n, k, padding=0: n - k + 1, "ignores the padding"),
    (lambda n, k, padding="valid": n - k + 1, "ignores the padding"),
    (lambda n, k: None, "returned None"),
])
def test_check_output_size_explains_mistakes(fn, hint):
    expect_hint(checks.check_output_size, fn, hint)


def test_check_feature_map_length():
    assert checks.check_feature_map_length(lambda n, k: n - k + 1).covered == ("sizes",)
    expect_hint(checks.check_feature_map_length, lambda n, k: n,
                "Expected feature map length 6 but got 8")


# --------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [my_max_pool, kernels.max_pool2d, lambda x: kernels.max_pool2d(x)])
def test_check_max_pool_passes_correct_functions(fn):
    assert checks.check_max_pool(fn).cases >= 4


def test_check_max_pool_with_channels():
    assert "with channels" in checks.check_max_pool(kernels.max_pool2d, channels=True).covered[0]


@pytest.mark.parametrize("fn, hint", [
    (lambda x: kernels.avg_pool2d(x), "You averaged"),
    (lambda x: kernels.sum_pool2d(x), "You added up"),
    (lambda x: my_max_pool(np.maximum(x, 0)), "never go below 0"),
    (lambda x: kernels.max_pool2d(x, 2, 1), "must not overlap"),
    (lambda x: kernels.max_pool2d(x, 2, padding="same"), "rounds down"),
    (lambda x: x, "Pooling shrinks the map"),
])
def test_check_max_pool_explains_mistakes(fn, hint):
    expect_hint(checks.check_max_pool, fn, hint)
