"""The kernel editor (lesson 02): a 3x3 or 5x5 kernel in boxes, its feature map on a picture."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import data, filters, kernels
from .._validate import as_array, check_choice, check_int, describe
from ..plot import array_to_png, colour_scale, data_scale, feature_map_range, stretch_scale
from ..plot._png import colour_bar_png
from ._base import Explorer, KernelBoxes
from ._controls import (
    CUSTOM, MAX_WEIGHT, WEIGHT_REASON, Dropdown, FloatText, ToggleButton, ToggleButtons,
    check_input_side, check_values, number, titled, status_line,
)

__all__ = ["KernelEditor", "MAX_EDITOR_SIDE", "INPUTS", "KERNEL_SIZES", "PHOTO_SIZE",
           "DISPLAY_SIZE", "SCALES"]

MAX_EDITOR_SIDE = 512             # largest side of your own image in KernelEditor
INPUTS = ("photo", "digit", "lines")
KERNEL_SIZES = (3, 5)
PHOTO_SIZE = 256                  # side of the photo the kernel editor filters
DISPLAY_SIZE = 256                # small inputs are enlarged (nearest neighbour) to about this
SCALES = ("input", "kernel")      # the feature map's fixed colour scale (the "scale" toggle)
BUILT_IN_RANGE = (0.0, 1.0)       # the values of the photo, the digit and the lines


class KernelEditor(KernelBoxes, Explorer):
    """Edit a 3x3 or 5x5 kernel and watch its feature map on a picture, live.

    Introduced in lesson 02. Layout: a top row with the preset menu, the
    size toggle (3x3 / 5x5), the normalise button and the input menu; the
    feature-map scale toggle and the auto-range button; below them the grid
    of weight boxes, the input picture and the feature map side by side, a
    colour bar under the feature map; a status line (the weights' sum and
    range, the feature map's range, what the colours mean). The feature map
    is ``cnnlab.kernels.conv2d(image, kernel, padding="same")``: "same"
    padding keeps the picture's size, so input and output line up.

    The feature map is drawn on a fixed scale, never stretched unless asked:

    - ``"input"`` scale (default): the input's own scale, so brightness
      means the same in both pictures: black = 0, white = 1 for the
      built-in pictures. Weights that sum to 2 make the picture brighter
      (values above 1 are drawn white, and the status line counts them),
      weights that sum to 0.5 make it darker. When the kernel can produce
      negative values (:func:`cnnlab.plot.feature_map_range`) the scale is
      diverging instead: blue = -1, white = 0, red = 1.
    - ``"kernel"`` scale: the range this kernel can produce from the
      input's range (:func:`~cnnlab.plot.feature_map_range`), grey when it
      does not go below 0, else diverging and symmetric about 0. Nothing is
      clipped; scaling every weight changes the numbers on the colour bar,
      not the picture.
    - ``auto range`` pressed: stretched from the map's minimum (black) to its
      maximum (white), whatever the kernel.

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
        ``"preset"``, ``"size"``, ``"normalise"``, ``"input"``, ``"scale"``
        (ToggleButtons, ``SCALES``), ``"auto_range"`` (ToggleButton, off) and
        one FloatText per weight, ``"w_{row}_{col}"`` (replaced when the
        size changes), which takes numbers from ``-MAX_WEIGHT`` to ``MAX_WEIGHT``.
    feature_map : (H, W) ndarray
        The feature map now shown.
    image : (H, W) ndarray
        The input now used.
    input_range : (float, float)
        The input's range: (0, 1) for the built-in pictures, your image's
        smallest and largest value (with 0, for the zero padding) otherwise.
    output_range : (float, float)
        The range the kernel can produce from ``input_range``.
    display_range : (float, float)
        The values drawn with the first and the last colour of the feature map.
    display_cmap : str
        Its colour map: ``"gray"`` (white = high) or ``"RdBu_r"`` (blue < 0 < red).
    legend : str
        What the feature map's colours stand for, as the status line says it.
    widget : ipywidgets.VBox
    input_image, output_image, colour_bar : ipywidgets.Image
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
            check_input_side(image, "image", MAX_EDITOR_SIDE, "it is filtered live")
            self._inputs["custom"] = check_values(image, "image")
            source = "custom"

        menu = Dropdown(options=[CUSTOM, *names], value=preset, description="preset",
                        layout=widgets.Layout(width="220px"))
        sizes = ToggleButtons(options=[(f"{n}x{n}", n) for n in KERNEL_SIZES],
                              value=size, style={"button_width": "52px"})
        normalise = widgets.Button(description="normalise", icon="balance-scale",
                                   tooltip="divide every weight by their sum "
                                           "(by the largest |weight| when the sum is 0)")
        inputs = Dropdown(options=[*INPUTS, *self._inputs], value=source,
                          description="input", layout=widgets.Layout(width="180px"))
        scale = ToggleButtons(options=SCALES, value="input", style={"button_width": "72px"},
                              tooltips=["the input's scale: brightness means the same",
                                        "the range this kernel can produce"])
        auto = ToggleButton(value=False, description="auto range", icon="arrows-h",
                            tooltip="stretch the feature map from its minimum (black) to its "
                                    "maximum (white)")
        self.controls.update(preset=menu, size=sizes, normalise=normalise, input=inputs,
                             scale=scale, auto_range=auto)
        self._grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
        self._boxes: list[widgets.FloatText] = []
        self._box_layout = widgets.Layout(width="60px")     # shared by every weight box
        self.input_image = widgets.Image(format="png")
        self.output_image = widgets.Image(format="png")
        self.colour_bar = widgets.Image(format="png", layout=widgets.Layout(width="256px",
                                                                            height="12px"))
        self._kernel_note, self._input_note = widgets.Label(), widgets.Label()
        self._bar_note = widgets.Label()
        self.status = status_line()
        self.widget = widgets.VBox([
            widgets.HBox([menu, sizes, normalise, inputs]),
            widgets.HBox([widgets.Label("feature-map scale"), scale, auto]),
            widgets.HBox([titled("kernel", widgets.VBox([self._grid, self._kernel_note])),
                          titled("input", widgets.VBox([self.input_image, self._input_note])),
                          titled("feature map", widgets.VBox([self.output_image,
                                                              self.colour_bar,
                                                              self._bar_note]))],
                         layout=widgets.Layout(align_items="flex-start")),
            self.status,
        ])
        self.feature_map = None
        self.output_range = self.display_range = None
        self.display_cmap, self.legend = None, ""
        self._stats = ""
        self._show_input(self._load_input(source))
        with self.hold_redraw():
            self._build_grid(self._preset_kernel(preset, size))
        menu.observe(self._on_preset, names="value")
        sizes.observe(self._on_size, names="value")
        inputs.observe(self._on_input, names="value")
        scale.observe(self._request_redraw, names="value")
        auto.observe(self._request_redraw, names="value")
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
        check_values(kernel, "kernel", MAX_WEIGHT, WEIGHT_REASON)
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
            divisor, how = total, f"divided by the sum {number(total)}"
        elif np.any(k):
            divisor = float(np.abs(k).max())
            how = f"the sum is 0, so divided by the largest |weight| {number(divisor)}"
        else:
            self.status.value = f"All weights are 0: nothing to normalise. {self._stats}"
            return
        if not np.max(np.abs(k / divisor)) <= MAX_WEIGHT:
            self.status.value = (f"Not normalised: the sum {number(total)} is so close to 0 "
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
        self._boxes = [FloatText(value=float(v), step=0.1, layout=self._box_layout)
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
        if self.controls["input"].value == "custom":           # with 0: the zero padding
            shown = data_scale(image)
            self.input_range = (min(0.0, float(image.min())), max(0.0, float(image.max())))
        else:
            shown = colour_scale(BUILT_IN_RANGE)
            self.input_range = BUILT_IN_RANGE
        self.input_image.value = array_to_png(image, cmap=shown.cmap, vmin=shown.vmin,
                                              vmax=shown.vmax, scale=self._scale)
        self._input_note.value = shown.legend()

    def _display_scale(self, k: np.ndarray, fm: np.ndarray):
        """The feature map's ColourScale and why (for the status line)."""
        lo, hi = self.input_range
        inputs = f"from inputs {number(lo)} to {number(hi)}"
        produced = (f"this kernel can produce {number(self.output_range[0])} to "
                    f"{number(self.output_range[1])} {inputs}")
        if self.controls["auto_range"].value:
            return stretch_scale(fm), f"auto range: stretched to this map's min..max; {produced}"
        if self.controls["scale"].value == "kernel":
            scale = colour_scale(self.output_range)
            if scale.vmin == self.output_range[0] and scale.vmax == self.output_range[1]:
                return scale, f"the range this kernel can produce {inputs}"
            return scale, f"{produced}, made symmetric about 0"
        if self.output_range[0] < 0:                            # signed: diverging, input units
            m = max(abs(lo), abs(hi)) or 1.0
            scale = colour_scale((-m, m))
        else:
            scale = colour_scale((lo, hi))
        outside = float(np.mean((fm < scale.vmin) | (fm > scale.vmax)))
        clipped = f", {100 * outside:.0f} % of pixels beyond it" if outside else ""
        return scale, f"the input's scale{clipped}; {produced}"

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
        self.output_range = feature_map_range(k, self.input_range)
        scale, why = self._display_scale(k, fm)
        self.output_image.value = array_to_png(fm, cmap=scale.cmap, vmin=scale.vmin,
                                               vmax=scale.vmax, scale=self._scale)
        if (scale.vmin, scale.vmax, scale.cmap) != (self.display_range or (None, None)) + (
                self.display_cmap,):
            self.colour_bar.value = colour_bar_png(scale.vmin, scale.vmax, cmap=scale.cmap)
        self.feature_map = fm
        self.display_range, self.display_cmap = (scale.vmin, scale.vmax), scale.cmap
        self.legend = f"{scale.legend()} ({why})"
        self._bar_note.value = scale.legend()
        self._kernel_note.value = (f"sum {number(k.sum())}, weights {number(k.min())} to "
                                   f"{number(k.max())}")
        self._stats = (f"kernel {k.shape[0]}x{k.shape[1]}: weights sum to {number(k.sum())}, "
                       f"from {number(k.min())} to {number(k.max())} · feature map "
                       f"{fm.shape[0]}x{fm.shape[1]} from {number(fm.min())} to "
                       f"{number(fm.max())} · {self.legend}")
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
