"""The controls of the explorers, checked, and the small pieces every explorer uses.

Every control an explorer makes is one of the ipywidgets below, the same
front end and DOM with :class:`Guarded` mixed in: a new ``value`` is checked
before it is set, and a value the control cannot take raises
:class:`ControlValueError`. The checks (:func:`whole_number_check`,
:func:`option_check`, :func:`weight_check`, :func:`flag_check`) name the
control as its key in ``.controls``.
"""

from __future__ import annotations

import math
import numbers

import ipywidgets as widgets
import numpy as np
import traitlets

from .._validate import check_int, describe

__all__ = [
    "ControlValueError", "Guarded", "IntSlider", "IntText", "FloatText", "FloatSlider",
    "Dropdown", "ToggleButtons", "ToggleButton", "Play", "CUSTOM", "MAX_WEIGHT", "MAX_VALUE",
    "status_line", "status_style",
]

MAX_WEIGHT = 1e6                  # largest |weight| a weight box or set_kernel takes
MAX_VALUE = 1e6                   # largest |value| of an input the explorers draw
CUSTOM = "custom"                 # preset entry shown once a weight is edited by hand
WEIGHT_REASON = "larger weights make the feature map overflow or unreadable"


class ControlValueError(ValueError, traitlets.TraitError):
    """A control of an explorer was set to a value it cannot take.

    Both a ``ValueError`` (as every cnnlab check) and a
    ``traitlets.TraitError`` (what ipywidgets raises for a bad value), so
    code that catches either keeps working. The message names the control
    (its key in ``.controls``) and the values it takes; the control keeps
    its last good value and the explorer's status line says the same.
    """


class Guarded:
    """Mixin for a control whose explorer checks every new ``value`` before it is set.

    The guard given to :meth:`set_guard` returns the value to set or raises
    :class:`ControlValueError`. From code the error is raised; from the
    browser (``set_state``) the value is dropped and the box is sent its
    last good value again.
    """

    _cnnlab_guard = None

    @property
    def has_guard(self) -> bool:
        """Whether an explorer has given this control its check."""
        return self._cnnlab_guard is not None

    def set_guard(self, guard) -> None:
        """Check every new ``value`` with ``guard(value)`` from now on."""
        self._cnnlab_guard = guard

    def __setattr__(self, name, value):
        if name == "value" and self._cnnlab_guard is not None:
            value = self._cnnlab_guard(value)
        super().__setattr__(name, value)

    def set_state(self, sync_data):
        if self._cnnlab_guard is not None and "value" in sync_data:
            try:
                self._cnnlab_guard(sync_data["value"])
            except ControlValueError:
                super().set_state({k: v for k, v in sync_data.items() if k != "value"})
                self.send_state("value")
                return
        super().set_state(sync_data)


def _guarded(cls):
    """``cls`` with :class:`Guarded` mixed in: same front end, same DOM, checked values."""
    return type(cls.__name__, (Guarded, cls), {"__module__": __name__, "__doc__": cls.__doc__})


IntSlider, IntText, FloatText, FloatSlider, Dropdown, ToggleButtons, ToggleButton, Play = (
    _guarded(c) for c in (widgets.IntSlider, widgets.IntText, widgets.FloatText,
                          widgets.FloatSlider, widgets.Dropdown, widgets.ToggleButtons,
                          widgets.ToggleButton, widgets.Play))


# ----------------------------------------------------------------- checks of a new value

def _range_text(low, high) -> str:
    if low is not None and high is not None:
        return f"from {low:g} to {high:g}"
    return f"at most {high:g}" if high is not None else f"at least {low:g}"


def whole_number_check(name, low, high, why=""):
    """Check of an int control: ``low``/``high`` are numbers, None or callables giving them."""
    def check(value):
        lo, hi = (b() if callable(b) else b for b in (low, high))
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ControlValueError(f"`{name}` must be a whole number {_range_text(lo, hi)}"
                                    f"{why}, got {describe(value)}")
        value = int(value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ControlValueError(f"`{name}` must be a whole number {_range_text(lo, hi)}"
                                    f"{why}, got {value}")
        return value
    return check


def range_check(name, low, high):
    """Check of a float slider: a finite number from ``low`` to ``high`` (numbers or callables)."""
    def check(value):
        lo, hi = (b() if callable(b) else b for b in (low, high))
        real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
        if not real or not math.isfinite(value) or not lo <= value <= hi:
            got = f"{value:g}" if real else describe(value)
            raise ControlValueError(f"`{name}` must be a number from {lo:g} to {hi:g}, "
                                    f"got {got}")
        return float(value)
    return check


def _option_values(control) -> tuple:
    return tuple(o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in control.options)


def option_check(name, control):
    """Check of a menu or toggle row: one of its options, of the same kind (str or int)."""
    def check(value):
        allowed = _option_values(control)
        for option in allowed:
            same_kind = (isinstance(value, str) and isinstance(option, str)) or (
                isinstance(value, numbers.Integral) and isinstance(option, numbers.Integral)
                and not isinstance(value, (bool, np.bool_)))
            if same_kind and option == value:
                return option
        raise ControlValueError(f"`{name}` must be one of {', '.join(map(repr, allowed))}, "
                                f"got {describe(value)}")
    return check


def weight_check(name):
    """Check of a weight box: a number from ``-MAX_WEIGHT`` to ``MAX_WEIGHT`` (NaN while typing)."""
    def check(value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ControlValueError(f"`{name}` must be a number from {-MAX_WEIGHT:g} to "
                                    f"{MAX_WEIGHT:g}, got {describe(value)}")
        value = float(value)
        if not math.isnan(value) and not abs(value) <= MAX_WEIGHT:    # NaN: a box being typed in
            raise ControlValueError(f"`{name}` must be a number from {-MAX_WEIGHT:g} to "
                                    f"{MAX_WEIGHT:g}, got {value:g}")
        return value
    return check


def flag_check(name):
    """Check of a toggle button: True or False (1 and 0 too)."""
    def check(value):
        if isinstance(value, (bool, np.bool_)) or (
                isinstance(value, numbers.Integral) and value in (0, 1)):
            return bool(value)
        raise ControlValueError(f"`{name}` must be True or False (pressed or not), "
                                f"got {describe(value)}")
    return check


# ----------------------------------------------------------------- checks of the arguments

def check_values(arr, name: str, limit: float = MAX_VALUE,
                 why: str = "the explorer writes every number; scale the values down"
                 ) -> np.ndarray:
    """Refuse values above ``limit`` in absolute value (sums would be unreadable or overflow)."""
    largest = float(np.max(np.abs(arr))) if arr.size else 0.0
    if largest > limit:
        raise ValueError(f"`{name}` must hold numbers from {-limit:g} to {limit:g}, got "
                         f"{largest:g} ({why})")
    return arr


def check_input_side(arr, name: str, limit: int, what: str) -> None:
    """Refuse an empty input, or one with more than ``limit`` rows or columns."""
    if 0 in arr.shape:
        raise ValueError(f"`{name}` must not be empty, got shape {arr.shape}")
    if max(arr.shape[:2]) > limit:
        raise ValueError(f"`{name}` must be at most {limit}x{limit} ({what}), got shape "
                         f"{arr.shape}")


def check_range(value, name: str, low: int, high: int) -> int:
    """An int from ``low`` to ``high``."""
    value = check_int(value, name, minimum=low)
    if value > high:
        raise ValueError(f"`{name}` must be at most {high}, got {value}")
    return value


# ----------------------------------------------------------------- text and layout

def number(value: float) -> str:
    """Short text for a number; ``-0`` is written ``0``."""
    return f"{float(value) + 0.0:.3g}"


def shown(value) -> str:
    """A control's value as the status line writes it."""
    return number(value) if isinstance(value, float) else repr(value)


def plain(exc: Exception) -> str:
    """An error message without the backticks around argument names."""
    return str(exc).replace("`", "")


STATUS_CLASS = "cnnlab-status"
# A Label cuts its text off at the end of the line; the status lines wrap instead.
STATUS_CSS = (f"<style>.{STATUS_CLASS} {{white-space: normal !important; overflow: visible "
              "!important; height: auto !important; line-height: 1.4; text-overflow: clip;}}</style>")


def status_line() -> widgets.Label:
    """An explorer's status line: a Label whose long text wraps (with :func:`status_style` shown)."""
    label = widgets.Label(layout=widgets.Layout(height="auto"))
    label.add_class(STATUS_CLASS)
    return label


def status_style() -> widgets.HTML:
    """The style sheet that lets :func:`status_line` wrap; shown once beside every explorer."""
    return widgets.HTML(STATUS_CSS, layout=widgets.Layout(height="0px", margin="0px"))


def titled(title: str, child: widgets.Widget) -> widgets.VBox:
    """``child`` under a bold title."""
    return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), child],
                        layout=widgets.Layout(margin="0 16px 0 0"))
