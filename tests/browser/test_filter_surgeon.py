"""The filter surgeon (FilterSurgeon), in each lesson that shows one, used as a learner uses it.

The weight boxes are checked against the trained weights they showed before
(negated: every sign flipped; zeroed: all 0; reset: as before), the edited
filter's picture against the trained one's (negating a filter mirrors its
colours about white on the diverging map, which is centred on 0), and a
zeroed filter's C1 map must be black (0 everywhere, on a range from 0).
"""

import re
from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, screenshot_element, type_number
from widgetdrive import (ENTER, button, changed_by, menu, number_box, report, settle,
                         shown_levels, status_text, time_changes)

LESSONS = lessons_using("widgets.FilterSurgeon(")
SIDE = 5                          # C1: 5x5 filters


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def surgeon(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.FilterSurgeon(", "filter-surgeon")
    out.scroll_into_view_if_needed()
    ex = {
        "lesson": lesson, "page": lesson.page, "out": out,
        "boxes": out.locator(".widget-gridbox input[type=number]"),
        "bias": number_box(out, "bias"), "preset": menu(out, "filter is"),
        "filter_row": out.locator(".widget-toggle-buttons:has(label:text-is('C1 filter'))"),
        "edited": picture(out, "edited"), "trained": picture(out, "trained"),
        "c1_maps": out.locator(".widget-hbox:has(> .widget-html b:text-is('C1')) img"),
        "stem": Path(request.param).stem,
    }
    button(out, "reset all").click()                   # whatever the lesson's cells did
    settle(lesson)
    return ex


def c1_map_levels(ex, i: int) -> np.ndarray:
    """Grey levels of C1 map ``i`` (28, 28): the C1 picture holds the 6 maps side by side,
    3 pixels a value, one value's width apart."""
    levels = shown_levels(ex["c1_maps"], "gray", scale=3)               # (28, 6 * 29 - 1)
    return levels[:, i * 29:i * 29 + 28]


def picture(out, title: str):
    return out.locator(f".widget-vbox:has(> .widget-html b:text-is({title!r})) img").first


def shown_weights(ex) -> np.ndarray:
    values = ex["boxes"].evaluate_all("els => els.map(e => Number(e.value))")
    return np.array(values).reshape(SIDE, SIDE)                     # (5, 5)


def colour_range(ex) -> float:
    """The filter pictures' fixed range ±m, as their colour bar writes it ("+0.512")."""
    top = ex["out"].locator("span").filter(has_text=re.compile(r"^\+\d")).first.inner_text()
    return float(top)


def chosen_filter(ex) -> int:
    return int(ex["filter_row"].locator("button.mod-active").inner_text())


def test_negate_flips_every_sign(surgeon):
    out, edited = surgeon["out"], surgeon["edited"]
    trained = shown_weights(surgeon)
    bias = float(surgeon["bias"].input_value())
    assert np.abs(trained).max() > 0
    np.testing.assert_allclose(shown_levels(edited, "RdBu_r", rows=SIDE),
                               shown_levels(surgeon["trained"], "RdBu_r", rows=SIDE), atol=0)
    changed_by(edited, button(out, "negate").click)
    settle(surgeon["lesson"])
    i = chosen_filter(surgeon)
    eventually(lambda: np.testing.assert_allclose(shown_weights(surgeon), -trained, atol=1e-6))
    np.testing.assert_allclose(float(surgeon["bias"].input_value()), -bias, atol=1e-6)
    assert status_text(out).startswith(f"C1 filter {i} negated")
    mirrored = shown_levels(edited, "RdBu_r", rows=SIDE) + shown_levels(
        surgeon["trained"], "RdBu_r", rows=SIDE)
    np.testing.assert_allclose(mirrored, 255, atol=1)


def test_zero_blanks_the_map_and_reset_brings_it_back(surgeon):
    out, edited = surgeon["out"], surgeon["edited"]
    changed_by(edited, button(out, "reset all").click)
    settle(surgeon["lesson"])
    trained = shown_weights(surgeon)
    i = chosen_filter(surgeon)
    changed_by(edited, button(out, "zero").click)
    settle(surgeon["lesson"])
    eventually(lambda: np.testing.assert_array_equal(shown_weights(surgeon), 0))
    assert float(surgeon["bias"].input_value()) == 0
    assert status_text(out).startswith(f"C1 filter {i} zeroed")
    assert (c1_map_levels(surgeon, i) == 0).all()                       # black: 0 everywhere
    changed_by(edited, button(out, "reset all").click)
    settle(surgeon["lesson"])
    eventually(lambda: np.testing.assert_allclose(shown_weights(surgeon), trained, atol=1e-6))
    assert status_text(out).startswith("All C1 filters back as trained")


def test_filter_buttons_and_typed_weight(surgeon):
    page, out, edited = surgeon["page"], surgeon["out"], surgeon["edited"]
    i = chosen_filter(surgeon)
    other = (i + 1) % 6
    changed_by(edited, surgeon["filter_row"].locator("button").nth(other).click)
    settle(surgeon["lesson"])
    assert chosen_filter(surgeon) == other
    assert status_text(out).startswith(f"Showing C1 filter {other}")
    changed_by(edited, lambda: type_number(page, surgeon["boxes"].nth(12), 0.75))
    settle(surgeon["lesson"])
    assert shown_weights(surgeon)[2, 2] == 0.75
    assert surgeon["preset"].input_value() == "custom"
    assert status_text(out).startswith(f"C1 filter {other} edited by hand")
    changed_by(edited, button(out, "reset all").click)
    settle(surgeon["lesson"])
    assert not surgeon["lesson"].problems()


def test_typed_weight_latency(surgeon):
    """Enter in a weight box -> new filter picture on screen, 20 changes (no limit)."""
    page, box = surgeon["page"], surgeon["boxes"].nth(12)
    m = colour_range(surgeon)                        # within ±m: a new colour at every change
    values = (round(m / 2, 4), round(-m / 2, 4))
    samples = time_changes(page, surgeon["out"], surgeon["edited"],
                           lambda i: type_number(page, box, values[i % 2]), starts=ENTER)
    report(f"{surgeon['stem']} FilterSurgeon", "weight typed, Enter", samples)
    screenshot_element(surgeon["out"], screenshot_path(f"{surgeon['stem']}-filter-surgeon"))
    changed_by(surgeon["edited"], button(surgeon["out"], "reset all").click)
    settle(surgeon["lesson"])
    assert not surgeon["lesson"].problems()
