"""Exercise checkers that speak to learners (lessons 01-03, 05).

An exercise's test cell hands the learner's function to a checker::

    checks.check_conv2d(my_conv2d)

The checker calls the function on a series of inputs, from the lesson's own
example to random ones, and compares every answer with :mod:`cnnlab.kernels`
or :mod:`cnnlab.shapes`. At the first wrong answer it raises
:class:`CheckFailed`, an ``AssertionError`` (so nbgrader and pytest count a
failed test), whose message says what was called, what was expected, what
came back, and gives a hint about the likely mistake (a flipped kernel, a
missing bias, an output one cell too small, ...). When every case passes it
prints one line and returns a :class:`CheckResult`.

What is tested depends on the function's signature
--------------------------------------------------
The checkers read the parameter names (``inspect.signature``) and test only
what the function accepts:

- always: the first parameters, in order (input and kernel; ``n`` and ``k``
  for the size functions; the input for pooling), with no padding and stride 1;
- a parameter named ``bias`` (or ``b``): cases with a bias;
- ``stride`` (or ``s``, ``step``): strides 2 and 3;
- ``padding`` (or ``pad``, ``p``): when its default is a string, ``"valid"``
  and ``"same"`` (TensorFlow's rule); otherwise 1 and 2 cells of zeros on
  every side;
- pooling: a second parameter (or one named ``pool_size``, ``size``) is the
  window size; windows of 2 and 3 cells are tested.

``**kwargs`` declares nothing, so it is not tested. The keywords
``strides=``, ``paddings=`` and ``channels=True`` (the batched channels-last
form of :mod:`cnnlab.kernels`, ``(N, H, W, C_in)`` with a
``(KH, KW, C_in, C_out)`` kernel) choose the cases explicitly.

Time limit
----------
Every call of the learner's function may take at most ``time_limit``
seconds (``DEFAULT_TIME_LIMIT``, 5 s, by default; ``time_limit=None`` for no
limit): an infinite loop fails the check with a hint instead of hanging the
notebook. In the main thread (a notebook cell, a test) the call is
interrupted with ``SIGALRM``; elsewhere, or where there is no ``SIGALRM``
(Windows), it runs in a helper thread that is left behind when it does not
finish (restart the kernel to stop it).
"""

from __future__ import annotations

import functools
import inspect
import numbers
import signal
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import _cases, _hints
from .. import kernels, shapes

__all__ = [
    "CheckFailed", "CheckResult", "NotAFunction", "check_conv1d", "check_conv2d",
    "check_output_size", "check_feature_map_length", "check_max_pool",
]

#: Seconds one call of the learner's function may take.
DEFAULT_TIME_LIMIT = 5.0
MAX_TIME_LIMIT = 3600.0
MIN_TIME_LIMIT = 0.05
MAX_CHECK_STRIDE = 8      # largest stride a teacher may ask for (the inputs are at most 9x8)
MAX_CHECK_PADDING = 8     # most zeros of padding
MAX_CHECK_POOL = 6        # largest pooling window (the random maps are 7x6)
PADDING_WORDS = ("valid", "same", "full")

STRIDE_NAMES = ("stride", "strides", "s", "step")
PADDING_NAMES = ("padding", "pad", "p")
BIAS_NAMES = ("bias", "b")
POOL_NAMES = ("pool_size", "size", "pool", "window")


class CheckFailed(AssertionError):
    """A learner's function gave a wrong answer; the message says why and what to try.

    Attributes
    ----------
    problem : str
        One sentence: what went wrong.
    call : str or None
        The call that went wrong, with its inputs.
    expected, got : object or None
        The right answer and the learner's answer.
    hint : str or None
        The likely mistake and how to fix it.
    """

    def __init__(self, problem, *, call=None, expected=None, got=None, hint=None):
        self.problem, self.call, self.hint = problem, call, hint
        self.expected, self.got = expected, got
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [self.problem]
        if self.call:
            lines.append(_labelled("called", self.call))
        if self.expected is not None:
            lines.append(_labelled("expected", _show(self.expected)))
        if self.got is not None:
            lines.append(_labelled("got", _show(self.got)))
        if self.hint:
            lines.append("Hint: " + self.hint)
        return "\n".join(lines)


class NotAFunction(CheckFailed, TypeError):
    """The checker was given something that is not a function (``check_conv2d(3)``).

    A :class:`CheckFailed` (so a notebook shows the same short message) and
    a ``TypeError`` naming the argument ``fn``.
    """


def _labelled(label, text) -> str:
    """``text`` after a label column, its further lines indented to match."""
    prefix = f"  {label:<9}"
    first, *rest = text.split("\n")
    return "\n".join([prefix + first] + [" " * len(prefix) + line for line in rest])


def _show(value, prefix="") -> str:
    """``prefix`` and a value as the message shows it: small arrays in full, large ones summarised."""
    if not isinstance(value, np.ndarray):
        return prefix + _hints.short(value)
    return prefix + _show_array(value, prefix)


def _show_array(value, prefix):
    if value.size > 64 or value.ndim > 2:
        if value.size == 0:
            return f"an empty array of shape {value.shape}"
        return (f"an array of shape {value.shape}, values from {np.min(value):.4g} "
                f"to {np.max(value):.4g}")
    text = np.array2string(value, precision=4, suppress_small=True, separator=", ", prefix=prefix)
    return f"{text}  (shape {value.shape})"


@dataclass(frozen=True)
class CheckResult:
    """What a passed check covered: the function, the number of cases, the features."""

    function: str
    cases: int
    covered: tuple

    def __str__(self) -> str:
        return (f"Well done: {self.function} passed all {self.cases} checks "
                f"({', '.join(self.covered)}).")

    def _ipython_display_(self):
        """Show nothing at the end of a cell: the checker already printed its verdict."""


def _short_traceback(check):
    """Re-raise a CheckFailed from the public checker, so a notebook shows one short frame."""
    @functools.wraps(check)
    def checker(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except CheckFailed as failure:
            raise failure.with_traceback(None) from None
    return checker


# --------------------------------------------------------------------------
# Public checkers
# --------------------------------------------------------------------------

@_short_traceback
def check_conv1d(fn, *, channels=False, strides=None, paddings=None,
                 time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a learner's 1D convolution ``fn(x, k, ...)`` against ``kernels.conv1d``.

    Parameters
    ----------
    fn : callable
        ``fn(x, k)`` with ``x (L,)`` and ``k (K,)`` returning ``(L_out,)``;
        with ``channels=True``, ``x (N, L, C_in)`` and ``k (K, C_in, C_out)``
        returning ``(N, L_out, C_out)``. Optional ``bias``, ``stride``,
        ``padding`` parameters are tested when present (see the module docstring).
    channels : bool
        Test the batched channels-last form.
    strides, paddings : sequence, optional
        Values to test instead of the ones chosen from the signature:
        strides 1 to 8, paddings 0 to 8 zeros or "valid", "same", "full".
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
    return _check_conv(fn, 1, channels, strides, paddings, time_limit)


@_short_traceback
def check_conv2d(fn, *, channels=False, strides=None, paddings=None,
                 time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a learner's 2D convolution ``fn(x, k, ...)`` against ``kernels.conv2d``.

    Parameters
    ----------
    fn : callable
        ``fn(x, k)`` with ``x (H, W)`` and ``k (KH, KW)`` returning
        ``(H_out, W_out)``; with ``channels=True``, ``x (N, H, W, C_in)`` and
        ``k (KH, KW, C_in, C_out)`` returning ``(N, H_out, W_out, C_out)``.
    channels, strides, paddings, time_limit
        As in :func:`check_conv1d`.

    Returns
    -------
    CheckResult
    """
    return _check_conv(fn, 2, channels, strides, paddings, time_limit)


@_short_traceback
def check_output_size(fn, *, strides=None, paddings=None,
                      time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(n, k, ...)``, the output size of a convolution, against ``shapes``.

    Parameters
    ----------
    fn : callable
        ``fn(n, k)`` returning an int; optional ``stride`` and ``padding``
        parameters are tested when present.
    strides, paddings : sequence, optional
        Values to test instead of the ones chosen from the signature.
    time_limit : float or None
        As in :func:`check_conv1d`.

    Returns
    -------
    CheckResult
    """
    return _check_size(fn, strides, paddings, time_limit, what="output size")


@_short_traceback
def check_feature_map_length(fn, *, time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(n, k)``: the length of a 1D feature map (no padding, stride 1).

    ``time_limit`` as in :func:`check_conv1d`.
    """
    return _check_size(fn, (1,), (0,), time_limit, what="feature map length")


@_short_traceback
def check_max_pool(fn, *, channels=False, pool_sizes=None, strides=None,
                   time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a learner's max pooling ``fn(x, ...)`` against ``kernels.max_pool2d``.

    Parameters
    ----------
    fn : callable
        ``fn(x)`` or ``fn(x, pool_size)`` with ``x (H, W)`` (``(N, H, W, C)``
        with ``channels=True``); windows do not overlap unless a ``stride``
        parameter says otherwise; odd sizes are floored ("valid").
    channels : bool
        Test the batched channels-last form.
    pool_sizes, strides : sequence, optional
        Values to test instead of the ones chosen from the signature (pool
        sizes 1 to 6, strides 1 to 8).
    time_limit : float or None
        As in :func:`check_conv1d`.

    Returns
    -------
    CheckResult
    """
    params = _Params(fn, ("x",))
    channels = _check_flag(channels, "channels")
    limit = _check_time_limit(time_limit)
    pool_sizes = _check_teacher_values(pool_sizes, "pool_sizes", 1, MAX_CHECK_POOL)
    strides = _check_teacher_values(strides, "strides", 1, MAX_CHECK_STRIDE)
    size_param = params.find(POOL_NAMES) or params.extra_positional()
    stride_param = params.find(STRIDE_NAMES)
    sizes = _choose(pool_sizes, size_param, (2, 3), (2,), "pool_sizes")
    steps = _choose(strides, stride_param, (1,), (None,), "strides")
    cases = [(x, 2, None) for x in _cases.pool_inputs(channels)]
    shape = (1, 7, 6, 2) if channels else (7, 6)
    cases += [(_cases.random_array(shape, seed=40 + p), p, None) for p in sizes if p != 2]
    cases += [(_cases.random_array(shape, seed=50 + s), 2, s) for s in steps if s is not None]
    for x, p, s in cases:
        kwargs = {**_keyword(size_param, p, (2,)),
                  **_keyword(stride_param, p if s is None else s, (None, p))}
        want = kernels.max_pool2d(x, p, s)
        call = _Call(fn, params, (x,), kwargs, limit)
        got = call.run(want.ndim)
        _compare(call, got, want, lambda g: _hints.pool(x, p, s, want, g))
    covered = ["2D maps" + (" with channels" if channels else "")]
    covered += [f"pool size {', '.join(map(str, sizes))}"] if len(sizes) > 1 else []
    covered += [f"stride {', '.join(str(s) for s in steps)}"] if steps != (None,) else []
    return _passed(params.name, len(cases), covered)


# --------------------------------------------------------------------------
# Convolution cases
# --------------------------------------------------------------------------

def _check_conv(fn, dims, channels, strides, paddings, time_limit):
    params = _Params(fn, ("x", "k"))
    channels = _check_flag(channels, "channels")
    limit = _check_time_limit(time_limit)
    strides = _check_teacher_values(strides, "strides", 1, MAX_CHECK_STRIDE)
    paddings = _check_teacher_values(paddings, "paddings", 0, MAX_CHECK_PADDING, PADDING_WORDS)
    bias_param = params.find(BIAS_NAMES)
    stride_param, padding_param = params.find(STRIDE_NAMES), params.find(PADDING_NAMES)
    steps = _choose(strides, stride_param, (2, 3), (1,), "strides")
    text_padding = padding_param is not None and isinstance(padding_param.default, str)
    pads = _choose(paddings, padding_param, ("valid", "same") if text_padding else (1, 2),
                   (0,), "paddings")
    reference = kernels.conv1d if dims == 1 else kernels.conv2d
    cases = _cases.conv_cases(dims, channels, bias_param is not None, steps, pads)
    for x, k, bias, stride, padding in cases:
        kwargs = {**_keyword(bias_param, bias, (0, None)),
                  **_keyword(stride_param, stride, (1, (1, 1))),
                  **_keyword(padding_param, padding, (0, "valid"))}
        want = reference(x, k, bias, stride=stride, padding=padding)
        call = _Call(fn, params, (x, k), kwargs, limit)
        got = call.run(want.ndim)
        conv = _hints.Conv(x, k, bias, stride, padding, reference, dims)
        _compare(call, got, want, lambda g: conv.hint(want, g))
    covered = [("1D signals" if dims == 1 else "2D images") + (" with channels" if channels else "")]
    covered += ["bias"] if bias_param is not None else []
    covered += [f"stride {', '.join(str(s) for s in steps if s != 1)}"] if steps != (1,) else []
    covered += [f"padding {', '.join(repr(p) for p in pads)}"] if pads != (0,) else []
    return _passed(params.name, len(cases), covered)


# --------------------------------------------------------------------------
# Output sizes
# --------------------------------------------------------------------------

def _check_size(fn, strides, paddings, time_limit, what):
    params = _Params(fn, ("n", "k"))
    limit = _check_time_limit(time_limit)
    strides = _check_teacher_values(strides, "strides", 1, MAX_CHECK_STRIDE)
    paddings = _check_teacher_values(paddings, "paddings", 0, MAX_CHECK_PADDING, PADDING_WORDS)
    stride_param, padding_param = params.find(STRIDE_NAMES), params.find(PADDING_NAMES)
    text_padding = padding_param is not None and isinstance(padding_param.default, str)
    steps = _choose(strides, stride_param, (1, 2, 3), (1,), "strides")
    pads = _choose(paddings, padding_param, ("valid", "same") if text_padding else (0, 1, 2),
                   (0,), "paddings")
    grid = [(8, 3), (10, 1), (5, 5), (100, 7), (28, 5), (7, 2)]
    cases = [(n, k, 1, pads[0]) for n, k in grid]
    cases += [(n, k, s, p) for s in steps for p in pads for n, k in ((7, 3), (32, 5), (6, 4))
              if (s, p) != (1, pads[0])]
    for n, k, s, p in cases:
        kwargs = {**_keyword(stride_param, s, (1,)), **_keyword(padding_param, p, (0, "valid"))}
        want = shapes.conv_output_size(n, k, s, p)
        call = _Call(fn, params, (n, k), kwargs, limit)
        got = call.run(None)
        if not (isinstance(got, numbers.Integral) and not isinstance(got, bool)) or got != want:
            problem, hint = _hints.size_failure(n, k, s, p, want, got, what)
            raise CheckFailed(problem, call=call.text(), hint=hint)
    covered = ["sizes"]
    covered += [f"stride {', '.join(str(s) for s in steps if s != 1)}"] if steps != (1,) else []
    covered += [f"padding {', '.join(repr(p) for p in pads if p not in (0, 'valid'))}"] \
        if len(pads) > 1 else []
    return _passed(params.name, len(cases), covered)


# --------------------------------------------------------------------------
# Calling the learner's function
# --------------------------------------------------------------------------

class _Params:
    """What a learner's function accepts, read from its signature."""

    def __init__(self, fn, inputs):
        self.name = getattr(fn, "__name__", None) or type(fn).__name__
        if not isinstance(self.name, str):
            self.name = type(fn).__name__
        if not callable(fn):
            raise NotAFunction(
                f"Expected a function for `fn`, got {_hints.short(fn)}.",
                hint="Pass the function itself, without calling it: check_...(my_function), "
                     "not check_...(my_function()). Run the exercise cell that defines it first.")
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):  # some built-ins have no signature
            params = []
        order = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        positional = [p for p in params if p.kind in order]
        varargs = any(p.kind == p.VAR_POSITIONAL for p in params) or not params
        if len(positional) < len(inputs) and not varargs:
            raise CheckFailed(
                f"{self.name} takes {len(positional)} argument(s), but the exercise calls it "
                f"with {len(inputs)}: ({', '.join(inputs)}).",
                hint=f"Define it as def {self.name}({', '.join(inputs)}): ...")
        self.input_names = tuple(p.name for p in positional[:len(inputs)]) or inputs
        self.rest = [p for p in params[len(self.input_names):]
                     if p.kind in (*order, inspect.Parameter.KEYWORD_ONLY)]
        self._positional_rest = [p for p in positional[len(inputs):]]

    def find(self, aliases):
        """The first parameter (after the inputs) named like one of ``aliases``, or None."""
        for p in self.rest:
            if p.name in aliases:
                return p
        return None

    def extra_positional(self):
        """The parameter right after the inputs, if it can be passed by name."""
        rest = [p for p in self._positional_rest if p.name not in STRIDE_NAMES + PADDING_NAMES]
        return rest[0] if rest and rest[0].kind == rest[0].POSITIONAL_OR_KEYWORD else None


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {_hints.short(value)}")
    return bool(value)


def _check_time_limit(value):
    """Seconds per call, or None for no limit."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`time_limit` must be a number of seconds (or None for no limit), "
                        f"got {_hints.short(value)}")
    value = float(value)
    if not MIN_TIME_LIMIT <= value <= MAX_TIME_LIMIT:   # NaN fails too
        raise ValueError(f"`time_limit` must be from {MIN_TIME_LIMIT:g} to {MAX_TIME_LIMIT:g} "
                         f"seconds (or None for no limit), got {value:g}")
    return value


def _check_teacher_values(given, what, low, high, words=()):
    """The values a teacher chose to test (``strides=``, ...), as a tuple, or None."""
    if given is None:
        return None
    if isinstance(given, (str, bytes)) or not isinstance(given, (list, tuple, range)):
        raise TypeError(f"`{what}` must be a list of values to test, such as [1, 2], got "
                        f"{_hints.short(given)}")
    given = tuple(given)
    if not given:
        raise ValueError(f"`{what}` must hold at least one value to test, got an empty list")
    allowed = f"whole numbers from {low} to {high}" + (
        f" or {', '.join(map(repr, words))}" if words else "")
    for value in given:
        if isinstance(value, str) and value in words:
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
                or not low <= value <= high:
            raise ValueError(f"`{what}` must hold {allowed}, got {_hints.short(value)}")
    return tuple(v if isinstance(v, str) else int(v) for v in given)


def _choose(given, param, with_param, without, what):
    """Values to test: the teacher's, or those the signature allows."""
    if given is None:
        return tuple(with_param) if param is not None else tuple(without)
    given = tuple(given)
    if param is None and given != tuple(without):
        raise TypeError(f"`{what}`={given!r} given, but the function has no such parameter")
    return given


def _keyword(param, value, neutral):
    """``{name: value}`` to pass, or nothing when the parameter's default already means it.

    ``neutral`` lists the values that mean "no bias / stride 1 / no padding";
    a neutral ``None`` is passed as the first other neutral value.
    """
    if param is None:
        return {}
    if _neutral(value, neutral):
        if param.default is not inspect.Parameter.empty and _neutral(param.default, neutral):
            return {}
        if value is None:
            value = next(o for o in neutral if o is not None)
    return {param.name: value}


def _neutral(value, options) -> bool:
    if value is None or isinstance(value, (str, tuple)):
        return value in options
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return any(isinstance(o, numbers.Number) and value == o for o in options)
    return False


class _OutOfTime(BaseException):
    """The learner's function ran past its time limit.

    A ``BaseException``, so a learner's ``except Exception`` cannot swallow it.
    """


def _run_limited(fn, args, kwargs, seconds):
    """``fn(*args, **kwargs)``, raising :class:`_OutOfTime` after ``seconds`` (None: no limit)."""
    if seconds is None:
        return fn(*args, **kwargs)
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _run_with_alarm(fn, args, kwargs, seconds)
    return _run_in_thread(fn, args, kwargs, seconds)


def _run_with_alarm(fn, args, kwargs, seconds):
    """Interrupt ``fn`` with SIGALRM; an alarm set outside (a test's own limit) is kept."""
    start = time.monotonic()
    outer = {"fired": False}

    def on_alarm(signum, frame):
        if outer_delay and time.monotonic() - start >= outer_delay - 1e-3 and callable(previous):
            outer["fired"] = True
            previous(signum, frame)          # the outer deadline came first: its handler acts
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, on_alarm)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    if 0 < outer_delay < seconds:
        signal.setitimer(signal.ITIMER_REAL, outer_delay)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay and not outer["fired"]:
            left = outer_delay - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-4), outer_interval)


def _run_in_thread(fn, args, kwargs, seconds):
    """Run ``fn`` in a daemon thread; give up waiting after ``seconds`` (it may keep running)."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="cnnlab-check", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _OutOfTime
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class _Call:
    """One call of the learner's function, and how to show it."""

    def __init__(self, fn, params, args, kwargs, time_limit=DEFAULT_TIME_LIMIT):
        self.fn, self.params, self.args, self.kwargs = fn, params, args, kwargs
        self.time_limit = time_limit

    def text(self) -> str:
        """``f(x, k, stride=2)`` and one line per array argument."""
        shown = [name if isinstance(value, np.ndarray) else repr(value)
                 for name, value in zip(self.params.input_names, self.args)]
        shown += [f"{key}={value!r}" for key, value in self.kwargs.items()]
        lines = [f"{self.params.name}({', '.join(shown)})"]
        lines += [_show(value, f"{name} = ")
                  for name, value in zip(self.params.input_names, self.args)
                  if isinstance(value, np.ndarray)]
        return "\n".join(lines)

    def run(self, ndim):
        """Call the function on copies of the inputs; catch what a learner can fix."""
        copies = [np.copy(a) if isinstance(a, np.ndarray) else a for a in self.args]
        try:
            got = _run_limited(self.fn, copies, self.kwargs, self.time_limit)
        except _OutOfTime:
            in_thread = not (hasattr(signal, "setitimer")
                             and threading.current_thread() is threading.main_thread())
            raise CheckFailed(f"{self.params.name} did not finish within {self.time_limit:g} s.",
                              call=self.text(),
                              hint=_hints.too_slow(self.time_limit, in_thread)) from None
        except Exception as exc:  # the learner's code failed: explain instead of a traceback
            problem, hint = _hints.raised(exc)
            raise CheckFailed(problem, call=self.text(), hint=hint) from None
        if got is None:
            raise CheckFailed(f"{self.params.name} returned None.", call=self.text(),
                              hint="The function computes something but does not hand it back: "
                                   "end it with `return` and the result (for example `return out`).")
        for before, after in zip(self.args, copies):
            if isinstance(before, np.ndarray) and not np.array_equal(before, after):
                raise CheckFailed(f"{self.params.name} changed its input.", call=self.text(),
                                  hint="Leave the inputs as they are: work on a copy or on a new "
                                       "array (np.pad and slicing with arithmetic create new ones).")
        if ndim is None:
            return got
        try:
            arr = np.asarray(got)
        except (TypeError, ValueError):
            arr = np.empty(0, dtype=object)     # ragged lists: explained below
        problem = _hints.not_numbers(arr)
        if problem is None:
            return arr.astype(float)
        what, hint = problem
        raise CheckFailed(f"{self.params.name} returned {_hints.short(got)}: {what}.",
                          call=self.text(), hint=hint)


def _compare(call, got, want, hint_for):
    """Raise CheckFailed with a diagnosis when ``got`` is not ``want``."""
    if got.shape != want.shape:
        problem = f"Expected shape {want.shape} but got {got.shape}."
    elif not _hints.close(got, want):
        problem = "The shape is right but some values are wrong."
    else:
        return
    try:
        hint = hint_for(got)
    except Exception:  # noqa: BLE001 - a diagnosis that cannot be made is left out
        hint = None
    raise CheckFailed(problem, call=call.text(), expected=want, got=got, hint=hint)


def _passed(name, cases, covered) -> CheckResult:
    result = CheckResult(name, cases, tuple(covered))
    print(result)
    return result
