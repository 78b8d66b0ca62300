"""Every ``cnnlab`` name that a lesson, the README or the Makefile uses exists.

Learners keep their own copies of the notebooks (and teachers hand out student
versions), so a name that moves inside the package must stay reachable where
they call it. This test reads every code cell of every lesson, the README and
the Makefile, collects each ``cnnlab`` module they import and each attribute
they use on it, and imports it. Moving code without keeping an alias fails here.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

FROM_IMPORT = re.compile(r"^\s*from (cnnlab(?:\.\w+)*) import (?:\(([\w ,\n]+)\)|([\w ,]+))", re.M)
IMPORT = re.compile(r"^\s*import (cnnlab(?:\.\w+)*)(?: as (\w+))?", re.M)
COMMAND = re.compile(r"python -m (cnnlab(?:\.\w+)+)")


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def used_names(code: str) -> set[tuple[str, str]]:
    """``(module, attribute)`` pairs the code uses; attribute "" for a bare module import."""
    aliases: dict[str, str] = {}            # local name -> module path
    pairs: set[tuple[str, str]] = set()
    for m in IMPORT.finditer(code):
        module, alias = m.group(1), m.group(2)
        aliases[alias or module.split(".")[0]] = module if alias else module.split(".")[0]
        pairs.add((module, ""))
    for m in FROM_IMPORT.finditer(code):
        module = m.group(1)
        for name in re.split(r"[,\s]+", (m.group(2) or m.group(3)).strip()):
            if not name or name == "as":
                continue
            pairs.add((module, name))
            aliases.setdefault(name, f"{module}.{name}")
    for local, module in aliases.items():
        for attr in re.findall(rf"(?<![\w.]){re.escape(local)}\.([A-Za-z]\w*)", code):
            pairs.add((module, attr))
    return pairs


def resolve(module: str, attr: str):
    """Import ``module`` (or ``module`` as an attribute of its parent) and get ``attr``."""
    try:
        obj = importlib.import_module(module)
    except ModuleNotFoundError:
        parent, _, name = module.rpartition(".")
        obj = getattr(importlib.import_module(parent), name)
    return getattr(obj, attr) if attr else obj


def cases():
    found = {}
    for path in NOTEBOOKS:
        for pair in used_names(notebook_code(path)):
            found.setdefault(pair, path.name)
    for doc in ("README.md", "Makefile"):
        text = (ROOT / doc).read_text()
        for pair in used_names(text):
            found.setdefault(pair, doc)
        for module in COMMAND.findall(text):
            found.setdefault((module, ""), doc)
    return sorted((where, module, attr) for (module, attr), where in found.items())


def test_the_scan_finds_the_names_lessons_use():
    pairs = {(m, a) for _, m, a in cases()}
    assert ("cnnlab", "setup") in pairs and ("cnnlab.kernels", "conv2d") in pairs
    assert ("cnnlab.plot", "show_matrix") in pairs and len(pairs) > 150


@pytest.mark.parametrize("where, module, attr", cases(), ids=lambda v: str(v))
def test_name_exists(where, module, attr):
    try:
        resolve(module, attr)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{where} uses {module}{'.' + attr if attr else ''}, which is gone: {exc}")
