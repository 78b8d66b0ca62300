"""Every graded exercise of the course, read from the lessons: the README's table for teachers.

Usage::

    python -m cnnlab.tools.exercises           # print the table (Markdown)
    python -m cnnlab.tools.exercises --check   # exit 1 when README.md's table is out of date

An exercise is an nbgrader answer cell (``solution: true``) and the graded
test cells after it whose ``grade_id`` starts with the answer's. Its title
is the first bold phrase or heading of the markdown cell before the answer.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
BEGIN, END = "<!-- exercises: begin -->", "<!-- exercises: end -->"

__all__ = ["Exercise", "find_exercises", "exercise_table", "answer_lines"]

_SOLUTION = re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)### END SOLUTION", re.S)
_TITLE = re.compile(r"^#+\s*(.+?)\s*$|\*\*(.+?)\*\*", re.M)


class Exercise(NamedTuple):
    """One graded exercise: where it is, what it is worth, how it is checked."""

    lesson: str          # "02"
    grade_id: str        # "ex02-conv2d"
    title: str
    points: float
    answer_lines: int    # lines of code between the solution markers (no blanks, no comments)
    checker: str         # the cnnlab.checks function its test cell calls, or ""
    minutes: int | None  # the time the exercise says it takes ("about 10 minutes")


def answer_lines(source: str) -> int:
    """Lines of real code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``."""
    lines = [line.strip() for block in _SOLUTION.findall(source) for line in block.splitlines()]
    return sum(1 for line in lines if line and not line.startswith("#"))


def find_exercises(notebooks: Path = NOTEBOOKS) -> list[Exercise]:
    """The exercises of every lesson in ``notebooks``, in lesson and cell order."""
    found = []
    for path in sorted(Path(notebooks).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        found += _lesson_exercises(path.name[:2], cells)
    return found


def _lesson_exercises(lesson: str, cells: list) -> list[Exercise]:
    exercises = []
    for i, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution") or cell["cell_type"] != "code":
            continue
        gid = meta.get("grade_id", "")
        tests = [c for c in cells[i + 1:] if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                 and c["metadata"]["nbgrader"].get("grade_id", "").startswith(gid)]
        points = sum(float(c["metadata"]["nbgrader"].get("points", 0)) for c in tests)
        test_code = "\n".join("".join(c["source"]) for c in tests)
        checker = re.search(r"checks\.(check_\w+)\(", test_code)
        title, minutes = _title_before(cells, i)
        exercises.append(Exercise(lesson, gid, title, points,
                                  answer_lines("".join(cell["source"])),
                                  checker.group(1) if checker else "", minutes))
    return exercises


def _title_before(cells: list, i: int) -> tuple[str, int | None]:
    """The exercise's title (without "Exercise N —" and its points) and its minutes."""
    for cell in reversed(cells[:i]):
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            m = _TITLE.search(text)
            title = (m.group(1) or m.group(2)).strip().rstrip(".:") if m else ""
            minutes = re.search(r"about (\d+) minutes", text)
            title = re.sub(r"\s*\([^()]*\bpoints?\b[^()]*\)$", "", title)
            title = re.sub(r"^Exercise \d+\s*[—:-]\s*", "", title)
            return title, int(minutes.group(1)) if minutes else None
    return "", None


def exercise_table(exercises: list[Exercise]) -> str:
    """The README's table: one row per exercise, then the totals."""
    rows = ["| Lesson | Exercise | grade_id | Points | Minutes | Checked by |",
            "|---|---|---|---|---|---|"]
    for e in exercises:
        checker = f"`checks.{e.checker}`" if e.checker else "its own tests"
        minutes = f"≈ {e.minutes}" if e.minutes else ""
        rows.append(f"| {e.lesson} | {e.title} | `{e.grade_id}` | {e.points:g} | {minutes} | "
                    f"{checker} |")
    total = sum(e.points for e in exercises)
    rows.append(f"| | **{len(exercises)} exercises** | | **{total:g}** | | |")
    return "\n".join(rows)


def summary(exercises: list[Exercise]) -> str:
    lines = [e.answer_lines for e in exercises]
    checked = sum(1 for e in exercises if e.checker)
    return (f"{len(exercises)} exercises, median answer {statistics.median(lines):g} lines, "
            f"{checked} of {len(exercises)} checked by a cnnlab.checks checker")


def readme_table(readme: Path = README) -> str:
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return ""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.tools.exercises",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when README.md's table differs from the lessons")
    args = parser.parse_args(argv)
    exercises = find_exercises()
    table = exercise_table(exercises)
    if args.check:
        if readme_table() != table:
            print(f"README.md's exercise table is out of date: paste the output of "
                  f"`python -m cnnlab.tools.exercises` between {BEGIN} and {END}.")
            return 1
        print("README.md's exercise table matches the lessons; " + summary(exercises))
        return 0
    print(table)
    print("\n" + summary(exercises), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
