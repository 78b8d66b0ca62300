"""The classifier explorer (ClassifierExplorer), in each lesson that shows one, used as a learner
uses it.

The digit the page shows is checked pixel by pixel against the MNIST test
image of the index on the slider, the status line's label against MNIST's,
and the probability bars (read from the SVG the <img> holds) against the
prediction the status line names.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, image_bytes, screenshot_element
from widgetdrive import (changed_by, is_pressed, press_slider, report, settle, shown_levels,
                         slider, slider_value, status_text, time_slider_keys, toggle)

from cnnlab import data

LESSONS = lessons_using("widgets.ClassifierExplorer(")
BAR_HEIGHT = 120                  # probability_svg: a probability of 1 is 120 px


@pytest.fixture(scope="module")
def mnist_test():
    (_, _), (images, labels) = data.load_mnist((1, 1000))
    return images, labels                                          # (1000, 28, 28), (1000,)


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def explorer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.ClassifierExplorer(", "classifier-explorer")
    out.scroll_into_view_if_needed()
    return {
        "lesson": lesson, "page": lesson.page, "out": out,
        "index": slider(out, "test digit"),
        "digit": picture(out, "digit (black = 0, white = 1)"),
        "chart": picture(out, "class probabilities"),
        "conv1": out.locator(".widget-vbox:has(> .widget-html b:text-is("
                             "'conv1 feature maps (after ReLU)')) > .widget-vbox").first,
        "stem": Path(request.param).stem,
    }


def picture(out, title: str):
    return out.locator(f".widget-vbox:has(> .widget-html b:text-is({title!r})) img").first


def shown_bars(chart) -> np.ndarray:
    svg = image_bytes(chart).decode()
    heights = [float(h) for h in re.findall(r'<rect class="p"[^>]* height="([\d.]+)"', svg)]
    return np.array(heights) / BAR_HEIGHT                           # (10,)


def shown_status(ex) -> dict:
    text = status_text(ex["out"])
    found = re.match(r"test digit (\d+): label (\d), predicted (\d) \(([\d.]+) %\), (right|WRONG)"
                     r" · maps (first|strongest): \[([\d, ]+)\]", text)
    assert found, text
    return {"index": int(found[1]), "label": int(found[2]), "predicted": int(found[3]),
            "percent": float(found[4]), "verdict": found[5], "order": found[6],
            "conv1_maps": [int(v) for v in found[7].split(",")]}


def assert_shows_the_test_digit(ex, mnist_test) -> None:
    images, labels = mnist_test
    index = int(slider_value(ex["index"]))
    status = shown_status(ex)
    assert status["index"] == index
    assert status["label"] == labels[index]
    np.testing.assert_allclose(shown_levels(ex["digit"], "gray", rows=28), images[index], atol=1)
    p = shown_bars(ex["chart"])
    assert p.shape == (10,)
    np.testing.assert_allclose(p.sum(), 1, atol=0.01)
    assert int(np.argmax(p)) == status["predicted"]
    np.testing.assert_allclose(100 * p.max(), status["percent"], atol=0.15)
    assert (status["verdict"] == "right") == (status["predicted"] == status["label"])
    titles = [int(t.split()[-1])
              for t in ex["conv1"].locator(".cnnlab-map-titles small").all_inner_texts()]
    assert titles[:4] == status["conv1_maps"]


def test_slider_keys_show_the_next_digit(explorer, mnist_test):
    eventually(lambda: assert_shows_the_test_digit(explorer, mnist_test))
    start = int(slider_value(explorer["index"]))
    key = "ArrowRight" if start < 999 else "ArrowLeft"
    changed_by(explorer["digit"], lambda: press_slider(explorer["index"], key, 3))
    settle(explorer["lesson"])
    assert abs(int(slider_value(explorer["index"])) - start) == 3
    eventually(lambda: assert_shows_the_test_digit(explorer, mnist_test))


@pytest.mark.parametrize("order", ["strongest", "first"])
def test_map_order_buttons(explorer, mnist_test, order):
    button = toggle(explorer["out"], order, ":has(button:text-is('strongest'))")
    if not is_pressed(button):
        changed_by(explorer["conv1"], button.click)
        settle(explorer["lesson"])
    eventually(lambda: assert_shows_the_test_digit(explorer, mnist_test))
    if order == "first":
        assert shown_status(explorer)["conv1_maps"] == [0, 1, 2, 3]
    assert not explorer["lesson"].problems()


def test_digit_slider_latency(explorer):
    """Arrow key on the digit slider -> new digit on screen, 20 changes (no limit)."""
    control = explorer["index"]
    samples = time_slider_keys(explorer["page"], explorer["out"], explorer["digit"], control,
                               left_first=int(slider_value(control)) == 999)
    report(f"{explorer['stem']} ClassifierExplorer", "test-digit slider, arrow key", samples)
    screenshot_element(explorer["out"], screenshot_path(f"{explorer['stem']}-classifier-explorer"))
    assert not explorer["lesson"].problems()
