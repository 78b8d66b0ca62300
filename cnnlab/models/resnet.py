"""Residual networks for 28x28 images and their plain twins (lesson 11).

A residual block computes ``y = relu(F(x) + shortcut(x))``: two 3x3
convolutions ``F`` and a shortcut that is the identity when ``x`` and ``F(x)``
have the same shape, or a 1x1 convolution (a *projection*) when the block
halves the grid or changes the number of channels. Its *plain* twin is the
same block without the shortcut, ``y = relu(F(x))``.

``build_resnet(depth)`` and ``build_plain(depth)`` stack these blocks the way
He et al. (2016) did for CIFAR-10: a 3x3 stem convolution, three stages of
``n`` blocks with 16, 32 and 64 channels (the second and third stages start
with stride 2: 28x28 -> 14x14 -> 7x7), global average pooling and a dense
softmax layer, so ``depth = 6n + 2`` layers with weights (8, 14, 20, 26, 32,
44, 56, ...). The two builders give exactly the same layers except for the
shortcuts. :func:`branch_ratios` and :func:`gradient_norms` look inside a
network: how much each block adds, and how strong the gradient is at each layer.

Training lives in :mod:`cnnlab.train.resnet` (``resnet.train_resnet``,
``resnet.degradation_experiment`` and ``resnet.train`` also work here). From a
terminal, in the course folder::

    python -m cnnlab.train resnet --name 14 --depth 14 --epochs 8 --shift 0 --label-smoothing 0.1
    python -m cnnlab.train degradation --depths 20,56 --widths 8,16,32 --epochs 6 --seeds 0,1

The first trained the shipped ``data/weights/resnet_14.keras`` (93.29 % test
accuracy after 272 s of training on two CPU cores, with its training record
``resnet_14.json``); the second made ``data/weights/degradation.json``, the
plain vs residual curves of lesson 11. ``python -m cnnlab.train resnet --help``
lists every option.
"""

from __future__ import annotations

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

from .._validate import (  # noqa: E402
    check_choice, check_classifier, check_feature_maps, check_flag, check_image_shape, check_int,
    check_labels, check_name, check_params, check_seed, describe, model_images,
)
from ..session import import_keras  # noqa: E402
from ..weights import weights_path  # noqa: E402
from .lenet import prepare_images  # noqa: E402

keras = import_keras()   # quiet: TensorFlow's start-up lines stay off the page
layers = keras.layers

__all__ = [
    "BLOCKS", "MAX_DEPTH", "bottleneck_block", "branch_ratios", "build_plain", "build_resnet",
    "gradient_norms", "plain_block", "prepare_images", "residual_block", "stage_sizes",
    "weights_path",
]

BLOCKS = ("basic", "bottleneck")
_CONVS_PER_BLOCK = {"basic": 2, "bottleneck": 3}
#: The deepest network the builders make: He et al.'s ResNet-110 for CIFAR-10. Deeper ones
#: take long to build and to train on a laptop, and Keras runs out of recursion near 1,000.
MAX_DEPTH = 110

#: Names lesson 11 calls on this module whose code is the training's, in :mod:`cnnlab.train`.
_TRAINING = {
    "train_resnet": ("cnnlab.train.resnet", "train_resnet"),
    "degradation_experiment": ("cnnlab.train.resnet", "degradation_experiment"),
    "train": ("cnnlab.train.resnet", "train"),
    "augment_images": ("cnnlab.train.resnet", "augment_images"),
    "MAX_SHIFT": ("cnnlab.train.resnet", "MAX_SHIFT"),
    "evaluate": ("cnnlab.train.loop", "loss_and_accuracy"),
    "EpochLog": ("cnnlab.train.loop", "EpochLog"),
    "TrainResult": ("cnnlab.train.loop", "TrainResult"),
}


# ----------------------------------------------------------------- blocks

def _conv(filters, kernel_size, stride, name, seed):
    """A bias-free convolution with He initialisation (the bias is the BatchNorm's job)."""
    return layers.Conv2D(filters, kernel_size, strides=stride, padding="same", use_bias=False,
                         kernel_initializer=keras.initializers.HeNormal(seed), name=name)


def _conv_bn(x, filters, kernel_size, stride, name, *, batch_norm, seed, relu=True):
    """Convolution, then (optionally) batch normalisation, then (optionally) ReLU."""
    if batch_norm:
        x = _conv(filters, kernel_size, stride, name, seed)(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    else:
        x = layers.Conv2D(filters, kernel_size, strides=stride, padding="same",
                          kernel_initializer=keras.initializers.HeNormal(seed), name=name)(x)
    if relu:
        x = layers.ReLU(name=f"{name}_relu")(x)
    return x


def _check_block_args(x, filters, stride, name, batch_norm, seed, *, expansion=1):
    """Check a block's arguments; return ``(filters, stride, batch_norm, seed)``."""
    shape = getattr(x, "shape", None) if not isinstance(x, (str, bytes)) else None
    try:
        shape = None if shape is None else tuple(shape)
    except TypeError:
        shape = None
    if shape is None:
        raise TypeError(f"`x` must be a Keras tensor (N, H, W, C), such as keras.Input((28, 28, "
                        f"16)), got {describe(x)}")
    filters = check_int(filters, "filters", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty string (it prefixes the layer names), "
                        f"got {describe(name)}")
    if len(shape) != 4:
        raise ValueError(f"`x` must be a 4D tensor (N, H, W, C), got shape {shape}")
    if shape[-1] is None:
        raise ValueError(f"`x` must have a known number of channels, got shape {shape}")
    batch_norm = check_flag(batch_norm, "batch_norm")
    seed = check_seed(seed)
    h, w, c = shape[1], shape[2], int(shape[-1])
    side = max((n for n in (h, w) if n is not None), default=None)
    if side is not None and stride > max(side, 2):
        raise ValueError(f"`stride` must be at most the grid side {side} of `x` (a larger stride "
                         f"gives the same 1x1 output), got {stride}")
    check_params(_block_params(c, filters, stride, expansion), "`filters`", "the block")
    if h is not None and w is not None:
        check_feature_maps(h, w, expansion * filters, "`x` and `filters`")
    return filters, stride, batch_norm, seed


def _block_params(c_in, filters, stride, expansion=1) -> int:
    """Parameters of a basic (expansion 1) or bottleneck (4) block, batch norm included."""
    out = expansion * filters
    if expansion == 1:
        convs = 9 * c_in * filters + 9 * filters * filters
    else:
        convs = c_in * filters + 9 * filters * filters + filters * out
    projection = c_in * out + 4 * out if (stride != 1 or c_in != out) else 0
    batch_norms = 4 * (2 * filters + (out if expansion != 1 else 0))   # 4 numbers per channel
    return convs + batch_norms + projection


def residual_block(x, filters, *, stride=1, name, batch_norm=True, seed=0):
    """The basic residual block: ``relu(F(x) + shortcut(x))`` (lesson 11).

    ``F`` is conv 3x3 (stride ``stride``) - BN - ReLU - conv 3x3 - BN. The
    shortcut is the identity when the input already has ``filters`` channels
    and ``stride`` is 1; otherwise it is a projection: a 1x1 convolution with
    stride ``stride`` (and BN) that brings ``x`` to the output's shape.

    Parameters
    ----------
    x : (N, H, W, C) Keras tensor
    filters : int
        Channels of the output.
    stride : int
        2 halves the grid (``ceil(H / 2)``).
    name : str
        Prefix of every layer name: ``{name}_conv1``, ``{name}_conv2``,
        ``{name}_shortcut`` (projection only), ``{name}_add``, ``{name}_out``.
    batch_norm : bool
        With BN after every convolution (the convolutions then have no bias).
    seed : int
        Seed of the He-normal starting weights.

    Returns
    -------
    (N, ceil(H / stride), ceil(W / stride), filters) Keras tensor
    """
    filters, stride, batch_norm, seed = _check_block_args(x, filters, stride, name, batch_norm,
                                                          seed)
    f = _conv_bn(x, filters, 3, stride, f"{name}_conv1", batch_norm=batch_norm, seed=seed)
    f = _conv_bn(f, filters, 3, 1, f"{name}_conv2", batch_norm=batch_norm, seed=seed + 1,
                 relu=False)                                             # (N, H', W', filters)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, stride, f"{name}_shortcut", batch_norm=batch_norm,
                            seed=seed + 2, relu=False)                   # (N, H', W', filters)
    y = layers.Add(name=f"{name}_add")([f, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


def plain_block(x, filters, *, stride=1, name, batch_norm=True, seed=0):
    """:func:`residual_block` without its shortcut: ``relu(F(x))`` (lesson 11).

    Same layers, names and starting weights as the residual block's
    branch, so a plain and a residual network differ only by the additions.
    """
    filters, stride, batch_norm, seed = _check_block_args(x, filters, stride, name, batch_norm,
                                                          seed)
    f = _conv_bn(x, filters, 3, stride, f"{name}_conv1", batch_norm=batch_norm, seed=seed)
    f = _conv_bn(f, filters, 3, 1, f"{name}_conv2", batch_norm=batch_norm, seed=seed + 1,
                 relu=False)
    return layers.ReLU(name=f"{name}_out")(f)


def bottleneck_block(x, filters, *, stride=1, name, batch_norm=True, seed=0):
    """The bottleneck residual block of the deeper ResNets (lesson 11).

    ``F`` is a 1x1 convolution that reduces the channels to ``filters``, a
    3x3 convolution with ``filters`` channels (stride ``stride``), and a 1x1
    convolution that restores ``4 * filters`` channels, each followed by BN
    (and ReLU, except the last). The shortcut is the identity when ``x``
    already has ``4 * filters`` channels and ``stride`` is 1, a 1x1
    projection otherwise.

    Parameters
    ----------
    x : (N, H, W, C) Keras tensor
    filters : int
        Channels inside the bottleneck; the output has ``4 * filters``.
    stride, name, batch_norm, seed
        As in :func:`residual_block`; layers ``{name}_reduce``,
        ``{name}_conv``, ``{name}_restore``, ``{name}_shortcut``, ``{name}_add``,
        ``{name}_out``.

    Returns
    -------
    (N, ceil(H / stride), ceil(W / stride), 4 * filters) Keras tensor
    """
    filters, stride, batch_norm, seed = _check_block_args(x, filters, stride, name, batch_norm,
                                                          seed, expansion=4)
    out = 4 * filters
    f = _conv_bn(x, filters, 1, 1, f"{name}_reduce", batch_norm=batch_norm, seed=seed)
    f = _conv_bn(f, filters, 3, stride, f"{name}_conv", batch_norm=batch_norm, seed=seed + 1)
    f = _conv_bn(f, out, 1, 1, f"{name}_restore", batch_norm=batch_norm, seed=seed + 2,
                 relu=False)                                             # (N, H', W', 4 * filters)
    shortcut = x
    if stride != 1 or x.shape[-1] != out:
        shortcut = _conv_bn(x, out, 1, stride, f"{name}_shortcut", batch_norm=batch_norm,
                            seed=seed + 3, relu=False)
    y = layers.Add(name=f"{name}_add")([f, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


# ----------------------------------------------------------------- whole networks

def stage_sizes(depth, n_stages=3, block="basic") -> int:
    """Blocks per stage ``n`` of a network of ``depth`` layers with weights.

    ``depth = convs_per_block * n_stages * n + 2`` (the stem convolution and
    the dense layer): ``6n + 2`` for basic blocks and three stages,
    ``9n + 2`` for bottleneck blocks.

    Raises
    ------
    ValueError
        If ``depth`` does not have that form, listing the nearest valid depths.
        (The builders also refuse depths above :data:`MAX_DEPTH`; this
        function only does the arithmetic.)
    """
    block = check_choice(block, "block", BLOCKS)
    n_stages = check_int(n_stages, "n_stages", minimum=1)
    depth = check_int(depth, "depth", minimum=1)
    step = _CONVS_PER_BLOCK[block] * n_stages
    if depth < step + 2 or (depth - 2) % step:
        below = max(step + 2, (depth - 2) // step * step + 2)
        raise ValueError(
            f"`depth` must be {step}n + 2 with n >= 1 for {block} blocks and {n_stages} stages "
            f"(e.g. {below} or {below + step}), got {depth}")
    return (depth - 2) // step


def check_widths(widths) -> tuple[int, ...]:
    """The channels of each stage: a non-empty tuple of positive ints."""
    if not isinstance(widths, (tuple, list)) or not widths:
        raise TypeError(f"`widths` must be a non-empty tuple of ints such as (16, 32, 64), "
                        f"got {describe(widths)}")
    return tuple(check_int(w, "widths", minimum=1) for w in widths)


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    return check_image_shape(input_shape)


def check_depth(depth, widths, block="basic") -> int:
    """Blocks per stage for ``depth``, refusing depths above :data:`MAX_DEPTH`."""
    n = stage_sizes(depth, len(widths), block)
    if depth > MAX_DEPTH:
        raise ValueError(f"`depth` must be at most {MAX_DEPTH} (ResNet-110, the deepest network "
                         f"He et al. trained on CIFAR-10; deeper ones take long to build and "
                         f"train on a laptop), got {depth:,}")
    return n


def network_params(n, widths, c_in, n_classes, block, residual) -> int:
    """Parameters of a :func:`build_resnet` network (``residual=False``: :func:`build_plain`).

    ``n`` blocks of kind ``block`` per stage, one stage per entry of
    ``widths``, ``c_in`` input channels, batch norm included. Counted before
    anything is built, so a network that is too large is refused at once.
    """
    expansion = 4 if block == "bottleneck" else 1
    total = 9 * c_in * widths[0] + 4 * widths[0]
    c = widths[0]
    for s, width in enumerate(widths):
        for b in range(n):
            stride = 2 if (s > 0 and b == 0) else 1
            block_params = _block_params(c, width, stride, expansion)
            if not residual and (stride != 1 or c != width):
                block_params -= c * width + 4 * width            # no projection shortcut
            total += block_params
            c = expansion * width
    return total + c * n_classes + n_classes


def _build(depth, widths, input_shape, n_classes, name, *, residual, batch_norm, block, seed):
    widths = check_widths(widths)
    block = check_choice(block, "block", BLOCKS)
    n = check_depth(depth, widths, block)
    h, w, c = input_shape = _check_input_shape(input_shape)
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    seed = check_seed(seed)
    batch_norm = check_flag(batch_norm, "batch_norm")
    name = check_name(name, optional=False)
    if block == "bottleneck" and not residual:
        raise ValueError("`block` 'bottleneck' is only built with shortcuts (build_resnet)")
    check_params(network_params(n, widths, c, n_classes, block, residual),
                 "`widths` and `n_classes`")
    check_feature_maps(h, w, max(widths) * (4 if block == "bottleneck" else 1))
    make = {"basic": residual_block if residual else plain_block,
            "bottleneck": bottleneck_block}[block]

    inputs = keras.Input(shape=input_shape, name="image")                  # (N, H, W, C)
    x = _conv_bn(inputs, widths[0], 3, 1, "stem", batch_norm=batch_norm, seed=seed)
    for s, width in enumerate(widths, start=1):
        for b in range(1, n + 1):
            stride = 2 if (s > 1 and b == 1) else 1                        # halve the grid once per stage
            x = make(x, width, stride=stride, name=f"stage{s}_block{b}", batch_norm=batch_norm,
                     seed=seed + 100 * s + 10 * b)
    x = layers.GlobalAveragePooling2D(name="pool")(x)                      # (N, C_last)
    outputs = layers.Dense(n_classes, activation="softmax", name="output",
                           kernel_initializer=keras.initializers.GlorotUniform(seed))(x)
    return keras.Model(inputs, outputs, name=name)


def build_resnet(depth=20, *, widths=(16, 32, 64), input_shape=(28, 28, 1), n_classes=10,
                 name=None, batch_norm=True, block="basic", seed=0):
    """A small ResNet in the CIFAR style of He et al. (lesson 11).

    Stem conv 3x3 (``widths[0]`` channels), then one stage per entry of
    ``widths`` with ``n`` blocks each (the first block of every stage after
    the first has stride 2 and a projection shortcut), global average pooling
    and a dense softmax output.

    Parameters
    ----------
    depth : int
        Layers with weights, not counting projections: ``6n + 2`` for basic
        blocks and three stages (8, 14, 20, ...), ``9n + 2`` for bottleneck
        blocks; at most :data:`MAX_DEPTH` (110).
    widths : tuple of int
        Channels of each stage (bottleneck blocks output 4x as many).
    input_shape : (H, W, C)
    n_classes : int
    name : str, optional
        Default ``"resnet<depth>"``.
    batch_norm : bool
        Batch normalisation after every convolution.
    block : {"basic", "bottleneck"}
    seed : int
        Seed of the starting weights.

    Returns
    -------
    keras.Model
        Input ``(N, H, W, C)`` (images scaled to [0, 1]); output ``(N, n_classes)``
        class probabilities. Layers: ``stem``, ``stage{s}_block{b}_*``, ``pool``, ``output``.

    Raises
    ------
    ValueError
        For a depth that is not ``6n + 2`` (``9n + 2``) or above 110, and for
        widths or classes that would pass ``cnnlab._training.MAX_PARAMS``
        (150 million parameters).
    """
    name = f"resnet{depth}" if check_name(name) is None else name
    return _build(depth, widths, input_shape, n_classes, name, residual=True,
                  batch_norm=batch_norm, block=block, seed=seed)


def build_plain(depth=20, *, widths=(16, 32, 64), input_shape=(28, 28, 1), n_classes=10,
                name=None, batch_norm=True, seed=0):
    """The plain twin of :func:`build_resnet`: the same layers without shortcuts (lesson 11).

    Same parameters as :func:`build_resnet` (basic blocks only); default name
    ``"plain<depth>"``. With the same ``seed`` every convolution starts from
    the same weights as in the ResNet.
    """
    name = f"plain{depth}" if check_name(name) is None else name
    return _build(depth, widths, input_shape, n_classes, name, residual=False,
                  batch_norm=batch_norm, block="basic", seed=seed)


# ----------------------------------------------------------------- looking inside

def _residual_adds(model):
    check_classifier(model)
    adds = [layer for layer in model.layers if type(layer).__name__ == "Add"]
    if not adds:
        raise ValueError(f"`model` {model.name!r} has no Add layers: it is not a residual network")
    return adds


def branch_ratios(model, x) -> dict:
    """How much each residual block adds: ``||F(x)|| / ||shortcut(x)||`` per block (lesson 11).

    Parameters
    ----------
    model : keras.Model
        A network from :func:`build_resnet`.
    x : (N, H, W, C) ndarray
        Input images in [0, 1], or raw uint8 pixels (prepared here).

    Returns
    -------
    dict
        Block name -> the ratio of the Euclidean norms of the residual branch
        and the shortcut at the block's addition, averaged over the images.
    """
    adds = _residual_adds(model)
    x = model_images(model, x, "x")                                      # (N, H, W, C)
    probe = keras.Model(model.input, [t for add in adds for t in add.input])
    outputs = [np.asarray(t) for t in probe(x, training=False)]
    ratios = {}
    for i, add in enumerate(adds):
        branch, shortcut = outputs[2 * i], outputs[2 * i + 1]           # (N, H, W, C) each
        num = np.sqrt((branch.reshape(len(x), -1) ** 2).sum(axis=1))
        den = np.sqrt((shortcut.reshape(len(x), -1) ** 2).sum(axis=1))
        ratios[add.name.removesuffix("_add")] = float(np.mean(num / np.maximum(den, 1e-12)))
    return ratios


def gradient_norms(model, x, y) -> dict:
    """Norm of the loss gradient for every convolution kernel, input side first (lesson 11).

    One forward and backward pass (``tf.GradientTape``) of the mean
    cross-entropy on images ``x (N, H, W, C)`` with labels ``y (N,)``, in
    training mode. Projection shortcuts are left out so a plain network and
    its residual twin list the same layers. ``x`` may be raw uint8 pixels
    (prepared here) or images in [0, 1]; ``y`` holds class numbers.

    Returns
    -------
    dict
        Layer name -> Euclidean norm of d(loss)/d(kernel).
    """
    import tensorflow as tf

    shape, n_classes = check_classifier(model)
    x = model_images(model, x, "x", input_shape=shape)                  # (N, H, W, C)
    y = check_labels(y, "y", len(x), n_classes)

    convs = [layer for layer in model.layers
             if type(layer).__name__ == "Conv2D" and not layer.name.endswith("_shortcut")]
    kernels = [layer.kernel for layer in convs]
    with tf.GradientTape() as tape:
        probs = model(x, training=True)                                 # (N, n_classes)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, probs))
    grads = tape.gradient(loss, kernels)
    return {layer.name: float(tf.norm(g)) for layer, g in zip(convs, grads)}


def __getattr__(name):
    if name in _TRAINING:
        module, attribute = _TRAINING[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_TRAINING))
