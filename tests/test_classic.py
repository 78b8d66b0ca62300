"""Lesson 10: the classic architectures, receptive fields and architecture pictures.

References: Keras itself (``count_params``, ``keras.applications.VGG16``,
``tf.nn.local_response_normalization``), the published parameter counts,
and receptive fields measured by pushing single pixels through
``cnnlab.kernels.conv1d``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnnlab import classic, kernels, plot, shapes  # noqa: E402


def conv_params(k, c_in, c_out):
    """Weights and biases of a k x k convolution (or a dense layer with k = 1)."""
    return k * k * c_in * c_out + c_out


def out_shapes(model):
    return {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------- AlexNet

def test_alexnet_shapes_follow_the_paper():
    model = classic.build_alexnet()
    got = out_shapes(model)
    assert got["conv1"] == (55, 55, 96)
    assert got["pool1"] == (27, 27, 96)
    assert got["conv2"] == (27, 27, 256)
    assert got["pool2"] == (13, 13, 256)
    assert got["conv3"] == got["conv4"] == (13, 13, 384)
    assert got["conv5"] == (13, 13, 256)
    assert got["pool5"] == (6, 6, 256)
    assert got["flatten"] == (9216,)
    assert got["fc8"] == (1000,)
    assert model.layers[1].kernel.shape == (11, 11, 3, 96)


def test_alexnet_params_single_tower_figure():
    model = classic.build_alexnet()
    by_hand = (conv_params(11, 3, 96) + conv_params(5, 96, 256) + conv_params(3, 256, 384)
               + conv_params(3, 384, 384) + conv_params(3, 384, 256)
               + conv_params(1, 6 * 6 * 256, 4096) + conv_params(1, 4096, 4096)
               + conv_params(1, 4096, 1000))
    assert model.count_params() == by_hand == 62_378_344
    assert 55e6 < model.count_params() < 65e6          # "about 60 million" in the paper


def test_local_response_normalisation_matches_tensorflow():
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(2, 5, 5, 11)).astype(np.float32) * 30
    layer = classic.LocalResponseNormalization(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)
    want = tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(want), rtol=1e-5, atol=1e-6)


def test_local_response_normalisation_rejects_bad_radius():
    with pytest.raises(ValueError, match="depth_radius"):
        classic.LocalResponseNormalization(depth_radius=-1)


def test_alexnet_rejects_bad_input_shape():
    with pytest.raises(ValueError, match="input_shape"):
        classic.build_alexnet(input_shape=(227, 227))


# ----------------------------------------------------------------- VGG-16

@pytest.fixture(scope="module")
def vgg16():
    model = classic.build_vgg16()
    yield model
    del model
    keras.backend.clear_session()


def test_vgg16_params_published_figure(vgg16):
    assert vgg16.count_params() == 138_357_544


def test_vgg16_matches_keras_applications_layer_by_layer(vgg16):
    reference = keras.applications.VGG16(weights=None)
    want = [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
            for layer in reference.layers[1:]]
    got = [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
           for layer in vgg16.layers[1:]]
    names = [layer.name for layer in reference.layers[1:]]
    del reference
    assert [layer.name for layer in vgg16.layers[1:]] == names
    assert got == want


def test_vgg16_receptive_fields(vgg16):
    rows = shapes.receptive_field(vgg16)
    sizes = {r.name: r.size[0] for r in rows}
    assert sizes["block1_conv2"] == 5 and sizes["block3_conv3"] == 40
    assert sizes["block5_pool"] == 212 and rows[-1].jump == (32, 32)
    assert len(rows) == 18                              # 13 convolutions and 5 pools


# ----------------------------------------------------------------- NiN and Inception

def test_nin_has_no_dense_layer_and_ten_maps():
    model = classic.build_nin()
    assert not [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert out_shapes(model)["mlpconv3_mlp2"] == (8, 8, 10)
    assert model.output.shape[1:] == (10,)
    by_hand = (conv_params(5, 3, 192) + conv_params(1, 192, 160) + conv_params(1, 160, 96)
               + conv_params(5, 96, 192) + 2 * conv_params(1, 192, 192)
               + conv_params(3, 192, 192) + conv_params(1, 192, 192) + conv_params(1, 192, 10))
    assert model.count_params() == by_hand == 966_986


def test_inception_3a_shapes_params_and_cost():
    model = classic.build_inception_3a()
    assert model.output.shape[1:] == (28, 28, 256)
    weights = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
    assert model.count_params() == weights + (64 + 96 + 128 + 16 + 32 + 32)
    assert classic.multiply_adds(model) == 28 * 28 * weights
    assert round(classic.multiply_adds(model) / 1e6) == 128   # GoogLeNet table: 128M ops


def test_naive_inception_costs_more():
    naive = classic.build_inception_3a(reduce=False)
    assert naive.output.shape[1:] == (28, 28, 64 + 128 + 32 + 192)
    weights = 192 * 64 + 9 * 192 * 128 + 25 * 192 * 32
    assert classic.multiply_adds(naive) == 28 * 28 * weights
    assert classic.multiply_adds(naive) > 2 * classic.multiply_adds(classic.build_inception_3a())


def test_inception_module_rejects_bad_filters():
    x = keras.Input(shape=(8, 8, 4))
    with pytest.raises(ValueError, match="6 ints"):
        classic.inception_module(x, (1, 2, 3), name="bad")


def test_model_table_adds_up_and_formats():
    model = classic.build_alexnet()
    rows = classic.model_table(model)
    assert sum(r.params for r in rows) == model.count_params()
    assert [r.name for r in rows][:3] == ["conv1", "lrn1", "pool1"]
    assert "drop6" not in [r.name for r in rows]
    conv1 = rows[0]
    assert conv1.multiply_adds == 55 * 55 * 11 * 11 * 3 * 96
    text = classic.format_table(rows)
    assert "62,378,344" in text and "55x55x96" in text


def test_model_table_rejects_non_models():
    with pytest.raises(TypeError, match="Keras model"):
        classic.model_table([1, 2])
    with pytest.raises(TypeError, match="LayerRow"):
        classic.format_table([("conv", 3)])


# ----------------------------------------------------------------- receptive fields

@pytest.mark.parametrize("layers, want", [
    ([(3, 1)], 3),
    ([(3, 1), (3, 1)], 5),                       # two 3x3 see 5x5
    ([(3, 1)] * 3, 7),                           # three see 7x7
    ([(5, 1), (5, 1)], 9),
    ([(2, 2), (2, 2)], 4),                       # two 2x2 pools see 4x4
    ([(3, 2), (3, 2)], 7),                       # 3 + (3 - 1) * 2
    ([(3, 1, 2)], 5),                            # dilation 2 spreads a 3x3 over 5x5
    ([(11, 4), (3, 2), (5, 1)], 51),             # AlexNet's conv1, pool1, conv2: 11 + 2*4 + 4*8
])
def test_receptive_field_hand_computed(layers, want):
    assert shapes.receptive_field(layers)[-1].size == (want, want)


def test_receptive_field_lenet5_list():
    rows = shapes.receptive_field([("C1", 5, 1), ("S2", 2, 2), ("C3", 5, 1), ("S4", 2, 2),
                                   ("C5", 5, 1)])
    assert [r.size[0] for r in rows] == [5, 6, 14, 16, 32]
    assert [r.jump[0] for r in rows] == [1, 2, 2, 4, 4]
    assert rows[2].name == "C3"


def test_receptive_field_factorised_kernels():
    two = shapes.receptive_field([((3, 1), 1), ((1, 3), 1)])
    assert [r.size for r in two] == [(3, 1), (3, 3)]


def test_receptive_field_of_a_keras_chain():
    inputs = keras.Input(shape=(32, 32, 1))
    x = keras.layers.Conv2D(2, 3, dilation_rate=2, name="a")(inputs)
    x = keras.layers.ReLU(name="r")(x)
    x = keras.layers.MaxPooling2D(2, name="p")(x)
    x = keras.layers.Conv2D(2, 3, strides=2, name="b")(x)
    rows = shapes.receptive_field(keras.Model(inputs, x))
    assert [r.name for r in rows] == ["a", "p", "b"]
    assert [r.size[0] for r in rows] == [5, 6, 10]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 2)),
                min_size=1, max_size=4))
def test_receptive_field_equals_pixels_that_reach_one_output(chain):
    """Push a single 1 through every input position: the pixels reaching output 0 span the field."""
    want = shapes.receptive_field([(k, s, d) for k, s, d in chain])[-1].size[0]
    length = want + 8
    x = np.eye(length)[:, :, None]                       # (L, L, 1): one bright pixel per example
    for k, s, d in chain:
        x = kernels.conv1d(x, np.ones((k, 1, 1)), stride=s, dilation=d)   # (L, L_out, 1)
    reached = np.flatnonzero(x[:, 0, 0])                 # input pixels that reach output cell 0
    assert reached[-1] - reached[0] + 1 == want


def test_receptive_field_rejects_bad_entries():
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        shapes.receptive_field([(3, 1), (3,)])
    with pytest.raises(ValueError, match="at least 1"):
        shapes.receptive_field([(0, 1)])
    with pytest.raises(TypeError, match="Keras model"):
        shapes.receptive_field("3x3")


def test_receptive_field_refuses_branching_models():
    with pytest.raises(ValueError, match="joins 4 branches"):
        shapes.receptive_field(classic.build_inception_3a())


# ----------------------------------------------------------------- pictures

def blocks(ax):
    return [p for p in ax.patches if (p.get_gid() or "").startswith("block:")]


def test_draw_architecture_one_block_per_layer():
    model = classic.build_alexnet()
    ax = plot.draw_architecture(model)
    assert isinstance(ax, matplotlib.axes.Axes)
    drawn = [p.get_gid().removeprefix("block:") for p in blocks(ax)]
    want = [layer.name for layer in model.layers if type(layer).__name__ not in ("Dropout",)]
    assert drawn == want
    texts = [t.get_text() for t in ax.texts]
    assert "55×55×96" in texts and "conv1  11x11/4" in texts


def test_draw_architecture_puts_branches_side_by_side():
    ax = plot.draw_architecture(classic.build_inception_3a())
    assert len(blocks(ax)) == 9                           # input, 4 + 3 branch layers, concat
    rows = {}
    for p in blocks(ax):
        rows.setdefault(round(p.get_y(), 3), []).append(p)
    assert sorted(len(r) for r in rows.values()) == [1, 1, 3, 4]


def test_draw_architecture_from_a_list():
    _, ax = plt.subplots()
    out = plot.draw_architecture([("C1", "Conv2D", (28, 28, 6)), ("S2", (14, 14, 6)),
                                  ("F6", "Dense", 84)], ax=ax, title="LeNet")
    assert out is ax and len(blocks(ax)) == 3 and ax.get_title() == "LeNet"


def test_draw_architecture_rejects_bad_input():
    with pytest.raises(TypeError, match="Keras model"):
        plot.draw_architecture("vgg")
    with pytest.raises(ValueError, match=r"model_or_layers\[0\]"):
        plot.draw_architecture([("only a name",)])
