"""Residual networks for 28x28 images, their plain twins, and a small trainer (lesson 11).

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
shortcuts.

:func:`train` fits a classifier (AdamW, linear warm-up then cosine decay,
random flips and optional shifts; many steps per compiled graph call) and
records the curves. From a terminal, in the course folder::

    python -m cnnlab.resnet train --name 14 --depth 14 --epochs 6 --shift 0 --label-smoothing 0.1
    python -m cnnlab.resnet degradation --depths 20,56 --widths 8,16,32 --epochs 6 --seeds 0,1

The first trained the shipped ``data/weights/resnet_14.keras`` (92.89 % test
accuracy after under 8 minutes of training on two CPU cores, with its training record
``resnet_14.json``); the second made ``data/weights/degradation.json``, the
plain vs residual curves of lesson 11. ``python -m cnnlab.resnet --help``
lists every option.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

from .._validate import check_allocation, check_choice, check_int, describe  # noqa: E402
from ..train.loop import (  # noqa: E402
    MAX_EPOCHS, MAX_SEED, TrainResult, as_pixels, batch_plan, check_argv, check_classifier,
    check_epochs, check_feature_maps, check_flag, check_image_shape, check_labels, check_name,
    check_params, check_real, check_seed, check_verbose, make_train_chunk, model_images,
    run_epoch, schedule,
)
from ..session import import_keras  # noqa: E402
from ..weights import _note_made_again, weights_path  # noqa: E402

keras = import_keras()   # quiet: TensorFlow's start-up lines, e.g. on the command line
layers = keras.layers

__all__ = [
    "BLOCKS", "EpochLog", "TrainResult",
    "augment_images", "bottleneck_block", "branch_ratios", "build_plain", "build_resnet",
    "degradation_experiment", "evaluate", "gradient_norms", "main", "plain_block",
    "prepare_images", "residual_block", "stage_sizes", "train", "train_resnet", "weights_path",
]

BLOCKS = ("basic", "bottleneck")
_CONVS_PER_BLOCK = {"basic": 2, "bottleneck": 3}
#: The deepest network the builders make: He et al.'s ResNet-110 for CIFAR-10. Deeper ones
#: take long to build and to train on a laptop, and Keras runs out of recursion near 1,000.
MAX_DEPTH = 110


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


def _check_widths(widths) -> tuple[int, ...]:
    if not isinstance(widths, (tuple, list)) or not widths:
        raise TypeError(f"`widths` must be a non-empty tuple of ints such as (16, 32, 64), "
                        f"got {describe(widths)}")
    return tuple(check_int(w, "widths", minimum=1) for w in widths)


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    return check_image_shape(input_shape)


def _check_depth(depth, widths, block="basic") -> int:
    """Blocks per stage for ``depth``, refusing depths above :data:`MAX_DEPTH`."""
    n = stage_sizes(depth, len(widths), block)
    if depth > MAX_DEPTH:
        raise ValueError(f"`depth` must be at most {MAX_DEPTH} (ResNet-110, the deepest network "
                         f"He et al. trained on CIFAR-10; deeper ones take long to build and "
                         f"train on a laptop), got {depth:,}")
    return n


def _network_params(n, widths, c_in, n_classes, block, residual) -> int:
    """Parameters of a network of :func:`_build` (batch norm included)."""
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
    widths = _check_widths(widths)
    block = check_choice(block, "block", BLOCKS)
    n = _check_depth(depth, widths, block)
    h, w, c = input_shape = _check_input_shape(input_shape)
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    seed = check_seed(seed)
    batch_norm = check_flag(batch_norm, "batch_norm")
    name = check_name(name, optional=False)
    if block == "bottleneck" and not residual:
        raise ValueError("`block` 'bottleneck' is only built with shortcuts (build_resnet)")
    check_params(_network_params(n, widths, c, n_classes, block, residual),
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


# ----------------------------------------------------------------- training

STEPS_PER_CALL = 32          # training steps inside one compiled graph call
MAX_SHIFT = 2                # augmentation: random shifts of up to 2 pixels each way


class EpochLog(NamedTuple):
    """One epoch: mean training loss and accuracy, test loss and accuracy, training seconds."""

    epoch: int
    loss: float
    accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float


def prepare_images(x) -> np.ndarray:
    """Pixels to model input: ``(N, 28, 28)`` uint8 0-255 -> ``(N, 28, 28, 1)`` float32 0-1.

    Integer pixels (uint8, as loaded) and floats reaching 2 or more (0-255 pixels) are
    divided by 255; floats already within [0, 1] are kept, so images
    prepared twice stay the same. ``(H, W)`` becomes a batch of one and
    ``(N, H, W, 1)`` is accepted too. The same rule as
    :func:`cnnlab.lenet.prepare_images` and :func:`cnnlab.denoise.to_images`.

    Raises
    ------
    ValueError
        For negative values, NaN, values above 255, floats just above 1
        (between 1 and 2) or more than one channel.
    """
    return as_pixels(x, "x", ndims=(2, 3, 4))                          # (N, H, W, 1)


def augment_images(x, rng, *, max_shift=MAX_SHIFT, flip=True) -> np.ndarray:
    """Random shifts (zero fill) and left-right flips of a stack of images.

    Parameters
    ----------
    x : (N, H, W, C) ndarray
    rng : numpy Generator
    max_shift : int
        Each image moves by a random whole number of pixels in ``[-max_shift, max_shift]``
        along each axis.
    flip : bool
        Mirror half of the images left to right.

    Returns
    -------
    (N, H, W, C) ndarray, same dtype
    """
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError(f"`x` must be a 4D array of images (N, H, W, C), got {describe(x)}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy Generator (np.random.default_rng(seed)), got "
                        f"{describe(rng)}")
    n, h, w, c = x.shape
    s = check_int(max_shift, "max_shift", minimum=0)
    if s > max(h, w):
        raise ValueError(f"`max_shift` must be at most the image side {max(h, w)}, got {s}")
    flip = check_flag(flip, "flip")
    check_allocation((n, h + 2 * s, w + 2 * s, c), "max_shift", itemsize=x.itemsize,
                     what="the padded images")
    padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)))               # (N, H+2s, W+2s, C)
    rows = rng.integers(0, 2 * s + 1, size=n)[:, None] + np.arange(h)  # (N, H)
    cols = rng.integers(0, 2 * s + 1, size=n)[:, None] + np.arange(w)  # (N, W)
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    if flip:
        mirror = rng.random(n) < 0.5
        out[mirror] = out[mirror, :, ::-1]
    return out


def evaluate(model, x, y, batch_size=1000) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on images ``x (N, H, W, C)``, labels ``y (N,)``.

    ``x`` may hold raw uint8 pixels 0-255 (``(N, H, W)`` or ``(N, H, W, C)``)
    or images already prepared in [0, 1]: both give the same numbers (see
    :func:`prepare_images`). ``y`` holds class numbers ``0 .. n_classes - 1``.
    """
    shape, n_classes = check_classifier(model)
    x = model_images(model, x, "x", input_shape=shape)                  # (N, H, W, C) in [0, 1]
    y = check_labels(y, "y", len(x), n_classes)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    probs = np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                            for i in range(0, len(x), batch_size)])     # (N, n_classes)
    loss = -np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)))
    return float(loss), float(np.mean(probs.argmax(axis=1) == y))


def train(model, x_train, y_train, x_test, y_test, *, epochs, batch_size=128, peak_lr=3e-3,
          weight_decay=5e-4, label_smoothing=0.0, augment=True, max_shift=0, seed=0,
          verbose=1) -> TrainResult:
    """Train a classifier with AdamW, warm-up + cosine learning rate, optional augmentation (lesson 11).

    Parameters
    ----------
    model : keras.Model
        ``(N, H, W, C)`` -> ``(N, n_classes)`` probabilities.
    x_train, x_test : (N, H, W, C) float32 ndarray
        Images in [0, 1] (:func:`prepare_images`); raw uint8 pixels 0-255
        are prepared here.
    y_train, y_test : (N,) int ndarray
        Class numbers ``0 .. n_classes - 1``, one per image.
    epochs : int
        1 .. 1000.
    batch_size : int
        At least 1 and at most the number of training images.
    peak_lr : float
        Largest learning rate, in (0, 1]: reached linearly over the first 10 %
        of the steps from 0, then follows a cosine curve down to 0.
    weight_decay : float
        AdamW's decoupled weight decay, in [0, 1).
    label_smoothing : float
        Targets ``(1 - e) * one_hot + e / n_classes``, ``e`` in [0, 1).
    augment : bool
        A fresh random left-right flip (and shift, see ``max_shift``) of every
        training image every epoch (:func:`augment_images`).
    max_shift : int
        Largest random shift in pixels; 0 (the default) flips only, which
        fitted Fashion-MNIST faster in a 6-epoch budget than shifts of 2.
    seed : int
        Seeds the shuffling and the augmentation.
    verbose : {0, 1, 2}
        0 silent; 1 a progress bar per epoch and one line per epoch; 2 the lines only.

    Returns
    -------
    TrainResult
        The same ``model`` (trained) and one :class:`EpochLog` per epoch.
    """
    shape, n_classes = check_classifier(model)
    x_train = model_images(model, x_train, "x_train", input_shape=shape)
    y_train = check_labels(y_train, "y_train", len(x_train), n_classes, images="x_train")
    x_test = model_images(model, x_test, "x_test", input_shape=shape)
    y_test = check_labels(y_test, "y_test", len(x_test), n_classes, images="x_test")
    epochs, batch_size, peak_lr, weight_decay, label_smoothing, augment, max_shift, seed, \
        verbose = _check_recipe(epochs, batch_size, peak_lr, weight_decay, label_smoothing,
                                augment, max_shift, seed, verbose)
    if len(x_train) < batch_size:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {len(x_train)} "
                         "training images")
    if max_shift > max(x_train.shape[1:3]):
        raise ValueError(f"`max_shift` must be at most the image side {max(x_train.shape[1:3])}, "
                         f"got {max_shift}")
    import tensorflow as tf

    steps = len(x_train) // batch_size
    optimizer = keras.optimizers.AdamW(schedule(peak_lr, steps * epochs),
                                       weight_decay=weight_decay)
    optimizer.build(model.trainable_variables)
    train_chunk = make_train_chunk(model, optimizer, batch_size, float(label_smoothing))
    rng = np.random.default_rng(seed)
    y_tensor = tf.constant(np.asarray(y_train).astype(np.int32))        # (N,)
    history = []
    for epoch in range(1, epochs + 1):
        images = augment_images(x_train, rng, max_shift=max_shift) if augment else x_train
        plan = batch_plan(len(x_train), batch_size, rng)                # (steps, B)
        loss, accuracy, seconds = run_epoch(train_chunk, tf.constant(images), y_tensor, plan,
                                            steps_per_call=STEPS_PER_CALL,
                                            description=f"epoch {epoch}/{epochs}", verbose=verbose)
        log = EpochLog(epoch, loss, accuracy, *evaluate(model, x_test, y_test), seconds)
        history.append(log)
        if verbose:
            print(f"{model.name} epoch {epoch}/{epochs}: loss {log.loss:.4f}, train accuracy "
                  f"{100 * log.accuracy:.2f} %, test accuracy {100 * log.test_accuracy:.2f} %, "
                  f"{log.seconds:.1f} s", flush=True)
    return TrainResult(model, history)


def _check_recipe(epochs, batch_size, peak_lr, weight_decay, label_smoothing, augment,
                  max_shift, seed, verbose):
    """The training settings of :func:`train`, checked; returned in the same order."""
    return (check_epochs(epochs), check_int(batch_size, "batch_size", minimum=1),
            check_real(peak_lr, "peak_lr", above=0, maximum=1),
            check_real(weight_decay, "weight_decay", minimum=0, below=1),
            check_real(label_smoothing, "label_smoothing", minimum=0, below=1),
            check_flag(augment, "augment"), check_int(max_shift, "max_shift", minimum=0),
            check_seed(seed), check_verbose(verbose))


def _check_limit(limit, n_train=60000, n_test=10000):
    """``limit`` as load_fashion_mnist takes it, checked before anything is loaded."""
    from .. import data

    return data._check_limit(limit, n_train, n_test)


def _load_fashion(limit):
    from .. import data

    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(limit)
    return (prepare_images(x_train), y_train), (prepare_images(x_test), y_test)


def train_resnet(depth=14, *, widths=(16, 32, 64), epochs=6, limit=None, batch_size=128,
                 peak_lr=3e-3, weight_decay=5e-4, label_smoothing=0.0, augment=True,
                 max_shift=0, seed=0, verbose=1, name=None) -> TrainResult:
    """Build :func:`build_resnet` and train it on Fashion-MNIST (lesson 11).

    ``limit`` takes fewer images, as :func:`cnnlab.data.load_fashion_mnist`
    does; the other arguments are those of :func:`build_resnet` and :func:`train`.
    Every argument is checked before the data is loaded or the network built.
    """
    _check_train_resnet(depth, widths, epochs, limit, batch_size, peak_lr, weight_decay,
                        label_smoothing, augment, max_shift, seed, verbose, name)
    (x_train, y_train), (x_test, y_test) = _load_fashion(limit)
    keras.utils.set_random_seed(seed)
    model = build_resnet(depth, widths=widths, seed=seed, name=name)
    return train(model, x_train, y_train, x_test, y_test, epochs=epochs, batch_size=batch_size,
                 peak_lr=peak_lr, weight_decay=weight_decay, label_smoothing=label_smoothing,
                 augment=augment, max_shift=max_shift, seed=seed, verbose=verbose)


def _check_train_resnet(depth, widths, epochs, limit, batch_size, peak_lr, weight_decay,
                        label_smoothing, augment, max_shift, seed, verbose, name):
    """Every argument of :func:`train_resnet`, checked before anything is loaded or built."""
    widths = _check_widths(widths)
    n = _check_depth(depth, widths)
    check_name(name)
    _check_recipe(epochs, batch_size, peak_lr, weight_decay, label_smoothing, augment,
                  max_shift, seed, verbose)
    n_train, _ = _check_limit(limit)
    if n_train < batch_size:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {n_train} training "
                         "images `limit` leaves")
    if max_shift > 28:
        raise ValueError(f"`max_shift` must be at most 28 (the image side), got {max_shift}")
    check_params(_network_params(n, widths, 1, 10, "basic", True), "`widths`")


def _check_degradation(depths, widths, epochs, limit, batch_norm, peak_lr, seeds, verbose):
    """Every argument of :func:`degradation_experiment`, checked; returns depths, widths, seeds."""
    depths = _check_ints(depths, "depths", minimum=1)
    widths = _check_widths(widths)
    for depth in depths:
        try:
            n = _check_depth(depth, widths)
        except ValueError as exc:
            raise ValueError(f"`depths`: {exc}") from None
        check_params(_network_params(n, widths, 1, 10, "basic", True), "`widths` and `depths`")
    seeds = _check_ints(seeds, "seeds", minimum=0)
    for s in seeds:
        check_seed(s, "seeds")
    check_epochs(epochs)
    check_flag(batch_norm, "batch_norm")
    check_real(peak_lr, "peak_lr", above=0, maximum=1)
    check_verbose(verbose)
    n_train, _ = _check_limit(limit)
    if n_train < 128:
        raise ValueError(f"`limit` must leave at least 128 training images (one batch), got "
                         f"{n_train}")
    return depths, widths, seeds


def degradation_experiment(depths=(20, 56), *, widths=(8, 16, 32), epochs=4,
                           limit=(10000, 2000), batch_norm=True, peak_lr=3e-3, seeds=(0,),
                           verbose=1) -> dict:
    """Train plain and residual networks of each depth with the same budget (lesson 11).

    Every network sees the same images in the same order (per seed), with
    the same optimiser, schedule and number of epochs; no augmentation and
    no weight decay, so the training loss measures how well the optimiser
    fits the data.

    Parameters
    ----------
    depths : tuple of int
        Depths to compare, each ``6n + 2`` (for three stages), at most 110.
    widths, batch_norm
        As in :func:`build_resnet`.
    epochs : int
        1 .. 1000.
    limit : (int, int)
        Training and test images (the first ones of each split); at least
        128 training images (one batch).
    peak_lr : float
        Peak learning rate of :func:`train`'s schedule, in (0, 1].
    seeds : tuple of int
        One run of every network per seed (weights, shuffling).
    verbose : {0, 1, 2}

    Returns
    -------
    dict
        ``{"settings": {...}, "runs": {"plain20": [run, ...], "resnet20": [...], ...}}``
        with one ``run`` per seed: lists ``loss``, ``accuracy`` (training),
        ``test_loss``, ``test_accuracy`` and ``seconds``, one entry per epoch,
        and the ``params`` of the network. JSON-ready.
    """
    depths, widths, seeds = _check_degradation(depths, widths, epochs, limit, batch_norm,
                                               peak_lr, seeds, verbose)
    (x_train, y_train), (x_test, y_test) = _load_fashion(limit)
    runs = {}
    for kind, builder in (("plain", build_plain), ("resnet", build_resnet)):
        for depth in depths:
            for seed in seeds:
                keras.utils.set_random_seed(seed)
                model = builder(depth, widths=widths, batch_norm=batch_norm, seed=seed)
                result = train(model, x_train, y_train, x_test, y_test, epochs=epochs,
                               peak_lr=peak_lr, weight_decay=0.0, augment=False, seed=seed,
                               verbose=verbose)
                run = {field: [round(float(getattr(e, field)), 5) for e in result.history]
                       for field in ("loss", "accuracy", "test_loss", "test_accuracy", "seconds")}
                run["params"] = int(model.count_params())
                runs.setdefault(f"{kind}{depth}", []).append(run)
                keras.backend.clear_session()
    settings = {"depths": list(depths), "widths": list(widths), "epochs": epochs,
                "train_images": len(x_train),
                "test_images": len(x_test), "batch_norm": bool(batch_norm), "peak_lr": peak_lr,
                "batch_size": 128, "optimizer": "AdamW, warm-up + cosine", "seeds": list(seeds)}
    return {"settings": settings, "runs": runs}


# ----------------------------------------------------------------- looking inside

def _check_ints(values, name, minimum):
    """A non-empty tuple or list of ints (``depths``, ``seeds``) as a tuple."""
    if isinstance(values, (bool, str, bytes)) or not isinstance(values, (tuple, list)) or not values:
        raise TypeError(f"`{name}` must be a non-empty tuple of ints such as (20, 56), got "
                        f"{describe(values)}")
    return tuple(check_int(v, name, minimum=minimum) for v in values)


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


# ----------------------------------------------------------------- command line

DEFAULT_DEGRADATION = "degradation.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cnnlab.resnet",
        description="Train the ResNets of lesson 11 on Fashion-MNIST.")
    commands = parser.add_subparsers(dest="command", metavar="{train,degradation}")
    train_ = commands.add_parser(
        "train", help="train a ResNet and save it as data/weights/resnet_<name>.keras")
    train_.add_argument("--depth", default="14", help="layers with weights, 6n + 2 (default 14)")
    train_.add_argument("--widths", default="16,32,64", help="channels per stage (default 16,32,64)")
    train_.add_argument("--epochs", default="6", help="passes over the training set (default 6)")
    train_.add_argument("--batch-size", default="128", help="images per step (default 128)")
    train_.add_argument("--lr", default="3e-3", help="peak learning rate (default 3e-3)")
    train_.add_argument("--label-smoothing", default="0", help="label smoothing (default 0)")
    train_.add_argument("--no-augment", action="store_true", help="no random shifts and flips")
    train_.add_argument("--shift", default="0",
                        help="largest random shift in pixels (default 0: flips only)")
    train_.add_argument("--name", default=None,
                        help="file name: data/weights/resnet_<name>.keras (default: the depth)")
    train_.add_argument("--out", default=None, help="save the model here instead (.keras)")
    train_.add_argument("--limit", default=None,
                        help="train on the first N images only (a quick check)")
    train_.add_argument("--seed", default="0", help="seed of weights, shuffling, augmentation")
    train_.add_argument("--quiet", action="store_true", help="no progress bar")
    degr = commands.add_parser(
        "degradation", help="plain vs residual networks of two depths, curves to JSON")
    degr.add_argument("--depths", default="20,56", help="depths to compare (default 20,56)")
    degr.add_argument("--widths", default="8,16,32", help="channels per stage (default 8,16,32)")
    degr.add_argument("--epochs", default="4", help="epochs for every network (default 4)")
    degr.add_argument("--limit", default="10000",
                      help="training images (default 10000; the test curves use 2000 test images)")
    degr.add_argument("--no-batch-norm", action="store_true", help="no batch normalisation")
    degr.add_argument("--lr", default="3e-3", help="peak learning rate (default 3e-3)")
    degr.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    degr.add_argument("--out", default=None,
                      help=f"JSON file to write (default data/weights/{DEFAULT_DEGRADATION})")
    degr.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.commands = {"train": train_, "degradation": degr}
    return parser


def _number(text, option, *, kind=int, minimum=None, positive=False, maximum=None):
    """Parse one command-line value, with a message naming the option."""
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{option} must be {what}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"{option} must be a finite number, got {text!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{option} must be at least {minimum}, got {text}")
    if positive and value <= 0:
        raise ValueError(f"{option} must be positive, got {text}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{option} must be at most {maximum}, got {text}")
    return value


def _numbers(text, option, minimum, maximum=None):
    return tuple(_number(t.strip(), option, minimum=minimum, maximum=maximum)
                 for t in text.split(","))


def _cli_error(exc, *options):
    """Turn a check's message about `argument` into one about the command-line option."""
    message = str(exc)
    for argument, option in options:
        message = message.replace(f"`{argument}`", option)
    return ValueError(message)


def _out_path(text, suffix, default):
    path = default if text is None else Path(text)
    if path.suffix != suffix:
        raise ValueError(f"--out must end in {suffix}, got {str(path)!r}")
    return path


def _run_train(args):
    depth = _number(args.depth, "--depth", minimum=1)
    widths = _numbers(args.widths, "--widths", 1)
    stage_sizes(depth, len(widths))                      # a clear error for depths that are not 6n + 2
    _number(args.depth, "--depth", maximum=MAX_DEPTH)
    epochs = _number(args.epochs, "--epochs", minimum=1, maximum=MAX_EPOCHS)
    batch_size = _number(args.batch_size, "--batch-size", minimum=1)
    peak_lr = _number(args.lr, "--lr", kind=float, positive=True, maximum=1)
    smoothing = _number(args.label_smoothing, "--label-smoothing", kind=float, minimum=0)
    if smoothing >= 1:
        raise ValueError(f"--label-smoothing must be below 1, got {args.label_smoothing}")
    limit = (None if args.limit is None
             else _number(args.limit, "--limit", minimum=1, maximum=60000))
    seed = _number(args.seed, "--seed", minimum=0, maximum=MAX_SEED)
    shift = _number(args.shift, "--shift", minimum=0, maximum=28)
    if batch_size > (60000 if limit is None else limit):
        raise ValueError(f"--batch-size {batch_size} is larger than the "
                         f"{60000 if limit is None else limit} training images")
    name = str(depth) if args.name is None else args.name
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"--name may hold letters, digits, '-' and '_' only, got {name!r}")
    out = _out_path(args.out, ".keras", weights_path(f"resnet_{name}.keras"))
    try:
        _check_train_resnet(depth, widths, epochs, limit, batch_size, peak_lr, 5e-4, smoothing,
                            not args.no_augment, shift, seed, 2, f"resnet_{name}")
    except (TypeError, ValueError) as exc:
        raise _cli_error(exc, ("widths", "--widths"), ("depth", "--depth")) from None

    def run():
        return train_resnet(depth, widths=widths, epochs=epochs, limit=limit,
                            batch_size=batch_size, peak_lr=peak_lr, label_smoothing=smoothing,
                            augment=not args.no_augment, max_shift=shift, seed=seed,
                            verbose=2 if args.quiet else 1,
                            name=f"resnet_{name}")

    def save(result):
        out.parent.mkdir(parents=True, exist_ok=True)
        result.model.save(out)
        record = {"command": "python -m cnnlab.resnet " + " ".join(args.argv),
                  "depth": depth, "widths": list(widths), "epochs": epochs,
                  "batch_size": batch_size, "peak_lr": peak_lr, "label_smoothing": smoothing,
                  "augment": not args.no_augment, "max_shift": shift, "seed": seed,
                  "params": result.model.count_params(),
                  "history": [e._asdict() for e in result.history]}
        out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
        _note_made_again(out)
        _note_made_again(out.with_suffix(".json"))
        last = result.history[-1]
        return (f"saved {out} (and its training record {out.with_suffix('.json').name}): test "
                f"accuracy {100 * last.test_accuracy:.2f} % after {epochs} epoch(s), "
                f"{result.train_seconds:.0f} s of training")
    return run, save


def _run_degradation(args):
    depths = _numbers(args.depths, "--depths", 1)
    widths = _numbers(args.widths, "--widths", 1)
    for depth in depths:
        stage_sizes(depth, len(widths))
    _numbers(args.depths, "--depths", 1, MAX_DEPTH)
    epochs = _number(args.epochs, "--epochs", minimum=1, maximum=MAX_EPOCHS)
    limit = _number(args.limit, "--limit", minimum=128, maximum=60000)
    peak_lr = _number(args.lr, "--lr", kind=float, positive=True, maximum=1)
    seeds = _numbers(args.seeds, "--seeds", 0, MAX_SEED)
    out = _out_path(args.out, ".json", weights_path(DEFAULT_DEGRADATION))
    try:
        _check_degradation(depths, widths, epochs, (limit, 2000), True, peak_lr, seeds, 2)
    except (TypeError, ValueError) as exc:
        raise _cli_error(exc, ("widths", "--widths"), ("depths", "--depths")) from None

    def run():
        return degradation_experiment(depths, widths=widths, epochs=epochs, limit=(limit, 2000),
                                      batch_norm=not args.no_batch_norm, peak_lr=peak_lr,
                                      seeds=seeds, verbose=2 if args.quiet else 1)

    def save(result):
        out.parent.mkdir(parents=True, exist_ok=True)
        result["settings"]["command"] = "python -m cnnlab.resnet " + " ".join(args.argv)
        out.write_text(json.dumps(result, indent=1) + "\n")
        _note_made_again(out)
        return f"saved {out}"
    return run, save


def main(argv=None) -> int:
    """Run the command line; return the exit status (0 done, 1 data problem, 2 bad arguments)."""
    parser = _parser()
    argv = check_argv(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:                           # argparse printed the usage and the problem
        return int(exc.code or 0)
    args.argv = argv
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        run, save = (_run_train if args.command == "train" else _run_degradation)(args)
    except (TypeError, ValueError) as exc:
        parser.commands[args.command].print_usage(sys.stderr)
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    from ..data import DataFileError

    try:
        result = run()
    except DataFileError as exc:
        print(f"{parser.prog}: error: cannot read Fashion-MNIST: {exc}", file=sys.stderr)
        return 1
    print(save(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
