"""The course as a static website: ``make site`` (or ``python -m cnnlab.tools.site build``).

Every lesson is exported to HTML as it is stored, with its outputs and
without running it again; widgets appear in their last saved state when the
page can reach the widget renderer online (everything else works offline).
Markdown pages next to the lessons (the glossary) are rendered too, an index
page lists the lessons in order with the titles read from the notebooks, and
links between pages are rewritten from ``.ipynb`` / ``.md`` to ``.html``.

Finally every link is checked: each relative link must lead to a file of the
site (and each ``#anchor`` to an element with that id); external links are
only listed. Serve the result with ``python -m http.server -d build/site``.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = ["Page", "SiteReport", "build_site", "check_links"]

ROOT = Path(__file__).resolve().parents[2]
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
COURSE_TITLE = "Convolutional neural networks, hands on"

_STYLE = """
body.cnnlab-page { font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto;
  padding: 0 1rem; line-height: 1.5; color: #222; }
body.cnnlab-page table { border-collapse: collapse; }
body.cnnlab-page th, body.cnnlab-page td { border: 1px solid #ccc; padding: 0.3rem 0.6rem;
  vertical-align: top; text-align: left; }
body.cnnlab-page code { background: #f3f3f3; padding: 0 0.2rem; }
nav.cnnlab-nav { font-family: system-ui, sans-serif; padding: 0.6rem 1rem; background: #f3f5f8;
  border-bottom: 1px solid #dde; }
nav.cnnlab-nav a { margin-right: 1.2rem; }
ul.cnnlab-lessons li { margin: 0.3rem 0; }
"""


class Page(NamedTuple):
    """One page of the site."""

    source: Path   # the notebook or markdown file
    target: str    # file name in the site, e.g. "03_padding_stride.html"
    title: str


class SiteReport(NamedTuple):
    """What :func:`build_site` made and found."""

    out_dir: Path
    pages: list          # Page, lessons first, then markdown pages
    broken: list         # "page: link (reason)" for relative links that do not resolve
    external: list       # sorted unique external URLs (listed, not fetched)
    warnings: list       # warnings raised while exporting

    @property
    def ok(self) -> bool:
        return not self.broken and not self.warnings


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------

def notebook_title(nb) -> str:
    """The first heading of a notebook (``# Lesson 03 — ...``), or its file name."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+?)\s*$", cell.source, flags=re.M)
            if m:
                return m.group(1)
    return ""


def rewrite_links(text: str) -> str:
    """Point relative ``href``\\ s at ``.ipynb`` or ``.md`` files to the ``.html`` pages."""
    def fix(m):
        url = m.group(2)
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:
            return m.group(0)
        path = re.sub(r"\.(ipynb|md)$", ".html", parts.path)
        new = path + (f"#{parts.fragment}" if parts.fragment else "")
        return f'{m.group(1)}"{new}"'

    return re.sub(r'(href=)"([^"]*)"', fix, text)


def _nav(pages, index: int | None, reference=()) -> str:
    """Links to the index, the previous and next lesson, and the reference pages."""
    links = ['<a href="index.html">All lessons</a>']
    if index is not None:
        if index > 0:
            links.append(f'<a href="{pages[index - 1].target}">&larr; {html.escape(pages[index - 1].title)}</a>')
        if index + 1 < len(pages):
            links.append(f'<a href="{pages[index + 1].target}">{html.escape(pages[index + 1].title)} &rarr;</a>')
    links += [f'<a href="{p.target}">{html.escape(p.title)}</a>' for p in reference]
    return f'<nav class="cnnlab-nav">{" ".join(links)}</nav>'


def _with_nav(page_html: str, nav: str) -> str:
    """Insert the navigation bar and the site's style into an exported page."""
    page_html = page_html.replace("</head>", f"<style>{_STYLE}</style>\n</head>", 1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "\n" + nav, page_html, count=1)


def _standalone(title: str, body: str, nav: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
            f'<body class="cnnlab-page">\n{nav}\n<main>\n{body}\n</main>\n</body>\n</html>\n')


def _render_markdown(text: str) -> str:
    import mistune

    render = mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "url"])
    return render(text)


def _export_lessons(paths, out_dir: Path, reference) -> list[Page]:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    pages, bodies = [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        title = notebook_title(nb) or path.stem
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        pages.append(Page(path, path.with_suffix(".html").name, title))
        bodies.append(body)
    for i, (page, body) in enumerate(zip(pages, bodies)):
        (out_dir / page.target).write_text(_with_nav(rewrite_links(body), _nav(pages, i, reference)),
                                           encoding="utf-8")
    return pages


def _markdown_pages(paths) -> list[Page]:
    pages = []
    for path in paths:
        m = re.search(r"^#\s+(.+?)\s*$", path.read_text(encoding="utf-8"), flags=re.M)
        pages.append(Page(path, path.with_suffix(".html").name, m.group(1) if m else path.stem))
    return pages


def _export_markdown(pages, out_dir: Path) -> None:
    for page in pages:
        body = rewrite_links(_render_markdown(page.source.read_text(encoding="utf-8")))
        nav = _nav([], None, [p for p in pages if p is not page])
        (out_dir / page.target).write_text(_standalone(page.title, body, nav), encoding="utf-8")


def _write_index(lessons, others, out_dir: Path) -> None:
    items = "\n".join(f'<li><a href="{p.target}">{html.escape(p.title)}</a></li>' for p in lessons)
    extra = "\n".join(f'<li><a href="{p.target}">{html.escape(p.title)}</a></li>' for p in others)
    body = (f"<h1>{html.escape(COURSE_TITLE)}</h1>\n"
            "<p>The lessons as they are stored, with their outputs. To run them and use the "
            "widgets, open the course in JupyterLab with <code>make lab</code>.</p>\n"
            f'<h2>Lessons</h2>\n<ul class="cnnlab-lessons">\n{items}\n</ul>\n'
            f"<h2>Reference</h2>\n<ul>\n{extra}\n</ul>\n")
    nav = '<nav class="cnnlab-nav">' + " ".join(
        f'<a href="{p.target}">{html.escape(p.title)}</a>' for p in others) + "</nav>"
    (out_dir / "index.html").write_text(_standalone(COURSE_TITLE, body, nav), encoding="utf-8")


def build_site(out_dir=None, notebooks_dir=None) -> SiteReport:
    """Export the stored lessons and markdown pages to a static site and check its links.

    Parameters
    ----------
    out_dir : path, optional
        Where to write the site (emptied first); default ``build/site``.
    notebooks_dir : path, optional
        Where the lessons are; default the course's ``notebooks/``.

    Returns
    -------
    SiteReport
    """
    out_dir = Path(out_dir) if out_dir is not None else ROOT / "build" / "site"
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else ROOT / "notebooks"
    if not notebooks_dir.is_dir():
        raise FileNotFoundError(f"`notebooks_dir` {str(notebooks_dir)!r} is not a folder")
    lessons = sorted(notebooks_dir.glob(LESSON_GLOB))
    if not lessons:
        raise FileNotFoundError(f"no lessons ({LESSON_GLOB}) in {notebooks_dir}")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        md_pages = _markdown_pages(sorted(notebooks_dir.glob("*.md")))
        lesson_pages = _export_lessons(lessons, out_dir, md_pages)
        _export_markdown(md_pages, out_dir)
        _write_index(lesson_pages, md_pages, out_dir)
    broken, external = check_links(out_dir)
    noted = [f"{w.category.__name__}: {w.message}" for w in caught
             if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
    return SiteReport(out_dir, lesson_pages + md_pages, broken, external, noted)


# ---------------------------------------------------------------------------
# Checking links
# ---------------------------------------------------------------------------

class _Links(HTMLParser):
    """Collect the links and the anchor targets (ids and names) of one page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.anchors = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.anchors.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.anchors.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def check_links(site_dir) -> tuple[list[str], list[str]]:
    """Check every link of every ``.html`` file under ``site_dir``.

    Returns
    -------
    broken : list of str
        ``"page: link (reason)"`` for each relative link that leaves the site,
        names a missing file, or names a missing ``#anchor``.
    external : list of str
        Sorted unique ``http(s)``/``//`` URLs (not fetched).
    """
    site_dir = Path(site_dir).resolve()
    parsed = {p: _parse(p) for p in sorted(site_dir.rglob("*.html"))}
    broken, external = [], set()
    for page, info in parsed.items():
        name = page.relative_to(site_dir).as_posix()
        for link in info.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https") or link.startswith("//"):
                external.add(link)
                continue
            if parts.scheme:  # data:, mailto:, javascript:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if site_dir not in (target, *target.parents):
                broken.append(f"{name}: {link} (outside the site)")
            elif not target.is_file():
                broken.append(f"{name}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                anchors = parsed[target].anchors if target in parsed else _parse(target).anchors
                # browsers try the fragment as written, then percent-decoded
                if not {parts.fragment, unquote(parts.fragment)} & anchors:
                    broken.append(f"{name}: {link} (no anchor #{unquote(parts.fragment)})")
    return broken, sorted(external)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.tools.site",
                                     description="Build the course website from the stored lessons.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="export the lessons to HTML and check the links")
    build.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    build.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    args = parser.parse_args(argv)
    report = build_site(args.out, args.notebooks)
    print(f"{len(report.pages)} pages and index.html written to {report.out_dir}")
    print(f"{len(report.external)} external links (not checked)")
    for w in report.warnings:
        print("warning:", w)
    for b in report.broken:
        print("broken link:", b)
    if report.ok:
        print(f"all relative links resolve; serve with `python -m http.server -d {args.out}`")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
