"""cnnlab.shapes checked against Keras layer output shapes and TensorFlow padding."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import shapes

CHECK = settings(max_examples=60, deadline=None, derandomize=True)


def fits(n, k, dilation=1):
    return (k - 1) * dilation + 1 <= n


# --------------------------------------------------------------------------
# Keras output shapes
# --------------------------------------------------------------------------

@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)])
def test_conv_output_size_matches_keras_conv2d(padding, stride, dilation):
    # Keras refuses stride > 1 together with dilation > 1
    for n, k in itertools.product(range(1, 13), range(1, 6)):
        if padding == "valid" and not fits(n, k, dilation):
            continue
        layer = keras.layers.Conv2D(1, (k, 1), strides=(stride, 1), padding=padding,
                                    dilation_rate=(dilation, 1))
        expected = layer.compute_output_shape((None, n, 7, 1))[1]
        assert shapes.conv_output_size(n, k, stride, padding, dilation) == expected, (n, k)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [None, 1, 2, 3])
def test_pool_output_size_matches_keras_pooling(padding, stride):
    for n, p in itertools.product(range(1, 13), range(1, 5)):
        if padding == "valid" and p > n:
            continue
        layer = keras.layers.MaxPooling2D((p, 1), strides=None if stride is None else (stride, 1),
                                          padding=padding)
        expected = layer.compute_output_shape((None, n, 3, 1))[1]
        assert shapes.pool_output_size(n, p, stride, padding) == expected, (n, p)


@pytest.mark.parametrize("n, k, stride, padding", [
    (8, 3, 1, 1), (7, 3, 2, 2), (5, 4, 2, (0, 3)), (6, 2, 3, (2, 1)), (4, 5, 1, (1, 0)),
])
def test_explicit_padding_matches_keras_zero_padding_then_valid(n, k, stride, padding):
    pads = (padding, padding) if isinstance(padding, int) else padding
    inputs = keras.Input(shape=(n, 1))
    padded = keras.layers.ZeroPadding1D(pads)(inputs)
    out = keras.layers.Conv1D(1, k, strides=stride, padding="valid")(padded)
    assert shapes.conv_output_size(n, k, stride, padding) == out.shape[1]
    assert shapes.padding_amounts(n, k, stride, padding) == pads


# --------------------------------------------------------------------------
# TensorFlow's "same" padding, checked on numbers
# --------------------------------------------------------------------------

@CHECK
@given(st.integers(1, 12), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_same_padding_amounts_reproduce_tensorflow_same(n, k, stride, dilation, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, n, 1))
    kernel = rng.standard_normal((k, 1, 1))
    before, after = shapes.padding_amounts(n, k, stride, "same", dilation)
    if stride == 1:  # TensorFlow dilates only with stride 1
        expected = tf.nn.conv1d(x, kernel, stride=1, padding="SAME", dilations=dilation)
        got = tf.nn.conv1d(np.pad(x, ((0, 0), (before, after), (0, 0))), kernel, stride=1,
                           padding="VALID", dilations=dilation)
    else:  # the dilated kernel spelled out
        dilated = np.zeros(((k - 1) * dilation + 1, 1, 1))
        dilated[::dilation] = kernel
        expected = tf.nn.conv1d(x, dilated, stride=stride, padding="SAME")
        got = tf.nn.conv1d(np.pad(x, ((0, 0), (before, after), (0, 0))), dilated, stride=stride,
                           padding="VALID")
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    assert shapes.conv_output_size(n, k, stride, "same", dilation) == expected.shape[1]


@pytest.mark.parametrize("n, k, stride, dilation, expected", [
    (8, 3, 1, 1, (1, 1)),   # odd kernel: k - 1 = 2 split evenly
    (8, 4, 1, 1, (1, 2)),   # even kernel: the extra cell at the end
    (8, 2, 2, 1, (0, 0)),   # windows tile exactly
    (7, 3, 2, 1, (1, 1)),   # out 4: total (4-1)*2 + 3 - 7 = 2
    (8, 3, 1, 2, (2, 2)),   # dilated span 5
    (2, 5, 1, 1, (2, 2)),   # kernel larger than the input is fine with "same"
    (10, 3, 4, 1, (0, 1)),  # out 3: total 2*4 + 3 - 10 = 1
])
def test_same_padding_amounts_by_hand(n, k, stride, dilation, expected):
    assert shapes.padding_amounts(n, k, stride, "same", dilation) == expected


# --------------------------------------------------------------------------
# The formula floor((n + 2p - k) / s) + 1, by hand
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n, k, stride, padding, expected", [
    (8, 3, 1, "valid", 6),      # the bump: 8 - 3 + 1
    (5, 3, 1, "valid", 3),      # 5x5 with 3x3 gives 3x3
    (5, 2, 1, "valid", 4),
    (28, 3, 1, "valid", 26),    # MNIST, 32 filters of 3x3
    (13, 3, 1, "valid", 11),
    (5, 3, 2, 1, 3),            # K = 2, F = 3, S = 2, P = 1 over 5x5x3
    (32, 5, 1, "valid", 28),    # LeNet C1
    (227, 11, 4, "valid", 55),  # AlexNet conv1
    (5, 3, 1, "full", 7),       # n + k - 1
    (5, 4, 1, "same", 5),
    (5, 3, 2, "same", 3),       # ceil(5 / 2)
    (6, 3, 2, (1, 0), 3),       # floor((6 + 1 - 3) / 2) + 1
    (7, 4, 3, (0, 1), 2),       # floor((7 + 1 - 4) / 3) + 1, a remainder dropped
])
def test_conv_output_size_by_hand(n, k, stride, padding, expected):
    assert shapes.conv_output_size(n, k, stride, padding) == expected


def test_conv_output_size_with_dilation_by_hand():
    # a 3-tap kernel with dilation 2 spans 5 cells: 9 - 5 + 1
    assert shapes.conv_output_size(9, 3, dilation=2) == 5
    assert shapes.padding_amounts(9, 3, padding="full", dilation=2) == (4, 4)


@pytest.mark.parametrize("n, p, stride, padding, expected", [
    (26, 2, None, "valid", 13), (11, 2, None, "valid", 5), (28, 2, 2, "valid", 14),
    (5, 3, 1, "valid", 3), (5, 2, None, "same", 3), (4, 3, 2, "same", 2),
])
def test_pool_output_size_by_hand(n, p, stride, padding, expected):
    assert shapes.pool_output_size(n, p, stride, padding) == expected


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

@pytest.mark.parametrize("call, exception, message", [
    (lambda: shapes.conv_output_size(3, 5), ValueError, r"`kernel_size`.*size 5.*larger than the padded input of size 3"),
    (lambda: shapes.conv_output_size(5, 3, dilation=3), ValueError, r"spans 7 cells.*padded input of size 5"),
    (lambda: shapes.conv_output_size(0, 3), ValueError, "`n` must be at least 1"),
    (lambda: shapes.conv_output_size(5.0, 3), TypeError, "`n` must be an integer"),
    (lambda: shapes.conv_output_size(5, 0), ValueError, "`kernel_size` must be at least 1"),
    (lambda: shapes.conv_output_size(5, 3, stride=0), ValueError, "`stride` must be at least 1"),
    (lambda: shapes.conv_output_size(5, 3, dilation=0), ValueError, "`dilation` must be at least 1"),
    (lambda: shapes.conv_output_size(5, 3, padding="half"), ValueError, "`padding` must be one of"),
    (lambda: shapes.conv_output_size(5, 3, padding=-1), ValueError, "`padding` must not be negative"),
    (lambda: shapes.conv_output_size(5, 3, padding=(1, 2, 3)), TypeError, "`padding` must be"),
    (lambda: shapes.padding_amounts(5, 3, padding=(1, 0.5)), TypeError, "`padding` amounts must be integers"),
    (lambda: shapes.pool_output_size(2, 3), ValueError, r"`pool_size`.*larger than the padded input"),
    (lambda: shapes.pool_output_size(4, 2, padding="full"), ValueError, "`padding` must be one of 'valid', 'same'"),
    (lambda: shapes.pool_output_size(4, 2, stride=0), ValueError, "`stride` must be at least 1"),
    (lambda: shapes.pool_output_size(4, True), TypeError, "`pool_size` must be an integer"),
])
def test_bad_input_is_refused(call, exception, message):
    with pytest.raises(exception, match=message):
        call()
