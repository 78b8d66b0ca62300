"""The kernel editor (KernelEditor), in each lesson that shows one, used as a learner uses it.

The feature map the page shows is checked against scipy's correlation of the
same photo, decoded from the PNG bytes the <img> holds, coloured on the fixed
scale the editor promises (the input's 0..1, or -1..1 diverging when the
kernel has negative weights), never stretched from the map's min to max.
"""

from pathlib import Path

import numpy as np
import pytest
from course import lessons_using, record_latency, screenshot_path
from labpage import (image_digest, latency_samples, screenshot_element, type_number,
                     wait_for_new_src, wait_for_sample, watch_latency)
from scipy import signal
from widgetdrive import button, changed_by, colour_levels, is_pressed, shown_levels, toggle

from cnnlab import data, filters

LESSONS = lessons_using("widgets.KernelEditor(")
N_CHANGES = 20


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def editor(request, open_lesson):
    """The editor's output area in the run lesson, with handles on its parts."""
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.KernelEditor(", "kernel-editor")
    out.scroll_into_view_if_needed()
    use_input_scale(out)
    return {
        "lesson": lesson,
        "page": lesson.page,
        "out": out,
        "boxes": out.locator(".widget-gridbox input[type=number]"),
        "preset": out.locator(".widget-dropdown:has(label:text-is('preset')) select"),
        "input": out.locator(".widget-dropdown:has(label:text-is('input')) select"),
        "size": out.locator(".widget-toggle-buttons button"),
        "feature_map": picture(out, "feature map"),
        "stem": Path(request.param).stem,
    }


def use_input_scale(out) -> None:
    """The feature map on the input's fixed scale, unstretched (the lesson may have changed it)."""
    img = picture(out, "feature map")
    scale = toggle(out, "input", ":has(button:text-is('kernel'))")
    if not is_pressed(scale):
        changed_by(img, scale.click)
    auto = button(out, "auto range")
    if is_pressed(auto):
        changed_by(img, auto.click)


def shown_kernel(boxes) -> np.ndarray:
    values = [float(v) for v in boxes.evaluate_all("els => els.map(e => e.value)")]
    side = int(round(len(values) ** 0.5))
    return np.array(values).reshape(side, side)                    # (K, K)


def picture(out, title: str):
    """The first <img> under the bold ``title`` (the colour bar under it is the second)."""
    return out.locator(f".widget-vbox:has(> .widget-html b:text-is({title!r})) img").first


def expected_png_levels(image: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, str]:
    """Colour index (0-255) of each feature-map pixel as the editor should draw it, and the map.

    The "input" scale: the photo's values are 0..1. A kernel without negative
    weights is drawn in "gray" from 0 (black) to 1 (white), brighter values
    clipped white; one with a negative weight in "RdBu_r" from -1 (blue) to
    1 (red), 0 white. Never the map's own min..max.
    """
    fm = signal.correlate2d(image, k, mode="same", boundary="fill")  # (H, W)
    lo, hi, cmap = (-1.0, 1.0, "RdBu_r") if (k < 0).any() else (0.0, 1.0, "gray")
    return colour_levels(fm, lo, hi), cmap                         # (H, W)


def assert_feature_map_is(img, image: np.ndarray, k: np.ndarray) -> None:
    want, cmap = expected_png_levels(image, k)
    np.testing.assert_allclose(shown_levels(img, cmap), want, atol=1)


def change_weight(ed, index: int, value: float) -> None:
    img = ed["feature_map"]
    old = img.get_attribute("src")
    type_number(ed["page"], ed["boxes"].nth(index), value)
    wait_for_new_src(img, old)


def test_typed_weight_redraws_the_feature_map(editor):
    img, boxes = editor["feature_map"], editor["boxes"]
    assert boxes.count() == 9
    before = image_digest(img)
    change_weight(editor, 4, 3)                                    # the centre weight
    assert image_digest(img) != before
    k = shown_kernel(boxes)
    assert k[1, 1] == 3
    assert editor["preset"].input_value() == "custom"
    assert_feature_map_is(img, data.sample_photo(256), k)


@pytest.mark.parametrize("name", ["box_blur", "laplacian", "sharpen"])
def test_preset_fills_every_weight_box(editor, name):
    img, boxes = editor["feature_map"], editor["boxes"]
    old = img.get_attribute("src")
    editor["preset"].select_option(name)
    want = filters.get(name, 3)
    editor["page"].wait_for_function(
        "([els, want]) => els.every((e, i) => Math.abs(Number(e.value) - want[i]) < 1e-9)",
        arg=[boxes.element_handles(), want.ravel().tolist()])
    wait_for_new_src(img, old)
    np.testing.assert_allclose(shown_kernel(boxes), want, atol=1e-12)
    assert_feature_map_is(img, data.sample_photo(256), want)


def test_size_toggle_and_input_menu(editor):
    page, out = editor["page"], editor["out"]
    editor["size"].filter(has_text="5x5").click()
    page.wait_for_function("el => el.querySelectorAll('.widget-gridbox input').length === 25",
                           arg=out.element_handle())
    editor["size"].filter(has_text="3x3").click()
    page.wait_for_function("el => el.querySelectorAll('.widget-gridbox input').length === 9",
                           arg=out.element_handle())
    source = picture(out, "input")
    old = source.get_attribute("src")
    editor["input"].select_option("lines")
    wait_for_new_src(source, old)
    editor["input"].select_option("photo")
    assert not editor["lesson"].problems()


def test_feature_map_latency(editor):
    """Enter in a weight box -> new feature map on screen, over 20 changes (no limit)."""
    page, boxes = editor["page"], editor["boxes"]
    editor["preset"].select_option("sobel_x")
    watch_latency(editor["out"], editor["feature_map"])
    for i in range(N_CHANGES):
        type_number(page, boxes.nth(4), round(0.5 + 0.25 * i, 2))
        wait_for_sample(page, i + 1)
    summary = record_latency(f"{editor['stem']} KernelEditor: weight typed, Enter",
                             latency_samples(page))
    print(f"\nKernelEditor, Enter -> new feature map shown, {N_CHANGES} changes: "
          f"median {summary['shown']['median_ms']} ms, p95 {summary['shown']['p95_ms']} ms")
    screenshot_element(editor["out"], screenshot_path(f"{editor['stem']}-kernel-editor"))
    assert not editor["lesson"].problems()
