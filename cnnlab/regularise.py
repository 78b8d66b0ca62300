"""Dropout and batch normalisation written out in numpy (lesson 08).

- :func:`inverted_dropout` switches off a random part of the activations
  while training and scales the rest up, so that the expected activation is
  unchanged and nothing needs rescaling at test time (Keras's ``Dropout``).
- :func:`batch_norm_forward` normalises every channel with the batch's mean
  and variance while training and with running averages of them at test time
  (Keras's ``BatchNormalization``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import as_array, check_finite_result, describe

__all__ = ["inverted_dropout", "batch_norm_forward"]


def inverted_dropout(a, keep_prob, rng):
    """Keep each activation with probability ``keep_prob`` and divide it by ``keep_prob``.

    Parameters
    ----------
    a : array_like, any shape
        Activations of one layer for a batch.
    keep_prob : float in (0, 1]
        Chance that a unit is kept (``keep_prob = 1 - rate`` of
        ``keras.layers.Dropout(rate)``).
    rng : numpy.random.Generator
        Source of the random mask.

    Returns
    -------
    out : ndarray, the shape of ``a``
        ``a * mask / keep_prob``: dropped units are 0, kept ones are scaled up
        so that ``E[out] = a``.
    mask : bool ndarray, the shape of ``a``
        True where the unit was kept (the backward pass multiplies the
        gradient by ``mask / keep_prob`` too).
    """
    a = as_array(a, "a")
    if isinstance(keep_prob, bool) or not isinstance(keep_prob, numbers.Real) \
            or not math.isfinite(keep_prob):
        raise TypeError(f"`keep_prob` must be a number in (0, 1], got {describe(keep_prob)}")
    if not 0 < keep_prob <= 1:
        raise ValueError(f"`keep_prob` must be in (0, 1], got {keep_prob}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"`rng` must be a numpy.random.Generator (np.random.default_rng(seed)), got {describe(rng)}"
        )
    if a.dtype.type(keep_prob) == 0:
        raise ValueError(f"`keep_prob` = {keep_prob:g} is 0 in the {a.dtype} of `a`; use a "
                         "larger `keep_prob` (or `a` as float64)")
    mask = rng.random(a.shape) < keep_prob  # True for about keep_prob of the units
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        out = a * mask / a.dtype.type(keep_prob)  # scale up the survivors
    check_finite_result(out, "`a` and `keep_prob`", what="`a / keep_prob`")
    return out, mask


def batch_norm_forward(x, gamma, beta, *, training, running_mean, running_var,
                       momentum=0.99, eps=1e-3):
    """Batch normalisation over every axis but the last (the channels).

    Training: each channel is normalised with the mean and (biased) variance
    of the batch, and the running averages move towards them::

        mu, var = mean(x), var(x)                     # per channel, over N, H, W
        out = gamma * (x - mu) / sqrt(var + eps) + beta
        running_mean <- momentum * running_mean + (1 - momentum) * mu
        running_var  <- momentum * running_var  + (1 - momentum) * var

    Inference: the running averages replace ``mu`` and ``var``, so an
    example's output no longer depends on the rest of its batch.

    Parameters
    ----------
    x : (N, C) or (N, H, W, C) array_like
    gamma, beta : (C,) array_like
        Learned scale and shift of every channel.
    training : bool
    running_mean, running_var : (C,) array_like
        Running averages from earlier batches (start with zeros and ones).
    momentum : float in [0, 1)
        Keras's ``momentum`` (default 0.99).
    eps : float
        Keras's ``epsilon`` (default 1e-3).

    Returns
    -------
    out : ndarray, the shape of ``x``
    running_mean, running_var : (C,) ndarray
        The updated averages while training; unchanged copies otherwise.
    """
    x = as_array(x, "x", ndims=(2, 4))
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"`training` must be True or False, got {describe(training)}")
    c = x.shape[-1]
    gamma, beta, running_mean, running_var = (
        _channel_vector(v, name, c, x.dtype) for v, name in
        ((gamma, "gamma"), (beta, "beta"), (running_mean, "running_mean"), (running_var, "running_var")))
    if np.any(running_var < 0):
        raise ValueError("`running_var` must not be negative")
    momentum = _check_momentum(momentum)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < math.inf:
        raise ValueError(f"`eps` must be a positive number, got {describe(eps)}")
    axes = tuple(range(x.ndim - 1))  # every axis but the channels
    if training:
        if math.prod(x.shape[:-1]) == 0:
            raise ValueError("`x` must hold at least one example (and one cell per channel) to "
                             f"compute batch statistics, got shape {x.shape}")
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
            mu, var = x.mean(axis=axes), x.var(axis=axes)  # (C,), (C,)
        check_finite_result(var, "`x`", what="the variance of a channel")
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mu, var = running_mean, running_var
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        out = gamma * (x - mu) / np.sqrt(var + eps) + beta  # broadcast over the last axis
    check_finite_result(out, "`x`, `gamma` and `beta`", what="the normalised output")
    return out, running_mean, running_var


def _channel_vector(value, name, c, dtype):
    v = as_array(value, name)
    if v.shape != (c,):
        raise ValueError(f"`{name}` must have shape ({c},), one value per channel of `x`, got {v.shape}")
    return v.astype(dtype, copy=True)


def _check_momentum(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`momentum` must be a number in [0, 1), got {describe(value)}")
    return float(value)
