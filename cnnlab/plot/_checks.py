"""The argument checks the figures of :mod:`cnnlab.plot` (and the explorers' HTML) share.

Numbers, titles, flags, Axes and Figures, colour maps, labels, the ``fmt``
of the numbers written in cells (three forms: ``"{:.2f}"``, ``".2f"`` and
``"%.2f"``), highlights and font sizes. The size limits shared with the
step records (:func:`check_at_most`, :func:`check_side`,
:func:`check_no_overflow`) come from :mod:`cnnlab.steps`.
"""

from __future__ import annotations

import math
import numbers
import re
import string

import matplotlib
import matplotlib.axes
import matplotlib.figure
import numpy as np

from .._validate import check_int, describe
from ..steps import check_at_most, check_no_overflow, check_side

__all__ = [
    "check_number", "check_between", "check_text", "check_flag", "check_at_most",
    "check_axes", "check_figure", "check_cmap", "check_names", "NumberFormat", "check_fmt",
    "check_no_overflow", "check_side", "check_highlight", "check_font",
    "MAX_FORMAT_WIDTH", "MAX_CELL_TEXT", "MAX_FONT_SIZE",
]

MAX_FORMAT_WIDTH = 99       # largest width or number of digits a `fmt` may ask for
MAX_CELL_TEXT = 64          # longest text a `fmt` may write for one number
MAX_FONT_SIZE = 72.0        # largest fontsize (points) of the numbers in the cells
_FMT_EXAMPLES = "'{:.2f}', '.2f' or '%.2f'"
_PRINTF_FIELD = re.compile(r"%[-+ #0]*(\d*)(?:\.(\d*))?")


def check_number(value, name: str) -> float:
    """Return ``value`` as a finite float or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number, got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value}")
    return value


def check_between(value, name: str, low: float, high: float, *, unit: str = "") -> float:
    """A finite number from ``low`` to ``high`` (inclusive), or an error naming ``name``."""
    value = check_number(value, name)
    if not low <= value <= high:
        raise ValueError(f"`{name}` must be from {low:g} to {high:g}{unit}, got {value:g}")
    return value


def check_text(value, name: str = "title"):
    """A title or label: a string, or None for none."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"`{name}` must be a string (or None), got {describe(value)}")
    return value


def check_flag(value, name: str) -> bool:
    """``True`` or ``False`` (numpy booleans too); anything else is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {describe(value)}")
    return bool(value)


def check_axes(ax, name: str = "ax") -> None:
    """A matplotlib Axes, or None for a new figure."""
    if ax is not None and not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"`{name}` must be a matplotlib Axes (one of those plt.subplots() "
                        f"returns) or None for a new figure, got {describe(ax)}")


def check_figure(fig, name: str = "fig") -> None:
    """A matplotlib Figure, or None for a new one."""
    if fig is not None and not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"`{name}` must be a matplotlib Figure (plt.figure()) or None for a "
                        f"new one, got {describe(fig)}")


def check_cmap(cmap, name: str = "cmap"):
    """A colour map name matplotlib knows, or a Colormap; returned unchanged."""
    if isinstance(cmap, matplotlib.colors.Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in matplotlib.colormaps:
        return cmap
    error = TypeError if not isinstance(cmap, str) else ValueError
    raise error(f"`{name}` must be a matplotlib colour map name such as 'gray', 'viridis' or "
                f"'RdBu_r', got {describe(cmap)}")


def check_names(labels, name: str, n: int | None = None) -> list[str]:
    """A list (or tuple, or 1D array) of labels, as strings; ``n`` of them if given."""
    if isinstance(labels, np.ndarray) and labels.ndim == 1:
        labels = labels.tolist()
    if not isinstance(labels, (list, tuple)):
        raise TypeError(f"`{name}` must be a list of strings, got {describe(labels)}")
    if n is not None and len(labels) != n:
        raise ValueError(f"`{name}` must hold {n} strings (one each), got {len(labels)}: "
                         f"{describe(labels)}")
    return [str(label) for label in labels]


class NumberFormat:
    """A checked ``fmt``: ``.format(value)`` writes one number (see :func:`check_fmt`)."""

    __slots__ = ("source", "_write")

    def __init__(self, source: str, write):
        self.source, self._write = source, write

    def format(self, value: float) -> str:
        return self._write(value)

    def __repr__(self) -> str:
        return f"NumberFormat({self.source!r})"


def check_fmt(fmt, name: str = "fmt") -> NumberFormat:
    """Check a number format and return it ready to write numbers with (``.format(value)``).

    Three forms give the same text: a ``str.format`` template with one field
    (``"{:.2f}"``, ``"{:g} cm"``), a bare format spec (``".2f"``) and a
    printf-style format (``"%.2f"``). Anything else — a string without a
    field for the number, a spec that fails on a number, a width over
    ``MAX_FORMAT_WIDTH`` — is refused naming ``name``.
    """
    if isinstance(fmt, NumberFormat):
        return fmt
    if not isinstance(fmt, str):
        raise TypeError(f"`{name}` must be a format string such as {_FMT_EXAMPLES}, got "
                        f"{describe(fmt)}")

    def refuse(why: str):
        return ValueError(f"`{name}` must be a format string with one field for the number, "
                          f"such as {_FMT_EXAMPLES}; {why} (got {describe(fmt)})")

    if "{" in fmt or "}" in fmt:
        try:
            fields = [(field, spec) for _, field, spec, _ in string.Formatter().parse(fmt)
                      if field is not None]
        except ValueError as exc:              # unbalanced braces: "{:d"
            raise refuse(str(exc)) from None
        if len(fields) != 1 or fields[0][0] not in ("", "0") or "{" in (fields[0][1] or ""):
            raise refuse(f"it has {len(fields)} fields" if len(fields) != 1
                         else "its field must be {} or {:spec}")
        widths, write = re.findall(r"\d+", fields[0][1] or ""), fmt.format
    elif fmt and _is_spec(fmt):
        widths, write = re.findall(r"\d+", fmt), (lambda v: format(v, fmt))
    elif "%" in fmt:
        widths = [w for pair in _PRINTF_FIELD.findall(fmt) for w in pair if w]
        write = lambda v: fmt % v                                   # noqa: E731
    else:
        raise refuse("it has no field: write '{:g}' where the number goes")
    if any(int(w) > MAX_FORMAT_WIDTH for w in widths):
        raise refuse(f"widths and digits must be at most {MAX_FORMAT_WIDTH}")
    try:
        texts = [write(v) for v in (1.5, -1234.5678, 0.0, 1e300, math.inf, math.nan)]
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        whole = "'d'" in str(exc) or "integer" in str(exc)
        hint = " (for whole numbers use '{:.0f}' or '%.0f')" if whole else ""
        raise refuse(f"it fails on a number: {exc}{hint}") from None
    if not isinstance(texts[0], str) or max(len(t) for t in texts[:3]) > MAX_CELL_TEXT:
        raise refuse(f"a number must come out in at most {MAX_CELL_TEXT} characters")
    return NumberFormat(fmt, write)


def _is_spec(fmt: str) -> bool:
    """True when ``fmt`` is a bare format spec such as ``".2f"`` or ``"g"``."""
    if any(int(w) > MAX_FORMAT_WIDTH for w in re.findall(r"\d+", fmt)):
        return "%" not in fmt            # a huge spec is refused later, a printf one checked there
    try:
        format(1.5, fmt)
    except (ValueError, TypeError):
        return False
    return True


def check_highlight(highlight, shape) -> tuple[int, int, int, int]:
    """A ``(row, col, height, width)`` rectangle inside a matrix of ``shape``."""
    if not isinstance(highlight, (tuple, list)) or len(highlight) != 4:
        raise ValueError(
            f"`highlight` must be a (row, col, height, width) tuple, got {describe(highlight)}"
        )
    row, col = (check_int(v, "highlight", minimum=0) for v in highlight[:2])
    h, w = (check_int(v, "highlight", minimum=1) for v in highlight[2:])
    rows, cols = shape
    if row + h > rows or col + w > cols:
        raise ValueError(
            f"`highlight` {tuple(highlight)} reaches outside the {rows}x{cols} matrix"
        )
    return row, col, h, w


def check_font(fontsize) -> float:
    """A font size in points, above 0 and at most ``MAX_FONT_SIZE``."""
    fontsize = check_number(fontsize, "fontsize")
    if not 0 < fontsize <= MAX_FONT_SIZE:
        raise ValueError(f"`fontsize` must be above 0 and at most {MAX_FONT_SIZE:g} points, "
                         f"got {fontsize:g}")
    return fontsize
