"""Shared harness for the hostile-input tests (``tests/test_hostile_*.py``).

A public ``cnnlab`` function given bad input must answer with a ``ValueError``
or ``TypeError`` whose message names one of its arguments (in backquotes, as
``_validate`` writes them), and must answer quickly: never a numpy or Keras
traceback, never a hang, never an attempt to allocate gigabytes.

:func:`outcome` runs one call under a time limit and sorts what happened;
:func:`assert_clear` turns anything but a result or a clear error into a test
failure that shows the call. :data:`hostile_values` is a hypothesis strategy of
values that a learner might pass by mistake.
"""

from __future__ import annotations

import inspect
import math
import signal
import threading
from contextlib import contextmanager

import numpy as np
from hypothesis import strategies as st

#: Seconds one hostile call may take before it counts as a hang.
TIME_LIMIT = 5.0


class Hang(Exception):
    """The call ran past its time limit."""


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`Hang` inside the block after ``seconds`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        yield
        return

    def on_alarm(signum, frame):
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def argument_names(fn) -> set[str]:
    """The parameter names of ``fn`` (a function, method or class)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return set()
    return {n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def show_call(fn, args, kwargs) -> str:
    def short(v):
        text = repr(v) if not isinstance(v, np.ndarray) else f"array{v.shape}:{v.dtype}"
        return text if len(text) < 80 else text[:77] + "..."

    name = getattr(fn, "__qualname__", repr(fn))
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def names_an_argument(message: str, names) -> bool:
    """True when ``message`` names one of ``names`` as `name` (or `name[...]`, `name.x`)."""
    return any(f"`{n}`" in message or f"`{n}[" in message or f"`{n}." in message
               or f"`{n} " in message for n in names)


def outcome(fn, *args, timeout: float = TIME_LIMIT, **kwargs):
    """Run ``fn(*args, **kwargs)``; return ``("ok", result)`` or ``("error", exc)``.

    A :class:`Hang` or a ``MemoryError`` comes back as ``("hang", exc)`` and
    ``("memory", exc)``.
    """
    try:
        with time_limit(timeout):
            return "ok", fn(*args, **kwargs)
    except Hang as exc:
        return "hang", exc
    except MemoryError as exc:
        return "memory", exc
    except Exception as exc:  # noqa: BLE001 - sorted by the caller
        return "error", exc


def assert_clear(fn, *args, names=None, timeout: float = TIME_LIMIT, **kwargs):
    """Call ``fn``; pass on a result or a clear error, fail on anything else.

    Parameters
    ----------
    fn : callable
        The public function (or class) under test.
    names : iterable of str, optional
        The argument names an error may name; default: ``fn``'s parameters.

    Returns
    -------
    tuple
        ``("ok", result)`` or ``("error", exc)`` (a clear error), so the test
        can check a result against a reference.
    """
    names = set(names) if names is not None else argument_names(fn)
    kind, value = outcome(fn, *args, timeout=timeout, **kwargs)
    call = show_call(fn, args, kwargs)
    if kind == "hang":
        raise AssertionError(f"{call} hung ({value})")
    if kind == "memory":
        raise AssertionError(f"{call} tried to allocate too much memory: {value}")
    if kind == "error":
        if not isinstance(value, (ValueError, TypeError)):
            raise AssertionError(f"{call} raised {type(value).__name__}: {value}") from value
        if not names_an_argument(str(value), names):
            raise AssertionError(f"{call} raised {type(value).__name__} without naming one of "
                                 f"{sorted(names)}: {value}") from value
    return kind, value


#: Values a learner may pass by mistake where a number, a size or an array is expected.
hostile_scalars = st.sampled_from([
    None, True, -1, 0, 1, 2, 10**6, 10**12, -10**12, 0.5, -0.5, 2.0, math.nan, math.inf,
    -math.inf, 1e300, 1j, "", "3", "abc", b"x", [], [1, 2], (1, 2, 3), {}, object(),
])

hostile_arrays = st.sampled_from([
    np.zeros(0), np.zeros((0, 3)), np.zeros((3, 0)), np.ones(5), np.ones((4, 4)),
    np.ones((2, 4, 4)), np.ones((1, 4, 4, 1)), np.ones((1, 1, 1, 1, 1)),
    np.full((4, 4), np.nan), np.full((4, 4), np.inf), np.full((4, 4), 1e308),
    np.ones((4, 4), dtype=complex), np.array([["a", "b"], ["c", "d"]]),
    np.array([1, None, 3], dtype=object), [[1, 2], [3]], np.ones((4, 4), dtype=bool),
    np.arange(16, dtype=np.uint8).reshape(4, 4), np.ones((3, 3), dtype=np.float16),
])

#: Anything at all from the two lists above.
hostile_values = st.one_of(hostile_scalars, hostile_arrays)
