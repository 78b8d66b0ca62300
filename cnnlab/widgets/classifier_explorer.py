"""The classifier explorer (lesson 07): the trained MNIST network, from a digit to ten classes.

The model is a Keras model; Keras is imported only when an explorer is made.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import data
from .._validate import check_choice, describe
from ..plot._png import array_to_png, colour_bar_png
from ._base import Explorer
from ._mosaic import maps_rgba, rgba_png
from ._network import one_image_runner
from ._controls import IntSlider, ToggleButtons, check_range, titled, status_line
from .softmax_explorer import probability_svg

__all__ = ["ClassifierExplorer", "CLASSIFIER_LAYERS", "N_DIGITS", "MAPS_SHOWN", "MAP_ORDERS",
           "MAP_CMAP"]

N_DIGITS = 1000                   # the first 1000 MNIST test digits: the slider's 0 .. 999
CLASSIFIER_LAYERS = ("conv1", "conv2")
MAPS_SHOWN = 8                    # feature maps drawn per layer
MAP_ORDERS = ("first", "strongest")
MAP_CMAP = "gray"                 # ReLU maps are >= 0: black = 0, white = the layer's largest
_MAP_PIXELS = 78                  # side of one feature-map picture
_MAP_GAP = 2                      # transparent pixels between two maps
_BATCH = 250                      # digits per forward pass when measuring the ranges


class ClassifierExplorer(Explorer):
    """Pick an MNIST test digit and follow the trained lesson-07 network to its answer.

    Introduced in lesson 07. Shows the digit (grey, black = 0, white = 1),
    eight feature maps of ``conv1`` and of ``conv2`` (after ReLU) and the ten
    class probabilities as bars, the predicted class in orange and the true
    label underlined. Each layer's maps share one fixed colour range, from 0
    to that layer's largest value over all :data:`N_DIGITS` digits the
    slider offers (measured once, when the explorer is made), so brightness
    compares across maps and across digits; a colour bar under each layer
    says so.

    Parameters
    ----------
    model : keras.Model, optional
        The network of :func:`cnnlab.models.build_mnist_cnn` (layers ``conv1``,
        ``conv2``, ``dense``, ``output``; 28x28x1 in, 10 probabilities out);
        by default the trained copy the course ships
        (:func:`cnnlab.models.load_mnist_cnn`). An untrained one works too.
    index : int
        The first test digit shown, 0 to 999.
    maps : {"first", "strongest"}
        Which eight maps of each layer to draw: maps 0-7, or the eight with
        the largest mean activation for the digit shown (strongest first).

    Attributes
    ----------
    controls : dict
        ``"index"`` (IntSlider, 0 to 999), ``"maps"`` (ToggleButtons).
    image : (28, 28) ndarray
        The digit shown, pixels in [0, 1].
    probabilities : (10,) ndarray
        The model's output for it (``model(x, training=False)``).
    logits : (10,) ndarray
        The scores before softmax (``dense @ W + b`` of the output layer), so
        ``activations.softmax(logits)`` gives ``probabilities``.
    predicted, label : int
        Predicted and true class.
    maps : dict
        ``"conv1"`` -> (26, 26, 32), ``"conv2"`` -> (11, 11, 64) ndarray.
    shown_maps : dict
        Layer -> the eight map numbers drawn.
    map_ranges : dict
        Layer -> (0.0, largest value): the fixed colour range of its maps.
    digit_image, chart : ipywidgets.Image
        The digit (PNG) and the probability bars (SVG).
    map_pictures : dict
        Layer -> one ``ipywidgets.Image`` of its eight maps (one message to
        the browser per redraw): 4 to a row, ``map_cell`` pixels each,
        ``_MAP_GAP`` (2) transparent pixels apart; the map numbers above it
        over its top row and under its bottom row.
    map_cell : dict
        Layer -> side in pixels of one map in its picture.
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, model=None, index=0, *, maps="first"):
        super().__init__()
        index = check_range(index, "index", 0, N_DIGITS - 1)
        maps = check_choice(maps, "maps", MAP_ORDERS)
        if model is None:
            from ..models.mnist_cnn import load_mnist_cnn

            model = load_mnist_cnn()
        self._probe, self._head = _mnist_probe(model)
        self._run = one_image_runner(self._probe, (28, 28, 1))
        (_, _), (images, labels) = data.load_mnist(limit=(1, N_DIGITS))
        self._images = images.astype(np.float32) / np.float32(255)      # (1000, 28, 28)
        self._labels = labels.astype(np.int64)                          # (1000,)
        self.map_ranges = self._measure_ranges()

        self.controls.update(
            index=IntSlider(value=index, min=0, max=N_DIGITS - 1, description="test digit",
                            continuous_update=False, layout=widgets.Layout(width="420px")),
            maps=ToggleButtons(options=MAP_ORDERS, value=maps, description="maps",
                               tooltips=["maps 0-7", "the 8 with the largest mean for this digit"],
                               style={"button_width": "80px"}),
        )
        self.digit_image = widgets.Image(format="png")
        self.chart = widgets.Image(format="svg+xml")
        self.status = status_line()
        self.map_pictures, self.map_cell = {}, {}
        self._map_titles = {}
        columns = [titled("digit (black = 0, white = 1)", self.digit_image)]
        for layer in CLASSIFIER_LAYERS:
            columns.append(self._layer_panel(layer))
        columns.append(titled("class probabilities", self.chart))
        self.widget = widgets.VBox([
            widgets.HBox([self.controls["index"], self.controls["maps"]]),
            widgets.HBox(columns, layout=widgets.Layout(align_items="flex-start",
                                                        flex_flow="row wrap")),
            self.status,
        ])
        for control in self.controls.values():
            control.observe(self._request_redraw, names="value")
        self._guard_controls()
        self.redraw()

    # -- public -------------------------------------------------------------
    @property
    def index(self) -> int:
        """The test digit now shown."""
        return self.controls["index"].value

    # -- building -------------------------------------------------------------
    def _measure_ranges(self) -> dict:
        """Layer -> (0, largest value over the N_DIGITS digits): the fixed colour ranges."""
        largest = dict.fromkeys(CLASSIFIER_LAYERS, 0.0)
        for first in range(0, N_DIGITS, _BATCH):
            x = self._images[first:first + _BATCH, :, :, None]           # (B, 28, 28, 1)
            outputs = self._probe(x, training=False)
            for layer, out in zip(CLASSIFIER_LAYERS, outputs):
                largest[layer] = max(largest[layer], float(np.max(out)))
        return {layer: (0.0, m if m > 0 else 1.0) for layer, m in largest.items()}

    def _layer_panel(self, layer: str) -> widgets.VBox:
        lo, hi = self.map_ranges[layer]
        self.map_pictures[layer] = widgets.Image(format="png")
        self._map_titles[layer] = (widgets.HTML(), widgets.HTML())
        top, bottom = self._map_titles[layer]
        grid = widgets.VBox([top, self.map_pictures[layer], bottom])
        width = MAPS_SHOWN // 2 * _MAP_PIXELS
        bar = widgets.Image(value=colour_bar_png(lo, hi, cmap=MAP_CMAP, width=width), format="png")
        scale = widgets.HTML(f"<small>{lo:g} (black) to {hi:.2f} (white): one range for every "
                             f"{layer} map, its largest value over test digits 0-{N_DIGITS - 1}"
                             "</small>", layout=widgets.Layout(width=f"{width}px"))
        return titled(f"{layer} feature maps (after ReLU)", widgets.VBox([grid, bar, scale]))

    # -- drawing --------------------------------------------------------------
    def _draw(self) -> None:
        i = self.index
        image = self._images[i]                                         # (28, 28) in [0, 1]
        conv1, conv2, dense, probs = (np.asarray(o)[0] for o in
                                      self._run(image[None, :, :, None]))
        w, b = self._head
        self.image = image
        self.maps = {"conv1": conv1, "conv2": conv2}                    # (26, 26, 32), (11, 11, 64)
        self.probabilities = probs.astype(np.float64)                   # (10,)
        self.logits = dense.astype(np.float64) @ w + b                  # (512,) @ (512, 10) + (10,)
        self.predicted = int(np.argmax(self.probabilities))
        self.label = int(self._labels[i])
        self.digit_image.value = array_to_png(image, cmap="gray", vmin=0, vmax=1, scale=5)
        order = self.controls["maps"].value
        self.shown_maps = {}
        for layer, fm in self.maps.items():
            self.shown_maps[layer] = self._draw_maps(layer, fm, order)
        self.chart.value = probability_svg(self.probabilities, label=self.label,
                                           title=f"predicted {self.predicted}, true {self.label}")
        verdict = "right" if self.predicted == self.label else "WRONG"
        (_, m1), (_, m2) = self.map_ranges["conv1"], self.map_ranges["conv2"]
        self.status.value = (
            f"test digit {i}: label {self.label}, predicted {self.predicted} "
            f"({100 * self.probabilities[self.predicted]:.1f} %), {verdict} · maps "
            f"{order}: {self.shown_maps['conv1'][:4]}... of conv1 (0 to {m1:.2f}), "
            f"{self.shown_maps['conv2'][:4]}... of conv2 (0 to {m2:.2f})")

    def _draw_maps(self, layer: str, fm: np.ndarray, order: str) -> list:
        """Draw eight maps of ``fm (H, W, C)`` on the layer's fixed range; return their numbers."""
        if order == "first":
            chosen = list(range(MAPS_SHOWN))
        else:
            chosen = [int(c) for c in np.argsort(-fm.mean(axis=(0, 1)), kind="stable")[:MAPS_SHOWN]]
        lo, hi = self.map_ranges[layer]
        scale = max(1, _MAP_PIXELS // fm.shape[0])
        columns = MAPS_SHOWN // 2
        self.map_cell[layer] = fm.shape[0] * scale
        self.map_pictures[layer].value = rgba_png(maps_rgba(
            [fm[..., c] for c in chosen], MAP_CMAP, lo, hi, pixels=scale, columns=columns,
            gap=_MAP_GAP))
        pitch = self.map_cell[layer] + _MAP_GAP
        top, bottom = self._map_titles[layer]
        top.value = map_titles(chosen[:columns], pitch)
        bottom.value = map_titles(chosen[columns:], pitch)
        return chosen


def map_titles(numbers, pitch: int) -> str:
    """The numbers of one row of maps, each over (or under) its map, ``pitch`` pixels apart (HTML)."""
    cells = "".join(f"<small>map {c}</small>" for c in numbers)
    return (f'<div class="cnnlab-map-titles" style="display:grid;grid-template-columns:'
            f'repeat({len(numbers)}, {pitch}px);justify-items:center;line-height:1.2">'
            f'{cells}</div>')


def _mnist_probe(model):
    """The model giving conv1, conv2, dense and output, and the output layer's (W, b), checked."""
    from ..session import import_keras

    keras = import_keras()
    if not isinstance(model, keras.Model):
        raise TypeError("`model` must be a Keras model (cnnlab.models.load_mnist_cnn() or "
                        f"build_mnist_cnn()), got {describe(model)}")
    try:
        shape_in = tuple(model.input.shape)[1:]
        shape_out = tuple(model.output.shape)[1:]
    except (AttributeError, TypeError, ValueError):
        shape_in = shape_out = None
    if shape_in != (28, 28, 1) or shape_out != (10,):
        raise ValueError(f"`model` must take 28x28x1 images and give 10 class probabilities, "
                         f"got input {shape_in} and output {shape_out}")
    names = {layer.name for layer in model.layers}
    missing = [n for n in (*CLASSIFIER_LAYERS, "dense", "output") if n not in names]
    if missing:
        raise ValueError(f"`model` must have the layers of cnnlab.models.build_mnist_cnn "
                         f"(conv1, conv2, dense, output); missing {', '.join(missing)}")
    output = model.get_layer("output")
    if getattr(output.activation, "__name__", "") != "softmax":
        raise ValueError("`model`'s layer 'output' must end in softmax (as build_mnist_cnn's)")
    w, b = (np.asarray(v, dtype=np.float64) for v in output.get_weights())   # (512, 10), (10,)
    probe = keras.Model(model.input, [model.get_layer(n).output for n in
                                      (*CLASSIFIER_LAYERS, "dense")] + [model.output])
    return probe, (w, b)
