"""Checks a student's code cannot switch off: the teacher's results, compared outside the sandbox.

- :func:`expected_calls` runs the teacher's version once per lesson (cached in
  ``<course>/expected/<lesson>.json``, outside every sandbox) and records each
  call a graded test cell makes to an answer function, with its result
  (:mod:`cnnlab.tools.grading_record`).
- :class:`InjectReplay` (autograde, before ``SafeExecute``) puts a replay cell
  after each such test cell: it calls the student's functions with the same
  arguments and writes what they return (arguments only go in; the expected
  results never enter the sandbox).
- :class:`CompareReplay` (right after ``SafeExecute``) reads those results in
  the grader, compares them with the teacher's (numpy, in this process, which
  no student code touches) and fails the test cell, with the reason, when they
  differ, whatever the test cell itself reported. The replay cells are removed.

A test cell of an exercise with many right answers (such as "design a
filter") names an outside rule in a line ``# grading: compare <rule>``
(:data:`COMPARE`; the rules are in :mod:`cnnlab.tools.grading_rules`): its
calls are recorded and replayed the same way, and the rule, in the grader,
decides whether each of the student's results is right for the call's
arguments (instead of comparing it with the teacher's). An unknown rule name
stops :func:`expected_calls` with a ``ValueError``. A test cell whose calls
are not plain data (callbacks, layers, ...) or not repeatable, or that
contains the line ``# grading: open answer`` (:data:`OPEN_ANSWER`), is checked
only by its own asserts. A test cell that passes its own asserts but not the
comparison gets no points and is flagged for review (``grades.csv``'s
``review`` column): either the test was switched off, or the answer is right
in another way.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from traitlets import Integer

from nbgrader.preprocessors import NbGraderPreprocessor

from cnnlab.tools.grading_record import IN_FILE, ModelFingerprint, decode, out_file
from cnnlab.tools.grading_rules import RULES
from cnnlab.tools.grading_steps import OUTSIDE_CHECK

__all__ = ["expected_calls", "recording_notebook", "compare_rule", "InjectReplay",
           "CompareReplay", "same", "OUTSIDE_CHECK", "OPEN_ANSWER", "COMPARE"]

OPEN_ANSWER = "# grading: open answer"  # in a test cell: many answers are right, no comparison
COMPARE = "# grading: compare"  # + a rule's name: many answers are right, the rule decides
MAX_RESULT_BYTES = 20_000_000
_COMPARE_LINE = re.compile(r"^[ \t]*" + re.escape(COMPARE) + r"\b(.*)$", re.M)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _defined_functions(source) -> list[str]:
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def compare_rule(cell) -> str | None:
    """The outside rule a test cell names (``# grading: compare <rule>``), or None.

    Raises ``ValueError`` naming the cell when the rule is not one of
    :data:`cnnlab.tools.grading_rules.RULES`, when the cell names more than
    one, or when it is an open answer too.

    Parameters
    ----------
    cell : NotebookNode
        A code cell of the teacher's version.
    """
    found = _COMPARE_LINE.findall(str(cell.get("source", "")))
    if not found:
        return None
    where = f"test cell {_meta(cell).get('grade_id') or '(no grade_id)'!r}"
    names = [(m.split() or [""])[0] for m in found]
    if len(names) > 1:
        raise ValueError(f"{where}: more than one '{COMPARE} <rule>' line ({', '.join(names)})")
    if OPEN_ANSWER in cell.source:
        raise ValueError(f"{where}: both '{OPEN_ANSWER}' and '{COMPARE} {names[0]}'; keep one")
    if names[0] not in RULES:
        raise ValueError(f"{where}: unknown comparison rule {names[0]!r} in '{COMPARE} "
                         f"{names[0]}'; known rules: {', '.join(sorted(RULES))}")
    return names[0]


def recording_notebook(nb, path) -> nbformat.NotebookNode:
    """The teacher's notebook with recording cells around its answer and test cells.

    Raises ``ValueError`` for a test cell naming an unknown rule (:func:`compare_rule`).
    """
    nb = copy.deepcopy(nb)
    cells = [nbformat.v4.new_code_cell(
        "from cnnlab.tools.grading_record import Recorder as _CnnlabRecorder\n"
        "_cnnlab_recorder = _CnnlabRecorder()")]
    for cell in nb.cells:
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("grade"):
            compare_rule(cell)  # an unknown rule stops here, before anything runs
        if cell.cell_type == "code" and meta.get("grade") and OPEN_ANSWER not in cell.source:
            cells.append(nbformat.v4.new_code_cell(f"_cnnlab_recorder.start({meta['grade_id']!r})"))
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        if meta.get("grade"):
            cells.append(nbformat.v4.new_code_cell("_cnnlab_recorder.stop()"))
        elif meta.get("solution") and _defined_functions(cell.source):
            cells.append(nbformat.v4.new_code_cell(
                f"_cnnlab_recorder.wrap(globals(), {_defined_functions(cell.source)!r})"))
    cells.append(nbformat.v4.new_code_cell(f"_cnnlab_recorder.save({str(path)!r})"))
    nb.cells = cells
    return nb


def expected_calls(course, lesson, timeout=300) -> dict:
    """``{test grade_id: [call, ...]}`` from the teacher's version (run once, then cached).

    The calls of a test cell that names a rule (:func:`compare_rule`) carry it
    as ``"rule"``. Raises ``ValueError`` for an unknown rule.
    """
    from nbclient import NotebookClient

    course = Path(course)
    source = course / "source" / lesson / f"{lesson}.ipynb"
    cache = course / "expected" / f"{lesson}.json"
    if cache.is_file() and cache.stat().st_mtime >= source.stat().st_mtime:
        return json.loads(cache.read_text(encoding="utf-8"))
    cache.parent.mkdir(parents=True, exist_ok=True)
    teacher = nbformat.read(source, as_version=4)
    rules = {_meta(c).get("grade_id"): compare_rule(c) for c in teacher.cells
             if c.cell_type == "code" and _meta(c).get("grade")}
    with tempfile.TemporaryDirectory(prefix="cnnlab-teacher-") as work:
        out = Path(work) / "calls.json"
        nb = recording_notebook(teacher, out)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": work}})
        env = {**os.environ, "CNNLAB_FAST": os.environ.get("CNNLAB_FAST", "1")}
        client.execute(env=env)
        calls = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    for test, entries in calls.items():
        if rules.get(test):
            for call in entries:
                call["rule"] = rules[test]
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(calls), encoding="utf-8")
    os.replace(tmp, cache)
    return calls


def _course(resources) -> Path | None:
    url = str(resources.get("nbgrader", {}).get("db_url", "")).split("?")[0]
    return Path(url[len("sqlite:///"):]).parent if url.startswith("sqlite:///") else None


class InjectReplay(NbGraderPreprocessor):
    """Put a replay cell after every graded test cell the teacher's run recorded calls for."""

    timeout = Integer(300, help="seconds each cell of the teacher's run may take").tag(config=True)

    def preprocess(self, nb, resources):
        course, folder = _course(resources), resources.get("metadata", {}).get("path")
        if course is None or not folder:
            return nb, resources
        lesson = resources["nbgrader"]["assignment"]
        calls = expected_calls(course, lesson, self.timeout)
        inputs = {test: [{"fn": c["fn"], "args": c["args"]} for c in entries]
                  for test, entries in calls.items()}
        for stale in Path(folder).glob(out_file("*")):  # results handed in with the notebook
            stale.unlink()
        Path(folder, IN_FILE).write_text(json.dumps(inputs), encoding="utf-8")
        # imported before any student code runs (a patched sys.modules cannot stop it)
        first = nbformat.v4.new_code_cell(
            "from cnnlab.tools.grading_record import replay as _cnnlab_replay")
        first.metadata["cnnlab_replay"] = ""
        cells = [first] if calls else []
        for cell in nb.cells:
            cells.append(cell)
            test = _meta(cell).get("grade_id") if _meta(cell).get("grade") else None
            if test in calls:
                replay = nbformat.v4.new_code_cell(f"_cnnlab_replay(globals(), {test!r})")
                replay.metadata["cnnlab_replay"] = test
                cells.append(replay)
        nb.cells = cells
        resources["cnnlab_expected"] = calls
        return nb, resources


class CompareReplay(NbGraderPreprocessor):
    """Fail each test cell whose replayed calls differ from the teacher's; drop replay cells."""

    def preprocess(self, nb, resources):
        calls = resources.get("cnnlab_expected", {})
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        tests = {_meta(c).get("grade_id"): c for c in nb.cells if _meta(c).get("grade")}
        replays = {c.metadata["cnnlab_replay"]: c for c in nb.cells if "cnnlab_replay" in c.metadata}
        for test, cell in tests.items():
            if test not in calls or _failed(cell):
                continue
            problem = _differences(calls[test], _results(folder / out_file(test)))
            errors = [o for o in replays.get(test, {}).get("outputs", []) if o.get("ename")]
            if problem and errors:
                problem += f" (the check raised {errors[0]['ename']}: {errors[0].get('evalue', '')})"
            if problem:
                cell.setdefault("outputs", []).append(NotebookNode(
                    output_type="error", ename=OUTSIDE_CHECK, evalue=problem,
                    traceback=[f"{OUTSIDE_CHECK}: {problem}"]))
        nb.cells = [c for c in nb.cells if "cnnlab_replay" not in c.get("metadata", {})]
        for name in [IN_FILE, *(out_file(t) for t in calls)]:
            (folder / name).unlink(missing_ok=True)
        return nb, resources


def _failed(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def _results(path: Path):
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            return None
        got = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return got if isinstance(got, list) else None


def _differences(expected, got) -> str:
    """Why the student's results are not the teacher's (``""`` when they are).

    A call that carries a ``"rule"`` is judged by that rule
    (:mod:`cnnlab.tools.grading_rules`) instead of compared with the teacher's result.
    """
    if got is None or len(got) != len(expected):
        return ("checked outside your code: your functions could not be called again with "
                "this test's arguments (a name missing or changed?)")
    for want, have in zip(expected, got):
        call = f"{want['fn']}(...)"
        if "raises" in want:
            if "raises" not in have:
                return f"checked outside your code: {call} should raise {want['raises']}, it returned"
        elif "raises" in have:
            return f"checked outside your code: {call} raised {have['raises']}"
        elif want.get("rule"):
            problem = _rule_problem(want, have)
            if problem:
                return f"checked outside your code: {_call_text(want)} \u2014 {problem}"
        elif not isinstance(have, dict) or not _same_result(want["result"], have.get("result")):
            return (f"checked outside your code: {call} does not return what the teacher's "
                    "version returns for the same arguments")
    return ""


def _rule_problem(want, have) -> str:
    """What the call's rule finds wrong with the student's result (``""``: nothing)."""
    if want["rule"] not in RULES:
        raise ValueError(f"unknown comparison rule {want['rule']!r} in the teacher's calls; "
                         f"known rules: {', '.join(sorted(RULES))}")
    try:
        args, kwargs = decode(want["args"], result=True)
        expected = decode(want["result"], result=True)
        got = decode(have["result"], result=True)
    except Exception:  # not what encode writes
        return "what it returned could not be read back"
    return RULES[want["rule"]](list(args), dict(kwargs), expected, got)


def _call_text(call, limit=80) -> str:
    """``corner_kernel('top_left')``: the call with its arguments, when they are short."""
    try:
        args, kwargs = decode(call["args"], result=True)
        text = ", ".join([*(repr(a) for a in args), *(f"{k}={v!r}" for k, v in kwargs.items())])
    except Exception:  # arguments that only the sandbox decodes (generators, inputs)
        text = "..."
    return f"{call['fn']}({text if len(text) <= limit else '...'})"


def _same_result(want, have) -> bool:
    """Whether the student's encoded result is the teacher's (False for data that is not a result)."""
    try:
        got = decode(have, result=True)
    except Exception:  # not what encode writes for a result
        return False
    if _unprobed(got):  # the replay always probes: a missing probe was written by other code
        return False
    return same(decode(want, result=True), got)


def _unprobed(value) -> bool:
    """Whether ``value`` holds a model fingerprint without a probe."""
    if isinstance(value, ModelFingerprint):
        return value.probe is None
    if isinstance(value, (list, tuple)):
        return any(_unprobed(v) for v in value)
    if isinstance(value, dict):
        return any(_unprobed(v) for v in value.values())
    return False


def same(expected, got, rtol=1e-4, atol=1e-6) -> bool:
    """Whether ``got`` equals ``expected``: numbers and arrays within tolerance, shapes exact."""
    import numpy as np

    if isinstance(expected, dict) or isinstance(got, dict):
        return (isinstance(expected, dict) and isinstance(got, dict) and expected.keys() == got.keys()
                and all(same(expected[k], got[k], rtol, atol) for k in expected))
    if isinstance(expected, str) or isinstance(got, str) or expected is None or got is None:
        return type(expected) is type(got) and expected == got
    pair = (list, tuple)
    if isinstance(expected, pair) and isinstance(got, pair) and len(expected) == len(got) and \
            any(isinstance(v, (pair, dict, str, np.ndarray)) for v in [*expected, *got]):
        return all(same(e, g, rtol, atol) for e, g in zip(expected, got))
    try:
        want, have = np.asarray(expected, dtype=float), np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        try:
            return bool(expected == got)
        except Exception:  # an == that gives no single truth value
            return False
    return want.shape == have.shape and bool(np.allclose(have, want, rtol=rtol, atol=atol,
                                                          equal_nan=True))
