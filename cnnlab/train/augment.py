"""Data augmentation for the course's training loops (lessons 09 and 11).

:func:`augment_images` gives every training image a fresh random shift (zero
fill) and, optionally, a left-right flip; the trainers call it once per
epoch, on the whole training set, before the epoch's shuffle. Lesson 10
shows what it does to a few Fashion-MNIST pictures.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_allocation, check_flag, check_int, describe

__all__ = ["MAX_SHIFT", "augment_images"]

MAX_SHIFT = 2                # random shifts of up to 2 pixels each way


def augment_images(x, rng, *, max_shift=MAX_SHIFT, flip=True) -> np.ndarray:
    """Random shifts (zero fill) and left-right flips of a stack of images.

    Parameters
    ----------
    x : (N, H, W, C) ndarray
    rng : numpy Generator
    max_shift : int
        Each image moves by a random whole number of pixels in ``[-max_shift, max_shift]``
        along each axis.
    flip : bool
        Mirror half of the images left to right.

    Returns
    -------
    (N, H, W, C) ndarray, same dtype

    Notes
    -----
    Image ``i`` is the window ``padded[i, r_i:r_i + H, c_i:c_i + W]`` of the
    image padded with ``max_shift`` zeros on every side, ``r_i`` and ``c_i``
    drawn in ``0 .. 2 * max_shift``. The windows are copied one offset at a
    time (at most ``(2 * max_shift + 1) ** 2`` slices of the whole stack), not
    one image at a time.
    """
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError(f"`x` must be a 4D array of images (N, H, W, C), got {describe(x)}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy Generator (np.random.default_rng(seed)), got "
                        f"{describe(rng)}")
    n, h, w, c = x.shape
    s = check_int(max_shift, "max_shift", minimum=0)
    if s > max(h, w):
        raise ValueError(f"`max_shift` must be at most the image side {max(h, w)}, got {s}")
    flip = check_flag(flip, "flip")
    check_allocation((n, h + 2 * s, w + 2 * s, c), "max_shift", itemsize=x.itemsize,
                     what="the padded images")
    rows = rng.integers(0, 2 * s + 1, size=n)                          # (N,) top of each window
    cols = rng.integers(0, 2 * s + 1, size=n)                          # (N,) left of each window
    if s == 0:
        out = x.copy()
    else:
        padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)))           # (N, H+2s, W+2s, C)
        out = np.empty_like(x)
        for r in range(2 * s + 1):
            for q in range(2 * s + 1):
                chosen = np.flatnonzero((rows == r) & (cols == q))     # images with this offset
                out[chosen] = padded[chosen, r:r + h, q:q + w]
    if flip:
        mirror = rng.random(n) < 0.5
        out[mirror] = out[mirror, :, ::-1]
    return out
