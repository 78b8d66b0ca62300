"""The bump editor (lessons 00 and 01): a 1D input of 0s and 1s, a 3-weight filter, live."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import data, filters, kernels
from .._validate import as_array
from ._base import Explorer, KernelBoxes
from ._controls import (
    CUSTOM, MAX_WEIGHT, WEIGHT_REASON, Dropdown, FloatText, ToggleButton, check_values, number, status_line,
)

__all__ = ["BumpEditor", "MAX_SIGNAL_LENGTH"]

MAX_SIGNAL_LENGTH = 16


class BumpEditor(KernelBoxes, Explorer):
    """Edit a 1D input pattern and a 3-weight filter; the feature map redraws live.

    Introduced in lesson 01. Layout, top to bottom: one toggle button per
    input value (0 or 1); the three weight boxes ``w0 w1 w2`` with the preset
    menu; a bar chart of the input and of the feature map with the values
    written under the bars (output ``i`` is drawn under the centre of its
    window); a status line. The feature map is
    ``cnnlab.kernels.conv1d(signal, kernel)`` ("valid": ``L - 3 + 1`` values).

    Parameters
    ----------
    signal : (L,) array_like of 0 and 1, optional
        Starting input, ``3 <= L <= 16``; default ``data.bump_signal()``.
    kernel : (3,) array_like, optional
        Starting weights, each from ``-MAX_WEIGHT`` to ``MAX_WEIGHT`` (1e6);
        default the ``"bump"`` preset ``[0, 1, 0]``.

    Attributes
    ----------
    controls : dict
        ``"x_0"`` .. ``"x_{L-1}"`` (ToggleButton), ``"w_0"`` .. ``"w_2"``
        (FloatText), ``"preset"`` (Dropdown).
    output_values : (L - 2,) ndarray
        The feature map now shown.
    widget : ipywidgets.VBox
    chart : ipywidgets.HTML
        The bar chart (an inline SVG).
    status : ipywidgets.Label
    last_redraw_ms : float
    """

    def __init__(self, signal=None, kernel=None):
        super().__init__()
        signal = data.bump_signal() if signal is None else as_array(signal, "signal", ndims=1)
        if not 3 <= len(signal) <= MAX_SIGNAL_LENGTH:
            raise ValueError(
                f"`signal` must hold 3 to {MAX_SIGNAL_LENGTH} values, got {len(signal)}")
        if not np.all((signal == 0) | (signal == 1)):
            raise ValueError(f"`signal` must hold only 0s and 1s (one toggle per value), "
                             f"got {signal.tolist()}")
        kernel = filters.get_1d("bump") if kernel is None else _check_kernel_1d(kernel)
        self._presets = {name: k for name, k in filters.PRESETS_1D.items() if k.shape == (3,)}
        preset = next((name for name, k in self._presets.items() if np.allclose(k, kernel)),
                      CUSTOM)

        self._toggles = [ToggleButton(value=bool(v), description=str(int(v)),
                                      layout=widgets.Layout(width="36px"))
                         for v in signal]
        self._boxes = [FloatText(value=float(w), step=0.1, description=f"w{i}",
                                 style={"description_width": "24px"},
                                 layout=widgets.Layout(width="120px"))
                       for i, w in enumerate(kernel)]
        menu = Dropdown(options=[CUSTOM, *self._presets], value=preset,
                        description="preset", layout=widgets.Layout(width="220px"))
        self.chart = widgets.HTML()
        self.status = status_line()
        self.controls.update({f"x_{i}": t for i, t in enumerate(self._toggles)})
        self.controls.update({f"w_{i}": b for i, b in enumerate(self._boxes)})
        self.controls["preset"] = menu
        self.widget = widgets.VBox([
            widgets.HBox([widgets.Label("input", layout=widgets.Layout(width="60px")),
                          *self._toggles]),
            widgets.HBox([widgets.Label("kernel", layout=widgets.Layout(width="60px")),
                          *self._boxes, menu]),
            self.chart,
            self.status,
        ])
        for toggle in self._toggles:
            toggle.observe(self._on_toggle, names="value")
        for box in self._boxes:
            box.observe(self._on_weight, names="value")
        menu.observe(self._on_preset, names="value")
        self.output_values = None
        self._guard_controls()
        self.redraw()

    @property
    def signal(self) -> np.ndarray:
        """The input pattern now set, ``(L,)`` of 0.0 and 1.0."""
        return np.array([float(t.value) for t in self._toggles])

    def set_kernel(self, kernel) -> None:
        """Set the three weights at once (one redraw); the preset menu shows "custom".

        ``kernel`` holds 3 finite weights from ``-MAX_WEIGHT`` to ``MAX_WEIGHT``.
        """
        kernel = _check_kernel_1d(kernel)
        with self.hold_redraw():
            self._set_custom()
            self._write_kernel(kernel)

    def _kernel_shape(self):
        return (len(self._boxes),)

    def _preset_kernel(self, name):
        return self._presets[name]

    def _on_toggle(self, change):
        change.owner.description = str(int(change.new))
        self._request_redraw()

    def _draw(self) -> None:
        k = self.kernel                                             # (3,)
        message = self._non_finite_message(k)
        if message:
            self.status.value = message
            return
        x = self.signal                                             # (L,)
        y = kernels.conv1d(x, k)                                    # (L - 3 + 1,)
        self.chart.value = _bars_svg(x, y, offset=(len(k) - 1) / 2)
        self.output_values = y
        self.status.value = (
            f"kernel [{', '.join(number(w) for w in k)}] · {len(x)} inputs - {len(k)} "
            f"weights + 1 = {len(y)} outputs: [{', '.join(number(v) for v in y)}]")


def _check_kernel_1d(kernel) -> np.ndarray:
    kernel = as_array(kernel, "kernel", ndims=1)
    if kernel.shape != (3,):
        raise ValueError(f"`kernel` must hold 3 weights, got shape {kernel.shape}")
    return check_values(kernel, "kernel", MAX_WEIGHT, WEIGHT_REASON)


def _bars_svg(x, y, *, offset: float) -> str:
    """Two rows of bars (input above, feature map below) as an inline SVG.

    Output bar ``i`` is shifted right by ``offset`` cells, under the centre
    of its window. Both rows share one scale (the full bar height is the
    largest ``|value|`` of both, at least 1), so weights that sum to 2 give
    bars twice as tall as the input's; negative values hang down in red.
    Values are written under the bars (``<text class="x">`` and
    ``<text class="y">``).
    """
    cell, left, bar_height = 40, 104, 50
    row_height = bar_height + 28
    width = left + cell * len(x) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{2 * row_height + 8}" font-family="sans-serif" font-size="13">']
    rows = (("input x", x, 0.0, "x", "#4c78a8"), ("feature map y", y, offset, "y", "#54a24b"))
    largest = max(1.0, float(np.max(np.abs(x))), float(np.max(np.abs(y))))   # one scale for both
    for r, (label, values, shift, cls, colour) in enumerate(rows):
        top = 6 + r * row_height
        signed = bool(np.any(values < 0))
        base = top + (bar_height / 2 if signed else bar_height)    # y of the zero line
        unit = (bar_height / 2 if signed else bar_height) / largest
        x0 = left + shift * cell
        parts.append(f'<text x="0" y="{top + bar_height / 2 + 4:.1f}" fill="#444">{label}</text>')
        parts.append(f'<line x1="{x0:.1f}" x2="{x0 + cell * len(values):.1f}" y1="{base:.1f}" '
                     f'y2="{base:.1f}" stroke="#999"/>')
        for i, v in enumerate(values):
            h = abs(v) * unit
            fill = colour if v >= 0 else "#e45756"
            parts.append(f'<rect x="{x0 + i * cell + 7:.1f}" y="{base - max(v, 0) * unit:.1f}" '
                         f'width="{cell - 14}" height="{h:.1f}" fill="{fill}"/>')
            parts.append(f'<text class="{cls}" x="{x0 + (i + 0.5) * cell:.1f}" '
                         f'y="{top + bar_height + 18}" text-anchor="middle">{number(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)
