"""Re-run lessons top to bottom and store their outputs (``make notebooks``).

Usage::

    python -m cnnlab.tools.execute notebooks/01_convolution_1d.ipynb [more.ipynb ...]

Each notebook runs in a fresh kernel with its own folder as the working
directory, exactly as nbval later runs it, and is saved with its outputs.
The mode (full or fast) comes from the ``CNNLAB_FAST`` environment variable.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


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
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        seconds = execute_notebook(path, args.timeout)
        print(f"  saved with outputs ({seconds:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
