"""The display convention of cnnlab.plot: fixed colour ranges, white = high, diverging about 0.

``feature_map_range`` is checked against ``kernels.conv2d`` on random inputs (every output
inside the range) and on the extreme inputs (both ends reached); the figures are checked
through the colours matplotlib would paint.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402
from PIL import Image  # noqa: E402

from cnnlab import filters, kernels, plot  # noqa: E402
from cnnlab.plot._png import colour_bar_png  # noqa: E402

FEW = settings(max_examples=30, deadline=None, derandomize=True)
weights = st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 2))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def brightness(rgba) -> float:
    r, g, b = np.asarray(rgba, dtype=float)[..., :3].T
    return float(np.mean(0.2126 * r + 0.7152 * g + 0.0722 * b))


def panels(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def colour_bars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


# ----------------------------------------------------------------- feature_map_range

def brute_force_range(k, lo, hi, bias):
    """Loop over the weights: each adds the smaller / larger of w*lo and w*hi."""
    low = high = bias
    for w in k.ravel():
        low += min(w * lo, w * hi)
        high += max(w * lo, w * hi)
    return low, high


@FEW
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=weights),
       st.floats(-2, 2).map(lambda v: round(v, 2)), st.floats(0, 3).map(lambda v: round(v, 2)),
       st.floats(-1, 1).map(lambda v: round(v, 2)), st.integers(0, 2**16))
def test_feature_map_range_holds_every_output_and_the_extremes_reach_it(k, lo, width, bias, seed):
    hi = lo + width
    low, high = plot.feature_map_range(k, (lo, hi), bias=bias)
    np.testing.assert_allclose((low, high), brute_force_range(k, lo, hi, bias), atol=1e-12)
    x = np.random.default_rng(seed).uniform(lo, hi, size=(8, 9))            # (H, W)
    y = kernels.conv2d(x, k, bias=bias)
    assert np.all(y >= low - 1e-9) and np.all(y <= high + 1e-9)
    brightest = np.where(k > 0, hi, lo)                  # hi under positive weights
    darkest = np.where(k > 0, lo, hi)
    assert kernels.conv2d(brightest, k, bias=bias)[0, 0] == pytest.approx(high, abs=1e-9)
    assert kernels.conv2d(darkest, k, bias=bias)[0, 0] == pytest.approx(low, abs=1e-9)


@pytest.mark.parametrize("factor", [1.0, 2.0, 0.5])
def test_feature_map_range_of_scaled_identity(factor):
    k = np.zeros((3, 3))
    k[1, 1] = factor
    assert plot.feature_map_range(k) == (0.0, factor)
    assert plot.feature_map_range(k, (-1, 1)) == (-factor, factor)


def test_feature_map_range_of_the_presets():
    assert plot.feature_map_range(filters.get("box_blur")) == pytest.approx((0.0, 1.0))
    assert plot.feature_map_range(filters.get("gaussian")) == pytest.approx((0.0, 1.0))
    assert plot.feature_map_range(filters.get("sobel_x")) == (-4.0, 4.0)
    assert plot.feature_map_range(filters.get("sharpen")) == (-4.0, 5.0)
    assert plot.feature_map_range([1.0, -1.0], (2, 3), bias=1) == (0.0, 2.0)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(kernel=[], input_range=(0, 1)), ValueError, "`kernel` must hold at least one"),
    (dict(kernel=[[np.nan]], input_range=(0, 1)), ValueError, "`kernel` must hold finite"),
    (dict(kernel="abc", input_range=(0, 1)), TypeError, "`kernel` must hold numbers"),
    (dict(kernel=[1.0], input_range=(1, 0)), ValueError, "`input_range` must be .* low <= high"),
    (dict(kernel=[1.0], input_range=5), TypeError, "`input_range` must be a \\(low, high\\)"),
    (dict(kernel=[1.0], input_range=(0, "1")), TypeError, "`input_range` must be a number"),
    (dict(kernel=[1.0], input_range=(0, 1), bias=np.inf), ValueError, "`bias` must be a finite"),
    (dict(kernel=[1e300, 1e300], input_range=(0, 1e300)), ValueError, "too large"),
])
def test_feature_map_range_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.feature_map_range(**kwargs)


# ----------------------------------------------------------------- colour_scale

def test_colour_scale_grey_for_non_negative_diverging_and_symmetric_for_signed():
    assert plot.colour_scale((0, 2)) == (0.0, 2.0, "gray")
    assert plot.colour_scale((-1, 3)) == (-3.0, 3.0, "RdBu_r")
    assert plot.colour_scale((-4, -2)) == (-4.0, 4.0, "RdBu_r")
    assert plot.colour_scale((0, 0)) == (0.0, 1.0, "gray")
    assert plot.colour_scale((0, 2), cmap="viridis").cmap == "viridis"
    assert plot.colour_scale((0, 1)).legend() == "black = 0, white = 1"
    assert plot.colour_scale((-2, 1)).legend() == "blue = -2, white = 0, red = 2"
    assert plot.data_scale(np.array([3.0, 5.0])) == (0.0, 5.0, "gray")
    assert plot.stretch_scale(np.array([3.0, 5.0])) == (3.0, 5.0, "gray")
    with pytest.raises(ValueError, match="`cmap` must be a matplotlib colour map"):
        plot.colour_scale((0, 1), cmap="nope")


# ----------------------------------------------------------------- show_matrix

def test_show_matrix_draws_white_for_high():
    im = plot.show_matrix([[0.0, 1.0]]).images[0]
    assert im.cmap.name == "gray"
    assert brightness(im.to_rgba(np.array(1.0))) > brightness(im.to_rgba(np.array(0.0)))
    assert brightness(im.to_rgba(np.array(1.0))) == pytest.approx(1.0)


def test_show_matrix_signed_is_diverging_about_zero():
    im = plot.show_matrix([[-1.0, 3.0]]).images[0]
    assert im.cmap.name == "RdBu_r" and (im.norm.vmin, im.norm.vmax) == (-3.0, 3.0)
    auto = plot.show_matrix([[2.0, 3.0]], range="auto").images[0]
    assert (auto.norm.vmin, auto.norm.vmax) == (2.0, 3.0)
    fixed = plot.show_matrix([[2.0, 3.0]], range=(0, 10)).images[0]
    assert (fixed.norm.vmin, fixed.norm.vmax) == (0.0, 10.0)


def test_show_matrix_without_numbers_gets_a_colour_bar():
    ax = plot.show_matrix(np.zeros((30, 30)))
    assert len(colour_bars(ax.figure)) == 1
    assert not colour_bars(plot.show_matrix(np.zeros((3, 3))).figure)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(range="wide"), ValueError, "`range` must be 'shared', 'auto' or a"),
    (dict(range=(2, 1)), ValueError, "`range` must be \\(low, high\\) with low <= high"),
    (dict(colorbar="yes"), TypeError, "`colorbar` must be True or False"),
])
def test_show_matrix_rejects_bad_ranges(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.show_matrix(np.zeros((2, 2)), **kwargs)


# ----------------------------------------------------------------- show_feature_maps

def test_show_feature_maps_share_one_fixed_scale_by_default():
    maps = np.stack([np.full((3, 3), 1.0), np.full((3, 3), 2.0)], axis=-1)   # (3, 3, 2)
    fig = plot.show_feature_maps(maps)
    norms = {(ax.images[0].norm.vmin, ax.images[0].norm.vmax) for ax in panels(fig)}
    assert norms == {(0.0, 2.0)}
    assert {ax.images[0].cmap.name for ax in panels(fig)} == {"gray"}
    (bar,) = colour_bars(fig)
    assert bar.get_ylabel() == "black = 0, white = 2"
    one, two = (brightness(ax.images[0].to_rgba(ax.images[0].get_array())) for ax in panels(fig))
    assert two > one                                   # brighter means larger, across panels


def test_show_feature_maps_signed_maps_are_diverging_and_symmetric():
    maps = np.random.default_rng(1).normal(size=(5, 5, 3))
    fig = plot.show_feature_maps(maps)
    m = np.abs(maps).max()
    for ax in panels(fig):
        im = ax.images[0]
        assert im.cmap.name == "RdBu_r" and im.norm.vmin == -im.norm.vmax == pytest.approx(-m)


def test_show_feature_maps_auto_and_per_map_ranges():
    maps = [np.array([[1.0, 2.0]]), np.array([[5.0, 9.0]])]
    fig = plot.show_feature_maps(maps, range="auto")
    assert [(ax.images[0].norm.vmin, ax.images[0].norm.vmax) for ax in panels(fig)] == [
        (1.0, 2.0), (5.0, 9.0)]
    assert len(colour_bars(fig)) == 2
    fig = plot.show_feature_maps(maps, range=[(0, 1), (-4, 2)])
    assert [(ax.images[0].norm.vmin, ax.images[0].norm.vmax, ax.images[0].cmap.name)
            for ax in panels(fig)] == [(0.0, 1.0, "gray"), (-4.0, 4.0, "RdBu_r")]
    fig = plot.show_feature_maps(maps, vmin=0, vmax=10, cmap="viridis", colorbar=False)
    assert not colour_bars(fig)
    assert {(ax.images[0].norm.vmax, ax.images[0].cmap.name) for ax in panels(fig)} == {
        (10.0, "viridis")}
    with pytest.raises(ValueError, match="one \\(low, high\\) pair per map \\(2\\), got 3"):
        plot.show_feature_maps(maps, range=[(0, 1)] * 3)


def test_show_image_grid_has_a_colour_bar_for_its_shared_scale():
    fig = plot.show_image_grid([np.zeros((2, 3, 3))])
    (bar,) = colour_bars(fig)
    assert bar.get_ylabel() == "black = 0, white = 1"


# ----------------------------------------------------------------- pictures of steps

def test_plot_conv2d_step_output_keeps_a_fixed_scale_from_zero():
    x = np.arange(16, dtype=float).reshape(4, 4)
    fig = plot.plot_conv2d_step(x, np.ones((2, 2)), (0, 0))
    out = fig.axes[-1].images[0]
    assert out.cmap.name == "gray" and out.norm.vmin == 0.0
    assert out.norm.vmax == kernels.conv2d(x, np.ones((2, 2))).max()


def test_plot_channel_step_signed_output_is_diverging():
    x = np.ones((3, 3, 1))
    fig = plot.plot_channel_step(x, -np.ones((2, 2, 1, 1)), (0, 0, 0))
    out = [ax for ax in fig.axes if ax.get_title() == "output map 0"][0].images[0]
    assert out.cmap.name == "RdBu_r" and out.norm.vmin == -out.norm.vmax


def test_show_pooling_shades_a_digit_white_for_high():
    x = np.zeros((28, 28))
    x[10:14, 10:14] = 1.0
    fig, ax = plt.subplots(figsize=(3, 2))
    plot.show_pooling(x, ax, fontsize=4)                  # too small for numbers: shaded
    (cells,) = [c for c in ax.collections if c.get_gid() == "cells"]
    colours = cells.get_facecolors()[:x.size].reshape(28, 28, 4)
    assert brightness(colours[11, 11]) == pytest.approx(1.0)
    assert brightness(colours[0, 0]) == pytest.approx(0.0)
    assert "black = 0, white = 1" in ax.get_title()


# ----------------------------------------------------------------- PNG colour bar

def test_colour_bar_png_runs_from_vmin_to_vmax():
    with Image.open(io.BytesIO(colour_bar_png(0, 1, width=16, height=2))) as im:
        pixels = np.asarray(im)                                        # (2, 16) grey
    assert pixels.shape == (2, 16) and pixels[0, 0] == 0 and pixels[0, -1] == 255
    assert np.all(np.diff(pixels[0].astype(int)) >= 0)
    with pytest.raises(ValueError, match="`vmin` \\(1\\) must be smaller than `vmax`"):
        colour_bar_png(1, 1)
