"""Lessons 01 and 02's checkers: the pulse finder, the corner kernel, and conv hints for stride/padding.

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks, kernels
from cnnlab.checks import CheckFailed, NotAFunction


def expect_hint(check, fn, *parts, **options):
    """Run a checker that must fail; every part must appear in its message."""
    with pytest.raises(CheckFailed) as info:
        check(fn, **options)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------
# Lesson 01: pulses of exactly `width` ones
# --------------------------------------------------------------------------

def find_pulses(x, width, *, pad=True, ends=-1.0, shift=0, out="positions"):
    """A filter slid over the signal, as a learner writes it; the options build one mistake in."""
    k = np.ones(width + 2)
    k[0] = k[-1] = ends
    x = np.asarray(x, dtype=float)
    padded = np.pad(x, 1) if pad else x
    response = kernels.conv1d(padded, k)
    hits = np.isclose(response, width)
    if out == "mask":
        return hits.astype(int)
    if out == "response":
        return response
    return np.flatnonzero(hits) + shift


def test_right_pulse_finder_passes():
    result = checks.check_pulse_finder(find_pulses)
    assert result.cases == 10 and "pulses at the ends" in result.covered


def test_a_scan_without_any_filter_passes_too():
    def scan(x, width):
        found, run = [], 0
        for i, v in enumerate(list(x) + [0]):
            if v:
                run += 1
                continue
            if run == width:
                found.append(i - width)
            run = 0
        return found
    assert checks.check_pulse_finder(scan).cases == 10


@pytest.mark.parametrize("fn, parts", [
    (lambda x, w: find_pulses(x, w, pad=False, shift=1), ("miss the pulses that touch an end",
                                                          "np.pad(x, 1)")),
    (lambda x, w: find_pulses(x, w, pad=False), ("one too small", "starts at i + 1")),
    (lambda x, w: find_pulses(x, w, ends=0.0), ("inside longer runs", "negative tap at each end")),
    (lambda x, w: find_pulses(x, w, out="mask"), ("0/1 mask", "np.flatnonzero")),
    (lambda x, w: find_pulses(x, w, out="response"), ("the filter's response",)),
    (lambda x, w: find_pulses(x, w, shift=w - 1), ("1 too large", "pulse's last one")),
    (lambda x, w: find_pulses(x, w)[:1], ("starts at 8 is missing",)),
])
def test_pulse_finder_mistakes_are_named(fn, parts):
    expect_hint(checks.check_pulse_finder, fn, *parts)


def test_pulse_finder_returning_one_number():
    expect_hint(checks.check_pulse_finder, lambda x, w: 3, "array of positions", "np.flatnonzero")


def test_pulse_finder_with_a_false_pulse_names_it():
    def also_one(x, width):
        return np.union1d(find_pulses(x, width), [1])
    expect_hint(checks.check_pulse_finder, also_one, "no pulse of exactly 2 ones starting at 1",
                "x[0:4]")


def test_pulse_finder_arguments_are_checked():
    with pytest.raises(NotAFunction):
        checks.check_pulse_finder([1, 2])
    expect_hint(checks.check_pulse_finder, lambda x: x, "takes 1 argument(s)")
    with pytest.raises(TypeError, match="time_limit"):
        checks.check_pulse_finder(find_pulses, time_limit="soon")
    with pytest.raises(ValueError, match="time_limit"):
        checks.check_pulse_finder(find_pulses, time_limit=0)


def test_pulse_reference():
    np.testing.assert_array_equal(checks.find_pulses_reference([1, 1, 0, 1, 1, 1, 0, 1, 1], 2),
                                  [0, 7])
    assert checks.find_pulses_reference([0, 0, 0], 1).shape == (0,)
    with pytest.raises(ValueError, match="`x` must be a 1D signal of 0 and 1"):
        checks.find_pulses_reference([0, 2, 1], 1)
    with pytest.raises(ValueError, match="`width` must be a whole number"):
        checks.find_pulses_reference([0, 1, 1], 0)
    with pytest.raises(ValueError, match="`width`"):
        checks.find_pulses_reference([0, 1, 1], True)


# --------------------------------------------------------------------------
# Lesson 02: a kernel for a corner
# --------------------------------------------------------------------------

def corner_kernel(corner, *, off=-1.25, flip_rows="bottom", flip_cols="right", arm="both"):
    """The top-left design mirrored to each corner; the options build one mistake in."""
    k = np.full((3, 3), off)
    if arm in ("both", "row"):
        k[0, :] = 1.0
    if arm in ("both", "column"):
        k[:, 0] = 1.0
    if arm == "row":
        k[1:, :] = -0.5
    if flip_rows in corner:
        k = k[::-1]
    if flip_cols in corner:
        k = k[:, ::-1]
    return k


def test_right_corner_kernel_passes():
    assert checks.check_feature_kernel(corner_kernel).cases == 4
    assert checks.check_feature_kernel(corner_kernel, corners=["bottom_right"]).cases == 1


@pytest.mark.parametrize("fn, parts", [
    (lambda c: corner_kernel(c, off=0.0), ("weights sum to 5", "flat bright region answers 5",
                                            "sum = 0")),
    (lambda c: corner_kernel("top_left"), ("top-left corner", "orientation is flipped",
                                           "reverse its columns")),
    (lambda c: corner_kernel(c, flip_rows="right", flip_cols="bottom"),
     ("orientation is flipped", "top-right")),
    (lambda c: np.zeros((5, 5)), ("Expected a 3x3 kernel but got one of shape (5, 5)",)),
    (lambda c: 1.0, ("Expected a 3x3 kernel but got a single number",)),
    (lambda c: corner_kernel(c, arm="row"), ("horizontal line", "as much as the corner",
                                              "both arms")),
    (lambda c: np.zeros((3, 3)), ("answers 0 on the top-left corner", "positive weights")),
    (lambda c: np.full((3, 3), np.nan), ("inf or nan",)),
])
def test_corner_kernel_mistakes_are_named(fn, parts):
    expect_hint(checks.check_feature_kernel, fn, *parts)


def test_corner_kernel_arguments_are_checked():
    with pytest.raises(NotAFunction):
        checks.check_feature_kernel(np.eye(3))
    with pytest.raises(TypeError, match="`corners` must be a non-empty list"):
        checks.check_feature_kernel(corner_kernel, corners="top_left")
    with pytest.raises(TypeError, match="`corners`"):
        checks.check_feature_kernel(corner_kernel, corners=[])
    with pytest.raises(ValueError, match="`corner` must be one of"):
        checks.check_feature_kernel(corner_kernel, corners=["middle"])
    with pytest.raises(ValueError, match="`corner` must be one of"):
        checks.corner_image("left")
    with pytest.raises(ValueError, match="`size` must be a whole number of at least 3"):
        checks.corner_image("top_left", size=2.5)
    with pytest.raises(ValueError, match="`at` must leave room for a 3x3 window"):
        checks.corner_image("top_left", size=8, at=6)


def test_corner_images_are_mirror_images():
    top_left = checks.corner_image("top_left")
    assert top_left[2, 2:].all() and top_left[2:, 2].all() and top_left.sum() == 11
    np.testing.assert_array_equal(checks.corner_image("bottom_right"), top_left[::-1, ::-1])
    np.testing.assert_array_equal(checks.corner_image("top_right"), top_left[:, ::-1])


# --------------------------------------------------------------------------
# Convolution hints for stride and padding (cnnlab/checks/_hints.py)
# --------------------------------------------------------------------------

def conv1d(x, k, stride=1, padding=0):
    """The exercise's answer, as a learner writes it."""
    x, k = np.pad(np.asarray(x, dtype=float), padding), np.asarray(k, dtype=float)
    out = np.zeros((len(x) - len(k)) // stride + 1)
    for j in range(len(out)):
        out[j] = np.dot(x[j * stride:j * stride + len(k)], k)
    return out


def conv2d(image, k, bias=0.0, stride=1, padding=0):
    image, k = np.pad(np.asarray(image, dtype=float), padding), np.asarray(k, dtype=float)
    kh, kw = k.shape
    out = np.zeros(((image.shape[0] - kh) // stride + 1, (image.shape[1] - kw) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i * stride:i * stride + kh, j * stride:j * stride + kw] * k)
    return out + bias


def test_right_strided_padded_convolutions_pass():
    covered = checks.check_conv1d(conv1d).covered
    assert "stride 2, 3" in covered and "padding 1, 2" in covered
    assert "bias" in checks.check_conv2d(conv2d).covered


def test_window_stored_at_its_input_position():
    def spread(x, k, stride=1, padding=0):
        x = np.pad(np.asarray(x, dtype=float), padding)
        out = np.zeros(len(x) - len(k) + 1)
        for i in range(0, len(x) - len(k) + 1, stride):
            out[i] = np.dot(x[i:i + len(k)], k)
        return out
    expect_hint(checks.check_conv1d, spread, "stored the window that starts at input i in out[i]",
                "it starts at j * 2")


def test_output_index_times_the_stride_runs_past_the_end():
    def past(x, k, stride=1, padding=0):
        x = np.pad(np.asarray(x, dtype=float), padding)
        out = np.zeros((len(x) - len(k)) // stride + 1)
        for i in range(0, len(x) - len(k) + 1, stride):
            out[i] = np.dot(x[i:i + len(k)], k)
        return out
    expect_hint(checks.check_conv1d, past, "raised IndexError", "out[j * stride] runs past")


def test_stride_on_one_end_of_the_window_only():
    def one_end(x, k, stride=1, padding=0):
        x = np.pad(np.asarray(x, dtype=float), padding)
        out = np.zeros((len(x) - len(k)) // stride + 1)
        for j in range(len(out)):
            out[j] = np.dot(x[j * stride:j + len(k)], k)
        return out
    expect_hint(checks.check_conv1d, one_end, "raised ValueError",
                "both ends of the window move, x[j * stride:j * stride + k]")


def test_padding_on_one_side_only():
    def one_side(x, k, stride=1, padding=0):
        x = np.pad(np.asarray(x, dtype=float), (padding, 0))
        out = np.zeros((len(x) + padding - len(k)) // stride + 1)
        for j in range(len(out)):
            out[j] = np.dot(x[j * stride:j * stride + len(k)], k)
        return out
    expect_hint(checks.check_conv1d, one_side, "zeros go on both sides", "np.pad(x, p)")


def test_output_length_rounded_up():
    def ceil(x, k, stride=1, padding=0):
        x = np.pad(np.asarray(x, dtype=float), padding)
        n_out = -(-(len(x) - len(k)) // stride) + 1
        return np.array([np.dot(x[j * stride:j * stride + len(k)], k) if
                         j * stride + len(k) <= len(x) else 0.0 for j in range(n_out)])
    expect_hint(checks.check_conv1d, ceil, "Round down", "not used", "(stride 3)", strides=[2, 3])


@pytest.mark.parametrize("extra, part", [(1, "One window position too many"),
                                         (-1, "count the first window too")])
def test_output_length_off_by_one_with_a_stride(extra, part):
    def off(x, k, stride=1, padding=0):
        right = conv1d(x, k, stride, padding)
        if stride == 1:
            return right
        return np.concatenate([right, [0.0]]) if extra > 0 else right[:-1]
    expect_hint(checks.check_conv1d, off, part, strides=[2])


def test_conv2d_bias_forgotten_with_stride_and_padding():
    expect_hint(checks.check_conv2d, lambda x, k, bias=0.0, stride=1, padding=0:
                conv2d(x, k, 0.0, stride, padding), "forget to add `bias`")


def test_window_stored_at_its_input_position_in_2d():
    def spread(image, k, bias=0.0, stride=1, padding=0):
        full = conv2d(image, k, bias, 1, padding)
        out = np.zeros_like(full)
        out[::stride, ::stride] = full[::stride, ::stride]
        return out
    expect_hint(checks.check_conv2d, spread, "starts at input (r, c) in out[r, c]",
                "row i * 2, column j * 2")
