"""Many maps in one picture: what the explorers with a map per channel send to the browser.

Shared by the explorers of :mod:`cnnlab.widgets`. Every picture the kernel
changes costs a message through the widget protocol and a decode in the
browser, so an explorer that shows tens of maps sends them as one PNG: each
layer's maps side by side (:func:`maps_rgba`), the layers one above the
other (:func:`stack_rgba`), encoded once (:func:`rgba_png`).
"""

from __future__ import annotations

import functools
import io

import matplotlib
import numpy as np
from PIL import Image

MAX_MAPS = 64          # maps in one block
MAX_MAP_SIDE = 64      # values along one side of a map


@functools.lru_cache(maxsize=16)
def colour_table(cmap: str) -> np.ndarray:
    """The 256 RGB colours of a matplotlib colour map, (256, 3) uint8."""
    return matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, 256), bytes=True)[:, :3]


def maps_rgba(pictures, cmap: str, vmin: float, vmax: float, *, pixels: int = 1,
              columns: int = 8, gap: int = 3) -> np.ndarray:
    """Maps of one shape side by side on one fixed colour scale, as RGBA.

    Each value becomes a ``pixels x pixels`` block coloured through ``cmap``
    (``vmin`` its first colour, ``vmax`` its last, values outside clipped);
    the maps fill rows of ``columns``, ``gap`` transparent pixels apart.

    Parameters
    ----------
    pictures : list of (h, w) ndarray
        1 to 64 maps of one shape, at most 64x64.
    cmap : str
    vmin, vmax : float
        ``vmin < vmax``.
    pixels, columns, gap : int

    Returns
    -------
    (rows * (h * pixels + gap) - gap, cols * (w * pixels + gap) - gap, 4) ndarray of uint8
        ``rows = ceil(n / columns)``, ``cols = min(n, columns)``.
    """
    n = len(pictures)
    if not 1 <= n <= MAX_MAPS or any(p.shape != pictures[0].shape for p in pictures) \
            or pictures[0].ndim != 2 or max(pictures[0].shape) > MAX_MAP_SIDE:
        raise ValueError(f"`pictures` must be 1 to {MAX_MAPS} maps of one shape (2D), at most "
                         f"{MAX_MAP_SIDE}x{MAX_MAP_SIDE}, got {n} of shapes "
                         f"{sorted({p.shape for p in pictures})}")
    if not vmin < vmax:
        raise ValueError(f"`vmin` ({vmin:g}) must be smaller than `vmax` ({vmax:g})")
    h, w = pictures[0].shape
    rows, cols = -(-n // columns), min(n, columns)
    step_y, step_x = h * pixels + gap, w * pixels + gap
    out = np.zeros((rows * step_y - gap, cols * step_x - gap, 4), np.uint8)   # transparent
    values = np.stack(pictures).astype(np.float64)                       # (n, h, w)
    index = np.clip((values - vmin) * (255.0 / (vmax - vmin)) + 0.5, 0, 255)
    rgb = colour_table(cmap)[index.astype(np.uint8)]                     # (n, h, w, 3)
    rgb = np.repeat(np.repeat(rgb, pixels, axis=1), pixels, axis=2)      # (n, h*p, w*p, 3)
    for k in range(n):
        y, x = (k // columns) * step_y, (k % columns) * step_x
        out[y:y + h * pixels, x:x + w * pixels, :3] = rgb[k]
        out[y:y + h * pixels, x:x + w * pixels, 3] = 255
    return out


def stack_rgba(blocks, gap: int) -> tuple[np.ndarray, list[int]]:
    """RGBA blocks one above the other, left-aligned, ``gap`` transparent rows apart.

    Parameters
    ----------
    blocks : list of (h_i, w_i, 4) ndarray of uint8
    gap : int

    Returns
    -------
    picture : (sum(h_i) + gap * (n - 1), max(w_i), 4) ndarray of uint8
    tops : list of int
        The first row of each block in ``picture``.
    """
    height = sum(b.shape[0] for b in blocks) + gap * (len(blocks) - 1)
    out = np.zeros((height, max(b.shape[1] for b in blocks), 4), np.uint8)
    tops, y = [], 0
    for block in blocks:
        out[y:y + block.shape[0], :block.shape[1]] = block
        tops.append(y)
        y += block.shape[0] + gap
    return out, tops


def rgba_png(rgba: np.ndarray) -> bytes:
    """An (H, W, 4) uint8 array as PNG bytes (fast, light compression)."""
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
