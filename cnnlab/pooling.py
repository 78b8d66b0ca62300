"""Pooling written out in numpy (lesson 05).

A pooling layer slides a window over every feature map, like a convolution
with no weights, and keeps one number per window: the largest (max pooling),
the mean (average pooling) or the total (sum pooling). Channels are pooled
separately, so the number of maps does not change.

Padding follows Keras: ``"valid"`` keeps only whole windows; ``"same"`` gives
``ceil(n / stride)`` outputs per axis, and the padded cells never win a max
and are not counted in an average. Output sizes follow
:mod:`cnnlab.shapes` (the windows are planned in :mod:`cnnlab._plans`). The
functions are also available from :mod:`cnnlab.kernels`.
"""

from __future__ import annotations

import numpy as np

from ._plans import pad_pool, pool_windows, prepare_pool, window_sums
from ._validate import as_array, check_finite_result

__all__ = ["max_pool2d", "avg_pool2d", "sum_pool2d", "global_avg_pool2d"]


def max_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Largest value of every window.

    Parameters
    ----------
    x : (H, W) or (N, H, W, C) array_like
        One feature map, or a batch of ``C`` maps per example.
    pool_size : int or (int, int)
        Window size (rows, columns).
    stride : int or (int, int), optional
        Step between windows; defaults to ``pool_size`` (windows do not overlap).
    padding : {"valid", "same"}
        Keras's rule; see the module docstring.

    Returns
    -------
    (H_out, W_out) or (N, H_out, W_out, C) ndarray
        ``H_out = floor((H - pool_h) / stride_h) + 1`` for ``"valid"``,
        ``ceil(H / stride_h)`` for ``"same"``.

    Examples
    --------
    >>> max_pool2d([[1, 2, 0, 0], [3, 4, 0, 1], [0, 0, 5, 0], [0, 0, 0, 0]])
    array([[4., 1.],
           [0., 5.]])
    """
    pool = prepare_pool(x, pool_size, stride, padding)
    padded = pad_pool(pool, pool.x, -np.inf)  # padded cells never win
    return _finish(pool_windows(pool, padded).max(axis=(4, 5)), pool)


def sum_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Total of every window (padded cells add nothing).

    Same parameters and shapes as :func:`max_pool2d`.
    """
    pool = prepare_pool(x, pool_size, stride, padding)
    return _finish(_checked(window_sums(pool, pool.x)), pool)


def avg_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Mean of every window, counting only the cells inside the input.

    Same parameters and shapes as :func:`max_pool2d`.
    """
    pool = prepare_pool(x, pool_size, stride, padding)
    sums = window_sums(pool, pool.x)  # (N, H_out, W_out, C)
    ones = np.ones((1, *pool.x.shape[1:3], 1), dtype=pool.x.dtype)  # (1, H, W, 1)
    counts = window_sums(pool, ones)  # (1, H_out, W_out, 1): real cells per window
    means = sums / counts
    if not np.all(np.isfinite(means)):  # the sums overflowed, though no mean can: scale down
        scale = _power_of_two_near(pool.x)
        means = window_sums(pool, pool.x / scale) / counts * scale
    return _finish(_checked(means), pool)


def global_avg_pool2d(x):
    """Mean of every whole feature map: one number per map.

    Parameters
    ----------
    x : (H, W) or (N, H, W, C) array_like

    Returns
    -------
    float or (N, C) ndarray
        The mean of the single map, or of every map of every example (like
        ``keras.layers.GlobalAveragePooling2D``).
    """
    x = as_array(x, "x", ndims=(2, 4))
    if 0 in (x.shape if x.ndim == 2 else x.shape[1:3]):
        raise ValueError(f"`x` must not be empty, got shape {x.shape}")
    with np.errstate(over="ignore", invalid="ignore"):  # the sum may overflow: see below
        means = x.mean(axis=(-3, -2)) if x.ndim == 4 else x.mean()  # (N, C) or scalar
    if not np.all(np.isfinite(means)):  # no mean of finite numbers overflows: scale down
        scale = _power_of_two_near(x)
        means = (x / scale).mean(axis=(-3, -2)) * scale if x.ndim == 4 else (x / scale).mean() * scale
    return check_finite_result(means, "`x`", what="the mean")


def _power_of_two_near(x):
    """A power of two near ``max(|x|)``: dividing by it is exact and keeps sums finite."""
    return x.dtype.type(np.exp2(np.floor(np.log2(np.max(np.abs(x))))))


def _checked(out):
    """``out``, unless the sums overflowed (finite inputs, infinite totals)."""
    return check_finite_result(out, "`x`", what="the sum of a window")


def _finish(out, pool):
    return out[0, :, :, 0] if pool.single else out
