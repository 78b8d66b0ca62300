"""Lesson 05's checker (max pooling with the argmax mask) passes right answers and explains wrong ones.

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import backprop, checks, kernels
from cnnlab.checks import CheckFailed, NotAFunction
from cnnlab.checks import pooling as pool_checks


def expect_hint(fn, *parts, **kwargs):
    """Run the checker, which must fail; every part must appear in its message."""
    with pytest.raises(CheckFailed) as info:
        checks.check_max_pool_mask(fn, **kwargs)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


def pool_with_mask(x, size=2, stride=None, pick="first"):
    """The exercise's answer by loops; ``pick`` builds in one mistake about the winners."""
    x = np.asarray(x, dtype=float)
    stride = size if stride is None else stride
    batch = x if x.ndim == 4 else x[None, :, :, None]           # (N, H, W, C)
    n, h, w, c = batch.shape
    h_out, w_out = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.zeros((n, h_out, w_out, c))
    mask = np.zeros_like(batch)
    for b in range(n):
        for ch in range(c):
            for i in range(h_out):
                for j in range(w_out):
                    top, left = i * stride, j * stride
                    window = batch[b, top:top + size, left:left + size, ch]
                    out[b, i, j, ch] = window.max()
                    if pick == "all":
                        mask[b, top:top + size, left:left + size, ch] += window == window.max()
                        continue
                    flat = window.ravel()
                    k = int(np.argmax(flat)) if pick != "last" else flat.size - 1 - int(np.argmax(flat[::-1]))
                    r, col = divmod(k, size)
                    if pick == "reset":
                        mask = np.zeros_like(batch)
                    if pick == "offset":
                        mask[b, r, col, ch] += 1
                    elif pick == "set":
                        mask[b, top + r, left + col, ch] = 1
                    else:
                        mask[b, top + r, left + col, ch] += 1
    if x.ndim == 2:
        return out[0, :, :, 0], mask[0, :, :, 0]
    return out, mask


def right(x, size=2, stride=None):
    return pool_with_mask(x, size, stride)


def vectorised(x, pool_size=2, stride=None):
    """A right answer without loops over windows, through the course's backward pass."""
    out = kernels.max_pool2d(x, pool_size, stride)
    return out, backprop.max_pool2d_backward(np.ones_like(out), x, pool_size, stride) > 0.5


# --------------------------------------------------------------------------
# Right answers
# --------------------------------------------------------------------------

def test_a_right_answer_passes(capsys):
    result = checks.check_max_pool_mask(right)
    assert result.cases == len(pool_checks.mask_cases(True))
    assert "Well done: right passed all" in capsys.readouterr().out


def test_a_boolean_mask_passes_where_no_windows_overlap_and_fails_where_they_do():
    failure = expect_hint(vectorised, "one cell can win two windows")
    assert "stride=1" in failure.call


def test_without_channels_only_maps_are_tried():
    def maps_only(x, size=2, stride=None):
        assert np.ndim(x) == 2, "2D maps only"
        return right(x, size, stride)
    assert checks.check_max_pool_mask(maps_only, channels=False).cases == \
        len(pool_checks.mask_cases(False))
    expect_hint(maps_only, "2D maps only")


def test_the_reference_is_the_gradient_of_the_pooled_sum():
    x = pool_checks.lesson_map()
    out, mask = checks.max_pool_mask_reference(x)
    np.testing.assert_array_equal(out, [[6, 2], [2, 7]])
    np.testing.assert_array_equal(mask, [[0, 0, 1, 0], [0, 1, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0]])
    for x, p, s in pool_checks.mask_cases(True):
        np.testing.assert_array_equal(pool_checks.winner_mask(x, p, s), right(x, p, s)[1])
        np.testing.assert_array_equal(checks.max_pool_mask_reference(x, p, s)[1], right(x, p, s)[1])


def test_the_cases_hold_ties_overlaps_skips_and_batches():
    cases = pool_checks.mask_cases(True)
    assert any(s < p for _, p, s in cases) and any(s > p for _, p, s in cases)
    assert any(x.ndim == 4 for x, _, _ in cases)
    tied = [x for x, p, s in cases if not np.array_equal(pool_checks.winner_mask(x, p, s, "all"),
                                                          pool_checks.winner_mask(x, p, s))]
    assert len(tied) >= 5


# --------------------------------------------------------------------------
# Wrong answers, each with its hint
# --------------------------------------------------------------------------

@pytest.mark.parametrize("pick, hint", [
    ("all", "marked all of them"),
    ("last", "you marked the last one"),
    ("set", "each window must add 1"),
    ("offset", "add the window's first row"),
    ("reset", "Only one window's winner is left"),
])
def test_a_wrong_mask_names_its_mistake(pick, hint):
    failure = expect_hint(lambda x, size=2, stride=None: pool_with_mask(x, size, stride, pick),
                          hint, "`mask`")
    assert failure.expected is not None and failure.got is not None


def test_a_mask_of_the_output_shape_is_explained():
    def argmax_per_window(x, size=2, stride=None):
        out = kernels.max_pool2d(x, size, stride)
        return out, np.ones_like(out)
    expect_hint(argmax_per_window, "has the shape of the output", "`mask` should have shape")


def test_windows_that_ignore_the_stride_are_explained():
    def stride_ignored(x, size=2, stride=None):
        out = kernels.max_pool2d(x, size, stride)
        return out, pool_checks.winner_mask(np.asarray(x), size, size)
    expect_hint(stride_ignored, "windows that start every 2 cells", "stride 1")


def test_a_wrong_pooled_output_gets_the_pooling_hints():
    def averaged(x, size=2, stride=None):
        return kernels.avg_pool2d(x, size, stride), right(x, size, stride)[1]
    expect_hint(averaged, "You averaged", "`out`")

    def overlapping(x, size=2, stride=None):
        return kernels.max_pool2d(x, size, 1), right(x, size, stride)[1]
    expect_hint(overlapping, "must not overlap", "`out` should have shape")


@pytest.mark.parametrize("result, part", [
    (lambda x: kernels.max_pool2d(x), "not two arrays"),
    (lambda x: (kernels.max_pool2d(x), "mask"), "text instead of numbers"),
    (lambda x: (kernels.max_pool2d(x) + 0j, np.zeros_like(x)), "complex numbers"),
    (lambda x: (kernels.max_pool2d(x), [object()]), "not an array of numbers"),
    (lambda x: (kernels.max_pool2d(x) > 0, np.zeros_like(x)), "True/False"),
])
def test_results_that_are_not_two_arrays_of_numbers_are_refused(result, part):
    expect_hint(lambda x, size=2, stride=None: result(x), part)


def test_an_endless_loop_is_stopped():
    def forever(x, size=2, stride=None):
        while True:
            pass
    expect_hint(forever, "did not finish within 0.1 s", time_limit=0.1)


def test_a_changed_input_is_refused():
    def in_place(x, size=2, stride=None):
        out, mask = right(x, size, stride)
        x[...] = 0
        return out, mask
    expect_hint(in_place, "changed its input")


# --------------------------------------------------------------------------
# Bad arguments to the checker
# --------------------------------------------------------------------------

def test_the_checker_refuses_what_is_not_a_function():
    with pytest.raises(NotAFunction, match="Expected a function for `fn`"):
        checks.check_max_pool_mask(right(np.zeros((2, 2))))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"channels": "yes"}, TypeError, "`channels` must be True or False"),
    ({"time_limit": "fast"}, TypeError, "`time_limit` must be a number of seconds"),
    ({"time_limit": 0}, ValueError, "`time_limit` must be from"),
])
def test_the_checker_refuses_bad_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        checks.check_max_pool_mask(right, **kwargs)


def test_a_function_without_stride_or_size_is_explained():
    expect_hint(lambda x, size=2: right(x, size), "no parameter for a stride",
                "def <lambda>(x, size=2, stride=None)")
    expect_hint(lambda x: right(x), "no parameter for a window size")
