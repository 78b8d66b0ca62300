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
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np

from . import data, filters, kernels
from ._validate import as_array, check_choice, check_int, describe
from .plot import array_to_png

CUSTOM = "custom"                 # preset entry shown once a weight is edited by hand
INPUTS = ("photo", "digit", "lines")
KERNEL_SIZES = (3, 5)
PHOTO_SIZE = 256                  # side of the photo the kernel editor filters
DISPLAY_SIZE = 256                # small inputs are enlarged (nearest neighbour) to about this
MAX_SIGNAL_LENGTH = 16


def _number(value: float) -> str:
    """Short text for a number; ``-0`` is written ``0``."""
    return f"{float(value) + 0.0:.3g}"


class _Explorer:
    """Redraw machinery shared by the explorers: hold, quiet updates, timing."""

    def __init__(self):
        self.controls: dict[str, widgets.Widget] = {}
        self.redraw_count = 0
        self.last_redraw_ms = float("nan")
        self._holding = 0
        self._dirty = False
        self._quiet_depth = 0

    # -- public -------------------------------------------------------------
    @contextmanager
    def hold_redraw(self):
        """Change several controls, redraw once at the end (if anything changed)."""
        self._holding += 1
        try:
            yield self
        finally:
            self._holding -= 1
            if self._holding == 0 and self._dirty:
                self._dirty = False
                self.redraw()

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
        Starting weights; default the ``"bump"`` preset ``[0, 1, 0]``.

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
        kernel = filters.get_1d("bump") if kernel is None else as_array(kernel, "kernel", ndims=1)
        if kernel.shape != (3,):
            raise ValueError(f"`kernel` must hold 3 weights, got shape {kernel.shape}")
        self._presets = {name: k for name, k in filters.PRESETS_1D.items() if k.shape == (3,)}
        preset = next((name for name, k in self._presets.items() if np.allclose(k, kernel)),
                      CUSTOM)

        self._toggles = [widgets.ToggleButton(value=bool(v), description=str(int(v)),
                                              layout=widgets.Layout(width="36px"))
                         for v in signal]
        self._boxes = [widgets.FloatText(value=float(w), step=0.1, description=f"w{i}",
                                         style={"description_width": "24px"},
                                         layout=widgets.Layout(width="120px"))
                       for i, w in enumerate(kernel)]
        menu = widgets.Dropdown(options=[CUSTOM, *self._presets], value=preset,
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
        self.redraw()

    @property
    def signal(self) -> np.ndarray:
        """The input pattern now set, ``(L,)`` of 0.0 and 1.0."""
        return np.array([float(t.value) for t in self._toggles])

    def set_kernel(self, kernel) -> None:
        """Set the three weights at once (one redraw); the preset menu shows "custom"."""
        kernel = as_array(kernel, "kernel", ndims=1)
        if kernel.shape != (3,):
            raise ValueError(f"`kernel` must hold 3 weights, got shape {kernel.shape}")
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
        your own image (offered as "custom" in the input menu).
    size : {3, 5}
    presets : list of str, optional
        Names from :func:`cnnlab.filters.names` offered in the menu; all by default.
    preset : str, optional
        Starting preset; ``"sobel_x"`` (or the first of ``presets``) by default.

    Attributes
    ----------
    controls : dict
        ``"preset"``, ``"size"``, ``"normalise"``, ``"input"`` and one
        FloatText per weight, ``"w_{row}_{col}"`` (replaced when the size changes).
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
            self._inputs["custom"] = as_array(image, "image", ndims=2)
            source = "custom"

        menu = widgets.Dropdown(options=[CUSTOM, *names], value=preset, description="preset",
                                layout=widgets.Layout(width="220px"))
        sizes = widgets.ToggleButtons(options=[(f"{n}x{n}", n) for n in KERNEL_SIZES],
                                      value=size, style={"button_width": "52px"})
        normalise = widgets.Button(description="normalise", icon="balance-scale",
                                   tooltip="divide every weight by their sum "
                                           "(by the largest |weight| when the sum is 0)")
        inputs = widgets.Dropdown(options=[*INPUTS, *self._inputs], value=source,
                                  description="input", layout=widgets.Layout(width="180px"))
        self.controls.update(preset=menu, size=sizes, normalise=normalise, input=inputs)
        self._grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
        self._boxes: list[widgets.FloatText] = []
        self._box_layout = widgets.Layout(width="64px")     # shared by every weight box
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

    # -- public -------------------------------------------------------------
    @property
    def size(self) -> int:
        """Kernel side now shown (3 or 5)."""
        return self.controls["size"].value

    def set_kernel(self, kernel) -> None:
        """Put a (3, 3) or (5, 5) kernel in the boxes (resizing the grid), one redraw."""
        kernel = as_array(kernel, "kernel", ndims=2)
        if kernel.shape[0] != kernel.shape[1] or kernel.shape[0] not in KERNEL_SIZES:
            raise ValueError(f"`kernel` must be 3x3 or 5x5, got shape {kernel.shape}")
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
        self._boxes = [widgets.FloatText(value=float(v), step=0.1, layout=self._box_layout)
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
