"""The softmax explorer (lesson 07): scores, a temperature, and the probabilities they give.

Also :func:`probability_svg`, the bar chart of class probabilities that the
classifier explorer of the same lesson draws too.
"""

from __future__ import annotations

import math
import numbers

import ipywidgets as widgets
import numpy as np

from .. import activations
from .._validate import as_array, check_real, describe
from ._base import Explorer
from ._controls import MAX_WEIGHT, ControlValueError, FloatText, Guarded, number, titled, status_line

__all__ = ["SoftmaxExplorer", "probability_svg", "softmax_with_temperature", "entropy_bits",
           "DEFAULT_LOGITS", "TEMPERATURE_RANGE", "MAX_CLASSES", "FloatLogSlider"]

#: Scores of ten classes where two compete (3 and 5) and the others trail behind.
DEFAULT_LOGITS = (-1.0, -2.5, 0.5, 4.0, -3.0, 3.2, -1.5, 0.0, 1.5, -0.5)
TEMPERATURE_RANGE = (0.1, 10.0)   # the slider's ends, a factor of 10 either side of 1
MAX_CLASSES = 10                  # boxes in one row
PREDICTED_COLOUR = "#ff7f0e"
OTHER_COLOUR = "#1f77b4"

#: ipywidgets' FloatLogSlider with the explorers' check of every new value.
FloatLogSlider = type("FloatLogSlider", (Guarded, widgets.FloatLogSlider),
                      {"__module__": __name__, "__doc__": widgets.FloatLogSlider.__doc__})


def softmax_with_temperature(logits, temperature=1.0) -> np.ndarray:
    """``softmax(logits / T)``: the class probabilities at temperature ``T`` (lesson 07).

    Parameters
    ----------
    logits : (C,) or (N, C) array_like
        Scores, any real numbers (the last dense layer's output before softmax).
    temperature : float
        Above 0. ``T = 1`` is plain softmax; ``T < 1`` spreads the scores
        apart (towards one-hot on the largest), ``T > 1`` squeezes them
        together (towards the uniform ``1 / C``).

    Returns
    -------
    ndarray, same shape as ``logits``
        Positive, each row summing to 1.
    """
    z = as_array(logits, "logits", ndims=(1, 2))
    t = check_real(temperature, "temperature", above=0)
    return activations.softmax(z / t)                                   # (C,) or (N, C)


def entropy_bits(p) -> float:
    """Entropy ``-sum p log2 p`` of one probability vector ``p (C,)``, in bits (0 log 0 = 0)."""
    p = as_array(p, "p", ndims=1)
    nz = p[p > 0]
    return float(-(nz * np.log2(nz)).sum()) + 0.0


def probability_svg(p, *, label=None, title="") -> bytes:
    """Class probabilities as vertical bars, 0 to 1, as SVG bytes for an ``ipywidgets.Image``.

    The largest probability is orange (#ff7f0e), the others blue (#1f77b4);
    a dashed line marks the uniform ``1 / C``; ``label`` (the true class) is
    written bold and underlined under its bar.

    Parameters
    ----------
    p : (C,) array_like
        Probabilities, 2 to :data:`MAX_CLASSES` of them.
    label : int, optional
    title : str
        Written above the bars.

    Returns
    -------
    bytes
        An SVG with one ``<rect class="p">`` per class, in class order.
    """
    p = as_array(p, "p", ndims=1)
    cell, height, top = 28, 120, 20
    best = int(np.argmax(p))
    width = len(p) * cell + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 44}"'
             f' font-family="sans-serif" font-size="13">',
             f'<text x="36" y="{top - 6}" fill="#444444">{title}</text>']
    for tick in (0.0, 0.5, 1.0):
        y = top + height * (1 - tick)
        parts.append(f'<text x="30" y="{y + 4:.1f}" text-anchor="end" fill="#444444" '
                     f'font-size="11">{tick:g}</text>')
        parts.append(f'<line x1="34" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dddddd"/>')
    for k, value in enumerate(p):
        h = float(np.clip(value, 0, 1)) * height
        x = 36 + k * cell
        fill = PREDICTED_COLOUR if k == best else OTHER_COLOUR
        parts.append(f'<rect class="p" x="{x + 4}" y="{top + height - h:.2f}" width="{cell - 8}" '
                     f'height="{h:.2f}" fill="{fill}"><title>{k}: {100 * value:.2f} %</title>'
                     '</rect>')
        mark = ' font-weight="bold" text-decoration="underline"' if k == label else ""
        parts.append(f'<text x="{x + cell / 2}" y="{top + height + 16}" text-anchor="middle"'
                     f'{mark}>{k}</text>')
    uniform = top + height * (1 - 1 / len(p))
    parts.append(f'<line x1="34" x2="{width}" y1="{uniform:.1f}" y2="{uniform:.1f}" '
                 f'stroke="#444444" stroke-dasharray="4 3"/>')
    legend = "orange: the largest; dashed: 1/" + str(len(p))
    if label is not None:
        legend += "; underlined: the true label"
    parts.append(f'<text x="36" y="{top + height + 36}" fill="#444444" font-size="11">'
                 f'{legend}</text></svg>')
    return "".join(parts).encode()


def _temperature_check(value):
    low, high = TEMPERATURE_RANGE
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ControlValueError(f"`temperature` must be a number from {low:g} to {high:g}, "
                                f"got {describe(value)}")
    value = float(value)
    if not (math.isfinite(value) and low - 1e-9 <= value <= high + 1e-9):
        raise ControlValueError(f"`temperature` must be a number from {low:g} to {high:g} "
                                f"(the slider's range), got {value:g}")
    return min(max(value, low), high)


class SoftmaxExplorer(Explorer):
    """Type class scores, turn the temperature, and watch softmax share out the probability.

    Introduced in lesson 07. The probabilities are
    ``activations.softmax(logits / T)``: dividing by a temperature ``T < 1``
    spreads the scores apart, so the largest takes nearly everything (T → 0:
    one-hot); ``T > 1`` squeezes them together (T → ∞: every class 1/C).
    The order of the classes never changes. Bars are drawn on a fixed 0 to 1
    scale; the status line gives the largest probability and the entropy
    (0 bits: certain; log2 C bits: uniform).

    Parameters
    ----------
    logits : (C,) array_like, optional
        2 to 10 scores, each from ``-MAX_WEIGHT`` to ``MAX_WEIGHT`` (1e6);
        default :data:`DEFAULT_LOGITS`. Pass ``ClassifierExplorer(...).logits``
        to start from the trained network's scores for a digit.
    temperature : float
        0.1 to 10 (default 1).

    Attributes
    ----------
    controls : dict
        ``"z0"`` ... ``"z{C-1}"`` (FloatText, one score each) and
        ``"temperature"`` (FloatLogSlider, 0.1 to 10).
    logits : (C,) ndarray
        The scores now in the boxes.
    temperature : float
    probabilities : (C,) ndarray
        ``softmax(logits / temperature)``.
    predicted : int
        The class with the largest probability (the largest score).
    max_probability, entropy : float
        The largest probability, and the entropy in bits.
    chart : ipywidgets.Image
        The bars (SVG).
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, logits=None, *, temperature=1.0):
        super().__init__()
        z = as_array(DEFAULT_LOGITS if logits is None else logits, "logits", ndims=1)
        if not 2 <= len(z) <= MAX_CLASSES:
            raise ValueError(f"`logits` must hold 2 to {MAX_CLASSES} scores (one per class), "
                             f"got {len(z)}")
        if np.max(np.abs(z)) > MAX_WEIGHT:
            raise ValueError(f"`logits` must hold scores from {-MAX_WEIGHT:g} to {MAX_WEIGHT:g}, "
                             f"got {np.max(np.abs(z)):g}")
        temperature = check_real(temperature, "temperature", minimum=TEMPERATURE_RANGE[0],
                                 maximum=TEMPERATURE_RANGE[1])
        for k, value in enumerate(z):
            self.controls[f"z{k}"] = FloatText(value=float(value), description=f"z{k}",
                                               layout=widgets.Layout(width="120px"),
                                               style={"description_width": "24px"})
        low, high = TEMPERATURE_RANGE
        slider = FloatLogSlider(value=temperature, base=10, min=math.log10(low),
                                max=math.log10(high), step=0.05, readout_format=".2f",
                                description="temperature T", continuous_update=True,
                                style={"description_width": "100px"},
                                layout=widgets.Layout(width="420px"))
        self.controls["temperature"] = slider
        self._guard("temperature", slider, _temperature_check)
        self.chart = widgets.Image(format="svg+xml")
        self.status = status_line()
        boxes = [self.controls[f"z{k}"] for k in range(len(z))]
        self.widget = widgets.VBox([
            titled("scores (logits) z", widgets.GridBox(
                boxes, layout=widgets.Layout(grid_template_columns="repeat(5, auto)"))),
            slider, titled("softmax(z / T)", self.chart), self.status])
        self.logits = z.astype(float)
        self.temperature = temperature
        self.probabilities = softmax_with_temperature(self.logits, temperature)
        for control in self.controls.values():
            control.observe(self._request_redraw, names="value")
        self._guard_controls()
        self.redraw()

    def _draw(self) -> None:
        n = len(self.logits)
        z = np.array([self.controls[f"z{k}"].value for k in range(n)], dtype=float)   # (C,)
        if not np.all(np.isfinite(z)):
            k = int(np.flatnonzero(~np.isfinite(z))[0])
            self.status.value = (f"Score z{k} is not a number; type a number there. "
                                 "(Showing the last good result.)")
            return
        t = float(self.controls["temperature"].value)
        p = softmax_with_temperature(z, t)                                            # (C,)
        self.logits, self.temperature, self.probabilities = z, t, p
        self.predicted = int(np.argmax(p))
        self.max_probability = float(p[self.predicted])
        self.entropy = entropy_bits(p)
        self.chart.value = probability_svg(p, title=f"T = {number(t)}")
        if t < 1:
            effect = ("T < 1 spreads the scores z / T apart: towards one-hot on class "
                      f"{self.predicted}")
        elif t > 1:
            effect = "T > 1 squeezes the scores z / T together: towards the uniform 1/" + str(n)
        else:
            effect = "T = 1 is plain softmax"
        self.status.value = (f"{effect}. Largest probability {100 * self.max_probability:.1f} % "
                             f"(class {self.predicted}); entropy {self.entropy:.2f} bits "
                             f"(0 = certain, {math.log2(n):.2f} = uniform). Bars: 0 to 1.")
