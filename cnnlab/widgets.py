"""Interactive explorers for lessons 01 and 02 (ipywidgets 8).

Each explorer keeps its controls in ``.controls`` (name -> widget), its whole
layout in ``.widget`` and redraws in place: the pictures are ``Image`` (or
``HTML``) widgets whose value is replaced, so no matplotlib figure is made per
change, nothing flickers and no output piles up. The logic runs without a
browser: set a control's ``.value`` and the result is there at once
(``.feature_map`` / ``.output_values``), which is how the tests drive them.

A weight box that holds something other than a finite number (NaN) leaves
the last good picture on screen and says so in the status line. To change
several controls with a single redraw, wrap the changes in
``with editor.hold_redraw(): ...``.

Every control checks the values it is given. A value it cannot take — out
of its range (a slider's min to max, a box's bounds listed in each class),
not one of a menu's options, of the wrong type — is refused before anything
changes: the control keeps its last good value, the picture stays, and the
status line says what was refused and what is allowed. Set from code, the
refusal is also raised, as a :class:`ControlValueError` (both a
``ValueError`` and the ``traitlets.TraitError`` ipywidgets raises) whose
message names the control, as its key in ``.controls``, and the allowed
values. Settings that are allowed but cannot work together (a stride of 0,
a kernel larger than the padded input) are explained in the status line
without an error, so a learner can see why.

Every constructor checks its arguments first and bounds what sets a size
(``MAX_*`` constants below) so that every redraw takes well under a second.
"""

from __future__ import annotations

import io
import math
import numbers
import time
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
import traitlets

from . import data, filters, kernels, plot, shapes
from ._validate import as_array, check_choice, check_int, describe
from .plot import array_to_png

MAX_WEIGHT = 1e6                  # largest |weight| a weight box or set_kernel takes
MAX_VALUE = 1e6                   # largest |value| of an input the explorers draw
MAX_EDITOR_SIDE = 512             # largest side of your own image in KernelEditor
MAX_CHANNEL_STRIDE = plot.MAX_CHANNEL_SIDE   # ChannelExplorer's stride box
MAX_SETTING = plot.MAX_ARITHMETIC_SIDE       # PaddingStrideExplorer's p, stride and dilation boxes
MAX_INSPECTOR_IMAGES = 10_000     # most digits DigitInspector takes (one test set)


class ControlValueError(ValueError, traitlets.TraitError):
    """A control of an explorer was set to a value it cannot take.

    Both a ``ValueError`` (as every cnnlab check) and a
    ``traitlets.TraitError`` (what ipywidgets raises for a bad value), so
    code that catches either keeps working. The message names the control
    (its key in ``.controls``) and the values it takes; the control keeps
    its last good value and the explorer's status line says the same.
    """


class _Guarded:
    """Mixin for a control whose explorer checks every new ``value`` before it is set.

    ``_cnnlab_guard(value)`` returns the value to set or raises
    :class:`ControlValueError`. From code the error is raised; from the
    browser (``set_state``) the value is dropped and the box is sent its
    last good value again.
    """

    _cnnlab_guard = None

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
    """``cls`` with :class:`_Guarded` mixed in: same front end, same DOM, checked values."""
    return type(cls.__name__, (_Guarded, cls), {"__module__": __name__, "__doc__": cls.__doc__})


_IntSlider, _IntText, _FloatText, _Dropdown, _ToggleButtons, _ToggleButton, _Play = (
    _guarded(c) for c in (widgets.IntSlider, widgets.IntText, widgets.FloatText,
                          widgets.Dropdown, widgets.ToggleButtons, widgets.ToggleButton,
                          widgets.Play))


def _range_text(low, high) -> str:
    if low is not None and high is not None:
        return f"from {low:g} to {high:g}"
    return f"at most {high:g}" if high is not None else f"at least {low:g}"


def _whole_number_check(name, low, high, why=""):
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


def _option_values(control) -> tuple:
    return tuple(o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in control.options)


def _option_check(name, control):
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


def _weight_check(name):
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


def _flag_check(name):
    def check(value):
        if isinstance(value, (bool, np.bool_)) or (
                isinstance(value, numbers.Integral) and value in (0, 1)):
            return bool(value)
        raise ControlValueError(f"`{name}` must be True or False (pressed or not), "
                                f"got {describe(value)}")
    return check


def _check_values(arr, name: str, limit: float = MAX_VALUE,
                  why: str = "the explorer writes every number; scale the values down"
                  ) -> np.ndarray:
    """Refuse values above ``limit`` in absolute value (their sums would be unreadable or overflow)."""
    largest = float(np.max(np.abs(arr))) if arr.size else 0.0
    if largest > limit:
        raise ValueError(f"`{name}` must hold numbers from {-limit:g} to {limit:g}, got "
                         f"{largest:g} ({why})")
    return arr


_WEIGHT_REASON = "larger weights make the feature map overflow or unreadable"


def _check_input_side(arr, name: str, limit: int, what: str) -> None:
    if 0 in arr.shape:
        raise ValueError(f"`{name}` must not be empty, got shape {arr.shape}")
    if max(arr.shape[:2]) > limit:
        raise ValueError(f"`{name}` must be at most {limit}x{limit} ({what}), got shape "
                         f"{arr.shape}")

CUSTOM = "custom"                 # preset entry shown once a weight is edited by hand
INPUTS = ("photo", "digit", "lines")
KERNEL_SIZES = (3, 5)
PHOTO_SIZE = 256                  # side of the photo the kernel editor filters
DISPLAY_SIZE = 256                # small inputs are enlarged (nearest neighbour) to about this
MAX_SIGNAL_LENGTH = 16


def _number(value: float) -> str:
    """Short text for a number; ``-0`` is written ``0``."""
    return f"{float(value) + 0.0:.3g}"


def _shown(value) -> str:
    return _number(value) if isinstance(value, float) else repr(value)


class _Explorer:
    """Redraw machinery shared by the explorers: hold, quiet updates, timing."""

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

    @property
    def kernel(self) -> np.ndarray:
        """The weights now in the boxes (a copy; may hold NaN while one is being typed)."""
        shape = self._kernel_shape()
        return np.array([box.value for box in self._boxes], dtype=float).reshape(shape)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    # -- checked controls -----------------------------------------------------
    def _guard_controls(self) -> None:
        """Give every control (not yet checked) the check its kind of widget needs."""
        for name, control in self.controls.items():
            if not isinstance(control, _Guarded) or control._cnnlab_guard is not None:
                continue
            if isinstance(control, (widgets.IntSlider, widgets.Play)):
                check = _whole_number_check(name, lambda c=control: c.min,
                                            lambda c=control: c.max)
            elif isinstance(control, widgets.IntText):
                check = _whole_number_check(name, *self._limits.get(name, (None, None, "")))
            elif isinstance(control, widgets.FloatText):
                check = _weight_check(name)
            elif isinstance(control, widgets.ToggleButton):
                check = _flag_check(name)
            else:
                check = _option_check(name, control)
            self._guard(name, control, check)

    def _guard(self, name, control, check) -> None:
        def guard(value):
            try:
                return check(value)
            except ControlValueError as exc:
                self._refused = (f"Refused: {_plain(exc)}. Kept {name} = "
                                 f"{_shown(control.value)} and the last good picture.")
                self.status.value = self._refused
                raise
        control._cnnlab_guard = guard

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


# ----------------------------------------------------------------- lesson 01

class BumpEditor(_Explorer):
    """Edit a 1D input pattern and a 3-weight filter; the feature map redraws live.

    Introduced in lesson 01. Layout, top to bottom: one toggle button per
    input value (0 or 1); the three weight boxes ``w0 w1 w2`` with the preset
    menu; a bar chart of the input and of the feature map with the values
    written under the bars (output ``i`` is drawn under the centre of its
    window); a status line. The feature map is
    ``cnnlab.kernels.conv1d(signal, kernel)`` ("valid": ``L - 3 + 1`` values).

    Parameters
    ----------
    signal : (L,) array_like of 0 and 1, optional
        Starting input, ``3 <= L <= 16``; default ``data.bump_signal()``.
    kernel : (3,) array_like, optional
        Starting weights, each from ``-MAX_WEIGHT`` to ``MAX_WEIGHT`` (1e6);
        default the ``"bump"`` preset ``[0, 1, 0]``.

    Attributes
    ----------
    controls : dict
        ``"x_0"`` .. ``"x_{L-1}"`` (ToggleButton), ``"w_0"`` .. ``"w_2"``
        (FloatText), ``"preset"`` (Dropdown).
    output_values : (L - 2,) ndarray
        The feature map now shown.
    widget : ipywidgets.VBox
    chart : ipywidgets.HTML
        The bar chart (an inline SVG).
    status : ipywidgets.Label
    last_redraw_ms : float
    """

    def __init__(self, signal=None, kernel=None):
        super().__init__()
        signal = data.bump_signal() if signal is None else as_array(signal, "signal", ndims=1)
        if not 3 <= len(signal) <= MAX_SIGNAL_LENGTH:
            raise ValueError(
                f"`signal` must hold 3 to {MAX_SIGNAL_LENGTH} values, got {len(signal)}")
        if not np.all((signal == 0) | (signal == 1)):
            raise ValueError(f"`signal` must hold only 0s and 1s (one toggle per value), "
                             f"got {signal.tolist()}")
        kernel = filters.get_1d("bump") if kernel is None else _check_kernel_1d(kernel)
        self._presets = {name: k for name, k in filters.PRESETS_1D.items() if k.shape == (3,)}
        preset = next((name for name, k in self._presets.items() if np.allclose(k, kernel)),
                      CUSTOM)

        self._toggles = [_ToggleButton(value=bool(v), description=str(int(v)),
                                              layout=widgets.Layout(width="36px"))
                         for v in signal]
        self._boxes = [_FloatText(value=float(w), step=0.1, description=f"w{i}",
                                         style={"description_width": "24px"},
                                         layout=widgets.Layout(width="120px"))
                       for i, w in enumerate(kernel)]
        menu = _Dropdown(options=[CUSTOM, *self._presets], value=preset,
                                description="preset", layout=widgets.Layout(width="220px"))
        self.chart = widgets.HTML()
        self.status = widgets.Label()
        self.controls.update({f"x_{i}": t for i, t in enumerate(self._toggles)})
        self.controls.update({f"w_{i}": b for i, b in enumerate(self._boxes)})
        self.controls["preset"] = menu
        self.widget = widgets.VBox([
            widgets.HBox([widgets.Label("input", layout=widgets.Layout(width="60px")),
                          *self._toggles]),
            widgets.HBox([widgets.Label("kernel", layout=widgets.Layout(width="60px")),
                          *self._boxes, menu]),
            self.chart,
            self.status,
        ])
        for toggle in self._toggles:
            toggle.observe(self._on_toggle, names="value")
        for box in self._boxes:
            box.observe(self._on_weight, names="value")
        menu.observe(self._on_preset, names="value")
        self.output_values = None
        self._guard_controls()
        self.redraw()

    @property
    def signal(self) -> np.ndarray:
        """The input pattern now set, ``(L,)`` of 0.0 and 1.0."""
        return np.array([float(t.value) for t in self._toggles])

    def set_kernel(self, kernel) -> None:
        """Set the three weights at once (one redraw); the preset menu shows "custom".

        ``kernel`` holds 3 finite weights from ``-MAX_WEIGHT`` to ``MAX_WEIGHT``.
        """
        kernel = _check_kernel_1d(kernel)
        with self.hold_redraw():
            self._set_custom()
            self._write_kernel(kernel)

    def _kernel_shape(self):
        return (len(self._boxes),)

    def _preset_kernel(self, name):
        return self._presets[name]

    def _on_toggle(self, change):
        change.owner.description = str(int(change.new))
        self._request_redraw()

    def _draw(self) -> None:
        k = self.kernel                                             # (3,)
        message = self._non_finite_message(k)
        if message:
            self.status.value = message
            return
        x = self.signal                                             # (L,)
        y = kernels.conv1d(x, k)                                    # (L - 3 + 1,)
        self.chart.value = _bars_svg(x, y, offset=(len(k) - 1) / 2)
        self.output_values = y
        self.status.value = (
            f"kernel [{', '.join(_number(w) for w in k)}] · {len(x)} inputs - {len(k)} "
            f"weights + 1 = {len(y)} outputs: [{', '.join(_number(v) for v in y)}]")


def _check_kernel_1d(kernel) -> np.ndarray:
    kernel = as_array(kernel, "kernel", ndims=1)
    if kernel.shape != (3,):
        raise ValueError(f"`kernel` must hold 3 weights, got shape {kernel.shape}")
    return _check_values(kernel, "kernel", MAX_WEIGHT, _WEIGHT_REASON)


def _bars_svg(x, y, *, offset: float) -> str:
    """Two rows of bars (input above, feature map below) as an inline SVG.

    Output bar ``i`` is shifted right by ``offset`` cells, under the centre
    of its window. Values are written under the bars (``<text class="x">``
    and ``<text class="y">``).
    """
    cell, left, bar_height = 40, 104, 50
    row_height = bar_height + 28
    width = left + cell * len(x) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{2 * row_height + 8}" font-family="sans-serif" font-size="13">']
    rows = (("input x", x, 0.0, "x", "#4c78a8"), ("feature map y", y, offset, "y", "#54a24b"))
    for r, (label, values, shift, cls, colour) in enumerate(rows):
        top = 6 + r * row_height
        largest = max(1.0, float(np.max(np.abs(values))))
        signed = bool(np.any(values < 0))
        base = top + (bar_height / 2 if signed else bar_height)    # y of the zero line
        unit = (bar_height / 2 if signed else bar_height) / largest
        x0 = left + shift * cell
        parts.append(f'<text x="0" y="{top + bar_height / 2 + 4:.1f}" fill="#444">{label}</text>')
        parts.append(f'<line x1="{x0:.1f}" x2="{x0 + cell * len(values):.1f}" y1="{base:.1f}" '
                     f'y2="{base:.1f}" stroke="#999"/>')
        for i, v in enumerate(values):
            h = abs(v) * unit
            fill = colour if v >= 0 else "#e45756"
            parts.append(f'<rect x="{x0 + i * cell + 7:.1f}" y="{base - max(v, 0) * unit:.1f}" '
                         f'width="{cell - 14}" height="{h:.1f}" fill="{fill}"/>')
            parts.append(f'<text class="{cls}" x="{x0 + (i + 0.5) * cell:.1f}" '
                         f'y="{top + bar_height + 18}" text-anchor="middle">{_number(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------- lesson 02

class KernelEditor(_Explorer):
    """Edit a 3x3 or 5x5 kernel and watch its feature map on a picture, live.

    Introduced in lesson 02. Layout: a top row with the preset menu, the
    size toggle (3x3 / 5x5), the normalise button and the input menu; below
    it the grid of weight boxes, the input picture and the feature map side
    by side; a status line (kernel sum, feature-map size and value range).
    The feature map is ``cnnlab.kernels.conv2d(image, kernel, padding="same")``:
    "same" padding keeps the picture's size, so input and output line up.
    It is drawn in grey, black at its minimum and white at its maximum.

    Presets missing at 5x5 are put in the middle of a 5x5 grid of zeros,
    which gives the same feature map. Changing the size keeps the chosen
    preset, or the middle of a hand-edited kernel.

    Parameters
    ----------
    image : {"photo", "digit", "lines"} or (H, W) array_like, optional
        Starting input: the 256x256 grey photo (default), MNIST test digit 0,
        a 32x32 picture with a vertical, a horizontal and a diagonal line, or
        your own image (offered as "custom" in the input menu): at most
        ``MAX_EDITOR_SIDE`` (512) pixels a side, values from ``-MAX_VALUE``
        to ``MAX_VALUE`` (1e6).
    size : {3, 5}
    presets : list of str, optional
        Names from :func:`cnnlab.filters.names` offered in the menu; all by default.
    preset : str, optional
        Starting preset; ``"sobel_x"`` (or the first of ``presets``) by default.

    Attributes
    ----------
    controls : dict
        ``"preset"``, ``"size"``, ``"normalise"``, ``"input"`` and one
        FloatText per weight, ``"w_{row}_{col}"`` (replaced when the size
        changes), which takes numbers from ``-MAX_WEIGHT`` to ``MAX_WEIGHT``.
    feature_map : (H, W) ndarray
        The feature map now shown.
    image : (H, W) ndarray
        The input now used.
    widget : ipywidgets.VBox
    input_image, output_image : ipywidgets.Image
    status : ipywidgets.Label
    last_redraw_ms : float
    """

    def __init__(self, image=None, size=3, presets=None, *, preset=None):
        super().__init__()
        size = _check_size(size, "size")
        names = filters.names() if presets is None else _check_presets(presets)
        if preset is None:
            preset = "sobel_x" if "sobel_x" in names else names[0]
        check_choice(preset, "preset", names)
        self._presets = names
        self._inputs: dict[str, np.ndarray] = {}            # input name -> image, on first use
        if image is None or isinstance(image, str):
            source = check_choice("photo" if image is None else image, "image", INPUTS)
        else:
            image = as_array(image, "image", ndims=2)
            _check_input_side(image, "image", MAX_EDITOR_SIDE, "it is filtered live")
            self._inputs["custom"] = _check_values(image, "image")
            source = "custom"

        menu = _Dropdown(options=[CUSTOM, *names], value=preset, description="preset",
                                layout=widgets.Layout(width="220px"))
        sizes = _ToggleButtons(options=[(f"{n}x{n}", n) for n in KERNEL_SIZES],
                                      value=size, style={"button_width": "52px"})
        normalise = widgets.Button(description="normalise", icon="balance-scale",
                                   tooltip="divide every weight by their sum "
                                           "(by the largest |weight| when the sum is 0)")
        inputs = _Dropdown(options=[*INPUTS, *self._inputs], value=source,
                                  description="input", layout=widgets.Layout(width="180px"))
        self.controls.update(preset=menu, size=sizes, normalise=normalise, input=inputs)
        self._grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
        self._boxes: list[widgets.FloatText] = []
        self._box_layout = widgets.Layout(width="60px")     # shared by every weight box
        self.input_image = widgets.Image(format="png")
        self.output_image = widgets.Image(format="png")
        self.status = widgets.Label()
        self.widget = widgets.VBox([
            widgets.HBox([menu, sizes, normalise, inputs]),
            widgets.HBox([_titled("kernel", self._grid), _titled("input", self.input_image),
                          _titled("feature map", self.output_image)],
                         layout=widgets.Layout(align_items="flex-start")),
            self.status,
        ])
        self.feature_map = None
        self._stats = ""
        self._show_input(self._load_input(source))
        with self.hold_redraw():
            self._build_grid(self._preset_kernel(preset, size))
        menu.observe(self._on_preset, names="value")
        sizes.observe(self._on_size, names="value")
        inputs.observe(self._on_input, names="value")
        normalise.on_click(self.normalise)
        self._guard_controls()

    # -- public -------------------------------------------------------------
    @property
    def size(self) -> int:
        """Kernel side now shown (3 or 5)."""
        return self.controls["size"].value

    def set_kernel(self, kernel) -> None:
        """Put a (3, 3) or (5, 5) kernel in the boxes (resizing the grid), one redraw.

        The weights must be finite, from ``-MAX_WEIGHT`` to ``MAX_WEIGHT`` (1e6).
        """
        kernel = as_array(kernel, "kernel", ndims=2)
        if kernel.shape[0] != kernel.shape[1] or kernel.shape[0] not in KERNEL_SIZES:
            raise ValueError(f"`kernel` must be 3x3 or 5x5, got shape {kernel.shape}")
        _check_values(kernel, "kernel", MAX_WEIGHT, _WEIGHT_REASON)
        with self.hold_redraw():
            self._set_custom()
            if kernel.shape[0] != self.size:
                with self._quiet():
                    self.controls["size"].value = kernel.shape[0]
                self._build_grid(kernel)
            else:
                self._write_kernel(kernel)

    def normalise(self, _button=None) -> None:
        """Divide the weights by their sum (by the largest |weight| when the sum is 0)."""
        k = self.kernel
        if not np.all(np.isfinite(k)):
            self.status.value = "Type a number in every box before normalising."
            return
        total = float(k.sum())
        if abs(total) > 1e-12:
            divisor, how = total, f"divided by the sum {_number(total)}"
        elif np.any(k):
            divisor = float(np.abs(k).max())
            how = f"the sum is 0, so divided by the largest |weight| {_number(divisor)}"
        else:
            self.status.value = f"All weights are 0: nothing to normalise. {self._stats}"
            return
        if not np.max(np.abs(k / divisor)) <= MAX_WEIGHT:
            self.status.value = (f"Not normalised: the sum {_number(total)} is so close to 0 "
                                 f"that the weights would pass {MAX_WEIGHT:g}. {self._stats}")
            return
        self.set_kernel(k / divisor)
        self.status.value = f"Normalised: {how}. {self._stats}"

    # -- callbacks ------------------------------------------------------------
    def _on_size(self, change):
        if self._quiet_depth:
            return
        preset = self.controls["preset"].value
        if preset == CUSTOM:
            k = _centre_crop_or_pad(self.kernel, change.new)
        else:
            k = self._preset_kernel(preset, change.new)
        with self.hold_redraw():
            self._build_grid(k)

    def _on_input(self, change):
        if self._quiet_depth:
            return
        try:
            image = self._load_input(change.new)
        except (OSError, ValueError) as exc:    # e.g. MNIST file missing
            self.status.value = f"Could not load the {change.new!r} input: {exc}"
            with self._quiet():
                self.controls["input"].value = change.old
            return
        self._show_input(image)
        self.redraw()

    # -- building blocks ------------------------------------------------------
    def _kernel_shape(self):
        return self._shape                       # of the boxes (the toggle may be ahead)

    def _preset_kernel(self, name, size=None):
        size = self.size if size is None else size
        try:
            return filters.get(name, size)
        except ValueError:                       # no 5x5 version: centre the 3x3 one
            return _centre_crop_or_pad(filters.get(name, 3), size)

    def _build_grid(self, k: np.ndarray) -> None:
        """Make one box per weight of ``k`` (KH, KW), replacing the old boxes."""
        old = self._boxes
        self._boxes = [_FloatText(value=float(v), step=0.1, layout=self._box_layout)
                       for v in k.flat]
        self._shape = k.shape
        for box in self._boxes:
            box.observe(self._on_weight, names="value")
        self._grid.children = self._boxes
        self._grid.layout.grid_template_columns = f"repeat({k.shape[1]}, 64px)"
        for name in [n for n in self.controls if n.startswith("w_")]:
            del self.controls[name]
        for (r, c), box in zip(np.ndindex(k.shape), self._boxes):
            self.controls[f"w_{r}_{c}"] = box
        self._guard_controls()
        for box in old:
            box.style.close()
            box.close()
        self._request_redraw()

    def _load_input(self, name: str) -> np.ndarray:
        if name not in self._inputs:
            if name == "photo":
                self._inputs[name] = data.sample_photo(PHOTO_SIZE)     # (256, 256)
            elif name == "digit":
                self._inputs[name] = data.digit(0)                     # (28, 28)
            else:
                self._inputs[name] = _lines_image()                     # (32, 32)
        return self._inputs[name]

    def _show_input(self, image: np.ndarray) -> None:
        self.image = image
        self._scale = max(1, DISPLAY_SIZE // max(image.shape))
        self.input_image.value = array_to_png(image, scale=self._scale)

    def _draw(self) -> None:
        k = self.kernel                                              # (KH, KW)
        message = self._non_finite_message(k)
        if message:
            self.status.value = message
            return
        fm = kernels.conv2d(self.image, k, padding="same")           # (H, W)
        if not np.all(np.isfinite(fm)):                              # bounded weights: never
            self.status.value = ("The feature map overflows: use smaller weights. "
                                 "(Showing the last good result.)")
            return
        self.output_image.value = array_to_png(fm, scale=self._scale)
        self.feature_map = fm
        self._stats = (f"kernel {k.shape[0]}x{k.shape[1]}, sum {_number(k.sum())} · "
                       f"feature map {fm.shape[0]}x{fm.shape[1]}, black = {_number(fm.min())}, "
                       f"white = {_number(fm.max())}")
        self.status.value = self._stats


def _lines_image(size: int = 32) -> np.ndarray:
    """A test picture for lesson 02: one vertical, one horizontal and one diagonal line.

    Returns
    -------
    (size, size) ndarray of float64
        1 on the lines, 0 elsewhere.
    """
    size = check_int(size, "size", minimum=8)
    t = max(1, size // 16)                                           # line thickness
    return np.maximum.reduce([
        data.line_image("vertical", size, position=size // 4, thickness=t),
        data.line_image("horizontal", size, position=(5 * size) // 8, thickness=t),
        data.line_image("diagonal", size, position=size // 2, thickness=t),
    ])


def _titled(title: str, child: widgets.Widget) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), child],
                        layout=widgets.Layout(margin="0 16px 0 0"))


def _centre_crop_or_pad(k: np.ndarray, size: int) -> np.ndarray:
    """Put a square kernel in the middle of a ``size x size`` grid of zeros, or crop its middle."""
    n = k.shape[0]
    if n == size:
        return k.copy()
    if n < size:
        out = np.zeros((size, size))
        m = (size - n) // 2
        out[m:m + n, m:m + n] = k
        return out
    m = (n - size) // 2
    return k[m:m + size, m:m + size].copy()


def _check_size(size, name: str) -> int:
    size = check_int(size, name)
    if size not in KERNEL_SIZES:
        raise ValueError(f"`{name}` must be 3 or 5, got {size}")
    return size


def _check_presets(presets) -> list[str]:
    if isinstance(presets, str) or not hasattr(presets, "__iter__"):
        raise TypeError(f"`presets` must be a list of preset names, got {describe(presets)}")
    names = list(presets)
    if not names:
        raise ValueError("`presets` must name at least one preset, got an empty list")
    for name in names:
        check_choice(name, "presets", filters.names())
    return names


# ----------------------------------------------------------------- lesson 04

def channel_example(seed: int = 0):
    """A small multi-channel example in the style of the cs231n demo (lesson 04).

    Returns
    -------
    x : (5, 5, 3) ndarray
        Integers 0, 1 or 2.
    kernel : (3, 3, 3, 2) ndarray
        Two 3x3x3 filters of integers -1, 0 or 1.
    bias : (2,) ndarray
        ``[1, 0]``.
    """
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    x = rng.integers(0, 3, size=(5, 5, 3)).astype(float)            # (H, W, C)
    kernel = rng.integers(-1, 2, size=(3, 3, 3, 2)).astype(float)   # (KH, KW, C, K)
    return x, kernel, np.array([1.0, 0.0])


class ChannelExplorer(_Explorer):
    """Pick one output cell of a multi-channel convolution and see where it comes from.

    Introduced in lesson 04. Choose the output row, column and filter with
    the sliders, and the stride and padding in the boxes. The view shows, for
    every input channel, the (zero-padded) input with the window under that
    cell highlighted, the filter's slice for that channel and the sum of
    their element-wise products; then the channel sums plus the bias written
    out, and the output map with the cell marked. Settings that cannot work
    (stride 0, negative padding, a filter larger than the padded input) are
    explained in the status line and the last good view stays.

    Parameters
    ----------
    x : (H, W, C) array_like, optional
        The input; by default :func:`channel_example` (5x5x3). At most
        ``plot.MAX_CHANNEL_SIDE`` (32) cells a side and ``plot.MAX_CHANNELS``
        (8) channels; values from ``-MAX_VALUE`` to ``MAX_VALUE`` (1e6), as
        for the kernel and the bias.
    kernel : (KH, KW, C, K) array_like, optional
        ``K`` filters as deep as ``x`` (at most ``plot.MAX_FILTERS``, 64); by
        default the example's two 3x3x3 filters.
    bias : float or (K,) array_like, optional
        Default: the example's ``[1, 0]`` with the example filters, else 0.
    stride, padding : int
        Starting values (the cs231n demo uses stride 2, padding 1): stride 1
        to ``MAX_CHANNEL_STRIDE`` (32), padding 0 to
        ``(32 - max(H, W)) // 2`` (the padded input is drawn, at most 32
        cells a side). The boxes take the same largest values; smaller
        impossible ones (stride 0, negative padding) are explained in the
        status line.

    Attributes
    ----------
    controls : dict
        ``"row"``, ``"col"``, ``"filter"`` (IntSlider), ``"stride"``, ``"padding"`` (IntText).
    output : (H_out, W_out, K) ndarray
        The whole output volume now shown.
    value : float
        The chosen output cell.
    channel_sums : (C,) ndarray
        Window × filter slice, summed, for each input channel.
    window : (int, int)
        Top-left corner of the window in the padded input.
    view : ipywidgets.HTML
    widget : ipywidgets.VBox
    status : ipywidgets.Label
    """

    def __init__(self, x=None, kernel=None, bias=None, *, stride=2, padding=1):
        super().__init__()
        ex, ek, eb = channel_example()
        self._x = ex if x is None else as_array(x, "x", ndims=3)                # (H, W, C)
        self._kernel = ek if kernel is None else as_array(kernel, "kernel", ndims=4)
        if bias is None:
            bias = eb if kernel is None else 0.0
        side = plot.MAX_CHANNEL_SIDE
        _check_input_side(self._x, "x", side, "the view draws it, padding included")
        _check_input_side(self._kernel, "kernel", side, "the view draws it")
        for name, count, limit in (("x", self._x.shape[2], plot.MAX_CHANNELS),
                                   ("kernel", self._kernel.shape[3], plot.MAX_FILTERS)):
            if count > limit:
                what = "channels" if name == "x" else "filters"
                raise ValueError(f"`{name}` has {count} {what}; the explorer draws at most "
                                 f"{limit}")
        _check_values(self._x, "x")
        _check_values(self._kernel, "kernel")
        _check_values(as_array(bias, "bias"), "bias")
        max_padding = (side - max(self._x.shape[:2])) // 2
        self._limits = {
            "stride": (None, MAX_CHANNEL_STRIDE, ""),
            "padding": (None, max_padding, f" (the padded input is drawn: at most {side} "
                                           f"cells a side)"),
        }
        stride = check_int(stride, "stride", minimum=1)
        padding = check_int(padding, "padding", minimum=0)
        for name, value, high in (("stride", stride, MAX_CHANNEL_STRIDE),
                                  ("padding", padding, max_padding)):
            if value > high:
                raise ValueError(f"`{name}` must be at most {high} for this input "
                                 f"{_shape_text(self._x.shape)}, got {value}")
        kernels.conv2d(self._x[None], self._kernel, bias,
                       stride=stride, padding=padding)     # refuse bad starting values now
        self._bias = np.broadcast_to(as_array(bias, "bias"),
                                     (self._kernel.shape[3],)).astype(float)   # (K,)
        k = self._kernel.shape[3]
        slider = dict(min=0, max=0, value=0, continuous_update=True,
                      layout=widgets.Layout(width="260px"))
        box = dict(layout=widgets.Layout(width="150px"), style={"description_width": "60px"})
        self.controls.update(
            row=_IntSlider(description="row", **slider),
            col=_IntSlider(description="column", **slider),
            filter=_IntSlider(description="filter", **{**slider, "max": k - 1}),
            stride=_IntText(value=stride, description="stride", **box),
            padding=_IntText(value=padding, description="padding", **box),
        )
        self.view = widgets.HTML()
        self.status = widgets.Label()
        c = self.controls
        self.widget = widgets.VBox([
            widgets.HBox([c["row"], c["col"], c["filter"]]),
            widgets.HBox([c["stride"], c["padding"],
                          widgets.Label(f"input {_shape_text(self._x.shape)}, "
                                        f"{k} filters of {_shape_text(self._kernel.shape[:3])}")]),
            self.view,
            self.status,
        ])
        self.output = None
        self.value = float("nan")
        self.channel_sums = None
        self.window = None
        for control in c.values():
            control.observe(self._on_control, names="value")
        self._guard_controls()
        self.redraw()

    @property
    def kernel(self) -> np.ndarray:
        """The filters, ``(KH, KW, C, K)`` (a copy)."""
        return self._kernel.copy()

    @property
    def x(self) -> np.ndarray:
        """The input, ``(H, W, C)`` (a copy)."""
        return self._x.copy()

    def select(self, row: int, col: int, filter: int = 0) -> None:
        """Choose an output cell (one redraw).

        Raises
        ------
        ValueError
            If the cell is outside the output now shown (nothing changes then).
        """
        cell = {"row": row, "col": col, "filter": filter}
        for name, value in cell.items():
            control = self.controls[name]
            value = check_int(value, name, minimum=0)
            if value > control.max:
                what = {"row": "rows", "col": "columns", "filter": "filters"}[name]
                raise ValueError(f"`{name}` must be from 0 to {control.max} (the output has "
                                 f"{control.max + 1} {what}), got {value}")
            cell[name] = value
        with self.hold_redraw():
            for name, value in cell.items():
                self.controls[name].value = value

    def _on_control(self, change):
        if not self._quiet_depth:
            self._request_redraw()

    def _problem(self, stride: int, padding: int) -> str | None:
        """Why these settings cannot work, or None."""
        if stride < 1:
            return f"Stride must be at least 1 (the window has to move), got {stride}."
        if padding < 0:
            return f"Padding must be 0 or more rows/columns of zeros, got {padding}."
        (h, w, _), (kh, kw) = self._x.shape, self._kernel.shape[:2]
        if kh > h + 2 * padding or kw > w + 2 * padding:
            return (f"The {kh}x{kw} filter does not fit in the {h + 2 * padding}x"
                    f"{w + 2 * padding} padded input; use more padding.")
        return None

    def _draw(self) -> None:
        from . import shapes
        from .plot import _channel_step, _equation, channel_step_html

        c = self.controls
        stride, padding = c["stride"].value, c["padding"].value
        problem = self._problem(stride, padding)
        if problem:
            self.status.value = problem + " (Showing the last good result.)"
            return
        h_out = shapes.conv_output_size(self._x.shape[0], self._kernel.shape[0], stride, padding)
        w_out = shapes.conv_output_size(self._x.shape[1], self._kernel.shape[1], stride, padding)
        with self._quiet():                       # a smaller output may move the sliders
            c["row"].max, c["col"].max = h_out - 1, w_out - 1
        position = (c["row"].value, c["col"].value, c["filter"].value)
        step = _channel_step(self._x, self._kernel, position, self._bias, stride, padding)
        self.view.value = channel_step_html(self._x, self._kernel, position, bias=self._bias,
                                            stride=stride, padding=padding)
        self.output, self.value = step.output, step.total
        self.channel_sums, self.window = step.sums, (step.top, step.left)
        self.status.value = (f"output {h_out}x{w_out}x{self._kernel.shape[3]} (stride {stride}, "
                             f"padding {padding}) · {_equation(step, position, '{:.3g}')}")


def _shape_text(shape) -> str:
    return "x".join(str(n) for n in shape)


# ----------------------------------------------------------------- lessons 03 and 05

PICTURE_DPI = 80
PICTURE_CELL_INCHES = 0.42        # one cell of the arithmetic / pooling pictures
PICTURE_MAX_INCHES = 9.0          # widest picture; cells shrink to fit
PICTURE_TITLE_INCHES = 0.4
PADDING_MODES = ("valid", "same", "full", "number")
MAX_INPUT_SIDE = 12               # PaddingStrideExplorer's input slider
MAX_KERNEL_SIDE = 7
POOL_INPUTS = ("numbers 8x8", "numbers 5x5", "lines 8x8", "digit 28x28")
MAX_POOL_SLIDER = 6


class _FigurePNG:
    """One off-screen matplotlib figure, cleared and redrawn for every picture.

    It is never shown and never registered with pyplot, so redraws add no
    output and no open figures; :meth:`render` returns PNG bytes for an
    ``ipywidgets.Image``.
    """

    def __init__(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(dpi=PICTURE_DPI)
        FigureCanvasAgg(self.figure)

    def render(self, draw, span) -> bytes:
        """Call ``draw(ax, fontsize)`` on a fresh Axes sized for ``span`` (cells wide, high)."""
        fig = self.figure
        fig.clear()
        cell = min(PICTURE_CELL_INCHES, PICTURE_MAX_INCHES / span[0])
        height = span[1] * cell + PICTURE_TITLE_INCHES
        fig.set_size_inches(span[0] * cell, height)
        ax = fig.add_axes((0, 0, 1, span[1] * cell / height))
        draw(ax, 0.4 * cell * 72)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()


class PaddingStrideExplorer(_Explorer):
    """Choose input size, kernel size, padding, stride and dilation; see the shape and every step.

    Introduced in lesson 03. Layout: a menu of the named cases of Dumoulin &
    Visin's guide (``plot.ARITHMETIC_CASES``); sliders for the input side
    ``n`` and kernel side ``k``; the padding menu ("valid", "same", "full",
    or "number" to use the ``p`` box); boxes for stride and dilation; the
    output-size formula with the numbers filled in; the picture of one step
    (``plot.plot_convolution_frame`` on ``plot.arithmetic_example(n, k)``),
    stepped by a play button linked to a step slider; a status line.

    Settings that cannot work (a kernel larger than the padded input, a
    stride of 0, a negative padding) are explained in the status line and
    the last good picture stays.

    Parameters
    ----------
    n : int
        Input side, 1 to 12.
    kernel_size : int
        Kernel side, 1 to 7.
    padding : {"valid", "same", "full"} or int
        A number of zeros from 0 to ``MAX_SETTING`` (20).
    stride, dilation : int
        1 to ``MAX_SETTING`` (20). The ``p``, ``stride`` and ``dilation``
        boxes take values up to 20 too; smaller impossible ones (0, negative
        padding) and pictures over 20 cells a side are explained in the
        status line.
    case : str, optional
        A name from ``plot.ARITHMETIC_CASES``; its settings replace the numbers above.

    Attributes
    ----------
    controls : dict
        ``"case"``, ``"n"``, ``"kernel_size"``, ``"padding"``, ``"p"``,
        ``"stride"``, ``"dilation"``, ``"step"`` (IntSlider), ``"play"``.
    frames : list of plot.ConvolutionFrame
        The steps now shown.
    output_shape : (int, int)
    x, kernel : ndarray
        The input and kernel drawn.
    formula : ipywidgets.HTML
        The output size worked out with the numbers.
    picture : ipywidgets.Image
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, n=5, kernel_size=3, padding=1, stride=2, dilation=1, *, case=None):
        super().__init__()
        if case is not None:
            settings = plot.ARITHMETIC_CASES[check_choice(case, "case", list(plot.ARITHMETIC_CASES))]
            n, kernel_size, padding, stride = (settings[key] for key in
                                               ("n", "kernel_size", "padding", "stride"))
            dilation = 1
        n = _check_range(n, "n", 1, MAX_INPUT_SIDE)
        kernel_size = _check_range(kernel_size, "kernel_size", 1, MAX_KERNEL_SIDE)
        mode, p = _padding_mode(padding)
        if p > MAX_SETTING:
            raise ValueError(f"`padding` must be at most {MAX_SETTING}, got {p}")
        stride = _check_range(stride, "stride", 1, MAX_SETTING)
        dilation = _check_range(dilation, "dilation", 1, MAX_SETTING)
        self._limits = {name: (None, MAX_SETTING, f" (the pictures draw at most {MAX_SETTING} "
                                                  "cells a side)")
                        for name in ("p", "stride", "dilation")}

        small = widgets.Layout(width="150px")
        self.controls.update(
            case=_Dropdown(options=[CUSTOM, *plot.ARITHMETIC_CASES],
                                  value=case or CUSTOM, description="case",
                                  layout=widgets.Layout(width="320px")),
            n=_IntSlider(value=n, min=1, max=MAX_INPUT_SIDE, description="input n"),
            kernel_size=_IntSlider(value=kernel_size, min=1, max=MAX_KERNEL_SIDE,
                                          description="kernel k"),
            padding=_Dropdown(options=PADDING_MODES, value=mode, description="padding",
                                     layout=widgets.Layout(width="200px")),
            p=_IntText(value=p, description="p", disabled=mode != "number",
                              layout=small, style={"description_width": "20px"}),
            stride=_IntText(value=stride, description="stride", layout=small,
                                   style={"description_width": "50px"}),
            dilation=_IntText(value=dilation, description="dilation", layout=small,
                                     style={"description_width": "60px"}),
            step=_IntSlider(value=0, min=0, max=0, description="step"),
            play=_Play(value=0, min=0, max=0, interval=900, description="play"),
        )
        c = self.controls
        widgets.link((c["play"], "value"), (c["step"], "value"))
        self.formula = widgets.HTML()
        self.picture = widgets.Image(format="png")
        self.status = widgets.Label()
        self.widget = widgets.VBox([
            c["case"],
            widgets.HBox([c["n"], c["kernel_size"]]),
            widgets.HBox([c["padding"], c["p"], c["stride"], c["dilation"]]),
            self.formula,
            widgets.HBox([c["play"], c["step"]]),
            self.picture,
            self.status,
        ])
        self.frames, self.output_shape = [], None
        self.x = self._kernel = None
        self._canvas = _FigurePNG()
        self._pngs: dict[int, bytes] = {}
        for name in ("n", "kernel_size", "padding", "p", "stride", "dilation"):
            c[name].observe(self._on_setting, names="value")
        c["case"].observe(self._on_case, names="value")
        c["step"].observe(self._on_step, names="value")
        self._guard_controls()
        self.redraw()

    @property
    def kernel(self) -> np.ndarray:
        """The kernel drawn (a copy)."""
        return None if self._kernel is None else self._kernel.copy()

    @property
    def padding(self):
        """The padding argument now chosen: "valid", "same", "full" or the number in ``p``."""
        mode = self.controls["padding"].value
        return self.controls["p"].value if mode == "number" else mode

    def _on_case(self, change):
        if self._quiet_depth or change.new == CUSTOM:
            return
        settings = plot.ARITHMETIC_CASES[change.new]
        mode, p = _padding_mode(settings["padding"])
        with self.hold_redraw(), self._quiet():
            c = self.controls
            c["n"].value, c["kernel_size"].value = settings["n"], settings["kernel_size"]
            c["padding"].value, c["p"].value = mode, p
            c["stride"].value, c["dilation"].value = settings["stride"], 1
            self._dirty = True

    def _on_setting(self, change):
        self.controls["p"].disabled = self.controls["padding"].value != "number"
        if not self._quiet_depth and self.controls["case"].value != CUSTOM:
            with self._quiet():
                self.controls["case"].value = CUSTOM
        self._request_redraw()

    def _on_step(self, change):
        if not self._quiet_depth and self.frames:
            self._show_step(change.new)

    def _draw(self) -> None:
        c = self.controls
        n, k = c["n"].value, c["kernel_size"].value
        padding, stride, dilation = self.padding, c["stride"].value, c["dilation"].value
        try:
            out = shapes.conv_output_size(n, k, stride, padding, dilation)
            x, kernel = plot.arithmetic_example(n, k)
            frames = plot.convolution_frames(x, kernel, stride=stride, padding=padding,
                                             dilation=dilation)
        except (TypeError, ValueError) as exc:
            self.status.value = f"Impossible setting: {_plain(exc)} (Showing the last good picture.)"
            return
        self.frames, self.output_shape = frames, (out, out)
        self.x, self._kernel = x, kernel
        self._pngs = {}
        with self._quiet():
            for name in ("step", "play"):
                c[name].value = 0
                c[name].max = len(frames) - 1
        self._show_step(0)
        self.formula.value = _size_formula_html(n, k, padding, stride, dilation, out)
        self.status.value = (f"{n}x{n} input, {k}x{k} kernel → {out}x{out} output: "
                             f"{_steps(len(frames))}. Press play or drag the step slider.")

    def _show_step(self, step: int) -> None:
        if step not in self._pngs:
            frame = self.frames[step]
            self._pngs[step] = self._canvas.render(
                lambda ax, size: plot.plot_convolution_frame(frame, ax, fontsize=size),
                plot._frame_span(frame))
        self.picture.value = self._pngs[step]


def _size_formula_html(n, k, padding, stride, dilation, out) -> str:
    """The output size of one axis worked out with the numbers, as HTML."""
    lines = []
    k_name = "k"
    if dilation > 1:
        k_eff = (k - 1) * dilation + 1
        lines.append(f"dilated kernel: k<sub>eff</sub> = (k − 1)·d + 1 = ({k} − 1)·{dilation} + 1"
                     f" = {k_eff}")
        k, k_name = k_eff, "k<sub>eff</sub>"
    before, after = shapes.padding_amounts(n, k, stride, padding)
    if padding == "same":
        lines.append(f"\"same\": out = ⌈n / s⌉ = ⌈{n} / {stride}⌉ = {out}")
        lines.append(f"zeros needed = max((out − 1)·s + {k_name} − n, 0) = "
                     f"max(({out} − 1)·{stride} + {k} − {n}, 0) = {before + after}: "
                     f"{before} before, {after} after (the odd one goes after)")
    else:
        if padding == "full":
            lines.append(f"\"full\": p = {k_name} − 1 = {before}")
        elif padding == "valid":
            lines.append("\"valid\": p = 0")
        lines.append(f"out = ⌊(n + 2p − {k_name}) / s⌋ + 1 = ⌊({n} + 2·{before} − {k}) / "
                     f"{stride}⌋ + 1 = {out}")
    lines.append(f"<b>output {out}x{out}</b> ({_steps(out * out)})")
    return "<br>".join(lines)


def _steps(count: int) -> str:
    return f"{count} step" + ("" if count == 1 else "s")


def _padding_mode(padding) -> tuple[str, int]:
    """``padding`` as the menu entry and the number for the ``p`` box."""
    if isinstance(padding, str):
        return check_choice(padding, "padding", PADDING_MODES[:3]), 0
    return "number", check_int(padding, "padding", minimum=0)


def _check_range(value, name: str, low: int, high: int) -> int:
    value = check_int(value, name, minimum=low)
    if value > high:
        raise ValueError(f"`{name}` must be at most {high}, got {value}")
    return value


def _plain(exc: Exception) -> str:
    """An error message without the backticks around argument names."""
    return str(exc).replace("`", "")


class PoolingExplorer(_Explorer):
    """Pool a feature map with max, average or sum pooling and see every window.

    Introduced in lesson 05, after Harley's visualisation: every window has a
    colour, max pooling fills the winning cell, average and sum pooling shade
    the whole window, and the output cells carry the window's colour and the
    pooled value (``plot.show_pooling``; the values come from
    ``kernels.max_pool2d`` / ``avg_pool2d`` / ``sum_pool2d``). Settings that
    cannot work (a window larger than the map with "valid" padding) are
    explained in the status line and the last good picture stays.

    Parameters
    ----------
    feature_map : str or (H, W) array_like, optional
        One of ``POOL_INPUTS`` ("numbers 8x8" by default: whole numbers 0-9),
        or your own map, at most 32x32 (offered as "custom") with values
        from ``-MAX_VALUE`` to ``MAX_VALUE`` (1e6).
    kind : {"max", "avg", "sum"}
    pool_size, stride : int
        1 to 6.
    padding : {"valid", "same"}

    Attributes
    ----------
    controls : dict
        ``"input"``, ``"kind"``, ``"pool_size"``, ``"stride"``, ``"padding"``.
    feature_map : (H, W) ndarray
    output_values : (H_out, W_out) ndarray
    winners : (H_out, W_out, 2) ndarray of int or None
        With max pooling, the (row, col) of each window's winning cell in
        ``feature_map`` (the first largest value in reading order); None otherwise.
    picture : ipywidgets.Image
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, feature_map=None, *, kind="max", pool_size=2, stride=2, padding="valid"):
        super().__init__()
        self._inputs: dict[str, np.ndarray] = {}
        if feature_map is None or isinstance(feature_map, str):
            source = check_choice(feature_map or POOL_INPUTS[0], "feature_map", POOL_INPUTS)
        else:
            fm = as_array(feature_map, "feature_map", ndims=2)
            if max(fm.shape) > plot.MAX_POOL_SIDE or 0 in fm.shape:
                raise ValueError(f"`feature_map` must be 1x1 to {plot.MAX_POOL_SIDE}x"
                                 f"{plot.MAX_POOL_SIDE}, got shape {fm.shape}")
            self._inputs[CUSTOM] = _check_values(fm, "feature_map")
            source = CUSTOM
        kind = check_choice(kind, "kind", plot.POOL_KINDS)
        pool_size = _check_range(pool_size, "pool_size", 1, MAX_POOL_SLIDER)
        stride = _check_range(stride, "stride", 1, MAX_POOL_SLIDER)
        padding = check_choice(padding, "padding", ("valid", "same"))

        self.controls.update(
            input=_Dropdown(options=[*POOL_INPUTS, *self._inputs], value=source,
                                   description="input", layout=widgets.Layout(width="240px")),
            kind=_ToggleButtons(options=plot.POOL_KINDS, value=kind,
                                       style={"button_width": "56px"}),
            pool_size=_IntSlider(value=pool_size, min=1, max=MAX_POOL_SLIDER,
                                        description="pool size"),
            stride=_IntSlider(value=stride, min=1, max=MAX_POOL_SLIDER,
                                     description="stride"),
            padding=_ToggleButtons(options=("valid", "same"), value=padding,
                                          style={"button_width": "64px"}),
        )
        c = self.controls
        self.picture = widgets.Image(format="png")
        self.status = widgets.Label()
        self.widget = widgets.VBox([
            widgets.HBox([c["input"], c["kind"]]),
            widgets.HBox([c["pool_size"], c["stride"], c["padding"]]),
            self.picture,
            self.status,
        ])
        self.output_values = self.winners = None
        self._canvas = _FigurePNG()
        self.feature_map = self._load_input(source)
        for name in ("input", "kind", "pool_size", "stride", "padding"):
            c[name].observe(self._request_redraw, names="value")
        self._guard_controls()
        self.redraw()

    def _load_input(self, name: str) -> np.ndarray:
        if name not in self._inputs:
            if name.startswith("numbers"):
                side = int(name.split("x")[-1])
                rng = np.random.default_rng(5)
                self._inputs[name] = rng.integers(0, 10, size=(side, side)).astype(float)
            elif name.startswith("lines"):
                self._inputs[name] = np.maximum(
                    data.line_image("vertical", 8, position=2, thickness=1),
                    data.line_image("horizontal", 8, position=5, thickness=1))   # (8, 8)
            else:
                self._inputs[name] = data.digit(0)                               # (28, 28)
        return self._inputs[name]

    def _draw(self) -> None:
        c = self.controls
        try:
            fm = self._load_input(c["input"].value)
        except (OSError, ValueError) as exc:            # e.g. the MNIST file is missing
            self.status.value = f"Could not load the {c['input'].value!r} input: {_plain(exc)}"
            return
        settings = dict(pool_size=c["pool_size"].value, stride=c["stride"].value,
                        padding=c["padding"].value, kind=c["kind"].value)
        try:
            layout = plot._pooling_layout(fm, **settings)
        except (TypeError, ValueError) as exc:
            self.status.value = f"Impossible setting: {_plain(exc)} (Showing the last good picture.)"
            return
        fmt = "{:g}" if np.all(fm == np.round(fm)) else "{:.2f}"
        self.picture.value = self._canvas.render(
            lambda ax, size: plot.show_pooling(fm, ax, fmt=fmt, fontsize=size, **settings),
            plot._pool_span(layout))
        self.feature_map = fm
        self.output_values = layout.out
        self.winners = layout.winners if settings["kind"] == "max" else None
        h, w = fm.shape
        h_out, w_out = layout.out.shape
        self.status.value = (f"{settings['kind']} pooling: {h}x{w} → {h_out}x{w_out}; "
                             f"{h_out * w_out} windows, output from {_number(layout.out.min())} "
                             f"to {_number(layout.out.max())}")


# ----------------------------------------------------------------- lesson 09

#: Layers the digit inspector can show; C5 and F6 are vectors, drawn as 10x12 and 7x12 tiles.
INSPECTOR_LAYERS = ("C1", "S2", "C3", "S4", "C5", "F6")
_VECTOR_TILES = {120: (10, 12), 84: (7, 12)}
_MAP_PIXELS = 84                  # side of one feature-map picture


class DigitInspector(_Explorer):
    """Pick an MNIST test digit and watch LeNet-5 process it, layer by layer.

    Introduced in lesson 09. Layout: a slider for the test digit, a layer
    menu and a "next mistake" button (jumps to the next test digit the model
    gets wrong); below, the digit, the chosen layer's feature maps (each map
    with its own colour range, bright = large) and the ten class
    probabilities as bars (the prediction in orange, the true class
    underlined); a status line. C5's 120 values are drawn as a 10x12 tile
    and F6's 84 as a 7x12 tile.

    Parameters
    ----------
    model : keras.Model
        A LeNet-5 from :func:`cnnlab.lenet.build_lenet5` (or loaded from
        ``data/weights``): layers ``C1 S2 C3 S4 C5 F6 output``, 28x28x1
        images in, 10 classes out.
    index : int
        Starting test digit, 0 to 9999 (0 to ``N - 1`` with ``images``).
    layer : {"C1", "S2", "C3", "S4", "C5", "F6"}
    images : (N, 28, 28) or (N, 28, 28, 1) array_like, optional
        Your own digits, pixels 0-255, at most ``MAX_INSPECTOR_IMAGES``
        (10,000); by default the MNIST test set. Give ``labels`` with them.
    labels : (N,) array_like of int, optional
        The true class (0-9) of each of ``images``.

    Attributes
    ----------
    controls : dict
        ``"index"`` (IntSlider), ``"layer"`` (Dropdown), ``"mistake"`` (Button).
    probabilities : (10,) ndarray
        The model's output for the digit now shown.
    prediction, label : int
        Predicted and true class.
    feature_maps : (H, W, C) ndarray
        The chosen layer's output (``(1, 1, C)`` for C5, ``(1, 1, 84)`` for F6).
    widget : ipywidgets.VBox
    digit_image : ipywidgets.Image
    maps : ipywidgets.GridBox
        One ``Image`` per feature map.
    chart : ipywidgets.HTML
        The probabilities (an inline SVG with one ``<rect class="p">`` per class).
    status : ipywidgets.Label
    """

    def __init__(self, model, index=0, layer="C1", *, images=None, labels=None):
        super().__init__()
        index = check_int(index, "index", minimum=0)
        check_choice(layer, "layer", INSPECTOR_LAYERS)
        given = _check_digits(images, labels)
        layers = getattr(model, "layers", None)
        if not isinstance(layers, (list, tuple)) or not layers:
            raise TypeError("`model` must be a Keras model (a LeNet-5 from "
                            "cnnlab.lenet.build_lenet5, or loaded from data/weights), got "
                            f"{describe(model)}")
        self._probe = _lenet_probe(model)
        if given is None:
            (_, _), (images, labels) = data.load_mnist()
            what = "the test images"
        else:
            images, labels = given
            what = "the images given"
        self._images, self._labels = images, labels                     # (N, 28, 28), (N,)
        if index >= len(images):
            raise ValueError(f"`index` must be below {len(images)} ({what}), got {index}")
        self._predicted = None                                          # all test predictions, on demand

        slider = _IntSlider(value=index, min=0, max=len(images) - 1,
                                   description="test digit", continuous_update=False,
                                   layout=widgets.Layout(width="420px"))
        menu = _Dropdown(options=INSPECTOR_LAYERS, value=layer, description="layer",
                                layout=widgets.Layout(width="160px"))
        mistake = widgets.Button(description="next mistake", icon="forward",
                                 tooltip="jump to the next test digit the model gets wrong")
        self.controls.update(index=slider, layer=menu, mistake=mistake)
        self.digit_image = widgets.Image(format="png")
        self.maps = widgets.GridBox(layout=widgets.Layout(grid_gap="4px"))
        self.chart = widgets.HTML()
        self.status = widgets.Label()
        self.widget = widgets.VBox([
            widgets.HBox([slider, menu, mistake]),
            widgets.HBox([_titled("digit", self.digit_image), _titled("feature maps", self.maps),
                          _titled("class probabilities", self.chart)],
                         layout=widgets.Layout(align_items="flex-start")),
            self.status,
        ])
        self._map_images: list[widgets.Image] = []
        self._guard_controls()
        self.redraw()
        slider.observe(self._request_redraw, names="value")
        menu.observe(self._request_redraw, names="value")
        mistake.on_click(self.next_mistake)

    # -- public -------------------------------------------------------------
    @property
    def index(self) -> int:
        """The test digit now shown."""
        return self.controls["index"].value

    def next_mistake(self, _button=None) -> None:
        """Show the next test digit (after the current one, wrapping round) the model gets wrong."""
        if self._predicted is None:
            x = self._images.astype(np.float32)[..., None] / 255.0        # (10000, 28, 28, 1)
            self._predicted = np.concatenate([
                np.asarray(self._probe(x[i:i + 2000], training=False)[-1]).argmax(axis=1)
                for i in range(0, len(x), 2000)])
        wrong = np.flatnonzero(self._predicted != self._labels)
        if not len(wrong):
            self.status.value = "The model gets every test digit right: no mistake to show."
            return
        after = wrong[wrong > self.index]
        self.controls["index"].value = int(after[0] if len(after) else wrong[0])

    # -- drawing --------------------------------------------------------------
    def _draw(self) -> None:
        image = self._images[self.index]                                # (28, 28) uint8
        x = image.astype(np.float32)[None, :, :, None] / 255.0          # (1, 28, 28, 1)
        outputs = [np.asarray(o)[0] for o in self._probe(x, training=False)]
        by_name = dict(zip(("C1", "S2", "C3", "S4", "C5", "F6", "output"), outputs))
        layer = self.controls["layer"].value
        maps = by_name[layer]
        self.feature_maps = maps if maps.ndim == 3 else maps.reshape(1, 1, -1)  # (H, W, C)
        self.probabilities = by_name["output"]                          # (10,)
        self.prediction = int(self.probabilities.argmax())
        self.label = int(self._labels[self.index])
        self.digit_image.value = array_to_png(image, scale=6)
        self._show_maps(self.feature_maps)
        self.chart.value = _probability_svg(self.probabilities, self.label)
        verdict = "right" if self.prediction == self.label else "WRONG"
        h, w, c = self.feature_maps.shape
        shape = f"{c} maps of {h}x{w}" if h > 1 else f"{c} values"
        self.status.value = (
            f"test digit {self.index}: label {self.label}, predicted {self.prediction} "
            f"({100 * self.probabilities[self.prediction]:.1f} %), {verdict} · "
            f"layer {layer}: {shape}")

    def _show_maps(self, maps: np.ndarray) -> None:
        h, w, c = maps.shape
        pictures = ([maps[..., i] for i in range(c)] if h > 1
                    else [maps.reshape(-1).reshape(_VECTOR_TILES.get(c, (1, c)))])
        if len(self._map_images) != len(pictures):
            for old in self._map_images:
                old.close()
            self._map_images = [widgets.Image(format="png") for _ in pictures]
            self.maps.children = self._map_images
            columns = int(np.ceil(np.sqrt(len(pictures))))              # 6 maps: 3x2, 16: 4x4
            self.maps.layout.grid_template_columns = f"repeat({columns}, auto)"
        for picture, view in zip(pictures, self._map_images):
            scale = max(1, _MAP_PIXELS // max(picture.shape)) if h > 1 else 12
            view.value = array_to_png(picture, cmap="viridis", scale=scale)


def _check_digits(images, labels):
    """``None`` (use MNIST), or the checked ``(images (N, 28, 28), labels (N,) int)``."""
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        missing = "images" if images is None else "labels"
        raise ValueError(f"`{missing}` must be given too: `images` and `labels` go together "
                         "(or leave both out for the MNIST test set)")
    x = as_array(images, "images", ndims=(3, 4))
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.shape[1:] != (28, 28) or len(x) == 0:
        raise ValueError(f"`images` must have shape (N, 28, 28) or (N, 28, 28, 1) with N >= 1, "
                         f"got {x.shape}")
    if len(x) > MAX_INSPECTOR_IMAGES:
        raise ValueError(f"`images` must hold at most {MAX_INSPECTOR_IMAGES:,} digits, got "
                         f"{len(x):,}")
    if x.min() < 0 or x.max() > 255:
        raise ValueError(f"`images` must hold pixels from 0 to 255, got values from "
                         f"{x.min():g} to {x.max():g}")
    y = as_array(labels, "labels", ndims=1)
    if y.shape != (len(x),):
        raise ValueError(f"`labels` must hold one class per image ({len(x)}), got shape {y.shape}")
    if np.any(y != np.round(y)) or y.min() < 0 or y.max() > 9:
        raise ValueError("`labels` must hold whole class numbers 0 to 9")
    return x, y.astype(np.int64)


def _lenet_probe(model):
    """The model that returns every LeNet-5 layer's output (``lenet.probe_model``), checked."""
    from .models.lenet import LAYER_NAMES, probe_model

    probe = probe_model(model, LAYER_NAMES)
    try:
        shape_in = tuple(model.input.shape)[1:]
        shape_out = tuple(model.output.shape)[1:]
    except (AttributeError, TypeError, ValueError):
        shape_in = shape_out = None
    if shape_in != (28, 28, 1) or shape_out != (10,):
        raise ValueError(f"`model` must take 28x28x1 images and give 10 class probabilities, "
                         f"got input {shape_in} and output {shape_out}")
    return probe


def _probability_svg(p: np.ndarray, label: int) -> str:
    """Ten vertical bars, one per class; the predicted one orange, the true label underlined."""
    cell, height, top = 26, 110, 16
    best = int(np.argmax(p))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{10 * cell + 8}" '
             f'height="{top + height + 40}" font-family="sans-serif" font-size="13">']
    for k, value in enumerate(p):
        h = float(value) * height
        fill = "#f58518" if k == best else "#4c78a8"
        x = 4 + k * cell
        parts.append(f'<rect class="p" x="{x + 4}" y="{top + height - h:.1f}" width="{cell - 8}" '
                     f'height="{h:.1f}" fill="{fill}"><title>{k}: {100 * value:.2f} %</title></rect>')
        weight = ' font-weight="bold" text-decoration="underline"' if k == label else ""
        parts.append(f'<text x="{x + cell / 2}" y="{top + height + 18}" text-anchor="middle"'
                     f'{weight}>{k}</text>')
    parts.append(f'<text x="4" y="{top - 4}" fill="#444">{100 * p[best]:.1f} % for {best}</text>')
    parts.append(f'<text x="4" y="{top + height + 36}" fill="#444" font-size="11">'
                 f'underlined: the true label</text></svg>')
    return "".join(parts)
