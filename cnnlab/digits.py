"""A drawn digit made to look like an MNIST digit (lesson 09, the drawing pad).

MNIST's digits were prepared by LeCun, Cortes and Burges from NIST's black
and white scans in three steps, and :func:`mnist_style` repeats them on any
grey picture (a drawing on a 280x280 canvas, a photo of a digit):

1. the digit is cropped to its bounding box and scaled, keeping its aspect
   ratio, so that its longer side is 20 pixels; the scaling averages the
   pixels (anti-aliasing), which turns the black and white ink into grey
   levels;
2. the 20-pixel box is placed in a 28x28 picture so that the digit's centre
   of mass (the brightness-weighted mean pixel position) lands on pixel
   (14, 14), the point the MNIST digits are centred on;
3. the brightest pixel is 1, as MNIST's brightest pixels are 255.

A network trained on MNIST sees a digit only this way: one drawn small in a
corner, or twice as large, looks the same to it once prepared.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ._validate import as_array, describe

__all__ = ["mnist_style", "centre_of_mass", "MNIST_SIDE", "MNIST_BOX", "MNIST_CENTRE",
           "MAX_DIGIT_SIDE", "INK_LEVEL"]

MNIST_SIDE = 28           # side of an MNIST picture
MNIST_BOX = 20            # the digit's longer side in it
MNIST_CENTRE = 14.0       # row and column its centre of mass is moved to
MAX_DIGIT_SIDE = 560      # largest picture mnist_style takes (twice a 280x280 canvas)
INK_LEVEL = 0.2           # pixels this bright (times the brightest) count as ink for the box


def mnist_style(image) -> np.ndarray:
    """Prepare a grey picture of one digit as MNIST's digits were prepared.

    Introduced in lesson 09 (the drawing pad). Crop to the ink's bounding box
    (pixels at least ``INK_LEVEL`` times the brightest), scale so that the
    longer side is ``MNIST_BOX`` (20) pixels keeping the aspect ratio
    (averaging pixels, as a bilinear reduction does), place in a 28x28
    picture with the centre of mass on pixel (14, 14) (the nearest whole
    pixel shift), and divide by the brightest value. A blank picture (all 0)
    gives a blank 28x28 picture.

    Parameters
    ----------
    image : (H, W) array_like
        Brightness in [0, 1] (white ink = 1 on black = 0), or uint8 pixels
        0-255; 1x1 to ``MAX_DIGIT_SIDE`` x ``MAX_DIGIT_SIDE`` (560x560).

    Returns
    -------
    (28, 28) ndarray of float32
        Brightness in [0, 1], largest value 1 (or all 0 for a blank picture).

    Examples
    --------
    >>> pad = np.zeros((280, 280)); pad[40:240, 130:150] = 1.0     # a "1"
    >>> x = mnist_style(pad)
    >>> x.shape, float(x.max())
    ((28, 28), 1.0)
    """
    x = _check_picture(image)                                        # (H, W) float64
    out = np.zeros((MNIST_SIDE, MNIST_SIDE), np.float32)
    brightest = float(x.max())
    if brightest <= 0:
        return out                                                   # nothing drawn
    rows = np.flatnonzero((x >= INK_LEVEL * brightest).any(axis=1))
    cols = np.flatnonzero((x >= INK_LEVEL * brightest).any(axis=0))
    crop = x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] / brightest  # (h, w)
    box = _scale_to_box(crop)                                        # (<=20, <=20), max side 20
    r, c = centre_of_mass(box)
    top, left = int(round(MNIST_CENTRE - r)), int(round(MNIST_CENTRE - c))
    _paste(out, box, top, left)
    peak = float(out.max())
    return out / peak if peak > 0 else out


def centre_of_mass(image) -> tuple[float, float]:
    """The brightness-weighted mean (row, column) of a picture.

    Parameters
    ----------
    image : (H, W) array_like
        Non-negative brightness, not all 0.

    Returns
    -------
    (float, float)
        ``(sum(i * x[i, j]) / sum(x), sum(j * x[i, j]) / sum(x))``, in pixels
        from the top-left pixel's centre.
    """
    x = as_array(image, "image", ndims=2)
    total = float(x.sum()) if x.size else 0.0
    if x.size and x.min() < 0:
        raise ValueError(f"`image` must hold non-negative brightness, got values down to "
                         f"{float(x.min()):g}")
    if total <= 0:
        raise ValueError("`image` must hold some brightness: a blank picture has no centre "
                         "of mass")
    rows = np.arange(x.shape[0]) @ x.sum(axis=1) / total
    cols = np.arange(x.shape[1]) @ x.sum(axis=0) / total
    return float(rows), float(cols)


def _check_picture(image) -> np.ndarray:
    """``image`` as (H, W) float64 brightness in [0, 1] (uint8 pixels divided by 255)."""
    integers = isinstance(image, np.ndarray) and np.issubdtype(image.dtype, np.integer)
    x = as_array(image, "image", ndims=2).astype(np.float64)
    if 0 in x.shape or max(x.shape) > MAX_DIGIT_SIDE:
        raise ValueError(f"`image` must be 1x1 to {MAX_DIGIT_SIDE}x{MAX_DIGIT_SIDE} pixels, "
                         f"got shape {x.shape}")
    if integers:
        if x.min() < 0 or x.max() > 255:
            raise ValueError(f"`image` of integers must hold pixels 0-255, got values from "
                             f"{x.min():g} to {x.max():g}")
        return x / 255.0
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"`image` must hold brightness from 0 to 1 (or uint8 pixels 0-255), "
                         f"got values from {x.min():g} to {x.max():g} ({describe(image)})")
    return x


def _scale_to_box(crop: np.ndarray) -> np.ndarray:
    """``crop`` (h, w) resized, aspect kept, so that its longer side is ``MNIST_BOX``."""
    h, w = crop.shape
    factor = MNIST_BOX / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))   # PIL: (width, height)
    picture = Image.fromarray(crop.astype(np.float32))             # mode "F"
    small = picture.resize(size, Image.Resampling.BILINEAR)          # averages when reducing
    return np.clip(np.asarray(small, dtype=np.float64), 0.0, 1.0)    # (h', w')


def _paste(out: np.ndarray, box: np.ndarray, top: int, left: int) -> None:
    """Write ``box`` into ``out`` with its top-left pixel at (top, left), clipped to ``out``."""
    h, w = box.shape
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, out.shape[0]), min(left + w, out.shape[1])
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = box[r0 - top:r1 - top, c0 - left:c1 - left]
