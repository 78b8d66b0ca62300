"""The MNIST network of lesson 07 and a numpy forward pass through Keras models.

Builders are plain functions returning Keras functional models with fixed
layer names, so ``model.summary()`` and ``model.get_layer("conv1")`` read the
same on every run. Their weights come from seeded initialisers: the same
``seed`` gives the same untrained network.

:func:`load_mnist_cnn` opens the trained copy the course ships
(``data/weights/mnist_cnn.keras``, made by ``python -m cnnlab.train mnist-cnn``).

:func:`forward_numpy` runs a chain of layers with the hand-written numpy
kernels of :mod:`cnnlab.kernels`, reading the weights out of a Keras model,
so a lesson can check that the library computes nothing more than
convolution, activation, pooling, reshaping and matrix products.
"""

from __future__ import annotations

import numpy as np

from .. import activations, kernels, pooling
from .._validate import (
    as_array, check_feature_maps, check_flag, check_image_shape, check_int, check_params,
    check_real, check_seed, describe, side_after, smallest_side,
)

__all__ = ["build_mnist_cnn", "load_mnist_cnn", "mnist_cnn_layers", "forward_numpy",
           "SUPPORTED_LAYERS", "MNIST_SHAPE"]

MNIST_SHAPE = (28, 28, 1)
#: (kernel, stride, padding) of the layers of build_mnist_cnn that shrink the grid.
_MNIST_STEPS = ((3, 1, "valid"), (2, 2, "valid"), (3, 1, "valid"), (2, 2, "valid"))


def mnist_cnn_layers(n_classes=10, dropout=0.5) -> list:
    """The MNIST network of lesson 07 as a stack for :func:`cnnlab.shapes.layer_table`.

    28x28x1 -> conv 32@3x3 (ReLU) -> max-pool 2x2 -> conv 64@3x3 (ReLU) ->
    max-pool 2x2 -> flatten -> dense 512 (ReLU) -> dropout -> dense ``n_classes``
    (softmax). Activations are folded into the layers they follow, as in
    :func:`build_mnist_cnn`.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    _check_dropout(dropout)
    return [
        ("conv2d", {"filters": 32, "kernel_size": 3}),
        ("max_pool2d", {"pool_size": 2}),
        ("conv2d", {"filters": 64, "kernel_size": 3}),
        ("max_pool2d", {"pool_size": 2}),
        "flatten",
        ("dense", {"units": 512}),
        ("dropout", {"rate": dropout}),
        ("dense", {"units": n_classes}),
    ]


def build_mnist_cnn(seed=0, *, input_shape=MNIST_SHAPE, n_classes=10, dropout=0.5):
    """The small convolutional network for MNIST (lesson 07), untrained.

    ========  =============================  ================
    layer     what                           output (28x28x1)
    ========  =============================  ================
    image     input                          28 x 28 x 1
    conv1     32 filters 3x3, ReLU           26 x 26 x 32
    pool1     max 2x2, stride 2              13 x 13 x 32
    conv2     64 filters 3x3, ReLU           11 x 11 x 64
    pool2     max 2x2, stride 2              5 x 5 x 64
    flatten   one vector                     1600
    dense     512 units, ReLU                512
    dropout   rate ``dropout`` (training)    512
    output    ``n_classes`` units, softmax   10
    ========  =============================  ================

    Parameters
    ----------
    seed : int
        Seeds every initialiser (Glorot uniform weights, zero biases) and the
        dropout layer: the same seed gives the same network.
    input_shape : (H, W, C) tuple of int
        At least 10x10: two 3x3 convolutions and two 2x2 poolings leave one
        cell of a 10x10 image.
    n_classes : int
    dropout : float
        Fraction of the dense units dropped during training, in [0, 1).

    Returns
    -------
    keras.Model
        Named ``"mnist_cnn"``; its input is ``(N, H, W, C)``, its output
        ``(N, n_classes)`` probabilities.

    Raises
    ------
    ValueError
        Also for an image so large, or so many classes, that the network
        would pass ``cnnlab._validate.MAX_PARAMS`` (150 million) parameters.
    """
    seed = check_seed(seed)
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    h, w, c = input_shape = _check_image_shape(input_shape, smallest_side(_MNIST_STEPS))
    _check_dropout(dropout)
    check_feature_maps(h, w, 32)
    flat = side_after(h, _MNIST_STEPS) * side_after(w, _MNIST_STEPS) * 64
    check_params(9 * c * 32 + 32 + 9 * 32 * 64 + 64 + flat * 512 + 512 + 513 * n_classes,
                 "`input_shape` and `n_classes`")
    import keras

    def init(i):
        return keras.initializers.GlorotUniform(seed=seed * 100 + i)

    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, 3, activation="relu", kernel_initializer=init(1), name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", kernel_initializer=init(2), name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", kernel_initializer=init(3), name="dense")(x)
    x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", kernel_initializer=init(4),
                           name="output")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn")


def load_mnist_cnn():
    """The lesson-07 network trained on MNIST, as the course ships it (lesson 07).

    The same architecture as :func:`build_mnist_cnn` (same layer names),
    trained by ``python -m cnnlab.train mnist-cnn`` (2 epochs, about a minute
    on 2 cores); its record, with the test accuracy of every epoch, is
    ``cnnlab.weights.load_json("mnist_cnn.json")``. The file is checked first
    (present, whole, the shipped SHA-256).

    Returns
    -------
    keras.Model
        ``(N, 28, 28, 1)`` images in [0, 1] -> ``(N, 10)`` probabilities;
        uncompiled (``compile`` it to ``evaluate`` or train it further).

    Raises
    ------
    cnnlab.weights.ModelFileError
        When ``data/weights/mnist_cnn.keras`` is missing (also a
        ``FileNotFoundError``) or damaged; the message names the file and the
        commands that restore it (``git checkout -- data/weights/mnist_cnn.keras``)
        or make it again (``python -m cnnlab.train mnist-cnn``).
    """
    from .saved import open_model

    return open_model("mnist_cnn", "name")


# --------------------------------------------------------------------------
# The forward pass in numpy
# --------------------------------------------------------------------------

SUPPORTED_LAYERS = (
    "InputLayer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
    "Flatten", "Dense", "Dropout", "Activation", "ReLU", "LeakyReLU",
)

_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": activations.relu,
    "leaky_relu": activations.leaky_relu,
    "sigmoid": activations.sigmoid,
    "tanh": activations.tanh,
    "softmax": activations.softmax,
}


def forward_numpy(model, x, *, steps=False):
    """Run a Keras model layer by layer with the numpy kernels of :mod:`cnnlab`.

    The model must be a chain (each layer feeds the next, like
    :func:`build_mnist_cnn`) of the layer types in ``SUPPORTED_LAYERS``, with
    channels-last data. Inference mode: dropout passes its input through.
    Computed in float64, so it agrees with Keras (float32) to about 1e-6.

    Parameters
    ----------
    model : keras.Model
    x : (N, *input_shape) array_like
        A batch, e.g. ``(N, 28, 28, 1)`` for :func:`build_mnist_cnn`.
    steps : bool
        Also return every intermediate result.

    Returns
    -------
    (N, ...) ndarray
        The model's output; with ``steps=True`` a list of
        ``(layer name, array)`` pairs, one per layer, the last being the output.
    """
    layers = _chain(model)
    steps = check_flag(steps, "steps")
    x = as_array(x, "x").astype(np.float64)
    want = tuple(model.inputs[0].shape[1:])
    fits = len(x.shape) == len(want) + 1 and all(
        n is None or n == m for n, m in zip(want, x.shape[1:]))
    if not fits:
        hint = ("; add the channel axis with x[..., None]"
                if len(x.shape) == len(want) and all(n is None or n == m for n, m in
                                                     zip(want[:-1], x.shape[1:])) else "")
        raise ValueError(
            f"`x` must have shape (N, {', '.join(str(n) for n in want)}) for this model, "
            f"got {x.shape}{hint}")
    if len(x) == 0:
        raise ValueError("`x` must hold at least one example, got an empty batch")
    results = []
    for layer in layers:
        x = _apply(layer, x)
        results.append((layer.name, x))
    return results if steps else x


def _chain(model):
    """The model's layers in order, refusing what forward_numpy cannot run."""
    try:
        layers, inputs, outputs = model.layers, model.inputs, model.outputs
    except Exception:  # noqa: BLE001 - not a (built) Keras model
        layers = inputs = outputs = None
    if not isinstance(layers, list) or inputs is None or outputs is None:
        raise TypeError(f"`model` must be a Keras model, got {describe(model)}")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError("`model` must have one input and one output (a chain of layers)")
    for layer in layers:
        kind = type(layer).__name__
        if kind not in SUPPORTED_LAYERS:
            raise ValueError(
                f"layer {layer.name!r} is a {kind}, which forward_numpy does not run; "
                f"supported: {', '.join(SUPPORTED_LAYERS)}")
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise ValueError(f"layer {layer.name!r} must use data_format='channels_last'")
    return [layer for layer in layers if type(layer).__name__ != "InputLayer"]


def _apply(layer, x):
    """One layer on a float64 batch."""
    kind = type(layer).__name__
    weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    if kind == "Conv2D":
        if layer.groups != 1:
            raise ValueError(f"layer {layer.name!r}: grouped convolutions are not supported")
        y = kernels.conv2d(x, weights[0], weights[1] if layer.use_bias else None,  # (N, H', W', K)
                           stride=layer.strides, padding=layer.padding,
                           dilation=layer.dilation_rate)
        return _activate(layer, y)
    if kind == "Dense":
        if x.ndim != 2:
            raise ValueError(f"layer {layer.name!r}: needs (N, n) inputs, got {x.shape}")
        y = x @ weights[0]  # (N, n) @ (n, units) -> (N, units)
        if layer.use_bias:
            y = y + weights[1]
        return _activate(layer, y)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        pool = pooling.max_pool2d if kind == "MaxPooling2D" else pooling.avg_pool2d
        return pool(x, layer.pool_size, layer.strides, layer.padding)  # (N, H', W', C)
    if kind == "GlobalAveragePooling2D":
        y = pooling.global_avg_pool2d(x)  # (N, C)
        return y[:, None, None, :] if layer.keepdims else y
    if kind == "Flatten":
        return x.reshape(len(x), -1)  # (N, H * W * C), rows then columns then channels
    if kind == "Dropout":
        return x  # inference: nothing is dropped
    if kind == "ReLU":
        if layer.max_value is not None or layer.threshold != 0:
            raise ValueError(f"layer {layer.name!r}: only a plain ReLU (no max_value, threshold 0)")
        slope = float(layer.negative_slope)
        return activations.leaky_relu(x, slope) if slope else activations.relu(x)
    if kind == "LeakyReLU":
        return activations.leaky_relu(x, float(layer.negative_slope))
    return _activate(layer, x)  # Activation


def _activate(layer, y):
    name = getattr(layer.activation, "__name__", str(layer.activation))
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"layer {layer.name!r}: activation {name!r} is not supported; "
            f"supported: {', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[name](y)


def _check_image_shape(shape, min_side=1) -> tuple:
    return check_image_shape(shape, "input_shape", min_side=min_side)


def _check_dropout(dropout) -> float:
    if isinstance(dropout, (bool, np.bool_)) or not isinstance(dropout, (int, float, np.floating)):
        raise TypeError(f"`dropout` must be a number in [0, 1), got {describe(dropout)}")
    return check_real(dropout, "dropout", minimum=0, below=1)
