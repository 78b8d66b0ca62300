"""The course website works offline: every page of a fresh site, opened with the network cut off.

The site is built once (``cnnlab.tools.site.build_site``, what ``make site``
runs) and served on loopback. Each page is opened in Chromium with every
request to another host aborted and recorded; the page fails on any such
request, on a local file it asked for and did not get, on a script error,
on a formula left as raw TeX after MathJax ran, and on a saved widget that
was not drawn (each view of its saved state counted, each picture loaded,
nothing visible left as an empty box).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from course import NOTEBOOKS, screenshot_path
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnlab.tools import site

LESSON_PAGES = [p.with_suffix(".html").name for p in sorted(NOTEBOOKS.glob(site.LESSON_GLOB))]
PAGES = LESSON_PAGES + [p.with_suffix(".html").name for p in sorted(NOTEBOOKS.glob("*.md"))] + ["index.html"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
RAW_TEX = [r"\$[^$\n]{0,300}?\\[A-Za-z]+", r"\\\(", r"\\\[", r"\$\$"]   # what MathJax should have eaten
MATH_IN_MARKDOWN = re.compile(r"\$[^$\n]+\$|\\\(")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    """(SiteReport, base URL): the course site built afresh and served on 127.0.0.1."""
    report = site.build_site(tmp_path_factory.mktemp("offline-site") / "site", NOTEBOOKS)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(report.out_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield report, f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def saved_views(page_html: str) -> int:
    """How many widget views the page's saved state should draw: each shown widget and its children."""
    state = re.search(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>',
                      page_html, flags=re.S)
    if state is None:
        return 0
    models = json.loads(state.group(1))["state"]

    def count(model_id: str) -> int:
        children = models[model_id]["state"].get("children", [])
        return 1 + sum(count(ref.removeprefix("IPY_MODEL_")) for ref in children)

    shown = re.findall(r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>',
                       page_html, flags=re.S)
    return sum(count(json.loads(view)["model_id"]) for view in shown)


def has_maths(name: str) -> bool:
    source = NOTEBOOKS / name.replace(".html", ".ipynb")
    if not source.is_file():
        return False
    cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
    return any(MATH_IN_MARKDOWN.search("".join(c["source"])) for c in cells if c["cell_type"] == "markdown")


# each view the HTML manager draws from the saved state carries this class (no kernel behind it)
DRAWN = ".widget-subarea .jupyter-widgets-disconnected"

ALL_DRAWN = """expected => {
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const placed = views.every(s => s.previousElementSibling
                                  && s.previousElementSibling.classList.contains('widget-subarea'));
  return placed && document.querySelectorAll('%s').length >= expected;
}""" % DRAWN

PICTURES_LOADED = """() => [...document.querySelectorAll('img')].every(i => i.complete)"""

MATHJAX_DONE = """async () => {
  if (!document.querySelector('script[src*="mathjax"]')) return -1;
  for (let i = 0; i < 600 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  await MathJax.startup.promise;
  return document.querySelectorAll('mjx-container').length;
}"""

INSPECT = """() => {
  const prose = document.body.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, textarea, mjx-container').forEach(e => e.remove());
  const visible = e => e.offsetParent !== null;
  const area = e => { const r = e.getBoundingClientRect(); return r.width * r.height; };
  const leaves = [...document.querySelectorAll('%s')]
      .filter(e => !e.querySelector('.jupyter-widgets-disconnected'));
  return {
    text: prose.textContent,
    drawn: document.querySelectorAll('%s').length,
    emptySubareas: [...document.querySelectorAll('.widget-subarea')]
        .filter(a => a.children.length === 0 || area(a) === 0).length,
    // a visible widget of no size is an empty box, unless its layout asks for height 0
    emptyWidgets: leaves.filter(e => visible(e) && area(e) === 0 && e.style.height !== '0px')
        .map(e => e.className + ': ' + e.outerHTML.slice(0, 200)),
    brokenPictures: [...document.querySelectorAll('img')]
        .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.alt || i.src).slice(0, 120)),
    stills: [...document.querySelectorAll('.cnnlab-widget-still')]
        .filter(s => !(s.textContent.trim() || s.querySelector('img'))).length,
  };
}""" % (DRAWN, DRAWN)


def open_offline(browser, url: str):
    """Open ``url`` with every request to another host aborted; returns (page, blocked, failed, errors)."""
    page = browser.new_page()
    page.set_default_timeout(30_000)
    blocked, failed, errors = [], [], []

    def only_local(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"{r.failure} {r.url}")
            if urlsplit(r.url).hostname in LOCAL_HOSTS else None)
    page.goto(url, wait_until="load")
    return page, blocked, failed, errors


@pytest.mark.parametrize("name", PAGES)
def test_page_works_offline(browser, served_site, name):
    report, base = served_site
    expected = saved_views((report.out_dir / name).read_text(encoding="utf-8"))
    page, blocked, failed, errors = open_offline(browser, base + name)
    try:
        formulas = page.evaluate(MATHJAX_DONE)
        try:
            if expected:
                page.wait_for_function(ALL_DRAWN, arg=expected, timeout=20_000)
            page.wait_for_function(PICTURES_LOADED, timeout=10_000)
        except PlaywrightTimeout:
            pass                 # the checks below say what is missing
        seen = page.evaluate(INSPECT)
        assert blocked == [], f"{name} asked the network for {blocked}"
        assert failed == [], f"{name}: local requests that failed: {failed}"
        assert errors == [], f"{name}: script errors: {errors}"
        raw = [m.group(0)[:80] for pattern in RAW_TEX for m in re.finditer(pattern, seen["text"])]
        assert raw == [], f"{name}: formulas left as raw TeX: {raw}"
        if name in LESSON_PAGES:
            assert formulas >= 0, f"{name} does not load MathJax"
        if has_maths(name):
            assert formulas > 0, f"{name} has formulas but MathJax drew none"
        assert seen["drawn"] == expected, f"{name}: {seen['drawn']} widget views drawn of {expected} saved"
        assert seen["emptySubareas"] == 0, f"{name}: a widget output is an empty box"
        assert seen["emptyWidgets"] == [], f"{name}: widgets drawn as empty boxes: {seen['emptyWidgets']}"
        assert seen["brokenPictures"] == [], f"{name}: pictures that did not load: {seen['brokenPictures']}"
        assert seen["stills"] == 0, f"{name}: a widget's still picture is empty"
    except Exception:
        page.screenshot(path=screenshot_path(f"site-offline-{Path(name).stem}"), full_page=True)
        raise
    finally:
        page.close()


def test_the_lessons_use_maths_and_widgets(served_site):
    """The checks above must have something to check: formulas and widgets of every kind."""
    report, _ = served_site
    assert any(has_maths(name) for name in LESSON_PAGES)
    pages = {name: (report.out_dir / name).read_text(encoding="utf-8") for name in LESSON_PAGES}
    assert all(saved_views(text) for text in pages.values()), "every lesson shows a widget"
    everything = "".join(pages.values())
    for model in ("ImageModel", "AnyModel", "IntSliderModel", "DropdownModel"):
        assert f'"model_name": "{model}"' in everything or f'"model_name":"{model}"' in everything, model


def test_a_widget_the_site_cannot_draw_shows_its_still_picture(browser, tmp_path):
    """A widget whose front end is not served becomes its stored PNG, not an empty box."""
    import base64
    import io

    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="png")
    picture = base64.b64encode(buffer.getvalue()).decode()
    view = {"model_id": "plot", "version_major": 2, "version_minor": 0}
    nb = new_notebook(cells=[
        new_markdown_cell("# Lesson 00 — A plot\n\nA formula: $\\sum_i x_i$."),
        new_code_cell("plot", execution_count=1, outputs=[new_output(
            "display_data", {site.WIDGET_VIEW: view, "image/png": picture, "text/plain": "Plot()"})]),
    ])
    nb.metadata["widgets"] = {site.WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": {
        "plot": {"model_name": "PlotModel", "model_module": "some-plot-widget", "model_module_version": "1.0.0",
                 "state": {"_view_module": "some-plot-widget"}}}}}
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "00_plot.ipynb")
    report = site.build_site(tmp_path / "site", tmp_path / "notebooks")
    assert len(report.stills) == 1
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(report.out_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page, blocked, failed, errors = open_offline(browser, f"http://127.0.0.1:{server.server_port}/00_plot.html")
        try:
            assert page.evaluate(MATHJAX_DONE) == 1
            page.wait_for_function(PICTURES_LOADED, timeout=10_000)
            size = page.evaluate("""() => { const i = document.querySelector('.cnnlab-widget-still img');
                                            return i && [i.naturalWidth, i.naturalHeight]; }""")
            caption = page.locator(".cnnlab-widget-still figcaption").inner_text()
        finally:
            page.close()
    finally:
        server.shutdown()
        server.server_close()
    assert (blocked, failed, errors) == ([], [], [])
    assert size == [40, 30], "the stored PNG is shown"
    assert "some-plot-widget" in caption and "make lab" in caption
