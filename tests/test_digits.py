"""Lesson 09's MNIST-style preparation of a drawn digit (``cnnlab.digits.mnist_style``),
checked against scipy's centre of mass, MNIST's own digits and the shipped LeNet-5."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage

from cnnlab import data
from cnnlab.digits import MAX_DIGIT_SIDE, centre_of_mass, mnist_style

SETTINGS = settings(max_examples=30, deadline=None)


@pytest.fixture(scope="module")
def test_set():
    (_, _), (x, y) = data.load_mnist((1, 200))
    return x, y                                                   # (200, 28, 28) uint8, (200,)


def enlarge(digit: np.ndarray, side: int) -> np.ndarray:
    """An MNIST digit (28, 28) uint8 as brightness 0-1 at ``side x side`` (bilinear)."""
    picture = Image.fromarray(digit.astype(np.float32) / 255.0)
    big = picture.resize((side, side), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(big, dtype=np.float64), 0.0, 1.0)


def ink_box(x: np.ndarray, level: float = 0.2) -> tuple[int, int]:
    """(height, width) of the pixels at least ``level`` times the brightest."""
    ink = x >= level * x.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# ----------------------------------------------------------------- what comes out

def test_blank_picture_gives_a_blank_input_without_warnings():
    with np.errstate(all="raise"):
        out = mnist_style(np.zeros((280, 280)))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert not out.any()


def test_mnist_digits_shown_large_and_prepared_come_back_close_to_themselves(test_set):
    x, _ = test_set
    for digit in x[:20]:
        out = mnist_style(enlarge(digit, 280))
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert out.min() >= 0 and out.max() == pytest.approx(1.0)
        assert max(ink_box(out)) in (19, 20, 21)
        assert np.abs(out - digit / 255.0).mean() < 0.08            # near pixel for pixel
        assert np.corrcoef(out.ravel(), digit.ravel())[0, 1] > 0.8


@pytest.mark.parametrize("index", range(8))
def test_blurred_enlarged_shifted_digit_is_brought_back_to_the_centre(test_set, index):
    digit = test_set[0][index]
    canvas = np.zeros((400, 400))
    top, left = [(10, 240), (230, 5), (120, 120), (240, 240)][index % 4]
    side = (150, 110, 160, 140)[index % 4]
    canvas[top:top + side, left:left + side] = enlarge(digit, side)
    canvas = np.clip(ndimage.gaussian_filter(canvas, 2.5), 0, 1)    # a soft pen
    out = mnist_style(canvas)
    r, c = ndimage.center_of_mass(out)
    assert abs(r - 14) <= 1 and abs(c - 14) <= 1
    r0, c0 = ndimage.center_of_mass(digit.astype(float))            # MNIST's own position
    assert abs(r - r0) <= 1 and abs(c - c0) <= 1
    assert np.corrcoef(out.ravel(), digit.ravel())[0, 1] > 0.8


@SETTINGS
@given(st.integers(3, 300), st.integers(3, 300), st.integers(0, 99), st.integers(0, 99))
def test_a_rectangle_keeps_its_aspect_and_is_centred(h, w, top, left):
    canvas = np.zeros((400, 400))
    canvas[top:top + h, left:left + w] = 0.7
    out = mnist_style(canvas)
    bh, bw = ink_box(out)
    assert max(bh, bw) == 20
    want = 20 * min(h, w) / max(h, w)                              # the shorter side, scaled
    assert abs(min(bh, bw) - want) <= 1.5
    assert (bh >= bw) == (h >= w) or abs(bh - bw) <= 1
    r, c = ndimage.center_of_mass(out)
    assert abs(r - 14) <= 0.5 and abs(c - 14) <= 0.5
    assert out.max() == pytest.approx(1.0)


def test_size_and_place_of_the_drawing_do_not_matter(test_set):
    digit = test_set[0][3]
    small = np.zeros((300, 300))
    small[200:280, 10:90] = enlarge(digit, 80)
    large = enlarge(digit, 300)
    a, b = mnist_style(small), mnist_style(large)
    assert np.abs(a - b).mean() < 0.05


def test_uint8_pixels_are_read_as_brightness(test_set):
    digit = test_set[0][0]
    np.testing.assert_allclose(mnist_style(digit), mnist_style(digit / 255.0), atol=1e-6)


def test_a_single_pixel_becomes_a_box_on_the_centre():
    canvas = np.zeros((50, 50))
    canvas[3, 40] = 1.0
    out = mnist_style(canvas)
    assert ndimage.center_of_mass(out) == pytest.approx((14, 14), abs=0.5)
    assert max(ink_box(out)) == 20                                   # scaled up to the box


# ----------------------------------------------------------------- with the trained network

def test_shipped_lenet5_reads_prepared_280px_digits(test_set):
    from cnnlab.models import load_model

    x, y = test_set
    prepared = np.stack([mnist_style(enlarge(d, 280)) for d in x])   # (200, 28, 28)
    model = load_model("lenet5_modern")
    predicted = np.asarray(model(prepared[..., None], training=False)).argmax(axis=1)
    accuracy = float(np.mean(predicted == y))
    assert accuracy >= 0.95, f"{accuracy:.1%} of 200 test digits right"


# ----------------------------------------------------------------- centre_of_mass

@SETTINGS
@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_centre_of_mass_matches_scipy(h, w, seed):
    x = np.random.default_rng(seed).random((h, w))
    assert centre_of_mass(x) == pytest.approx(ndimage.center_of_mass(x), abs=1e-9)


def test_centre_of_mass_refuses_blank_and_negative_pictures():
    with pytest.raises(ValueError, match="blank"):
        centre_of_mass(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="non-negative"):
        centre_of_mass(-np.ones((5, 5)))


# ----------------------------------------------------------------- refused pictures

@pytest.mark.parametrize("image, error, match", [
    (np.zeros((4, 4, 1)), ValueError, "2 dimensions"),
    (np.zeros(10), ValueError, "2 dimensions"),
    (np.zeros((0, 5)), ValueError, "1x1 to 560x560"),
    (np.zeros((MAX_DIGIT_SIDE + 1, 10)), ValueError, "1x1 to 560x560"),
    (np.full((5, 5), 1.5), ValueError, "from 0 to 1"),
    (np.full((5, 5), -0.1), ValueError, "from 0 to 1"),
    (np.full((5, 5), np.nan), ValueError, "finite"),
    (np.full((5, 5), 300, dtype=np.int64), ValueError, "0-255"),
    ([["a", "b"]], TypeError, "numbers"),
    (None, TypeError, "None"),
])
def test_bad_pictures_are_refused_by_name(image, error, match):
    with pytest.raises(error, match=match) as info:
        mnist_style(image)
    assert "image" in str(info.value)
