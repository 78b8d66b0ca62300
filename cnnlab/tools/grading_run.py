"""Grade one submission, keep what happened to it, and write ``grades.csv``.

:func:`grade_one` autogrades one student's notebook with nbgrader (in the
sandbox the course's ``nbgrader_config.py`` sets up) and returns its status:
``"graded"``, ``"graded; the kernel died in ex-... (...)"`` or
``"not graded: <why>"`` (a damaged or renamed file, a notebook nbgrader
refuses). Statuses and review flags are kept in ``grading_status.json`` in
the course folder; :func:`write_grades` puts them beside the gradebook's
scores, so a submission that was not graded never shows a number.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

__all__ = ["AssignmentError", "Submission", "load_config", "nbgrader_step", "quiet_database", "alembic_on_path",
           "find_submissions", "notebook_problem", "grade_one", "load_status", "save_status",
           "grade_rows", "write_grades", "COLUMNS"]

COLUMNS = ["student", "lesson", "exercise", "score", "max_score", "status", "review"]
STATUS_FILE = "grading_status.json"


class AssignmentError(Exception):
    """Something a teacher can fix: a bad argument, a misplaced file, a failed build."""


class Submission(tuple):
    """``(student, lesson, notebook, problem)``: ``notebook`` is None when ``problem`` says why."""

    def __new__(cls, student, lesson, notebook=None, problem=""):
        return super().__new__(cls, (student, lesson, notebook, problem))

    student = property(lambda self: self[0])
    lesson = property(lambda self: self[1])
    notebook = property(lambda self: self[2])
    problem = property(lambda self: self[3])


# --------------------------------------------------------------------------
# nbgrader
# --------------------------------------------------------------------------

def load_config(course, timeout=None):
    """The course's ``nbgrader_config.py``, with ``timeout`` (seconds per cell) if given."""
    from traitlets.config.loader import PyFileConfigLoader

    course = Path(course)
    if not (course / "nbgrader_config.py").is_file():
        raise AssignmentError(f"{course} is not a course folder; build it with `make assignments`")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    return config


def nbgrader_step(step, course, config, db_timeout=None, **ids):
    """Run one nbgrader step in-process; raise AssignmentError with its log on failure.

    ``db_timeout`` (seconds) makes SQLite wait that long for a lock (parallel grading).
    """
    alembic_on_path()
    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    steps = {"generate_assignment": GenerateAssignment, "autograde": Autograde,
             "generate_feedback": GenerateFeedback}
    root = Path(course).resolve()
    extra = {"db_url": f"sqlite:///{root / 'gradebook.db'}?timeout={db_timeout}"} if db_timeout else {}
    coursedir = CourseDirectory(root=str(root), config=config, **extra, **ids)
    app = steps[step](coursedir=coursedir, config=config)
    app.force = True
    with quiet_database():
        result = capture_log(app)
    if not result["success"]:
        text = result.get("log", "") + result.get("error", "")
        lines = [line.strip() for line in text.splitlines()]
        errors = [line for line in lines if re.match(r"(\[ERROR\] |\w+(Error|Exception): )", line)]
        details = list(dict.fromkeys(errors)) or lines[-20:]  # the error lines, each once
        raise AssignmentError(f"nbgrader {step} failed for {ids}:\n" + "\n".join(details))


@contextlib.contextmanager
def quiet_database():
    """Hide SQLAlchemy's warnings about nbgrader's own session handling."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def alembic_on_path():
    """nbgrader runs the `alembic` command from this environment's bin/ folder."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


# --------------------------------------------------------------------------
# Submissions
# --------------------------------------------------------------------------

def find_submissions(folder, lessons) -> list[Submission]:
    """Every submission in ``folder``, graded or to be reported as not graded.

    Accepted: ``<folder>/<student>/<lesson>/<lesson>.ipynb`` (nbgrader's own
    layout) and ``<folder>/<student>/<lesson>.ipynb``. A notebook under
    another name, or for a lesson the course does not have, comes back with
    its ``problem`` set (it gets a "not graded" row).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AssignmentError(f"no submissions folder at {folder}")
    found = []
    for student in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for entry in sorted(p for p in student.iterdir() if not p.name.startswith(".")):
            if entry.is_dir() or entry.suffix == ".ipynb":
                found.append(_submission(student.name, entry, lessons))
    if not found:
        raise AssignmentError(
            f"no submissions in {folder}; expected {folder}/<student>/<lesson>/<lesson>.ipynb")
    return found


def _submission(student, entry: Path, lessons) -> Submission:
    lesson = entry.stem if entry.suffix == ".ipynb" else entry.name
    if lesson not in lessons:
        return Submission(student, lesson, None,
                          f"{entry.name!r} is not a lesson of this course ({', '.join(lessons)}); "
                          f"expected <student>/<lesson>/<lesson>.ipynb")
    notebook = entry if entry.is_file() else entry / f"{lesson}.ipynb"
    if not notebook.is_file():
        others = ", ".join(p.name for p in sorted(entry.glob("*.ipynb"))) or "no notebook"
        return Submission(student, lesson, None,
                          f"{entry.name}/ should hold {lesson}.ipynb (found: {others}); "
                          f"renamed files are not graded")
    return Submission(student, lesson, notebook)


def notebook_problem(path) -> str:
    """Why the file at ``path`` cannot be graded (``""`` when it is a readable notebook)."""
    import nbformat

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"the file cannot be read ({exc.__class__.__name__}: {exc})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"the file is damaged: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        return "the file is not a notebook (no list of cells)"
    try:
        nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises many kinds for odd files
        return f"the file is not a notebook nbformat can read ({exc.__class__.__name__}: {exc})"
    return ""


def grade_one(course, student, lesson, notebook, *, timeout=None, unsandboxed=False,
              db_timeout=None) -> dict:
    """Autograde one submission and write its feedback; return its status and review flags.

    Returns ``{"status": str, "review": [str, ...]}``; the status starts with
    ``"graded"`` or ``"not graded: "``.
    """
    course = Path(course)
    problem = notebook_problem(notebook)
    if problem:
        return {"status": f"not graded: {problem}", "review": []}
    config = load_config(course, timeout)
    if unsandboxed:
        config.SandboxKernelManager.allow_unsandboxed = True
    _copy_submission(course, student, lesson, Path(notebook))
    ids = {"assignment_id": lesson, "student_id": student}
    try:
        nbgrader_step("autograde", course, config, db_timeout, **ids)
        nbgrader_step("generate_feedback", course, config, db_timeout, **ids)
    except AssignmentError as exc:
        reason = "; ".join(line.removeprefix("[ERROR] ") for line in str(exc).splitlines()[1:4])
        return {"status": f"not graded: nbgrader refused it ({reason[:300]})", "review": []}
    return _graded_status(course / "autograded" / student / lesson / f"{lesson}.ipynb")


def _copy_submission(course, student, lesson, notebook: Path):
    target = course / "submitted" / student / lesson
    shutil.rmtree(target, ignore_errors=True)
    if notebook.parent.name == lesson:  # <student>/<lesson>/<lesson>.ipynb
        shutil.copytree(notebook.parent, target)  # with the files next to it
    else:
        target.mkdir(parents=True)
        shutil.copy2(notebook, target / notebook.name)


def _graded_status(autograded: Path) -> dict:
    import nbformat

    from cnnlab.tools.grading_steps import KERNEL_DIED, REVIEW_NOTE

    nb = nbformat.read(autograded, as_version=4)
    status = "graded"
    for cell in nb.cells:
        died = [o for o in cell.get("outputs", []) if o.get("ename") == KERNEL_DIED]
        if died:
            where = cell.metadata.get("nbgrader", {}).get("grade_id") or "a cell"
            why = re.search(r"\((.*?)\)", died[0]["evalue"])
            status = f"graded; the kernel died in {where} ({why.group(1) if why else 'no reason'})"
            break
    review = []
    if nb.cells and nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(REVIEW_NOTE):
        review = [line[2:] for line in nb.cells[0].source.splitlines() if line.startswith("- ")]
    return {"status": status, "review": review}


# --------------------------------------------------------------------------
# Statuses and grades.csv
# --------------------------------------------------------------------------

def load_status(course) -> dict:
    """``{lesson: {student: {"status": ..., "review": [...]}}}`` from earlier runs."""
    path = Path(course) / STATUS_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}


def save_status(course, status: dict) -> Path:
    """Write the statuses atomically (a run that stops half-way leaves the old file)."""
    path = Path(course) / STATUS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return path


def grade_rows(course) -> list[dict]:
    """Every grade: student, lesson, exercise (graded cell), score, max_score, status, review.

    A submission whose status is "not graded" gets one row with no score.
    """
    from nbgrader.api import Gradebook, MissingEntry

    alembic_on_path()
    course = Path(course).resolve()
    status = load_status(course)
    rows = []
    with quiet_database(), Gradebook(f"sqlite:///{course / 'gradebook.db'}", "cnnlab") as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            lesson = assignment.name
            cells = _graded_cells(course / "source" / lesson / f"{lesson}.ipynb")
            for submission in sorted(gb.assignment_submissions(lesson), key=lambda s: s.student.id):
                student = submission.student.id
                info = status.get(lesson, {}).get(student, {"status": "graded", "review": []})
                if info["status"].startswith("not graded"):
                    continue
                for cell in cells:
                    try:
                        g = gb.find_grade(cell, lesson, lesson, student)
                    except MissingEntry:
                        continue
                    rows.append({"student": student, "lesson": lesson, "exercise": cell,
                                 "score": g.score, "max_score": g.max_score,
                                 "status": info["status"], "review": "; ".join(info["review"])})
    for lesson, students in status.items():
        for student, info in students.items():
            if info["status"].startswith("not graded"):
                rows.append({"student": student, "lesson": lesson, "exercise": "", "score": "",
                             "max_score": "", "status": info["status"], "review": ""})
    return sorted(rows, key=lambda r: (r["lesson"], r["student"]))  # stable: cells keep order


def _graded_cells(notebook: Path) -> list[str]:
    """grade_ids of the graded cells, in notebook order."""
    if not notebook.is_file():
        return []
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    meta = [c.get("metadata", {}).get("nbgrader", {}) for c in cells]
    return [m["grade_id"] for m in meta if m.get("grade")]


def write_grades(course) -> Path:
    """Write ``grades.csv``: one row per student, lesson and graded cell (see :func:`grade_rows`)."""
    path = Path(course) / "grades.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(grade_rows(course))
    return path
