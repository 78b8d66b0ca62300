"""The bump editor of lessons 00 and 01, driven headlessly by setting ``.value`` on its controls."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ipywidgets.widgets import widget as widget_module

from cnnlab import filters
from cnnlab.widgets import CUSTOM, BumpEditor


# ----------------------------------------------------------------- BumpEditor

def chart_values(editor, cls):
    return [float(v) for v in re.findall(rf'<text class="{cls}"[^>]*>([^<]+)</text>',
                                         editor.chart.value)]


def test_bump_editor_lesson_01_example():
    e = BumpEditor()
    np.testing.assert_array_equal(e.signal, [0, 0, 0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(e.kernel, [0, 1, 0])
    np.testing.assert_array_equal(e.output_values, [0, 0, 1, 1, 0, 0])
    assert chart_values(e, "x") == [0, 0, 0, 1, 1, 0, 0, 0]
    assert chart_values(e, "y") == [0, 0, 1, 1, 0, 0]
    assert e.controls["preset"].value == "bump"
    assert "6 outputs" in e.status.value


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=8, max_size=8),
       st.lists(st.integers(-20, 20).map(lambda v: v / 10), min_size=3, max_size=3))
def test_bump_editor_output_is_the_cross_correlation(bits, weights):
    e = BumpEditor()
    with e.hold_redraw():
        for i, bit in enumerate(bits):
            e.controls[f"x_{i}"].value = bit
        for i, w in enumerate(weights):
            e.controls[f"w_{i}"].value = w
    expected = np.correlate(np.array(bits, float), np.array(weights), mode="valid")
    np.testing.assert_allclose(e.output_values, expected, atol=1e-12)
    np.testing.assert_allclose(chart_values(e, "y"), expected, atol=5e-3, rtol=5e-3)


def test_bump_editor_toggle_changes_the_input_and_the_chart():
    e = BumpEditor()
    chart = e.chart.value
    e.controls["x_0"].value = True
    assert e.controls["x_0"].description == "1"
    assert e.chart.value != chart
    assert e.output_values[0] == 0 and e.signal[0] == 1
    e.controls["x_1"].value = True
    assert e.output_values[0] == 1                         # the window at 0 now sees x_1


@pytest.mark.parametrize("name", list(filters.PRESETS_1D))
def test_bump_editor_preset_sets_the_three_boxes(name):
    e = BumpEditor(kernel=[9.0, 9.0, 9.0])
    assert e.controls["preset"].value == CUSTOM
    e.controls["preset"].value = name
    assert e.redraw_count == 2
    assert [e.controls[f"w_{i}"].value for i in range(3)] == list(filters.PRESETS_1D[name])
    np.testing.assert_allclose(
        e.output_values, np.correlate(e.signal, filters.PRESETS_1D[name], mode="valid"))


def test_bump_editor_nan_weight_keeps_the_last_chart():
    e = BumpEditor()
    chart, values = e.chart.value, e.output_values.copy()
    e.controls["w_2"].value = float("nan")
    assert "w_2 is not a number" in e.status.value
    assert e.chart.value == chart
    np.testing.assert_array_equal(e.output_values, values)


def test_bump_editor_set_kernel_and_widget_count():
    e = BumpEditor(signal=[1, 0, 1, 0, 1])
    n_widgets = len(widget_module._instances)
    count = e.redraw_count
    e.set_kernel([1, -1, 1])
    assert e.redraw_count == count + 1
    assert len(widget_module._instances) == n_widgets
    np.testing.assert_array_equal(e.output_values, np.correlate(e.signal, [1, -1, 1], "valid"))
    assert e.controls["preset"].value == CUSTOM


@pytest.mark.parametrize("kwargs, match", [
    ({"signal": [0, 2, 0, 1]}, "`signal` must hold only 0s and 1s"),
    ({"signal": [0, 1]}, "`signal` must hold 3 to 16 values"),
    ({"signal": np.zeros((2, 4))}, "`signal` must have 1 dimensions"),
    ({"kernel": [1, 2, 3, 4]}, "`kernel` must hold 3 weights"),
    ({"kernel": [1, np.inf, 0]}, "`kernel` must hold finite numbers"),
])
def test_bump_editor_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BumpEditor(**kwargs)


def bar_heights(svg, row):
    """Heights of the bars of one row (0 = input, 1 = feature map), in order."""
    import re

    bars = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    n_in = len(re.findall(r'<text class="x"', svg))
    return bars[:n_in] if row == 0 else bars[n_in:]


def test_bump_editor_rows_share_one_scale_so_weights_summing_to_2_double_the_bars():
    e = BumpEditor(signal=[0, 1, 0, 0, 1], kernel=[0.0, 1.0, 0.0])
    one = max(bar_heights(e.chart.value, 1))
    assert one == max(bar_heights(e.chart.value, 0))              # identity: same height
    e.set_kernel([0.0, 2.0, 0.0])
    two = max(bar_heights(e.chart.value, 1))
    assert max(bar_heights(e.chart.value, 0)) == pytest.approx(one / 2)   # the input's 1
    assert two == pytest.approx(2 * max(bar_heights(e.chart.value, 0)))
    e.set_kernel([0.0, 0.5, 0.0])
    assert max(bar_heights(e.chart.value, 1)) == pytest.approx(one / 2)
