"""Lesson 04's multi-channel pictures: ChannelExplorer (headless), plot_channel_step,
channel_step_html. The reference is scipy's 2D correlation, channel by channel."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy import signal  # noqa: E402

from cnnlab import plot  # noqa: E402
from cnnlab.widgets import ChannelExplorer, channel_example, channel_step_html  # noqa: E402

CHECK = settings(max_examples=40, deadline=None, derandomize=True)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def reference(x, kernel, bias, stride, padding):
    """Per-channel correlations (H_out, W_out, C, K) and the output (H_out, W_out, K)."""
    padded = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    per_channel = np.stack([
        np.stack([signal.correlate2d(padded[..., c], kernel[..., c, f], mode="valid")
                  [::stride, ::stride] for c in range(x.shape[2])], axis=-1)
        for f in range(kernel.shape[3])], axis=-1)                     # (H_out, W_out, C, K)
    return per_channel, per_channel.sum(axis=2) + bias


def classes(html, name):
    return len(re.findall(rf'<td class="[^"]*\b{name}\b', html))


# ----------------------------------------------------------------- the widget

def test_explorer_starts_on_the_cs231n_setting():
    e = ChannelExplorer()
    x, kernel, bias = channel_example()
    _, expected = reference(x, kernel, bias, 2, 1)
    assert e.output.shape == (3, 3, 2)
    np.testing.assert_allclose(e.output, expected, atol=1e-12)
    assert (e.controls["row"].max, e.controls["col"].max, e.controls["filter"].max) == (2, 2, 1)
    assert e.value == expected[0, 0, 0]
    assert "out[0, 0, 0]" in e.status.value


def test_channel_example_is_seeded_small_integers():
    x, kernel, bias = channel_example()
    np.testing.assert_array_equal(x, channel_example()[0])
    assert x.shape == (5, 5, 3) and kernel.shape == (3, 3, 3, 2)
    assert set(np.unique(x)) <= {0, 1, 2} and set(np.unique(kernel)) <= {-1, 0, 1}
    np.testing.assert_array_equal(bias, [1, 0])
    assert not np.array_equal(x, channel_example(1)[0])


@CHECK
@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 2), st.integers(1, 3),
       st.integers(0, 2), st.integers(0, 2**31 - 1))
def test_channel_sums_and_value_match_scipy(row, col, f, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (6, 5, 2)).astype(float)
    kernel = rng.integers(-2, 3, (3, 2, 2, 3)).astype(float)
    bias = rng.integers(-2, 3, 3).astype(float)
    e = ChannelExplorer(x, kernel, bias, stride=stride, padding=padding)
    per_channel, expected = reference(x, kernel, bias, stride, padding)
    row, col = min(row, expected.shape[0] - 1), min(col, expected.shape[1] - 1)
    e.select(row, col, f)
    np.testing.assert_allclose(e.output, expected, atol=1e-12)
    np.testing.assert_allclose(e.channel_sums, per_channel[row, col, :, f], atol=1e-12)
    assert e.value == pytest.approx(expected[row, col, f])
    assert e.window == (row * stride, col * stride)
    html = e.view.value
    assert classes(html, "win") == 3 * 2 * 2          # KH * KW cells in each of 2 channels
    assert classes(html, "out") == 1
    padded_cells = (6 + 2 * padding) * (5 + 2 * padding) - 6 * 5
    assert classes(html, "pad") == 2 * padded_cells


def test_changing_stride_resizes_the_sliders_and_keeps_the_cell_inside():
    e = ChannelExplorer(stride=1, padding=1)
    assert e.controls["row"].max == 4
    e.select(4, 4, 1)
    count = e.redraw_count
    e.controls["stride"].value = 2
    assert e.redraw_count == count + 1
    assert (e.controls["row"].max, e.controls["row"].value) == (2, 2)
    assert e.output.shape == (3, 3, 2)
    assert e.value == e.output[2, 2, 1]


def test_select_redraws_once():
    e = ChannelExplorer()
    count = e.redraw_count
    e.select(2, 1, 1)
    assert e.redraw_count == count + 1
    assert "out[2, 1, 1]" in e.status.value


@pytest.mark.parametrize("control, value, message", [
    ("stride", 0, "Stride must be at least 1"),
    ("stride", -2, "Stride must be at least 1"),
    ("padding", -1, "Padding must be 0 or more"),
])
def test_impossible_settings_explain_and_keep_the_last_view(control, value, message):
    e = ChannelExplorer()
    e.select(1, 2, 0)
    view, output = e.view.value, e.output.copy()
    e.controls[control].value = value
    assert message in e.status.value and "last good" in e.status.value
    assert e.view.value == view
    np.testing.assert_array_equal(e.output, output)


def test_filter_larger_than_the_padded_input_is_explained():
    x = np.ones((2, 2, 3))
    e = ChannelExplorer(x, np.ones((3, 3, 3, 1)), stride=1, padding=1)
    assert e.output.shape == (2, 2, 1)
    e.controls["padding"].value = 0
    assert "does not fit in the 2x2 padded input" in e.status.value
    assert e.output.shape == (2, 2, 1)
    e.controls["padding"].value = 2
    assert e.output.shape == (4, 4, 1)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x=np.zeros((5, 5))), ValueError, "`x` must have 3 dimensions"),
    (dict(x=np.zeros((5, 5, 2))), ValueError, "channels"),
    (dict(kernel=np.zeros((3, 3, 3))), ValueError, "`kernel` must have 4 dimensions"),
    (dict(bias=[1, 2, 3]), ValueError, "bias"),
    (dict(stride=0), ValueError, "stride"),
    (dict(padding=1.5), TypeError, "padding"),
])
def test_explorer_refuses_bad_starting_values(kwargs, error, match):
    with pytest.raises(error, match=match):
        ChannelExplorer(**kwargs)


# ----------------------------------------------------------------- the pictures

def test_plot_channel_step_shows_each_channel_and_the_sum():
    x, kernel, bias = channel_example()
    per_channel, expected = reference(x, kernel, bias, 2, 1)
    fig = plot.plot_channel_step(x, kernel, (1, 2, 0), bias=bias, stride=2, padding=1)
    assert len(fig.axes) == 3 * 3 + 1
    for ch in range(3):
        assert fig.axes[3 * ch + 2].get_title() == f"product, sum = {per_channel[1, 2, ch, 0]:g}"
        window = [p for p in fig.axes[3 * ch].patches if p.get_gid() == "highlight"][0]
        assert window.get_xy() == (4 - 0.5, 2 - 0.5)     # row 1 * 2, col 2 * 2 in the padded input
    assert fig._suptitle.get_text().endswith(f"= {expected[1, 2, 0]:g}")
    assert "bias (1)" in fig._suptitle.get_text()


def test_channel_step_html_equation_adds_up():
    x, kernel, bias = channel_example()
    per_channel, expected = reference(x, kernel, bias, 2, 1)
    html = channel_step_html(x, kernel, (2, 0, 1), bias=bias, stride=2, padding=1)
    equation = re.search(r'<div class="eq">(.*?)</div>', html).group(1)
    terms = [float(t) for t in re.findall(r"\((-?[\d.]+)\)", equation)]
    np.testing.assert_allclose(terms[:3], per_channel[2, 0, :, 1])
    assert terms[3] == bias[1]
    assert equation.endswith(f"= {expected[2, 0, 1]:g}")


@pytest.mark.parametrize("position, match", [
    ((3, 0, 0), "outside the 3x3x2 output"),
    ((0, 0, 2), "filters 0..1"),
    ((0, 0), r"\(row, col, filter\)"),
    ((0, -1, 0), "position"),
])
def test_channel_step_refuses_positions_outside_the_output(position, match):
    x, kernel, bias = channel_example()
    with pytest.raises(ValueError, match=match):
        plot.plot_channel_step(x, kernel, position, bias=bias, stride=2, padding=1)


def test_channel_view_outlines_the_window_in_a_hex_css_colour():
    from matplotlib.colors import to_hex

    from cnnlab.plot._parts import WINDOW_COLOUR, WINDOW_HEX

    html = ChannelExplorer().view.value
    colours = re.findall(r"(?:border|background):[^;}]*?(#[0-9A-Za-z]+|[a-z]+:[a-z]+)", html)
    assert colours and all(re.fullmatch(r"#[0-9a-f]{3}|#[0-9a-f]{6}", c) for c in colours)
    assert f"td.win{{background:#fde9b8;border:2px solid {WINDOW_HEX}}}" in html
    assert WINDOW_HEX == to_hex(WINDOW_COLOUR) == "#ff7f0e"
    assert "tab:" not in html
