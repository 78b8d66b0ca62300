"""The digit inspector (lesson 09): LeNet-5 on one MNIST test digit, layer by layer.

The model is a Keras model; Keras is imported only when an inspector is made.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import data
from .._validate import as_array, check_choice, check_int, describe
from ..plot import array_to_png, data_scale
from ._base import Explorer
from ._mosaic import maps_rgba, rgba_png
from ._network import one_image_runner
from ._controls import Dropdown, IntSlider, titled, status_line

__all__ = ["DigitInspector", "INSPECTOR_LAYERS", "MAX_INSPECTOR_IMAGES"]

MAX_INSPECTOR_IMAGES = 10_000     # most digits DigitInspector takes (one test set)

#: Layers the digit inspector can show; C5 and F6 are vectors, drawn as 10x12 and 7x12 tiles.
INSPECTOR_LAYERS = ("C1", "S2", "C3", "S4", "C5", "F6")
_VECTOR_TILES = {120: (10, 12), 84: (7, 12)}
_MAP_PIXELS = 84                  # side of one feature-map picture
_MAP_GAP = 4                      # transparent pixels between two maps


class DigitInspector(Explorer):
    """Pick an MNIST test digit and watch LeNet-5 process it, layer by layer.

    Introduced in lesson 09. Layout: a slider for the test digit, a layer
    menu and a "next mistake" button (jumps to the next test digit the model
    gets wrong); below, the digit (black = 0, white = 255), the chosen
    layer's feature maps and the ten class
    probabilities as bars (the prediction in orange, the true class
    underlined); a status line. C5's 120 values are drawn as a 10x12 tile
    and F6's 84 as a 7x12 tile. All maps of the layer share one fixed
    scale, so brighter means larger across maps: grey from 0 (black) to
    the layer's largest value (white) when no value is negative (ReLU), else
    diverging about 0 (blue < 0 < red, e.g. tanh); the line under the maps
    says it with numbers.

    Parameters
    ----------
    model : keras.Model
        A LeNet-5 from :func:`cnnlab.lenet.build_lenet5` (or loaded from
        ``data/weights``): layers ``C1 S2 C3 S4 C5 F6 output``, 28x28x1
        images in, 10 classes out.
    index : int
        Starting test digit, 0 to 9999 (0 to ``N - 1`` with ``images``).
    layer : {"C1", "S2", "C3", "S4", "C5", "F6"}
    images : (N, 28, 28) or (N, 28, 28, 1) array_like, optional
        Your own digits, pixels 0-255, at most ``MAX_INSPECTOR_IMAGES``
        (10,000); by default the MNIST test set. Give ``labels`` with them.
    labels : (N,) array_like of int, optional
        The true class (0-9) of each of ``images``.

    Attributes
    ----------
    controls : dict
        ``"index"`` (IntSlider), ``"layer"`` (Dropdown), ``"mistake"`` (Button).
    probabilities : (10,) ndarray
        The model's output for the digit now shown.
    prediction, label : int
        Predicted and true class.
    feature_maps : (H, W, C) ndarray
        The chosen layer's output (``(1, 1, C)`` for C5, ``(1, 1, 84)`` for F6).
    display_range : (float, float)
        The values drawn with the first and the last colour of the maps.
    display_cmap : str
        ``"gray"`` (white = high) or ``"RdBu_r"`` (blue < 0 < red).
    legend : str
        What the maps' colours stand for.
    widget : ipywidgets.VBox
    digit_image : ipywidgets.Image
    maps_image : ipywidgets.Image
        Every map of the layer in one picture (one message to the browser per
        redraw): ``map_columns`` to a row (6 maps: 3x2, 16: 4x4), each map
        ``map_cell`` pixels, ``_MAP_GAP`` (4) transparent pixels apart; C5
        and F6 as one tile.
    map_columns : int
    map_cell : (int, int)
        Height and width in pixels of one map in ``maps_image``.
    chart : ipywidgets.HTML
        The probabilities (an inline SVG with one ``<rect class="p">`` per class).
    status : ipywidgets.Label
    """

    def __init__(self, model, index=0, layer="C1", *, images=None, labels=None):
        super().__init__()
        index = check_int(index, "index", minimum=0)
        check_choice(layer, "layer", INSPECTOR_LAYERS)
        given = _check_digits(images, labels)
        layers = getattr(model, "layers", None)
        if not isinstance(layers, (list, tuple)) or not layers:
            raise TypeError("`model` must be a Keras model (a LeNet-5 from "
                            "cnnlab.lenet.build_lenet5, or loaded from data/weights), got "
                            f"{describe(model)}")
        self._probe = _lenet_probe(model)
        self._run = one_image_runner(self._probe, (28, 28, 1))
        if given is None:
            (_, _), (images, labels) = data.load_mnist()
            what = "the test images"
        else:
            images, labels = given
            what = "the images given"
        self._images, self._labels = images, labels                     # (N, 28, 28), (N,)
        if index >= len(images):
            raise ValueError(f"`index` must be below {len(images)} ({what}), got {index}")
        self._predicted = None                                          # all test predictions, on demand

        slider = IntSlider(value=index, min=0, max=len(images) - 1,
                           description="test digit", continuous_update=False,
                           layout=widgets.Layout(width="420px"))
        menu = Dropdown(options=INSPECTOR_LAYERS, value=layer, description="layer",
                        layout=widgets.Layout(width="160px"))
        mistake = widgets.Button(description="next mistake", icon="forward",
                                 tooltip="jump to the next test digit the model gets wrong")
        self.controls.update(index=slider, layer=menu, mistake=mistake)
        self.digit_image = widgets.Image(format="png")
        self.maps_image = widgets.Image(format="png")
        self._legend = widgets.Label()
        self.display_range, self.display_cmap, self.legend = None, None, ""
        self.chart = widgets.HTML()
        self.status = status_line()
        self.widget = widgets.VBox([
            widgets.HBox([slider, menu, mistake]),
            widgets.HBox([titled("digit", self.digit_image),
                          titled("feature maps", widgets.VBox([self.maps_image, self._legend])),
                          titled("class probabilities", self.chart)],
                         layout=widgets.Layout(align_items="flex-start")),
            self.status,
        ])
        self._guard_controls()
        self.redraw()
        slider.observe(self._request_redraw, names="value")
        menu.observe(self._request_redraw, names="value")
        mistake.on_click(self.next_mistake)

    # -- public -------------------------------------------------------------
    @property
    def index(self) -> int:
        """The test digit now shown."""
        return self.controls["index"].value

    def next_mistake(self, _button=None) -> None:
        """Show the next test digit (after the current one, wrapping round) the model gets wrong."""
        if self._predicted is None:
            x = self._images.astype(np.float32)[..., None] / 255.0        # (10000, 28, 28, 1)
            self._predicted = np.concatenate([
                np.asarray(self._probe(x[i:i + 2000], training=False)[-1]).argmax(axis=1)
                for i in range(0, len(x), 2000)])
        wrong = np.flatnonzero(self._predicted != self._labels)
        if not len(wrong):
            self.status.value = "The model gets every test digit right: no mistake to show."
            return
        after = wrong[wrong > self.index]
        self.controls["index"].value = int(after[0] if len(after) else wrong[0])

    # -- drawing --------------------------------------------------------------
    def _draw(self) -> None:
        image = self._images[self.index]                                # (28, 28) uint8
        x = image.astype(np.float32)[None, :, :, None] / 255.0          # (1, 28, 28, 1)
        outputs = [np.asarray(o)[0] for o in self._run(x)]
        by_name = dict(zip(("C1", "S2", "C3", "S4", "C5", "F6", "output"), outputs))
        layer = self.controls["layer"].value
        maps = by_name[layer]
        self.feature_maps = maps if maps.ndim == 3 else maps.reshape(1, 1, -1)  # (H, W, C)
        self.probabilities = by_name["output"]                          # (10,)
        self.prediction = int(self.probabilities.argmax())
        self.label = int(self._labels[self.index])
        self.digit_image.value = array_to_png(image, vmin=0, vmax=255, scale=6)
        self._show_maps(self.feature_maps)
        self.chart.value = _probability_svg(self.probabilities, self.label)
        verdict = "right" if self.prediction == self.label else "WRONG"
        h, w, c = self.feature_maps.shape
        shape = f"{c} maps of {h}x{w}" if h > 1 else f"{c} values"
        self.status.value = (
            f"test digit {self.index}: label {self.label}, predicted {self.prediction} "
            f"({100 * self.probabilities[self.prediction]:.1f} %), {verdict} · "
            f"layer {layer}: {shape}, {self.legend}")

    def _show_maps(self, maps: np.ndarray) -> None:
        h, w, c = maps.shape
        pictures = ([maps[..., i] for i in range(c)] if h > 1
                    else [maps.reshape(-1).reshape(_VECTOR_TILES.get(c, (1, c)))])
        shared = data_scale(maps)                      # one fixed scale for every map of the layer
        self.display_range, self.display_cmap = (shared.vmin, shared.vmax), shared.cmap
        self.legend = f"{shared.legend()} (shared by the {c} {'maps' if h > 1 else 'values'})"
        self._legend.value = self.legend
        scale = max(1, _MAP_PIXELS // max(pictures[0].shape)) if h > 1 else 12
        self.map_columns = int(np.ceil(np.sqrt(len(pictures))))        # 6 maps: 3x2, 16: 4x4
        self.map_cell = (pictures[0].shape[0] * scale, pictures[0].shape[1] * scale)
        self.maps_image.value = rgba_png(maps_rgba(
            pictures, shared.cmap, shared.vmin, shared.vmax, pixels=scale,
            columns=self.map_columns, gap=_MAP_GAP))


def _check_digits(images, labels):
    """``None`` (use MNIST), or the checked ``(images (N, 28, 28), labels (N,) int)``."""
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        missing = "images" if images is None else "labels"
        raise ValueError(f"`{missing}` must be given too: `images` and `labels` go together "
                         "(or leave both out for the MNIST test set)")
    x = as_array(images, "images", ndims=(3, 4))
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.shape[1:] != (28, 28) or len(x) == 0:
        raise ValueError(f"`images` must have shape (N, 28, 28) or (N, 28, 28, 1) with N >= 1, "
                         f"got {x.shape}")
    if len(x) > MAX_INSPECTOR_IMAGES:
        raise ValueError(f"`images` must hold at most {MAX_INSPECTOR_IMAGES:,} digits, got "
                         f"{len(x):,}")
    if x.min() < 0 or x.max() > 255:
        raise ValueError(f"`images` must hold pixels from 0 to 255, got values from "
                         f"{x.min():g} to {x.max():g}")
    y = as_array(labels, "labels", ndims=1)
    if y.shape != (len(x),):
        raise ValueError(f"`labels` must hold one class per image ({len(x)}), got shape {y.shape}")
    if np.any(y != np.round(y)) or y.min() < 0 or y.max() > 9:
        raise ValueError("`labels` must hold whole class numbers 0 to 9")
    return x, y.astype(np.int64)


def _lenet_probe(model):
    """The model that returns every LeNet-5 layer's output (``lenet.probe_model``), checked."""
    from ..models.lenet import LAYER_NAMES, probe_model

    probe = probe_model(model, LAYER_NAMES)
    try:
        shape_in = tuple(model.input.shape)[1:]
        shape_out = tuple(model.output.shape)[1:]
    except (AttributeError, TypeError, ValueError):
        shape_in = shape_out = None
    if shape_in != (28, 28, 1) or shape_out != (10,):
        raise ValueError(f"`model` must take 28x28x1 images and give 10 class probabilities, "
                         f"got input {shape_in} and output {shape_out}")
    return probe


def _probability_svg(p: np.ndarray, label: int) -> str:
    """Ten vertical bars, one per class; the predicted one orange, the true label underlined."""
    cell, height, top = 26, 110, 16
    best = int(np.argmax(p))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{10 * cell + 8}" '
             f'height="{top + height + 40}" font-family="sans-serif" font-size="13">']
    for k, value in enumerate(p):
        h = float(value) * height
        fill = "#f58518" if k == best else "#4c78a8"
        x = 4 + k * cell
        parts.append(f'<rect class="p" x="{x + 4}" y="{top + height - h:.1f}" width="{cell - 8}" '
                     f'height="{h:.1f}" fill="{fill}"><title>{k}: {100 * value:.2f} %</title></rect>')
        weight = ' font-weight="bold" text-decoration="underline"' if k == label else ""
        parts.append(f'<text x="{x + cell / 2}" y="{top + height + 18}" text-anchor="middle"'
                     f'{weight}>{k}</text>')
    parts.append(f'<text x="4" y="{top - 4}" fill="#444">{100 * p[best]:.1f} % for {best}</text>')
    parts.append(f'<text x="4" y="{top + height + 36}" fill="#444" font-size="11">'
                 f'underlined: the true label</text></svg>')
    return "".join(parts)
