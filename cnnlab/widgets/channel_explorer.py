"""The channel explorer (lesson 04): one output cell of a multi-channel convolution, taken apart.

:func:`channel_step_html` draws what :func:`cnnlab.plot.plot_channel_step`
draws, as HTML the explorer can replace in place at every change.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import kernels, shapes, steps
from .._validate import as_array, check_int
from ..plot._checks import check_fmt
from ..plot._parts import OUTPUT_FILL, WINDOW_FILL, WINDOW_HEX, channel_equation, format_number
from ._base import Explorer
from ._controls import IntSlider, IntText, check_input_side, check_values, status_line

__all__ = ["ChannelExplorer", "channel_example", "channel_step_html", "MAX_CHANNEL_STRIDE"]

MAX_CHANNEL_STRIDE = steps.MAX_CHANNEL_SIDE   # ChannelExplorer's stride box


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


class ChannelExplorer(Explorer):
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
        ``steps.MAX_CHANNEL_SIDE`` (32) cells a side and ``steps.MAX_CHANNELS``
        (8) channels; values from ``-MAX_VALUE`` to ``MAX_VALUE`` (1e6), as
        for the kernel and the bias.
    kernel : (KH, KW, C, K) array_like, optional
        ``K`` filters as deep as ``x`` (at most ``steps.MAX_FILTERS``, 64); by
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
        side = steps.MAX_CHANNEL_SIDE
        check_input_side(self._x, "x", side, "the view draws it, padding included")
        check_input_side(self._kernel, "kernel", side, "the view draws it")
        for name, count, limit in (("x", self._x.shape[2], steps.MAX_CHANNELS),
                                   ("kernel", self._kernel.shape[3], steps.MAX_FILTERS)):
            if count > limit:
                what = "channels" if name == "x" else "filters"
                raise ValueError(f"`{name}` has {count} {what}; the explorer draws at most "
                                 f"{limit}")
        check_values(self._x, "x")
        check_values(self._kernel, "kernel")
        check_values(as_array(bias, "bias"), "bias")
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
            row=IntSlider(description="row", **slider),
            col=IntSlider(description="column", **slider),
            filter=IntSlider(description="filter", **{**slider, "max": k - 1}),
            stride=IntText(value=stride, description="stride", **box),
            padding=IntText(value=padding, description="padding", **box),
        )
        self.view = widgets.HTML()
        self.status = status_line()
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
        step = steps.channel_step(self._x, self._kernel, position, self._bias, stride, padding)
        self.view.value = channel_step_html(self._x, self._kernel, position, bias=self._bias,
                                            stride=stride, padding=padding)
        self.output, self.value = step.output, step.total
        self.channel_sums, self.window = step.sums, (step.top, step.left)
        self.status.value = (f"output {h_out}x{w_out}x{self._kernel.shape[3]} (stride {stride}, "
                             f"padding {padding}) · {channel_equation(step, position, '{:.3g}')}")


def _shape_text(shape) -> str:
    return "x".join(str(n) for n in shape)


def channel_step_html(x, kernel, position, *, bias=None, stride=1, padding=0, fmt="{:g}") -> str:
    """The picture of :func:`cnnlab.plot.plot_channel_step` as HTML (for live widgets).

    Introduced in lesson 04, behind :class:`ChannelExplorer`. Same
    parameters as :func:`cnnlab.plot.plot_channel_step`. Cells carry
    classes: ``pad`` (zero padding), ``win`` (under the window), ``out``
    (the chosen output cell); the equation has class ``eq``.

    Returns
    -------
    str
        One block per channel (padded input, filter slice, sum), then the
        equation and the output map of the chosen filter.
    """
    fmt = check_fmt(fmt)
    step = steps.channel_step(x, kernel, position, bias, stride, padding)
    row, col, f = position
    hp, wp, c = step.padded.shape
    kh, kw = step.weights.shape[:2]
    (top_pad, bottom_pad), (left_pad, right_pad) = step.pads

    def cls(r, q):
        inside = step.top <= r < step.top + kh and step.left <= q < step.left + kw
        padding_cell = not (top_pad <= r < hp - bottom_pad and left_pad <= q < wp - right_pad)
        return " ".join(name for name, on in (("win", inside), ("pad", padding_cell)) if on)

    blocks = []
    for ch in range(c):
        grid = _html_table(step.padded[..., ch], fmt, cls)
        weights = _html_table(step.weights[..., ch], fmt, lambda r, q: "w")
        blocks.append(
            f'<div class="channel"><div class="cap">channel {ch}</div>{grid}</div>'
            f'<div class="op">×</div>'
            f'<div class="channel"><div class="cap">filter {f}, slice {ch}</div>{weights}</div>'
            f'<div class="op">→ sum <b class="sum">{format_number(fmt, step.sums[ch])}</b></div>')
    out = _html_table(step.output[..., f], fmt,
                      lambda r, q: "out" if (r, q) == (row, col) else "")
    style = ("<style>.cnnlab-ch table{border-collapse:collapse;font:12px monospace}"
             ".cnnlab-ch td{border:1px solid #bbb;width:24px;height:20px;text-align:center}"
             ".cnnlab-ch td.pad{color:#aaa;background:#f4f4f4}"
             f".cnnlab-ch td.win{{background:{WINDOW_FILL};border:2px solid {WINDOW_HEX}}}"
             ".cnnlab-ch td.w{background:#eef3fb}"
             f".cnnlab-ch td.out{{background:{OUTPUT_FILL};border:2px solid #2a8a2a;"
             "font-weight:bold}"
             ".cnnlab-ch .row{display:flex;align-items:center;gap:10px;margin:4px 0}"
             ".cnnlab-ch .cap{font:11px sans-serif;color:#555}"
             ".cnnlab-ch .op{font:13px sans-serif}.cnnlab-ch .eq{font:13px monospace;"
             "margin:6px 0}</style>")
    rows = "".join(f'<div class="row">{block}</div>' for block in blocks)
    return (f'<div class="cnnlab-ch">{style}{rows}'
            f'<div class="eq">{channel_equation(step, (row, col, f), fmt)}</div>'
            f'<div class="channel"><div class="cap">output map {f}</div>{out}</div></div>')


def _html_table(a, fmt, cell_class) -> str:
    """A 2D array as an HTML table; ``cell_class(r, c)`` gives each cell's class."""
    rows = []
    for r, values in enumerate(a):
        cells = []
        for q, v in enumerate(values):
            name = cell_class(r, q)
            attr = f' class="{name}"' if name else ""
            cells.append(f"<td{attr}>{format_number(fmt, v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"
