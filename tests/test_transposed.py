"""cnnlab.transposed checked against Keras's Conv2DTranspose and cnnlab.kernels.conv2d.

The convolution matrix is checked by multiplying it with random inputs and
comparing with conv2d; the transposed convolution against Keras on random
shapes, strides and paddings, and as the adjoint of conv2d.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import kernels, transposed

CHECK = settings(max_examples=50, deadline=None, derandomize=True)
TIGHT = dict(rtol=1e-9, atol=1e-9)


def random_array(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def keras_conv_transpose(x, kernel, bias, stride, padding):
    """Keras Conv2DTranspose (float64) with cnnlab's kernel (KH, KW, C_in, C_out)."""
    kh, kw, _, c_out = kernel.shape
    layer = keras.layers.Conv2DTranspose(c_out, (kh, kw), strides=stride, padding=padding,
                                         dtype="float64")
    layer.build(x.shape)
    layer.set_weights([kernel.transpose(0, 1, 3, 2), bias])  # Keras: (KH, KW, C_out, C_in)
    return np.asarray(layer(x))


# --------------------------------------------------------------------------
# conv_matrix
# --------------------------------------------------------------------------

paddings = st.one_of(st.sampled_from(["valid", "same", "full"]), st.integers(0, 2),
                     st.tuples(st.tuples(st.integers(0, 2), st.integers(0, 2)),
                               st.tuples(st.integers(0, 2), st.integers(0, 2))))


@CHECK
@given(h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 4), kw=st.integers(1, 4),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), padding=paddings,
       seed=st.integers(0, 2**16))
def test_conv_matrix_times_x_equals_conv2d(h, w, kh, kw, stride, padding, seed):
    x, k = random_array(seed, (h, w)), random_array(seed + 1, (kh, kw))
    try:
        expected = kernels.conv2d(x, k, stride=stride, padding=padding)
    except ValueError:  # kernel larger than the padded input
        with pytest.raises(ValueError, match="larger than the padded input"):
            transposed.conv_matrix(k, (h, w), stride=stride, padding=padding)
        return
    c = transposed.conv_matrix(k, (h, w), stride=stride, padding=padding)
    assert c.shape == (expected.size, h * w)
    np.testing.assert_allclose(c @ x.ravel(), expected.ravel(), **TIGHT)


def test_conv_matrix_of_the_lesson_is_4_by_16_with_the_kernel_in_each_row():
    k = np.arange(1.0, 10.0).reshape(3, 3)
    c = transposed.conv_matrix(k, (4, 4))
    assert c.shape == (4, 16)
    # output cell (0, 0): kernel rows in input columns 0-2, 4-6, 8-10
    np.testing.assert_array_equal(c[0], [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(c[3], np.roll(c[0], 5))


def test_conv_matrix_transpose_gives_conv_transpose2d():
    rng = np.random.default_rng(3)
    k, y = rng.normal(size=(3, 3)), rng.normal(size=(2, 2))
    c = transposed.conv_matrix(k, (4, 4))
    np.testing.assert_allclose((c.T @ y.ravel()).reshape(4, 4),
                               transposed.conv_transpose2d(y, k), **TIGHT)


# --------------------------------------------------------------------------
# conv_transpose2d
# --------------------------------------------------------------------------

@st.composite
def transpose_cases(draw):
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    seed = draw(st.integers(0, 2**16))
    x = random_array(seed, (n, h, w, c_in))
    kernel = random_array(seed + 1, (kh, kw, c_in, c_out))
    bias = random_array(seed + 2, (c_out,))
    return x, kernel, bias, stride, padding


@CHECK
@given(transpose_cases())
def test_conv_transpose2d_matches_keras_conv2d_transpose(case):
    x, kernel, bias, stride, padding = case
    got = transposed.conv_transpose2d(x, kernel, bias, stride=stride, padding=padding)
    expected = keras_conv_transpose(x, kernel, bias, stride, padding)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


@CHECK
@given(n=st.integers(1, 9), k=st.integers(1, 6), s=st.integers(1, 4),
       padding=st.sampled_from(["valid", "same"]))
def test_output_size_formula(n, k, s, padding):
    size = transposed.conv_transpose_output_size(n, k, s, padding)
    expected = n * s if padding == "same" else (n - 1) * s + k if k >= s else n * s
    assert size == expected
    assert transposed.conv_transpose2d(np.ones((n, 1)), np.ones((k, 1)), stride=(s, 1),
                                       padding=padding).shape[0] == size


@CHECK
@given(transpose_cases())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    """<conv2d(x, K), y> == <x, conv_transpose2d(y, K with channels swapped)>."""
    y, kernel, _, stride, padding = case
    w_t = kernel.transpose(0, 1, 3, 2)  # conv2d kernel: (KH, KW, C_out_t, C_in_t)
    n, h, w, _ = y.shape
    out_h, out_w = (transposed.conv_transpose_output_size(size, k, s, padding)
                    for size, k, s in zip((h, w), kernel.shape[:2], stride))
    x = random_array(7, (n, out_h, out_w, kernel.shape[3]))
    forward = kernels.conv2d(x, w_t, stride=stride, padding=padding)
    assert forward.shape == y.shape
    lhs = np.sum(forward * y)
    rhs = np.sum(x * transposed.conv_transpose2d(y, kernel, stride=stride, padding=padding))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)


@CHECK
@given(h=st.integers(1, 5), w=st.integers(1, 5), k=st.integers(1, 4), s=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_conv_transpose2d_is_a_full_convolution_of_the_spread_input(h, w, k, s, seed):
    """Zeros between the cells, "full" padding, flipped kernel: the same numbers."""
    x, kernel = random_array(seed, (h, w)), random_array(seed + 1, (k, k))
    spread = transposed.insert_zeros(x, s)
    via_conv = kernels.conv2d(spread, kernel[::-1, ::-1], padding="full")
    got = transposed.conv_transpose2d(x, kernel, stride=s)
    np.testing.assert_allclose(got[:via_conv.shape[0], :via_conv.shape[1]], via_conv, **TIGHT)
    assert np.all(got[via_conv.shape[0]:] == 0) and np.all(got[:, via_conv.shape[1]:] == 0)


def test_single_image_form_and_float32():
    x = np.ones((2, 2), dtype=np.float32)
    out = transposed.conv_transpose2d(x, np.ones((3, 3)), 1.0, stride=2)
    assert out.shape == (5, 5) and out.dtype == np.float32
    assert out[2, 2] == 5.0  # four windows overlap in the centre, plus the bias


def test_insert_zeros_batch_form():
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    out = transposed.insert_zeros(x, (2, 3))
    assert out.shape == (1, 3, 4, 2)
    np.testing.assert_array_equal(out[0, ::2, ::3], x[0])
    assert out.sum() == x.sum()


def test_overlap_counts_checkerboard_for_kernel_3_and_even_for_kernel_4():
    odd = transposed.overlap_counts(8, 3, stride=2)
    along = np.array([sum(1 for p in range(8) if 2 * p <= i < 2 * p + 3) for i in range(16)])
    np.testing.assert_array_equal(odd, np.outer(along, along))
    even = transposed.overlap_counts(8, 4, stride=2)
    assert np.all(even[2:-2, 2:-2] == 4)


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------

def test_kernel_ndim_must_match_x():
    with pytest.raises(ValueError, match="`kernel` must have shape"):
        transposed.conv_transpose2d(np.ones((2, 2)), np.ones((3, 3, 1, 1)))


def test_channel_mismatch_names_the_keras_layout():
    with pytest.raises(ValueError, match=r"C_in=2 .*transpose\(0, 1, 3, 2\)"):
        transposed.conv_transpose2d(np.ones((1, 2, 2, 3)), np.ones((3, 3, 2, 3)))


def test_unknown_padding():
    with pytest.raises(ValueError, match="`padding` must be one of 'valid', 'same'"):
        transposed.conv_transpose2d(np.ones((2, 2)), np.ones((3, 3)), padding="full")


def test_stride_must_be_positive_int():
    with pytest.raises(ValueError, match="`stride` must be at least 1"):
        transposed.conv_transpose2d(np.ones((2, 2)), np.ones((3, 3)), stride=0)
    with pytest.raises(TypeError, match="`stride` must be an integer"):
        transposed.conv_transpose2d(np.ones((2, 2)), np.ones((3, 3)), stride=1.5)


def test_bias_shape():
    with pytest.raises(ValueError, match=r"`bias` must be a number or shape \(2,\)"):
        transposed.conv_transpose2d(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 2)), bias=[1, 2, 3])


def test_non_finite_input():
    with pytest.raises(ValueError, match="`x` must hold finite numbers"):
        transposed.conv_transpose2d([[np.nan, 1], [1, 1]], np.ones((3, 3)))


def test_empty_input():
    with pytest.raises(ValueError, match="`x` must not be empty"):
        transposed.conv_transpose2d(np.ones((0, 2)), np.ones((3, 3)))


def test_conv_matrix_needs_a_2d_kernel():
    with pytest.raises(ValueError, match="`kernel` must have 2 dimensions"):
        transposed.conv_matrix(np.ones((3, 3, 1, 1)), (4, 4))


def test_conv_matrix_input_shape():
    with pytest.raises(ValueError, match="`input_shape` must be an int or a pair"):
        transposed.conv_matrix(np.ones((3, 3)), (4, 4, 1))


def test_conv_matrix_kernel_too_large():
    with pytest.raises(ValueError, match="larger than the padded input"):
        transposed.conv_matrix(np.ones((5, 5)), (4, 4))


def test_output_size_rejects_bad_padding():
    with pytest.raises(ValueError, match="`padding` must be one of"):
        transposed.conv_transpose_output_size(4, 3, 2, "full")
