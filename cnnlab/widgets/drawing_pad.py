"""The drawing pad (lesson 09): draw a digit, watch the trained LeNet-5 read it.

The canvas is an anywidget front end (``static/drawing_pad.js``): pointer
events (mouse, pen, touch), white ink on black, a "clear" button. It sends
the drawing at the end of every stroke and, while a stroke goes on, every
100 ms. Python prepares it as MNIST's digits were prepared
(:func:`cnnlab.digits.mnist_style`), runs the network once over all its
layers (a probe model, ``model(x, training=False)``) and redraws the
pictures in place. ``set_drawing`` does from code what a stroke does, so a
lesson or a test needs no browser.

Keras is imported only when a pad is made; the shipped model is loaded once
per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

import anywidget
import ipywidgets as widgets
import numpy as np
import traitlets
from ipywidgets.widgets.trait_types import bytes_serialization
from PIL import Image

from .. import data
from .._validate import as_array, check_flag, check_int, describe
from ..digits import MAX_DIGIT_SIDE, mnist_style
from ..plot import array_to_png, data_scale
from ..plot._png import colour_bar_png
from ._base import Explorer
from ._mosaic import maps_rgba, rgba_png, stack_rgba
from ._network import one_image_runner
from ._controls import ToggleButton, titled, status_line

__all__ = ["DrawingPad", "PadCanvas", "PAD_LAYERS", "CANVAS_SIDE", "STROKE_WIDTH",
           "MAX_STROKE_WIDTH", "RANGE_DIGITS"]

#: The layers whose outputs the pad shows, in order.
PAD_LAYERS = ("C1", "S2", "C3", "S4", "C5", "F6")
CANVAS_SIDE = 280                 # canvas pixels (ten per MNIST pixel)
STROKE_WIDTH = 20                 # pen width on the canvas: 2 px once the digit is 20 px tall
MAX_STROKE_WIDTH = 60
RANGE_DIGITS = 500                # MNIST test digits that fix each layer's colour range
PREDICTED_COLOUR = "#f58518"
BAR_COLOUR = "#4c78a8"
_VECTOR_TILES = {120: (10, 12), 84: (7, 12)}
_MAP_PIXELS = {"C1": 2, "S2": 4, "C3": 4, "S4": 8, "C5": 6, "F6": 6}   # screen pixels per value
_COLUMNS = 8                      # maps per row of a layer's picture
_GAP = 3                          # transparent pixels between two maps
_LAYER_GAP = 10                   # transparent rows between two layers in the maps picture
_INPUT_SCALE = 6


class PadCanvas(anywidget.AnyWidget):
    """The canvas of :class:`DrawingPad`: white ink on a black ``size x size`` square.

    ``pixels`` holds the drawing, ``size * size`` bytes of ink 0-255 row by
    row: the browser writes it at the end of each stroke (and raises
    ``strokes``) and every 100 ms during one, and raises ``sends`` with each
    (the pad reads the drawing when ``sends`` changes: the pixels of a
    stroke's end may equal those sent just before) and sets ``drawn`` to
    ``sends`` once its pictures are redrawn (the browser holds the next send
    until then); Python writes it and raises ``picture_id`` to have the
    canvas show it. ``stroke_width`` is the pen's width in canvas pixels.
    """

    _esm = Path(__file__).parent / "static" / "drawing_pad.js"
    size = traitlets.Int(CANVAS_SIDE).tag(sync=True)
    stroke_width = traitlets.Float(STROKE_WIDTH).tag(sync=True)
    pixels = traitlets.Bytes(b"").tag(sync=True, echo_update=False, **bytes_serialization)
    strokes = traitlets.Int(0).tag(sync=True)
    sends = traitlets.Int(0).tag(sync=True)
    drawn = traitlets.Int(0).tag(sync=True)
    picture_id = traitlets.Int(0).tag(sync=True)


class DrawingPad(Explorer):
    """Draw a digit with the mouse, a pen or a finger and watch the trained LeNet-5 read it.

    Introduced in lesson 09. Left, the canvas (280x280, white ink on black)
    with its "clear" button; beside it the 28x28 picture the network is
    given (:func:`cnnlab.digits.mnist_style` of the drawing: cropped,
    scaled to 20 pixels, centred by its centre of mass) and the ten class
    probabilities as bars, the prediction in orange. Below, the outputs of
    every layer: C1 to S4 as feature maps, C5's 120 and F6's 84 values as
    10x12 and 7x12 tiles. Each layer has one fixed colour range, shared by
    its maps and set once from ``RANGE_DIGITS`` (500) MNIST test digits:
    grey from 0 (black) to that largest value (white; larger values are
    white too) when the layer has no negative values (ReLU), else
    diverging about 0 (blue < 0 < red); a colour bar with numbers beside
    each layer says it. A blank canvas says "draw a digit" and predicts
    nothing.

    Parameters
    ----------
    model : keras.Model, optional
        A LeNet-5 (layers ``C1 S2 C3 S4 C5 F6 output``, 28x28x1 images in
        [0, 1] in, 10 probabilities out); by default the shipped
        ``lenet5_modern`` (``data/weights``), loaded once.
    drawing : (H, W) array_like, optional
        A first drawing, as for :meth:`set_drawing`; by default blank.
    show_input : bool
        Show the 28x28 network input (the ``"show_input"`` toggle).
    stroke_width : int
        Pen width in canvas pixels, 4 to ``MAX_STROKE_WIDTH`` (60); 20 draws
        strokes about as thick as MNIST's.

    Attributes
    ----------
    controls : dict
        ``"show_input"`` (ToggleButton).
    canvas : PadCanvas
        The anywidget canvas (its ``pixels`` are the drawing the browser sent).
    drawing : (H, W) ndarray
        The raw drawing, brightness 0-1 (the canvas's 280x280, or what
        :meth:`set_drawing` was given).
    network_input : (28, 28) ndarray of float32
        What the network is given, brightness 0-1.
    probabilities : (10,) ndarray
        The class probabilities (all 0 while nothing is drawn).
    predicted : int or None
        The most probable class; None while nothing is drawn.
    maps : dict
        Layer name -> its output for the drawing: ``C1`` (28, 28, 6), ``S2``
        (14, 14, 6), ``C3`` (10, 10, 16), ``S4`` (5, 5, 16), ``C5`` (120,),
        ``F6`` (84,); zeros while nothing is drawn.
    scales : dict
        Layer name -> the fixed :class:`~cnnlab.plot.ColourScale` its maps are drawn with.
    input_image : ipywidgets.Image
    maps_image : ipywidgets.Image
        Every layer's outputs in one picture (one message to the browser per
        redraw): the layers one above the other, ``_LAYER_GAP`` (10)
        transparent rows apart, each layer's maps side by side (as
        :func:`maps_png` draws them; 8 to a row, 3 transparent pixels apart),
        one tile for C5, F6. Each layer's label and colour bar sit beside its rows.
    layer_rows : dict
        Layer name -> ``(top, height)``: the rows of ``maps_image`` it fills.
    chart : ipywidgets.HTML
        The probabilities: an inline SVG, one ``<rect class="p">`` per class,
        ``data-predicted`` on the ``<svg>`` (empty while nothing is drawn).
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, model=None, *, drawing=None, show_input=True, stroke_width=STROKE_WIDTH):
        super().__init__()
        show_input = check_flag(show_input, "show_input")
        stroke_width = check_int(stroke_width, "stroke_width", minimum=4)
        if stroke_width > MAX_STROKE_WIDTH:
            raise ValueError(f"`stroke_width` must be at most {MAX_STROKE_WIDTH} canvas pixels "
                             f"(the canvas is {CANVAS_SIDE} wide), got {stroke_width}")
        first = None if drawing is None else check_drawing(drawing, "drawing")
        self._probe, self._run, self.scales = _network(model)
        self.canvas = PadCanvas(stroke_width=float(stroke_width))
        self.drawing = np.zeros((CANVAS_SIDE, CANVAS_SIDE))
        self.controls["show_input"] = ToggleButton(
            value=show_input, description="show input", icon="eye",
            tooltip="show the 28x28 picture the network is given")
        self._build_layout()
        self._guard_controls()
        if first is None:
            self.redraw()
        else:
            self.set_drawing(first)
        self.canvas.observe(self._on_pixels, names="sends")
        self.controls["show_input"].observe(self._on_show_input, names="value")

    # -- public -------------------------------------------------------------
    def set_drawing(self, image) -> None:
        """Show ``image`` on the canvas and run the network on it, as a stroke does.

        Parameters
        ----------
        image : (H, W) array_like
            Brightness in [0, 1] (white ink = 1 on black), 1x1 to 560x560;
            any size (the canvas shows it stretched to 280x280, the network
            gets :func:`cnnlab.digits.mnist_style` of it).
        """
        x = check_drawing(image, "image")
        self.drawing = x
        with self._quiet():
            self.canvas.pixels = _canvas_bytes(x)
            self.canvas.picture_id += 1
        self._request_redraw()

    def clear(self) -> None:
        """Wipe the canvas (as its "clear" button does)."""
        self.set_drawing(np.zeros((CANVAS_SIDE, CANVAS_SIDE)))

    # -- drawing --------------------------------------------------------------
    def _draw(self) -> None:
        self.network_input = mnist_style(self.drawing)                   # (28, 28)
        if self.network_input.max() > 0:
            x = self.network_input[None, :, :, None]                     # (1, 28, 28, 1)
            outputs = [np.asarray(o)[0] for o in self._run(x)]
            found = dict(zip((*PAD_LAYERS, "output"), outputs))
            self.maps = {name: _squeeze(found[name]) for name in PAD_LAYERS}
            self.probabilities = found["output"].astype(np.float64)     # (10,)
            self.predicted = int(np.argmax(self.probabilities))
        else:
            self.maps = {name: np.zeros(self._shapes[name], np.float32) for name in PAD_LAYERS}
            self.probabilities = np.zeros(10)
            self.predicted = None
        self.input_image.value = array_to_png(self.network_input, vmin=0, vmax=1,
                                              scale=_INPUT_SCALE)
        self.maps_image.value = rgba_png(self._maps_picture()[0])
        self.chart.value = probability_svg(self.probabilities, self.predicted,
                                           self.canvas.strokes)
        self.status.value = self._status_text()

    def _maps_picture(self) -> tuple[np.ndarray, list[int]]:
        """Every layer's maps, one layer above the other: (H, W, 4) RGBA and each layer's top row."""
        blocks = []
        for name in PAD_LAYERS:
            scale = self.scales[name]
            blocks.append(maps_rgba(_pictures(self.maps[name]), scale.cmap, scale.vmin,
                                    scale.vmax, pixels=_MAP_PIXELS[name], columns=_COLUMNS,
                                    gap=_GAP))
        return stack_rgba(blocks, _LAYER_GAP)

    def _status_text(self) -> str:
        if self.predicted is None:
            return ("draw a digit on the black square (hold the mouse button down and move), "
                    "then let go: the network reads it at every stroke")
        p = 100 * self.probabilities[self.predicted]
        runner_up = int(np.argsort(self.probabilities)[-2])
        return (f"predicted {self.predicted} ({p:.1f} %), next {runner_up} "
                f"({100 * self.probabilities[runner_up]:.1f} %) · each layer's colours: "
                f"its colour bar (fixed from {RANGE_DIGITS} MNIST test digits)")

    # -- layout and callbacks -------------------------------------------------
    def _build_layout(self) -> None:
        self.input_image = widgets.Image(format="png")
        self._input_box = titled("network input (28x28)", widgets.VBox([
            self.input_image, widgets.Label("black = 0, white = 1")]))
        self.chart = widgets.HTML()
        self.status = status_line()
        self._shapes = {name: self._layer_shape(name) for name in PAD_LAYERS}
        self.maps = {name: np.zeros(self._shapes[name], np.float32) for name in PAD_LAYERS}
        picture, tops = self._maps_picture()
        heights = [b - a - _LAYER_GAP for a, b in zip(tops, tops[1:] + [picture.shape[0]
                                                                         + _LAYER_GAP])]
        self.layer_rows = {name: (top, h) for name, top, h in zip(PAD_LAYERS, tops, heights)}
        self.maps_image = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{picture.shape[1]}px", height=f"{picture.shape[0]}px",
            margin="0 16px 0 0", flex="0 0 auto"))
        labels, legends = zip(*(self._layer_cells(name, h) for name, h in zip(PAD_LAYERS, heights)))
        column = dict(grid_gap=f"{_LAYER_GAP}px", flex="0 0 auto")
        layers = widgets.HBox([widgets.VBox(labels, layout=widgets.Layout(width="110px", **column)),
                               self.maps_image,
                               widgets.VBox(legends, layout=widgets.Layout(**column))],
                              layout=widgets.Layout(align_items="flex-start"))
        canvas = widgets.VBox([self.canvas])
        top = widgets.HBox([titled("draw a digit", canvas), self._input_box,
                            titled("class probabilities", self.chart)],
                           layout=widgets.Layout(align_items="flex-start"))
        self.widget = widgets.VBox([
            top, self.controls["show_input"],
            titled("what every layer makes of it", layers), self.status])
        self._on_show_input()

    def _layer_shape(self, name: str) -> tuple:
        shape = tuple(int(d) for d in self._probe.outputs[PAD_LAYERS.index(name)].shape[1:])
        return shape if len(shape) != 3 or shape[:2] != (1, 1) else shape[2:]

    def _layer_cells(self, name: str, height: int) -> tuple[widgets.Widget, widgets.Widget]:
        """The label and the colour bar with its legend of one layer, ``height`` pixels tall
        (the rows of the maps picture beside them)."""
        shape, scale = self._shapes[name], self.scales[name]
        what = (f"{shape[2]} maps {shape[0]}x{shape[1]}" if len(shape) == 3
                else f"{shape[0]} values")
        bar = widgets.Image(value=colour_bar_png(scale.vmin, scale.vmax, cmap=scale.cmap,
                                                 width=120, height=10), format="png")
        fixed = dict(height=f"{height}px", min_height=f"{height}px", overflow="visible",
                     justify_content="center", margin="0", flex="0 0 auto")
        legend = widgets.VBox([bar, widgets.Label(scale.legend())],
                              layout=widgets.Layout(**fixed))
        label = widgets.VBox([widgets.HTML(f"<b>{name}</b><br>{what}")],
                             layout=widgets.Layout(**fixed))
        return label, legend

    def _on_pixels(self, change) -> None:
        if self._quiet_depth:
            return
        try:
            ink = np.frombuffer(self.canvas.pixels or b"", np.uint8)
            side = self.canvas.size
            if ink.size != side * side:
                self.status.value = (f"The canvas sent {ink.size} pixels, not {side}x{side}; "
                                     "kept the last drawing.")
                return
            self.drawing = ink.reshape(side, side) / 255.0              # (280, 280)
            self._request_redraw()
        finally:
            self.canvas.drawn = self.canvas.sends                       # ready for the next

    def _on_show_input(self, change=None) -> None:
        shown = self.controls["show_input"].value
        self._input_box.layout.display = "" if shown else "none"


def check_drawing(image, name: str = "image") -> np.ndarray:
    """A drawing: (H, W) brightness in [0, 1], 1x1 to 560x560, as float64."""
    x = as_array(image, name, ndims=2).astype(np.float64)
    if 0 in x.shape or max(x.shape) > MAX_DIGIT_SIDE:
        raise ValueError(f"`{name}` must be 1x1 to {MAX_DIGIT_SIDE}x{MAX_DIGIT_SIDE} pixels, "
                         f"got shape {x.shape}")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"`{name}` must hold brightness from 0 (black) to 1 (white ink), got "
                         f"values from {x.min():g} to {x.max():g}")
    return x.copy()


def probability_svg(p: np.ndarray, predicted: int | None, strokes: int = 0) -> str:
    """Ten vertical bars, one per class, the ``predicted`` one orange (none: all blue, empty).

    ``data-predicted`` on the ``<svg>`` holds the prediction (empty for none),
    ``data-strokes`` the number of strokes drawn so far (the browser tests wait on it).
    """
    cell, height, top = 26, 120, 18
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{10 * cell + 8}" '
             f'height="{top + height + 26}" font-family="sans-serif" font-size="13" '
             f'data-predicted="{"" if predicted is None else predicted}" '
             f'data-strokes="{strokes}">',
             f'<line x1="4" x2="{10 * cell + 4}" y1="{top + height}" y2="{top + height}" '
             f'stroke="#999999"/>']
    for k, value in enumerate(p):
        h = float(value) * height
        chosen = k == predicted
        fill = PREDICTED_COLOUR if chosen else BAR_COLOUR
        x = 4 + k * cell
        parts.append(f'<rect class="p{" predicted" if chosen else ""}" x="{x + 4}" '
                     f'y="{top + height - h:.1f}" width="{cell - 8}" height="{h:.1f}" '
                     f'fill="{fill}"><title>{k}: {100 * value:.2f} %</title></rect>')
        weight = ' font-weight="bold"' if chosen else ""
        parts.append(f'<text x="{x + cell / 2}" y="{top + height + 18}" text-anchor="middle"'
                     f'{weight}>{k}</text>')
    head = ("draw a digit" if predicted is None
            else f"predicted {predicted}: {100 * p[predicted]:.1f} %")
    parts.append(f'<text class="verdict" x="4" y="{top - 5}" fill="#444444">{head}</text></svg>')
    return "".join(parts)


def maps_png(pictures, scale, *, pixels: int = 1, columns: int = _COLUMNS,
             gap: int = _GAP) -> bytes:
    """Maps of one layer side by side as one PNG, on one fixed colour scale.

    Each value becomes a ``pixels x pixels`` block coloured as
    :func:`cnnlab.plot.array_to_png` colours it (``scale.vmin`` the first
    colour of ``scale.cmap``, ``scale.vmax`` the last, values outside
    clipped); the maps fill rows of ``columns``, ``gap`` transparent pixels
    apart.

    Parameters
    ----------
    pictures : list of (h, w) ndarray
        1 to 64 maps of one shape, at most 64x64.
    scale : ColourScale
    pixels, columns, gap : int

    Returns
    -------
    bytes
        An RGBA PNG.
    """
    return rgba_png(maps_rgba(pictures, scale.cmap, scale.vmin, scale.vmax, pixels=pixels,
                              columns=columns, gap=gap))


# ----------------------------------------------------------------- helpers

def _squeeze(a: np.ndarray) -> np.ndarray:
    """A layer's output without its 1x1 grid: (1, 1, C) -> (C,); maps stay (H, W, C)."""
    return a.reshape(-1) if a.ndim != 3 or a.shape[:2] == (1, 1) else a


def _pictures(values: np.ndarray) -> list[np.ndarray]:
    """The 2D pictures of one layer's output: each map, or one tile of a vector."""
    if values.ndim == 3:
        return [values[..., i] for i in range(values.shape[2])]
    return [values.reshape(_VECTOR_TILES.get(values.size, (1, values.size)))]


def _canvas_bytes(x: np.ndarray) -> bytes:
    """A drawing (H, W) in [0, 1] as the canvas's 280x280 bytes of ink."""
    picture = Image.fromarray(x.astype(np.float32))
    if x.shape != (CANVAS_SIDE, CANVAS_SIDE):
        picture = picture.resize((CANVAS_SIDE, CANVAS_SIDE), Image.Resampling.BILINEAR)
    ink = np.clip(np.asarray(picture) * 255.0 + 0.5, 0, 255).astype(np.uint8)  # (280, 280)
    return ink.tobytes()


@functools.lru_cache(maxsize=1)
def _shipped_model():
    from ..models import load_model

    return load_model("lenet5_modern")


_NETWORKS: dict[int, tuple] = {}     # id(model) -> (model, probe, run, scales), the last few


def _network(model):
    """For ``model``, made once: the probe over ``PAD_LAYERS`` + output, ``run(x)``
    (the probe called as ``probe(x, training=False)`` on one (1, 28, 28, 1) image,
    compiled as a TensorFlow graph: 2 ms instead of 15), {layer: fixed ColourScale}."""
    from ..models.lenet import probe_model

    model = _shipped_model() if model is None else _check_model(model)
    if id(model) in _NETWORKS and _NETWORKS[id(model)][0] is model:
        return _NETWORKS[id(model)][1:]
    probe = probe_model(model, (*PAD_LAYERS, "output"))
    (_, _), (images, _) = data.load_mnist((1, RANGE_DIGITS))
    x = images.astype(np.float32)[..., None] / 255.0                    # (500, 28, 28, 1)
    outputs = probe(x, training=False)
    scales = {name: data_scale(np.asarray(o)) for name, o in zip(PAD_LAYERS, outputs)}
    run = one_image_runner(probe, (28, 28, 1))
    while len(_NETWORKS) >= 4:
        _NETWORKS.pop(next(iter(_NETWORKS)))
    _NETWORKS[id(model)] = (model, probe, run, scales)
    return probe, run, scales


def _check_model(model):
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError("`model` must be a Keras model (a LeNet-5 from cnnlab.lenet.build_lenet5, "
                        f"or loaded from data/weights), got {describe(model)}")
    try:
        shape_in, shape_out = tuple(model.input.shape)[1:], tuple(model.output.shape)[1:]
    except (AttributeError, TypeError, ValueError):
        shape_in = shape_out = None
    if shape_in != (28, 28, 1) or shape_out != (10,):
        raise ValueError(f"`model` must take 28x28x1 images and give 10 class probabilities, "
                         f"got input {shape_in} and output {shape_out}")
    return model
