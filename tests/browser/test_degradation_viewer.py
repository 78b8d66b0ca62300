"""The degradation viewer (DegradationViewer), in each lesson that shows one, used as a learner
uses it.

The final test accuracies the status line gives are checked against the
shipped record, ``data/weights/degradation.json``, read here with ``json``:
one seed's last epoch, or the mean over the seeds.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from course import REPO, lessons_using, screenshot_path
from labpage import eventually, image_digest, screenshot_element
from widgetdrive import (CLICKS, button, changed_by, is_pressed, menu, report, settle,
                         status_text, time_changes, toggle)

LESSONS = lessons_using("widgets.DegradationViewer(")
RECORD = REPO / "data" / "weights" / "degradation.json"


@pytest.fixture(scope="module")
def record():
    return json.loads(RECORD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def viewer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.DegradationViewer(", "degradation-viewer")
    out.scroll_into_view_if_needed()
    return {
        "lesson": lesson, "page": lesson.page, "out": out,
        "shortcuts": button(out, "shortcuts"), "curve": menu(out, "curve"),
        "picture": out.locator("img.widget-image").first,
        "stem": Path(request.param).stem,
    }


def pressed_in(out, label: str) -> str:
    row = out.locator(f".widget-toggle-buttons:has(label:text-is({label!r}))")
    return row.locator("button.mod-active").inner_text().strip()


def click_in(ex, label: str, text: str) -> None:
    """Press the button ``text`` of the row ``label`` (if it is not pressed already)."""
    control = toggle(ex["out"], text, f":has(label:text-is({label!r}))")
    if not is_pressed(control):
        changed_by(ex["picture"], control.click)
        settle(ex["lesson"])


def final_accuracy(record, name: str, seed: str) -> float:
    runs = record["runs"][name]
    if seed == "mean":
        return float(np.mean([r["test_accuracy"] for r in runs], axis=0)[-1])
    return float(runs[record["settings"]["seeds"].index(int(seed))]["test_accuracy"][-1])


def assert_status_matches_the_record(ex, record) -> None:
    depth, seed = pressed_in(ex["out"], "depth"), pressed_in(ex["out"], "seed")
    kind, twin = ("resnet", "plain") if is_pressed(ex["shortcuts"]) else ("plain", "resnet")
    text = status_text(ex["out"])
    found = re.match(r"(\w+)-(\d+): ([\d.]+) % vs (\w+)-(\d+): ([\d.]+) % test accuracy after "
                     r"(\d+) epochs", text)
    assert found, text
    assert (found[1], found[2], found[4], found[5]) == (kind, depth, twin, depth)
    np.testing.assert_allclose(float(found[3]), 100 * final_accuracy(record, kind + depth, seed),
                               atol=0.051)
    np.testing.assert_allclose(float(found[6]), 100 * final_accuracy(record, twin + depth, seed),
                               atol=0.051)
    assert int(found[7]) == record["settings"]["epochs"]


def test_shortcuts_button_swaps_the_networks(viewer, record):
    eventually(lambda: assert_status_matches_the_record(viewer, record))
    for _ in range(2):
        was = is_pressed(viewer["shortcuts"])
        before = image_digest(viewer["picture"])
        changed_by(viewer["picture"], viewer["shortcuts"].click)
        settle(viewer["lesson"])
        assert is_pressed(viewer["shortcuts"]) != was
        assert image_digest(viewer["picture"]) != before
        eventually(lambda: assert_status_matches_the_record(viewer, record))


def test_depth_seed_and_curve(viewer, record):
    depths = [str(d) for d in record["settings"]["depths"]]
    seeds = [str(s) for s in record["settings"]["seeds"]] + ["mean"]
    for depth in depths:
        click_in(viewer, "depth", depth)
        for seed in seeds:
            click_in(viewer, "seed", seed)
            eventually(lambda: assert_status_matches_the_record(viewer, record))
    for curve in ("test accuracy", "test loss", "training loss"):
        if viewer["curve"].input_value() != curve:
            changed_by(viewer["picture"], lambda: viewer["curve"].select_option(curve))
            settle(viewer["lesson"])
    assert not viewer["lesson"].problems()


def test_shortcuts_latency(viewer):
    """Click on "shortcuts" -> new picture on screen, 20 clicks (no limit)."""
    was = is_pressed(viewer["shortcuts"])
    samples = time_changes(viewer["page"], viewer["out"], viewer["picture"],
                           lambda i: viewer["shortcuts"].click(), starts=CLICKS)
    assert is_pressed(viewer["shortcuts"]) == was                  # 20 clicks: as it was
    report(f"{viewer['stem']} DegradationViewer", "shortcuts button clicked", samples)
    screenshot_element(viewer["out"], screenshot_path(f"{viewer['stem']}-degradation-viewer"))
    assert not viewer["lesson"].problems()
