"""Lesson 06: plot_activations against Keras and TensorFlow's gradients, and the claim
that two stacked convolutions without an activation are one convolution."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnlab import kernels, plot  # noqa: E402

CHECK = settings(max_examples=50, deadline=None, derandomize=True)

KERAS = {
    "relu": keras.activations.relu,
    "leaky_relu": lambda x: keras.activations.leaky_relu(x, negative_slope=0.2),
    "tanh": keras.activations.tanh,
    "sigmoid": keras.activations.sigmoid,
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def line(ax, gid):
    (found,) = [ln for ln in ax.lines if ln.get_gid() == gid]
    return np.asarray(found.get_xdata(), float), np.asarray(found.get_ydata(), float)


def tf_gradient(name, x):
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = KERAS[name](t)
    return tape.gradient(y, t).numpy()


# ----------------------------------------------------------------- plot_activations

def test_plot_activations_draws_keras_values_and_tensorflow_gradients():
    x = np.linspace(-3, 3, 61)                      # contains 0 exactly
    fig = plot.plot_activations(x=x)
    assert len(fig.axes) == 4
    for ax, name in zip(fig.axes, plot.ACTIVATION_NAMES):
        fx, fy = line(ax, "function")
        np.testing.assert_allclose(fx, x)
        np.testing.assert_allclose(fy, np.asarray(KERAS[name](x)), atol=1e-7)
        dx, dy = line(ax, "derivative")
        keep = ~np.isnan(dx)                        # breaks inserted at the jumps
        np.testing.assert_allclose(dx[keep], x)
        np.testing.assert_allclose(dy[keep], tf_gradient(name, x), atol=1e-7)


def test_plot_activations_leaves_the_jump_of_relu_open():
    fig = plot.plot_activations(["relu", "sigmoid"], x=np.linspace(-1, 1, 21))
    relu_dx, _ = line(fig.axes[0], "derivative")
    sigmoid_dx, _ = line(fig.axes[1], "derivative")
    assert np.isnan(relu_dx).sum() == 1
    assert not np.isnan(sigmoid_dx).any()


def test_plot_activations_options():
    fig = plot.plot_activations("tanh", derivatives=False)
    (ax,) = fig.axes
    assert [ln.get_gid() for ln in ax.lines if ln.get_gid()] == ["function"]
    fig = plot.plot_activations(["leaky_relu"], alpha=0.5, x=[-2.0, 2.0], fig=fig)
    _, y = line(fig.axes[0], "function")
    np.testing.assert_allclose(y, [-1.0, 2.0])
    assert len(fig.axes) == 1


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(names=["relu", "swish"]), ValueError, "names"),
    (dict(names=[]), ValueError, "at least one"),
    (dict(x=[[0.0, 1.0]]), ValueError, "`x` must have 1 dimensions"),
    (dict(x=[0.0]), ValueError, "at least 2 points"),
    (dict(alpha="0.2"), TypeError, "alpha"),
])
def test_plot_activations_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.plot_activations(**kwargs)


# ----------------------------------------------------------------- stacked convolutions

def combined(a, b):
    """Kernel of conv2d(conv2d(x, a), b): the full *true* convolution of a and b."""
    return kernels.convolve2d(a, b, padding="full")


@CHECK
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 2**31 - 1))
def test_two_linear_convolutions_are_one(ka, kb, la, lb, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(10, 11))
    a, b = rng.normal(size=(ka, la)), rng.normal(size=(kb, lb))
    two = kernels.conv2d(kernels.conv2d(x, a), b)
    one = kernels.conv2d(x, combined(a, b))
    assert one.shape == two.shape == (10 - ka - kb + 2, 11 - la - lb + 2)
    np.testing.assert_allclose(one, two, atol=1e-10)
    # the same kernel, written as a cross-correlation with b turned by 180 degrees
    np.testing.assert_allclose(combined(a, b),
                               kernels.conv2d(a, b[::-1, ::-1], padding="full"), atol=1e-12)


def test_two_keras_conv_layers_without_activation_equal_one_with_the_combined_kernel():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    x = rng.normal(size=(2, 12, 12, 1)).astype("float32")
    first = keras.layers.Conv2D(1, 3, use_bias=False)
    second = keras.layers.Conv2D(1, 3, use_bias=False)
    single = keras.layers.Conv2D(1, 5, use_bias=False)
    for layer, k in ((first, a), (second, b), (single, combined(a, b))):
        layer.build((None, None, None, 1))
        layer.set_weights([k.reshape(*k.shape, 1, 1).astype("float32")])
    np.testing.assert_allclose(np.asarray(second(first(x))), np.asarray(single(x)), atol=1e-4)


def test_relu_between_the_convolutions_breaks_the_equality():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 12))
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    with_relu = kernels.conv2d(kernels.relu(kernels.conv2d(x, a)), b)
    one = kernels.conv2d(x, combined(a, b))
    assert np.abs(with_relu - one).max() > 1.0
