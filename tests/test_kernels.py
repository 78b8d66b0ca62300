"""cnnlab.kernels checked against TensorFlow, Keras and scipy.

Random shapes, strides, paddings and dilations are drawn with hypothesis; the
references get their padding from the test itself (or from TensorFlow's own
"SAME"), never from cnnlab.shapes.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnlab import kernels

CHECK = settings(max_examples=50, deadline=None, derandomize=True)
TIGHT = dict(rtol=1e-9, atol=1e-9)  # float64 against float64


def random_array(seed, shape, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def dilate(kernel, dh, dw):
    """The kernel with (d - 1) zeros between its cells: (KEH, KEW, ...)."""
    kh, kw = kernel.shape[:2]
    out = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1, *kernel.shape[2:]))
    out[::dh, ::dw] = kernel
    return out


def tf_conv2d(x, kernel, stride, dilation, pads):
    """tf.nn.conv2d; ``pads`` is "SAME" or ((top, bottom), (left, right)).

    TensorFlow takes dilations with stride 1 only; otherwise the kernel is
    dilated by hand (zeros between the cells), which is the definition.
    """
    padding = pads if pads == "SAME" else [[0, 0], list(pads[0]), list(pads[1]), [0, 0]]
    if stride == (1, 1):
        return tf.nn.conv2d(x, kernel, strides=stride, padding=padding, dilations=dilation).numpy()
    return tf.nn.conv2d(x, dilate(kernel, *dilation), strides=stride, padding=padding).numpy()


# --------------------------------------------------------------------------
# Random convolution settings
# --------------------------------------------------------------------------

pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def conv2d_cases(draw):
    """(x, kernel, bias, kwargs for cnnlab, stride, dilation, reference pads)."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, dilation = draw(pairs), draw(pairs)
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    style = draw(st.sampled_from(["valid", "same", "full", "int", "pair", "sides"]))
    if style == "same":
        padding, pads = "same", "SAME"
    elif style == "valid":
        padding, pads = "valid", ((0, 0), (0, 0))
    elif style == "full":
        padding, pads = "full", ((span[0] - 1,) * 2, (span[1] - 1,) * 2)
    elif style == "int":
        padding = draw(st.integers(0, 3))
        pads = ((padding, padding), (padding, padding))
    elif style == "pair":
        padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
        pads = ((padding[0],) * 2, (padding[1],) * 2)
    else:
        pads = padding = tuple(tuple(draw(st.integers(0, 3)) for _ in range(2)) for _ in range(2))
    # the smallest input the (dilated) kernel fits in, plus a few cells
    if pads == "SAME":
        smallest = (1, 1)
    else:
        smallest = tuple(max(1, s - sum(p)) for s, p in zip(span, pads))
    h, w = (m + draw(st.integers(0, 6)) for m in smallest)
    n, c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    x = random_array(seed, (n, h, w, c_in))
    kernel = random_array(seed + 1, (kh, kw, c_in, c_out))
    bias = random_array(seed + 2, (c_out,))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    return x, kernel, bias, kwargs, stride, dilation, pads


# --------------------------------------------------------------------------
# conv2d, conv2d_naive, convolve2d
# --------------------------------------------------------------------------

@CHECK
@given(conv2d_cases())
def test_conv2d_and_naive_match_tf(case):
    x, kernel, bias, kwargs, stride, dilation, pads = case
    expected = tf_conv2d(x, kernel, stride, dilation, pads) + bias
    np.testing.assert_allclose(kernels.conv2d(x, kernel, bias, **kwargs), expected, **TIGHT)
    np.testing.assert_allclose(kernels.conv2d_naive(x, kernel, bias, **kwargs), expected, **TIGHT)


@CHECK
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6),
       st.integers(0, 2**32 - 1))
def test_conv2d_dilation_with_same_padding_matches_tf(kh, d, extra, c, seed):
    # TensorFlow's own dilations (stride 1), the case where the padding depends on k_eff
    x = random_array(seed, (2, extra + 2, extra, c))
    kernel = random_array(seed + 1, (kh, kh + 1, c, 2))
    expected = tf.nn.conv2d(x, kernel, strides=1, padding="SAME", dilations=d).numpy()
    np.testing.assert_allclose(kernels.conv2d(x, kernel, dilation=d, padding="same"), expected, **TIGHT)


@CHECK
@given(conv2d_cases())
def test_conv2d_single_image_matches_scipy(case):
    x, kernel, _, kwargs, stride, dilation, pads = case
    image, k = x[0, :, :, 0], kernel[:, :, 0, 0]  # (H, W), (KH, KW)
    if pads == "SAME":
        expected = tf_conv2d(x[:1, :, :, :1], kernel[:, :, :1, :1], stride, dilation, pads)[0, :, :, 0]
    else:
        padded = np.pad(image, pads)
        expected = scipy.signal.correlate2d(padded, dilate(k, *dilation), mode="valid")
        expected = expected[::stride[0], ::stride[1]]
    np.testing.assert_allclose(kernels.conv2d(image, k, 0.5, **kwargs), expected + 0.5, **TIGHT)
    np.testing.assert_allclose(kernels.conv2d_naive(image, k, 0.5, **kwargs), expected + 0.5, **TIGHT)


@CHECK
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(1, 4),
       st.sampled_from(["valid", "full", "same"]), st.integers(0, 2**32 - 1))
def test_convolve2d_matches_scipy(h, w, kh, kw, mode, seed):
    if mode == "valid":
        h, w = h + kh - 1, w + kw - 1
    if mode == "same":  # scipy centres an even kernel the other way round
        kh, kw = 2 * (kh // 2) + 1, 2 * (kw // 2) + 1
    x, k = random_array(seed, (h, w)), random_array(seed + 1, (kh, kw))
    expected = scipy.signal.convolve2d(x, k, mode=mode)
    np.testing.assert_allclose(kernels.convolve2d(x, k, padding=mode), expected, **TIGHT)


@CHECK
@given(conv2d_cases())
def test_convolve2d_is_tf_with_flipped_kernel(case):
    x, kernel, bias, kwargs, stride, dilation, pads = case
    expected = tf_conv2d(x, kernel[::-1, ::-1], stride, dilation, pads) + bias
    np.testing.assert_allclose(kernels.convolve2d(x, kernel, bias, **kwargs), expected, **TIGHT)


@pytest.mark.parametrize("n, k, stride", [(8, 4, 1), (8, 2, 2), (7, 3, 2), (6, 5, 3), (2, 5, 1)])
def test_conv2d_same_puts_the_extra_padding_at_the_bottom_right(n, k, stride):
    x = random_array(n * k + stride, (1, n, n + 1, 1))
    kernel = random_array(k, (k, k, 1, 1))
    expected = tf.nn.conv2d(x, kernel, strides=stride, padding="SAME").numpy()
    got = kernels.conv2d(x, kernel, stride=stride, padding="same")
    np.testing.assert_allclose(got, expected, **TIGHT)


def test_pad2d_same_follows_tensorflow():
    # total = (ceil(8/1) - 1) * 1 + 4 - 8 = 3 rows: 1 on top, 2 at the bottom
    padded, amounts = kernels.pad2d(np.ones((8, 8)), "same", kernel_size=4)
    assert amounts == ((1, 2), (1, 2))
    assert padded.shape == (11, 11)
    assert padded[1:9, 1:9].sum() == 64 and padded.sum() == 64


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, bool])
def test_conv2d_dtype(dtype):
    x = (random_array(1, (2, 6, 6, 2)) > 0).astype(dtype)
    kernel = random_array(2, (3, 3, 2, 4), np.float32)
    want = np.float32 if dtype == np.float32 else np.float64
    for conv in (kernels.conv2d, kernels.conv2d_naive, kernels.convolve2d):
        assert conv(x, kernel).dtype == want
    assert kernels.conv1d(x[:, 0], kernel[0]).dtype == want
    assert kernels.conv1d_naive(x[:, 0], kernel[0]).dtype == want


@CHECK
@given(st.integers(0, 2**32 - 1), st.sampled_from(["valid", "same"]), st.integers(1, 2))
def test_conv2d_float32_matches_tf_float32(seed, padding, stride):
    x = random_array(seed, (2, 9, 7, 3), np.float32)
    kernel = random_array(seed + 1, (3, 2, 3, 5), np.float32)
    expected = tf.nn.conv2d(x, kernel, strides=stride, padding=padding.upper()).numpy()
    np.testing.assert_allclose(kernels.conv2d(x, kernel, stride=stride, padding=padding),
                               expected, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------
# conv1d, conv1d_naive
# --------------------------------------------------------------------------

@CHECK
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 6),
       st.sampled_from(["valid", "same", "full", "int", "sides"]), st.integers(0, 3),
       st.integers(0, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_conv1d_and_naive_match_tf(k, stride, dilation, extra, style, p1, p2, channels, seed):
    span = (k - 1) * dilation + 1
    padding, pads = {"valid": ("valid", (0, 0)), "same": ("same", "SAME"),
                     "full": ("full", (span - 1, span - 1)), "int": (p1, (p1, p1)),
                     "sides": ((p1, p2), (p1, p2))}[style]
    length = extra + (1 if pads == "SAME" else max(1, span - sum(pads)))
    x = random_array(seed, (2, length, channels))
    kernel = random_array(seed + 1, (k, channels, 2))
    bias = random_array(seed + 2, (2,))
    if pads == "SAME":
        ref_x, ref_padding = x, "SAME"
    else:
        ref_x, ref_padding = np.pad(x, ((0, 0), pads, (0, 0))), "VALID"
    if stride == 1:
        expected = tf.nn.conv1d(ref_x, kernel, stride=1, padding=ref_padding, dilations=dilation)
    else:
        expected = tf.nn.conv1d(ref_x, dilate(kernel[:, None], dilation, 1)[:, 0],
                                stride=stride, padding=ref_padding)
    expected = expected.numpy() + bias
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(kernels.conv1d(x, kernel, bias, **kwargs), expected, **TIGHT)
    np.testing.assert_allclose(kernels.conv1d_naive(x, kernel, bias, **kwargs), expected, **TIGHT)
    # the single-signal form is the first channel of the first example
    one = kernels.conv1d(x[0, :, 0], kernel[:, 0, 0], **kwargs)
    one_naive = kernels.conv1d_naive(x[0, :, 0], kernel[:, 0, 0], **kwargs)
    if channels == 1:
        np.testing.assert_allclose(one, expected[0, :, 0] - bias[0], **TIGHT)
    np.testing.assert_allclose(one, one_naive, **TIGHT)


@CHECK
@given(hnp.arrays(np.float64, st.integers(3, 12), elements=st.floats(-10, 10)),
       hnp.arrays(np.float64, st.integers(1, 3), elements=st.floats(-10, 10)))
def test_conv1d_single_signal_matches_numpy_correlate(x, kernel):
    expected = np.correlate(x, kernel, mode="valid")
    np.testing.assert_allclose(kernels.conv1d(x, kernel), expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(kernels.conv1d_naive(x, kernel, 1.5), expected + 1.5, rtol=1e-9, atol=1e-9)


def test_conv1d_matches_keras_conv1d_layer():
    x = random_array(3, (2, 10, 2))
    kernel, bias = random_array(4, (3, 2, 4)), random_array(5, (4,))
    layer = keras.layers.Conv1D(4, 3, padding="same", dtype="float64")
    layer.build((None, 10, 2))
    layer.set_weights([kernel, bias])
    np.testing.assert_allclose(kernels.conv1d(x, kernel, bias, padding="same"),
                               np.asarray(layer(x)), **TIGHT)


# --------------------------------------------------------------------------
# The known answers of the syllabus
# --------------------------------------------------------------------------

@pytest.mark.parametrize("conv", [kernels.conv1d, kernels.conv1d_naive])
def test_bump_detector_finds_the_bump(conv):
    feature_map = conv([0, 0, 0, 1, 1, 0, 0, 0], [0, 1, 0], bias=0)
    np.testing.assert_array_equal(feature_map, [0, 0, 1, 1, 0, 0])


@pytest.mark.parametrize("conv", [kernels.conv2d, kernels.conv2d_naive])
def test_vertical_line_detector_on_an_8x8_image(conv):
    image = np.zeros((8, 8))
    image[:, 3:5] = 1  # the line fills columns 3 and 4
    feature_map = conv(image, [[0, 1, 0], [0, 1, 0], [0, 1, 0]])
    assert feature_map.shape == (6, 6)
    np.testing.assert_array_equal(feature_map, [[0, 0, 3, 3, 0, 0]] * 6)


@pytest.mark.parametrize("k, size", [(3, 3), (2, 4)])
def test_5x5_input_output_size(k, size):
    # 5x5 with 3x3 gives 3x3 (9 operations); with 2x2 it gives 4x4
    assert kernels.conv2d(np.ones((5, 5)), np.ones((k, k))).shape == (size, size)


def test_conv_is_cross_correlation_and_convolve_flips():
    x = [0, 0, 0, 1, 1, 0, 0, 0]
    asymmetric = np.array([[-1.0, 1.0, 0.0]])  # (1, 3) row kernel
    row = np.array([x], dtype=float)
    np.testing.assert_array_equal(kernels.conv2d(row, asymmetric)[0], [0, 0, 1, 0, -1, 0])
    np.testing.assert_array_equal(kernels.convolve2d(row, asymmetric)[0], [0, -1, 0, 1, 0, 0])


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------

@st.composite
def pool_cases(draw):
    ph, pw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), pairs))
    padding = draw(st.sampled_from(["valid", "same"]))
    low = (1, 1) if padding == "same" else (ph, pw)
    h, w = (m + draw(st.integers(0, 7)) for m in low)
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    x = random_array(draw(st.integers(0, 2**32 - 1)), (n, h, w, c))
    return x, (ph, pw), stride, padding


def keras_pool(layer_class, x, pool_size, stride, padding):
    layer = layer_class(pool_size=pool_size, strides=stride, padding=padding, dtype="float64")
    return np.asarray(layer(x))


@CHECK
@given(pool_cases())
def test_max_and_avg_pool_match_keras(case):
    x, pool_size, stride, padding = case
    expected_max = keras_pool(keras.layers.MaxPooling2D, x, pool_size, stride, padding)
    expected_avg = keras_pool(keras.layers.AveragePooling2D, x, pool_size, stride, padding)
    np.testing.assert_allclose(kernels.max_pool2d(x, pool_size, stride, padding), expected_max, **TIGHT)
    np.testing.assert_allclose(kernels.avg_pool2d(x, pool_size, stride, padding), expected_avg, **TIGHT)


@CHECK
@given(pool_cases())
def test_sum_pool_is_average_times_cells_counted(case):
    x, pool_size, stride, padding = case
    stride = pool_size if stride is None else stride
    n, h, w, c = x.shape
    # real cells per window: a convolution of ones with a ones kernel (zero padding)
    counts = tf.nn.conv2d(np.ones((1, h, w, 1)), np.ones((*pool_size, 1, 1)),
                          strides=stride, padding=padding.upper()).numpy()
    average = keras_pool(keras.layers.AveragePooling2D, x, pool_size, stride, padding)
    np.testing.assert_allclose(kernels.sum_pool2d(x, pool_size, stride, padding), average * counts, **TIGHT)


def test_pooling_single_map_and_lesson_example():
    x = np.array([[1, 2, 0, 0], [3, 4, 0, 1], [0, 0, 5, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(kernels.max_pool2d(x), [[4, 1], [0, 5]])
    np.testing.assert_array_equal(kernels.sum_pool2d(x), [[10, 1], [0, 5]])
    np.testing.assert_array_equal(kernels.avg_pool2d(x), [[2.5, 0.25], [0, 1.25]])
    # "same" on a 3x3 map with 2x2 windows: the corner window holds one real cell
    np.testing.assert_array_equal(kernels.avg_pool2d(np.arange(9).reshape(3, 3), padding="same"),
                                  [[2, 3.5], [6.5, 8]])
    np.testing.assert_array_equal(kernels.max_pool2d(-np.ones((3, 3)), padding="same"), -np.ones((2, 2)))


@CHECK
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_global_avg_pool_matches_keras(n, h, w, c, seed):
    x = random_array(seed, (n, h, w, c))
    expected = np.asarray(keras.layers.GlobalAveragePooling2D(dtype="float64")(x))
    np.testing.assert_allclose(kernels.global_avg_pool2d(x), expected, **TIGHT)
    np.testing.assert_allclose(kernels.global_avg_pool2d(x[0, :, :, 0]), expected[0, 0], **TIGHT)


@pytest.mark.parametrize("pool", [kernels.max_pool2d, kernels.avg_pool2d, kernels.sum_pool2d])
def test_pooling_keeps_float32(pool):
    assert pool(np.ones((4, 4), np.float32)).dtype == np.float32
    assert pool(np.ones((4, 4), int)).dtype == np.float64


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------

values = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                    elements=st.floats(-700, 700))


@CHECK
@given(values)
def test_elementwise_activations_match_keras(x):
    with np.errstate(over="raise", invalid="raise"):  # no overflow, even at +-700
        pairs = [
            (kernels.relu(x), keras.activations.relu(x), 1e-12),
            (kernels.sigmoid(x), keras.activations.sigmoid(x), 1e-12),
            (kernels.tanh(x), keras.activations.tanh(x), 1e-12),
            # Keras and TensorFlow keep the slope as a float32 number (0.2 + 3e-9)
            (kernels.leaky_relu(x), keras.activations.leaky_relu(x, negative_slope=0.2), 1e-7),
            (kernels.leaky_relu(x, alpha=0.05), tf.nn.leaky_relu(x, alpha=0.05), 1e-7),
        ]
    for got, expected, rtol in pairs:
        assert got.shape == x.shape
        np.testing.assert_allclose(got, np.asarray(expected), rtol=rtol, atol=1e-300)


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
@CHECK
@given(values, st.data())
def test_softmax_matches_keras_and_sums_to_one(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    with np.errstate(over="raise", invalid="raise"):
        got = kernels.softmax(x, axis=axis)
    np.testing.assert_allclose(got, np.asarray(keras.activations.softmax(x, axis=axis)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-12)


def test_activations_keep_float32():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    for f in (kernels.relu, kernels.leaky_relu, kernels.sigmoid, kernels.tanh, kernels.softmax):
        assert f(x).dtype == np.float32


# --------------------------------------------------------------------------
# Bad input: one message per mistake, naming the argument
# --------------------------------------------------------------------------

img, k3 = np.ones((5, 5)), np.ones((3, 3))
batch, bank = np.ones((2, 5, 5, 3)), np.ones((3, 3, 3, 4))
nan_image = np.where(np.eye(5) > 0, np.nan, 1.0)

BAD_INPUT = [
    # (function, args, kwargs, exception, message)
    (kernels.conv2d, (np.ones((5, 5, 3)), k3), {}, ValueError, "`x` must have 2 or 4 dimensions"),
    (kernels.conv2d, (img, np.ones(3)), {}, ValueError, "`kernel` must have 2 or 4 dimensions"),
    (kernels.conv2d, (img, bank), {}, ValueError, r"`kernel` must have shape \(KH, KW\)"),
    (kernels.conv2d, (batch, k3), {}, ValueError, r"`kernel` must have shape \(KH, KW, C_in, C_out\)"),
    (kernels.conv2d, (batch, np.ones((3, 3, 2, 4))), {}, ValueError, "`kernel` expects C_in=2.*`x` has 3"),
    (kernels.conv2d, (batch, bank, np.ones(3)), {}, ValueError, r"`bias` must be a number or shape \(4,\)"),
    (kernels.conv2d, (img, k3, np.ones(1)), {}, ValueError, "`bias` must be a single number"),
    (kernels.conv2d, (img, np.ones((6, 3))), {}, ValueError, "`kernel`.*larger than the padded input"),
    (kernels.conv2d, (img, k3), {"dilation": 3}, ValueError, "`kernel`.*spans 7 cells.*larger"),
    (kernels.conv2d, (img, k3), {"stride": 0}, ValueError, "`stride` must be at least 1"),
    (kernels.conv2d, (img, k3), {"stride": 1.5}, TypeError, "`stride` must be an integer"),
    (kernels.conv2d, (img, k3), {"stride": (1, 2, 3)}, ValueError, "`stride` must be an int or a pair"),
    (kernels.conv2d, (img, k3), {"dilation": 0}, ValueError, "`dilation` must be at least 1"),
    (kernels.conv2d, (img, k3), {"dilation": 2.0}, TypeError, "`dilation` must be an integer"),
    (kernels.conv2d, (img, k3), {"padding": "half"}, ValueError, "`padding` must be one of 'valid'"),
    (kernels.conv2d, (img, k3), {"padding": -1}, ValueError, "`padding` must not be negative"),
    (kernels.conv2d, (img, k3), {"padding": ((0, 1), (-1, 0))}, ValueError, "`padding` must not be negative"),
    (kernels.conv2d, (img, k3), {"padding": 1.5}, TypeError, "`padding` must be 'valid'"),
    (kernels.conv2d, (nan_image, k3), {}, ValueError, "`x` must hold finite numbers"),
    (kernels.conv2d, (img, np.full((3, 3), np.inf)), {}, ValueError, "`kernel` must hold finite numbers"),
    (kernels.conv2d, (np.full((5, 5), "a"), k3), {}, TypeError, "`x` must hold numbers"),
    (kernels.conv2d, (np.ones((0, 5)), k3), {}, ValueError, "`x` must not be empty"),
    (kernels.conv2d_naive, (img, np.ones((3, 3, 1, 1))), {}, ValueError, "`kernel` must have shape"),
    (kernels.convolve2d, (img, k3), {"padding": "half"}, ValueError, "`padding` must be one of"),
    (kernels.pad2d, (img, "same"), {}, ValueError, "`kernel_size` is needed"),
    (kernels.conv1d, (np.ones((2, 3)), np.ones(3)), {}, ValueError, "`x` must have 1 or 3 dimensions"),
    (kernels.conv1d, (np.ones(8), np.ones((3, 1, 1))), {}, ValueError, r"`kernel` must have shape \(K,\)"),
    (kernels.conv1d, (np.ones((1, 8, 2)), np.ones((3, 1, 1))), {}, ValueError, "`kernel` expects C_in=1"),
    (kernels.conv1d, (np.ones(8), np.ones(3)), {"stride": (1, 1)}, TypeError, "`stride` must be an integer"),
    (kernels.conv1d, (np.ones(2), np.ones(3)), {}, ValueError, "`kernel`.*larger than the padded input"),
    (kernels.conv1d_naive, (np.ones(8), np.ones(3)), {"padding": "half"}, ValueError, "`padding` must be one of"),
    (kernels.conv1d_naive, (np.ones(8), np.ones(3), [1, 2]), {}, ValueError, "`bias` must be a single number"),
    (kernels.max_pool2d, (np.ones((3, 3)),), {"pool_size": 4}, ValueError, "`pool_size`.*larger than the padded input"),
    (kernels.max_pool2d, (np.ones((3, 3)),), {"padding": "full"}, ValueError, "`padding` must be one of 'valid', 'same'"),
    (kernels.avg_pool2d, (np.ones((3, 3)),), {"pool_size": 0}, ValueError, "`pool_size` must be at least 1"),
    (kernels.sum_pool2d, (np.ones((3, 3)),), {"stride": 0.5}, TypeError, "`stride` must be an integer"),
    (kernels.avg_pool2d, (np.ones((2, 3, 3)),), {}, ValueError, "`x` must have 2 or 4 dimensions"),
    (kernels.global_avg_pool2d, (np.ones(3),), {}, ValueError, "`x` must have 2 or 4 dimensions"),
    (kernels.relu, (np.array([1.0, np.nan]),), {}, ValueError, "`x` must hold finite numbers"),
    (kernels.leaky_relu, (np.ones(3),), {"alpha": -0.1}, ValueError, "`alpha` must be at least 0"),
    (kernels.leaky_relu, (np.ones(3),), {"alpha": "0.2"}, TypeError, "`alpha` must be a finite number"),
    (kernels.sigmoid, (["a", "b"],), {}, TypeError, "`x` must hold numbers"),
    (kernels.softmax, (np.ones((2, 3)),), {"axis": 2}, ValueError, "`axis` must be between -2 and 1"),
    (kernels.softmax, (3.0,), {}, ValueError, "`x` must have at least 1 dimension"),
]


@pytest.mark.parametrize(
    "func, args, kwargs, exception, message", BAD_INPUT,
    ids=[f"{row[0].__name__}-{row[4][:40]}" for row in BAD_INPUT],
)
def test_bad_input_is_refused_with_a_message_naming_the_argument(func, args, kwargs, exception, message):
    with pytest.raises(exception, match=message):
        func(*args, **kwargs)
