"""The degradation viewer of lesson 11, driven headlessly by setting ``.value``: what it shows
equals the shipped records (degradation.json, degradation_gradients.json), the picture follows
the controls, and bad values are refused."""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest

from cnnlab import weights
from cnnlab.widgets._controls import ControlValueError
from cnnlab.widgets.degradation_viewer import CURVES, DegradationViewer

RECORD = weights.load_json("degradation.json")
GRADIENTS = weights.load_json("degradation_gradients.json")
FIELDS = ("loss", "accuracy", "test_loss", "test_accuracy")


@pytest.fixture
def viewer():
    return DegradationViewer()


def shipped_run(name, seed):
    """The record's run (the lists of the JSON), or their mean over the seeds, by hand."""
    runs = RECORD["runs"][name]
    if seed != "mean":
        return {f: runs[RECORD["settings"]["seeds"].index(seed)][f] for f in FIELDS}
    return {f: [sum(r[f][e] for r in runs) / len(runs) for e in range(len(runs[0][f]))]
            for f in FIELDS}


def bold_line(ax):
    (line,) = [ln for ln in ax.get_lines() if ln.get_linewidth() == 3.0]
    return line


def assert_shows(v, name, twin, seed):
    assert (v.name, v.twin_name) == (name, twin)
    for field in FIELDS:
        np.testing.assert_allclose(v.run[field], shipped_run(name, seed)[field], rtol=1e-12)
        np.testing.assert_allclose(v.twin_run[field], shipped_run(twin, seed)[field], rtol=1e-12)
    assert v.final_test_accuracy == pytest.approx(shipped_run(name, seed)["test_accuracy"][-1])
    assert v.twin_final_test_accuracy == pytest.approx(
        shipped_run(twin, seed)["test_accuracy"][-1])
    np.testing.assert_array_equal(v.gradient_norms, GRADIENTS["networks"][name]["norms"])
    np.testing.assert_array_equal(v.twin_gradient_norms, GRADIENTS["networks"][twin]["norms"])


# ----------------------------------------------------------------- what it shows

def test_starts_with_the_deep_plain_network_averaged_over_the_seeds(viewer):
    v = viewer
    assert_shows(v, "plain56", "resnet56", "mean")
    assert v.gradient_norms.shape == (55,)
    assert bytes(v.picture.value).startswith(b"\x89PNG")
    acc = [100 * shipped_run(n, "mean")["test_accuracy"][-1] for n in ("plain56", "resnet56")]
    assert v.status.value.startswith(f"plain-56: {acc[0]:.1f} % vs resnet-56: {acc[1]:.1f} % "
                                     "test accuracy after 6 epochs")


def test_the_bold_curve_is_the_chosen_run_and_the_others_are_drawn_faint(viewer):
    curves, gradients = viewer.figure.axes
    np.testing.assert_allclose(bold_line(curves).get_ydata(), shipped_run("plain56", "mean")["loss"])
    np.testing.assert_array_equal(bold_line(curves).get_xdata(), np.arange(1, 7))
    assert len(curves.get_lines()) == 4 and curves.get_legend() is not None
    assert [t.get_text() for t in curves.get_legend().get_texts()] == [
        "plain-20", "plain-56", "resnet-20", "resnet-56"]
    np.testing.assert_array_equal(bold_line(gradients).get_ydata(),
                                  GRADIENTS["networks"]["plain56"]["norms"])
    assert gradients.get_yscale() == "log"
    np.testing.assert_array_equal(bold_line(gradients).get_xdata(), np.arange(1, 56))


@pytest.mark.parametrize("depth, shortcuts, seed", [(20, False, 0), (20, True, 1),
                                                    (56, True, 0), (56, False, 1),
                                                    (20, True, "mean")])
def test_every_setting_shows_the_record(viewer, depth, shortcuts, seed):
    v = viewer
    picture = v.picture.value
    with v.hold_redraw():
        v.controls["depth"].value = depth
        v.controls["shortcuts"].value = shortcuts
        v.controls["seed"].value = seed
    kind, twin = ("resnet", "plain") if shortcuts else ("plain", "resnet")
    assert_shows(v, f"{kind}{depth}", f"{twin}{depth}", seed)
    assert v.gradient_norms.shape == (depth - 1,)
    assert v.picture.value != picture


def test_shortcuts_swap_the_network_and_its_twin(viewer):
    v = viewer
    before = (v.gradient_norms, v.twin_gradient_norms, v.picture.value)
    v.controls["shortcuts"].value = True
    np.testing.assert_array_equal(v.gradient_norms, before[1])
    np.testing.assert_array_equal(v.twin_gradient_norms, before[0])
    assert v.picture.value != before[2]
    assert v.status.value.startswith("resnet-56: ")


@pytest.mark.parametrize("curve", list(CURVES))
def test_each_curve_has_its_own_fixed_range(viewer, curve):
    v = viewer
    field, ylim, scale, unit = CURVES[curve]
    v.controls["curve"].value = curve
    for depth in (20, 56):
        v.controls["depth"].value = depth
        ax = v.figure.axes[0]
        assert ax.get_ylim() == pytest.approx(ylim) and ax.get_yscale() == scale
        factor = 100 if unit == "%" else 1
        np.testing.assert_allclose(v.curve, shipped_run(f"plain{depth}", "mean")[field])
        np.testing.assert_allclose(bold_line(ax).get_ydata(), factor * v.curve)


def test_the_gradient_range_is_the_same_for_every_network(viewer):
    every = np.concatenate([n["norms"] for n in GRADIENTS["networks"].values()])
    ranges = set()
    for depth in (20, 56):
        viewer.controls["depth"].value = depth
        ranges.add(viewer.figure.axes[1].get_ylim())
    (low, high), = ranges
    assert low <= every.min() and high >= every.max() and high / low <= 1e7


def test_the_status_gives_the_gradient_spread_of_both_networks(viewer):
    g = GRADIENTS["networks"]
    spread = g["plain56"]["norms"][0] / g["plain56"]["norms"][-1]
    assert f"first / last layer gradient {spread:,.0f}x" in viewer.status.value
    assert spread > 1000          # with batch norm the plain net's gradient grows to the input


def test_hold_redraw_draws_once(viewer):
    count = viewer.redraw_count
    with viewer.hold_redraw():
        viewer.controls["depth"].value = 20
        viewer.controls["curve"].value = "test accuracy"
    assert viewer.redraw_count == count + 1


# ----------------------------------------------------------------- refused values

@pytest.mark.parametrize("name, value", [("depth", 21), ("depth", "56"), ("seed", 2),
                                         ("seed", "median"), ("curve", "validation loss"),
                                         ("shortcuts", "yes"), ("shortcuts", 2)])
def test_a_value_a_control_cannot_take_is_refused(viewer, name, value):
    v = viewer
    shown = (v.name, v.picture.value, v.controls[name].value)
    with pytest.raises(ControlValueError, match=f"`{name}` must be"):
        v.controls[name].value = value
    assert (v.name, v.picture.value, v.controls[name].value) == shown
    assert v.status.value.startswith(f"Refused: {name} must be")


# ----------------------------------------------------------------- arguments

def tiny_record(epochs=3):
    run = {f: list(np.linspace(0.9, 0.5, epochs)) for f in FIELDS}
    return {"settings": {"depths": [8], "seeds": [0]},
            "runs": {"plain8": [run], "resnet8": [{**run, "test_accuracy": [0.2] * epochs}]}}


def tiny_gradients(n=7):
    return {"networks": {"plain8": {"norms": [2.0 ** -i for i in range(n)]},
                         "resnet8": {"norms": [1.0] * n}}}


def test_takes_records_of_its_own():
    v = DegradationViewer(tiny_record(), tiny_gradients(), seed=0, shortcuts=True)
    assert (v.name, v.final_test_accuracy, v.twin_final_test_accuracy) == ("resnet8", 0.2, 0.5)
    assert v.status.value.startswith("resnet-8: 20.0 % vs plain-8: 50.0 % test accuracy after "
                                     "3 epochs (seed 0); first / last layer gradient 1.0x vs 64.0x")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(depth=21), ValueError, "`depth` must be one of 20, 56, got 21"),
    (dict(depth=True), ValueError, "`depth` must be one of"),
    (dict(seed=3), ValueError, "`seed` must be one of 0, 1, 'mean', got 3"),
    (dict(curve="accuracy"), ValueError, "`curve` must be one of 'training loss'"),
    (dict(shortcuts=1), TypeError, "`shortcuts` must be True or False"),
    (dict(record="degradation.json"), TypeError, "`record` must be a degradation record"),
    (dict(gradients=[1, 2]), TypeError, "`gradients` must be a gradient record"),
])
def test_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        DegradationViewer(**kwargs)


def broken(change):
    record, gradients = tiny_record(), tiny_gradients()
    change(record, gradients)
    return record, gradients


@pytest.mark.parametrize("change, message", [
    (lambda r, g: r["runs"].pop("resnet8"), r"record\['runs'\]\['resnet8'\]` must be a list"),
    (lambda r, g: r["runs"]["plain8"][0].update(loss=[1.0, float("nan"), 1.0]), "loss"),
    (lambda r, g: r["runs"]["plain8"][0].update(loss=[1.0]), "one length"),
    (lambda r, g: r["runs"]["plain8"][0].update(loss=[1.0] * 201), "1 to 200 values"),
    (lambda r, g: r["settings"].update(depths=[8, 8]), "must not repeat"),
    (lambda r, g: r["settings"].update(seeds=list(range(11))), "1 to 10 whole numbers"),
    (lambda r, g: g["networks"].pop("plain8"), "has no network 'plain8'"),
    (lambda r, g: g["networks"]["resnet8"].update(norms=[1.0] * 6), "the same layers"),
    (lambda r, g: g["networks"]["resnet8"].update(norms=[1.0] * 6 + [0.0]), "positive"),
])
def test_refuses_damaged_records(change, message):
    record, gradients = broken(change)
    with pytest.raises((ValueError, TypeError), match=message):
        DegradationViewer(copy.deepcopy(record), gradients)


def test_does_not_start_tensorflow():
    code = ("import sys; from cnnlab.widgets.degradation_viewer import DegradationViewer; "
            "DegradationViewer(); assert 'tensorflow' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_cached_picture_equals_a_fresh_one():
    from PIL import Image
    import io
    v = DegradationViewer()
    first = bytes(v.picture.value)
    v.controls["shortcuts"].value = True
    other = bytes(v.picture.value)
    v.controls["shortcuts"].value = False                   # back: from the cache
    assert bytes(v.picture.value) == first and other != first
    assert_shows(v, "plain56", "resnet56", "mean")
    assert bold_line(v.figure.axes[0]).get_linestyle() == "--"      # the artists follow too
    fresh = DegradationViewer()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(bytes(fresh.picture.value)))),
                          np.asarray(Image.open(io.BytesIO(first))))
