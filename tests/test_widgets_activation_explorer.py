"""Lesson 06: the activation explorer, driven headlessly by setting ``.value``, checked against
Keras's activations, scipy's correlation and the pixels of the pictures it draws."""

from __future__ import annotations

import io
import math

import keras
import matplotlib
import numpy as np
import pytest
from PIL import Image
from scipy.signal import correlate2d

from cnnlab import data, filters
from cnnlab.widgets._controls import CUSTOM, ControlValueError
from cnnlab.widgets.activation_explorer import (
    ACTIVATION_INPUTS, DEAD_THRESHOLD, VALUE_RANGE, ActivationExplorer,
)

KERAS = {
    "relu": lambda z, a: keras.activations.relu(z),
    "leaky_relu": lambda z, a: keras.activations.leaky_relu(z, negative_slope=a),
    "tanh": lambda z, a: keras.activations.tanh(z),
    "sigmoid": lambda z, a: keras.activations.sigmoid(z),
    "gelu": lambda z, a: keras.activations.gelu(z, approximate=False),
}


def keras_activation(name, z, slope=0.2):
    return keras.ops.convert_to_numpy(KERAS[name](z, slope))


def edges(kind):
    """The digit filtered with a Sobel kernel, zero padding keeping 28x28 (scipy, not cnnlab).

    On the whole-number pixels, then / 255: exact, so flat areas are exactly 0."""
    return correlate2d(np.rint(data.digit(0) * 255), filters.get(kind), mode="same") / 255


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGB"))


@pytest.fixture
def explorer():
    return ActivationExplorer()


# ----------------------------------------------------------------- what it computes

def test_starts_with_relu_on_the_vertical_edges_of_a_digit(explorer):
    w = explorer
    np.testing.assert_array_equal(w.feature_map, edges("sobel_x"))
    np.testing.assert_allclose(w.pre_activation, w.feature_map)
    np.testing.assert_array_equal(w.activated, np.maximum(w.pre_activation, 0))
    assert w.dead_share == pytest.approx(np.mean(w.activated == 0))
    assert 0.5 < w.dead_share < 1
    assert f"dead units: {100 * w.dead_share:.1f}% of 784 (output exactly 0)" in w.status.value
    for image in (w.pre_image, w.activated_image, w.curve_image):
        assert bytes(image.value).startswith(b"\x89PNG")


@pytest.mark.parametrize("name", list(KERAS))
@pytest.mark.parametrize("bias", [-2.0, 0.75])
def test_each_activation_matches_keras_after_the_bias(explorer, name, bias):
    w = explorer
    with w.hold_redraw():
        w.controls["activation"].value = name
        w.controls["bias"].value = bias
        w.controls["slope"].value = 0.35
        w.controls["input"].value = "digit, horizontal edges"
    z = edges("sobel_y") + bias
    np.testing.assert_allclose(w.pre_activation, z, atol=1e-12)
    np.testing.assert_allclose(w.activated, keras_activation(name, z, 0.35), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(w.curve_y, keras_activation(name, w.curve_x + bias, 0.35),
                               rtol=1e-6, atol=1e-9)
    dead = w.activated == 0 if name == "relu" else np.abs(w.activated) < DEAD_THRESHOLD
    assert w.dead_share == pytest.approx(dead.mean())
    np.testing.assert_array_equal(w.dead, dead)


def test_bias_shifts_the_cut_of_relu(explorer):
    w = explorer
    shares = []
    for bias in (-3.0, -1.0, 0.0, 1.0, 3.0):
        w.controls["bias"].value = bias
        shares.append(w.dead_share)
        assert w.dead_share == pytest.approx(np.mean(edges("sobel_x") + bias <= 0))
    assert shares == sorted(shares, reverse=True) and shares[0] > 0.95 and shares[-1] < 0.05


def test_ramp_shows_the_activation_along_each_row(explorer):
    w = explorer
    with w.hold_redraw():
        w.controls["input"].value = "ramp -4 to 4"
        w.controls["activation"].value = "tanh"
        w.controls["bias"].value = 1.0
    ramp = np.linspace(-4, 4, 28)
    for row in w.activated:
        np.testing.assert_allclose(row, np.tanh(ramp + 1.0))
    assert w.dead_share == pytest.approx(0.0)       # tanh(z) = 0 only at z = 0, not on the grid


def test_slope_only_counts_for_leaky_relu(explorer):
    w = explorer
    assert w.controls["slope"].disabled
    assert "slope ignored (only leaky ReLU uses it)" in w.status.value
    before = w.activated.copy()
    w.controls["slope"].value = 0.5
    np.testing.assert_array_equal(w.activated, before)
    w.controls["activation"].value = "leaky_relu"
    assert not w.controls["slope"].disabled and "slope α = 0.5" in w.status.value
    z = w.pre_activation
    np.testing.assert_allclose(w.activated, np.where(z >= 0, z, 0.5 * z))
    w.controls["slope"].value = 0.0                 # alpha 0: ReLU again, with its dead units
    assert w.dead_share == pytest.approx(np.mean(z <= 0))


def test_gelu_dead_units_follow_the_documented_threshold():
    x = np.array([[-4.0, -3.0, -2.0, -1.0, 0.0, 0.0005, 1.0]])
    w = ActivationExplorer(x, activation="gelu")
    expected = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x[0]]
    np.testing.assert_allclose(w.activated[0], expected, rtol=1e-12, atol=1e-15)
    # |gelu| < 1e-3 at -4 (-1.3e-4), 0 and 0.0005; not at -3 (-4e-3)
    np.testing.assert_array_equal(w.dead[0], [True, False, False, False, True, True, False])
    assert w.dead_share == pytest.approx(3 / 7)
    assert "(|output| < 0.001)" in w.status.value


# ----------------------------------------------------------------- what it draws

def test_maps_are_coloured_on_the_fixed_diverging_range():
    x = np.array([[-4.0, -2.0, 0.0, 2.0, 4.0]])
    w = ActivationExplorer(x, activation="relu", bias=1.0)
    cmap = matplotlib.colormaps["RdBu_r"]
    for image, values in ((w.pre_image, w.pre_activation), (w.activated_image, w.activated)):
        px = pixels(image.value)
        side = px.shape[1] // 5                                    # pixels per cell
        centres = px[side // 2, side // 2::side][:5].astype(int)    # (5, 3)
        expected = np.array([cmap((v + VALUE_RANGE) / (2 * VALUE_RANGE))[:3] for v in values[0]])
        np.testing.assert_allclose(centres / 255, expected, atol=2 / 255)
    assert "fixed from -7 to 7" in w.status.value


def test_curve_picture_changes_with_the_bias_but_keeps_its_size(explorer):
    w = explorer
    first = w.curve_image.value
    w.controls["bias"].value = 2.0
    assert w.curve_image.value != first
    assert pixels(w.curve_image.value).shape == pixels(first).shape
    assert w.redraw_count == 2 and w.last_redraw_ms > 0


def test_hold_redraw_redraws_once(explorer):
    w = explorer
    count = w.redraw_count
    with w.hold_redraw():
        w.controls["activation"].value = "sigmoid"
        w.controls["bias"].value = -1.5
    assert w.redraw_count == count + 1
    np.testing.assert_allclose(w.activated, 1 / (1 + np.exp(-(w.feature_map - 1.5))))


# ----------------------------------------------------------------- refused values

@pytest.mark.parametrize("name, value, message", [
    ("bias", 3.5, "`bias` must be a number from -3 to 3, got 3.5"),
    ("bias", float("nan"), "`bias` must be a number from -3 to 3"),
    ("slope", -0.1, "`slope` must be a number from 0 to 1, got -0.1"),
    ("slope", "0.2", "`slope` must be a number from 0 to 1, got '0.2'"),
    ("slope", True, "`slope` must be a number from 0 to 1"),
    ("activation", "swish", "`activation` must be one of 'relu', 'leaky_relu'"),
    ("input", "photo", "`input` must be one of 'digit, vertical edges'"),
])
def test_refused_control_values_keep_the_picture(explorer, name, value, message):
    w = explorer
    before, picture, old = w.activated, w.activated_image.value, w.controls[name].value
    with pytest.raises(ControlValueError, match=message.replace("(", r"\(").replace("|", r"\|")):
        w.controls[name].value = value
    assert w.controls[name].value == old
    assert w.activated is before and w.activated_image.value == picture
    assert w.status.value.startswith("Refused: ")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(activation="softplus"), ValueError, "`activation` must be one of"),
    (dict(slope=1.5), ValueError, "`slope` must be at most 1, got 1.5"),
    (dict(slope="a"), TypeError, "`slope` must be a number"),
    (dict(bias=-4), ValueError, "`bias` must be at least -3, got -4"),
    (dict(feature_map="digit"), ValueError, "`feature_map` must be one of"),
    (dict(feature_map=np.zeros((65, 3))), ValueError, "`feature_map` must be at most 64x64"),
    (dict(feature_map=np.zeros((2, 2, 2))), ValueError, "`feature_map` must have 2 dimensions"),
    (dict(feature_map=[[5.0]]), ValueError, "`feature_map` must hold numbers from -4 to 4"),
    (dict(feature_map=[[np.nan]]), ValueError, "`feature_map` must hold finite numbers"),
])
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        ActivationExplorer(**kwargs)


def test_takes_your_own_map_and_offers_every_input():
    w = ActivationExplorer(np.full((3, 4), -1.0), activation="sigmoid", bias=0.5)
    assert w.controls["input"].value == CUSTOM
    assert w.controls["input"].options == (*ACTIVATION_INPUTS, CUSTOM)
    np.testing.assert_allclose(w.activated, np.full((3, 4), 1 / (1 + math.exp(0.5))))
    assert w.dead_share == 0.0
