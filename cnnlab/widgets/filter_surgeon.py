"""The filter surgeon (lesson 09): edit the trained LeNet-5's C1 filters, watch everything change.

The model is a Keras model; Keras is imported only when a surgeon is made.
The surgeon works on its own copy of the network: the file in
``data/weights`` and any model you pass in are never changed.
"""

from __future__ import annotations

import base64
import os

import ipywidgets as widgets
import numpy as np

from .. import data, kernels
from .._validate import as_array, check_real, describe
from ..plot import array_to_png
from ._base import Explorer, KernelBoxes
from ._mosaic import maps_rgba, rgba_png
from ._controls import (
    CUSTOM, MAX_WEIGHT, WEIGHT_REASON, Dropdown, FloatText, IntSlider, ToggleButtons,
    check_range, check_values, titled, status_line,
)

__all__ = ["FilterSurgeon", "SURGEON_DIGITS", "SURGEON_LAYERS", "SURGEON_PRESETS",
           "MAX_ACCURACY_DIGITS"]

SURGEON_DIGITS = 1000             # the digit slider runs over the first 1000 MNIST test digits
MAX_ACCURACY_DIGITS = 10_000      # accuracy(n): at most the whole test set
N_FILTERS, SIDE = 6, 5            # C1: six 5x5 filters on one input channel
#: The states the "preset" menu names: the filter as trained, all zeros, or negated.
SURGEON_PRESETS = ("trained", "zero", "negated")
#: The layers drawn under the filter, and how many maps of each (C5, F6: one tile).
SURGEON_LAYERS = {"C1": 6, "C3": 8, "C5": 1, "F6": 1}
_TILES = {120: (10, 12), 84: (7, 12)}
_ALL_LAYERS = ("C1", "S2", "C3", "S4", "C5", "F6", "output")
_FILTER_COLOURS = "RdBu_r"        # signed weights: blue < 0 < red, centred on 0
_BATCH = 2000


class FilterSurgeon(KernelBoxes, Explorer):
    """Edit one of the trained LeNet-5's six C1 filters and watch every later layer change.

    Introduced in lesson 09. Layout: a row to pick the C1 filter (0-5), the
    preset menu (the filter as ``"trained"``, ``"zero"``, ``"negated"``, or
    ``"custom"`` once edited) and the operation buttons (**trained**: this
    filter as trained; **zero**; **negate**: flip the sign; **swap with**
    the filter chosen beside it; **reset all**); a slider for the test
    digit. Below: the 5x5 weight boxes and the filter's bias, the edited
    and the trained filter in a diverging colour map (blue negative, red
    positive, centred on 0, fixed range ± the largest |trained C1 weight|,
    with a colour bar), the digit, and the ten class probabilities of the
    edited network (bars; the prediction orange) over those of the trained
    network (dashed ghost bars). Under that, the maps of C1 (all 6), C3
    (the first 8 of 16), C5 (120 values as a 10x12 tile) and F6 (84 as
    7x12), each layer with one fixed range: 0 (black) to the largest value
    the trained network gives on the first 1000 test digits (white), so a
    map that brightens or fades did so. The status line says what changed:
    ``"C1 filter 3 negated: prediction 7 → 7 (p 0.91 → 0.62)"``.

    A filter is its 25 weights and its bias: **zero** clears both (the map
    is then 0 everywhere: the filter is gone), **negate** flips both (the
    pre-activation of its map flips sign), **swap** exchanges both.

    Every edit is written into the C1 layer of the surgeon's own copy of
    the network (``layer.kernel.assign``) and one probe model runs the
    digit through all the layers (``probe(x, training=False)``).

    Parameters
    ----------
    model : None, str, path or keras.Model
        A LeNet-5 with layers ``C1 S2 C3 S4 C5 F6 output`` (C1 a 5x5
        ``Conv2D`` with 6 filters and a bias), 28x28x1 images in, 10 classes
        out. None: the course's trained ``"lenet5_modern"``; a name or path
        is opened with :func:`cnnlab.models.load_model`; a model is copied.
    filter : int
        C1 filter shown first, 0 to 5.
    digit : int
        Test digit shown first, 0 to 999.

    Attributes
    ----------
    controls : dict
        ``"filter"`` (ToggleButtons 0-5), ``"preset"`` (Dropdown), the
        weight boxes ``"w_{row}_{col}"`` and ``"bias"`` (FloatText, from
        ``-MAX_WEIGHT`` to ``MAX_WEIGHT``), ``"swap_with"`` (ToggleButtons
        0-5), ``"digit"`` (IntSlider 0-999) and the buttons ``"trained"``,
        ``"zero"``, ``"negate"``, ``"swap"``, ``"reset_all"``.
    kernels : (5, 5, 1, 6) ndarray of float32
        The C1 kernel now in the network.
    biases : (6,) ndarray of float32
        C1's biases now in the network.
    trained_kernels, trained_biases : ndarray
        The same as trained (as the model was given).
    maps : dict of str to ndarray
        The edited network's outputs for the digit shown: ``"C1"``
        (28, 28, 6), ``"S2"`` (14, 14, 6), ``"C3"`` (10, 10, 16), ``"S4"``
        (5, 5, 16), ``"C5"`` (1, 1, 120), ``"F6"`` (84,).
    preactivation : (28, 28, 6) ndarray
        C1 before its activation (the digit padded by 2, convolved with
        ``kernels``, plus ``biases``): ``maps["C1"] = relu(preactivation)``.
    probabilities, trained_probabilities : (10,) ndarray
        Class probabilities of the edited and of the trained network.
    predicted, trained_predicted, label : int
    changed : bool
        Whether the edited network predicts another class than the trained one.
    image : (28, 28) ndarray
        The digit shown, pixels 0-1.
    ranges : dict of str to float
        The fixed top of each layer's colour range (``"C1"`` ...) and
        ``"filter"``, the largest |trained C1 weight|.
    trained_accuracy : float
        The trained network's accuracy on the first 1000 test digits.
    widget : ipywidgets.VBox
    filter_image, trained_image, digit_image : ipywidgets.Image
    map_images : dict of str to ipywidgets.Image
        One picture per layer shown (one message to the browser each): its
        maps side by side, one map cell of transparent gap apart (C1 6 maps
        at 3 pixels a value, C3 maps 0-7 at 8), C5 and F6 as one tile.
    chart : ipywidgets.HTML
        An inline SVG: ``<rect class="p">`` per class (edited) and
        ``<rect class="ghost">`` per class (trained).
    status : ipywidgets.Label
    """

    def __init__(self, model=None, *, filter=0, digit=0):
        super().__init__()
        start = check_range(filter, "filter", 0, N_FILTERS - 1)
        digit = check_range(digit, "digit", 0, SURGEON_DIGITS - 1)
        self._model = _private_model(model)
        self._c1 = _check_c1(self._model)
        from ..models.lenet import probe_model

        self._probe = probe_model(self._model, _ALL_LAYERS)
        (_, _), (images, labels) = data.load_mnist((1, None))
        self._x = images.astype(np.float32)[..., None] / 255.0        # (10000, 28, 28, 1)
        self._labels = labels.astype(np.int64)                          # (10000,)
        self.trained_kernels = np.array(self._c1.kernel.numpy(), np.float32)   # (5, 5, 1, 6)
        self.trained_biases = np.array(self._c1.bias.numpy(), np.float32)      # (6,)
        self.kernels = self.trained_kernels.copy()
        self.biases = self.trained_biases.copy()
        self._study_trained()
        self._trained_cache: dict[int, np.ndarray] = {}                 # digit -> (10,)
        self._action = "The trained network"
        self._build_controls(start, digit)
        self._build_layout()
        self._guard_controls()
        with self.hold_redraw():
            self._show_filter(start)
            self._request_redraw()

    # -- public -------------------------------------------------------------
    @property
    def filter(self) -> int:
        """The C1 filter now in the boxes."""
        return self.controls["filter"].value

    @property
    def digit(self) -> int:
        """The test digit now shown."""
        return self.controls["digit"].value

    def zero(self, i) -> None:
        """Set C1 filter ``i`` (0-5) to zeros, weights and bias: its map goes dark."""
        i = _check_filter(i, "i")
        self._apply({i: (np.zeros((SIDE, SIDE)), 0.0)}, f"C1 filter {i} zeroed", i)

    def negate(self, i) -> None:
        """Flip the sign of C1 filter ``i``'s weights and bias (twice: back as it was)."""
        i = _check_filter(i, "i")
        self._apply({i: (-self.kernels[:, :, 0, i], -self.biases[i])},
                    f"C1 filter {i} negated", i)

    def swap(self, i, j) -> None:
        """Exchange C1 filters ``i`` and ``j`` (weights and biases; twice: as before)."""
        i, j = _check_filter(i, "i"), _check_filter(j, "j")
        ki, kj = self.kernels[:, :, 0, i].copy(), self.kernels[:, :, 0, j].copy()
        bi, bj = self.biases[i], self.biases[j]
        what = f"C1 filters {i} and {j} swapped" if i != j else f"C1 filter {i} swapped with itself"
        with self.hold_redraw():
            with self._quiet():
                self.controls["swap_with"].value = j
            self._apply({i: (kj, bj), j: (ki, bi)}, what, i)

    def restore(self, i) -> None:
        """Put C1 filter ``i`` back as trained (the **trained** button)."""
        i = _check_filter(i, "i")
        self._apply({i: (self.trained_kernels[:, :, 0, i], self.trained_biases[i])},
                    f"C1 filter {i} back as trained", i)

    def reset(self) -> None:
        """Every C1 filter back as trained: the network is exactly the trained one again."""
        changes = {i: (self.trained_kernels[:, :, 0, i], self.trained_biases[i])
                   for i in range(N_FILTERS)}
        self._apply(changes, "All C1 filters back as trained", self.filter)

    def set_filter(self, i, weights, bias=None) -> None:
        """Put your own 5x5 ``weights`` (and ``bias``, else kept) in C1 filter ``i``.

        Parameters
        ----------
        i : int
            0 to 5.
        weights : (5, 5) array_like
            Finite, from ``-MAX_WEIGHT`` to ``MAX_WEIGHT`` (1e6).
        bias : float, optional
            Same bounds; the filter keeps its bias when omitted.
        """
        i = _check_filter(i, "i")
        w = as_array(weights, "weights", ndims=2)
        if w.shape != (SIDE, SIDE):
            raise ValueError(f"`weights` must have shape (5, 5) (one C1 filter), got {w.shape}")
        check_values(w, "weights", MAX_WEIGHT, WEIGHT_REASON)
        b = self.biases[i] if bias is None else check_real(
            bias, "bias", minimum=-MAX_WEIGHT, maximum=MAX_WEIGHT)
        self._apply({i: (w, b)}, f"C1 filter {i} set from code", i)

    def accuracy(self, n=1000) -> float:
        """Accuracy of the network as edited now on the first ``n`` test digits (1 to 10,000)."""
        n = check_range(n, "n", 1, MAX_ACCURACY_DIGITS)
        self._assign(self.kernels, self.biases)
        return float(np.mean(self._predict(self._x[:n]) == self._labels[:n]))

    def accuracy_without_each(self, n=1000) -> np.ndarray:
        """Accuracy on the first ``n`` test digits with each C1 filter zeroed in turn.

        The other filters stay as they are now; afterwards the network is as
        before (nothing is redrawn).

        Returns
        -------
        (6,) ndarray
            Entry ``i``: the accuracy with filter ``i`` zeroed (weights and bias).
        """
        n = check_range(n, "n", 1, MAX_ACCURACY_DIGITS)
        result = np.zeros(N_FILTERS)
        try:
            for i in range(N_FILTERS):
                k, b = self.kernels.copy(), self.biases.copy()
                k[..., i], b[i] = 0.0, 0.0
                self._assign(k, b)
                result[i] = np.mean(self._predict(self._x[:n]) == self._labels[:n])
        finally:
            self._assign(self.kernels, self.biases)
        return result

    # -- building -------------------------------------------------------------
    def _study_trained(self) -> None:
        """The trained network on the first 1000 digits: probabilities, accuracy, map ranges."""
        x = self._x[:SURGEON_DIGITS]
        outputs = [np.asarray(o) for o in self._probe(x, training=False)]
        by_name = dict(zip(_ALL_LAYERS, outputs))
        predicted = by_name["output"].argmax(axis=1)                    # (1000,)
        self.trained_accuracy = float(np.mean(predicted == self._labels[:SURGEON_DIGITS]))
        self.ranges = {"filter": float(np.abs(self.trained_kernels).max()) or 1.0}
        self._signed = {}
        for name in SURGEON_LAYERS:
            values = by_name[name]
            self._signed[name] = bool(values.min() < 0)
            self.ranges[name] = _round_up(float(np.abs(values).max()))

    def _build_controls(self, start: int, digit: int) -> None:
        indices = [(str(i), i) for i in range(N_FILTERS)]
        small = {"button_width": "32px"}
        self.controls.update(
            filter=ToggleButtons(options=indices, value=start, description="C1 filter",
                                 style=small),
            preset=Dropdown(options=[CUSTOM, *SURGEON_PRESETS], value="trained",
                            description="filter is", layout=widgets.Layout(width="200px")),
        )
        buttons = {"trained": ("trained", "undo", "this filter back as trained"),
                   "zero": ("zero", "eraser", "all weights and the bias to 0"),
                   "negate": ("negate", "exchange", "flip the sign of the weights and bias"),
                   "swap": ("swap with", "random", "exchange this filter with the one chosen"),
                   "reset_all": ("reset all", "refresh", "every filter back as trained")}
        for name, (text, icon, tip) in buttons.items():
            self.controls[name] = widgets.Button(description=text, icon=icon, tooltip=tip,
                                                 layout=widgets.Layout(width="auto"))
        self.controls["swap_with"] = ToggleButtons(options=indices, value=(start + 1) % N_FILTERS,
                                                   style=small)
        self._box_layout = widgets.Layout(width="64px")
        self._boxes = [FloatText(value=0.0, step=0.05, layout=self._box_layout)
                       for _ in range(SIDE * SIDE)]
        for (r, c), box in zip(np.ndindex(SIDE, SIDE), self._boxes):
            self.controls[f"w_{r}_{c}"] = box
            box.observe(self._on_weight, names="value")
        self.controls["bias"] = FloatText(value=0.0, step=0.01, description="bias",
                                          layout=widgets.Layout(width="150px"),
                                          style={"description_width": "32px"})
        self.controls["digit"] = IntSlider(value=digit, min=0, max=SURGEON_DIGITS - 1,
                                           description="test digit", continuous_update=False,
                                           layout=widgets.Layout(width="360px"))
        c = self.controls
        c["filter"].observe(self._on_filter, names="value")
        c["preset"].observe(self._on_preset, names="value")
        c["bias"].observe(self._on_bias, names="value")
        c["digit"].observe(self._on_digit, names="value")
        c["trained"].on_click(lambda _: self.restore(self.filter))
        c["zero"].on_click(lambda _: self.zero(self.filter))
        c["negate"].on_click(lambda _: self.negate(self.filter))
        c["swap"].on_click(lambda _: self.swap(self.filter, c["swap_with"].value))
        c["reset_all"].on_click(lambda _: self.reset())

    def _build_layout(self) -> None:
        c = self.controls
        grid = widgets.GridBox(self._boxes, layout=widgets.Layout(
            grid_gap="2px", grid_template_columns=f"repeat({SIDE}, 66px)", flex="0 0 auto"))
        self.filter_image = widgets.Image(format="png")
        self.trained_image = widgets.Image(format="png")
        self.digit_image = widgets.Image(format="png")
        self.chart = widgets.HTML()
        self.status = status_line()
        self.map_images = {name: widgets.Image(format="png") for name in SURGEON_LAYERS}
        rows = [widgets.HBox([widgets.HTML(self._layer_legend(name),
                                           layout=widgets.Layout(width="170px")), image],
                             layout=widgets.Layout(align_items="center", grid_gap="4px"))
                for name, image in self.map_images.items()]
        self.widget = widgets.VBox([
            widgets.HBox([c["filter"], c["preset"], c["trained"], c["zero"], c["negate"]]),
            widgets.HBox([c["swap"], c["swap_with"], c["reset_all"], c["digit"]]),
            widgets.HBox([titled("weights", widgets.VBox([grid, c["bias"]])),
                          titled("edited", self.filter_image),
                          titled("trained", self.trained_image),
                          widgets.HTML(self._colour_bar()),
                          titled("digit", self.digit_image),
                          titled("class probabilities", self.chart)],
                         layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap")),
            *rows,
            self.status,
        ])

    def _colour_bar(self) -> str:
        """A vertical bar for the filter pictures: +m (red) at the top, 0 white, -m (blue)."""
        m = self.ranges["filter"]
        ramp = np.repeat(np.linspace(m, -m, 80)[:, None], 12, axis=1)  # (80, 12)
        png = array_to_png(ramp, cmap=_FILTER_COLOURS, vmin=-m, vmax=m)
        src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return (f'<div style="display:flex;gap:4px;margin:22px 12px 0 0;font-size:11px">'
                f'<img src="{src}" style="width:12px;height:80px">'
                f'<div style="display:flex;flex-direction:column;justify-content:space-between;'
                f'height:80px"><span>+{m:.3f}</span><span>0</span><span>−{m:.3f}</span></div>'
                f'</div>')

    def _layer_legend(self, name: str) -> str:
        top = self.ranges[name]
        shown = {"C1": "all 6 maps", "C3": "maps 0-7 of 16", "C5": "120 values",
                 "F6": "84 values"}[name]
        scale = (f"blue −{top:g} · white 0 · red +{top:g}" if self._signed[name]
                 else f"black 0 · white {top:g}")
        return f"<b>{name}</b>: {shown}<br><small>{scale} (fixed)</small>"

    # -- callbacks ------------------------------------------------------------
    def _on_weight(self, change):
        if not self._quiet_depth:
            self._action = f"C1 filter {self.filter} edited by hand"
        super()._on_weight(change)

    def _on_bias(self, change):
        if not self._quiet_depth:
            self._action = f"C1 filter {self.filter}: bias edited by hand"
            self._request_redraw()

    def _on_preset(self, change):
        if self._quiet_depth or change.new == CUSTOM:
            return
        i = self.filter
        k, b = self._preset_kernel(change.new), self._preset_bias(change.new)
        words = {"trained": "back as trained", "zero": "zeroed", "negated": "set to -trained"}
        self._apply({i: (k, b)}, f"C1 filter {i} {words[change.new]}", i)

    def _on_filter(self, change):
        if self._quiet_depth:
            return
        self._action = f"Showing C1 filter {change.new}"
        with self.hold_redraw():
            self._show_filter(change.new)
            self._request_redraw()

    def _on_digit(self, change):
        self._action = f"Test digit {change.new}"
        self._request_redraw()

    # -- state ----------------------------------------------------------------
    def _kernel_shape(self):
        return (SIDE, SIDE)

    def _preset_kernel(self, name, size=None):
        trained = self.trained_kernels[:, :, 0, self.filter]
        return {"trained": trained, "zero": np.zeros_like(trained), "negated": -trained}[name]

    def _preset_bias(self, name) -> float:
        b = float(self.trained_biases[self.filter])
        return {"trained": b, "zero": 0.0, "negated": -b}[name]

    def _apply(self, changes: dict, action: str, show: int) -> None:
        """Write ``{filter: (weights (5, 5), bias)}`` into the network, show filter ``show``."""
        with self.hold_redraw():
            for i, (k, b) in changes.items():
                self.kernels[:, :, 0, i] = k
                self.biases[i] = b
            self._assign(self.kernels, self.biases)
            self._action = action
            if self.filter != show:
                with self._quiet():
                    self.controls["filter"].value = show
            self._show_filter(show)
            self._request_redraw()

    def _show_filter(self, i: int) -> None:
        """Put filter ``i``'s weights and bias in the boxes (quietly; redraws at the hold's end)."""
        self._write_kernel(self.kernels[:, :, 0, i])
        with self._quiet():
            self.controls["bias"].value = float(self.biases[i])

    def _assign(self, k: np.ndarray, b: np.ndarray) -> None:
        self._c1.kernel.assign(k.astype(np.float32))
        self._c1.bias.assign(b.astype(np.float32))

    def _trained_output(self, x: np.ndarray) -> np.ndarray:
        """The trained network's probabilities for the digit shown, as the probe gives them."""
        if self.digit not in self._trained_cache:
            self._assign(self.trained_kernels, self.trained_biases)
            self._trained_cache[self.digit] = np.asarray(
                self._probe(x, training=False)[-1])[0]                   # (10,)
            self._assign(self.kernels, self.biases)
        return self._trained_cache[self.digit]

    def _predict(self, x: np.ndarray) -> np.ndarray:
        """Classes the network as it is now gives ``x`` (N, 28, 28, 1), in batches."""
        return np.concatenate([np.asarray(self._model(x[s:s + _BATCH], training=False))
                               .argmax(axis=1) for s in range(0, len(x), _BATCH)])

    def _state_name(self, i: int) -> str:
        k, b = self.kernels[:, :, 0, i], self.biases[i]
        kt, bt = self.trained_kernels[:, :, 0, i], self.trained_biases[i]
        for name, (want_k, want_b) in (("trained", (kt, bt)), ("zero", (np.zeros_like(kt), 0.0)),
                                       ("negated", (-kt, -bt))):
            if np.array_equal(k, want_k) and b == want_b:
                return name
        return CUSTOM

    def _edited(self) -> list[int]:
        return [i for i in range(N_FILTERS) if self._state_name(i) != "trained"]

    # -- drawing --------------------------------------------------------------
    def _draw(self) -> None:
        k = self.kernel                                                  # (5, 5)
        b = self.controls["bias"].value
        message = self._non_finite_message(k) or (
            None if np.isfinite(b) else "The bias is not a number; type a number there. "
                                        "(Showing the last good result.)")
        if message:
            self.status.value = message
            return
        i = self.filter
        self.kernels[:, :, 0, i], self.biases[i] = k, b
        x = self._x[self.digit:self.digit + 1]                           # (1, 28, 28, 1)
        self._assign(self.kernels, self.biases)
        outputs = [np.asarray(o)[0] for o in self._probe(x, training=False)]
        self.maps = dict(zip(_ALL_LAYERS[:-1], outputs[:-1]))
        self.probabilities = outputs[-1]                                 # (10,)
        self.preactivation = kernels.conv2d(x.astype(np.float64), self.kernels,
                                            self.biases, padding=2)[0]    # (28, 28, 6)
        self.trained_probabilities = self._trained_output(x)              # (10,)
        self.predicted = int(self.probabilities.argmax())
        self.trained_predicted = int(self.trained_probabilities.argmax())
        self.changed = self.predicted != self.trained_predicted
        self.label = int(self._labels[self.digit])
        self.image = x[0, :, :, 0]                                       # (28, 28)
        with self._quiet():
            self.controls["preset"].value = self._state_name(i)
        self._draw_pictures(i)
        self.status.value = self._status_text(k)

    def _draw_pictures(self, i: int) -> None:
        m = self.ranges["filter"]
        pictures = dict(cmap=_FILTER_COLOURS, vmin=-m, vmax=m, scale=16)
        self.filter_image.value = array_to_png(self.kernels[:, :, 0, i], **pictures)
        self.trained_image.value = array_to_png(self.trained_kernels[:, :, 0, i], **pictures)
        self.digit_image.value = array_to_png(self.image, vmin=0.0, vmax=1.0, scale=3)
        for name, image in self.map_images.items():
            image.value = rgba_png(self._layer_rgba(name))
        self.chart.value = _probability_svg(self.probabilities, self.trained_probabilities,
                                            self.label)

    def _layer_rgba(self, name: str) -> np.ndarray:
        """The maps of one layer side by side (one cell of gap), or a vector as one tile: RGBA."""
        values, top = self.maps[name], self.ranges[name]
        cmap, bottom = (_FILTER_COLOURS, -top) if self._signed[name] else ("gray", 0.0)
        if values.ndim == 3 and values.shape[0] > 1:                     # (H, W, C) maps
            scale = max(1, 84 // values.shape[0])
            pictures = [values[..., c] for c in range(SURGEON_LAYERS[name])]
            return maps_rgba(pictures, cmap, bottom, top, pixels=scale, columns=len(pictures),
                             gap=scale)
        flat = values.reshape(-1)                                        # a vector: one tile
        return maps_rgba([flat.reshape(_TILES[flat.size])], cmap, bottom, top, pixels=8,
                         columns=1, gap=0)

    def _status_text(self, k: np.ndarray) -> str:
        a, b = self.trained_predicted, self.predicted
        verdict = ", CHANGED" if self.changed else ""
        edited = self._edited()
        which = (f"edited filters: {', '.join(map(str, edited))}" if edited
                 else "no filter edited")
        m = self.ranges["filter"]
        clipped = (f" · weights beyond ±{m:.3f} drawn at the colour bar's ends"
                   if np.abs(k).max() > m else "")
        return (f"{self._action}: prediction {a} → {b} (p {self.trained_probabilities[a]:.2f} "
                f"→ {self.probabilities[b]:.2f}){verdict} · test digit {self.digit}, label "
                f"{self.label} · {which}{clipped}")


# ----------------------------------------------------------------- helpers

def _check_filter(value, name: str) -> int:
    return check_range(value, name, 0, N_FILTERS - 1)


def _round_up(value: float) -> float:
    """``value`` rounded up to 2 significant digits (a colour range the legend can write)."""
    if value <= 0:
        return 1.0
    step = 10.0 ** (np.floor(np.log10(value)) - 1)
    return float(np.ceil(value / step - 1e-9) * step)


def _private_model(model):
    """The surgeon's own copy: the shipped model opened afresh, a file opened, or a clone."""
    from ..models.saved import open_model
    from ..session import import_keras

    if model is None:
        return open_model("lenet5_modern", "model")
    if isinstance(model, (str, os.PathLike)):
        return open_model(model, "model")
    keras = import_keras()
    if not isinstance(model, keras.Model):
        raise TypeError("`model` must be a Keras LeNet-5 (or a shipped model's name such as "
                        f"'lenet5_modern', or None for that one), got {describe(model)}")
    try:
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`model` could not be copied (the surgeon never edits your model): "
                         f"{exc}".splitlines()[0]) from None
    return copy


def _check_c1(model):
    """The model's C1 layer, once the model is known to be a 28x28 -> 10 LeNet-5."""
    names = [layer.name for layer in model.layers]
    missing = [n for n in _ALL_LAYERS if n not in names]
    if missing:
        raise ValueError(f"`model` has no layer named {missing[0]!r}; a LeNet-5 has layers "
                         f"{' '.join(_ALL_LAYERS)} (cnnlab.lenet.build_lenet5)")
    shape_in, shape_out = tuple(model.input.shape)[1:], tuple(model.output.shape)[1:]
    if shape_in != (28, 28, 1) or shape_out != (10,):
        raise ValueError(f"`model` must take 28x28x1 images and give 10 class probabilities, "
                         f"got input {shape_in} and output {shape_out}")
    c1 = model.get_layer("C1")
    kernel, bias = getattr(c1, "kernel", None), getattr(c1, "bias", None)
    if kernel is None or bias is None or tuple(kernel.shape) != (SIDE, SIDE, 1, N_FILTERS):
        got = None if kernel is None else tuple(kernel.shape)
        raise ValueError(f"`model`'s C1 must be a convolution with six 5x5 filters on one "
                         f"channel and a bias (kernel (5, 5, 1, 6)), got kernel {got}")
    return c1


def _probability_svg(p: np.ndarray, ghost: np.ndarray, label: int) -> str:
    """Ten bars of the edited network over dashed ghost bars of the trained one."""
    cell, height, top = 26, 110, 16
    best = int(np.argmax(p))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{10 * cell + 8}" '
             f'height="{top + height + 40}" font-family="sans-serif" font-size="13">']
    for k in range(10):
        x = 4 + k * cell
        h, g = float(p[k]) * height, float(ghost[k]) * height
        fill = "#f58518" if k == best else "#4c78a8"
        parts.append(f'<rect class="p" x="{x + 6}" y="{top + height - h:.1f}" '
                     f'width="{cell - 12}" height="{h:.1f}" fill="{fill}"><title>{k}: edited '
                     f'{100 * p[k]:.2f} %, trained {100 * ghost[k]:.2f} %</title></rect>')
        parts.append(f'<rect class="ghost" x="{x + 3}" y="{top + height - g:.1f}" '
                     f'width="{cell - 6}" height="{g:.1f}" fill="none" stroke="#555555" '
                     f'stroke-dasharray="3,2"/>')
        weight = ' font-weight="bold" text-decoration="underline"' if k == label else ""
        parts.append(f'<text x="{x + cell / 2}" y="{top + height + 18}" text-anchor="middle"'
                     f'{weight}>{k}</text>')
    parts.append(f'<text x="4" y="{top - 4}" fill="#444444">edited: {100 * p[best]:.1f} % '
                 f'for {best}</text>')
    parts.append(f'<text x="4" y="{top + height + 36}" fill="#444444" font-size="11">'
                 f'bars: edited · dashed: trained · underlined: label</text></svg>')
    return "".join(parts)
