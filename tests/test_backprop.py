"""cnnlab.backprop and cnnlab.tinycnn checked numerically and against tf.GradientTape.

Every backward pass is compared with central differences (float64, relative
error below 1e-6) and with TensorFlow's automatic differentiation on random
shapes, strides and paddings drawn by hypothesis.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import backprop, data, kernels, optim, tinycnn

CHECK = settings(max_examples=40, deadline=None, derandomize=True)
SLOW_CHECK = settings(max_examples=15, deadline=None, derandomize=True)  # numerical gradients
TIGHT = dict(rtol=1e-9, atol=1e-9)


def random_array(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def dilate_kernel(kernel, dh, dw):
    """The kernel with (d - 1) zeros between its cells (TensorFlow's dilation, by hand)."""
    kh, kw = kernel.shape[:2]
    out = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1, *kernel.shape[2:]))
    out[::dh, ::dw] = kernel
    return out


# --------------------------------------------------------------------------
# Random convolution settings
# --------------------------------------------------------------------------

@st.composite
def conv_cases(draw, small=False):
    """(x, kernel, dout, kwargs, stride, dilation, explicit pads for TensorFlow)."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    style = draw(st.sampled_from(["valid", "same", "full", "int", "sides"]))
    extra = draw(st.integers(0, 3 if small else 5)), draw(st.integers(0, 3 if small else 5))
    if style == "sides":
        padding = tuple(tuple(draw(st.integers(0, 2)) for _ in range(2)) for _ in range(2))
    else:
        padding = {"valid": "valid", "same": "same", "full": "full", "int": draw(st.integers(0, 2))}[style]
    pads = {"valid": ((0, 0), (0, 0)), "full": tuple((s - 1, s - 1) for s in span),
            "int": ((padding, padding),) * 2 if style == "int" else None,
            "same": None, "sides": padding}[style]
    if pads is None:  # "same": the input size decides
        pads = "same"
    smallest = span if pads == "same" else tuple(max(1, s - sum(p)) for s, p in zip(span, pads))
    h, w = smallest[0] + extra[0], smallest[1] + extra[1]
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    x = random_array(seed, (n, h, w, c_in))
    kernel = random_array(seed + 1, (kh, kw, c_in, c_out))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    out_shape = kernels.conv2d(x, kernel, **kwargs).shape
    if pads == "same":  # the amounts TensorFlow's rule gives, from the shapes
        pads = tuple(_same_pads(size, s_eff, s) for size, s_eff, s in zip((h, w), span, stride))
    dout = random_array(seed + 2, out_shape)
    return x, kernel, dout, kwargs, stride, dilation, pads


def _same_pads(n, k_eff, s):
    out = -(-n // s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def tf_conv_grads(x, kernel, dout, stride, dilation, pads):
    """dx, dkernel, dbias of tf.nn.conv2d (+ bias) for output gradient ``dout``."""
    tx, tk = tf.Variable(x), tf.Variable(kernel)
    tb = tf.Variable(np.zeros(kernel.shape[3]))
    padding = [[0, 0], list(pads[0]), list(pads[1]), [0, 0]]
    with tf.GradientTape() as tape:
        k = tk
        if dilation != (1, 1):  # TensorFlow refuses strides with dilations: dilate by hand
            k = tf.scatter_nd(_dilated_index(kernel.shape, dilation), tf.reshape(tk, [-1]),
                              dilate_kernel(kernel, *dilation).shape)
        y = tf.nn.conv2d(tx, k, strides=stride, padding=padding) + tb
    grads = tape.gradient(y, [tx, tk, tb], output_gradients=tf.constant(dout))
    return [g.numpy() for g in grads]


def _dilated_index(shape, dilation):
    kh, kw, c_in, c_out = shape
    a, b, c, o = np.meshgrid(np.arange(kh) * dilation[0], np.arange(kw) * dilation[1],
                             np.arange(c_in), np.arange(c_out), indexing="ij")
    return np.stack([a, b, c, o], axis=-1).reshape(-1, 4)


# --------------------------------------------------------------------------
# conv2d_backward
# --------------------------------------------------------------------------

@CHECK
@given(conv_cases())
def test_conv2d_backward_matches_gradient_tape(case):
    x, kernel, dout, kwargs, stride, dilation, pads = case
    dx, dk, db = backprop.conv2d_backward(dout, x, kernel, **kwargs)
    tf_dx, tf_dk, tf_db = tf_conv_grads(x, kernel, dout, stride, dilation, pads)
    np.testing.assert_allclose(dx, tf_dx, **TIGHT)
    np.testing.assert_allclose(dk, tf_dk, **TIGHT)
    np.testing.assert_allclose(db, tf_db, **TIGHT)


@SLOW_CHECK
@given(conv_cases(small=True))
def test_conv2d_backward_matches_numerical_gradient(case):
    x, kernel, dout, kwargs, *_ = case
    bias = random_array(7, kernel.shape[3])
    dx, dk, db = backprop.conv2d_backward(dout, x, kernel, **kwargs)
    layer = lambda _: kernels.conv2d(x, kernel, bias, **kwargs)  # noqa: E731
    assert backprop.rel_error(dx, backprop.numerical_gradient(layer, x, dout=dout)) < 1e-6
    assert backprop.rel_error(dk, backprop.numerical_gradient(layer, kernel, dout=dout)) < 1e-6
    assert backprop.rel_error(db, backprop.numerical_gradient(layer, bias, dout=dout)) < 1e-6


@CHECK
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 2**32 - 1))
def test_conv2d_input_gradient_is_full_convolution_with_kernel(h, w, kh, kw, seed):
    # stride 1, valid: dx is scipy's full (true) convolution of dout with the kernel
    x = random_array(seed, (h + kh - 1, w + kw - 1))
    kernel, dout = random_array(seed + 1, (kh, kw)), random_array(seed + 2, (h, w))
    dx, dk, db = backprop.conv2d_backward(dout, x, kernel)
    np.testing.assert_allclose(dx, scipy.signal.convolve2d(dout, kernel, mode="full"), **TIGHT)
    np.testing.assert_allclose(dk, scipy.signal.correlate2d(x, dout, mode="valid"), **TIGHT)
    assert isinstance(db, float) and np.isclose(db, dout.sum())


def test_conv2d_backward_strided_input_gradient_is_convolution_of_spread_dout():
    x, kernel, dout = random_array(1, (7, 9)), random_array(2, (3, 3)), random_array(3, (3, 4))
    dx = backprop.conv2d_backward(dout, x, kernel, stride=2)[0]
    spread = np.zeros((5, 7))
    spread[::2, ::2] = dout
    np.testing.assert_allclose(dx, scipy.signal.convolve2d(spread, kernel, mode="full"), **TIGHT)


def test_conv2d_backward_single_image_equals_batch_form():
    x, kernel, dout = random_array(4, (6, 5)), random_array(5, (2, 3)), random_array(6, (3, 3))
    single = backprop.conv2d_backward(dout, x, kernel, stride=2, padding="same")
    batch = backprop.conv2d_backward(dout[None, :, :, None], x[None, :, :, None],
                                     kernel[:, :, None, None], stride=2, padding="same")
    np.testing.assert_allclose(single[0], batch[0][0, :, :, 0])
    np.testing.assert_allclose(single[1], batch[1][:, :, 0, 0])
    assert single[2] == pytest.approx(batch[2][0])


def test_conv2d_backward_keeps_float32():
    x = random_array(1, (2, 6, 6, 2)).astype(np.float32)
    kernel = random_array(2, (3, 3, 2, 3)).astype(np.float32)
    dout = np.ones((2, 4, 4, 3), np.float32)
    assert all(g.dtype == np.float32 for g in backprop.conv2d_backward(dout, x, kernel))


def test_conv2d_backward_empty_batch():
    dx, dk, db = backprop.conv2d_backward(np.zeros((0, 2, 2, 3)), np.zeros((0, 4, 4, 1)),
                                          np.ones((3, 3, 1, 3)))
    assert dx.shape == (0, 4, 4, 1) and not dk.any() and not db.any()


# --------------------------------------------------------------------------
# Pooling, ReLU, dense, softmax cross-entropy
# --------------------------------------------------------------------------

@st.composite
def pool_cases(draw):
    ph, pw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = draw(st.sampled_from(["valid", "same"]))
    h, w = ph + draw(st.integers(0, 4)), pw + draw(st.integers(0, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    x = random_array(seed, (draw(st.integers(1, 2)), h, w, draw(st.integers(1, 3))))
    return x, (ph, pw), stride, padding, seed


@CHECK
@given(pool_cases(), st.sampled_from(["max", "avg"]))
def test_pool_backward_matches_gradient_tape_and_numerical(case, kind):
    x, pool_size, stride, padding, seed = case
    forward = kernels.max_pool2d if kind == "max" else kernels.avg_pool2d
    backward = backprop.max_pool2d_backward if kind == "max" else backprop.avg_pool2d_backward
    out = forward(x, pool_size, stride, padding)
    dout = random_array(seed + 1, out.shape)
    dx = backward(dout, x, pool_size, stride, padding)
    tx = tf.Variable(x)
    tf_pool = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    with tf.GradientTape() as tape:
        y = tf_pool(tx, pool_size, stride or pool_size, padding.upper())
    np.testing.assert_allclose(y.numpy(), out, **TIGHT)  # same forward pass
    np.testing.assert_allclose(dx, tape.gradient(y, tx, output_gradients=dout).numpy(), **TIGHT)
    numeric = backprop.numerical_gradient(lambda _: forward(x, pool_size, stride, padding), x, dout=dout)
    assert backprop.rel_error(dx, numeric) < 1e-6


def test_max_pool_backward_sends_a_tie_to_the_first_winner():
    dx = backprop.max_pool2d_backward([[5.0]], [[1.0, 3.0], [3.0, 0.0]])
    np.testing.assert_array_equal(dx, [[0, 5], [0, 0]])


def test_pool_backward_single_map():
    x = random_array(3, (5, 5))
    dx = backprop.avg_pool2d_backward(np.ones((3, 3)), x, 2, padding="same")
    assert dx.shape == (5, 5)
    np.testing.assert_allclose(dx[-1, -1], 1.0)  # a window with a single real cell
    np.testing.assert_allclose(dx[0, 0], 0.25)


@CHECK
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_relu_backward_matches_gradient_tape_and_numerical(shape, seed):
    x, dout = random_array(seed, shape), random_array(seed + 1, shape)
    tx = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = tf.nn.relu(tx)
    dx = backprop.relu_backward(dout, x)
    np.testing.assert_array_equal(dx, tape.gradient(y, tx, output_gradients=dout).numpy())
    numeric = backprop.numerical_gradient(lambda _: kernels.relu(x), x, dout=dout)
    assert backprop.rel_error(dx, numeric) < 1e-6


@CHECK
@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_dense_backward_matches_gradient_tape(n, features, units, seed):
    x, w = random_array(seed, (n, features)), random_array(seed + 1, (features, units))
    bias, dout = random_array(seed + 2, units), random_array(seed + 3, (n, units))
    tx, tw, tb = tf.Variable(x), tf.Variable(w), tf.Variable(bias)
    with tf.GradientTape() as tape:
        y = tx @ tw + tb
    expected = tape.gradient(y, [tx, tw, tb], output_gradients=dout)
    for ours, theirs in zip(backprop.dense_backward(dout, x, w), expected):
        np.testing.assert_allclose(ours, theirs.numpy(), **TIGHT)


@CHECK
@given(st.integers(1, 6), st.integers(2, 10), st.integers(0, 2**32 - 1))
def test_softmax_cross_entropy_matches_keras(n, k, seed):
    logits = random_array(seed, (n, k))  # moderate scores: no probability so small that
    # its gradient drowns in the rounding error of the differences
    labels = np.random.default_rng(seed).integers(0, k, size=n)
    loss, dlogits = backprop.softmax_cross_entropy(logits, labels)
    z = tf.Variable(logits)
    with tf.GradientTape() as tape:
        expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(labels, z)
    assert loss == pytest.approx(float(expected), rel=1e-9)
    np.testing.assert_allclose(dlogits, tape.gradient(expected, z).numpy(), **TIGHT)
    numeric = backprop.numerical_gradient(lambda _: backprop.softmax_cross_entropy(logits, labels)[0], logits)
    assert backprop.rel_error(dlogits, numeric) < 1e-6


def test_softmax_cross_entropy_survives_huge_logits():
    loss, dlogits = backprop.softmax_cross_entropy([[1000.0, 0.0], [0.0, -1000.0]], [1, 0])
    assert loss == pytest.approx(500.0) and np.all(np.isfinite(dlogits))


# --------------------------------------------------------------------------
# numerical_gradient and rel_error themselves
# --------------------------------------------------------------------------

def test_numerical_gradient_of_known_functions():
    x = random_array(1, (2, 3, 4))
    np.testing.assert_allclose(backprop.numerical_gradient(lambda v: np.sum(v ** 2), x), 2 * x, atol=1e-8)
    np.testing.assert_allclose(backprop.numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x),
                               atol=1e-8)
    a = random_array(2, (5, 3))
    v = random_array(3, (3,))
    dout = random_array(4, (5,))
    np.testing.assert_allclose(backprop.numerical_gradient(lambda _: a @ v, v, dout=dout), a.T @ dout,
                               atol=1e-8)


def test_numerical_gradient_restores_x_and_reads_it_through_a_closure():
    x = random_array(5, (3, 3))
    before = x.copy()
    grad = backprop.numerical_gradient(lambda _: np.prod(x[0]), x)  # reads x, not its argument
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad[0], [x[0, 1] * x[0, 2], x[0, 0] * x[0, 2], x[0, 0] * x[0, 1]],
                               atol=1e-8)
    assert not grad[1:].any()


def test_rel_error_known_values():
    assert backprop.rel_error([1.0, 2.0], [1.0, 2.0]) == 0
    assert backprop.rel_error([1.0], [3.0]) == pytest.approx(0.5)
    assert backprop.rel_error([[0.0, 1.0]], [[1e-9, 1.0]]) == pytest.approx(0.1)  # floor of 1e-8
    assert backprop.rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0


# --------------------------------------------------------------------------
# The tiny CNN
# --------------------------------------------------------------------------

def test_tinycnn_gradients_match_numerical():
    model = tinycnn.TinyCNN(filters=3, image_size=7, seed=2)
    rng = np.random.default_rng(0)
    model.params["bias"][:] = rng.normal(0, 0.1, size=3)
    x, y = rng.random((3, 7, 7, 1)), np.array([0, 9, 4])
    _, grads = model.loss_and_grads(x, y)
    for name, p in model.params.items():
        numeric = backprop.numerical_gradient(lambda _: model.loss_and_grads(x, y)[0], p)
        assert backprop.rel_error(grads[name], numeric) < 1e-6, name


def test_tinycnn_matches_keras_forward_pass():
    model = tinycnn.TinyCNN(seed=3)
    p = model.params
    x = tinycnn.to_images(data.load_mnist(limit=(4, 1))[0][0])  # (4, 28, 28, 1)
    net = keras.Sequential([
        keras.Input(shape=(28, 28, 1), dtype="float64"),
        keras.layers.Conv2D(8, 3, activation="relu", dtype="float64"),
        keras.layers.MaxPooling2D(2, dtype="float64"),
        keras.layers.Flatten(dtype="float64"),
        keras.layers.Dense(10, dtype="float64"),
    ])
    net.set_weights([p["kernel"], p["bias"], p["weights"], p["dense_bias"]])
    np.testing.assert_allclose(model.forward(x)[0], net(x).numpy(), atol=1e-9)


def test_train_lowers_the_loss():
    (x, y), _ = data.load_mnist(limit=(256, 1))
    model = tinycnn.TinyCNN(seed=0)
    lines = []
    losses = tinycnn.train(model, tinycnn.to_images(x), y, optim.Adam(0.005), epochs=2,
                           batch_size=32, log=lines.append)
    assert len(losses) == 16 and len(lines) == 2 and lines[0].startswith("epoch 1/2")
    assert np.mean(losses[-4:]) < losses[0] / 2


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

X4, K4 = np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 4))


@pytest.mark.parametrize("call, exception, message", [
    (lambda: backprop.conv2d_backward(np.zeros((1, 3, 3, 3)), X4, K4), ValueError, r"`dout`.*\(1, 3, 3, 4\)"),
    (lambda: backprop.conv2d_backward(np.zeros((3, 3)), X4, K4), ValueError, r"`dout` must have 4"),
    (lambda: backprop.conv2d_backward(np.zeros((1, 3, 3, 4)), X4, np.zeros((3, 3, 1, 4))), ValueError,
     r"`kernel` expects C_in=1"),
    (lambda: backprop.conv2d_backward(np.zeros((1, 3, 3, 4)), X4, K4, stride=0), ValueError, r"`stride`"),
    (lambda: backprop.conv2d_backward(np.zeros((1, 3, 3, 4)), X4, K4, padding="half"), ValueError,
     r"`padding`"),
    (lambda: backprop.max_pool2d_backward(np.zeros((3, 3)), np.zeros((5, 5))), ValueError,
     r"`dout` must have the shape of the pooled output \(2, 2\)"),
    (lambda: backprop.avg_pool2d_backward(np.zeros((1, 2, 2, 3)), np.zeros((1, 4, 4, 2))), ValueError,
     r"`dout`"),
    (lambda: backprop.relu_backward(np.zeros(3), np.zeros(4)), ValueError, r"`dout` must have the shape of `x`"),
    (lambda: backprop.relu_backward([np.nan], [1.0]), ValueError, r"`dout` must hold finite"),
    (lambda: backprop.dense_backward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((5, 3))), ValueError,
     r"`weights` must have 4 rows"),
    (lambda: backprop.dense_backward(np.zeros((2, 2)), np.zeros((2, 4)), np.zeros((4, 3))), ValueError,
     r"`dout` must have shape \(2, 3\)"),
    (lambda: backprop.softmax_cross_entropy(np.zeros((2, 3)), [0, 3]), ValueError, r"`labels` must lie in 0..2"),
    (lambda: backprop.softmax_cross_entropy(np.zeros((2, 3)), [0.0, 1.0]), TypeError, r"`labels` must hold integer"),
    (lambda: backprop.softmax_cross_entropy(np.zeros((2, 3)), [0]), ValueError, r"`labels` must have shape \(2,\)"),
    (lambda: backprop.softmax_cross_entropy(np.zeros(3), [0]), ValueError, r"`logits` must have 2"),
    (lambda: backprop.numerical_gradient(lambda v: v.sum(), [1.0, 2.0]), TypeError, r"`x` must be a float64"),
    (lambda: backprop.numerical_gradient(lambda v: v.sum(), np.ones(2, np.float32)), TypeError, r"`x`"),
    (lambda: backprop.numerical_gradient(lambda v: v, np.ones(2)), ValueError, r"`f` must return a single number"),
    (lambda: backprop.numerical_gradient(lambda v: v, np.ones(2), dout=np.ones(3)), ValueError,
     r"`f` must return an array of the shape of `dout`"),
    (lambda: backprop.numerical_gradient(np.ones(2), np.ones(2)), TypeError, r"`f` must be a function"),
    (lambda: backprop.numerical_gradient(lambda v: v.sum(), np.ones(2), h=0), ValueError, r"`h`"),
    (lambda: backprop.rel_error(np.ones(2), np.ones(3)), ValueError, r"`b` must have the shape of `a`"),
    (lambda: tinycnn.TinyCNN().forward(np.zeros((1, 28, 28))), ValueError, r"`x` must have 4"),
    (lambda: tinycnn.TinyCNN().forward(np.zeros((1, 8, 8, 1))), ValueError, r"`x` must have shape \(N, 28, 28, 1\)"),
    (lambda: tinycnn.to_images(np.zeros((2, 28))), ValueError, r"`x` must be \(N, H, W\) uint8"),
    (lambda: tinycnn.train(tinycnn.TinyCNN(), np.zeros((2, 28, 28, 1)), [0], optim.SGD(0.1)), ValueError,
     r"`y` must have shape \(2,\)"),
    (lambda: tinycnn.train(tinycnn.TinyCNN(), np.zeros((2, 28, 28, 1)), [0, 1], "adam"), TypeError,
     r"`optimizer`"),
])
def test_bad_input_names_the_argument(call, exception, message):
    with pytest.raises(exception, match=message):
        call()
