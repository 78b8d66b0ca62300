"""Small members of the classic families, sized to train on Fashion-MNIST in seconds (lesson 10).

The full networks of :mod:`cnnlab.models.classic` are built for ImageNet or
CIFAR-10 and are far too large to train on a laptop. These builders keep
each family's idea at a width that trains in a few seconds on 28x28 grey
images:

- :func:`build_mini_vgg`: blocks of "same" 3x3 convolutions, each block closed
  by a 2x2 max pool, the number of maps doubling from block to block, then a
  dense head (flatten, one hidden dense layer, softmax), as VGG-16;
- :func:`build_mini_nin`: mlpconv blocks (a k x k convolution followed by two
  1x1 convolutions), 3x3 max pools with stride 2 between them, and global
  average pooling over one map per class: no dense layer, as Network in
  Network.

Both are Keras 3 functional models with fixed layer names; their weights come
from seeded initialisers, so the same ``seed`` gives the same network.
"""

from __future__ import annotations

from .._validate import (
    check_feature_maps, check_image_shape, check_int, check_name, check_params, check_seed,
    describe, smallest_side,
)
from ..session import import_keras

keras = import_keras()   # quiet: TensorFlow's start-up lines stay off the page
layers = keras.layers

__all__ = ["build_mini_nin", "build_mini_vgg"]

_MAX_BLOCKS = 8


def _check_widths(widths, name="widths"):
    """A tuple of 1 .. 8 positive ints (maps per block)."""
    if not isinstance(widths, (tuple, list)) or not 1 <= len(widths) <= _MAX_BLOCKS:
        raise ValueError(f"`{name}` must be 1 to {_MAX_BLOCKS} positive ints (maps per block), "
                         f"such as (16, 32), got {describe(widths)}")
    return tuple(check_int(w, name, minimum=1) for w in widths)


def _conv(maps, k, name, seed, activation="relu"):
    return layers.Conv2D(maps, k, padding="same", activation=activation, name=name,
                         kernel_initializer=keras.initializers.HeNormal(seed))


def _conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


# ----------------------------------------------------------------- VGG

def build_mini_vgg(*, widths=(16, 32), convs=2, dense=64, n_classes=10, input_shape=(28, 28, 1),
                   seed=0, name="mini_vgg"):
    """A small VGG: blocks of 3x3 convolutions, each closed by a 2x2 max pool (lesson 10).

    Block ``b`` holds ``convs`` convolutions of ``widths[b]`` maps, 3x3,
    stride 1, "same" padding, ReLU (``block{b}_conv{c}``), then a 2x2 max pool
    with stride 2 (``block{b}_pool``). Then ``flatten``, a dense layer of
    ``dense`` units with ReLU (``fc1``) and a softmax layer (``predictions``).
    VGG-16 doubles its maps from block to block (64, 128, 256, 512); the
    default ``(16, 32)`` does the same at a quarter of the first width.

    Parameters
    ----------
    widths : tuple of int
        Maps in each block, 1 to 8 blocks.
    convs : int
        3x3 convolutions per block, 1 to 4.
    dense : int
        Units of the hidden dense layer.
    n_classes : int
    input_shape : (H, W, C)
        At least ``2 ** len(widths)`` pixels on each side (every block halves the grid).
    seed : int
        Seeds the He-normal initialisers (layer ``i`` gets ``seed + i``).
    name : str

    Returns
    -------
    keras.Model
        ``(N, 28, 28, 1)`` -> ``(N, n_classes)`` probabilities; 117,434
        parameters with the defaults.
    """
    widths = _check_widths(widths)
    convs = check_int(convs, "convs", minimum=1)
    if convs > 4:
        raise ValueError(f"`convs` must be 1 to 4 convolutions per block, got {convs}")
    dense = check_int(dense, "dense", minimum=1)
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    steps = ((2, 2, "valid"),) * len(widths)
    h, w, c = input_shape = check_image_shape(input_shape, min_side=smallest_side(steps))
    seed = check_seed(seed)
    name = check_name(name, optional=False)
    check_feature_maps(h, w, max(widths))
    params, c_in = 0, c
    for maps in widths:
        for _ in range(convs):
            params, c_in = params + _conv_params(3, c_in, maps), maps
    flat = (h >> len(widths)) * (w >> len(widths)) * widths[-1]
    check_params(params + _conv_params(1, flat, dense) + _conv_params(1, dense, n_classes),
                 "`widths`, `dense` and `input_shape`")
    init = keras.initializers.HeNormal
    inputs = keras.Input(shape=input_shape, name="image")                  # (N, H, W, C)
    x, i = inputs, 0
    for block, maps in enumerate(widths, 1):
        for conv in range(1, convs + 1):
            x = _conv(maps, 3, f"block{block}_conv{conv}", seed + i)(x)      # (N, H', W', maps)
            i += 1
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)  # (N, H'/2, W'/2, maps)
    x = layers.Flatten(name="flatten")(x)                                  # (N, flat)
    x = layers.Dense(dense, activation="relu", kernel_initializer=init(seed + i), name="fc1")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions",
                           kernel_initializer=keras.initializers.GlorotUniform(seed + i + 1))(x)
    return keras.Model(inputs, outputs, name=name)                         # (N, n_classes)


# ----------------------------------------------------------------- Network in Network

def build_mini_nin(*, widths=(32, 64, 64), first_kernel=5, n_classes=10, input_shape=(28, 28, 1),
                   seed=0, name="mini_nin"):
    """A small Network in Network: mlpconv blocks and global average pooling, no dense layer (lesson 10).

    Block ``b`` is an mlpconv: a convolution of ``widths[b]`` maps (``first_kernel``
    x ``first_kernel`` in the first block, 3x3 after), then two 1x1 convolutions
    (``mlpconv{b}_conv``, ``_mlp1``, ``_mlp2``), "same" padding and ReLU
    throughout: a two-layer perceptron applied at every pixel. A 3x3 max pool
    with stride 2 ("same", ``pool{b}``) follows every block but the last,
    whose second 1x1 convolution makes ``n_classes`` maps instead; global
    average pooling (``gap``) turns each map into its class's score and a
    softmax (``softmax``) into probabilities. As in
    :func:`cnnlab.classic.build_nin` the class maps pass a ReLU before the
    average; the dropout layers of the original are left out.

    Parameters
    ----------
    widths : tuple of int
        Maps of each mlpconv block, 1 to 8 blocks.
    first_kernel : int
        Side of the first block's window (odd, 1 to 11); NiN's CIFAR network uses 5.
    n_classes : int
    input_shape : (H, W, C)
        Any size ("same" padding everywhere).
    seed : int
        Seeds the He-normal initialisers (layer ``i`` gets ``seed + i``).
    name : str

    Returns
    -------
    keras.Model
        ``(N, 28, 28, 1)`` -> ``(N, n_classes)`` probabilities; 71,498
        parameters with the defaults.
    """
    widths = _check_widths(widths)
    k = check_int(first_kernel, "first_kernel", minimum=1)
    if k > 11 or k % 2 == 0:
        raise ValueError(f"`first_kernel` must be an odd window side from 1 to 11, got {k}")
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    h, w, c = input_shape = check_image_shape(input_shape)
    seed = check_seed(seed)
    name = check_name(name, optional=False)
    check_feature_maps(h, w, max(widths))
    params, c_in = 0, c
    for b, maps in enumerate(widths):
        last = maps if b < len(widths) - 1 else n_classes
        params += (_conv_params(k if b == 0 else 3, c_in, maps) + _conv_params(1, maps, maps)
                   + _conv_params(1, maps, last))
        c_in = maps
    check_params(params, "`widths` and `input_shape`")
    inputs = keras.Input(shape=input_shape, name="image")                  # (N, H, W, C)
    x = inputs
    for b, maps in enumerate(widths, 1):
        last = b == len(widths)
        label = f"mlpconv{b}"
        s = seed + 3 * (b - 1)
        x = _conv(maps, k if b == 1 else 3, f"{label}_conv", s)(x)           # (N, H', W', maps)
        x = _conv(maps, 1, f"{label}_mlp1", s + 1)(x)                        # (N, H', W', maps)
        x = _conv(n_classes if last else maps, 1, f"{label}_mlp2", s + 2)(x)  # (N, H', W', maps)
        if not last:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{b}")(x)  # (N, H'/2, W'/2, maps)
    x = layers.GlobalAveragePooling2D(name="gap")(x)                       # (N, n_classes)
    outputs = layers.Activation("softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=name)
