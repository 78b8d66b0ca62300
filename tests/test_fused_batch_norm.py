"""Fused batch norm and the training twin (lesson 11's fast ResNet training) against Keras itself."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnlab.models.resnet import build_plain, build_resnet
from cnnlab.train import loop
from cnnlab.train.fused_norm import FusedBatchNormalization
from cnnlab.train.precision import hand_back, training_twin
from cnnlab.train.resnet import train


def _pair(shape, rng, momentum=0.99):
    """A Keras BatchNormalization and a fused one with the same random gamma, beta and moving stats."""
    keras_bn = keras.layers.BatchNormalization(momentum=momentum)
    fused = FusedBatchNormalization(momentum=momentum)
    c = shape[-1]
    values = [rng.normal(1, 0.5, c), rng.normal(0, 1, c), rng.normal(0, 1, c), rng.uniform(0.5, 2, c)]
    for layer in (keras_bn, fused):
        layer.build(shape)
        layer.set_weights([v.astype(np.float32) for v in values])
    return keras_bn, fused


def _forward_backward(layer, x, weight):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * weight)
    grads = tape.gradient(loss, [x, layer.gamma.value, layer.beta.value])
    return np.asarray(y, np.float32), [np.asarray(g) for g in grads]


@pytest.mark.parametrize("seed", range(10))
def test_fused_batch_norm_trains_like_the_keras_layer(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 9)), int(rng.integers(1, 12)), int(rng.integers(1, 12)),
             int(rng.integers(1, 20)))
    x = tf.constant(rng.normal(rng.normal(0, 3), rng.uniform(0.2, 4), shape).astype(np.float32))
    weight = tf.constant(rng.normal(size=shape).astype(np.float32))
    keras_bn, fused = _pair(shape, rng, momentum=float(rng.uniform(0.5, 0.999)))
    old_mean, old_var = keras_bn.moving_mean.numpy(), keras_bn.moving_variance.numpy()
    y_keras, g_keras = _forward_backward(keras_bn, x, weight)
    y_fused, g_fused = _forward_backward(fused, x, weight)
    np.testing.assert_allclose(y_fused, y_keras, rtol=1e-4, atol=1e-4)
    for a, b in zip(g_fused, g_keras):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3 * float(np.abs(b).max() + 1))
    np.testing.assert_allclose(fused.moving_mean.numpy(), keras_bn.moving_mean.numpy(),
                               rtol=1e-5, atol=1e-5)
    # the moving variance takes the unbiased batch variance: n / (n - 1) times Keras's
    n = shape[0] * shape[1] * shape[2]
    m = fused.momentum
    batch_var = (keras_bn.moving_variance.numpy() - m * old_var) / (1 - m)
    expected = m * old_var + (1 - m) * batch_var * (n / (n - 1) if n > 1 else 1.0)
    np.testing.assert_allclose(fused.moving_variance.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(fused.moving_mean.numpy(), old_mean)      # the averages did move


def test_fused_batch_norm_infers_and_falls_back_exactly_like_keras():
    rng = np.random.default_rng(0)
    shape = (4, 5, 5, 8)
    keras_bn, fused = _pair(shape, rng)
    x = tf.constant(rng.normal(size=shape).astype(np.float32))
    np.testing.assert_array_equal(np.asarray(fused(x, training=False)),
                                  np.asarray(keras_bn(x, training=False)))
    flat_keras, flat_fused = _pair((6, 8), rng)                     # 2-D input: the Keras path
    flat = tf.constant(rng.normal(size=(6, 8)).astype(np.float32))
    np.testing.assert_array_equal(np.asarray(flat_fused(flat, training=True)),
                                  np.asarray(flat_keras(flat, training=True)))


def test_fused_batch_norm_computes_in_bfloat16_under_a_mixed_policy():
    rng = np.random.default_rng(1)
    shape = (8, 6, 6, 16)
    keras_bn, _ = _pair(shape, rng)
    fused = FusedBatchNormalization(dtype="mixed_bfloat16")
    fused.build(shape)
    fused.set_weights(keras_bn.get_weights())
    x = rng.normal(size=shape).astype(np.float32)
    y = fused(tf.constant(x, tf.bfloat16), training=True)
    assert y.dtype == tf.bfloat16
    assert fused.moving_mean.dtype == "float32"
    np.testing.assert_allclose(np.asarray(tf.cast(y, tf.float32)),
                               np.asarray(keras_bn(x, training=True)), atol=0.05)


@pytest.mark.parametrize("builder", [build_resnet, build_plain])
@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_training_twin_is_the_same_network(builder, precision):
    model = builder(8, widths=(4, 8, 16), seed=2)
    twin = training_twin(model, precision)
    assert [layer.name for layer in twin.layers] == [layer.name for layer in model.layers]
    kinds = {type(layer).__name__ for layer in twin.layers}
    assert "FusedBatchNormalization" in kinds and "BatchNormalization" not in kinds
    assert twin.layers[-1].compute_dtype == "float32"
    dtypes = {layer.compute_dtype for layer in twin.layers[1:-1]}
    assert dtypes == {"bfloat16" if precision == "mixed_bfloat16" else "float32"}
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(3).random((5, 28, 28, 1)).astype(np.float32)
    atol = 0.05 if precision == "mixed_bfloat16" else 1e-5
    np.testing.assert_allclose(np.asarray(twin(x)), np.asarray(model(x)), atol=atol)
    np.testing.assert_allclose(np.asarray(twin(x, training=True)),
                               np.asarray(model(x, training=True)), atol=atol)


def test_a_subclassed_model_trains_as_it_is():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(4, 3)
            self.norm = keras.layers.BatchNormalization()
            self.pool = keras.layers.GlobalAveragePooling2D()
            self.out = keras.layers.Dense(10, activation="softmax")

        def call(self, x, training=False):
            return self.out(self.pool(self.norm(self.conv(x), training=training)))

    model = Tiny()
    model(np.zeros((1, 28, 28, 1), np.float32))
    assert training_twin(model, "mixed_bfloat16") is model
    sequential = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                                   keras.layers.BatchNormalization(),
                                   keras.layers.GlobalAveragePooling2D(),
                                   keras.layers.Dense(10, activation="softmax")])
    twin = training_twin(sequential, "mixed_bfloat16")
    assert [type(layer).__name__ for layer in twin.layers] == [
        "Conv2D", "FusedBatchNormalization", "GlobalAveragePooling2D", "Dense"]


def test_training_twin_rejects_an_unknown_precision():
    with pytest.raises(ValueError, match="precision"):
        training_twin(build_resnet(8, widths=(4, 8, 16)), "float16")


def test_hand_back_copies_the_weights_and_rescores():
    model = build_resnet(8, widths=(4, 8, 16), seed=0)
    other = build_resnet(8, widths=(4, 8, 16), seed=5)
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 20)
    result = hand_back(loop.TrainResult(other, [loop.EpochLog(1, 9.0, 0.5, 9.0, 0.5, 3.0)]),
                       model, x, y)
    assert result.model is model
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert result.history[-1].test_accuracy == loop.evaluate(model, x, y)
    assert result.history[-1].test_loss == pytest.approx(loop.loss_and_accuracy(model, x, y)[0])


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16", "auto"])
def test_train_hands_back_the_float32_keras_model(precision):
    from cnnlab import data
    from cnnlab.models.resnet import prepare_images

    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist((256, 100))
    x_train, x_test = prepare_images(x_train), prepare_images(x_test)
    model = build_resnet(8, widths=(4, 8, 16), seed=0)
    before = [w.copy() for w in model.get_weights()]
    result = train(model, x_train, y_train, x_test, y_test, epochs=1, batch_size=64,
                   precision=precision, verbose=0)
    assert result.model is model
    assert {type(layer).__name__ for layer in model.layers} >= {"BatchNormalization"}
    assert all(layer.compute_dtype == "float32" for layer in model.layers)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert result.history[-1].test_accuracy == loop.evaluate(model, x_test, y_test)
    assert keras.config.dtype_policy().name == "float32"


def test_train_rejects_an_unknown_precision():
    model = build_resnet(8, widths=(4, 8, 16))
    x = np.zeros((128, 28, 28, 1), np.float32)
    y = np.zeros(128, int)
    with pytest.raises(ValueError, match="precision"):
        train(model, x, y, x, y, epochs=1, precision="half", verbose=0)
