"""Loss surfaces of two parameters, for racing optimisers on (lesson 08).

Each surface is a small function ``f(x, y) >= 0`` with its gradient written
out by hand, a fixed start point, a fixed view box and fixed contour levels,
so every picture of it looks the same:

- ``"valley"``: ``f = 0.5 (x^2 + 10 y^2)``, a long narrow valley. Its steep
  direction (curvature 10) limits the learning rate, its flat one
  (curvature 1) then crawls: plain gradient descent zig-zags across the
  valley for ``0.1 < lr < 0.2`` and diverges above 0.2.
- ``"banana"``: ``f = (1 - x)^2 + 10 (y - x^2)^2``, Rosenbrock's curved
  valley (with 10 instead of 100): finding the valley floor is easy,
  following it round to the minimum at (1, 1) is slow.
- ``"saddle"``: ``f = (x^2 - 1)^2 + 2 y^2``, two minima at (-1, 0) and
  (1, 0) with a saddle point at (0, 0) between them. The start sits just
  off the ridge ``x = 0``, where the gradient across it is tiny.

:func:`descend` runs one optimiser of :mod:`cnnlab.optim` on a surface and
stops a run that diverges.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._validate import check_choice, check_int, check_real, describe

__all__ = ["Surface", "SURFACES", "SURFACE_NAMES", "DIVERGED_LOSS", "MAX_DESCENT_STEPS",
           "get_surface", "descend", "valley_loss", "valley_grad", "banana_loss", "banana_grad",
           "saddle_loss", "saddle_grad"]

DIVERGED_LOSS = 1e6          # a run whose |loss| passes this has diverged and stops
MAX_DESCENT_STEPS = 10_000   # most steps one call of `descend` takes


class Surface(NamedTuple):
    """A loss of two parameters with everything needed to draw it the same way every time.

    Attributes
    ----------
    name : str
    formula : str
        The loss as text, for titles.
    loss : callable
        ``loss(x, y)`` on arrays of one shape (a grid), returning that shape.
    grad : callable
        ``grad(x, y)`` on two floats, returning the (2,) gradient ``(df/dx, df/dy)``.
    start : (float, float)
    xlim, ylim : (float, float)
        The view box.
    levels : (L,) ndarray
        Contour levels of the loss, increasing (log-spaced).
    minima : tuple of (float, float)
        Where the loss is smallest (0 on every surface here).
    """

    name: str
    formula: str
    loss: Callable
    grad: Callable
    start: tuple
    xlim: tuple
    ylim: tuple
    levels: np.ndarray
    minima: tuple


# ----------------------------------------------------------------- the surfaces

def valley_loss(x, y):
    """``0.5 (x^2 + 10 y^2)``; ``x, y`` : arrays of one shape (or floats)."""
    return 0.5 * (x ** 2 + 10.0 * y ** 2)


def valley_grad(x, y) -> np.ndarray:
    """Gradient of :func:`valley_loss` at the point (x, y): (2,) ndarray."""
    return np.array([x, 10.0 * y])


def banana_loss(x, y):
    """``(1 - x)^2 + 10 (y - x^2)^2`` (Rosenbrock's function with 10 for 100)."""
    return (1.0 - x) ** 2 + 10.0 * (y - x ** 2) ** 2


def banana_grad(x, y) -> np.ndarray:
    """Gradient of :func:`banana_loss` at the point (x, y): (2,) ndarray."""
    ridge = y - x ** 2
    return np.array([-2.0 * (1.0 - x) - 40.0 * x * ridge, 20.0 * ridge])


def saddle_loss(x, y):
    """``(x^2 - 1)^2 + 2 y^2``: minima at (+-1, 0), a saddle point at (0, 0)."""
    return (x ** 2 - 1.0) ** 2 + 2.0 * y ** 2


def saddle_grad(x, y) -> np.ndarray:
    """Gradient of :func:`saddle_loss` at the point (x, y): (2,) ndarray."""
    return np.array([4.0 * x * (x ** 2 - 1.0), 4.0 * y])


SURFACES = {
    "valley": Surface("valley", "0.5 (x² + 10 y²)", valley_loss, valley_grad,
                      start=(-4.5, 1.5), xlim=(-5.0, 5.0), ylim=(-2.5, 2.5),
                      levels=np.geomspace(1e-3, 1e2, 16), minima=((0.0, 0.0),)),
    "banana": Surface("banana", "(1 − x)² + 10 (y − x²)²", banana_loss, banana_grad,
                      start=(-1.5, 2.5), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
                      levels=np.geomspace(1e-3, 1e3, 19), minima=((1.0, 1.0),)),
    "saddle": Surface("saddle", "(x² − 1)² + 2 y²", saddle_loss, saddle_grad,
                      start=(0.005, 1.75), xlim=(-2.0, 2.0), ylim=(-2.0, 2.0),
                      levels=np.geomspace(1e-3, 1e2, 16), minima=((-1.0, 0.0), (1.0, 0.0))),
}
SURFACE_NAMES = tuple(SURFACES)


def get_surface(name: str) -> Surface:
    """The surface called ``name``, one of ``SURFACE_NAMES``."""
    return SURFACES[check_choice(name, "surface", SURFACE_NAMES)]


# ----------------------------------------------------------------- a run

def descend(surface, optimizer, steps: int, *, start=None):
    """Run ``optimizer`` for ``steps`` steps on ``surface``; stop early if it diverges.

    Introduced in lesson 08 (behind :class:`cnnlab.widgets.OptimiserRace`).
    Each step calls ``optimizer.step([p], [surface.grad(*p)])`` on the (2,)
    point ``p``. A run diverges at step ``k`` when the loss at its ``k``-th
    point is larger than ``DIVERGED_LOSS`` (1e6) or not finite; it stops
    there, so no later step can overflow.

    Parameters
    ----------
    surface : Surface or str
        One of ``SURFACES`` (or its name).
    optimizer : cnnlab.optim optimiser
        Anything with ``step(params, grads)``, e.g. ``optim.Adam(lr=0.1)``; it
        should be new (its memory is used and changed).
    steps : int
        1 to ``MAX_DESCENT_STEPS`` (10,000).
    start : (float, float), optional
        Defaults to ``surface.start``.

    Returns
    -------
    path : (n + 1, 2) ndarray
        The start point and the point after every step; ``n = steps``, or
        the step the run diverged at.
    losses : (n + 1,) ndarray
        The loss at each point of ``path``.
    diverged : int or None
        The step at which the loss passed ``DIVERGED_LOSS``, or None.
    """
    if isinstance(surface, str):
        surface = get_surface(surface)
    if not isinstance(surface, Surface):
        raise TypeError(f"`surface` must be a Surface or one of {SURFACE_NAMES}, "
                        f"got {describe(surface)}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError("`optimizer` must be an optimiser of cnnlab.optim (with a "
                        f"step(params, grads) method), got {describe(optimizer)}")
    steps = check_int(steps, "steps", minimum=1)
    if steps > MAX_DESCENT_STEPS:
        raise ValueError(f"`steps` must be at most {MAX_DESCENT_STEPS}, got {steps}")
    if start is None:
        start = surface.start
    if not isinstance(start, (tuple, list, np.ndarray)) or len(start) != 2:
        raise ValueError(f"`start` must be a point (x, y), got {describe(start)}")
    p = np.array([check_real(v, f"start[{i}]") for i, v in enumerate(start)])   # (2,)
    path, losses = [p.copy()], [_loss_at(surface, p)]
    diverged = None if _finite_and_small(losses[0]) else 0
    while diverged is None and len(path) <= steps:
        optimizer.step([p], [surface.grad(*p)])
        path.append(p.copy())
        losses.append(_loss_at(surface, p))
        if not _finite_and_small(losses[-1]):
            diverged = len(path) - 1
    return np.array(path), np.array(losses), diverged                 # (n+1, 2), (n+1,)


def _loss_at(surface, p) -> float:
    # a point far out may overflow the loss to infinity: that is a divergence, reported
    # as such by the caller, so only here is the overflow warning not shown
    with np.errstate(over="ignore", invalid="ignore"):
        return float(surface.loss(p[0], p[1]))


def _finite_and_small(loss: float) -> bool:
    return bool(np.isfinite(loss)) and abs(loss) <= DIVERGED_LOSS
