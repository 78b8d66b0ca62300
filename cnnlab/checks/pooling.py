"""Exercise checker of lesson 05: max pooling that also returns the mask backward needs.

:func:`check_max_pool_mask` runs the learner's ``fn(x, size, stride)`` on the
lesson's 4x4 map first, then on seeded maps full of ties, an all-negative
map, odd sizes whose last row and column are dropped, overlapping windows
(stride smaller than the window), windows that skip cells (stride larger than
the window) and batches of channels-last maps. It compares ``out`` with
:func:`cnnlab.kernels.max_pool2d` and ``mask`` with what
:func:`cnnlab.backprop.max_pool2d_backward` routes: the gradient of a sum of
every pooled value, ``max_pool2d_backward(ones, x, size, stride)``. That is
the definition the lesson uses: every window adds 1 at its winner (the first
of tied cells in reading order, as ``np.argmax`` picks it), so a cell that
wins two overlapping windows holds 2 and a cell no window wins holds 0.

A wrong mask is explained by recomputing it with one typical mistake built
in: every tied cell marked, the last tied cell chosen, 1 set instead of
added where windows overlap, the window's start left out of the winner's
position, the mask reset inside the loop so that only one window is left.
"""

from __future__ import annotations

import numpy as np

from .. import backprop, kernels
from . import _hints
from ._calls import DEFAULT_TIME_LIMIT, STRIDE_NAMES, Call, Params, check_flag, check_time_limit
from ._cases import random_array
from ._results import CheckFailed, passed, short_traceback

__all__ = ["check_max_pool_mask", "max_pool_mask_reference"]

SIZE_NAMES = ("size", "pool_size", "pool", "window", "k")
SIGNATURE_HINT = "Define it as def {name}(x, size=2, stride=None): ... (stride None: the size)."

TIES_HINT = ("Some windows have two winners: where several cells tie for the maximum you "
             "marked all of them (mask[window == window.max()] = 1). Backward sends each "
             "window's gradient to one cell only: mark the first of the tied cells in reading "
             "order, the one np.argmax gives.")
LAST_TIE_HINT = ("Where cells tie for the maximum you marked the last one (a loop that keeps "
                 "a cell when value >= best, or argmax of a reversed window). Mark the first "
                 "in reading order, the one np.argmax gives: keep a new cell only when it is "
                 "strictly larger (value > best).")
OVERLAP_HINT = ("Where windows overlap, one cell can win two windows: each window must add 1 "
                "at its winner (mask[r, c] += 1), not set it to 1 — backward adds the gradients "
                "of both windows there.")
OFFSET_HINT = ("Your 1s sit at the winners' positions inside their windows, not in x: add the "
               "window's first row i * stride and first column j * stride to the position "
               "np.argmax gives (np.unravel_index(np.argmax(window), window.shape)).")
ONE_WINDOW_HINT = ("Only one window's winner is left in your mask: is the mask created "
                   "(np.zeros_like(x)) inside the loop, so every window starts a fresh one? "
                   "Create it once, before the loops, and mark one cell per window.")
STRIDE_HINT = ("Your mask is the one of windows that start every {p} cells: window (i, j) "
               "starts at row i * stride and column j * stride, here stride {s}.")


# --------------------------------------------------------------------------
# Public checker and reference
# --------------------------------------------------------------------------

def max_pool_mask_reference(x, size=2, stride=None):
    """The exercise's answer: max pooling and the mask of the winners ("valid" windows).

    Parameters
    ----------
    x : (H, W) or (N, H, W, C) array_like
    size : int
        Window size (square windows).
    stride : int, optional
        Step between windows; defaults to ``size``.

    Returns
    -------
    out : (H_out, W_out) or (N, H_out, W_out, C) ndarray
        ``kernels.max_pool2d(x, size, stride)``.
    mask : ndarray, the shape of ``x``
        How many windows each cell wins (the first of tied cells wins), which is
        ``backprop.max_pool2d_backward(ones, x, size, stride)``.
    """
    out = kernels.max_pool2d(x, size, stride)
    return out, backprop.max_pool2d_backward(np.ones_like(out), x, size, stride)


@short_traceback
def check_max_pool_mask(fn, *, channels=True, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's ``fn(x, size, stride) -> (out, mask)`` against the course's pooling.

    Parameters
    ----------
    fn : callable
        ``fn(x, size, stride)`` with ``x (H, W)`` (and ``(N, H, W, C)`` with
        ``channels=True``) returning ``(out, mask)``: ``out`` as
        :func:`cnnlab.kernels.max_pool2d`, ``mask`` the shape of ``x`` (see
        the module docstring). The window-size parameter may be called
        ``size`` or ``pool_size``, the stride ``stride``.
    channels : bool
        Also test batches of channels-last maps (the exercise's default).
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
    params = Params(fn, ("x",))
    channels = check_flag(channels, "channels")
    limit = check_time_limit(time_limit)
    size_param = params.find(SIZE_NAMES) or params.extra_positional()
    stride_param = params.find(STRIDE_NAMES)
    if size_param is None or stride_param is None:
        missing = "a window size" if size_param is None else "a stride"
        raise CheckFailed(f"{params.name} takes no parameter for {missing}.",
                          hint=SIGNATURE_HINT.format(name=params.name))
    cases = mask_cases(channels)
    for x, p, s in cases:
        call = Call(fn, params, (x,), {size_param.name: p, stride_param.name: s}, limit)
        want_out, want_mask = max_pool_mask_reference(x, p, s)
        out, mask = split_result(call, call.run(None))
        compare_part(call, "out", out, want_out, lambda g: _hints.pool(x, p, s, want_out, g))
        compare_part(call, "mask", mask, want_mask, lambda g: mask_hint(x, p, s, want_mask, g))
    covered = ["2D maps", "ties", "overlapping and skipping windows"]
    covered += ["batches with channels"] if channels else []
    return passed(params.name, len(cases), covered)


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------

def lesson_map():
    """Lesson 05's 4x4 feature map ``fmap``."""
    return np.array([[1, 3, 2, 0], [4, 6, 1, 1], [0, 2, 5, 7], [1, 1, 3, 2]], dtype=float)


def mask_cases(channels):
    """``(x, size, stride)``: the lesson's map, ties, odd sizes, overlaps, skips, batches."""
    cases = [(lesson_map(), 2, 2),
             (random_array((6, 6), seed=71), 2, 2),          # integers -3..3: many ties
             (np.zeros((4, 4)), 2, 2),                       # every cell ties
             (-np.abs(random_array((4, 6), seed=80)) - 1, 2, 2),
             (random_array((5, 7), seed=72), 2, 2),          # last row and column dropped
             (random_array((7, 6), seed=73), 3, 3),
             (random_array((5, 5), seed=74), 2, 1),          # overlapping windows
             (random_array((7, 7), seed=75), 3, 2),
             (random_array((8, 7), seed=76), 2, 3),          # windows skip a row and a column
             (random_array((6, 6), seed=77, fractional=True), 3, 1)]
    if channels:
        cases += [(random_array((2, 4, 4, 3), seed=78), 2, 2),
                  (random_array((1, 7, 6, 2), seed=79), 3, 2),
                  (random_array((2, 5, 8, 1), seed=81), 2, 3)]
    return cases


# --------------------------------------------------------------------------
# The learner's answer
# --------------------------------------------------------------------------

def split_result(call, got):
    """``(out, mask)`` as float arrays, or CheckFailed explaining what came back instead."""
    name = call.params.name
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(f"{name} returned {_hints.short(got)}, not two arrays.",
                          call=call.text(),
                          hint="Return both results as a pair: `return out, mask`.")
    parts = []
    for what, value in zip(("out", "mask"), got):
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            arr = np.empty(0, dtype=object)
        if what == "mask" and arr.dtype.kind == "b":
            arr = arr.astype(float)                  # a True/False mask is a fine 0/1 mask
        problem = _hints.not_numbers(arr)
        if problem is not None:
            kind, hint = problem
            raise CheckFailed(f"{name} returned {_hints.short(value)} as `{what}`: {kind}.",
                              call=call.text(), hint=hint)
        parts.append(arr.astype(float))
    return parts


def compare_part(call, what, got, want, hint_for):
    """Raise CheckFailed naming ``what`` (out or mask) when ``got`` is not ``want``."""
    if got.shape != want.shape:
        problem = f"`{what}` should have shape {want.shape} but has shape {got.shape}."
    elif not _hints.close(got, want):
        problem = f"`{what}` has the right shape but some values are wrong."
    else:
        return
    try:
        hint = hint_for(got)
    except Exception:  # noqa: BLE001 - a diagnosis that cannot be made is left out
        hint = None
    raise CheckFailed(problem, call=call.text(), expected=want, got=got, hint=hint)


# --------------------------------------------------------------------------
# Diagnosis of a wrong mask
# --------------------------------------------------------------------------

def winner_mask(x, p, s, pick="first"):
    """The mask with a chosen way of marking winners, by loops over the windows.

    ``pick``: ``"first"`` (right), ``"last"`` (the last tied cell), ``"all"``
    (every tied cell), ``"set"`` (1 set, not added), ``"offset"`` (the
    position inside the window, without the window's start).
    """
    x4 = x[None, :, :, None] if x.ndim == 2 else x        # (N, H, W, C)
    mask = np.zeros_like(x4, dtype=float)
    n, h, w, c = x4.shape
    for b in range(n):
        for ch in range(c):
            for i in range((h - p) // s + 1):
                for j in range((w - p) // s + 1):
                    mark(mask[b, :, :, ch], x4[b, i * s:i * s + p, j * s:j * s + p, ch],
                         i * s, j * s, pick)
    return mask[0, :, :, 0] if x.ndim == 2 else mask


def mark(mask, window, top, left, pick):
    """Mark the winner(s) of one window in ``mask`` (one 2D map), as ``pick`` says."""
    if pick == "all":
        mask[top:top + window.shape[0], left:left + window.shape[1]] += window == window.max()
        return
    flat = window.ravel()
    k = len(flat) - 1 - int(np.argmax(flat[::-1])) if pick == "last" else int(np.argmax(flat))
    r, c = divmod(k, window.shape[1])
    if pick == "offset":
        mask[r, c] += 1
    elif pick == "set":
        mask[top + r, left + c] = 1
    else:
        mask[top + r, left + c] += 1


def mask_hint(x, p, s, want, got) -> str:
    """The likely mistake of a mask ``got`` that should be ``want``."""
    if got.shape != want.shape:
        if got.shape == kernels.max_pool2d(x, p, s).shape:
            return ("Your mask has the shape of the output, one value per window: the mask "
                    f"has the shape of x, {want.shape}, with a 1 at each window's winner.")
        return f"The mask has the shape of x, {want.shape}: one entry per input cell."
    mistakes = [(winner_mask(x, p, s, "all"), TIES_HINT),
                (winner_mask(x, p, s, "last"), LAST_TIE_HINT),
                (winner_mask(x, p, s, "set"), OVERLAP_HINT),
                (winner_mask(x, p, s, "offset"), OFFSET_HINT)]
    if s != p:
        mistakes.append((winner_mask(x, p, p), STRIDE_HINT.format(p=p, s=s)))
    for answer, text in mistakes:
        if answer.shape == got.shape and _hints.close(got, answer):
            return text
    if np.count_nonzero(got) == 1 and np.count_nonzero(want) > 1:
        return ONE_WINDOW_HINT
    if not np.isclose(got.sum(), want.sum()):
        windows = int(want.sum())
        return (f"The mask should hold one 1 per window ({windows} windows), so it sums to "
                f"{windows}; yours sums to {got.sum():.4g}. Cells that no window wins "
                "(and the dropped last rows and columns) stay 0.")
    index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want))[0])
    return (f"mask{list(index)} should be {want[index]:g} (the number of windows whose first "
            f"largest cell it is), but your function gave {got[index]:.4g}.")
