"""The drawing pad (DrawingPad) in JupyterLab, drawn on with the mouse as a learner does.

A notebook of its own (written into the server's copy of the lessons) shows
the pad; the test draws a "1" (a vertical stroke) and a "0" (an ellipse)
with pointer events, checks the class the chart and the status line show,
and times stroke end (pointerup) -> new prediction on screen.
"""

from __future__ import annotations

import json
import math

import pytest
from course import record_latency, screenshot_path
from labpage import close, eventually, open_and_run, screenshot_element
from playwright.sync_api import TimeoutError as PlaywrightTimeout

NOTEBOOK = "drawing_pad_check.ipynb"
CELLS = [
    "import cnnlab\ncnnlab.setup(keras=True)\nfrom cnnlab.widgets.drawing_pad import DrawingPad",
    "pad = DrawingPad()\npad",
]
STEP_MS = 8                    # between two pointer moves: a stroke of ~40 moves takes ~1/3 s

# Time, in the page, from the pointerup that ends stroke n to the chart showing
# data-strokes = n (the DOM changed: `update`) and to the next painted frame (`shown`).
_WATCH_JS = """(canvas, chart) => {
  const watch = {ended: {}, samples: []};
  canvas.addEventListener('pointerup', () => {
    watch.ended[Object.keys(watch.ended).length + 1] = performance.now();
  }, true);
  const seen = new Set();
  new MutationObserver(() => {
    const svg = chart.querySelector('svg');
    const n = svg && svg.dataset.strokes;
    if (!n || seen.has(n) || !(n in watch.ended)) return;
    seen.add(n);
    const update = performance.now() - watch.ended[n];
    requestAnimationFrame(() => setTimeout(() => {
      watch.samples.push({stroke: Number(n), predicted: svg.dataset.predicted, update,
                          shown: performance.now() - watch.ended[n]});
    }, 0));
  }).observe(chart, {childList: true, subtree: true, attributes: true, characterData: true});
  window.__padWatch = watch;
}"""


def notebook_json() -> str:
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": source} for source in CELLS]
    return json.dumps({"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="module")
def pad(lab, browser):
    (lab.root / NOTEBOOK).write_text(notebook_json(), encoding="utf-8")
    page = browser.new_page()
    page.set_default_timeout(30_000)
    lesson = open_and_run(page, lab, NOTEBOOK)
    try:
        out = lesson.cell_output("DrawingPad()", "drawing-pad")
        canvas = out.locator("canvas.cnnlab-drawing-pad")
        canvas.wait_for()
        canvas.scroll_into_view_if_needed()
        chart = out.locator(".widget-html-content:has(svg[data-predicted])")
        canvas.evaluate(_WATCH_JS, chart.element_handle())
        yield {"lesson": lesson, "page": page, "out": out, "canvas": canvas, "chart": chart,
               "clear": out.locator("button.cnnlab-clear"), "strokes": 0}
    finally:
        close(lesson)


def stroke(pad, points) -> None:
    """One stroke through ``points`` (fractions of the canvas), button down to button up."""
    page, box = pad["page"], pad["canvas"].bounding_box()
    where = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*where[0])
    page.mouse.down()
    for x, y in where[1:]:
        page.mouse.move(x, y)
        page.wait_for_timeout(STEP_MS)
    page.mouse.up()
    pad["strokes"] += 1


def shown_prediction(pad) -> str:
    """The class the chart shows once it has read the last stroke ('' for none)."""
    svg = pad["chart"].locator("svg")
    try:
        pad["page"].wait_for_function(   # the chart's content is replaced: ask for the svg anew
            "([el, n]) => { const svg = el.querySelector('svg');"
            " return svg !== null && svg.dataset.strokes === String(n); }",
            arg=[pad["chart"].element_handle(), pad["strokes"]], timeout=15_000)
    except PlaywrightTimeout:
        raise AssertionError(f"stroke {pad['strokes']} was not read within 15 s: the chart shows "
                             f"stroke {svg.get_attribute('data-strokes')!r}; status: "
                             f"{status_text(pad)!r}") from None
    return svg.get_attribute("data-predicted")


def status_text(pad) -> str:
    return pad["out"].locator(".widget-label").last.inner_text()


def clear(pad) -> None:
    pad["clear"].click()
    pad["page"].wait_for_function(
        "el => { const svg = el.querySelector('svg');"
        " return svg !== null && svg.dataset.predicted === ''; }",
        arg=pad["chart"].element_handle(), timeout=15_000)
    eventually(lambda: _assert_in("draw a digit", status_text(pad)))


def _assert_in(needle: str, text: str) -> None:
    assert needle in text, text


def vertical_one():
    return [(0.5, 0.15 + 0.7 * i / 40) for i in range(41)]


def ellipse_zero():
    turn = [2 * math.pi * i / 48 for i in range(50)]          # a little more than once round
    return [(0.5 + 0.22 * math.sin(t), 0.5 - 0.34 * math.cos(t)) for t in turn]


def test_pad_is_shown_blank(pad):
    assert pad["canvas"].evaluate("c => [c.width, c.height]") == [280, 280]
    assert "draw a digit" in status_text(pad)
    assert pad["chart"].locator("svg").get_attribute("data-predicted") == ""
    assert not pad["lesson"].problems()


def test_drawn_one_and_zero_are_predicted(pad):
    stroke(pad, vertical_one())
    assert shown_prediction(pad) == "1"
    eventually(lambda: _assert_in("predicted 1 ", status_text(pad)))
    assert "predicted 1:" in pad["chart"].inner_text()
    screenshot_element(pad["out"], screenshot_path("drawing-pad-one"))
    clear(pad)
    stroke(pad, ellipse_zero())
    assert shown_prediction(pad) == "0"
    eventually(lambda: _assert_in("predicted 0 ", status_text(pad)))
    screenshot_element(pad["out"], screenshot_path("drawing-pad-zero"))
    assert not pad["lesson"].problems()


def test_stroke_end_to_prediction_latency(pad):
    """pointerup -> the chart shows the new prediction, over 10 strokes (no limit)."""
    for i in range(10):
        clear(pad)
        stroke(pad, vertical_one() if i % 2 == 0 else ellipse_zero())
        assert shown_prediction(pad) == ("1" if i % 2 == 0 else "0")
    page = pad["page"]
    page.wait_for_function("n => window.__padWatch.samples.length >= n", arg=pad["strokes"])
    samples = page.evaluate("window.__padWatch.samples")
    summary = record_latency("DrawingPad stroke end -> prediction",
                             {stage: [s[stage] for s in samples] for stage in ("update", "shown")})
    print(f"\nDrawingPad, pointerup -> prediction shown, {len(samples)} strokes: "
          f"median {summary['shown']['median_ms']} ms, p95 {summary['shown']['p95_ms']} ms")
    assert not pad["lesson"].problems()
