"""The course as the browser tests see it: lessons, where results go, small statistics."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = Path(os.environ.get("CNNLAB_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / "build" / "screenshots"
RESULTS = REPO / "build" / "browser-latency.json"
VIEWPORT = {"width": 1400, "height": 1000}

latencies: dict[str, dict] = {}        # name -> stage -> summary, for the run's report


def lessons_using(needle: str) -> list[str]:
    """Lesson notebooks with a code cell whose source contains ``needle``."""
    found = []
    for name in LESSONS:
        nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
        if any(needle in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"):
            found.append(name)
    return found


def chromium_args() -> list[str]:
    args = ["--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


def screenshot_path(stem: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"{stem}.png")


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (0-100), linear between the closest ranks."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def record_latency(name: str, samples: dict[str, list[float]]) -> dict:
    """Keep a latency summary for the end of the run and in ``build/``."""
    summary = {}
    for stage, values in samples.items():
        summary[stage] = {"n": len(values), "median_ms": round(statistics.median(values), 1),
                          "p95_ms": round(percentile(values, 95), 1),
                          "max_ms": round(max(values), 1)}
    latencies[name] = summary
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(latencies, indent=2) + "\n")
    return summary
