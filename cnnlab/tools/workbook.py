"""The learner's own copies of the lessons, with every exercise still to be written (``make lab``).

Usage::

    python -m cnnlab.tools.workbook [--into FOLDER]

``notebooks/`` holds the teacher's versions: every exercise answered, so
that the tests can prove the answers and the checkers. A learner working
alone opens the student versions instead, written into ``build/lab/``
(``--into``) the first time ``make lab`` runs:

- the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of each
  answer cell becomes ``raise NotImplementedError("Exercise <name>: ...")``
  at the same indentation (inside the function the learner completes, so the
  cell still defines it and the lesson runs on);
- a written answer (a markdown answer cell) becomes "YOUR ANSWER HERE";
- the teacher's hidden tests (``### BEGIN HIDDEN TESTS`` ... ``### END
  HIDDEN TESTS``) are removed;
- the answer and test cells lose their stored outputs (a stored "Well done"
  would answer the question); every other cell keeps its outputs.

A copy that is already there is the learner's work and is never
overwritten: delete it to get a fresh one. ``make clean`` keeps ``build/lab``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
LAB = ROOT / "build" / "lab"
TEXT_STUB = "YOUR ANSWER HERE"

_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)",
                       re.M | re.S)
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n.*?^[ \t]*### END HIDDEN TESTS[^\n]*(\n|$)",
                     re.M | re.S)

__all__ = ["code_stub", "student_source", "student_notebook", "write_workbook"]


def code_stub(exercise: str) -> str:
    """The line a student version has where the answer was."""
    return f'raise NotImplementedError("Exercise {exercise}: replace this line with your code")'


def student_source(source: str, exercise: str) -> str:
    """An answer cell's code with each solution block replaced by :func:`code_stub`.

    Parameters
    ----------
    source : str
        The teacher's cell.
    exercise : str
        The exercise's name (the cell's nbgrader ``grade_id``).

    Returns
    -------
    str
        The cell with ``# YOUR CODE HERE`` and the stub at each block's indentation.
    """
    def stub(match):
        indent = match.group(1)
        return f"{indent}# YOUR CODE HERE\n{indent}{code_stub(exercise)}{match.group(2)}"

    return _SOLUTION.sub(stub, source)


def without_hidden_tests(source: str) -> str:
    """A test cell without the teacher's hidden tests."""
    return _HIDDEN.sub("", source).rstrip("\n")


def student_notebook(nb: dict) -> dict:
    """The student version of a lesson (a notebook as JSON), the teacher's left unchanged."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        original = source = "".join(cell.get("source", ""))
        if meta.get("solution"):
            if cell["cell_type"] == "code":
                source = student_source(source, meta.get("grade_id", "exercise"))
            else:
                source = TEXT_STUB
        if meta.get("grade") and cell["cell_type"] == "code":
            source = without_hidden_tests(source)
        if meta.get("solution") or meta.get("grade"):
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        if source != original:
            cell["source"] = source
    return nb


def write_workbook(into: Path = LAB, notebooks: Path = NOTEBOOKS, log=print) -> list[Path]:
    """Write the student version of every lesson into ``into`` unless a copy is already there.

    Returns
    -------
    list of Path
        The notebooks written this time (the ones already there are kept).
    """
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(Path(notebooks).glob("[0-9][0-9]_*.ipynb")):
        target = into / path.name
        if target.exists():
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        target.write_text(json.dumps(student_notebook(nb), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    for extra in sorted(Path(notebooks).glob("*.md")):       # the glossary the lessons link to
        shutil.copyfile(extra, into / extra.name)
    kept = len(sorted(into.glob("[0-9][0-9]_*.ipynb"))) - len(written)
    log(f"Your lessons are in {into}: {len(written)} new, {kept} kept as you left them "
        "(delete one to get a fresh copy).")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.tools.workbook",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--into", type=Path, default=LAB, help="folder (%(default)s)")
    args = parser.parse_args(argv)
    write_workbook(args.into)
    return 0


if __name__ == "__main__":
    sys.exit(main())
