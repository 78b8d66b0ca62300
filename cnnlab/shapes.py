"""Output sizes of convolution and pooling layers (lesson 03).

One axis at a time: the same rule applies to the height and to the width.
For an input of ``n`` cells, a kernel of ``k`` cells spread out by a dilation
``d`` spans ``k_eff = (k - 1) * d + 1`` cells, and with ``p_before + p_after``
cells of zero padding and a stride ``s`` the output has

    floor((n + p_before + p_after - k_eff) / s) + 1

cells. With the same padding on both sides this is the familiar
``floor((n + 2p - k) / s) + 1``.

Padding can be given as

- ``"valid"``: no padding;
- ``"same"``: TensorFlow's and Keras's rule, ``ceil(n / s)`` output cells,
  with any odd cell of padding added at the end (bottom or right);
- ``"full"``: ``k_eff - 1`` cells on each side, so every input cell meets every
  kernel cell;
- an int ``p``: ``p`` cells on each side;
- a pair ``(before, after)``.

This module and the kernels in :mod:`cnnlab.kernels` take their padding
amounts and output sizes from the same plans (:mod:`cnnlab._plans`), so the
shapes printed in a lesson and the arrays the kernels return cannot disagree.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ._plans import PADDING_NAMES, axis_plan, pool_plan, split_padding  # noqa: F401 (public here)
from ._validate import check_flag, check_int, check_pair, describe

__all__ = [
    "conv_output_size", "pool_output_size", "padding_amounts",
    "conv2d_params", "dense_params", "locally_connected_params", "pool_params",
    "LayerInfo", "layer_table", "layer_output_shapes", "count_params",
]


def conv_output_size(n, kernel_size, stride=1, padding="valid", dilation=1) -> int:
    """Number of output cells of a convolution along one axis.

    Parameters
    ----------
    n : int
        Input size along the axis (at least 1).
    kernel_size : int
        Kernel size along the axis (at least 1).
    stride : int
        Step between two windows (at least 1).
    padding : {"valid", "same", "full"}, int or (int, int)
        See the module docstring.
    dilation : int
        Spacing between kernel cells (1 = no gaps).

    Returns
    -------
    int
        ``floor((n + p_before + p_after - k_eff) / stride) + 1`` where
        ``k_eff = (kernel_size - 1) * dilation + 1``; ``ceil(n / stride)`` for
        ``"same"``.

    Raises
    ------
    ValueError
        If the (dilated) kernel is larger than the padded input, so the output
        would be empty.

    Examples
    --------
    >>> conv_output_size(28, 3)
    26
    >>> conv_output_size(5, 3, stride=2, padding=1)
    3
    >>> conv_output_size(7, 3, stride=2, padding="same")
    4
    """
    return axis_plan(n, kernel_size, stride, padding, dilation)[2]


def padding_amounts(n, kernel_size, stride=1, padding="valid", dilation=1) -> tuple[int, int]:
    """Cells of zero padding before and after the input along one axis.

    Same parameters as :func:`conv_output_size`.

    Returns
    -------
    (int, int)
        ``(before, after)``. For ``"same"`` this is TensorFlow's rule:
        ``total = max((out - 1) * stride + k_eff - n, 0)`` with
        ``out = ceil(n / stride)``, ``before = total // 2`` and the rest after.

    Examples
    --------
    >>> padding_amounts(8, 3, padding="same")
    (1, 1)
    >>> padding_amounts(8, 4, padding="same")
    (1, 2)
    >>> padding_amounts(5, 3, padding="full")
    (2, 2)
    """
    before, after, _ = axis_plan(n, kernel_size, stride, padding, dilation)
    return before, after


def pool_output_size(n, pool_size, stride=None, padding="valid") -> int:
    """Number of output cells of a pooling layer along one axis.

    Parameters
    ----------
    n : int
        Input size along the axis.
    pool_size : int
        Window size along the axis.
    stride : int, optional
        Step between windows; defaults to ``pool_size`` as in Keras.
    padding : {"valid", "same"}
        Keras's pooling padding.

    Returns
    -------
    int
        ``floor((n - pool_size) / stride) + 1`` for ``"valid"``,
        ``ceil(n / stride)`` for ``"same"``.

    Raises
    ------
    ValueError
        If ``pool_size`` is larger than ``n`` with ``"valid"`` padding.

    Examples
    --------
    >>> pool_output_size(26, 2)
    13
    >>> pool_output_size(5, 2, padding="same")
    3
    """
    return pool_plan(n, pool_size, stride, padding)[2]


# --------------------------------------------------------------------------
# Parameter counts (lessons 04 and 07)
# --------------------------------------------------------------------------
#
# A layer's parameters are the numbers training changes: the weights of its
# filters or connections and one bias per output map (or unit). They do not
# depend on the size of the input image, only on its depth.

def conv2d_params(kernel_size, c_in, c_out, use_bias=True) -> int:
    """Number of parameters of a 2D convolutional layer.

    Parameters
    ----------
    kernel_size : int or (int, int)
        ``KH`` and ``KW``.
    c_in : int
        Depth of the input (every filter is ``KH x KW x c_in``).
    c_out : int
        Number of filters, i.e. depth of the output.
    use_bias : bool
        Count one bias per filter.

    Returns
    -------
    int
        ``KH * KW * c_in * c_out`` weights, plus ``c_out`` biases.

    Examples
    --------
    >>> conv2d_params(3, 1, 32)         # 32 filters of 3x3 on a grey image
    320
    >>> conv2d_params((3, 3), 4, 2, use_bias=False)   # ARGB input, 2 filters: 4x2x3x3
    72
    """
    kh, kw = check_pair(kernel_size, "kernel_size", minimum=1)
    c_in = check_int(c_in, "c_in", minimum=1)
    c_out = check_int(c_out, "c_out", minimum=1)
    return kh * kw * c_in * c_out + (c_out if check_flag(use_bias, "use_bias") else 0)


def dense_params(n_in, n_out, use_bias=True) -> int:
    """Number of parameters of a fully connected (dense) layer.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and of units; every unit is connected to every input.
    use_bias : bool
        Count one bias per unit.

    Returns
    -------
    int
        ``n_in * n_out`` weights, plus ``n_out`` biases.

    Examples
    --------
    >>> dense_params(1600, 512)
    819712
    """
    n_in = check_int(n_in, "n_in", minimum=1)
    n_out = check_int(n_out, "n_out", minimum=1)
    return n_in * n_out + (n_out if check_flag(use_bias, "use_bias") else 0)


def locally_connected_params(out_size, kernel_size, c_in=1, c_out=1, use_bias=True) -> int:
    """Parameters of a locally connected layer: local windows, weights *not* shared.

    Every output cell looks at one ``KH x KW x c_in`` window, like a
    convolution, but has its own weights (and its own bias) instead of
    sharing one filter with every other position.

    Parameters
    ----------
    out_size : int or (int, int)
        Output cells along rows and columns (``(H_out, W_out)``).
    kernel_size : int or (int, int)
        Window ``KH x KW``.
    c_in : int
        Input depth.
    c_out : int
        Output maps.
    use_bias : bool
        Count one bias per output cell.

    Returns
    -------
    int
        ``H_out * W_out * (KH * KW * c_in * c_out)`` weights, plus
        ``H_out * W_out * c_out`` biases: :func:`conv2d_params` once per position.

    Examples
    --------
    >>> locally_connected_params((1000, 1000), 10, use_bias=False)   # 10x10 windows
    100000000
    """
    h_out, w_out = check_pair(out_size, "out_size", minimum=1)
    return h_out * w_out * conv2d_params(kernel_size, c_in, c_out, use_bias)


def pool_params() -> int:
    """Parameters of a max or average pooling layer: always 0.

    Pooling takes the largest value or the mean of each window; there is
    nothing to learn. (LeNet-5's trainable subsampling, lesson 09, is another
    layer.)
    """
    return 0


# --------------------------------------------------------------------------
# A stack of layers, described in plain Python (lesson 07)
# --------------------------------------------------------------------------

class LayerInfo(NamedTuple):
    """One row of :func:`layer_table`."""

    kind: str
    output_shape: tuple
    params: int


_LAYER_OPTIONS = {
    "conv2d": ({"filters", "kernel_size"}, {"stride", "padding", "dilation", "use_bias"}),
    "max_pool2d": (set(), {"pool_size", "stride", "padding"}),
    "avg_pool2d": (set(), {"pool_size", "stride", "padding"}),
    "global_avg_pool2d": (set(), set()),
    "flatten": (set(), set()),
    "dense": ({"units"}, {"use_bias"}),
    "activation": (set(), {"function"}),
    "dropout": (set(), {"rate"}),
}
LAYER_KINDS = tuple(_LAYER_OPTIONS)


def layer_table(layers, input_shape) -> list[LayerInfo]:
    """Output shape and parameter count of every layer of a stack.

    A stack is a list of layers; each layer is a kind name, or a pair
    ``(kind, options)`` with a dict of options:

    =====================  =============================================  =================
    kind                   options (defaults)                             output shape
    =====================  =============================================  =================
    "conv2d"               filters, kernel_size, stride=1,                (H', W', filters)
                           padding="valid", dilation=1, use_bias=True
    "max_pool2d",          pool_size=2, stride=None, padding="valid"      (H', W', C)
    "avg_pool2d"
    "global_avg_pool2d"    -                                              (C,)
    "flatten"              -                                              (H * W * C,)
    "dense"                units, use_bias=True                           (units,)
    "activation"           function=None (a name, for the reader)         unchanged
    "dropout"              rate=None                                      unchanged
    =====================  =============================================  =================

    Shapes leave out the batch axis. "dense" needs a flat input: put
    "flatten" before it (Keras would apply it to the last axis only).

    Parameters
    ----------
    layers : list
        The stack, e.g. the MNIST network of lesson 07::

            [("conv2d", {"filters": 32, "kernel_size": 3}), "max_pool2d",
             ("conv2d", {"filters": 64, "kernel_size": 3}), "max_pool2d",
             "flatten", ("dense", {"units": 512}), "dropout", ("dense", {"units": 10})]

    input_shape : tuple of int
        ``(H, W, C)`` for images, ``(n,)`` for vectors; no batch axis.

    Returns
    -------
    list of LayerInfo
        ``(kind, output_shape, params)`` for each layer, in order.

    Raises
    ------
    ValueError
        Naming the layer (its position and kind) whose options or input do
        not fit, e.g. a pooling window larger than its input.
    """
    shape = _check_input_shape(input_shape)
    if isinstance(layers, (str, bytes, tuple, dict)) or not hasattr(layers, "__iter__") \
            or isinstance(layers, np.ndarray):
        raise TypeError(f"`layers` must be a list of layers, got {describe(layers)}")
    _check_depth(0, layers)
    rows = []
    for index, layer in enumerate(layers):
        _check_depth(index)
        kind, options = _parse_layer(layer, index)
        try:
            shape, params = _apply_layer(kind, options, shape)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"`layers`: layer {index} ({kind!r}): {exc}") from None
        rows.append(LayerInfo(kind, shape, params))
    return rows


#: The most layers :func:`layer_table` and :func:`receptive_field` follow (the
#: deepest networks have about a thousand).
MAX_LAYERS = 10**4


def _check_depth(index: int, layers=None) -> None:
    """Refuse a stack of more than :data:`MAX_LAYERS` layers (or an endless generator).

    Called with the layer number while iterating; with ``layers`` (a sized
    container) before starting.
    """
    if index >= MAX_LAYERS or (hasattr(layers, "__len__") and len(layers) > MAX_LAYERS):
        raise ValueError(
            f"`layers` must hold at most {MAX_LAYERS:,} layers (the deepest networks have about "
            f"a thousand), got more; pass a list of the layers of one network")


def layer_output_shapes(layers, input_shape) -> list[tuple]:
    """Output shape of every layer of a stack (see :func:`layer_table`).

    Examples
    --------
    >>> layer_output_shapes([("conv2d", {"filters": 32, "kernel_size": 3}), "max_pool2d"],
    ...                     (28, 28, 1))
    [(26, 26, 32), (13, 13, 32)]
    """
    return [row.output_shape for row in layer_table(layers, input_shape)]


def count_params(layers, input_shape) -> int:
    """Total number of parameters of a stack (see :func:`layer_table`).

    Matches ``model.count_params()`` of the same stack built in Keras.
    """
    return sum(row.params for row in layer_table(layers, input_shape))


def _check_input_shape(input_shape) -> tuple:
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (1, 3):
        raise ValueError(
            "`input_shape` must be (H, W, C) for images or (n,) for vectors, without the "
            f"batch axis; got {describe(input_shape)}")
    return tuple(check_int(v, "input_shape", minimum=1) for v in input_shape)


def _parse_layer(layer, index: int) -> tuple[str, dict]:
    if isinstance(layer, str):
        kind, options = layer, {}
    elif isinstance(layer, (tuple, list)) and len(layer) in (1, 2) and isinstance(layer[0], str):
        kind, options = layer[0], (layer[1] if len(layer) == 2 else {})
    else:
        raise TypeError(f"`layers`: layer {index} must be a kind name or a (kind, options) "
                        f"pair, got {describe(layer)}")
    if kind not in LAYER_KINDS:
        raise ValueError(f"`layers`: layer {index} kind must be one of "
                         f"{', '.join(repr(k) for k in LAYER_KINDS)}, got {kind!r}")
    if not isinstance(options, dict):
        raise TypeError(f"`layers`: layer {index} ({kind!r}): options must be a dict, "
                        f"got {describe(options)}")
    required, optional = _LAYER_OPTIONS[kind]
    missing = sorted(required - set(options))
    unknown = sorted(map(str, set(options) - required - optional))
    if missing or unknown:
        allowed = ", ".join(sorted(required | optional)) or "none"
        raise ValueError(
            f"`layers`: layer {index} ({kind!r}): "
            + (f"missing option(s) {', '.join(missing)}; " if missing else "")
            + (f"unknown option(s) {', '.join(unknown)}; " if unknown else "")
            + f"options are: {allowed}")
    return kind, options


def _apply_layer(kind: str, o: dict, shape: tuple) -> tuple[tuple, int]:
    """Output shape and parameter count of one layer on an input of ``shape``."""
    if kind == "activation":
        function = o.get("function")
        if function is not None and not isinstance(function, str):
            raise TypeError(f"`function` must be a name such as 'relu' or None, "
                            f"got {describe(function)}")
        return shape, 0
    if kind == "dropout":
        rate = o.get("rate")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, numbers.Real)
                                 or not 0 <= rate < 1):
            raise ValueError(f"`rate` must be a number in [0, 1) or None, got {describe(rate)}")
        return shape, 0
    if kind == "dense":
        if len(shape) != 1:
            raise ValueError(f"needs a flat input (n,), got {shape}; put 'flatten' before it")
        units = check_int(o["units"], "units", minimum=1)
        return (units,), dense_params(shape[0], units, o.get("use_bias", True))
    if len(shape) != 3:
        raise ValueError(f"needs an (H, W, C) input, got {shape}")
    h, w, c = shape
    if kind == "flatten":
        return (h * w * c,), 0
    if kind == "global_avg_pool2d":
        return (c,), pool_params()
    if kind == "conv2d":
        filters = check_int(o["filters"], "filters", minimum=1)
        kernel = check_pair(o["kernel_size"], "kernel_size", minimum=1)
        stride = check_pair(o.get("stride", 1), "stride", minimum=1)
        dilation = check_pair(o.get("dilation", 1), "dilation", minimum=1)
        pads = split_padding(o.get("padding", "valid"), strict=False)
        size = tuple(conv_output_size(n, k, s, p, d)
                     for n, k, s, p, d in zip((h, w), kernel, stride, pads, dilation))
        return (*size, filters), conv2d_params(kernel, c, filters, o.get("use_bias", True))
    # max_pool2d, avg_pool2d
    pool = check_pair(o.get("pool_size", 2), "pool_size", minimum=1)
    stride = pool if o.get("stride") is None else check_pair(o["stride"], "stride", minimum=1)
    padding = o.get("padding", "valid")
    size = tuple(pool_output_size(n, p, s, padding) for n, p, s in zip((h, w), pool, stride))
    return (*size, c), pool_params()


# --------------------------------------------------------------------------
# Receptive fields (lesson 10)
# --------------------------------------------------------------------------
#
# The receptive field of a layer is the patch of the input image that one of
# its output cells depends on. Along one axis, a layer with kernel ``k``,
# dilation ``d`` and stride ``s`` placed after layers whose cells see ``r``
# input pixels, neighbouring cells being ``j`` input pixels apart (the
# "jump", the product of the strides so far), sees
#
#     r_out = r + (k_eff - 1) * j,     j_out = j * s,     k_eff = (k - 1) * d + 1
#
# starting from r = j = 1 (one pixel). Padding moves the window but does not
# change its size.

__all__ += ["FieldRow", "receptive_field"]


class FieldRow(NamedTuple):
    """One row of :func:`receptive_field`; every field is a ``(height, width)`` pair."""

    name: str
    kernel: tuple      # (KH, KW) of the layer's window
    stride: tuple      # (SH, SW)
    jump: tuple        # input pixels between neighbouring output cells
    size: tuple        # receptive field of one output cell, in input pixels


def receptive_field(layers) -> list[FieldRow]:
    """Receptive field of every layer of a chain of convolutions and poolings (lesson 10).

    Parameters
    ----------
    layers : list or keras.Model
        Either a list of windows, one per layer, each ``(kernel, stride)`` or
        ``(kernel, stride, dilation)``, optionally preceded by a name, with
        ints or ``(h, w)`` pairs: ``[(3, 1), (3, 1)]``, ``[("pool", 2, 2)]``,
        ``[((3, 1), 1), ((1, 3), 1)]``. Or a Keras model whose layers form a
        chain: every layer with a ``kernel_size`` or ``pool_size`` counts
        (stride from ``strides``, else the pool size, else 1; dilation from
        ``dilation_rate``); layers without a sliding window (activations,
        normalisation, padding, flatten, dense) do not change the field and
        are left out.

    Returns
    -------
    list of FieldRow
        One row per window layer, in order. ``size`` is not clipped to the
        image: it may be larger than the input, with the extra lying in the padding.

    Raises
    ------
    ValueError
        For a malformed entry (naming its position) or a model that branches
        (a layer with several inputs, as in Inception or ResNet).

    Examples
    --------
    >>> receptive_field([(3, 1), (3, 1)])[-1].size      # two stacked 3x3 convolutions
    (5, 5)
    >>> receptive_field([(3, 1)] * 3)[-1].size         # three
    (7, 7)
    >>> receptive_field([(5, 1), (2, 2), (5, 1)])[-1].size
    (14, 14)
    """
    specs = _model_windows(layers) if hasattr(layers, "layers") else _listed_windows(layers)
    size, jump = (1, 1), (1, 1)
    rows = []
    for index, (name, kernel, stride, dilation) in enumerate(specs):
        span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))   # k_eff per axis
        size = tuple(r + (s - 1) * j for r, s, j in zip(size, span, jump))
        jump = tuple(j * s for j, s in zip(jump, stride))
        if max(*size, *jump) > MAX_FIELD:
            raise ValueError(
                f"`layers[{index}]` ({name!r}): the receptive field would be {_big(max(size))} "
                f"pixels and the jump {_big(max(jump))}, more than {_big(MAX_FIELD)}; no image "
                "comes close. Check the kernel, stride and dilation of the layers up to this one.")
        rows.append(FieldRow(name, kernel, stride, jump, size))
    return rows


#: The largest receptive field or jump :func:`receptive_field` computes, in pixels
#: (the largest int64): far beyond any image, small enough to stay quick.
MAX_FIELD = 2**63 - 1


def _big(n: int) -> str:
    """A huge int readably: ``'9.2e+18'``, or ``'about 10**600'`` past what a float holds."""
    digits = len(str(n)) if n < 10**4000 else None
    return f"{n:.3g}" if n < 10**300 else f"about 10**{digits - 1}" if digits else "over 10**4000"


def _listed_windows(layers):
    """``(name, kernel, stride, dilation)`` for every entry of a list of windows."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple)):
        raise TypeError("`layers` must be a list of (kernel, stride) entries or a Keras model, "
                        f"got {describe(layers)}")
    _check_depth(0, layers)
    specs = []
    for index, entry in enumerate(layers):
        where = f"layers[{index}]"
        name = f"layer{index + 1}"
        if isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], str):
            name, entry = entry[0], tuple(entry[1:])
        if not isinstance(entry, (list, tuple)) or len(entry) not in (2, 3):
            raise ValueError(f"`{where}` must be (kernel, stride) or (kernel, stride, dilation), "
                             f"optionally after a name, got {describe(entry)}")
        kernel = check_pair(entry[0], f"{where} kernel", minimum=1)
        stride = check_pair(entry[1], f"{where} stride", minimum=1)
        dilation = check_pair(entry[2] if len(entry) == 3 else 1, f"{where} dilation", minimum=1)
        specs.append((name, kernel, stride, dilation))
    return specs


def _model_windows(model):
    """``(name, kernel, stride, dilation)`` of the window layers of a chain-shaped Keras model."""
    specs = []
    for index, layer in enumerate(model.layers):
        inputs = getattr(layer, "input", None)
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1:
            raise ValueError(
                f"receptive_field follows a chain of layers, but layer {layer.name!r} of "
                f"`layers` joins {len(inputs)} branches; give the windows of one path as a "
                "list instead")
        kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
        if kernel is None:
            continue
        stride = getattr(layer, "strides", None) or getattr(layer, "pool_size", None) or 1
        dilation = getattr(layer, "dilation_rate", None) or 1
        where = f"layers.layers[{index}]"  # the model's layer, named as the message shows it
        specs.append((layer.name, check_pair(tuple(kernel) if isinstance(kernel, list) else kernel,
                                             f"{where}.kernel_size", minimum=1),
                      check_pair(tuple(stride) if isinstance(stride, list) else stride,
                                 f"{where}.strides", minimum=1),
                      check_pair(tuple(dilation) if isinstance(dilation, list) else dilation,
                                 f"{where}.dilation_rate", minimum=1)))
    return specs


#: Names kept here for lesson 09, whose tables now live with LeNet-5 in :mod:`cnnlab.models.lenet`.
_LENET_NAMES = ("LayerCount", "lenet5_c3_table", "lenet5_table")


def __getattr__(name):
    if name in _LENET_NAMES:
        from .models import lenet
        return getattr(lenet, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
