"""The kernel editor of lesson 02, driven headlessly by setting ``.value`` on its controls."""

from __future__ import annotations

import numpy as np
import pytest
from ipywidgets.widgets import widget as widget_module
from scipy import signal

from cnnlab import data, filters, kernels
from cnnlab.widgets import CUSTOM, KernelEditor


def reference_map(image, k):
    """'same' cross-correlation with zero padding (odd kernels: TensorFlow's 'same')."""
    return signal.correlate2d(image, k, mode="same")


def weight_boxes(editor):
    return {name: w for name, w in editor.controls.items() if name.startswith("w_")}


@pytest.fixture(scope="module")
def photo_editor():
    return KernelEditor()


@pytest.fixture
def editor():
    """A small, fast editor on the lines picture."""
    return KernelEditor(image="lines")


# ----------------------------------------------------------------- KernelEditor

def test_kernel_editor_starts_with_sobel_on_the_256_photo(photo_editor):
    e = photo_editor
    assert e.image.shape == (256, 256)
    np.testing.assert_allclose(e.image, data.sample_photo(256))
    np.testing.assert_array_equal(e.kernel, filters.get("sobel_x"))
    np.testing.assert_allclose(e.feature_map, reference_map(e.image, e.kernel), atol=1e-12)
    assert e.feature_map.shape == (256, 256)
    assert e.last_redraw_ms > 0
    assert bytes(e.output_image.value).startswith(b"\x89PNG")


def test_kernel_editor_weight_change_redraws_the_feature_map(editor):
    before = editor.output_image.value
    count = editor.redraw_count
    editor.controls["w_1_1"].value = 3.5
    assert editor.redraw_count == count + 1
    assert editor.output_image.value != before
    k = filters.get("sobel_x")
    k[1, 1] = 3.5
    np.testing.assert_allclose(editor.feature_map, reference_map(editor.image, k), atol=1e-12)
    np.testing.assert_allclose(editor.feature_map,
                               kernels.conv2d(editor.image, k, padding="same"))
    assert editor.controls["preset"].value == CUSTOM       # a hand edit leaves the preset


@pytest.mark.parametrize("name", filters.names())
def test_kernel_editor_preset_sets_every_box_and_redraws_once(editor, name):
    editor.controls["preset"].value = "identity" if name != "identity" else "sobel_y"
    count = editor.redraw_count
    editor.controls["preset"].value = name
    assert editor.redraw_count == count + 1
    expected = filters.get(name, 3)
    for (r, c), value in np.ndenumerate(expected):
        assert editor.controls[f"w_{r}_{c}"].value == value
    np.testing.assert_allclose(editor.feature_map, reference_map(editor.image, expected),
                               atol=1e-12)


def test_kernel_editor_size_toggle_rebuilds_the_grid(editor):
    editor.controls["preset"].value = "gaussian"
    grid = editor._grid
    editor.controls["size"].value = 5
    assert len(grid.children) == 25 and len(weight_boxes(editor)) == 25
    assert set(grid.children) == set(weight_boxes(editor).values())
    np.testing.assert_array_equal(editor.kernel, filters.get("gaussian", 5))
    np.testing.assert_allclose(editor.feature_map,
                               reference_map(editor.image, filters.get("gaussian", 5)), atol=1e-12)
    editor.controls["preset"].value = "sobel_x"            # no 5x5 version: centred in zeros
    expected = np.zeros((5, 5))
    expected[1:4, 1:4] = filters.get("sobel_x")
    np.testing.assert_array_equal(editor.kernel, expected)
    editor.controls["size"].value = 3
    assert len(grid.children) == 9 and "w_4_4" not in editor.controls
    np.testing.assert_array_equal(editor.kernel, filters.get("sobel_x"))


def test_kernel_editor_size_toggle_keeps_the_middle_of_a_hand_edited_kernel(editor):
    k = np.arange(9, dtype=float).reshape(3, 3)
    editor.set_kernel(k)
    editor.controls["size"].value = 5
    np.testing.assert_array_equal(editor.kernel[1:4, 1:4], k)
    assert np.count_nonzero(editor.kernel) == np.count_nonzero(k)
    editor.controls["size"].value = 3
    np.testing.assert_array_equal(editor.kernel, k)


def test_kernel_editor_normalise_divides_by_the_sum(editor):
    editor.set_kernel(np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]))
    editor.controls["normalise"].click()
    np.testing.assert_allclose(editor.kernel, filters.get("gaussian"))
    assert editor.status.value.startswith("Normalised: divided by the sum 16")


def test_kernel_editor_normalise_with_zero_sum_uses_the_largest_weight(editor):
    editor.controls["preset"].value = "sobel_x"
    editor.normalise()
    np.testing.assert_allclose(editor.kernel, filters.get("sobel_x") / 2)
    assert "largest |weight|" in editor.status.value


def test_kernel_editor_normalise_all_zero_weights_says_so(editor):
    editor.set_kernel(np.zeros((3, 3)))
    count = editor.redraw_count
    editor.normalise()
    assert editor.redraw_count == count
    assert "All weights are 0" in editor.status.value
    np.testing.assert_array_equal(editor.kernel, np.zeros((3, 3)))


def test_kernel_editor_nan_weight_keeps_the_last_picture(editor):
    editor.controls["w_0_0"].value = 2.0
    picture, good_map = editor.output_image.value, editor.feature_map.copy()
    editor.controls["w_1_2"].value = float("nan")          # must not raise
    assert "w_1_2 is not a number" in editor.status.value
    assert editor.output_image.value == picture
    np.testing.assert_array_equal(editor.feature_map, good_map)
    editor.normalise()
    assert "Type a number" in editor.status.value
    editor.controls["w_1_2"].value = 1.0
    assert "not a number" not in editor.status.value
    np.testing.assert_allclose(editor.feature_map, reference_map(editor.image, editor.kernel),
                               atol=1e-12)


def test_kernel_editor_redraws_create_no_widgets(editor):
    tree = [len(editor.widget.children)] + [len(c.children) for c in editor.widget.children[:2]]
    images = (editor.input_image, editor.output_image)
    n_widgets = len(widget_module._instances)
    for i in range(10):
        editor.controls["w_2_2"].value = i / 10
    editor.controls["preset"].value = "laplacian"
    editor.normalise()
    assert len(widget_module._instances) == n_widgets
    assert [len(editor.widget.children)] + [
        len(c.children) for c in editor.widget.children[:2]] == tree
    assert (editor.input_image, editor.output_image) == images


def test_kernel_editor_size_toggle_closes_the_old_boxes(editor):
    n_widgets = len(widget_module._instances)
    editor.controls["size"].value = 5
    editor.controls["size"].value = 3
    assert len(widget_module._instances) == n_widgets


@pytest.mark.parametrize("name, shape", [("digit", (28, 28)), ("lines", (32, 32)),
                                         ("photo", (256, 256))])
def test_kernel_editor_input_menu(name, shape):
    e = KernelEditor(image="lines" if name != "lines" else "digit", preset="box_blur")
    before = e.input_image.value
    e.controls["input"].value = name
    assert e.image.shape == shape and e.feature_map.shape == shape
    assert e.input_image.value != before
    np.testing.assert_allclose(e.feature_map, reference_map(e.image, filters.get("box_blur")),
                               atol=1e-12)


def test_kernel_editor_lines_picture_has_three_line_directions():
    e = KernelEditor(image="lines", preset="vertical_line")
    img = e.image
    assert set(np.unique(img)) == {0.0, 1.0}
    assert (img.sum(axis=0) == img.shape[0]).any()         # a full column: vertical line
    assert (img.sum(axis=1) == img.shape[1]).any()         # a full row: horizontal line
    assert (np.diag(img) == 1).all()                       # the main diagonal


def test_kernel_editor_custom_image_and_set_kernel_5x5():
    image = np.random.default_rng(0).random((12, 10))
    e = KernelEditor(image=image, presets=["identity", "box_blur"], preset="identity")
    assert e.controls["input"].value == "custom"
    assert e.controls["preset"].options == (CUSTOM, "identity", "box_blur")
    np.testing.assert_allclose(e.feature_map, image)
    k = np.random.default_rng(1).normal(size=(5, 5))
    count = e.redraw_count
    e.set_kernel(k)
    assert e.redraw_count == count + 1
    assert e.size == 5 and e.controls["size"].value == 5
    np.testing.assert_array_equal(e.kernel, k)
    np.testing.assert_allclose(e.feature_map, reference_map(image, k), atol=1e-12)


def test_kernel_editor_hold_redraw_batches_changes(editor):
    count = editor.redraw_count
    with editor.hold_redraw():
        for name in ("w_0_0", "w_0_1", "w_0_2"):
            editor.controls[name].value = 7.0
    assert editor.redraw_count == count + 1


def test_kernel_editor_displays_without_a_browser(editor):
    editor._ipython_display_()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"size": 4}, ValueError, "`size` must be 3 or 5"),
    ({"image": "cat"}, ValueError, "`image` must be one of 'photo', 'digit', 'lines'"),
    ({"image": np.zeros((3, 3, 3))}, ValueError, "`image` must have 2 dimensions"),
    ({"presets": ["sobel_x", "nope"]}, ValueError, "`presets` must be one of"),
    ({"presets": []}, ValueError, "`presets` must name at least one"),
    ({"preset": "nope"}, ValueError, "`preset` must be one of"),
])
def test_kernel_editor_rejects_bad_arguments(kwargs, error, match):
    kwargs.setdefault("image", "lines")
    with pytest.raises(error, match=match):
        KernelEditor(**kwargs)


@pytest.mark.parametrize("kernel, match", [
    (np.zeros((3, 5)), "`kernel` must be 3x3 or 5x5"),
    (np.zeros(9), "`kernel` must have 2 dimensions"),
    (np.full((3, 3), np.nan), "`kernel` must hold finite numbers"),
])
def test_kernel_editor_set_kernel_rejects_bad_kernels(editor, kernel, match):
    with pytest.raises(ValueError, match=match):
        editor.set_kernel(kernel)


# ----------------------------------------------------------------- the display convention

def decoded(png) -> np.ndarray:
    import io

    from PIL import Image
    with Image.open(io.BytesIO(bytes(png))) as im:
        return np.asarray(im)


def scaled_identity(factor):
    k = np.zeros((3, 3))
    k[1, 1] = factor
    return k


def test_kernel_editor_scaled_identities_give_different_pictures(photo_editor):
    pictures, ranges = [], []
    for factor in (1.0, 2.0, 0.5):
        photo_editor.set_kernel(scaled_identity(factor))
        pictures.append(bytes(photo_editor.output_image.value))
        ranges.append(photo_editor.output_range)
        assert photo_editor.display_range == (0.0, 1.0)          # the input's scale
        assert photo_editor.display_cmap == "gray"
        assert f"weights sum to {factor:g}" in photo_editor.status.value
    assert len(set(pictures)) == 3
    assert ranges == [(0.0, 1.0), (0.0, 2.0), (0.0, 0.5)]
    one, two, half = (decoded(p).astype(float).mean() for p in pictures)
    assert half < one < two                                        # darker, brighter
    assert "black = 0, white = 1" in photo_editor.status.value
    assert "can produce 0 to 0.5 from inputs 0 to 1" in photo_editor.status.value


def test_kernel_editor_identity_picture_is_the_input_white_for_high(editor):
    editor.controls["preset"].value = "identity"
    pixels = decoded(editor.output_image.value)                     # (H*s, W*s) grey
    s = editor._scale
    np.testing.assert_array_equal(pixels[::s, ::s], np.round(255 * editor.image))
    np.testing.assert_array_equal(decoded(editor.input_image.value), pixels)
    bar = decoded(editor.colour_bar.value)
    assert bar[0, 0] == 0 and bar[0, -1] == 255


def test_kernel_editor_kernel_scale_uses_what_the_kernel_can_produce(editor):
    editor.set_kernel(scaled_identity(2.0))
    editor.controls["scale"].value = "kernel"
    assert editor.display_range == (0.0, 2.0) and editor.display_cmap == "gray"
    assert "black = 0, white = 2 (the range this kernel can produce from inputs 0 to 1)" \
        in editor.status.value
    editor.controls["preset"].value = "sobel_x"
    assert editor.display_range == (-4.0, 4.0) and editor.display_cmap == "RdBu_r"
    assert "blue = -4, white = 0, red = 4" in editor.legend
    editor.controls["preset"].value = "sharpen"
    assert editor.display_range == (-5.0, 5.0)
    assert "made symmetric about 0" in editor.status.value


def test_kernel_editor_signed_kernel_is_diverging_on_the_input_scale(editor):
    editor.controls["preset"].value = "sobel_x"
    assert editor.output_range == (-4.0, 4.0)
    assert editor.display_range == (-1.0, 1.0) and editor.display_cmap == "RdBu_r"
    assert editor.display_range[0] == -editor.display_range[1]
    pixels = decoded(editor.output_image.value)                      # (H*s, W*s, 3) RGB
    s = editor._scale
    fm = editor.feature_map
    zero = tuple(pixels[::s, ::s][fm == 0][0])
    assert abs(int(zero[0]) - int(zero[2])) < 10                    # white-ish: R = B at 0
    red = pixels[::s, ::s][fm >= 1][0]
    assert red[0] > red[2]                                           # positive: red


def test_kernel_editor_auto_range_stretches_and_says_so(editor):
    editor.set_kernel(scaled_identity(0.5))
    before, status = bytes(editor.output_image.value), editor.status.value
    count = editor.redraw_count
    editor.controls["auto_range"].value = True
    assert editor.redraw_count == count + 1
    assert bytes(editor.output_image.value) != before and editor.status.value != status
    assert editor.display_range == (0.0, 0.5)
    assert "auto range: stretched" in editor.status.value
    editor.controls["auto_range"].value = False
    assert bytes(editor.output_image.value) == before
    assert editor.display_range == (0.0, 1.0)


@pytest.mark.parametrize("name, value", [("auto_range", "yes"), ("auto_range", 2),
                                         ("scale", "stretch"), ("scale", 1)])
def test_kernel_editor_refuses_bad_scale_values(editor, name, value):
    from cnnlab.widgets._controls import ControlValueError

    shown = editor.controls[name].value
    picture = editor.output_image.value
    with pytest.raises(ControlValueError, match=f"`{name}` must be"):
        editor.controls[name].value = value
    assert editor.controls[name].value == shown and editor.output_image.value == picture
    assert editor.status.value.startswith("Refused:")


def test_kernel_editor_custom_image_range_includes_zero_for_the_padding():
    image = np.full((6, 6), 2.0)
    image[2, 2] = 3.0
    e = KernelEditor(image=image, preset="identity")
    assert e.input_range == (0.0, 3.0)
    assert e.output_range == (0.0, 3.0) and e.display_range == (0.0, 3.0)
    assert e._input_note.value == "black = 0, white = 3"
