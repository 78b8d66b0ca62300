"""The activation explorer (lesson 06): a feature map before and after a non-linearity."""

from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib
import numpy as np
from PIL import Image

from .. import activations, data, filters, kernels
from .._validate import as_array, check_choice, check_real
from ..plot import array_to_png
from ._base import Explorer
from ._canvas import FigurePNG
from ._controls import (
    CUSTOM, Dropdown, FloatSlider, ToggleButtons, check_input_side, check_values, number, plain,
    range_check, titled, status_line,
)

__all__ = ["ActivationExplorer", "ACTIVATIONS", "ACTIVATION_INPUTS",
           "DEAD_THRESHOLD", "MAX_BIAS", "INPUT_LIMIT", "VALUE_RANGE", "MAX_ACTIVATION_SIDE"]

#: menu label -> name of the function in :mod:`cnnlab.activations`
ACTIVATIONS = {"ReLU": "relu", "leaky ReLU": "leaky_relu", "tanh": "tanh",
               "sigmoid": "sigmoid", "GELU": "gelu"}
ACTIVATION_INPUTS = ("digit, vertical edges", "digit, horizontal edges", "ramp -4 to 4")
DEAD_THRESHOLD = 1e-3         # |output| below this counts as dead (ReLU: exactly 0)
MAX_BIAS = 3.0                # the bias slider runs from -3 to 3 ...
BIAS_STEP = 0.25              # ... in steps of 0.25
INPUT_LIMIT = 4.0             # largest |value| of an input map (Sobel on a [0, 1] digit: 4)
VALUE_RANGE = INPUT_LIMIT + MAX_BIAS   # both maps are coloured from -7 to 7, always
MAX_ACTIVATION_SIDE = 64      # largest side of your own feature map
DISPLAY_PIXELS = 196          # the maps are enlarged (nearest neighbour) to about this
CURVE_POINTS = 321
CURVE_COLOUR = "#ff7f0e"
REFERENCE_COLOUR = "#7f7f7f"
DEAD_FILL = "#d9d9d9"
MAP_CMAP = "RdBu_r"


def apply_activation(name: str, z: np.ndarray, slope: float) -> np.ndarray:
    """``f(z)`` for the activation ``name`` (a value of :data:`ACTIVATIONS`); same shape."""
    if name == "leaky_relu":
        return activations.leaky_relu(z, slope)
    return getattr(activations, name)(z)


def dead_mask(name: str, y: np.ndarray) -> np.ndarray:
    """Where the output is dead: exactly 0 for ReLU, ``|y| < DEAD_THRESHOLD`` for the others."""
    return y == 0 if name == "relu" else np.abs(y) < DEAD_THRESHOLD


class ActivationExplorer(Explorer):
    """A feature map, a bias and an activation function: see what the non-linearity cuts.

    Introduced in lesson 06. The input is a feature map ``x`` (an MNIST
    digit filtered with ``sobel_x`` (vertical edges) or ``sobel_y``
    (horizontal edges) through ``kernels.conv2d(..., padding="same")``, on
    the 0-255 pixels divided by 255 so that flat areas are exactly 0, or a
    ramp from -4 to 4 left to right). The explorer shows the pre-activation
    ``z = x + bias`` and the activated map ``f(z)`` side by side, both in the
    diverging map "RdBu_r" with the same fixed range -7..7 (blue negative,
    white 0, red positive; the colour bar beside the curve), so what the
    activation squashes or cuts fades to white. The curve panel draws
    ``f(x + bias)`` against ``x`` (solid), ``f(x)`` (dashed grey), a dotted
    line at ``x = -bias`` (where the bias moves the kink or centre of ``f``)
    and shades the ``x`` where the output is dead.

    A unit is *dead* when its output is exactly 0 (ReLU), or, for the other
    activations, when ``|f(z)| < DEAD_THRESHOLD`` (1e-3): it passes on
    (almost) nothing. ``dead_share`` is their share of the map.

    Parameters
    ----------
    feature_map : str or (H, W) array_like, optional
        One of ``ACTIVATION_INPUTS`` (the first by default), or your own map
        (offered as "custom"), at most ``MAX_ACTIVATION_SIDE`` (64) a side,
        values from ``-INPUT_LIMIT`` to ``INPUT_LIMIT`` (-4 to 4).
    activation : {"relu", "leaky_relu", "tanh", "sigmoid", "gelu"}
    slope : float
        Leaky ReLU's ``alpha``, 0 to 1 (ignored by the other activations).
    bias : float
        Added before the activation, -3 to 3.

    Attributes
    ----------
    controls : dict
        ``"activation"`` (ToggleButtons, values as above), ``"slope"``
        (0 to 1, disabled unless leaky ReLU), ``"bias"`` (-3 to 3, step
        0.25), ``"input"`` (Dropdown of the inputs).
    feature_map : (H, W) ndarray
        The input ``x``.
    pre_activation : (H, W) ndarray
        ``x + bias``.
    activated : (H, W) ndarray
        ``f(x + bias)``.
    dead : (H, W) ndarray of bool
    dead_share : float
        Share of dead units, 0 to 1.
    curve_x, curve_y : (321,) ndarray
        The curve drawn: ``x`` from -4 to 4 and ``f(x + bias)``.
    pre_image, activated_image, curve_image : ipywidgets.Image
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, feature_map=None, *, activation="relu", slope=0.2, bias=0.0):
        super().__init__()
        self._inputs: dict[str, np.ndarray] = {}
        if feature_map is None or isinstance(feature_map, str):
            source = check_choice(feature_map or ACTIVATION_INPUTS[0], "feature_map",
                                  ACTIVATION_INPUTS)
        else:
            fm = as_array(feature_map, "feature_map", ndims=2)
            check_input_side(fm, "feature_map", MAX_ACTIVATION_SIDE, "it is drawn cell by cell")
            self._inputs[CUSTOM] = check_values(
                fm, "feature_map", INPUT_LIMIT,
                why=f"the maps are coloured from {-VALUE_RANGE:g} to {VALUE_RANGE:g}")
            source = CUSTOM
        activation = check_choice(activation, "activation", tuple(ACTIVATIONS.values()))
        slope = check_real(slope, "slope", minimum=0.0, maximum=1.0)
        bias = check_real(bias, "bias", minimum=-MAX_BIAS, maximum=MAX_BIAS)
        self._make_controls(source, activation, slope, bias)
        self.pre_image = widgets.Image(format="png")
        self.activated_image = widgets.Image(format="png")
        self.curve_image = widgets.Image(format="png")
        self.status = status_line()
        c = self.controls
        self.widget = widgets.VBox([
            widgets.HBox([c["activation"], c["input"]]),
            widgets.HBox([c["bias"], c["slope"]]),
            widgets.HBox([titled("pre-activation x + bias", self.pre_image),
                          titled("activated f(x + bias)", self.activated_image),
                          titled("activation curve", self.curve_image)],
                         layout=widgets.Layout(align_items="flex-start")),
            self.status,
        ])
        self.feature_map = self.pre_activation = self.activated = self.dead = None
        self.dead_share = float("nan")
        self.curve_x = np.linspace(-INPUT_LIMIT, INPUT_LIMIT, CURVE_POINTS)   # (321,)
        self.curve_y = None
        self._curve = _CurvePanel()
        for name in ("activation", "input", "bias", "slope"):
            c[name].observe(self._request_redraw, names="value")
        self._guard_controls()
        self.redraw()

    def _make_controls(self, source, activation, slope, bias) -> None:
        self.controls.update(
            activation=ToggleButtons(options=list(ACTIVATIONS.items()), value=activation,
                                     style={"button_width": "100px"}),
            input=Dropdown(options=[*ACTIVATION_INPUTS, *self._inputs], value=source,
                           description="input", layout=widgets.Layout(width="280px")),
            bias=FloatSlider(value=bias, min=-MAX_BIAS, max=MAX_BIAS, step=BIAS_STEP,
                             description="bias", readout_format=".2f"),
            slope=FloatSlider(value=slope, min=0.0, max=1.0, step=0.05,
                              description="slope α", readout_format=".2f"),
        )
        for name, (low, high) in (("bias", (-MAX_BIAS, MAX_BIAS)), ("slope", (0.0, 1.0))):
            self._guard(name, self.controls[name], range_check(name, low, high))

    def _load_input(self, name: str) -> np.ndarray:
        if name not in self._inputs:
            if name == "ramp -4 to 4":
                ramp = np.linspace(-INPUT_LIMIT, INPUT_LIMIT, 28)               # (28,)
                self._inputs[name] = np.tile(ramp, (28, 1))                     # (28, 28)
            else:
                # on the 0-255 pixel values, then / 255: flat areas come out exactly 0
                pixels = np.rint(data.digit(0) * 255)                           # (28, 28)
                kernel = filters.get("sobel_x" if "vertical" in name else "sobel_y")
                self._inputs[name] = kernels.conv2d(pixels, kernel, padding="same") / 255
        return self._inputs[name]

    def _draw(self) -> None:
        c = self.controls
        try:
            x = self._load_input(c["input"].value)                              # (H, W)
        except (OSError, ValueError) as exc:             # e.g. the MNIST file is missing
            self.status.value = f"Could not load the {c['input'].value!r} input: {plain(exc)}"
            return
        name, bias, slope = c["activation"].value, c["bias"].value, c["slope"].value
        c["slope"].disabled = name != "leaky_relu"
        z = x + bias                                                            # (H, W)
        y = apply_activation(name, z, slope)                                    # (H, W)
        dead = dead_mask(name, y)
        scale = max(1, DISPLAY_PIXELS // max(x.shape))
        colours = dict(cmap=MAP_CMAP, vmin=-VALUE_RANGE, vmax=VALUE_RANGE, scale=scale)
        self.pre_image.value = array_to_png(z, **colours)
        self.activated_image.value = array_to_png(y, **colours)
        self.curve_y = apply_activation(name, self.curve_x + bias, slope)       # (321,)
        self.curve_image.value = self._curve.render(
            self.curve_x, apply_activation(name, self.curve_x, slope), self.curve_y,
            dead_mask(name, self.curve_y), bias, _title(name, slope))
        self.feature_map, self.pre_activation, self.activated, self.dead = x, z, y, dead
        self.dead_share = float(dead.mean())
        self.status.value = self._status_text(name, bias, slope)

    def _status_text(self, name, bias, slope) -> str:
        label = {v: k for k, v in ACTIVATIONS.items()}[name]
        rule = "output exactly 0" if name == "relu" else f"|output| < {DEAD_THRESHOLD:g}"
        setting = (f"slope α = {number(slope)}" if name == "leaky_relu"
                   else "slope ignored (only leaky ReLU uses it)")
        return (f"{label}, bias {number(bias)}, {setting} · dead units: "
                f"{100 * self.dead_share:.1f}% of {self.dead.size} ({rule}) · "
                f"pre-activation {number(self.pre_activation.min())} to "
                f"{number(self.pre_activation.max())}, activated "
                f"{number(self.activated.min())} to {number(self.activated.max())} · colours: "
                f"blue < 0 (white) < red, fixed from {-VALUE_RANGE:g} to {VALUE_RANGE:g}")


def _title(name: str, slope: float) -> str:
    return {"relu": "ReLU: max(0, z)", "leaky_relu": f"leaky ReLU: z or {slope:.2f}·z",
            "tanh": "tanh(z)", "sigmoid": "sigmoid: 1 / (1 + e^-z)",
            "gelu": "GELU: z·Φ(z)"}[name]


class _CurvePanel:
    """The activation curve with its colour bar.

    Axes, ticks, legend and colour bar are drawn once and kept as a picture
    (matplotlib's blitting); a redraw paints only the curves, the dead band
    and the title over a copy of it, which is several times faster than
    drawing the whole figure again.
    """

    def __init__(self):
        self._canvas = FigurePNG()
        fig = self._canvas.figure
        fig.set_size_inches(3.6, 2.8)
        ax = fig.add_axes((0.16, 0.16, 0.6, 0.72))
        ax.set_xlim(-INPUT_LIMIT, INPUT_LIMIT)
        ax.set_ylim(-VALUE_RANGE, VALUE_RANGE)
        ax.axhline(0, color="#000000", linewidth=0.6)
        ax.set_xlabel("x (feature map, before the bias)", fontsize=8)
        ax.set_ylabel("f(x + bias)", fontsize=8)
        ax.tick_params(labelsize=7)
        self._reference, = ax.plot([], [], "--", color=REFERENCE_COLOUR, linewidth=1,
                                   label="f(x)", animated=True)
        self._line, = ax.plot([], [], color=CURVE_COLOUR, linewidth=2, label="f(x + bias)",
                              animated=True)
        self._shift = ax.axvline(0, color="#000000", linestyle=":", linewidth=1,
                                 label="x = -bias", animated=True)
        self._title = fig.text(0.46, 0.93, "", ha="center", fontsize=8, animated=True)
        ax.legend(fontsize=6, loc="upper left", frameon=False)
        bar_ax = fig.add_axes((0.8, 0.16, 0.04, 0.72))
        norm = matplotlib.colors.Normalize(-VALUE_RANGE, VALUE_RANGE)
        bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=MAP_CMAP), cax=bar_ax)
        bar.set_label("value → colour in both maps", fontsize=7)
        bar.ax.tick_params(labelsize=7)
        self._ax = ax
        fig.canvas.draw()                                   # everything not animated
        self._background = fig.canvas.copy_from_bbox(fig.bbox)

    def render(self, x, reference, y, dead, bias, title) -> bytes:
        """PNG of ``y`` and ``reference`` over ``x`` (all (P,)), the dead ``x`` shaded."""
        canvas, ax = self._canvas.figure.canvas, self._ax
        canvas.restore_region(self._background)
        band = ax.fill_between(x, -VALUE_RANGE, VALUE_RANGE, where=dead, color=DEAD_FILL,
                               linewidth=0, animated=True)
        self._reference.set_data(x, reference)
        self._line.set_data(x, y)
        self._shift.set_xdata([-bias, -bias])
        self._title.set_text(f"{title}; grey: dead")
        for artist in (band, self._reference, self._shift, self._line):
            ax.draw_artist(artist)
        self._canvas.figure.draw_artist(self._title)
        band.remove()
        pixels = np.asarray(canvas.buffer_rgba())[..., :3]  # (H_px, W_px, 3) uint8
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()
