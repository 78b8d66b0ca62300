"""Lesson 09's drawing pad, driven headlessly: ``set_drawing`` and the canvas's ``pixels``
(as the browser sends them), checked against the shipped LeNet-5 run by Keras."""

from __future__ import annotations

import io
import json
import re
import statistics
import time
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnlab import data
from cnnlab.digits import mnist_style
from cnnlab.models import load_model
from cnnlab.widgets._controls import ControlValueError
from cnnlab.widgets.drawing_pad import (
    CANVAS_SIDE, PAD_LAYERS, RANGE_DIGITS, DrawingPad, PadCanvas, maps_png, probability_svg,
)

ROOT = Path(__file__).resolve().parent.parent
SHAPES = {"C1": (28, 28, 6), "S2": (14, 14, 6), "C3": (10, 10, 16), "S4": (5, 5, 16),
          "C5": (120,), "F6": (84,)}


@pytest.fixture(scope="module")
def model():
    return load_model("lenet5_modern")            # a second copy: the reference


@pytest.fixture(scope="module")
def pad():
    return DrawingPad()


@pytest.fixture(scope="module")
def digits():
    (_, _), (x, y) = data.load_mnist((1, RANGE_DIGITS))
    return x, y


def pen(shape: str, width: int = 20) -> np.ndarray:
    """A "1" (vertical stroke) or a "0" (ellipse) on a 280x280 canvas, brightness 0-1."""
    im = Image.new("L", (CANVAS_SIDE, CANVAS_SIDE))
    draw = ImageDraw.Draw(im)
    if shape == "1":
        draw.line([(140, 40), (140, 240)], fill=255, width=width)
    else:
        draw.ellipse([80, 40, 200, 240], outline=255, width=width)
    return np.asarray(im) / 255.0


def enlarge(digit: np.ndarray, side: int = CANVAS_SIDE) -> np.ndarray:
    big = Image.fromarray(digit.astype(np.float32) / 255.0).resize(
        (side, side), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(big, dtype=np.float64), 0, 1)


def png_levels(value: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(value))).convert("RGB"), dtype=float)


def rgba(value: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(value))).convert("RGBA"), dtype=float)


def expected_levels(a: np.ndarray, scale, pixels: int) -> np.ndarray:
    """RGB of ``a`` drawn from scale.vmin to scale.vmax in scale.cmap, ``pixels`` per value."""
    lut = matplotlib.colormaps[scale.cmap](np.linspace(0, 1, 256), bytes=True)[:, :3]
    index = np.clip((a - scale.vmin) * 255.0 / (scale.vmax - scale.vmin) + 0.5, 0, 255)
    rgb = lut[index.astype(np.uint8)].astype(float)
    return np.repeat(np.repeat(rgb, pixels, axis=0), pixels, axis=1)


def layer_outputs(model, x: np.ndarray) -> dict:
    """Every layer's output for one (28, 28) input, by a Keras model per layer."""
    out = {}
    for name in (*PAD_LAYERS, "output"):
        sub = keras.Model(model.input, model.get_layer(name).output)
        out[name] = np.asarray(sub(x[None, :, :, None], training=False))[0]
    return out


# ----------------------------------------------------------------- a blank pad

def test_blank_pad_asks_for_a_digit_and_predicts_nothing(pad):
    pad.clear()
    assert "draw a digit" in pad.status.value
    assert pad.predicted is None
    np.testing.assert_array_equal(pad.probabilities, np.zeros(10))
    assert not pad.network_input.any()
    assert {k: v.shape for k, v in pad.maps.items()} == SHAPES
    assert 'data-predicted=""' in pad.chart.value and "draw a digit" in pad.chart.value
    assert not re.search(r"nan|inf", pad.chart.value, re.I)
    assert bytes(pad.canvas.pixels) == bytes(CANVAS_SIDE * CANVAS_SIDE)


# ----------------------------------------------------------------- against Keras

@pytest.mark.parametrize("index", [0, 1, 2, 7])
def test_drawn_digit_goes_through_the_network_as_keras_says(pad, model, digits, index):
    x, y = digits
    drawing = enlarge(x[index])
    pad.set_drawing(drawing)
    want_input = mnist_style(drawing)
    np.testing.assert_allclose(pad.network_input, want_input, atol=1e-6)
    want = layer_outputs(model, want_input)
    for name in PAD_LAYERS:
        np.testing.assert_allclose(pad.maps[name], want[name].reshape(SHAPES[name]),
                                   atol=1e-5, err_msg=name)
    np.testing.assert_allclose(pad.probabilities, want["output"], atol=1e-6)
    assert pad.predicted == int(np.argmax(want["output"])) == int(y[index])
    assert f"predicted {pad.predicted} " in pad.status.value
    assert f'data-predicted="{pad.predicted}"' in pad.chart.value
    np.testing.assert_array_equal(pad.drawing, drawing)


@pytest.mark.parametrize("shape", ["1", "0"])
def test_a_pen_drawn_one_and_zero_are_read(pad, shape):
    pad.set_drawing(pen(shape))
    assert pad.predicted == int(shape)
    assert pad.probabilities[int(shape)] > 0.5
    np.testing.assert_allclose(pad.probabilities.sum(), 1.0, atol=1e-5)


def tile(png: np.ndarray, k: int, h: int, w: int, pixels: int, columns=8, gap=3):
    """Map ``k`` of a layer's picture (RGBA), (h * pixels, w * pixels, 4)."""
    y, x = (k // columns) * (h * pixels + gap), (k % columns) * (w * pixels + gap)
    return png[y:y + h * pixels, x:x + w * pixels]


def layer_picture(pad, name: str) -> np.ndarray:
    """The rows of the pad's one maps picture that hold layer ``name`` (RGBA)."""
    top, height = pad.layer_rows[name]
    return rgba(pad.maps_image.value)[top:top + height]


def test_pictures_show_the_state_on_fixed_scales(pad, digits):
    pad.set_drawing(enlarge(digits[0][4]))
    np.testing.assert_allclose(png_levels(pad.input_image.value)[..., 0],
                               np.repeat(np.repeat(np.floor(pad.network_input * 255 + 0.5),
                                                   6, axis=0), 6, axis=1), atol=1)
    whole = rgba(pad.maps_image.value)
    ends = [top + height for top, height in pad.layer_rows.values()]
    tops = [top for top, _ in pad.layer_rows.values()]
    assert tops[0] == 0 and ends[-1] == whole.shape[0]
    for end, top in zip(ends, tops[1:]):                                 # layers 10 rows apart
        assert top - end == 10 and np.all(whole[end:top, :, 3] == 0)
    for name, pixels in (("C1", 2), ("S2", 4), ("C3", 4), ("S4", 8)):
        h, w, c = SHAPES[name]
        png = layer_picture(pad, name)
        rows = -(-c // 8)
        width = min(c, 8) * (w * pixels + 3) - 3
        assert png.shape[0] == rows * (h * pixels + 3) - 3
        assert np.all(png[:, width:, 3] == 0)                           # nothing right of it
        for k in range(c):
            part = tile(png, k, h, w, pixels)
            assert np.all(part[..., 3] == 255)
            np.testing.assert_allclose(part[..., :3], expected_levels(
                pad.maps[name][..., k], pad.scales[name], pixels), atol=1, err_msg=f"{name} {k}")
        assert np.all(png[:, w * pixels:w * pixels + 3, 3] == 0)      # transparent gaps
        if rows > 1:
            assert np.all(png[h * pixels:h * pixels + 3, :, 3] == 0)
    for name, (h, w) in (("C5", (10, 12)), ("F6", (7, 12))):
        png = layer_picture(pad, name)
        pixels = png.shape[0] // h
        np.testing.assert_allclose(png[:, :w * pixels, :3], expected_levels(
            pad.maps[name].reshape(h, w), pad.scales[name], pixels), atol=1)


def test_colour_ranges_are_fixed_from_the_test_digits(pad, model, digits):
    x = digits[0].astype(np.float32)[..., None] / 255.0                   # (500, 28, 28, 1)
    before = dict(pad.scales)
    for name in PAD_LAYERS:
        largest = float(np.asarray(keras.Model(model.input, model.get_layer(name).output)(
            x, training=False)).max())
        scale = pad.scales[name]
        assert scale.cmap == "gray" and scale.vmin == 0                    # ReLU: white = high
        assert scale.vmax == pytest.approx(largest, rel=1e-5)
    pad.set_drawing(pen("0"))
    pad.set_drawing(pen("1", width=40))
    assert pad.scales == before                                        # no stretch per drawing


def test_browser_pixels_are_read_like_a_stroke(pad):
    ink = np.round(pen("1") * 255).astype(np.uint8)
    count = pad.redraw_count
    sends = pad.canvas.sends
    pad.canvas.set_state({"pixels": memoryview(ink.tobytes()), "strokes": 1,  # as the browser
                          "sends": sends + 1})                               # sends a stroke
    assert pad.redraw_count == count + 1
    np.testing.assert_allclose(pad.drawing, ink / 255.0)
    assert pad.predicted == 1
    np.testing.assert_allclose(pad.network_input, mnist_style(ink / 255.0), atol=1e-6)
    assert 'data-strokes="1"' in pad.chart.value
    pad.canvas.set_state({"pixels": memoryview(ink.tobytes()), "strokes": 2,  # the same pixels
                          "sends": sends + 2})                               # again: read again
    assert pad.redraw_count == count + 2 and 'data-strokes="2"' in pad.chart.value


def test_pixels_of_the_wrong_size_are_refused_and_the_drawing_kept(pad):
    pad.set_drawing(pen("0"))
    kept = pad.drawing.copy()
    pad.canvas.set_state({"pixels": memoryview(bytes(100)), "sends": pad.canvas.sends + 1})
    assert "not 280x280" in pad.status.value
    np.testing.assert_array_equal(pad.drawing, kept)
    assert pad.predicted == 0


def test_set_drawing_shows_the_drawing_on_the_canvas(pad):
    first = pad.canvas.picture_id
    small = np.zeros((28, 28))
    small[4:24, 13:15] = 1.0
    pad.set_drawing(small)
    assert pad.canvas.picture_id == first + 1
    ink = np.frombuffer(pad.canvas.pixels, np.uint8).reshape(CANVAS_SIDE, CANVAS_SIDE)
    assert ink[140, 140] == 255 and ink[140, 20] == 0
    assert pad.drawing.shape == (28, 28)
    big = np.zeros((560, 400))
    big[100:460, 180:220] = 1.0
    pad.set_drawing(big)
    assert len(pad.canvas.pixels) == CANVAS_SIDE * CANVAS_SIDE and pad.predicted == 1


def test_hold_redraw_draws_once(pad):
    count = pad.redraw_count
    with pad.hold_redraw():
        pad.set_drawing(pen("1"))
        pad.set_drawing(pen("0"))
    assert pad.redraw_count == count + 1 and pad.predicted == 0


# ----------------------------------------------------------------- the control

def test_show_input_toggle_hides_and_shows_the_input(pad):
    box = pad.widget.children[0].children[1]
    assert pad.input_image in box.children[1].children
    pad.controls["show_input"].value = False
    assert box.layout.display == "none"
    pad.controls["show_input"].value = True
    assert box.layout.display in ("", None)


@pytest.mark.parametrize("bad", ["yes", 2, None, 0.5])
def test_show_input_refuses_what_is_not_a_flag(pad, bad):
    pad.controls["show_input"].value = True
    with pytest.raises(ControlValueError, match="show_input"):
        pad.controls["show_input"].value = bad
    assert pad.controls["show_input"].value is True
    assert "Refused" in pad.status.value


# ----------------------------------------------------------------- refused arguments

@pytest.mark.parametrize("image, error, match", [
    (np.zeros((5, 5, 1)), ValueError, "2 dimensions"),
    (np.zeros((561, 20)), ValueError, "560x560"),
    (np.zeros((0, 20)), ValueError, "560x560"),
    (np.full((5, 5), 1.01), ValueError, "from 0"),
    (np.full((5, 5), -1.0), ValueError, "from 0"),
    (np.full((5, 5), np.inf), ValueError, "finite"),
    ("digit", TypeError, "numbers"),
])
def test_set_drawing_refuses_bad_pictures(pad, image, error, match):
    pad.set_drawing(pen("1"))
    with pytest.raises(error, match=match) as info:
        pad.set_drawing(image)
    assert "`image`" in str(info.value)
    assert pad.predicted == 1                                          # nothing changed


@pytest.mark.parametrize("kwargs, error, match", [
    ({"model": "lenet"}, TypeError, "`model` must be a Keras model"),
    ({"show_input": 1}, TypeError, "`show_input`"),
    ({"stroke_width": 2}, ValueError, "`stroke_width`"),
    ({"stroke_width": 61}, ValueError, "at most 60"),
    ({"stroke_width": 20.5}, TypeError, "`stroke_width`"),
    ({"drawing": np.ones((3, 3)) * 2}, ValueError, "`drawing`"),
])
def test_bad_constructor_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        DrawingPad(**kwargs)


def test_a_model_of_the_wrong_shape_is_refused():
    inputs = keras.Input((32, 32, 1))
    wrong = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="28x28x1"):
        DrawingPad(wrong)


def test_first_drawing_and_own_model(model):
    pad = DrawingPad(model, drawing=pen("0"), show_input=False)
    assert pad.predicted == 0
    assert pad.widget.children[0].children[1].layout.display == "none"


# ----------------------------------------------------------------- chart, front end, timing

def test_maps_png_draws_signed_maps_on_a_diverging_scale_and_refuses_bad_maps():
    from cnnlab.plot import colour_scale

    maps = [np.array([[-2.0, 0.0], [1.0, 4.0]]), np.zeros((2, 2))]
    scale = colour_scale((-2.0, 4.0))                                  # -4 .. 4, RdBu_r
    assert scale.cmap == "RdBu_r" and (scale.vmin, scale.vmax) == (-4, 4)
    png = rgba(maps_png(maps, scale, pixels=3, columns=8, gap=3))
    assert png.shape == (6, 15, 4)
    np.testing.assert_allclose(png[:6, :6, :3], expected_levels(maps[0], scale, 3), atol=1)
    np.testing.assert_allclose(png[0, 9, :3], [247, 247, 247], atol=2)  # 0 is (near) white
    assert np.all(png[:, 6:9, 3] == 0)
    with pytest.raises(ValueError, match="1 to 64 maps of one shape"):
        maps_png([np.zeros((2, 2)), np.zeros((3, 3))], scale)
    with pytest.raises(ValueError, match="1 to 64 maps"):
        maps_png([], scale)


def test_probability_chart_marks_the_prediction():
    p = np.array([0.05, 0.7, 0.05, 0.2, 0, 0, 0, 0, 0, 0])
    svg = probability_svg(p, 1)
    rects = re.findall(r'<rect class="([^"]*)"[^>]*height="([0-9.]+)" fill="(#[0-9a-f]{6})"', svg)
    assert len(rects) == 10
    assert [c for c, _, _ in rects].count("p predicted") == 1 and rects[1][0] == "p predicted"
    assert rects[1][2] == "#f58518" and {f for _, _, f in rects[2:]} == {"#4c78a8"}
    np.testing.assert_allclose([float(h) for _, h, _ in rects], p * 120, atol=0.06)
    assert "predicted 1: 70.0 %" in svg


def test_front_end_is_shipped_and_draws_with_pointer_events():
    js = (ROOT / "cnnlab" / "widgets" / "static" / "drawing_pad.js").read_text()
    for needle in ("pointerdown", "pointermove", "pointerup", "setPointerCapture",
                   "touchAction", "THROTTLE_MS = 100", '"clear"', "export default"):
        assert needle in js
    assert str(PadCanvas._esm) == js                                  # the file, inlined
    assert "widgets/static/*" in (ROOT / "pyproject.toml").read_text()
    state = PadCanvas().get_state()
    assert {"size", "stroke_width", "pixels", "strokes", "sends", "picture_id"} <= set(state)
    json.dumps({k: v for k, v in state.items() if k != "pixels"})


def test_redraw_time_is_recorded(pad):
    times = []
    for i in range(10):
        start = time.perf_counter()
        pad.set_drawing(pen("01"[i % 2]))
        times.append((time.perf_counter() - start) * 1e3)
        assert np.isfinite(pad.last_redraw_ms) and pad.last_redraw_ms > 0
    print(f"\nset_drawing -> every picture: median {statistics.median(times):.0f} ms")
