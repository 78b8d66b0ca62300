"""The padding and stride explorer (PaddingStrideExplorer), in each lesson that shows one.

Used as a learner uses it: sliders moved with the arrow keys, the padding
menu, a typed stride, the play button. The output size the page writes (the
formula and the status line) is checked against the textbook formula
``floor((n + 2p - k_eff) / s) + 1`` (``ceil(n / s)`` for "same"), worked out here.
"""

import math
import re
from pathlib import Path

import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, image_digest, screenshot_element, type_number
from widgetdrive import (changed_by, menu, number_box, press_slider, report, set_slider, settle,
                         slider, slider_value, status_text, time_changes, time_play_steps)

LESSONS = lessons_using("widgets.PaddingStrideExplorer(")
N_PLAY_STEPS = 8


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def explorer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.PaddingStrideExplorer(", "padding-stride")
    out.scroll_into_view_if_needed()
    ex = {
        "lesson": lesson, "page": lesson.page, "out": out,
        "picture": out.locator(".widget-vbox:has(> .cnnlab-status) > img.widget-image"),
        "formula": out.locator(".widget-vbox:has(> .cnnlab-status) > .widget-html .widget-html-content"),
        "n": slider(out, "input n"), "k": slider(out, "kernel k"), "step": slider(out, "step"),
        "padding": menu(out, "padding"), "stride": number_box(out, "stride"),
        "dilation": number_box(out, "dilation"),
        "stem": Path(request.param).stem,
    }
    start_from(ex, n=7, k=3)
    return ex


def output_side(n: int, k: int, padding: str, stride: int, dilation: int = 1) -> int:
    """The textbook output size along one axis."""
    k_eff = (k - 1) * dilation + 1
    if padding == "same":
        return math.ceil(n / stride)
    p = {"valid": 0, "full": k_eff - 1}[padding]
    return (n + 2 * p - k_eff) // stride + 1


def shown_settings(ex) -> tuple[int, int, str, int, int]:
    return (int(slider_value(ex["n"])), int(slider_value(ex["k"])), ex["padding"].input_value(),
            int(ex["stride"].input_value()), int(ex["dilation"].input_value()))


def assert_sizes_match(ex) -> None:
    n, k, padding, stride, dilation = shown_settings(ex)
    out = output_side(n, k, padding, stride, dilation)
    assert f"output {out}x{out}" in ex["formula"].inner_text()
    status = status_text(ex["out"])
    assert status.startswith(f"{n}x{n} input, {k}x{k} kernel → {out}x{out} output: "
                             f"{out * out} step"), status


def start_from(ex, n: int, k: int) -> None:
    """valid, stride 1, dilation 1, n x n input, k x k kernel (whatever the lesson chose)."""
    page, img, lesson = ex["page"], ex["picture"], ex["lesson"]
    if ex["padding"].input_value() != "valid":
        changed_by(img, lambda: ex["padding"].select_option("valid"))
    for name in ("stride", "dilation"):
        if ex[name].input_value() != "1":
            changed_by(img, lambda: type_number(page, ex[name], 1))
    set_slider(lesson, ex["n"], n, img)
    set_slider(lesson, ex["k"], k, img)
    settle(lesson)
    eventually(lambda: assert_sizes_match(ex))


def test_slider_keys_redraw_the_picture(explorer):
    img = explorer["picture"]
    before = image_digest(img)
    changed_by(img, lambda: press_slider(explorer["n"], "ArrowRight"))
    assert slider_value(explorer["n"]) == "8"
    assert image_digest(img) != before
    eventually(lambda: assert_sizes_match(explorer))
    changed_by(img, lambda: press_slider(explorer["k"], "ArrowRight", 2))
    assert slider_value(explorer["k"]) == "5"
    settle(explorer["lesson"])
    eventually(lambda: assert_sizes_match(explorer))


@pytest.mark.parametrize("padding", ["same", "full", "valid"])
def test_padding_menu(explorer, padding):
    img = explorer["picture"]
    if explorer["padding"].input_value() != padding:
        changed_by(img, lambda: explorer["padding"].select_option(padding))
    eventually(lambda: assert_sizes_match(explorer))
    formula = explorer["formula"].inner_text()
    assert {"same": '"same": out = ⌈n / s⌉', "full": '"full": p = k − 1',
            "valid": '"valid": p = 0'}[padding] in formula


def test_typed_stride_and_dilation(explorer):
    page, img = explorer["page"], explorer["picture"]
    start_from(explorer, n=7, k=3)                                 # dilation 2: a 5x5 reach
    changed_by(img, lambda: type_number(page, explorer["stride"], 2))
    eventually(lambda: assert_sizes_match(explorer))
    changed_by(img, lambda: type_number(page, explorer["dilation"], 2))
    eventually(lambda: assert_sizes_match(explorer))
    assert "dilated kernel" in explorer["formula"].inner_text()
    type_number(page, explorer["stride"], 0)                       # impossible: the picture stays

    def explained():
        assert re.search("Refused|Impossible", status_text(explorer["out"]))

    eventually(explained)
    for name in ("stride", "dilation"):
        changed_by(img, lambda: type_number(page, explorer[name], 1))
    eventually(lambda: assert_sizes_match(explorer))
    assert not explorer["lesson"].problems()


def test_input_slider_latency(explorer):
    """Arrow key on the input-n slider -> new picture on screen, 20 changes (no limit)."""
    start_from(explorer, n=7, k=3)
    samples = time_changes(explorer["page"], explorer["out"], explorer["picture"],
                           lambda i: press_slider(explorer["n"],
                                                  "ArrowLeft" if i % 2 else "ArrowRight"))
    assert slider_value(explorer["n"]) == "7"
    report(f"{explorer['stem']} PaddingStrideExplorer", "input n slider, arrow key", samples)
    screenshot_element(explorer["out"], screenshot_path(f"{explorer['stem']}-padding-stride"))


def test_play_step_latency(explorer):
    """Play pressed -> the next step on screen (then paused), over 8 steps (no limit)."""
    start_from(explorer, n=7, k=3)                                 # 25 steps
    first = int(slider_value(explorer["step"]))
    samples = time_play_steps(explorer["lesson"], explorer["out"], explorer["picture"],
                              N_PLAY_STEPS)
    assert int(slider_value(explorer["step"])) >= first + N_PLAY_STEPS
    report(f"{explorer['stem']} PaddingStrideExplorer", "play, one step", samples)
    stop = explorer["out"].locator(".widget-play button").nth(1)
    changed_by(explorer["picture"], stop.click)                    # stop: back to step 0
    assert slider_value(explorer["step"]) == "0"
    assert not explorer["lesson"].problems()
