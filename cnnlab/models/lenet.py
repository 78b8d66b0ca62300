"""LeNet-5 in Keras, as LeCun et al. built it in 1998 and as it is built today (lesson 09).

``build_lenet5("classic")`` follows the paper layer by layer:

- the 28x28 MNIST digit is padded with zeros to 32x32 (the paper's input
  size) inside the model, so C1 gives 6 maps of 28x28;
- tanh activations after every layer up to F6;
- S2 and S4 are *trainable subsampling* layers (:class:`Subsampling`): each
  map's 2x2 windows are summed, multiplied by a trainable coefficient and
  shifted by a trainable bias (2 parameters per map);
- C3 uses the paper's partial connection table (:class:`TableConv2D` with
  :func:`cnnlab.shapes.lenet5_c3_table`): each of its 16 maps sees only 3, 4
  or 6 of the 6 maps of S2;
- C5 is a 5x5 convolution with 120 maps (on a 5x5 input its output is 1x1);
- F6 has 84 units. The paper's output layer of 10 radial basis function units
  (distances to fixed 7x12 bitmaps) is replaced by a dense layer of 10 units
  with softmax, as every modern version does.

``build_lenet5("modern")`` keeps the sizes but uses ReLU, 2x2 max pooling
(no parameters) and a fully connected C3 (2,416 parameters).

Both models take images ``(N, 28, 28, 1)`` with values in [0, 1]
(:func:`prepare_images` turns MNIST's uint8 pixels into that) and return
class probabilities ``(N, 10)``. The custom layers are registered with Keras,
so a saved model opens with ``keras.saving.load_model`` once this module is
imported.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import (
    as_array, as_pixels, check_allocation, check_choice, check_int, check_name, check_seed,
    describe,
)
from ..shapes import conv2d_params, conv_output_size, dense_params, pool_output_size
from ..session import import_keras

keras = import_keras()   # quiet: TensorFlow's start-up lines stay off the page
layers, ops = keras.layers, keras.ops

__all__ = [
    "LayerCount",
    "lenet5_c3_table",
    "lenet5_table",
    "VARIANTS",
    "LAYER_NAMES",
    "Subsampling",
    "TableConv2D",
    "build_lenet5",
    "layer_outputs",
    "probe_model",
    "prepare_images",
]

VARIANTS = ("classic", "modern")
#: Names of the layers with weights or pooling, in order (shared by both variants).
LAYER_NAMES = ("C1", "S2", "C3", "S4", "C5", "F6", "output")


# ----------------------------------------------------------------- the tables (lesson 09)


class LayerCount(NamedTuple):
    """One row of :func:`lenet5_table`: a layer's output, parameters and connections."""

    name: str
    kind: str          # "input", "convolution", "subsampling", "max pooling" or "dense"
    maps: int          # feature maps (units for a dense layer)
    height: int
    width: int
    params: int        # trainable parameters
    connections: int   # multiply-adds (a bias counts as one) for one input image


def lenet5_c3_table():
    """LeNet-5's connection table between S2 (6 maps) and C3 (16 maps) (lesson 09).

    Column ``j`` lists the S2 maps that C3 map ``j`` sees (Table I of LeCun et
    al., 1998): maps 0-5 see 3 adjacent maps (``j, j+1, j+2``, wrapping
    around), maps 6-11 see 4 adjacent maps, maps 12-14 see 4 maps made of two
    adjacent pairs (``j, j+1, j+3, j+4``), and map 15 sees all 6.

    Returns
    -------
    table : (6, 16) ndarray of int
        ``table[i, j] = 1`` when S2 map ``i`` feeds C3 map ``j``; 60 ones.
    """
    table = np.zeros((6, 16), dtype=np.int64)
    for j in range(6):
        table[[j, (j + 1) % 6, (j + 2) % 6], j] = 1
        table[[(j + d) % 6 for d in range(4)], 6 + j] = 1
    for j in range(3):
        table[[j, j + 1, (j + 3) % 6, (j + 4) % 6], 12 + j] = 1
    table[:, 15] = 1
    return table


def lenet5_table(variant="classic") -> list[LayerCount]:
    """LeNet-5 layer by layer: output size, parameters and connections (lesson 09).

    Everything is computed from the layer sizes: a 32x32 input, 5x5
    convolutions, 2x2 subsampling. For a convolution each output cell of map
    ``j`` is connected to ``5 * 5 * n_j`` inputs plus a bias, where ``n_j`` is
    the number of input maps it sees; parameters are counted once per map
    (shared weights), connections once per output cell. A subsampling cell
    has 4 inputs plus a bias, and 2 parameters per map (coefficient and bias).

    Parameters
    ----------
    variant : {"classic", "modern"}
        ``"classic"``: the paper's subsampling layers and partial C3 table
        (:func:`lenet5_c3_table`). ``"modern"``: 2x2 max pooling (no
        parameters, 4 connections per cell) and a fully connected C3.
        Both end with a dense softmax layer of 10 units (84 * 10 + 10
        parameters) where the paper has 10 radial basis units (84 * 10).

    Returns
    -------
    list of LayerCount
        Rows ``input, C1, S2, C3, S4, C5, F6, output``.
    """
    check_choice(variant, "variant", ("classic", "modern"))
    classic = variant == "classic"
    rows = [LayerCount("input", "input", 1, 32, 32, 0, 0)]
    rows.append(_conv_count("C1", rows[-1], 6, 5))
    rows.append(_pool_count("S2", rows[-1], 2, trainable=classic))
    rows.append(_conv_count("C3", rows[-1], 16, 5, table=lenet5_c3_table() if classic else None))
    rows.append(_pool_count("S4", rows[-1], 2, trainable=classic))
    rows.append(_conv_count("C5", rows[-1], 120, 5))
    rows.append(_dense_count("F6", rows[-1], 84))
    rows.append(_dense_count("output", rows[-1], 10))
    return rows


def _conv_count(name, previous: LayerCount, maps: int, k: int, table=None) -> LayerCount:
    """A 'valid' k x k convolution; ``table`` (C_in, C_out) limits which input maps each map sees."""
    h, w = conv_output_size(previous.height, k), conv_output_size(previous.width, k)
    if table is None:
        inputs_per_map = [previous.maps] * maps
    else:
        assert table.shape == (previous.maps, maps)
        inputs_per_map = [int(n) for n in table.sum(axis=0)]
    params = sum(conv2d_params(k, n, 1) for n in inputs_per_map)   # shared across positions
    return LayerCount(name, "convolution", maps, h, w, params, params * h * w)


def _pool_count(name, previous: LayerCount, p: int, *, trainable: bool) -> LayerCount:
    """2x2 subsampling (coefficient and bias per map) or max pooling (no parameters)."""
    h, w = pool_output_size(previous.height, p), pool_output_size(previous.width, p)
    cells = previous.maps * h * w
    if trainable:
        return LayerCount(name, "subsampling", previous.maps, h, w, 2 * previous.maps,
                          cells * (p * p + 1))
    return LayerCount(name, "max pooling", previous.maps, h, w, 0, cells * p * p)


def _dense_count(name, previous: LayerCount, units: int) -> LayerCount:
    params = dense_params(previous.maps * previous.height * previous.width, units)
    return LayerCount(name, "dense", units, 1, 1, params, params)


# ----------------------------------------------------------------- the Keras layers

@keras.saving.register_keras_serializable(package="cnnlab")
class Subsampling(layers.Layer):
    """LeNet-5's trainable subsampling (layers S2 and S4).

    Every ``pool_size x pool_size`` window of a map is summed, multiplied by
    the map's coefficient and shifted by the map's bias, then the activation
    is applied: ``y = act(coefficient[c] * sum(window) + bias[c])``. Two
    parameters per map; the windows do not overlap (stride = ``pool_size``).

    Parameters
    ----------
    pool_size : int
        Window side, 2 in LeNet-5.
    activation : str or None
        Keras activation applied at the end (``"tanh"`` in the classic model).

    Input ``(N, H, W, C)``; output ``(N, H // pool_size, W // pool_size, C)``.
    The coefficients start at ``1 / pool_size**2`` (so the layer starts as
    an average) and the biases at 0.
    """

    def __init__(self, pool_size=2, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = check_int(pool_size, "pool_size", minimum=1)
        self.activation = _activation(activation)

    def build(self, input_shape):
        channels = input_shape[-1]
        start = 1.0 / self.pool_size**2
        self.coefficient = self.add_weight(
            shape=(channels,), initializer=keras.initializers.Constant(start), name="coefficient")
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")

    def call(self, x):
        p = self.pool_size
        sums = ops.average_pool(x, p, strides=p, padding="valid") * float(p * p)  # (N, H/p, W/p, C)
        return self.activation(sums * self.coefficient + self.bias)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        p = self.pool_size
        return (n, None if h is None else h // p, None if w is None else w // p, c)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size,
                "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="cnnlab")
class TableConv2D(layers.Layer):
    """A 'valid' convolution whose output maps each see only some input maps (LeNet-5's C3).

    ``table[i, j] = 1`` connects input map ``i`` to output map ``j``. Only the
    connected 2D kernels are weights: the layer holds a ``kernel`` of shape
    ``(KH, KW, n_connections)`` and one bias per output map, so
    ``count_params()`` is ``KH * KW * table.sum() + C_out``. At every call the
    connected kernels are scattered into a full ``(KH, KW, C_in, C_out)``
    kernel with zeros elsewhere (a product with a fixed 0/1 matrix) and one
    ordinary convolution runs.

    Connections are numbered output map by output map, input maps in
    increasing order: ``kernel[..., 0]`` links the first connected input of
    output map 0.

    Parameters
    ----------
    table : (C_in, C_out) array_like of 0 and 1
        Connection table; every output map needs at least one input.
    kernel_size : int
        Side of the square kernels.
    activation : str or None
    seed : int, optional
        Seed of the Glorot-uniform start (the same distribution as a full
        ``Conv2D`` of that shape).
    """

    def __init__(self, table, kernel_size=5, activation=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        table = as_array(table, "table", ndims=2)
        if not np.all((table == 0) | (table == 1)):
            raise ValueError("`table` must hold only 0 and 1 (1 = connected)")
        if np.any(table.sum(axis=0) == 0):
            empty = np.flatnonzero(table.sum(axis=0) == 0).tolist()
            raise ValueError(f"`table`: output map(s) {empty} have no input; "
                             "connect each to one at least")
        if table.size == 0:
            raise ValueError(f"`table` must have at least one row and one column, got shape "
                             f"{table.shape}")
        self.table = table.astype(np.int64)  # (C_in, C_out)
        self.kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        self.activation = _activation(activation)
        self.seed = None if seed is None else check_seed(seed)
        pairs = np.argwhere(self.table.T == 1)  # (n_connections, 2) rows (out, in)
        c_in, c_out = self.table.shape
        check_allocation((len(pairs), c_in * c_out), "table", itemsize=4,
                         what="the connection matrix")
        check_allocation((self.kernel_size, self.kernel_size, c_in * c_out), "kernel_size",
                         itemsize=4, what="the full kernel")
        scatter = np.zeros((len(pairs), c_in * c_out), np.float32)  # (n, C_in * C_out)
        scatter[np.arange(len(pairs)), pairs[:, 1] * c_out + pairs[:, 0]] = 1.0
        self._scatter = scatter
        self._pairs = pairs

    @property
    def n_connections(self) -> int:
        """Number of (input map, output map) pairs that share a kernel."""
        return len(self._pairs)

    def build(self, input_shape):
        c_in, c_out = self.table.shape
        if input_shape[-1] != c_in:
            raise ValueError(
                f"TableConv2D: the table has {c_in} rows (input maps) but the input has "
                f"{input_shape[-1]} channels")
        k = self.kernel_size
        glorot = keras.initializers.GlorotUniform(self.seed)
        full = glorot((k, k, c_in, c_out))                              # (k, k, C_in, C_out)
        start = ops.convert_to_numpy(full)[:, :, self._pairs[:, 1], self._pairs[:, 0]]

        def connected_start(shape, dtype=None):
            return ops.cast(start, dtype or "float32")

        self.kernel = self.add_weight(shape=(k, k, self.n_connections),
                                      initializer=connected_start, name="kernel")
        self.bias = self.add_weight(shape=(c_out,), initializer="zeros", name="bias")

    def full_kernel(self):
        """The kernel as a full ``(KH, KW, C_in, C_out)`` tensor, zeros where not connected."""
        k = self.kernel_size
        c_in, c_out = self.table.shape
        flat = ops.reshape(self.kernel, (k * k, self.n_connections))  # (k*k, n)
        scatter = ops.convert_to_tensor(self._scatter, flat.dtype)     # (n, C_in*C_out)
        full = ops.matmul(flat, scatter)                                # (k*k, C_in*C_out)
        return ops.reshape(full, (k, k, c_in, c_out))

    def call(self, x):
        y = ops.conv(x, self.full_kernel(), strides=1, padding="valid")  # (N, H-k+1, W-k+1, C_out)
        return self.activation(y + self.bias)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        k = self.kernel_size
        return (n, None if h is None else h - k + 1, None if w is None else w - k + 1,
                self.table.shape[1])

    def get_config(self):
        return {**super().get_config(), "table": self.table.tolist(),
                "kernel_size": self.kernel_size, "seed": self.seed,
                "activation": keras.activations.serialize(self.activation)}


def prepare_images(x, *, side=28) -> np.ndarray:
    """MNIST pixels to model input: ``(N, 28, 28)`` 0-255 -> ``(N, 28, 28, 1)`` float32 0-1.

    Integer pixels (uint8, as loaded) and floats reaching 2 or more (0-255 pixels) are
    divided by 255; floats already within [0, 1] (``cnnlab.data.digit``, or
    images prepared before) are kept, so preparing twice changes nothing. A
    single image ``(28, 28)`` becomes a batch of one; ``(N, 28, 28, 1)`` is
    accepted too. The same rule as :func:`cnnlab.denoise.to_images`; lessons
    09 and 11 prepare MNIST and Fashion-MNIST with it (``lenet.prepare_images``,
    ``resnet.prepare_images``).

    Parameters
    ----------
    x : (N, H, W), (N, H, W, 1) or (H, W) array_like
    side : int or None
        The side the images must have: 28 (MNIST and Fashion-MNIST, what
        LeNet-5 and the shipped ResNet take), or None for any size (a ResNet
        built for other inputs).

    Raises
    ------
    ValueError
        For images that are not ``side`` x ``side``, negative values, NaN,
        values above 255, floats just above 1 (between 1 and 2) or more than
        one channel.
    """
    side = None if side is None else check_int(side, "side", minimum=1)
    return _prepare(x, "x", side)


def _prepare(x, name, side=28):
    images = as_pixels(x, name, ndims=(2, 3, 4))                      # (N, H, W, 1)
    if side is not None and images.shape[1:3] != (side, side):
        raise ValueError(f"`{name}` must hold {side}x{side} images, got shape {np.shape(x)}")
    return images                                                       # (N, side, side, 1)


def _activation(activation):
    """A Keras activation from a name, a callable or None, with a clear error."""
    if activation is not None and not isinstance(activation, str) and not callable(activation):
        raise TypeError(f"`activation` must be a Keras activation name such as 'tanh', a "
                        f"function or None, got {describe(activation)}")
    try:
        return keras.activations.get(activation)
    except (ValueError, TypeError):
        raise ValueError(f"`activation` must be a Keras activation such as 'tanh' or 'relu', "
                         f"got {activation!r}") from None


def build_lenet5(variant="modern", *, name=None, seed=0):
    """Build LeNet-5 with Keras (lesson 09).

    Parameters
    ----------
    variant : {"classic", "modern"}
        ``"classic"``: tanh, trainable subsampling, partial C3 (60,850
        parameters). ``"modern"``: ReLU, max pooling, full C3 (61,706).
    name : str, optional
        Model name; default ``"lenet5_<variant>"``.
    seed : int
        Seed of the starting weights (each layer gets its own offset).

    Returns
    -------
    keras.Model
        Input ``(N, 28, 28, 1)`` in [0, 1] (zero-padded to 32x32 inside),
        output ``(N, 10)`` class probabilities. Layers named ``pad``, ``C1``,
        ``S2``, ``C3``, ``S4``, ``C5``, ``flatten``, ``F6``, ``output``.
    """
    variant = check_choice(variant, "variant", VARIANTS)
    seed = check_seed(seed)
    name = f"lenet5_{variant}" if check_name(name) is None else name
    classic = variant == "classic"
    act = "tanh" if classic else "relu"

    def init(offset):
        return keras.initializers.GlorotUniform(seed=seed + offset)

    def subsample(label):
        if classic:
            return Subsampling(2, activation="tanh", name=label)
        return layers.MaxPooling2D(2, name=label)

    inputs = keras.Input(shape=(28, 28, 1), name="image")               # (N, 28, 28, 1)
    x = layers.ZeroPadding2D(2, name="pad")(inputs)                      # (N, 32, 32, 1)
    x = layers.Conv2D(6, 5, activation=act, kernel_initializer=init(1),
                      name="C1")(x)                                      # (N, 28, 28, 6)
    x = subsample("S2")(x)                                               # (N, 14, 14, 6)
    if classic:
        x = TableConv2D(lenet5_c3_table(), 5, activation=act, seed=seed + 3, name="C3")(x)
    else:
        x = layers.Conv2D(16, 5, activation=act, kernel_initializer=init(3), name="C3")(x)
    #                                                                      (N, 10, 10, 16)
    x = subsample("S4")(x)                                               # (N, 5, 5, 16)
    x = layers.Conv2D(120, 5, activation=act, kernel_initializer=init(5),
                      name="C5")(x)                                      # (N, 1, 1, 120)
    x = layers.Flatten(name="flatten")(x)                                # (N, 120)
    x = layers.Dense(84, activation=act, kernel_initializer=init(6), name="F6")(x)  # (N, 84)
    outputs = layers.Dense(10, activation="softmax", kernel_initializer=init(7),
                           name="output")(x)                             # (N, 10)
    return keras.Model(inputs, outputs, name=name)


def probe_model(model, names=LAYER_NAMES):
    """A model that returns the outputs of the named layers of ``model`` (lesson 09).

    Parameters
    ----------
    model : keras.Model
        A model from :func:`build_lenet5` (or any model with layers of those names).
    names : sequence of str
        Layers to expose, in order; default ``C1 S2 C3 S4 C5 F6 output``.

    Returns
    -------
    keras.Model
        Same input as ``model``; a list of outputs, one per name.
    """
    known = _layer_names(model)
    names = _check_layer_names(names)
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"`model` has no layer named {missing[0]!r}; its layers are "
                         f"{', '.join(known)}")
    try:
        return keras.Model(model.input, [model.get_layer(n).output for n in names],
                           name=f"{model.name}_probe")
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"`model` must be built, with an input (give it a keras.Input or call "
                         f"it once): {exc}".splitlines()[0]) from None


def layer_outputs(model, images, names=LAYER_NAMES) -> dict:
    """Run ``images`` through ``model`` and keep what every named layer produced.

    Parameters
    ----------
    model : keras.Model
    images : (N, 28, 28, 1) or (N, 28, 28) or (28, 28) array_like
        Pixels 0-255 or 0-1 (see :func:`prepare_images`).
    names : sequence of str

    Returns
    -------
    dict
        Layer name -> ndarray, e.g. ``"C1"``: ``(N, 28, 28, 6)``,
        ``"C5"``: ``(N, 1, 1, 120)``, ``"output"``: ``(N, 10)``.
    """
    _layer_names(model)
    names = _check_layer_names(names)
    x = _prepare(images, "images")                                      # (N, 28, 28, 1)
    probe = probe_model(model, names)
    outputs = probe(x, training=False)
    if not isinstance(outputs, (list, tuple)):                          # a single layer
        outputs = [outputs]
    return {n: np.asarray(o) for n, o in zip(names, outputs)}


def _layer_names(model) -> list:
    layers = getattr(model, "layers", None) if not isinstance(model, type) else None
    if (not isinstance(layers, list) or not layers
            or not all(isinstance(getattr(layer, "name", None), str) for layer in layers)):
        raise TypeError(f"`model` must be a Keras model, got {type(model).__name__}")
    return [layer.name for layer in layers]


def _check_layer_names(names) -> list:
    if isinstance(names, str):
        names = [names]
    elif isinstance(names, (list, tuple)):
        names = list(names)
    else:
        raise TypeError(f"`names` must be a layer name or a list of layer names such as "
                        f"['C1', 'S2'], got {describe(names)}")
    if not names:
        raise ValueError("`names` must name at least one layer, got an empty list")
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"`names` must hold layer names (strings), got {describe(bad[0])}")
    return names
