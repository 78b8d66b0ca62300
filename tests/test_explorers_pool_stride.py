"""The explorers of lessons 03 and 05 and show_pooling, driven headlessly by setting ``.value``."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402
from scipy import signal  # noqa: E402

from cnnlab import data, plot, shapes  # noqa: E402
from cnnlab.widgets import CUSTOM, PaddingStrideExplorer, PoolingExplorer  # noqa: E402

SETTINGS = settings(max_examples=25, deadline=None)      # each example builds a figure


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------- references

def window_plan(n, size, stride, padding):
    """(before, out) along one axis for Keras pooling."""
    if padding == "valid":
        return 0, (n - size) // stride + 1
    out = math.ceil(n / stride)
    return max((out - 1) * stride + size - n, 0) // 2, out


def reference_pool(x, size, stride, padding, kind):
    """Loops over Keras's windows; padded cells are skipped. Also the first argmax of each window."""
    (top, h_out), (left, w_out) = (window_plan(n, size, stride, padding) for n in x.shape)
    out = np.zeros((h_out, w_out))
    winners = np.zeros((h_out, w_out, 2), int)
    for i in range(h_out):
        for j in range(w_out):
            r0, c0 = i * stride - top, j * stride - left
            rows = range(max(r0, 0), min(r0 + size, x.shape[0]))
            cols = range(max(c0, 0), min(c0 + size, x.shape[1]))
            cells = [(r, c) for r in rows for c in cols]
            values = [x[r, c] for r, c in cells]
            out[i, j] = {"max": max, "sum": sum, "avg": lambda v: sum(v) / len(v)}[kind](values)
            winners[i, j] = cells[int(np.argmax(values))]
    return out, winners


def winner_cells(ax, pads=((0, 0), (0, 0))):
    (top, _), (left, _) = pads
    found = [p for p in ax.patches if p.get_gid() == "winner"]
    return sorted((int(p.get_y()) - top, int(p.get_x()) - left) for p in found)


# ----------------------------------------------------------------- show_pooling

@SETTINGS
@given(arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(2, 8)),
              elements=st.integers(0, 9).map(float)),
       st.integers(1, 3), st.integers(1, 3), st.sampled_from(["valid", "same"]))
def test_show_pooling_highlights_the_argmax_of_every_window(x, size, stride, padding):
    if padding == "valid" and size > min(x.shape):
        return
    ref, winners = reference_pool(x, size, stride, padding, "max")
    ax = plot.show_pooling(x, pool_size=size, stride=stride, padding=padding)
    layout = plot._pooling_layout(x, size, stride, padding, "max")
    assert winner_cells(ax, layout.pads) == sorted(map(tuple, winners.reshape(-1, 2)))
    outputs = sorted((t for t in ax.texts if t.get_gid() == "output"),
                     key=lambda t: (round(t.get_position()[1], 6), t.get_position()[0]))
    np.testing.assert_allclose([float(t.get_text()) for t in outputs], ref.ravel())
    plt.close(ax.figure)


@pytest.mark.parametrize("kind", ["avg", "sum"])
def test_show_pooling_shades_every_window_for_avg_and_sum(kind):
    x = np.arange(36.0).reshape(6, 6)
    ax = plot.show_pooling(x, pool_size=3, stride=2, padding="same", kind=kind, fmt="{:.4g}")
    ref, _ = reference_pool(x, 3, 2, "same", kind)
    windows = [p for p in ax.patches if p.get_gid() == "window"]
    assert len(windows) == ref.size
    assert not [p for p in ax.patches if p.get_gid() == "winner"]
    values = sorted((t for t in ax.texts if t.get_gid() == "output"),
                    key=lambda t: (round(t.get_position()[1], 6), t.get_position()[0]))
    np.testing.assert_allclose([float(t.get_text()) for t in values], ref.ravel(), rtol=1e-3)
    assert ax.get_title() == f"{kind} pooling 3x3, stride 2, same: 6x6 → 3x3"


def test_show_pooling_shades_a_digit_and_outlines_only_real_winners():
    digit = data.digit(0)
    ax = plot.show_pooling(digit)
    assert not [t for t in ax.texts if t.get_gid() in ("input", "output")]
    ref, winners = reference_pool(digit, 2, 2, "valid", "max")
    non_flat = [tuple(w) for (i, j), w in zip(np.ndindex(ref.shape), winners.reshape(-1, 2))
                if np.ptp(digit[2 * i:2 * i + 2, 2 * j:2 * j + 2]) > 0]
    assert winner_cells(ax) == sorted(non_flat)


def test_show_pooling_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="`kind` must be one of 'max', 'avg', 'sum'"):
        plot.show_pooling(np.ones((4, 4)), kind="min")


def test_show_pooling_refuses_a_map_too_large_to_draw():
    with pytest.raises(ValueError, match="at most 32 cells a side"):
        plot.show_pooling(np.ones((40, 40)))


def test_show_pooling_refuses_a_window_larger_than_the_map():
    with pytest.raises(ValueError, match="larger than the padded input"):
        plot.show_pooling(np.ones((3, 3)), pool_size=4)


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


# ----------------------------------------------------------------- PoolingExplorer

@pytest.fixture
def pooler():
    return PoolingExplorer()


def test_pooling_explorer_starts_with_max_pooling_2x2(pooler):
    p = pooler
    assert p.feature_map.shape == (8, 8)
    ref, winners = reference_pool(p.feature_map, 2, 2, "valid", "max")
    np.testing.assert_array_equal(p.output_values, ref)
    np.testing.assert_array_equal(p.winners, winners)
    assert bytes(p.picture.value).startswith(b"\x89PNG")
    assert p.status.value.startswith("max pooling: 8x8 → 4x4")


@pytest.mark.parametrize("kind", ["avg", "sum"])
def test_pooling_explorer_kind_changes_values_and_picture(pooler, kind):
    p = pooler
    picture = p.picture.value
    p.controls["kind"].value = kind
    ref, _ = reference_pool(p.feature_map, 2, 2, "valid", kind)
    np.testing.assert_allclose(p.output_values, ref)
    assert p.winners is None and p.picture.value != picture


@pytest.mark.parametrize("size, stride, padding", [(3, 1, "valid"), (3, 2, "same"),
                                                   (2, 3, "same"), (1, 1, "valid")])
def test_pooling_explorer_winners_are_the_argmax_of_each_window(pooler, size, stride, padding):
    p = pooler
    with p.hold_redraw():
        p.controls["pool_size"].value = size
        p.controls["stride"].value = stride
        p.controls["padding"].value = padding
    ref, winners = reference_pool(p.feature_map, size, stride, padding, "max")
    np.testing.assert_array_equal(p.output_values, ref)
    np.testing.assert_array_equal(p.winners, winners)
    assert np.all(p.feature_map[winners[..., 0], winners[..., 1]] == ref)


def test_pooling_explorer_window_larger_than_the_map_keeps_the_last_picture(pooler):
    p = pooler
    p.controls["input"].value = "numbers 5x5"
    picture, values = p.picture.value, p.output_values
    p.controls["pool_size"].value = 6
    assert "larger than the padded input" in p.status.value
    assert p.picture.value == picture and p.output_values is values
    p.controls["padding"].value = "same"                     # same padding always fits
    np.testing.assert_array_equal(p.output_values,
                                  reference_pool(p.feature_map, 6, 2, "same", "max")[0])
    assert p.output_values.shape == (3, 3) and "Impossible" not in p.status.value


def test_pooling_explorer_digit_halves_28_to_14(pooler):
    pooler.controls["input"].value = "digit 28x28"
    assert pooler.output_values.shape == (14, 14)
    np.testing.assert_allclose(pooler.output_values,
                               reference_pool(data.digit(0), 2, 2, "valid", "max")[0])


def test_pooling_explorer_takes_your_own_map():
    x = np.arange(20.0).reshape(4, 5)
    p = PoolingExplorer(x, kind="sum", pool_size=2, stride=1)
    assert p.controls["input"].value == CUSTOM
    np.testing.assert_allclose(p.output_values, reference_pool(x, 2, 1, "valid", "sum")[0])


def test_pooling_explorer_refuses_a_map_too_large():
    with pytest.raises(ValueError, match="`feature_map` must be 1x1 to 32x32"):
        PoolingExplorer(np.zeros((40, 40)))


def test_pooling_explorer_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="`kind` must be one of"):
        PoolingExplorer(kind="median")


def test_pooling_explorer_refuses_a_pool_size_off_the_slider():
    with pytest.raises(ValueError, match="`pool_size` must be at most 6"):
        PoolingExplorer(pool_size=7)
