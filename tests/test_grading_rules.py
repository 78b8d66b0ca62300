"""Outside rules for exercises with many right answers, and the marker that names them.

Unit tests of :mod:`cnnlab.tools.grading_rules` (``unordered``: the teacher's
items in any order; ``corner_kernel``: the properties of lesson 02's corner
filter, checked with the rule's own numpy correlation), then of the marker
``# grading: compare <rule>`` in :mod:`cnnlab.tools.grading_replay`: an
unknown rule stops the teacher's run, a rule's failure explains itself in
the feedback. The graded class is in ``tests/test_grading_class.py``.
"""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from cnnlab import checks, kernels
from cnnlab.tools import grading_rules
from cnnlab.tools.grading_record import decode, encode
from cnnlab.tools.grading_rules import corner_kernel, unordered


def through_json(value):
    """``value`` as the grader reads it: encoded in the kernel, JSON, decoded."""
    return decode(json.loads(json.dumps(encode(value))), result=True)


def pairs(n, k, target):
    """The lesson-03 teacher's answer: (p, s) in increasing p, then s."""
    return [(p, s) for p in range(k) for s in range(1, k + 1)
            if n + 2 * p >= k and (n + 2 * p - k) // s + 1 == target]


# --------------------------------------------------------------------------
# unordered
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n, k, target", [(7, 3, 3), (4, 6, 2), (6, 2, 20), (40, 7, 9)])
@pytest.mark.parametrize("form", [
    lambda got: got[::-1],                                           # another order
    lambda got: [list(p) for p in got],                              # lists, not tuples
    lambda got: set(got),                                            # a set (any order)
    lambda got: np.array(got, dtype=np.int64).reshape(-1, 2),        # an (M, 2) array
    lambda got: [(np.int32(p), np.int64(s)) for p, s in got],        # numpy ints
])
def test_unordered_accepts_the_same_items_in_any_form(n, k, target, form):
    expected = through_json(pairs(n, k, target))
    assert unordered([n, k, target], {}, expected, through_json(form(pairs(n, k, target)))) == ""


@pytest.mark.parametrize("got, message", [
    ([(1, 3), (0, 2)], "(2, 3) missing"),
    ([(0, 2), (1, 3), (2, 3), (3, 3)], "(3, 3) not right"),
    ([(2, 0), (3, 1), (3, 2)], "(0, 2), (1, 3), (2, 3) missing, (2, 0), (3, 1), (3, 2) not right"),
    ([(0, 2), (1, 3), (2, 3), (1, 3)], "(1, 3) listed more than once"),
    ([(0, 2), (1, 3), (2.5, 3)], "the item (2.5, 3) is not whole numbers"),
    ([(0, 2), (1, 3), (True, 3)], "is not whole numbers"),
    ("(0, 2)", "returned str, not a list"),
    (None, "returned NoneType, not a list"),
    ({"a": 1}, "returned dict, not a list"),
])
def test_unordered_says_what_differs(got, message):
    expected = through_json(pairs(7, 3, 3))
    assert expected == [(0, 2), (1, 3), (2, 3)]
    problem = unordered([7, 3, 3], {}, expected, through_json(got))
    assert message in problem, problem


def test_unordered_is_a_multiset_when_the_teacher_repeats_items():
    expected = [(1, 2), (1, 2), (3, 4)]
    assert unordered([], {}, expected, [(3, 4), (1, 2), (1, 2)]) == ""
    assert unordered([], {}, expected, [(3, 4), (1, 2)]) == "(1, 2) missing"
    assert unordered([], {}, [], []) == ""
    assert unordered([], {}, [], [(0, 1)]) == "(0, 1) not right"


# --------------------------------------------------------------------------
# corner_kernel
# --------------------------------------------------------------------------

def oriented(k, corner):
    """The top-left design ``k`` turned to ``corner`` (rows and/or columns reversed)."""
    if corner.startswith("bottom"):
        k = k[::-1]
    if corner.endswith("right"):
        k = k[:, ::-1]
    return k


def teachers_kernel(corner):
    """Lesson 02's answer: 1 on the corner's row and column, -5/4 elsewhere."""
    k = np.full((3, 3), -5 / 4)
    k[0, :] = 1.0
    k[:, 0] = 1.0
    return oriented(k, corner)


def heavy_point(corner):
    """Another right design: the corner cell weighs 2, the arms 1, the rest -6/4."""
    k = np.full((3, 3), -1.5)
    k[0, :] = 1.0
    k[:, 0] = 1.0
    k[0, 0] = 2.0
    return oriented(k, corner)


RIGHT_KERNELS = {
    "teachers": teachers_kernel,
    "scaled down": lambda c: 0.01 * teachers_kernel(c),
    "scaled up": lambda c: 1000.0 * teachers_kernel(c),
    "heavy point": heavy_point,
    "as lists": lambda c: teachers_kernel(c).tolist(),
}


@pytest.mark.parametrize("corner", grading_rules.CORNER_CELLS)
@pytest.mark.parametrize("design", RIGHT_KERNELS)
def test_right_corner_kernels_of_several_designs_pass(design, corner):
    got = through_json(RIGHT_KERNELS[design](corner))
    assert corner_kernel([corner], {}, None, got) == ""
    assert corner_kernel([], {"corner": corner}, None, got) == ""
    checks.check_feature_kernel(lambda c: np.asarray(RIGHT_KERNELS[design](c)))  # the course agrees


@pytest.mark.parametrize("kernel, message", [
    (teachers_kernel("top_left") + 0.5 / 9, "the weights sum to 0.5, not 0"),
    (np.ones((3, 3)), "the weights sum to 9, not 0"),
    (np.zeros((3, 3)), "the top-left corner answers 0 at its corner cell (2, 2), not more than 0"),
    (teachers_kernel("top_right"), "the top-left corner answers 1 at (0, 0), as much as at its "
                                   "corner cell (2, 2) (0.5)"),
    (np.array([[1, 1, 1], [1, -3.5, 1], [1, -3.5, 1]]),
     "the top-right corner answers 5, not less than the top-left corner's 5"),
    (np.array([[1, 1, 0], [2, -1, 1], [1, 3, -8]]),
     "the diagonal line np.eye(8, k=-6) answers 5, not less than the top-left corner's 5"),
    (np.array([[1, 1, 3], [-1, 3, 1], [3, -2, -9]]),
     "the anti-diagonal line np.fliplr(np.eye(8, k=-5)) answers 9, not less than the top-left"),
    (np.zeros((2, 2)), "returned an array of shape (2, 2), not (3, 3)"),
    (np.array([[np.nan] * 3] * 3), "the weights hold inf or nan"),
    ("kernel", "returned str, not an array of numbers"),
])
def test_wrong_corner_kernels_fail_with_the_property_that_fails(kernel, message):
    problem = corner_kernel(["top_left"], {}, None, through_json(kernel))
    assert message in problem, problem
    if isinstance(kernel, np.ndarray) and kernel.shape == (3, 3):
        with pytest.raises(checks.CheckFailed):  # the course's checker refuses it too
            checks.check_feature_kernel(lambda c: kernel)


def test_a_call_naming_no_known_corner_fails():
    assert corner_kernel(["middle"], {}, None, teachers_kernel("top_left")) == \
        "the call names no corner this rule knows ('middle')"
    assert "names no corner" in corner_kernel([], {}, None, teachers_kernel("top_left"))


def test_the_rules_own_correlation_is_the_courses():
    rng = np.random.default_rng(2)
    for shape in [(8, 8), (5, 7)]:
        image, kernel = rng.normal(size=shape), rng.normal(size=(3, 2))
        np.testing.assert_allclose(grading_rules.correlate(image, kernel),
                                   kernels.conv2d(image, kernel), atol=1e-12)
    with pytest.raises(ValueError, match="image, kernel"):
        grading_rules.correlate(np.zeros((2, 2)), np.zeros((3, 3)))
    assert len(grading_rules.straight_lines()) == 1 + 2 * 15 + 2 * 8


def test_a_rule_is_found_by_name_or_refused():
    assert grading_rules.rule("unordered") is unordered
    for bad in ("sorted", "", None):
        with pytest.raises(ValueError, match="rule: expected one of corner_kernel, unordered"):
            grading_rules.rule(bad)


# --------------------------------------------------------------------------
# The marker in a test cell (the grader's side)
# --------------------------------------------------------------------------

replay = pytest.importorskip("cnnlab.tools.grading_replay", reason="teachers' tools")


def graded_cell(source, grade_id="ex-pairs-test"):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": 1,
                                 "locked": True, "solution": False, "schema_version": 3}
    return cell


def test_the_marker_names_a_known_rule_or_stops_the_teachers_run(tmp_path):
    assert replay.compare_rule(graded_cell("# grading: compare unordered (any order)\nf()")) == \
        "unordered"
    assert replay.compare_rule(graded_cell("f()\n  # grading: compare corner_kernel")) == \
        "corner_kernel"
    assert replay.compare_rule(graded_cell("# grading: compared later\nf()")) is None
    assert replay.compare_rule(graded_cell(replay.OPEN_ANSWER + "\nf()")) is None
    for source, message in [
            ("# grading: compare sorted\nf()", "test cell 'ex-pairs-test': unknown comparison "
                                               "rule 'sorted'"),
            ("# grading: compare\nf()", "unknown comparison rule ''"),
            ("# grading: compare unordered\n# grading: compare corner_kernel", "more than one"),
            (f"# grading: compare unordered\n{replay.OPEN_ANSWER}", "both")]:
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            replay.compare_rule(graded_cell(source))
    nb = nbformat.v4.new_notebook()
    nb.cells = [graded_cell("# grading: compare sorted\nf()", "ex-typo-test")]
    with pytest.raises(ValueError, match="'ex-typo-test': unknown comparison rule 'sorted'"):
        replay.recording_notebook(nb, tmp_path / "calls.json")
    source = tmp_path / "course" / "source" / "98_typo" / "98_typo.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(nb, source)
    with pytest.raises(ValueError, match="'ex-typo-test': unknown comparison rule 'sorted'"):
        replay.expected_calls(tmp_path / "course", "98_typo")  # before any kernel starts
    assert not (tmp_path / "course" / "expected" / "98_typo.json").exists()
    nb.cells = [graded_cell("# grading: compare unordered\nf()")]
    recording = replay.recording_notebook(nb, tmp_path / "calls.json")
    assert any("_cnnlab_recorder.start('ex-pairs-test')" in c.source for c in recording.cells)


def teacher_call(fn, args, result, rule):
    return {"fn": fn, "args": encode([list(args), {}], argument=True), "result": encode(result),
            "rule": rule}


def test_a_rule_decides_the_comparison_and_says_what_failed():
    want = [teacher_call("corner_kernel", ["top_left"], teachers_kernel("top_left"),
                         "corner_kernel"),
            teacher_call("padding_stride_pairs", [7, 3, 3], pairs(7, 3, 3), "unordered")]
    right = [{"result": encode(0.5 * teachers_kernel("top_left"))},
             {"result": encode({(2, 3), (0, 2), (1, 3)})}]
    assert replay._differences(want, right) == ""
    wrong_sum = [{"result": encode(teachers_kernel("top_left") + 0.5 / 9)}, right[1]]
    assert replay._differences(want, wrong_sum) == (
        "checked outside your code: corner_kernel('top_left') \u2014 the weights sum to 0.5, "
        "not 0")
    wrong_pairs = [right[0], {"result": encode([(0, 2), (1, 3)])}]
    assert replay._differences(want, wrong_pairs) == (
        "checked outside your code: padding_stride_pairs(7, 3, 3) \u2014 (2, 3) missing")
    assert "raised ValueError" in replay._differences(want, [{"raises": "ValueError"}, right[1]])
    unreadable = [{"result": {"__ndarray__": 1}}, right[1]]
    assert "could not be read back" in replay._differences(want, unreadable)
    with pytest.raises(ValueError, match="unknown comparison rule 'sorted'"):
        replay._differences([{**want[1], "rule": "sorted"}], [right[1]])
