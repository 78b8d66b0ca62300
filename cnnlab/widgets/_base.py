"""What every explorer is built on: the redraw machinery, and the weight boxes of the editors.

:class:`Explorer` holds ``.controls`` and the status line, redraws (once per
``hold_redraw`` block), and gives every control its check.
:class:`KernelBoxes` adds the weight boxes and the preset menu that
:class:`~cnnlab.widgets.BumpEditor` and :class:`~cnnlab.widgets.KernelEditor` share.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
from IPython.display import display

from ._controls import (
    CUSTOM, ControlValueError, Guarded, flag_check, option_check, plain, range_check, shown,
    status_style, weight_check, whole_number_check,
)

__all__ = ["Explorer", "KernelBoxes"]


class Explorer:
    """Redraw machinery shared by the explorers: hold, quiet updates, timing.

    A subclass makes its controls (into ``.controls``), its ``status`` Label
    and its ``widget``, and draws in ``_draw``.
    """

    def __init__(self):
        self.controls: dict[str, widgets.Widget] = {}
        self.redraw_count = 0
        self.last_redraw_ms = float("nan")
        self._holding = 0
        self._dirty = False
        self._quiet_depth = 0
        self._refused = None              # status line of the last refused control value
        self._limits: dict[str, tuple] = {}   # int box name -> (low, high, why)

    # -- public -------------------------------------------------------------
    @contextmanager
    def hold_redraw(self):
        """Change several controls, redraw once at the end (if anything changed).

        A value refused inside the block is still reported on the status
        line after the redraw.
        """
        if self._holding == 0:
            self._refused = None
        self._holding += 1
        try:
            yield self
        finally:
            self._holding -= 1
            if self._holding == 0 and self._dirty:
                self._dirty = False
                refused = self._refused
                self.redraw()
                if refused:
                    self.status.value = refused

    def redraw(self) -> None:
        """Recompute and redraw now; time it in ``last_redraw_ms``."""
        start = time.perf_counter()
        self._draw()
        self.last_redraw_ms = (time.perf_counter() - start) * 1e3
        self.redraw_count += 1

    def _ipython_display_(self):
        display(widgets.VBox([status_style(), self.widget]))

    # -- checked controls -----------------------------------------------------
    def _guard_controls(self) -> None:
        """Give every control (not yet checked) the check its kind of widget needs."""
        for name, control in self.controls.items():
            if not isinstance(control, Guarded) or control.has_guard:
                continue
            if isinstance(control, (widgets.IntSlider, widgets.Play)):
                check = whole_number_check(name, lambda c=control: c.min,
                                           lambda c=control: c.max)
            elif isinstance(control, widgets.IntText):
                check = whole_number_check(name, *self._limits.get(name, (None, None, "")))
            elif isinstance(control, widgets.FloatSlider):
                check = range_check(name, lambda c=control: c.min, lambda c=control: c.max)
            elif isinstance(control, widgets.FloatText):
                check = weight_check(name)
            elif isinstance(control, widgets.ToggleButton):
                check = flag_check(name)
            else:
                check = option_check(name, control)
            self._guard(name, control, check)

    def _guard(self, name, control, check) -> None:
        def guard(value):
            try:
                return check(value)
            except ControlValueError as exc:
                self._refused = (f"Refused: {plain(exc)}. Kept {name} = "
                                 f"{shown(control.value)} and the last good picture.")
                self.status.value = self._refused
                raise
        control.set_guard(guard)

    # -- shared callbacks -----------------------------------------------------
    @contextmanager
    def _quiet(self):
        """Set controls from code without the observers treating it as a user edit."""
        self._quiet_depth += 1
        try:
            yield
        finally:
            self._quiet_depth -= 1

    def _request_redraw(self, change=None):
        if self._holding:
            self._dirty = True
        else:
            self.redraw()


class KernelBoxes:
    """Mixin for an :class:`Explorer` whose kernel is typed into weight boxes, with a preset menu.

    The explorer keeps its boxes in ``self._boxes`` (FloatText, row-major),
    its menu in ``self.controls["preset"]``, and gives ``_kernel_shape()``
    and ``_preset_kernel(name)``. Editing a box by hand sets the menu to
    ``CUSTOM``; choosing a preset writes its weights into the boxes.
    """

    @property
    def kernel(self) -> np.ndarray:
        """The weights now in the boxes (a copy; may hold NaN while one is being typed)."""
        shape = self._kernel_shape()
        return np.array([box.value for box in self._boxes], dtype=float).reshape(shape)

    def _on_weight(self, change):
        preset = self.controls["preset"]
        if not self._quiet_depth and preset.value != CUSTOM:
            with self._quiet():
                preset.value = CUSTOM
        self._request_redraw()

    def _on_preset(self, change):
        if self._quiet_depth or change.new == CUSTOM:
            return
        self._write_kernel(self._preset_kernel(change.new))

    def _write_kernel(self, k: np.ndarray) -> None:
        """Put ``k`` into the weight boxes (same shape), redrawing once."""
        with self.hold_redraw(), self._quiet():
            for box, value in zip(self._boxes, k.flat):
                box.value = float(value)

    def _set_custom(self) -> None:
        with self._quiet():
            self.controls["preset"].value = CUSTOM

    def _non_finite_message(self, k: np.ndarray) -> str | None:
        bad = np.argwhere(~np.isfinite(k))
        if not len(bad):
            return None
        name = "w_" + "_".join(str(i) for i in bad[0])
        return (f"Weight {name} is not a number; type a number there. "
                "(Showing the last good result.)")
