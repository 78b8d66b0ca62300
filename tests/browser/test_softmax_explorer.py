"""The softmax explorer (SoftmaxExplorer), in each lesson that shows one, used as a learner uses it.

The bars the page draws (read from the SVG the <img> holds) are checked
against numpy's ``softmax(z / T)`` of the scores in the boxes and the
temperature on the slider, and the status line's largest probability and
entropy against the same numbers.
"""

import math
import re
from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, image_bytes, screenshot_element, type_number
from widgetdrive import (ENTER, changed_by, press_slider, report, settle, slider, status_text,
                         time_changes)

LESSONS = lessons_using("widgets.SoftmaxExplorer(")
BAR_HEIGHT = 120                  # probability_svg: a probability of 1 is 120 px
LOG_STEP = 0.05                   # the temperature slider moves log10(T) by 0.05


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def explorer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.SoftmaxExplorer(", "softmax-explorer")
    out.scroll_into_view_if_needed()
    ex = {
        "lesson": lesson, "page": lesson.page, "out": out,
        "boxes": out.locator(".widget-text:has(label:text-matches('^z[0-9]$')) input"),
        "temperature": slider(out, "temperature T"),
        "chart": out.locator(".widget-vbox:has(> .widget-html b:text-is('softmax(z / T)')) img"),
        "stem": Path(request.param).stem,
    }
    settle(lesson)
    return ex


def shown_temperature(ex) -> float:
    """T on the slider: its readout (2 decimals) put back on the slider's grid of log10(T)."""
    readout = float(ex["temperature"].locator(".widget-readout").inner_text())
    return 10 ** (round(math.log10(readout) / LOG_STEP) * LOG_STEP)


def shown_state(ex):
    z = shown_scores(ex)
    svg = image_bytes(ex["chart"]).decode()
    heights = [float(h) for h in re.findall(r'<rect class="p"[^>]* height="([\d.]+)"', svg)]
    return z, shown_temperature(ex), np.array(heights) / BAR_HEIGHT, svg


def assert_bars_are_the_softmax(ex) -> None:
    z, t, p, svg = shown_state(ex)
    e = np.exp((z - z.max()) / t)
    want = e / e.sum()                                              # (C,)
    np.testing.assert_allclose(p, want, atol=2e-4)
    status = status_text(ex["out"])
    found = re.search(r"Largest probability ([\d.]+) % \(class (\d+)\); entropy ([\d.]+) bits",
                      status)
    assert found, status
    assert int(found[2]) == int(np.argmax(z))
    np.testing.assert_allclose(float(found[1]), 100 * want.max(), atol=0.051)
    nz = want[want > 0]
    np.testing.assert_allclose(float(found[3]), -(nz * np.log2(nz)).sum(), atol=0.006)
    assert f"T = {float(f'{t:.3g}'):g}" in svg


def shown_scores(ex) -> np.ndarray:
    return np.array([float(v) for v in ex["boxes"].evaluate_all("els => els.map(e => e.value)")])


def rival_values(ex) -> tuple[int, list[float]]:
    """The weakest class, and two scores for it that always move the bars: a tie, and 1 below."""
    z = shown_scores(ex)
    return int(np.argmin(z)), [round(float(z.max()), 4), round(float(z.max()) - 1, 4)]


def test_typed_score_redraws_the_bars(explorer):
    page, boxes, chart = explorer["page"], explorer["boxes"], explorer["chart"]
    assert boxes.count() == 10
    eventually(lambda: assert_bars_are_the_softmax(explorer))
    k, (tie, below) = rival_values(explorer)
    old = boxes.nth(k).input_value()
    changed_by(chart, lambda: type_number(page, boxes.nth(k), tie))
    settle(explorer["lesson"])
    eventually(lambda: assert_bars_are_the_softmax(explorer))
    changed_by(chart, lambda: type_number(page, boxes.nth(k), old))
    settle(explorer["lesson"])


def test_temperature_keys_reshape_the_bars(explorer):
    chart, control = explorer["chart"], explorer["temperature"]
    largest = {}
    for key, t in (("Home", 0.1), ("End", 10)):
        changed_by(chart, lambda: press_slider(control, key))
        settle(explorer["lesson"])
        eventually(lambda: assert_bars_are_the_softmax(explorer))
        assert math.isclose(shown_temperature(explorer), t, rel_tol=1e-6)
        largest[t] = shown_state(explorer)[2].max()
    assert largest[10] < largest[0.1]                              # squeezed towards uniform
    for _ in range(20):                                             # back to T = 1
        changed_by(chart, lambda: press_slider(control, "ArrowLeft"))
    settle(explorer["lesson"])
    eventually(lambda: assert_bars_are_the_softmax(explorer))
    assert math.isclose(shown_temperature(explorer), 1, rel_tol=1e-6)
    assert not explorer["lesson"].problems()


def test_temperature_latency(explorer):
    """Arrow key on the temperature slider -> new bars on screen, 20 changes (no limit)."""
    control = explorer["temperature"]
    samples = time_changes(explorer["page"], explorer["out"], explorer["chart"],
                           lambda i: press_slider(control, "ArrowLeft" if i % 2 else "ArrowRight"))
    settle(explorer["lesson"])
    eventually(lambda: assert_bars_are_the_softmax(explorer))
    report(f"{explorer['stem']} SoftmaxExplorer", "temperature slider, arrow key", samples)
    screenshot_element(explorer["out"], screenshot_path(f"{explorer['stem']}-softmax-explorer"))


def test_typed_score_latency(explorer):
    """Enter in a score box -> new bars on screen, 20 changes (no limit)."""
    page = explorer["page"]
    k, values = rival_values(explorer)
    box = explorer["boxes"].nth(k)
    old = box.input_value()
    samples = time_changes(page, explorer["out"], explorer["chart"],
                           lambda i: type_number(page, box, values[i % 2]), starts=ENTER)
    report(f"{explorer['stem']} SoftmaxExplorer", "score typed, Enter", samples)
    changed_by(explorer["chart"], lambda: type_number(page, box, old))
    settle(explorer["lesson"])
    eventually(lambda: assert_bars_are_the_softmax(explorer))
    assert not explorer["lesson"].problems()
