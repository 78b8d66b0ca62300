"""What the simulated students hand in: each exercise answered right, wrong or not at all.

An answer is built from the released (student) notebook a student fetched and the
teacher's version: "right" copies the teacher's solution into the answer cell,
"wrong" copies it and then wraps the function so every result is off by one
(the wrong answer of the grading issue), "blank" leaves the stub.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

RIGHT, WRONG, BLANK = "right", "wrong", "blank"


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _source(cell) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def teacher_cells(source_nb) -> dict:
    """grade_id -> source of each answer cell of the teacher's notebook."""
    return {_grade_id(c): _source(c) for c in source_nb["cells"]
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def points(source_nb) -> dict:
    """answer grade_id -> points of its test cell (``ex01-conv1d`` -> 3)."""
    found = {}
    for c in source_nb["cells"]:
        nbg = c.get("metadata", {}).get("nbgrader", {})
        if nbg.get("grade") and nbg.get("points"):
            found[nbg["grade_id"].removesuffix("-test")] = float(nbg["points"])
    return found


def _wrong(solution: str) -> str:
    names = re.findall(r"^def (\w+)\(", solution, flags=re.M)
    name = names[-1]
    return (solution + f"\n\n_right_{name} = {name}\n\n"
            f"def {name}(*args, **kwargs):\n"
            f"    return _right_{name}(*args, **kwargs) + 1\n")


def answer(student_nb, source_nb, plan: dict) -> dict:
    """``student_nb`` with each answer cell filled as ``plan[grade_id]`` says (default blank)."""
    solutions = teacher_cells(source_nb)
    nb = copy.deepcopy(student_nb)
    for cell in nb["cells"]:
        gid = _grade_id(cell)
        how = plan.get(gid, BLANK)
        if gid in solutions and how != BLANK:
            text = "\n".join(line for line in solutions[gid].splitlines()
                              if not re.fullmatch(r"\s*### (BEGIN|END) SOLUTION\s*", line))
            cell["source"] = text if how == RIGHT else _wrong(text)
    return nb


def expected_score(source_nb, plan: dict) -> float:
    """The points a submission answered as ``plan`` must get."""
    return sum(p for gid, p in points(source_nb).items() if plan.get(gid) == RIGHT)


def load(path) -> dict:
    return json.loads(Path(path).read_text())
