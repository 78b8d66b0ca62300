"""The static website (make site): pages exist, links resolve, nothing warns."""

from __future__ import annotations

import json
import re
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
