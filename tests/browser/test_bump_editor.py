"""The bump editor (BumpEditor), in each lesson that shows one, used as a learner uses it.

The values the chart writes under its bars are checked against numpy's
correlation of the input and the weights the page shows.
"""

from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, record_latency, screenshot_path
from labpage import (eventually, latency_samples, screenshot_element, type_number, wait_for_sample,
                     watch_latency)

from cnnlab import filters

LESSONS = lessons_using("widgets.BumpEditor(")
N_CHANGES = 20


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def editor(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.BumpEditor(", "bump-editor")
    out.scroll_into_view_if_needed()
    return {
        "lesson": lesson,
        "page": lesson.page,
        "out": out,
        "toggles": out.locator("button.widget-toggle-button"),
        "weights": out.locator(".widget-text:has(label:text-matches('^w[0-9]$')) input"),
        "preset": out.locator(".widget-dropdown:has(label:text-is('preset')) select"),
        "chart": out.locator(".widget-html-content:has(svg)"),
        "stem": Path(request.param).stem,
    }


def shown_state(ed):
    """(input, weights, feature map) as the page shows them."""
    x = [float(t) for t in ed["toggles"].all_inner_texts()]
    k = [float(v) for v in ed["weights"].evaluate_all("els => els.map(e => e.value)")]
    y = [float(t) for t in ed["chart"].locator("text.y").all_text_contents()]
    return np.array(x), np.array(k), np.array(y)


def assert_chart_is_the_correlation(ed):
    x, k, y = shown_state(ed)
    np.testing.assert_allclose(y, np.correlate(x, k, mode="valid"), rtol=5e-3, atol=1e-9)


def wait_for_chart_change(ed, old_html: str) -> None:
    ed["page"].wait_for_function("([el, old]) => el.innerHTML !== old",
                                 arg=[ed["chart"].element_handle(), old_html])


def test_typed_weight_redraws_the_chart(editor):
    assert editor["weights"].count() == 3
    old = editor["chart"].inner_html()
    type_number(editor["page"], editor["weights"].nth(0), 2)
    wait_for_chart_change(editor, old)
    assert editor["weights"].nth(0).input_value() == "2"
    assert editor["preset"].input_value() == "custom"
    assert_chart_is_the_correlation(editor)


def test_toggled_input_redraws_the_chart(editor):
    first = editor["toggles"].nth(0)
    before = first.inner_text()
    old = editor["chart"].inner_html()
    first.click()
    wait_for_chart_change(editor, old)
    assert first.inner_text() == {"0": "1", "1": "0"}[before]
    assert_chart_is_the_correlation(editor)


@pytest.mark.parametrize("name", ["rising_edge", "average", "bump"])
def test_preset_fills_every_weight_box(editor, name):
    editor["preset"].select_option(name)
    want = filters.PRESETS_1D[name]
    editor["page"].wait_for_function(
        "([els, want]) => els.every((e, i) => Math.abs(Number(e.value) - want[i]) < 1e-9)",
        arg=[editor["weights"].element_handles(), want.tolist()])
    eventually(lambda: assert_chart_is_the_correlation(editor))


def test_chart_latency(editor):
    """Enter in a weight box -> new chart on screen, over 20 changes (no limit)."""
    page = editor["page"]
    watch_latency(editor["out"], editor["chart"])
    for i in range(N_CHANGES):
        type_number(page, editor["weights"].nth(1), round(1.5 + 0.5 * i, 2))
        wait_for_sample(page, i + 1)
    assert_chart_is_the_correlation(editor)
    summary = record_latency(f"{editor['stem']} BumpEditor: weight typed, Enter",
                             latency_samples(page))
    print(f"\nBumpEditor, Enter -> new chart shown, {N_CHANGES} changes: "
          f"median {summary['shown']['median_ms']} ms, p95 {summary['shown']['p95_ms']} ms")
    screenshot_element(editor["out"], screenshot_path(f"{editor['stem']}-bump-editor"))
    assert not editor["lesson"].problems()
