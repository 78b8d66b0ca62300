"""Checkers for the Keras exercises of lessons 09 and 11: LeNet-5 and residual blocks.

Each checker builds the learner's network on small ``keras.Input`` tensors,
then compares it with the course's version (:mod:`cnnlab.models`): output
shapes, parameter counts, and a forward pass with *fixed weights* — never
training. Both networks get the same weights by :func:`fixed_weights`, which
fills every weight from its role (kernel, bias, BN scale, ...) and its shape
alone, so the order in which the learner created the layers does not matter.
At the first difference a :class:`~cnnlab.checks.CheckFailed` names the
likely mistake, found by building the network with that mistake and
comparing (a missing ReLU, 'same' padding, the shortcut added after the
final ReLU, ...). Lesson 10's Inception checker (:mod:`.receptive`) builds on
the same helpers: :func:`block_model`, :func:`forward_fixed`, :func:`outputs_close`.
"""

from __future__ import annotations

import zlib

import numpy as np

from .. import kernels
from . import _hints
from ._calls import DEFAULT_TIME_LIMIT, OutOfTime, check_time_limit, run_limited
from ._results import CheckFailed, NotAFunction, passed, short_traceback

__all__ = ["check_lenet5", "check_residual_block", "fixed_weights"]

MAIN = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Dense")   # LeNet's layers with a role
FOLLOW = ("Activation", "ReLU", "Softmax", "LeakyReLU")             # what may follow them


def keras_module():
    from ..session import import_keras
    return import_keras()


# --------------------------------------------------------------------------
# Shared: fixed weights, building the learner's network
# --------------------------------------------------------------------------

def fixed_weights(model):
    """Give every weight of ``model`` a value fixed by its role and shape alone.

    Kernels: He-normal numbers; biases, BN shifts and means: small normal
    numbers; BN scales and variances: from 0.5 to 1.5. Two networks built from
    the same layers get the same weights, whatever their order.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    keras.Model
        ``model`` itself, its weights set.
    """
    if not hasattr(model, "layers"):
        raise TypeError(f"`model` must be a Keras model, got {_hints.short(model)}")
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([_fixed(w) for w in layer.weights])
    return model


def _fixed(weight):
    shape = tuple(int(n) for n in weight.shape)
    role = weight.name.split("/")[-1]
    rng = np.random.default_rng(zlib.crc32(f"{role}{shape}".encode()))
    if role in ("gamma", "moving_variance", "coefficient"):
        return rng.uniform(0.5, 1.5, shape).astype("float32")
    if role in ("beta", "moving_mean", "bias"):
        return rng.normal(0.0, 0.1, shape).astype("float32")
    fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype("float32")


def check_builder(fn):
    if not callable(fn):
        raise NotAFunction(f"Expected a function for `fn`, got {_hints.short(fn)}.",
                           hint="Pass the function itself, without calling it: "
                                "check_...(my_function), not check_...(my_function()).")
    if isinstance(fn, keras_module().Model):
        raise NotAFunction("Expected the function that builds the network, got a Keras model.",
                           hint="Pass the builder itself: check_...(build_lenet5), not "
                                "check_...(build_lenet5()).")
    return getattr(fn, "__name__", None) or type(fn).__name__


def _call(fn, args, text, limit, error_hint):
    """``fn(*args)`` under the time limit; what it raises becomes a CheckFailed with a hint."""
    try:
        return run_limited(fn, args, {}, limit)
    except OutOfTime:
        raise CheckFailed(f"The call did not finish within {limit:g} s.", call=text,
                          hint=_hints.too_slow(limit)) from None
    except Exception as exc:  # the learner's code failed: explain instead of a traceback
        problem, hint = _hints.raised(exc)
        special = None if isinstance(exc, NotImplementedError) else error_hint(exc)
        raise CheckFailed(problem, call=text, hint=special or hint) from None


def block_model(fn, shape, args, text, limit, error_hint):
    """keras.Model from ``keras.Input(shape)`` to what ``fn(x, *args)`` returns."""
    keras = keras_module()
    x = keras.Input(shape=shape, name="x")
    y = _call(fn, (x, *args), text, limit, error_hint)
    if not isinstance(y, keras.KerasTensor):
        raise CheckFailed(f"The function returned {_hints.short(y)}, not a Keras tensor.",
                          call=text,
                          hint="Return the output tensor of the last layer (y = layer(...)(y); "
                               "return y), not a model, an array or None.")
    return keras.Model(x, y)


def forward_fixed(model, inputs):
    return np.asarray(fixed_weights(model)(inputs, training=False), dtype=float)


def random_inputs(shape, batch=2, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, *shape)).astype("float32")


def outputs_close(a, b):
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-4))


# --------------------------------------------------------------------------
# LeNet-5 (lesson 09)
# --------------------------------------------------------------------------

LENET_ROWS = (("C1", "Conv2D", (28, 28, 6), 156), ("S2", "MaxPooling2D", (14, 14, 6), 0),
              ("C3", "Conv2D", (10, 10, 16), 2416), ("S4", "MaxPooling2D", (5, 5, 16), 0),
              ("C5", "Conv2D", (1, 1, 120), 48120), ("F6", "Dense", (84,), 10164),
              ("output", "Dense", (10,), 850))


@short_traceback
def check_lenet5(fn, *, time_limit=30.0):
    """Check ``fn()``, a modern LeNet-5 in Keras, against ``lenet.build_lenet5("modern")``.

    Parameters
    ----------
    fn : callable
        ``fn()`` returning a Keras model from ``(N, 28, 28, 1)`` digits
        (zero-padded to 32x32 inside) to ``(N, 10)`` probabilities: C1, S2,
        C3, S4, C5, F6 and output as in lesson 09's table, ReLU and 2x2 max
        pooling, softmax at the end.
    time_limit : float or None
        Seconds the call may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult
        Checks: the input and output shapes, every layer's kind, output shape
        and parameters, and every layer's output on 4 images with fixed weights.
    """
    name = check_builder(fn)
    limit = check_time_limit(time_limit)
    keras = keras_module()
    text = f"{name}()"
    model = _call(fn, (), text, limit, _lenet_error_hint)
    if not isinstance(model, keras.Model):
        raise CheckFailed(f"{name} returned {_hints.short(model)}, not a Keras model.", call=text,
                          hint="End with `return keras.Model(inputs, outputs)` (or return your "
                               "keras.Sequential).")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise CheckFailed("The model has no input yet.", call=text,
                          hint="Start with keras.Input(shape=(28, 28, 1)), so Keras knows every "
                               "layer's shape.")
    if tuple(inputs[0].shape) != (None, 28, 28, 1):
        raise CheckFailed(f"The model takes {tuple(inputs[0].shape)}, not (None, 28, 28, 1).",
                          call=text, hint="The model takes the 28x28 MNIST digit, "
                          "keras.Input(shape=(28, 28, 1)), and pads it to 32x32 inside with "
                          "layers.ZeroPadding2D(2).")
    groups = _groups(model)
    _lenet_table(groups, text)
    if model.count_params() != 61706:
        raise CheckFailed(f"The model has {model.count_params():,} parameters, not 61,706.",
                          call=text, hint="Only C1, C3, C5, F6 and output hold weights: "
                          "remove any other layer with weights.")
    _lenet_values(model, groups, text)
    return passed(name, 3 + 2 * len(LENET_ROWS), ["layer kinds", "output shapes", "parameters",
                                                  "forward pass with fixed weights"])


def _lenet_error_hint(exc):
    text = str(exc).lower()
    if "zero or negative" in text or "negative dimension" in text:
        return ("The maps shrink to nothing before C5: pad the 28x28 digit to 32x32 first "
                "(layers.ZeroPadding2D(2)); then 5x5 'valid' convolutions and 2x2 pooling give "
                "28, 14, 10, 5 and 1.")
    if "flatten" in text or "dense" in text:
        return "A Dense layer takes a vector: Flatten after C5, before F6."
    return None


def _groups(model):
    """[main layer, following activations...] for each layer of LeNet's table."""
    groups, previous = [], None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in MAIN:
            groups.append([layer])
        elif kind in FOLLOW and groups and groups[-1][-1] is previous:
            groups[-1].append(layer)
        previous = layer
    return groups


def _lenet_table(groups, text):
    got = [(type(g[0]).__name__, tuple(g[-1].output.shape[1:]), g[0].count_params())
           for g in groups]
    for i, (label, kind, shape, params) in enumerate(LENET_ROWS):
        if i >= len(got):
            raise CheckFailed(f"Your model has only {len(got)} layers with a role; {label} "
                              f"({kind}) is missing.", call=text,
                              hint="LeNet-5 is C1 conv - S2 pool - C3 conv - S4 pool - C5 conv - "
                                   "flatten - F6 dense - output dense.")
        if got[i] != (kind, shape, params):
            hint = _lenet_layer_hint(groups[i][0], label, kind, shape, params, got[i])
            raise CheckFailed(f"Layer {label}: expected {kind} with output {shape} and "
                              f"{params:,} parameters, got {got[i][0]} with output {got[i][1]} "
                              f"and {got[i][2]:,}.", call=text, hint=hint)
    if len(got) > len(LENET_ROWS):
        raise CheckFailed(f"Your model has {len(got)} layers with a role, LeNet-5 has 7.",
                          call=text, hint="After the output layer (Dense 10, softmax) nothing "
                                          "more: remove the extra layers.")


def _lenet_layer_hint(layer, label, kind, shape, params, got):
    got_kind, got_shape, got_params = got
    if kind == "Conv2D" and got_kind == "Dense":
        return (f"{label} is a convolution (Conv2D, 5x5): flatten only after C5, just before F6. "
                "A Flatten placed earlier turns the maps into a vector too soon.")
    if kind == "MaxPooling2D" and got_kind == "AveragePooling2D":
        return f"{label} of the modern LeNet-5 is 2x2 max pooling (MaxPooling2D(2))."
    if got_kind != kind:
        return f"Layer {label} should be a {kind}; yours is a {got_kind}. Check the order of the layers."
    if kind == "Dense" and len(got_shape) > 1:
        return (f"A Dense layer on maps keeps their grid: put layers.Flatten() after C5, so "
                f"{label} gets a vector of 120 numbers.")
    if kind == "Dense" and got_shape != shape:
        return f"{label} has {shape[0]} units: Dense({shape[0]}), not Dense({got_shape[0]})."
    in_shape = tuple(layer.input.shape[1:])
    if kind == "Conv2D" and got_shape[:2] == in_shape[:2] and shape[:2] != in_shape[:2]:
        return (f"'same' padding keeps the {in_shape[0]}x{in_shape[1]} grid, but LeNet's "
                f"convolutions are 'valid' (the default): {label} gives {shape[0]}x{shape[1]}.")
    if label == "C1" and got_shape[:2] == (24, 24):
        return ("C1 gets 28x28 instead of 32x32: pad the digit first with "
                "layers.ZeroPadding2D(2), 2 zeros on every side.")
    if got_shape[-1] != shape[-1]:
        return f"{label} has {shape[-1]} maps: {kind}({shape[-1]}, ...)."
    if got_shape != shape:
        return (f"{label} should give {shape}: 5x5 convolutions with 'valid' padding and 2x2 "
                "pooling with stride 2.")
    return (f"{label} should hold {params:,} parameters: 5x5 kernels over every input map and "
            "one bias per filter (the default use_bias=True).")


def _lenet_values(model, groups, text):
    from ..models import lenet
    keras = keras_module()
    reference = fixed_weights(lenet.build_lenet5("modern"))
    fixed_weights(model)
    images = np.random.default_rng(9).uniform(size=(4, 28, 28, 1)).astype("float32")
    probe = keras.Model(model.inputs[0], [g[-1].output for g in groups])
    names = [label for label, *_ in LENET_ROWS]
    ref_probe = keras.Model(reference.inputs[0], [reference.get_layer(n).output for n in names])
    got = [np.asarray(v, dtype=float) for v in probe(images, training=False)]
    want = [np.asarray(v, dtype=float) for v in ref_probe(images, training=False)]
    previous = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0))).astype(float)
    for i, (label, kind, *_) in enumerate(LENET_ROWS):
        if not outputs_close(got[i], want[i]):
            layer = reference.get_layer(label)
            hint = _lenet_value_hint(layer, kind, label, previous, got[i])
            raise CheckFailed(f"Every shape and parameter count is right, but the output of "
                              f"{label} is wrong (same fixed weights in both models).",
                              call=text, expected=want[i], got=got[i], hint=hint)
        previous = want[i]


def _lenet_value_hint(layer, kind, label, x, got):
    if kind == "MaxPooling2D":
        if outputs_close(got, kernels.avg_pool2d(x, 2)):
            return f"{label} averages: use max pooling, layers.MaxPooling2D(2)."
        return f"{label} is 2x2 max pooling with stride 2."
    w = [np.asarray(v, dtype=float) for v in layer.get_weights()]
    if kind == "Conv2D":
        linear = kernels.conv2d(x, w[0], w[1])
    else:
        linear = x.reshape(len(x), -1) @ w[0] + w[1]
    exp = np.exp(linear - linear.max(axis=-1, keepdims=True))
    variants = [(linear, f"{label} has no activation: add activation=\"relu\""
                         + (" (\"softmax\" for the output layer)." if label == "output" else ".")),
                (np.tanh(linear), f"{label} uses tanh: the modern LeNet-5 uses ReLU."),
                (1 / (1 + np.exp(-linear)), f"{label} uses the sigmoid: the modern LeNet-5 uses ReLU."),
                (np.maximum(linear, 0), "The output layer needs softmax (probabilities), not ReLU."),
                (exp / exp.sum(axis=-1, keepdims=True), f"{label} needs ReLU, not softmax: only "
                                                        "the output layer has softmax.")]
    for value, hint in variants:
        if outputs_close(got, value):
            return hint
    return (f"Check {label}'s activation (ReLU; softmax for the output) and that it reads the "
            "layer before it.")


# --------------------------------------------------------------------------
# Residual blocks (lesson 11)
# --------------------------------------------------------------------------

def _residual(x, filters, *, f=3, stride=1, bottleneck=False, batch_norm=True, stride_at=0,
              mid_relu=True, final="after_add", project=None):
    """A basic or bottleneck block, or one of its mistaken versions.

    ``stride_at`` is the index of the convolution of the branch that takes
    the stride (0 for the basic block's first 3x3; the bottleneck's 3x3 is 1).
    """
    layers = keras_module().layers

    def conv(t, maps, k, s, relu):
        t = layers.Conv2D(maps, k, strides=s, padding="same", use_bias=False)(t)
        t = layers.BatchNormalization()(t) if batch_norm else t
        return layers.ReLU()(t) if relu else t

    out = 4 * filters if bottleneck else filters
    plan = [(filters, 1), (filters, f), (out, 1)] if bottleneck else [(filters, f), (filters, f)]
    y = x
    for i, (maps, k) in enumerate(plan):
        y = conv(y, maps, k, stride if i == stride_at else 1, mid_relu and i < len(plan) - 1)
    shortcut = x
    if project or (project is None and (stride != 1 or x.shape[-1] != out)):
        shortcut = conv(x, out, 1, stride, False)
    if final == "before_add":
        return layers.Add()([layers.ReLU()(y), shortcut])
    y = layers.Add()([y, shortcut])
    return layers.ReLU()(y) if final == "after_add" else y


#: (input shape, arguments) of each kind of block; the lesson's example first.
BLOCK_CASES = {
    "identity": (((28, 28, 16), (3,)), ((6, 6, 4), (3,)), ((5, 7, 3), (5,)), ((4, 4, 2), (1,))),
    "projection": (((28, 28, 16), (32, 2)), ((7, 7, 3), (5, 2)), ((6, 6, 4), (8, 1)),
                   ((9, 9, 2), (3, 3))),
    "bottleneck": (((14, 14, 256), (64, 1)), ((6, 6, 8), (2, 1)), ((6, 6, 4), (3, 1)),
                   ((7, 7, 8), (4, 2))),
}
BLOCK_ARGS = {"identity": ("f",), "projection": ("filters", "stride"),
              "bottleneck": ("filters", "stride")}


def _reference_block(kind, x, args):
    if kind == "identity":
        return _residual(x, x.shape[-1], f=args[0])
    if kind == "projection":
        return _residual(x, args[0], stride=args[1], project=True)
    return _residual(x, args[0], stride=args[1], bottleneck=True, stride_at=1)


BLOCK_KINDS = tuple(BLOCK_CASES)


@short_traceback
def check_residual_block(fn, kind, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a residual block written with Keras layers (lesson 11), by kind.

    Parameters
    ----------
    fn : callable
        ``kind="identity"``: ``fn(x, f)``, ``relu(F(x) + x)`` with ``F`` = conv
        fxf - BN - ReLU - conv fxf - BN keeping ``x``'s ``C`` channels.
        ``"projection"``: ``fn(x, filters, stride)``, ``F`` = conv 3x3 (stride
        ``stride``) - BN - ReLU - conv 3x3 - BN and the shortcut conv 1x1
        (stride ``stride``) - BN, as ``resnet.residual_block``.
        ``"bottleneck"``: ``fn(x, filters, stride)``, as
        ``resnet.bottleneck_block``: 1x1 - 3x3 (stride) - 1x1 to ``4 * filters``,
        the shortcut projected only when the shape changes. ``x`` is a
        ``(N, H, W, C)`` Keras tensor; no convolution has a bias; every one has
        'same' padding; the block returns ``relu(F(x) + shortcut)``.
    kind : {"identity", "projection", "bottleneck"}
    time_limit : float or None
        Seconds each call may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult
    """
    if kind not in BLOCK_KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(map(repr, BLOCK_KINDS))}, got "
                         f"{_hints.short(kind)}")
    return _check_block(fn, kind, time_limit)


def _check_block(fn, kind, time_limit):
    name = check_builder(fn)
    limit = check_time_limit(time_limit)
    keras = keras_module()
    for shape, args in BLOCK_CASES[kind]:
        shown = ", ".join(f"{a}={v}" for a, v in zip(BLOCK_ARGS[kind], args))
        text = f"{name}(keras.Input(shape={shape}), {shown})"
        model = block_model(fn, shape, args, text, limit, lambda exc: _add_hint(kind, exc))
        x = keras.Input(shape=shape)
        reference = keras.Model(x, _reference_block(kind, x, args))
        want_shape, got_shape = tuple(reference.output.shape), tuple(model.output.shape)
        if got_shape != want_shape:
            raise CheckFailed(f"Expected output shape {want_shape} but got {got_shape}.", call=text,
                              hint=_block_shape_hint(kind, args, want_shape, got_shape))
        if model.count_params() != reference.count_params():
            raise CheckFailed(f"Expected {reference.count_params():,} parameters but the block has "
                              f"{model.count_params():,}.", call=text,
                              hint=_census_hint(kind, model, reference))
        images = random_inputs(shape, 1 if shape[0] > 10 else 2, seed=11)
        want, got = forward_fixed(reference, images), forward_fixed(model, images)
        if not outputs_close(got, want):
            raise CheckFailed("Shapes and parameters are right, but the values are not (same "
                              "fixed weights in both, batch norm in inference mode).", call=text,
                              expected=want, got=got,
                              hint=_block_value_hint(kind, shape, args, images, got))
    return passed(name, 3 * len(BLOCK_CASES[kind]), ["output shapes", "parameters",
                                                     "forward pass with fixed weights"])


def _add_hint(kind, exc):
    text = str(exc).lower()
    if not any(w in text for w in ("incompatible shapes", "broadcast")):
        return None
    if kind == "identity":
        return ("F(x) and x must have the same shape to be added: keep x's channels "
                "(filters = x.shape[-1]), stride 1 and padding=\"same\".")
    return ("F(x) and the shortcut reach the addition with different shapes: the shortcut is a 1x1 "
            "convolution with the same stride as the strided convolution of F and as many maps "
            "as F's output; padding=\"same\" everywhere.")


def _block_shape_hint(kind, args, want, got):
    if got[-1] != want[-1]:
        if kind == "bottleneck":
            return (f"The last 1x1 convolution restores 4 * filters = {want[-1]} channels; the "
                    "block's output has that many.")
        return f"The output has {want[-1]} channels: every convolution of F gives that many."
    if got[1:3] != want[1:3]:
        stride = 1 if kind == "identity" else args[1]
        return (f"The grid should be {want[1]}x{want[2]}: one convolution of F has stride "
                f"{stride} (the {'3x3' if kind == 'bottleneck' else 'first'}), the others "
                "stride 1, all with padding=\"same\".")
    return "Return the tensor after the addition and the final ReLU."


def _census(model):
    convs = sorted((tuple(l.kernel_size), tuple(l.strides), l.filters, l.use_bias)
                   for l in model.layers if type(l).__name__ == "Conv2D")
    norms = sum(type(l).__name__ == "BatchNormalization" for l in model.layers)
    return convs, norms


def _census_hint(kind, model, reference):
    (convs, norms), (want_convs, want_norms) = _census(model), _census(reference)
    if any(c[3] for c in convs):
        return ("The convolutions have biases: give them use_bias=False — the batch norm after "
                "each one shifts its output anyway.")
    if len(convs) > len(want_convs):
        return ("The identity block's shortcut is x itself: no convolution on it." if kind ==
                "identity" else "The shortcut is x itself when it already has F(x)'s shape: "
                "project only when the stride or the channels change.")
    if len(convs) < len(want_convs):
        return "A convolution is missing: count them against the exercise's text."
    if norms < want_norms:
        return (f"A batch normalisation is missing: {want_norms} in all, one after every "
                "convolution (the projection's too).")
    if norms > want_norms:
        return f"Too many batch normalisations: one after each convolution, {want_norms} in all."
    sizes = [c[0] for c in convs]
    want_sizes = [c[0] for c in want_convs]
    if sorted(sizes) != sorted(want_sizes):
        return ("Some kernels have the wrong size: the shortcut's projection is 1x1, "
                + ("the bottleneck's are 1x1, 3x3, 1x1." if kind == "bottleneck"
                   else "the two convolutions of F are " + "x".join([str(want_sizes[-1][0])] * 2)
                   + "."))
    return "Check the number of maps of each convolution."


def _block_value_hint(kind, shape, args, images, got):
    keras = keras_module()
    other = {"identity": (), "projection": (("stride_at", 1),),
             "bottleneck": (("stride_at", 0), ("stride_at", 2))}[kind]
    variants = [(("final", "before_add"),), (("final", "none"),), (("mid_relu", False),),
                *((o,) for o in other)]
    texts = {"before_add": "The shortcut is added after the final ReLU: add first, then ReLU — "
                           "y = relu(F(x) + shortcut).",
             "none": "The final ReLU is missing: y = relu(F(x) + shortcut).",
             "mid_relu": "A ReLU inside F is missing: after each batch norm except the last.",
             "stride_at": "The stride is on the wrong convolution: "
                          + ("it belongs on the 3x3 (the middle one)." if kind == "bottleneck"
                             else "it belongs on the first 3x3 of F.")}
    for options in variants:
        x = keras.Input(shape=shape)
        if kind == "identity":
            kwargs = dict(f=args[0])
            filters, stride = shape[-1], 1
        else:
            filters, stride = args
            kwargs = dict(bottleneck=kind == "bottleneck",
                          stride_at=1 if kind == "bottleneck" else 0,
                          project=True if kind == "projection" else None)
        kwargs.update(dict(options))
        model = keras.Model(x, _residual(x, filters, stride=stride, **kwargs))
        if outputs_close(got, forward_fixed(model, images)):
            key = options[0][0] if options[0][0] != "final" else options[0][1]
            return texts[key]
    return ("Check the order inside F: conv - BN - ReLU - ... - conv - BN, then add the shortcut, "
            "then the final ReLU.")
