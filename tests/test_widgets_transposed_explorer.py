"""Lesson 12: the transposed-convolution explorer, driven headlessly by setting ``.value``,
checked against Keras's Conv2DTranspose and a loop that paints the kernel copies."""

from __future__ import annotations

import re

import keras
import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab.widgets._controls import CUSTOM, ControlValueError
from cnnlab.widgets.transposed_explorer import (
    MAX_NUMBERED_CELLS, TRANSPOSED_INPUTS, TRANSPOSED_KERNELS, TransposedConvExplorer, cells_html,
)

CHECK = settings(max_examples=15, deadline=None, derandomize=True)


def keras_transpose(x, kernel, stride, padding):
    """Keras Conv2DTranspose (float64, no bias) with one (K, K) kernel on one (H, W) input."""
    layer = keras.layers.Conv2DTranspose(1, kernel.shape, strides=stride, padding=padding,
                                         use_bias=False, dtype="float64")
    layer.build((1, *x.shape, 1))
    layer.set_weights([kernel[:, :, None, None]])
    return np.asarray(layer(x[None, :, :, None]))[0, :, :, 0]


def painted_counts(shape, k, stride):
    """Loop: how many kernel copies land on each cell, with "valid" padding (nothing cropped)."""
    h, w = shape
    out = np.zeros(((h - 1) * stride + k, (w - 1) * stride + k), int)
    for i in range(h):
        for j in range(w):
            for a in range(k):
                for b in range(k):
                    out[i * stride + a, j * stride + b] += 1
    rows = h * stride + max(k - stride, 0)          # Keras's size; larger than painted if k < s
    cols = w * stride + max(k - stride, 0)
    full = np.zeros((rows, cols), int)
    full[:out.shape[0], :out.shape[1]] = out
    return full


def cells(view_html):
    """(values, texts, backgrounds) of the table cells in a cells_html picture."""
    found = re.findall(r'<td data-v="([^"]*)" style="background:(#[0-9a-f]{6});color:#[0-9a-f]{6}">'
                       r"([^<]*)</td>", view_html)
    values = np.array([float(v) for v, _, _ in found])
    return values, [t for _, _, t in found], [b for _, b, _ in found]


@pytest.fixture
def explorer():
    return TransposedConvExplorer()


# ----------------------------------------------------------------- what it computes

def test_starts_with_ones_kernel_3_stride_2(explorer):
    w = explorer
    np.testing.assert_array_equal(w.input_values, np.ones((3, 3)))
    np.testing.assert_array_equal(w.kernel, np.ones((3, 3)))
    assert w.output_values.shape == (7, 7) and w.output_size == (7, 7)
    np.testing.assert_array_equal(w.overlap, painted_counts((3, 3), 3, 2))
    np.testing.assert_array_equal(w.output_values, w.overlap)     # ones on ones: the counts
    assert w.even_overlap is False and w.max_count == 4
    assert "kernel 3, stride 2: uneven overlap → checkerboard" in w.status.value
    assert "3x3 → 7x7 (valid: rows 3·2 + max(3 − 2, 0) = 7)" in w.status.value


@CHECK
@given(source=st.sampled_from(TRANSPOSED_INPUTS), kernel=st.sampled_from(TRANSPOSED_KERNELS),
       k=st.integers(1, 5), s=st.integers(1, 4), padding=st.sampled_from(["valid", "same"]))
def test_output_matches_keras_conv2d_transpose(source, kernel, k, s, padding):
    w = TransposedConvExplorer(source, kernel=kernel, kernel_size=k, stride=s, padding=padding)
    assert w.kernel.shape == (k, k)
    expected = keras_transpose(w.input_values, w.kernel, s, padding)
    np.testing.assert_allclose(w.output_values, expected, rtol=1e-12, atol=1e-12)
    assert w.output_size == expected.shape
    ones = keras_transpose(np.ones(w.input_values.shape), np.ones((k, k)), s, padding)
    np.testing.assert_array_equal(w.overlap, np.rint(ones))


def test_controls_drive_the_same_result_as_the_constructor(explorer):
    w = explorer
    with w.hold_redraw():
        w.controls["input"].value = "random ints 4x4"
        w.controls["kernel"].value = "tent"
        w.controls["kernel_size"].value = 4
        w.controls["stride"].value = 3
        w.controls["padding"].value = "same"
    expected = keras_transpose(w.input_values, w.kernel, 3, "same")
    np.testing.assert_allclose(w.output_values, expected, atol=1e-12)
    np.testing.assert_array_equal(w.kernel[0], [1, 2, 2, 1])
    assert w.output_values.shape == (12, 12) and "(same: rows 4·3 = 12)" in w.status.value


@pytest.mark.parametrize("k", range(1, 6))
@pytest.mark.parametrize("s", range(1, 5))
def test_overlap_counts_match_the_painting_loop_and_even_means_flat_inside(k, s):
    w = TransposedConvExplorer(np.ones((6, 6)), kernel_size=k, stride=s)
    np.testing.assert_array_equal(w.overlap, painted_counts((6, 6), k, s))
    inner = w.overlap[k - 1:5 * s + 1, k - 1:5 * s + 1]       # cells every neighbour reaches
    assert w.even_overlap == (len(np.unique(inner)) == 1) == (k % s == 0)
    assert inner.max() == w.max_count == (-(-k // s)) ** 2      # ceil(k / s) squared
    word = "even overlap" if k % s == 0 else "uneven overlap → checkerboard"
    assert f"kernel {k}, stride {s}: {word}" in w.status.value


def test_single_one_paints_one_copy_of_the_kernel(explorer):
    w = explorer
    with w.hold_redraw():
        w.controls["input"].value = "single 1 in 4x4"
        w.controls["kernel"].value = "random ints"
        w.controls["kernel_size"].value = 2
        w.controls["stride"].value = 3
    r, c = np.argwhere(w.input_values == 1)[0]
    expected = np.zeros((12, 12))
    expected[3 * r:3 * r + 2, 3 * c:3 * c + 2] = w.kernel
    np.testing.assert_array_equal(w.output_values, expected)
    assert "gaps of 0" in w.status.value


# ----------------------------------------------------------------- what it draws

def test_pictures_hold_every_value_on_fixed_colour_ranges(explorer):
    w = explorer
    w.controls["kernel"].value = "random ints"
    values, texts, backgrounds = cells(w.output_view.value)
    np.testing.assert_array_equal(values, w.output_values.ravel())
    assert texts == [f"{v + 0.0:g}" for v in w.output_values.ravel()]
    top = np.max(np.abs(w.input_values)) * np.max(np.abs(w.kernel)) * w.max_count
    cmap = matplotlib.colormaps["RdBu_r"]
    expected = [matplotlib.colors.to_hex(cmap((v + top) / (2 * top))) for v in values]
    assert backgrounds == expected
    counts, _, greys = cells(w.overlap_view.value)
    np.testing.assert_array_equal(counts, w.overlap.ravel())
    grey = matplotlib.colormaps["gray"]
    assert greys == [matplotlib.colors.to_hex(grey(v / w.max_count)) for v in counts]
    assert f">{w.max_count}</span>" in w.overlap_view.value and "kernel copies" in \
        w.overlap_view.value


def test_large_outputs_are_drawn_without_numbers():
    w = TransposedConvExplorer(np.ones((6, 6)), kernel_size=5, stride=4)
    assert w.output_values.size > MAX_NUMBERED_CELLS
    values, texts, _ = cells(w.output_view.value)
    assert len(values) == w.output_values.size and set(texts) == {""}


def test_cells_html_refuses_bad_arguments():
    with pytest.raises(ValueError, match="`vmin` must be below `vmax`, got 1 and 1"):
        cells_html(np.ones((2, 2)), "gray", 1, 1, "x")
    with pytest.raises(ValueError, match="`cmap` must be a matplotlib colour map name"):
        cells_html(np.ones((2, 2)), "Reds_x", 0, 1, "x")
    with pytest.raises(ValueError, match="`values` must have 2 dimensions"):
        cells_html(np.ones(3), "gray", 0, 1, "x")
    with pytest.raises(ValueError, match="at most 4096 cells"):
        cells_html(np.ones((65, 65)), "gray", 0, 1, "x")
    with pytest.raises(TypeError, match="`label` must be a str"):
        cells_html(np.ones((2, 2)), "gray", 0, 1, None)


def test_hold_redraw_redraws_once(explorer):
    w = explorer
    count = w.redraw_count
    with w.hold_redraw():
        w.controls["kernel_size"].value = 4
        w.controls["stride"].value = 2
    assert w.redraw_count == count + 1 and w.even_overlap is True
    assert w.last_redraw_ms > 0


# ----------------------------------------------------------------- refused values

@pytest.mark.parametrize("name, value, message", [
    ("kernel_size", 6, "`kernel_size` must be a whole number from 1 to 5, got 6"),
    ("kernel_size", 2.0, "`kernel_size` must be a whole number from 1 to 5"),
    ("stride", 0, "`stride` must be a whole number from 1 to 4, got 0"),
    ("padding", "full", "`padding` must be one of 'valid', 'same', got 'full'"),
    ("kernel", "gauss", "`kernel` must be one of 'ones', 'tent', 'random ints'"),
    ("input", 3, "`input` must be one of 'ones 3x3'"),
])
def test_refused_control_values_keep_the_picture(explorer, name, value, message):
    w = explorer
    before, picture, old = w.output_values, w.output_view.value, w.controls[name].value
    with pytest.raises(ControlValueError, match=message):
        w.controls[name].value = value
    assert w.controls[name].value == old
    assert w.output_values is before and w.output_view.value == picture
    assert w.status.value.startswith("Refused: ")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(kernel="bilinear"), ValueError, "`kernel` must be one of"),
    (dict(kernel_size=0), ValueError, "`kernel_size` must be at least 1, got 0"),
    (dict(stride=5), ValueError, "`stride` must be at most 4, got 5"),
    (dict(stride=1.5), TypeError, "`stride` must be an integer"),
    (dict(padding="full"), ValueError, "`padding` must be one of 'valid', 'same'"),
    (dict(input="ones 5x5"), ValueError, "`input` must be one of"),
    (dict(input=np.ones((7, 2))), ValueError, "`input` must be at most 6x6"),
    (dict(input=[[1e3]]), ValueError, "`input` must hold numbers from -100 to 100"),
    (dict(input=[["a"]]), TypeError, "`input` must hold numbers"),
])
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        TransposedConvExplorer(**kwargs)


def test_takes_your_own_input():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    w = TransposedConvExplorer(x, kernel="tent", kernel_size=3, stride=2, padding="same")
    assert w.controls["input"].value == CUSTOM
    np.testing.assert_allclose(w.output_values, keras_transpose(x, w.kernel, 2, "same"))
    values, texts, _ = cells(w.output_view.value)
    assert "0.50" in texts or "1.00" in texts                 # non-integers get two decimals
