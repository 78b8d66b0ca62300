"""The pooling explorer (PoolingExplorer), in each lesson that shows one, used as a learner uses it.

The status line's output size and range are checked against a loop that
pools the same 8x8 map of whole numbers.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, image_digest, screenshot_element
from widgetdrive import (changed_by, drag_slider, is_pressed, menu, press_slider, report,
                         set_slider, settle, slider, slider_value, status_text, time_changes,
                         toggle)

LESSONS = lessons_using("widgets.PoolingExplorer(")


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def explorer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.PoolingExplorer(", "pooling-explorer")
    out.scroll_into_view_if_needed()
    ex = {
        "lesson": lesson, "page": lesson.page, "out": out,
        "picture": out.locator("img.widget-image"),
        "input": menu(out, "input"),
        "pool_size": slider(out, "pool size"),
        "stride": slider(out, "stride"),
        "stem": Path(request.param).stem,
    }
    start_from_numbers(ex)
    return ex


def numbers_8x8() -> np.ndarray:
    """The explorer's "numbers 8x8" input: whole numbers 0-9 (seed 5)."""
    return np.random.default_rng(5).integers(0, 10, size=(8, 8)).astype(float)   # (8, 8)


def pool_loop(fm: np.ndarray, size: int, stride: int, kind: str) -> np.ndarray:
    """"valid" pooling of ``fm (H, W)`` by explicit windows."""
    reduce = {"max": np.max, "avg": np.mean, "sum": np.sum}[kind]
    rows = (fm.shape[0] - size) // stride + 1
    cols = (fm.shape[1] - size) // stride + 1
    return np.array([[reduce(fm[r * stride:r * stride + size, c * stride:c * stride + size])
                      for c in range(cols)] for r in range(rows)])           # (rows, cols)


def start_from_numbers(ex) -> None:
    """numbers 8x8, max, valid (whatever the lesson's later cells chose)."""
    out, img = ex["out"], ex["picture"]
    if ex["input"].input_value() != "numbers 8x8":
        changed_by(img, lambda: ex["input"].select_option("numbers 8x8"))
    for text in ("max", "valid"):
        button = toggle(out, text, f":has(button:text-is({text!r}))")
        if not is_pressed(button):
            changed_by(img, button.click)


def assert_status_matches(ex, kind: str) -> None:
    """Wait for the kernel, then check the status line (it may lag the picture a moment)."""
    settle(ex["lesson"])
    eventually(lambda: status_matches(ex, kind))


def status_matches(ex, kind: str) -> None:
    size, stride = int(slider_value(ex["pool_size"])), int(slider_value(ex["stride"]))
    want = pool_loop(numbers_8x8(), size, stride, kind)
    text = status_text(ex["out"])
    found = re.search(r"(\w+) pooling: 8x8 → (\d+)x(\d+); (\d+) windows, output from "
                      r"(\S+) to (\S+)$", text)
    assert found, text
    assert found[1] == kind
    assert (int(found[2]), int(found[3])) == want.shape
    assert int(found[4]) == want.size
    np.testing.assert_allclose([float(found[5]), float(found[6])], [want.min(), want.max()],
                               rtol=5e-3)


def test_pool_size_keys_redraw_the_picture(explorer):
    img, control = explorer["picture"], explorer["pool_size"]
    set_slider(explorer["lesson"], control, 1, img)
    set_slider(explorer["lesson"], explorer["stride"], 2, img)
    before = image_digest(img)
    changed_by(img, lambda: press_slider(control, "ArrowRight", 2))
    assert slider_value(control) == "3"
    assert image_digest(img) != before
    assert_status_matches(explorer, "max")


def test_dragged_stride_and_kind_buttons(explorer):
    img, out = explorer["picture"], explorer["out"]
    set_slider(explorer["lesson"], explorer["stride"], 2, img)
    changed_by(img, lambda: drag_slider(explorer["stride"], 1.0))
    assert slider_value(explorer["stride"]) == "6"
    assert_status_matches(explorer, "max")
    for kind in ("avg", "sum", "max"):
        before = image_digest(img)
        changed_by(img, toggle(out, kind, ":has(button:text-is('avg'))").click)
        assert image_digest(img) != before
        assert_status_matches(explorer, kind)
    set_slider(explorer["lesson"], explorer["stride"], 2, img)


def test_input_menu(explorer):
    img = explorer["picture"]
    changed_by(img, lambda: explorer["input"].select_option("lines 8x8"))
    assert "8x8 →" in status_text(explorer["out"])
    changed_by(img, lambda: explorer["input"].select_option("numbers 8x8"))
    assert_status_matches(explorer, "max")
    assert not explorer["lesson"].problems()


def test_pool_size_latency(explorer):
    """Arrow key on the pool-size slider -> new picture on screen, 20 changes (no limit)."""
    page, control = explorer["page"], explorer["pool_size"]
    set_slider(explorer["lesson"], control, 1, explorer["picture"])
    samples = time_changes(page, explorer["out"], explorer["picture"],
                           lambda i: press_slider(control, "ArrowLeft" if i % 2 else "ArrowRight"))
    assert slider_value(control) == "1"
    report(f"{explorer['stem']} PoolingExplorer", "pool size slider, arrow key", samples)
    screenshot_element(explorer["out"], screenshot_path(f"{explorer['stem']}-pooling-explorer"))
    assert not explorer["lesson"].problems()
