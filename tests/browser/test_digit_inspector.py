"""The digit inspector (DigitInspector), in each lesson that shows one, used as a learner uses it.

The digit the page shows is checked pixel by pixel against the MNIST test
image of the index on the slider (decoded from the PNG the <img> holds), the
status line's label against MNIST's, and the probability bars against the
prediction the status line names.
"""

import io
import re
from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, image_bytes, screenshot_element
from PIL import Image
from widgetdrive import (button, changed_by, menu, press_slider, report, settle, slider,
                         slider_value, status_text, time_slider_keys)

from cnnlab import data

LESSONS = lessons_using("widgets.DigitInspector(")
DIGIT_SCALE = 6                   # each MNIST pixel is drawn as 6x6


@pytest.fixture(scope="module")
def mnist_test():
    (_, _), (images, labels) = data.load_mnist((1, None))
    return images, labels                                          # (10000, 28, 28), (10000,)


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def inspector(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.DigitInspector(", "digit-inspector")
    out.scroll_into_view_if_needed()
    return {
        "lesson": lesson, "page": lesson.page, "out": out,
        "index": slider(out, "test digit"), "layer": menu(out, "layer"),
        "digit": out.locator(".widget-vbox:has(> .widget-html b:text-is('digit')) img").first,
        "maps": out.locator(".widget-vbox:has(> .widget-html b:text-is('feature maps')) img").first,
        "chart": out.locator(".widget-html-content:has(svg)"),
        "stem": Path(request.param).stem,
    }


def shown_status(ex) -> dict:
    text = status_text(ex["out"])
    found = re.match(r"test digit (\d+): label (\d), predicted (\d) \(([\d.]+) %\), (right|WRONG)"
                     r" · layer (\w+): (?:(\d+) maps of (\d+)x(\d+)|(\d+) values)", text)
    assert found, text
    return {"index": int(found[1]), "label": int(found[2]), "predicted": int(found[3]),
            "percent": float(found[4]), "verdict": found[5], "layer": found[6],
            "maps": int(found[7] or 1), "map_side": int(found[8] or 0), "text": text}


def assert_shows_the_test_digit(ex, mnist_test) -> None:
    images, labels = mnist_test
    index = int(slider_value(ex["index"]))
    status = shown_status(ex)
    assert status["index"] == index
    assert status["label"] == labels[index]
    png = Image.open(io.BytesIO(image_bytes(ex["digit"])))
    pixels = np.asarray(png.convert("L"), dtype=float)             # (168, 168)
    assert pixels.shape == (28 * DIGIT_SCALE, 28 * DIGIT_SCALE)
    np.testing.assert_allclose(pixels[::DIGIT_SCALE, ::DIGIT_SCALE], images[index], atol=1)
    heights = np.array([float(h) for h in ex["chart"].locator("rect.p").evaluate_all(
        "els => els.map(e => e.getAttribute('height'))")])         # (10,)
    assert heights.shape == (10,)
    np.testing.assert_allclose(heights.sum(), 110, atol=0.5)      # probabilities sum to 1
    assert int(np.argmax(heights)) == status["predicted"]
    np.testing.assert_allclose(100 * heights.max() / 110, status["percent"], atol=0.15)
    assert (status["verdict"] == "right") == (status["predicted"] == status["label"])
    assert status["layer"] == ex["layer"].input_value()
    assert tile_count(ex["maps"]) == status["maps"]


def tile_count(img) -> int:
    """How many maps the one maps picture shows: opaque blocks between transparent gaps."""
    with Image.open(io.BytesIO(image_bytes(img))) as im:
        opaque = np.asarray(im.convert("RGBA"))[..., 3] > 0                # (H, W)

    def runs(filled):
        edges = np.diff(np.concatenate([[0], filled.astype(int), [0]]))
        return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))

    return sum(bool(opaque[r0:r1, c0:c1].any())
               for r0, r1 in runs(opaque.any(axis=1)) for c0, c1 in runs(opaque.any(axis=0)))


def test_slider_keys_show_the_next_digit(inspector, mnist_test):
    img = inspector["digit"]
    eventually(lambda: assert_shows_the_test_digit(inspector, mnist_test))
    start = int(slider_value(inspector["index"]))
    key = "ArrowRight" if start < 9990 else "ArrowLeft"
    changed_by(img, lambda: press_slider(inspector["index"], key))
    assert abs(int(slider_value(inspector["index"])) - start) == 1
    settle(inspector["lesson"])
    eventually(lambda: assert_shows_the_test_digit(inspector, mnist_test))


@pytest.mark.parametrize("layer", ["C1", "S4", "C5", "F6", "C3"])
def test_layer_menu_redraws_the_maps(inspector, mnist_test, layer):
    if inspector["layer"].input_value() != layer:
        changed_by(inspector["maps"], lambda: inspector["layer"].select_option(layer))
    settle(inspector["lesson"])

    def drawn():
        status = shown_status(inspector)
        assert status["layer"] == layer
        assert status["maps"] == {"C1": 6, "S4": 16, "C5": 1, "F6": 1, "C3": 16}[layer]
        assert tile_count(inspector["maps"]) == status["maps"]

    eventually(drawn)
    assert_shows_the_test_digit(inspector, mnist_test)


def test_next_mistake_button(inspector, mnist_test):
    before = int(slider_value(inspector["index"]))
    changed_by(inspector["digit"], button(inspector["out"], "next mistake").click)
    settle(inspector["lesson"])
    eventually(lambda: assert_shows_the_test_digit(inspector, mnist_test))
    status = shown_status(inspector)
    assert status["verdict"] == "WRONG" and status["index"] != before
    assert not inspector["lesson"].problems()


def test_digit_slider_latency(inspector):
    """Arrow key on the digit slider -> new digit on screen, 20 changes (no limit)."""
    control = inspector["index"]
    samples = time_slider_keys(inspector["page"], inspector["out"], inspector["digit"], control,
                               left_first=int(slider_value(control)) >= 9990)
    report(f"{inspector['stem']} DigitInspector", "test-digit slider, arrow key", samples)
    screenshot_element(inspector["out"], screenshot_path(f"{inspector['stem']}-digit-inspector"))
    assert not inspector["lesson"].problems()
