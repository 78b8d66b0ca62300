"""Exercise checkers of lesson 07: a dense layer, a stable softmax, the cross-entropy loss.

Each checker runs the learner's function on the lesson's example first, then
on random, seeded cases of odd shapes and on scores as large as 1000 and as
small as -1000, and compares every answer with the course's reference
(:func:`cnnlab.activations.softmax`, :func:`cnnlab.backprop.softmax_cross_entropy`,
``x.reshape(N, -1) @ W + b`` as Keras's ``Flatten`` and ``Dense`` compute
it). At the first wrong answer it raises :class:`~cnnlab.checks.CheckFailed`
with a hint found by recomputing the answer with one typical mistake built in
(the bias left out, channels flattened first, the maximum of the wrong axis
subtracted, ``log(0)``, a sum instead of a mean, ...).
"""

from __future__ import annotations

import numpy as np

from .. import activations, backprop
from . import _hints
from ._calls import DEFAULT_TIME_LIMIT, Call, Params, check_time_limit, compare
from ._cases import random_array
from ._results import CheckFailed, passed, short_traceback

__all__ = ["check_cross_entropy", "check_dense", "check_softmax"]

NOT_FINITE_HINT = ("Your answer holds inf or nan: np.exp(1000) overflows to inf (and inf / inf "
                   "is nan). Subtract each row's largest score first, z - z.max(axis=1, "
                   "keepdims=True): every exponent is then at most 0, and the probabilities "
                   "do not change.")

KEEPDIMS_HINT = ("Without keepdims=True the row sums (or maxima), shape (N,), line up with the "
                 "columns instead of the rows: use e.sum(axis=1, keepdims=True), shape (N, 1).")


def first_match(got, mistakes):
    """The text of the first ``(compute, text)`` whose computed answer equals ``got``, or None."""
    for compute, text in mistakes:
        try:
            with np.errstate(all="ignore"):
                answer = compute()
        except (ValueError, IndexError):  # this mistake cannot happen for this shape
            continue
        if _hints.close(got, answer):
            return text
    return None


def explain_error(failure, words, hint):
    """``failure`` with ``hint`` instead when its error message holds one of ``words``."""
    text = failure.problem.lower()
    if "raised" in text and any(word in text for word in words):
        return CheckFailed(failure.problem, call=failure.call, hint=hint)
    return failure


def softmax_rows(shifted):
    """exp(shifted) divided by its row sums (no shift of its own)."""
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------
# Dense layer
# --------------------------------------------------------------------------

def dense_reference(x, w, b):
    """``x`` flattened channels-last (like Keras's ``Flatten``), times ``w``, plus ``b``.

    Parameters
    ----------
    x : (N, D) or (N, H, W, C) ndarray
    w : (D, M) ndarray, with ``D = H * W * C`` for a 4D ``x``
    b : (M,) ndarray

    Returns
    -------
    (N, M) ndarray
    """
    return x.reshape(len(x), -1) @ w + b  # (N, D) @ (D, M) + (M,)


def dense_cases():
    """``(x, W, b)`` cases: the lesson's 2x4 batch first, then volumes to flatten."""
    shapes_ = [((2, 4), 3), ((1, 2, 2, 3), 2), ((3, 2, 3, 4), 5), ((1, 6), 1), ((4, 5), 5),
               ((2, 3, 1, 2), 4), ((5, 3), 2)]
    cases = []
    for seed, (x_shape, m) in enumerate(shapes_):
        x = random_array(x_shape, seed=300 + seed, fractional=(seed == len(shapes_) - 1))
        if seed == 1:
            x = np.arange(12.0).reshape(x_shape)  # the lesson's 2x2x3 volume
        d = int(np.prod(x_shape[1:]))
        w = random_array((d, m), seed=400 + seed)
        b = np.arange(1.0, m + 1) * (-1) ** np.arange(m) / 2  # 0.5, -1, 1.5, ...: never 0
        cases.append((x, w, b))
    return cases


def dense_hint(x, w, b, want, got):
    """The likely mistake of a dense layer that returned ``got``."""
    n = len(x)
    if got.shape != want.shape:
        if got.size == want.size:
            return (f"The right number of values in the wrong arrangement: one row per example "
                    f"and one column per unit, shape (N, M) = {want.shape}.")
        return (f"The output has one row per example and one column per unit: x flattened to "
                f"(N, D) = ({n}, {w.shape[0]}), times W of shape {w.shape}, gives {want.shape}.")
    flat = x.reshape(n, -1)
    mistakes = [(flat @ w, "Your output is off by exactly the bias: add b (one value per unit) "
                           "after the matrix product.")]
    if x.ndim == 4:
        first = np.transpose(x, (0, 3, 1, 2)).reshape(n, -1)
        mistakes += [
            (first @ w + b, "You flattened channel by channel (channels first, as PyTorch "
                            "stores images). Keras's Flatten goes position by position, with all "
                            "the channels of each position together: x.reshape(len(x), -1) on "
                            "the channels-last array, no transpose."),
        ]
    mistakes.append((x.reshape(-1, n).T @ w + b,
                     "The examples are mixed up: each row of the flattened array must be one "
                     "example, x.reshape(len(x), -1) — not x.reshape(-1, len(x)).T."))
    if w.shape[0] == w.shape[1]:
        mistakes.append((flat @ w.T + b, "You multiplied by W.T: W has shape (D, M), one row "
                                         "per input and one column per unit, so it is x @ W."))
    mistakes += [(np.maximum(want, 0), "You applied a ReLU: the dense layer itself is only "
                                       "x @ W + b (the activation is a separate step)."),
                 (flat @ w - b, "You subtracted the bias: add it.")]
    for answer, text in mistakes:
        if _hints.close(got, answer):
            return text
    row, col = (int(i) for i in np.argwhere(~np.isclose(got, want, rtol=1e-5, atol=1e-6))[0])
    return (f"Output [{row}, {col}] should be sum_i x_flat[{row}, i] * W[i, {col}] + b[{col}] "
            f"= {want[row, col]:.4g}, but your function gave {got[row, col]:.4g}.")


def check_mismatch_is_refused(fn, params, limit):
    """A W whose row count does not fit x must raise ValueError."""
    x = np.arange(12.0).reshape(1, 2, 2, 3)    # 12 features
    w, b = np.ones((10, 2)), np.zeros(2)       # W expects 10
    call = Call(fn, params, (x, w, b), {}, limit)
    try:
        call.run(2)
    except CheckFailed as failure:
        if "raised ValueError" in failure.problem:
            return
        if "raised" in failure.problem:
            raise CheckFailed(failure.problem.replace("Your function", f"{params.name}"),
                              call=call.text(),
                              hint="When W does not fit x, raise a ValueError (raise "
                                   "ValueError(f\"x has {d} features but W expects "
                                   "{W.shape[0]}\")), not another kind of error.") from None
        raise
    raise CheckFailed(f"{params.name} returned an answer although W does not fit x.",
                      call=call.text(),
                      hint="x flattens to 2 x 2 x 3 = 12 features but W has 10 rows: check "
                           "x_flat.shape[1] == W.shape[0] and raise a ValueError that names "
                           "both numbers.")


@short_traceback
def check_dense(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's dense layer ``fn(x, W, b)`` against ``x.reshape(N, -1) @ W + b``.

    Parameters
    ----------
    fn : callable
        ``fn(x, W, b)`` with ``x (N, D)`` or ``(N, H, W, C)`` (flattened
        channels-last, like Keras's ``Flatten``), ``W (D, M)`` and ``b (M,)``,
        returning ``(N, M)``; it must raise ``ValueError`` when ``W`` has
        the wrong number of rows.
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first wrong case, with a hint (forgotten bias, channels-first
        flatten, examples mixed by the reshape, ``W.T``, a ReLU too much).
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("x", "W", "b"))
    limit = check_time_limit(time_limit)
    cases = dense_cases()
    for x, w, b in cases:
        want = dense_reference(x, w, b)
        call = Call(fn, params, (x, w, b), {}, limit)
        got = call.run(want.ndim)
        compare(call, got, want, lambda g: dense_hint(x, w, b, want, g))
    check_mismatch_is_refused(fn, params, limit)
    return passed(params.name, len(cases) + 1,
                  ["(N, D) batches", "(N, H, W, C) volumes flattened channels-last", "bias",
                   "a W that does not fit"])


# --------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------

def softmax_cases():
    """Score batches ``(N, C)``: the lesson's scores, random ones, square ones, huge ones."""
    return [
        np.array([[2.0, 1.0, 0.1, -1.0]]),                         # the lesson's example
        random_array((4, 10), seed=500, fractional=True),
        random_array((3, 3), seed=501),                            # square: N == C
        random_array((5, 2), seed=502),
        np.array([[1000.0, 999.0, 998.0]]),                        # the lesson's big scores
        np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]),
        np.array([[1000.0, 990.0, 1001.0], [995.0, 1000.0, 1002.0]]),
        np.array([[-1000.0, -999.0, -990.0]]),
        np.array([[1.0, 2.0, 3.0], [11.0, 12.0, 13.0]]),            # rows of different levels
    ]


def softmax_hint(z, want, got):
    """The likely mistake of a softmax that returned ``got`` for scores ``z``."""
    if got.shape != want.shape:
        if got.size == want.size:
            return (f"The right number of values in the wrong arrangement: return one row of "
                    f"probabilities per example, shape {want.shape} like z.")
        return (f"Softmax keeps the shape of the scores: {want.shape}, one probability per "
                f"class for every example.")
    if not np.all(np.isfinite(got)):
        return NOT_FINITE_HINT
    e = np.exp(z - z.max(axis=1, keepdims=True))
    mistakes = [
        (lambda: e / e.sum(axis=0, keepdims=True),
         "Each column sums to 1 instead of each row: sum over the classes, "
         "e.sum(axis=1, keepdims=True)."),
        (lambda: e / e.sum(), "You divided by the sum over the whole batch: each example (row) "
                              "needs its own sum, e.sum(axis=1, keepdims=True)."),
        (lambda: e / e.sum(axis=1), KEEPDIMS_HINT),
        (lambda: softmax_rows(z - z.max(axis=0, keepdims=True)),
         "You subtracted the maximum of each column (axis 0, over the examples): that "
         "changes the probabilities. Subtract each row's own maximum, z.max(axis=1, "
         "keepdims=True) (the maximum of the whole batch would do too)."),
        (lambda: softmax_rows(z - z.max(axis=1)), KEEPDIMS_HINT),
        (lambda: np.log(want), "You returned log-probabilities: softmax is exp(z - max) divided "
                               "by its row sum, without a log."),
    ]
    text = first_match(got, mistakes)
    if text:
        return text
    sums = got.sum(axis=1)
    if not np.allclose(sums, 1):
        return (f"Every row of probabilities must sum to 1; yours sum to "
                f"{np.array2string(sums, precision=3)}. Divide exp(z - max) by its row sum.")
    return ("Each row should be exp(z - max) / sum(exp(z - max)) along that row (the classes): "
            "check which axis you take the maximum and the sum over.")


@short_traceback
def check_softmax(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's ``fn(z)``: softmax of a batch of scores, one row per example.

    Parameters
    ----------
    fn : callable
        ``fn(z)`` with ``z (N, C)`` returning ``(N, C)`` probabilities, each
        row summing to 1; scores of 1000 and -1000 must not give inf or nan.
    time_limit : float or None
        As in :func:`check_dense`.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first wrong case, with a hint (no maximum subtracted, the sum
        or the maximum over the wrong axis, keepdims forgotten, ...).
    """
    params = Params(fn, ("z",))
    limit = check_time_limit(time_limit)
    cases = softmax_cases()
    for z in cases:
        want = activations.softmax(z, axis=1)
        call = Call(fn, params, (z,), {}, limit)
        try:
            got = call.run(want.ndim)
        except CheckFailed as failure:
            raise explain_error(failure, ("broadcast",), KEEPDIMS_HINT) from None
        compare(call, got, want, lambda g: softmax_hint(z, want, g))
    return passed(params.name, len(cases), ["batches of scores", "square batches",
                                            "scores of +-1000"])


# --------------------------------------------------------------------------
# Cross-entropy
# --------------------------------------------------------------------------

def cross_entropy_cases():
    """``(logits, labels)``: the lesson's scores, random batches, scores of +-1000."""
    cases = [(np.array([[2.0, 1.0, 0.1, -1.0]]), np.array([0]))]
    for seed, (n, k) in enumerate([(4, 10), (3, 3), (6, 2), (2, 5)]):
        logits = random_array((n, k), seed=600 + seed, fractional=(seed == 0))
        labels = np.random.default_rng(700 + seed).integers(0, k, size=n)
        labels[-1] = k - 1  # the last class is used too
        cases.append((logits, labels))
    cases += [
        (np.array([[1000.0, 999.0, 998.0]]), np.array([2])),
        (np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), np.array([1, 1])),
        (np.array([[-1000.0, -999.0, -990.0], [3.0, 2.0, 1.0]]), np.array([0, 1])),
    ]
    return cases


def cross_entropy_reference(logits, labels):
    """Mean over the batch of ``-log softmax(logits)[n, labels[n]]`` (a float)."""
    return backprop.softmax_cross_entropy(logits, labels)[0]


def cross_entropy_hint(logits, labels, want, got):
    """The likely mistake of a cross-entropy that returned ``got``."""
    n = len(logits)
    if got.shape != want.shape:
        if got.shape == (n,):
            return ("You returned one loss per example: the loss of the batch is their mean, "
                    "one number (np.mean).")
        return "Return one number: the mean over the batch of -log p[n, labels[n]]."
    if not np.isfinite(got):
        return ("Your loss is inf or nan: a probability that underflows to 0 gives log(0) = "
                "-inf (and exp(1000) overflows). Compute the log-probabilities directly, "
                "log_p = s - log(sum(exp(s))) with s = z - z.max(axis=1, keepdims=True), "
                "without taking the log of softmax's output.")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, K)
    rows = np.arange(n)
    mistakes = [
        (-log_p[rows, labels].sum(), "You added the losses up: take their mean over the batch "
                                     "(divide by N), as Keras does."),
        (log_p[rows, labels].mean(), "Your loss is negative: it is MINUS the log-probability "
                                     "of the true class."),
        (-log_p[:, labels].mean(), "You took the log-probability of the wrong entries: "
                                   "p[:, labels] picks every example's probability of every "
                                   "label. Use p[np.arange(N), labels]: example n, its own "
                                   "class labels[n]."),
        (-log_p[rows, log_p.argmax(axis=1)].mean(),
         "You used the predicted class (the largest score): the loss uses the true class, "
         "labels[n]."),
        (-log_p[rows, 0].mean(), "You took the log-probability of class 0 for every example: "
                                 "use each example's own label, p[np.arange(N), labels]."),
        (-log_p.mean(), "You averaged the log-probabilities of all the classes: only the true "
                        "class counts, p[np.arange(N), labels]."),
    ]
    for answer, text in mistakes:
        if _hints.close(got, answer):
            return text
    if float(want) > 50 and float(got) < float(want) / 2:
        return ("Your loss is far too small for scores this far apart: log(p + eps) or a "
                "clipped p caps each example's loss at -log(eps). Compute the "
                "log-probabilities directly instead, log_p = s - log(sum(exp(s))) with "
                "s = z - z.max(axis=1, keepdims=True).")
    return (f"The loss should be mean over n of -log softmax(z)[n, labels[n]] = {float(want):.6g}; "
            f"yours is {float(got):.6g}.")


@short_traceback
def check_cross_entropy(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(logits, labels)``: the mean cross-entropy of softmax, from integer labels.

    Parameters
    ----------
    fn : callable
        ``fn(logits, labels)`` with ``logits (N, K)`` raw scores and
        ``labels (N,)`` integers from 0 to K - 1, returning one number: the
        mean over the batch of ``-log softmax(logits)[n, labels[n]]`` (like
        Keras's ``SparseCategoricalCrossentropy(from_logits=True)``); scores
        of +-1000 must give a finite loss.
    time_limit : float or None
        As in :func:`check_dense`.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first wrong case, with a hint (the wrong class's probability,
        a sum instead of a mean, ``log(0)``, a missing minus sign, ...).
    """
    params = Params(fn, ("logits", "labels"))
    limit = check_time_limit(time_limit)
    cases = cross_entropy_cases()
    for logits, labels in cases:
        want = np.asarray(cross_entropy_reference(logits, labels))
        call = Call(fn, params, (logits, labels), {}, limit)
        try:
            got = call.run(want.ndim)
        except CheckFailed as failure:
            raise explain_error(failure, ("broadcast",), KEEPDIMS_HINT) from None
        compare(call, got, want, lambda g: cross_entropy_hint(logits, labels, want, g))
    return passed(params.name, len(cases), ["batches with integer labels",
                                            "the mean over the batch", "scores of +-1000"])
