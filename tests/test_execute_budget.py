"""`make notebooks` ends with each lesson's wall time set against the course's budget."""

from cnnlab.tools.execute import COURSE_BUDGET_S, LESSON_BUDGET_S, budget_report


def test_lessons_within_budget_are_listed_without_a_warning():
    text = budget_report({"01_a.ipynb": 12.3, "02_b.ipynb": 40.0})
    assert "OVER BUDGET" not in text
    assert "    12 s  01_a.ipynb" in text and "    52 s  in all (0.9 min)" in text


def test_a_lesson_over_five_minutes_is_named():
    text = budget_report({"01_a.ipynb": 10.0, "11_b.ipynb": LESSON_BUDGET_S + 1})
    assert [line for line in text.splitlines() if "OVER BUDGET" in line] == [
        f"     {LESSON_BUDGET_S + 1} s  11_b.ipynb  OVER BUDGET"]


def test_a_course_over_its_budget_is_flagged():
    times = {f"{i:02d}.ipynb": LESSON_BUDGET_S - 1 for i in range(COURSE_BUDGET_S // 299 + 1)}
    last = budget_report(times).splitlines()[-1]
    assert last.endswith("OVER BUDGET") and "in all" in last
