"""The receptive-field explorer (lesson 10): click a unit of a layer, see the input pixels it sees.

Each network is described as the list of its sliding windows (kernel,
stride, padding, maps), matching the Keras builders of
:mod:`cnnlab.models` layer by layer (the tests check this). The explorer
never builds the networks: VGG-16 alone has 138 million weights, and the
receptive field depends only on the windows.

Along one axis, unit ``i`` of a layer sees the input pixels

    first = i * jump + offset,     last = first + size - 1,

where ``size`` and ``jump`` come from :func:`cnnlab.shapes.receptive_field`
and the offset adds up the padding in front of every layer so far, each
counted in the input pixels of that layer's jump:
``offset_L = offset_{L-1} - pad_before_L * jump_{L-1}`` (``offset_0 = 0``,
the padding from :func:`cnnlab.shapes.padding_amounts`). A negative
``first``, or a ``last`` past the image, is zero padding.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import NamedTuple

import anywidget
import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.patches import Rectangle
from PIL import Image

from .. import data, shapes
from .._validate import check_choice
from ._base import Explorer
from ._canvas import FigurePNG
from ._controls import Dropdown, IntSlider, check_range, titled, status_line

__all__ = [
    "ReceptiveFieldExplorer", "ClickImage", "Window", "LayerField", "UnitField",
    "NETWORKS", "NETWORK_WINDOWS", "INPUT_SIDES", "DEFAULT_LAYERS",
    "network_layers", "unit_field",
]

NETWORKS = ("LeNet-5", "AlexNet", "VGG-16")


class Window(NamedTuple):
    """One sliding-window layer of a network: square kernel and stride, Keras padding."""

    name: str
    kernel: int
    stride: int
    padding: object     # "valid", "same" or an int (cells on each side)
    maps: int           # output channels


def _vgg_windows():
    out = []
    for block, (convs, maps) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)), 1):
        out += [Window(f"block{block}_conv{c}", 3, 1, "same", maps) for c in range(1, convs + 1)]
        out.append(Window(f"block{block}_pool", 2, 2, "valid", maps))
    return tuple(out)


#: The windows of each network, in order, named as the Keras builders name the layers.
#: LeNet-5's ``pad`` layer (28x28 digit -> 32x32) is C1's padding of 2.
NETWORK_WINDOWS = {
    "LeNet-5": (Window("C1", 5, 1, 2, 6), Window("S2", 2, 2, "valid", 6),
                Window("C3", 5, 1, "valid", 16), Window("S4", 2, 2, "valid", 16),
                Window("C5", 5, 1, "valid", 120)),
    "AlexNet": (Window("conv1", 11, 4, "valid", 96), Window("pool1", 3, 2, "valid", 96),
                Window("conv2", 5, 1, "same", 256), Window("pool2", 3, 2, "valid", 256),
                Window("conv3", 3, 1, "same", 384), Window("conv4", 3, 1, "same", 384),
                Window("conv5", 3, 1, "same", 256), Window("pool5", 3, 2, "valid", 256)),
    "VGG-16": _vgg_windows(),
}
#: Side of each network's (square) input picture, in pixels.
INPUT_SIDES = {"LeNet-5": 28, "AlexNet": 227, "VGG-16": 224}
#: The layer each network opens on.
DEFAULT_LAYERS = {"LeNet-5": "C3", "AlexNet": "conv5", "VGG-16": "block5_conv3"}

FIELD_COLOUR = "#ff7f0e"
PAD_COLOUR = "#d9d9d9"
GRID_COLOURS = np.array([[0xf2, 0xf2, 0xf2],      # the unit sees only image pixels
                         [0x9e, 0xca, 0xe1],      # its field reaches into the padding
                         [0xff, 0x7f, 0x0e],      # the chosen unit
                         [0xff, 0xff, 0xff]],     # grid lines
                        dtype=np.uint8)
GRID_LEGEND = ("field inside the image", "field reaches the padding", "chosen unit")
GRID_PIXELS = 256                 # the grid picture is drawn at most this wide
GRID_WIDTH = 256                  # and shown this wide on the page (CSS pixels)
PICTURE_INCHES = 5.0              # the input picture (at PICTURE_DPI: 400 pixels wide)


class LayerField(NamedTuple):
    """A window layer of :func:`network_layers`, with its grid and receptive field (one axis)."""

    name: str
    kernel: int
    stride: int
    pads: tuple          # (before, after) cells of zero padding on its input
    input_side: int
    output_shape: tuple  # (H, W, C)
    jump: int            # input pixels between neighbouring units
    size: int            # input pixels one unit sees
    offset: int          # first input pixel of unit 0 (negative: in the padding)


class UnitField(NamedTuple):
    """What one unit sees: :func:`unit_field`. Pixel ranges are inclusive and not clipped."""

    size: tuple          # (height, width)
    jump: int
    rows: tuple          # (first, last)
    cols: tuple          # (first, last)


@functools.lru_cache(maxsize=None)
def network_layers(network: str) -> tuple[LayerField, ...]:
    """Every window layer of a network: output grid, jump, field size and offset (lesson 10).

    Parameters
    ----------
    network : {"LeNet-5", "AlexNet", "VGG-16"}

    Returns
    -------
    tuple of LayerField
        One per entry of ``NETWORK_WINDOWS[network]``, in order.
    """
    network = check_choice(network, "network", NETWORKS)
    windows = NETWORK_WINDOWS[network]
    fields = shapes.receptive_field([(w.name, w.kernel, w.stride) for w in windows])
    rows, side, offset, jump = [], INPUT_SIDES[network], 0, 1
    for w, f in zip(windows, fields):
        pads = shapes.padding_amounts(side, w.kernel, w.stride, w.padding)
        out = shapes.conv_output_size(side, w.kernel, w.stride, w.padding)
        offset -= pads[0] * jump                # the padding, in input pixels
        rows.append(LayerField(w.name, w.kernel, w.stride, pads, side, (out, out, w.maps),
                               f.jump[0], f.size[0], offset))
        side, jump = out, f.jump[0]
    return tuple(rows)


def _layer(network: str, layer: str) -> LayerField:
    table = network_layers(network)
    names = [row.name for row in table]
    return table[names.index(check_choice(layer, "layer", names))]


def unit_field(network: str, layer: str, row: int, col: int) -> UnitField:
    """The input pixels one unit of a layer sees (lesson 10).

    Parameters
    ----------
    network : {"LeNet-5", "AlexNet", "VGG-16"}
    layer : str
        One of the network's window layers (``NETWORK_WINDOWS``), e.g. "block5_conv3".
    row, col : int
        The unit in the layer's output grid, from 0 to its side - 1.

    Returns
    -------
    UnitField
        ``size``, ``jump`` and the first and last input row and column it
        sees: ``first = index * jump + offset``, ``last = first + size - 1``.
        Pixels below 0 or past the image side lie in the zero padding.

    Examples
    --------
    >>> unit_field("VGG-16", "block1_conv2", 0, 0).rows
    (-2, 2)
    """
    info = _layer(network, layer)
    side = info.output_shape[0]
    row = check_range(row, "row", 0, side - 1)
    col = check_range(col, "col", 0, side - 1)

    def span(i):
        first = i * info.jump + info.offset
        return first, first + info.size - 1

    return UnitField((info.size, info.size), info.jump, span(row), span(col))


@functools.lru_cache(maxsize=None)
def _extent(network: str) -> tuple[int, int]:
    """First and last pixel any unit of the network sees, padding included (the drawn range)."""
    table = network_layers(network)
    first = min(0, *(r.offset for r in table))
    last = max(INPUT_SIDES[network] - 1,
               *((r.output_shape[0] - 1) * r.jump + r.offset + r.size - 1 for r in table))
    return first, last


@functools.lru_cache(maxsize=None)
def _input_picture(network: str) -> tuple[np.ndarray, str]:
    """The network's input, (H, W) grey or (H, W, 3) RGB in [0, 1], and what it is."""
    side = INPUT_SIDES[network]
    if network == "LeNet-5":
        try:
            return data.digit(0), "MNIST test digit 0"
        except (OSError, ValueError):                       # the MNIST files are missing
            return data.sample_photo(side), "grey photo (MNIST not found)"
    return data.sample_photo_rgb(side), "colour photo"


class ClickImage(anywidget.AnyWidget):
    """A PNG of a ``rows x cols`` grid; a click in the browser sets ``picked`` to ``[row, col]``.

    ``value`` holds the PNG bytes, ``width`` the width on the page in CSS
    pixels. The explorer that owns it redraws ``value`` and keeps
    ``picked`` equal to the unit it shows.
    """

    _esm = Path(__file__).parent / "static" / "click_image.js"
    value = traitlets.Bytes(b"").tag(sync=True)
    rows = traitlets.Int(1).tag(sync=True)
    cols = traitlets.Int(1).tag(sync=True)
    width = traitlets.Int(GRID_WIDTH).tag(sync=True)
    picked = traitlets.List(traitlets.Int(), [0, 0], minlen=2, maxlen=2).tag(sync=True)


def _hex(colour) -> str:
    """``'#rrggbb'`` of an RGB triple of ints 0-255."""
    return "#" + "".join(f"{int(v):02x}" for v in colour)


def _grid_png(side: int, chosen: tuple, reaches: np.ndarray) -> bytes:
    """The output grid as PNG: chosen cell orange, cells whose field reaches the padding blue.

    Parameters
    ----------
    side : int
        Cells per side, 1 to ``GRID_PIXELS``.
    chosen : (int, int)
    reaches : (side,) ndarray of bool
        Along one axis, whether the unit's field reaches into the padding.
    """
    scale = max(1, GRID_PIXELS // side)
    index = (reaches[:, None] | reaches[None, :]).astype(np.uint8)    # (side, side)
    index[chosen] = 2
    index = np.repeat(np.repeat(index, scale, axis=0), scale, axis=1)   # (side*s, side*s)
    if scale >= 6:                                                     # grid lines
        index[scale - 1::scale, :] = 3
        index[:, scale - 1::scale] = 3
    image = Image.fromarray(GRID_COLOURS[index])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class ReceptiveFieldExplorer(Explorer):
    """Pick a unit of a layer of LeNet-5, AlexNet or VGG-16 and see its receptive field.

    Introduced in lesson 10. The left picture is the chosen layer's output
    grid: click a cell (or move the ``row`` / ``col`` sliders) to pick that
    unit. The right picture is the network's input at its own size (an MNIST
    digit for LeNet-5, 28x28 padded by 2 to 32x32; the colour photo at
    227x227 for AlexNet and 224x224 for VGG-16), with the unit's receptive
    field in orange: solid over the image, dashed where it lies in the zero
    padding (grey hatched). Changing the layer keeps the unit whose field is
    centred nearest the same place.

    Parameters
    ----------
    network : {"LeNet-5", "AlexNet", "VGG-16"}
    layer : str, optional
        One of the network's layers (``NETWORK_WINDOWS``); default ``DEFAULT_LAYERS[network]``.
    row, col : int, optional
        The unit, from 0 to the layer's side - 1; default the centre unit.

    Attributes
    ----------
    controls : dict
        ``"network"``, ``"layer"`` (Dropdowns), ``"row"``, ``"col"`` (IntSliders).
    grid : ClickImage
        The clickable output grid; ``grid.picked`` is the shown ``[row, col]``.
    field_size : (int, int)
        Receptive field (height, width) in input pixels.
    field_rows, field_cols : (int, int)
        First and last input row / column the unit sees, not clipped (may be
        negative or past the image: the padding).
    clipped_rows, clipped_cols : (int, int)
        The same, clipped to the image.
    jump : int
        Input pixels between neighbouring units (the product of the strides).
    output_shape : (int, int, int)
        ``(H, W, C)`` of the chosen layer's output.
    input_image : (H, W) or (H, W, 3) ndarray
        The input picture, values in [0, 1].
    picture : ipywidgets.Image
    status : ipywidgets.Label
    widget : ipywidgets.VBox
    """

    def __init__(self, network="VGG-16", *, layer=None, row=None, col=None):
        super().__init__()
        network = check_choice(network, "network", NETWORKS)
        names = [w.name for w in NETWORK_WINDOWS[network]]
        try:
            layer = check_choice(DEFAULT_LAYERS[network] if layer is None else layer,
                                 "layer", names)
        except ValueError as exc:
            raise ValueError(f"{exc} (the layers of {network})") from None
        side = _layer(network, layer).output_shape[0]
        row = side // 2 if row is None else check_range(row, "row", 0, side - 1)
        col = side // 2 if col is None else check_range(col, "col", 0, side - 1)
        self.controls.update(
            network=Dropdown(options=NETWORKS, value=network, description="network"),
            layer=Dropdown(options=names, value=layer, description="layer"),
            row=IntSlider(value=row, min=0, max=side - 1, description="row"),
            col=IntSlider(value=col, min=0, max=side - 1, description="col"),
        )
        c = self.controls
        self.grid = ClickImage(rows=side, cols=side, picked=[row, col])
        self.picture = widgets.Image(format="png")
        self.status = status_line()
        swatches = " &nbsp; ".join(
            f"<span style='background:{_hex(colour)};border:1px solid #bdbdbd'>&nbsp;&nbsp;"
            f"&nbsp;</span> {text}" for colour, text in zip(GRID_COLOURS, GRID_LEGEND))
        legend = widgets.HTML(f"<small>{swatches}</small>",
                              layout=widgets.Layout(width=f"{GRID_WIDTH}px"))
        self.widget = widgets.VBox([
            widgets.HBox([c["network"], c["layer"]]),
            widgets.HBox([c["row"], c["col"]]),
            widgets.HBox([titled("output grid (click a unit)",
                                 widgets.VBox([self.grid, legend])), self.picture]),
            self.status,
        ])
        self._canvas = FigurePNG()
        self._scene = None
        c["network"].observe(self._on_network, names="value")
        c["layer"].observe(self._on_layer, names="value")
        c["row"].observe(self._request_redraw, names="value")
        c["col"].observe(self._request_redraw, names="value")
        self.grid.observe(self._on_pick, names="picked")
        self._guard_controls()
        self.redraw()

    # -- what is shown ----------------------------------------------------------
    @property
    def network(self) -> str:
        return self.controls["network"].value

    @property
    def layer(self) -> str:
        return self.controls["layer"].value

    @property
    def unit(self) -> tuple[int, int]:
        """The chosen ``(row, col)``."""
        return self.controls["row"].value, self.controls["col"].value

    # -- callbacks ------------------------------------------------------------------
    def _on_network(self, change):
        if self._quiet_depth:
            return
        names = [w.name for w in NETWORK_WINDOWS[change.new]]
        layer = DEFAULT_LAYERS[change.new]
        side = _layer(change.new, layer).output_shape[0]
        with self.hold_redraw(), self._quiet():
            self.controls["layer"].options = names
            self.controls["layer"].value = layer
            self._set_unit(side, side // 2, side // 2)
            self._dirty = True                      # redraw once, even if the unit stays

    def _on_layer(self, change):
        if self._quiet_depth:
            return
        old, new = _layer(self.network, change.old), _layer(self.network, change.new)
        side = new.output_shape[0]

        def nearest(i):               # the new unit centred nearest the old unit's centre
            centre = i * old.jump + old.offset + (old.size - 1) / 2
            return int(np.clip(np.floor((centre - new.offset - (new.size - 1) / 2) / new.jump
                                        + 0.5), 0, side - 1))

        with self.hold_redraw(), self._quiet():
            self._set_unit(side, *(nearest(i) for i in self.unit))
            self._dirty = True

    def _set_unit(self, side: int, row: int, col: int) -> None:
        """Give both sliders the range ``0..side-1`` and the unit (row, col)."""
        for name, value in (("row", row), ("col", col)):
            slider = self.controls[name]
            slider.max = max(slider.max, side - 1)
            slider.value = value
            slider.max = side - 1

    def _on_pick(self, change):
        if self._quiet_depth or list(change.new) == list(self.unit):
            return
        side = self.output_shape[0]
        row, col = change.new
        if not (0 <= row < side and 0 <= col < side):
            self.status.value = (f"Refused the click at ({row}, {col}): the grid is "
                                 f"{side}x{side}; kept unit {self.unit}.")
            with self._quiet():
                self.grid.picked = list(self.unit)
            return
        with self.hold_redraw():
            self.controls["row"].value, self.controls["col"].value = row, col

    # -- drawing ----------------------------------------------------------------------
    def _draw(self) -> None:
        info = _layer(self.network, self.layer)
        field = unit_field(self.network, self.layer, *self.unit)
        image, what = _input_picture(self.network)
        n = image.shape[0]
        self.output_shape, self.jump, self.input_image = info.output_shape, field.jump, image
        self.field_size, self.field_rows, self.field_cols = field.size, field.rows, field.cols
        self.clipped_rows, self.clipped_cols = (
            (max(a, 0), min(b, n - 1)) for a, b in (field.rows, field.cols))
        side = info.output_shape[0]
        firsts = np.arange(side) * info.jump + info.offset                  # (side,)
        reaches = (firsts < 0) | (firsts + info.size - 1 > n - 1)
        with self._quiet():
            self.grid.rows = self.grid.cols = side
            self.grid.value = _grid_png(side, self.unit, reaches)
            self.grid.picked = list(self.unit)
        self.picture.value = self._render_input()
        self.status.value = self._status_text(n, what)

    def _status_text(self, n: int, what: str) -> str:
        (r0, r1), (c0, c1) = self.field_rows, self.field_cols
        h, w = self.field_size
        outside = min(r0, c0) < 0 or max(r1, c1) > n - 1
        note = ("the part outside the image is padding" if outside
                else "all of it on the image")
        lenet = " (the 28x28 digit padded by 2 to 32x32)" if self.network == "LeNet-5" else ""
        return (f"{self.layer} unit {self.unit} of {self.output_shape[0]}x"
                f"{self.output_shape[1]}: field {h}x{w} px, jump {self.jump}, rows {r0}..{r1}, "
                f"cols {c0}..{c1} ({note}); input: {what} {n}x{n}{lenet}, shown 0..1, "
                "white = high")

    def _render_input(self) -> bytes:
        """The input picture with the field drawn: the figure is set up once per network."""
        if self._scene is None or self._scene["network"] != self.network:
            self._scene = self._build_scene()
        scene = self._scene
        (r0, r1), (c0, c1) = self.field_rows, self.field_cols
        (q0, q1), (p0, p1) = self.clipped_rows, self.clipped_cols
        scene["field"].set_bounds(c0 - 0.5, r0 - 0.5, c1 - c0 + 1, r1 - r0 + 1)
        scene["inside"].set_bounds(p0 - 0.5, q0 - 0.5, p1 - p0 + 1, q1 - q0 + 1)
        scene["inside"].set_visible(q0 <= q1 and p0 <= p1)
        scene["title"].set_text(f"{self.layer} unit {self.unit} sees {self.field_size[0]}x"
                                f"{self.field_size[1]} px")
        canvas = self._canvas.figure.canvas
        canvas.restore_region(scene["background"])          # everything that stays put
        for artist in ("field", "inside", "title"):
            self._canvas.figure.draw_artist(scene[artist])
        pixels = np.asarray(canvas.buffer_rgba())[..., :3]    # (H, W, 3) uint8
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    def _build_scene(self) -> dict:
        """Axes, input image, padding and the two field rectangles for the current network."""
        fig = self._canvas.figure
        fig.clear()
        fig.set_size_inches(PICTURE_INCHES, PICTURE_INCHES + 0.5)
        ax = fig.add_axes((0.13, 0.09, 0.84, 0.76))
        image = self.input_image
        n = image.shape[0]
        lo, hi = _extent(self.network)
        ax.add_patch(Rectangle((lo - 0.5, lo - 0.5), hi - lo + 1, hi - lo + 1,
                               facecolor="#f7f7f7", edgecolor=PAD_COLOUR, hatch="//",
                               linewidth=0, zorder=-1))
        ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest",
                  extent=(-0.5, n - 0.5, n - 0.5, -0.5))
        field = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=FIELD_COLOUR,
                                       linestyle="--", linewidth=1.5, animated=True))
        inside = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=FIELD_COLOUR,
                                        linewidth=2.5, animated=True))
        ax.set_xlim(lo - 0.5, hi + 0.5)
        ax.set_ylim(hi + 0.5, lo - 0.5)
        ax.tick_params(labelsize=9)
        ax.set_xlabel("input column (pixels)", fontsize=9)
        ax.set_ylabel("input row (pixels)", fontsize=9)
        fig.text(0.5, 0.965, f"{self.network} input {n}x{n} (values 0..1, white = high)",
                 ha="center", va="top", fontsize=10)
        title = fig.text(0.5, 0.925, "", ha="center", va="top", fontsize=10, color="#333333",
                         animated=True)
        fig.text(0.5, 0.885, "solid: field on the image; dashed: in the zero padding (hatched)",
                 ha="center", va="top", fontsize=8, color="#555555")
        fig.canvas.draw()                                     # the animated artists left out
        return {"network": self.network, "field": field, "inside": inside, "title": title,
                "background": fig.canvas.copy_from_bbox(fig.bbox)}
