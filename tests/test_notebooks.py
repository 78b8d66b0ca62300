"""Every lesson follows the course skeleton and is stored executed.

nbval (run by `make test`) re-executes the notebooks and compares outputs;
these checks catch what nbval cannot: a notebook saved half-run or out of
order, a missing part of the lesson skeleton, exercises without tests.
"""

from __future__ import annotations

import json
import re

import pytest

from helpers import NOTEBOOKS


def load(path):
    return json.loads(path.read_text())


def source(cell) -> str:
    return "".join(cell["source"])


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and source(c).strip()]


def headings(nb) -> list[str]:
    found = []
    for c in nb["cells"]:
        if c["cell_type"] == "markdown":
            found += re.findall(r"^#+ (.+)$", source(c), flags=re.M)
    return found


def test_lessons_exist():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_executed_in_order_without_errors(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{path.name}: some code cells were never run; run all and save"
    assert counts == sorted(counts), f"{path.name}: cells were run out of order"
    for c in cells:
        for out in c["outputs"]:
            assert out["output_type"] != "error", f"{path.name}: stored error {out.get('ename')}"
            if out["output_type"] == "stream":
                assert out["name"] != "stderr", f"{path.name}: stored stderr output {out['text'][:200]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_follows_the_lesson_skeleton(path):
    nb = load(path)
    heads = headings(nb)
    assert heads[0].startswith("Lesson "), f"{path.name}: first heading should be the lesson title"
    for required in ("Setup", "Summary", "Exercises"):
        assert required in heads, f"{path.name}: no '## {required}' section"
    first = source(nb["cells"][0])
    assert "After this lesson you can" in first, f"{path.name}: the first cell lists the learning goals"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_are_graded(path):
    cells = load(path)["cells"]
    meta = [c.get("metadata", {}).get("nbgrader") for c in cells]
    solutions = [m for m in meta if m and m.get("solution")]
    graded = [m for m in meta if m and m.get("grade")]
    assert 2 <= len(solutions) <= 4, f"{path.name}: {len(solutions)} exercises (want 2-4)"
    assert len(graded) >= len(solutions), f"{path.name}: every exercise needs a graded test cell"
    ids = [m["grade_id"] for m in meta if m]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate nbgrader grade_id"
    for c, m in zip(cells, meta):
        if m and m.get("solution"):
            assert "### BEGIN SOLUTION" in source(c) and "### END SOLUTION" in source(c)
        if m and m.get("grade"):
            assert m.get("points", 0) > 0 and m.get("locked"), f"{path.name}: test cell {m['grade_id']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_most_outputs_are_checked_strictly(path):
    cells = code_cells(load(path))
    ignored = [c for c in cells if "NBVAL_IGNORE_OUTPUT" in source(c)]
    assert len(ignored) <= len(cells) // 4, f"{path.name}: {len(ignored)} of {len(cells)} cells ignore their output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_uses_keras_3_api_and_relative_paths(path):
    text = "\n".join(source(c) for c in code_cells(load(path)))
    assert not re.search(r"input_shape\s*=", text), f"{path.name}: use keras.Input(shape=...)"
    assert not re.search(r"""['"]/(?:[\w.-]+/){2,}""", text), f"{path.name}: absolute path in code"
    # A trailing ';' does not hide a cell's value under nbval (it reads the
    # wrong history entry), so figures would be stored once and shown twice.
    for c in code_cells(load(path)):
        last = source(c).rstrip().splitlines()[-1]
        assert not last.rstrip().endswith(";"), f"{path.name}: assign the result instead of ending with ';': {last}"
