"""Lesson 07's checkers (dense layer, softmax, cross-entropy) pass right answers and explain wrong ones.

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import activations, backprop, checks
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
# Dense layer
# --------------------------------------------------------------------------

def dense(x, W, b):
    x = np.asarray(x, dtype=float)
    flat = x.reshape(x.shape[0], -1)                      # (N, D)
    if flat.shape[1] != W.shape[0]:
        raise ValueError(f"x has {flat.shape[1]} features but W expects {W.shape[0]}")
    return flat @ W + b


def dense_loops(x, W, b):
    flat = np.asarray(x, dtype=float).reshape(len(x), -1)
    if flat.shape[1] != len(W):
        raise ValueError("W does not fit x")
    out = np.zeros((len(flat), W.shape[1]))
    for n in range(len(flat)):
        for j in range(W.shape[1]):
            out[n, j] = sum(flat[n, i] * W[i, j] for i in range(len(W))) + b[j]
    return out


def dense_no_bias(x, W, b):
    return dense(x, W, np.zeros_like(b))


def dense_channels_first(x, W, b):
    x = np.asarray(x, dtype=float)
    if x.ndim == 4:
        x = x.transpose(0, 3, 1, 2)                         # (N, C, H, W), PyTorch's order
    return dense(x, W, b)


def dense_mixed_examples(x, W, b):
    x = np.asarray(x, dtype=float)
    return dense(x.reshape(-1, len(x)).T, W, b)


def dense_relu(x, W, b):
    return np.maximum(dense(x, W, b), 0)


def dense_w_transposed(x, W, b):
    flat = np.asarray(x, dtype=float).reshape(len(x), -1)
    return flat @ (W.T if W.shape[0] == W.shape[1] else W) + b


def dense_unchecked(x, W, b):
    flat = np.asarray(x, dtype=float).reshape(len(x), -1)
    return flat[:, :W.shape[0]] @ W + b                     # silently drops extra features


def dense_one_row(x, W, b):
    return dense(x, W, b).ravel()


@pytest.mark.parametrize("fn", [dense, dense_loops])
def test_check_dense_passes_right_answers(fn, capsys):
    result = checks.check_dense(fn)
    assert result.cases >= 6 and result.function == fn.__name__
    assert capsys.readouterr().out.strip().startswith("Well done: ")


@pytest.mark.parametrize("fn, parts", [
    (dense_no_bias, ["off by exactly the bias"]),
    (dense_channels_first, ["channel by channel", "x.reshape(len(x), -1)"]),
    (dense_mixed_examples, ["examples are mixed up"]),
    (dense_relu, ["You applied a ReLU"]),
    (dense_w_transposed, ["W.T"]),
    (dense_unchecked, ["does not fit", "raise a ValueError"]),
    (dense_one_row, ["wrong arrangement", "(N, M)"]),
])
def test_check_dense_names_the_mistake(fn, parts):
    expect_hint(checks.check_dense, fn, *parts)


def test_check_dense_wants_a_value_error_for_a_bad_w():
    def raises_key_error(x, W, b):
        if np.asarray(x).reshape(len(x), -1).shape[1] != len(W):
            raise KeyError("bad W")
        return dense(x, W, b)

    expect_hint(checks.check_dense, raises_key_error, "raised KeyError", "raise a ValueError")


# --------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------

def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_batch_max(z):
    e = np.exp(z - z.max())               # one maximum for the whole batch: fine here
    return e / e.sum(axis=1, keepdims=True)


def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_column_sum(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_column_max(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_no_keepdims(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)


def softmax_whole_sum(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum()


@pytest.mark.parametrize("fn", [softmax, softmax_batch_max,
                                lambda z: activations.softmax(z, axis=-1)])
def test_check_softmax_passes_right_answers(fn):
    assert checks.check_softmax(fn).cases >= 6


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the learner's overflow, as in a lesson
@pytest.mark.parametrize("fn, parts", [
    (softmax_naive, ["inf or nan", "z - z.max(axis=1, keepdims=True)"]),
    (softmax_column_sum, ["Each column sums to 1", "axis=1"]),
    (softmax_column_max, ["maximum of each column"]),
    (softmax_no_keepdims, ["keepdims=True"]),
    (softmax_whole_sum, ["sum over the whole batch"]),
    (lambda z: softmax(z)[0], ["one row of probabilities per example"]),
])
def test_check_softmax_names_the_mistake(fn, parts):
    expect_hint(checks.check_softmax, fn, *parts)


def test_check_softmax_refuses_text_and_complex_results():
    expect_hint(checks.check_softmax, lambda z: np.array2string(softmax(z)), "text instead")
    expect_hint(checks.check_softmax, lambda z: softmax(z) + 0j, "complex")


# --------------------------------------------------------------------------
# Cross-entropy
# --------------------------------------------------------------------------

def cross_entropy(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    s = z - z.max(axis=1, keepdims=True)                           # (N, K)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))       # (N, K)
    return -log_p[np.arange(len(z)), labels].mean()


def cross_entropy_log_of_softmax(logits, labels):
    p = softmax(logits)
    return -np.log(p[np.arange(len(p)), labels]).mean()


def cross_entropy_sum(logits, labels):
    return cross_entropy(logits, labels) * len(logits)


def cross_entropy_wrong_entries(logits, labels):
    s = logits - logits.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -log_p[:, labels].mean()


def cross_entropy_predicted(logits, labels):
    return cross_entropy(logits, np.argmax(logits, axis=1))


def cross_entropy_no_minus(logits, labels):
    return -cross_entropy(logits, labels)


def cross_entropy_eps(logits, labels):
    p = softmax(logits)
    return -np.log(p[np.arange(len(p)), labels] + 1e-12).mean()


def cross_entropy_per_example(logits, labels):
    s = logits - logits.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(s)), labels]


@pytest.mark.parametrize("fn", [cross_entropy,
                                lambda z, y: backprop.softmax_cross_entropy(z, y)[0]])
def test_check_cross_entropy_passes_right_answers(fn):
    assert checks.check_cross_entropy(fn).cases >= 6


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the learner's log(0), as in a lesson
@pytest.mark.parametrize("fn, parts", [
    (cross_entropy_log_of_softmax, ["log(0)", "log_p = s - log(sum(exp(s)))"]),
    (cross_entropy_sum, ["added the losses up", "mean"]),
    (cross_entropy_wrong_entries, ["wrong entries", "p[np.arange(N), labels]"]),
    (cross_entropy_predicted, ["predicted class"]),
    (cross_entropy_no_minus, ["MINUS"]),
    (cross_entropy_eps, ["far too small", "eps"]),
    (cross_entropy_per_example, ["one loss per example"]),
])
def test_check_cross_entropy_names_the_mistake(fn, parts):
    expect_hint(checks.check_cross_entropy, fn, *parts)


# --------------------------------------------------------------------------
# The checkers' own arguments
# --------------------------------------------------------------------------

@pytest.mark.parametrize("check", [checks.check_dense, checks.check_softmax,
                                   checks.check_cross_entropy])
def test_checkers_refuse_what_is_not_a_function(check):
    with pytest.raises(NotAFunction, match="Expected a function for `fn`"):
        check(np.zeros(3))
    with pytest.raises(TypeError, match="time_limit"):
        check(lambda *args: None, time_limit="5")
    with pytest.raises(ValueError, match="time_limit"):
        check(lambda *args: None, time_limit=0)


def test_checkers_refuse_a_function_with_too_few_arguments():
    with pytest.raises(CheckFailed, match=r"takes 1 argument.*\(x, W, b\)"):
        checks.check_dense(lambda x: x)
    with pytest.raises(CheckFailed, match=r"takes 1 argument.*\(logits, labels\)"):
        checks.check_cross_entropy(lambda z: 0.0)


def test_an_endless_loop_fails_within_the_time_limit():
    def forever(z):
        while True:
            pass

    expect_hint(lambda fn: checks.check_softmax(fn, time_limit=0.2), forever, "did not finish")
