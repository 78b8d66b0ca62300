"""Parameter counts and stack shapes of cnnlab.shapes, checked against Keras layers."""

from __future__ import annotations

import itertools

import keras
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import shapes

CHECK = settings(max_examples=40, deadline=None, derandomize=True)


def keras_params(layer, input_shape):
    """count_params() of ``layer`` built on ``input_shape`` (no batch axis)."""
    layer.build((None, *input_shape))
    return layer.count_params()


# --------------------------------------------------------------------------
# One layer at a time
# --------------------------------------------------------------------------

@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d_params_matches_keras(use_bias):
    for (kh, kw), c_in, c_out in itertools.product([(1, 1), (3, 3), (5, 5), (3, 1), (2, 4)],
                                                  [1, 3, 4], [1, 2, 32]):
        layer = keras.layers.Conv2D(c_out, (kh, kw), use_bias=use_bias)
        expected = keras_params(layer, (9, 9, c_in))
        assert shapes.conv2d_params((kh, kw), c_in, c_out, use_bias) == expected, (kh, kw, c_in)


def test_conv2d_params_does_not_depend_on_stride_padding_or_image_size():
    for size, stride, padding in [(8, 1, "valid"), (28, 2, "same"), (100, 3, "valid")]:
        layer = keras.layers.Conv2D(6, 5, strides=stride, padding=padding)
        assert shapes.conv2d_params(5, 3, 6) == keras_params(layer, (size, size, 3))


@CHECK
@given(st.integers(1, 300), st.integers(1, 300), st.booleans())
def test_dense_params_matches_keras(n_in, n_out, use_bias):
    layer = keras.layers.Dense(n_out, use_bias=use_bias)
    assert shapes.dense_params(n_in, n_out, use_bias) == keras_params(layer, (n_in,))


@pytest.mark.parametrize("out_size, kernel_size, c_in, c_out, use_bias", [
    ((3, 3), 2, 1, 1, False), ((2, 4), (3, 2), 3, 2, True), ((1, 1), 5, 4, 7, True),
    ((4, 2), 1, 2, 3, True),
])
def test_locally_connected_params_matches_an_einsum_layer_with_weights_per_position(
        out_size, kernel_size, c_in, c_out, use_bias):
    # a locally connected layer on windows already cut out, (H_out, W_out, KH*KW*C_in):
    # a separate weight matrix (and bias) for every output position
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    layer = keras.layers.EinsumDense("abcd,bcde->abce", output_shape=(*out_size, c_out),
                                     bias_axes="bce" if use_bias else None)
    expected = keras_params(layer, (*out_size, kh * kw * c_in))
    assert shapes.locally_connected_params(out_size, kernel_size, c_in, c_out, use_bias) == expected


def test_locally_connected_with_one_position_is_a_convolution():
    assert shapes.locally_connected_params(1, 3, 4, 5) == shapes.conv2d_params(3, 4, 5)


@pytest.mark.parametrize("layer", [
    keras.layers.MaxPooling2D(2), keras.layers.AveragePooling2D(3, strides=1),
    keras.layers.GlobalAveragePooling2D(),
])
def test_pool_params_is_zero_like_keras(layer):
    assert shapes.pool_params() == keras_params(layer, (6, 6, 4)) == 0


def test_syllabus_numbers_for_a_megapixel_image():
    assert shapes.dense_params(1000 * 1000, 10**6, use_bias=False) == 10**12
    assert shapes.locally_connected_params((1000, 1000), 10, use_bias=False) == 10**8
    assert shapes.conv2d_params(10, 1, 1, use_bias=False) == 100
    assert shapes.conv2d_params(10, 1, 100, use_bias=False) == 10**4


@pytest.mark.parametrize("call, match", [
    (lambda: shapes.conv2d_params(0, 1, 1), "kernel_size"),
    (lambda: shapes.conv2d_params(3, 0, 1), "c_in"),
    (lambda: shapes.conv2d_params(3, 1, 2.5), "c_out"),
    (lambda: shapes.conv2d_params(3, 1, 1, use_bias=1), "use_bias"),
    (lambda: shapes.conv2d_params((3, 3, 3), 1, 1), "kernel_size"),
    (lambda: shapes.dense_params(-1, 3), "n_in"),
    (lambda: shapes.dense_params(3, 0), "n_out"),
    (lambda: shapes.locally_connected_params(0, 3), "out_size"),
])
def test_param_counts_refuse_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# --------------------------------------------------------------------------
# Stacks of layers
# --------------------------------------------------------------------------

def keras_stack(layers, input_shape):
    """The same stack built with Keras (the reference)."""
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for layer in layers:
        kind, o = (layer, {}) if isinstance(layer, str) else (layer[0], layer[1])
        if kind == "conv2d":
            x = keras.layers.Conv2D(o["filters"], o["kernel_size"], strides=o.get("stride", 1),
                                    padding=o.get("padding", "valid"),
                                    use_bias=o.get("use_bias", True))(x)
        elif kind in ("max_pool2d", "avg_pool2d"):
            cls = keras.layers.MaxPooling2D if kind == "max_pool2d" else keras.layers.AveragePooling2D
            x = cls(o.get("pool_size", 2), strides=o.get("stride"),
                    padding=o.get("padding", "valid"))(x)
        elif kind == "global_avg_pool2d":
            x = keras.layers.GlobalAveragePooling2D()(x)
        elif kind == "flatten":
            x = keras.layers.Flatten()(x)
        elif kind == "dense":
            x = keras.layers.Dense(o["units"], use_bias=o.get("use_bias", True))(x)
        elif kind == "dropout":
            x = keras.layers.Dropout(0.5)(x)
        else:
            x = keras.layers.Activation("relu")(x)
    return keras.Model(inputs, x)


MNIST = [("conv2d", {"filters": 32, "kernel_size": 3}), ("max_pool2d", {}),
         ("conv2d", {"filters": 64, "kernel_size": 3}), ("max_pool2d", {}),
         "flatten", ("dense", {"units": 512}), "dropout", ("dense", {"units": 10})]

STACKS = [
    (MNIST, (28, 28, 1)),
    ([("conv2d", {"filters": 6, "kernel_size": 5, "padding": "same"}), "activation",
      ("avg_pool2d", {"pool_size": 2}), ("conv2d", {"filters": 16, "kernel_size": 5}),
      ("avg_pool2d", {"pool_size": 2}), "flatten", ("dense", {"units": 120}),
      ("dense", {"units": 84}), ("dense", {"units": 10})], (28, 28, 1)),
    ([("conv2d", {"filters": 64, "kernel_size": 1, "use_bias": False}),
      ("conv2d", {"filters": 32, "kernel_size": 3, "stride": 2, "padding": "same"}),
      ("max_pool2d", {"pool_size": 3, "stride": 2, "padding": "same"}),
      "global_avg_pool2d", ("dense", {"units": 5, "use_bias": False})], (28, 28, 192)),
    (["flatten", ("dense", {"units": 7})], (5, 3, 2)),
    ([("dense", {"units": 4}), ("activation", {"function": "relu"}), ("dense", {"units": 2})],
     (9,)),
]


@pytest.mark.parametrize("layers, input_shape", STACKS)
def test_stack_shapes_and_params_match_keras(layers, input_shape):
    model = keras_stack(layers, input_shape)
    table = shapes.layer_table(layers, input_shape)
    keras_layers = model.layers[1:]
    assert [row.output_shape for row in table] == [tuple(l.output.shape[1:]) for l in keras_layers]
    assert [row.params for row in table] == [l.count_params() for l in keras_layers]
    assert shapes.count_params(layers, input_shape) == model.count_params()
    assert shapes.layer_output_shapes(layers, input_shape)[-1] == tuple(model.output.shape[1:])


@CHECK
@given(st.integers(6, 30), st.integers(1, 4), st.integers(1, 5), st.integers(1, 3),
       st.sampled_from(["valid", "same"]), st.integers(1, 3), st.integers(1, 16))
def test_random_conv_pool_stacks_match_keras(size, c_in, k, stride, padding, pool, filters):
    layers = [("conv2d", {"filters": filters, "kernel_size": k, "stride": stride,
                          "padding": padding}),
              ("max_pool2d", {"pool_size": pool, "padding": "same"}), "flatten",
              ("dense", {"units": 3})]
    if padding == "valid" and k > size:
        with pytest.raises(ValueError, match="layer 0"):
            shapes.layer_table(layers, (size, size, c_in))
        return
    model = keras_stack(layers, (size, size, c_in))
    assert shapes.layer_output_shapes(layers, (size, size, c_in)) == \
        [tuple(l.output.shape[1:]) for l in model.layers[1:]]
    assert shapes.count_params(layers, (size, size, c_in)) == model.count_params()


@pytest.mark.parametrize("layers, input_shape, error, match", [
    (MNIST, (28, 28), ValueError, "input_shape"),
    (MNIST, "28x28", ValueError, "input_shape"),
    ("conv2d", (8, 8, 1), TypeError, "list of layers"),
    ([("convolution", {})], (8, 8, 1), ValueError, "layer 0 kind"),
    ([("conv2d", {"filters": 3})], (8, 8, 1), ValueError, "missing option.*kernel_size"),
    ([("conv2d", {"filters": 3, "kernel_size": 3, "strides": 2})], (8, 8, 1), ValueError,
     "unknown option.*strides"),
    ([("conv2d", [3, 3])], (8, 8, 1), TypeError, "options must be a dict"),
    ([42], (8, 8, 1), TypeError, "layer 0 must be"),
    ([("dense", {"units": 10})], (8, 8, 1), ValueError, "layer 0 .*put 'flatten'"),
    (["flatten", "flatten"], (8, 8, 1), ValueError, r"layer 1 \('flatten'\).*\(H, W, C\)"),
    ([("max_pool2d", {"pool_size": 2})] * 4, (8, 8, 1), ValueError, "layer 3 .*larger"),
    ([("conv2d", {"filters": 0, "kernel_size": 3})], (8, 8, 1), ValueError, "filters"),
])
def test_layer_table_names_the_layer_that_does_not_fit(layers, input_shape, error, match):
    with pytest.raises(error, match=match):
        shapes.layer_table(layers, input_shape)
