"""Exercise checkers of lesson 03: choosing padding and stride, and where "same" puts its zeros.

:func:`check_padding_stride_pairs` runs the learner's ``fn(n, k, target)``,
which lists every ``(padding, stride)`` pair that turns an input of ``n``
cells into ``target`` output cells with a kernel of ``k`` (``0 <= padding <=
k - 1``, ``1 <= stride <= k``), on the lesson's 7-cell example first, then
on sizes from MNIST and CIFAR, kernels larger than the input, targets no
pair reaches and seeded random settings. Every answer is compared, as a set,
with :func:`padding_stride_pairs_reference`, which asks
:func:`cnnlab.shapes.conv_output_size`.

:func:`check_same_padding` runs ``fn(size, kernel_size, strides, dilation)``,
TensorFlow's "same" padding of a 2D input as ``((top, bottom), (left,
right))``, on strides of 3 and more, uneven strides per axis, 1x1 kernels
that need no padding at all and dilated kernels, against
:func:`cnnlab.shapes.padding_amounts`.

A wrong answer is explained by recomputing it with one typical mistake built
in: the ceiling instead of the floor, the zeros counted on one side only, the
bounds of the search one too short, the pair written the wrong way round; the
extra zero on the wrong side, the number of outputs rounded down, the stride
or the dilation forgotten, a negative amount of padding.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import shapes
from . import _hints
from ._calls import DEFAULT_TIME_LIMIT, Call, Params, check_time_limit
from ._results import CheckFailed, passed, short_traceback

__all__ = [
    "check_padding_stride_pairs", "padding_stride_pairs_reference",
    "check_same_padding", "same_padding_reference",
]

DILATION_NAMES = ("dilation", "dilation_rate", "d")

CEIL_HINT = ("You rounded up: a window that would stick out past the padded input is not "
             "used, so the size is floor((n + 2p - k) / s) + 1 (// in Python), not the ceiling.")
ONE_SIDE_HINT = ("Your sizes count the padding once: p zeros go on EACH side, so the window "
                 "slides over n + 2p cells.")
PLUS_ONE_HINT = ("Your sizes are one short: count the first window too, "
                 "floor((n + 2p - k) / s) + 1.")
SWAPPED_PAIR_HINT = ("Your pairs are (stride, padding): write each one as (padding, stride), "
                     "padding first.")
PADDING_BOUND_HINT = ("A pair with padding p = k - 1 (full padding) is missing: range(k) runs "
                      "from 0 to k - 1, range(k - 1) stops one short.")
STRIDE_BOUND_HINT = ("A pair with stride s = k is missing: the strides run from 1 to k "
                     "included, range(1, k + 1).")
TOO_FAR_HINT = ("You tried too many settings: the padding runs from 0 to k - 1 and the stride "
                "from 1 to k, both included, and no further.")
NO_FIT_HINT = ("For some paddings the kernel is larger than the padded input (n + 2p < k) and "
               "shapes.conv_output_size refuses them: skip those settings (they give no "
               "output at all), for example with `if n + 2 * p >= k`.")

SAME_SWAPPED_HINT = ("The odd extra zero goes on the wrong side: TensorFlow puts total // 2 zeros "
                     "before (top, left) and the rest after (bottom, right).")
SAME_FLOOR_HINT = ("You rounded the number of outputs down: 'same' gives ceil(n / s) outputs "
                   "(-(-n // s) in integers), so the last window may need zeros after the end.")
SAME_NO_STRIDE_HINT = ("Your padding is the one for stride 1 (k - 1 zeros in total): with stride "
                       "s the windows of ceil(n / s) outputs span (out - 1) * s + k cells, so "
                       "total = max((out - 1) * s + k - n, 0).")
SAME_NEGATIVE_HINT = ("Some amounts are negative: when the windows already fit without zeros, "
                      "(out - 1) * s + k - n is below 0 and the padding is 0: take "
                      "max(..., 0).")
SAME_DILATION_HINT = ("The dilation is left out: a kernel of k cells with dilation d spans "
                      "k_eff = (k - 1) * d + 1 cells; use k_eff in place of k.")
SAME_AXES_HINT = ("Your two pairs are in the wrong order: the first is for the rows (top, "
                  "bottom) from size[0], kernel_size[0] and strides[0], the second for the "
                  "columns (left, right).")
SAME_SIGNATURE = "Define it as def {name}(size, kernel_size, strides, dilation=1): ..."


# --------------------------------------------------------------------------
# Exercise 1: every (padding, stride) pair that gives the target size
# --------------------------------------------------------------------------

def padding_stride_pairs_reference(n, k, target):
    """Every ``(padding, stride)`` with ``0 <= padding <= k - 1``, ``1 <= stride <= k`` giving ``target``.

    Parameters
    ----------
    n : int
        Input size along one axis.
    k : int
        Kernel size along that axis.
    target : int
        The output size wanted.

    Returns
    -------
    list of (int, int)
        Sorted by padding, then stride; empty when no pair gives ``target``.
    """
    return _pairs(n, k, target)


def _pairs(n, k, target, size=None, paddings=None, strides=None):
    """The pairs found with a size rule and search bounds (the right ones by default)."""
    size = size or (lambda n, k, p, s: shapes.conv_output_size(n, k, s, p))
    paddings = range(k) if paddings is None else paddings
    strides = range(1, k + 1) if strides is None else strides
    return [(p, s) for p in paddings for s in strides
            if n + 2 * p >= k and size(n, k, p, s) == target]


def pairs_cases():
    """``(n, k, target)``: the lesson's example, classic sizes, odd and empty cases, random ones."""
    cases = [(7, 3, 3), (28, 5, 28), (32, 3, 16), (5, 3, 1), (2, 5, 2), (9, 4, 4), (10, 3, 4),
             (6, 2, 20), (1, 1, 1), (12, 5, 3)]
    rng = np.random.default_rng(303)
    while len(cases) < 30:
        n, k = int(rng.integers(1, 41)), int(rng.integers(1, 8))
        sizes = sorted({shapes.conv_output_size(n, k, s, p) for p in range(k)
                        for s in range(1, k + 1) if n + 2 * p >= k})
        if sizes:
            cases.append((n, k, int(rng.choice(sizes))))
    return cases


@short_traceback
def check_padding_stride_pairs(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's ``fn(n, k, target)``: every (padding, stride) pair that gives ``target``.

    Parameters
    ----------
    fn : callable
        ``fn(n, k, target)`` returning a list of ``(padding, stride)`` pairs of
        ints, in any order, each once (see :func:`padding_stride_pairs_reference`).
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
    params = Params(fn, ("n", "k", "target"))
    limit = check_time_limit(time_limit)
    cases = pairs_cases()
    for n, k, target in cases:
        call = Call(fn, params, (n, k, target), {}, limit)
        got = as_pairs(call, run_sizes(call, n, k))
        want = padding_stride_pairs_reference(n, k, target)
        if set(got) != set(want):
            raise CheckFailed(f"Expected the pairs {want} but got {sorted(got)}.",
                              call=call.text(), hint=pairs_hint(n, k, target, want, got))
    return passed(params.name, len(cases), ["target sizes", "kernels larger than the input",
                                            "targets no pair reaches"])


def run_sizes(call, n, k):
    """The learner's answer; a refused setting (kernel larger than the padded input) explained."""
    try:
        return call.run(None)
    except CheckFailed as failure:
        if "ValueError" in failure.problem and n < k:
            raise CheckFailed(failure.problem, call=failure.call, hint=NO_FIT_HINT) from None
        raise


def as_pairs(call, got):
    """The answer as a list of (int, int), or CheckFailed saying what came back instead."""
    name = call.params.name
    if isinstance(got, (str, bytes, dict)) or not hasattr(got, "__iter__"):
        raise CheckFailed(f"{name} returned {_hints.short(got)}, not a list of pairs.",
                          call=call.text(),
                          hint="Return a list of (padding, stride) tuples, such as "
                               "[(0, 2), (1, 3)]; an empty list [] when no pair works.")
    pairs = []
    for item in got:
        if not (isinstance(item, (tuple, list, np.ndarray)) and len(item) == 2
                and all(whole(v) for v in item)):
            raise CheckFailed(f"{name} returned {_hints.short(got)}: the item "
                              f"{_hints.short(item)} is not a pair of whole numbers.",
                              call=call.text(),
                              hint="Each item is one setting, a tuple (padding, stride) of two "
                                   "ints: append (p, s), not p and s separately, nor floats.")
        pairs.append((int(item[0]), int(item[1])))
    if len(set(pairs)) != len(pairs):
        raise CheckFailed(f"{name} returned some pairs twice: {pairs}.", call=call.text(),
                          hint="List each (padding, stride) setting once: try every padding "
                               "once, and for each every stride once.")
    return pairs


def whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def pairs_hint(n, k, target, want, got) -> str:
    """The likely mistake of a learner whose pairs are ``got`` instead of ``want``."""
    def floor_size(n, k, p, s):
        return (n + 2 * p - k) // s + 1
    mistakes = [
        (_pairs(n, k, target, size=lambda n, k, p, s: -(-(n + 2 * p - k) // s) + 1), CEIL_HINT),
        (_pairs(n, k, target, size=lambda n, k, p, s: floor_size(n - p, k, p, s)), ONE_SIDE_HINT),
        (_pairs(n, k, target, size=lambda n, k, p, s: floor_size(n, k, p, s) - 1), PLUS_ONE_HINT),
        ([(s, p) for p, s in want], SWAPPED_PAIR_HINT),
        (_pairs(n, k, target, paddings=range(k - 1)), PADDING_BOUND_HINT),
        (_pairs(n, k, target, strides=range(1, k)), STRIDE_BOUND_HINT),
        (_pairs(n, k, target, paddings=range(k - 1), strides=range(1, k)),
         PADDING_BOUND_HINT + " " + STRIDE_BOUND_HINT),
    ]
    for pairs, text in mistakes:
        if set(pairs) == set(got) and set(pairs) != set(want):
            return text
    outside = [(p, s) for p, s in got if not (0 <= p < k and 1 <= s <= k)]
    if outside:
        return TOO_FAR_HINT + f" {outside[0]} is outside (k = {k})."
    extra = sorted(set(got) - set(want))
    if extra:
        p, s = extra[0]
        size = shapes.conv_output_size(n, k, s, p) if n + 2 * p >= k else None
        gives = f"gives {size} cells" if size else "does not fit the kernel at all"
        return (f"Padding {p} with stride {s} {gives}, not {target}: "
                f"floor(({n} + 2·{p} - {k}) / {s}) + 1.")
    p, s = sorted(set(want) - set(got))[0]
    return (f"Padding {p} with stride {s} is missing: floor(({n} + 2·{p} - {k}) / {s}) + 1 "
            f"= {target}. Try every padding from 0 to k - 1 and every stride from 1 to k.")


# --------------------------------------------------------------------------
# Exercise 2: TensorFlow's "same" padding of a 2D input
# --------------------------------------------------------------------------

def same_padding_reference(size, kernel_size, strides, dilation=1):
    """TensorFlow's "same" padding of a 2D input.

    Parameters
    ----------
    size : (int, int)
        ``(H, W)`` of the input.
    kernel_size : (int, int)
        ``(KH, KW)``.
    strides : (int, int)
        ``(SH, SW)``.
    dilation : int
        Spacing between kernel cells, on both axes.

    Returns
    -------
    ((int, int), (int, int))
        ``((top, bottom), (left, right))``, as :func:`cnnlab.shapes.padding_amounts`.
    """
    return tuple(shapes.padding_amounts(n, k, s, "same", dilation)
                 for n, k, s in zip(size, kernel_size, strides))


def _same(size, kernel_size, strides, dilation, *, out=None, total=None, split=None):
    """The padding computed with one step of the rule swapped for a mistaken one."""
    out = out or (lambda n, s: -(-n // s))
    total = total or (lambda n, k_eff, s, o: max((o - 1) * s + k_eff - n, 0))
    split = split or (lambda t: (t // 2, t - t // 2))
    result = []
    for n, k, s in zip(size, kernel_size, strides):
        k_eff = (k - 1) * dilation + 1
        result.append(split(total(n, k_eff, s, out(n, s))))
    return tuple(result)


def same_cases(with_dilation):
    """``(size, kernel_size, strides, dilation)``: the lesson's, strides 3+, 1x1, dilated, random."""
    cases = [((5, 6), (4, 3), (1, 2), 1), ((7, 8), (4, 3), (3, 2), 1), ((10, 9), (3, 4), (3, 3), 1),
             ((8, 7), (1, 1), (3, 2), 1), ((11, 6), (5, 2), (4, 3), 1), ((6, 13), (2, 6), (2, 5), 1),
             ((3, 4), (6, 5), (1, 2), 1), ((1, 1), (3, 2), (3, 1), 1)]
    if with_dilation:
        cases += [((7, 9), (3, 2), (1, 3), 2), ((12, 10), (3, 3), (3, 2), 3), ((5, 8), (2, 3), (4, 1), 2)]
    rng = np.random.default_rng(304)
    for _ in range(20):
        size = tuple(int(v) for v in rng.integers(1, 21, size=2))
        kernel = tuple(int(v) for v in rng.integers(1, 7, size=2))
        strides = tuple(int(v) for v in rng.integers(1, 6, size=2))
        cases.append((size, kernel, strides, int(rng.integers(1, 4)) if with_dilation else 1))
    return cases


@short_traceback
def check_same_padding(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(size, kernel_size, strides, dilation=1)``: TensorFlow's "same" padding in 2D.

    Parameters
    ----------
    fn : callable
        ``fn(size, kernel_size, strides)`` with three ``(rows, columns)`` pairs of
        ints, returning ``((top, bottom), (left, right))`` (see
        :func:`same_padding_reference`). Dilated kernels are tested when ``fn``
        has a parameter ``dilation``.
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
    params = Params(fn, ("size", "kernel_size", "strides"))
    limit = check_time_limit(time_limit)
    dilation_param = params.find(DILATION_NAMES)
    cases = same_cases(dilation_param is not None)
    for size, kernel_size, strides, d in cases:
        kwargs = {dilation_param.name: d} if dilation_param is not None and d != 1 else {}
        call = Call(fn, params, (size, kernel_size, strides), kwargs, limit)
        got = as_padding(call, call.run(None))
        want = same_padding_reference(size, kernel_size, strides, d)
        if got != want:
            raise CheckFailed(f"Expected {want} but got {got}.", call=call.text(),
                              hint=same_hint(size, kernel_size, strides, d, want, got))
    covered = ["strides 1 to 5", "1x1 kernels", "kernels larger than the input"]
    covered += ["dilation"] if dilation_param is not None else []
    return passed(params.name, len(cases), covered)


def as_padding(call, got):
    """The answer as ((int, int), (int, int)), or CheckFailed saying what came back instead."""
    def pair(value):
        return (isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2
                and all(whole(v) for v in value))
    if not (isinstance(got, (tuple, list, np.ndarray)) and len(got) == 2 and all(map(pair, got))):
        raise CheckFailed(f"{call.params.name} returned {_hints.short(got)}, not two pairs of "
                          "whole numbers.", call=call.text(),
                          hint="Return ((top, bottom), (left, right)): one (before, after) pair "
                               "of ints per axis, rows first. Use // so the amounts stay ints.")
    return tuple((int(a), int(b)) for a, b in got)


def same_hint(size, kernel_size, strides, d, want, got) -> str:
    """The likely mistake of a "same" padding ``got`` that should be ``want``."""
    args = (size, kernel_size, strides, d)
    mistakes = [
        (_same(*args, split=lambda t: (t - t // 2, t // 2)), SAME_SWAPPED_HINT),
        (tuple(want[::-1]), SAME_AXES_HINT),
        (_same(*args, out=lambda n, s: n // s), SAME_FLOOR_HINT),
        (_same(*args, total=lambda n, k_eff, s, o: k_eff - 1), SAME_NO_STRIDE_HINT),
        (_same(*args, total=lambda n, k_eff, s, o: (o - 1) * s + k_eff - n), SAME_NEGATIVE_HINT),
        (_same(size, kernel_size, strides, 1), SAME_DILATION_HINT),
    ]
    for answer, text in mistakes:
        if answer == got and answer != want:
            return text
    if any(v < 0 for p in got for v in p):
        return SAME_NEGATIVE_HINT
    axis = 0 if got[0] != want[0] else 1
    n, k, s = size[axis], (kernel_size[axis] - 1) * d + 1, strides[axis]
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return (f"Along the {'rows' if axis == 0 else 'columns'}: ceil({n} / {s}) = {out} outputs "
            f"span (out - 1) * s + k = {(out - 1) * s + k} cells, so {total} zero(s) in all: "
            f"{total // 2} before and {total - total // 2} after.")
