"""Re-run lessons top to bottom and store their outputs (``make notebooks``).

Usage::

    python -m cnnlab.tools.execute notebooks/01_convolution_1d.ipynb [more.ipynb ...]
    python -m cnnlab.tools.execute --into build/retrain notebooks/*.ipynb   # copies, run there

Each notebook runs in a fresh kernel with its own folder as the working
directory, exactly as nbval later runs it, and is saved with its outputs.
The mode (full or fast) comes from the ``CNNLAB_FAST`` environment variable.
At the end it prints each lesson's wall time against the course's budget
(:data:`LESSON_BUDGET_S` per lesson, :data:`COURSE_BUDGET_S` for all of them,
in full mode on 2 cores) and names any lesson over it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

LESSON_BUDGET_S = 300    # no lesson over 5 minutes in full mode on 2 cores
COURSE_BUDGET_S = 1500   # the whole course under 25 minutes


def execute_notebook(path: Path, timeout: int = 3600) -> float:
    """Execute one notebook in place; return the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.tools.execute", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    parser.add_argument("--into", type=Path, default=None,
                        help="run copies in this folder and leave the lessons as they are")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    times = {}
    for path in _copies(args.notebooks, args.into) if args.into else args.notebooks:
        print(f"running {path} ...", flush=True)
        times[path.name] = execute_notebook(path, args.timeout)
        print(f"  saved with outputs ({times[path.name]:.0f} s)", flush=True)
    print(budget_report(times))
    return 0


def _copies(paths, folder: Path) -> list[Path]:
    """``paths`` copied into ``folder`` (with the glossary their links point to)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for extra in {p.parent / "glossary.md" for p in paths}:
        if extra.exists():
            shutil.copy2(extra, folder / extra.name)
    copies = []
    for path in paths:
        copies.append(folder / path.name)
        shutil.copy2(path, copies[-1])
    return copies


def budget_report(times: dict) -> str:
    """Each lesson's wall time in seconds (``{name: seconds}``) set against the budget."""
    lines = ["wall time per lesson (budget: "
             f"{LESSON_BUDGET_S} s each, {COURSE_BUDGET_S // 60} min for the course):"]
    for name, seconds in times.items():
        over = "  OVER BUDGET" if seconds > LESSON_BUDGET_S else ""
        lines.append(f"  {seconds:6.0f} s  {name}{over}")
    total = sum(times.values())
    over = "  OVER BUDGET" if total > COURSE_BUDGET_S else ""
    lines.append(f"  {total:6.0f} s  in all ({total / 60:.1f} min){over}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
