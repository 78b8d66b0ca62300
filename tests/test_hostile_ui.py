"""Hostile input to the pictures, the explorers and the checkers (plot, widgets, checks).

Property-based part: every public helper of :mod:`cnnlab.plot`, every widget
constructor (and the methods and controls a learner touches) and every
checker of :mod:`cnnlab.checks` gets ``hostile_values`` at each argument in
turn, the others valid, and must answer with a result or a clear error
(:func:`hostile.assert_clear`). Then one regression test per case of the
audit: ``fmt`` forms, checkers that hang or say "Well done" to complex
numbers, widgets that hang on a huge padding or leak a raw ``TraitError``.
"""

from __future__ import annotations

import functools
import io
import re
import signal
import threading
import time
import zlib
from types import SimpleNamespace
from unittest import mock

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import traitlets  # noqa: E402
from hostile import argument_names, assert_clear, hostile_values, names_an_argument  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from cnnlab import checks, kernels, plot, shapes, widgets  # noqa: E402
from cnnlab.checks import CheckFailed  # noqa: E402
from cnnlab.widgets import ControlValueError  # noqa: E402

FEW = settings(max_examples=4, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow])
SOME = settings(FEW, max_examples=6)
TWO = settings(FEW, max_examples=2)            # each success writes a GIF


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def seeded(name):
    """A fixed seed per function, so that each gets other hostile values (deterministically)."""
    return seed(zlib.crc32(name.encode()))


def one_at_a_time(data, fn, valid, *, check=None):
    """Give each argument of ``fn`` a hostile value in turn, the others valid; assert_clear."""
    for name in valid:
        value = data.draw(hostile_values, label=name)
        call = functools.partial(fn, **{**valid, name: value})   # `fn`, `names`: fn's own
        kind, result = assert_clear(call, names=argument_names(fn))
        if check is not None and kind == "ok":
            check({**valid, name: value}, result)
        plt.close("all")


# ----------------------------------------------------------------- valid arguments

FRAME = plot.convolution_frames(np.ones((2, 2)), np.ones((1, 1)))[0]
CURVE = {"run": [2.0, 1.0, 0.5]}


def bowl(w, b):
    return w ** 2 + b ** 2


PLOT_CALLS = {
    "show_matrix": dict(a=[[1.0, 2.0]], ax=None, title="t", fmt="{:g}", cmap="Greys",
                        highlight=None, annotate=True, vmin=None, vmax=None),
    "show_kernel": dict(k=[[1.0, -1.0]], ax=None, title="t", fmt="{:.3g}", cmap="RdBu_r",
                        annotate=True),
    "show_feature_maps": dict(maps=np.ones((2, 2, 2)), ncols=2, titles=None, cmap="viridis"),
    "plot_signal": dict(x=[1.0, 2.0], ax=None, title=None, label=None),
    "plot_conv1d_steps": dict(x=[0.0, 1.0, 0.0], kernel=[1.0, 1.0], bias=0.0, fmt="{:.3g}"),
    "plot_conv2d_step": dict(x=np.ones((2, 2)), kernel=np.ones((1, 1)), position=(0, 0),
                             bias=0.0, stride=1, fig=None, fmt="{:.3g}"),
    "array_to_png": dict(a=np.ones((2, 2)), cmap="gray", vmin=None, vmax=None, scale=1),
    "plot_activations": dict(names=["relu"], x=None, derivatives=True, alpha=0.2, fig=None),
    "plot_channel_step": dict(x=np.ones((2, 2, 1)), kernel=np.ones((1, 1, 1, 1)),
                              position=(0, 0, 0), bias=None, stride=1, padding=0, fmt="{:g}",
                              fig=None),
    "channel_step_html": dict(x=np.ones((2, 2, 1)), kernel=np.ones((1, 1, 1, 1)),
                              position=(0, 0, 0), bias=None, stride=1, padding=0, fmt="{:g}"),
    "arithmetic_example": dict(n=3, kernel_size=2, seed=0),
    "convolution_frames": dict(x=np.ones((2, 2)), kernel=np.ones((1, 1)), stride=1,
                               padding="valid", dilation=1),
    "plot_convolution_frame": dict(frame=FRAME, ax=None, fmt="{:g}", title=None, fontsize=None),
    "show_convolution_frames": dict(x=np.ones((2, 2)), kernel=np.ones((2, 2)), stride=1,
                                    padding="valid", dilation=1, ncols=None, fmt="{:g}"),
    "show_pooling": dict(x=np.ones((2, 2)), ax=None, pool_size=2, stride=None, padding="valid",
                         kind="max", fmt="{:g}", title=None, fontsize=None),
    "confusion_counts": dict(y_true=[0, 1], y_pred=[1, 1], n_classes=2),
    "confusion_matrix": dict(y_true=[0, 1], y_pred=[1, 1], ax=None, labels=["a", "b"],
                             title=None),
    "show_connection_table": dict(table=np.eye(2), ax=None, title=None),
    "plot_loss_curves": dict(curves=CURVE, ax=None, smooth=1, steps_per_epoch=None, log=False,
                             ylabel=None, title=None),
    "plot_descent_paths": dict(loss=bowl, paths={"gd": [[0.5, 0.5], [0.0, 0.0]]}, ax=None,
                               xlim=(-1, 1), ylim=(-1, 1), levels=3, minimum=None,
                               labels=("w", "b"), title=None),
    "show_image_grid": dict(rows=[np.ones((1, 2, 2))], row_labels=None, titles=None,
                            cmap="gray", vmin=0.0, vmax=1.0, size=1.0),
    "draw_course_map": dict(ax=None),
    "draw_architecture": dict(model_or_layers=[("input", (2, 2))], ax=None, title=None),
    "plot_layer_values": dict(values={"net": {"a": 1.0, "b": 2.0}}, ax=None, ylabel="value",
                              log=False, title=None),
}


def check_counts(args, counts):
    """confusion_counts against a plain loop."""
    want = np.zeros_like(counts)
    for t, p in zip(np.asarray(args["y_true"]).astype(int), np.asarray(args["y_pred"]).astype(int)):
        want[t, p] += 1
    np.testing.assert_array_equal(counts, want)


def check_png(args, png):
    """The PNG has the size asked for."""
    h, w = np.shape(args["a"])
    assert Image.open(io.BytesIO(png)).size == (w * args["scale"], h * args["scale"])


REFERENCES = {"confusion_counts": check_counts, "array_to_png": check_png}


@pytest.mark.parametrize("name", list(PLOT_CALLS))
def test_every_plot_helper_answers_hostile_values_clearly(name):
    fn = getattr(plot, name)

    @seeded(name)
    @FEW
    @given(st.data())
    def run(data):
        one_at_a_time(data, fn, PLOT_CALLS[name], check=REFERENCES.get(name))

    run()


def test_save_convolution_animation_answers_hostile_values_clearly(tmp_path):
    valid = dict(path=tmp_path / "steps.gif", x=np.ones((1, 1)), kernel=np.ones((1, 1)),
                 stride=1, padding="valid", dilation=1, fps=2, fmt="{:g}", dpi=20)

    @TWO
    @given(st.data())
    def run(data):
        one_at_a_time(data, plot.save_convolution_animation, valid)

    run()


# ----------------------------------------------------------------- widgets

class FakeLeNet:
    """Enough of a LeNet-5 for DigitInspector's checks; its probe is patched below."""

    layers = [SimpleNamespace(name=n) for n in ("C1", "S2", "C3", "S4", "C5", "F6", "output")]


def fake_probe(model):
    shapes_ = [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (120,), (84,), (10,)]

    def probe(x, training=False):
        n = len(x)
        outs = [np.full((n, *s), 0.5, np.float32) for s in shapes_]
        outs[-1] = np.tile(np.eye(10, dtype=np.float32)[3], (n, 1))      # always "3"
        return outs
    return probe


SMALL_EDITOR = dict(image=np.ones((4, 4)))
SMALL_ARITHMETIC = dict(n=3, kernel_size=2, padding=0, stride=1)   # 2x2 output: 4 steps
SMALL_MAP = np.ones((2, 2))


DIGITS = np.zeros((3, 28, 28), np.uint8)
LABELS = np.array([3, 1, 3])

WIDGET_CALLS = {
    "channel_example": (widgets.channel_example, dict(seed=0)),
    "BumpEditor": (widgets.BumpEditor, dict(signal=[0, 1, 0], kernel=[0.0, 1.0, 0.0])),
    "KernelEditor": (widgets.KernelEditor, dict(image=np.ones((4, 4)), size=3, presets=None,
                                                 preset=None)),
    "ChannelExplorer": (widgets.ChannelExplorer, dict(x=None, kernel=None, bias=None, stride=2,
                                                       padding=1)),
    "PaddingStrideExplorer": (widgets.PaddingStrideExplorer,
                              dict(n=3, kernel_size=2, padding=0, stride=1, dilation=1,
                                   case=None)),
    "PoolingExplorer": (widgets.PoolingExplorer, dict(feature_map=np.ones((2, 2)), kind="max",
                                                       pool_size=2, stride=2, padding="valid")),
    "DigitInspector": (widgets.DigitInspector, dict(model=FakeLeNet(), index=0, layer="C1",
                                                     images=DIGITS, labels=LABELS)),
    "ActivationExplorer": (widgets.ActivationExplorer, dict(feature_map=np.ones((3, 3)),
                                                             activation="relu", slope=0.2,
                                                             bias=0.0)),
    "TransposedConvExplorer": (widgets.TransposedConvExplorer,
                               dict(input=np.ones((2, 2)), kernel="ones", kernel_size=3,
                                    stride=2, padding="valid")),
    "OptimiserRace": (widgets.OptimiserRace, dict(surface="valley", lr=0.15, momentum=0.9,
                                                   beta=0.9, steps=5, step=None)),
    "SoftmaxExplorer": (widgets.SoftmaxExplorer, dict(logits=[1.0, 2.0, 3.0], temperature=1.0)),
    "DegradationViewer": (widgets.DegradationViewer, dict(depth=20, shortcuts=False,
                                                           curve="training loss", seed="mean")),
    "ReceptiveFieldExplorer": (widgets.ReceptiveFieldExplorer,
                               dict(network="LeNet-5", layer="C3", row=0, col=0)),
}


@pytest.fixture(scope="module", autouse=True)
def patched_probe():
    with mock.patch("cnnlab.widgets.digit_inspector._lenet_probe", fake_probe):
        yield


@pytest.mark.parametrize("name", list(WIDGET_CALLS))
def test_every_widget_constructor_answers_hostile_values_clearly(name):
    fn, valid = WIDGET_CALLS[name]

    @seeded(name)
    @FEW
    @given(st.data())
    def run(data):
        one_at_a_time(data, fn, valid)

    run()


def explorers():
    """One small explorer of each kind."""
    return [widgets.BumpEditor(), widgets.KernelEditor(image=np.ones((4, 4))),
            widgets.ChannelExplorer(), widgets.PaddingStrideExplorer(**SMALL_ARITHMETIC),
            widgets.PoolingExplorer(np.ones((4, 4))),
            widgets.DigitInspector(FakeLeNet(), images=DIGITS, labels=LABELS),
            widgets.ActivationExplorer(np.ones((3, 3))), widgets.TransposedConvExplorer(),
            widgets.SoftmaxExplorer([1.0, 2.0, 3.0]), widgets.DegradationViewer(),
            widgets.ReceptiveFieldExplorer("LeNet-5"), widgets.OptimiserRace(steps=5)]


@pytest.fixture(scope="module")
def explorer_set():
    return explorers()


def test_every_control_refuses_hostile_values_and_keeps_the_last_good_one(explorer_set):
    @SOME
    @given(st.data())
    def run(data):
        for e in explorer_set:
            for name, control in list(e.controls.items()):
                if not hasattr(control, "value"):
                    continue                                   # buttons
                before = control.value
                value = data.draw(hostile_values, label=f"{type(e).__name__}.{name}")

                def set_it(value=value, control=control):
                    control.value = value
                kind, result = assert_clear(set_it, names=[name])
                if kind == "error":
                    assert isinstance(result, ControlValueError)
                    assert isinstance(result, traitlets.TraitError)
                    assert control.value == before or before != before      # NaN box
                    assert "Refused" in e.status.value and name in e.status.value

    run()


def test_widget_methods_answer_hostile_values_clearly(explorer_set):
    bump, editor, channels = explorer_set[:3]

    @SOME
    @given(st.data())
    def run(data):
        for fn, valid in ((bump.set_kernel, dict(kernel=[0.0, 1.0, 0.0])),
                          (editor.set_kernel, dict(kernel=np.eye(3))),
                          (channels.select, dict(row=0, col=0, filter=0))):
            one_at_a_time(data, fn, valid)

    run()


# ----------------------------------------------------------------- checkers

def feature_map_length(n, k):
    return n - k + 1


CHECK_CALLS = {
    "check_conv1d": dict(fn=kernels.conv1d, channels=False, strides=None, paddings=None,
                         time_limit=5.0),
    "check_conv2d": dict(fn=kernels.conv2d, channels=False, strides=None, paddings=None,
                         time_limit=5.0),
    "check_output_size": dict(fn=shapes.conv_output_size, strides=None, paddings=None,
                              time_limit=5.0),
    "check_feature_map_length": dict(fn=feature_map_length, time_limit=5.0),
    "check_max_pool": dict(fn=kernels.max_pool2d, channels=False, pool_sizes=None,
                           strides=None, time_limit=5.0),
}


@pytest.mark.parametrize("name", list(CHECK_CALLS))
def test_every_checker_answers_hostile_values_clearly(name, capsys):
    fn = getattr(checks, name)

    @seeded(name)
    @FEW
    @given(st.data())
    def run(data):
        one_at_a_time(data, fn, CHECK_CALLS[name])

    run()


# ================================================================= regressions: fmt

def cell_texts(ax):
    return [t.get_text() for t in ax.texts if t.get_gid() == "cell"]


@pytest.mark.parametrize("draw", [plot.show_matrix, plot.show_kernel])
def test_three_forms_of_fmt_give_the_same_cells(draw):
    a = np.array([[1 / 3, -2.5], [10.0, 0.125]])
    texts = [cell_texts(draw(a, fmt=fmt)) for fmt in ("{:.2f}", ".2f", "%.2f")]
    assert texts[0] == ["0.33", "-2.50", "10.00", "0.12"]
    assert texts[0] == texts[1] == texts[2]


def test_fmt_forms_agree_in_every_helper_with_a_fmt():
    x, kernel, bias = widgets.channel_example()
    html = [plot.channel_step_html(x, kernel, (0, 0, 0), bias=bias, stride=2, padding=1, fmt=f)
            for f in ("{:.1f}", ".1f", "%.1f")]
    assert html[0] == html[1] == html[2] and "0.0" in html[0]
    pooled = [[t.get_text() for t in plot.show_pooling(np.arange(16.0).reshape(4, 4),
                                                       fmt=f).texts]
              for f in ("{:.1f}", ".1f", "%.1f")]
    assert pooled[0] == pooled[1] == pooled[2] and "15.0" in pooled[0]
    steps = [[t.get_text() for ax in plot.plot_conv1d_steps([1, 2, 3], [1, 1], fmt=f).axes
              for t in ax.texts] for f in ("{:.1f}", ".1f", "%.1f")]
    assert steps[0] == steps[1] == steps[2] and "5.0" in steps[0]


@pytest.mark.parametrize("fmt, error, words", [
    ("%.2f and %.2f", ValueError, "fails on a number"),
    ("abc", ValueError, "no field"),
    ("", ValueError, "no field"),
    ("{:d}", ValueError, "'{:.0f}'"),
    ("{} {}", ValueError, "2 fields"),
    ("{:1000000000}", ValueError, "at most 99"),
    (2, TypeError, "format string"),
    (None, TypeError, "format string"),
])
def test_a_fmt_without_a_usable_field_is_refused(fmt, error, words):
    for call in (lambda: plot.show_matrix([[1.0]], fmt=fmt),
                 lambda: plot.show_kernel([[1.0]], fmt=fmt),
                 lambda: plot.plot_conv2d_step(np.ones((2, 2)), np.ones((1, 1)), (0, 0), fmt=fmt),
                 lambda: plot.show_pooling(np.ones((2, 2)), fmt=fmt)):
        with pytest.raises(error) as info:
            call()
        assert "`fmt`" in str(info.value) and words in str(info.value)


# ================================================================= regressions: checkers

def spinning_conv2d(x, k):
    while True:
        pass


def test_an_infinite_loop_fails_within_the_time_limit_with_a_hint():
    start = time.monotonic()
    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d(spinning_conv2d, time_limit=0.3)
    assert time.monotonic() - start < 2.0
    message = str(info.value)
    assert "spinning_conv2d did not finish within 0.3 s" in message
    assert "infinite loop" in message and "time_limit=" in message


def test_a_learner_except_exception_does_not_swallow_the_time_limit():
    def stubborn(x, k):
        while True:
            try:
                time.sleep(0.01)
            except Exception:  # noqa: BLE001 - the learner's mistake under test
                pass
    with pytest.raises(CheckFailed, match="did not finish within 0.2 s"):
        checks.check_conv1d(stubborn, time_limit=0.2)


@pytest.mark.parametrize("check, fn", [
    (checks.check_conv1d, spinning_conv2d),
    (checks.check_output_size, lambda n, k: spinning_conv2d(n, k)),
    (checks.check_feature_map_length, lambda n, k: spinning_conv2d(n, k)),
    (checks.check_max_pool, lambda x: spinning_conv2d(x, x)),
])
def test_every_checker_has_the_time_limit(check, fn):
    with pytest.raises(CheckFailed, match="did not finish within 0.1 s"):
        check(fn, time_limit=0.1)


def test_the_time_limit_works_outside_the_main_thread_too():
    stop = threading.Event()

    def waits(x, k):
        while not stop.is_set():
            time.sleep(0.01)
        return kernels.conv2d(x, k)
    failures = []

    def run():
        try:
            checks.check_conv2d(waits, time_limit=0.2)
        except CheckFailed as exc:
            failures.append(str(exc))
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(5)
    stop.set()
    assert failures and "did not finish within 0.2 s" in failures[0]
    assert "restart the kernel" in failures[0]


def test_an_outer_alarm_survives_a_checker():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        checks.check_conv2d(kernels.conv2d)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20 < left < 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not fired


@pytest.mark.parametrize("result, words", [
    (lambda x, k: kernels.conv2d(x, k) + 0j, "complex numbers"),
    (lambda x, k: kernels.conv2d(x, k).astype(complex), "complex numbers"),
    (lambda x, k: kernels.conv2d(x, k).astype(str), "text instead of numbers"),
    (lambda x, k: kernels.conv2d(x, k) > 0, "True/False"),
    (lambda x, k: kernels.conv2d(x, k).astype(object), "not an array of numbers"),
    (lambda x, k: [[1.0, None]], "not an array of numbers"),
])
def test_results_that_are_not_real_numbers_fail(result, words):
    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d(result)
    assert words in str(info.value) and "Hint: " in str(info.value)
    assert "Well done" not in str(info.value)


@pytest.mark.parametrize("check", [checks.check_conv1d, checks.check_conv2d,
                                   checks.check_output_size, checks.check_feature_map_length,
                                   checks.check_max_pool])
def test_a_checker_given_something_else_than_a_function_names_fn(check):
    with pytest.raises(TypeError) as info:
        check(3)
    assert "`fn`" in str(info.value) and "Expected a function" in str(info.value)
    assert isinstance(info.value, CheckFailed)          # the notebooks' short message too


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(time_limit=0), ValueError, "time_limit"),
    (dict(time_limit="5"), TypeError, "time_limit"),
    (dict(strides=2), TypeError, "strides"),
    (dict(strides=[10**12]), ValueError, "strides"),
    (dict(paddings=["half"]), ValueError, "paddings"),
    (dict(channels="yes"), TypeError, "channels"),
])
def test_checker_options_are_checked(kwargs, error, name):
    with pytest.raises(error, match=f"`{name}`"):
        checks.check_conv2d(kernels.conv2d, **kwargs)


# ================================================================= regressions: widgets

def test_channel_explorer_refuses_a_huge_padding_at_once():
    start = time.monotonic()
    with pytest.raises(ValueError, match="`padding` must be at most 13"):
        widgets.ChannelExplorer(padding=2000)
    e = widgets.ChannelExplorer()
    view, output = e.view.value, e.output.copy()
    with pytest.raises(ControlValueError) as info:
        e.controls["padding"].value = 2000
    assert isinstance(info.value, traitlets.TraitError) and isinstance(info.value, ValueError)
    assert "`padding`" in str(info.value) and "at most 13" in str(info.value)
    assert e.controls["padding"].value == 1 and e.view.value == view
    np.testing.assert_array_equal(e.output, output)
    assert "Refused" in e.status.value and "Kept padding = 1" in e.status.value
    assert time.monotonic() - start < 2.0


def test_a_value_typed_in_the_browser_is_refused_without_an_error():
    e = widgets.ChannelExplorer()
    view = e.view.value
    e.controls["padding"].set_state({"value": 2000})         # what the front end sends
    assert e.controls["padding"].value == 1 and e.view.value == view
    assert "Refused" in e.status.value
    e.controls["padding"].set_state({"value": 2})
    assert e.controls["padding"].value == 2 and e.output.shape == (4, 4, 2)


@pytest.fixture(scope="module")
def fresh_explorers():
    """Explorers the refusals below leave as they are (a refused value changes nothing)."""
    return {"KernelEditor": widgets.KernelEditor(**SMALL_EDITOR), "BumpEditor": widgets.BumpEditor(),
            "ChannelExplorer": widgets.ChannelExplorer(),
            "PaddingStrideExplorer": widgets.PaddingStrideExplorer(**SMALL_ARITHMETIC),
            "PoolingExplorer": widgets.PoolingExplorer(SMALL_MAP)}


@pytest.mark.parametrize("explorer, control, value, words", [
    ("KernelEditor", "preset", "nope", "one of 'custom'"),
    ("KernelEditor", "size", 4, "one of 3, 5"),
    ("KernelEditor", "w_0_0", 1e308, "from -1e+06 to 1e+06"),
    ("KernelEditor", "w_0_0", "0.5", "must be a number"),
    ("BumpEditor", "x_0", "yes", "True or False"),
    ("ChannelExplorer", "row", 7, "from 0 to 2"),
    ("ChannelExplorer", "filter", 1.5, "whole number"),
    ("PaddingStrideExplorer", "p", 100, "at most 20"),
    ("PaddingStrideExplorer", "step", 100, "from 0 to 3"),
    ("PaddingStrideExplorer", "case", "half", "one of"),
    ("PoolingExplorer", "kind", "median", "one of 'max', 'avg', 'sum'"),
    ("PoolingExplorer", "pool_size", 0, "from 1 to 6"),
])
def test_controls_set_from_code_to_a_bad_value_raise_a_clear_error(fresh_explorers, explorer,
                                                                   control, value, words):
    e = fresh_explorers[explorer]
    e.status.value = ""
    before = e.controls[control].value
    with pytest.raises(ControlValueError) as info:
        e.controls[control].value = value
    assert f"`{control}`" in str(info.value) and words in str(info.value)
    assert e.controls[control].value == before
    assert "Refused" in e.status.value


def test_a_refusal_inside_hold_redraw_stays_on_the_status_line():
    e = widgets.PoolingExplorer(SMALL_MAP)
    with pytest.raises(ControlValueError), e.hold_redraw():
        e.controls["kind"].value = "avg"
        e.controls["stride"].value = 9
    assert e.controls["kind"].value == "avg" and e.controls["stride"].value == 2
    assert e.status.value.startswith("Refused: stride")
    assert e.output_values.tolist() == [[1.0]]                  # the avg picture was drawn


def test_impossible_but_allowed_settings_still_only_explain():
    e = widgets.ChannelExplorer()
    e.controls["stride"].value = 0                             # the lesson's own example
    assert "Stride must be at least 1" in e.status.value


@pytest.mark.parametrize("make", [lambda: widgets.KernelEditor(**SMALL_EDITOR),
                                  lambda: widgets.BumpEditor()])
@pytest.mark.parametrize("weight, error, words", [
    (1e308, ValueError, "from -1e+06 to 1e+06"),
    (np.nan, ValueError, "finite"),
])
def test_set_kernel_refuses_hostile_kernels_naming_kernel(make, weight, error, words):
    e = make()
    shape = (3, 3) if isinstance(e, widgets.KernelEditor) else (3,)
    kernel, picture = np.full(shape, weight), e.status.value
    with pytest.raises(error) as info:
        e.set_kernel(kernel)
    assert "`kernel`" in str(info.value) and "`a`" not in str(info.value)
    assert words in str(info.value) and e.status.value == picture
    with pytest.raises(ValueError, match="`kernel`"):
        e.set_kernel(np.ones((4,) * len(shape)))


def test_channel_explorer_select_out_of_range_names_the_argument():
    e = widgets.ChannelExplorer()
    with pytest.raises(ValueError, match=r"`row` must be from 0 to 2 \(the output has 3 rows\)"):
        e.select(5, 0)
    with pytest.raises(ValueError, match="`filter` must be from 0 to 1"):
        e.select(0, 0, 2)
    with pytest.raises(TypeError, match="`col`"):
        e.select(0, "1")
    assert (e.controls["row"].value, e.controls["col"].value) == (0, 0)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(x=np.ones((40, 40, 1)), kernel=np.ones((3, 3, 1, 1))), ValueError, "x"),
    (dict(x=np.ones((5, 5, 9)), kernel=np.ones((3, 3, 9, 1))), ValueError, "x"),
    (dict(x=np.ones((5, 5, 1)), kernel=np.ones((3, 3, 1, 100))), ValueError, "kernel"),
    (dict(x=np.full((5, 5, 1), 1e308), kernel=np.ones((3, 3, 1, 1))), ValueError, "x"),
    (dict(stride=10**9), ValueError, "stride"),
])
def test_channel_explorer_bounds_its_sizes(kwargs, error, name):
    with pytest.raises(error, match=f"`{name}`"):
        widgets.ChannelExplorer(**kwargs)


@pytest.mark.parametrize("make, name", [
    (lambda: widgets.PaddingStrideExplorer(stride=10**9), "stride"),
    (lambda: widgets.PaddingStrideExplorer(dilation=50), "dilation"),
    (lambda: widgets.PaddingStrideExplorer(padding=10**6), "padding"),
    (lambda: widgets.PoolingExplorer(np.full((4, 4), np.inf)), "feature_map"),
    (lambda: widgets.PoolingExplorer(pool_size=10**12), "pool_size"),
    (lambda: widgets.KernelEditor(image=np.ones((2000, 3))), "image"),
    (lambda: widgets.KernelEditor(image=np.zeros((0, 3))), "image"),
])
def test_explorer_constructors_bound_what_sets_a_size(make, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        make()


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(model=None), TypeError, "model"),
    (dict(model=np.zeros(3)), TypeError, "model"),
    (dict(index=-1), ValueError, "index"),
    (dict(index=3), ValueError, "index"),
    (dict(index=1.5), TypeError, "index"),
    (dict(layer="C9"), ValueError, "layer"),
    (dict(images=np.zeros((3, 32, 32))), ValueError, "images"),
    (dict(images=np.full((3, 28, 28), 300.0)), ValueError, "images"),
    (dict(labels=[1, 2]), ValueError, "labels"),
    (dict(labels=[1, 2, 12]), ValueError, "labels"),
    (dict(labels=None), ValueError, "labels"),
])
def test_digit_inspector_refuses_hostile_arguments(kwargs, error, name):
    args = {**WIDGET_CALLS["DigitInspector"][1], **kwargs}
    with pytest.raises(error, match=f"`{name}`"):
        widgets.DigitInspector(**args)


def test_digit_inspector_on_your_own_digits():
    e = widgets.DigitInspector(FakeLeNet(), index=1, layer="S2", images=DIGITS, labels=LABELS)
    assert e.feature_maps.shape == (14, 14, 6) and e.prediction == 3 and e.label == 1
    e.next_mistake()
    assert e.index == 1                                    # the only digit "3" is wrong for
    with pytest.raises(ControlValueError, match=r"`index` must be a whole number from 0 to 2"):
        e.controls["index"].value = 3


# ================================================================= regressions: plot sizes

@pytest.mark.parametrize("call, name, words", [
    (lambda: plot.array_to_png(np.ones((4, 4)), scale=10**6), "scale", "4096 x 4096"),
    (lambda: plot.show_feature_maps(np.ones((2, 2, 10_000))), "maps", "at most 256"),
    (lambda: plot.show_feature_maps([np.ones((2, 2))] * 10_000), "maps", "at most 256"),
    (lambda: plot.plot_conv1d_steps(np.ones(10**6), [1.0]), "x", "1 to 24 values"),
    (lambda: plot.plot_signal(np.ones(10**6)), "x", "at most 10,000"),
    (lambda: plot.channel_step_html(np.ones((5, 5, 1)), np.ones((3, 3, 1, 1)), (0, 0, 0),
                                    padding=2000), "padding", "at most 32 cells"),
    (lambda: plot.plot_channel_step(np.ones((5, 5, 1)), np.ones((3, 3, 1, 1)), (0, 0, 0),
                                    padding=20), "padding", "at most 32 cells"),
    (lambda: plot.convolution_frames(np.ones((5, 5)), np.ones((3, 3)), padding=10**9),
     "padding", "at most 20 cells"),
    (lambda: plot.convolution_frames(np.ones((5, 5)), np.ones((3, 3)), dilation=10**9),
     "dilation", "at most 20 cells"),
    (lambda: plot.arithmetic_example(10**6, 3), "n", "at most 20"),
    (lambda: plot.show_pooling(np.ones((4, 4)), pool_size=10**12, padding="same"),
     "pool_size", "at most 32"),
    (lambda: plot.confusion_counts([0], [0], n_classes=10**6), "n_classes", "refuses anything"),
    (lambda: plot.plot_descent_paths(bowl, {}, xlim=(0, 1), ylim=(0, 1), levels=10**12),
     "levels", "at most 100"),
    (lambda: plot.show_convolution_frames(np.ones((20, 20)), np.ones((1, 1))), "x",
     "at most 64"),
    (lambda: plot.plot_activations(["relu"] * 100), "names", "at most 8"),
    (lambda: plot.show_image_grid([np.ones((1, 2, 2))], size=10**6), "size", "0.2 to 10"),
])
def test_sizes_are_bounded_before_anything_is_drawn(call, name, words):
    start = time.monotonic()
    with pytest.raises(ValueError) as info:
        call()
    assert f"`{name}`" in str(info.value) and words in str(info.value)
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("y_true, y_pred, kwargs, words", [
    ([0, 1, 2], [0, 1], {}, "same length (one prediction per label), got 3 and 2"),
    ([0, 1, 12], [0, 1, 2], {}, "`y_true` must hold whole class numbers 0 to 9"),
    ([0, 1, 2], [0, 1, 2], {"labels": ["cat", "dog"]}, "`labels` names 2 classes"),
    ([0, 1], [0, -1], {}, "`y_pred` must hold whole class numbers 0 to 9"),
    ([0, 1], [0, 1], {"labels": "ab"}, "`labels` must be a list of strings"),
])
def test_confusion_matrix_explains_mismatched_labels(y_true, y_pred, kwargs, words):
    with pytest.raises((ValueError, TypeError), match=re.escape(words)):
        plot.confusion_matrix(y_true, y_pred, **kwargs)


@pytest.mark.parametrize("call, name", [
    (lambda: plot.show_matrix([[1.0]], ax="left"), "ax"),
    (lambda: plot.plot_conv2d_step(np.ones((2, 2)), np.ones((1, 1)), (0, 0), fig=3), "fig"),
    (lambda: plot.show_matrix([[1.0]], cmap=3), "cmap"),
    (lambda: plot.show_matrix([[1.0]], vmin=2, vmax=1), "vmin"),
    (lambda: plot.show_matrix([[1.0]], annotate="no"), "annotate"),
    (lambda: plot.show_kernel(np.full((2, 2), 1e308) * [[1, -1], [1, 1]]), None),
    (lambda: plot.plot_conv2d_step(np.full((2, 2), 1e308), np.full((1, 1), 1e308), (0, 0)),
     "x"),
    (lambda: plot.plot_channel_step(np.full((2, 2, 1), 1e308), np.full((1, 1, 1, 1), 1e308),
                                    (0, 0, 0)), "x"),
    (lambda: plot.plot_descent_paths(lambda w, b: 1 / 0, {}, xlim=(0, 1), ylim=(0, 1)), "loss"),
    (lambda: plot.plot_descent_paths(lambda w, b: 0 * w, {}, xlim=(0, 1), ylim=(0, 1)), None),
    (lambda: plot.plot_descent_paths(bowl, {}, xlim=(1, 1), ylim=(0, 1)), "xlim"),
    (lambda: plot.plot_activations([np.array(["relu", "tanh"])]), "names"),
    (lambda: plot.show_image_grid([]), "rows"),
    (lambda: plot.draw_architecture([("conv", None)]), "model_or_layers"),
])
def test_hostile_values_that_used_to_leak_library_errors(call, name):
    """Each used to give a matplotlib/numpy error, an AssertionError or a silent result."""
    if name is None:                               # now drawn without an error
        call()
        return
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert names_an_argument(str(info.value), [name])
