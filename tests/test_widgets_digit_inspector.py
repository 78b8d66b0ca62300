"""The digit inspector of lesson 09, driven headlessly by setting ``.value`` on its controls."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from cnnlab import data
from cnnlab.models.lenet import build_lenet5, prepare_images
from cnnlab.train import weights_path
from cnnlab.widgets import INSPECTOR_LAYERS, DigitInspector

MAP_SHAPES = {"C1": (28, 28, 6), "S2": (14, 14, 6), "C3": (10, 10, 16), "S4": (5, 5, 16),
              "C5": (1, 1, 120), "F6": (1, 1, 84)}


@pytest.fixture(scope="module")
def model():
    return keras.saving.load_model(weights_path("lenet5_modern"))


@pytest.fixture(scope="module")
def inspector(model):
    return DigitInspector(model)


@pytest.fixture(scope="module")
def test_set():
    (_, _), (x, y) = data.load_mnist()
    return x, y


def test_starts_on_the_first_test_digit(inspector, model, test_set):
    x, y = test_set
    inspector.controls["index"].value = 0
    assert inspector.label == int(y[0]) == 7
    want = np.asarray(model(prepare_images(x[:1])))[0]
    np.testing.assert_allclose(inspector.probabilities, want, atol=1e-6)
    assert inspector.prediction == int(want.argmax())
    assert bytes(inspector.digit_image.value).startswith(b"\x89PNG")
    assert "test digit 0: label 7" in inspector.status.value


@pytest.mark.parametrize("index", [1, 18, 4321, 9999])
def test_index_change_shows_that_digit(inspector, model, test_set, index):
    x, y = test_set
    count = inspector.redraw_count
    inspector.controls["index"].value = index
    assert inspector.redraw_count == count + 1
    assert inspector.index == index and inspector.label == int(y[index])
    want = np.asarray(model(prepare_images(x[index:index + 1])))[0]
    np.testing.assert_allclose(inspector.probabilities, want, atol=1e-6)
    assert f"predicted {int(want.argmax())}" in inspector.status.value


def png_rgba(value: bytes) -> np.ndarray:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(bytes(value))) as im:
        return np.asarray(im.convert("RGBA"))


@pytest.mark.parametrize("layer", INSPECTOR_LAYERS)
def test_layer_change_shows_that_layers_maps(inspector, model, test_set, layer):
    x, _ = test_set
    inspector.controls["layer"].value = layer
    assert inspector.feature_maps.shape == MAP_SHAPES[layer]
    probe = keras.Model(model.input, model.get_layer(layer).output)
    want = np.asarray(probe(prepare_images(x[inspector.index:inspector.index + 1])))[0]
    np.testing.assert_allclose(inspector.feature_maps.reshape(want.shape), want, atol=1e-5)
    h, w, c = MAP_SHAPES[layer]
    count = c if h > 1 else 1
    columns = int(np.ceil(np.sqrt(count)))
    assert inspector.map_columns == columns
    cell_h, cell_w = inspector.map_cell
    rows = -(-count // columns)
    picture = png_rgba(inspector.maps_image.value)
    assert picture.shape == (rows * (cell_h + 4) - 4, columns * (cell_w + 4) - 4, 4)
    assert int((picture[::cell_h + 4, ::cell_w + 4, 3] == 255).sum()) == count   # one per map


def test_probability_chart_has_ten_bars_and_marks_the_prediction(inspector):
    inspector.controls["index"].value = 3
    svg = inspector.chart.value
    bars = re.findall(r'<rect class="p"[^>]*fill="([^"]+)"', svg)
    assert len(bars) == 10
    assert [i for i, fill in enumerate(bars) if fill == "#f58518"] == [inspector.prediction]
    heights = [float(h) for h in re.findall(r'<rect class="p"[^>]*height="([0-9.]+)"', svg)]
    assert int(np.argmax(heights)) == inspector.prediction


def test_next_mistake_jumps_to_a_wrong_prediction(inspector, model, test_set):
    x, y = test_set
    inspector.controls["index"].value = 0
    seen = []
    for _ in range(3):
        inspector.controls["mistake"].click()
        seen.append(inspector.index)
        assert inspector.prediction != inspector.label
        assert "WRONG" in inspector.status.value
    assert seen == sorted(seen) and len(set(seen)) == 3
    predicted = np.asarray(model(prepare_images(x[:seen[0] + 1]))).argmax(axis=1)
    assert np.all(predicted[:seen[0]] == y[:seen[0]]), "a mistake was skipped"


def test_next_mistake_wraps_round(inspector):
    inspector.controls["index"].value = 9999
    inspector.next_mistake()
    assert inspector.index < 9999 and inspector.prediction != inspector.label


def test_hold_redraw_draws_once(inspector):
    count = inspector.redraw_count
    with inspector.hold_redraw():
        inspector.controls["index"].value = 11
        inspector.controls["layer"].value = "S4"
    assert inspector.redraw_count == count + 1
    assert inspector.feature_maps.shape == (5, 5, 16)


def test_works_with_an_untrained_classic_model():
    inspector = DigitInspector(build_lenet5("classic"), index=5, layer="S2")
    assert inspector.feature_maps.shape == (14, 14, 6)
    np.testing.assert_allclose(inspector.probabilities.sum(), 1.0, rtol=1e-5)


def test_rejects_bad_arguments(model):
    with pytest.raises(ValueError, match="`index` must be below 10000"):
        DigitInspector(model, index=10000)
    with pytest.raises(ValueError, match="`layer` must be one of 'C1'"):
        DigitInspector(model, layer="C7")
    plain = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(name="flat")])
    with pytest.raises(ValueError, match="`model` has no layer named 'C1'"):
        DigitInspector(plain)


def test_your_own_digits_with_their_labels(model, test_set):
    x, y = test_set
    inspector = DigitInspector(model, index=2, images=x[:5], labels=y[:5])
    want = np.asarray(model(prepare_images(x[2:3])))[0]
    np.testing.assert_allclose(inspector.probabilities, want, atol=1e-6)
    assert inspector.label == int(y[2]) and inspector.controls["index"].max == 4
    with pytest.raises(ValueError, match="`index` must be below 5 \\(the images given\\)"):
        DigitInspector(model, index=5, images=x[:5], labels=y[:5])


def test_rejects_a_model_that_does_not_take_28x28_digits():
    inputs = keras.Input(shape=(32, 32, 1))
    h = inputs
    for name in INSPECTOR_LAYERS:
        h = keras.layers.Activation("linear", name=name)(h)
    outputs = keras.layers.Dense(10, name="output")(keras.layers.Flatten()(h))
    with pytest.raises(ValueError, match="`model` must take 28x28x1 images"):
        DigitInspector(keras.Model(inputs, outputs))


def test_rejects_something_that_is_not_a_model_before_loading_anything():
    with pytest.raises(TypeError, match="`model` must be a Keras model"):
        DigitInspector("lenet5_modern")


def test_maps_share_one_fixed_scale_white_for_high(inspector):
    import io

    from PIL import Image

    inspector.controls["layer"].value = "C3"
    maps = inspector.feature_maps
    assert inspector.display_cmap == "gray"                  # ReLU: nothing below 0
    assert inspector.display_range == (0.0, pytest.approx(float(maps.max())))
    assert f"black = 0, white = {float(maps.max()):.3g}" in inspector.status.value
    brightest = int(np.argmax(maps.max(axis=(0, 1))))       # the map with the largest value
    cell_h, cell_w = inspector.map_cell
    row, col = divmod(brightest, inspector.map_columns)
    whole = png_rgba(inspector.maps_image.value)
    tile = whole[row * (cell_h + 4):row * (cell_h + 4) + cell_h,
                 col * (cell_w + 4):col * (cell_w + 4) + cell_w]
    assert tile[..., :3].max() == 255 and np.all(tile[..., 3] == 255)
    with Image.open(io.BytesIO(bytes(inspector.digit_image.value))) as im:
        digit = np.asarray(im)[::6, ::6]
    np.testing.assert_allclose(digit, inspector._images[inspector.index], atol=1)  # 255 white
