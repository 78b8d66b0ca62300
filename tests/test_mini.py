"""The small VGG and Network in Network of lesson 10 (cnnlab.models.mini)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.models import mini


def conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


def test_mini_vgg_counts_and_shapes():
    model = mini.build_mini_vgg()
    expected = (conv_params(3, 1, 16) + conv_params(3, 16, 16) + conv_params(3, 16, 32)
                + conv_params(3, 32, 32) + (7 * 7 * 32 * 64 + 64) + (64 * 10 + 10))
    assert model.count_params() == expected == 117_434
    assert tuple(model.output.shape) == (None, 10)
    pools = [layer for layer in model.layers if layer.name.endswith("_pool")]
    assert [tuple(p.output.shape[1:]) for p in pools] == [(14, 14, 16), (7, 7, 32)]
    kernels = [layer.kernel_size for layer in model.layers if "conv" in layer.name]
    assert kernels == [(3, 3)] * 4


def test_mini_vgg_options():
    model = mini.build_mini_vgg(widths=(8, 16, 32), convs=3, dense=20, n_classes=5,
                                input_shape=(32, 32, 3))
    names = [layer.name for layer in model.layers]
    assert "block3_conv3" in names and "block3_pool" in names
    assert model.get_layer("block3_pool").output.shape[1:] == (4, 4, 32)
    assert model.get_layer("fc1").units == 20 and tuple(model.output.shape) == (None, 5)


def test_mini_nin_counts_and_no_dense_layer():
    model = mini.build_mini_nin()
    expected = (conv_params(5, 1, 32) + 2 * conv_params(1, 32, 32)
                + conv_params(3, 32, 64) + 2 * conv_params(1, 64, 64)
                + conv_params(3, 64, 64) + conv_params(1, 64, 64) + conv_params(1, 64, 10))
    assert model.count_params() == expected == 71_498
    kinds = {type(layer).__name__ for layer in model.layers}
    assert "Dense" not in kinds and "Flatten" not in kinds
    assert model.get_layer("mlpconv3_mlp2").output.shape[1:] == (7, 7, 10)
    assert model.get_layer("mlpconv2_mlp1").kernel_size == (1, 1)
    assert tuple(model.output.shape) == (None, 10)


def test_mini_nin_scores_are_class_map_averages():
    model = mini.build_mini_nin(widths=(4, 6), first_kernel=3, n_classes=3, input_shape=(9, 9, 1))
    x = np.random.default_rng(0).random((2, 9, 9, 1)).astype("float32")
    import keras

    maps = keras.Model(model.input, model.get_layer("mlpconv2_mlp2").output)(x)    # (2, 5, 5, 3)
    scores = np.asarray(maps).mean(axis=(1, 2))                                     # (2, 3)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(model(x)), probs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("build", [mini.build_mini_vgg, mini.build_mini_nin])
def test_seed_fixes_the_weights(build):
    a, b, c = build(seed=3), build(seed=3), build(seed=4)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


@pytest.mark.parametrize("build", [mini.build_mini_vgg, mini.build_mini_nin])
@pytest.mark.parametrize("widths", [(), (16, 0), "16", [4] * 9])
def test_bad_widths(build, widths):
    with pytest.raises((ValueError, TypeError), match="widths"):
        build(widths=widths)


def test_bad_arguments():
    with pytest.raises(ValueError, match="convs"):
        mini.build_mini_vgg(convs=5)
    with pytest.raises(ValueError, match="input_shape"):
        mini.build_mini_vgg(widths=(4, 4, 4, 4, 4, 4), input_shape=(28, 28, 1))
    with pytest.raises(ValueError, match="first_kernel"):
        mini.build_mini_nin(first_kernel=4)
    with pytest.raises(ValueError, match="n_classes"):
        mini.build_mini_nin(n_classes=1)
    with pytest.raises(ValueError, match="seed"):
        mini.build_mini_vgg(seed=-1)
    with pytest.raises(TypeError, match="name"):
        mini.build_mini_nin(name="")
