"""Record the calls a test cell makes to answer functions, and replay them (inside a kernel).

The grade may not depend on anything a student's code can replace (a
checker, ``np.testing``, ``builtins``). So, once per lesson, the teacher's
version runs with every function its answer cells define wrapped in a
:class:`Recorder`: each call a graded test cell makes (arguments and result)
is kept, as JSON, outside the sandbox. When a student's notebook is graded,
:func:`replay` calls the student's functions with the same arguments and
writes what they return; the grader (outside the sandbox) compares that with
the teacher's results (:mod:`cnnlab.tools.grading_replay`). Only plain data
travels: numbers, strings, lists, tuples, dicts and numpy arrays, as JSON. A
few more kinds of value travel as plain data too:

- a ``numpy.random.Generator`` *argument* (over one of :data:`BIT_GENERATORS`)
  as its bit generator's name and state: decoding makes a new generator in that
  state, so the teacher's second call and the student's replay each draw the
  same numbers the teacher's first call drew;
- a fresh symbolic input *argument* (what ``keras.Input(...)`` returns, no
  layer behind it yet) as its shape without the batch axis and its dtype:
  decoding makes a new ``keras.Input`` of that shape and dtype;
- a set or frozenset (of plain data) as its items in a fixed order: it comes
  back as a list, so two equal sets compare equal;
- a Keras model *result* as its :class:`ModelFingerprint`, what every right
  answer shares however it was built: input and output shapes, parameter count,
  the sorted shapes of its weights (no layer names, no layer order) and its
  probe, what it computes on a fixed input with its weights filled by role
  (:mod:`cnnlab.tools.grading_probe`);
- a Keras tensor *result* (a block built on the call's inputs) as the
  fingerprint of ``keras.Model(inputs, result)``, ``inputs`` being the fresh
  inputs among that very call's arguments, in order (see :func:`keras_inputs`).

Keras is imported only for a value whose class comes from Keras.
"""

from __future__ import annotations

import functools
import json
import math

from cnnlab.tools.grading_probe import probe, probes_match

__all__ = ["Recorder", "encode", "decode", "replay", "Unencodable", "ModelFingerprint",
           "keras_inputs", "MAX_CALLS", "IN_FILE", "BIT_GENERATORS", "out_file"]

MAX_CALLS = 12  # calls kept per test cell
MAX_ITEMS = 200_000  # array elements kept per value
IN_FILE = ".cnnlab_replay_in.json"
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")  # numpy's own


def out_file(test_id: str) -> str:
    """Name of the file :func:`replay` writes for the test cell ``test_id``."""
    return f".cnnlab_replay_out_{test_id}.json"


class Unencodable(TypeError):
    """A value that is not plain data (a function, a layer, a very large array, ...)."""


class ModelFingerprint:
    """What every right Keras model shares, however it was built (the decoded form).

    Equal only to another fingerprint with the same input shapes, output
    shapes, parameter count and sorted weight shapes (texts such as
    ``"(None, 28, 28, 1)"`` and ``"[(5, 5, 1, 6), (6,)]"``), and the same
    probe (:func:`cnnlab.tools.grading_probe.probe`: one list of numbers per
    output, compared within :data:`~cnnlab.tools.grading_probe.RTOL`; ``[]``
    for a model that could not be probed, equal only to ``[]``). A
    fingerprint recorded before probes existed has ``probe=None`` and
    compares by the other fields only.
    """

    __slots__ = ("inputs", "outputs", "params", "weights", "probe")

    def __init__(self, inputs: str, outputs: str, params: int, weights: str, probe=None):
        self.inputs, self.outputs, self.params, self.weights = inputs, outputs, params, weights
        self.probe = probe

    def _key(self):
        return self.inputs, self.outputs, self.params, self.weights

    def __eq__(self, other):  # a bool for any other value, never an array
        if type(other) is not ModelFingerprint or self._key() != other._key():
            return False
        if self.probe is None or other.probe is None:  # an old record: no probe to compare
            return True
        return bool(probes_match(self.probe, other.probe))

    def __hash__(self):  # the probe is compared within a tolerance: not hashed
        return hash(self._key())

    def __repr__(self):
        probe = None if self.probe is None else [len(p) for p in self.probe]
        return (f"ModelFingerprint(inputs={self.inputs!r}, outputs={self.outputs!r}, "
                f"params={self.params!r}, weights={self.weights!r}, probe sizes={probe!r})")


def encode(value, *, argument=False, inputs=None):
    """``value`` as JSON-able plain data; raises :class:`Unencodable` for anything else.

    ``argument=True`` for a call's arguments: a ``numpy.random.Generator`` over
    one of :data:`BIT_GENERATORS` is kept as its state, a fresh ``keras.Input``
    as its shape and dtype (any other Keras tensor is not plain data).
    Otherwise (results) a set is kept as its items in a fixed order, a Keras
    model as its :class:`ModelFingerprint` (with its probe), and so is a Keras
    tensor, as ``keras.Model(inputs, value)``: ``inputs`` is the list of the
    call's fresh inputs (:func:`keras_inputs` of its arguments); without them,
    or when that model cannot be built (the tensor does not come from those
    inputs alone), the tensor is not plain data.
    """
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
        items = [encode(v, argument=argument, inputs=inputs) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode(v, argument=argument, inputs=inputs)
                             for k, v in value.items()}}
    if not argument and isinstance(value, (set, frozenset)):
        items = [encode(v, argument=argument, inputs=inputs) for v in value]
        return {"__set__": sorted(items, key=lambda v: json.dumps(v, sort_keys=True))}
    if argument and isinstance(value, np.random.Generator):
        return _encode_generator(value)
    if argument and _is_keras_tensor(value):
        return _encode_input(value)
    if not argument and _is_keras_model(value):
        return _encode_model(value)
    if not argument and _is_keras_tensor(value):
        return _encode_model(_tensor_model(value, inputs))
    raise Unencodable(type(value).__name__)


def _encode_generator(rng):
    """A Generator as its bit generator's name and state (ints and uint arrays)."""
    import numpy as np

    bits = rng.bit_generator
    name = type(bits).__name__
    if name not in BIT_GENERATORS or type(bits) is not getattr(np.random, name):
        raise Unencodable(f"Generator over {name}, not one of {', '.join(BIT_GENERATORS)}")
    return {"__generator__": name, "state": encode(bits.state)}


def _decode_generator(data):
    """A new Generator in the state :func:`_encode_generator` kept."""
    import numpy as np

    name = data["__generator__"]
    if name not in BIT_GENERATORS:
        raise ValueError(f"not a bit generator of numpy's: {name!r}")
    bits = getattr(np.random, name)(0)
    bits.state = decode(data["state"])
    return np.random.Generator(bits)


def _from_keras(value) -> bool:
    """Whether ``value``'s class (or a base of it) comes from a Keras module."""
    return any(str(getattr(k, "__module__", "")).split(".")[0] == "keras"
               for k in type(value).__mro__)


def _is_keras_model(value) -> bool:
    """Whether ``value`` is a Keras model (Keras is imported only for Keras objects)."""
    if not _from_keras(value):
        return False
    import keras

    return isinstance(value, keras.Model)


def _is_keras_tensor(value) -> bool:
    """Whether ``value`` is a symbolic Keras tensor (Keras imported only for Keras objects)."""
    if not _from_keras(value):
        return False
    import keras

    return isinstance(value, keras.KerasTensor)


def keras_inputs(value) -> list:
    """The Keras tensors in ``value`` (lists, tuples, dicts), in :func:`encode`'s order.

    For a call's arguments ``[list(args), kwargs]`` that encode as plain data,
    these are its fresh ``keras.Input`` tensors: the inputs of the model a
    tensor result is fingerprinted as.
    """
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in keras_inputs(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in keras_inputs(v)]
    return [value] if _is_keras_tensor(value) else []


def _encode_input(x):
    """A fresh ``keras.Input`` as its shape without the batch axis and its dtype."""
    import keras

    history = getattr(x, "_keras_history", None)
    layer = getattr(history, "operation", None)
    if not isinstance(layer, keras.layers.InputLayer) or getattr(layer, "output", None) is not x:
        raise Unencodable("a Keras tensor with layers behind it (only a fresh keras.Input "
                          "travels as an argument)")
    if getattr(x, "sparse", False) or getattr(x, "ragged", False):
        raise Unencodable("a sparse or ragged keras.Input")
    shape = [None if d is None else int(d) for d in x.shape]
    if not shape:
        raise Unencodable("a keras.Input without a batch axis")
    data = {"shape": shape[1:], "dtype": str(x.dtype)}
    if shape[0] is not None:
        data["batch_size"] = shape[0]
    return {"__keras_input__": data}


def _decode_input(data):
    """A new ``keras.Input`` with the shape and dtype :func:`_encode_input` kept."""
    shape, dtype = data.get("shape"), data.get("dtype")
    batch = data.get("batch_size")
    if not (isinstance(shape, list) and all(d is None or type(d) is int for d in shape)
            and isinstance(dtype, str) and (batch is None or type(batch) is int)):
        raise ValueError(f"not a keras.Input's shape and dtype: {data!r}")
    import keras

    return keras.Input(shape=tuple(shape), dtype=dtype, batch_size=batch)


def _tensor_model(y, inputs):
    """``keras.Model(inputs, y)``: the model a tensor result is fingerprinted as."""
    if not inputs:
        raise Unencodable("a Keras tensor result, with no fresh keras.Input among the call's "
                          "arguments")
    import keras

    try:
        return keras.Model(inputs=inputs[0] if len(inputs) == 1 else list(inputs), outputs=y)
    except Exception as exc:  # y does not come from these inputs (alone)
        raise Unencodable(f"a Keras tensor not built on the call's inputs "
                          f"({type(exc).__name__})") from None


def _encode_model(model):
    """A Keras model as its fingerprint and probe (see :class:`ModelFingerprint`)."""
    try:
        inputs, outputs = list(model.inputs), list(model.outputs)
        params = int(model.count_params())
        weights = sorted(tuple(int(d) for d in w.shape) for w in model.weights)
    except Exception as exc:  # not built: no inputs yet, no weights
        raise Unencodable(f"a Keras model without inputs ({type(exc).__name__})") from None

    def shapes(tensors):
        return ", ".join(str(tuple(None if d is None else int(d) for d in t.shape))
                         for t in tensors)

    return {"__keras_model__": {"inputs": shapes(inputs), "outputs": shapes(outputs),
                                "params": params, "weights": str(weights),
                                "probe": probe(model)}}


def decode(data, *, result=False):
    """The value :func:`encode` made ``data`` from (arrays come back as numpy arrays).

    A generator comes back as a new ``numpy.random.Generator`` in the kept
    state (a new one at each decoding), a kept ``keras.Input`` as a new
    ``keras.Input`` of that shape and dtype, a Keras model (or tensor result)
    as its :class:`ModelFingerprint`. ``result=True`` (a result, read by the
    grader): generators and inputs, which only arguments hold, raise
    ``ValueError`` (no Keras is started outside the sandbox for them).
    """
    import numpy as np

    if isinstance(data, list):
        return [decode(v, result=result) for v in data]
    if not isinstance(data, dict):
        return data
    if "__ndarray__" in data:
        flat = [decode(v, result=result) for v in data["__ndarray__"]]
        return np.array(flat, dtype=data["dtype"]).reshape(data["shape"])
    if "__float__" in data:
        return float(data["__float__"])
    if "__tuple__" in data:
        return tuple(decode(v, result=result) for v in data["__tuple__"])
    if "__set__" in data:
        return [decode(v, result=result) for v in data["__set__"]]
    if result and ("__generator__" in data or "__keras_input__" in data):
        raise ValueError("a generator or a keras.Input is an argument, never a result")
    if "__generator__" in data:
        return _decode_generator(data)
    if "__keras_input__" in data:
        return _decode_input(data["__keras_input__"])
    if "__keras_model__" in data:
        fp = data["__keras_model__"]
        return ModelFingerprint(fp["inputs"], fp["outputs"], fp["params"], fp["weights"],
                                fp.get("probe"))
    return {k: decode(v, result=result) for k, v in data.get("__dict__", {}).items()}


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
                arguments = encode([list(args), kwargs], argument=True)
            except Unencodable:
                return fn(*args, **kwargs)
            inputs = keras_inputs([list(args), kwargs])  # the caller's own fresh inputs
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                calls.append({"fn": name, "args": arguments, "raises": type(exc).__name__})
                raise
            self._keep(calls, name, fn, arguments, result, inputs)
            return result

        recorded._cnnlab_recorded = True
        return recorded

    @staticmethod
    def _keep(calls, name, fn, arguments, result, inputs=()):
        """Keep the call if its result is plain data and a second call gives the same.

        ``inputs``: the first call's fresh ``keras.Input`` arguments (what a
        tensor result is built on); the second call gets new ones.
        """
        try:
            first = encode(result, inputs=list(inputs))
            args, kwargs = decode(arguments)
            again = encode(fn(*args, **kwargs), inputs=keras_inputs([args, kwargs]))
        except Exception:  # not plain data, or not repeatable: no check outside for it
            return
        (plain, probes), (plain_again, probes_again) = _probes_apart(first), _probes_apart(again)
        if json.dumps(plain, sort_keys=True) == json.dumps(plain_again, sort_keys=True) and \
                all(probes_match(a, b) for a, b in zip(probes, probes_again)):
            calls.append({"fn": name, "args": arguments, "result": first})


def _probes_apart(data):
    """``(data without its models' probes, [probe, ...])``: probes compare within a tolerance."""
    probes = []

    def strip(value):
        if isinstance(value, list):
            return [strip(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__keras_model__" in value and isinstance(value["__keras_model__"], dict):
            fields = dict(value["__keras_model__"])
            probes.append(fields.pop("probe", None))
            return {"__keras_model__": fields}
        return {k: strip(v) for k, v in value.items()}

    return strip(data), probes


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
            got = fn(*args, **kwargs)
            results.append({"result": encode(got, inputs=keras_inputs([args, kwargs]))})
        except Exception as exc:  # a missing function, an error, a result that is not data
            results.append({"raises": type(exc).__name__})
    with open(out_file(test_id), "w", encoding="utf-8") as f:
        json.dump(results, f)
