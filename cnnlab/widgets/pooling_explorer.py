"""The pooling explorer (lesson 05): max, average or sum pooling, every window drawn."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import data, plot, steps
from .._validate import as_array, check_choice
from ..plot._parts import pool_span
from ._base import Explorer
from ._canvas import FigurePNG, PictureCache
from ._controls import (
    CUSTOM, Dropdown, IntSlider, ToggleButtons, check_range, check_values, number, plain, status_line,
)

__all__ = ["PoolingExplorer", "POOL_INPUTS", "MAX_POOL_SLIDER"]

POOL_INPUTS = ("numbers 8x8", "numbers 5x5", "lines 8x8", "digit 28x28")
MAX_POOL_SLIDER = 6


class PoolingExplorer(Explorer):
    """Pool a feature map with max, average or sum pooling and see every window.

    Introduced in lesson 05, after Harley's visualisation: every window has a
    colour, max pooling fills the winning cell, average and sum pooling shade
    the whole window, and the output cells carry the window's colour and the
    pooled value (``plot.show_pooling``; the values come from
    ``kernels.max_pool2d`` / ``avg_pool2d`` / ``sum_pool2d``). Settings that
    cannot work (a window larger than the map with "valid" padding) are
    explained in the status line and the last good picture stays.

    Parameters
    ----------
    feature_map : str or (H, W) array_like, optional
        One of ``POOL_INPUTS`` ("numbers 8x8" by default: whole numbers 0-9),
        or your own map, at most 32x32 (offered as "custom") with values
        from ``-MAX_VALUE`` to ``MAX_VALUE`` (1e6).
    kind : {"max", "avg", "sum"}
    pool_size, stride : int
        1 to 6.
    padding : {"valid", "same"}

    Attributes
    ----------
    controls : dict
        ``"input"``, ``"kind"``, ``"pool_size"``, ``"stride"``, ``"padding"``.
    feature_map : (H, W) ndarray
    output_values : (H_out, W_out) ndarray
    winners : (H_out, W_out, 2) ndarray of int or None
        With max pooling, the (row, col) of each window's winning cell in
        ``feature_map`` (the first largest value in reading order); None otherwise.
    picture : ipywidgets.Image
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, feature_map=None, *, kind="max", pool_size=2, stride=2, padding="valid"):
        super().__init__()
        self._inputs: dict[str, np.ndarray] = {}
        if feature_map is None or isinstance(feature_map, str):
            source = check_choice(feature_map or POOL_INPUTS[0], "feature_map", POOL_INPUTS)
        else:
            fm = as_array(feature_map, "feature_map", ndims=2)
            if max(fm.shape) > steps.MAX_POOL_SIDE or 0 in fm.shape:
                raise ValueError(f"`feature_map` must be 1x1 to {steps.MAX_POOL_SIDE}x"
                                 f"{steps.MAX_POOL_SIDE}, got shape {fm.shape}")
            self._inputs[CUSTOM] = check_values(fm, "feature_map")
            source = CUSTOM
        kind = check_choice(kind, "kind", steps.POOL_KINDS)
        pool_size = check_range(pool_size, "pool_size", 1, MAX_POOL_SLIDER)
        stride = check_range(stride, "stride", 1, MAX_POOL_SLIDER)
        padding = check_choice(padding, "padding", ("valid", "same"))

        self.controls.update(
            input=Dropdown(options=[*POOL_INPUTS, *self._inputs], value=source,
                           description="input", layout=widgets.Layout(width="240px")),
            kind=ToggleButtons(options=steps.POOL_KINDS, value=kind,
                               style={"button_width": "56px"}),
            pool_size=IntSlider(value=pool_size, min=1, max=MAX_POOL_SLIDER,
                                description="pool size"),
            stride=IntSlider(value=stride, min=1, max=MAX_POOL_SLIDER,
                             description="stride"),
            padding=ToggleButtons(options=("valid", "same"), value=padding,
                                  style={"button_width": "64px"}),
        )
        c = self.controls
        self.picture = widgets.Image(format="png")
        self.status = status_line()
        self.widget = widgets.VBox([
            widgets.HBox([c["input"], c["kind"]]),
            widgets.HBox([c["pool_size"], c["stride"], c["padding"]]),
            self.picture,
            self.status,
        ])
        self.output_values = self.winners = None
        self._canvas = FigurePNG()
        self._pictures = PictureCache()   # (input, settings) -> PNG: revisits are instant
        self.feature_map = self._load_input(source)
        for name in ("input", "kind", "pool_size", "stride", "padding"):
            c[name].observe(self._request_redraw, names="value")
        self._guard_controls()
        self.redraw()

    def _load_input(self, name: str) -> np.ndarray:
        if name not in self._inputs:
            if name.startswith("numbers"):
                side = int(name.split("x")[-1])
                rng = np.random.default_rng(5)
                self._inputs[name] = rng.integers(0, 10, size=(side, side)).astype(float)
            elif name.startswith("lines"):
                self._inputs[name] = np.maximum(
                    data.line_image("vertical", 8, position=2, thickness=1),
                    data.line_image("horizontal", 8, position=5, thickness=1))   # (8, 8)
            else:
                self._inputs[name] = data.digit(0)                               # (28, 28)
        return self._inputs[name]

    def _draw(self) -> None:
        c = self.controls
        try:
            fm = self._load_input(c["input"].value)
        except (OSError, ValueError) as exc:            # e.g. the MNIST file is missing
            self.status.value = f"Could not load the {c['input'].value!r} input: {plain(exc)}"
            return
        settings = dict(pool_size=c["pool_size"].value, stride=c["stride"].value,
                        padding=c["padding"].value, kind=c["kind"].value)
        try:
            layout = steps.pooling_layout(fm, **settings)
        except (TypeError, ValueError) as exc:
            self.status.value = f"Impossible setting: {plain(exc)} (Showing the last good picture.)"
            return
        fmt = "{:g}" if np.all(fm == np.round(fm)) else "{:.2f}"
        key = (c["input"].value, *settings.values())
        self.picture.value = self._pictures.get(key, lambda: self._canvas.render(
            lambda ax, size: plot.show_pooling(fm, ax, fmt=fmt, fontsize=size, **settings),
            pool_span(layout)))
        self.feature_map = fm
        self.output_values = layout.out
        self.winners = layout.winners if settings["kind"] == "max" else None
        h, w = fm.shape
        h_out, w_out = layout.out.shape
        self.status.value = (f"{settings['kind']} pooling: {h}x{w} → {h_out}x{w_out}; "
                             f"{h_out * w_out} windows, output from {number(layout.out.min())} "
                             f"to {number(layout.out.max())}")
