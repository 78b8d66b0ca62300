"""data.sample_photo_rgb: the colour photo of lesson 04, checked against the grey one."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import data


def test_colour_photo_is_the_grey_photo_in_three_channels():
    rgb = data.sample_photo_rgb()
    assert rgb.shape == (512, 512, 3) and rgb.dtype == np.float64
    assert 0 <= rgb.min() and rgb.max() <= 1
    # PIL's grey conversion is the ITU-R 601-2 luma, rounded to whole grey levels
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(luma, data.sample_photo(), atol=1 / 255 + 1e-9)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 0.05   # really in colour


def test_colour_photo_resizes_and_repeats():
    small = data.sample_photo_rgb(32)
    assert small.shape == (32, 32, 3)
    np.testing.assert_array_equal(small, data.sample_photo_rgb(32))
    small[:] = 0
    assert data.sample_photo_rgb(32).max() > 0      # callers get their own copy


@pytest.mark.parametrize("size, error", [(0, ValueError), (2.5, TypeError), ("64", TypeError)])
def test_colour_photo_refuses_bad_sizes(size, error):
    with pytest.raises(error, match="size"):
        data.sample_photo_rgb(size)
