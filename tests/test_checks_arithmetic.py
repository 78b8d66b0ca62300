"""Lesson 03's checkers (padding and stride for a target size, "same" padding in 2D).

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnlab import checks, shapes
from cnnlab.checks import CheckFailed, NotAFunction
from cnnlab.checks import arithmetic


def expect_hint(check, fn, *parts):
    """Run the checker, which must fail; every part must appear in its message."""
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------
# Exercise 1: (padding, stride) pairs for a target size
# --------------------------------------------------------------------------

def search(n, k, target, size=None, paddings=None, strides=None, swap=False):
    """The exercise's answer by loops; the keywords build in one mistake."""
    size = size or (lambda n, k, p, s: (n + 2 * p - k) // s + 1)
    pairs = []
    for p in (range(k) if paddings is None else paddings):
        for s in (range(1, k + 1) if strides is None else strides):
            if n + 2 * p >= k and size(n, k, p, s) == target:
                pairs.append((s, p) if swap else (p, s))
    return pairs


def right_pairs(n, k, target):
    return search(n, k, target)


def test_a_right_answer_passes(capsys):
    result = checks.check_padding_stride_pairs(right_pairs)
    assert result.cases == len(arithmetic.pairs_cases())
    assert "Well done: right_pairs passed all" in capsys.readouterr().out


def test_an_answer_through_shapes_in_another_order_passes():
    def through_shapes(n, k, target):
        return [(p, s) for s in range(k, 0, -1) for p in range(k)
                if n + 2 * p >= k and shapes.conv_output_size(n, k, s, p) == target]
    checks.check_padding_stride_pairs(through_shapes)


def test_the_reference_answers_the_lesson_example():
    assert arithmetic.padding_stride_pairs_reference(7, 3, 3) == [(0, 2), (1, 3), (2, 3)]
    assert arithmetic.padding_stride_pairs_reference(6, 2, 20) == []


def test_the_ceiling_is_named():
    expect_hint(checks.check_padding_stride_pairs,
                lambda n, k, target: search(n, k, target,
                                            size=lambda n, k, p, s: math.ceil((n + 2 * p - k) / s) + 1),
                "You rounded up")


def test_padding_on_one_side_is_named():
    expect_hint(checks.check_padding_stride_pairs,
                lambda n, k, target: search(n, k, target,
                                            size=lambda n, k, p, s: (n + p - k) // s + 1),
                "count the padding once")


def test_a_missing_plus_one_is_named():
    expect_hint(checks.check_padding_stride_pairs,
                lambda n, k, target: search(n, k, target, size=lambda n, k, p, s: (n + 2 * p - k) // s),
                "count the first window too")


def test_pairs_written_the_wrong_way_round_are_named():
    expect_hint(checks.check_padding_stride_pairs,
                lambda n, k, target: search(n, k, target, swap=True), "(padding, stride)",
                "padding first")


@pytest.mark.parametrize("bounds, text", [
    ({"paddings": None, "strides": "short"}, "stride s = k is missing"),
    ({"paddings": "short", "strides": None}, "padding p = k - 1 (full padding) is missing"),
])
def test_bounds_one_short_are_named(bounds, text):
    def short(n, k, target):
        return search(n, k, target,
                      paddings=range(k - 1) if bounds["paddings"] else None,
                      strides=range(1, k) if bounds["strides"] else None)
    expect_hint(checks.check_padding_stride_pairs, short, text)


def test_bounds_too_far_are_named():
    expect_hint(checks.check_padding_stride_pairs,
                lambda n, k, target: search(n, k, target, paddings=range(k + 2),
                                            strides=range(1, k + 3)),
                "You tried too many settings")


def test_a_kernel_larger_than_the_input_is_explained():
    def unguarded(n, k, target):
        return [(p, s) for p in range(k) for s in range(1, k + 1)
                if shapes.conv_output_size(n, k, s, p) == target]
    expect_hint(checks.check_padding_stride_pairs, unguarded, "n + 2p < k", "if n + 2 * p >= k")


@pytest.mark.parametrize("answer, text", [
    ("0, 2", "not a list of pairs"),
    (3, "not a list of pairs"),
    ([(0.0, 2.0)], "not a pair of whole numbers"),
    ([(0, 2, 1)], "not a pair of whole numbers"),
    ([(1 + 0j, 2)], "not a pair of whole numbers"),
    ([(True, 2)], "not a pair of whole numbers"),
    ([(0, 2), (0, 2), (1, 3), (2, 3)], "some pairs twice"),
])
def test_results_that_are_not_pairs_of_ints_are_refused(answer, text):
    expect_hint(checks.check_padding_stride_pairs, lambda n, k, target: answer, text)


def test_an_exception_and_none_are_explained():
    def stub(n, k, target):
        raise NotImplementedError("ex03-pairs")
    expect_hint(checks.check_padding_stride_pairs, stub, "NotImplementedError",
                "Replace the line `raise NotImplementedError(...)`")
    expect_hint(checks.check_padding_stride_pairs, lambda n, k, target: None, "returned None")


# --------------------------------------------------------------------------
# Exercise 2: "same" padding in 2D
# --------------------------------------------------------------------------

def same(size, kernel_size, strides, dilation=1, mistake=None):
    """The exercise's answer; ``mistake`` builds one in."""
    result = []
    for n, k, s in zip(size, kernel_size, strides):
        k_eff = k if mistake == "dilation" else (k - 1) * dilation + 1
        out = n // s if mistake == "floor" else math.ceil(n / s)
        total = (out - 1) * s + k_eff - n
        if mistake == "stride":
            total = k_eff - 1
        if mistake != "negative":
            total = max(total, 0)
        before = total - total // 2 if mistake == "swap" else total // 2
        result.append((before, total - before))
    return tuple(result[::-1]) if mistake == "axes" else tuple(result)


def right_same(size, kernel_size, strides, dilation=1):
    return same(size, kernel_size, strides, dilation)


def test_a_right_same_padding_passes(capsys):
    result = checks.check_same_padding(right_same)
    assert result.cases == len(arithmetic.same_cases(True))
    assert "dilation" in capsys.readouterr().out


def test_without_a_dilation_parameter_no_dilated_case_is_tried():
    result = checks.check_same_padding(lambda size, kernel_size, strides: same(size, kernel_size, strides))
    assert result.cases == len(arithmetic.same_cases(False)) and "dilation" not in result.covered


def test_the_reference_matches_padding_amounts():
    assert arithmetic.same_padding_reference((7, 8), (4, 3), (3, 2)) == ((1, 2), (0, 1))
    for size, kernel, strides, d in arithmetic.same_cases(True):
        want = tuple(shapes.padding_amounts(n, k, s, "same", d) for n, k, s in zip(size, kernel, strides))
        assert arithmetic.same_padding_reference(size, kernel, strides, d) == want


@pytest.mark.parametrize("mistake, text", [
    ("swap", "extra zero goes on the wrong side"),
    ("floor", "rounded the number of outputs down"),
    ("stride", "the one for stride 1"),
    ("negative", "Some amounts are negative"),
    ("dilation", "The dilation is left out"),
    ("axes", "two pairs are in the wrong order"),
])
def test_each_same_padding_mistake_is_named(mistake, text):
    def wrong(size, kernel_size, strides, dilation=1):
        return same(size, kernel_size, strides, dilation, mistake)
    expect_hint(checks.check_same_padding, wrong, text)


@pytest.mark.parametrize("answer", [(1, 2), ((1.0, 2.0), (0, 1)), "((1, 2), (0, 1))",
                                    ((1, 2), (0, 1), (0, 0)), np.zeros((2, 2)), ((1j, 2), (0, 1))])
def test_same_results_that_are_not_two_pairs_of_ints_are_refused(answer):
    expect_hint(checks.check_same_padding, lambda size, kernel_size, strides: answer,
                "not two pairs of whole numbers")


# --------------------------------------------------------------------------
# Bad arguments to the checkers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("check", [checks.check_padding_stride_pairs, checks.check_same_padding])
def test_a_checker_refuses_what_is_not_a_function(check):
    with pytest.raises(NotAFunction, match="Expected a function for `fn`"):
        check(3)
    with pytest.raises(TypeError):
        check(right_pairs(7, 3, 3))


@pytest.mark.parametrize("check", [checks.check_padding_stride_pairs, checks.check_same_padding])
@pytest.mark.parametrize("limit, error", [("5", TypeError), (0, ValueError), (True, TypeError)])
def test_a_checker_refuses_a_bad_time_limit(check, limit, error):
    with pytest.raises(error, match="time_limit"):
        check(right_pairs, time_limit=limit)


def test_a_function_with_too_few_parameters_is_explained():
    expect_hint(checks.check_padding_stride_pairs, lambda n, k: [], "takes 2 argument(s)",
                "(n, k, target)")
    expect_hint(checks.check_same_padding, lambda size: ((0, 0), (0, 0)), "takes 1 argument(s)")


def test_an_endless_loop_runs_out_of_time():
    def forever(n, k, target):
        while True:
            pass
    expect_hint(lambda fn: checks.check_padding_stride_pairs(fn, time_limit=0.2), forever,
                "did not finish within 0.2 s")
