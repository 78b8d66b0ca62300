"""Activation functions in numpy (lessons 06 and 07).

Each one is applied cell by cell (``softmax`` along one axis) and keeps the
shape of its input: float32 in, float32 out; anything else comes back as
float64. They match ``keras.activations`` and are also available from
:mod:`cnnlab.kernels`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import as_array, check_finite_result, check_int, describe

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax"]


def relu(x):
    """Rectified linear unit: ``max(x, 0)``.

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    ndarray, same shape
    """
    x = as_array(x, "x")
    return np.maximum(x, 0)


def leaky_relu(x, alpha=0.2):
    """``x`` where positive, ``alpha * x`` elsewhere.

    ``alpha`` is Keras 3's ``negative_slope`` (default 0.2).
    """
    x = as_array(x, "x")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not math.isfinite(alpha):
        raise TypeError(f"`alpha` must be a finite number, got {describe(alpha)}")
    if alpha < 0:
        raise ValueError(f"`alpha` must be at least 0, got {alpha}")
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        out = np.where(x >= 0, x, x * x.dtype.type(alpha))
    return check_finite_result(out, "`x` and `alpha`", what="`alpha * x`")


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))``, squashing into (0, 1).

    Computed without overflow for large ``|x|``.
    """
    x = as_array(x, "x")
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def tanh(x):
    """Hyperbolic tangent, squashing into (-1, 1)."""
    return np.tanh(as_array(x, "x"))


def gelu(x):
    """Gaussian error linear unit, exact form: ``x * Phi(x)``.

    Introduced in lesson 06. ``Phi`` is the standard normal distribution
    function, so ``gelu(x) = 0.5 * x * (1 + erf(x / sqrt(2)))``: close to 0
    for very negative ``x`` (its minimum is about -0.17, near ``x = -0.75``),
    close to ``x`` for large ``x``, and smooth at 0 where ReLU has its kink.
    It is ``keras.activations.gelu(x, approximate=False)``.

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    ndarray, same shape
    """
    from scipy.special import erf  # imported on first use: `import cnnlab` stays quick

    x = as_array(x, "x")
    half = x.dtype.type(0.5)
    return half * x * (1 + erf(x / x.dtype.type(math.sqrt(2.0))))


def softmax(x, axis=-1):
    """Turn scores into probabilities that sum to 1 along ``axis``.

    Parameters
    ----------
    x : array_like, at least 1 dimension
    axis : int
        The axis holding the classes (the last one by default).

    Returns
    -------
    ndarray, same shape
        ``exp(x) / sum(exp(x))`` along ``axis``, computed after subtracting the
        maximum so that large scores do not overflow.
    """
    x = as_array(x, "x")
    axis = check_int(axis, "axis")
    if x.ndim == 0:
        raise ValueError("`x` must have at least 1 dimension for softmax, got a single number")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"`axis` must be between {-x.ndim} and {x.ndim - 1} for `x` of shape {x.shape}, got {axis}"
        )
    if x.shape[axis] == 0:
        raise ValueError(
            f"`x` must hold at least one score along `axis` {axis} (the classes), got shape {x.shape}"
        )
    with np.errstate(over="ignore"):  # a score far below the maximum becomes -inf: exp gives 0
        e = np.exp(x - x.max(axis=axis, keepdims=True))  # largest score becomes exp(0) = 1
    return e / e.sum(axis=axis, keepdims=True)
