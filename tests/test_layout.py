"""The package's layout rules (cnnlab/README.md): modules that fit a sitting, imports
that run one way, and no module reaching into another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cnnlab"
MAX_LINES = 620   # "about 600"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module name an ``ImportFrom`` reads from."""
    if node.level == 0:
        return node.module or ""
    package = importer.split(".")
    if not MODULES[importer].name == "__init__.py":
        package = package[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name: str, *, aliases: bool = True):
    """(module it reads, names it takes) for each import of module ``name``.

    ``aliases=False`` leaves out the imports of a module-level ``__getattr__``:
    it runs only when an old name is asked for, never on import.
    """
    tree = ast.parse(MODULES[name].read_text())
    skipped = set()
    if not aliases:
        for fn in tree.body:
            if isinstance(fn, ast.FunctionDef) and fn.name == "__getattr__":
                skipped |= {id(n) for n in ast.walk(fn)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            source = resolve(name, node)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                yield (full, None) if full in MODULES else (source, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_fits_a_sitting(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines; split it (cnnlab/README.md)"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_takes_another_modules_private_names(name):
    taken = [f"from {source} import {what}" for source, what in imports(name)
             if what and private(what) and source in MODULES and source != name]
    tree = ast.parse(MODULES[name].read_text())
    aliases = {}   # local name -> cnnlab module, for `module._private` below
    for source, what in imports(name):
        if what is None and source in MODULES:
            aliases[source.rsplit(".", 1)[-1]] = source
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases and private(node.attr) \
                and not private(aliases[node.value.id].rsplit(".", 1)[-1]):
            taken.append(f"{node.value.id}.{node.attr}")
    assert not taken, f"{name} uses private names of other modules: {taken}"


def read_on_import(name: str) -> set:
    """The cnnlab modules ``name`` imports (at the top or inside its functions, but not in
    an alias ``__getattr__``) and the packages those live in (Python runs a package's
    ``__init__`` before its module)."""
    found = set()
    for source, _ in imports(name, aliases=False):
        parts = source.split(".")
        for i in range(2, len(parts) + 1):
            found.add(".".join(parts[:i]))
    return {m for m in found if m in MODULES and m != name and not name.startswith(m + ".")}


def test_no_import_cycles():
    graph = {name: read_on_import(name) for name in MODULES}
    state, path, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_rules_can_fail(tmp_path):
    """The checks above find a private import and a cycle when there is one."""
    fake = {"cnnlab.a": tmp_path / "a.py", "cnnlab.b": tmp_path / "b.py"}
    fake["cnnlab.a"].write_text("from .b import _secret\n")
    fake["cnnlab.b"].write_text("from . import a\n")
    globals_backup = dict(MODULES)
    MODULES.clear()
    MODULES.update(fake)
    try:
        with pytest.raises(AssertionError, match="_secret"):
            test_no_module_takes_another_modules_private_names("cnnlab.a")
        with pytest.raises(AssertionError, match="cnnlab.a -> cnnlab.b -> cnnlab.a"):
            test_no_import_cycles()
    finally:
        MODULES.clear()
        MODULES.update(globals_backup)
