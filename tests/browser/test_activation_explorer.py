"""The activation explorer (ActivationExplorer), in each lesson that shows one, used as a learner
uses it.

On the "ramp -4 to 4" input the activated map the page shows (decoded from
the PNG the <img> holds) is checked against numpy's ``f(ramp + bias)``
coloured on the fixed -7..7 "RdBu_r" scale, and the status line's share of
dead units against numpy's count.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, image_digest, screenshot_element
from widgetdrive import (changed_by, colour_levels, is_pressed, menu, press_slider, report,
                         set_slider, settle, shown_levels, slider, slider_value, status_text,
                         time_changes, toggle)

LESSONS = lessons_using("widgets.ActivationExplorer(")
RAMP = "ramp -4 to 4"
VALUE_RANGE = 7.0                  # both maps: RdBu_r from -7 to 7, always
BIAS_STEP = 0.25
FUNCTIONS = {
    "ReLU": lambda z, a: np.maximum(z, 0),
    "leaky ReLU": lambda z, a: np.where(z > 0, z, a * z),
    "tanh": lambda z, a: np.tanh(z),
    "sigmoid": lambda z, a: 1 / (1 + np.exp(-z)),
}


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def explorer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.ActivationExplorer(", "activation-explorer")
    out.scroll_into_view_if_needed()
    ex = {
        "lesson": lesson, "page": lesson.page, "out": out,
        "input": menu(out, "input"), "bias": slider(out, "bias"), "slope": slider(out, "slope α"),
        "activated": picture(out, "activated f(x + bias)"),
        "curve": picture(out, "activation curve"),
        "stem": Path(request.param).stem,
    }
    if ex["input"].input_value() != RAMP:
        changed_by(ex["activated"], lambda: ex["input"].select_option(RAMP))
    choose(ex, "ReLU")
    set_slider(lesson, ex["bias"], 0.0, ex["activated"], step=BIAS_STEP)
    return ex


def picture(out, title: str):
    return out.locator(f".widget-vbox:has(> .widget-html b:text-is({title!r})) img").first


def choose(ex, name: str) -> None:
    button = toggle(ex["out"], name, ":has(button:text-is('ReLU'))")
    if not is_pressed(button):
        changed_by(ex["activated"], button.click)
        settle(ex["lesson"])


def ramp() -> np.ndarray:
    return np.tile(np.linspace(-4.0, 4.0, 28), (28, 1))            # (28, 28)


def assert_activated_map_is(ex, name: str) -> None:
    bias, slope = float(slider_value(ex["bias"])), float(slider_value(ex["slope"]))
    y = FUNCTIONS[name](ramp() + bias, slope)                      # (28, 28)
    levels = shown_levels(ex["activated"], "RdBu_r", rows=28)     # (28, 28)
    np.testing.assert_allclose(levels, colour_levels(y, -VALUE_RANGE, VALUE_RANGE), atol=1)
    dead = y == 0 if name == "ReLU" else np.abs(y) < 1e-3
    found = re.search(r"dead units: ([\d.]+)% of (\d+)", status_text(ex["out"]))
    assert found, status_text(ex["out"])
    assert int(found[2]) == y.size
    np.testing.assert_allclose(float(found[1]), 100 * dead.mean(), atol=0.05)
    assert status_text(ex["out"]).startswith(f"{name}, bias {bias:g}")


def test_bias_keys_shift_the_map(explorer):
    img = explorer["activated"]
    before = image_digest(img)
    changed_by(img, lambda: press_slider(explorer["bias"], "ArrowRight", 4))
    settle(explorer["lesson"])
    assert slider_value(explorer["bias"]) == "1.00"
    assert image_digest(img) != before
    eventually(lambda: assert_activated_map_is(explorer, "ReLU"))


@pytest.mark.parametrize("name", ["tanh", "leaky ReLU", "sigmoid", "ReLU"])
def test_activation_buttons(explorer, name):
    old_curve = explorer["curve"].get_attribute("src")
    choose(explorer, name)
    assert explorer["curve"].get_attribute("src") != old_curve
    eventually(lambda: assert_activated_map_is(explorer, name))
    slope_off = explorer["slope"].locator("[disabled], .noUi-target[disabled]").count() > 0
    assert slope_off == (name != "leaky ReLU")


def test_bias_slider_latency(explorer):
    """Arrow key on the bias slider -> new activated map on screen, 20 changes (no limit)."""
    lesson, control, img = explorer["lesson"], explorer["bias"], explorer["activated"]
    set_slider(lesson, control, 0.0, img, step=BIAS_STEP)
    samples = time_changes(explorer["page"], explorer["out"], img,
                           lambda i: press_slider(control, "ArrowLeft" if i % 2 else "ArrowRight"))
    assert float(slider_value(control)) == 0.0
    report(f"{explorer['stem']} ActivationExplorer", "bias slider, arrow key", samples)
    screenshot_element(explorer["out"], screenshot_path(f"{explorer['stem']}-activation-explorer"))
    assert not explorer["lesson"].problems()
