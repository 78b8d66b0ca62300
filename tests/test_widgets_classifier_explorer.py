"""The classifier explorer of lesson 07 and the trained network it shows, driven headlessly.

References: the Keras model itself (called directly, and sub-models over its
layers), the numpy kernels of cnnlab (conv1 and the logits written out), and
the shipped model's recorded accuracy.
"""

from __future__ import annotations

import io
import re
import shutil

import keras
import numpy as np
import pytest
from PIL import Image

from cnnlab import activations, data, kernels, weights
from cnnlab.models.lenet import build_lenet5
from cnnlab.models.mnist_cnn import build_mnist_cnn, load_mnist_cnn
from cnnlab.train.loop import evaluate
from cnnlab.widgets._controls import ControlValueError
from cnnlab.widgets.classifier_explorer import MAPS_SHOWN, N_DIGITS, ClassifierExplorer

SHIPPED_DIR = weights.WEIGHTS_DIR
BLACK_0 = (0, 0, 0)                  # "gray"'s first colour: the value 0 of every map


@pytest.fixture(scope="module")
def model():
    return load_mnist_cnn()


@pytest.fixture(scope="module")
def explorer(model):
    return ClassifierExplorer(model)


@pytest.fixture(scope="module")
def test_set():
    (_, _), (x, y) = data.load_mnist(limit=(1, N_DIGITS))
    return x.astype(np.float32)[..., None] / 255.0, y.astype(int)      # (1000, 28, 28, 1)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGB"))


# ----------------------------------------------------------------- the shipped network

def test_shipped_network_reaches_its_recorded_accuracy(model):
    record = weights.load_json("mnist_cnn.json")
    assert record["command"] == weights.SHIPPED["mnist_cnn"] == "python -m cnnlab.train mnist-cnn"
    assert model.count_params() == record["params"] == build_mnist_cnn().count_params()
    assert len(record["history"]) == record["epochs"] == 2
    assert record["history"][-1]["test_accuracy"] >= 0.985          # on all 10,000 test digits
    (_, _), (x, y) = data.load_mnist(limit=(1, 3000))
    assert evaluate(model, x, y) == pytest.approx(0.9843, abs=0.002)  # the first 3000 (harder)
    assert getattr(model, "optimizer", None) is None


def test_missing_or_damaged_file_names_it_and_the_commands(tmp_path, monkeypatch):
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(weights.ModelFileError, match="model file not found") as missing:
        load_mnist_cnn()
    assert isinstance(missing.value, FileNotFoundError)
    for text in ("mnist_cnn.keras", "git checkout -- data/weights/mnist_cnn.keras",
                 "python -m cnnlab.train mnist-cnn"):
        assert text in str(missing.value)
    shutil.copy(SHIPPED_DIR / "mnist_cnn.keras", tmp_path / "mnist_cnn.keras")
    with open(tmp_path / "mnist_cnn.keras", "r+b") as f:               # a damaged copy:
        f.seek(200_000)
        damaged = bytes(255 - v for v in f.read(16))                   # 16 bytes inverted
        f.seek(200_000)
        f.write(damaged)
    with pytest.raises(weights.ModelFileError, match="wrong checksum"):
        load_mnist_cnn()


# ----------------------------------------------------------------- the explorer

@pytest.mark.parametrize("index", [0, 1, 18, 247, 999])
def test_index_shows_that_digit_and_the_models_probabilities(explorer, model, test_set, index):
    x, y = test_set
    explorer.controls["index"].value = index
    assert explorer.index == index and explorer.label == y[index]
    np.testing.assert_array_equal(explorer.image, x[index, :, :, 0])
    want = np.asarray(model(x[index:index + 1]))[0]
    np.testing.assert_allclose(explorer.probabilities, want, atol=1e-6)
    assert explorer.predicted == int(np.argmax(want))
    assert f"test digit {index}: label {y[index]}, predicted {explorer.predicted}" \
        in explorer.status.value


def test_maps_and_logits_match_the_layers(explorer, model, test_set):
    x, _ = test_set
    explorer.controls["index"].value = 7
    assert explorer.maps["conv1"].shape == (26, 26, 32)
    assert explorer.maps["conv2"].shape == (11, 11, 64)
    for layer in ("conv1", "conv2"):
        sub = keras.Model(model.input, model.get_layer(layer).output)
        np.testing.assert_allclose(explorer.maps[layer], np.asarray(sub(x[7:8]))[0], atol=1e-5)
    w1, b1 = model.get_layer("conv1").get_weights()
    by_hand = kernels.relu(kernels.conv2d(x[7:8].astype(np.float64), w1, b1))[0]
    np.testing.assert_allclose(explorer.maps["conv1"], by_hand, atol=1e-5)
    np.testing.assert_allclose(activations.softmax(explorer.logits), explorer.probabilities,
                               atol=1e-6)
    assert int(np.argmax(explorer.logits)) == explorer.predicted


def test_map_ranges_are_fixed_by_the_layers_largest_value(explorer, model, test_set):
    x, _ = test_set
    for layer in ("conv1", "conv2"):
        sub = keras.Model(model.input, model.get_layer(layer).output)
        largest = max(float(np.max(sub(x[i:i + 500]))) for i in (0, 500))
        assert explorer.map_ranges[layer] == pytest.approx((0.0, largest), rel=1e-5)
    for index in (3, 4):
        explorer.controls["index"].value = index
        fm = explorer.maps["conv1"][..., 0]
        assert fm.max() <= explorer.map_ranges["conv1"][1] + 1e-6
        side = explorer.map_cell["conv1"]
        picture = pixels(explorer.map_pictures["conv1"].value)[:side, :side]   # map 0, top left
        scale = side // 26
        zero = np.kron(fm == 0, np.ones((scale, scale), bool))
        assert zero.any() and np.all(picture[zero] == BLACK_0), "0 must keep one colour"
    assert "0 to" in explorer.status.value


def test_strongest_maps_are_the_largest_means(explorer):
    explorer.controls["index"].value = 11
    explorer.controls["maps"].value = "strongest"
    try:
        for layer in ("conv1", "conv2"):
            means = explorer.maps[layer].mean(axis=(0, 1))
            shown = explorer.shown_maps[layer]
            assert len(shown) == MAPS_SHOWN
            assert shown == sorted(shown, key=lambda c: -means[c])
            assert means[shown[-1]] >= np.sort(means)[-MAPS_SHOWN] - 1e-12
            side, (lo, hi) = explorer.map_cell[layer], explorer.map_ranges[layer]
            fm = explorer.maps[layer][..., shown[5]]                    # row 2, column 2
            tile = pixels(explorer.map_pictures[layer].value)[side + 2:2 * side + 2,
                                                              side + 2:2 * side + 2, 0]
            want = np.clip((fm - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)
            step = side // fm.shape[0]
            np.testing.assert_allclose(tile[::step, ::step], want, atol=1)
        explorer.controls["maps"].value = "first"
        assert explorer.shown_maps["conv2"] == list(range(MAPS_SHOWN))
    finally:
        explorer.controls["maps"].value = "first"
    for layer in ("conv1", "conv2"):
        side = explorer.map_cell[layer]
        whole = pixels(explorer.map_pictures[layer].value)
        assert whole.shape[:2] == (2 * side + 2, 4 * side + 3 * 2)     # 2 rows of 4 maps, 2 px apart


def test_probability_chart_marks_the_prediction_and_the_label(explorer):
    explorer.controls["index"].value = 5
    svg = bytes(explorer.chart.value).decode()
    bars = re.findall(r'<rect class="p"[^>]*height="([0-9.]+)" fill="([^"]+)"', svg)
    assert len(bars) == 10
    assert [k for k, (_, fill) in enumerate(bars) if fill == "#ff7f0e"] == [explorer.predicted]
    np.testing.assert_allclose([float(h) for h, _ in bars], 120 * explorer.probabilities,
                               atol=0.01)
    assert f'text-decoration="underline">{explorer.label}<' in svg
    digit = pixels(explorer.digit_image.value)
    assert digit.shape[:2] == (140, 140) and digit.max() <= 255


@pytest.mark.parametrize("bad", [1000, -1, 2.5, "3", True, None])
def test_bad_index_is_refused(explorer, bad):
    explorer.controls["index"].value = 2
    before = explorer.probabilities.copy()
    with pytest.raises(ControlValueError, match="`index` must be a whole number from 0 to 999"):
        explorer.controls["index"].value = bad
    assert explorer.index == 2
    np.testing.assert_array_equal(explorer.probabilities, before)
    assert explorer.status.value.startswith("Refused: index must be")


def test_bad_maps_choice_is_refused(explorer):
    with pytest.raises(ControlValueError, match="`maps` must be one of 'first', 'strongest'"):
        explorer.controls["maps"].value = "all"


def test_hold_redraw_draws_once(explorer):
    count = explorer.redraw_count
    with explorer.hold_redraw():
        explorer.controls["index"].value = 12
        explorer.controls["maps"].value = "strongest"
        explorer.controls["maps"].value = "first"
    assert explorer.redraw_count == count + 1 and explorer.index == 12


def test_works_with_the_untrained_network():
    untrained = ClassifierExplorer(build_mnist_cnn(seed=0), index=3, maps="strongest")
    np.testing.assert_allclose(untrained.probabilities.sum(), 1.0, rtol=1e-5)
    assert untrained.probabilities.max() < 0.5          # random weights: no confident answer


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(index=1000), ValueError, "`index` must be at most 999"),
    (dict(index=-1), ValueError, "`index` must be at least 0"),
    (dict(index="3"), TypeError, "`index`"),
    (dict(maps="all"), ValueError, "`maps` must be one of"),
    (dict(model="mnist_cnn"), TypeError, "`model` must be a Keras model"),
])
def test_bad_arguments_are_refused(model, kwargs, error, message):
    kwargs.setdefault("model", model)
    with pytest.raises(error, match=message):
        ClassifierExplorer(**kwargs)


def test_a_model_without_the_lesson_07_layers_is_refused():
    with pytest.raises(ValueError, match="missing conv1, conv2, dense"):
        ClassifierExplorer(build_lenet5("modern"))
    small = keras.Sequential([keras.Input((14, 14, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ValueError, match="must take 28x28x1 images"):
        ClassifierExplorer(small)
