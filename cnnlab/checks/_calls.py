"""Calling a learner's function: reading its signature, choosing keywords, the time limit.

Shared by the checkers of :mod:`cnnlab.checks`. Each call runs on copies of
the inputs, under a time limit, and turns whatever a learner can fix (an
exception, ``None``, a changed input, a result that is not numbers) into a
:class:`CheckFailed` with a hint.
"""

from __future__ import annotations

import inspect
import numbers
import signal
import threading
import time

import numpy as np

from . import _hints
from ._results import CheckFailed, NotAFunction, show

#: Seconds one call of the learner's function may take.
DEFAULT_TIME_LIMIT = 5.0
MAX_TIME_LIMIT = 3600.0
MIN_TIME_LIMIT = 0.05
STRIDE_NAMES = ("stride", "strides", "s", "step")
PADDING_NAMES = ("padding", "pad", "p")


class Params:
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


def check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {_hints.short(value)}")
    return bool(value)


def check_time_limit(value):
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


def check_teacher_values(given, what, low, high, words=()):
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


def choose(given, param, with_param, without, what):
    """Values to test: the teacher's, or those the signature allows."""
    if given is None:
        return tuple(with_param) if param is not None else tuple(without)
    given = tuple(given)
    if param is None and given != tuple(without):
        raise TypeError(f"`{what}`={given!r} given, but the function has no such parameter")
    return given


def keyword(param, value, neutral):
    """``{name: value}`` to pass, or nothing when the parameter's default already means it.

    ``neutral`` lists the values that mean "no bias / stride 1 / no padding";
    a neutral ``None`` is passed as the first other neutral value.
    """
    if param is None:
        return {}
    if is_neutral(value, neutral):
        if param.default is not inspect.Parameter.empty and is_neutral(param.default, neutral):
            return {}
        if value is None:
            value = next(o for o in neutral if o is not None)
    return {param.name: value}


def is_neutral(value, options) -> bool:
    if value is None or isinstance(value, (str, tuple)):
        return value in options
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return any(isinstance(o, numbers.Number) and value == o for o in options)
    return False


class OutOfTime(BaseException):
    """The learner's function ran past its time limit.

    A ``BaseException``, so a learner's ``except Exception`` cannot swallow it.
    """


def run_limited(fn, args, kwargs, seconds):
    """``fn(*args, **kwargs)``, raising :class:`OutOfTime` after ``seconds`` (None: no limit)."""
    if seconds is None:
        return fn(*args, **kwargs)
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return run_with_alarm(fn, args, kwargs, seconds)
    return run_in_thread(fn, args, kwargs, seconds)


def run_with_alarm(fn, args, kwargs, seconds):
    """Interrupt ``fn`` with SIGALRM; an alarm set outside (a test's own limit) is kept."""
    start = time.monotonic()
    outer = {"fired": False}

    def on_alarm(signum, frame):
        if outer_delay and time.monotonic() - start >= outer_delay - 1e-3 and callable(previous):
            outer["fired"] = True
            previous(signum, frame)          # the outer deadline came first: its handler acts
        raise OutOfTime

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


def run_in_thread(fn, args, kwargs, seconds):
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
        raise OutOfTime
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class Call:
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
        lines += [show(value, f"{name} = ")
                  for name, value in zip(self.params.input_names, self.args)
                  if isinstance(value, np.ndarray)]
        return "\n".join(lines)

    def run(self, ndim):
        """Call the function on copies of the inputs; catch what a learner can fix."""
        copies = [np.copy(a) if isinstance(a, np.ndarray) else a for a in self.args]
        try:
            got = run_limited(self.fn, copies, self.kwargs, self.time_limit)
        except OutOfTime:
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


def compare(call, got, want, hint_for):
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
