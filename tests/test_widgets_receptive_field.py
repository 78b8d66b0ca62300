"""Receptive fields in lesson 10: the explorer's window tables against the Keras builders,
its pixel ranges against two brute-force methods (intervals walked back through every
window; the non-zero gradient of a Keras model with the same windows), and the explorer
driven headlessly by its sliders and by a click on its grid."""

from __future__ import annotations

import io
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from cnnlab import shapes  # noqa: E402
from cnnlab.widgets._controls import ControlValueError  # noqa: E402
from cnnlab.widgets.receptive_field import (  # noqa: E402
    DEFAULT_LAYERS, GRID_COLOURS, INPUT_SIDES, NETWORK_WINDOWS, NETWORKS, ClickImage,
    ReceptiveFieldExplorer, network_layers, unit_field,
)

SETTINGS = settings(max_examples=20, deadline=None)


# ----------------------------------------------------------------- references

def walk_back(windows, side, row):
    """Input rows (first, last) of unit ``row`` of the last window: one window at a time, backwards.

    Every window maps output cells ``a..b`` to input cells ``a*s - pad .. b*s - pad + k - 1``
    of its own (padded) input, with the padding Keras uses: TensorFlow's "same" rule.
    """
    sides = [side]
    for w in windows:
        n = sides[-1]
        sides.append((n - w.kernel) // w.stride + 1 if w.padding == "valid" else
                     -(-n // w.stride) if w.padding == "same" else
                     (n + 2 * w.padding - w.kernel) // w.stride + 1)
    first = last = row
    for w, n in zip(reversed(windows), reversed(sides[:-1])):
        if w.padding == "same":
            out = -(-n // w.stride)
            pad = max((out - 1) * w.stride + w.kernel - n, 0) // 2
        else:
            pad = 0 if w.padding == "valid" else w.padding
        first, last = first * w.stride - pad, last * w.stride - pad + w.kernel - 1
    return first, last


@pytest.fixture(scope="module")
def keras():
    from cnnlab.session import import_keras
    return import_keras()


@pytest.fixture(scope="module")
def builder_windows(keras):
    """(name, kernel, stride, padding, maps) of every window layer of the three Keras builders.

    A ZeroPadding2D layer (LeNet-5's ``pad``) becomes the padding of the next window.
    AlexNet and VGG-16 are built on small inputs: the windows do not depend on the input size.
    """
    from cnnlab.models import build_alexnet, build_lenet5, build_vgg16
    models = {"LeNet-5": build_lenet5("modern"),
              "AlexNet": build_alexnet(input_shape=(67, 67, 3), n_classes=2),
              "VGG-16": build_vgg16(input_shape=(32, 32, 3), n_classes=2)}
    found = {}
    for network, model in models.items():
        rows, pad = [], None
        for layer in model.layers:
            kind = type(layer).__name__
            if kind == "ZeroPadding2D":
                (top, bottom), (left, right) = layer.padding
                assert top == bottom == left == right
                pad = top
            elif kind in ("Conv2D", "MaxPooling2D"):
                kernel = layer.kernel_size if kind == "Conv2D" else layer.pool_size
                assert kernel[0] == kernel[1] and layer.strides[0] == layer.strides[1]
                maps = layer.filters if kind == "Conv2D" else rows[-1][4]
                padding = layer.padding if pad is None else pad
                assert pad is None or layer.padding == "valid"
                rows.append((layer.name, kernel[0], layer.strides[0], padding, maps))
                pad = None
        found[network] = rows
    return found


def ones_model(keras, network):
    """A one-channel Keras chain with the network's windows, every kernel all ones, no bias."""
    layers = keras.layers
    side = INPUT_SIDES[network]
    inputs = keras.Input((side, side, 1))
    x, outputs = inputs, []
    for w in NETWORK_WINDOWS[network]:
        if not isinstance(w.padding, str):
            x = layers.ZeroPadding2D(w.padding)(x)
        x = layers.Conv2D(1, w.kernel, strides=w.stride, use_bias=False, kernel_initializer="ones",
                          padding=w.padding if isinstance(w.padding, str) else "valid")(x)
        outputs.append(x)
    return keras.Model(inputs, outputs)


def shown_cells(png: bytes, side: int, colour) -> list[tuple]:
    """The grid cells of the grid picture whose centre pixel has ``colour``."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))       # (H, W, 3)
    scale = pixels.shape[0] // side
    centres = pixels[scale // 2::scale, scale // 2::scale][:side, :side]  # (side, side, 3)
    return [tuple(map(int, rc)) for rc in np.argwhere(np.all(centres == colour, axis=-1))]


# ----------------------------------------------------------------- the window tables

@pytest.mark.parametrize("network", NETWORKS)
def test_windows_match_the_keras_builders(builder_windows, network):
    assert [tuple(w) for w in NETWORK_WINDOWS[network]] == builder_windows[network]


@pytest.mark.parametrize("network", NETWORKS)
def test_field_sizes_and_jumps_are_those_of_shapes_receptive_field(network):
    rows = shapes.receptive_field([(w.kernel, w.stride) for w in NETWORK_WINDOWS[network]])
    table = network_layers(network)
    assert [r.size for r in table] == [f.size[0] for f in rows]
    assert [r.jump for r in table] == [f.jump[0] for f in rows]


def test_the_lesson_numbers():
    vgg = {r.name: r for r in network_layers("VGG-16")}
    assert (vgg["block5_pool"].size, vgg["block5_pool"].jump) == (212, 32)
    assert vgg["block5_pool"].output_shape == (7, 7, 512)
    assert [r.size for r in network_layers("LeNet-5")] == [5, 6, 14, 16, 32]
    alex = [r.output_shape[0] for r in network_layers("AlexNet")]
    assert alex == [55, 27, 27, 13, 13, 13, 13, 6]
    assert unit_field("VGG-16", "block5_conv3", 3, 4) == ((196, 196), 16, (-42, 153), (-26, 169))


@pytest.mark.parametrize("network", NETWORKS)
def test_every_unit_sees_the_rows_found_by_walking_back_through_the_windows(network):
    windows = NETWORK_WINDOWS[network]
    for depth, info in enumerate(network_layers(network), 1):
        for i in range(info.output_shape[0]):
            expected = walk_back(windows[:depth], INPUT_SIDES[network], i)
            field = unit_field(network, info.name, i, info.output_shape[0] - 1 - i)
            assert field.rows == expected, (info.name, i)
            assert field.cols == walk_back(windows[:depth], INPUT_SIDES[network],
                                           info.output_shape[0] - 1 - i)


@pytest.mark.parametrize("network", NETWORKS)
def test_the_drawn_field_is_where_the_gradient_of_an_all_ones_network_is_not_zero(keras, network):
    import tensorflow as tf
    model = ones_model(keras, network)
    side = INPUT_SIDES[network]
    x = tf.ones((1, side, side, 1))
    rng = np.random.default_rng(10)
    units = []                                     # (layer, row, col) to follow back
    for info in network_layers(network):
        n = info.output_shape[0]
        units += [(info, r, c) for r, c in {(0, 0), (n - 1, n - 1), tuple(rng.integers(0, n, 2))}]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outputs = dict(zip([r.name for r in network_layers(network)], model(x)))
        picked = [outputs[info.name][0, row, col, 0] for info, row, col in units]
    for info in network_layers(network):
        assert tuple(outputs[info.name].shape[1:3]) == info.output_shape[:2]
    for (info, row, col), value in zip(units, picked):
        grad = tape.gradient(value, x).numpy()[0, :, :, 0]                  # (side, side)
        field = unit_field(network, info.name, int(row), int(col))
        (r0, r1), (c0, c1) = ((max(a, 0), min(b, side - 1)) for a, b in (field.rows, field.cols))
        expected = np.zeros((side, side), bool)
        expected[r0:r1 + 1, c0:c1 + 1] = True
        np.testing.assert_array_equal(grad != 0, expected, err_msg=f"{info.name} {row, col}")
    del tape


# ----------------------------------------------------------------- unit_field

def test_unit_field_refuses_a_unit_off_the_grid():
    with pytest.raises(ValueError, match="`row` must be at most 13"):
        unit_field("VGG-16", "block5_conv3", 14, 0)
    with pytest.raises(ValueError, match="`col` must be at least 0"):
        unit_field("VGG-16", "block5_conv3", 0, -1)


def test_unit_field_refuses_an_unknown_network_or_layer():
    with pytest.raises(ValueError, match="`network` must be one of 'LeNet-5', 'AlexNet'"):
        unit_field("ResNet", "conv1", 0, 0)
    with pytest.raises(ValueError, match="`layer` must be one of 'conv1', 'pool1'"):
        unit_field("AlexNet", "C1", 0, 0)


# ----------------------------------------------------------------- the explorer

@pytest.fixture(scope="module")
def explorer():
    return ReceptiveFieldExplorer()


@pytest.fixture
def rf(explorer):
    c = explorer.controls
    with explorer.hold_redraw():
        c["network"].value = "VGG-16"
        c["layer"].value = "block5_conv3"
        c["row"].value, c["col"].value = 7, 7
    return explorer


def test_explorer_starts_on_the_centre_unit_of_vgg16_block5_conv3():
    rf = ReceptiveFieldExplorer()
    assert (rf.network, rf.layer, rf.unit) == ("VGG-16", "block5_conv3", (7, 7))
    assert rf.output_shape == (14, 14, 512) and rf.jump == 16
    assert rf.field_size == (196, 196) and rf.field_rows == rf.field_cols == (22, 217)
    assert rf.input_image.shape == (224, 224, 3)
    assert bytes(rf.picture.value).startswith(b"\x89PNG")
    assert "all of it on the image" in rf.status.value


def test_explorer_sliders_set_the_unit_and_what_it_shows(rf):
    picture = rf.picture.value
    with rf.hold_redraw():
        rf.controls["row"].value, rf.controls["col"].value = 3, 4
    assert rf.field_rows == (-42, 153) and rf.field_cols == (-26, 169)
    assert rf.clipped_rows == (0, 153) and rf.clipped_cols == (0, 169)
    assert rf.status.value.startswith("block5_conv3 unit (3, 4) of 14x14: field 196x196 px, "
                                      "jump 16, rows -42..153, cols -26..169 (the part outside "
                                      "the image is padding)")
    assert rf.picture.value != picture and rf.grid.picked == [3, 4]
    assert shown_cells(rf.grid.value, 14, GRID_COLOURS[2]) == [(3, 4)]


@SETTINGS
@given(st.sampled_from([(n, r.name) for n in NETWORKS for r in network_layers(n)]),
       st.floats(0, 1), st.floats(0, 1))
def test_explorer_shows_unit_field_for_any_layer_and_unit(explorer, choice, u, v):
    network, layer = choice
    explorer.controls["network"].value = network
    explorer.controls["layer"].value = layer
    n = explorer.output_shape[0]
    row, col = min(int(u * n), n - 1), min(int(v * n), n - 1)
    with explorer.hold_redraw():
        explorer.controls["row"].value, explorer.controls["col"].value = row, col
    field = unit_field(network, layer, row, col)
    assert (explorer.field_size, explorer.jump) == (field.size, field.jump)
    assert (explorer.field_rows, explorer.field_cols) == (field.rows, field.cols)
    assert explorer.controls["row"].max == n - 1 and explorer.grid.rows == n
    assert shown_cells(explorer.grid.value, n, GRID_COLOURS[2]) == [(row, col)]


def test_explorer_grid_marks_the_units_whose_field_reaches_the_padding(rf):
    rf.controls["layer"].value = "block1_pool"          # 112x112, field 6, offset -2
    side = 112
    cells = set(shown_cells(rf.grid.value, side, GRID_COLOURS[1]))
    edge = {(r, c) for r in range(side) for c in range(side)
            if min(r, c) == 0 or max(r, c) == side - 1} - {rf.unit}
    assert cells == edge


def test_explorer_click_picks_the_unit_and_moves_the_sliders(rf):
    rf.grid.set_state({"picked": [2, 11]})               # what a click in the browser sends
    assert rf.unit == (2, 11) and rf.controls["row"].value == 2
    assert rf.status.value.startswith("block5_conv3 unit (2, 11)")
    rf.grid.picked = [13, 0]                             # the same, from Python
    assert (rf.controls["row"].value, rf.controls["col"].value) == (13, 0)
    rf.controls["col"].value = 5                         # and back: the grid follows the slider
    assert rf.grid.picked == [13, 5]


def test_explorer_refuses_a_click_off_the_grid(rf):
    rf.grid.picked = [14, 2]
    assert rf.unit == (7, 7) and rf.grid.picked == [7, 7]
    assert "Refused the click at (14, 2): the grid is 14x14" in rf.status.value


def test_explorer_layer_change_keeps_the_unit_over_the_same_place(rf):
    with rf.hold_redraw():
        rf.controls["row"].value, rf.controls["col"].value = 3, 10
    centre = [(a + b) / 2 for a, b in (rf.field_rows, rf.field_cols)]
    rf.controls["layer"].value = "block3_conv1"           # 56x56, jump 4
    assert rf.controls["row"].max == 55 and rf.grid.rows == 56
    now = [(a + b) / 2 for a, b in (rf.field_rows, rf.field_cols)]
    assert all(abs(a - b) <= 2 for a, b in zip(centre, now))
    rf.controls["layer"].value = "block5_pool"             # 7x7: the unit is clipped to the grid
    assert rf.controls["row"].max == 6 and max(rf.unit) <= 6


def test_explorer_network_change_offers_its_layers(rf):
    rf.controls["network"].value = "LeNet-5"
    assert rf.controls["layer"].options == ("C1", "S2", "C3", "S4", "C5")
    assert rf.layer == DEFAULT_LAYERS["LeNet-5"] and rf.unit == (5, 5)
    assert rf.input_image.shape == (28, 28)
    rf.controls["layer"].value = "C5"
    assert rf.unit == (0, 0) and rf.field_rows == (-2, 29) and rf.output_shape == (1, 1, 120)
    assert "padded by 2 to 32x32" in rf.status.value
    rf.controls["network"].value = "AlexNet"
    assert rf.layer == "conv5" and rf.output_shape == (13, 13, 256) and rf.unit == (6, 6)
    assert rf.input_image.shape == (227, 227, 3)


def test_explorer_redraws_once_per_change(rf):
    for name, value in (("network", "AlexNet"), ("layer", "pool5"), ("row", 0)):
        count = rf.redraw_count
        rf.controls[name].value = value
        assert rf.redraw_count == count + 1, name
    count = rf.redraw_count
    rf.grid.set_state({"picked": [1, 1]})
    assert rf.redraw_count == count + 1


def test_explorer_refuses_values_its_controls_cannot_take(rf):
    with pytest.raises(ControlValueError, match="`row` must be a whole number from 0 to 13"):
        rf.controls["row"].value = 14
    assert rf.unit == (7, 7) and "Refused" in rf.status.value
    with pytest.raises(ControlValueError, match="`layer` must be one of"):
        rf.controls["layer"].value = "C1"                 # a LeNet-5 layer, not VGG-16's
    with pytest.raises(ControlValueError, match="`network` must be one of"):
        rf.controls["network"].value = "ResNet-50"
    assert rf.layer == "block5_conv3"


def test_explorer_input_pictures_keep_the_fixed_range_0_to_1(rf):
    for network in NETWORKS:
        rf.controls["network"].value = network
        assert rf.input_image.min() >= 0 and rf.input_image.max() <= 1
        assert "shown 0..1, white = high" in rf.status.value


@pytest.mark.parametrize("kwargs, message", [
    (dict(network="ResNet"), "`network` must be one of 'LeNet-5', 'AlexNet', 'VGG-16'"),
    (dict(network="AlexNet", layer="block1_conv1"),
     r"`layer` must be one of 'conv1'.*got 'block1_conv1' \(the layers of AlexNet\)"),
    (dict(layer="block5_pool", row=7), "`row` must be at most 6"),
    (dict(col=-1), "`col` must be at least 0"),
])
def test_explorer_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReceptiveFieldExplorer(**kwargs)


def test_explorer_refuses_a_row_that_is_not_a_whole_number():
    with pytest.raises(TypeError, match="`row`"):
        ReceptiveFieldExplorer(row=2.5)


def test_click_image_ships_its_javascript_module():
    grid = ClickImage(rows=3, cols=3)
    state = grid.get_state()
    assert "export default" in state["_esm"] and 'model.set("picked"' in state["_esm"]
    assert {"value", "rows", "cols", "width", "picked"} <= set(state)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to parse the module")
def test_click_image_javascript_parses(tmp_path):
    module = tmp_path / "click_image.mjs"
    module.write_text(ClickImage(rows=1, cols=1).get_state()["_esm"])
    result = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
