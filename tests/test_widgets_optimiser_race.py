"""The optimiser race of lesson 08: the loss surfaces and their gradients
(``cnnlab.surfaces``), and the explorer driven headlessly by setting ``.value``
(``cnnlab.widgets.optimiser_race``), against loops over ``cnnlab.optim`` written here."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnlab import optim, surfaces  # noqa: E402
from cnnlab.widgets._controls import ControlValueError  # noqa: E402
from cnnlab.widgets.optimiser_race import (  # noqa: E402
    LEARNING_RATES, MAX_RACE_STEPS, OPTIMISERS, OptimiserRace, race_optimisers,
)

SETTINGS = settings(max_examples=20, deadline=None)


# ----------------------------------------------------------------- references, written out again

REFERENCE = {   # name -> (loss, gradient) of a point (x, y)
    "valley": (lambda x, y: 0.5 * x * x + 5.0 * y * y,
               lambda x, y: np.array([x, 10.0 * y])),
    "banana": (lambda x, y: (1 - x) * (1 - x) + 10.0 * (y - x * x) * (y - x * x),
               lambda x, y: np.array([2 * (x - 1) - 40 * x * (y - x * x), 20 * (y - x * x)])),
    "saddle": (lambda x, y: (x * x - 1) * (x * x - 1) + 2.0 * y * y,
               lambda x, y: np.array([4 * x ** 3 - 4 * x, 4.0 * y])),
}


def finite_difference(loss, x, y, h=1e-6):
    return np.array([(loss(x + h, y) - loss(x - h, y)) / (2 * h),
                     (loss(x, y + h) - loss(x, y - h)) / (2 * h)])


def reference_run(name, make_optimiser, steps):
    """The loop the lesson writes: step with cnnlab.optim until the loss passes 1e6."""
    loss, grad = REFERENCE[name]
    opt = make_optimiser()
    p = np.array(surfaces.SURFACES[name].start, dtype=float)
    path = [p.copy()]
    for _ in range(steps):
        if abs(loss(*p)) > 1e6:
            break
        opt.step([p], [grad(*p)])
        path.append(p.copy())
    return np.array(path)


OPTIMISER_MAKERS = {   # name -> optimiser for (lr, momentum, beta), as the widget documents
    "SGD": lambda lr, m, b: optim.SGD(lr),
    "momentum": lambda lr, m, b: optim.Momentum(lr, beta=m),
    "RMSProp": lambda lr, m, b: optim.RMSProp(lr, beta=b),
    "Adam": lambda lr, m, b: optim.Adam(lr, beta1=m, beta2=b),
}


def line(race, gid):
    found = [ln for ax in race.figure.axes for ln in ax.lines if ln.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


# ----------------------------------------------------------------- the surfaces

@pytest.mark.parametrize("name", surfaces.SURFACE_NAMES)
def test_surface_loss_is_the_formula_on_a_grid(name):
    s = surfaces.get_surface(name)
    x, y = np.meshgrid(np.linspace(*s.xlim, 7), np.linspace(*s.ylim, 5))
    np.testing.assert_allclose(s.loss(x, y), REFERENCE[name][0](x, y), rtol=1e-12, atol=1e-12)
    for point in s.minima:
        assert s.loss(*point) == 0 and np.allclose(s.grad(*point), 0)


@SETTINGS
@given(st.sampled_from(surfaces.SURFACE_NAMES), st.floats(0, 1), st.floats(0, 1))
def test_surface_gradient_matches_finite_differences(name, u, v):
    s = surfaces.get_surface(name)
    x = s.xlim[0] + u * (s.xlim[1] - s.xlim[0])
    y = s.ylim[0] + v * (s.ylim[1] - s.ylim[0])
    numeric = finite_difference(s.loss, x, y)
    np.testing.assert_allclose(s.grad(x, y), numeric, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(s.grad(x, y), REFERENCE[name][1](x, y), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", surfaces.SURFACE_NAMES)
def test_surface_start_and_levels_are_fixed_and_inside_the_box(name):
    s = surfaces.get_surface(name)
    assert s.xlim[0] < s.start[0] < s.xlim[1] and s.ylim[0] < s.start[1] < s.ylim[1]
    assert np.all(np.diff(s.levels) > 0) and s.levels[0] > 0
    np.testing.assert_allclose(np.diff(np.log(s.levels)), np.log(s.levels[1] / s.levels[0]))


@pytest.mark.parametrize("make", OPTIMISER_MAKERS.values(), ids=OPTIMISER_MAKERS)
def test_descend_matches_a_direct_loop(make):
    path, losses, diverged = surfaces.descend("banana", make(0.01, 0.9, 0.99), 40)
    ref = reference_run("banana", lambda: make(0.01, 0.9, 0.99), 40)
    np.testing.assert_allclose(path, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(losses, [REFERENCE["banana"][0](*p) for p in ref], rtol=1e-12)
    assert diverged is None and path.shape == (41, 2)


def test_descend_stops_an_overflowing_run_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path, losses, diverged = surfaces.descend("banana", optim.SGD(1e100), 10)
    assert diverged == 1 and len(path) == 2 and not np.isfinite(losses[-1])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(surface="flat"), ValueError, "`surface` must be one of 'valley', 'banana', 'saddle'"),
    (dict(surface=3), TypeError, "`surface` must be a Surface"),
    (dict(optimizer="adam"), TypeError, "`optimizer` must be an optimiser of cnnlab.optim"),
    (dict(steps=0), ValueError, "`steps` must be at least 1"),
    (dict(steps=10_001), ValueError, "`steps` must be at most 10000"),
    (dict(steps=2.0), TypeError, "`steps` must be an integer"),
    (dict(start=(1, 2, 3)), ValueError, "`start` must be a point"),
    (dict(start=(0, float("nan"))), ValueError, "`start\\[1\\]` must be a finite number"),
])
def test_descend_refuses_bad_arguments(kwargs, error, match):
    args = dict(surface="valley", optimizer=optim.SGD(0.1), steps=5) | kwargs
    with pytest.raises(error, match=match):
        surfaces.descend(**args)


# ----------------------------------------------------------------- OptimiserRace

@pytest.fixture(scope="module")
def race():
    return OptimiserRace()


def test_race_starts_on_the_valley_with_the_whole_race_drawn(race):
    assert race.controls["surface"].value == "valley" and race.step == 50
    assert set(race.paths) == set(OPTIMISERS) and bytes(race.picture.value).startswith(b"\x89PNG")
    for name in OPTIMISERS:
        assert race.paths[name].shape == (51, 2) and race.losses[name].shape == (51,)
        assert race.diverged[name] is None
        np.testing.assert_array_equal(race.paths[name][0], surfaces.SURFACES["valley"].start)
        assert race.final_loss[name] == race.losses[name][-1]
    assert race.status.value.startswith("step 50 of 50, loss: SGD ")
    assert "colour bar" in race.status.value


@pytest.mark.parametrize("surface, lr, momentum, beta, steps", [
    ("valley", 0.15, 0.9, 0.9, 50), ("banana", 0.01, 0.8, 0.999, 120),
    ("saddle", 0.05, 0.0, 0.5, 30), ("banana", 0.1, 0.99, 0.95, 60)])
def test_race_paths_equal_a_direct_loop_with_cnnlab_optim(surface, lr, momentum, beta, steps):
    r = OptimiserRace(surface, lr=lr, momentum=momentum, beta=beta, steps=steps)
    for name, make in OPTIMISER_MAKERS.items():
        ref = reference_run(surface, lambda: make(lr, momentum, beta), steps)
        np.testing.assert_allclose(r.paths[name], ref, rtol=0, atol=1e-12, err_msg=name)
        stopped = len(ref) - 1 < steps
        assert (r.diverged[name] == len(ref) - 1) if stopped else r.diverged[name] is None


def test_race_optimisers_are_new_and_follow_the_settings():
    opts = race_optimisers(0.02, momentum=0.7, beta=0.95)
    assert list(opts) == list(OPTIMISERS)
    assert opts["momentum"].beta == 0.7 and opts["RMSProp"].beta == 0.95
    assert (opts["Adam"].beta1, opts["Adam"].beta2, opts["Adam"].lr) == (0.7, 0.95, 0.02)
    assert all(o.iterations == 0 for o in opts.values())


def test_momentum_beats_sgd_on_the_valley_at_a_small_learning_rate():
    # lr = 0.02: SGD shrinks x by 0.98 a step, heavy-ball momentum (beta 0.9) by sqrt(0.9)
    r = OptimiserRace("valley", lr=0.02, momentum=0.9, steps=100)
    sgd, momentum = r.final_loss["SGD"], r.final_loss["momentum"]
    assert momentum < sgd / 100
    assert sgd == pytest.approx(0.5 * 4.5 ** 2 * 0.98 ** 200 + 5 * 1.5 ** 2 * 0.8 ** 200, rel=1e-9)
    assert np.all(np.diff(r.losses["SGD"]) < 0)        # stable: SGD's loss falls every step


def test_sgd_on_the_valley_diverges_above_lr_0_2_and_not_at_it():
    r = OptimiserRace("valley", lr=0.2, steps=200)
    assert r.diverged["SGD"] is None                    # y flips sign, |1 - 10 lr| = 1
    np.testing.assert_allclose(np.abs(r.paths["SGD"][:, 1]), 1.5, rtol=1e-12)
    r.controls["lr"].value = 0.3                         # |1 - 10 lr| = 2
    assert r.diverged["SGD"] is not None


def test_a_large_learning_rate_diverges_and_is_reported():
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no overflow warning anywhere
        r = OptimiserRace("valley", lr=3.0, steps=100)
    ref = reference_run("valley", lambda: optim.SGD(3.0), 100)
    n = len(ref) - 1
    assert r.diverged["SGD"] == n and 0 < n < 100
    assert r.paths["SGD"].shape == (n + 1, 2) and r.losses["SGD"][-1] > 1e6
    assert np.all(r.losses["SGD"][:-1] <= 1e6)
    assert f"SGD diverged at step {n} (loss > 1e6)" in r.status.value
    assert abs(r.paths["SGD"][-1, 1]) > 2.5                # the path leaves the box ...
    point = line(r, "point SGD")
    assert point.get_marker() == "X" and point.get_ydata()[0] in (-2.5, 2.5)   # drawn on its edge
    assert line(r, "loss SGD").get_ydata()[-1] > 1e6       # ... and its loss curve shoots up
    assert r.diverged["Adam"] is None and "Adam diverged" not in r.status.value


def test_step_and_play_change_the_picture_but_not_the_paths():
    r = OptimiserRace("banana", lr=0.01, steps=60)
    paths, picture, count = dict(r.paths), r.picture.value, r.redraw_count
    copies = {k: v.copy() for k, v in paths.items()}
    r.controls["step"].value = 17
    assert r.step == 17 and r.picture.value != picture and r.redraw_count == count + 1
    assert r.controls["play"].value == 17                    # the two are linked
    for name in OPTIMISERS:
        assert r.paths[name] is paths[name]
        np.testing.assert_array_equal(r.paths[name], copies[name])
        np.testing.assert_array_equal(r.current[name], paths[name][17])
        drawn = line(r, f"path {name}")
        np.testing.assert_array_equal(drawn.get_xdata(), paths[name][:18, 0])
        assert r.current_loss[name] == r.losses[name][17]
    r.controls["play"].value = 3
    assert r.step == 3 and r.controls["step"].value == 3
    np.testing.assert_array_equal(line(r, "path Adam").get_ydata(), paths["Adam"][:4, 1])
    assert r.status.value.startswith("step 3 of 60")


def test_steps_reruns_and_keeps_the_step_at_the_end_if_it_was_there():
    r = OptimiserRace("saddle", lr=0.05, steps=40)
    r.controls["steps"].value = 80
    assert r.step == 80 and r.controls["play"].max == 80 and r.paths["SGD"].shape == (81, 2)
    r.controls["step"].value = 10
    r.controls["steps"].value = 30
    assert r.step == 10 and r.paths["Adam"].shape == (31, 2)
    r.controls["steps"].value = 5
    assert r.step == 5 and r.controls["step"].max == 5 and r.controls["play"].value == 5
    np.testing.assert_allclose(r.paths["Adam"],
                               reference_run("saddle", lambda: optim.Adam(0.05, 0.9, 0.9), 5))


def test_settings_in_hold_redraw_rerun_once():
    r = OptimiserRace()
    count = r.redraw_count
    with r.hold_redraw():
        r.controls["lr"].value = 0.01
        r.controls["momentum"].value = 0.5
        r.controls["surface"].value = "banana"
    assert r.redraw_count == count + 1
    ref = reference_run("banana", lambda: optim.Momentum(0.01, beta=0.5), 50)
    np.testing.assert_allclose(r.paths["momentum"], ref, atol=1e-12)


def test_race_picture_has_fixed_levels_a_colour_bar_and_a_legend():
    r = OptimiserRace("banana")
    levels = surfaces.SURFACES["banana"].levels
    bar = r.figure.axes[1]
    assert bar.get_ylabel() == "loss (log scale)"
    assert bar.get_ylim() == pytest.approx((levels[0], levels[-1]))
    legend = r.figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == list(OPTIMISERS)
    assert r.figure.axes[2].get_yscale() == "log"
    assert r.figure.axes[0].get_xlim() == surfaces.SURFACES["banana"].xlim


@pytest.mark.parametrize("name, value, match", [
    ("lr", 0.123, "`lr` must be one of 0.0001, 0.00015"),
    ("lr", "0.1", "`lr` must be a number"),
    ("lr", True, "`lr` must be a number"),
    ("momentum", 1.0, "`momentum` must be one of 0, 0.5"),
    ("beta", 0.3, "`beta` must be one of 0.5, 0.7"),
    ("steps", 0, "`steps` must be a whole number from 1 to 200"),
    ("steps", MAX_RACE_STEPS + 1, "`steps` must be a whole number from 1 to 200"),
    ("steps", 2.5, "`steps` must be a whole number"),
    ("step", 51, "`step` must be a whole number from 0 to 50"),
    ("play", -1, "`play` must be a whole number from 0 to 50"),
    ("surface", "flat", "`surface` must be one of 'valley', 'banana', 'saddle'"),
])
def test_race_refuses_bad_control_values(race, name, value, match):
    before = race.controls[name].value
    paths, picture = race.paths, race.picture.value
    with pytest.raises(ControlValueError, match=match):
        race.controls[name].value = value
    assert race.controls[name].value == before and race.paths is paths
    assert race.picture.value == picture and race.status.value.startswith("Refused:")
    race.controls["step"].value = 49                  # the next good change clears the status
    race.controls["step"].value = 50
    assert race.status.value.startswith("step 50 of 50")


def test_race_takes_an_equal_number_for_a_menu_entry(race):
    race.controls["lr"].value = 1                       # the int 1 is the entry 1.0
    assert race.controls["lr"].value == 1.0 and isinstance(race.controls["lr"].value, float)
    race.controls["lr"].value = 0.15
    assert 1e-4 in LEARNING_RATES and 3.0 in LEARNING_RATES and len(set(LEARNING_RATES)) == 28


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(surface="bowl"), ValueError, "`surface` must be one of"),
    (dict(lr=0.25), ValueError, "`lr` must be one of"),
    (dict(lr=None), TypeError, "`lr` must be a number"),
    (dict(momentum=-0.1), ValueError, "`momentum` must be one of"),
    (dict(beta=1.0), ValueError, "`beta` must be one of"),
    (dict(steps=201), ValueError, "`steps` must be at most 200"),
    (dict(steps=0), ValueError, "`steps` must be at least 1"),
    (dict(steps=10, step=11), ValueError, "`step` must be at most 10"),
    (dict(step=1.5), TypeError, "`step` must be an integer"),
])
def test_race_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        OptimiserRace(**kwargs)
