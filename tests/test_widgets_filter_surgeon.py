"""The filter surgeon of lesson 09, driven headlessly: edits of C1 checked against a fresh Keras
model given the same kernel with ``set_weights``, and the shipped file left as it was."""

from __future__ import annotations

import hashlib
import re

import keras
import numpy as np
import pytest

from cnnlab import data, weights
from cnnlab.models.lenet import LAYER_NAMES, build_lenet5
from cnnlab.widgets._controls import ControlValueError
from cnnlab.widgets.filter_surgeon import FilterSurgeon

SHIPPED = weights.weights_path("lenet5_modern")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


SHIPPED_BEFORE = (sha256(SHIPPED), SHIPPED.stat().st_mtime_ns)


@pytest.fixture(scope="module")
def fresh():
    """The shipped model opened separately: the reference the surgeon is compared with."""
    return keras.saving.load_model(SHIPPED, compile=False)


@pytest.fixture(scope="module")
def trained_c1(fresh):
    return [np.array(w) for w in fresh.get_layer("C1").get_weights()]   # (5, 5, 1, 6), (6,)


@pytest.fixture(scope="module")
def digits():
    (_, _), (x, y) = data.load_mnist((1, 1000))
    return x.astype(np.float32)[..., None] / 255.0, y.astype(int)      # (1000, 28, 28, 1)


@pytest.fixture(scope="module")
def module_surgeon():
    return FilterSurgeon()


@pytest.fixture
def s(module_surgeon):
    """The surgeon, every filter as trained, filter 0 and test digit 0 shown."""
    with module_surgeon.hold_redraw():
        module_surgeon.reset()
        module_surgeon.controls["filter"].value = 0
        module_surgeon.controls["digit"].value = 0
    return module_surgeon


def edited_reference(model, kernel, bias, x):
    """Every layer's output of ``model`` given C1 = (kernel, bias), then C1 put back."""
    c1 = model.get_layer("C1")
    old = c1.get_weights()
    c1.set_weights([kernel, bias])
    try:
        probe = keras.Model(model.input, [model.get_layer(n).output for n in LAYER_NAMES])
        return {n: np.asarray(o)[0] for n, o in zip(LAYER_NAMES, probe(x))}
    finally:
        c1.set_weights(old)


def assert_matches_reference(s, fresh, digits):
    x = digits[0][s.digit:s.digit + 1]
    want = edited_reference(fresh, s.kernels, s.biases, x)
    for name in LAYER_NAMES[:-1]:
        np.testing.assert_allclose(s.maps[name].reshape(want[name].shape), want[name],
                                   atol=1e-5, err_msg=name)
    np.testing.assert_allclose(s.probabilities, want["output"], atol=1e-6)
    assert s.predicted == int(want["output"].argmax())


# ----------------------------------------------------------------- the trained network

def test_starts_as_the_trained_network(s, fresh, trained_c1, digits):
    np.testing.assert_array_equal(s.kernels, trained_c1[0])
    np.testing.assert_array_equal(s.biases, trained_c1[1])
    assert_matches_reference(s, fresh, digits)
    np.testing.assert_array_equal(s.probabilities, s.trained_probabilities)
    assert s.label == 7 and s.predicted == 7 and not s.changed
    assert s.controls["preset"].value == "trained"
    assert s.status.value.startswith("All C1 filters back as trained: prediction 7 → 7")
    assert s.ranges["filter"] == pytest.approx(np.abs(trained_c1[0]).max())
    assert s.trained_accuracy == pytest.approx(0.993, abs=0.003)
    for picture in [s.filter_image, s.trained_image, s.digit_image,
                    *s.map_images.values()]:
        assert bytes(picture.value).startswith(b"\x89PNG")


def test_boxes_show_the_chosen_filter(s, trained_c1):
    s.controls["filter"].value = 4
    boxes = np.array([[s.controls[f"w_{r}_{c}"].value for c in range(5)] for r in range(5)])
    np.testing.assert_array_equal(boxes, trained_c1[0][:, :, 0, 4])
    assert s.controls["bias"].value == pytest.approx(float(trained_c1[1][4]))
    assert s.status.value.startswith("Showing C1 filter 4")


# ----------------------------------------------------------------- edits against Keras

def test_edited_outputs_equal_a_fresh_model_given_the_edited_kernel(s, fresh, trained_c1,
                                                                    digits):
    rng = np.random.default_rng(3)
    mine = rng.uniform(-0.3, 0.3, size=(5, 5))
    s.negate(2)
    s.zero(4)
    s.set_filter(1, mine, bias=0.05)
    s.controls["filter"].value = 0
    s.controls["w_2_3"].value = 0.25
    s.controls["digit"].value = 18
    k, b = trained_c1[0].copy(), trained_c1[1].copy()              # bookkeeping by hand
    k[..., 2], b[2] = -k[..., 2], -b[2]
    k[..., 4], b[4] = 0.0, 0.0
    k[:, :, 0, 1], b[1] = mine, 0.05
    k[2, 3, 0, 0] = 0.25
    np.testing.assert_allclose(s.kernels, k, atol=1e-7)
    np.testing.assert_allclose(s.biases, b, atol=1e-7)
    assert_matches_reference(s, fresh, digits)
    assert s.status.value.startswith("Test digit 18:") and "edited filters: 0, 1, 2, 4" in \
        s.status.value
    assert s.controls["preset"].value == "custom"


@pytest.mark.parametrize("i", [0, 3])
def test_negating_a_filter_flips_the_sign_of_its_pre_activation(s, i):
    before = s.preactivation.copy()                                  # (28, 28, 6)
    np.testing.assert_allclose(s.maps["C1"], np.maximum(before, 0), atol=1e-5)
    s.negate(i)
    others = [c for c in range(6) if c != i]
    np.testing.assert_allclose(s.preactivation[..., i], -before[..., i], atol=1e-12)
    np.testing.assert_array_equal(s.preactivation[..., others], before[..., others])
    np.testing.assert_allclose(s.maps["C1"], np.maximum(s.preactivation, 0), atol=1e-5)
    assert s.controls["preset"].value == "negated" and s.filter == i
    assert s.status.value.startswith(f"C1 filter {i} negated: prediction 7 → {s.predicted} (p ")
    s.negate(i)
    assert s.controls["preset"].value == "trained"


def test_zeroing_a_filter_darkens_its_map(s):
    s.controls["filter"].value = 5
    s.controls["zero"].click()
    assert not np.any(s.maps["C1"][..., 5]) and np.any(s.maps["C1"][..., 4])
    assert s.controls["preset"].value == "zero" and s.controls["bias"].value == 0.0


def test_swapping_twice_is_the_identity(s, trained_c1):
    p0, maps0 = s.probabilities.copy(), s.maps["C3"].copy()
    s.swap(1, 4)
    np.testing.assert_array_equal(s.kernels[..., 1], trained_c1[0][..., 4])
    np.testing.assert_array_equal(s.kernels[..., 4], trained_c1[0][..., 1])
    assert s.biases[1] == trained_c1[1][4] and s.biases[4] == trained_c1[1][1]
    assert s.status.value.startswith("C1 filters 1 and 4 swapped")
    s.controls["swap_with"].value = 1
    s.controls["filter"].value = 4
    s.controls["swap"].click()                                       # the button: 4 <-> 1
    np.testing.assert_array_equal(s.kernels, trained_c1[0])
    np.testing.assert_array_equal(s.probabilities, p0)
    np.testing.assert_array_equal(s.maps["C3"], maps0)


def test_reset_restores_the_trained_probabilities_exactly(s, trained_c1):
    p0 = s.probabilities.copy()
    s.controls["digit"].value = 5
    p5 = s.probabilities.copy()
    for i in range(6):
        s.set_filter(i, np.full((5, 5), 0.1 * i - 0.2), bias=0.01 * i)
    assert not np.array_equal(s.probabilities, p5)
    s.controls["reset_all"].click()
    np.testing.assert_array_equal(s.kernels, trained_c1[0])
    np.testing.assert_array_equal(s.biases, trained_c1[1])
    np.testing.assert_array_equal(s.probabilities, p5)
    np.testing.assert_array_equal(s.probabilities, s.trained_probabilities)
    s.controls["digit"].value = 0
    np.testing.assert_array_equal(s.probabilities, p0)
    assert "no filter edited" in s.status.value


def test_preset_menu_and_trained_button(s, trained_c1):
    s.controls["filter"].value = 2
    s.controls["preset"].value = "negated"
    np.testing.assert_array_equal(s.kernels[..., 2], -trained_c1[0][..., 2])
    s.controls["preset"].value = "zero"
    assert not np.any(s.kernels[..., 2]) and s.biases[2] == 0
    s.controls["trained"].click()
    np.testing.assert_array_equal(s.kernels, trained_c1[0])
    assert s.status.value.startswith("C1 filter 2 back as trained")


def test_a_weight_box_edit_redraws_once_and_marks_the_filter_custom(s, fresh, digits):
    count = s.redraw_count
    with s.hold_redraw():
        s.controls["w_0_0"].value = 0.3
        s.controls["w_4_4"].value = -0.3
        s.controls["bias"].value = 0.1
    assert s.redraw_count == count + 1
    assert (s.kernels[0, 0, 0, 0], s.kernels[4, 4, 0, 0]) == (np.float32(0.3), np.float32(-0.3))
    assert s.biases[0] == np.float32(0.1) and s.controls["preset"].value == "custom"
    assert_matches_reference(s, fresh, digits)


def test_a_surgery_that_changes_the_prediction_says_so(s, fresh, trained_c1, digits):
    x, _ = digits
    k, b = trained_c1[0].copy(), trained_c1[1].copy()
    k[..., [3, 4]], b[[3, 4]] = k[..., [4, 3]], b[[4, 3]]
    c1 = fresh.get_layer("C1")
    old = c1.get_weights()
    c1.set_weights([k, b])
    edited = np.asarray(fresh(x[:200])).argmax(axis=1)
    c1.set_weights(old)
    trained = np.asarray(fresh(x[:200])).argmax(axis=1)
    index = int(np.flatnonzero(edited != trained)[0])
    s.swap(3, 4)
    s.controls["digit"].value = index
    assert s.changed and s.predicted == edited[index] and s.trained_predicted == trained[index]
    assert re.search(f"prediction {trained[index]} → {edited[index]} \\(p [0-9.]+ → [0-9.]+\\)"
                     ", CHANGED", s.status.value)
    bars = re.findall(r'<rect class="p"[^>]*height="([0-9.]+)"', s.chart.value)
    ghosts = re.findall(r'<rect class="ghost"[^>]*height="([0-9.]+)"', s.chart.value)
    assert len(bars) == len(ghosts) == 10
    assert int(np.argmax([float(h) for h in bars])) == edited[index]
    assert int(np.argmax([float(h) for h in ghosts])) == trained[index]


def test_accuracy_agrees_with_keras(s, fresh, trained_c1, digits):
    x, y = digits
    assert s.accuracy(1000) == pytest.approx(s.trained_accuracy)
    s.zero(0)
    k, b = trained_c1[0].copy(), trained_c1[1].copy()
    k[..., 0], b[0] = 0.0, 0.0
    c1 = fresh.get_layer("C1")
    old = c1.get_weights()
    c1.set_weights([k, b])
    want = float(np.mean(np.asarray(fresh(x)).argmax(axis=1) == y))
    c1.set_weights(old)
    assert s.accuracy() == pytest.approx(want)
    s.controls["digit"].value = 777                  # a digit not seen yet: the trained
    assert s.accuracy() == pytest.approx(want)       # network runs once, then the edited again
    s.reset()
    each = s.accuracy_without_each(300)
    assert each.shape == (6,)
    s.zero(0)
    assert each[0] == pytest.approx(s.accuracy(300))
    s.reset()
    assert s.accuracy(1000) == pytest.approx(s.trained_accuracy)


# ----------------------------------------------------------------- the files and models given

def test_the_shipped_file_is_never_changed(s):
    s.negate(1)
    s.set_filter(2, np.ones((5, 5)))
    assert (sha256(SHIPPED), SHIPPED.stat().st_mtime_ns) == SHIPPED_BEFORE
    assert SHIPPED_BEFORE[0] == weights.CHECKSUMS["lenet5_modern.keras"]


def test_a_model_passed_in_is_copied_not_edited():
    model = build_lenet5("classic", seed=1)
    before = [np.array(w) for w in model.get_layer("C1").get_weights()]
    surgeon = FilterSurgeon(model, filter=2, digit=3)
    surgeon.negate(2)
    for w, old in zip(model.get_layer("C1").get_weights(), before):
        np.testing.assert_array_equal(w, old)
    np.testing.assert_allclose(surgeon.maps["C1"], np.tanh(surgeon.preactivation), atol=1e-5)
    assert "blue" in surgeon.widget.children[3].children[0].value        # tanh: signed maps


# ----------------------------------------------------------------- refusals

@pytest.mark.parametrize("name, value, match", [
    ("w_1_2", 2e6, "`w_1_2` must be a number from -1e\\+06 to 1e\\+06"),
    ("bias", "0.1", "`bias` must be a number"),
    ("filter", 6, "`filter` must be one of 0, 1, 2, 3, 4, 5"),
    ("swap_with", -1, "`swap_with` must be one of"),
    ("digit", 1000, "`digit` must be a whole number from 0 to 999"),
    ("preset", "random", "`preset` must be one of 'custom', 'trained', 'zero', 'negated'"),
])
def test_controls_refuse_bad_values(s, name, value, match):
    old, p = s.controls[name].value, s.probabilities.copy()
    with pytest.raises(ControlValueError, match=match):
        s.controls[name].value = value
    assert s.controls[name].value == old and s.status.value.startswith("Refused:")
    np.testing.assert_array_equal(s.probabilities, p)


def test_a_box_being_typed_in_keeps_the_last_good_result(s):
    p = s.probabilities.copy()
    s.controls["w_3_3"].value = float("nan")
    assert "w_3_3 is not a number" in s.status.value
    np.testing.assert_array_equal(s.probabilities, p)
    assert np.all(np.isfinite(s.kernels))


@pytest.mark.parametrize("call, error, match", [
    (lambda s: s.set_filter(0, np.ones((3, 3))), ValueError, "`weights` must have shape \\(5, 5\\)"),
    (lambda s: s.set_filter(0, np.full((5, 5), np.nan)), ValueError, "`weights` must hold finite"),
    (lambda s: s.set_filter(0, np.full((5, 5), 2e6)), ValueError, "`weights` must hold numbers"),
    (lambda s: s.set_filter(0, np.ones((5, 5)), bias=np.inf), ValueError, "`bias` must be"),
    (lambda s: s.set_filter(6, np.ones((5, 5))), ValueError, "`i` must be at most 5"),
    (lambda s: s.zero(-1), ValueError, "`i` must be at least 0"),
    (lambda s: s.negate(1.0), TypeError, "`i` must be an integer"),
    (lambda s: s.swap(0, 6), ValueError, "`j` must be at most 5"),
    (lambda s: s.accuracy(0), ValueError, "`n` must be at least 1"),
    (lambda s: s.accuracy_without_each(20_000), ValueError, "`n` must be at most 10000"),
])
def test_methods_refuse_bad_arguments(s, call, error, match):
    kernels = s.kernels.copy()
    with pytest.raises(error, match=match):
        call(s)
    np.testing.assert_array_equal(s.kernels, kernels)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(filter=6), ValueError, "`filter` must be at most 5"),
    (dict(digit=1000), ValueError, "`digit` must be at most 999"),
    (dict(model=42), TypeError, "`model` must be a Keras LeNet-5"),
    (dict(model="lenet5_nothing"), FileNotFoundError, "`model` 'lenet5_nothing' is not a file"),
])
def test_constructor_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        FilterSurgeon(**kwargs)


def test_constructor_refuses_a_model_that_is_not_a_lenet5():
    plain = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(name="C1")])
    with pytest.raises(ValueError, match="`model` has no layer named 'S2'"):
        FilterSurgeon(plain)


def test_each_layer_is_one_picture_of_its_maps_on_the_fixed_scale(s):
    import io

    from PIL import Image

    s.zero(2)
    png = np.asarray(Image.open(io.BytesIO(bytes(s.map_images["C1"].value))).convert("RGBA"))
    assert png.shape == (84, 6 * 87 - 3, 4)                  # 6 maps of 28x28 at 3 px, 3 px apart
    top = s.ranges["C1"]
    for i in range(6):
        tile = png[:, i * 87:i * 87 + 84].astype(float)
        want = np.clip(s.maps["C1"][..., i] * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
        np.testing.assert_allclose(tile[::3, ::3, 0], want, atol=1, err_msg=f"C1 map {i}")
        assert np.all(tile[..., 3] == 255)
    assert np.all(png[:, 84:87, 3] == 0)                     # the gaps are transparent
    assert np.all(png[:, 2 * 87:2 * 87 + 84, :3] == 0)      # the zeroed filter's map is black
    c3 = np.asarray(Image.open(io.BytesIO(bytes(s.map_images["C3"].value))))
    assert c3.shape[:2] == (80, 8 * 88 - 8)                  # maps 0-7 of 16 at 8 px
    s.reset()
