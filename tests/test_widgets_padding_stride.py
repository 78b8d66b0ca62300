"""The padding and stride explorer of lesson 03, driven headlessly by setting ``.value``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import signal  # noqa: E402

from cnnlab import plot, shapes  # noqa: E402
from cnnlab.widgets import CUSTOM, PaddingStrideExplorer  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------- PaddingStrideExplorer

def conv_reference(x, kernel, n, k, p, s):
    padded = np.pad(x, p)
    return signal.correlate2d(padded, kernel, mode="valid")[::s, ::s]


@pytest.fixture
def explorer():
    return PaddingStrideExplorer()


def test_padding_explorer_starts_on_5x5_padding_1_stride_2(explorer):
    e = explorer
    assert e.output_shape == (3, 3) and len(e.frames) == 9
    assert "⌊(5 + 2·1 − 3) / 2⌋ + 1 = 3" in e.formula.value
    assert "output 3x3" in e.formula.value
    assert bytes(e.picture.value).startswith(b"\x89PNG")
    np.testing.assert_allclose(e.frames[-1].output, conv_reference(e.x, e.kernel, 5, 3, 1, 2))
    assert e.controls["step"].max == 8 and e.controls["play"].max == 8
    assert e.controls["p"].disabled is False


def test_padding_explorer_setting_change_updates_shape_text_and_picture(explorer):
    e = explorer
    picture, formula, count = e.picture.value, e.formula.value, e.redraw_count
    e.controls["n"].value = 8
    assert e.redraw_count == count + 1
    assert e.output_shape == (4, 4) and len(e.frames) == 16
    assert e.formula.value != formula and "⌊(8 + 2·1 − 3) / 2⌋ + 1 = 4" in e.formula.value
    assert e.picture.value != picture
    assert e.x.shape == (8, 8)
    np.testing.assert_allclose(e.frames[-1].output, conv_reference(e.x, e.kernel, 8, 3, 1, 2))
    assert "8x8 input, 3x3 kernel → 4x4 output" in e.status.value


def test_padding_explorer_step_slider_and_play_button_change_the_picture(explorer):
    e = explorer
    first = e.picture.value
    e.controls["step"].value = 4
    fourth = e.picture.value
    assert fourth != first
    e.controls["play"].value = 0                  # the play button drives the slider
    assert e.controls["step"].value == 0 and e.picture.value == first
    e.controls["step"].value = 4
    assert e.picture.value == fourth              # cached, same bytes


def test_padding_explorer_same_padding_names_the_extra_zero(explorer):
    e = explorer
    with e.hold_redraw():
        e.controls["padding"].value = "same"
        e.controls["kernel_size"].value = 4
        e.controls["stride"].value = 1
    assert e.controls["p"].disabled is True
    assert e.output_shape == (5, 5)
    assert "1 before, 2 after" in e.formula.value
    assert e.frames[0].pads == ((1, 2), (1, 2))


def test_padding_explorer_dilation_enlarges_the_kernel(explorer):
    e = explorer
    with e.hold_redraw():
        e.controls["n"].value = 7
        e.controls["padding"].value = "valid"
        e.controls["stride"].value = 1
        e.controls["dilation"].value = 2
    assert "= (3 − 1)·2 + 1 = 5" in e.formula.value
    assert e.output_shape == (3, 3)


@pytest.mark.parametrize("name", list(plot.ARITHMETIC_CASES))
def test_padding_explorer_case_menu_sets_every_control(explorer, name):
    e = explorer
    count = e.redraw_count
    e.controls["case"].value = name
    assert e.redraw_count == count + 1
    case = plot.ARITHMETIC_CASES[name]
    assert e.controls["n"].value == case["n"]
    assert e.controls["kernel_size"].value == case["kernel_size"]
    assert e.padding == case["padding"]
    assert e.controls["stride"].value == case["stride"]
    side = shapes.conv_output_size(case["n"], case["kernel_size"], case["stride"],
                                        case["padding"])
    assert e.output_shape == (side, side)
    e.controls["stride"].value = 3                   # a hand edit leaves the case
    assert e.controls["case"].value == CUSTOM


@pytest.mark.parametrize("control, value, message", [
    ("stride", 0, "stride must be at least 1, got 0"),
    ("dilation", 0, "dilation must be at least 1, got 0"),
    ("p", -1, "padding must not be negative"),
])
def test_padding_explorer_impossible_setting_keeps_the_last_picture(explorer, control, value,
                                                                    message):
    e = explorer
    picture, frames, formula = e.picture.value, e.frames, e.formula.value
    e.controls[control].value = value
    assert message in e.status.value and "last good picture" in e.status.value
    assert e.picture.value == picture and e.frames is frames and e.formula.value == formula
    e.controls[control].value = {"stride": 1, "dilation": 1, "p": 1}[control]
    assert "Impossible" not in e.status.value


def test_padding_explorer_huge_padding_keeps_the_last_picture(explorer):
    e = explorer
    picture = e.picture.value
    e.controls["p"].value = 9
    assert "at most 20 cells a side" in e.status.value
    assert e.picture.value == picture and e.output_shape == (3, 3)


def test_padding_explorer_kernel_larger_than_input_with_valid_padding(explorer):
    e = explorer
    with e.hold_redraw():
        e.controls["padding"].value = "valid"
        e.controls["n"].value = 2
    assert "larger than the padded input" in e.status.value
    e.controls["padding"].value = "full"                     # padding makes room again
    assert e.output_shape == (2, 2) and "Impossible" not in e.status.value
    assert "2x2 input, 3x3 kernel → 2x2 output: 4 steps" in e.status.value
    e.controls["stride"].value = 4
    assert "→ 1x1 output: 1 step." in e.status.value


def test_padding_explorer_refuses_bad_arguments():
    with pytest.raises(ValueError, match="`n` must be at most 12"):
        PaddingStrideExplorer(n=13)


def test_padding_explorer_refuses_an_unknown_case():
    with pytest.raises(ValueError, match="`case` must be one of"):
        PaddingStrideExplorer(case="half padding")


def test_padding_explorer_refuses_an_unknown_padding():
    with pytest.raises(ValueError, match="`padding` must be one of 'valid', 'same', 'full'"):
        PaddingStrideExplorer(padding="half")


def test_a_cached_picture_equals_a_fresh_one():
    from PIL import Image
    import io
    w = PaddingStrideExplorer()
    first = bytes(w.picture.value)
    w.controls["n"].value = 7
    other = bytes(w.picture.value)
    w.controls["n"].value = 5                               # back: from the cache
    assert bytes(w.picture.value) == first and other != first
    fresh = PaddingStrideExplorer()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(bytes(fresh.picture.value)))),
                          np.asarray(Image.open(io.BytesIO(first))))
    assert w.output_shape == fresh.output_shape == (3, 3)
    w.controls["step"].value = 2
    stepped = bytes(w.picture.value)
    w.controls["step"].value = 0
    w.controls["step"].value = 2
    assert bytes(w.picture.value) == stepped
