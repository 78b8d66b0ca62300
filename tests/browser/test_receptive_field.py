"""The receptive-field explorer (ReceptiveFieldExplorer), in each lesson that shows one.

Used as a learner uses it: a click on the output grid, the row / col sliders
moved with the arrow keys, the network and layer menus. For VGG-16 the field
the status line gives is checked against the textbook recurrence, worked out
here layer by layer: ``size += (k - 1) * jump``, ``offset -= pad * jump``,
``jump *= stride``; unit ``i`` sees pixels ``i * jump + offset`` to ``+ size - 1``.
"""

import re
from pathlib import Path

import pytest
from course import lessons_using, screenshot_path
from labpage import eventually, screenshot_element
from widgetdrive import (CLICKS, changed_by, menu, press_slider, report, set_slider, settle, slider,
                         slider_max, slider_value, status_text, time_changes, time_slider_keys)

LESSONS = lessons_using("widgets.ReceptiveFieldExplorer(")
GRID_WIDTH = 256                  # the output grid is shown 256 CSS pixels wide


def vgg16_windows():
    """(name, kernel, stride, padding before) of VGG-16's convolutions and poolings."""
    out = []
    for block, convs in enumerate((2, 2, 3, 3, 3), 1):
        out += [(f"block{block}_conv{c}", 3, 1, 1) for c in range(1, convs + 1)]
        out.append((f"block{block}_pool", 2, 2, 0))
    return out


def vgg16_field(layer: str, unit: int) -> tuple[int, int, int, int]:
    """(size, jump, first, last) along one axis for ``unit`` of ``layer``."""
    size, jump, offset = 1, 1, 0
    for name, k, stride, pad in vgg16_windows():
        size += (k - 1) * jump
        offset -= pad * jump
        jump *= stride
        if name == layer:
            first = unit * jump + offset
            return size, jump, first, first + size - 1
    raise LookupError(layer)


@pytest.fixture(scope="module", params=LESSONS, ids=lambda n: Path(n).stem)
def explorer(request, open_lesson):
    lesson = open_lesson(request.param)
    out = lesson.cell_output("widgets.ReceptiveFieldExplorer(", "receptive-field")
    out.scroll_into_view_if_needed()
    ex = {
        "lesson": lesson, "page": lesson.page, "out": out,
        "network": menu(out, "network"), "layer": menu(out, "layer"),
        "row": slider(out, "row"), "col": slider(out, "col"),
        "grid": out.locator("img.cnnlab-click-image"),
        "picture": out.locator("img.widget-image").first,
        "stem": Path(request.param).stem,
    }
    use_vgg(ex, "block5_conv3")
    return ex


def use_vgg(ex, layer: str) -> None:
    if ex["network"].input_value() != "VGG-16":
        changed_by(ex["picture"], lambda: ex["network"].select_option("VGG-16"))
        settle(ex["lesson"])
    if ex["layer"].input_value() != layer:
        changed_by(ex["picture"], lambda: ex["layer"].select_option(layer))
        settle(ex["lesson"])


def shown_field(ex) -> dict:
    text = status_text(ex["out"])
    found = re.match(r"(\w+) unit \((\d+), (\d+)\) of (\d+)x(\d+): field (\d+)x(\d+) px, "
                     r"jump (\d+), rows (-?\d+)\.\.(-?\d+), cols (-?\d+)\.\.(-?\d+)", text)
    assert found, text
    n = [int(v) for v in found.groups()[1:]]
    return {"layer": found[1], "unit": (n[0], n[1]), "side": n[2], "size": (n[4], n[5]),
            "jump": n[6], "rows": (n[7], n[8]), "cols": (n[9], n[10])}


def assert_field_is_right(ex) -> None:
    field = shown_field(ex)
    row, col = int(slider_value(ex["row"])), int(slider_value(ex["col"]))
    assert field["layer"] == ex["layer"].input_value()
    assert field["unit"] == (row, col)
    assert field["side"] == slider_max(ex["row"]) + 1
    size, jump, r0, r1 = vgg16_field(field["layer"], row)
    _, _, c0, c1 = vgg16_field(field["layer"], col)
    assert field["size"] == (size, size) and field["jump"] == jump
    assert field["rows"] == (r0, r1) and field["cols"] == (c0, c1)


def click_cell(ex, row: int, col: int) -> None:
    """Click the middle of cell (row, col) of the output grid."""
    side = int(slider_max(ex["row"])) + 1
    cell = GRID_WIDTH / side
    ex["grid"].click(position={"x": (col + 0.5) * cell, "y": (row + 0.5) * cell})


def test_click_on_the_grid_picks_the_unit(explorer):
    eventually(lambda: assert_field_is_right(explorer))
    row, col = int(slider_value(explorer["row"])), int(slider_value(explorer["col"]))
    target = (2 if row != 2 else 3, 5 if col != 5 else 6)
    changed_by(explorer["picture"], lambda: click_cell(explorer, *target))
    settle(explorer["lesson"])
    assert (int(slider_value(explorer["row"])), int(slider_value(explorer["col"]))) == target
    eventually(lambda: assert_field_is_right(explorer))


def test_slider_keys_and_layer_menu(explorer):
    changed_by(explorer["picture"], lambda: press_slider(explorer["col"], "Home"))
    settle(explorer["lesson"])
    eventually(lambda: assert_field_is_right(explorer))
    assert shown_field(explorer)["cols"][0] < 0                     # the padding
    use_vgg(explorer, "block3_conv1")
    eventually(lambda: assert_field_is_right(explorer))
    changed_by(explorer["picture"], lambda: explorer["network"].select_option("LeNet-5"))
    settle(explorer["lesson"])

    def lenet_default():
        assert shown_field(explorer)["layer"] == "C3"               # the layer LeNet-5 opens on

    eventually(lenet_default)
    assert explorer["layer"].input_value() == "C3"
    use_vgg(explorer, "block5_conv3")
    eventually(lambda: assert_field_is_right(explorer))
    assert not explorer["lesson"].problems()


def test_column_slider_latency(explorer):
    """Arrow key on the col slider -> new input picture on screen, 20 changes (no limit)."""
    lesson, control, img = explorer["lesson"], explorer["col"], explorer["picture"]
    set_slider(lesson, control, 3, img)
    samples = time_slider_keys(explorer["page"], explorer["out"], img, control)
    report(f"{explorer['stem']} ReceptiveFieldExplorer", "col slider, arrow key", samples)
    screenshot_element(explorer["out"], screenshot_path(f"{explorer['stem']}-receptive-field"))


def test_grid_click_latency(explorer):
    """Click on the output grid -> new input picture on screen, 20 clicks (no limit)."""
    samples = time_changes(explorer["page"], explorer["out"], explorer["picture"],
                           lambda i: click_cell(explorer, 4 + i % 2, 4 + i % 2), starts=CLICKS)
    report(f"{explorer['stem']} ReceptiveFieldExplorer", "grid clicked", samples)
    settle(explorer["lesson"])
    eventually(lambda: assert_field_is_right(explorer))
    assert not explorer["lesson"].problems()
