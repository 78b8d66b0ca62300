"""The channel explorer (ChannelExplorer), in each lesson that shows one, used as a learner uses it.

The numbers the page writes are checked against numpy: each channel's sum
is the window the page highlights times the filter slice it shows, the
window sits at ``(row * stride, col * stride)`` of the padded input, and the
whole output map is the strided correlation of the shown padded input with
the shown filter, plus one bias.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, screenshot_element, type_number
from numpy.lib.stride_tricks import sliding_window_view
from widgetdrive import (ENTER, changed_by, number_box, press_slider, report, set_slider, settle,
                         slider, slider_max, slider_value, status_text, time_changes)

LESSONS = lessons_using("widgets.ChannelExplorer(")

_VIEW_JS = """root => {
  const table = t => [...t.querySelectorAll('tr')].map(tr => [...tr.querySelectorAll('td')]
      .map(td => ({v: Number(td.textContent), c: td.className})));
  const rows = [...root.querySelectorAll('.cnnlab-ch > .row')];
  const tables = rows.map(r => [...r.querySelectorAll('table')].map(table));
  return {
    inputs: tables.map(t => t[0]), weights: tables.map(t => t[1]),
    sums: rows.map(r => Number(r.querySelector('b.sum').textContent)),
    eq: root.querySelector('.cnnlab-ch > .eq').textContent,
    output: table(root.querySelector('.cnnlab-ch > .channel table')),
  };
}"""


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def explorer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.ChannelExplorer(", "channel-explorer")
    out.scroll_into_view_if_needed()
    ex = {
        "lesson": lesson, "page": lesson.page, "out": out,
        "view": out.locator(".widget-html-content:has(.cnnlab-ch)"),
        "row": slider(out, "row"), "col": slider(out, "column"), "filter": slider(out, "filter"),
        "stride": number_box(out, "stride"), "padding": number_box(out, "padding"),
        "stem": Path(request.param).stem,
    }
    set_boxes(ex, stride=2, padding=1)                 # as the lesson makes it (cs231n's demo)
    return ex


def set_boxes(ex, **values) -> None:
    """Type each value in its box (where it differs) and wait for the view."""
    for name, value in values.items():
        if ex[name].input_value() != str(value):
            changed_by(ex["view"], lambda: type_number(ex["page"], ex[name], value))
            settle(ex["lesson"])


def shown_view(ex) -> dict:
    """What the view shows, as arrays: padded input (Hp, Wp, C), weights (KH, KW, C), ..."""
    raw = ex["view"].evaluate(_VIEW_JS)
    def values(table):
        return np.array([[cell["v"] for cell in row] for row in table])      # (rows, cols)

    classes = [[cell["c"].split() for cell in row] for row in raw["inputs"][0]]
    return {
        "padded": np.stack([values(t) for t in raw["inputs"]], axis=-1),
        "weights": np.stack([values(t) for t in raw["weights"]], axis=-1),
        "window": np.array([["win" in c for c in row] for row in classes]),
        "sums": np.array(raw["sums"]), "eq": raw["eq"],
        "output": values(raw["output"]),
        "chosen": np.array([["out" in cell["c"].split() for cell in row]
                            for row in raw["output"]]),
    }


def assert_view_is_the_convolution(ex) -> None:
    v = shown_view(ex)
    row, col, f = (int(slider_value(ex[n])) for n in ("row", "col", "filter"))
    stride, padding = int(ex["stride"].input_value()), int(ex["padding"].input_value())
    kh, kw, c = v["weights"].shape
    top, left = row * stride, col * stride
    want_window = np.zeros(v["window"].shape, bool)
    want_window[top:top + kh, left:left + kw] = True
    np.testing.assert_array_equal(v["window"], want_window)
    patch = v["padded"][top:top + kh, left:left + kw]                       # (KH, KW, C)
    np.testing.assert_allclose(v["sums"], (patch * v["weights"]).sum(axis=(0, 1)),
                               rtol=1e-3, atol=1e-9)
    assert np.argwhere(v["chosen"]).tolist() == [[row, col]]
    windows = sliding_window_view(v["padded"], (kh, kw), axis=(0, 1))[::stride, ::stride]
    conv = np.einsum("ijckl,klc->ij", windows, v["weights"])               # (H_out, W_out)
    bias = v["output"][row, col] - v["sums"].sum()
    np.testing.assert_allclose(v["output"], conv + bias, rtol=1e-3, atol=1e-6)
    assert v["eq"].startswith(f"out[{row}, {col}, {f}] = ")
    h_out, w_out = conv.shape
    n_filters = int(slider_max(ex["filter"])) + 1
    assert status_text(ex["out"]).startswith(
        f"output {h_out}x{w_out}x{n_filters} (stride {stride}, padding {padding})")
    assert padding == 0 or (v["padded"][:padding] == 0).all()


def test_slider_keys_move_the_window(explorer):
    lesson, view = explorer["lesson"], explorer["view"]
    for name in ("row", "col", "filter"):
        set_slider(lesson, explorer[name], 0, view)
    eventually(lambda: assert_view_is_the_convolution(explorer))
    for name in ("col", "row", "filter"):
        changed_by(view, lambda: press_slider(explorer[name], "ArrowRight"))
        assert slider_value(explorer[name]) == "1"
        eventually(lambda: assert_view_is_the_convolution(explorer))


def test_typed_stride_and_padding(explorer):
    page = explorer["page"]
    for name, value in (("stride", 1), ("padding", 0), ("padding", 2)):
        set_boxes(explorer, **{name: value})
        eventually(lambda: assert_view_is_the_convolution(explorer))
    type_number(page, explorer["stride"], 0)                       # explained, the view stays

    def explained():
        assert re.search(r"Stride must be at least 1|Refused", status_text(explorer["out"]))

    eventually(explained)
    set_boxes(explorer, stride=2, padding=1)
    eventually(lambda: assert_view_is_the_convolution(explorer))
    assert not explorer["lesson"].problems()


def test_column_slider_latency(explorer):
    """Arrow key on the column slider -> new view on screen, 20 changes (no limit)."""
    lesson, view, control = explorer["lesson"], explorer["view"], explorer["col"]
    set_slider(lesson, control, 0, view)
    samples = time_changes(explorer["page"], explorer["out"], view,
                           lambda i: press_slider(control, "ArrowLeft" if i % 2 else "ArrowRight"))
    assert slider_value(control) == "0"
    eventually(lambda: assert_view_is_the_convolution(explorer))
    report(f"{explorer['stem']} ChannelExplorer", "column slider, arrow key", samples)
    screenshot_element(explorer["out"], screenshot_path(f"{explorer['stem']}-channel-explorer"))


def test_typed_padding_latency(explorer):
    """Enter in the padding box -> new view on screen, 20 changes (no limit)."""
    page, box = explorer["page"], explorer["padding"]
    set_boxes(explorer, padding=1)
    samples = time_changes(page, explorer["out"], explorer["view"],
                           lambda i: type_number(page, box, 1 + (i + 1) % 2), starts=ENTER)
    report(f"{explorer['stem']} ChannelExplorer", "padding typed, Enter", samples)
    assert box.input_value() == "1"
    settle(explorer["lesson"])
    eventually(lambda: assert_view_is_the_convolution(explorer))
    assert not explorer["lesson"].problems()
