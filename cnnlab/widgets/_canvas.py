"""The off-screen figure the explorers of lessons 03 and 05 draw their pictures on."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["FigurePNG", "PICTURE_DPI", "PICTURE_CELL_INCHES", "PICTURE_MAX_INCHES",
           "PICTURE_TITLE_INCHES"]

PICTURE_DPI = 80
PICTURE_CELL_INCHES = 0.42        # one cell of the arithmetic / pooling pictures
PICTURE_MAX_INCHES = 9.0          # widest picture; cells shrink to fit
PICTURE_TITLE_INCHES = 0.4


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
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
