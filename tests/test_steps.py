"""cnnlab.steps: the records the step pictures draw, checked against kernels and plain loops.

The frames of lesson 03 are checked against scipy in ``test_plot_arithmetic.py``;
here the channel step of lesson 04, the pooling layout of lesson 05, the
shared size checks, and that plot hands lessons the very same records.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import kernels, plot, steps
from cnnlab.widgets import channel_example

SETTINGS = settings(max_examples=30, deadline=None)


def test_plot_hands_lessons_the_records_of_steps():
    for name in ("ConvolutionFrame", "convolution_frames", "arithmetic_example",
                 "ARITHMETIC_CASES", "MAX_ARITHMETIC_SIDE", "MAX_CHANNEL_SIDE", "MAX_CHANNELS",
                 "MAX_FILTERS", "MAX_POOL_SIDE", "POOL_KINDS"):
        assert getattr(plot, name) is getattr(steps, name), name


# ----------------------------------------------------------------- channel_step (lesson 04)

@SETTINGS
@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 1), st.integers(1, 2),
       st.integers(0, 2), st.integers(0, 20))
def test_channel_step_adds_the_channel_sums_up_to_the_convolution(row, col, f, stride,
                                                                   padding, seed):
    x, kernel, bias = channel_example(seed)
    out = kernels.conv2d(x[None], kernel, bias, stride=stride, padding=padding)[0]
    if row >= out.shape[0] or col >= out.shape[1]:
        with pytest.raises(ValueError, match="outside the"):
            steps.channel_step(x, kernel, (row, col, f), bias, stride, padding)
        return
    step = steps.channel_step(x, kernel, (row, col, f), bias, stride, padding)
    np.testing.assert_allclose(step.output, out)
    assert step.total == pytest.approx(out[row, col, f])
    assert step.sums.sum() + step.bias == pytest.approx(step.total)
    assert (step.top, step.left) == (row * stride, col * stride)
    assert step.padded.shape == (5 + 2 * padding, 5 + 2 * padding, 3)
    window = step.padded[step.top:step.top + 3, step.left:step.left + 3]          # (3, 3, C)
    np.testing.assert_allclose(step.products, window * kernel[..., f])
    np.testing.assert_allclose(step.sums, step.products.sum(axis=(0, 1)))


def test_channel_step_refuses_more_channels_than_the_picture_draws():
    x = np.ones((3, 3, steps.MAX_CHANNELS + 1))
    with pytest.raises(ValueError, match="`x` would draw 9 channels"):
        steps.channel_step(x, np.ones((1, 1, x.shape[2], 1)), (0, 0, 0))


# ----------------------------------------------------------------- pooling_layout (lesson 05)

@SETTINGS
@given(st.integers(2, 8), st.integers(2, 8), st.integers(1, 3), st.integers(1, 3),
       st.sampled_from(["valid", "same"]), st.sampled_from(steps.POOL_KINDS), st.integers(0, 9))
def test_pooling_layout_windows_and_winners(h, w, size, stride, padding, kind, seed):
    x = np.random.default_rng(seed).integers(0, 10, size=(h, w)).astype(float)
    if padding == "valid" and size > min(h, w):
        with pytest.raises(ValueError):
            steps.pooling_layout(x, size, stride, padding, kind)
        return
    layout = steps.pooling_layout(x, size, stride, padding, kind)
    pool = {"max": kernels.max_pool2d, "avg": kernels.avg_pool2d, "sum": kernels.sum_pool2d}
    np.testing.assert_allclose(layout.out, pool[kind](x, size, stride, padding))
    (top, _), (left, _) = layout.pads
    np.testing.assert_array_equal(layout.padded[top:top + h, left:left + w], x)
    assert np.isnan(layout.padded).sum() == layout.padded.size - x.size
    for i, j in np.ndindex(layout.out.shape):
        r0, c0 = layout.corners[i, j]
        assert (r0, c0) == (i * stride, j * stride)
        window = layout.padded[r0:r0 + size, c0:c0 + size]
        r, c = layout.winners[i, j]
        assert x[r, c] == np.nanmax(window)
        first = np.argwhere(window == np.nanmax(window))[0] + (r0 - top, c0 - left)
        assert (r, c) == tuple(first)                         # the first largest, in reading order


def test_pooling_layout_refuses_a_map_too_large_to_draw():
    with pytest.raises(ValueError, match="at most 32 cells a side"):
        steps.pooling_layout(np.ones((33, 2)), 2, None, "valid", "max")


# ----------------------------------------------------------------- the checks the pictures share

def test_size_checks_name_the_argument_and_the_limit():
    with pytest.raises(ValueError, match=r"`maps` would draw 300 maps; the picture draws at most "
                                         r"256\. Pass fewer \(or a slice such as \[:256\]\)\."):
        steps.check_at_most(300, 256, "maps", "maps")
    with pytest.raises(ValueError, match="`x` is 70x3; the picture draws at most 64 cells a side"):
        steps.check_side(np.ones((70, 3)), "x", 64)
    with pytest.raises(ValueError, match="`x` and `kernel`: the products or sums overflow"):
        steps.check_no_overflow(np.array([1.0, np.inf]), "`x` and `kernel`")
    steps.check_at_most(256, 256, "maps", "maps")
    steps.check_side(np.ones((64, 64)), "x", 64)
    steps.check_no_overflow(np.ones(3), "`x`")
