"""Turn the lessons into nbgrader assignments and grade what learners hand in.

Usage (``make assignments`` and ``make grade`` run these)::

    python -m cnnlab.tools.assignments build [LESSON ...] [--validate] [--timeout SECONDS]
    python -m cnnlab.tools.assignments grade SUBMISSIONS [LESSON ...] [--timeout SECONDS]

``build`` makes ``build/assignments/`` an nbgrader course folder:
``source/<lesson>/<lesson>.ipynb`` (the teacher's version, copied from
``notebooks/``), ``nbgrader_config.py``, ``gradebook.db`` and
``release/<lesson>/<lesson>.ipynb`` (the student version: every
``### BEGIN SOLUTION`` block replaced by a stub that raises
``NotImplementedError``, every ``### BEGIN HIDDEN TESTS`` block removed).
``--validate`` also runs every lesson twice: the teacher's version must pass
every graded test cell, the student version must pass none.

``grade`` autogrades a folder of submissions laid out as
``SUBMISSIONS/<student>/<lesson>/<lesson>.ipynb`` (or
``SUBMISSIONS/<student>/<lesson>.ipynb``), writes one row per student and
graded cell to ``build/assignments/grades.csv`` and nbgrader's feedback pages
to ``build/assignments/feedback/<student>/<lesson>/<lesson>.html``.

A lesson is named by its notebook name (``01_convolution_1d``) or its number
(``01``). Every cell runs with a time limit (``--timeout``, 300 s by default,
stored in ``nbgrader_config.py``), so a submission that loops forever loses
the points of that cell and nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
COURSE = ROOT / "build" / "assignments"
DEFAULT_TIMEOUT = 300  # seconds per cell: long enough for a lesson's training cells
CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError("Exercise: replace this line with your code")'

CONFIG_TEMPLATE = '''\
# nbgrader settings of the cnnlab course, written by `make assignments`.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "cnnlab"
# Seconds each cell may run while validating and autograding; a cell that runs
# longer is interrupted and counts as failed (lessons with training need minutes).
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
# What the student version shows in place of a solution.
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Keep feedback readable when a submission prints a lot.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
'''


class AssignmentError(Exception):
    """Something a teacher can fix: a bad argument, a misplaced file, a failed build."""


class ClipOutput(Preprocessor):
    """Cut every text output of a graded notebook to ``max_chars`` characters.

    nbgrader's ``LimitOutput`` counts lines; a single ``print`` of a
    megabyte-long string is one line. Grades do not change: error outputs,
    which decide them, are kept.
    """

    enabled = Bool(True)
    max_chars = Integer(20_000, help="characters kept per output").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = self._clip(out["text"])
            elif "text/plain" in out.get("data", {}):
                out["data"]["text/plain"] = self._clip(out["data"]["text/plain"])
        return cell, resources

    def _clip(self, text):
        if len(text) <= self.max_chars:
            return text
        return text[:self.max_chars] + f"\n... [{len(text) - self.max_chars} more characters cut]\n"


# --------------------------------------------------------------------------
# Lessons
# --------------------------------------------------------------------------

def find_lessons(notebooks=NOTEBOOKS) -> dict[str, Path]:
    """Lessons with nbgrader exercises: ``{"01_convolution_1d": path, ...}`` in order."""
    notebooks = Path(notebooks)
    if not notebooks.is_dir():
        raise AssignmentError(f"no notebooks folder at {notebooks}")
    found = {}
    for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any(c.get("metadata", {}).get("nbgrader", {}).get("solution") for c in cells):
            found[path.stem] = path
    return found


def check_markers(path: Path) -> None:
    """Refuse a lesson whose nbgrader markers sit in cells not marked for them.

    nbgrader stops with "Solution region detected in a non-solution cell"
    without naming the cell; this names every such cell.
    """
    problems = []
    for i, cell in enumerate(json.loads(Path(path).read_text(encoding="utf-8"))["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = "".join(cell.get("source", ""))
        first = source.strip().splitlines()[0][:60] if source.strip() else ""
        if "BEGIN SOLUTION" in source and not meta.get("solution"):
            problems.append(f"cell {i} ({cell['cell_type']}, starting {first!r}) contains "
                            "'BEGIN SOLUTION' but is not a solution cell")
        if "BEGIN HIDDEN TESTS" in source and not meta.get("grade"):
            problems.append(f"cell {i} ({cell['cell_type']}, starting {first!r}) contains "
                            "'BEGIN HIDDEN TESTS' but is not a graded test cell")
    if problems:
        raise AssignmentError(
            f"{Path(path).name}: nbgrader cannot make a student version: " + "; ".join(problems)
            + ". Give such cells nbgrader's solution/test metadata, or write the markers "
            "differently in prose (nbgrader finds them anywhere in a cell's text).")


def pick_lessons(known, wanted) -> list[str]:
    """Lesson ids for ``wanted`` names or numbers (all of ``known`` when empty)."""
    if not wanted:
        return list(known)
    chosen = []
    for name in wanted:
        matches = [k for k in known if k == name or k.split("_", 1)[0] == f"{name:0>2}"]
        if not matches:
            raise AssignmentError(
                f"no lesson {name!r}; the lessons with exercises are: {', '.join(known) or 'none'}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


# --------------------------------------------------------------------------
# nbgrader
# --------------------------------------------------------------------------

def write_config(course: Path, timeout: int = DEFAULT_TIMEOUT) -> Path:
    """Write ``nbgrader_config.py`` into the course folder."""
    path = Path(course) / "nbgrader_config.py"
    path.write_text(CONFIG_TEMPLATE.format(timeout=int(timeout), stub=CODE_STUB), encoding="utf-8")
    return path


def load_config(course: Path, timeout=None):
    """The course's ``nbgrader_config.py``, with ``timeout`` (seconds per cell) if given."""
    from traitlets.config.loader import PyFileConfigLoader

    course = Path(course)
    if not (course / "nbgrader_config.py").is_file():
        raise AssignmentError(f"{course} is not a course folder; build it with `make assignments`")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    return config


def _nbgrader(step, course, config, **ids):
    """Run one nbgrader step in-process; raise AssignmentError with its log on failure."""
    _alembic_on_path()
    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    steps = {"generate_assignment": GenerateAssignment, "autograde": Autograde,
             "generate_feedback": GenerateFeedback}
    coursedir = CourseDirectory(root=str(Path(course).resolve()), config=config, **ids)
    app = steps[step](coursedir=coursedir, config=config)
    app.force = True
    with _quiet_database():
        result = capture_log(app)
    if not result["success"]:
        text = result.get("log", "") + result.get("error", "")
        lines = [line.strip() for line in text.splitlines()]
        errors = [line for line in lines if re.match(r"(\[ERROR\] |\w+(Error|Exception): )", line)]
        details = list(dict.fromkeys(errors)) or lines[-20:]  # the error lines, each once
        raise AssignmentError(f"nbgrader {step} failed for {ids}:\n" + "\n".join(details))


@contextlib.contextmanager
def _quiet_database():
    """Hide SQLAlchemy's warnings about nbgrader's own session handling."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def _alembic_on_path():
    """nbgrader runs the `alembic` command from this environment's bin/ folder."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def build(course=COURSE, notebooks=NOTEBOOKS, lessons=(), *, timeout=DEFAULT_TIMEOUT,
          validate=False, log=print) -> list[str]:
    """Make ``course`` an nbgrader course folder with a student version of each lesson.

    Returns the lesson ids built. The gradebook (``gradebook.db``) is kept
    between builds, so grades already given survive a rebuild.
    """
    course = Path(course)
    known = find_lessons(notebooks)
    chosen = pick_lessons(known, lessons)
    course.mkdir(parents=True, exist_ok=True)
    write_config(course, timeout)
    config = load_config(course)
    for lesson in chosen:
        check_markers(known[lesson])
        source = course / "source" / lesson
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir(parents=True)
        shutil.copy2(known[lesson], source / f"{lesson}.ipynb")
        _nbgrader("generate_assignment", course, config, assignment_id=lesson)
        log(f"{lesson}: student version in {course / 'release' / lesson}")
        if validate:
            validate_lesson(course, lesson, config)
            log(f"{lesson}: teacher's version passes every test, student version none")
    return chosen


def validate_lesson(course, lesson, config):
    """Run both versions: the source must pass every graded cell, the release none.

    ``nbgrader validate`` on the command line exits 0 even when validation
    fails, so this uses nbgrader's ``Validator`` and reads its results.
    """
    from nbgrader.validator import Validator

    _alembic_on_path()
    course = Path(course)
    teacher = Validator(config=config).validate(str(course / "source" / lesson / f"{lesson}.ipynb"))
    problems = teacher.get("failed", []) + teacher.get("type_changed", [])
    if problems:
        first = problems[0]
        raise AssignmentError(f"{lesson}: the teacher's version fails {len(problems)} graded "
                              f"cell(s); first:\n{first['source']}\n{first.get('raw_error', '')}")
    student = Validator(config=config, invert=True).validate(
        str(course / "release" / lesson / f"{lesson}.ipynb"))
    if student.get("passed"):
        raise AssignmentError(f"{lesson}: the student version already passes "
                              f"{len(student['passed'])} graded cell(s) with no solution; first:\n"
                              f"{student['passed'][0]['source']}")


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------

def find_submissions(folder, lessons) -> list[tuple[str, str, Path]]:
    """``(student, lesson, notebook)`` for every submission in ``folder``.

    Accepted: ``<folder>/<student>/<lesson>/<lesson>.ipynb`` (nbgrader's own
    layout) and ``<folder>/<student>/<lesson>.ipynb``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AssignmentError(f"no submissions folder at {folder}")
    found = []
    for student in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for entry in sorted(p for p in student.iterdir() if not p.name.startswith(".")):
            lesson = entry.stem if entry.suffix == ".ipynb" else entry.name
            if not (entry.is_dir() or entry.suffix == ".ipynb"):
                continue
            if lesson not in lessons:
                raise AssignmentError(
                    f"{entry}: {lesson!r} is not a lesson of this course ({', '.join(lessons)}); "
                    f"expected {folder}/<student>/<lesson>/<lesson>.ipynb")
            notebook = entry if entry.is_file() else entry / f"{lesson}.ipynb"
            if not notebook.is_file():
                others = ", ".join(p.name for p in entry.glob("*.ipynb")) or "no notebook"
                raise AssignmentError(f"{entry} should hold {lesson}.ipynb (found: {others})")
            found.append((student.name, lesson, notebook))
    if not found:
        raise AssignmentError(
            f"no submissions in {folder}; expected {folder}/<student>/<lesson>/<lesson>.ipynb")
    return found


def built_lessons(course=COURSE) -> list[str]:
    """Lessons with a teacher's version in ``course/source/``."""
    source = Path(course) / "source"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


def grade(submissions, course=COURSE, lessons=(), *, timeout=None, log=print) -> Path:
    """Autograde every submission in ``submissions``; write grades.csv and feedback.

    Returns the path of ``grades.csv`` (every graded submission in the
    gradebook, one row per student, lesson and graded cell).
    """
    course = Path(course)
    config = load_config(course, timeout)
    config.Autograde.autograde_preprocessors = autograde_steps()
    built = built_lessons(course)
    chosen = pick_lessons(built, lessons)
    failures = []
    for student, lesson, notebook in find_submissions(submissions, built):
        if lesson not in chosen:
            continue
        target = course / "submitted" / student / lesson
        shutil.rmtree(target, ignore_errors=True)
        if notebook.parent.name == lesson:  # <student>/<lesson>/<lesson>.ipynb
            shutil.copytree(notebook.parent, target)  # with the files next to it
        else:
            target.mkdir(parents=True)
            shutil.copy2(notebook, target / notebook.name)
        try:
            _nbgrader("autograde", course, config, assignment_id=lesson, student_id=student)
            _nbgrader("generate_feedback", course, config, assignment_id=lesson, student_id=student)
        except AssignmentError as exc:
            failures.append(str(exc))
            log(f"{student} / {lesson}: could not be graded")
            continue
        log(f"{student} / {lesson}: {_score_line(course, student, lesson)}")
    path = write_grades(course)
    log(f"grades: {path}")
    if failures:
        raise AssignmentError("\n\n".join(failures))
    return path


def autograde_steps():
    """nbgrader's autograde steps with :class:`ClipOutput` after its ``LimitOutput``.

    ``make grade`` uses them; on a JupyterHub, ``nbgrader_config.py`` can too::

        from cnnlab.tools.assignments import autograde_steps
        c.Autograde.autograde_preprocessors = autograde_steps()
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import LimitOutput

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    steps.insert(steps.index(LimitOutput) + 1, ClipOutput)
    return steps


def grade_rows(course=COURSE) -> list[dict]:
    """Every grade in the gradebook: student, lesson, exercise (graded cell), score, max_score."""
    from nbgrader.api import Gradebook, MissingEntry

    _alembic_on_path()
    course = Path(course).resolve()
    rows = []
    with _quiet_database(), Gradebook(f"sqlite:///{course / 'gradebook.db'}", "cnnlab") as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            cells = _graded_cells(course / "source" / assignment.name / f"{assignment.name}.ipynb")
            for submission in sorted(gb.assignment_submissions(assignment.name),
                                     key=lambda s: s.student.id):
                for cell in cells:
                    student = submission.student.id
                    try:
                        g = gb.find_grade(cell, assignment.name, assignment.name, student)
                    except MissingEntry:
                        continue
                    rows.append({"student": student, "lesson": assignment.name,
                                 "exercise": cell, "score": g.score, "max_score": g.max_score})
    return rows


def _graded_cells(notebook: Path) -> list[str]:
    """grade_ids of the graded cells, in notebook order."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    meta = [c.get("metadata", {}).get("nbgrader", {}) for c in cells]
    return [m["grade_id"] for m in meta if m.get("grade")]


def write_grades(course=COURSE) -> Path:
    """Write ``grades.csv``: one row per student, lesson and graded cell."""
    path = Path(course) / "grades.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["student", "lesson", "exercise", "score", "max_score"])
        writer.writeheader()
        writer.writerows(grade_rows(course))
    return path


def _score_line(course, student, lesson) -> str:
    rows = [r for r in grade_rows(course) if r["student"] == student and r["lesson"] == lesson]
    return f"{sum(r['score'] for r in rows):g} / {sum(r['max_score'] for r in rows):g} points"


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.tools.assignments",
                                     description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="make build/assignments (student versions in release/)")
    b.add_argument("lessons", nargs="*", help="lesson names or numbers (default: all)")
    b.add_argument("--validate", action="store_true",
                   help="run both versions: teacher's passes every test, student's none")
    g = sub.add_parser("grade", help="autograde SUBMISSIONS/<student>/<lesson>/<lesson>.ipynb")
    g.add_argument("submissions", help="folder of submissions")
    g.add_argument("lessons", nargs="*", help="grade only these lessons (default: all)")
    for p in (b, g):
        p.add_argument("--course", type=Path, default=COURSE, help="course folder (%(default)s)")
        p.add_argument("--timeout", type=_seconds, default=None,
                       help=f"seconds each cell may run (default {DEFAULT_TIMEOUT})")
    b.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="lessons folder (%(default)s)")
    args = parser.parse_args(argv)
    try:
        _require_nbgrader()
        if args.command == "build":
            build(args.course, args.notebooks, args.lessons, validate=args.validate,
                  timeout=args.timeout or DEFAULT_TIMEOUT)
        else:
            if not args.submissions.strip():
                raise AssignmentError("say where the submissions are: make grade SUBMISSIONS=folder")
            if not (args.course / "gradebook.db").is_file():
                print("no course folder yet: building it first")
                build(args.course, timeout=args.timeout or DEFAULT_TIMEOUT)
            grade(args.submissions, args.course, args.lessons, timeout=args.timeout)
    except AssignmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _require_nbgrader():
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        raise AssignmentError("nbgrader is not installed here: `make assignments` installs "
                              "requirements-teacher.lock first") from None


def _seconds(text) -> int:
    if not re.fullmatch(r"[1-9][0-9]*", text.strip()):
        raise argparse.ArgumentTypeError(f"a whole number of seconds, at least 1; got {text!r}")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
