"""Exercise checkers of lesson 08: batch normalisation and inverted dropout.

:func:`check_batch_norm` runs the learner's forward pass in training and in
inference mode, on ``(N, C)`` batches and ``(N, H, W, C)`` feature maps with
running statistics from earlier batches, and compares the output and the
returned running averages with :func:`cnnlab.regularise.batch_norm_forward`.
:func:`check_dropout` hands the learner's dropout a seeded
``numpy.random.Generator``: it checks the answer statistically (about
``keep_prob`` of the units kept, each survivor divided by ``keep_prob``) and
then exactly against the mask that generator gives, ``rng.random(a.shape) <
keep_prob``, as :func:`cnnlab.regularise.inverted_dropout` draws it.

At the first wrong answer each raises :class:`~cnnlab.checks.CheckFailed`
with a hint found by recomputing the answer with one typical mistake built in
(running statistics updated in inference mode, the running averages used
while training, the variance divided by n - 1, the statistics taken over the
wrong axes; survivors not divided by ``keep_prob``, units dropped at test
time, the keep and drop probabilities swapped, ...).
"""

from __future__ import annotations

import numpy as np

from .. import regularise
from . import _hints
from .backward import compare_part, first_match, run_for_arrays
from ._calls import DEFAULT_TIME_LIMIT, Call, Params, check_time_limit
from ._cases import random_array
from ._results import CheckFailed, passed, short_traceback

__all__ = ["check_batch_norm", "check_dropout"]


# --------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------

def batch_norm_variant(x, gamma, beta, training, running_mean, running_var, momentum, eps, *,
                       axes=None, ddof=0, stats="batch", update=None, swap_momentum=False,
                       eps_outside=False, std_average=False):
    """Batch normalisation with one mistake built in (none by default).

    ``axes``: the axes of the statistics (default: all but the last, kept as
    dimensions); ``ddof=1``: the variance divided by n - 1; ``stats``:
    ``"batch"`` or ``"running"`` (what normalises); ``update``: whether the
    running averages move (default: ``training``); ``swap_momentum``:
    ``momentum`` multiplies the new value; ``eps_outside``: ``sqrt(var) + eps``;
    ``std_average``: the running variance averages standard deviations.
    """
    axes = tuple(range(x.ndim - 1)) if axes is None else axes
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, ddof=ddof, keepdims=True)
    batch_mu, batch_var = (v.reshape(-1, x.shape[-1]).mean(axis=0) for v in (mu, var))  # (C,)
    if std_average:
        batch_var = np.sqrt(batch_var)
    use_batch = training if stats == "batch" else not training
    if not use_batch:
        mu, var = running_mean, running_var
    scale = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    out = gamma * (x - mu) / scale + beta
    update = training if update is None else update
    if not update:
        return out, running_mean, running_var
    keep, new = (1 - momentum, momentum) if swap_momentum else (momentum, 1 - momentum)
    return out, keep * running_mean + new * batch_mu, keep * running_var + new * batch_var


class NormCase:
    """One batch-normalisation case: its inputs, the right answer, the likely mistakes."""

    def __init__(self, x, gamma, beta, training, running_mean, running_var, momentum, eps):
        self.x, self.gamma, self.beta, self.training = x, gamma, beta, training
        self.running = (running_mean, running_var)
        self.momentum, self.eps = momentum, eps
        self.want = regularise.batch_norm_forward(
            x, gamma, beta, training=training, running_mean=running_mean,
            running_var=running_var, momentum=momentum, eps=eps)

    def args(self):
        return (self.x, self.gamma, self.beta, self.training, *self.running)

    def variant(self, eps=None, **mistake):
        return batch_norm_variant(self.x, self.gamma, self.beta, self.training, *self.running,
                                  self.momentum, self.eps if eps is None else eps, **mistake)

    def mistakes(self):
        """(variant, text) pairs for this case's mode."""
        x = self.x
        axes_text = ("A channel's statistics are taken over the whole batch and every position: "
                     f"mean and var over axis={tuple(range(x.ndim - 1))}, every axis but the last "
                     "(the channels).")
        found = []
        if self.training:
            found += [
                (self.variant(stats="running"),
                 "You normalised with the running averages while training: in training mode "
                 "use the batch's own mean and variance; the running averages only move "
                 "towards them (they are used at test time)."),
                (self.variant(update=False),
                 "Training mode must move the running averages: running_mean = momentum * "
                 "running_mean + (1 - momentum) * mean (and the same for the variance), "
                 "returned with the output."),
                (self.variant(ddof=1),
                 "Your variance divides by n - 1: batch normalisation uses the batch's own "
                 "(biased) variance, dividing by n — np.var's default, ddof=0, as Keras does."),
                (self.variant(swap_momentum=True),
                 "momentum weights the old running average: running = momentum * running + "
                 "(1 - momentum) * batch value (with momentum = 0.99 each batch moves it 1 %)."),
                (self.variant(std_average=True),
                 "The running variance averages variances: use the batch's variance, not its "
                 "standard deviation."),
            ]
            wrong_axes = [(0,)] if x.ndim == 4 else [(1,)]
            wrong_axes += [(1, 2), (1, 2, 3)] if x.ndim == 4 else []
            for axes in wrong_axes:
                if axes != tuple(range(x.ndim - 1)):
                    found.append((self.variant(axes=axes), axes_text))
        else:
            found += [
                (self.variant(stats="running", update=False),
                 "In inference mode normalise with running_mean and running_var, not the "
                 "batch's own statistics: a test image's answer must not depend on the other "
                 "images in its batch."),
                (self.variant(stats="running", update=True),
                 "In inference mode the running statistics must stay as they are: return "
                 "running_mean and running_var unchanged (only training moves them)."),
                (self.variant(stats="running"),
                 "In inference mode use the running statistics and leave them unchanged: your "
                 "function normalised with the batch and updated the averages as in training."),
            ]
        found += [
            (self.variant(eps_outside=True),
             "eps goes inside the square root: (x - mean) / np.sqrt(var + eps)."),
            (self.variant(eps=0.0), "You left out eps: divide by np.sqrt(var + eps)."),
        ]
        return found

    def hint_for(self, part):
        """A hint function for result ``part`` (0: out, 1: running mean, 2: running variance)."""
        def hint(got):
            want = self.want[part]
            if got.shape != want.shape:
                if part == 0:
                    return f"out has the shape of x, {want.shape}."
                return (f"The running statistics hold one value per channel, shape {want.shape}: "
                        "reduce over every axis but the last.")
            answers = [(variant[part], text) for variant, text in self.mistakes()]
            if part == 0:
                answers += [
                    (self.gamma * self.beta_free(),
                     "You forgot the shift: add beta after scaling by gamma."),
                    (self.beta * self.beta_free() + self.gamma,
                     "gamma and beta are swapped: out = gamma * x_hat + beta (gamma scales, "
                     "beta shifts)."),
                    (self.beta_free(), "You left out gamma and beta: out = gamma * x_hat + beta."),
                ]
            return first_match(got, answers) or (
                "out = gamma * (x - mean) / sqrt(var + eps) + beta per channel, with the batch's "
                "mean and var while training (which also move the running averages) and the "
                "running averages at test time.")
        return hint

    def beta_free(self):
        """x_hat, the normalised input without gamma and beta."""
        out = self.want[0]
        return (out - self.beta) / self.gamma


def norm_cases(momentum_param, eps_param):
    """Batch-normalisation cases: training first, then inference, then other options."""
    rng = np.random.default_rng(850)

    def maps(shape):
        return np.round(rng.normal(3.0, 2.0, size=shape), 2)  # far from normalised already

    cases = []
    plans = [((4, 3, 3, 2), True), ((6, 3), True), ((5, 2, 3, 3), False), ((6, 3), False),
             ((1, 4, 4, 2), True), ((3, 2, 2, 4), True), ((3, 2, 2, 4), False)]
    for shape, training in plans:
        c = shape[-1]
        gamma = np.round(rng.uniform(0.5, 2.0, size=c), 2)
        beta = np.round(rng.uniform(-1.0, 1.0, size=c), 2) + 0.1
        mean, var = np.round(rng.uniform(1.0, 4.0, size=c), 2), np.round(rng.uniform(2.0, 6.0, c), 2)
        cases.append((maps(shape), gamma, beta, training, mean, var, 0.99, 1e-3))
    if momentum_param is not None:
        x, gamma, beta, _, mean, var, _, eps = cases[0]
        cases.append((x, gamma, beta, True, mean, var, 0.9, eps))
    if eps_param is not None:
        x, gamma, beta, _, mean, var, momentum, _ = cases[1]
        small = x / 100
        cases += [(small, gamma, beta, True, mean, var, momentum, 1e-2),
                  (small, gamma, beta, False, mean / 100, var / 1e4, momentum, 1e-2)]
    return cases


def norm_keywords(momentum_param, eps_param, momentum, eps):
    kwargs = {momentum_param.name: momentum} if momentum_param is not None else {}
    if eps_param is not None:
        kwargs[eps_param.name] = eps
    return kwargs


def run_norm(call):
    """The learner's (out, running_mean, running_var), explaining an input changed in place."""
    try:
        return run_for_arrays(call, ("out", "running_mean", "running_var"), (None, 1, 1),
                              "End the function with `return out, running_mean, running_var`.")
    except CheckFailed as failure:
        if failure.problem.endswith("changed its input."):
            raise CheckFailed(failure.problem, call=failure.call,
                              hint="Return new running averages instead of changing the arrays "
                                   "you were given: running_mean = momentum * running_mean + "
                                   "..., not running_mean *= ... or running_mean[:] = ...") from None
        raise


@short_traceback
def check_batch_norm(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(x, gamma, beta, training, running_mean, running_var)`` against ``regularise``.

    Parameters
    ----------
    fn : callable
        ``fn(x, gamma, beta, training, running_mean, running_var)`` with
        ``x (N, C)`` or ``(N, H, W, C)``, ``gamma, beta, running_mean,
        running_var (C,)`` and ``training`` True or False, returning ``out``
        (the shape of ``x``) and the new ``running_mean`` and ``running_var``
        (unchanged in inference mode), as
        :func:`cnnlab.regularise.batch_norm_forward`. Parameters named
        ``momentum`` (default 0.99) and ``eps`` (default 1e-3) are tested
        with other values when present.
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first wrong answer, with a hint (running statistics updated in
        inference mode, running averages used while training, variance with
        n - 1, statistics over the wrong axes, ...).
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("x", "gamma", "beta", "training", "running_mean", "running_var"))
    limit = check_time_limit(time_limit)
    momentum_param, eps_param = params.find(("momentum",)), params.find(("eps", "epsilon"))
    cases = norm_cases(momentum_param, eps_param)
    names = ("out", "running_mean", "running_var")
    for x, gamma, beta, training, mean, var, momentum, eps in cases:
        case = NormCase(x, gamma, beta, training, mean, var, momentum, eps)
        call = Call(fn, params, case.args(), norm_keywords(momentum_param, eps_param, momentum, eps),
                    limit)
        got = run_norm(call)
        for part, (name, mine, want) in enumerate(zip(names, got, case.want)):
            compare_part(call, name, mine, want, case.hint_for(part))
    covered = ["(N, C) batches", "(N, H, W, C) feature maps", "training and inference mode",
               "running statistics"]
    covered += ["momentum"] if momentum_param is not None else []
    covered += ["eps"] if eps_param is not None else []
    return passed(params.name, len(cases), covered)


# --------------------------------------------------------------------------
# Inverted dropout
# --------------------------------------------------------------------------

DRAW_TEXT = "rng.random(a.shape) < keep_prob"


class SeededGenerator(np.random.Generator):
    """``np.random.default_rng(seed)`` that shows itself as such in a failure message."""

    def __init__(self, seed):
        super().__init__(np.random.PCG64(seed))
        self.seed = seed

    def __repr__(self):
        return f"np.random.default_rng({self.seed})"


def dropout_cases():
    """(a, keep_prob, seed, training, calls) cases: the lesson's example first."""
    big = random_array((40, 5, 5, 2), seed=870) + 0.5  # 2,000 units, never 0
    return [
        (np.arange(1.0, 11.0), 0.8, 0, True, 1),
        (random_array((3, 4), seed=871) + 0.5, 0.5, 1, True, 1),
        (big, 0.8, 2, True, 1),
        (big, 0.3, 3, True, 1),
        (random_array((2, 3, 3, 2), seed=872) - 0.5, 0.9, 4, True, 2),   # the same rng twice
        (np.arange(1.0, 7.0), 1.0, 5, True, 1),
        (random_array((4, 5), seed=873) + 0.5, 0.8, 6, False, 1),
        (big, 0.5, 7, False, 1),
    ]


def as_mask(call, mask, shape):
    """The learner's mask as bools (True/False or 1/0 accepted)."""
    if mask.shape != shape:
        raise CheckFailed(f"mask: expected shape {shape} but got {mask.shape}.", call=call.text(),
                          hint="The mask has one True/False per unit: the shape of a.")
    if not np.all((mask == 0) | (mask == 1)):
        raise CheckFailed("mask: expected True/False values (or 1/0).", call=call.text(), got=mask,
                          hint=f"Return the boolean mask itself, {DRAW_TEXT}, not the scaled "
                               "output or the random numbers.")
    return mask.astype(bool)


def dropout_output_hint(a, keep_prob, mask, got):
    """Why ``got`` is not ``a * mask / keep_prob`` for the learner's own mask."""
    mistakes = [
        (a * mask, "The survivors are not scaled up: divide them by keep_prob (a * mask / "
                   "keep_prob), so that the expected value of every unit stays a."),
        (a * mask * keep_prob, "Divide the survivors by keep_prob, do not multiply: each is "
                               "kept with probability keep_prob, so dividing keeps its mean."),
        (a * ~mask / keep_prob, "Your mask marks the dropped units: True must mean kept, and the "
                                "kept units are a / keep_prob."),
        (a * mask / (1 - keep_prob) if keep_prob < 1 else None,
         "You divided by the drop probability 1 - keep_prob: divide by keep_prob."),
        (a / keep_prob, "Nothing was dropped: multiply by the mask, a * mask / keep_prob."),
    ]
    return first_match(got, mistakes) or (
        "Each unit is a / keep_prob where your mask is True and 0 where it is False.")


def mask_hint(draws, keep_prob, mask):
    """Why the learner's mask is not ``draws < keep_prob``."""
    mistakes = [
        (draws < 1 - keep_prob, "keep_prob is the chance to keep a unit: True where "
                                f"{DRAW_TEXT}; you used the drop probability 1 - keep_prob."),
        (draws >= keep_prob, f"Your mask is True for the dropped units: keep where {DRAW_TEXT}."),
        (draws > 1 - keep_prob, f"Statistically right, but not the draw the exercise asks for: "
                                f"use {DRAW_TEXT}, so that the check can repeat it."),
    ]
    return first_match(mask.astype(float), [(m.astype(float), t) for m, t in mistakes]) or (
        f"Draw the mask from the generator you are given, exactly as {DRAW_TEXT}: no "
        "np.random.rand, no new np.random.default_rng(...) inside the function, one draw "
        "per call.")


@short_traceback
def check_dropout(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's inverted dropout ``fn(a, keep_prob, rng, training=True)``.

    Parameters
    ----------
    fn : callable
        ``fn(a, keep_prob, rng)`` with activations ``a`` of any shape, a
        probability ``keep_prob`` in (0, 1] and a ``numpy.random.Generator``,
        returning ``out`` (``a * mask / keep_prob``) and the boolean ``mask``
        drawn as ``rng.random(a.shape) < keep_prob`` (as
        :func:`cnnlab.regularise.inverted_dropout`). A ``training`` parameter
        is tested with False too: then ``out`` is ``a`` and ``mask`` all True.
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first wrong answer, with a hint (survivors not divided by
        keep_prob, units dropped in inference mode, keep and drop probability
        swapped, a mask not drawn from ``rng``).
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("a", "keep_prob", "rng"))
    limit = check_time_limit(time_limit)
    training_param = params.find(("training", "train"))
    cases = [c for c in dropout_cases() if c[3] or training_param is not None]
    for a, keep_prob, seed, training, calls in cases:
        rng, twin = SeededGenerator(seed), np.random.default_rng(seed)
        kwargs = {training_param.name: training} if training_param is not None else {}
        for _ in range(calls):
            call = Call(fn, params, (a, keep_prob, rng), kwargs, limit)
            out, mask = run_for_arrays(call, ("out", "mask"), (a.ndim, a.ndim),
                                       "End the function with `return out, mask`.", bools=("mask",))
            if training:
                check_training_answer(call, a, keep_prob, twin.random(a.shape), out, mask)
            else:
                check_inference_answer(call, a, keep_prob, out, mask)
    covered = ["the mask drawn from rng", "scaling by 1 / keep_prob", "keep_prob 0.3 to 1"]
    covered += ["inference mode"] if training_param is not None else []
    return passed(params.name, len(cases), covered)


def check_training_answer(call, a, keep_prob, draws, out, mask):
    """Statistics first (any fair draw passes them), then the exact mask of ``rng``."""
    if out.shape != a.shape:
        raise CheckFailed(f"out: expected shape {a.shape} but got {out.shape}.", call=call.text(),
                          hint="Dropout keeps the shape: out = a * mask / keep_prob.")
    mask = as_mask(call, mask, a.shape)
    want_out = np.where(mask, a / keep_prob, 0.0)
    compare_part(call, "out", out, want_out, lambda g: dropout_output_hint(a, keep_prob, mask, g))
    kept = float(mask.mean())
    if a.size >= 1000 and abs(kept - keep_prob) > 0.05:
        swapped = abs(kept - (1 - keep_prob)) <= 0.05
        raise CheckFailed(
            f"Your mask keeps {kept:.0%} of the units, but keep_prob = {keep_prob:g}.",
            call=call.text(),
            hint=("keep_prob is the chance to keep a unit, so the mask is True with probability "
                  f"keep_prob: {DRAW_TEXT}; yours keeps with the drop probability 1 - keep_prob."
                  if swapped else f"Draw the mask as {DRAW_TEXT}: True with probability keep_prob."))
    want_mask = draws < keep_prob
    if not np.array_equal(mask, want_mask):
        raise CheckFailed("mask: not the mask the generator gives.", call=call.text(),
                          expected=want_mask, got=mask, hint=mask_hint(draws, keep_prob, mask))


def check_inference_answer(call, a, keep_prob, out, mask):
    """With training=False nothing is dropped and nothing is scaled."""
    if out.shape == a.shape and not _hints.close(out, a):
        if _hints.close(out, a / keep_prob):
            hint = ("At test time nothing is scaled either: inverted dropout already scaled "
                    "while training, so with training=False return a as it is.")
        elif np.any((out == 0) & (a != 0)):
            hint = ("You dropped units in inference mode: with training=False dropout does "
                    "nothing — return a unchanged and a mask that is all True.")
        else:
            hint = "With training=False return a unchanged (and a mask that is all True)."
        raise CheckFailed("out: with training=False it must be a itself.", call=call.text(),
                          expected=a, got=out, hint=hint)
    compare_part(call, "out", out, a, lambda g: f"out has the shape of a, {a.shape}.")
    if mask.shape != a.shape or not np.all(mask == 1):
        raise CheckFailed("mask: with training=False every unit is kept.", call=call.text(),
                          got=mask, hint="Return np.ones(a.shape, dtype=bool) as the mask in "
                                         "inference mode.")
