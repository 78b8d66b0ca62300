"""The inputs :mod:`cnnlab.checks` tries a learner's function on.

Deterministic (fixed seeds), small enough to print in a message, with
asymmetric kernels so that a flipped kernel cannot pass, and integer values
(one fractional case) so that sums are exact and easy to follow by hand.
"""

from __future__ import annotations

import numpy as np


def conv_cases(dims, channels, with_bias, strides, paddings):
    """(x, k, bias, stride, padding) tuples, from the lesson's example to odd shapes."""
    # (input size, kernel size); the first is the lesson's example
    sizes = [(8, 3), (6, 3), (7, 2), (6, 1), (4, 4), (9, 4)]
    if dims == 2:
        sizes = [((8, 8), (3, 3)), ((6, 6), (3, 3)), ((5, 7), (2, 3)), ((6, 6), (1, 1)),
                 ((4, 4), (4, 4)), ((7, 6), (3, 2))]
    cases = []
    if not channels:
        example = (_bump_example() if dims == 1 else _lines_example())
        cases.append((*example, None, 1, 0))
    for i, (n, k) in enumerate(sizes[1:]):
        x, kern = _conv_pair(dims, channels, n, k, seed=i, fractional=(i == len(sizes) - 2))
        cases.append((x, kern, None, 1, 0))
    n, k = sizes[1]
    if with_bias:
        for seed, b in ((10, 0.5), (11, -2.0)):
            x, kern = _conv_pair(dims, channels, n, k, seed=seed)
            bias = np.full(kern.shape[-1], b) + np.arange(kern.shape[-1]) if channels else b
            cases.append((x, kern, bias, 1, 0))
    big = 9 if dims == 1 else (9, 8)  # room for a few strided windows
    for s in (s for s in strides if s != 1):
        x, kern = _conv_pair(dims, channels, big, k, seed=20 + s)
        cases.append((x, kern, None, s, 0))
    for j, p in enumerate(p for p in paddings if p not in (0, "valid")):
        for kk in ((3, 2) if isinstance(p, int) else (3, 4)):
            shape = kk if dims == 1 else (kk, kk if isinstance(p, str) else kk + 1)
            x, kern = _conv_pair(dims, channels, n, shape, seed=30 + 2 * j + kk)
            cases.append((x, kern, None, 1, p))
        if isinstance(p, int) and any(s != 1 for s in strides):
            s = max(strides)
            x, kern = _conv_pair(dims, channels, big, k, seed=60 + j)
            cases.append((x, kern, None, s, p))
    return cases


def _bump_example():
    """Lesson 01's example: the bump signal and the bump detector."""
    from .. import data
    return data.bump_signal(), np.array([0.0, 1.0, 0.0])


def _lines_example():
    """Lesson 02's example: a vertical line and the vertical-line detector."""
    from .. import data, filters
    return data.line_image("vertical", size=8, position=3, thickness=2), filters.get("vertical_line")


def _conv_pair(dims, channels, n, k, *, seed, fractional=False):
    """A random input and an asymmetric kernel (so a flipped kernel shows)."""
    n, k = np.atleast_1d(n), np.atleast_1d(k)
    x_shape, k_shape = tuple(n), tuple(k)
    if channels:
        x_shape, k_shape = (2, *x_shape, 3), (*k_shape, 3, 2)  # (N, ..., C_in), (..., C_in, C_out)
    x = random_array(x_shape, seed, fractional)
    for attempt in range(100):
        kern = random_array(k_shape, seed + 1000 * (attempt + 1), fractional)
        if _asymmetric(kern, dims):
            return x, kern
    raise AssertionError("could not draw an asymmetric kernel")  # internal invariant


def _asymmetric(kern, dims):
    """True when no flip of the spatial axes (that changes anything) leaves it unchanged."""
    if kern.size == 1:
        return np.all(kern != 0)
    flips = [(0,)] if dims == 1 else [(0,), (1,), (0, 1)]
    for axes in flips:
        if all(kern.shape[a] == 1 for a in axes):
            continue
        if np.allclose(np.flip(kern, axes), kern):
            return False
    return np.any(kern != 0)


def random_array(shape, seed, fractional=False):
    """Integers from -3 to 3 as floats, or normal numbers with 2 decimals."""
    rng = np.random.default_rng(seed)
    if fractional:
        return np.round(rng.normal(size=shape), 2)
    return rng.integers(-3, 4, size=shape).astype(float)


def pool_inputs(channels):
    """Pooling inputs: a small readable map, an odd-sized one, an all-negative one."""
    shapes_ = [(4, 4), (6, 6), (5, 7)]
    maps = [random_array(s, seed=70 + i) for i, s in enumerate(shapes_)]
    maps.append(-np.abs(random_array((4, 6), seed=80)) - 1)  # every window negative
    if channels:
        maps = [np.stack([m, m[::-1]], axis=-1)[None] for m in maps]  # (1, H, W, 2)
    return maps
