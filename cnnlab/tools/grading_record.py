"""Record the calls a test cell makes to answer functions, and replay them (inside a kernel).

The grade may not depend on anything a student's code can replace (a
checker, ``np.testing``, ``builtins``). So, once per lesson, the teacher's
version runs with every function its answer cells define wrapped in a
:class:`Recorder`: each call a graded test cell makes (arguments and result)
is kept, as JSON, outside the sandbox. When a student's notebook is graded,
:func:`replay` calls the student's functions with the same arguments and
writes what they return; the grader (outside the sandbox) compares that with
the teacher's results (:mod:`cnnlab.tools.grading_replay`). Only plain data
travels: numbers, strings, lists, tuples, dicts and numpy arrays, as JSON.
"""

from __future__ import annotations

import functools
import json
import math

__all__ = ["Recorder", "encode", "decode", "replay", "Unencodable", "MAX_CALLS", "IN_FILE",
           "out_file"]

MAX_CALLS = 12  # calls kept per test cell
MAX_ITEMS = 200_000  # array elements kept per value
IN_FILE = ".cnnlab_replay_in.json"


def out_file(test_id: str) -> str:
    """Name of the file :func:`replay` writes for the test cell ``test_id``."""
    return f".cnnlab_replay_out_{test_id}.json"


class Unencodable(TypeError):
    """A value that is not plain data (a model, a function, a very large array, ...)."""


def encode(value):
    """``value`` as JSON-able plain data; raises :class:`Unencodable` for anything else."""
    import numpy as np

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf" or value.size > MAX_ITEMS:
            raise Unencodable(f"array of {value.dtype} with {value.size} elements")
        flat = [encode(float(v)) if value.dtype.kind == "f" else v for v in value.ravel().tolist()]
        return {"__ndarray__": flat, "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, (list, tuple)):
        items = [encode(v) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    raise Unencodable(type(value).__name__)


def decode(data):
    """The value :func:`encode` made ``data`` from (arrays come back as numpy arrays)."""
    import numpy as np

    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__ndarray__" in data:
        flat = [decode(v) for v in data["__ndarray__"]]
        return np.array(flat, dtype=data["dtype"]).reshape(data["shape"])
    if "__float__" in data:
        return float(data["__float__"])
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    return {k: decode(v) for k, v in data.get("__dict__", {}).items()}


class Recorder:
    """Wraps answer functions and keeps the calls made while a test cell runs."""

    def __init__(self):
        self.calls = {}
        self.current = None

    def wrap(self, namespace, names):
        """Replace each function ``namespace[name]`` by a recording wrapper."""
        for name in names:
            fn = namespace.get(name)
            if callable(fn) and not getattr(fn, "_cnnlab_recorded", False):
                namespace[name] = self._wrapper(name, fn)

    def start(self, test_id):
        self.current = test_id
        self.calls.setdefault(test_id, [])

    def stop(self):
        self.current = None

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump({k: v for k, v in self.calls.items() if v}, f)

    def _wrapper(self, name, fn):
        @functools.wraps(fn)
        def recorded(*args, **kwargs):
            calls = self.calls.get(self.current)
            if calls is None or len(calls) >= MAX_CALLS:
                return fn(*args, **kwargs)
            try:
                arguments = encode([list(args), kwargs])
            except Unencodable:
                return fn(*args, **kwargs)
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                calls.append({"fn": name, "args": arguments, "raises": type(exc).__name__})
                raise
            self._keep(calls, name, fn, arguments, result)
            return result

        recorded._cnnlab_recorded = True
        return recorded

    @staticmethod
    def _keep(calls, name, fn, arguments, result):
        """Keep the call if its result is plain data and a second call gives the same."""
        try:
            first = encode(result)
            args, kwargs = decode(arguments)
            again = encode(fn(*args, **kwargs))
        except Exception:  # not plain data, or not repeatable: no check outside for it
            return
        if json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True):
            calls.append({"fn": name, "args": arguments, "result": first})


def replay(namespace, test_id):
    """Call the functions in ``namespace`` with the recorded arguments; write their results.

    Runs in the student's kernel, in the notebook's folder: reads
    :data:`IN_FILE`, writes :func:`out_file` ``(test_id)``.
    """
    with open(IN_FILE, encoding="utf-8") as f:
        calls = json.load(f).get(test_id, [])
    results = []
    for call in calls:
        fn = namespace.get(call["fn"])
        try:
            args, kwargs = decode(call["args"])
            results.append({"result": encode(fn(*args, **kwargs))})
        except Exception as exc:  # a missing function, an error, a result that is not data
            results.append({"raises": type(exc).__name__})
    with open(out_file(test_id), "w", encoding="utf-8") as f:
        json.dump(results, f)
