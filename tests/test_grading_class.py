"""A simulated class: every kind of submission gets exactly its points, flags and feedback.

One small made-up assignment (four one-line exercises) is built once; one
grading run (two at a time) then grades a whole class of simulated
submissions: correct, blank, wrong, partly right, looping forever, raising,
killing the kernel, using too much memory, printing megabytes, with a test
cell deleted, an answer cell copied, cells moved, saved by an older nbformat,
patching the checkers, spying on the solutions, writing the gradebook, using
the network, a damaged file and a renamed one. A second tiny assignment has
two exercises with many right answers, judged by outside rules
(``# grading: compare <rule>``): right answers of another kind pass, wrong
ones whose checkers were patched away get no points and a review flag.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
import socket

import nbformat
import numpy as np
import pytest

pytest.importorskip("nbgrader", reason="teachers' tools: make .venv/.teacher")

from cnnlab.tools import (assignments, grading_replay, grading_run,  # noqa: E402
                          grading_steps, sandbox)

LESSON = "97_class"
CELL_TIMEOUT = 5  # seconds per cell: the looping submission waits this long
SANDBOXED = not sandbox.sandbox_status()
needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason=f"no sandbox: {sandbox.sandbox_status()}")
TESTS = ["ex-double-test", "ex-triple-test", "ex-halve-test", "ex-negate-test"]


def code(source, **nbgrader):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "locked": not nbgrader.get("solution"),
                                     "solution": False, "grade": False, **nbgrader}
    return cell


def answer(name, body):
    return code(f"def {name}(x):\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION",
                grade_id=f"ex-{name}", solution=True, locked=False)


def graded_cell(name, source):
    return code(source, grade_id=f"ex-{name}-test", grade=True, points=1)


def class_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A tiny assignment"),
        code("import numpy as np"),
        answer("double", "return 2 * x"),
        graded_cell("double", "assert double(2) == 4\n### BEGIN HIDDEN TESTS\n"
                            "assert double(-3) == -6\n### END HIDDEN TESTS"),
        answer("triple", "return 3 * x"),
        graded_cell("triple", "np.testing.assert_allclose(triple(np.arange(3)), [0, 3, 6])"),
        answer("halve", "return x / 2"),
        graded_cell("halve", "assert halve(4) == 2"),
        answer("negate", "return -x"),
        graded_cell("negate", "assert negate(1) == -1"),
    ]
    return nb


RIGHT = {"ex-double": "def double(x):\n    return 2 * x",
         "ex-triple": "def triple(x):\n    return 3 * x",
         "ex-halve": "def halve(x):\n    return x / 2",
         "ex-negate": "def negate(x):\n    return -x"}


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def index(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)


def with_answers(release, **answers):
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in RIGHT:
            cell.source = answers.get(grade_id(cell).replace("ex-", ""), RIGHT[grade_id(cell)])
    return nb


def delete_test(nb):
    del nb.cells[index(nb, "ex-triple-test")]


def copy_answer(nb):  # what "copy cell" + "paste" does in JupyterLab
    i = index(nb, "ex-double")
    nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))
    nb.cells[i].source = "def double(x):\n    return 0  # first try"


def move_cells(nb):  # the last exercise moved to the top
    i = index(nb, "ex-negate")
    pair = nb.cells[i:i + 2]
    del nb.cells[i:i + 2]
    nb.cells[2:2] = pair


# name -> (answers, change to the notebook, expected points per test cell, status, review)
CASES = {
    "correct": ({}, None, [1, 1, 1, 1], "graded", ""),
    "wrong": ({"double": "def double(x):\n    return 2 * x + 1"}, None, [0, 1, 1, 1], "graded", ""),
    "partly": ({"triple": "def triple(x):\n    return 3 * x + 1",
                "negate": "def negate(x):\n    return x"}, None, [1, 0, 1, 0], "graded", ""),
    "loops": ({"halve": "while True:\n    pass"}, None, [1, 1, 0, 1], "graded", ""),
    "raises": ({"double": "def double(x):\n    raise ValueError('not today')"}, None,
               [0, 1, 1, 1], "graded", ""),
    "crashes": ({"halve": "import os\nos._exit(3)"}, None, [1, 1, 0, 0],
                "graded; the kernel died in ex-halve (exit code 3)", ""),
    "hog": ({"triple": "hog = bytearray(16 * 1024 ** 3)\ndef triple(x):\n    return 3 * x"}, None,
            [1, 0, 1, 1], "graded", ""),
    "chatty": ({"triple": "print('x' * 3_000_000)\ndef triple(x):\n    return 3 * x"}, None,
               [1, 1, 1, 1], "graded", ""),
    "deleted": ({}, delete_test, [1, 1, 1, 1], "graded", ""),
    "copied": ({}, copy_answer, [1, 1, 1, 1], "graded", ""),
    "moved": ({}, move_cells, [1, 1, 1, 1], "graded", ""),
    "patcher": ({"double": "import builtins, sys\ndef double(x):\n    return 2 * x + 1\n"
                           "builtins.print = len\nsys.modules['math'] = None"}, None,
                [0, 1, 1, 1], "graded",
                "ex-double: assigns builtins.print (line 4); "
                "ex-double: assigns sys.modules['math'] (line 5)"),
}
# Each answer is wrong by one and tries to switch the test off (the attack and variants).
WRONG_TRIPLE = "def triple(x):\n    return 3 * x + 1\n"
ATTACKS = {
    "attack_numpy": (WRONG_TRIPLE + "np.testing.assert_allclose = lambda *a, **k: None",
                     "ex-triple: assigns np.testing.assert_allclose (line 3)"),
    "attack_setattr": (WRONG_TRIPLE + "setattr(np.testing, 'assert_allclose', print)",
                       "ex-triple: calls setattr(np.testing, ...) (line 3)"),
    "attack_exec": (WRONG_TRIPLE + "exec('np.testing.assert_allclose = print')",
                    "ex-triple: calls exec(...) (line 3)"),
    "attack_sys_modules": (WRONG_TRIPLE + "import sys, types\n"
                           "fake = types.ModuleType('numpy')\n"
                           "fake.testing = types.SimpleNamespace(assert_allclose=print)\n"
                           "fake.arange = sys.modules['numpy'].arange\n"
                           "sys.modules['numpy'] = fake\nimport numpy as np",
                           "ex-triple: assigns sys.modules['numpy'] (line 7)"),
}


def disagrees(test):
    return (f"{test}: passed its own test but not the comparison with the teacher's results "
            "(a different right answer, or a switched-off test?)")


for _name, (_source, _flag) in ATTACKS.items():
    CASES[_name] = ({"triple": _source}, None, [1, 0, 1, 1], "graded",
                    f"{_flag}; {disagrees('ex-triple-test')}")
# Every later assert becomes a no-op: the wrong double and halve pass their own test cells.
CASES["attack_shell"] = (
    {"double": "def double(x):\n    return 2 * x + 1\n"
               "get_ipython().input_transformers_post.append(\n"
               "    lambda lines: [l.replace('assert ', 'pass # ') for l in lines])",
     "halve": "def halve(x):\n    return x"}, None, [0, 1, 0, 1], "graded",
    "ex-double: changes the IPython shell: calls "
    "get_ipython().input_transformers_post.append(...) (line 3); "
    f"{disagrees('ex-double-test')}; {disagrees('ex-halve-test')}")
BLANK = [0, 0, 0, 0]


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """The assignment built, the class's submissions written and graded in one run (JOBS=2)."""
    root = tmp_path_factory.mktemp("school")
    (root / "notebooks").mkdir()
    nbformat.write(class_notebook(), root / "notebooks" / f"{LESSON}.ipynb")
    course = root / "course"
    assignments.build(course, root / "notebooks", [LESSON], timeout=CELL_TIMEOUT, log=lambda *a: None)
    release = course / "release" / LESSON / f"{LESSON}.ipynb"
    subs = root / "submissions"

    def put(student, nb, flat=False):
        path = subs / student / (f"{LESSON}.ipynb" if flat else f"{LESSON}/{LESSON}.ipynb")
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        return path

    for student, (answers, change, *_rest) in CASES.items():
        nb = with_answers(release, **answers)
        if change:
            change(nb)
        put(student, nb)
    put("blank", nbformat.read(release, as_version=4), flat=True)
    old = with_answers(release)
    old.nbformat_minor = 4  # what JupyterLab 2 / nbformat 5.0 saved: no cell ids
    for cell in old.cells:
        cell.pop("id", None)
    put("old_format", old)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        spy = "\n".join([
            "import os, socket",
            "def double(x):\n    return 2 * x",
            f"for path in {str(course / 'source' / LESSON)!r}, {str(course)!r}, '../..', '/root':",
            "    try:\n        print(path, sorted(os.listdir(path)))",
            "    except OSError as e:\n        print(path, 'refused:', e.__class__.__name__)",
            f"for path in {str(course / 'gradebook.db')!r}, {str(release)!r}:",
            "    try:\n        open(path, 'a').write('x')\n        print('wrote', path)",
            "    except OSError as e:\n        print(path, 'refused:', e.__class__.__name__)",
            "try:",
            f"    socket.create_connection(('127.0.0.1', {server.getsockname()[1]}), timeout=2)",
            "    print('network: connected')",
            "except OSError as e:\n    print('network refused:', e.__class__.__name__)",
        ])
        put("spy", with_answers(release, double=spy))
        (subs / "broken" / LESSON).mkdir(parents=True)
        (subs / "broken" / LESSON / f"{LESSON}.ipynb").write_text('{"cells": [{"cell_type": "co')
        (subs / "renamed" / LESSON).mkdir(parents=True)
        nbformat.write(with_answers(release), subs / "renamed" / LESSON / "my_work.ipynb")
        log = []
        assignments.grade(subs, course, jobs=2, unsandboxed=not SANDBOXED, log=log.append)
    return {"course": course, "log": log, "subs": subs}


def rows(course):
    with (course / "grades.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def points(course, student):
    got = {r["exercise"]: r for r in rows(course) if r["student"] == student}
    assert sorted(got) == sorted(TESTS), got
    return [float(got[t]["score"]) for t in TESTS], got[TESTS[0]]["status"], got[TESTS[0]]["review"]


def autograded(course, student) -> nbformat.NotebookNode:
    return nbformat.read(course / "autograded" / student / LESSON / f"{LESSON}.ipynb", as_version=4)


def output_text(nb, gid) -> str:
    outs = nb.cells[index(nb, gid)].outputs
    return "".join(o.get("text", "") + o.get("ename", "") + ": " + o.get("evalue", "") for o in outs)


@pytest.mark.parametrize("student", list(CASES))
def test_each_submission_gets_exactly_its_points_status_and_flags(school, student):
    *_, expected, status, review = CASES[student]
    assert points(school["course"], student) == (expected, status, review)


@pytest.mark.parametrize("student, expected", [("blank", BLANK), ("old_format", [1, 1, 1, 1])])
def test_a_blank_or_old_format_submission(school, student, expected):
    assert points(school["course"], student) == (expected, "graded", "")


def test_the_blank_stubs_name_their_exercise(school):
    nb = autograded(school["course"], "blank")
    assert "Exercise ex-halve: replace this line" in output_text(nb, "ex-halve-test")


def test_an_attack_fails_with_a_check_made_outside_the_students_code(school):
    nb = autograded(school["course"], "attack_numpy")
    text = output_text(nb, "ex-triple-test")
    assert grading_replay.OUTSIDE_CHECK in text and "triple(...) does not return" in text
    assert not any("cnnlab_replay" in c.source for c in nb.cells)
    assert grading_replay.OUTSIDE_CHECK not in output_text(autograded(school["course"], "correct"),
                                                           "ex-triple-test")


def test_the_dead_kernel_is_explained_where_it_died_and_after(school):
    nb = autograded(school["course"], "crashes")
    assert grading_steps.KERNEL_DIED in output_text(nb, "ex-halve")
    assert "exit code 3" in output_text(nb, "ex-halve")
    assert grading_steps.NOT_RUN in output_text(nb, "ex-negate-test")
    page = school["course"] / "feedback" / "crashes" / LESSON / f"{LESSON}.html"
    assert "the kernel died while running this cell" in page.read_text(encoding="utf-8")


def test_loop_memory_and_output_cost_only_their_own_cells(school):
    course = school["course"]
    assert "CellTimeoutError" in output_text(autograded(course, "loops"), "ex-halve")
    assert "MemoryError" in output_text(autograded(course, "hog"), "ex-triple")
    path = course / "autograded" / "chatty" / LESSON / f"{LESSON}.ipynb"
    assert path.stat().st_size < 200_000, "the megabytes of output were clipped"


def test_a_deleted_test_cell_is_put_back_and_a_copied_answer_graded_once(school):
    nb = autograded(school["course"], "deleted")
    assert "assert_allclose" in nb.cells[index(nb, "ex-triple-test")].source
    copied = autograded(school["course"], "copied")
    assert [grade_id(c) for c in copied.cells].count("ex-double") == 1


@pytest.mark.parametrize("student, why", [
    ("broken", "not graded: the file is damaged: not valid JSON"),
    ("renamed", f"not graded: {LESSON}/ should hold {LESSON}.ipynb (found: my_work.ipynb)"),
])
def test_a_damaged_or_renamed_file_is_not_graded_and_says_why(school, student, why):
    mine = [r for r in rows(school["course"]) if r["student"] == student]
    assert len(mine) == 1 and mine[0]["score"] == "" and mine[0]["max_score"] == ""
    assert mine[0]["status"].startswith(why), mine[0]["status"]
    assert any(line.startswith(f"{student} / {LESSON}: not graded") for line in school["log"])


def test_grades_csv_has_one_row_per_graded_cell_and_the_new_columns(school):
    got = rows(school["course"])
    assert list(got[0]) == grading_run.COLUMNS
    keys = [(r["student"], r["exercise"]) for r in got]
    assert len(keys) == len(set(keys))
    students = set(CASES) | {"blank", "old_format", "spy", "broken", "renamed"}
    assert {r["student"] for r in got} == students


def test_the_patching_answer_is_flagged_in_the_feedback(school):
    page = school["course"] / "feedback" / "patcher" / LESSON / f"{LESSON}.html"
    text = page.read_text(encoding="utf-8")
    assert "Flagged for manual review" in text and "sys.modules" in text
    assert "Flagged for manual review" not in (
        school["course"] / "feedback" / "correct" / LESSON / f"{LESSON}.html").read_text()


@needs_sandbox
def test_the_kernel_sees_neither_solutions_gradebook_others_home_nor_network(school):
    course = school["course"]
    text = output_text(autograded(course, "spy"), "ex-double")
    source, release = course / "source" / LESSON, course / "release" / LESSON
    assert f"{source} refused: FileNotFoundError" in text
    assert f"{course} refused: FileNotFoundError" in text
    assert "../.. ['student']" in text  # its folder is /home/student/<lesson>: no other student
    home = [line for line in text.splitlines() if line.startswith("/root ")]
    assert home in (["/root refused: FileNotFoundError"], ["/root ['.pyenv']"])  # Python, if there
    assert f"{course / 'gradebook.db'} refused" in text and f"{release / LESSON}.ipynb refused" in text
    assert "wrote" not in text
    gradebook = (course / "gradebook.db").read_bytes()
    assert gradebook.startswith(b"SQLite format 3") and len(gradebook) % 512 == 0
    assert "network refused" in text and "connected" not in text
    assert points(course, "spy") == ([1, 1, 1, 1], "graded", "")
    assert "x" not in (release / f"{LESSON}.ipynb").read_text()[-5:]


def test_the_kernel_gets_no_secret_in_its_environment():
    env = sandbox.kernel_env({"PATH": "/usr/bin", "JUPYTERHUB_API_TOKEN": "secret",
                              "CNNLAB_FAST": "1", "HOME": "/root"})
    assert env["PATH"] == "/usr/bin" and env["CNNLAB_FAST"] == "1"
    assert "JUPYTERHUB_API_TOKEN" not in env and env["HOME"] == "/tmp/home"
    # two malloc arenas: per-thread arenas would spend the address-space limit (lesson 11's
    # convolutions failed under 4G without it)
    assert env["MALLOC_ARENA_MAX"] == "2"


def test_regrading_one_student_keeps_the_grades_given_by_hand(school, tmp_path):
    from nbgrader.api import Gradebook

    course = school["course"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "cnnlab") as gb:
        grade = gb.find_grade("ex-double-test", LESSON, LESSON, "wrong")
        grade.manual_score = 0.5
        gb.db.commit()
    again = tmp_path / "again"
    shutil.copytree(school["subs"] / "wrong", again / "wrong")
    assignments.grade(again, course, unsandboxed=not SANDBOXED, log=lambda *a: None)
    assert points(course, "wrong")[0] == [0.5, 1, 1, 1]
    assert points(course, "correct")[0] == [1, 1, 1, 1]  # the others are still there


# --------------------------------------------------------------------------
# Without a sandbox
# --------------------------------------------------------------------------

def test_grading_without_a_sandbox_is_refused_unless_asked_for(school, monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "sandbox_status", lambda: "bubblewrap (bwrap) is not installed")
    subs = tmp_path / "subs"
    (subs / "broken" / LESSON).mkdir(parents=True)
    (subs / "broken" / LESSON / f"{LESSON}.ipynb").write_text("{")
    with pytest.raises(assignments.AssignmentError, match="refusing to grade without a sandbox"):
        assignments.grade(subs, school["course"], log=lambda *a: None)
    log = []
    assignments.grade(subs, school["course"], unsandboxed=True, log=log.append)
    assert log[0].startswith("WARNING: grading WITHOUT a sandbox")


def test_the_kernel_manager_refuses_too_so_formgrader_is_covered(monkeypatch, tmp_path):
    import asyncio

    monkeypatch.setattr(sandbox, "sandbox_status", lambda: "bubblewrap (bwrap) is not installed")
    km = sandbox.SandboxKernelManager(kernel_name="python3")
    with pytest.raises(sandbox.SandboxUnavailable, match="make grade UNSANDBOXED=1"):
        asyncio.run(km.start_kernel(cwd=str(tmp_path)))


def test_the_config_sets_the_sandbox_the_steps_and_the_memory_limit(school, tmp_path):
    config = assignments.load_config(school["course"])
    assert config.SandboxKernelManager.memory_limit == "4G"
    assert config.OverwriteCells.add_missing_cells is True
    assert grading_steps.SafeExecute in config.Autograde.autograde_preprocessors
    assert grading_steps.DropDuplicateIds in config.Autograde.sanitize_preprocessors
    assignments.write_config(tmp_path, memory="1.5G")
    assert assignments.load_config(tmp_path).SandboxKernelManager.memory_limit == "1.5G"
    with pytest.raises(ValueError, match="limit: expected a size"):
        assignments.write_config(tmp_path, memory="lots")


@pytest.mark.parametrize("text, size", [("4G", 4 * 1024 ** 3), ("512m", 512 * 1024 ** 2),
                                        ("1.5G", int(1.5 * 1024 ** 3)), (1000, 1000)])
def test_memory_sizes(text, size):
    assert sandbox.memory_bytes(text) == size


def test_memory_sizes_refuse_nonsense():
    for bad in ("", "0", "-1G", "4X"):
        with pytest.raises(ValueError, match="limit"):
            sandbox.memory_bytes(bad)
    with pytest.raises(TypeError, match="limit"):
        sandbox.memory_bytes(None)


def test_the_sandbox_command_shares_only_what_it_should(tmp_path):
    work, sockets = tmp_path / "work", tmp_path / "sockets"
    work.mkdir(), sockets.mkdir()
    cmd = sandbox.sandbox_command(["python", "-m", "ipykernel_launcher"], work, sockets, "2G")
    joined = " ".join(cmd)
    assert "--unshare-all" in cmd and "--die-with-parent" in cmd
    assert f"--bind {work} /home/student/work" in joined and f"--bind {sockets} {sockets}" in joined
    assert "--as=2147483648" in joined
    ro = {cmd[i + 1] for i, a in enumerate(cmd) if a == "--ro-bind"}
    assert str(sandbox.ROOT) not in ro and str(sandbox.ROOT / "build") not in ro
    assert str(sandbox.ROOT / "data") in ro
    with pytest.raises(ValueError, match="workdir"):
        sandbox.sandbox_command(["python"], tmp_path / "nowhere", sockets)
    # the private /tmp is mounted before the shared folders, so a course checked out under
    # /tmp (a CI clone) keeps its Python and data inside the sandbox
    data = next(i for i, a in enumerate(cmd) if a == "--ro-bind"
                and cmd[i + 1] == str(sandbox.ROOT / "data"))
    assert cmd.index("--tmpfs") < data < cmd.index(str(sockets))


def test_patch_flags_find_the_usual_ways_of_patching():
    nb = nbformat.v4.new_notebook()
    nb.cells = [code("import numpy as np\nimport cnnlab.checks\nfrom cnnlab import kernels\n"
                     "plt_rc = {}"),
                code("np.testing.assert_allclose = lambda *a, **k: None\n"
                     "setattr(cnnlab.checks, 'check_conv2d', print)\n"
                     "kernels.conv2d = None\n__builtins__.len = max\nexec('x = 1')\n"
                     "sys.modules.update({})\nvalue = np.pi\nmine = {}\nmine['a'] = 1",
                     grade_id="ex-a", solution=True, locked=False)]
    flags = grading_steps.patch_flags(nb)
    assert flags == ["ex-a: assigns np.testing.assert_allclose (line 1)",
                     "ex-a: calls setattr(cnnlab.checks, ...) (line 2)",
                     "ex-a: assigns kernels.conv2d (line 3)",
                     "ex-a: assigns __builtins__.len (line 4)",
                     "ex-a: calls exec(...) (line 5)",
                     "ex-a: calls sys.modules.update(...) (line 6)"]
    with pytest.raises(TypeError, match="nb: expected a notebook"):
        grading_steps.patch_flags({"cells": []})


def test_status_file_is_json(school):
    status = json.loads((school["course"] / "grading_status.json").read_text())
    assert status[LESSON]["broken"]["status"].startswith("not graded")


def test_an_open_answer_test_cell_is_not_compared_with_the_teachers_results(tmp_path):
    nb = class_notebook()
    nb.cells[index(nb, "ex-halve-test")].source += "\n" + grading_replay.OPEN_ANSWER
    recording = grading_replay.recording_notebook(nb, tmp_path / "calls.json")
    started = [c.source for c in recording.cells if "_cnnlab_recorder.start" in c.source]
    assert started == [f"_cnnlab_recorder.start({t!r})" for t in TESTS if t != "ex-halve-test"]


@pytest.mark.parametrize("expected, got, equal", [
    (np.arange(3.0), [0, 1, 2], True), (np.arange(3.0), [0, 1, 2.001], False),
    ((2, 3), [2, 3], True), (np.zeros((2, 2)), np.zeros(4), False), ("a", "a", True),
    ([np.zeros(2), np.ones(3)], (np.zeros(2), np.ones(3)), True), (None, 0, False),
    ({"a": 1.0}, {"a": 1}, True), ({"a": 1.0}, {"b": 1}, False), (float("nan"), np.nan, True)])
def test_results_are_compared_within_tolerance_and_shape(expected, got, equal):
    assert grading_replay.same(expected, got) is equal


def test_plain_data_survives_the_trip_and_objects_do_not():
    from cnnlab.tools import grading_record

    value = {"a": (1, 2.5, float("inf")), "b": [np.arange(6, dtype=np.int32).reshape(2, 3)]}
    back = grading_record.decode(json.loads(json.dumps(grading_record.encode(value))))
    assert back["a"] == (1, 2.5, float("inf")) and back["b"][0].dtype == np.int32
    np.testing.assert_array_equal(back["b"][0], value["b"][0])
    with pytest.raises(grading_record.Unencodable):
        grading_record.encode({"model": object()})


# --------------------------------------------------------------------------
# Exercises with many right answers: an outside rule decides (a second, tiny course)
# --------------------------------------------------------------------------

RULES_LESSON = "95_rules"
RULE_TESTS = ["ex-corner-test", "ex-pairs-test"]
CORNER = ("def corner_kernel(corner):\n"
          "    k = np.full((3, 3), -5 / 4)\n"
          "    k[0, :] = 1.0\n"
          "    k[:, 0] = 1.0\n"
          "    if corner.startswith('bottom'):\n"
          "        k = k[::-1]\n"
          "    if corner.endswith('right'):\n"
          "        k = k[:, ::-1]\n"
          "    return k")
PAIRS = ("def padding_stride_pairs(n, k, target):\n"
         "    return [(p, s) for p in range(k) for s in range(1, k + 1)\n"
         "            if n + 2 * p >= k and (n + 2 * p - k) // s + 1 == target]")
RULE_STUDENTS = {
    "right": ({}, [1, 1], []),
    # another design (a heavier corner cell), scaled; the pairs as a set, in another order
    "other_right": ({"ex-corner": CORNER.replace("-5 / 4)", "-1.5)").replace(
                         "    if corner.startswith", "    k[0, 0] = 2.0\n    k = 3 * k\n"
                                                    "    if corner.startswith", 1),
                     "ex-pairs": PAIRS.replace("return [(p, s) for p in range(k) for s in "
                                               "range(1, k + 1)",
                                               "return {(p, s) for s in range(k, 0, -1) "
                                               "for p in range(k)").replace("target]", "target}")},
                    [1, 1], []),
    # wrong answers whose own checks are switched off by patching the checkers
    "patched_checks": ({"ex-corner": "def corner_kernel(corner):\n    return np.ones((3, 3))\n"
                                     "checks.check_feature_kernel = lambda *a, **k: None",
                        "ex-pairs": PAIRS.replace("[(p, s)", "[(s, p)") +
                        "\nchecks.check_padding_stride_pairs = lambda *a, **k: None"},
                       [0, 0], RULE_TESTS),
}


def rules_notebook():
    def solution(source, grade_id):
        head, body = source.split("\n", 1)
        return code(f"{head}\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION",
                    grade_id=grade_id, solution=True, locked=False)

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        code("import numpy as np\nfrom cnnlab import checks"),
        solution(CORNER, "ex-corner"),
        code("# grading: compare corner_kernel (many right kernels)\n"
             "checks.check_feature_kernel(corner_kernel)",
             grade_id="ex-corner-test", grade=True, points=1),
        solution(PAIRS, "ex-pairs"),
        code("# grading: compare unordered (the pairs in any order)\n"
             "checks.check_padding_stride_pairs(padding_stride_pairs)",
             grade_id="ex-pairs-test", grade=True, points=1),
    ]
    return nb


@pytest.fixture(scope="module")
def rules_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules")
    (root / "notebooks").mkdir()
    nbformat.write(rules_notebook(), root / "notebooks" / f"{RULES_LESSON}.ipynb")
    course = root / "course"
    assignments.build(course, root / "notebooks", [RULES_LESSON], timeout=60, log=lambda *a: None)
    release = course / "release" / RULES_LESSON / f"{RULES_LESSON}.ipynb"
    right = {"ex-corner": CORNER, "ex-pairs": PAIRS}
    for student, (answers, *_rest) in RULE_STUDENTS.items():
        nb = nbformat.read(release, as_version=4)
        for cell in nb.cells:
            if grade_id(cell) in right:
                cell.source = answers.get(grade_id(cell), right[grade_id(cell)])
        path = root / "subs" / student / RULES_LESSON / f"{RULES_LESSON}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    assignments.grade(root / "subs", course, jobs=2, unsandboxed=not SANDBOXED,
                      log=lambda *a: None)
    return course


def test_the_teachers_run_records_the_rule_with_each_call(rules_class):
    calls = json.loads((rules_class / "expected" / f"{RULES_LESSON}.json").read_text())
    assert [c["rule"] for c in calls["ex-corner-test"]] == ["corner_kernel"] * 4
    assert calls["ex-pairs-test"] and {c["rule"] for c in calls["ex-pairs-test"]} == {"unordered"}


@pytest.mark.parametrize("student", list(RULE_STUDENTS))
def test_a_rule_grades_right_answers_of_any_kind_and_catches_patched_checks(rules_class, student):
    _, expected, flagged = RULE_STUDENTS[student]
    got = {r["exercise"]: r for r in rows(rules_class) if r["student"] == student}
    assert [float(got[t]["score"]) for t in RULE_TESTS] == expected
    review = got[RULE_TESTS[0]]["review"]
    if not flagged:
        assert review == ""
        return
    assert all(disagrees(t) in review for t in flagged), review
    assert "ex-corner: assigns checks.check_feature_kernel (line 3)" in review
    assert "ex-pairs: assigns checks.check_padding_stride_pairs (line 4)" in review
    nb = nbformat.read(rules_class / "autograded" / student / RULES_LESSON /
                       f"{RULES_LESSON}.ipynb", as_version=4)
    assert (f"{grading_replay.OUTSIDE_CHECK}: checked outside your code: "
            "corner_kernel('top_left') \u2014 the weights sum to 9, not 0") in \
        output_text(nb, "ex-corner-test")
    assert ("checked outside your code: padding_stride_pairs(7, 3, 3) \u2014 (0, 2), (1, 3), "
            "(2, 3) missing, (2, 0), (3, 1), (3, 2) not right") in output_text(nb, "ex-pairs-test")
