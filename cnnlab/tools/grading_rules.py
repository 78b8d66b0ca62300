"""Outside rules for exercises with many right answers (run in the grader only).

A test cell whose exercise has many right answers names one of these rules
in a line ``# grading: compare <rule>`` (see :mod:`cnnlab.tools.grading_replay`).
Its calls are recorded from the teacher's version and replayed on the
student's functions as for any test cell; only the comparison differs: the
rule decides, in the grader process (pure numpy, no course code that a
student's kernel could have changed), whether each of the student's results
is right for the call's arguments.

Each rule is ``rule(args, kwargs, expected, got) -> str``: ``""`` when
``got`` is right, otherwise what is wrong, for the student's feedback.

- :func:`unordered`: ``got`` holds the same items as the teacher's
  ``expected`` (tuples of whole numbers), in any order; no item twice when
  the teacher's has none twice.
- :func:`corner_kernel`: ``got`` is a (3, 3) filter, weights summing to 0,
  that answers the corner picture named by the call's argument most
  strongly, and only at its corner cell, and every other corner and every
  straight line strictly less (the checks of lesson 02's ``corner_kernel``);
  ``expected`` is not used.
"""

from __future__ import annotations

from collections import Counter
from numbers import Integral, Real

import numpy as np

__all__ = ["RULES", "rule", "unordered", "corner_kernel", "correlate", "corner_picture",
           "straight_lines", "CORNER_CELLS"]

#: The cell of the 6x6 answer whose window has the corner point on the kernel's own corner.
CORNER_CELLS = {"top_left": (2, 2), "top_right": (2, 3), "bottom_left": (3, 2),
                "bottom_right": (3, 3)}
SIZE = 8  # the pictures are 8x8


def _describe(items, limit=4) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _as_item(value):
    """``value`` as a tuple of ints, or None when it is not whole numbers."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, Real):
            return None
        if not isinstance(v, Integral) and not float(v).is_integer():
            return None
        out.append(int(v))
    return tuple(out)


def unordered(args, kwargs, expected, got) -> str:
    """The same items as the teacher's, in any order (tuples of whole numbers).

    Parameters
    ----------
    args, kwargs : list, dict
        The call's arguments (not used).
    expected : sequence
        The teacher's result: items that are whole numbers or sequences of them.
    got : sequence
        The student's result (a list, a tuple, a set decoded as a list, a
        (M, K) array).

    Returns
    -------
    str
        ``""`` when right; otherwise what differs, e.g. ``"(1, 3) is missing"``.
    """
    if isinstance(got, (str, bytes, dict)) or not isinstance(got, (list, tuple, np.ndarray)):
        return f"returned {type(got).__name__}, not a list"
    items = [_as_item(v) for v in got]
    bad = [v for v, item in zip(got, items) if item is None]
    if bad:
        return f"the item {bad[0]!r} is not whole numbers"
    want = Counter(_as_item(v) for v in expected)
    have = Counter(items)
    twice = sorted(i for i, n in have.items() if n > max(1, want.get(i, 0)))
    if twice and all(n == 1 for n in want.values()):
        return f"{_describe(twice)} listed more than once"
    missing = sorted((want - have).elements())
    extra = sorted((have - want).elements())
    if missing:
        return f"{_describe(missing)} missing" + (f", {_describe(extra)} not right" if extra
                                                   else "")
    if extra:
        return f"{_describe(extra)} not right"
    return ""


def correlate(image, kernel) -> np.ndarray:
    """Valid 2D cross-correlation (no flipping), in plain numpy.

    Parameters
    ----------
    image : (H, W) array_like
    kernel : (KH, KW) array_like

    Returns
    -------
    (H - KH + 1, W - KW + 1) ndarray
    """
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2 or any(k > i for k, i in zip(kernel.shape,
                                                                         image.shape)):
        raise ValueError(f"image, kernel: expected 2D arrays, the kernel no larger; got shapes "
                         f"{image.shape} and {kernel.shape}")
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def corner_picture(corner) -> np.ndarray:
    """The (8, 8) picture of one corner: two lines meeting at a point, as in lesson 02.

    Parameters
    ----------
    corner : str
        One of :data:`CORNER_CELLS`; the top-left one has its point at
        (2, 2) and its lines going right and down; the others are flipped.
    """
    if corner not in CORNER_CELLS:
        raise ValueError(f"corner: expected one of {', '.join(CORNER_CELLS)}; got {corner!r}")
    frame = np.zeros((SIZE, SIZE))
    frame[2, 2:] = 1.0
    frame[2:, 2] = 1.0
    if corner.startswith("bottom"):
        frame = frame[::-1]
    if corner.endswith("right"):
        frame = frame[:, ::-1]
    return frame


def straight_lines() -> list[tuple[str, np.ndarray]]:
    """``(name, (8, 8) picture)`` of a flat bright picture and every straight line.

    Every row, every column, every diagonal and every anti-diagonal.
    """
    lines = [("the flat bright picture", np.ones((SIZE, SIZE)))]
    lines += [(f"the diagonal line np.eye({SIZE}, k={d})", np.eye(SIZE, k=d))
              for d in range(1 - SIZE, SIZE)]
    lines += [(f"the anti-diagonal line np.fliplr(np.eye({SIZE}, k={d}))",
               np.fliplr(np.eye(SIZE, k=d))) for d in range(1 - SIZE, SIZE)]
    for r in range(SIZE):
        row, column = np.zeros((SIZE, SIZE)), np.zeros((SIZE, SIZE))
        row[r, :] = 1.0
        column[:, r] = 1.0
        lines += [(f"the line along row {r}", row), (f"the line along column {r}", column)]
    return lines


def corner_kernel(args, kwargs, expected, got) -> str:
    """A right corner filter for the corner the call names (``expected`` not used).

    Parameters
    ----------
    args, kwargs : list, dict
        The call's arguments: the corner's name, first or as ``corner=``.
    expected : any
        The teacher's kernel (not used: many kernels are right).
    got : (3, 3) array_like
        The student's kernel.

    Returns
    -------
    str
        ``""`` when right; otherwise the property that fails, e.g.
        ``"the weights sum to 0.5, not 0"``.
    """
    corner = args[0] if args else (kwargs or {}).get("corner")
    if corner not in CORNER_CELLS:
        return f"the call names no corner this rule knows ({corner!r})"
    try:
        kernel = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"returned {type(got).__name__}, not an array of numbers"
    if kernel.shape != (3, 3):
        return f"returned an array of shape {kernel.shape}, not (3, 3)"
    if not np.all(np.isfinite(kernel)):
        return "the weights hold inf or nan"
    tol = 1e-9 * max(1.0, float(np.abs(kernel).max()))
    total = float(kernel.sum())
    if abs(total) >= tol:
        return f"the weights sum to {total:.4g}, not 0"
    name = corner.replace("_", "-")
    response = correlate(corner_picture(corner), kernel)
    cell = CORNER_CELLS[corner]
    top = float(response[cell])
    if top <= 0:
        return f"the {name} corner answers {top:.4g} at its corner cell {cell}, not more than 0"
    rivals = [(tuple(int(i) for i in idx), float(v)) for idx, v in np.ndenumerate(response)
              if tuple(idx) != cell and v >= top - tol]
    if rivals:
        where, value = rivals[0]
        return (f"the {name} corner answers {value:.4g} at {where}, as much as at its corner "
                f"cell {cell} ({top:.4g})")
    others = [(f"the {c.replace('_', '-')} corner", corner_picture(c)) for c in CORNER_CELLS
              if c != corner]
    for what, picture in others + straight_lines():
        best = float(correlate(picture, kernel).max())
        if best >= top - tol:
            return f"{what} answers {best:.4g}, not less than the {name} corner's {top:.4g}"
    return ""


RULES = {"unordered": unordered, "corner_kernel": corner_kernel}


def rule(name):
    """The rule called ``name`` (one of :data:`RULES`); ``ValueError`` for any other.

    Parameters
    ----------
    name : str
    """
    if not isinstance(name, str) or name not in RULES:
        raise ValueError(f"rule: expected one of {', '.join(sorted(RULES))}; got {name!r}")
    return RULES[name]
