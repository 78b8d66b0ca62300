"""The static website (make site): pages exist, links resolve, nothing warns, and every
script a page loads is the site's own (the pages work offline; tests/browser/test_site_offline.py
opens them with the network cut off)."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cnnlab.tools import site

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob(site.LESSON_GLOB))


@pytest.fixture(scope="module")
def course_site(tmp_path_factory):
    return site.build_site(tmp_path_factory.mktemp("site") / "site", NOTEBOOKS)


def first_heading(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    text = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
    return re.search(r"^#\s+(.+?)\s*$", text, flags=re.M).group(1)


def test_every_lesson_and_the_glossary_become_pages(course_site):
    out = course_site.out_dir
    for path in LESSONS:
        page = out / path.with_suffix(".html").name
        assert page.is_file(), f"no page for {path.name}"
        assert "jp-Notebook" in page.read_text(encoding="utf-8")
    assert (out / "glossary.html").is_file() and (out / "index.html").is_file()


def test_links_resolve_and_nothing_warns(course_site):
    assert course_site.broken == [], "\n".join(course_site.broken)
    assert course_site.warnings == [], "\n".join(course_site.warnings)
    assert all(url.startswith(("http", "//")) for url in course_site.external)


def test_index_lists_the_lessons_in_order_with_their_titles(course_site):
    index = (course_site.out_dir / "index.html").read_text(encoding="utf-8")
    found = re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', index)
    lessons = [(href, title) for href, title in found if href != "glossary.html"]
    assert [href for href, _ in lessons] == [p.with_suffix(".html").name for p in LESSONS]
    import html

    assert [html.unescape(t) for _, t in lessons] == [first_heading(p) for p in LESSONS]


def test_links_to_notebooks_and_markdown_are_rewritten(course_site):
    glossary_links = []
    for page in course_site.out_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'href="[^":]*\.(ipynb|md)(#[^"]*)?"', text), f"{page.name} links to a source file"
        glossary_links += re.findall(r'href="glossary\.html#([^"]+)"', text)
    assert glossary_links, "the lessons should link terms to the glossary"


def test_glossary_has_an_anchor_for_every_term():
    text = (NOTEBOOKS / "glossary.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| <a id=")]
    anchors = re.findall(r'<a id="([^"]+)"></a>', text)
    assert len(rows) == len(anchors) >= 50
    assert len(set(anchors)) == len(anchors), "duplicate glossary anchors"
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 5 and all(cells), f"a glossary row needs 5 filled columns: {row}"
        assert re.search(r"[\u4e00-\u9fff]", cells[1] + cells[3]), f"no Chinese in: {row}"


# --------------------------------------------------------------------------
# A tiny course of two lessons, to see the checks fail
# --------------------------------------------------------------------------

def write_lesson(folder: Path, name: str, title: str, markdown: str):
    nb = new_notebook(cells=[
        new_markdown_cell(f"# {title}\n\n{markdown}"),
        new_code_cell("1 + 1", execution_count=1,
                      outputs=[new_output("execute_result", {"text/plain": "2"}, execution_count=1)]),
    ])
    nbformat.write(nb, folder / name)


@pytest.fixture
def tiny_course(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_lesson(folder, "00_a.ipynb", "Lesson 00 — A",
                 "See [lesson 01](01_b.ipynb#Part-two), [terms](glossary.md#stride) and "
                 "[the web](https://example.org/page).")
    write_lesson(folder, "01_b.ipynb", "Lesson 01 — B", "## Part two\n\nBack to [00](00_a.ipynb).")
    (folder / "glossary.md").write_text(
        "# Glossary\n\n| Term | 术语 |\n|---|---|\n| <a id=\"stride\"></a>stride | 步长 |\n",
        encoding="utf-8")
    return folder


def test_tiny_course_builds_with_rewritten_links(tiny_course, tmp_path):
    report = site.build_site(tmp_path / "out", tiny_course)
    assert report.ok, report
    assert [p.title for p in report.pages] == ["Lesson 00 — A", "Lesson 01 — B", "Glossary"]
    page = (tmp_path / "out" / "00_a.html").read_text(encoding="utf-8")
    assert 'href="01_b.html#Part-two"' in page and 'href="glossary.html#stride"' in page
    assert "https://example.org/page" in report.external
    glossary = (tmp_path / "out" / "glossary.html").read_text(encoding="utf-8")
    assert "<table>" in glossary and "步长" in glossary


def test_broken_links_are_reported(tiny_course, tmp_path):
    write_lesson(tiny_course, "02_c.ipynb", "Lesson 02 — C",
                 "[missing](03_nowhere.ipynb), [outside](../README.md), "
                 "[bad anchor](glossary.md#no-such-term)")
    report = site.build_site(tmp_path / "out", tiny_course)
    assert not report.ok
    text = "\n".join(report.broken)
    assert "02_c.html: 03_nowhere.html (no such file)" in text
    assert "../README.html (outside the site)" in text
    assert "glossary.html#no-such-term (no anchor #no-such-term)" in text


def test_command_line_exit_status(tiny_course, tmp_path, capsys):
    assert site.main(["build", "--out", str(tmp_path / "ok"), "--notebooks", str(tiny_course)]) == 0
    assert "all relative links resolve" in capsys.readouterr().out
    write_lesson(tiny_course, "02_c.ipynb", "Lesson 02 — C", "[missing](nowhere.ipynb)")
    assert site.main(["build", "--out", str(tmp_path / "bad"), "--notebooks", str(tiny_course)]) == 1
    assert "broken link: 02_c.html: nowhere.html" in capsys.readouterr().out


def test_rewrite_links_leaves_external_and_other_files_alone():
    text = ('<a href="03_x.ipynb">a</a> <a href="g.md#k">b</a> <a href="https://x.org/a.ipynb">c</a> '
            '<img src="pic.png"> <a href="#top">d</a>')
    assert site.rewrite_links(text) == (
        '<a href="03_x.html">a</a> <a href="g.html#k">b</a> <a href="https://x.org/a.ipynb">c</a> '
        '<img src="pic.png"> <a href="#top">d</a>')


def test_no_lessons_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no lessons"):
        site.build_site(tmp_path / "out", tmp_path)



# --------------------------------------------------------------------------
# Offline: the scripts are the site's own, widgets are drawn or shown still
# --------------------------------------------------------------------------

class _Loads(HTMLParser):
    """What a page loads (script src, stylesheets, images, frames) and its inline scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads, self.inline, self._script = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "audio", "video", "source") and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("href") and attrs.get("rel") != "canonical":
            self.loads.append(attrs["href"])
        if tag == "script" and attrs.get("type", "text/javascript") in ("text/javascript", "module"):
            self._script = []

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.inline.append("".join(self._script))
            self._script = None


def loads_of(page: Path) -> _Loads:
    parser = _Loads()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


ASSET_FILES = ["assets/mathjax/tex-chtml-full.js", "assets/require/require.js",
               "assets/widgets/embed-amd.js", "assets/anywidget/index.js"]


def test_the_scripts_are_copied_into_the_site(course_site):
    out = course_site.out_dir
    for name in ASSET_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 10_000, name
    fonts = list((out / "assets/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert len(fonts) >= 20, "MathJax's fonts"
    assert list((out / "assets/widgets").glob("*.woff2")), "the widgets' icon fonts"
    import anywidget

    shipped = Path(anywidget.__file__).parent / "nbextension" / "index.js"
    assert (out / "assets/anywidget/index.js").read_bytes() == shipped.read_bytes()


def test_pages_load_nothing_from_the_network(course_site):
    pages = sorted(course_site.out_dir.glob("*.html"))
    assert len(pages) == len(LESSONS) + len(list(NOTEBOOKS.glob("*.md"))) + 1
    for page in pages:
        found = loads_of(page)
        remote = [url for url in found.loads if re.match(r"^(https?:)?//", url)]
        assert remote == [], f"{page.name} loads {remote}"
        for code in found.inline:
            assert not re.search(r"https?://", code), f"{page.name}: a script names a URL: {code[:300]}"
    lesson = loads_of(course_site.out_dir / LESSONS[0].with_suffix(".html").name)
    assert {"assets/mathjax/tex-chtml-full.js", "assets/require/require.js"} <= set(lesson.loads)
    assert any("assets/widgets/embed-amd.js" in code for code in lesson.inline)
    assert any("window.MathJax" in code and "inlineMath" in code for code in lesson.inline)


def test_every_saved_widget_of_the_course_is_drawn_not_stilled(course_site):
    assert course_site.stills == [], "\n".join(course_site.stills)
    views = 0
    for path in LESSONS:
        text = (course_site.out_dir / path.with_suffix(".html").name).read_text(encoding="utf-8")
        views += text.count('<script type="application/vnd.jupyter.widget-view+json">')
        assert "cnnlab-widget-still" not in text
    assert views >= len(LESSONS), "each lesson shows at least one widget"


# a tiny notebook with widgets, to see which ones become still pictures

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n-a-tiny-picture-").decode()
OTHER_PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n-the-image-widget-").decode()


def model(name, module="@jupyter-widgets/controls", **state):
    view_module = state.pop("_view_module", module)
    return {"model_name": name, "model_module": module, "model_module_version": "2.0.0",
            "state": {"_view_module": view_module, **state}}


def widget_notebook():
    image = model("ImageModel", format="png", layout="IPY_MODEL_lay")
    image["buffers"] = [{"path": ["value"], "data": OTHER_PNG, "encoding": "base64"}]
    models = {
        "lay": model("LayoutModel", "@jupyter-widgets/base"),
        "ok": model("VBoxModel", children=["IPY_MODEL_img"], layout="IPY_MODEL_lay"),
        "img": image,
        "alien": model("PlotModel", "some-plot-widget"),
        "box_with_alien": model("VBoxModel", children=["IPY_MODEL_img", "IPY_MODEL_alien"]),
        "box_with_lost": model("HBoxModel", children=["IPY_MODEL_gone"]),
        "pad": model("AnyModel", "anywidget", _esm="export default {render() {}}"),
    }

    def view(model_id, **more):
        data = {site.WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
                "text/plain": "a widget", **more}
        return new_code_cell("w", execution_count=1,
                             outputs=[new_output("display_data", data)])

    nb = new_notebook(cells=[new_markdown_cell("# Widgets"), view("ok"), view("alien", **{"image/png": PNG}),
                             view("box_with_alien"), view("box_with_lost"), view("never_saved"), view("pad")])
    nb.metadata["widgets"] = {site.WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": models}}
    return nb


def test_widgets_that_cannot_be_drawn_become_still_pictures():
    nb = widget_notebook()
    replaced = site.widget_stills(nb)
    outputs = [c.outputs[0]["data"] for c in nb.cells[1:]]
    assert site.WIDGET_VIEW in outputs[0] and site.WIDGET_VIEW in outputs[5], "drawable: kept"
    assert [cell for cell, _ in (r.split(": ", 1) for r in replaced)] == ["cell 2", "cell 3", "cell 4", "cell 5"]
    assert "'some-plot-widget' is not served" in replaced[0] and "'some-plot-widget'" in replaced[1]
    assert "not saved" in replaced[2] and "not saved" in replaced[3]
    stored, inner, lost, never = (o["text/html"] for o in outputs[1:5])
    assert f"data:image/png;base64,{PNG}" in stored, "the output's own PNG first"
    assert f"data:image/png;base64,{OTHER_PNG}" in inner, "else the Image widget's picture"
    for note in (lost, never):
        assert "<img" not in note and "cnnlab-widget-still" in note and "make lab" in note
    saved = nb.metadata["widgets"][site.WIDGET_STATE]["state"]
    assert set(saved) == {"lay", "ok", "img", "pad"}, "undrawable models leave the saved state"


def test_a_page_with_a_still_widget_says_so(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(widget_notebook(), folder / "00_widgets.ipynb")
    report = site.build_site(tmp_path / "out", folder)
    assert len(report.stills) == 4 and report.stills[0].startswith("00_widgets.html: cell 2:")
    page = (tmp_path / "out" / "00_widgets.html").read_text(encoding="utf-8")
    assert page.count('class="cnnlab-widget-still"') == 4
    assert page.count(f'<script type="{site.WIDGET_VIEW}">') == 2
    state = re.search(rf'<script type="{re.escape(site.WIDGET_STATE)}">(.*?)</script>', page, flags=re.S).group(1)
    assert set(json.loads(state)["state"]) == {"lay", "ok", "img", "pad"}


def test_mermaid_diagrams_are_reported(tiny_course, tmp_path):
    write_lesson(tiny_course, "02_c.ipynb", "Lesson 02 — C", "```mermaid\ngraph LR; a-->b\n```")
    report = site.build_site(tmp_path / "out", tiny_course)
    assert any("02_c.ipynb: mermaid" in w for w in report.warnings), report.warnings


# installing the npm packages

def test_without_npm_the_build_says_what_to_install(monkeypatch, tmp_path, tiny_course, capsys):
    monkeypatch.setattr(site.shutil, "which", lambda name: None)
    with pytest.raises(site.SiteAssetsError, match=r"`npm` was not found.*`npm ci --ignore-scripts"):
        site.install_assets(tmp_path / "npm")
    monkeypatch.setattr(site, "NPM_DIR", tmp_path / "npm")
    assert site.main(["build", "--out", str(tmp_path / "out"), "--notebooks", str(tiny_course)]) == 2
    assert "apt-get install npm" in capsys.readouterr().err


def test_npm_ci_runs_once_per_lock_file(monkeypatch, tmp_path):
    runs = []

    def fake_run(command, cwd, **kwargs):
        runs.append((command[1:], Path(cwd)))
        (Path(cwd) / "node_modules").mkdir(exist_ok=True)
        return site.subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(site.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(site.subprocess, "run", fake_run)
    npm_dir = tmp_path / "npm"
    assert site.install_assets(npm_dir) == npm_dir / "node_modules"
    assert site.install_assets(npm_dir) == npm_dir / "node_modules"
    assert runs == [(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], npm_dir)]
    lock = (site.ASSETS_SOURCE / "package-lock.json").read_bytes()
    assert (npm_dir / "package-lock.json").read_bytes() == lock
    (npm_dir / ".installed").write_text("an older lock\n")
    site.install_assets(npm_dir)
    assert len(runs) == 2, "a changed lock file installs again"


def test_a_failing_npm_ci_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr(site.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(site.subprocess, "run", lambda command, cwd, **kw:
                        site.subprocess.CompletedProcess(command, 1, "", "npm error 404 Not Found"))
    with pytest.raises(site.SiteAssetsError, match=r"failed \(exit 1\):\s+npm error 404 Not Found"):
        site.install_assets(tmp_path / "npm")
    assert not (tmp_path / "npm" / ".installed").exists()


def test_a_missing_package_file_is_an_error(tmp_path):
    (tmp_path / "node_modules").mkdir()
    with pytest.raises(site.SiteAssetsError, match=r"mathjax/es5/tex-chtml-full\.js is missing"):
        site.copy_assets(tmp_path / "node_modules", tmp_path / "out")


def test_the_lock_file_pins_what_package_json_asks_for():
    wanted = json.loads((site.ASSETS_SOURCE / "package.json").read_text())["dependencies"]
    lock = json.loads((site.ASSETS_SOURCE / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == wanted
    for name, version in wanted.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
        assert lock["packages"][f"node_modules/{name}"]["integrity"].startswith("sha512-")
