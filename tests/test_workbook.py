"""The learner's copies of the lessons (make lab): every exercise unsolved, the lesson still runnable."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cnnlab.tools import workbook

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def code_of(cell) -> str:
    return "".join(cell["source"])


def test_a_solution_block_becomes_a_stub_naming_the_exercise_at_its_indentation():
    teacher = ("def my_conv(x, k):\n    x = np.asarray(x)\n    ### BEGIN SOLUTION\n"
               "    out = x * 2\n    return out\n    ### END SOLUTION\n")
    student = workbook.student_source(teacher, "ex01-conv")
    assert student == ("def my_conv(x, k):\n    x = np.asarray(x)\n    # YOUR CODE HERE\n"
                       '    raise NotImplementedError("Exercise ex01-conv: replace this line '
                       'with your code")\n')
    ast.parse(student)
    two = teacher + "\n" + teacher.replace("my_conv", "other")
    assert workbook.student_source(two, "e").count("NotImplementedError") == 2


def test_hidden_tests_are_removed():
    cell = ("checks.check_x(f)\n### BEGIN HIDDEN TESTS\nassert f(1) == 2\n"
            "### END HIDDEN TESTS\nprint('ok')\n")
    assert workbook.without_hidden_tests(cell) == "checks.check_x(f)\nprint('ok')"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_a_student_version_with_nothing_answered(path):
    teacher = json.loads(path.read_text(encoding="utf-8"))
    student = workbook.student_notebook(teacher)
    assert len(student["cells"]) == len(teacher["cells"])
    for before, after in zip(teacher["cells"], student["cells"]):
        meta = before["metadata"].get("nbgrader", {})
        text = code_of(after)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        if after["cell_type"] == "code":
            ast.parse("\n".join(line for line in text.splitlines()
                                if not line.lstrip().startswith(("%", "!"))))
        if meta.get("solution") and after["cell_type"] == "code":
            assert workbook.code_stub(meta["grade_id"]) in text
            assert after["outputs"] == []
        elif meta.get("solution"):
            assert text == workbook.TEXT_STUB
        elif meta.get("grade"):
            assert after["outputs"] == []
        else:
            assert after == before                                   # the rest untouched
    assert "BEGIN SOLUTION" in path.read_text(encoding="utf-8") or not any(
        c["metadata"].get("nbgrader", {}).get("solution") for c in teacher["cells"])


def test_a_learners_copy_is_never_overwritten(tmp_path, capsys):
    lessons = tmp_path / "notebooks"
    lessons.mkdir()
    for path in LESSONS[:2]:
        (lessons / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (lessons / "glossary.md").write_text("# Glossary\n", encoding="utf-8")
    lab = tmp_path / "lab"
    written = workbook.write_workbook(lab, lessons)
    assert [p.name for p in written] == [p.name for p in LESSONS[:2]]
    assert (lab / "glossary.md").exists()
    mine = lab / LESSONS[1].name
    mine.write_text('{"my": "work"}', encoding="utf-8")
    assert workbook.write_workbook(lab, lessons) == []
    assert mine.read_text(encoding="utf-8") == '{"my": "work"}'
    assert "0 new, 2 kept" in capsys.readouterr().out


# The student version runs top to bottom: only the graded test cells fail (with the
# exercise's NotImplementedError or the checker's message), every other cell runs, the later
# cells on the course's own versions. Three lessons whose later cells use an answer, in fast
# mode (every lesson: `make assignments VALIDATE=1`).
RUN_AS_STUDENT = ["05", "06", "07"]      # (the others: make assignments VALIDATE=1)


@pytest.mark.parametrize("number", RUN_AS_STUDENT)
def test_a_student_version_runs_with_only_its_test_cells_failing(number, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    path = next(p for p in LESSONS if p.name.startswith(number))
    nb = nbformat.reads(json.dumps(workbook.student_notebook(json.loads(path.read_text("utf-8")))),
                        as_version=4)
    monkeypatch.setenv("CNNLAB_FAST", "1")
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    failed, graded = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            graded.append(i)
        if errors:
            failed.append(i)
            assert meta.get("grade"), (f"cell {i} of the student version of {path.name} failed: "
                                       f"{errors[0].ename}: {errors[0].evalue}")
            assert errors[0].ename in ("NotImplementedError", "CheckFailed"), errors[0].ename
    assert failed == graded, "every graded test cell must fail while its exercise is a stub"
