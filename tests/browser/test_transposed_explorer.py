"""The transposed-convolution explorer (TransposedConvExplorer), in each lesson that shows one.

Used as a learner uses it: the stride and kernel-size sliders moved with the
arrow keys, the padding buttons, the menus. With the "ones" kernel and
"valid" padding the output grid the page shows (each cell's ``data-v``) is
checked against a loop that paints one copy of the kernel per input cell,
``stride`` cells apart, and the overlap grid against the same loop on ones.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, screenshot_element
from widgetdrive import (changed_by, is_pressed, menu, press_slider, report, set_slider, settle,
                         slider, slider_value, status_text, time_changes, toggle)

LESSONS = lessons_using("widgets.TransposedConvExplorer(")

_GRID_JS = """el => [...el.querySelectorAll('table tr')].map(
    tr => [...tr.querySelectorAll('td')].map(td => Number(td.dataset.v)))"""


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def explorer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.TransposedConvExplorer(", "transposed-explorer")
    out.scroll_into_view_if_needed()
    ex = {
        "lesson": lesson, "page": lesson.page, "out": out,
        "input": menu(out, "input"), "kernel": menu(out, "kernel"),
        "size": slider(out, "kernel size"), "stride": slider(out, "stride"),
        "input_view": view(out, "input"), "output_view": view(out, "output"),
        "overlap_view": view(out, "overlap: kernel copies per cell"),
        "stem": Path(request.param).stem,
    }
    target = ex["output_view"]
    for name, value in (("input", "random ints 4x4"), ("kernel", "ones")):
        if ex[name].input_value() != value:
            changed_by(target, lambda: ex[name].select_option(value))
    valid = toggle(out, "valid", ":has(button:text-is('same'))")
    if not is_pressed(valid):
        changed_by(target, valid.click)
    set_slider(lesson, ex["size"], 3, target)
    set_slider(lesson, ex["stride"], 2, target)
    settle(lesson)
    return ex


def view(out, title: str):
    return out.locator(f".widget-vbox:has(> .widget-html b:text-is({title!r})) "
                       ".widget-html-content:has(.cnnlab-cells)")


def grid(locator) -> np.ndarray:
    return np.array(locator.evaluate(_GRID_JS), dtype=float)       # (rows, cols)


def paint(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """Transposed convolution, "valid": a copy of ``w`` times each input cell, added up."""
    (h, wd), k = x.shape, w.shape[0]
    out = np.zeros(((h - 1) * stride + k, (wd - 1) * stride + k))
    for i in range(h):
        for j in range(wd):
            out[i * stride:i * stride + k, j * stride:j * stride + k] += x[i, j] * w
    return out


def assert_grids_are_the_painting(ex) -> None:
    k, s = int(slider_value(ex["size"])), int(slider_value(ex["stride"]))
    x = grid(ex["input_view"])
    np.testing.assert_allclose(grid(ex["output_view"]), paint(x, np.ones((k, k)), s), atol=1e-9)
    counts = paint(np.ones_like(x), np.ones((k, k)), s)
    np.testing.assert_allclose(grid(ex["overlap_view"]), counts, atol=1e-9)
    h, w = x.shape
    status = status_text(ex["out"])
    assert status.startswith(f"{h}x{w} → {counts.shape[0]}x{counts.shape[1]} (valid: ")
    even = ": even overlap" in status
    assert even == (k % s == 0)
    assert re.search(f"counts from 0 \\(black\\) to {int(counts.max())} \\(white\\)", status)


def test_stride_keys_repaint_the_output(explorer):
    eventually(lambda: assert_grids_are_the_painting(explorer))
    for key, stride in (("ArrowRight", 3), ("ArrowLeft", 2), ("ArrowLeft", 1)):
        changed_by(explorer["output_view"], lambda: press_slider(explorer["stride"], key))
        settle(explorer["lesson"])
        assert slider_value(explorer["stride"]) == str(stride)
        eventually(lambda: assert_grids_are_the_painting(explorer))
    set_slider(explorer["lesson"], explorer["stride"], 2, explorer["output_view"])


def test_kernel_size_keys_and_menus(explorer):
    lesson, target = explorer["lesson"], explorer["output_view"]
    for size in (4, 2, 3):
        set_slider(lesson, explorer["size"], size, target)
        eventually(lambda: assert_grids_are_the_painting(explorer))
    changed_by(target, lambda: explorer["input"].select_option("single 1 in 4x4"))
    settle(lesson)
    eventually(lambda: assert_grids_are_the_painting(explorer))
    changed_by(target, lambda: explorer["kernel"].select_option("tent"))
    settle(lesson)
    assert grid(target).max() == 4                                 # the tent's peak, 2 x 2
    changed_by(target, lambda: explorer["kernel"].select_option("ones"))
    settle(lesson)
    assert not explorer["lesson"].problems()


def test_stride_slider_latency(explorer):
    """Arrow key on the stride slider -> new output grid on screen, 20 changes (no limit)."""
    lesson, control, target = explorer["lesson"], explorer["stride"], explorer["output_view"]
    set_slider(lesson, control, 2, target)
    samples = time_changes(explorer["page"], explorer["out"], target,
                           lambda i: press_slider(control, "ArrowLeft" if i % 2 else "ArrowRight"))
    assert slider_value(control) == "2"
    settle(lesson)
    eventually(lambda: assert_grids_are_the_painting(explorer))
    report(f"{explorer['stem']} TransposedConvExplorer", "stride slider, arrow key", samples)
    screenshot_element(explorer["out"],
                       screenshot_path(f"{explorer['stem']}-transposed-explorer"))
    assert not explorer["lesson"].problems()
