"""cnnlab.activations.gelu (lesson 06) against keras.activations.gelu, exact (erf) form."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab.activations import gelu

CHECK = settings(max_examples=20, deadline=None, derandomize=True)


def keras_gelu(x):
    return keras.ops.convert_to_numpy(keras.activations.gelu(x, approximate=False))


@CHECK
@given(seed=st.integers(0, 2**16), n=st.integers(1, 50), scale=st.sampled_from([0.1, 1.0, 5.0]))
def test_gelu_matches_keras_exact_gelu_on_random_inputs(seed, n, scale):
    x = np.random.default_rng(seed).standard_normal((n, 3)) * scale
    # TensorFlow's float64 erf is off by about 1e-8 (gelu agrees with math.erf to 1e-14)
    np.testing.assert_allclose(gelu(x), keras_gelu(x), rtol=1e-6, atol=1e-9)


def test_gelu_float32_matches_keras_and_stays_float32():
    x = np.random.default_rng(0).uniform(-6, 6, size=(4, 5, 5, 2)).astype(np.float32)
    out = gelu(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out, keras_gelu(x), rtol=1e-6, atol=1e-7)


def test_gelu_differs_from_the_tanh_approximation():
    """The exact form, not Keras's default approximate=True (they differ by ~1e-4)."""
    x = np.linspace(-3, 3, 61)
    approx = keras.ops.convert_to_numpy(keras.activations.gelu(x, approximate=True))
    assert np.max(np.abs(gelu(x) - approx)) > 1e-5


def test_gelu_known_values_from_the_formula():
    for v in (-3.0, -0.75, 0.0, 0.5, 2.0):
        expected = 0.5 * v * (1 + math.erf(v / math.sqrt(2)))
        assert gelu(v) == pytest.approx(expected, rel=1e-14, abs=1e-15)
    np.testing.assert_allclose(gelu([-1e300, 1e300]), [0.0, 1e300])   # no overflow


def test_gelu_refuses_strings_and_nan():
    with pytest.raises(TypeError, match="`x` must hold numbers"):
        gelu(["a"])
    with pytest.raises(ValueError, match="`x` must hold finite numbers"):
        gelu([np.nan])
