"""Exercise checkers of lesson 06: leaky ReLU, its slope, and the share of dead units.

- :func:`check_leaky_relu` compares ``fn(x, alpha)`` with
  :func:`cnnlab.activations.leaky_relu` (Keras's ``leaky_relu``: ``x`` where
  ``x >= 0``, ``alpha * x`` elsewhere, so the value at 0 is 0);
- :func:`check_leaky_relu_slope` compares ``fn(x, alpha)`` with
  :func:`leaky_relu_slope_reference`: 1 where ``x > 0`` and ``alpha``
  elsewhere, *also at 0*, the slope TensorFlow's gradient of
  ``tf.nn.leaky_relu`` uses there;
- :func:`check_dead_units` compares ``fn(responses, bias)`` with
  :func:`dead_units_reference`. The definitions are the lesson's: a *unit* is
  one value of a feature map; it is dead when its ReLU output is 0, that is
  when its pre-activation ``response + bias`` is ``<= 0`` (the explorer's
  count); a *channel* (a filter) is dead when every one of its units is dead,
  at every position of every example in the batch (the lesson's dying-ReLU
  experiment). The function returns both shares, as fractions from 0 to 1.

Each checker runs the lesson's example first, then seeded random cases
(integers, so that pre-activations of exactly 0 occur, and decimals), and
at the first wrong answer names the likely mistake, found by recomputing
the answer with that mistake built in.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import activations
from .._validate import as_array, check_real
from . import _hints
from ._calls import DEFAULT_TIME_LIMIT, Call, Params, check_time_limit, compare
from ._cases import random_array
from ._results import CheckFailed, passed, short_traceback

__all__ = ["check_dead_units", "check_leaky_relu", "check_leaky_relu_slope",
           "dead_units_reference", "leaky_relu_slope_reference"]

ALPHA_NAMES = ("alpha", "negative_slope", "slope", "a")
LESSON_Z = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])   # lesson 06's example values
ALPHAS = (0.2, 0.1, 0.5, 0.01, 0.0, 0.3)

POSITIVE_SIDE_HINT = ("You multiplied the positive values by alpha: leaky ReLU keeps x "
                      "unchanged where x >= 0 and multiplies only the negative values by alpha.")
RELU_HINT = ("Your negative values became 0, as in a plain ReLU: leaky ReLU multiplies them "
             "by alpha instead.")
SIGN_HINT = ("The negative side has the wrong sign: for x < 0 the output is alpha * x, "
             "itself negative.")
FIXED_ALPHA_HINT = ("Your function uses the slope {used:g} whatever alpha it is given (here "
                    "alpha={alpha:g}): use the argument `alpha`, not a number written in the code.")
AT_ZERO_HINT = ("Only the slope at x = 0 is wrong: there TensorFlow uses the negative side's "
                "slope, alpha (1 only where x > 0; compare with x > 0, not x >= 0).")
SLOPE_ZERO_HINT = ("For negative inputs your slope is 0, ReLU's slope: leaky ReLU's output "
                   "alpha * x changes by alpha when x changes by 1, so its slope there is alpha.")
SWAPPED_SLOPE_HINT = ("The two slopes are swapped: 1 belongs to the positive inputs (where the "
                      "output is x), alpha to the others.")
VALUES_HINT = ("You returned leaky ReLU's values, not its slope: the slope is 1 where x > 0 "
               "and alpha elsewhere.")


# --------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------

def leaky_relu_slope_reference(x, alpha=0.2):
    """Derivative of :func:`cnnlab.activations.leaky_relu`, as TensorFlow's gradient takes it.

    Parameters
    ----------
    x : array_like, any shape
    alpha : float
        The slope of the negative side.

    Returns
    -------
    ndarray, the shape of ``x``
        1.0 where ``x > 0``, ``alpha`` elsewhere (also at 0).
    """
    x = as_array(x, "x").astype(float)
    alpha = check_real(alpha, "alpha", minimum=0)
    return np.where(x > 0, 1.0, alpha)


def dead_units_reference(responses, bias):
    """Shares of dead units and of dead channels after ``relu(responses + bias)``.

    Parameters
    ----------
    responses : (N, H, W, C) array_like
        Feature maps before the bias and the ReLU.
    bias : (C,) array_like or float
        One bias per channel.

    Returns
    -------
    unit_share : float
        Fraction of the ``N * H * W * C`` values whose ReLU output is 0
        (pre-activation ``<= 0``).
    channel_share : float
        Fraction of the ``C`` channels dead at every position of every example.
    """
    responses = as_array(responses, "responses", ndims=4)            # (N, H, W, C)
    bias = as_array(bias, "bias", ndims=(0, 1))
    if bias.ndim == 1 and bias.shape != responses.shape[-1:]:
        raise ValueError(f"`bias` must hold one value per channel, {responses.shape[-1]} for "
                         f"`responses` of shape {responses.shape}, got shape {bias.shape}")
    dead = responses + bias <= 0                                      # (N, H, W, C)
    return float(dead.mean()), float(dead.all(axis=(0, 1, 2)).mean())


# --------------------------------------------------------------------------
# Leaky ReLU and its slope
# --------------------------------------------------------------------------

def activation_cases():
    """``(x, alpha)``: the lesson's five values first, then seeded arrays of several shapes."""
    shapes_ = [(5,), (3, 4), (2, 3, 3, 2), (7,), (4, 4), (1, 5, 5, 3)]
    cases = [(LESSON_Z, None)]
    for i, (shape, alpha) in enumerate(zip(shapes_, ALPHAS)):
        cases.append((random_array(shape, seed=600 + i, fractional=(i % 2 == 1)), alpha))
    return cases


def alpha_parameter(params):
    """The learner's slope parameter; CheckFailed when the function has none."""
    found = params.find(ALPHA_NAMES) or params.extra_positional()
    if found is None:
        raise CheckFailed(f"{params.name} takes no parameter for the slope alpha.",
                          hint=f"Define it as def {params.name}(x, alpha=0.2): ...")
    return found


def run_activation(fn, reference, hint_for, time_limit):
    """Run ``fn`` on every case and compare it with ``reference(x, alpha)``."""
    params = Params(fn, ("x",))
    limit = check_time_limit(time_limit)
    alpha_param = alpha_parameter(params)
    default = alpha_param.default
    cases = activation_cases()
    for x, alpha in cases:
        use_default = alpha is None and default is not alpha_param.empty
        alpha = 0.2 if alpha is None else alpha
        kwargs = {} if use_default else {alpha_param.name: alpha}
        want = reference(x, alpha)
        call = Call(fn, params, (x,), kwargs, limit)
        got = call.run(want.ndim)
        if use_default and default != 0.2 and not _hints.close(got, want):
            raise CheckFailed(f"With its default alpha={default!r}, {params.name} does not give "
                              "Keras's leaky ReLU.", call=call.text(), expected=want, got=got,
                              hint="Keras's default slope is 0.2: write alpha=0.2 in the "
                                   "function's definition.")
        compare(call, got, want, lambda g: hint_for(x, alpha, want, g))
    return passed(params.name, len(cases), ["the lesson's values", "exact zeros",
                                            f"alpha {', '.join(f'{a:g}' for a in ALPHAS)}",
                                            "arrays of any shape"])


def first_match(got, mistakes):
    for answer, text in mistakes:
        if answer is not None and _hints.close(got, answer):
            return text
    return None


def leaky_hint(x, alpha, want, got) -> str:
    """The likely mistake of a leaky ReLU that returned ``got``."""
    if got.shape != want.shape:
        return (f"An activation works on every value on its own and keeps the shape of x, "
                f"{want.shape}.")
    mistakes = [(np.where(x > 0, alpha * x, x), POSITIVE_SIDE_HINT),
                (np.maximum(x, 0), RELU_HINT),
                (np.where(x > 0, x, -alpha * x), SIGN_HINT)]
    mistakes += [(np.where(x >= 0, x, used * x), FIXED_ALPHA_HINT.format(used=used, alpha=alpha))
                 for used in (0.2, 0.01, 0.1, 0.3) if used != alpha]
    found = first_match(got, mistakes)
    if found:
        return found
    index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want))[0])
    return (f"At x{list(index)} = {x[index]:g} the output should be {want[index]:g} "
            f"({'x itself' if x[index] >= 0 else f'{alpha:g} * x'}), but your function gave "
            f"{got[index]:.4g}.")


def slope_hint(x, alpha, want, got) -> str:
    """The likely mistake of a leaky-ReLU slope that returned ``got``."""
    if got.shape != want.shape:
        return f"Give one slope per value of x: an array of shape {want.shape}."
    mistakes = [(np.where(x >= 0, 1.0, alpha), AT_ZERO_HINT),
                (np.where(x > 0, 1.0, 0.0), SLOPE_ZERO_HINT),
                (np.where(x >= 0, 1.0, 0.0), SLOPE_ZERO_HINT),
                (np.where(x > 0, alpha, 1.0), SWAPPED_SLOPE_HINT),
                (np.where(x >= 0, x, alpha * x), VALUES_HINT)]
    mistakes += [(np.where(x > 0, 1.0, used), FIXED_ALPHA_HINT.format(used=used, alpha=alpha))
                 for used in (0.2, 0.01, 0.1, 0.3) if used != alpha]
    found = first_match(got, mistakes)
    if found:
        return found
    index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want))[0])
    return (f"At x{list(index)} = {x[index]:g} the slope should be {want[index]:g}, but your "
            f"function gave {got[index]:.4g}.")


@short_traceback
def check_leaky_relu(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's ``fn(x, alpha=0.2)`` against :func:`cnnlab.activations.leaky_relu`.

    Parameters
    ----------
    fn : callable
        ``fn(x, alpha)`` with ``x`` an array of any shape, returning an array
        of the same shape. Its slope parameter may be called ``alpha`` or
        ``negative_slope``; its default must be Keras's 0.2.
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first case that gives a wrong answer (or takes too long), with a hint.
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    return run_activation(fn, lambda x, a: activations.leaky_relu(x, a), leaky_hint, time_limit)


@short_traceback
def check_leaky_relu_slope(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's derivative of leaky ReLU, ``fn(x, alpha=0.2)``.

    Against :func:`leaky_relu_slope_reference`: 1 where ``x > 0``, ``alpha``
    elsewhere, at 0 too. Parameters, result and errors as in :func:`check_leaky_relu`.
    """
    return run_activation(fn, leaky_relu_slope_reference, slope_hint, time_limit)


# --------------------------------------------------------------------------
# Dead units
# --------------------------------------------------------------------------

def dead_cases():
    """``(responses, bias)``: small integer maps (exact zeros) first, then decimals."""
    cases = []
    # the lesson-sized example: 2 maps of 4x4, three channels; channel 1 is dead everywhere
    x = random_array((2, 4, 4, 3), seed=650)
    cases.append((x, np.array([0.0, -4.0, 1.0])))
    # channel 0 is dead in the first example only: alive over the batch
    x = random_array((2, 3, 3, 2), seed=651)
    x[0, ..., 0] = -3.0
    x[1, 1, 1, 0] = 3.0
    cases.append((x, np.array([0.0, -1.0])))
    for i, (shape, low) in enumerate([((3, 5, 4, 4), -2.0), ((1, 6, 6, 5), -3.0),
                                      ((4, 2, 3, 3), -1.0)]):
        x = random_array(shape, seed=660 + i, fractional=(i == 1))
        bias = np.round(np.linspace(low, 1.0, shape[-1]), 2)
        cases.append((x, bias))
    x = random_array((2, 4, 4, 4), seed=670)
    x[..., 2] = -np.abs(x[..., 2])            # channel 2 never above 0: dead with bias 0
    cases.append((x, np.array([0.5, -0.5, 0.0, -3.0])))
    return cases


def as_share(value):
    """``value`` as a float when it is one real number (not bool, complex or text), else None."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def dead_variants(responses, bias):
    """``{name: (unit_share, channel_share)}`` computed with one typical mistake each."""
    z = responses + bias
    def shares(dead):
        return dead.mean(), dead.all(axis=(0, 1, 2)).mean()
    return {
        "strict": shares(z < 0),
        "equal": shares(z == 0),
        "no_bias": shares(responses <= 0),
        "minus_bias": shares(responses - bias <= 0),
    }


def dead_hint(responses, bias, want, got) -> str:
    """The likely mistake of a dead-unit count that returned ``got`` = (units, channels)."""
    units, chans = got
    z = responses + bias
    dead = z <= 0
    variants = dead_variants(responses, bias)
    if np.isclose(units, want[1]) and np.isclose(chans, want[0]) and want[0] != want[1]:
        return "The two shares are swapped: return (share of dead units, share of dead channels)."
    texts = {
        "strict": ("A pre-activation of exactly 0 gives a ReLU output of 0 too, so that unit is "
                   "dead: count response + bias <= 0, not < 0."),
        "equal": ("`== 0` counts only the pre-activations that are exactly 0 — with decimals "
                  "almost none. A unit is dead when its ReLU output is 0: "
                  "response + bias <= 0."),
        "no_bias": "Add the bias to the responses before you decide which units are dead.",
        "minus_bias": "You subtracted the bias: the pre-activation is response + bias.",
    }
    for name, (u, c) in variants.items():
        if np.isclose(units, u) and np.isclose(chans, c) and (u, c) != tuple(want):
            return texts[name]
    n_units, n_chans = dead.size, dead.shape[-1]
    if not np.isclose(units, want[0]):
        if np.isclose(units, want[0] * n_units) and want[0] > 0:
            return (f"Give the share as a fraction of all {n_units} units (from 0 to 1), not a "
                    "count.")
        if np.isclose(units, 100 * want[0]) and want[0] > 0:
            return "Give fractions from 0 to 1, not percentages."
        for name in ("strict", "equal", "no_bias"):
            if np.isclose(units, variants[name][0]):
                return texts[name]
        return (f"The unit share should be the fraction of values with response + bias <= 0, "
                f"{want[0]:.4g} here, but your function gave {units:.4g}.")
    if np.isclose(chans, dead.any(axis=(0, 1, 2)).mean()):
        return ("A channel with one dead unit is not dead: it is dead only when its ReLU "
                "output is 0 everywhere, at every position of every example (all, not any).")
    if np.isclose(chans, dead.all(axis=(1, 2)).mean()):
        return ("You counted the channels dead on each example separately: a channel that "
                "answers on one example of the batch is alive. Ask whether it is dead at every "
                "position of every example, all over axes (0, 1, 2).")
    if np.isclose(chans, want[1] * n_chans) and want[1] > 0:
        return (f"Give the share as a fraction of the {n_chans} channels (from 0 to 1), not a "
                "count.")
    if np.isclose(chans, 100 * want[1]) and want[1] > 0:
        return "Give fractions from 0 to 1, not percentages."
    if np.isclose(chans, want[1] * n_chans / n_units):
        return f"Divide by the number of channels, {n_chans}, not by the number of units."
    return (f"The channel share should be the fraction of the {n_chans} channels dead "
            f"everywhere, {want[1]:.4g} here, but your function gave {chans:.4g}.")


@short_traceback
def check_dead_units(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's ``fn(responses, bias) -> (unit_share, channel_share)``.

    Parameters
    ----------
    fn : callable
        ``fn(responses, bias)`` with ``responses (N, H, W, C)`` before the
        bias and the ReLU and ``bias (C,)``, returning two fractions: the dead
        units and the dead channels, as :func:`dead_units_reference` defines them.
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first case that gives a wrong answer (or takes too long), with a hint.
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("responses", "bias"))
    limit = check_time_limit(time_limit)
    cases = dead_cases()
    for responses, bias in cases:
        call = Call(fn, params, (responses, bias), {}, limit)
        want = dead_units_reference(responses, bias)
        got = call.run(None)
        if isinstance(got, np.ndarray) and got.shape == (2,):
            got = list(got)
        shares = [as_share(v) for v in got] if isinstance(got, (tuple, list)) else []
        if len(shares) != 2 or None in shares:
            raise CheckFailed(f"{params.name} returned {_hints.short(got)}, not two numbers.",
                              call=call.text(), expected=want,
                              hint="Return the two shares as a pair of numbers: "
                                   "`return unit_share, channel_share` (floats from 0 to 1).")
        if not np.allclose(shares, want, rtol=1e-6, atol=1e-9):
            raise CheckFailed("The shares are wrong.", call=call.text(), expected=want,
                              got=tuple(shares), hint=dead_hint(responses, bias, want, shares))
    return passed(params.name, len(cases), ["unit shares", "channels dead over the whole batch",
                                            "exact zeros", "one bias per channel"])
