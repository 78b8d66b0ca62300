"""nbgrader steps that make grading safe against mangled or hostile notebooks.

The course's ``nbgrader_config.py`` puts them in nbgrader's pipelines, so
``make grade`` and Formgrader's autograde use the same ones:

- :class:`NamedClearSolutions` (generate): each stub raises
  ``NotImplementedError`` naming its exercise (the cell's ``grade_id``).
- :class:`DropDuplicateIds` (sanitize, instead of nbgrader's
  ``DeduplicateIds``, whose leftover empty metadata makes nbgrader refuse the
  notebook): a cell copied with its nbgrader metadata is graded once; copies
  of an answer cell keep their code (they run as ordinary cells), copies of a
  test cell are dropped (the teacher's test is put back by ``OverwriteCells``).
- :class:`SafeExecute` (autograde): runs the kernel in the sandbox
  (:mod:`cnnlab.tools.sandbox`); when the kernel dies, the cells before keep
  their results, the cell that killed it says why, and every later cell fails
  with "not run", so no unexecuted test counts as passed.
- :class:`FlagPatching` (autograde): a note at the top of the feedback naming
  every answer cell that assigns into an imported module, ``builtins`` or
  ``sys.modules`` (see :func:`patch_flags`), for manual review.
- :class:`ClipOutput` (autograde): text outputs cut to ``max_chars``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode
from traitlets import Bool, Integer

from nbgrader.preprocessors import ClearSolutions, Execute, NbGraderPreprocessor

from cnnlab.tools.sandbox import SandboxKernelManager

__all__ = ["NamedClearSolutions", "DropDuplicateIds", "SafeExecute", "FlagPatching",
           "ClipOutput", "patch_flags", "outside_disagreements", "teacher_cells", "KERNEL_DIED",
           "NOT_RUN", "OUTSIDE_CHECK", "REVIEW_NOTE"]

KERNEL_DIED = "KernelDied"  # ename of the error put in the cell that killed the kernel
NOT_RUN = "NotRun"  # ename of the error put in every cell after it
REVIEW_NOTE = "**Flagged for manual review**"
OUTSIDE_CHECK = "OutsideCheckFailed"  # ename of the error a failed comparison with the teacher adds
SHELL = "get_ipython()"  # the IPython shell, which runs every later cell (tests too)
SHELL_OK = ("run_line_magic", "run_cell_magic", "system", "getoutput")


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _error(ename, evalue) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class NamedClearSolutions(ClearSolutions):
    """``ClearSolutions`` whose code stub may name the exercise: ``{grade_id}`` is filled in."""

    def preprocess_cell(self, cell, resources, cell_index):
        stubs = dict(self.code_stub)
        grade_id = _grade_id(cell) or "exercise"
        self.code_stub = {lang: stub.replace("{grade_id}", grade_id) for lang, stub in stubs.items()}
        try:
            return super().preprocess_cell(cell, resources, cell_index)
        finally:
            self.code_stub = stubs


class DropDuplicateIds(NbGraderPreprocessor):
    """Grade a cell copied with its nbgrader metadata once (the first copy keeps the id)."""

    def preprocess(self, nb, resources):
        seen, kept = set(), []
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            grade_id = meta.get("grade_id")
            marked = meta.get("grade") or meta.get("solution") or meta.get("locked")
            if grade_id and marked and grade_id in seen:
                self.log.warning("cell %r appears more than once; graded once", grade_id)
                if not meta.get("solution"):
                    continue  # a copy of a test (or locked) cell: the teacher's one is put back
                del cell.metadata["nbgrader"]  # a copy of an answer: its code still runs
            elif grade_id and marked:
                seen.add(grade_id)
            kept.append(cell)
        nb.cells = kept
        return nb, resources


class SafeExecute(Execute):
    """nbgrader's ``Execute`` in the sandbox, keeping the grades earned before a kernel dies."""

    def __init__(self, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(**kwargs)
        self.died = None

    def preprocess(self, nb, resources=None, km=None):
        self.died = None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if self.died:
            if cell.cell_type == "code":
                cell.outputs = [_error(NOT_RUN, f"not run: the kernel died earlier, in "
                                                f"{self.died}")]
                cell.execution_count = None
            return cell, resources
        from nbclient.exceptions import DeadKernelError

        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            where = _grade_id(cell) or f"cell {index + 1}"
            self.died = f"{where} ({self._exit_reason()})"
            cell.outputs.append(_error(KERNEL_DIED, f"the kernel died while running this cell "
                                                    f"({self._exit_reason()}); the cells before "
                                                    "it keep their grades, the ones after fail"))
            return cell, resources

    def _exit_reason(self) -> str:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "it stopped answering"
        if code < 0 or code in (137, 128 + 9):
            return "killed, probably for using too much memory"
        return f"exit code {code}"


class FlagPatching(NbGraderPreprocessor):
    """Put a review note at the top of the notebook when an answer patches modules."""

    def preprocess(self, nb, resources):
        flags = patch_flags(nb, teacher_cells(resources)) + outside_disagreements(nb)
        if flags:
            lines = "\n".join(f"- {flag}" for flag in flags)
            note = NotebookNode(cell_type="markdown", metadata={},
                                source=f"{REVIEW_NOTE} (check the grade by hand):\n\n{lines}")
            if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
                note["id"] = "cnnlab-review-note"
            nb.cells.insert(0, note)
        return nb, resources


def outside_disagreements(nb) -> list[str]:
    """Test cells that passed their own asserts but failed the check against the teacher's results.

    Either the answer differs from the teacher's and is right too (an exercise
    with many right answers: mark its test cell with ``# grading: compare <rule>`` (see
    :mod:`cnnlab.tools.grading_rules`) or ``# grading: open answer``)
    or the test was switched off; the teacher decides.
    """
    flags = []
    for cell in nb.cells:
        errors = [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and set(errors) == {OUTSIDE_CHECK}:
            flags.append(f"{_grade_id(cell)}: passed its own test but not the comparison with the "
                         "teacher's results (a different right answer, or a switched-off test?)")
    return flags


def teacher_cells(resources) -> set[str]:
    """Sources of the code cells of the student version being graded (found from the gradebook)."""
    info = (resources or {}).get("nbgrader", {})
    url = str(info.get("db_url", ""))
    if not url.startswith("sqlite:///"):
        return set()
    course = Path(url[len("sqlite:///"):]).parent
    name = f"{info.get('notebook')}.ipynb"
    for folder in ("release", "source"):
        path = course / folder / str(info.get("assignment")) / name
        if path.is_file():
            nb = nbformat.read(path, as_version=4)
            return {c.source.strip() for c in nb.cells if c.cell_type == "code"}
    return set()


def patch_flags(nb, teacher=()) -> list[str]:
    """``"ex-conv: assigns np.testing.assert_allclose (line 3)"`` for each suspicious line.

    Looks at the cells a student wrote (answer cells, and cells that are not
    in the student version ``teacher``) for assignments or
    deletions into an imported module (``np.x = ...``, ``setattr(np, ...)``),
    into ``builtins``/``__builtins__``, into ``sys.modules``, and for
    ``exec``/``eval``/``compile`` calls, which could hide the same.

    Parameters
    ----------
    nb : NotebookNode
        The submitted notebook.
    teacher : set of str
        Sources of the student version's code cells (stripped); those are not flagged.
    """
    if not hasattr(nb, "cells"):
        raise TypeError(f"nb: expected a notebook (nbformat.NotebookNode), got {type(nb).__name__}")
    modules = {"builtins", "__builtins__", "sys"}
    flags = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        tree = _parse(cell.get("source", ""))
        if tree is None:
            continue
        modules |= _imported_names(tree)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") or (not meta and str(cell.get("source", "")).strip() not in teacher):
            where = _grade_id(cell) or f"cell {index + 1}"
            found = sorted(_patches(tree, modules), key=lambda item: item[0])
            flags += [f"{where}: {what} (line {line})" for line, what in found]
    return flags


def _parse(source):
    lines = [line for line in str(source).splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _imported_names(tree) -> set[str]:
    """Names bound to modules by imports."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names}
    return names


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython":
        return SHELL
    return node.id if isinstance(node, ast.Name) else None


def _shell_names(tree) -> set[str]:
    """``get_ipython()`` and the names bound to it (``ip = get_ipython()``)."""
    return {SHELL} | {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                      and _root_name(node.value) == SHELL and isinstance(node.value, ast.Call)
                      for t in node.targets if isinstance(t, ast.Name)}


def _patches(tree, modules):
    shells = _shell_names(tree)
    modules = modules | shells
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, (ast.Attribute, ast.Subscript)) and _root_name(target) in modules:
                yield node.lineno, f"assigns {ast.unparse(target)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in ("setattr", "delattr") and node.args and _root_name(node.args[0]) in modules:
                yield node.lineno, f"calls {name}({ast.unparse(node.args[0])}, ...)"
            elif name in ("exec", "eval", "compile", "__import__"):
                yield node.lineno, f"calls {name}(...)"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            owner = ast.unparse(node.func.value)
            if _root_name(node.func) in shells and method not in SHELL_OK:
                yield node.lineno, f"changes the IPython shell: calls {ast.unparse(node.func)}(...)"
                continue
            if method in ("update", "setdefault", "pop", "__setitem__") and \
                    owner in ("sys.modules", "builtins.__dict__", "__builtins__"):
                yield node.lineno, f"calls {owner}.{method}(...)"


class ClipOutput(Preprocessor):
    """Cut every text output of a graded notebook to ``max_chars`` characters.

    nbgrader's ``LimitOutput`` counts lines; a single ``print`` of a
    megabyte-long string is one line. Grades do not change: error outputs,
    which decide them, are kept.
    """

    enabled = Bool(True)
    max_chars = Integer(20_000, help="characters kept per output").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = self._clip(out["text"])
            elif "text/plain" in out.get("data", {}):
                out["data"]["text/plain"] = self._clip(out["data"]["text/plain"])
        return cell, resources

    def _clip(self, text):
        if len(text) <= self.max_chars:
            return text
        return text[:self.max_chars] + f"\n... [{len(text) - self.max_chars} more characters cut]\n"
