"""The student versions hide every solution, and grading is fair and sturdy.

One course folder is built per test session (every lesson), then a few
submissions are autograded: the first lesson's teacher and untouched student
versions, and a small made-up assignment with hostile answers (raising,
printing megabytes, looping forever). Running whole lessons is what costs
time, so only the first lesson is graded in full.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="teachers' tools: make .venv/.teacher")

from cnnlab.tools import assignments, grading_steps, sandbox  # noqa: E402

from helpers import ROOT  # noqa: E402
LESSONS = assignments.find_lessons(ROOT / "notebooks")
# the lesson graded in full (running a whole lesson is what costs time)
FIRST = "01_convolution_1d" if "01_convolution_1d" in LESSONS else next(iter(LESSONS))
DRILL = "99_drill"  # the made-up assignment
LESSON_TIMEOUT = 300  # seconds per cell for real lessons
LOOP_TIMEOUT = 4  # seconds per cell when a submission loops forever
# without bubblewrap (tests/grading/install_bubblewrap.sh) grading runs unsandboxed here;
# tests/test_grading_class.py then skips its isolation checks
UNSANDBOXED = bool(sandbox.sandbox_status())


def code(source, **nbgrader):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "locked": not nbgrader.get("solution"),
                                     "solution": False, "grade": False, **nbgrader}
    return cell


def answer(name, body):
    return code(f"def {name}(x):\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION",
                grade_id=f"ex-{name}", solution=True, locked=False)


def graded_cell(name, source, points=1):
    return code(source, grade_id=f"ex-{name}-test", grade=True, points=points)


def drill_notebook():
    """Four tiny exercises; the first test cell has a hidden test."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Drill"),
        code("import math"),
        answer("double", "return 2 * x"),
        graded_cell("double", "assert double(2) == 4\n### BEGIN HIDDEN TESTS\n"
                            "assert double(-3) == -6\n### END HIDDEN TESTS"),
        answer("triple", "return 3 * x"),
        graded_cell("triple", "assert triple(2) == 6"),
        answer("halve", "return x / 2"),
        graded_cell("halve", "assert halve(4) == 2"),
        answer("negate", "return -x"),
        graded_cell("negate", "assert negate(1) == -1"),
    ]
    return nb


def student_answers(release: Path, answers: dict) -> nbformat.NotebookNode:
    """The release notebook with some solution cells replaced, as a learner would."""
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def save(nb, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


BUILD_ERRORS = {}  # lesson -> why it could not be built


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Every lesson built once (each on its own, so one broken lesson spares the others)."""
    root = tmp_path_factory.mktemp("assignments")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for path in LESSONS.values():
        (notebooks / path.name).symlink_to(path)
    save(drill_notebook(), notebooks / f"{DRILL}.ipynb")
    course = root / "course"
    for lesson in [DRILL, *LESSONS]:
        try:
            assignments.build(course, notebooks, [lesson], timeout=LESSON_TIMEOUT, log=lambda *a: None)
        except assignments.AssignmentError as exc:
            BUILD_ERRORS[lesson] = str(exc)
    shutil.copy(course / "gradebook.db", root / "empty_gradebook.db")
    return course


def built(course, lesson) -> Path:
    """The course folder, or a skip when this lesson did not build (its own test fails)."""
    if lesson in BUILD_ERRORS:
        pytest.skip(f"{lesson} did not build")
    return course


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """The course after grading: teacher, untouched, sly (hidden test) and hostile submissions."""
    for lesson in (FIRST, DRILL):
        built(course, lesson)
    subs = tmp_path_factory.mktemp("submissions")
    for lesson in (FIRST, DRILL):
        source = course / "source" / lesson / f"{lesson}.ipynb"
        save(nbformat.read(source, as_version=4), subs / "teacher" / lesson / f"{lesson}.ipynb")
        release = course / "release" / lesson / f"{lesson}.ipynb"
        flat = subs / "untouched" / f"{lesson}.ipynb"  # the other accepted layout
        save(nbformat.read(release, as_version=4), flat)
    release = course / "release" / DRILL / f"{DRILL}.ipynb"
    sly = student_answers(release, {"ex-double": "def double(x):\n    return abs(2 * x)",
                                    "ex-triple": "def triple(x):\n    return 3 * x",
                                    "ex-halve": "def halve(x):\n    return x / 2",
                                    "ex-negate": "def negate(x):\n    return -x"})
    save(sly, subs / "sly" / DRILL / f"{DRILL}.ipynb")
    assignments.grade(subs, course, timeout=LESSON_TIMEOUT, unsandboxed=UNSANDBOXED,
                      log=lambda *a: None)

    hostile = student_answers(release, {
        "ex-double": "def double(x):\n    raise ValueError('not today')",
        "ex-triple": "print('x' * 3_000_000)\ndef triple(x):\n    return 3 * x",
        "ex-halve": "while True:\n    pass",
        "ex-negate": "def negate(x):\n    return -x",
    })
    late = tmp_path_factory.mktemp("late")
    save(hostile, late / "hostile" / DRILL / f"{DRILL}.ipynb")
    assignments.grade(late, course, timeout=LOOP_TIMEOUT, unsandboxed=UNSANDBOXED,
                      log=lambda *a: None)
    return course


def scores(course, student, lesson) -> dict:
    return {r["exercise"]: (r["score"], r["max_score"]) for r in assignments.grade_rows(course)
            if r["student"] == student and r["lesson"] == lesson}


def cells(path: Path):
    return json.loads(path.read_text())["cells"]


def text(cell) -> str:
    return "".join(cell["source"])


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def blocks(source: str, begin: str, end: str) -> list[str]:
    return re.findall(rf"### {begin}\n(.*?)### {end}", source, flags=re.S)


def hidden_lines(source_cells, begin, end) -> set[str]:
    """Lines inside the marked blocks that appear nowhere else in the teacher's notebook."""
    inside, outside = set(), set()
    for cell in source_cells:
        src = text(cell)
        for block in blocks(src, begin, end):
            inside |= {line.strip() for line in block.splitlines() if line.strip()}
        rest = re.sub(rf"### {begin}\n.*?### {end}", "", src, flags=re.S)
        outside |= {line.strip() for line in rest.splitlines()}
    return inside - outside


ALL = [*LESSONS, DRILL]


# --------------------------------------------------------------------------
# The student versions
# --------------------------------------------------------------------------

@pytest.mark.parametrize("lesson", ALL)
def test_every_lesson_gets_a_student_version(course, lesson):
    assert lesson not in BUILD_ERRORS, BUILD_ERRORS.get(lesson)
    assert (course / "release" / lesson / f"{lesson}.ipynb").is_file()


@pytest.mark.parametrize("lesson", ALL)
def test_student_version_contains_no_solution_code(course, lesson):
    course = built(course, lesson)
    source = cells(course / "source" / lesson / f"{lesson}.ipynb")
    release = course / "release" / lesson / f"{lesson}.ipynb"
    secret = hidden_lines(source, "BEGIN SOLUTION", "END SOLUTION")
    assert secret, "every lesson has solution code"
    released = "\n".join(text(c) for c in cells(release))
    assert "BEGIN SOLUTION" not in released
    leaked = {line for line in secret if line in {x.strip() for x in released.splitlines()}}
    assert not leaked, f"{lesson}: solution lines in the student version: {sorted(leaked)}"


@pytest.mark.parametrize("lesson", ALL)
def test_student_version_contains_no_hidden_tests(course, lesson):
    course = built(course, lesson)
    source = cells(course / "source" / lesson / f"{lesson}.ipynb")
    released = "\n".join(text(c) for c in cells(course / "release" / lesson / f"{lesson}.ipynb"))
    secret = hidden_lines(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    assert "HIDDEN TESTS" not in released
    assert not {line for line in secret if line in released}
    if lesson == DRILL:
        assert secret == {"assert double(-3) == -6"}


@pytest.mark.parametrize("lesson", ALL)
def test_every_exercise_shows_the_stub_and_keeps_its_locked_tests(course, lesson):
    course = built(course, lesson)
    source = cells(course / "source" / lesson / f"{lesson}.ipynb")
    release = cells(course / "release" / lesson / f"{lesson}.ipynb")
    assert [nbgrader_meta(c).get("grade_id") for c in release] == \
           [nbgrader_meta(c).get("grade_id") for c in source]
    for before, after in zip(source, release):
        meta = nbgrader_meta(after)
        if meta.get("solution"):
            stub = f'raise NotImplementedError("Exercise {meta["grade_id"]}: replace this line'
            assert stub in text(after)
        if meta.get("grade"):
            assert meta["locked"] and meta["checksum"]
            visible = re.sub(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", "", text(before),
                             flags=re.S)
            assert text(after).strip() == visible.strip()
        assert all(not c.get("outputs") for c in release if c["cell_type"] == "code")


def test_config_sets_the_timeout_and_the_stub(course):
    config = assignments.load_config(course)
    assert config.Execute.timeout == LESSON_TIMEOUT
    assert "NotImplementedError" in config.ClearSolutions.code_stub["python"]
    assert assignments.load_config(course, timeout=7).Execute.timeout == 7


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------

@pytest.mark.parametrize("lesson", [FIRST, DRILL])
def test_teacher_version_scores_full_marks(graded, lesson):
    got = scores(graded, "teacher", lesson)
    assert got and all(score == top > 0 for score, top in got.values()), got


@pytest.mark.parametrize("lesson", [FIRST, DRILL])
def test_untouched_student_version_scores_zero_on_every_graded_cell(graded, lesson):
    got = scores(graded, "untouched", lesson)
    source = cells(graded / "source" / lesson / f"{lesson}.ipynb")
    graded_cells = [nbgrader_meta(c)["grade_id"] for c in source if nbgrader_meta(c).get("grade")]
    assert sorted(got) == sorted(graded_cells)
    assert all(score == 0 for score, _ in got.values()), got


def test_student_version_runs_without_error_up_to_the_first_exercise(graded):
    notebook = graded / "autograded" / "untouched" / FIRST / f"{FIRST}.ipynb"
    before = []
    for cell in cells(notebook):
        if nbgrader_meta(cell):
            break
        if cell["cell_type"] == "code":
            before.append(cell)
    assert before and all(c["execution_count"] for c in before)
    errors = [o for c in before for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, [(e["ename"], e["evalue"]) for e in errors]


def test_hidden_tests_are_graded(graded):
    got = scores(graded, "sly", DRILL)
    assert got["ex-double-test"] == (0, 1)  # passes the visible test only
    assert all(got[f"ex-{n}-test"] == (1, 1) for n in ("triple", "halve", "negate"))


def test_raising_printing_and_looping_forever_cost_only_their_own_cells(graded):
    got = scores(graded, "hostile", DRILL)
    assert got == {"ex-double-test": (0, 1), "ex-triple-test": (1, 1),
                   "ex-halve-test": (0, 1), "ex-negate-test": (1, 1)}
    notebook = graded / "autograded" / "hostile" / DRILL / f"{DRILL}.ipynb"
    loop = next(c for c in cells(notebook) if nbgrader_meta(c).get("grade_id") == "ex-halve")
    assert any(o["output_type"] == "error" for o in loop["outputs"])
    assert notebook.stat().st_size < 200_000, "the megabytes of output were clipped"


def test_grades_csv_has_one_row_per_student_lesson_and_graded_cell(graded):
    with (graded / "grades.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"student", "lesson", "exercise", "score", "max_score", "status", "review"}
    keys = [(r["student"], r["lesson"], r["exercise"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["student"] for r in rows} == {"teacher", "untouched", "sly", "hostile"}
    first = [r["exercise"] for r in rows if r["student"] == "teacher" and r["lesson"] == FIRST]
    source = cells(graded / "source" / FIRST / f"{FIRST}.ipynb")
    assert first == [nbgrader_meta(c)["grade_id"] for c in source if nbgrader_meta(c).get("grade")]


def test_feedback_pages_are_written(graded):
    page = graded / "feedback" / "hostile" / DRILL / f"{DRILL}.html"
    assert page.is_file() and "not today" in page.read_text()
    assert (graded / "feedback" / "teacher" / FIRST / f"{FIRST}.html").is_file()


# --------------------------------------------------------------------------
# Validation (nbgrader's Validator; the command line's exit code cannot be trusted)
# --------------------------------------------------------------------------

def test_validate_accepts_a_good_lesson(course):
    assignments.validate_lesson(course, DRILL, assignments.load_config(course, timeout=60))


@pytest.mark.parametrize("change, message", [
    ("assert True", "student version already passes"),
    ("assert double(2) == 5", "teacher's version fails"),
])
def test_validate_refuses_a_broken_lesson(course, tmp_path, change, message):
    nb = drill_notebook()
    nb.cells[3].source = change
    save(nb, tmp_path / "notebooks" / "98_broken.ipynb")
    (tmp_path / "course").mkdir()
    # an existing gradebook spares nbgrader's slow set-up of a new one
    shutil.copy(course.parent / "empty_gradebook.db", tmp_path / "course" / "gradebook.db")
    with pytest.raises(assignments.AssignmentError, match=message):
        assignments.build(tmp_path / "course", tmp_path / "notebooks", timeout=60, validate=True,
                          log=lambda *a: None)


# --------------------------------------------------------------------------
# Arguments and layouts
# --------------------------------------------------------------------------

def test_lessons_are_named_by_name_or_number():
    known = {"01_convolution_1d": None, "02_convolution_2d": None}
    assert assignments.pick_lessons(known, ["2", "01_convolution_1d"]) == ["02_convolution_2d",
                                                                          "01_convolution_1d"]
    with pytest.raises(assignments.AssignmentError, match="no lesson '7'; the lessons with exercises"):
        assignments.pick_lessons(known, ["7"])


def test_submissions_in_a_wrong_place_are_explained(tmp_path):
    (tmp_path / "ana" / "01_convolution_1d").mkdir(parents=True)
    (tmp_path / "ana" / "01_convolution_1d" / "my_work.ipynb").write_text("{}")
    (tmp_path / "ana" / "lesson1.ipynb").write_text("{}")
    (tmp_path / "bo" / "01_convolution_1d.ipynb").parent.mkdir()
    (tmp_path / "bo" / "01_convolution_1d.ipynb").write_text("{}")
    (tmp_path / "bo" / "notes.txt").write_text("ignored")
    found = assignments.find_submissions(tmp_path, ["01_convolution_1d"])
    assert [(s.student, s.lesson, s.notebook is None) for s in found] == [
        ("ana", "01_convolution_1d", True), ("ana", "lesson1", True),
        ("bo", "01_convolution_1d", False)]
    assert "should hold 01_convolution_1d.ipynb (found: my_work.ipynb)" in found[0].problem
    assert "'lesson1.ipynb' is not a lesson of this course" in found[1].problem
    assert found[2].problem == ""


def test_empty_or_missing_submissions_folder(tmp_path):
    with pytest.raises(assignments.AssignmentError, match="no submissions in"):
        assignments.find_submissions(tmp_path, ["01_convolution_1d"])
    with pytest.raises(assignments.AssignmentError, match="no submissions folder"):
        assignments.find_submissions(tmp_path / "nowhere", ["01_convolution_1d"])


def test_command_line_reports_errors_without_a_traceback(course, tmp_path, capsys):
    assert assignments.main(["grade", "", "--course", str(tmp_path)]) == 1
    assert "make grade SUBMISSIONS=folder" in capsys.readouterr().err
    assert assignments.main(["build", "42", "--course", str(tmp_path / "c")]) == 1
    assert "no lesson '42'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        assignments.main(["grade", str(tmp_path), "--timeout", "0"])
    assert "a whole number of seconds" in capsys.readouterr().err
    assert assignments.main(["grade", str(tmp_path / "none"), "--course", str(course)]) == 1
    assert "no submissions folder" in capsys.readouterr().err


def test_clip_output_keeps_errors_and_cuts_long_text():
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 50_000),
                    nbformat.v4.new_output("error", ename="ValueError", evalue="no", traceback=[])]
    clip = grading_steps.ClipOutput(max_chars=100)
    cell, _ = clip.preprocess_cell(cell, {}, 0)
    assert len(cell.outputs[0].text) < 200 and "49900 more characters cut" in cell.outputs[0].text
    assert cell.outputs[1].ename == "ValueError"


def test_teacher_lock_adds_pinned_packages_without_touching_the_course_lock():
    def pins(name):
        lines = [line.split("#")[0].split(";")[0].strip()
                 for line in (ROOT / name).read_text().splitlines()]
        return dict(line.split("==") for line in lines if line)
    teacher, course = pins("requirements-teacher.lock"), pins("requirements.lock")
    assert teacher["nbgrader"].startswith("0.9.")
    low = {k.lower().replace("_", "-") for k in course}
    assert not {k.lower().replace("_", "-") for k in teacher} & low


def test_markers_outside_their_cells_are_named(tmp_path):
    nb = drill_notebook()
    nb.cells[0].source = "Answers go between `### BEGIN SOLUTION` and `### END SOLUTION`."
    save(nb, tmp_path / "98_prose.ipynb")
    with pytest.raises(assignments.AssignmentError,
                       match=r"cell 0 \(markdown, .*\) contains 'BEGIN SOLUTION' but is not a solution"):
        assignments.check_markers(tmp_path / "98_prose.ipynb")
