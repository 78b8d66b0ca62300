"""The course as a static website: ``make site`` (or ``python -m cnnlab.tools.site build``).

Every lesson is exported to HTML as it is stored, with its outputs and
without running it again; widgets appear in their last saved state. Markdown
pages next to the lessons (the glossary) are rendered too, an index page
lists the lessons in order with the titles read from the notebooks, and
links between pages are rewritten from ``.ipynb`` / ``.md`` to ``.html``.

The site works offline: the scripts its pages load (MathJax for the
formulas, require.js and the Jupyter widgets HTML manager for the widgets)
are copied into its ``assets/`` folder from npm packages pinned in
``site_assets/package-lock.json`` (installed once with ``npm ci`` into
``build/site-npm``), and the front end of the course's anywidget explorers
from the installed ``anywidget`` package. A widget whose front end the site
cannot serve is replaced by a still picture (the stored PNG, else the first
picture inside the widget, else a note), never left as an empty box.

Finally every link is checked: each relative link must lead to a file of the
site (and each ``#anchor`` to an element with that id); external links are
only listed. Serve the result with ``python -m http.server -d build/site``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import re
import shutil
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = ["Page", "SiteReport", "SiteAssetsError", "build_site", "check_links", "install_assets",
           "copy_assets", "widget_stills"]

ROOT = Path(__file__).resolve().parents[2]
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
COURSE_TITLE = "Convolutional neural networks, hands on"

ASSETS_SOURCE = Path(__file__).resolve().with_name("site_assets")   # package.json, lock, page template
NPM_DIR = ROOT / "build" / "site-npm"                                # where `npm ci` installs them
ASSETS = "assets"                                                    # the site's folder of scripts
NPM_COMMAND = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]

# (from, in node_modules or the anywidget package; to, in the site's assets/ folder)
_NPM_ASSETS = [
    ("mathjax/es5/tex-chtml-full.js", "mathjax/tex-chtml-full.js"),
    ("mathjax/es5/output/chtml/fonts/woff-v2", "mathjax/output/chtml/fonts/woff-v2"),
    ("mathjax/es5/ui", "mathjax/ui"),        # the formula menu
    ("mathjax/es5/a11y", "mathjax/a11y"),    # and what it can switch on
    ("mathjax/es5/sre", "mathjax/sre"),
    ("mathjax/LICENSE", "mathjax/LICENSE"),
    ("requirejs/require.js", "require/require.js"),
    ("@jupyter-widgets/html-manager/dist/embed-amd.js", "widgets/embed-amd.js"),
    ("@jupyter-widgets/html-manager/dist/*.woff2", "widgets/"),   # Font Awesome, for icons
    ("@jupyter-widgets/html-manager/dist/*.woff", "widgets/"),
]
_ANYWIDGET_ASSETS = [("nbextension/index.js", "anywidget/index.js")]

# the widget modules a page can draw: bundled in the HTML manager, or served from assets/
RENDERABLE_MODULES = frozenset({"@jupyter-widgets/base", "@jupyter-widgets/controls",
                                "@jupyter-widgets/output", "anywidget"})
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

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
    stills: list = []    # "page: widget (reason)" for widgets shown as a still picture

    @property
    def ok(self) -> bool:
        return not self.broken and not self.warnings


class SiteAssetsError(RuntimeError):
    """The site's scripts (MathJax, the widget renderer) could not be installed or found."""


# ---------------------------------------------------------------------------
# The scripts the pages load, served by the site itself
# ---------------------------------------------------------------------------

def install_assets(npm_dir=None) -> Path:
    """Install the site's npm packages from ``site_assets/package-lock.json``, once.

    Runs ``npm ci --ignore-scripts`` in ``npm_dir`` (default ``build/site-npm``)
    when the lock file changed since the last install; otherwise does nothing.

    Returns
    -------
    Path
        The ``node_modules`` folder.

    Raises
    ------
    SiteAssetsError
        If ``npm`` is not installed or ``npm ci`` fails.
    """
    npm_dir = Path(npm_dir) if npm_dir is not None else NPM_DIR
    lock = (ASSETS_SOURCE / "package-lock.json").read_bytes()
    stamp = npm_dir / ".installed"
    wanted = hashlib.sha256(lock).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == wanted and (npm_dir / "node_modules").is_dir():
        return npm_dir / "node_modules"
    command = " ".join(NPM_COMMAND)
    npm = shutil.which("npm")
    if npm is None:
        lock_name = ASSETS_SOURCE / "package-lock.json"
        if ROOT in lock_name.parents:
            lock_name = lock_name.relative_to(ROOT)
        raise SiteAssetsError(
            "`npm` was not found. The website serves MathJax and the widget renderer itself, "
            f"installed once with `{command}` from {lock_name} "
            f"into {npm_dir}. Install Node.js and npm (Debian/Ubuntu: `sudo apt-get install npm`), "
            "then run `make site` again.")
    npm_dir.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(ASSETS_SOURCE / name, npm_dir / name)
    done = subprocess.run([npm, *NPM_COMMAND[1:]], cwd=npm_dir, capture_output=True, text=True)
    if done.returncode != 0:
        raise SiteAssetsError(f"`{command}` in {npm_dir} failed (exit {done.returncode}):\n"
                              + (done.stderr or done.stdout)[-2000:])
    stamp.write_text(wanted + "\n")
    return npm_dir / "node_modules"


def _copy(source: Path, pattern: str, to: Path, into: bool) -> list[Path]:
    """Copy ``source/pattern`` (a file, a folder or a ``*`` glob) to ``to``, or into it."""
    found = sorted(source.glob(pattern)) if "*" in pattern else [source / pattern]
    if not found or not found[0].exists():
        raise SiteAssetsError(f"{source / pattern} is missing: delete {source} and build again "
                              "to install it afresh")
    copied = []
    for path in found:
        target = to / path.name if into else to
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, target)
            copied += [p for p in target.rglob("*") if p.is_file()]
        else:
            shutil.copyfile(path, target)
            copied.append(target)
    return copied


def copy_assets(node_modules, out_dir) -> list[str]:
    """Copy the scripts the pages load into ``out_dir/assets``.

    MathJax, require.js and the widgets HTML manager come from ``node_modules``
    (see :func:`install_assets`), the anywidget front end from the installed
    ``anywidget`` Python package (the version the lessons were saved with).

    Returns
    -------
    list of str
        The copied files, relative to ``out_dir``, sorted.
    """
    import anywidget

    out_dir = Path(out_dir)
    copied = []
    for source, pairs in ((Path(node_modules), _NPM_ASSETS),
                          (Path(anywidget.__file__).parent, _ANYWIDGET_ASSETS)):
        for pattern, to in pairs:
            copied += _copy(source, pattern, out_dir / ASSETS / to, into=to.endswith("/"))
    return sorted(p.relative_to(out_dir).as_posix() for p in copied)


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


# ---------------------------------------------------------------------------
# Widgets: drawn from their saved state, or shown as a still picture
# ---------------------------------------------------------------------------

_MODEL_REF = re.compile(r"^IPY_MODEL_(\w+)$")


def _references(value) -> list[str]:
    """The model ids a widget's state names (``"IPY_MODEL_<id>"``, in lists and dicts too)."""
    if isinstance(value, str):
        m = _MODEL_REF.match(value)
        return [m.group(1)] if m else []
    if isinstance(value, dict):
        return [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def _undrawable(models: dict) -> dict:
    """Model id -> why a page cannot draw it, for every saved model that is not drawable.

    A model is drawable when its model and view modules are bundled in the
    HTML manager or served from ``assets/`` (``RENDERABLE_MODULES``) and every
    model it names is saved and drawable too.
    """
    bad = {}
    for mid, model in models.items():
        modules = {model.get("model_module"), model.get("state", {}).get("_view_module")} - {None}
        unknown = sorted(modules - RENDERABLE_MODULES)
        if unknown:
            bad[mid] = f"its front end {unknown[0]!r} is not served by the site"
    changed = True
    while changed:
        changed = False
        for mid, model in models.items():
            for ref in [] if mid in bad else _references(model.get("state", {})):
                if ref not in models or ref in bad:
                    bad[mid] = bad.get(ref, "a part of it was not saved with the notebook")
                    changed = True
                    break
    return bad


def _first_picture(mid: str, models: dict, seen: set) -> str | None:
    """The base64 PNG of the first ``Image`` widget inside model ``mid`` (depth first), if any."""
    model = models.get(mid)
    if model is None or mid in seen:
        return None
    seen.add(mid)
    if model.get("model_name") == "ImageModel" and model.get("state", {}).get("format", "png") == "png":
        for buffer in model.get("buffers", []):
            if buffer.get("path") == ["value"] and buffer.get("encoding") == "base64":
                return buffer["data"]
    for ref in _references(model.get("state", {})):
        picture = _first_picture(ref, models, seen)
        if picture:
            return picture
    return None


def _still(picture: str | None, reason: str) -> str:
    note = (f"This interactive widget cannot be drawn on this page ({html.escape(reason)}); "
            "open the lesson in JupyterLab (<code>make lab</code>) to use it.")
    if picture is None:
        return f'<div class="cnnlab-widget-still"><p><strong>Widget.</strong> {note}</p></div>'
    return (f'<figure class="cnnlab-widget-still"><img src="data:image/png;base64,{picture}" '
            f'alt="a still picture of the widget"><figcaption>A still picture. {note}</figcaption></figure>')


def widget_stills(nb) -> list[str]:
    """Replace, in place, each widget output the site cannot draw by a still picture.

    A widget view whose model (or a model inside it) is missing from the saved
    state or needs a front end the site does not serve becomes the stored PNG
    of the same output if there is one, else the picture of the first
    ``Image`` widget inside it, else a note saying to open the lesson in
    JupyterLab. The undrawable models are taken out of the saved state, so
    that they cannot stop the page's other widgets from being drawn.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook (version 4); changed in place.

    Returns
    -------
    list of str
        ``"cell N: reason"`` for each widget output replaced.
    """
    saved = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    models = saved.get("state", {})
    bad = _undrawable(models)
    replaced = []
    for number, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                continue
            mid = view.get("model_id")
            if mid in models and mid not in bad:
                continue
            reason = bad.get(mid, "its state was not saved with the notebook")
            picture = output["data"].get("image/png") or _first_picture(mid, models, set())
            output["data"] = {"text/html": _still(picture, reason)}
            replaced.append(f"cell {number}: {reason}")
    for mid in bad:
        del models[mid]
    return replaced


def _exporter():
    """nbconvert's lab page, with every script served from the site's ``assets/`` folder."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file="page.html.j2",
                        extra_template_paths=[str(ASSETS_SOURCE)],
                        mathjax_url=f"{ASSETS}/mathjax/tex-chtml-full.js",
                        require_js_url=f"{ASSETS}/require/require.js",
                        widget_renderer_url=f"{ASSETS}/widgets/embed-amd.js",
                        jupyter_widgets_base_url=f"{ASSETS}/widgets/modules/")


def _export_lessons(paths, out_dir: Path, reference) -> tuple[list[Page], list[str]]:
    import nbformat

    exporter = _exporter()
    pages, bodies, stills = [], [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        title = notebook_title(nb) or path.stem
        target = path.with_suffix(".html").name
        stills += [f"{target}: {s}" for s in widget_stills(nb)]
        if any(c.cell_type == "markdown" and "```mermaid" in c.source for c in nb.cells):
            warnings.warn(f"{path.name}: mermaid diagrams are not drawn on the offline site")
        body, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": title}, "cnnlab_assets": ASSETS})
        pages.append(Page(path, target, title))
        bodies.append(body)
    for i, (page, body) in enumerate(zip(pages, bodies)):
        (out_dir / page.target).write_text(_with_nav(rewrite_links(body), _nav(pages, i, reference)),
                                           encoding="utf-8")
    return pages, stills


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


def build_site(out_dir=None, notebooks_dir=None, npm_dir=None) -> SiteReport:
    """Export the stored lessons and markdown pages to a static site and check its links.

    Parameters
    ----------
    out_dir : path, optional
        Where to write the site (emptied first); default ``build/site``.
    notebooks_dir : path, optional
        Where the lessons are; default the course's ``notebooks/``.
    npm_dir : path, optional
        Where the site's npm packages are installed (see :func:`install_assets`);
        default ``build/site-npm``.

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
    node_modules = install_assets(npm_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    copy_assets(node_modules, out_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        md_pages = _markdown_pages(sorted(notebooks_dir.glob("*.md")))
        lesson_pages, stills = _export_lessons(lessons, out_dir, md_pages)
        _export_markdown(md_pages, out_dir)
        _write_index(lesson_pages, md_pages, out_dir)
    broken, external = check_links(out_dir)
    noted = [f"{w.category.__name__}: {w.message}" for w in caught
             if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
    return SiteReport(out_dir, lesson_pages + md_pages, broken, external, noted, stills)


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
    try:
        report = build_site(args.out, args.notebooks)
    except SiteAssetsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(report.pages)} pages and index.html written to {report.out_dir}")
    print(f"{len(report.external)} external links (not checked)")
    for still in report.stills:
        print("widget shown as a still picture:", still)
    for w in report.warnings:
        print("warning:", w)
    for b in report.broken:
        print("broken link:", b)
    if report.ok:
        print(f"all relative links resolve; serve with `python -m http.server -d {args.out}`")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
