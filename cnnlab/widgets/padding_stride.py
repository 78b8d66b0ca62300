"""The padding and stride explorer (lesson 03): output sizes worked out, and every step drawn."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import plot, shapes, steps
from .._validate import check_choice, check_int
from ..plot._parts import frame_span
from ._base import Explorer
from ._canvas import FigurePNG, PictureCache
from ._controls import CUSTOM, Dropdown, IntSlider, IntText, Play, check_range, plain, status_line

__all__ = ["PaddingStrideExplorer", "PADDING_MODES", "MAX_INPUT_SIDE", "MAX_KERNEL_SIDE",
           "MAX_SETTING"]

PADDING_MODES = ("valid", "same", "full", "number")
MAX_INPUT_SIDE = 12               # PaddingStrideExplorer's input slider
MAX_KERNEL_SIDE = 7
MAX_SETTING = steps.MAX_ARITHMETIC_SIDE       # PaddingStrideExplorer's p, stride and dilation boxes


class PaddingStrideExplorer(Explorer):
    """Choose input size, kernel size, padding, stride and dilation; see the shape and every step.

    Introduced in lesson 03. Layout: a menu of the named cases of Dumoulin &
    Visin's guide (``steps.ARITHMETIC_CASES``); sliders for the input side
    ``n`` and kernel side ``k``; the padding menu ("valid", "same", "full",
    or "number" to use the ``p`` box); boxes for stride and dilation; the
    output-size formula with the numbers filled in; the picture of one step
    (``plot.plot_convolution_frame`` on ``steps.arithmetic_example(n, k)``),
    stepped by a play button linked to a step slider; a status line.

    Settings that cannot work (a kernel larger than the padded input, a
    stride of 0, a negative padding) are explained in the status line and
    the last good picture stays.

    Parameters
    ----------
    n : int
        Input side, 1 to 12.
    kernel_size : int
        Kernel side, 1 to 7.
    padding : {"valid", "same", "full"} or int
        A number of zeros from 0 to ``MAX_SETTING`` (20).
    stride, dilation : int
        1 to ``MAX_SETTING`` (20). The ``p``, ``stride`` and ``dilation``
        boxes take values up to 20 too; smaller impossible ones (0, negative
        padding) and pictures over 20 cells a side are explained in the
        status line.
    case : str, optional
        A name from ``steps.ARITHMETIC_CASES``; its settings replace the numbers above.

    Attributes
    ----------
    controls : dict
        ``"case"``, ``"n"``, ``"kernel_size"``, ``"padding"``, ``"p"``,
        ``"stride"``, ``"dilation"``, ``"step"`` (IntSlider), ``"play"``.
    frames : list of steps.ConvolutionFrame
        The steps now shown.
    output_shape : (int, int)
    x, kernel : ndarray
        The input and kernel drawn.
    formula : ipywidgets.HTML
        The output size worked out with the numbers.
    picture : ipywidgets.Image
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, n=5, kernel_size=3, padding=1, stride=2, dilation=1, *, case=None):
        super().__init__()
        if case is not None:
            names = list(steps.ARITHMETIC_CASES)
            settings = steps.ARITHMETIC_CASES[check_choice(case, "case", names)]
            n, kernel_size, padding, stride = (settings[key] for key in
                                               ("n", "kernel_size", "padding", "stride"))
            dilation = 1
        n = check_range(n, "n", 1, MAX_INPUT_SIDE)
        kernel_size = check_range(kernel_size, "kernel_size", 1, MAX_KERNEL_SIDE)
        mode, p = _padding_mode(padding)
        if p > MAX_SETTING:
            raise ValueError(f"`padding` must be at most {MAX_SETTING}, got {p}")
        stride = check_range(stride, "stride", 1, MAX_SETTING)
        dilation = check_range(dilation, "dilation", 1, MAX_SETTING)
        self._limits = {name: (None, MAX_SETTING, f" (the pictures draw at most {MAX_SETTING} "
                                                  "cells a side)")
                        for name in ("p", "stride", "dilation")}

        small = widgets.Layout(width="150px")
        self.controls.update(
            case=Dropdown(options=[CUSTOM, *steps.ARITHMETIC_CASES],
                          value=case or CUSTOM, description="case",
                          layout=widgets.Layout(width="320px")),
            n=IntSlider(value=n, min=1, max=MAX_INPUT_SIDE, description="input n"),
            kernel_size=IntSlider(value=kernel_size, min=1, max=MAX_KERNEL_SIDE,
                                  description="kernel k"),
            padding=Dropdown(options=PADDING_MODES, value=mode, description="padding",
                             layout=widgets.Layout(width="200px")),
            p=IntText(value=p, description="p", disabled=mode != "number",
                      layout=small, style={"description_width": "20px"}),
            stride=IntText(value=stride, description="stride", layout=small,
                           style={"description_width": "50px"}),
            dilation=IntText(value=dilation, description="dilation", layout=small,
                             style={"description_width": "60px"}),
            step=IntSlider(value=0, min=0, max=0, description="step"),
            play=Play(value=0, min=0, max=0, interval=900, description="play"),
        )
        c = self.controls
        widgets.link((c["play"], "value"), (c["step"], "value"))
        self.formula = widgets.HTML()
        self.picture = widgets.Image(format="png")
        self.status = status_line()
        self.widget = widgets.VBox([
            c["case"],
            widgets.HBox([c["n"], c["kernel_size"]]),
            widgets.HBox([c["padding"], c["p"], c["stride"], c["dilation"]]),
            self.formula,
            widgets.HBox([c["play"], c["step"]]),
            self.picture,
            self.status,
        ])
        self.frames, self.output_shape = [], None
        self.x = self._kernel = None
        self._canvas = FigurePNG()
        self._pictures = PictureCache()   # (settings, step) -> PNG: revisits are instant
        self._key = None
        for name in ("n", "kernel_size", "padding", "p", "stride", "dilation"):
            c[name].observe(self._on_setting, names="value")
        c["case"].observe(self._on_case, names="value")
        c["step"].observe(self._on_step, names="value")
        self._guard_controls()
        self.redraw()

    @property
    def kernel(self) -> np.ndarray:
        """The kernel drawn (a copy)."""
        return None if self._kernel is None else self._kernel.copy()

    @property
    def padding(self):
        """The padding argument now chosen: "valid", "same", "full" or the number in ``p``."""
        mode = self.controls["padding"].value
        return self.controls["p"].value if mode == "number" else mode

    def _on_case(self, change):
        if self._quiet_depth or change.new == CUSTOM:
            return
        settings = steps.ARITHMETIC_CASES[change.new]
        mode, p = _padding_mode(settings["padding"])
        with self.hold_redraw(), self._quiet():
            c = self.controls
            c["n"].value, c["kernel_size"].value = settings["n"], settings["kernel_size"]
            c["padding"].value, c["p"].value = mode, p
            c["stride"].value, c["dilation"].value = settings["stride"], 1
            self._dirty = True

    def _on_setting(self, change):
        self.controls["p"].disabled = self.controls["padding"].value != "number"
        if not self._quiet_depth and self.controls["case"].value != CUSTOM:
            with self._quiet():
                self.controls["case"].value = CUSTOM
        self._request_redraw()

    def _on_step(self, change):
        if not self._quiet_depth and self.frames:
            self._show_step(change.new)

    def _draw(self) -> None:
        c = self.controls
        n, k = c["n"].value, c["kernel_size"].value
        padding, stride, dilation = self.padding, c["stride"].value, c["dilation"].value
        try:
            out = shapes.conv_output_size(n, k, stride, padding, dilation)
            x, kernel = steps.arithmetic_example(n, k)
            frames = steps.convolution_frames(x, kernel, stride=stride, padding=padding,
                                             dilation=dilation)
        except (TypeError, ValueError) as exc:
            self.status.value = f"Impossible setting: {plain(exc)} (Showing the last good picture.)"
            return
        self.frames, self.output_shape = frames, (out, out)
        self.x, self._kernel = x, kernel
        self._key = (n, k, padding, stride, dilation)
        with self._quiet():
            for name in ("step", "play"):
                c[name].value = 0
                c[name].max = len(frames) - 1
        self._show_step(0)
        self.formula.value = _size_formula_html(n, k, padding, stride, dilation, out)
        self.status.value = (f"{n}x{n} input, {k}x{k} kernel → {out}x{out} output: "
                             f"{_steps(len(frames))}. Press play or drag the step slider.")

    def _show_step(self, step: int) -> None:
        frame = self.frames[step]
        self.picture.value = self._pictures.get((*self._key, step), lambda: self._canvas.render(
            lambda ax, size: plot.plot_convolution_frame(frame, ax, fontsize=size),
            frame_span(frame)))


def _size_formula_html(n, k, padding, stride, dilation, out) -> str:
    """The output size of one axis worked out with the numbers, as HTML."""
    lines = []
    k_name = "k"
    if dilation > 1:
        k_eff = (k - 1) * dilation + 1
        lines.append(f"dilated kernel: k<sub>eff</sub> = (k − 1)·d + 1 = ({k} − 1)·{dilation} + 1"
                     f" = {k_eff}")
        k, k_name = k_eff, "k<sub>eff</sub>"
    before, after = shapes.padding_amounts(n, k, stride, padding)
    if padding == "same":
        lines.append(f"\"same\": out = ⌈n / s⌉ = ⌈{n} / {stride}⌉ = {out}")
        lines.append(f"zeros needed = max((out − 1)·s + {k_name} − n, 0) = "
                     f"max(({out} − 1)·{stride} + {k} − {n}, 0) = {before + after}: "
                     f"{before} before, {after} after (the odd one goes after)")
    else:
        if padding == "full":
            lines.append(f"\"full\": p = {k_name} − 1 = {before}")
        elif padding == "valid":
            lines.append("\"valid\": p = 0")
        lines.append(f"out = ⌊(n + 2p − {k_name}) / s⌋ + 1 = ⌊({n} + 2·{before} − {k}) / "
                     f"{stride}⌋ + 1 = {out}")
    lines.append(f"<b>output {out}x{out}</b> ({_steps(out * out)})")
    return "<br>".join(lines)


def _steps(count: int) -> str:
    return f"{count} step" + ("" if count == 1 else "s")


def _padding_mode(padding) -> tuple[str, int]:
    """``padding`` as the menu entry and the number for the ``p`` box."""
    if isinstance(padding, str):
        return check_choice(padding, "padding", PADDING_MODES[:3]), 0
    return "number", check_int(padding, "padding", minimum=0)
