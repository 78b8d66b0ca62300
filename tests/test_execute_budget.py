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


def test_into_runs_copies_and_leaves_the_lessons_alone(tmp_path, capsys):
    import nbformat

    from cnnlab.tools.execute import main

    lesson = tmp_path / "lessons" / "01_x.ipynb"
    lesson.parent.mkdir()
    (lesson.parent / "glossary.md").write_text("# Glossary\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nbformat.write(nb, lesson)
    before = lesson.read_text()
    assert main(["--into", str(tmp_path / "runs"), str(lesson)]) == 0
    assert lesson.read_text() == before
    ran = nbformat.read(tmp_path / "runs" / "01_x.ipynb", as_version=4)
    assert ran.cells[0].outputs[0]["text"] == "42\n"
    assert (tmp_path / "runs" / "glossary.md").exists()
    assert "01_x.ipynb" in capsys.readouterr().out


def test_retrain_all_reads_its_switch(monkeypatch):
    import cnnlab

    for value, on in [("1", True), ("yes", True), ("", False), ("0", False)]:
        monkeypatch.setenv("CNNLAB_RETRAIN", value)
        assert cnnlab.retrain_all() is on
    monkeypatch.delenv("CNNLAB_RETRAIN")
    assert cnnlab.retrain_all() is False
