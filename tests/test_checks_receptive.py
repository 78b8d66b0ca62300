"""The checkers of lesson 09's C3 table and lesson 10's receptive fields explain wrong answers.

Every wrong function below makes one mistake a learner makes; each test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks, shapes
from cnnlab.checks import CheckFailed, NotAFunction


def expect_hint(check, fn, *parts):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"


# --------------------------------------------------------------------------
# C3's connection table
# --------------------------------------------------------------------------

def c3(n_in, shift=0, wrap=True, pair=(0, 1, 3, 4), transpose=False, repeat=1):
    table = np.zeros((n_in, 2 * n_in + n_in // 2 + 1), dtype=int)
    groups = [(n_in, (0, 1, 2), 0), (n_in, (0, 1, 2, 3), n_in), (n_in // 2, pair, 2 * n_in)]
    for count, offsets, first in groups:
        for j in range(count):
            for d in offsets:
                i = j + d + shift
                if wrap:
                    table[i % n_in, first + j] += repeat
                elif i < n_in:
                    table[i, first + j] += repeat
    table[:, -1] = 1
    return table.T if transpose else table


def test_c3_reference_is_the_papers_table():
    np.testing.assert_array_equal(checks.c3_table_reference(6), shapes.lenet5_c3_table())
    assert checks.c3_table_reference(7).shape == (7, 18)
    with pytest.raises(ValueError, match="n_in"):
        checks.c3_table_reference(4)
    with pytest.raises(TypeError, match="n_in"):
        checks.c3_table_reference(6.0)


def test_c3_right_answer_passes(capsys):
    result = checks.check_c3_table(c3)
    assert result.cases == 6 and "Well done: c3 passed" in capsys.readouterr().out
    checks.check_c3_table(lambda n_in: c3(n_in).astype(bool))   # True/False counts as 0/1


@pytest.mark.parametrize("fn, parts", [
    (lambda n: c3(n, transpose=True), ("Rows and columns are swapped",)),
    (lambda n: c3(n, shift=1), ("start 1 map(s) later",)),
    (lambda n: c3(n, shift=-1), ("start 1 map(s) earlier",)),
    (lambda n: c3(n, wrap=False), ("wrap around", "% 6")),
    (lambda n: c3(n, pair=(0, 1, 2, 3)), ("two neighbouring *pairs*",)),
    (lambda n: c3(n, repeat=2), ("Every entry is 0 or 1",)),
    (lambda n: c3(6), ("5 + 5 + 5 // 2 + 1 = 13 output maps",)),
])
def test_c3_mistakes_are_named(fn, parts):
    expect_hint(checks.check_c3_table, fn, *parts)


def test_c3_refuses_text_and_bad_arguments():
    expect_hint(checks.check_c3_table, lambda n: str(c3(n)), "text instead of numbers")
    expect_hint(checks.check_c3_table, lambda n: c3(n) + 0j, "complex numbers")
    with pytest.raises(NotAFunction):
        checks.check_c3_table(c3(6))
    with pytest.raises(TypeError, match="time_limit"):
        checks.check_c3_table(c3, time_limit="1 s")


# --------------------------------------------------------------------------
# Receptive fields
# --------------------------------------------------------------------------

def fields(layers, mistake=None):
    r, j, rows = (0 if mistake == "start0" else 1), 1, []
    for layer in layers:
        k, s = layer[0], layer[1]
        d = 1 if mistake == "no_dilation" or len(layer) == 2 else layer[2]
        span = (k - 1) * d + 1
        before = j
        if mistake == "order":
            j *= s
            r += (span - 1) * j
        elif mistake == "no_jump":
            r += span - 1
            j *= s
        else:
            r += (span - 1) * j
            j *= s
        rows.append((r, before if mistake == "jump_before" else j))
    if mistake == "swapped":
        rows = [(b, a) for a, b in rows]
    if mistake == "floats":
        rows = [(float(a), float(b)) for a, b in rows]
    return rows


def test_receptive_field_right_answer_passes(capsys):
    result = checks.check_receptive_field(fields)
    assert result.cases >= 10 and "Well done: fields passed" in capsys.readouterr().out
    checks.check_receptive_field(lambda layers: np.array(fields(layers)))   # an array is fine


@pytest.mark.parametrize("mistake, parts", [
    ("order", ("before growing the field",)),
    ("no_jump", ("not by k - 1",)),
    ("start0", ("one too small", "r = 1")),
    ("jump_before", ("jumps are those of the layer below",)),
    ("no_dilation", ("dilation is ignored",)),
    ("swapped", ("you returned (jump, size)",)),
    ("floats", ("whole numbers",)),
])
def test_receptive_field_mistakes_are_named(mistake, parts):
    expect_hint(checks.check_receptive_field, lambda layers: fields(layers, mistake), *parts)


def test_receptive_field_results_of_the_wrong_form_are_explained():
    expect_hint(checks.check_receptive_field, lambda layers: fields(layers)[-1], "row(s) for")
    expect_hint(checks.check_receptive_field, lambda layers: [r[0] for r in fields(layers)],
                "not a (size, jump) pair")
    expect_hint(checks.check_receptive_field, lambda layers: "7", "not a list")
    expect_hint(checks.check_receptive_field, lambda layers: None, "returned None")


def test_receptive_field_refuses_bad_arguments():
    with pytest.raises(NotAFunction):
        checks.check_receptive_field([(3, 1)])
    with pytest.raises(ValueError, match="time_limit"):
        checks.check_receptive_field(fields, time_limit=0)
