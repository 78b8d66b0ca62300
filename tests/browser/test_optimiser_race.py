"""The optimiser race (OptimiserRace), in each lesson that shows one, used as a learner uses it.

Used as a learner uses it: the step slider moved with the arrow keys, the
play button, the surface buttons and the learning-rate menu. The status line
must name the step on the slider and the steps of the race, and give a loss
for each of the four optimisers; every setting must redraw the picture.
"""

import re
from pathlib import Path

import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, image_digest, screenshot_element
from widgetdrive import (changed_by, is_pressed, menu, press_slider, report, set_slider, settle,
                         slider, slider_max, slider_value, status_text, time_slider_keys,
                         time_play_steps, toggle)

LESSONS = lessons_using("widgets.OptimiserRace(")
OPTIMISERS = ("SGD", "momentum", "RMSProp", "Adam")
N_PLAY_STEPS = 8


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def race(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.OptimiserRace(", "optimiser-race")
    out.scroll_into_view_if_needed()
    return {
        "lesson": lesson, "page": lesson.page, "out": out,
        "lr": menu(out, "lr"), "steps": slider(out, "steps"), "step": slider(out, "step"),
        "picture": out.locator("img.widget-image").first,
        "stem": Path(request.param).stem,
    }


def assert_status_matches(ex) -> dict:
    text = status_text(ex["out"])
    found = re.match(r"step (\d+) of (\d+), loss: (.*?)\.(?: |$)", text)
    assert found, text
    assert int(found[1]) == int(slider_value(ex["step"]))
    assert int(found[2]) == int(slider_value(ex["steps"])) == slider_max(ex["step"])
    losses = dict(part.rsplit(" ", 1) for part in found[3].split(", "))
    assert tuple(losses) == OPTIMISERS
    return {name: float(value) for name, value in losses.items()}


def test_step_keys_move_along_the_race(race):
    lesson, img, step = race["lesson"], race["picture"], race["step"]
    set_slider(lesson, step, 0, img)
    eventually(lambda: assert_status_matches(race))
    start = assert_status_matches(race)
    assert len(set(start.values())) == 1                            # the same start point
    before = image_digest(img)
    changed_by(img, lambda: press_slider(step, "ArrowRight", 3))
    settle(lesson)
    assert slider_value(step) == "3"
    assert image_digest(img) != before
    eventually(lambda: assert_status_matches(race))


def test_surface_buttons_and_learning_rate(race):
    lesson, img, out = race["lesson"], race["picture"], race["out"]
    first = toggle(out, "banana", ":has(button:text-is('banana'))")
    for name in ("banana", "saddle", "valley"):
        button = toggle(out, name, ":has(button:text-is('banana'))")
        if not is_pressed(button):
            changed_by(img, button.click)
            settle(lesson)
        assert is_pressed(button) and (name == "banana" or not is_pressed(first))
        eventually(lambda: assert_status_matches(race))
    options = race["lr"].locator("option").all_inner_texts()
    now = race["lr"].locator("option:checked").inner_text()
    other = options[(options.index(now) + 1) % len(options)]
    changed_by(img, lambda: race["lr"].select_option(label=other))
    settle(lesson)
    eventually(lambda: assert_status_matches(race))
    assert not race["lesson"].problems()


def test_step_slider_latency(race):
    """Arrow key on the step slider -> new picture on screen, 20 changes (no limit)."""
    lesson, control, img = race["lesson"], race["step"], race["picture"]
    set_slider(lesson, control, 1, img)
    samples = time_slider_keys(race["page"], race["out"], img, control)
    report(f"{race['stem']} OptimiserRace", "step slider, arrow key", samples)
    screenshot_element(race["out"], screenshot_path(f"{race['stem']}-optimiser-race"))


def test_play_step_latency(race):
    """Play pressed -> the next step on screen (then paused), over 8 steps (no limit)."""
    lesson = race["lesson"]
    set_slider(lesson, race["step"], 0, race["picture"])
    samples = time_play_steps(lesson, race["out"], race["picture"], N_PLAY_STEPS)
    assert int(slider_value(race["step"])) >= N_PLAY_STEPS
    eventually(lambda: assert_status_matches(race))
    report(f"{race['stem']} OptimiserRace", "play, one step", samples)
    assert not race["lesson"].problems()
