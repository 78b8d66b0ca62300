"""Neural style transfer in miniature (lesson 12).

A trained network's feature maps describe an image at two levels:

- *content*: which features fire *where* (the feature maps themselves);
- *style*: which features fire *together*, wherever they are. The Gram
  matrix of a layer, ``G[c, d] = mean over positions of F[., ., c] * F[., ., d]``,
  keeps those co-occurrences and forgets the positions.

Style transfer starts from the content image and changes its pixels by
gradient descent to lower ``content_weight * content_loss + style_weight *
style_loss``: keep the content image's deep features, take on the style
image's Gram matrices.

The network is small and the course's own: a fully convolutional classifier
trained on Fashion-MNIST (:func:`build_feature_network`), shipped as
``data/weights/style_features.keras`` (:func:`load_style_features`). Its
training is :func:`cnnlab.train.style.train_style_features`, also reachable
as ``style.train_style_features``; the shipped copy was made from the course
folder by::

    python -m cnnlab.train style-features

Having no dense layer before its global average pooling, it accepts images of
any size, e.g. a 64x64 photo.
"""

from __future__ import annotations

import importlib
import numbers

import numpy as np

from .._validate import as_array, check_allocation, check_int, check_seed, describe
from .saved import open_model

__all__ = [
    "CONTENT_LAYER",
    "STYLE_LAYERS",
    "build_feature_network",
    "content_loss",
    "feature_extractor",
    "gram_matrix",
    "load_style_features",
    "stripes",
    "style_loss",
]

STYLE_LAYERS = ("conv1", "conv2", "conv3")
CONTENT_LAYER = "conv4"
WEIGHTS_NAME = "style_features"


def gram_matrix(features):
    """Channel-by-channel products of feature maps, averaged over positions.

    Parameters
    ----------
    features : (H, W, C) or (N, H, W, C) array_like or tensor

    Returns
    -------
    (C, C) or (N, C, C)
        ``G[c, d] = sum_{i, j} F[i, j, c] * F[i, j, d] / (H * W)``. A numpy
        array for numpy input, a tensor for a tensor (so gradients flow).

    Examples
    --------
    >>> gram_matrix(np.ones((2, 2, 3)))
    array([[1., 1., 1.],
           [1., 1., 1.],
           [1., 1., 1.]])
    """
    if not _is_tensor(features):
        f = as_array(features, "features", ndims=(3, 4))
        h, w = f.shape[-3:-1]
        if h * w == 0 or f.shape[-1] == 0:
            raise ValueError(f"`features` must not be empty, got shape {f.shape}")
        check_allocation((*f.shape[:-3], f.shape[-1], f.shape[-1]), "features",
                         what="the Gram matrices")
        return np.einsum("...ijc,...ijd->...cd", f, f) / (h * w)  # (..., C, C)
    from keras import ops

    shape = tuple(features.shape)
    if len(shape) not in (3, 4):
        raise ValueError(f"`features` must have 3 or 4 dimensions, got shape {shape}")
    h, w = shape[-3], shape[-2]
    if h is None or w is None:
        h, w = ops.shape(features)[-3], ops.shape(features)[-2]
        return ops.einsum("...ijc,...ijd->...cd", features, features) / ops.cast(
            h * w, features.dtype)
    if h * w == 0:
        raise ValueError(f"`features` must not be empty, got shape {shape}")
    return ops.einsum("...ijc,...ijd->...cd", features, features) / (h * w)


def _is_tensor(value) -> bool:
    """True for TensorFlow/Keras tensors and variables (not numpy arrays or lists)."""
    if isinstance(value, (np.ndarray, list, tuple, str, bytes, numbers.Number)) or value is None:
        return False
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is None or dtype is None:
        return False
    try:
        tuple(shape)
    except TypeError:
        return False
    return True


def _operand(value, name):
    """A tensor as it is, anything else as a checked float array."""
    return value if _is_tensor(value) else as_array(value, name)


def content_loss(features, target):
    """Mean squared difference between the feature maps of two images (tensors or arrays).

    ``features`` and ``target`` must have the same shape (a ``target`` of
    shape ``(1, H, W, C)`` also fits a batch ``(N, H, W, C)``).
    """
    from keras import ops

    features, target = _operand(features, "features"), _operand(target, "target")
    a, b = tuple(features.shape), tuple(target.shape)
    if len(a) == 0 or 0 in a:
        raise ValueError(f"`features` must hold feature maps, got shape {a}")
    if a != b and not (len(a) == len(b) and b[0] == 1 and a[1:] == b[1:]):
        raise ValueError(f"`features` and `target` must have the same shape, got {a} and {b}")
    return ops.mean(ops.square(features - target))


def style_loss(features, target_grams):
    """Mean over layers of the mean squared difference between Gram matrices.

    Parameters
    ----------
    features : list of (N, H, W, C) tensors
        The feature maps of the image being optimised, one per style layer.
    target_grams : list of (N, C, C) tensors or arrays
        The style image's Gram matrices, same layers in the same order.
    """
    from keras import ops

    for value, label in ((features, "features"), (target_grams, "target_grams")):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"`{label}` must be a list with one entry per style layer, got "
                            f"{describe(value)}")
    if len(features) != len(target_grams):
        raise ValueError(f"`features` and `target_grams` must have one entry per style layer, "
                         f"got {len(features)} and {len(target_grams)}")
    if not features:
        raise ValueError("`features` must hold at least one style layer, got an empty list")
    per_layer = []
    for i, (f, g) in enumerate(zip(features, target_grams)):
        try:
            gram = gram_matrix(f)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"`features[{i}]`: {exc}") from None
        g = _operand(g, f"target_grams[{i}]")
        want, got = tuple(gram.shape), tuple(g.shape)
        if got != want and got[-2:] != want[-2:]:
            raise ValueError(f"`target_grams[{i}]` must be the Gram matrix of layer {i}, shape "
                             f"{want}, got {got}")
        per_layer.append(ops.mean(ops.square(gram - g)))
    return ops.mean(ops.stack(per_layer))


def stripes(size=64, period=8, angle=45.0):
    """A synthetic style image: soft diagonal stripes, brightness in [0, 1].

    Parameters
    ----------
    size : int
        Side of the square image.
    period : int
        Pixels from one stripe to the next.
    angle : float
        Direction of the stripes in degrees (0: vertical stripes).

    Returns
    -------
    (size, size) ndarray of float64
    """
    size = check_int(size, "size", minimum=2)
    period = check_int(period, "period", minimum=2)
    if not isinstance(angle, (int, float, np.floating, np.integer)) or isinstance(
            angle, (bool, np.bool_)):
        raise TypeError(f"`angle` must be a number of degrees, got {describe(angle)}")
    if not np.isfinite(angle):
        raise ValueError(f"`angle` must be a finite number of degrees, got {angle}")
    check_allocation((size, size), "size", itemsize=8 * 4,
                     what="the image and its coordinate grids")
    rows, cols = np.mgrid[0:size, 0:size]
    theta = np.deg2rad(angle)
    across = cols * np.cos(theta) + rows * np.sin(theta)  # distance across the stripes
    return 0.5 + 0.5 * np.cos(2 * np.pi * across / period)


def build_feature_network(*, seed=0):
    """A small fully convolutional classifier for 28x28 Fashion-MNIST (any input size works).

    Returns
    -------
    keras.Model
        ``(N, H, W, 1) -> (N, 10)`` class probabilities. Layers ``conv1``,
        ``conv2`` (16 maps), ``pool1``, ``conv3``, ``conv4`` (32 maps),
        ``pool2``, ``conv5`` (64 maps), ``gap``, ``classes``; 3x3 kernels,
        "same" padding, ReLU.
    """
    seed = check_seed(seed)
    import keras
    from keras import layers

    def conv(filters, name, offset):
        return layers.Conv2D(filters, 3, padding="same", activation="relu", name=name,
                             kernel_initializer=keras.initializers.HeUniform(seed=seed + offset))

    inputs = keras.Input(shape=(None, None, 1), name="image")   # (N, H, W, 1)
    x = conv(16, "conv1", 1)(inputs)                             # (N, H, W, 16)
    x = conv(16, "conv2", 2)(x)                                  # (N, H, W, 16)
    x = layers.MaxPooling2D(2, name="pool1")(x)                  # (N, H/2, W/2, 16)
    x = conv(32, "conv3", 3)(x)                                  # (N, H/2, W/2, 32)
    x = conv(32, "conv4", 4)(x)                                  # (N, H/2, W/2, 32)
    x = layers.MaxPooling2D(2, name="pool2")(x)                  # (N, H/4, W/4, 32)
    x = conv(64, "conv5", 5)(x)                                  # (N, H/4, W/4, 64)
    x = layers.GlobalAveragePooling2D(name="gap")(x)             # (N, 64)
    outputs = layers.Dense(10, activation="softmax", name="classes",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 6))(x)
    return keras.Model(inputs, outputs, name="style_features")


def load_style_features(path=None):
    """The course's trained feature network (``data/weights/style_features.keras``), or the model at ``path``.

    The shipped file is checked (present, whole, the shipped SHA-256) first;
    a damaged one raises :class:`cnnlab.weights.ModelFileError` naming the
    file and how to restore it.
    """
    return open_model(WEIGHTS_NAME if path is None else path, "path")


def feature_extractor(model, layer_names):
    """A model returning the outputs of the named layers of ``model``, as a list.

    Parameters
    ----------
    model : keras.Model
    layer_names : sequence of str

    Returns
    -------
    keras.Model
        ``image -> [features of layer_names[0], ...]``.
    """
    import keras

    layers = getattr(model, "layers", None) if not isinstance(model, type) else None
    if not isinstance(layers, list) or not layers:
        raise TypeError(f"`model` must be a Keras model, got {describe(model)}")
    names = [layer.name for layer in layers]
    if isinstance(layer_names, str) or not isinstance(layer_names, (list, tuple)) or not layer_names:
        raise ValueError(f"`layer_names` must be a non-empty list of layer names, got {describe(layer_names)}")
    if not all(isinstance(n, str) for n in layer_names):
        raise TypeError(f"`layer_names` must hold layer names (strings), got {describe(layer_names)}")
    unknown = [n for n in layer_names if n not in names]
    if unknown:
        raise ValueError(f"`layer_names`: no layer named {unknown} in {model.name}; "
                         f"its layers are {names}")
    try:
        outputs = [model.get_layer(n).output for n in layer_names]
        return keras.Model(model.input, outputs, name=f"{model.name}_features")
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"`model` must be built, with an input (give it a keras.Input or call "
                         f"it once): {exc}".splitlines()[0]) from None


def __getattr__(name):
    if name == "train_style_features":
        return importlib.import_module("cnnlab.train.style").train_style_features
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
