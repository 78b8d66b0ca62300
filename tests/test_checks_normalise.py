"""Lesson 08's batch-normalisation and dropout checkers pass right answers and explain wrong ones.

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks, regularise
from cnnlab.checks import CheckFailed, NotAFunction


def expect_hint(check, fn, *parts):
    """Run a checker that must fail; every part must appear in its message."""
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------

def batch_norm(x, gamma, beta, training, running_mean, running_var, momentum=0.99, eps=1e-3, *,
               axes=None, ddof=0, running_in_training=False, update_in_inference=False,
               batch_in_inference=False, swap_momentum=False, eps_outside=False, in_place=False,
               no_beta=False):
    """A learner's batch normalisation, with switches for the mistakes."""
    x = np.asarray(x, dtype=float)
    axes = tuple(range(x.ndim - 1)) if axes is None else axes
    mu, var = x.mean(axis=axes), x.var(axis=axes, ddof=ddof)
    if axes != tuple(range(x.ndim - 1)):
        mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, ddof=ddof, keepdims=True)
    old_mean, old_var = running_mean, running_var
    if training or update_in_inference:
        keep = 1 - momentum if swap_momentum else momentum
        batch_mu = mu.reshape(-1, x.shape[-1]).mean(axis=0)
        batch_var = var.reshape(-1, x.shape[-1]).mean(axis=0)
        if in_place:
            running_mean *= keep
            running_mean += (1 - keep) * batch_mu
            running_var *= keep
            running_var += (1 - keep) * batch_var
        else:
            running_mean = keep * running_mean + (1 - keep) * batch_mu
            running_var = keep * running_var + (1 - keep) * batch_var
    if (training and running_in_training) or (not training and not batch_in_inference):
        mu, var = old_mean, old_var
    scale = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    out = gamma * (x - mu) / scale + (0 if no_beta else beta)
    return out, running_mean, running_var


def my_batch_norm(x, gamma, beta, training, running_mean, running_var, momentum=0.99, eps=1e-3):
    return batch_norm(x, gamma, beta, training, running_mean, running_var, momentum, eps)


def batch_norm_keyword_only(x, gamma, beta, training, running_mean, running_var):
    return regularise.batch_norm_forward(x, gamma, beta, training=training,
                                         running_mean=running_mean, running_var=running_var)


def mistake(**switch):
    def fn(x, gamma, beta, training, running_mean, running_var, momentum=0.99, eps=1e-3):
        return batch_norm(x, gamma, beta, training, running_mean, running_var, momentum, eps,
                          **switch)
    return fn


@pytest.mark.parametrize("fn", [my_batch_norm, batch_norm_keyword_only])
def test_check_batch_norm_passes_right_answers(fn, capsys):
    result = checks.check_batch_norm(fn)
    assert capsys.readouterr().out.strip() == str(result)
    assert result.cases >= 7 and "training and inference mode" in result.covered


def test_check_batch_norm_tests_momentum_and_eps_when_the_signature_has_them():
    assert checks.check_batch_norm(my_batch_norm).cases > \
        checks.check_batch_norm(batch_norm_keyword_only).cases


@pytest.mark.parametrize("switch, parts", [
    ({"update_in_inference": True}, ["running_mean:", "In inference mode the running statistics "
                                                       "must stay as they are"]),
    ({"running_in_training": True}, ["out:", "normalised with the running averages while training"]),
    ({"batch_in_inference": True}, ["out:", "In inference mode normalise with running_mean"]),
    ({"ddof": 1}, ["out:", "divides by n - 1", "ddof=0"]),
    ({"axes": (0,)}, ["out:", "over the whole batch and every position", "axis=(0, 1, 2)"]),
    ({"axes": (1, 2, 3)}, ["out:", "every axis but the last"]),
    ({"swap_momentum": True}, ["running_mean:", "momentum weights the old running average"]),
    ({"eps_outside": True}, ["out:", "eps goes inside the square root"]),
    ({"in_place": True}, ["changed its input", "instead of changing the arrays"]),
    ({"no_beta": True}, ["out:", "forgot the shift"]),
])
def test_check_batch_norm_names_the_mistake(switch, parts):
    expect_hint(checks.check_batch_norm, mistake(**switch), *parts)


def test_check_batch_norm_explains_a_forgotten_update_and_wrong_results():
    def no_update(x, gamma, beta, training, running_mean, running_var):
        out = batch_norm(x, gamma, beta, training, running_mean, running_var)[0]
        return out, running_mean, running_var
    expect_hint(checks.check_batch_norm, no_update, "running_mean:", "must move the running averages")
    expect_hint(checks.check_batch_norm, lambda x, gamma, beta, training, running_mean, running_var:
                batch_norm(x, gamma, beta, training, running_mean, running_var)[0],
                "not 3 values", "return out, running_mean, running_var")
    expect_hint(checks.check_batch_norm, lambda x, gamma, beta, training, running_mean, running_var:
                ("out", running_mean, running_var), "as out", "text")


def test_check_batch_norm_rejects_bad_arguments():
    with pytest.raises(NotAFunction):
        checks.check_batch_norm(None)
    with pytest.raises(ValueError, match="`time_limit`"):
        checks.check_batch_norm(my_batch_norm, time_limit=-1)
    with pytest.raises(CheckFailed, match="takes 3 argument"):
        checks.check_batch_norm(lambda x, gamma, beta: x)


# --------------------------------------------------------------------------
# Inverted dropout
# --------------------------------------------------------------------------

def dropout(a, keep_prob, rng, training=True, *, divide=True, drop_at_test=False, swapped=False,
            greater=False, own_rng=False, multiply=False, int_mask=False):
    """A learner's inverted dropout, with switches for the mistakes."""
    a = np.asarray(a, dtype=float)
    if not training and not drop_at_test:
        return a.copy(), np.ones(a.shape, dtype=bool)
    draws = (np.random.default_rng(0) if own_rng else rng).random(a.shape)
    chance = 1 - keep_prob if swapped else keep_prob
    mask = draws > 1 - chance if greater else draws < chance
    out = a * mask
    if multiply:
        out = out * keep_prob
    elif divide:
        out = out / keep_prob
    return out, mask.astype(int) if int_mask else mask


def my_dropout(a, keep_prob, rng, training=True):
    return dropout(a, keep_prob, rng, training)


def dropout_without_inference_mode(a, keep_prob, rng):
    return regularise.inverted_dropout(a, keep_prob, rng)


def drop(**switch):
    def fn(a, keep_prob, rng, training=True):
        return dropout(a, keep_prob, rng, training, **switch)
    return fn


@pytest.mark.parametrize("fn", [my_dropout, dropout_without_inference_mode, drop(int_mask=True)])
def test_check_dropout_passes_right_answers(fn, capsys):
    result = checks.check_dropout(fn)
    assert capsys.readouterr().out.strip() == str(result) and result.cases >= 6


def test_check_dropout_tests_inference_mode_when_the_signature_has_it():
    assert "inference mode" in checks.check_dropout(my_dropout).covered
    assert "inference mode" not in checks.check_dropout(dropout_without_inference_mode).covered


@pytest.mark.parametrize("switch, parts", [
    ({"divide": False}, ["out:", "not scaled up", "divide them by keep_prob"]),
    ({"multiply": True}, ["out:", "do not multiply"]),
    ({"drop_at_test": True}, ["training=False", "dropped units in inference mode"]),
    ({"swapped": True}, ["mask:", "you used the drop probability 1 - keep_prob"]),
    ({"greater": True}, ["mask:", "Statistically right", "rng.random(a.shape) < keep_prob"]),
    ({"own_rng": True}, ["mask:", "from the generator you are given"]),
])
def test_check_dropout_names_the_mistake(switch, parts):
    expect_hint(checks.check_dropout, drop(**switch), *parts)


def test_check_dropout_checks_the_share_kept_statistically():
    """A mask drawn another way passes the small exact cases only if it is the same draw;
    a binomial draw with the probabilities swapped fails on the share it keeps."""
    def binomial_swapped(a, keep_prob, rng, training=True):
        a = np.asarray(a, dtype=float)
        mask = rng.binomial(1, 1 - keep_prob, size=a.shape).astype(bool)
        return a * mask / keep_prob, mask
    calls = {"n": 0}

    def exact_only_on_small_inputs(a, keep_prob, rng, training=True):
        calls["n"] += 1
        if np.size(a) < 1000:
            return my_dropout(a, keep_prob, rng, training)
        return binomial_swapped(a, keep_prob, rng, training)
    expect_hint(checks.check_dropout, exact_only_on_small_inputs, "Your mask keeps 2",
                "keep_prob = 0.8", "drop probability")


def test_check_dropout_explains_scaling_at_test_time_and_wrong_results():
    def scales_at_test(a, keep_prob, rng, training=True):
        out, mask = my_dropout(a, keep_prob, rng, True)
        return (out, mask) if training else (np.asarray(a) / keep_prob, np.ones(np.shape(a), bool))
    expect_hint(checks.check_dropout, scales_at_test, "At test time nothing is scaled either")
    expect_hint(checks.check_dropout, lambda a, keep_prob, rng: my_dropout(a, keep_prob, rng)[0],
                "not 2 values", "return out, mask")
    expect_hint(checks.check_dropout,
                lambda a, keep_prob, rng: (my_dropout(a, keep_prob, rng)[0], rng.random(np.shape(a))),
                "mask: expected True/False values")


def test_check_dropout_rejects_bad_arguments():
    with pytest.raises(NotAFunction):
        checks.check_dropout([my_dropout])
    with pytest.raises(TypeError, match="`time_limit`"):
        checks.check_dropout(my_dropout, time_limit=True)
    with pytest.raises(CheckFailed, match="takes 2 argument"):
        checks.check_dropout(lambda a, keep_prob: a)
