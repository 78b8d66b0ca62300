"""The off-screen figure the explorers of lessons 03 and 05 draw their pictures on."""

from __future__ import annotations

import io
from collections import OrderedDict

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["FigurePNG", "PictureCache", "figure_png", "PICTURE_DPI", "PICTURE_CELL_INCHES",
           "PICTURE_MAX_INCHES", "PICTURE_TITLE_INCHES", "PICTURE_CACHE_SIZE"]

PICTURE_DPI = 80
PICTURE_CELL_INCHES = 0.42        # one cell of the arithmetic / pooling pictures
PICTURE_MAX_INCHES = 9.0          # widest picture; cells shrink to fit
PICTURE_TITLE_INCHES = 0.4
PICTURE_CACHE_SIZE = 64           # pictures an explorer keeps (a few MB at most)


def figure_png(figure: Figure, draw: bool = True) -> bytes:
    """The figure as PNG bytes: drawn by Agg (unless ``draw`` is False), encoded fast.

    The same pixels as ``figure.savefig(..., format="png")``, without its
    bookkeeping and with the quickest zlib level (the pictures are small).
    """
    if draw:
        figure.canvas.draw()
    rgba = np.asarray(figure.canvas.buffer_rgba())                       # (H, W, 4) uint8
    buffer = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


class PictureCache:
    """The last ``size`` pictures of an explorer, by a key of its settings (least recently used out).

    A learner goes back and forth between a few settings; a picture seen
    before is shown again at once instead of being drawn again.
    """

    def __init__(self, size: int = PICTURE_CACHE_SIZE):
        self.size = size
        self._pictures: OrderedDict = OrderedDict()

    def get(self, key, make):
        """The picture for ``key``, from ``make()`` the first time."""
        if key in self._pictures:
            self._pictures.move_to_end(key)
            return self._pictures[key]
        picture = self._pictures[key] = make()
        if len(self._pictures) > self.size:
            self._pictures.popitem(last=False)
        return picture

    def __contains__(self, key) -> bool:
        return key in self._pictures

    def __len__(self) -> int:
        return len(self._pictures)

    def clear(self) -> None:
        self._pictures.clear()


class FigurePNG:
    """One off-screen matplotlib figure, cleared and redrawn for every picture.

    It is never shown and never registered with pyplot, so redraws add no
    output and no open figures; :meth:`render` returns PNG bytes for an
    ``ipywidgets.Image``.
    """

    def __init__(self):
        self.figure = Figure(dpi=PICTURE_DPI)
        FigureCanvasAgg(self.figure)

    def render(self, draw, span) -> bytes:
        """Call ``draw(ax, fontsize)`` on a fresh Axes sized for ``span`` (cells wide, high)."""
        fig = self.figure
        fig.clear()
        cell = min(PICTURE_CELL_INCHES, PICTURE_MAX_INCHES / span[0])
        height = span[1] * cell + PICTURE_TITLE_INCHES
        fig.set_size_inches(span[0] * cell, height)
        ax = fig.add_axes((0, 0, 1, span[1] * cell / height))
        draw(ax, 0.4 * cell * 72)
        return figure_png(fig)
