"""The degradation viewer (lesson 11): the shipped plain vs residual runs, and their gradients."""

from __future__ import annotations

import math
import numbers

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import MaxNLocator, NullLocator

from .. import weights
from .._validate import as_array, check_choice, check_flag, describe
from ._base import Explorer
from ._canvas import FigurePNG, PictureCache, figure_png
from ._controls import Dropdown, ToggleButton, ToggleButtons, status_line

__all__ = ["DegradationViewer", "CURVES", "MAX_RUN_EPOCHS", "MAX_RUN_SEEDS", "MAX_RUN_DEPTHS",
           "MAX_GRADIENT_LAYERS"]

#: Curve name -> (field of a run, fixed vertical range, axis scale, unit drawn).
#: Accuracies are drawn in per cent; a loss of 2.30 is chance level for 10 classes.
CURVES = {
    "training loss": ("loss", (0.0, 2.5), "linear", ""),
    "test accuracy": ("test_accuracy", (0.0, 100.0), "linear", "%"),
    "training accuracy": ("accuracy", (0.0, 100.0), "linear", "%"),
    "test loss": ("test_loss", (0.1, 100.0), "log", ""),
}
FIELDS = ("loss", "accuracy", "test_loss", "test_accuracy")
KINDS = ("plain", "resnet")
MAX_RUN_EPOCHS = 200              # longest run the viewer draws
MAX_RUN_SEEDS = 10                # most seeds per network
MAX_RUN_DEPTHS = 4                # most depths (two networks each)
MAX_GRADIENT_LAYERS = 200         # most layers per gradient line
MEAN = "mean"
#: One colour family per kind (plain orange, residual blue), darker for deeper networks.
_SHADES = {"plain": ("#fd8d3c", "#d94801", "#a63603", "#7f2704"),
           "resnet": ("#6baed6", "#2171b5", "#08519c", "#08306b")}


class DegradationViewer(Explorer):
    """The degradation experiment as a widget: pick a depth, shortcuts or not, a curve, a seed.

    Introduced in lesson 11. Left, the chosen network's curve (bold) over
    those of the other networks (faint), epochs on x and a fixed vertical
    range per kind of curve (training loss 0 to 2.5, accuracies 0 to 100 %,
    test loss 0.1 to 100 on a log axis), so two pictures compare at a glance.
    Colours: plain networks orange and dashed, residual ones blue and solid,
    darker when deeper (the legend names each). Right, the gradient norm of
    every convolution kernel at initialisation (layer 1 next to the input, log
    axis with one fixed range for every network) for the chosen network and its
    twin (plain vs residual at the same depth). The status line gives the
    final test accuracy of both and the first / last layer gradient ratio.

    Parameters
    ----------
    record : dict, optional
        A degradation record, as ``weights.load_json("degradation.json")``
        (the default, the shipped run) or
        ``cnnlab.train.resnet.degradation_experiment`` returns: settings
        ``depths`` (1 to 4) and ``seeds`` (1 to 10), and for every
        ``plain<depth>`` and ``resnet<depth>`` one run per seed with lists
        ``loss``, ``accuracy``, ``test_loss``, ``test_accuracy`` of the same
        length (1 to 200 epochs).
    gradients : dict, optional
        A gradient record, as ``weights.load_json("degradation_gradients.json")``
        (the default; ``python -m cnnlab.train gradient-norms``): for every
        network above, ``{"norms": [...]}`` with 1 to 200 positive numbers,
        the same number for a network and its twin.
    depth : int
        One of the record's depths (default the deepest).
    shortcuts : bool
        False: the plain network; True: its residual twin.
    curve : {"training loss", "test accuracy", "training accuracy", "test loss"}
    seed : int or "mean"
        One of the record's seeds, or the mean over them.

    Attributes
    ----------
    controls : dict
        ``"depth"`` (ToggleButtons), ``"shortcuts"`` (ToggleButton),
        ``"curve"`` (Dropdown), ``"seed"`` (ToggleButtons, the seeds and ``"mean"``).
    name, twin_name : str
        The chosen network and its twin, e.g. ``"plain56"`` and ``"resnet56"``.
    run, twin_run : dict of str -> list of float
        Their runs as the record holds them (``loss``, ``accuracy``,
        ``test_loss``, ``test_accuracy``, one value per epoch), or the mean
        over the seeds; accuracies are fractions.
    curve : (epochs,) ndarray
        The chosen network's curve now drawn, in the record's units.
    final_test_accuracy, twin_final_test_accuracy : float
        The last ``test_accuracy`` of ``run`` and ``twin_run`` (fractions).
    gradient_norms, twin_gradient_norms : (n_layers,) ndarray
        Gradient norm of each convolution kernel, input side first.
    picture : ipywidgets.Image
        The PNG of ``figure``, replaced on every redraw.
    figure : matplotlib Figure
        Off-screen (never shown by pyplot): ``figure.axes[0]`` the curves,
        ``figure.axes[1]`` the gradient norms; the chosen network's lines are
        the bold ones (line width 3).
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, record=None, gradients=None, *, depth=None, shortcuts=False,
                 curve="training loss", seed=MEAN):
        super().__init__()
        record = weights.load_json("degradation.json") if record is None else record
        gradients = (weights.load_json("degradation_gradients.json") if gradients is None
                     else gradients)
        self._depths, self._seeds, self._runs = _check_record(record)
        self._epochs = len(self._runs[f"plain{self._depths[0]}"][0]["loss"])
        self._norms = _check_gradients(gradients, self._depths)
        depth = max(self._depths) if depth is None else _one_of(depth, "depth", self._depths)
        shortcuts = check_flag(shortcuts, "shortcuts")
        curve = check_choice(curve, "curve", tuple(CURVES))
        seed = _one_of(seed, "seed", (*self._seeds, MEAN))
        every = np.concatenate(list(self._norms.values()))
        self._gradient_range = (10.0 ** math.floor(math.log10(every.min())),
                                10.0 ** math.ceil(math.log10(every.max())))

        self.controls.update(
            depth=ToggleButtons(options=[(str(d), d) for d in self._depths], value=depth,
                                description="depth", style={"button_width": "48px"}),
            shortcuts=ToggleButton(value=shortcuts, description="shortcuts",
                                   tooltip="pressed: the residual network; "
                                           "not pressed: its plain twin"),
            curve=Dropdown(options=tuple(CURVES), value=curve, description="curve",
                           layout=widgets.Layout(width="240px")),
            seed=ToggleButtons(options=[*[(str(s), s) for s in self._seeds], (MEAN, MEAN)],
                               value=seed, description="seed", style={"button_width": "64px"}),
        )
        c = self.controls
        self.picture = widgets.Image(format="png")
        self.status = status_line()
        self.widget = widgets.VBox([widgets.HBox([c["depth"], c["shortcuts"]]),
                                    widgets.HBox([c["curve"], c["seed"]]),
                                    self.picture, self.status])
        self.figure = FigurePNG().figure
        self._pictures = PictureCache()   # (depth, network, curve, seed) -> PNG
        self.figure.set_size_inches(10.5, 3.7)
        self._axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.07, right=0.99, bottom=0.15, top=0.9, wspace=0.2)
        self._make_axes()
        for name in ("depth", "shortcuts", "curve", "seed"):
            c[name].observe(self._request_redraw, names="value")
        self._guard_controls()
        self.redraw()

    # -- what is shown --------------------------------------------------------
    def _run(self, name: str, seed) -> dict:
        """One network's run for ``seed`` (the lists of the record), or the mean over the seeds."""
        runs = self._runs[name]
        if seed == MEAN:
            return {f: np.mean([r[f] for r in runs], axis=0).tolist() for f in FIELDS}
        return {f: list(runs[self._seeds.index(seed)][f]) for f in FIELDS}

    def _draw(self) -> None:
        c = self.controls
        depth, seed, curve = c["depth"].value, c["seed"].value, c["curve"].value
        kind, twin_kind = ("resnet", "plain") if c["shortcuts"].value else ("plain", "resnet")
        self.name, self.twin_name = f"{kind}{depth}", f"{twin_kind}{depth}"
        self.run, self.twin_run = self._run(self.name, seed), self._run(self.twin_name, seed)
        field = CURVES[curve][0]
        self.curve = np.array(self.run[field])
        self.final_test_accuracy = float(self.run["test_accuracy"][-1])
        self.twin_final_test_accuracy = float(self.twin_run["test_accuracy"][-1])
        self.gradient_norms = self._norms[self.name].copy()
        self.twin_gradient_norms = self._norms[self.twin_name].copy()
        self._draw_curves(curve, seed)
        self._draw_gradients(depth)
        self.picture.value = self._pictures.get((depth, self.name, curve, seed),
                                                lambda: figure_png(self.figure))
        self.status.value = self._status_text(seed)

    def _style(self, name: str, chosen: bool, faint: float = 0.45) -> dict:
        kind = "plain" if name.startswith("plain") else "resnet"
        shade = _SHADES[kind][self._depths.index(int(name[len(kind):]))]
        return dict(color=shade, linestyle="--" if kind == "plain" else "-",
                    linewidth=3.0 if chosen else 1.3, alpha=1.0 if chosen else faint,
                    zorder=3 if chosen else 2, label=_label(name))

    def _make_axes(self) -> None:
        """The two panels and their lines, made once; a redraw updates them in place."""
        left, right = self._axes
        self._lines = {f"{kind}{depth}": left.plot([], [], marker="o", markersize=3)[0]
                       for kind in KINDS for depth in self._depths}
        self._gradient_lines = [right.plot([], [], marker="o", markersize=3)[0]
                                for _ in range(2)]                       # twin, chosen
        epochs = np.arange(1, self._epochs + 1)
        left.set_xlim(0.7, self._epochs + 0.3)
        if self._epochs <= 12:
            left.set_xticks(epochs)
        left.set_xlabel("epoch")
        right.set_yscale("log")
        right.yaxis.set_minor_locator(NullLocator())                  # fewer artists, faster
        right.set_ylim(*self._gradient_range)
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        right.set_xlabel("convolution layer (1 = next to the input)")
        right.set_ylabel("|d loss / d kernel|")
        for ax in self._axes:
            ax.grid(True, alpha=0.3)
        self._shown_curve = None

    def _draw_curves(self, curve: str, seed) -> None:
        field, ylim, scale, unit = CURVES[curve]
        factor = 100.0 if unit == "%" else 1.0
        ax = self._axes[0]
        if curve != self._shown_curve:                                   # axis of this kind
            ax.set_yscale(scale)
            ax.yaxis.set_minor_locator(NullLocator())
            ax.set_ylim(*ylim)
            ax.set_ylabel(f"{curve} ({unit})" if unit else curve)
            self._shown_curve = curve
        epochs = np.arange(1, self._epochs + 1)
        for name, line in self._lines.items():
            line.set_data(epochs, factor * np.asarray(self._run(name, seed)[field]))
            line.set(**self._style(name, name == self.name))
        which = f"seed {seed}" if seed != MEAN else "mean of seeds " + ", ".join(
            map(str, self._seeds))
        ax.set_title(f"{curve}: {_label(self.name)} bold, the others faint ({which})",
                     fontsize=10, y=1.01)
        ax.legend(handles=list(self._lines.values()), fontsize=8, frameon=False,
                  loc="lower right" if unit == "%" else "upper right")

    def _draw_gradients(self, depth: int) -> None:
        ax = self._axes[1]
        layers = np.arange(1, len(self.gradient_norms) + 1)
        for line, name, norms in zip(self._gradient_lines, (self.twin_name, self.name),
                                     (self.twin_gradient_norms, self.gradient_norms)):
            line.set_data(layers, norms)
            line.set(**self._style(name, name == self.name, faint=0.85))
        ax.set_xlim(0.5, len(layers) + 0.5)
        ax.set_title(f"gradient per layer at initialisation, depth {depth}", fontsize=10, y=1.01)
        ax.legend(handles=self._gradient_lines[::-1], fontsize=8, frameon=False,
                  loc="upper right")

    def _status_text(self, seed) -> str:
        which = f"seed {seed}" if seed != MEAN else "mean of the seeds"
        spread = [norms[0] / norms[-1] for norms in (self.gradient_norms,
                                                      self.twin_gradient_norms)]
        return (f"{_label(self.name)}: {100 * self.final_test_accuracy:.1f} % vs "
                f"{_label(self.twin_name)}: {100 * self.twin_final_test_accuracy:.1f} % test "
                f"accuracy after {self._epochs} epochs ({which}); first / last layer gradient "
                f"{_ratio(spread[0])} vs {_ratio(spread[1])}")


# ----------------------------------------------------------------- text

def _label(name: str) -> str:
    """``"plain56"`` -> ``"plain-56"``."""
    kind = "plain" if name.startswith("plain") else "resnet"
    return f"{kind}-{name[len(kind):]}"


def _ratio(r: float) -> str:
    return f"{r:,.0f}x" if r >= 100 else f"{r:.1f}x"


# ----------------------------------------------------------------- checks of the arguments

def _one_of(value, name: str, options: tuple):
    """``value`` when it is one of ``options`` (ints as ints, strings as strings)."""
    for option in options:
        same = (isinstance(value, str) and isinstance(option, str)) or (
            isinstance(value, numbers.Integral) and isinstance(option, numbers.Integral)
            and not isinstance(value, (bool, np.bool_)))
        if same and value == option:
            return option
    raise ValueError(f"`{name}` must be one of {', '.join(map(repr, options))}, got "
                     f"{describe(value)}")


def _whole_numbers(value, name: str, most: int) -> tuple:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= most or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        raise ValueError(f"`{name}` must be a list of 1 to {most} whole numbers, got "
                         f"{describe(value)}")
    if len(set(value)) != len(value):
        raise ValueError(f"`{name}` must not repeat a value, got {list(value)}")
    return tuple(int(v) for v in value)


def _check_record(record):
    """Depths, seeds and ``{name: [run, ...]}`` of a degradation record, every curve checked."""
    if not isinstance(record, dict) or not isinstance(record.get("settings"), dict) \
            or not isinstance(record.get("runs"), dict):
        raise TypeError("`record` must be a degradation record {'settings': ..., 'runs': ...} "
                        "such as weights.load_json('degradation.json'), got "
                        f"{describe(record)}")
    settings = record["settings"]
    depths = _whole_numbers(settings.get("depths"), "record['settings']['depths']",
                            MAX_RUN_DEPTHS)
    seeds = _whole_numbers(settings.get("seeds"), "record['settings']['seeds']", MAX_RUN_SEEDS)
    runs, lengths = {}, set()
    for name in (f"{kind}{depth}" for kind in KINDS for depth in depths):
        found = record["runs"].get(name)
        where = f"record['runs'][{name!r}]"
        if not isinstance(found, list) or len(found) != len(seeds):
            raise ValueError(f"`{where}` must be a list of {len(seeds)} runs (one per seed), "
                             f"got {describe(found)}")
        runs[name] = []
        for i, run in enumerate(found):
            if not isinstance(run, dict):
                raise ValueError(f"`{where}[{i}]` must be a dict of curves, got {describe(run)}")
            curves = {}
            for field in FIELDS:
                y = as_array(run.get(field), f"{where}[{i}][{field!r}]", ndims=1)   # (epochs,)
                if not 1 <= len(y) <= MAX_RUN_EPOCHS:
                    raise ValueError(f"`{where}[{i}][{field!r}]` must hold 1 to "
                                     f"{MAX_RUN_EPOCHS} values (one per epoch), got {len(y)}")
                curves[field] = y.tolist()
                lengths.add(len(y))
            runs[name].append(curves)
    if len(lengths) != 1:
        raise ValueError(f"`record` must hold curves of one length (one value per epoch), got "
                         f"lengths {sorted(lengths)}")
    return depths, seeds, runs


def _check_gradients(gradients, depths) -> dict:
    """``{name: (n_layers,) ndarray}`` for every network, positive, twins of one length."""
    if not isinstance(gradients, dict) or not isinstance(gradients.get("networks"), dict):
        raise TypeError("`gradients` must be a gradient record {'settings': ..., 'networks': "
                        "...} such as weights.load_json('degradation_gradients.json'), got "
                        f"{describe(gradients)}")
    norms = {}
    for depth in depths:
        for kind in KINDS:
            name = f"{kind}{depth}"
            net = gradients["networks"].get(name)
            where = f"gradients['networks'][{name!r}]['norms']"
            if not isinstance(net, dict):
                raise ValueError(f"`gradients['networks']` has no network {name!r} (the "
                                 f"record's depths are {list(depths)}), got {describe(net)}")
            g = as_array(net.get("norms"), where, ndims=1)                   # (n_layers,)
            if not 1 <= len(g) <= MAX_GRADIENT_LAYERS:
                raise ValueError(f"`{where}` must hold 1 to {MAX_GRADIENT_LAYERS} numbers (one "
                                 f"per layer), got {len(g)}")
            if np.any(g <= 0):
                raise ValueError(f"`{where}` must hold positive numbers (drawn on a log axis), "
                                 f"got {g.min():g}")
            norms[name] = g.astype(float)
        if len(norms[f"plain{depth}"]) != len(norms[f"resnet{depth}"]):
            raise ValueError(f"`gradients`: plain{depth} and resnet{depth} must list the same "
                             f"layers, got {len(norms[f'plain{depth}'])} and "
                             f"{len(norms[f'resnet{depth}'])} norms")
    return norms
