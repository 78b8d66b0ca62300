"""The classic ImageNet-era architectures, built with Keras (lesson 10).

Builders (Keras 3 functional models with fixed layer names, not trained):

- :func:`build_alexnet`: AlexNet (Krizhevsky et al., 2012) as one tower on a
  227x227x3 input (the paper's two GPU halves merged), 62,378,344 parameters;
- :func:`build_vgg16`: VGG-16 (Simonyan and Zisserman, 2015), configuration D,
  138,357,544 parameters, layer names as in ``keras.applications.VGG16``;
- :func:`build_nin`: Network in Network (Lin et al., 2014) for 32x32 CIFAR
  images: three mlpconv blocks and global average pooling, no dense layer;
- :func:`inception_module` and :func:`build_inception_3a`: GoogLeNet's module
  3a (Szegedy et al., 2015), 28x28x192 in, 28x28x256 out.

Tools to look at them without printing a huge ``model.summary()``:
:func:`model_table` (one row per layer: kind, output shape, parameters,
multiply-adds), :func:`format_table` and :func:`multiply_adds`.
"""

from __future__ import annotations

from typing import NamedTuple

from .._validate import (
    check_feature_maps, check_flag, check_image_shape, check_int, check_name, check_params,
    check_real, describe, side_after, smallest_side,
)
from ..session import import_keras

keras = import_keras()   # quiet: TensorFlow's start-up lines stay off the page
layers, ops = keras.layers, keras.ops

__all__ = [
    "INCEPTION_3A",
    "LayerRow",
    "LocalResponseNormalization",
    "build_alexnet",
    "build_inception_3a",
    "build_nin",
    "build_vgg16",
    "format_table",
    "inception_module",
    "model_table",
    "multiply_adds",
]

#: GoogLeNet's module 3a: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection.
INCEPTION_3A = (64, 96, 128, 16, 32, 32)

# Layers that never change the shape or hold weights: left out of compact tables.
_QUIET = ("InputLayer", "Dropout", "ReLU", "Activation")


# ----------------------------------------------------------------- AlexNet

@keras.saving.register_keras_serializable(package="cnnlab")
class LocalResponseNormalization(layers.Layer):
    """AlexNet's local response normalisation across channels (no weights).

    ``b[..., c] = a[..., c] / (bias + alpha * sum(a[..., c'] ** 2)) ** beta``,
    the sum running over the ``2 * depth_radius + 1`` channels around ``c``
    (fewer at the edges). The paper's values are the defaults: a window of 5
    channels, ``k = 2``, ``alpha = 1e-4``, ``beta = 0.75``. Same definition as
    ``tf.nn.local_response_normalization``. Input and output ``(N, H, W, C)``.
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = check_int(depth_radius, "depth_radius", minimum=0)
        if self.depth_radius > 1000:
            raise ValueError(f"`depth_radius` must be at most 1000 channels, got {depth_radius:,}")
        self.bias = check_real(bias, "bias")
        self.alpha = check_real(alpha, "alpha")
        self.beta = check_real(beta, "beta")

    def call(self, x):
        r = self.depth_radius
        channels = x.shape[-1]
        squares = ops.pad(ops.square(x), [[0, 0], [0, 0], [0, 0], [r, r]])  # (N, H, W, C + 2r)
        window = sum(squares[..., i:i + channels] for i in range(2 * r + 1))  # (N, H, W, C)
        return x / ops.power(self.bias + self.alpha * window, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}


def _input(shape, name="image"):
    return keras.Input(shape=shape, name=name)


def _conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


#: (kernel, stride, padding) of AlexNet's layers that change the grid, in order.
_ALEXNET_STEPS = ((11, 4, "valid"), (3, 2, "valid"), (5, 1, "same"), (3, 2, "valid"),
                  (3, 1, "same"), (3, 1, "same"), (3, 1, "same"), (3, 2, "valid"))
#: VGG-16: five blocks, each closed by a 2x2 max pool with stride 2 ("same" 3x3 convolutions).
_VGG_STEPS = ((2, 2, "valid"),) * 5
_VGG_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def build_alexnet(*, n_classes=1000, input_shape=(227, 227, 3), name="alexnet"):
    """AlexNet as a single tower (lesson 10).

    conv1 96@11x11 stride 4 - LRN - max pool 3x3/2 - conv2 256@5x5 - LRN -
    pool - conv3 384@3x3 - conv4 384@3x3 - conv5 256@3x3 - pool - fc6 4096 -
    dropout - fc7 4096 - dropout - fc8 ``n_classes`` softmax. ReLU after every
    convolution and hidden dense layer.

    The paper splits conv2, conv4, conv5 over two GPUs (each half sees only
    its own 48 or 192 input maps, which gives its ~60 million parameters);
    this single-tower version connects every map and has 62,378,344
    parameters. The paper says 224x224 inputs, but an 11x11 window with
    stride 4 gives the stated 55x55 maps only on 227x227.

    Parameters
    ----------
    n_classes : int
    input_shape : (H, W, C)
        At least 67x67 (smaller images vanish before pool5).
    name : str

    Returns
    -------
    keras.Model
        ``(N, 227, 227, 3)`` -> ``(N, n_classes)``.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    h, w, c = input_shape = check_image_shape(input_shape, min_side=smallest_side(_ALEXNET_STEPS))
    name = check_name(name, optional=False)
    check_feature_maps(side_after(h, _ALEXNET_STEPS[:1]), side_after(w, _ALEXNET_STEPS[:1]), 96)
    flat = side_after(h, _ALEXNET_STEPS) * side_after(w, _ALEXNET_STEPS) * 256
    check_params(_conv_params(11, c, 96) + _conv_params(5, 96, 256) + _conv_params(3, 256, 384)
                 + _conv_params(3, 384, 384) + _conv_params(3, 384, 256)
                 + _conv_params(1, flat, 4096) + _conv_params(1, 4096, 4096)
                 + _conv_params(1, 4096, n_classes), "`input_shape` and `n_classes`")
    inputs = _input(input_shape)                                                  # (N, 227, 227, 3)
    x = layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1")(inputs)  # (N, 55, 55, 96)
    x = LocalResponseNormalization(name="lrn1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)                        # (N, 27, 27, 96)
    x = layers.Conv2D(256, 5, padding="same", activation="relu", name="conv2")(x)  # (N, 27, 27, 256)
    x = LocalResponseNormalization(name="lrn2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)                        # (N, 13, 13, 256)
    for label, maps in (("conv3", 384), ("conv4", 384), ("conv5", 256)):
        x = layers.Conv2D(maps, 3, padding="same", activation="relu", name=label)(x)  # (N, 13, 13, maps)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)                        # (N, 6, 6, 256)
    x = layers.Flatten(name="flatten")(x)                                         # (N, 9216)
    for label in ("fc6", "fc7"):
        x = layers.Dense(4096, activation="relu", name=label)(x)                  # (N, 4096)
        x = layers.Dropout(0.5, name=f"drop{label[-1]}")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="fc8")(x)        # (N, n_classes)
    return keras.Model(inputs, outputs, name=name)


# ----------------------------------------------------------------- VGG-16

def build_vgg16(*, n_classes=1000, input_shape=(224, 224, 3), name="vgg16"):
    """VGG-16 (configuration D): 13 convolutions 3x3, 5 max pools, 3 dense layers (lesson 10).

    Five blocks of 2, 2, 3, 3, 3 convolutions with 64, 128, 256, 512, 512
    maps ("same" padding, ReLU), each closed by a 2x2 max pool with stride 2,
    then fc1 4096, fc2 4096 and a softmax layer: 138,357,544 parameters for
    1000 classes. Layer names follow ``keras.applications.VGG16``
    (``block1_conv1`` ... ``block5_pool``, ``flatten``, ``fc1``, ``fc2``,
    ``predictions``).

    Parameters
    ----------
    n_classes : int
    input_shape : (H, W, C)
        At least 32x32 (five poolings halve the grid five times).
    name : str

    Returns
    -------
    keras.Model
        ``(N, 224, 224, 3)`` -> ``(N, n_classes)``.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    h, w, c = input_shape = check_image_shape(input_shape, min_side=smallest_side(_VGG_STEPS))
    name = check_name(name, optional=False)
    check_feature_maps(h, w, 64)
    params, c_in = 0, c
    for convs, maps in _VGG_BLOCKS:
        for _ in range(convs):
            params, c_in = params + _conv_params(3, c_in, maps), maps
    flat = side_after(h, _VGG_STEPS) * side_after(w, _VGG_STEPS) * 512
    check_params(params + _conv_params(1, flat, 4096) + _conv_params(1, 4096, 4096)
                 + _conv_params(1, 4096, n_classes), "`input_shape` and `n_classes`")
    inputs = _input(input_shape)                                        # (N, 224, 224, 3)
    x = inputs
    for block, (convs, maps) in enumerate(_VGG_BLOCKS, 1):
        for c in range(1, convs + 1):
            x = layers.Conv2D(maps, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{c}")(x)          # (N, H, W, maps)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)  # (N, H/2, W/2, maps)
    x = layers.Flatten(name="flatten")(x)                               # (N, 7 * 7 * 512)
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


# ----------------------------------------------------------------- Network in Network

def _mlpconv(x, maps, kernel_size, name):
    """An mlpconv block: a k x k convolution followed by two 1x1 ones (a tiny MLP per pixel)."""
    first, second, third = maps
    x = layers.Conv2D(first, kernel_size, padding="same", activation="relu", name=f"{name}_conv")(x)
    x = layers.Conv2D(second, 1, activation="relu", name=f"{name}_mlp1")(x)
    return layers.Conv2D(third, 1, activation="relu", name=f"{name}_mlp2")(x)


def build_nin(*, n_classes=10, input_shape=(32, 32, 3), name="nin"):
    """Network in Network for CIFAR-10 (lesson 10).

    mlpconv1 (192@5x5, 160@1x1, 96@1x1) - max pool 3x3/2 - dropout;
    mlpconv2 (192@5x5, 192@1x1, 192@1x1) - average pool 3x3/2 - dropout;
    mlpconv3 (192@3x3, 192@1x1, ``n_classes``@1x1) - global average pooling -
    softmax. The last mlpconv makes one map per class and global average
    pooling turns each map into that class's score: no dense layer at all.

    Parameters
    ----------
    n_classes : int
    input_shape : (H, W, C)
        Any size ("same" padding everywhere).
    name : str

    Returns
    -------
    keras.Model
        ``(N, 32, 32, 3)`` -> ``(N, n_classes)``; 966,986 parameters for 10 classes.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    h, w, c = input_shape = check_image_shape(input_shape)
    name = check_name(name, optional=False)
    check_feature_maps(h, w, 192)
    check_params(_conv_params(5, c, 192) + _conv_params(1, 192, 160) + _conv_params(1, 160, 96)
                 + _conv_params(5, 96, 192) + 2 * _conv_params(1, 192, 192)
                 + _conv_params(3, 192, 192) + _conv_params(1, 192, 192)
                 + _conv_params(1, 192, n_classes), "`input_shape` and `n_classes`")
    inputs = _input(input_shape)                                          # (N, 32, 32, 3)
    x = _mlpconv(inputs, (192, 160, 96), 5, "mlpconv1")                   # (N, 32, 32, 96)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # (N, 16, 16, 96)
    x = layers.Dropout(0.5, name="drop1")(x)
    x = _mlpconv(x, (192, 192, 192), 5, "mlpconv2")                       # (N, 16, 16, 192)
    x = layers.AveragePooling2D(3, strides=2, padding="same", name="pool2")(x)  # (N, 8, 8, 192)
    x = layers.Dropout(0.5, name="drop2")(x)
    x = _mlpconv(x, (192, 192, n_classes), 3, "mlpconv3")                 # (N, 8, 8, n_classes)
    x = layers.GlobalAveragePooling2D(name="gap")(x)                      # (N, n_classes)
    outputs = layers.Activation("softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


# ----------------------------------------------------------------- Inception

def inception_module(x, filters=INCEPTION_3A, *, name, reduce=True):
    """A GoogLeNet Inception module: four parallel branches, concatenated (lesson 10).

    Branches: 1x1; 1x1 reduce then 3x3; 1x1 reduce then 5x5; 3x3 max pool
    (stride 1) then a 1x1 projection. All "same" padding and ReLU, so every
    branch keeps the grid and the outputs stack along the channels.

    Parameters
    ----------
    x : (N, H, W, C) Keras tensor
    filters : 6 ints
        ``(n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj)``;
        :data:`INCEPTION_3A` is ``(64, 96, 128, 16, 32, 32)``.
    name : str
        Prefix of the layer names (``{name}_1x1``, ``{name}_3x3_reduce``, ...,
        ``{name}_concat``).
    reduce : bool
        ``False`` builds the naive module: no 1x1 reductions before the 3x3
        and 5x5 convolutions and no projection after the pool, whose ``C``
        maps are passed on as they are.

    Returns
    -------
    Keras tensor
        ``(N, H, W, n1x1 + n3x3 + n5x5 + pool_proj)``, or
        ``(N, H, W, n1x1 + n3x3 + n5x5 + C)`` when ``reduce=False``.
    """
    c = _check_maps(x)
    if not isinstance(filters, (tuple, list)) or len(filters) != 6:
        raise ValueError("`filters` must be 6 ints (n1x1, n3x3_reduce, n3x3, n5x5_reduce, "
                         f"n5x5, pool_proj), got {describe(filters)}")
    n1, r3, n3, r5, n5, pp = (check_int(f, "filters", minimum=1) for f in filters)
    name = check_name(name, optional=False)
    reduce = check_flag(reduce, "reduce")
    check_params(_inception_params(c, (n1, r3, n3, r5, n5, pp), reduce), "`filters`",
                 "the module")
    h, w = x.shape[1], x.shape[2]
    if h is not None and w is not None:
        check_feature_maps(h, w, n1 + n3 + n5 + (pp if reduce else c), "`x` and `filters`")

    def conv(t, maps, k, label):
        return layers.Conv2D(maps, k, padding="same", activation="relu", name=f"{name}_{label}")(t)

    b1 = conv(x, n1, 1, "1x1")                                            # (N, H, W, n1)
    b3 = conv(conv(x, r3, 1, "3x3_reduce"), n3, 3, "3x3") if reduce else conv(x, n3, 3, "3x3")
    b5 = conv(conv(x, r5, 1, "5x5_reduce"), n5, 5, "5x5") if reduce else conv(x, n5, 5, "5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)  # (N, H, W, C)
    if reduce:
        bp = conv(bp, pp, 1, "pool_proj")                                 # (N, H, W, pp)
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def build_inception_3a(*, reduce=True, input_shape=(28, 28, 192), name=None):
    """GoogLeNet's module 3a on its own: 28x28x192 in, 28x28x256 out (lesson 10).

    ``reduce=False`` gives the naive module (28x28x416 out, about 2.4 times
    the multiply-adds). Default name ``"inception_3a"`` or ``"inception_3a_naive"``.
    ``input_shape`` may be any ``(H, W, C)`` ("same" padding everywhere).
    """
    reduce = check_flag(reduce, "reduce")
    name = check_name(name) or ("inception_3a" if reduce else "inception_3a_naive")
    h, w, c = input_shape = check_image_shape(input_shape)
    check_params(_inception_params(c, INCEPTION_3A, reduce), "`input_shape`", "the module")
    check_feature_maps(h, w, sum(INCEPTION_3A[i] for i in (0, 2, 4)) + (32 if reduce else c))
    inputs = _input(input_shape, name="maps")
    return keras.Model(inputs, inception_module(inputs, INCEPTION_3A, name="3a", reduce=reduce),
                       name=name)


def _check_maps(x) -> int:
    """The channels of a 4D Keras tensor ``x`` (N, H, W, C)."""
    shape = getattr(x, "shape", None)
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if shape is None or isinstance(x, (str, bytes)):
        raise TypeError(f"`x` must be a Keras tensor (N, H, W, C), such as keras.Input((28, 28, "
                        f"192)), got {describe(x)}")
    if len(shape) != 4 or shape[-1] is None:
        raise ValueError(f"`x` must be a 4D tensor (N, H, W, C) with a known C, got shape {shape}")
    if any(n is not None and (not isinstance(n, int) or n < 1) for n in shape[1:]):
        raise ValueError(f"`x` must have positive sizes, got shape {shape}")
    return int(shape[-1])


def _inception_params(c, filters, reduce) -> int:
    n1, r3, n3, r5, n5, pp = filters
    if not reduce:
        return _conv_params(1, c, n1) + _conv_params(3, c, n3) + _conv_params(5, c, n5)
    return (_conv_params(1, c, n1) + _conv_params(1, c, r3) + _conv_params(3, r3, n3)
            + _conv_params(1, c, r5) + _conv_params(5, r5, n5) + _conv_params(1, c, pp))


# ----------------------------------------------------------------- tables

class LayerRow(NamedTuple):
    """One row of :func:`model_table`."""

    name: str
    kind: str              # the Keras class name, e.g. "Conv2D"
    shape: tuple           # output shape without the batch axis
    params: int
    multiply_adds: int     # per image, biases not counted


def _check_model(model):
    if (isinstance(model, type) or not isinstance(getattr(model, "layers", None), list)
            or not callable(getattr(model, "count_params", None))):
        raise TypeError(f"`model` must be a Keras model, got {describe(model)}")
    try:
        model.count_params()
        for layer in model.layers:
            layer.output                                   # noqa: B018 - built, with outputs
    except Exception as exc:  # noqa: BLE001 - e.g. a Sequential model never called
        raise ValueError(f"`model` must be built (its layers need output shapes): call it on "
                         f"an input first or give it a keras.Input ({type(exc).__name__}: "
                         f"{exc})".splitlines()[0]) from None
    return model


def _layer_multiply_adds(layer) -> int:
    """Multiply-adds of one layer for one image: every weight used once per output cell."""
    kind = type(layer).__name__
    if kind not in ("Conv2D", "Dense") or not layer.weights:
        return 0
    kernel_size = 1
    for n in layer.kernel.shape:
        kernel_size *= int(n)                     # KH * KW * C_in * C_out, or in * out
    cells = 1
    for n in layer.output.shape[1:-1]:
        cells *= int(n)                           # H_out * W_out (1 for a dense layer)
    return kernel_size * cells


def model_table(model, *, compact=True) -> list[LayerRow]:
    """The model layer by layer: kind, output shape, parameters, multiply-adds (lesson 10).

    Parameters
    ----------
    model : keras.Model
    compact : bool
        Leave out the input, dropout and stand-alone activation layers (no
        weights, shape unchanged).

    Returns
    -------
    list of LayerRow
        In the model's order; ``sum(r.params for r in rows) == model.count_params()``.
    """
    model = _check_model(model)
    compact = check_flag(compact, "compact")
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        if compact and kind in _QUIET:
            continue
        shape = tuple(layer.output.shape[1:])
        rows.append(LayerRow(layer.name, kind, shape, int(layer.count_params()),
                             _layer_multiply_adds(layer)))
    return rows


def multiply_adds(model) -> int:
    """Multiply-adds of a forward pass for one image (convolutions and dense layers)."""
    return sum(_layer_multiply_adds(layer) for layer in _check_model(model).layers)


def format_table(rows, *, total=True) -> str:
    """Text table of :func:`model_table` rows: layer, kind, output shape, params (lesson 10)."""
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"`rows` must be the LayerRow list returned by model_table(model), "
                        f"got {describe(rows)}")
    rows = list(rows)
    if not all(isinstance(r, LayerRow) for r in rows):
        raise TypeError("`rows` must be the LayerRow list returned by model_table(model)")
    total = check_flag(total, "total")
    cells = [(r.name, r.kind, "x".join(str(n) for n in r.shape), f"{r.params:,}") for r in rows]
    head = ("layer", "kind", "output", "params")
    widths = [max(len(c[i]) for c in cells + [head]) for i in range(4)]

    def line(c):
        return (f"{c[0]:<{widths[0]}}  {c[1]:<{widths[1]}}  {c[2]:>{widths[2]}}  "
                f"{c[3]:>{widths[3]}}")

    out = [line(head), "-" * len(line(head))] + [line(c) for c in cells]
    if total:
        out += ["-" * len(line(head)), f"total parameters: {sum(r.params for r in rows):,}"]
    return "\n".join(out)
