"""What a Keras model computes, as a few numbers every right construction shares.

A model's fingerprint (shapes, parameter count, weight shapes; see
:mod:`cnnlab.tools.grading_record`) cannot tell a residual block from the
same block without its shortcut, nor ReLU after BatchNorm from ReLU before
it. A *probe* can: :func:`probe` fills every weight of the model with a value
that depends only on the weight's role (:func:`weight_role`: kernel, bias,
BatchNorm gamma, beta, moving mean, moving variance, other) and shape
(:func:`role_values`), never on a layer's name or position, runs the model in
inference mode on a fixed input batch (:func:`probe_input`), puts the model's
own weights back, and keeps the output (:func:`summarise`). Two right answers
built in another order, with other names, with ``layers.Add()`` or ``x + y``,
``layers.ReLU()`` or ``layers.Activation("relu")`` get the same probe, within
float32 rounding (:func:`probes_match`); a wrong one gets another.

:func:`probe` runs where the model is (the sandboxed kernel, or the teacher's
run); :func:`probes_match` in the grader (numpy only: Keras is imported by
:func:`probe` alone).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["ROLES", "PROBE_BATCH", "MAX_BATCH", "MAX_VALUES", "MAX_INPUT", "RTOL", "weight_role",
           "role_values", "probe_input", "summarise", "probe", "probes_match"]

ROLES = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "other")
PROBE_BATCH = 2        # examples in the probe batch (a fixed batch size of the model wins)
MAX_BATCH = 16         # a model whose fixed batch size is larger is not probed
MAX_VALUES = 2000      # numbers kept per output
MAX_INPUT = 2_000_000  # input numbers per probe batch (larger: not probed)
RTOL = 1e-3            # float32, and another CPU path in the sandbox
_STEP = 2.399963229728653  # the golden angle: cos(i * step) never repeats


def weight_role(variable) -> str:
    """The role of a Keras weight, from its name or path: one of :data:`ROLES`.

    ``"conv2d_3/kernel:0"``, ``"kernel"`` and ``"depthwise_kernel"`` are
    kernels; ``"bias"`` a bias; BatchNorm's ``gamma``, ``beta``,
    ``moving_mean`` and ``moving_variance`` themselves (LayerNorm's gamma
    and beta too); anything else is ``"other"``.

    Parameters
    ----------
    variable : Keras variable, or str
        A weight (its ``path`` or ``name`` is read) or such a name.
    """
    name = variable if isinstance(variable, str) else \
        str(getattr(variable, "path", None) or getattr(variable, "name", ""))
    last = name.split(":")[0].rsplit("/", 1)[-1].lower()
    if last.endswith("kernel"):
        return "kernel"
    return last if last in ROLES else "other"


def role_values(role: str, shape) -> np.ndarray:
    """The probe's value of a weight with this role and shape (float64).

    A kernel is ``cos(i * golden angle)`` over its flat index ``i``, scaled by
    ``sqrt(3 / fan_in)`` (``fan_in``: the product of all axes but the last);
    a bias, a beta and a moving mean are small patterns (about 0.1 to 0.2); a
    gamma and a moving variance are positive, around 1; anything else is a
    small pattern too.

    Parameters
    ----------
    role : str
        One of :data:`ROLES`.
    shape : tuple of int
        The weight's shape.

    Returns
    -------
    ndarray of the given shape
    """
    if role not in ROLES:
        raise ValueError(f"role: expected one of {', '.join(ROLES)}; got {role!r}")
    shape = tuple(int(d) for d in shape)
    i = np.arange(math.prod(shape), dtype=float)
    if role == "kernel":
        fan_in = math.prod(shape[:-1]) if len(shape) > 1 else max(1, math.prod(shape))
        values = np.cos(i * _STEP + 0.4) * math.sqrt(3.0 / max(1, fan_in))
    elif role == "bias":
        values = 0.1 * np.cos(i * _STEP + 1.1)
    elif role == "beta":
        values = 0.2 * np.sin(i * _STEP + 0.7)
    elif role == "moving_mean":
        values = 0.2 * np.cos(i * _STEP + 2.3)
    elif role == "gamma":
        values = 1.0 + 0.3 * np.cos(i * _STEP + 0.9)
    elif role == "moving_variance":
        values = 1.0 + 0.4 * np.sin(i * _STEP + 1.7)
    else:
        values = 0.1 * np.cos(i * _STEP + 2.9)
    return values.reshape(shape)


def probe_input(shape, dtype="float32", start=0) -> np.ndarray:
    """The fixed input batch of a probe: a pattern of the given shape, not random numbers.

    Parameters
    ----------
    shape : tuple of int
        The whole batch's shape, ``(N, ...)``.
    dtype : str
        The input's dtype; an integer input gets small whole numbers 0 to 4.
    start : int
        Where the flat index starts (a model's second input continues where
        its first ended, so two inputs of one shape get different values).

    Returns
    -------
    ndarray of ``shape`` and ``dtype``
        ``sin(1.2345 i) + 0.5 cos(0.0731 i)`` over the flat index ``i``.
    """
    shape = tuple(int(d) for d in shape)
    i = np.arange(math.prod(shape), dtype=float) + int(start)
    if np.dtype(dtype).kind in "iub":
        return ((i.astype(np.int64) * 7) % 5).astype(dtype).reshape(shape)
    return (np.sin(1.2345 * i) + 0.5 * np.cos(0.0731 * i)).reshape(shape).astype(dtype)


def summarise(output) -> list[float]:
    """At most :data:`MAX_VALUES` numbers of one output, rounded to 7 significant digits.

    Parameters
    ----------
    output : (N, ...) array_like
        One output of the model for the probe batch.

    Returns
    -------
    list of float
        All the values, flattened, when there are at most :data:`MAX_VALUES`;
        otherwise the mean of each channel (last axis; at most half of
        :data:`MAX_VALUES` of them, evenly spread) followed by values at
        evenly spread flat positions. Empty when a value is not finite.
    """
    out = np.asarray(output, dtype=np.float64)
    if out.size and not np.all(np.isfinite(out)):
        return []
    flat = out.ravel()
    if flat.size > MAX_VALUES:
        half = MAX_VALUES // 2
        means = out.reshape(-1, out.shape[-1]).mean(axis=0) if out.ndim > 1 else flat[:0]
        if means.size > half:
            means = means[np.linspace(0, means.size - 1, half).astype(int)]
        rest = MAX_VALUES - means.size
        flat = np.concatenate([means, flat[np.linspace(0, flat.size - 1, rest).astype(int)]])
    return [float(f"{v:.7g}") for v in flat.tolist()]


def _flat(value):
    if isinstance(value, dict):
        return [t for k in sorted(value) for t in _flat(value[k])]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat(v)]
    return [value]


def probe(model) -> list[list[float]]:
    """What ``model`` computes on the probe batch with its weights filled by role.

    Each float weight is set to :func:`role_values` of its :func:`weight_role`
    and shape, the model runs with ``training=False`` on a
    :func:`probe_input` batch of :data:`PROBE_BATCH` examples per input,
    and the model's own weights are put back (also when that fails).

    Parameters
    ----------
    model : keras.Model
        A built model (inputs with known shapes).

    Returns
    -------
    list of list of float
        One :func:`summarise` list per output, in ``model.outputs`` order;
        ``[]`` when the model cannot be probed (an input of unknown size,
        a layer that fails, a value that is not finite).
    """
    import keras

    try:
        batches, start = [], 0
        for tensor in model.inputs:  # each input its own stretch of the pattern
            shape = list(tensor.shape)
            batch = PROBE_BATCH if shape[0] is None else int(shape[0])
            if any(d is None for d in shape[1:]) or batch > MAX_BATCH:
                return []
            batches.append(probe_input([batch, *shape[1:]], str(tensor.dtype), start))
            start += batches[-1].size
        if not batches or sum(b.size for b in batches) > MAX_INPUT:
            return []
        weights = list(model.weights)
    except Exception:  # noqa: BLE001 - anything odd: no probe
        return []
    saved = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras' numpy 2 deprecation notes, structure notes
            for w in weights:
                if np.dtype(str(getattr(w, "dtype", "int32"))).kind != "f":
                    continue  # a seed or a counter: left as it is
                value = role_values(weight_role(w), tuple(w.shape))
                saved.append((w, _numpy(keras, w)))
                w.assign(value.astype(str(w.dtype)))
            out = model(batches[0] if len(batches) == 1 else batches, training=False)
            outputs = [_numpy(keras, t) for t in _flat(out)]
        if len(outputs) != len(model.outputs):
            return []
        probes = [summarise(o) for o in outputs]
        return [] if any(not p and np.size(o) for p, o in zip(probes, outputs)) else probes
    except Exception:  # noqa: BLE001 - a custom layer that fails, a weight that cannot be set
        return []
    finally:
        for w, value in saved:
            try:
                w.assign(value)
            except Exception:  # noqa: BLE001 - nothing more can be done
                pass


def _numpy(keras, value) -> np.ndarray:
    """A Keras variable or tensor as a numpy array."""
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(keras.ops.convert_to_numpy(value))


def probes_match(expected, got, rtol=RTOL) -> bool:
    """Whether two probes are the same within ``rtol``.

    Values compare with ``|got - expected| <= rtol * |expected| + rtol *
    max(1e-3, max |expected|)`` (float32 rounding of small values next to
    large ones). An empty probe (the model could not be probed) equals only
    an empty probe.

    Parameters
    ----------
    expected, got : list of list of float
        :func:`probe`'s results, the teacher's and the student's.
    """
    if not isinstance(expected, (list, tuple)) or not isinstance(got, (list, tuple)) or \
            len(expected) != len(got):
        return False
    for want, have in zip(expected, got):
        try:
            want = np.asarray(want, dtype=float)
            have = np.asarray(have, dtype=float)
        except (TypeError, ValueError):
            return False
        if want.ndim != 1 or want.shape != have.shape:
            return False
        if want.size == 0:
            continue
        scale = max(1e-3, float(np.max(np.abs(want))))
        if not np.allclose(have, want, rtol=rtol, atol=rtol * scale, equal_nan=False):
            return False
    return True
