"""How long grading a class takes: N submissions of a lesson, serial and with JOBS=n.

Usage::

    .venv/bin/python benchmarks/grading.py [LESSON ...] [--students 30] [--jobs 1 2]
        [--course /tmp/grading-bench]

Each simulated student hands in the teacher's version of the lesson (every
cell runs, as a good submission does). Prints one Markdown table row per
lesson and JOBS value: seconds in all and per submission. Grading runs in the
sandbox and in fast mode (``CNNLAB_FAST=1``), as ``make grade`` does.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlab.tools import assignments  # noqa: E402


def make_class(course, lesson, students, folder):
    """``students`` copies of the teacher's version under ``folder/<student>/<lesson>/``."""
    source = course / "source" / lesson / f"{lesson}.ipynb"
    shutil.rmtree(folder, ignore_errors=True)
    for i in range(students):
        target = folder / f"student{i:03d}" / lesson
        target.mkdir(parents=True)
        shutil.copy(source, target / f"{lesson}.ipynb")
    return folder


def measure(course, lesson, students, jobs) -> float:
    """Seconds to grade ``students`` submissions of ``lesson`` with ``jobs`` at once."""
    folder = make_class(course, lesson, students, course.parent / f"class-{lesson}")
    for name in ("autograded", "feedback", "submitted"):
        shutil.rmtree(course / name, ignore_errors=True)
    start = time.perf_counter()
    assignments.grade(folder, course, [lesson], jobs=jobs, log=lambda *a: None)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("lessons", nargs="*", default=["02", "09"])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--course", type=Path, default=Path("/tmp/grading-bench/course"))
    args = parser.parse_args(argv)
    lessons = assignments.build(args.course, lessons=args.lessons, log=lambda *a: None)
    print("| lesson | submissions | JOBS | seconds | s / submission |")
    print("|---|---|---|---|---|")
    for lesson in lessons:
        for jobs in args.jobs:
            seconds = measure(args.course, lesson, args.students, jobs)
            print(f"| {lesson} | {args.students} | {jobs} | {seconds:.0f} | "
                  f"{seconds / args.students:.1f} |", flush=True)


if __name__ == "__main__":
    main()
