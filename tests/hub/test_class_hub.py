"""A whole class round on a real JupyterHub, through nbgrader's real exchange.

The round runs once (the ``class_round`` fixture, as ``make hub`` would: real
Unix users from a roster, PAM, configurable-http-proxy, each user's own
server); the tests then check what each student and the teacher got:

- the teacher releases lessons 01 and 05 through Formgrader's API;
- eleven students fetch them through their own server's Assignments API,
  answer (right, wrong, half, blank, late, never), submit — one twice; one
  deletes the fetched folder and fetches again; one does the whole round in
  JupyterLab in Chromium (``test_class_hub_browser.py``);
- an account on the hub that is not in the course can neither fetch nor submit;
- the teacher sets a due date, collects, autogrades (the course's sandboxed,
  replay-checked grader), generates and releases feedback;
- every student who submitted fetches their feedback; every grade is the
  expected one; the late submission is marked late.

Sizing numbers (hub start-up, release to ten students fetched, grading
throughput, one active student's memory and CPU) go to
``build/hub/sizing.json`` and the test log.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
from answers import RIGHT, WRONG, answer, expected_score, load

from cnnlab.tools.hub.client import Hub, UserServer

REPO = Path(__file__).resolve().parents[2]
PREFIX = Path("/opt/cnnlab-hub-test")
PORT = 8100
TEACHER = "hubtest-teacher"
L01, L05 = "01_convolution_1d", "05_pooling"
COURSE = "cnnlab"
SIZING = REPO / "build" / "hub" / "sizing.json"
BROWSER_STUDENT = "hubtest-s11"
OUTSIDER = "hubtest-outsider"

# What each student does: {lesson: [plan of each submission, in order]}; a plan says how
# each exercise is answered. Students with no entry for a lesson fetch it and stop.
RIGHT01 = {"ex01-conv1d": RIGHT, "ex01-pulses": RIGHT}
RIGHT05 = {"ex05-max-pool": RIGHT, "ex05-pool-mask": RIGHT}
ROUNDS = {
    "hubtest-s01": {L01: [RIGHT01], L05: [RIGHT05]},
    "hubtest-s02": {L01: [RIGHT01]},                                   # never opens 05
    "hubtest-s03": {L01: [{"ex01-conv1d": WRONG, "ex01-pulses": WRONG}]},
    "hubtest-s04": {L01: [{"ex01-conv1d": RIGHT}]},                    # half: the second blank
    "hubtest-s05": {L01: [{}]},                                        # blank
    "hubtest-s06": {L01: [{}, RIGHT01]},                               # submits twice
    "hubtest-s07": {},                                                 # late, below
    "hubtest-s08": {},                                                 # never submits
    "hubtest-s09": {L01: [RIGHT01]},                                   # re-fetches first
    "hubtest-s10": {L05: [{"ex05-max-pool": RIGHT, "ex05-pool-mask": WRONG}]},
    BROWSER_STUDENT: {},                                               # the browser test
}
LATE = ("hubtest-s07", L05, RIGHT05)
STUDENTS = sorted(ROUNDS)


def _run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _hub_cli(*args):
    return _run([sys.executable, "-m", "cnnlab.tools.hub", *args, "--prefix", str(PREFIX)],
                cwd=REPO)


def _remove_leftovers():
    """Accounts and the course folder an interrupted earlier run may have left."""
    subprocess.run([sys.executable, "-m", "cnnlab.tools.hub", "stop", "--prefix", str(PREFIX)],
                   cwd=REPO, capture_output=True)
    subprocess.run([sys.executable, "-m", "cnnlab.tools.hub", "remove-users", "--prefix",
                    str(PREFIX)], cwd=REPO, capture_output=True)
    subprocess.run(["userdel", "--remove", OUTSIDER], capture_output=True)
    subprocess.run(["rm", "-rf", str(PREFIX / "class"), str(PREFIX / "state")])


class Round:
    """Everything the class round did and measured, for the tests to check."""

    def __init__(self):
        self.sizing = {}
        self.servers = {}
        self.fetch = {}
        self.submits = {}
        self.outsider = {}
        self.feedback = {}
        self.scores = {}
        self.late = {}
        self.refetch = None
        self.log = []

    def note(self, text):
        self.log.append(text)
        print(text, flush=True)


@pytest.fixture(scope="module")
def hub_up(tmp_path_factory):
    """The test hub, started with the CLI behind ``make hub``; stopped and cleared after."""
    import os

    if os.geteuid() != 0:
        pytest.fail("the class-hub test creates Unix users: run it as root (make test-hub)",
                    pytrace=False)
    _remove_leftovers()
    roster = tmp_path_factory.mktemp("hub") / "roster.csv"
    roster.write_text("username,first_name,last_name\n" + "".join(
        f"{s},Student,{s[-3:].upper()}\n" for s in STUDENTS))
    began = time.monotonic()
    out = _hub_cli("start", "--roster", str(roster), "--teacher", TEACHER,
                   "--lessons", "01", "05", "--port", str(PORT))
    setup_s = time.monotonic() - began
    print(out)
    token = (PREFIX / "state" / "admin-token").read_text().strip()
    try:
        yield {"hub": Hub(PORT, token), "cli_out": out, "setup_s": setup_s}
    finally:
        _hub_cli("stop")
        _hub_cli("remove-users")
        subprocess.run(["userdel", "--remove", OUTSIDER], capture_output=True)


def _server(hub, name) -> UserServer:
    return UserServer(PORT, name, hub.token_for(name))


def _submit(r, server, lesson, plan, source_nb):
    path = f"{lesson}/{lesson}.ipynb"
    nb = answer(server.read(path)["content"], source_nb, plan)
    server.write_notebook(path, nb)
    got = server.assignment_action("submit", COURSE, lesson)
    assert got["success"], got
    r.submits.setdefault((server.name, lesson), []).append(expected_score(source_nb, plan))
    time.sleep(1.1)    # nbgrader's submissions are told apart by their timestamps


def _start_servers(hub, names, r):
    began = time.monotonic()
    for name in names:
        hub.start_server(name)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(hub.wait_ready, names))
    r.sizing["servers_started"] = len(names)
    r.sizing["servers_start_s"] = round(time.monotonic() - began, 1)


@pytest.fixture(scope="module")
def class_round(hub_up):
    hub, r = hub_up["hub"], Round()
    m = [line for line in hub_up["cli_out"].splitlines() if "answered" in line]
    r.sizing["hub_answered_s"] = float(m[0].split("answered ")[1].split(" s")[0]) if m else None
    r.sizing["make_hub_s"] = round(hub_up["setup_s"], 1)
    round_began = time.monotonic()
    subprocess.run(["useradd", "--create-home", OUTSIDER], check=True)
    hub.add_user(OUTSIDER)
    _start_servers(hub, [TEACHER, OUTSIDER, *STUDENTS], r)
    teacher = _server(hub, TEACHER)
    servers = {s: _server(hub, s) for s in STUDENTS}
    r.servers = servers
    source = {lesson: load(Path(f"/home/{TEACHER}/cnnlab/source/{lesson}/{lesson}.ipynb"))
              for lesson in (L01, L05)}

    released = time.monotonic()
    for lesson in (L01, L05):
        got = teacher.formgrader("POST", f"/assignment/{lesson}/release")
        assert got["success"], got

    def fetch_all(name):
        return name, [servers[name].assignment_action("fetch", COURSE, lesson)
                      for lesson in (L01, L05)]
    with ThreadPoolExecutor(4) as pool:
        r.fetch = dict(pool.map(fetch_all, [s for s in STUDENTS if s != BROWSER_STUDENT]))
    r.sizing["release_to_all_fetched_s"] = round(time.monotonic() - released, 1)
    r.sizing["students_fetched"] = len(r.fetch)

    outsider = _server(hub, OUTSIDER)
    r.outsider["list"] = outsider.assignments(COURSE)
    r.outsider["fetch"] = outsider.assignment_action("fetch", COURSE, L01)
    r.outsider["submit"] = outsider.assignment_action("submit", COURSE, L01)

    s09 = servers["hubtest-s09"]          # deletes the fetched folder, fetches again
    s09.delete(f"{L01}/{L01}.ipynb")
    s09.delete(L01)
    gone = not s09.exists(f"{L01}/{L01}.ipynb")
    again = s09.assignment_action("fetch", COURSE, L01)
    r.refetch = (gone, again["success"], s09.exists(f"{L01}/{L01}.ipynb"))

    for name in STUDENTS:
        for lesson, plans in ROUNDS[name].items():
            for plan in plans:
                _submit(r, servers[name], lesson, plan, source[lesson])
    due = datetime.now(timezone.utc)
    time.sleep(1.1)
    late_name, late_lesson, late_plan = LATE
    _submit(r, servers[late_name], late_lesson, late_plan, source[late_lesson])
    got = teacher.formgrader("PUT", f"/assignment/{L05}", {
        "duedate_notimezone": due.strftime("%Y-%m-%dT%H:%M:%S"), "duedate_timezone": "+0000"})
    assert got["duedate"], got

    # The browser student's round runs in its own test; the teacher grades the rest now.
    graded = 0
    began = time.monotonic()
    for lesson in (L01, L05):
        got = teacher.formgrader("POST", f"/assignment/{lesson}/collect")
        assert got["success"], got
        for sub in teacher.formgrader("GET", f"/submissions/{lesson}"):
            got = teacher.formgrader("POST", f"/submission/{lesson}/{sub['student']}/autograde")
            assert got["success"], got.get("error", got)[-3000:]
            graded += 1
        got = teacher.formgrader("POST", f"/assignment/{lesson}/generate_feedback")
        assert got["success"], got
        got = teacher.formgrader("POST", f"/assignment/{lesson}/release_feedback")
        assert got["success"], got
        r.scores[lesson] = {s["student"]: s["score"]
                            for s in teacher.formgrader("GET", f"/submissions/{lesson}")}
    seconds = time.monotonic() - began
    r.sizing["graded_notebooks"] = graded
    r.sizing["grading_s"] = round(seconds, 1)
    r.sizing["grading_s_per_notebook"] = round(seconds / max(graded, 1), 1)

    for (name, lesson) in r.submits:
        got = servers[name].assignment_action("fetch_feedback", COURSE, lesson)
        assert got["success"], got
        r.feedback[(name, lesson)] = _feedback_files(servers[name], lesson)
    r.late = _lateness()
    r.sizing["round_s"] = round(time.monotonic() - round_began, 1)
    r.teacher = teacher
    r.source = source
    r.hub = hub
    SIZING.parent.mkdir(parents=True, exist_ok=True)
    SIZING.write_text(json.dumps(r.sizing, indent=1))
    r.note(f"class hub sizing: {json.dumps(r.sizing)}")
    return r


def _feedback_files(server, lesson) -> list[str]:
    listing = server.call("GET", f"/api/contents/{lesson}/feedback")
    found = []
    for stamp in listing["content"]:
        inner = server.call("GET", f"/api/contents/{urllib.parse.quote(stamp['path'])}")
        found += [f["path"] for f in inner["content"] if f["name"].endswith(".html")]
    return found


def _lateness() -> dict:
    """(student, lesson) -> seconds late, from the teacher's gradebook."""
    from nbgrader.api import Gradebook

    late = {}
    with Gradebook(f"sqlite:////home/{TEACHER}/cnnlab/gradebook.db") as gb:
        for lesson in (L01, L05):
            for sub in gb.assignment_submissions(lesson):
                late[(sub.student.id, lesson)] = sub.total_seconds_late
    return late


# ---------------------------------------------------------------------------
def test_every_student_fetched_both_lessons(class_round):
    assert len(class_round.fetch) >= 10
    for name, answers in class_round.fetch.items():
        for got in answers:
            assert got["success"], (name, got)
        for lesson in (L01, L05):
            assert class_round.servers[name].exists(f"{lesson}/{lesson}.ipynb"), (name, lesson)


def test_every_grade_is_the_expected_one(class_round):
    for (name, lesson), expected in class_round.submits.items():
        got = class_round.scores[lesson].get(name)
        assert got == pytest.approx(expected[-1]), (
            f"{name} / {lesson}: graded {got}, expected {expected[-1]} (its last submission)")


def test_the_later_of_two_submissions_counts(class_round):
    first, last = class_round.submits[("hubtest-s06", L01)]
    assert (first, last) == (0, 5)
    assert class_round.scores[L01]["hubtest-s06"] == pytest.approx(5)


def test_students_who_did_not_submit_have_no_grade(class_round):
    for lesson in (L01, L05):
        for name in STUDENTS:
            if (name, lesson) not in class_round.submits and name != BROWSER_STUDENT:
                assert class_round.scores[lesson].get(name) in (None, 0), (name, lesson)
    assert "hubtest-s08" not in {n for n, _ in class_round.submits}


def test_the_late_submission_is_marked_late(class_round):
    name, lesson, _ = LATE
    assert class_round.late[(name, lesson)] > 0
    on_time = [k for k in class_round.late if k != (name, lesson) and k[1] == lesson]
    assert on_time and all(class_round.late[k] == 0 for k in on_time)


def test_everyone_who_submitted_got_feedback(class_round):
    for key, files in class_round.feedback.items():
        assert files, f"{key}: no feedback page fetched"


def test_an_account_not_in_the_course_can_neither_fetch_nor_submit(class_round):
    o = class_round.outsider
    assert not o["list"]["success"], o["list"]
    assert not o["fetch"]["success"] and not o["submit"]["success"], o
    assert not Path(f"/home/{OUTSIDER}/{L01}").exists()
    inbound = PREFIX / "class" / "exchange" / COURSE / "inbound"
    assert inbound.is_dir() and not [p for p in inbound.iterdir() if p.name.startswith(OUTSIDER)]


def test_a_deleted_assignment_folder_can_be_fetched_again(class_round):
    gone, fetched, there = class_round.refetch
    assert gone and fetched and there


def test_students_cannot_read_each_others_work_or_the_solutions(class_round):
    def can_read(user, path):
        done = subprocess.run(["su", user, "-s", "/bin/sh", "-c", f"cat '{path}' >/dev/null"],
                              capture_output=True)
        return done.returncode == 0
    other = f"/home/hubtest-s01/{L01}/{L01}.ipynb"
    solutions = f"/home/{TEACHER}/cnnlab/source/{L01}/{L01}.ipynb"
    assert can_read("hubtest-s01", other)          # the check itself works
    assert not can_read("hubtest-s02", other)
    assert not can_read("hubtest-s02", solutions)
    assert not can_read(OUTSIDER, str(PREFIX / "class" / "exchange" / COURSE / "outbound" / L01
                                      / f"{L01}.ipynb"))


def test_the_hub_listens_on_loopback_only(class_round):
    import psutil

    listening = [c for c in psutil.net_connections("inet") if c.status == "LISTEN"
                 and c.laddr.port in (PORT, PORT + 1, PORT + 2)]
    assert len(listening) == 3
    assert all(c.laddr.ip == "127.0.0.1" for c in listening), listening


def _password(name) -> str:
    for line in (PREFIX / "state" / "passwords.csv").read_text().splitlines()[1:]:
        user, password = line.split(",", 1)
        if user == name:
            return password
    raise AssertionError(f"no password recorded for {name}")


def _assignments_tab(page):
    page.locator(".lm-TabBar-tab", has_text="Assignments").first.click()
    page.wait_for_selector("#fetched_assignments_list", state="visible", timeout=30_000)


STARTED = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
                                             + '.jp-CodeCell .jp-InputPrompt')]
                   .some(e => /\\[(\\d+|\\*)\\]/.test(e.textContent))"""


def _run_all_and_save(page, name):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):  # a Run All given while the new kernel still connects runs nothing
        page.locator(".lm-MenuBar-item", has_text="Run").click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        try:
            page.wait_for_function(STARTED, timeout=30_000)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError("Run All started no cell in three tries")
    page.wait_for_function(
        """() => {
          const p = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
                                                  + '.jp-CodeCell .jp-InputPrompt')];
          return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent));
        }""", timeout=240_000)
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=30_000)


def test_one_student_does_the_round_in_jupyterlab(class_round, tmp_path):
    """Log in, Assignments tab, fetch, open, run, submit, fetch feedback: in Chromium."""
    from course import CHROMIUM, chromium_args
    from playwright.sync_api import sync_playwright

    r, name = class_round, BROWSER_STUDENT
    server = r.servers[name]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=chromium_args())
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"http://127.0.0.1:{PORT}/hub/login")
            page.fill("#username_input", name)
            page.fill("#password_input", _password(name))
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
            page.wait_for_selector(".lm-MenuBar-item", timeout=60_000)
            page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
            page.locator('.lm-Menu-item[data-command="nbgrader:open-assignment-list"]').click()
            released = page.locator("#released_assignments_list .list_item", has_text=L01)
            released.locator("button", has_text="Fetch").click()
            fetched = page.locator("#fetched_assignments_list .list_item", has_text=L01).first
            fetched.wait_for(timeout=30_000)
            assert server.exists(f"{L01}/{L01}.ipynb")
            # The student's answers (typed in the notebook in real life), then open and run it.
            path = f"{L01}/{L01}.ipynb"
            server.write_notebook(path, answer(server.read(path)["content"], r.source[L01],
                                               RIGHT01))
            fetched.locator("a.assignment-notebooks-link").click()
            page.locator(f"#nbgrader-{COURSE}-{L01} a", has_text=L01).first.click()
            page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=60_000)
            began = time.monotonic()
            _run_all_and_save(page, name)
            r.sizing["browser_run_lesson_01_s"] = round(time.monotonic() - began, 1)
            r.sizing.update(_server_footprint(name))
            _assignments_tab(page)
            page.locator("#fetched_assignments_list .list_item", has_text=L01).first.locator(
                "button", has_text="Submit").click()
            page.locator("#submitted_assignments_list .list_item", has_text=L01).first.wait_for(
                timeout=60_000)
            # The teacher collects, grades and returns this late-comer's notebook.
            t = r.teacher
            assert t.formgrader("POST", f"/assignment/{L01}/collect")["success"]
            got = t.formgrader("POST", f"/submission/{L01}/{name}/autograde")
            assert got["success"], got.get("error", got)
            assert t.formgrader("POST", f"/assignment/{L01}/{name}/generate_feedback")["success"]
            assert t.formgrader("POST", f"/assignment/{L01}/{name}/release_feedback")["success"]
            page.click("#refresh_assignments_list")
            page.locator("#submitted_assignments_list button", has_text="Fetch Feedback").first.click()
            page.locator("#submitted_assignments_list", has_text="view feedback").wait_for(
                timeout=60_000)
            page.screenshot(path=str(tmp_path / "feedback.png"))
        except Exception:
            shot = REPO / "build" / "hub" / "browser-failure.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
            raise
        finally:
            browser.close()
    scores = {s["student"]: s["score"] for s in r.teacher.formgrader("GET", f"/submissions/{L01}")}
    assert scores[name] == pytest.approx(5)
    assert _feedback_files(server, L01)
    SIZING.write_text(json.dumps(r.sizing, indent=1))
    r.note(f"class hub sizing (with the browser round): {json.dumps(r.sizing)}")


def _server_footprint(name) -> dict:
    """Memory (MB, resident) and CPU seconds of user ``name``'s server and its kernels."""
    import psutil

    procs = [p for p in psutil.process_iter(["username"]) if p.info["username"] == name]
    rss = sum(p.memory_info().rss for p in procs)
    cpu = sum(sum(p.cpu_times()[:2]) for p in procs)
    return {"student_server_rss_mb": round(rss / 2**20), "student_server_cpu_s": round(cpu, 1),
            "student_processes": len(procs)}


def test_hub_stop_removes_nothing_the_teacher_made(class_round, hub_up):
    # Checked last (module order): stop, see the course still there, start again.
    course = Path(f"/home/{TEACHER}/cnnlab")
    before = sorted(str(p.relative_to(course)) for p in course.rglob("*"))
    _hub_cli("stop")
    assert not subprocess.run([sys.executable, "-m", "cnnlab.tools.hub", "status", "--prefix",
                               str(PREFIX)], cwd=REPO, capture_output=True).returncode == 0
    after = sorted(str(p.relative_to(course)) for p in course.rglob("*"))
    assert before == after
    assert (course / "gradebook.db").exists() and (course / "autograded").is_dir()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/hub/api/", timeout=5)
