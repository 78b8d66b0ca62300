"""Print the table of widget latency in the browser from ``build/browser-latency.json``.

``make test-browser`` (the browser suite, tests/browser) times every explorer
in JupyterLab in headless Chromium: from a user's input event (a key press on
a slider, a click, a menu pick, Enter in a number box, the end of a pen
stroke) to the first frame painted with the new picture. It writes each
widget's summary to ``build/browser-latency.json`` under a name such as
``"05_pooling PoolingExplorer: pool size slider, arrow key"``. This script
turns that file into the Markdown table of benchmarks/README.md ("Widget
latency in the browser"):

    .venv/bin/python benchmarks/browser_latency_table.py [path/to/browser-latency.json]

Without the file it says so and exits 0 (``make bench`` runs it too).
Targets (recorded, never asserted): p95 at most 100 ms per widget, at most
150 ms from a pen stroke to the maps for the drawing pad.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "build" / "browser-latency.json"
TARGET_MS = 100.0
PEN_TARGET_MS = 150.0             # DrawingPad: pen stroke -> maps
_NAME = re.compile(r"^(?:(?P<lesson>\d\d)_\S+\s+)?(?P<widget>[A-Za-z]\w*)[:\s]*(?P<what>.*)$")


def lessons_showing(widget: str) -> str:
    """The lesson numbers whose notebook makes ``widgets.<widget>(``, e.g. ``"09"``."""
    found = []
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any(f"widgets.{widget}(" in "".join(c["source"]) for c in cells
               if c["cell_type"] == "code"):
            found.append(path.name[:2])
    return ", ".join(found) or "?"


def rows(results: dict) -> list[list[str]]:
    """One row per recorded widget: widget, lesson, what is changed, median, p95, target."""
    table = []
    for name, stages in results.items():
        parts = _NAME.match(name)
        if parts is None or "shown" not in stages:
            continue
        widget, what = parts["widget"], parts["what"].strip() or "?"
        lesson = parts["lesson"] or lessons_showing(widget)
        target = PEN_TARGET_MS if widget == "DrawingPad" else TARGET_MS
        shown = stages["shown"]
        met = "met" if shown["p95_ms"] <= target else "not met"
        table.append([widget, lesson, what, f"{shown['median_ms']:.0f}", f"{shown['p95_ms']:.0f}",
                      f"p95 ≤ {target:.0f} ms ({met})"])
    return sorted(table, key=lambda r: (r[1], r[0], r[2]))


def markdown(table: list[list[str]]) -> str:
    head = ["widget", "lesson", "what is changed", "median ms", "p95 ms", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else RESULTS
    if not path.exists():                 # `make bench` runs every script here: not an error
        print(f"{path} is missing: run `make test-browser` first to measure the widgets")
        return 0
    results = json.loads(path.read_text(encoding="utf-8"))
    table = rows(results)
    print(markdown(table))
    n = sum(1 for s in results.values() if "shown" in s)
    print(f"\n{n} measurements (input event -> new picture painted, 'shown' stage), "
          f"from {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
