"""Lesson 06's checkers (leaky ReLU, its slope, dead units) pass right answers and explain wrong ones.

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import activations, checks
from cnnlab.checks import CheckFailed, NotAFunction
from cnnlab.checks import activations as act_checks


def expect_hint(check, fn, *parts, **kwargs):
    """Run a checker that must fail; every part must appear in its message."""
    with pytest.raises(CheckFailed) as info:
        check(fn, **kwargs)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------
# Leaky ReLU
# --------------------------------------------------------------------------

def leaky(x, alpha=0.2):
    x = np.asarray(x, dtype=float)
    return np.where(x >= 0, x, alpha * x)


def leaky_loops(x, negative_slope=0.2):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        out[i] = x[i] if x[i] >= 0 else negative_slope * x[i]
    return out


def leaky_slope(x, alpha=0.2):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha)


def test_right_leaky_relus_pass(capsys):
    assert checks.check_leaky_relu(leaky).cases == len(act_checks.activation_cases())
    checks.check_leaky_relu(leaky_loops)
    checks.check_leaky_relu(lambda x, alpha: np.maximum(x, alpha * np.asarray(x)))  # alpha <= 1
    assert "Well done: leaky passed all" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, alpha=0.2: np.where(x > 0, alpha * x, x), "multiplied the positive values by alpha"),
    (lambda x, alpha=0.2: np.where(x >= 0, x, 0.2 * x), "uses the slope 0.2 whatever alpha"),
    (lambda x, alpha=0.2: np.where(x >= 0, x, 0.01 * x), "uses the slope 0.01 whatever alpha"),
    (lambda x, alpha=0.2: np.maximum(x, 0), "as in a plain ReLU"),
    (lambda x, alpha=0.2: np.where(x >= 0, x, -alpha * x), "wrong sign"),
    (lambda x, alpha=0.01: leaky(x, alpha), "Keras's default slope is 0.2"),
    (lambda x, alpha=0.2: leaky(x, alpha).ravel(), "keeps the shape of x"),
    (lambda x, alpha=0.2: leaky(x, alpha).astype(str), "text instead of numbers"),
    (lambda x, alpha=0.2: leaky(x, alpha) + 0j, "complex numbers"),
])
def test_a_wrong_leaky_relu_names_its_mistake(wrong, hint):
    expect_hint(checks.check_leaky_relu, wrong, hint)


def test_the_slope_reference_is_tensorflows_gradient():
    tf = pytest.importorskip("tensorflow")
    x = tf.constant([-2.0, -0.5, 0.0, 0.5, 2.0])
    for alpha in (0.2, 0.05):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.leaky_relu(x, alpha=alpha)
        np.testing.assert_allclose(checks.leaky_relu_slope_reference(x.numpy(), alpha),
                                   tape.gradient(y, x).numpy(), rtol=1e-6)


def test_the_slope_reference_is_the_numerical_slope_away_from_0():
    x = np.random.default_rng(0).normal(size=40)
    h = 1e-6
    numeric = (activations.leaky_relu(x + h, 0.3) - activations.leaky_relu(x - h, 0.3)) / (2 * h)
    np.testing.assert_allclose(checks.leaky_relu_slope_reference(x, 0.3), numeric, atol=1e-6)


def test_a_right_slope_passes():
    assert checks.check_leaky_relu_slope(leaky_slope).cases == len(act_checks.activation_cases())


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, alpha=0.2: np.where(x >= 0, 1.0, alpha), "Only the slope at x = 0 is wrong"),
    (lambda x, alpha=0.2: np.where(x > 0, 1.0, 0.0), "your slope is 0, ReLU's slope"),
    (lambda x, alpha=0.2: np.where(x > 0, 1.0, 0.2), "uses the slope 0.2 whatever alpha"),
    (lambda x, alpha=0.2: np.where(x > 0, alpha, 1.0), "slopes are swapped"),
    (lambda x, alpha=0.2: leaky(x, alpha), "returned leaky ReLU's values"),
    (lambda x, alpha=0.2: x > 0, "True/False values"),
])
def test_a_wrong_slope_names_its_mistake(wrong, hint):
    expect_hint(checks.check_leaky_relu_slope, wrong, hint)


@pytest.mark.parametrize("check", [checks.check_leaky_relu, checks.check_leaky_relu_slope])
def test_the_activation_checkers_refuse_bad_arguments(check):
    with pytest.raises(NotAFunction):
        check(0.2)
    with pytest.raises(TypeError, match="`time_limit`"):
        check(leaky, time_limit="1 s")
    expect_hint(check, lambda x: leaky(x), "no parameter for the slope alpha")


def test_an_endless_activation_is_stopped():
    def forever(x, alpha=0.2):
        while True:
            pass
    expect_hint(checks.check_leaky_relu, forever, "did not finish within 0.1 s", time_limit=0.1)


# --------------------------------------------------------------------------
# Dead units
# --------------------------------------------------------------------------

def dead_units(responses, bias):
    z = np.asarray(responses, dtype=float) + bias             # (N, H, W, C) pre-activations
    dead = activations.relu(z) == 0                           # ReLU output exactly 0
    return dead.mean(), dead.all(axis=(0, 1, 2)).mean()


def dead_loops(responses, bias):
    n, h, w, c = responses.shape
    dead_cells, dead_channels = 0, 0
    for ch in range(c):
        alive = False
        for i in np.ndindex(n, h, w):
            if responses[i + (ch,)] + bias[ch] <= 0:
                dead_cells += 1
            else:
                alive = True
        dead_channels += not alive
    return dead_cells / responses.size, dead_channels / c


def test_right_dead_unit_counts_pass(capsys):
    assert checks.check_dead_units(dead_units).cases == len(act_checks.dead_cases())
    checks.check_dead_units(dead_loops)
    checks.check_dead_units(lambda r, b: np.array(dead_units(r, b)))
    assert "Well done: dead_units passed all" in capsys.readouterr().out


def test_the_reference_on_a_literal_case():
    responses = np.array([[[[1.0, -1.0]], [[-2.0, -1.0]]]])     # (1, 2, 1, 2)
    assert checks.dead_units_reference(responses, np.array([1.0, 0.0])) == (0.75, 0.5)
    assert checks.dead_units_reference(responses, np.array([2.5, 2.0])) == (0.0, 0.0)


def test_the_cases_hold_exact_zeros_dead_channels_and_channels_dead_on_one_example():
    cases = act_checks.dead_cases()
    assert any(np.any(r + b == 0) for r, b in cases)
    assert all(0 < act_checks.dead_units_reference(r, b)[1] < 1 for r, b in cases[:1])
    r, b = cases[1]
    dead = r + b <= 0
    assert dead[0, ..., 0].all() and not dead[..., 0].all()


def shares_of(dead, axes=(0, 1, 2), reduce="all"):
    return dead.mean(), getattr(dead, reduce)(axis=axes).mean()


@pytest.mark.parametrize("wrong, hint", [
    (lambda r, b: shares_of(r + b < 0), "not < 0"),
    (lambda r, b: shares_of(r + b == 0), "`== 0` counts only"),
    (lambda r, b: shares_of(r <= 0), "Add the bias"),
    (lambda r, b: shares_of(r - b <= 0), "subtracted the bias"),
    (lambda r, b: shares_of(r + b <= 0, reduce="any"), "all, not any"),
    (lambda r, b: shares_of(r + b <= 0, axes=(1, 2)), "dead on each example separately"),
    (lambda r, b: shares_of(r + b <= 0)[::-1], "The two shares are swapped"),
    (lambda r, b: ((r + b <= 0).sum(), shares_of(r + b <= 0)[1]), "not a count"),
    (lambda r, b: (100 * (r + b <= 0).mean(), shares_of(r + b <= 0)[1]), "not percentages"),
    (lambda r, b: ((r + b <= 0).mean(), (r + b <= 0).all(axis=(0, 1, 2)).sum() / r.size),
     "not by the number of units"),
])
def test_a_wrong_dead_unit_count_names_its_mistake(wrong, hint):
    failure = expect_hint(checks.check_dead_units, wrong, hint, "expected")
    assert failure.got is not None


@pytest.mark.parametrize("wrong", [
    lambda r, b: (r + b <= 0).mean(),
    lambda r, b: (True, False),
    lambda r, b: ("0.5", "0.1"),
    lambda r, b: (0.5 + 0j, 0.1),
    lambda r, b: (0.5, 0.1, 0.0),
])
def test_anything_but_two_numbers_is_refused(wrong):
    expect_hint(checks.check_dead_units, wrong, "not two numbers", "unit_share, channel_share")


def test_the_dead_unit_checker_refuses_bad_arguments():
    with pytest.raises(NotAFunction):
        checks.check_dead_units([0.5, 0.1])
    with pytest.raises(ValueError, match="`time_limit`"):
        checks.check_dead_units(dead_units, time_limit=-1)
    expect_hint(checks.check_dead_units, lambda responses: 0.5, "takes 1 argument(s)")


@pytest.mark.parametrize("call, error, message", [
    (lambda: checks.leaky_relu_slope_reference("abc"), (TypeError, ValueError), "`x`"),
    (lambda: checks.leaky_relu_slope_reference([1.0], alpha=-0.1), ValueError, "`alpha` must be at least 0"),
    (lambda: checks.leaky_relu_slope_reference([1.0], alpha="0.2"), TypeError, "`alpha` must be a number"),
    (lambda: checks.dead_units_reference(np.zeros((2, 3)), 0.0), ValueError, "`responses`"),
    (lambda: checks.dead_units_reference(np.zeros((1, 2, 2, 3)), np.zeros(2)), ValueError,
     "one value per channel, 3"),
])
def test_the_references_refuse_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
