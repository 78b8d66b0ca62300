"""Browser tests: every lesson run in JupyterLab in headless Chromium.

They are collected only with ``CNNLAB_BROWSER=1`` (``make test-browser`` sets
it), so the plain ``make test`` neither needs Playwright nor a browser.
One JupyterLab and one browser serve the whole run; each lesson is opened
and run once, in a page of its own, and shared by the tests that use it.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from course import (CHROMIUM, LESSONS, NOTEBOOKS, REPO, RESULTS, SCREENSHOTS, VIEWPORT,
                    chromium_args, latencies, screenshot_path)

ENABLED = os.environ.get("CNNLAB_BROWSER", "") == "1"
collect_ignore_glob = [] if ENABLED else ["test_*.py"]


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def pytest_configure(config):
    if ENABLED:     # a time-out's SIGTERM unwinds the fixtures: server and browser stop
        signal.signal(signal.SIGTERM, _interrupt)
        for old in SCREENSHOTS.glob("*.png"):    # keep only this run's pictures
            old.unlink()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    from labserver import running_lab

    with running_lab(NOTEBOOKS, tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run tests/browser/install_chromium.sh as root "
                    "(or `make test-browser`, which does)", pytrace=False)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"), executable_path=str(CHROMIUM),
            headless=True, args=chromium_args(), viewport=VIEWPORT)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def open_lesson(lab, browser):
    """``open_lesson(name)``: the lesson opened and run in a page of its own.

    One lesson is open at a time: opening the next one closes the last one's
    page and shuts its kernel down (the tests are ordered lesson by lesson,
    so each lesson runs once).
    """
    from labpage import close, open_and_run

    opened, failed = {}, {}

    def _open(name):
        if name in failed:
            pytest.fail(f"{name} could not be run in the browser (see its first test)",
                        pytrace=False)
        if name not in opened:
            for other in list(opened):
                close(opened.pop(other))
            page = browser.new_page()
            page.set_default_timeout(30_000)
            try:
                opened[name] = open_and_run(page, lab, name)
            except Exception as exc:
                failed[name] = exc
                _last_look(page, name)
                raise RuntimeError(f"could not run {name} in the browser: {exc}\n"
                                   f"--- JupyterLab log ---\n{lab.log_tail()}") from exc
        opened[name].page.bring_to_front()       # a tab in the background paints no frames
        return opened[name]

    return _open


def _last_look(page, name: str) -> None:
    """Keep a screenshot of a lesson that could not be run, then close its page."""
    try:
        page.screenshot(path=screenshot_path(f"{Path(name).stem}-failed"))
    except Exception:                            # the page itself may be gone
        pass
    finally:
        page.close()


def pytest_terminal_summary(terminalreporter):
    if not latencies:
        return
    terminalreporter.section("latency in the browser: input event -> new picture")
    for name, summary in latencies.items():
        for stage, s in summary.items():
            terminalreporter.write_line(
                f"{name:34s} {stage:8s} n={s['n']:2d}  median {s['median_ms']:6.1f} ms  "
                f"p95 {s['p95_ms']:6.1f} ms  max {s['max_ms']:6.1f} ms")
    terminalreporter.write_line(f"(also in {RESULTS.relative_to(REPO)})")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Lesson by lesson; for each, the whole-lesson check before any widget is touched."""
    def key(item):
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        lesson = next((v for v in params.values() if isinstance(v, str) and v in LESSONS), "")
        return lesson, Path(str(item.fspath)).name != "test_lessons.py"

    here = Path(__file__).parent
    ours = [item for item in items if here in Path(str(item.fspath)).parents]
    if not ENABLED or len(ours) != len(items):   # the hook sees every run: leave others alone
        return
    items.sort(key=key)                          # stable: keeps each file's own order
