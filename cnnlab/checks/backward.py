"""Exercise checkers of lesson 08: the backward passes of a convolution and of max pooling.

Each checker runs the learner's backward pass on the lesson's example first,
then on random, seeded cases of odd shapes (integer values, so every sum is
exact; ties inside pooling windows; strides that leave cells untouched),
compares every gradient with :mod:`cnnlab.backprop`, and finally checks it
numerically on a tiny case with :func:`cnnlab.backprop.numerical_gradient`,
reporting the relative error (cs231n's ``rel_error``). At the first wrong
gradient it raises :class:`~cnnlab.checks.CheckFailed` with a hint found by
recomputing the gradient with one typical mistake built in (the bias gradient
summed over the wrong axes, the weight gradient of one example only, the
kernel flipped, the stride ignored, the window's gradient sent to every cell
or to every tied maximum, ...).

:func:`run_for_arrays` (a call that must return several arrays) and
:func:`compare_part` (one of them against the reference) are shared with
:mod:`cnnlab.checks.normalise`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backprop, kernels
from . import _hints
from ._calls import (
    DEFAULT_TIME_LIMIT, PADDING_NAMES, STRIDE_NAMES, Call, Params, check_time_limit, compare,
)
from ._cases import random_array
from ._results import CheckFailed, CheckResult, short_traceback

__all__ = ["check_conv2d_backward", "check_max_pool_backward"]

#: A right float64 gradient has a relative error far below this (cs231n: "below 1e-7").
GRADIENT_TOLERANCE = 1e-6
TOLERANCE_TEXT = "1e-6"
POOL_NAMES = ("pool_size", "size", "pool", "window")


@dataclass(frozen=True)
class GradientCheckResult(CheckResult):
    """A passed check of a backward pass, with the numerical check's relative errors.

    ``rel_errors`` maps each gradient (``"dx"``, ``"dw"``, ``"db"``) to
    ``backprop.rel_error(yours, numerical)`` on the tiny case.
    """

    rel_errors: tuple = ()


def passed_with_errors(name, cases, covered, rel_errors) -> GradientCheckResult:
    """Print and return the verdict; the errors are printed as a bound (no round-off digits)."""
    covered = [*covered, f"numerical gradient check: relative error < {TOLERANCE_TEXT}"]
    result = GradientCheckResult(name, cases, tuple(covered), tuple(rel_errors.items()))
    print(result)
    return result


# --------------------------------------------------------------------------
# Calls that return several arrays (shared with normalise.py)
# --------------------------------------------------------------------------

def run_for_arrays(call, names, ndims, hint, bools=()):
    """Run ``call``; its result must be ``len(names)`` arrays of real numbers.

    Parameters
    ----------
    call : Call
    names : sequence of str
        What each returned value is, for the messages (``"dx"``, ...).
    ndims : sequence of int
        The number of axes each value needs (0 for a number).
    hint : str
        How to return them, e.g. ``"end with `return dx, dw, db`"``.
    bools : sequence of str
        The names that may be True/False arrays (a mask).

    Returns
    -------
    list of float ndarray
    """
    got = call.run(None)
    fn = call.params.name
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        raise CheckFailed(f"{fn} returned {_hints.short(got)}, not {len(names)} values "
                          f"({', '.join(names)}).", call=call.text(), hint=hint)
    arrays = []
    for value, name, ndim in zip(got, names, ndims):
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            arr = np.empty(0, dtype=object)
        problem = None if name in bools and arr.dtype == bool else _hints.not_numbers(arr)
        if problem is not None:
            what, fix = problem
            raise CheckFailed(f"{fn} returned {_hints.short(value)} as {name}: {what}.",
                              call=call.text(), hint=fix)
        if arr.ndim != ndim and arr.size == 1 and ndim == 0:
            arr = arr.reshape(())
        arrays.append(arr.astype(float))
    return arrays


def compare_part(call, name, got, want, hint_for):
    """``compare`` for one of several results; the message names it (``dw: ...``).

    Arrays with axes of length 1, such as a ``(1, 4, 4, 1)`` batch, are shown
    without them, so that their values can be read.
    """
    try:
        compare(call, got, want, hint_for)
    except CheckFailed as failure:
        problem = f"{name}: {failure.problem}"
        if got.shape == want.shape and want.ndim > 2 and np.squeeze(want).ndim in (1, 2):
            got, want = np.squeeze(got), np.squeeze(want)
            problem += " (shown without the axes of length 1)"
        raise CheckFailed(problem, call=failure.call, expected=want, got=got,
                          hint=failure.hint) from None


def first_match(got, mistakes):
    """The text of the first ``(answer, text)`` whose answer equals ``got``, or None."""
    for answer, text in mistakes:
        if answer is not None and np.shape(answer) == got.shape and _hints.close(got, answer):
            return text
    return None


def numeric_error(check_name, mine, numeric):
    """``rel_error(mine, numeric)``, or CheckFailed when it is too large."""
    err = backprop.rel_error(mine, numeric)
    if not err < GRADIENT_TOLERANCE:
        raise CheckFailed(f"{check_name}: the numerical gradient check failed (relative error "
                          f"{err:.1e}, want < {TOLERANCE_TEXT}).", expected=numeric, got=mine,
                          hint="Your gradient differs from central differences on a small "
                               "random case: compare the two arrays above cell by cell.")
    return err


# --------------------------------------------------------------------------
# Convolution backward
# --------------------------------------------------------------------------

def scatter_dx(dout, kernel, stride, pad, x_shape, *, step=None, crop="middle"):
    """dx by sending ``dout[n, i, j] * kernel`` back to window (i, j), in loops.

    ``step`` (default ``stride``) is where window (i, j) starts, ``i * step``:
    ``step=1`` is the stride forgotten. ``crop`` cuts the padding off:
    ``"middle"`` (right), ``"start"`` (the top-left H x W), ``None`` (not at all).
    """
    n, h, w, c_in = x_shape
    kh, kw = kernel.shape[:2]
    step = stride if step is None else step
    ho, wo = dout.shape[1:3]
    dxp = np.zeros((n, max(h + 2 * pad, (ho - 1) * step + kh), max(w + 2 * pad, (wo - 1) * step + kw),
                    c_in))
    for i in range(ho):
        for j in range(wo):
            contribution = np.einsum("nf,abcf->nabc", dout[:, i, j, :], kernel)  # (N, KH, KW, C_in)
            dxp[:, i * step:i * step + kh, j * step:j * step + kw, :] += contribution
    if crop is None:
        return dxp[:, :h + 2 * pad, :w + 2 * pad]
    start = pad if crop == "middle" else 0
    return dxp[:, start:start + h, start:start + w]


def correlate_dw(dout, x, kernel_shape, stride, pad, *, step=None, examples=None):
    """dw as the sum over windows of ``x_window * dout[n, i, j]``, in loops.

    ``examples``: the batch indices to sum over (all of them by default).
    """
    kh, kw = kernel_shape[:2]
    step = stride if step is None else step
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    keep = slice(None) if examples is None else examples
    dw = np.zeros(kernel_shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            window = xp[keep, i * step:i * step + kh, j * step:j * step + kw, :]  # (n, KH, KW, C_in)
            if window.shape[1:3] != (kh, kw):
                return None  # this mistake would have raised for this shape
            dw += np.einsum("nabc,nf->abcf", window, dout[keep, i, j, :])
    return dw


class ConvCase:
    """One case of the convolution backward check and its likely mistakes."""

    def __init__(self, dout, x, kernel, stride, pad):
        self.dout, self.x, self.kernel, self.stride, self.pad = dout, x, kernel, stride, pad
        self.want = backprop.conv2d_backward(dout, x, kernel, stride=stride, padding=pad)

    def args(self):
        return (self.dout, self.x, self.kernel)

    def dx_hint(self, got):
        want, pad, n = self.want[0], self.pad, len(self.x)
        if got.shape != want.shape:
            if pad and got.shape == (n, want.shape[1] + 2 * pad, want.shape[2] + 2 * pad,
                                     want.shape[3]):
                return (f"Your dx still has the padding: crop {pad} row(s) and column(s) off "
                        f"every side, dxp[:, {pad}:{pad} + H, {pad}:{pad} + W, :], so that dx "
                        f"has the shape of x, {want.shape}.")
            if 0 in got.shape and not pad:
                return ("Your dx is empty: with padding 0, dxp[:, p:-p] is dxp[:, 0:0]. Crop "
                        "with dxp[:, p:p + H, p:p + W] instead, which works for p = 0 too.")
            return (f"dx is the gradient with respect to x, so it has the shape of x, "
                    f"{want.shape}: start from np.zeros_like(x) (padded, then cropped).")
        flipped = self.kernel[::-1, ::-1]
        mistakes = [
            (scatter_dx(self.dout, flipped, self.stride, pad, self.x.shape),
             "Your dx has the kernel the wrong way round: dx is the full convolution of dout "
             "with the kernel, so a 'full' cross-correlation needs the kernel flipped first, "
             "w[::-1, ::-1]. (In loops: window (i, j) sends dout[n, i, j, f] * w[:, :, :, f] "
             "back to its own cells, with w as it is, not flipped.)"),
            (scatter_dx(self.dout, self.kernel, self.stride, pad, self.x.shape, step=1)
             if self.stride > 1 else None,
             f"Your dx ignores the stride: window (i, j) starts at row i * {self.stride}, "
             f"column j * {self.stride} of the (padded) input, so its gradient goes back there "
             f"(as a convolution: put {self.stride - 1} zero(s) between the cells of dout)."),
            (scatter_dx(self.dout, self.kernel, self.stride, pad, self.x.shape, crop="start")
             if pad else None,
             f"Your dx is cropped on the wrong side: the padding added {pad} row(s) and "
             f"column(s) before and after, so take dxp[:, {pad}:{pad} + H, {pad}:{pad} + W]."),
        ]
        if self.x.shape[-1] == self.kernel.shape[-1]:
            swapped = self.kernel.transpose(0, 1, 3, 2)
            mistakes.append((scatter_dx(self.dout, swapped, self.stride, pad, self.x.shape),
                             "The channel axes of the kernel are swapped: dx[..., c] sums "
                             "w[a, b, c, f] * dout[..., f] over the filters f."))
        return first_match(got, mistakes) or self.first_wrong("dx", want, got)

    def dw_hint(self, got):
        want, n = self.want[1], len(self.x)
        if got.shape != want.shape:
            if got.shape == (n, *want.shape):
                return (f"Your dw has one kernel gradient per example: sum them over the batch "
                        f"(axis 0), since the same kernel is used for every example; dw has the "
                        f"shape of w, {want.shape}.")
            return f"dw is the gradient with respect to the kernel, so it has its shape, {want.shape}."
        args = (self.dout, self.x, self.kernel.shape, self.stride, self.pad)
        mistakes = []
        if n > 1:
            mistakes += [
                (correlate_dw(*args, examples=slice(n - 1, n)),
                 "Your dw is that of the last example only: add every window's share to dw "
                 "(dw += ...), do not replace it (dw = ...), and sum over the whole batch."),
                (correlate_dw(*args, examples=slice(0, 1)),
                 "Your dw is that of the first example only: the same kernel is used for every "
                 "example, so dw sums over the batch too (axis 0 of x and dout)."),
                (want / n, "Your dw is the mean over the batch: sum over the examples instead "
                           "(the loss already averages; dout carries the 1/N)."),
            ]
        mistakes += [
            (correlate_dw(*args, step=1) if self.stride > 1 else None,
             f"Your dw ignores the stride: output cell (i, j) saw the input window starting at "
             f"row i * {self.stride}, column j * {self.stride}."),
            (want[::-1, ::-1], "Your dw is flipped in both spatial axes: dw[a, b] is the sum of "
                               "x[n, i * s + a, j * s + b, :] * dout[n, i, j, :] — a "
                               "cross-correlation of x with dout, no flip."),
        ]
        return first_match(got, mistakes) or self.first_wrong("dw", want, got)

    def db_hint(self, got):
        want, dout = self.want[2], self.dout
        if got.shape != want.shape:
            if got.shape == (len(dout), want.size):
                return ("Your db has one row per example: the bias is shared by the whole batch "
                        "too, so sum dout over axes (0, 1, 2) — examples, rows and columns.")
            if got.ndim == 0:
                return (f"db has one value per filter, shape {want.shape}: sum dout over every "
                        "axis but the last, dout.sum(axis=(0, 1, 2)).")
            return (f"db has one value per filter, shape {want.shape}: dout summed over the "
                    "batch and every position, dout.sum(axis=(0, 1, 2)).")
        mistakes = [
            (dout[:1].sum(axis=(0, 1, 2)) if len(dout) > 1 else None,
             "Your db is that of the first example only: sum over the batch too, "
             "dout.sum(axis=(0, 1, 2))."),
            (dout.mean(axis=(0, 1, 2)), "Your db is a mean: every output cell adds the bias "
                                        "once, so db is the sum, dout.sum(axis=(0, 1, 2))."),
        ]
        return first_match(got, mistakes) or (
            "db[f] is the sum of dout[..., f] over the batch and every position: "
            "dout.sum(axis=(0, 1, 2)).")

    def first_wrong(self, name, want, got):
        index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want, rtol=1e-5, atol=1e-6))[0])
        return (f"{name}{list(index)} should be {want[index]:.4g}, but your function gave "
                f"{got[index]:.4g}. Every output cell (i, j) used the input window starting at "
                f"(i * stride, j * stride) of the padded input: it sends dout[n, i, j, f] * "
                f"w[:, :, :, f] back to that window (dx) and x_window * dout[n, i, j, f] to "
                f"w[:, :, :, f] (dw).")


def conv_backward_cases(strides, pads):
    """(dout, x, kernel, stride, pad) cases: a small readable one first, then odd shapes."""
    shapes_ = [((1, 4, 4, 1), (3, 3, 1, 1)), ((2, 5, 5, 3), (3, 3, 3, 2)), ((2, 6, 5, 2), (2, 3, 2, 3)),
               ((3, 4, 4, 2), (1, 1, 2, 2)), ((1, 4, 4, 2), (4, 4, 2, 3)), ((2, 7, 6, 3), (3, 2, 3, 3))]
    plans = [(1, 0)] * len(shapes_)
    plans += [(s, 0) for s in strides if s != 1]
    plans += [(1, p) for p in pads if p]
    plans += [(max(strides), p) for p in pads if p and max(strides) > 1]
    extra = [((2, 7, 7, 2), (3, 3, 2, 2)), ((2, 8, 7, 3), (2, 3, 3, 2)), ((1, 9, 8, 2), (3, 3, 2, 3))]
    cases = []
    for index, (stride, pad) in enumerate(plans):
        x_shape, k_shape = shapes_[index] if index < len(shapes_) else extra[index % len(extra)]
        x = random_array(x_shape, seed=800 + index, fractional=(index == len(shapes_) - 1))
        kernel = random_array(k_shape, seed=900 + index)
        if index == 0:  # the readable case: a 4x4 ramp and the Sobel kernel
            x = np.arange(16.0).reshape(x_shape)
            kernel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]).reshape(k_shape)
        if kernel.shape[0] > 1 and np.array_equal(kernel, kernel[::-1, ::-1]):
            kernel[0, 0] += 1.0  # not symmetric, so a flipped kernel shows
        out_shape = kernels.conv2d(x, kernel, stride=stride, padding=pad).shape
        dout = random_array(out_shape, seed=1000 + index)
        if index == 0:
            dout = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(out_shape)
        if not np.all(dout.sum(axis=(0, 1, 2))):
            dout[(0,) * 3] += 1.0  # every bias gradient non-zero
        cases.append((dout, x, kernel, stride, pad))
    return cases


def conv_keywords(stride_param, padding_param, stride, pad):
    kwargs = {}
    if stride_param is not None:
        kwargs[stride_param.name] = stride
    if padding_param is not None:
        kwargs[padding_param.name] = pad
    return kwargs


@short_traceback
def check_conv2d_backward(fn, *, time_limit=DEFAULT_TIME_LIMIT) -> GradientCheckResult:
    """Check a learner's ``fn(dout, x, w, ...)`` against ``backprop.conv2d_backward``.

    Parameters
    ----------
    fn : callable
        ``fn(dout, x, w)`` with ``dout (N, H_out, W_out, C_out)``,
        ``x (N, H, W, C_in)`` and ``w (KH, KW, C_in, C_out)`` (the forward
        pass ``kernels.conv2d(x, w, stride=stride, padding=padding)``),
        returning ``dx (N, H, W, C_in)``, ``dw (KH, KW, C_in, C_out)`` and
        ``db (C_out,)``. A ``stride`` parameter is tested with strides 2 and
        3, an integer ``padding`` (zeros on every side) with 1 and 2.
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    GradientCheckResult
        Its ``rel_errors`` hold the numerical check's relative errors.

    Raises
    ------
    CheckFailed
        At the first wrong gradient, with a hint (db summed over the wrong axes,
        dw of one example, the kernel flipped, the stride ignored, dx not cropped).
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("dout", "x", "w"))
    limit = check_time_limit(time_limit)
    stride_param, padding_param = params.find(STRIDE_NAMES), params.find(PADDING_NAMES)
    if padding_param is not None and isinstance(padding_param.default, str):
        raise TypeError(f"check_conv2d_backward tests an integer padding (zeros on every side); "
                        f"{params.name} has padding={padding_param.default!r}: give it padding=0")
    strides = (2, 3) if stride_param is not None else (1,)
    pads = (1, 2) if padding_param is not None else (0,)
    cases = conv_backward_cases(strides, pads)
    names, how = ("dx", "dw", "db"), "End the function with `return dx, dw, db`."
    for dout, x, kernel, stride, pad in cases:
        case = ConvCase(dout, x, kernel, stride, pad)
        call = Call(fn, params, case.args(), conv_keywords(stride_param, padding_param, stride, pad),
                    limit)
        got = run_for_arrays(call, names, (4, 4, 1), how)
        for name, mine, want, hint in zip(names, got, case.want,
                                          (case.dx_hint, case.dw_hint, case.db_hint)):
            compare_part(call, name, mine, np.asarray(want, dtype=float), hint)
    errors = conv_numerical_check(fn, params, limit, stride_param, padding_param)
    covered = ["batches with channels", "dx, dw and db"]
    covered += ["stride 2, 3"] if stride_param is not None else []
    covered += ["padding 1, 2"] if padding_param is not None else []
    return passed_with_errors(params.name, len(cases) + 1, covered, errors)


def conv_numerical_check(fn, params, limit, stride_param, padding_param):
    """The learner's gradients against central differences on a tiny random case."""
    rng = np.random.default_rng(88)
    x, w, b = rng.normal(size=(2, 5, 4, 2)), rng.normal(size=(2, 3, 2, 3)), rng.normal(size=3)
    stride = 2 if stride_param is not None else 1
    pad = 1 if padding_param is not None else 0

    def layer(_):
        return kernels.conv2d(x, w, b, stride=stride, padding=pad)

    dout = rng.normal(size=layer(None).shape)
    call = Call(fn, params, (dout, x, w), conv_keywords(stride_param, padding_param, stride, pad),
                limit)
    mine = run_for_arrays(call, ("dx", "dw", "db"), (4, 4, 1), "End with `return dx, dw, db`.")
    errors = {}
    for name, grad, wrt in zip(("dx", "dw", "db"), mine, (x, w, b)):
        numeric = backprop.numerical_gradient(layer, wrt, dout=dout)
        if grad.shape != numeric.shape:
            raise CheckFailed(f"{name}: expected shape {numeric.shape} but got {grad.shape}.",
                              call=call.text())
        errors[name] = numeric_error(name, grad, numeric)
    return errors


# --------------------------------------------------------------------------
# Max pooling backward
# --------------------------------------------------------------------------

def route_pool_gradient(dout, x, p, s, *, step=None, ties=False, every_cell=False, add=True):
    """dx of max pooling in loops, optionally with one mistake built in.

    ``step``: where window (i, j) starts (``i * step``; default ``s``);
    ``ties``: every tied maximum gets the gradient; ``every_cell``: every cell
    of the window does; ``add=False``: overlapping windows overwrite.
    """
    step = s if step is None else step
    dx = np.zeros_like(x)
    n, ho, wo, c = dout.shape
    for i in range(ho):
        for j in range(wo):
            window = x[:, i * step:i * step + p, j * step:j * step + p, :]  # (N, p, p, C)
            if window.shape[1:3] != (p, p):
                return None  # this mistake would have raised for this shape
            if every_cell:
                share = np.ones_like(window)
            elif ties:
                share = (window == window.max(axis=(1, 2), keepdims=True)).astype(float)
            else:
                flat = window.transpose(0, 3, 1, 2).reshape(n, c, p * p).argmax(axis=-1)  # (N, C)
                share = np.zeros_like(window)
                rows, cols = np.divmod(flat, p)
                nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
                share[nn, rows, cols, cc] = 1.0
            part = share * dout[:, i:i + 1, j:j + 1, :]
            target = dx[:, i * step:i * step + p, j * step:j * step + p, :]
            if add:
                target += part
            else:
                target[share != 0] = part[share != 0]
    return dx


def pool_hint(dout, x, p, s, want, got):
    """The likely mistake of a max pooling backward pass that returned ``got``."""
    if got.shape != want.shape:
        if got.shape == dout.shape:
            return (f"You returned something of dout's shape: dx is the gradient with respect to "
                    f"the pooling's input, so it has the shape of x, {want.shape} — each window's "
                    f"gradient goes back to a cell of that window.")
        return f"dx has the shape of x, {want.shape}: start from np.zeros_like(x)."
    mistakes = [
        (route_pool_gradient(dout, x, p, s, every_cell=True),
         "Every cell of the window got the gradient: only the cell that won the max "
         "influenced the output, so only it receives dout (the others get 0)."),
        (backprop.avg_pool2d_backward(dout, x, p, s),
         "You shared each window's gradient equally among its cells: that is average pooling's "
         "gradient. Max pooling sends all of it to the winning cell."),
        (route_pool_gradient(dout, x, p, s, ties=True),
         "Where a window has several equal maxima, your gradient goes to each of them, so it "
         "is counted twice: send it to one cell only, the first maximum (np.argmax of the "
         "window, then np.unravel_index)."),
        (route_pool_gradient(dout, x, p, s, step=1) if s != 1 else None,
         f"You ignored the stride: window (i, j) starts at row i * {s}, column j * {s}, so "
         f"its winner is found, and its gradient sent, there."),
        (route_pool_gradient(dout, x, p, s, add=False) if s < p else None,
         "The windows overlap here (stride smaller than the window), so a cell can win two "
         "windows: add their gradients, dx[...] += dout[...], instead of overwriting."),
        (route_pool_gradient(np.ones_like(dout), x, p, s),
         "You marked the winners with 1: multiply by the gradient arriving from above, "
         "dx[winner] += dout[n, i, j, c]."),
    ]
    found = first_match(got, mistakes)
    if found:
        return found
    index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want, rtol=1e-5, atol=1e-6))[0])
    return (f"dx{list(index)} should be {want[index]:.4g}, but your function gave "
            f"{got[index]:.4g}: a cell receives dout[n, i, j, c] from every window (i, j) "
            f"whose maximum it is (the first one, if several cells tie), and 0 otherwise.")


def pool_backward_cases(sizes_and_strides):
    """(dout, x, pool_size, stride) cases: the lesson's 4x4 example first."""
    a = np.random.default_rng(0).permutation(16).reshape(1, 4, 4, 1).astype(float)
    cases = [(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1), a, 2, 2)]
    shapes_ = [(2, 4, 4, 3), (1, 6, 6, 2), (2, 5, 7, 2), (1, 4, 6, 1)]
    for index, shape in enumerate(shapes_):
        x = random_array(shape, seed=1100 + index)  # integers -3..3: many ties
        if index == 3:
            x = -np.abs(x) - 1  # every window negative
        cases.append((None, x, 2, 2))
    for index, (p, s) in enumerate(sizes_and_strides):
        x = random_array((2, 7, 6, 2), seed=1200 + index)
        cases.append((None, x, p, s))
    filled = []
    for index, (dout, x, p, s) in enumerate(cases):
        if dout is None:
            out_shape = kernels.max_pool2d(x, p, s).shape
            dout = random_array(out_shape, seed=1300 + index) + 0.5  # never 0
        filled.append((dout, x, p, s))
    return filled


@short_traceback
def check_max_pool_backward(fn, *, time_limit=DEFAULT_TIME_LIMIT) -> GradientCheckResult:
    """Check a learner's ``fn(dout, x, ...)`` against ``backprop.max_pool2d_backward``.

    Parameters
    ----------
    fn : callable
        ``fn(dout, x)`` with ``x (N, H, W, C)`` and ``dout (N, H_out, W_out, C)``
        (the forward pass ``kernels.max_pool2d(x, pool_size, stride)``, "valid"),
        returning ``dx (N, H, W, C)``. A ``pool_size`` parameter is tested with
        windows of 2 and 3, a ``stride`` parameter with strides 1 and 2
        (overlapping windows). Ties go to the first maximum (row by row).
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    GradientCheckResult

    Raises
    ------
    CheckFailed
        At the first wrong gradient, with a hint (the gradient sent to every
        cell of the window, or to every tied maximum, the stride ignored, ...).
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("dout", "x"))
    limit = check_time_limit(time_limit)
    size_param = params.find(POOL_NAMES) or params.extra_positional()
    stride_param = params.find(STRIDE_NAMES)
    plans = [(3, 3)] if size_param is not None else []
    plans += [(2, 1), (3, 2), (3, 1)] if size_param is not None and stride_param is not None else []
    plans += [(2, 1)] if size_param is None and stride_param is not None else []
    cases = pool_backward_cases(plans)
    for dout, x, p, s in cases:
        want = backprop.max_pool2d_backward(dout, x, p, s)
        call = Call(fn, params, (dout, x), pool_keywords(size_param, stride_param, p, s), limit)
        got = call.run(want.ndim)
        compare(call, got, want, lambda g: pool_hint(dout, x, p, s, want, g))
    errors = pool_numerical_check(fn, params, limit, size_param, stride_param)
    covered = ["batches with channels", "ties", "all-negative windows"]
    covered += ["pool size 3"] if size_param is not None else []
    covered += ["overlapping windows (stride 1, 2)"] if stride_param is not None else []
    return passed_with_errors(params.name, len(cases) + 1, covered, errors)


def pool_keywords(size_param, stride_param, p, s):
    kwargs = {size_param.name: p} if size_param is not None else {}
    if stride_param is not None:
        kwargs[stride_param.name] = s
    return kwargs


def pool_numerical_check(fn, params, limit, size_param, stride_param):
    """The learner's dx against central differences (random values: no ties)."""
    rng = np.random.default_rng(89)
    x = rng.normal(size=(2, 5, 5, 2))
    p = 3 if size_param is not None else 2
    s = 2 if stride_param is not None else p

    def layer(_):
        return kernels.max_pool2d(x, p, s)

    dout = rng.normal(size=layer(None).shape)
    call = Call(fn, params, (dout, x), pool_keywords(size_param, stride_param, p, s), limit)
    mine = call.run(4)
    numeric = backprop.numerical_gradient(layer, x, dout=dout)
    if mine.shape != numeric.shape:
        raise CheckFailed(f"Expected shape {numeric.shape} but got {mine.shape}.", call=call.text())
    return {"dx": numeric_error("dx", mine, numeric)}
