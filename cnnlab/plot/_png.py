"""A 2D array as PNG bytes through a colour map, without a matplotlib figure.

The fast path of the widgets: every redraw of an explorer's picture is one
call of :func:`array_to_png`, replacing the value of an ``ipywidgets.Image``.
The callers give the fixed range to draw (``vmin``, ``vmax``, ``cmap`` of a
:class:`~cnnlab.plot.ColourScale`); a colour bar is :func:`colour_bar_png`.
"""

from __future__ import annotations

import io

import matplotlib
import numpy as np
from PIL import Image

from .._validate import as_array, check_int, describe
from ._checks import check_number

__all__ = ["array_to_png", "colour_bar_png", "MAX_PNG_PIXELS"]

MAX_PNG_PIXELS = 4096 * 4096

_LUTS: dict[str, tuple[np.ndarray, bool]] = {}


def _lookup_table(cmap) -> tuple[np.ndarray, bool]:
    """256-entry RGB table of a colour map, and whether it is grey (R = G = B)."""
    if isinstance(cmap, str) and cmap in _LUTS:
        return _LUTS[cmap]
    if isinstance(cmap, matplotlib.colors.Colormap):
        colormap = cmap
    else:
        try:
            colormap = matplotlib.colormaps[cmap]
        except (KeyError, TypeError):
            raise ValueError(
                f"`cmap` must be a matplotlib colour map name such as 'gray' or 'viridis', "
                f"got {describe(cmap)}"
            ) from None
    lut = colormap(np.linspace(0.0, 1.0, 256), bytes=True)[:, :3]        # (256, 3) uint8
    entry = (lut, bool(np.all(lut == lut[:, :1])))
    if isinstance(cmap, str):
        _LUTS[cmap] = entry
    return entry


def array_to_png(a, *, cmap="gray", vmin=None, vmax=None, scale=1) -> bytes:
    """Encode a 2D array as PNG bytes through a colour map, without a figure.

    Introduced in lesson 01 (behind the widgets). Values are mapped linearly
    from ``[vmin, vmax]`` onto the colour map's 256 colours (values outside
    are clipped), so the first colour stands for ``vmin`` and the last for
    ``vmax``. A constant array with an automatic range gets the first colour.
    Grey colour maps give an 8-bit grey PNG, others RGB.

    Parameters
    ----------
    a : (H, W) array_like
    cmap : str or Colormap
    vmin, vmax : float, optional
        Value range. By default the array's minimum and maximum: a stretch
        that makes every map span black to white whatever its values, so
        callers drawing a feature map pass a fixed range (the course's
        explorers take it from :func:`feature_map_range` or
        :func:`data_scale`; ``ColourScale.legend()`` says it in words).
    scale : int
        Each value becomes a ``scale x scale`` block of pixels (nearest
        neighbour); the image may have at most ``MAX_PNG_PIXELS`` (4096 x 4096)
        pixels.

    Returns
    -------
    bytes
        A PNG image of ``W * scale`` by ``H * scale`` pixels.
    """
    a = as_array(a, "a", ndims=2)
    if a.size == 0:
        raise ValueError(f"`a` must not be empty, got shape {a.shape}")
    scale = check_int(scale, "scale", minimum=1)
    h, w = a.shape
    if h * w * scale * scale > MAX_PNG_PIXELS:
        name = "`scale`" if scale > 1 else "`a`"
        raise ValueError(
            f"{name}: a {h}x{w} array at scale {scale} would make a {w * scale}x{h * scale} "
            f"image; keep it under {MAX_PNG_PIXELS:,} pixels (4096 x 4096)"
        )
    lut, grey = _lookup_table(cmap)
    lo = float(a.min()) if vmin is None else check_number(vmin, "vmin")
    hi = float(a.max()) if vmax is None else check_number(vmax, "vmax")
    if hi < lo:
        raise ValueError(f"`vmin` ({lo}) must not be larger than `vmax` ({hi})")
    if hi > lo:
        index = np.clip((a - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)  # (H, W)
    else:
        index = np.zeros(a.shape, np.uint8)
    pixels = lut[index, 0] if grey else lut[index]               # (H, W) or (H, W, 3)
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if scale > 1:
        image = image.resize((w * scale, h * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def colour_bar_png(vmin, vmax, *, cmap="gray", width=256, height=12) -> bytes:
    """A horizontal colour bar from ``vmin`` (left) to ``vmax`` (right) as PNG bytes.

    Parameters
    ----------
    vmin, vmax : float
        ``vmin < vmax``; the ends of the scale it shows.
    cmap : str or Colormap
    width, height : int
        Pixels, 2 to 1024 and 1 to 64.

    Returns
    -------
    bytes
        A ``width`` x ``height`` PNG, the colours of :func:`array_to_png` for
        ``width`` values evenly spaced from ``vmin`` to ``vmax``.
    """
    lo, hi = check_number(vmin, "vmin"), check_number(vmax, "vmax")
    if not lo < hi:
        raise ValueError(f"`vmin` ({lo:g}) must be smaller than `vmax` ({hi:g})")
    width, height = check_int(width, "width", minimum=2), check_int(height, "height", minimum=1)
    if width > 1024 or height > 64:
        raise ValueError(f"`width` and `height` must be at most 1024 and 64 pixels, got "
                         f"{width} and {height}")
    ramp = np.tile(np.linspace(lo, hi, width), (height, 1))             # (height, width)
    return array_to_png(ramp, cmap=cmap, vmin=lo, vmax=hi)
