"""Convolution-arithmetic pictures of lesson 03: frames, grids and GIFs, checked against scipy."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import signal  # noqa: E402

from cnnlab import plot  # noqa: E402

SETTINGS = settings(max_examples=40, deadline=None)
PICTURES = settings(max_examples=20, deadline=None)      # each example builds a figure

# Output sides of the animations in Dumoulin & Visin, "A guide to convolution
# arithmetic for deep learning" (2016), figures 2.1-2.7.
GUIDE_OUTPUT_SIDES = {
    "no padding, no strides": 2,
    "arbitrary padding, no strides": 6,
    "half (same) padding, no strides": 5,
    "full padding, no strides": 7,
    "no padding, strides": 2,
    "padding, strides": 3,
    "padding, strides (odd)": 3,
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------- reference

def reference_pads(n, k, s, padding, d=1):
    """Zeros before/after along one axis, from TensorFlow's documented rules."""
    k_eff = (k - 1) * d + 1
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return k_eff - 1, k_eff - 1
    if padding == "same":
        out = math.ceil(n / s)
        total = max((out - 1) * s + k_eff - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def reference_conv(x, kernel, stride, padding, dilation):
    """scipy's 'valid' cross-correlation of the padded input, dilated kernel, then the stride."""
    pads = [reference_pads(n, k, stride, padding, dilation) for n, k in zip(x.shape, kernel.shape)]
    padded = np.pad(x, pads)
    spread = np.zeros([(k - 1) * dilation + 1 for k in kernel.shape])
    spread[::dilation, ::dilation] = kernel
    return signal.correlate2d(padded, spread, mode="valid")[::stride, ::stride], padded, pads


def texts(ax, gid):
    return [t for t in ax.texts if t.get_gid() == gid]


def cell_of(text):
    x, y = text.get_position()
    return int(math.floor(y)), int(math.floor(x))


def reading_order_values(ax, gid):
    found = sorted(texts(ax, gid), key=lambda t: (round(t.get_position()[1], 6), t.get_position()[0]))
    return np.array([float(t.get_text()) for t in found])


settings_strategy = st.fixed_dictionaries({
    "n": st.integers(1, 7),
    "k": st.integers(1, 4),
    "stride": st.integers(1, 3),
    "padding": st.sampled_from(["valid", "same", "full", 0, 1, 2]),
    "dilation": st.integers(1, 2),
    "seed": st.integers(0, 50),
})


def example(case):
    x, kernel = plot.arithmetic_example(case["n"], case["k"], seed=case["seed"])
    ref, padded, pads = reference_conv(x, kernel, case["stride"], case["padding"], case["dilation"])
    assume(ref.size > 0 and (case["k"] - 1) * case["dilation"] + 1 <= padded.shape[0])
    return x, kernel, ref, padded, pads


def frames_of(x, kernel, case):
    return plot.convolution_frames(x, kernel, stride=case["stride"], padding=case["padding"],
                                   dilation=case["dilation"])


# ----------------------------------------------------------------- convolution_frames

@SETTINGS
@given(settings_strategy)
def test_frames_hold_scipys_output_one_frame_per_output_cell(case):
    x, kernel, ref, padded, pads = example(case)
    frames = frames_of(x, kernel, case)
    assert len(frames) == ref.size
    assert [f.position for f in frames] == list(np.ndindex(ref.shape))
    np.testing.assert_allclose(frames[-1].output, ref, atol=1e-9)
    np.testing.assert_array_equal(frames[0].padded, padded)
    assert frames[0].pads == tuple(pads)
    for f in frames:
        written = np.isfinite(f.output)
        assert written.sum() == f.step + 1
        np.testing.assert_allclose(f.output[written], ref[written])
        assert f.value == pytest.approx(ref[f.position])
        under = padded[f.cells[:, 0], f.cells[:, 1]]
        assert under @ kernel.ravel() == pytest.approx(f.value)


@pytest.mark.parametrize("name", list(plot.ARITHMETIC_CASES))
def test_arithmetic_cases_give_the_guides_output_sizes(name):
    case = plot.ARITHMETIC_CASES[name]
    x, kernel = plot.arithmetic_example(case["n"], case["kernel_size"])
    frames = plot.convolution_frames(x, kernel, stride=case["stride"], padding=case["padding"])
    side = GUIDE_OUTPUT_SIDES[name]
    assert frames[0].output.shape == (side, side)
    assert len(frames) == side * side


def test_frames_window_moves_by_the_stride_and_spreads_by_the_dilation():
    x, kernel = plot.arithmetic_example(7, 3)
    frames = plot.convolution_frames(x, kernel, stride=2, padding=1, dilation=2)
    f = frames[4]                                                  # output cell (1, 1)
    assert f.position == (1, 1) and f.window == (2, 2)
    assert {tuple(c) for c in f.cells} == {(2 + 2 * a, 2 + 2 * b) for a in range(3) for b in range(3)}


@SETTINGS
@given(st.integers(1, 12), st.integers(1, 7), st.integers(0, 1000))
def test_arithmetic_example_is_small_whole_numbers_and_seeded(n, k, seed):
    x, kernel = plot.arithmetic_example(n, k, seed=seed)
    assert x.shape == (n, n) and kernel.shape == (k, k)
    assert np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= 3
    assert np.all(kernel == np.round(kernel)) and kernel.min() >= 0 and kernel.max() <= 2
    assert kernel.any()
    again = plot.arithmetic_example(n, k, seed=seed)
    np.testing.assert_array_equal(again[0], x)
    np.testing.assert_array_equal(again[1], kernel)


# ----------------------------------------------------------------- plot_convolution_frame

@PICTURES
@given(settings_strategy, st.floats(0, 1))
def test_frame_picture_writes_the_values_of_the_convolution(case, where):
    x, kernel, ref, padded, pads = example(case)
    frames = frames_of(x, kernel, case)
    step = min(int(where * len(frames)), len(frames) - 1)
    ax = plot.plot_convolution_frame(frames[step])
    written = reading_order_values(ax, "output")
    np.testing.assert_allclose(written, ref.ravel()[:step + 1])
    bold = [t for t in texts(ax, "output") if t.get_fontweight() == "bold"]
    assert len(bold) == 1 and float(bold[0].get_text()) == pytest.approx(ref[frames[step].position])
    plt.close(ax.figure)


@PICTURES
@given(settings_strategy)
def test_frame_picture_marks_the_padding_cells(case):
    x, kernel, ref, padded, pads = example(case)
    frame = frames_of(x, kernel, case)[0]
    ax = plot.plot_convolution_frame(frame)
    inside = np.zeros(padded.shape, bool)
    (top, bottom), (left, right) = pads
    inside[top:padded.shape[0] - bottom, left:padded.shape[1] - right] = True
    pad_cells = {cell_of(t) for t in texts(ax, "padding")}
    assert pad_cells == {tuple(rc) for rc in np.argwhere(~inside)}
    assert all(t.get_text() == "0" for t in texts(ax, "padding"))
    input_cells = {cell_of(t): float(t.get_text()) for t in texts(ax, "input")}
    assert input_cells == {(r, c): padded[r, c] for r, c in np.argwhere(inside)}
    plt.close(ax.figure)


def test_frame_picture_outlines_the_window_and_writes_the_weights():
    x, kernel = plot.arithmetic_example(5, 3, seed=3)
    frames = plot.convolution_frames(x, kernel, stride=2, padding=1)
    ax = plot.plot_convolution_frame(frames[5])                    # output cell (1, 2)
    (window,) = [p for p in ax.patches if p.get_gid() == "window"]
    assert isinstance(window, Rectangle)
    assert window.get_xy() == (4, 2) and window.get_width() == 3 and window.get_height() == 3
    weights = {cell_of(t): float(t.get_text().lstrip("×")) for t in texts(ax, "weight")}
    assert weights == {(2 + a, 4 + b): kernel[a, b] for a in range(3) for b in range(3)}
    assert ax.get_title() == f"step 6 of 9: y[1, 2] = {frames[5].value:g}"


def test_show_convolution_frames_draws_every_step():
    x, kernel = plot.arithmetic_example(5, 3)
    fig = plot.show_convolution_frames(x, kernel, stride=2, padding=1)
    ref, _, _ = reference_conv(x, kernel, 2, 1, 1)
    assert len(fig.axes) == ref.size
    for ax, value in zip(fig.axes, ref.ravel()):
        assert len(texts(ax, "output")) >= 1
        assert ax.get_title().endswith(f"= {value:g}")
    np.testing.assert_allclose(reading_order_values(fig.axes[-1], "output"), ref.ravel())
    assert "5x5 input, 3x3 kernel, padding 1, stride 2 → 3x3 output" in fig.get_suptitle()


def test_show_convolution_frames_names_asymmetric_same_padding():
    x, kernel = plot.arithmetic_example(3, 2)
    fig = plot.show_convolution_frames(x, kernel, padding="same", ncols=2)
    assert len(fig.axes) == 9
    assert "top 0, bottom 1, left 0, right 1" in fig.get_suptitle()


# ----------------------------------------------------------------- save_convolution_animation

def test_animation_is_a_gif_with_one_frame_per_output_cell(tmp_path):
    x, kernel = plot.arithmetic_example(5, 3)
    path = plot.save_convolution_animation(tmp_path / "strides.gif", x, kernel, stride=2,
                                           padding=1, fps=4)
    assert path == tmp_path / "strides.gif"
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 9
        assert gif.info["duration"] == pytest.approx(250, abs=10)
        first = np.asarray(gif.convert("RGB")).copy()
        gif.seek(8)
        last = np.asarray(gif.convert("RGB"))
    assert first.shape == last.shape and not np.array_equal(first, last)


# ----------------------------------------------------------------- bad input

def test_convolution_frames_refuses_a_picture_too_large_to_read():
    with pytest.raises(ValueError, match="at most 20 cells a side"):
        plot.convolution_frames(np.zeros((12, 12)), np.ones((3, 3)), padding=5)


def test_convolution_frames_refuses_a_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match="larger than the padded input"):
        plot.convolution_frames(np.zeros((3, 3)), np.ones((5, 5)))


def test_convolution_frames_refuses_a_batch():
    with pytest.raises(ValueError, match="`x` must have 2 dimensions"):
        plot.convolution_frames(np.zeros((1, 5, 5, 1)), np.ones((3, 3)))


def test_plot_convolution_frame_wants_a_frame():
    with pytest.raises(TypeError, match="frames returned by convolution_frames"):
        plot.plot_convolution_frame(np.zeros((5, 5)))


def test_plot_convolution_frame_refuses_a_bad_font_size():
    frame = plot.convolution_frames(*plot.arithmetic_example(4, 3))[0]
    with pytest.raises(TypeError, match="`fontsize` must be a number"):
        plot.plot_convolution_frame(frame, fontsize="big")


def test_show_convolution_frames_refuses_zero_columns():
    with pytest.raises(ValueError, match="`ncols` must be at least 1"):
        plot.show_convolution_frames(*plot.arithmetic_example(4, 3), ncols=0)


def test_arithmetic_example_refuses_an_empty_input():
    with pytest.raises(ValueError, match="`n` must be at least 1"):
        plot.arithmetic_example(0, 3)


@pytest.mark.parametrize("name, error, match", [
    ("steps.png", ValueError, "must end in .gif"),
    ("missing/steps.gif", ValueError, "does not exist"),
])
def test_save_convolution_animation_checks_the_path(tmp_path, name, error, match):
    with pytest.raises(error, match=match):
        plot.save_convolution_animation(tmp_path / name, *plot.arithmetic_example(4, 3))


def test_save_convolution_animation_refuses_a_path_that_is_not_a_name():
    with pytest.raises(TypeError, match="`path` must be a file name"):
        plot.save_convolution_animation(3, *plot.arithmetic_example(4, 3))


def test_save_convolution_animation_refuses_zero_frames_per_second(tmp_path):
    with pytest.raises(ValueError, match="`fps` must be positive"):
        plot.save_convolution_animation(tmp_path / "a.gif", *plot.arithmetic_example(4, 3), fps=0)
