"""Drive one lesson in the JupyterLab page: open it, run it, read its outputs.

The page exposes the application as ``window.jupyterapp`` (the server runs
with ``expose_app_in_browser``), so a lesson is run with the same command as
the menu's Run > Run All Cells, and its outputs are read from the notebook
model rather than guessed from the screen.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page

RUN_TIMEOUT_MS = 240_000             # one whole lesson in fast mode
WIDGET_ERRORS = ("Error displaying widget", "model not found")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# The notebook panel showing `path` (the page may hold other tabs).
_PANEL_JS = """path => window.jupyterapp.shell.widgets ?
    [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === path) :
    null"""

# Clear the stored outputs (so nothing old passes for new), then Run All Cells;
# returns at once, `window.cnnlabRun[path]` turns true when the run is over.
_RUN_ALL_JS = """async (path) => {
  const app = window.jupyterapp;
  const panel = [...app.shell.widgets('main')].find(w => w.context && w.context.path === path);
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  await app.commands.execute('notebook:clear-all-cell-outputs');
  window.cnnlabRun = window.cnnlabRun || {};
  window.cnnlabRun[path] = false;
  app.commands.execute('notebook:run-all-cells').finally(() => { window.cnnlabRun[path] = true; });
}"""

_OUTPUTS_JS = """async (path) => {
  const app = window.jupyterapp;
  const panel = [...app.shell.widgets('main')].find(w => w.context && w.context.path === path);
  const cells = [];
  panel.content.widgets.forEach((cell, index) => {
    const m = cell.model;
    if (m.type !== 'code') return;
    cells.push({index, source: m.sharedModel.getSource(), count: m.executionCount,
                outputs: m.outputs.toJSON()});
  });
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  let live = [];          // widget models still open in the kernel (tqdm closes its bars)
  if (kernel) {
    const reply = await kernel.requestCommInfo({target_name: 'jupyter.widget'});
    live = Object.keys(reply.content.comms || {});
  }
  return {cells, kernel: kernel ? kernel.status : 'none', live};
}"""

_MARK_CELL_JS = """([path, index, mark]) => {
  const app = window.jupyterapp;
  const panel = [...app.shell.widgets('main')].find(w => w.context && w.context.path === path);
  panel.content.widgets[index].node.setAttribute('data-test-cell', mark);
}"""


@dataclass
class Lesson:
    """A lesson notebook opened and run in the page."""

    page: Page
    path: str                                   # relative to the server's root
    cells: list[dict] = field(default_factory=list)
    kernel_status: str = ""
    live_widgets: set[str] = field(default_factory=set)     # model ids open in the kernel

    def refresh(self) -> None:
        state = self.page.evaluate(_OUTPUTS_JS, self.path)
        self.cells, self.kernel_status = state["cells"], state["kernel"]
        self.live_widgets = set(state["live"])

    def problems(self) -> list[str]:
        """Every error the run left: error outputs, tracebacks, broken widgets."""
        found = []
        for cell in self.cells:
            where = f"cell {cell['index']} ({first_line(cell['source'])!r})"
            if cell["count"] is None:
                found.append(f"{where} did not run")
            for out in cell["outputs"]:
                if out["output_type"] == "error":
                    found.append(f"{where} raised {out['ename']}: {out['evalue']}")
                elif out.get("name") == "stderr" and "Traceback" in text_of(out):
                    found.append(f"{where} printed a traceback:\n{text_of(out)[-1500:]}")
        stderr = self.page.locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        for text in stderr.all_inner_texts():
            if "Traceback" in text:
                found.append(f"the page shows a traceback:\n{text[-1500:]}")
        page_text = self.page.locator("#main").inner_text()
        for line in page_text.splitlines():
            if any(message in line for message in WIDGET_ERRORS):
                found.append(f"the page shows {line.strip()[:200]!r}")
        return found

    def widget_output_count(self) -> int:
        """How many widget views the outputs hold whose widget is still open.

        A closed widget (a finished progress bar) leaves its output empty.
        """
        views = [out["data"][WIDGET_VIEW] for cell in self.cells for out in cell["outputs"]
                 if WIDGET_VIEW in out.get("data", {})]
        return sum(view.get("model_id") in self.live_widgets for view in views)

    def cell_output(self, needle: str, mark: str) -> Locator:
        """The output area of the first code cell whose source contains ``needle``."""
        for cell in self.cells:
            if needle in cell["source"]:
                self.page.evaluate(_MARK_CELL_JS, [self.path, cell["index"], mark])
                return self.page.locator(f'[data-test-cell="{mark}"] .jp-OutputArea-output')
        raise LookupError(f"no code cell of {self.path} contains {needle!r}")


def open_and_run(page: Page, lab, path: str) -> Lesson:
    """Open ``path`` in a fresh workspace, run all its cells, wait for widgets."""
    workspace = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
    page.goto(lab.notebook_url(path, workspace))
    page.wait_for_function("window.jupyterapp && window.jupyterapp.started", timeout=60_000)
    page.wait_for_function(f"({_PANEL_JS})({path!r})", timeout=60_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    page.evaluate(_RUN_ALL_JS, path)
    page.wait_for_function("path => window.cnnlabRun[path] === true", arg=path,
                           timeout=RUN_TIMEOUT_MS)
    lesson = Lesson(page, path)
    wait_for_idle_kernel(page, path)
    lesson.refresh()
    wait_for_widgets(lesson)
    wait_for_idle_kernel(page, path)        # the views just drawn may have talked to it
    lesson.refresh()
    return lesson


def close(lesson: Lesson) -> None:
    """Shut the lesson's kernel down and close its page."""
    try:
        lesson.page.evaluate(
            f"""async () => {{
              const panel = ({_PANEL_JS})({lesson.path!r});
              if (panel) await panel.sessionContext.shutdown();
            }}""")
    finally:
        lesson.page.close()


def wait_for_idle_kernel(page: Page, path: str, timeout_ms: int = 30_000) -> None:
    page.wait_for_function(
        f"""() => {{
          const panel = ({_PANEL_JS})({path!r});
          const k = panel.sessionContext.session && panel.sessionContext.session.kernel;
          return k && k.status === 'idle';
        }}""", timeout=timeout_ms)


def wait_for_widgets(lesson: Lesson, timeout_ms: int = 30_000) -> None:
    """Wait until every open widget is drawn and no output still says "Loading widget..."."""
    lesson.page.wait_for_function(
        """n => {
          const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
          if (outputs.some(o => o.textContent.trim() === 'Loading widget...')) return false;
          return document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length >= n;
        }""", arg=lesson.widget_output_count(), timeout=timeout_ms)


def eventually(check, timeout_s: float = 10.0, pause_s: float = 0.1):
    """Call ``check`` until it stops raising AssertionError (the page updates in steps)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause_s)


def text_of(output: dict) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def first_line(source: str) -> str:
    return source.strip().splitlines()[0][:60] if source.strip() else ""


def type_number(page: Page, box: Locator, value: float | str) -> None:
    """Change a number box as a person does: click, select all, type, Enter."""
    box.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")


# Times, in the page, from a key press that commits a value (Enter) inside
# `root` to the change of `target` (an <img> src, or a chart's content), and
# to the first frame painted after it (the image decoded first).
_WATCH_JS = """(root, target) => {
  const watch = {start: null, samples: [], changes: 0};
  const stamp = () => performance.now();
  root.addEventListener('keydown', e => { if (e.key === 'Enter') watch.start = stamp(); }, true);
  const painted = (done) => requestAnimationFrame(() => setTimeout(done, 0));
  new MutationObserver(() => {
    watch.changes += 1;
    const start = watch.start;
    if (start === null) return;
    watch.start = null;
    const updated = stamp();
    const decoded = target.tagName === 'IMG' ?
        target.decode().catch(() => null) : Promise.resolve();
    decoded.then(() => painted(() => {
      watch.samples.push({update: updated - start, shown: stamp() - start});
    }));
  }).observe(target, target.tagName === 'IMG' ?
      {attributes: true, attributeFilter: ['src']} :
      {childList: true, subtree: true, characterData: true});
  window.__cnnlabWatch = watch;
}"""


def watch_latency(root: Locator, target: Locator) -> None:
    """Start timing Enter-in-``root`` -> change of ``target`` (see :func:`latency_samples`)."""
    root.evaluate(_WATCH_JS, target.element_handle())


def wait_for_sample(page: Page, n: int, timeout_ms: int = 15_000) -> None:
    page.wait_for_function("n => window.__cnnlabWatch.samples.length >= n", arg=n,
                           timeout=timeout_ms)


def latency_samples(page: Page) -> dict[str, list[float]]:
    """Milliseconds per change: ``update`` (DOM changed) and ``shown`` (painted)."""
    samples = page.evaluate("window.__cnnlabWatch.samples")
    return {stage: [s[stage] for s in samples] for stage in ("update", "shown")}


_DIGEST_JS = """async img => {
  const bytes = await (await fetch(img.src)).arrayBuffer();
  const hash = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(hash)].map(b => b.toString(16).padStart(2, '0')).join('');
}"""

_BYTES_JS = """async img => {
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}"""


def image_digest(img: Locator) -> str:
    """SHA-256 of the bytes the <img> now shows."""
    return img.evaluate(_DIGEST_JS)


def image_bytes(img: Locator) -> bytes:
    """The bytes the <img> now shows (a PNG for the widgets)."""
    return base64.b64decode(img.evaluate(_BYTES_JS))


def wait_for_new_src(img: Locator, old_src: str, timeout_ms: int = 15_000) -> None:
    img.page.wait_for_function("([el, old]) => el.src !== old",
                               arg=[img.element_handle(), old_src], timeout=timeout_ms)


def screenshot_element(element: Locator, path: str) -> None:
    """Screenshot ``element`` whole: the window grows for a widget taller than it.

    The notebook scrolls inside the page, so a tall widget would be cut by
    the toolbar and the status bar.
    """
    page = element.page
    size = page.viewport_size
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    grow = box is not None and box["height"] + 200 > size["height"]
    if grow:
        page.set_viewport_size({"width": size["width"], "height": int(box["height"]) + 300})
        page.wait_for_timeout(300)                  # let JupyterLab lay the panels out again
        element.scroll_into_view_if_needed()
    try:
        element.screenshot(path=path)
    finally:
        if grow:
            page.set_viewport_size(size)


_CLIPPED_JS = """root => {
  const found = [];
  for (const el of [root, ...root.querySelectorAll('*')]) {
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) continue;   // scroll by design
    const style = getComputedStyle(el);
    if (style.overflowX === 'visible' || el.scrollWidth <= el.clientWidth + 1) continue;
    const text = (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    found.push(`${el.tagName.toLowerCase()}.${[...el.classList].slice(-1)[0] || ''} is ` +
               `${el.clientWidth} px wide, its content ${el.scrollWidth} px (${text})`);
  }
  return found;
}"""


def clipped_parts(element: Locator) -> list[str]:
    """Boxes inside ``element`` whose content is wider than they are (cut off or scrolled)."""
    element.scroll_into_view_if_needed()
    return element.evaluate(_CLIPPED_JS)
