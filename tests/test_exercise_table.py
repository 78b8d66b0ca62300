"""The graded exercises: every lesson has real ones, and the README lists each with its points."""

from __future__ import annotations

import statistics
from collections import Counter

from cnnlab.tools import exercises as ex

EXERCISES = ex.find_exercises()


def test_every_lesson_from_01_to_12_has_two_to_four_exercises():
    per_lesson = Counter(e.lesson for e in EXERCISES if e.lesson != "00")   # 00: warm-ups
    assert sorted(per_lesson) == [f"{n:02d}" for n in range(1, 13)], per_lesson
    assert all(2 <= count <= 4 for count in per_lesson.values()), per_lesson


def test_answers_are_real_code_and_most_are_checked_by_a_checker():
    assert statistics.median(e.answer_lines for e in EXERCISES) >= 5
    assert all(e.minutes and e.minutes <= 15 for e in EXERCISES if e.lesson != "00")
    assert sum(1 for e in EXERCISES if e.checker) >= len(EXERCISES) / 2
    assert all(e.points > 0 and e.title for e in EXERCISES), [e for e in EXERCISES
                                                               if not (e.points > 0 and e.title)]


def test_answer_lines_count_code_between_the_markers_only():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    # a comment\n\n    y = x + 1\n"
              "    return y\n    ### END SOLUTION\n")
    assert ex.answer_lines(source) == 2
    assert ex.answer_lines("x = 1\n") == 0


def test_the_readme_lists_every_exercise_with_its_points():
    assert ex.readme_table() == ex.exercise_table(EXERCISES), (
        "README.md's table of exercises is out of date: run `python -m cnnlab.tools.exercises` "
        "and paste its output between the exercise markers")
