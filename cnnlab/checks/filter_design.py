"""Exercise checkers of lessons 01 and 02: filters designed by hand for a given feature.

- :func:`check_pulse_finder`: ``fn(x, width)``, the positions where a pulse
  of exactly ``width`` ones starts in a 0/1 signal (lesson 01: a filter
  ``[-1, 1, ..., 1, -1]`` slid over the signal padded with one zero at each
  end), against a plain scan of the signal's runs of ones;
- :func:`check_feature_kernel`: ``fn(corner)``, a 3x3 kernel that answers
  most strongly to one corner (``"top_left"`` ...), tried on the target
  corner and on distractors: flat brightness, lines in every orientation and
  position, the other three corners (lesson 02).

At the first wrong case each raises :class:`~cnnlab.checks.CheckFailed` with
a hint found by recomputing the answer with one typical mistake built in
(the signal not padded, no negative taps around the pulse, a position off by
one; weights that do not sum to 0, the corner flipped, the wrong size, ...).
"""

from __future__ import annotations

import numpy as np

from .. import data, kernels
from . import _hints
from ._calls import DEFAULT_TIME_LIMIT, Call, Params, check_time_limit, compare
from ._results import CheckFailed, passed, short_traceback

__all__ = ["CORNERS", "check_feature_kernel", "check_pulse_finder", "corner_image",
           "find_pulses_reference"]

#: The corners :func:`check_feature_kernel` knows, named by where the corner point sits.
CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
CORNER_SIZE = 8          # the test images are 8x8
CORNER_AT = 2            # the corner point of the top-left corner image: (2, 2)
MAX_PULSE_WIDTH = 6


# --------------------------------------------------------------------------
# Lesson 01: pulses of a given width
# --------------------------------------------------------------------------

def runs_of_ones(x):
    """``[(start, length), ...]`` of every run of ones in a 0/1 signal ``x (L,)``."""
    edges = np.diff(np.concatenate([[0], np.asarray(x, dtype=int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), (ends - starts).tolist()))


def find_pulses_reference(x, width):
    """Where a pulse of exactly ``width`` ones starts in the 0/1 signal ``x``.

    Parameters
    ----------
    x : (L,) array_like of 0 and 1
    width : int
        At least 1.

    Returns
    -------
    (P,) ndarray of int
        The indices of the first one of every run of exactly ``width`` ones
        (a run ends at a zero or at an end of the signal), in increasing order.
    """
    x = np.asarray(x)
    if x.ndim != 1 or not np.all((x == 0) | (x == 1)):
        raise ValueError(f"`x` must be a 1D signal of 0 and 1, got {_hints.short(x)}")
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"`width` must be a whole number of at least 1, got {_hints.short(width)}")
    return np.array([s for s, n in runs_of_ones(x) if n == width], dtype=int)


def pulse_cases():
    """``(x, width)``: the lesson's bump first, then pulses at the ends, plateaus, none at all."""
    fixed = [
        (data.bump_signal(), 2),
        (np.array([1, 1, 0, 1, 1, 1, 0, 0, 1, 1]), 2),        # pulses at both ends, a plateau
        (np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 1]), 1),        # single spikes, one at each end
        (np.array([0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1]), 3),
        (np.array([0, 1, 1, 1, 1, 1, 0, 0, 1]), 2),           # no pulse of width 2 at all
        (np.array([1, 1, 1, 1]), 4),                          # the whole signal is one pulse
    ]
    cases = [(x.astype(float), w) for x, w in fixed]
    rng = np.random.default_rng(90)
    for width, length in ((1, 14), (2, 16), (3, 20), (5, 24)):
        x = np.zeros(length)
        at = 0
        while at < length:
            run = int(rng.integers(1, width + 3))
            x[at:at + run] = 1.0
            at += run + int(rng.integers(1, 3))
        cases.append((np.clip(x, 0, 1)[:length], width))
    return cases


def pulse_hint(x, width, want, got):
    """The likely mistake of a pulse finder that returned ``got`` instead of ``want``."""
    runs = runs_of_ones(x)
    want = np.asarray(want).astype(int)
    inside = np.array([s for s, n in runs if n == width and s > 0 and s + n < len(x)])
    wider = np.array(sorted(s + o for s, n in runs if n >= width for o in range(n - width + 1)))
    if got.ndim == 1 and len(got) in (len(x), len(x) - width + 1, len(x) - width - 1) \
            and np.all(np.isin(got, (0, 1))) and len(got) != len(want):
        return ("You return a 0/1 mask: return the positions themselves, np.flatnonzero(mask) "
                "(the indices where the pulses start).")
    if got.ndim == 1 and len(got) and len(got) == len(x) + 2 - (width + 2) + 1:
        return ("You return the filter's response: turn it into positions, the indices where "
                f"it equals {width} (np.flatnonzero(np.isclose(response, {width}))).")
    if got.shape == want.shape and len(want):
        if np.array_equal(got, want - 1):
            return ("Every position is one too small: window i of the unpadded signal covers "
                    f"x[i:i + {width + 2}], so its pulse starts at i + 1. Pad x with one zero at "
                    "each end (np.pad(x, 1)): then window i's pulse starts at i, and pulses that "
                    "touch an end are found too.")
        for offset, text in ((width - 1, "the position of the pulse's last one"),
                             (width // 2, "the position of the pulse's middle"),
                             (width, "the position of the zero after the pulse"),
                             (1, "one place after the pulse's first one")):
            if offset > 0 and np.array_equal(got, want + offset):
                return (f"Every position is {offset} too large: you return {text}; return the "
                        "index of its first one.")
    if _hints.close(got, inside) and not np.array_equal(inside, want):
        return ("You miss the pulses that touch an end of the signal: pad x with one zero at each "
                "end (np.pad(x, 1)), so that the filter's negative taps have a zero to sit on "
                "there too.")
    if _hints.close(got, wider) and not np.array_equal(wider, want):
        return (f"You also find {width} ones inside longer runs of ones: a pulse of exactly {width} "
                f"has a zero on each side. Give the filter a negative tap at each end, "
                f"[-1, 1, ..., 1, -1] ({width + 2} taps), so a longer run answers less.")
    extra = sorted(set(np.asarray(got, dtype=int).tolist()) - set(want.tolist()))
    missing = sorted(set(want.tolist()) - set(np.asarray(got, dtype=int).tolist()))
    if missing:
        return (f"The pulse that starts at {missing[0]} is missing. A filter of {width + 2} taps, "
                f"-1 on the zeros around the pulse and +1 on its {width} ones, answers exactly "
                f"{width} there and less everywhere else.")
    if extra:
        pattern = ", ".join(["0"] + ["1"] * width + ["0"])
        return (f"There is no pulse of exactly {width} ones starting at {extra[0]}: the window "
                f"around it, x[{extra[0] - 1}:{extra[0] + width + 1}] (counting a zero beyond "
                f"each end of x), is not [{pattern}], the only window that may answer {width}.")
    return "Return the start positions in increasing order, as an array of whole numbers."


@short_traceback
def check_pulse_finder(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(x, width)``: where a pulse of exactly ``width`` ones starts in a 0/1 signal.

    Parameters
    ----------
    fn : callable
        ``fn(x, width)`` with ``x (L,)`` of 0.0 and 1.0 and ``width`` an int,
        returning the start indices ``(P,)`` in increasing order (an empty
        array when there is no such pulse).
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first case that gives a wrong answer (or takes too long), with a hint.
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("x", "width"))
    limit = check_time_limit(time_limit)
    cases = pulse_cases()
    for x, width in cases:
        want = find_pulses_reference(x, width).astype(float)
        call = Call(fn, params, (x, width), {}, limit)
        got = call.run(1)
        if got.ndim == 0:
            raise CheckFailed(f"Expected an array of positions but got {_hints.short(got.item())}.",
                              call=call.text(), expected=want,
                              hint="Return every start position, as an array (np.flatnonzero "
                                   "gives one), even when there is only one pulse or none.")
        compare(call, got, want, lambda g: pulse_hint(x, width, want, g))
    return passed(params.name, len(cases), ["pulses of width 1 to 5", "pulses at the ends",
                                            "longer runs"])


# --------------------------------------------------------------------------
# Lesson 02: a kernel for a corner
# --------------------------------------------------------------------------

def check_corner(corner):
    if not isinstance(corner, str) or corner not in CORNERS:
        raise ValueError(f"`corner` must be one of {', '.join(map(repr, CORNERS))}, "
                         f"got {_hints.short(corner)}")
    return corner


def orient(image, corner):
    """Turn a top-left picture into the one of ``corner`` (flips only)."""
    image = image[::-1] if corner.startswith("bottom") else image
    return image[:, ::-1] if corner.endswith("right") else image


def corner_image(corner="top_left", size=CORNER_SIZE, at=CORNER_AT):
    """An image of zeros with one corner drawn in lines one pixel wide.

    Parameters
    ----------
    corner : {"top_left", "top_right", "bottom_left", "bottom_right"}
        Where the corner point sits: ``"top_left"`` is a line going right and
        a line going down from the corner point, like the corner of a frame.
    size : int
        The image is ``(size, size)``.
    at : int
        The top-left corner point is ``(at, at)``; the others are its mirror images.

    Returns
    -------
    (size, size) ndarray
    """
    check_corner(corner)
    for name, value, low in (("size", size, 3), ("at", at, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"`{name}` must be a whole number of at least {low}, "
                             f"got {_hints.short(value)}")
    if at > size - 3:
        raise ValueError(f"`at` must leave room for a 3x3 window: at most size - 3 = {size - 3}, "
                         f"got {at}")
    image = np.zeros((size, size))
    image[at, at:] = 1.0
    image[at:, at] = 1.0
    return orient(image, corner)


def corner_cell(corner, size=CORNER_SIZE, at=CORNER_AT, k=3):
    """The output cell whose 3x3 window has the corner point at the kernel's own corner."""
    far = size - k - at   # a mirrored corner point sits at size - 1 - at; its window starts k - 1 before
    return (far if corner.startswith("bottom") else at, far if corner.endswith("right") else at)


def distractors(size=CORNER_SIZE):
    """``[(name, image), ...]``: flat brightness, every straight line, the other corners."""
    found = [("a flat bright region (all ones)", np.ones((size, size)))]
    for orientation in ("horizontal", "vertical", "diagonal", "anti_diagonal"):
        for position in range(size):
            found.append((f"a {orientation.replace('_', '-')} line (position {position})",
                          data.line_image(orientation, size, position, thickness=1)))
    return found


def corner_hint(kern, corner):
    """The likely mistake of a corner kernel; None when it passes."""
    flips = {"top_left": "", "top_right": "its columns", "bottom_left": "its rows",
             "bottom_right": "its rows and its columns"}
    target = kernels.conv2d(corner_image(corner), kern)
    cell = corner_cell(corner)
    best = float(target[cell])
    scale = max(1.0, float(np.abs(kern).max()))
    tol = 1e-6 * scale
    answers = {c: float(kernels.conv2d(corner_image(c), kern).max()) for c in CORNERS}
    rival = max((c for c in CORNERS if c != corner), key=answers.get)
    lines = [(float(kernels.conv2d(image, kern).max()), name) for name, image in distractors()]
    strongest_line = max(lines)[0]
    total = float(kern.sum())
    if abs(total) > tol:
        return (f"Your weights sum to {total:.4g}, so a flat bright region answers {total:.4g}: "
                "a corner detector must answer 0 where nothing changes. Give the cells off the "
                "corner's two lines negative weights that balance the positive ones (sum = 0).")
    if answers[rival] >= best - tol and answers[rival] > max(strongest_line, 0) + tol:
        return (f"Your kernel answers the {rival.replace('_', '-')} corner ({answers[rival]:.4g}) "
                f"at least as strongly as the {corner.replace('_', '-')} one ({best:.4g}): the "
                f"orientation is flipped. The {corner.replace('_', '-')} corner has its two lines "
                f"meeting at the kernel's {corner.replace('_', ' ')} cell; from the top-left "
                f"design, reverse {flips[corner] or 'nothing'}.")
    if best <= tol:
        return (f"Your kernel answers {best:.4g} on the {corner.replace('_', '-')} corner, whose "
                f"point is at the kernel's {corner.replace('_', ' ')} cell: put positive weights "
                "on the corner's two lines (a row and a column of the 3x3 window) and negative "
                "ones elsewhere.")
    for answer, name in lines:
        if answer >= best - tol:
            return (f"Your kernel answers {name} with {answer:.4g}, as much as the corner "
                    f"({best:.4g}): a single line covers only one of the corner's two arms, so it "
                    "must answer less. Weigh both arms positively and every other cell "
                    "negatively, so that only both arms together reach the top answer.")
    if answers[rival] >= best - tol:
        return (f"Your kernel answers the {rival.replace('_', '-')} corner ({answers[rival]:.4g}) "
                f"as strongly as the {corner.replace('_', '-')} one: the cells where only the "
                f"{rival.replace('_', '-')} corner has a line must be negative.")
    others = [(float(v), tuple(int(i) for i in idx)) for idx, v in np.ndenumerate(target)
              if tuple(idx) != cell and v >= best - tol]
    if others:
        value, where = others[0]
        return (f"On the corner picture your kernel answers {value:.4g} at output cell {where}, "
                f"as much as at {cell}, where the corner point lies on the kernel's "
                f"{corner.replace('_', ' ')} cell: only the window that holds the whole corner "
                "may answer that much.")
    return None


@short_traceback
def check_feature_kernel(fn, *, corners=CORNERS, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(corner)``: a 3x3 kernel that answers most strongly to one corner.

    A kernel passes for a corner when its weights sum to 0 (a flat region
    answers 0), it answers the corner picture (:func:`corner_image`) most
    strongly, and only in the window that has the corner point on the
    kernel's own corner cell, and every distractor (a flat bright region,
    every horizontal, vertical and diagonal line, the three other corners)
    answers strictly less.

    Parameters
    ----------
    fn : callable
        ``fn(corner)`` returning a ``(3, 3)`` kernel; ``corner`` is one of
        :data:`CORNERS`.
    corners : sequence of str
        The corners to test (default: all four).
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first corner whose kernel is wrong, with a hint.
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    params = Params(fn, ("corner",))
    limit = check_time_limit(time_limit)
    if isinstance(corners, str) or not isinstance(corners, (list, tuple)) or not corners:
        raise TypeError(f"`corners` must be a non-empty list of corner names, got "
                        f"{_hints.short(corners)}")
    corners = tuple(check_corner(c) for c in corners)
    for corner in corners:
        call = Call(fn, params, (corner,), {}, limit)
        kern = call.run(2)
        if kern.shape != (3, 3):
            size = f"one of shape {kern.shape}" if kern.ndim else "a single number"
            raise CheckFailed(f"Expected a 3x3 kernel but got {size}.", call=call.text(),
                              got=kern, hint="The kernel is a 3x3 array: start from "
                              "np.zeros((3, 3)) and set its weights; a corner needs two lines "
                              "of the window, a row and a column.")
        if not np.all(np.isfinite(kern)):
            raise CheckFailed("Your kernel holds inf or nan.", call=call.text(), got=kern,
                              hint="Give every weight a finite value (no division by zero).")
        hint = corner_hint(kern, corner)
        if hint:
            raise CheckFailed(f"This kernel does not pick out the {corner.replace('_', '-')} "
                              "corner.", call=call.text(), got=kern, hint=hint)
    named = "the four corners" if len(set(corners)) == 4 else \
        ", ".join(c.replace("_", "-") for c in dict.fromkeys(corners))
    return passed(params.name, len(corners), [named, "flat regions", "lines", "other corners"])
