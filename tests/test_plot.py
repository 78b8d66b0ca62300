"""Figures of cnnlab.plot: what they draw, checked against scipy / matplotlib."""

from __future__ import annotations

import inspect
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.axes  # noqa: E402
import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import signal  # noqa: E402

from cnnlab import kernels, plot  # noqa: E402

SETTINGS = settings(max_examples=40, deadline=None)
small_ints = st.integers(-9, 9).map(float)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def cell_texts(ax, gid="cell"):
    return [t for t in ax.texts if t.get_gid() == gid]


def texts_by_gid(ax, gid):
    """Values written with ``gid``, ordered left to right."""
    found = sorted(cell_texts(ax, gid), key=lambda t: t.get_position()[0])
    return [float(t.get_text()) for t in found]


def grid_values(ax, shape):
    """Read the numbers written in the cells back into a matrix (NaN where blank)."""
    out = np.full(shape, np.nan)
    for t in cell_texts(ax):
        c, r = t.get_position()
        out[int(r), int(c)] = float(t.get_text())
    return out


def decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im)


# ----------------------------------------------------------------- show_matrix

@SETTINGS
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=small_ints))
def test_show_matrix_writes_every_value_in_its_cell(a):
    ax = plot.show_matrix(a)
    assert len(cell_texts(ax)) == a.size
    np.testing.assert_array_equal(grid_values(ax, a.shape), a)
    plt.close(ax.figure)


def test_show_matrix_text_contrasts_with_the_cell():
    ax = plot.show_matrix([[1.0, 0.0]])                   # white cell, then black cell
    colours = {t.get_text(): t.get_color() for t in cell_texts(ax)}
    assert colours == {"1": "black", "0": "white"}


def test_show_matrix_highlight_outlines_the_window():
    ax = plot.show_matrix(np.zeros((5, 6)), highlight=(1, 2, 3, 2), title="x")
    (rect,) = [p for p in ax.patches if p.get_gid() == "highlight"]
    assert rect.get_xy() == (1.5, 0.5)                  # (col - 0.5, row - 0.5)
    assert (rect.get_width(), rect.get_height()) == (2, 3)
    assert ax.get_title() == "x"


def test_show_matrix_leaves_nan_cells_blank():
    a = np.array([[1.0, np.nan], [np.nan, 4.0]])
    ax = plot.show_matrix(a)
    assert sorted(t.get_text() for t in cell_texts(ax)) == ["1", "4"]


def test_show_matrix_draws_1d_input_as_one_row():
    ax = plot.show_matrix([3, 1, 2])
    assert ax.images[0].get_array().shape == (1, 3)
    np.testing.assert_array_equal(grid_values(ax, (1, 3)), [[3, 1, 2]])


def test_show_matrix_without_numbers():
    assert cell_texts(plot.show_matrix(np.eye(3), annotate=False)) == []
    assert cell_texts(plot.show_matrix(np.zeros((21, 20)))) == []   # 420 cells: unreadable


def test_show_matrix_format():
    ax = plot.show_matrix([[1 / 3, -0.0]], fmt="{:.2f}")
    assert [t.get_text() for t in cell_texts(ax)] == ["0.33", "0.00"]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"a": np.zeros((2, 2, 2))}, ValueError, "`a` must have 1 or 2 dimensions"),
    ({"a": [["x"]]}, TypeError, "`a` must hold numbers"),
    ({"a": np.zeros((3, 3)), "highlight": (2, 2, 2, 2)}, ValueError, "`highlight`.*outside"),
    ({"a": np.zeros((3, 3)), "highlight": (0, 0, 1)}, ValueError, "`highlight` must be"),
    ({"a": np.zeros((3, 3)), "fmt": "{:d"}, ValueError, "`fmt` must be a format string"),
    ({"a": np.zeros((3, 3)), "vmin": "low"}, TypeError, "`vmin` must be a number"),
])
def test_show_matrix_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.show_matrix(**kwargs)


# ----------------------------------------------------------------- show_kernel

def test_show_kernel_centres_the_diverging_colours_on_zero():
    k = np.array([[-1.0, 0.0, 3.0], [2.0, -2.0, 0.5], [0.0, 1.0, -1.0]])
    ax = plot.show_kernel(k)
    im = ax.images[0]
    assert im.norm.vmin == -im.norm.vmax
    assert im.norm(0.0) == pytest.approx(0.5)
    assert im.cmap.name == "RdBu_r"
    np.testing.assert_allclose(grid_values(ax, k.shape), k)


def test_show_kernel_of_zeros_has_a_valid_range():
    im = plot.show_kernel(np.zeros((3, 3))).images[0]
    assert im.norm.vmin < 0 < im.norm.vmax


# ----------------------------------------------------------------- show_feature_maps

def panels(fig):
    """The map panels of a figure, without its colour bars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def colour_bars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_show_feature_maps_one_panel_per_channel():
    maps = np.random.default_rng(0).normal(size=(6, 5, 3))    # (H, W, C)
    fig = plot.show_feature_maps(maps, ncols=2)
    assert len(panels(fig)) == 3 and len(colour_bars(fig)) == 1
    for c, ax in enumerate(panels(fig)):
        np.testing.assert_array_equal(ax.images[0].get_array(), maps[..., c])
        assert ax.get_title() == f"map {c}"


def test_show_feature_maps_accepts_a_batch_of_one_and_lists():
    maps = np.arange(2 * 3 * 4, dtype=float).reshape(1, 2, 3, 4)
    assert len(panels(plot.show_feature_maps(maps))) == 4
    fig = plot.show_feature_maps([np.zeros((2, 2)), np.ones((4, 3))], titles=["a", "b"])
    assert [ax.get_title() for ax in panels(fig)] == ["a", "b"]
    assert fig.axes[1].images[0].get_array().shape == (4, 3)


@pytest.mark.parametrize("maps, kwargs, match", [
    (np.zeros((2, 4, 4, 1)), {}, "batch of one"),
    ([], {}, "at least one map"),
    ([np.zeros(3)], {}, r"`maps\[0\]` must have 2 dimensions"),
    (np.zeros((4, 4, 2)), {"titles": ["one"]}, "`titles` must hold one title per map"),
    (np.zeros((4, 4, 2)), {"ncols": 0}, "`ncols` must be at least 1"),
])
def test_show_feature_maps_rejects_bad_input(maps, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot.show_feature_maps(maps, **kwargs)


# ----------------------------------------------------------------- plot_signal

def test_plot_signal_one_stem_per_value_and_a_colour_per_call():
    x = [0.0, 2.0, -1.0, 3.0]
    ax = plot.plot_signal(x, label="input")
    plot.plot_signal([1.0, 1.0], ax, label="output", title="t")
    first, second = ax.containers
    np.testing.assert_array_equal(first.markerline.get_ydata(), x)
    np.testing.assert_array_equal(first.markerline.get_xdata(), range(4))
    assert first.markerline.get_color() != second.markerline.get_color()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["input", "output"]
    assert ax.get_title() == "t"


def test_plot_signal_rejects_2d_input():
    with pytest.raises(ValueError, match="`x` must have 1 dimensions"):
        plot.plot_signal(np.zeros((2, 2)))


# ----------------------------------------------------------------- plot_conv1d_steps

def test_plot_conv1d_steps_lesson_01_example():
    fig = plot.plot_conv1d_steps([0, 0, 0, 1, 1, 0, 0, 0], [0, 1, 0])
    written = [texts_by_gid(ax, "output")[0] for ax in fig.axes]
    assert written == [0, 0, 1, 1, 0, 0]


@settings(max_examples=20, deadline=None)          # each example draws a figure of ~8 rows
@given(arrays(np.float64, st.integers(3, 10), elements=small_ints),
       arrays(np.float64, st.integers(1, 3), elements=small_ints),
       small_ints)
def test_plot_conv1d_steps_one_row_per_window_with_the_right_numbers(x, k, bias):
    fig = plot.plot_conv1d_steps(x, k, bias=bias, fmt="{:g}")
    expected = signal.correlate(x, k, mode="valid") + bias        # (L - K + 1,)
    assert len(fig.axes) == len(expected)
    written = [texts_by_gid(ax, "output")[0] for ax in fig.axes]
    np.testing.assert_allclose(written, expected)
    np.testing.assert_allclose(written, kernels.conv1d(x, k, bias=bias))
    for i, ax in enumerate(fig.axes):
        (window,) = [p for p in ax.patches if p.get_gid() == "window"]
        assert (window.get_x(), window.get_width()) == (i, len(k))
        np.testing.assert_allclose(texts_by_gid(ax, "product"), x[i:i + len(k)] * k)
        np.testing.assert_allclose(texts_by_gid(ax, "output_done"), expected[:i])
        assert texts_by_gid(ax, "input") == list(x)
    plt.close(fig)


@pytest.mark.parametrize("x, k, kwargs, error, match", [
    ([0, 1], [1, 1, 1], {}, ValueError, "`kernel` must hold 1 to len"),
    (np.zeros(30), [1], {}, ValueError, "`x` must hold 1 to 24 values"),
    (np.zeros((3, 3)), [1], {}, ValueError, "`x` must have 1 dimensions"),
    ([0, 1, 0], [[1]], {}, ValueError, "`kernel` must have 1 dimensions"),
    ([0, 1, 0], [1], {"bias": np.nan}, ValueError, "`bias` must be a finite number"),
])
def test_plot_conv1d_steps_rejects_bad_input(x, k, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.plot_conv1d_steps(x, k, **kwargs)


# ----------------------------------------------------------------- plot_conv2d_step

@pytest.mark.parametrize("position, stride", [((0, 0), 1), ((2, 1), 1), ((3, 5), 1), ((1, 2), 2)])
def test_plot_conv2d_step_shows_window_product_and_output(position, stride):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=(6, 8)).astype(float)
    k = rng.integers(-2, 3, size=(3, 3)).astype(float)
    fig = plot.plot_conv2d_step(x, k, position, stride=stride, fmt="{:g}")
    ax_in, ax_k, ax_prod, ax_out = fig.axes
    row, col = position
    top, left = row * stride, col * stride

    (window,) = [p for p in ax_in.patches if p.get_gid() == "highlight"]
    assert window.get_xy() == (left - 0.5, top - 0.5)
    np.testing.assert_array_equal(grid_values(ax_k, (3, 3)), k)
    product = x[top:top + 3, left:left + 3] * k
    np.testing.assert_array_equal(grid_values(ax_prod, (3, 3)), product)
    assert ax_prod.get_title().endswith(f"= {product.sum():g}")

    expected = signal.correlate2d(x, k, mode="valid")[::stride, ::stride]  # (H_out, W_out)
    shown = grid_values(ax_out, expected.shape)
    n_done = row * expected.shape[1] + col + 1                  # raster order up to position
    np.testing.assert_array_equal(shown.flat[:n_done], expected.flat[:n_done])
    assert np.isnan(shown.flat[n_done:]).all()
    (cell,) = [p for p in ax_out.patches if p.get_gid() == "highlight"]
    assert cell.get_xy() == (col - 0.5, row - 0.5)


def test_plot_conv2d_step_reuses_a_figure():
    fig = plt.figure()
    x = np.zeros((5, 5))
    assert plot.plot_conv2d_step(x, np.ones((3, 3)), (0, 0), fig=fig) is fig
    plot.plot_conv2d_step(x, np.ones((3, 3)), (1, 1), fig=fig)
    assert len(fig.axes) == 4


@pytest.mark.parametrize("position, error, match", [
    ((3, 0), ValueError, r"`position` \(3, 0\) is outside the 3x3 output"),
    ((0.5, 0), TypeError, "`position` must be an integer"),
    ((1, 1, 1), ValueError, "`position` must be an int or a pair"),
    ((-1, 0), ValueError, "`position` must be at least 0"),
])
def test_plot_conv2d_step_rejects_bad_position(position, error, match):
    with pytest.raises(error, match=match):
        plot.plot_conv2d_step(np.zeros((5, 5)), np.ones((3, 3)), position)


def test_plot_conv2d_step_rejects_1d_kernel():
    with pytest.raises(ValueError, match="`kernel` must have 2 dimensions"):
        plot.plot_conv2d_step(np.zeros((5, 5)), np.ones(3), (0, 0))


# ----------------------------------------------------------------- array_to_png

@pytest.mark.parametrize("shape, scale", [((256, 256), 1), ((28, 20), 3), ((1, 1), 5)])
def test_array_to_png_round_trips_to_the_right_size(shape, scale):
    a = np.random.default_rng(0).normal(size=shape)
    png = plot.array_to_png(a, scale=scale)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (shape[1] * scale, shape[0] * scale)     # PIL: (width, height)


def test_array_to_png_grey_endpoints_and_matplotlib_agreement():
    a = np.linspace(-3.0, 5.0, 64).reshape(8, 8)
    pixels = decode(plot.array_to_png(a))                          # (8, 8) grey
    assert pixels[0, 0] == 0 and pixels[-1, -1] == 255
    reference = matplotlib.colormaps["gray"](matplotlib.colors.Normalize()(a), bytes=True)
    assert np.abs(pixels.astype(int) - reference[..., 0]).max() <= 1


@pytest.mark.parametrize("cmap", ["viridis", "RdBu_r", "magma"])
def test_array_to_png_colour_map_endpoints(cmap):
    a = np.array([[0.0, 0.5, 1.0]])
    pixels = decode(plot.array_to_png(a, cmap=cmap))               # (1, 3, 3) RGB
    colours = matplotlib.colormaps[cmap]([0.0, 1.0], bytes=True)[:, :3]
    np.testing.assert_array_equal(pixels[0, 0], colours[0])
    np.testing.assert_array_equal(pixels[0, 2], colours[1])


def test_array_to_png_fixed_range_clips():
    pixels = decode(plot.array_to_png(np.array([[-5.0, 0.0, 0.5, 1.0, 9.0]]), vmin=0, vmax=1))
    assert pixels[0].tolist()[:2] == [0, 0] and pixels[0].tolist()[3:] == [255, 255]
    assert 126 <= pixels[0, 2] <= 129


def test_array_to_png_constant_map_does_not_divide_by_zero():
    with np.errstate(all="raise"):
        pixels = decode(plot.array_to_png(np.full((4, 4), 7.0), cmap="viridis"))
    first = matplotlib.colormaps["viridis"](0.0, bytes=True)[:3]
    assert (pixels == np.array(first)).all()


def test_array_to_png_scale_repeats_each_value():
    a = np.array([[0.0, 1.0], [1.0, 0.0]])
    pixels = decode(plot.array_to_png(a, scale=3))                 # (6, 6)
    np.testing.assert_array_equal(pixels, np.kron(a, np.ones((3, 3))) * 255)


@pytest.mark.parametrize("a, kwargs, error, match", [
    (np.zeros((2, 2, 3)), {}, ValueError, "`a` must have 2 dimensions"),
    (np.zeros((0, 3)), {}, ValueError, "`a` must not be empty"),
    (np.array([[np.nan]]), {}, ValueError, "`a` must hold finite numbers"),
    (np.zeros((2, 2)), {"scale": 0}, ValueError, "`scale` must be at least 1"),
    (np.zeros((2, 2)), {"scale": 1.5}, TypeError, "`scale` must be an integer"),
    (np.zeros((2, 2)), {"vmin": 1, "vmax": 0}, ValueError, "`vmin`.*must not be larger"),
    (np.zeros((2, 2)), {"cmap": "no_such_map"}, ValueError, "`cmap` must be a matplotlib"),
])
def test_array_to_png_rejects_bad_input(a, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.array_to_png(a, **kwargs)


# ----------------------------------------------------------------- the package's two rules

FIGURE_PREFIXES = ("show_", "plot_", "draw_")
OUTSIDE_THE_RULES = {"save_convolution_animation", "array_to_png"}
OLDER_NAMES = {"confusion_matrix": "show_confusion_matrix",
               "show_convolution_frames": "plot_convolution_frames"}
RECORDS = {"ConvolutionFrame", "convolution_frames", "arithmetic_example", "ARITHMETIC_CASES",
           "confusion_counts"}
DISPLAY = {"feature_map_range", "colour_scale", "data_scale", "stretch_scale", "ColourScale"}


def figures():
    return [name for name in plot.__all__ if callable(getattr(plot, name))
            and name not in OUTSIDE_THE_RULES | set(OLDER_NAMES) | RECORDS | DISPLAY]


def test_every_figure_is_named_by_the_rule():
    assert len(figures()) == 19
    assert all(name.startswith(FIGURE_PREFIXES) for name in figures())


def test_older_names_are_the_rule_following_functions():
    for old, new in OLDER_NAMES.items():
        assert getattr(plot, old) is getattr(plot, new)


def test_channel_step_html_is_reachable_from_plot():
    from cnnlab import widgets

    assert plot.channel_step_html is widgets.channel_step_html
    assert "channel_step_html" in dir(plot)


ONE_CALL_EACH = {
    "show_matrix": ([[1.0]],), "show_kernel": ([[1.0]],),
    "show_feature_maps": (np.ones((2, 2, 2)),), "show_image_grid": ([np.ones((1, 2, 2))],),
    "show_connection_table": (np.eye(2),), "show_confusion_matrix": ([0, 1], [1, 1]),
    "show_pooling": (np.ones((2, 2)),), "plot_signal": ([1.0, 2.0],),
    "plot_activations": (["relu"],), "plot_conv1d_steps": ([0.0, 1.0], [1.0]),
    "plot_conv2d_step": (np.ones((2, 2)), np.ones((1, 1)), (0, 0)),
    "plot_channel_step": (np.ones((2, 2, 1)), np.ones((1, 1, 1, 1)), (0, 0, 0)),
    "plot_convolution_frame": (plot.convolution_frames(np.ones((2, 2)), np.ones((1, 1)))[0],),
    "plot_convolution_frames": (np.ones((2, 2)), np.ones((1, 1))),
    "plot_loss_curves": ({"run": [2.0, 1.0]},),
    "plot_descent_paths": (lambda w, b: w ** 2 + b ** 2, {"gd": [[0.5, 0.5], [0.0, 0.0]]}),
    "plot_layer_values": ({"net": {"a": 1.0, "b": 2.0}},),
    "draw_architecture": ([("input", (2, 2))],), "draw_course_map": (),
}


@pytest.mark.parametrize("name", sorted(ONE_CALL_EACH))
def test_one_panel_returns_its_axes_several_return_their_figure(name):
    fn = getattr(plot, name)
    kwargs = dict(xlim=(-1, 1), ylim=(-1, 1)) if name == "plot_descent_paths" else {}
    result = fn(*ONE_CALL_EACH[name], **kwargs)
    if "ax" in inspect.signature(fn).parameters:
        assert isinstance(result, matplotlib.axes.Axes)
    else:
        assert isinstance(result, matplotlib.figure.Figure)


def test_the_calls_above_cover_every_figure():
    assert set(ONE_CALL_EACH) == set(figures())
