"""The transposed-convolution explorer (lesson 12): painted kernel copies and their overlap."""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import matplotlib
import numpy as np

from .. import transposed
from .._validate import as_array, check_choice, check_real, describe
from ._base import Explorer
from ._controls import (
    CUSTOM, Dropdown, IntSlider, ToggleButtons, check_input_side, check_range, check_values,
    number, titled, status_line,
)

__all__ = ["TransposedConvExplorer", "TRANSPOSED_INPUTS", "TRANSPOSED_KERNELS",
           "MAX_TRANSPOSED_KERNEL", "MAX_TRANSPOSED_STRIDE", "MAX_TRANSPOSED_INPUT",
           "MAX_TRANSPOSED_INPUT_VALUE", "MAX_NUMBERED_CELLS", "even_overlap",
           "largest_count", "preset_kernel", "cells_html"]

TRANSPOSED_INPUTS = ("ones 3x3", "single 1 in 4x4", "random ints 4x4")
TRANSPOSED_KERNELS = ("ones", "tent", "random ints")
MAX_TRANSPOSED_KERNEL = 5
MAX_TRANSPOSED_STRIDE = 4
MAX_TRANSPOSED_INPUT = 6          # largest side of your own input
MAX_TRANSPOSED_INPUT_VALUE = 100.0
MAX_NUMBERED_CELLS = 400          # above this many cells the numbers are left out
MAX_PICTURE_PIXELS = 420          # widest grid of cells; cells shrink (down to 12 px) to fit
MAX_CELLS = 64 * 64               # largest grid cells_html writes
BAR_STOPS = 11                    # colours of the colour bar's gradient
SIGNED_CMAP = "RdBu_r"
COUNT_CMAP = "gray"


def preset_kernel(name: str, size: int) -> np.ndarray:
    """A ``(size, size)`` kernel: ``"ones"``, ``"tent"`` or ``"random ints"``.

    ``"tent"`` is the outer product of ``[1, 2, .., peak, .., 2, 1]`` (the
    kernel of bilinear upsampling, unnormalised); ``"random ints"`` holds
    the whole numbers -2, -1, 1 and 2 (never 0), the same at every call
    with the same size.

    Returns
    -------
    (size, size) ndarray of float64
    """
    check_choice(name, "name", TRANSPOSED_KERNELS)
    size = check_range(size, "size", 1, MAX_TRANSPOSED_KERNEL)
    if name == "ones":
        return np.ones((size, size))
    if name == "tent":
        i = np.arange(size)
        tent = (size + 1) / 2 - np.abs(i - (size - 1) / 2)               # (size,)
        return np.outer(tent, tent)
    return np.random.default_rng(size).choice([-2.0, -1.0, 1.0, 2.0], size=(size, size))


def even_overlap(kernel_size: int, stride: int) -> bool:
    """Whether the painted copies cover every interior output cell equally often.

    True exactly when ``kernel_size`` is a multiple of ``stride``; otherwise
    the overlap counts alternate (a checkerboard), with gaps of 0 when
    ``kernel_size < stride``.
    """
    return kernel_size % stride == 0


def largest_count(kernel_size: int, stride: int) -> int:
    """The most kernel copies one output cell can get: ``ceil(kernel_size / stride) ** 2``."""
    return math.ceil(kernel_size / stride) ** 2


def _input_map(name: str) -> np.ndarray:
    if name == "ones 3x3":
        return np.ones((3, 3))
    if name == "single 1 in 4x4":
        x = np.zeros((4, 4))
        x[1, 2] = 1.0
        return x
    return np.random.default_rng(12).integers(-2, 3, size=(4, 4)).astype(float)


class TransposedConvExplorer(Explorer):
    """Upsample a small input with a transposed convolution and see where the copies overlap.

    Introduced in lesson 12. Every input cell paints a copy of the kernel,
    scaled by its value, onto the output, ``stride`` cells from its
    neighbour's; where copies overlap they add up
    (:func:`cnnlab.transposed.conv_transpose2d`, which matches Keras's
    ``Conv2DTranspose`` without bias). Three pictures: the input, the output
    and the overlap counts (:func:`cnnlab.transposed.overlap_counts`: how
    many copies land on each output cell). When ``kernel_size`` is not a
    multiple of ``stride`` the counts alternate: the checkerboard artefact.

    Colours: input and output in the diverging "RdBu_r", centred on 0 with a
    fixed symmetric range (input: its largest ``|value|``; output: the
    largest ``|value|`` the setting can give, ``max|x| * max|w| *
    largest_count``); counts in grey from 0 (black) to
    ``largest_count(kernel_size, stride)`` (white). Each picture has a
    colour bar; numbers are written in the cells up to
    ``MAX_NUMBERED_CELLS`` (400) cells.

    Parameters
    ----------
    input : str or (H, W) array_like, optional
        One of ``TRANSPOSED_INPUTS`` (the first by default), or your own
        input (offered as "custom"), at most 6x6 with values from -100 to 100.
    kernel : {"ones", "tent", "random ints"}
        The kernel preset (see :func:`preset_kernel`); its size is ``kernel_size``.
    kernel_size : int
        1 to 5.
    stride : int
        1 to 4.
    padding : {"valid", "same"}

    Attributes
    ----------
    controls : dict
        ``"input"``, ``"kernel"`` (Dropdowns), ``"kernel_size"``, ``"stride"``
        (IntSliders), ``"padding"`` (ToggleButtons).
    input_values : (H, W) ndarray
    kernel : (K, K) ndarray
    output_values : (H_out, W_out) ndarray
    overlap : (H_out, W_out) ndarray of int
    even_overlap : bool
    output_size : (int, int)
    max_count : int
        ``largest_count(kernel_size, stride)``, the top of the count colours.
    input_view, output_view, overlap_view : ipywidgets.HTML
        The three pictures (:func:`cells_html`), replaced in place.
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, input=None, *, kernel="ones", kernel_size=3, stride=2,  # noqa: A002
                 padding="valid"):
        super().__init__()
        self._inputs: dict[str, np.ndarray] = {}
        if input is None or isinstance(input, str):
            source = check_choice(input or TRANSPOSED_INPUTS[0], "input", TRANSPOSED_INPUTS)
        else:
            x = as_array(input, "input", ndims=2)
            check_input_side(x, "input", MAX_TRANSPOSED_INPUT, "every cell is drawn")
            self._inputs[CUSTOM] = check_values(x, "input", MAX_TRANSPOSED_INPUT_VALUE)
            source = CUSTOM
        kernel = check_choice(kernel, "kernel", TRANSPOSED_KERNELS)
        kernel_size = check_range(kernel_size, "kernel_size", 1, MAX_TRANSPOSED_KERNEL)
        stride = check_range(stride, "stride", 1, MAX_TRANSPOSED_STRIDE)
        padding = check_choice(padding, "padding", ("valid", "same"))
        self.controls.update(
            input=Dropdown(options=[*TRANSPOSED_INPUTS, *self._inputs], value=source,
                           description="input", layout=widgets.Layout(width="230px")),
            kernel=Dropdown(options=TRANSPOSED_KERNELS, value=kernel, description="kernel",
                            layout=widgets.Layout(width="200px")),
            kernel_size=IntSlider(value=kernel_size, min=1, max=MAX_TRANSPOSED_KERNEL,
                                  description="kernel size"),
            stride=IntSlider(value=stride, min=1, max=MAX_TRANSPOSED_STRIDE,
                             description="stride"),
            padding=ToggleButtons(options=("valid", "same"), value=padding,
                                  style={"button_width": "64px"}),
        )
        c = self.controls
        self.input_view, self.output_view, self.overlap_view = (
            widgets.HTML() for _ in range(3))
        self.status = status_line()
        self.widget = widgets.VBox([
            widgets.HBox([c["input"], c["kernel"], c["padding"]]),
            widgets.HBox([c["kernel_size"], c["stride"]]),
            widgets.HBox([titled("input", self.input_view),
                          titled("output", self.output_view),
                          titled("overlap: kernel copies per cell", self.overlap_view)],
                         layout=widgets.Layout(align_items="flex-start")),
            self.status,
        ])
        self.input_values = self.kernel = self.output_values = self.overlap = None
        self.even_overlap, self.output_size, self.max_count = None, None, None
        for name in c:
            c[name].observe(self._request_redraw, names="value")
        self._guard_controls()
        self.redraw()

    def _load_input(self, name: str) -> np.ndarray:
        if name not in self._inputs:
            self._inputs[name] = _input_map(name)
        return self._inputs[name]

    def _draw(self) -> None:
        c = self.controls
        x = self._load_input(c["input"].value)                                 # (H, W)
        k, s, padding = c["kernel_size"].value, c["stride"].value, c["padding"].value
        w = preset_kernel(c["kernel"].value, k)                                  # (K, K)
        out = transposed.conv_transpose2d(x, w, stride=s, padding=padding)       # (H_out, W_out)
        counts = transposed.overlap_counts(x.shape, k, stride=s, padding=padding)
        size = tuple(transposed.conv_transpose_output_size(n, k, s, padding) for n in x.shape)
        top = largest_count(k, s)
        x_range = float(np.max(np.abs(x))) or 1.0
        out_range = x_range * float(np.max(np.abs(w))) * top
        self.input_view.value = cells_html(x, SIGNED_CMAP, -x_range, x_range, "input value")
        self.output_view.value = cells_html(out, SIGNED_CMAP, -out_range, out_range,
                                            "output value")
        self.overlap_view.value = cells_html(counts, COUNT_CMAP, 0, top, "kernel copies")
        self.input_values, self.kernel, self.output_values, self.overlap = x, w, out, counts
        self.even_overlap, self.output_size, self.max_count = even_overlap(k, s), size, top
        self.status.value = self._status_text(x.shape, k, s, padding, out_range)

    def _status_text(self, shape, k, s, padding, out_range) -> str:
        (h, w), (h_out, w_out) = shape, self.output_size
        rule = (f"{h}·{s} + max({k} − {s}, 0) = {h_out}" if padding == "valid"
                else f"{h}·{s} = {h_out}")
        if self.even_overlap:
            verdict = f"even overlap (inner cells all get {self.max_count} copies)"
        elif k < s:
            verdict = "uneven overlap → checkerboard (gaps of 0 between the copies)"
        else:
            verdict = "uneven overlap → checkerboard"
        return (f"{h}x{w} → {h_out}x{w_out} ({padding}: rows {rule}) · kernel {k}, stride {s}: "
                f"{verdict} · colours: output from {number(-out_range)} (blue) to "
                f"{number(out_range)} (red), counts from 0 (black) to {self.max_count} (white)")


def cells_html(values, cmap, vmin, vmax, label) -> str:
    """A small 2D array as an HTML grid of coloured cells, with a colour bar.

    Introduced in lesson 12, behind :class:`TransposedConvExplorer`. Every
    cell is coloured by ``cmap`` on the fixed range ``vmin..vmax`` (values
    outside take the end colours) and, when there are at most
    ``MAX_NUMBERED_CELLS`` cells, holds its value (black on light cells,
    white on dark ones). The colour bar beside the grid runs from ``vmin``
    (bottom) to ``vmax`` (top), titled ``label``.

    Parameters
    ----------
    values : (H, W) array_like
    cmap : str
        A matplotlib colour map name ("RdBu_r", "gray", ...).
    vmin, vmax : float
        ``vmin < vmax``.
    label : str

    Returns
    -------
    str
        A ``<div class="cnnlab-cells s{side}">`` (``side``: pixels per
        cell) holding the ``<table>`` (one ``<td>`` per cell, its value in
        ``data-v``) and the colour bar.
    """
    values = as_array(values, "values", ndims=2)
    if 0 in values.shape:
        raise ValueError(f"`values` must not be empty, got shape {values.shape}")
    if values.size > MAX_CELLS:
        raise ValueError(f"`values` must have at most {MAX_CELLS} cells (one table cell each), "
                         f"got shape {values.shape}")
    vmin, vmax = check_real(vmin, "vmin"), check_real(vmax, "vmax")
    if not vmin < vmax:
        raise ValueError(f"`vmin` must be below `vmax`, got {vmin:g} and {vmax:g}")
    if not isinstance(label, str):
        raise TypeError(f"`label` must be a str, got {describe(label)}")
    try:
        colour_map = matplotlib.colormaps[cmap]
    except (KeyError, TypeError):
        raise ValueError(f"`cmap` must be a matplotlib colour map name such as 'gray' or "
                         f"'RdBu_r', got {describe(cmap)}") from None
    rows, cols = values.shape
    side = max(12, min(30, MAX_PICTURE_PIXELS // max(rows, cols)))        # px per cell
    numbered = values.size <= MAX_NUMBERED_CELLS
    fmt = "{:g}" if np.all(values == np.round(values)) else "{:.2f}"
    rgba = colour_map(np.clip((values - vmin) / (vmax - vmin), 0, 1))    # (H, W, 4)
    light = rgba[..., :3] @ np.array([0.2126, 0.7152, 0.0722]) > 0.5    # (H, W)
    body = []
    for r in range(rows):
        cells = []
        for c in range(cols):
            v = float(values[r, c]) + 0.0                                  # no "-0"
            text = fmt.format(v) if numbered else ""
            ink = "#000000" if light[r, c] else "#ffffff"
            cells.append(f'<td data-v="{v:g}" style="background:{_hex(rgba[r, c])};'
                         f'color:{ink}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    stops = ", ".join(_hex(colour_map(t)) for t in np.linspace(0, 1, BAR_STOPS))
    height = rows * side
    middle = (f'<span style="position:absolute;top:{height / 2 - 7:.0f}px">'
              f"{number((vmin + vmax) / 2)}</span>")
    bar = (f'<div class="bar" style="display:flex;gap:4px;margin-left:6px">'
           f'<div style="width:12px;height:{height}px;border:1px solid #888888;'
           f'background:linear-gradient(to top, {stops})"></div>'
           f'<div style="position:relative;width:34px;height:{height}px;font:10px sans-serif">'
           f'<span style="position:absolute;top:0">{number(vmax)}</span>{middle}'
           f'<span style="position:absolute;bottom:0">{number(vmin)}</span></div>'
           f'<div style="writing-mode:vertical-rl;font:10px sans-serif;color:#555555">'
           f"{html.escape(label)}</div></div>")
    style = (f"border-collapse:collapse;font:{max(8, int(side * 0.42))}px monospace;"
             "table-layout:fixed")
    td = (f"<style>.cnnlab-cells.s{side} td{{width:{side}px;height:{side}px;padding:0;"
          "text-align:center;border:1px solid #bbbbbb}</style>")
    return (f'<div class="cnnlab-cells s{side}" style="display:flex;align-items:flex-start">{td}'
            f'<table style="{style}">{"".join(body)}</table>{bar}</div>')


def _hex(rgba) -> str:
    r, g, b = (int(round(255 * float(v))) for v in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"
