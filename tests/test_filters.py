"""cnnlab.filters: the presets and what they detect."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from cnnlab import filters

BUMP = np.array([0, 0, 0, 1, 1, 0, 0, 0], dtype=float)

NORMALISED = ["box_blur", "gaussian", "identity", "sharpen"]  # weights sum to 1
FIVE = ["identity", "vertical_line", "horizontal_line", "diagonal_line", "box_blur", "gaussian"]


def test_names_list_every_preset():
    assert filters.names() == list(filters.PRESETS)
    assert set(filters.names()) == {
        "identity", "vertical_line", "horizontal_line", "diagonal_line", "sobel_x", "sobel_y",
        "laplacian", "box_blur", "gaussian", "sharpen", "emboss"}
    assert filters.names(5) == FIVE
    assert set(filters.PRESETS_1D) == {"bump", "rising_edge", "falling_edge", "average"}


@pytest.mark.parametrize("size", [3, 5])
def test_presets_are_square_float_arrays(size):
    for name in filters.names(size):
        k = filters.get(name, size)
        assert k.shape == (size, size) and k.dtype == np.float64, name


def test_the_syllabus_line_detectors():
    np.testing.assert_array_equal(filters.get("vertical_line"), [[0, 1, 0]] * 3)
    np.testing.assert_array_equal(filters.get("horizontal_line"), [[0, 0, 0], [1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(filters.get("diagonal_line", 5), np.eye(5))


@pytest.mark.parametrize("name, size", [(n, s) for s in (3, 5) for n in NORMALISED if n in filters.names(s)])
def test_blur_and_sharpen_keep_flat_areas(name, size):
    assert filters.get(name, size).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("size", [3, 5])
def test_gaussian_is_separable_and_peaks_in_the_centre(size):
    g = filters.get("gaussian", size)
    np.testing.assert_allclose(g, np.outer(g.sum(axis=1), g.sum(axis=0)))
    assert np.unravel_index(g.argmax(), g.shape) == (size // 2, size // 2)
    np.testing.assert_allclose(g, g.T)


def test_sobel_matches_scipy_ndimage():
    # scipy.ndimage.sobel along the columns (axis 1) of a ramp rising to the right
    image = np.tile(np.arange(6.0), (6, 1)) ** 2
    sx = scipy.signal.correlate2d(image, filters.get("sobel_x"), mode="valid")
    np.testing.assert_allclose(sx, scipy.ndimage.sobel(image, axis=1)[1:-1, 1:-1])
    sy = scipy.signal.correlate2d(image.T, filters.get("sobel_y"), mode="valid")
    np.testing.assert_allclose(sy, scipy.ndimage.sobel(image.T, axis=0)[1:-1, 1:-1])
    np.testing.assert_array_equal(filters.get("sobel_y"), filters.get("sobel_x").T)


def test_laplacian_is_zero_on_a_ramp_and_matches_scipy():
    ramp = np.add.outer(np.arange(6.0), 2 * np.arange(6.0))
    lap = scipy.signal.correlate2d(ramp, filters.get("laplacian"), mode="valid")
    np.testing.assert_allclose(lap, 0, atol=1e-12)
    image = np.random.default_rng(0).standard_normal((7, 7))
    lap = scipy.signal.correlate2d(image, filters.get("laplacian"), mode="valid")
    np.testing.assert_allclose(lap, scipy.ndimage.laplace(image)[1:-1, 1:-1])


def test_sharpen_is_identity_minus_laplacian():
    np.testing.assert_array_equal(filters.get("sharpen"), filters.get("identity") - filters.get("laplacian"))


def test_identity_returns_the_input():
    image = np.random.default_rng(1).standard_normal((9, 9))
    for size in (3, 5):
        out = scipy.signal.correlate2d(image, filters.get("identity", size), mode="same")
        np.testing.assert_array_equal(out, image)


def test_get_returns_a_writable_copy_and_presets_stay_unchanged():
    k = filters.get("sobel_x")
    k[:] = 0
    assert filters.PRESETS["sobel_x"][0, 0] == -1
    with pytest.raises(ValueError):
        filters.PRESETS["sobel_x"][0, 0] = 5
    b = filters.get_1d("bump")
    b[:] = 7
    np.testing.assert_array_equal(filters.PRESETS_1D["bump"], [0, 1, 0])


# --------------------------------------------------------------------------
# 1D presets on the bump signal (lesson 01), worked out by hand:
# output cell i sits over input cells i, i+1, i+2 (centre i+1)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name, weights, response", [
    ("bump", [0, 1, 0], [0, 0, 1, 1, 0, 0]),
    # centre minus left neighbour: +1 over input cell 3 (step up), -1 over cell 5 (step down)
    ("rising_edge", [-1, 1, 0], [0, 0, 1, 0, -1, 0]),
    # centre minus right neighbour: +1 over input cell 4 (last before the drop), -1 over cell 2
    ("falling_edge", [0, 1, -1], [0, -1, 0, 1, 0, 0]),
    ("average", [1 / 3] * 3, [0, 1 / 3, 2 / 3, 2 / 3, 1 / 3, 0]),
])
def test_1d_presets_on_the_bump(name, weights, response):
    kernel = filters.get_1d(name)
    np.testing.assert_allclose(kernel, weights)
    np.testing.assert_allclose(np.correlate(BUMP, kernel, mode="valid"), response, atol=1e-15)


def test_falling_edge_is_rising_edge_reversed():
    np.testing.assert_array_equal(filters.get_1d("falling_edge"), filters.get_1d("rising_edge")[::-1])


@pytest.mark.parametrize("call, message", [
    (lambda: filters.get("blur"), "`name` must be one of 'identity'"),
    (lambda: filters.get("sobel_x", 5), r"`size` 5 is not available for 'sobel_x'; size-5 presets: 'identity'"),
    (lambda: filters.get("gaussian", 7), "`size` must be 3 or 5"),
    (lambda: filters.names(4), "`size` must be 3 or 5"),
    (lambda: filters.get_1d("edge"), "`name` must be one of 'bump', 'rising_edge'"),
])
def test_bad_names_and_sizes_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_size_must_be_an_integer():
    with pytest.raises(TypeError, match="`size` must be an integer"):
        filters.get("gaussian", 5.0)
