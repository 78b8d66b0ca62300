"""Turn the lessons into nbgrader assignments and grade what learners hand in.

Usage (``make assignments`` and ``make grade`` run these)::

    python -m cnnlab.tools.assignments build [LESSON ...] [--validate] [--timeout SECONDS]
                                             [--memory 4G]
    python -m cnnlab.tools.assignments grade SUBMISSIONS [LESSON ...] [--timeout SECONDS]
                                             [--jobs N] [--unsandboxed]

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

Safety (all of it set in ``nbgrader_config.py``, so Formgrader gets it too):
each kernel runs in a bubblewrap sandbox with a memory limit
(:mod:`cnnlab.tools.sandbox`; without bubblewrap, grading is refused unless
``--unsandboxed``); mangled notebooks are repaired or reported
(:mod:`cnnlab.tools.grading_steps`); every graded test cell is also compared,
outside the sandbox, with the results of the teacher's version
(:mod:`cnnlab.tools.grading_replay`); a submission that cannot be graded gets
a "not graded" row saying why (:mod:`cnnlab.tools.grading_run`).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from cnnlab.tools.grading_run import (AssignmentError, alembic_on_path, find_submissions,
                                      grade_one, grade_rows, load_config, load_status,
                                      nbgrader_step, save_status, write_grades)

__all__ = ["AssignmentError", "find_lessons", "check_markers", "pick_lessons", "write_config",
           "load_config", "build", "validate_lesson", "find_submissions", "built_lessons", "grade",
           "generate_steps", "sanitize_steps", "autograde_steps", "grade_rows", "write_grades",
           "main"]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
COURSE = ROOT / "build" / "assignments"
DEFAULT_TIMEOUT = 300  # seconds per cell: long enough for a lesson's training cells
DEFAULT_MEMORY = "4G"  # address-space limit of each graded notebook's kernel
# {grade_id} is filled in with the exercise's id by NamedClearSolutions
CODE_STUB = ('# YOUR CODE HERE\n'
             'raise NotImplementedError("Exercise {grade_id}: replace this line with your code")')

CONFIG_TEMPLATE = '''\
# nbgrader settings of the cnnlab course, written by `make assignments`.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "cnnlab"
# Seconds each cell may run while validating and autograding; a cell that runs
# longer is interrupted and counts as failed (lessons with training need minutes).
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.InjectReplay.timeout = {timeout}  # the teacher's run that records the expected results
# What the student version shows in place of a solution ({{grade_id}}: the exercise).
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# cnnlab's steps: stubs naming their exercise, copied cells graded once, the kernel
# in a bubblewrap sandbox, grades kept when the kernel dies, patching flagged.
from cnnlab.tools.assignments import autograde_steps, generate_steps, sanitize_steps  # noqa: E402
c.GenerateAssignment.preprocessors = generate_steps()
c.Autograde.sanitize_preprocessors = sanitize_steps()
c.Autograde.autograde_preprocessors = autograde_steps()
# Test cells a student deleted are put back.
c.OverwriteCells.add_missing_cells = True
# The sandbox (cnnlab/tools/sandbox.py): memory limit per notebook; without bubblewrap,
# grading is refused unless this is True (students' code then runs with your rights).
c.SandboxKernelManager.memory_limit = {memory!r}
c.SandboxKernelManager.allow_unsandboxed = False
# Keep feedback readable when a submission prints a lot.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
'''


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

def write_config(course: Path, timeout: int = DEFAULT_TIMEOUT, memory=DEFAULT_MEMORY) -> Path:
    """Write ``nbgrader_config.py`` into the course folder."""
    from cnnlab.tools.sandbox import memory_bytes

    memory_bytes(memory)  # refuse a bad size here, not at grading
    path = Path(course) / "nbgrader_config.py"
    path.write_text(CONFIG_TEMPLATE.format(timeout=int(timeout), stub=CODE_STUB, memory=str(memory)),
                    encoding="utf-8")
    return path


def build(course=COURSE, notebooks=NOTEBOOKS, lessons=(), *, timeout=DEFAULT_TIMEOUT,
          memory=DEFAULT_MEMORY, validate=False, log=print) -> list[str]:
    """Make ``course`` an nbgrader course folder with a student version of each lesson.

    Returns the lesson ids built. The gradebook (``gradebook.db``) is kept
    between builds, so grades already given survive a rebuild.
    """
    course = Path(course)
    known = find_lessons(notebooks)
    chosen = pick_lessons(known, lessons)
    course.mkdir(parents=True, exist_ok=True)
    try:
        write_config(course, timeout, memory)
    except (TypeError, ValueError) as exc:
        raise AssignmentError(f"memory: {exc}") from None
    config = load_config(course)
    for lesson in chosen:
        check_markers(known[lesson])
        source = course / "source" / lesson
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir(parents=True)
        shutil.copy2(known[lesson], source / f"{lesson}.ipynb")
        nbgrader_step("generate_assignment", course, config, assignment_id=lesson)
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

    alembic_on_path()
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

def built_lessons(course=COURSE) -> list[str]:
    """Lessons with a teacher's version in ``course/source/``."""
    source = Path(course) / "source"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


def grade(submissions, course=COURSE, lessons=(), *, timeout=None, jobs=1, unsandboxed=False,
          log=print) -> Path:
    """Autograde every submission in ``submissions``; write grades.csv and feedback.

    Each notebook runs in the sandbox of :mod:`cnnlab.tools.sandbox`;
    without bubblewrap this refuses, unless ``unsandboxed`` (then it warns).
    ``jobs`` submissions are graded at once, each in its own process. A
    submission that cannot be graded (damaged, renamed, refused by nbgrader)
    gets a "not graded" row saying why. Returns the path of ``grades.csv``.
    """
    from cnnlab.tools.grading_replay import expected_calls
    from cnnlab.tools.sandbox import UNSANDBOXED_WARNING, sandbox_status

    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise AssignmentError(f"jobs: expected a whole number of submissions at once, at least 1; "
                              f"got {jobs!r}")
    course = Path(course)
    load_config(course, timeout)  # a course folder, or a clear error
    problem = sandbox_status()
    if problem and not unsandboxed:
        raise AssignmentError(f"refusing to grade without a sandbox: {problem}. Install bubblewrap "
                              "(tests/grading/install_bubblewrap.sh), or grade unsandboxed "
                              "explicitly: make grade UNSANDBOXED=1 (students' code then runs "
                              "with your rights)")
    if problem:
        log(UNSANDBOXED_WARNING)
    built = built_lessons(course)
    chosen = pick_lessons(built, lessons)
    todo = [s for s in find_submissions(submissions, built) if s.lesson in chosen or s.problem]
    for lesson in sorted({s.lesson for s in todo if not s.problem}):
        log(f"{lesson}: the teacher's results (recorded once, kept in {course / 'expected'})")
        expected_calls(course, lesson, load_config(course, timeout).Execute.timeout)
    status = load_status(course)
    for sub, result in _grade_all(course, todo, timeout, jobs, bool(problem)):
        status.setdefault(sub.lesson, {})[sub.student] = result
        save_status(course, status)
        log(f"{sub.student} / {sub.lesson}: {_score_line(course, sub, result)}")
    path = write_grades(course)
    log(f"grades: {path}")
    return path


def _grade_all(course, todo, timeout, jobs, unsandboxed):
    """``(submission, result)`` for each of ``todo``, as they finish (``jobs`` at a time)."""
    args = {"timeout": timeout, "unsandboxed": unsandboxed}
    runnable = []
    for sub in todo:
        if sub.problem:
            yield sub, {"status": f"not graded: {sub.problem}", "review": []}
        else:
            runnable.append(sub)
    if jobs == 1 or len(runnable) < 2:
        for sub in runnable:
            yield sub, grade_one(course, sub.student, sub.lesson, sub.notebook, **args)
        return
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no zmq or sqlite state forked into workers
    with concurrent.futures.ProcessPoolExecutor(min(jobs, len(runnable)), mp_context=context) as pool:
        futures = {pool.submit(grade_one, course, s.student, s.lesson, s.notebook,
                               db_timeout=120, **args): s for s in runnable}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()


def generate_steps():
    """nbgrader's steps that make the student version, with :class:`NamedClearSolutions`."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import ClearSolutions

    from cnnlab.tools.grading_steps import NamedClearSolutions

    steps = list(GenerateAssignment.class_traits()["preprocessors"].default())
    return [NamedClearSolutions if s is ClearSolutions else s for s in steps]


def sanitize_steps():
    """nbgrader's sanitizing steps with :class:`DropDuplicateIds` for ``DeduplicateIds``."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds

    from cnnlab.tools.grading_steps import DropDuplicateIds

    steps = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    return [DropDuplicateIds if s is DeduplicateIds else s for s in steps]


def autograde_steps():
    """nbgrader's autograde steps: ``Execute`` becomes :class:`InjectReplay`,
    :class:`SafeExecute` (the sandbox) and :class:`CompareReplay` (checks outside the
    student's code); :class:`FlagPatching` and :class:`ClipOutput` follow ``LimitOutput``.

    The course's ``nbgrader_config.py`` sets them (so Formgrader uses them too)::

        from cnnlab.tools.assignments import autograde_steps
        c.Autograde.autograde_preprocessors = autograde_steps()
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, LimitOutput

    from cnnlab.tools.grading_replay import CompareReplay, InjectReplay
    from cnnlab.tools.grading_steps import ClipOutput, FlagPatching, SafeExecute

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    at = steps.index(Execute)
    steps[at:at + 1] = [InjectReplay, SafeExecute, CompareReplay]
    steps[steps.index(LimitOutput) + 1:steps.index(LimitOutput) + 1] = [FlagPatching, ClipOutput]
    return steps


def _score_line(course, sub, result) -> str:
    if result["status"].startswith("not graded"):
        return result["status"]
    rows = [r for r in grade_rows(course) if r["student"] == sub.student and r["lesson"] == sub.lesson]
    line = f"{sum(r['score'] for r in rows):g} / {sum(r['max_score'] for r in rows):g} points"
    extra = result["status"].removeprefix("graded").lstrip("; ")
    flags = f" [review: {'; '.join(result['review'])}]" if result["review"] else ""
    return line + (f" ({extra})" if extra else "") + flags


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
    b.add_argument("--memory", default=DEFAULT_MEMORY,
                   help="memory limit of each graded notebook, e.g. 4G (%(default)s)")
    g.add_argument("--jobs", type=_count, default=1, help="submissions graded at once (1)")
    g.add_argument("--unsandboxed", action="store_true",
                   help="grade even without bubblewrap (students' code runs with your rights)")
    args = parser.parse_args(argv)
    try:
        _require_nbgrader()
        if args.command == "build":
            build(args.course, args.notebooks, args.lessons, validate=args.validate,
                  timeout=args.timeout or DEFAULT_TIMEOUT, memory=args.memory)
        else:
            if not args.submissions.strip():
                raise AssignmentError("say where the submissions are: make grade SUBMISSIONS=folder")
            if not (args.course / "gradebook.db").is_file():
                print("no course folder yet: building it first")
                build(args.course, timeout=args.timeout or DEFAULT_TIMEOUT)
            grade(args.submissions, args.course, args.lessons, timeout=args.timeout,
                  jobs=args.jobs, unsandboxed=args.unsandboxed)
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


def _count(text) -> int:
    if not re.fullmatch(r"[1-9][0-9]*", text.strip()):
        raise argparse.ArgumentTypeError(f"a whole number, at least 1; got {text!r}")
    return int(text)


def _seconds(text) -> int:
    if not re.fullmatch(r"[1-9][0-9]*", text.strip()):
        raise argparse.ArgumentTypeError(f"a whole number of seconds, at least 1; got {text!r}")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
