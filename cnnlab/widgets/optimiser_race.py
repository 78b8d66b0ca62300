"""The optimiser race (lesson 08): SGD, momentum, RMSProp and Adam on one loss surface."""

from __future__ import annotations

import io
import math
import numbers

import ipywidgets as widgets
import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.ticker import LogLocator
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from .. import optim, surfaces
from .._validate import check_choice, describe
from ._base import Explorer
from ._canvas import PICTURE_DPI
from ._controls import ControlValueError, Dropdown, IntSlider, Play, ToggleButtons, check_range, status_line

__all__ = ["OptimiserRace", "race_optimisers", "OPTIMISERS", "OPTIMISER_COLOURS",
           "LEARNING_RATES", "MOMENTA", "BETAS", "MAX_RACE_STEPS", "LOSS_AXIS"]

OPTIMISERS = ("SGD", "momentum", "RMSProp", "Adam")
OPTIMISER_COLOURS = {"SGD": "#ff7f0e", "momentum": "#ff3b3b", "RMSProp": "#00e5ff",
                     "Adam": "#ffffff"}       # bright, each drawn with a black edge
LEARNING_RATES = tuple(float(f"{m}e{e}") for e in range(-4, 0) for m in (1, 1.5, 2, 3, 5, 7)
                       ) + (1.0, 1.5, 2.0, 3.0)          # 1e-4 to 3, log steps
MOMENTA = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
BETAS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
MAX_RACE_STEPS = 200
LOSS_AXIS = (1e-10, 1e8)       # the fixed loss range of the loss-vs-step panel (log)
CONTOUR_CMAP = "viridis"       # loss, log scale: dark = low, yellow = high
_GRID = 160                    # grid points a side of the filled contour
_FIGURE_INCHES = (10.5, 4.2)
_EDGE = [patheffects.withStroke(linewidth=3.4, foreground="#000000")]


def race_optimisers(lr: float, momentum: float = 0.9, beta: float = 0.9) -> dict:
    """Four new optimisers of :mod:`cnnlab.optim` with one learning rate, by name.

    ``momentum`` is Momentum's ``beta`` and Adam's ``beta1`` (its momentum);
    ``beta`` is RMSProp's ``beta`` and Adam's ``beta2`` (their running mean
    of squared gradients).

    Returns
    -------
    dict of str -> optimiser
        ``OPTIMISERS`` in order: SGD, Momentum, RMSProp, Adam.
    """
    return {"SGD": optim.SGD(lr), "momentum": optim.Momentum(lr, beta=momentum),
            "RMSProp": optim.RMSProp(lr, beta=beta),
            "Adam": optim.Adam(lr, beta1=momentum, beta2=beta)}


class OptimiserRace(Explorer):
    """Race SGD, momentum, RMSProp and Adam on a loss surface of two parameters.

    Introduced in lesson 08. The four optimisers of :mod:`cnnlab.optim`
    start from the surface's start point with the same learning rate
    (:func:`race_optimisers`, run by :func:`cnnlab.surfaces.descend`).
    Left: the loss as filled contours (fixed, log-spaced levels per surface,
    colour bar "loss") with each optimiser's path up to the step shown and
    its current point; right: the loss against the step (log scale). A run
    whose loss passes 1e6 has diverged: it stops there, its path leaves the
    box (the drawing is clipped, its last point marked with a cross at the
    edge) and the status line says so. Changing a setting reruns the four
    optimisers (at most 4 x 200 steps); "play" and "step" only redraw.

    Parameters
    ----------
    surface : {"valley", "banana", "saddle"}
        See :data:`cnnlab.surfaces.SURFACES`.
    lr : float
        Learning rate, one of ``LEARNING_RATES`` (1e-4 to 3, log steps).
    momentum : float
        Momentum's ``beta`` and Adam's ``beta1``, one of ``MOMENTA`` (0 to 0.99).
    beta : float
        RMSProp's ``beta`` and Adam's ``beta2``, one of ``BETAS`` (0.5 to 0.999).
    steps : int
        Steps each optimiser takes, 1 to ``MAX_RACE_STEPS`` (200).
    step : int, optional
        The step drawn, 0 to ``steps``; default ``steps`` (the whole race).

    Attributes
    ----------
    controls : dict
        ``"surface"`` (ToggleButtons), ``"lr"``, ``"momentum"``, ``"beta"``
        (Dropdown), ``"steps"``, ``"step"`` (IntSlider), ``"play"`` (Play,
        linked to ``"step"``).
    surface : cnnlab.surfaces.Surface
    paths : dict of str -> (n + 1, 2) ndarray
        Every optimiser's points, start first; ``n`` is ``steps`` or the step it diverged at.
    losses : dict of str -> (n + 1,) ndarray
    diverged : dict of str -> int or None
        The step at which each run's loss passed 1e6, or None.
    final_loss : dict of str -> float
        The loss at the last point of each run.
    step : int
        The step drawn.
    current : dict of str -> (2,) ndarray
        The point drawn for each optimiser (its last one if it stopped earlier).
    current_loss : dict of str -> float
    figure : matplotlib Figure
        The off-screen figure the picture is rendered from.
    picture : ipywidgets.Image
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    last_redraw_ms : float
    """

    def __init__(self, surface="valley", *, lr=0.15, momentum=0.9, beta=0.9, steps=50,
                 step=None):
        super().__init__()
        surface = check_choice(surface, "surface", surfaces.SURFACE_NAMES)
        lr = _menu_value(lr, "lr", LEARNING_RATES)
        momentum = _menu_value(momentum, "momentum", MOMENTA)
        beta = _menu_value(beta, "beta", BETAS)
        steps = check_range(steps, "steps", 1, MAX_RACE_STEPS)
        step = steps if step is None else check_range(step, "step", 0, steps)

        menu = widgets.Layout(width="170px")
        self.controls.update(
            surface=ToggleButtons(options=surfaces.SURFACE_NAMES, value=surface,
                                  style={"button_width": "72px"}),
            lr=Dropdown(options=_menu(LEARNING_RATES), value=lr, description="lr", layout=menu),
            momentum=Dropdown(options=_menu(MOMENTA), value=momentum, description="momentum",
                              layout=menu),
            beta=Dropdown(options=_menu(BETAS), value=beta, description="beta", layout=menu),
            steps=IntSlider(value=steps, min=1, max=MAX_RACE_STEPS, description="steps"),
            step=IntSlider(value=step, min=0, max=steps, description="step"),
            play=Play(value=step, min=0, max=steps, interval=120, description="play"),
        )
        c = self.controls
        widgets.link((c["play"], "value"), (c["step"], "value"))
        self.picture = widgets.Image(format="png")
        self.status = status_line()
        self.widget = widgets.VBox([
            c["surface"],
            widgets.HBox([c["lr"], c["momentum"], c["beta"]]),
            widgets.HBox([c["steps"], c["play"], c["step"]]),
            self.picture,
            self.status,
        ])
        self.figure = Figure(figsize=_FIGURE_INCHES, dpi=PICTURE_DPI)
        FigureCanvasAgg(self.figure)
        self._make_figure()
        self._grids: dict[str, tuple] = {}      # surface name -> (x, y, loss) grids
        self._stale = True                      # the runs need computing again
        self._layout = None                     # (surface, steps) the background is drawn for
        self._background = None
        self.paths, self.losses, self.diverged, self.final_loss = {}, {}, {}, {}
        self.current, self.current_loss = {}, {}
        self.step = step
        for name in ("surface", "lr", "momentum", "beta"):
            c[name].observe(self._on_setting, names="value")
        c["steps"].observe(self._on_steps, names="value")
        c["step"].observe(self._request_redraw, names="value")
        for name, options in (("lr", LEARNING_RATES), ("momentum", MOMENTA), ("beta", BETAS)):
            self._guard(name, c[name], _menu_check(name, options))
        self._guard_controls()
        self.redraw()

    @property
    def surface(self) -> surfaces.Surface:
        """The surface raced on."""
        return surfaces.get_surface(self.controls["surface"].value)

    # -- callbacks ------------------------------------------------------------
    def _on_setting(self, change):
        self._stale = True
        self._request_redraw()

    def _on_steps(self, change):
        """Rerun, and keep the step shown: at the end if it was at the end."""
        step, play = self.controls["step"], self.controls["play"]
        target = change.new if step.value == change.old else min(step.value, change.new)
        with self.hold_redraw():
            self._stale = True
            self._dirty = True
            for control in (step, play):
                control.max = max(control.max, change.new)
            step.value = target                          # the link moves "play" too
            for control in (step, play):
                control.max = change.new

    # -- computing and drawing --------------------------------------------------
    def _draw(self) -> None:
        c = self.controls
        layout = (c["surface"].value, c["steps"].value)
        if self._stale:
            self._run()
            self._stale = False
        if layout != self._layout:
            self._draw_background(self._layout is None or layout[0] != self._layout[0])
            self._layout = layout
        self.step = c["step"].value
        self._show_step(self.step)
        self.picture.value = self._render()
        self.status.value = self._status_text()

    def _run(self) -> None:
        c = self.controls
        surface = self.surface
        opts = race_optimisers(c["lr"].value, c["momentum"].value, c["beta"].value)
        self.paths, self.losses, self.diverged, self.final_loss = {}, {}, {}, {}
        for name, opt in opts.items():
            path, losses, diverged = surfaces.descend(surface, opt, c["steps"].value)
            self.paths[name], self.losses[name] = path, losses        # (n+1, 2), (n+1,)
            self.diverged[name] = diverged
            self.final_loss[name] = float(losses[-1])

    def _loss_grid(self, surface):
        if surface.name not in self._grids:
            x, y = np.meshgrid(np.linspace(*surface.xlim, _GRID),
                               np.linspace(*surface.ylim, _GRID))      # (G, G) each
            self._grids[surface.name] = (x, y, surface.loss(x, y))      # (G, G)
        return self._grids[surface.name]

    def _make_figure(self) -> None:
        """The three panels and the moving parts, made once; only their data change later."""
        fig = self.figure
        ax = fig.add_axes((0.06, 0.12, 0.41, 0.78))
        bar = fig.add_axes((0.485, 0.12, 0.012, 0.78))
        curves = fig.add_axes((0.615, 0.12, 0.225, 0.78))
        curves.axhline(surfaces.DIVERGED_LOSS, color="#7f7f7f", linestyle="--", linewidth=1)
        curves.text(0, surfaces.DIVERGED_LOSS * 2, " diverged", color="#7f7f7f", fontsize=9,
                    va="bottom")
        curves.set(yscale="log", ylim=LOSS_AXIS, xlabel="step",
                   title="loss after each step (log)")
        curves.yaxis.set_major_locator(LogLocator(base=100.0, numticks=10))
        curves.minorticks_off()                       # (minor log ticks are slow to lay out)
        self._axes = {"surface": ax, "bar": bar, "curves": curves}
        self._artists = {"marker": {}, "path": {}, "curve": {}, "static": [],
                         "now": curves.axvline(0, color="#000000", linewidth=0.8,
                                               animated=True)}
        for name in OPTIMISERS:                       # drawn on the background at every step
            colour = OPTIMISER_COLOURS[name]
            self._artists["path"][name], = ax.plot(
                [], [], "-", color=colour, linewidth=1.6, path_effects=_EDGE, animated=True,
                gid=f"path {name}")
            self._artists["curve"][name], = curves.plot(
                [], [], "-", color=colour, linewidth=1.6, path_effects=_EDGE, animated=True,
                gid=f"loss {name}")
        for name in OPTIMISERS:                       # the points above every path
            self._artists["marker"][name], = ax.plot(
                [], [], "o", color=OPTIMISER_COLOURS[name], markeredgecolor="#000000",
                markersize=8, zorder=5, animated=True, clip_on=False,    # whole at the edge
                gid=f"point {name}")
        handles = [Line2D([], [], marker="o", linestyle="-", color=OPTIMISER_COLOURS[n],
                          markeredgecolor="#000000", markersize=8, path_effects=_EDGE)
                   for n in OPTIMISERS]
        fig.legend(handles, OPTIMISERS, loc="center left", bbox_to_anchor=(0.85, 0.5),
                   frameon=False, title="optimiser")
        self._colour_bar = None

    def _draw_background(self, surface_changed: bool) -> None:
        """Draw what stays while only the runs or the step change; keep it as the background."""
        surface, ax = self.surface, self._axes["surface"]
        if surface_changed:
            for artist in self._artists["static"]:
                artist.remove()
            x, y, z = self._loss_grid(surface)
            levels = surface.levels
            filled = ax.contourf(x, y, np.clip(z, levels[0], levels[-1]), levels=levels,
                                 cmap=CONTOUR_CMAP, norm=LogNorm(levels[0], levels[-1]))
            start, = ax.plot(*surface.start, "s", color="#ffffff", markeredgecolor="#000000",
                             markersize=7, zorder=4)
            stars = [ax.plot(*point, "*", color="#ffffff", markeredgecolor="#000000",
                             markersize=13, zorder=4)[0] for point in surface.minima]
            self._artists["static"] = [filled, start, *stars]
            ax.set(xlim=surface.xlim, ylim=surface.ylim, xlabel="x", ylabel="y",
                   title=f"loss = {surface.formula}")
            bar = self._axes["bar"]
            bar.clear()
            self._colour_bar = self.figure.colorbar(filled, cax=bar)
            self._colour_bar.set_label("loss (log scale)")
            bar.minorticks_off()
        self._axes["curves"].set_xlim(0, self.controls["steps"].value)
        self.figure.canvas.draw()
        self._background = self.figure.canvas.copy_from_bbox(self.figure.bbox)

    def _show_step(self, step: int) -> None:
        """Move the paths, points and loss curves to ``step``."""
        surface = self.surface
        (x0, x1), (y0, y1) = surface.xlim, surface.ylim
        for name in OPTIMISERS:
            path, losses = self.paths[name], self.losses[name]
            k = min(step, len(path) - 1)
            self._artists["path"][name].set_data(path[:k + 1, 0], path[:k + 1, 1])
            point = path[k]
            inside = x0 <= point[0] <= x1 and y0 <= point[1] <= y1
            marker = self._artists["marker"][name]
            marker.set_data([np.clip(point[0], x0, x1)], [np.clip(point[1], y0, y1)])
            marker.set_marker("o" if inside else "X")    # a cross on the edge: out of the box
            shown = np.clip(losses[:k + 1], LOSS_AXIS[0], None)   # 0 drawn on the axis floor
            self._artists["curve"][name].set_data(np.arange(k + 1), shown)
            self.current[name] = point.copy()
            self.current_loss[name] = float(losses[k])
        self._artists["now"].set_xdata([step, step])

    def _render(self) -> bytes:
        """The background with the moving parts drawn on it, as PNG bytes."""
        canvas = self.figure.canvas
        canvas.restore_region(self._background)
        for name in ("path", "curve", "marker"):
            for artist in self._artists[name].values():
                self.figure.draw_artist(artist)
        self.figure.draw_artist(self._artists["now"])
        rgba = np.asarray(canvas.buffer_rgba())                        # (H, W, 4) uint8
        buffer = io.BytesIO()
        Image.fromarray(rgba[..., :3]).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _status_text(self) -> str:
        c = self.controls
        n = c["steps"].value
        losses = ", ".join(f"{name} {_short(self.current_loss[name])}" for name in OPTIMISERS)
        text = f"step {self.step} of {n}, loss: {losses}."
        for name in OPTIMISERS:
            if self.diverged[name] is not None:
                text += (f" {name} diverged at step {self.diverged[name]} "
                         f"(loss > {surfaces.DIVERGED_LOSS:.0e}).".replace("e+0", "e"))
        return text + " Background: the loss, log colour scale (colour bar)."


# ----------------------------------------------------------------- menus of numbers

def _menu_value(value, name: str, options) -> float:
    """``value`` as the entry of ``options`` (a tuple of floats) it equals; refuse anything else."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number, one of {_listed(options)}; "
                        f"got {describe(value)}")
    for option in options:
        if math.isclose(float(value), option, rel_tol=1e-9, abs_tol=1e-12):
            return option
    raise ValueError(f"`{name}` must be one of {_listed(options)}, got {float(value):g}")


def _menu_check(name, options):
    def check(value):
        try:
            return _menu_value(value, name, options)
        except (TypeError, ValueError) as exc:
            raise ControlValueError(str(exc)) from None
    return check


def _menu(options) -> list:
    return [(f"{v:g}", v) for v in options]


def _listed(options) -> str:
    return ", ".join(f"{v:g}" for v in options)


def _short(loss: float) -> str:
    return f"{loss:.2g}" if 1e-2 <= abs(loss) < 1e3 else f"{loss:.1e}"
