"""Use an explorer's controls as a person does, and time input -> new picture, in the page.

The controls are ipywidgets' own front ends: a slider is moved by focusing
its handle and pressing the arrow keys (or dragging it), a toggle button or
a button is clicked, a menu entry is picked, a number is typed and Enter
pressed. :func:`time_changes` makes ``n`` such changes one after another and
times each, from the input event to the picture on screen (the same
``window.__cnnlabWatch`` as :func:`labpage.watch_latency`, so
:func:`labpage.latency_samples` reads the result).
"""

from __future__ import annotations

import io
import re

import matplotlib
import numpy as np
from course import record_latency
from labpage import image_bytes, latency_samples, wait_for_idle_kernel, wait_for_sample
from PIL import Image
from playwright.sync_api import Locator, Page

N_CHANGES = 20

# Times, in the page, from the first input event inside `root` after the watch
# is armed (a key press, a pointer press, a menu's change) to the change of
# `target` (an <img> src, or the content of an HTML/SVG view) and to the first
# frame painted after it. `starts` lists "event" or "event:Key" (keydown of one key).
_WATCH_INPUT_JS = """(root, [target, starts]) => {
  const watch = {start: null, samples: [], changes: 0};
  const stamp = () => performance.now();
  for (const spec of starts) {
    const [name, key] = spec.split(':');
    root.addEventListener(name, e => {
      if (key && e.key !== key) return;
      if (watch.start === null) watch.start = stamp();
    }, true);
  }
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
      {childList: true, subtree: true, characterData: true, attributes: true});
  window.__cnnlabWatch = watch;
}"""

KEYS = ("keydown",)                     # a slider moved with the arrow keys
CLICKS = ("pointerdown",)               # a toggle button, a button, a picture clicked
MENUS = ("change",)                     # a menu entry picked (select_option)
ENTER = ("keydown:Enter",)              # a number typed, committed with Enter


# ----------------------------------------------------------------- finding controls

def _label(text: str) -> str:
    return f"label:text-is({text!r})"


def slider(out: Locator, description: str) -> Locator:
    """The slider (IntSlider, FloatSlider, FloatLogSlider) whose description is ``description``."""
    return out.locator(f".widget-slider:has({_label(description)})")


def menu(out: Locator, description: str) -> Locator:
    """The <select> of the Dropdown whose description is ``description``."""
    return out.locator(f".widget-dropdown:has({_label(description)}) select")


def number_box(out: Locator, description: str) -> Locator:
    """The <input> of the IntText / FloatText whose description is ``description``."""
    return out.locator(f".widget-text:has({_label(description)}) input")


def toggle(out: Locator, text: str, within: str = "") -> Locator:
    """The button reading ``text`` of a ToggleButtons row (the first row, or the one ``within``)."""
    row = out.locator(f".widget-toggle-buttons{within}").first
    return row.locator("button").filter(has_text=re.compile(f"^\\s*{re.escape(text)}\\s*$"))


def pressed(out: Locator, within: str = "") -> str:
    """The text of the pressed button of a ToggleButtons row."""
    row = out.locator(f".widget-toggle-buttons{within}").first
    return row.locator("button.mod-active").inner_text().strip()


def button(out: Locator, text: str) -> Locator:
    """A push button (ipywidgets.Button or ToggleButton) reading ``text``."""
    return out.locator("button").filter(has_text=re.compile(f"^\\s*{re.escape(text)}\\s*$"))


def is_pressed(control: Locator) -> bool:
    """Whether a toggle button (of a ToggleButtons row, or a ToggleButton) is pressed."""
    return "mod-active" in (control.get_attribute("class") or "").split()


def status_text(out: Locator) -> str:
    """The explorer's status line (the Label made by `_controls.status_line`)."""
    return out.locator(".widget-label.cnnlab-status").last.inner_text()


# ----------------------------------------------------------------- using them

def slider_value(control: Locator) -> str:
    """What the slider's readout shows (a minus sign written "-", not "−")."""
    return control.locator(".widget-readout").inner_text().strip().replace("\u2212", "-")


def slider_max(control: Locator) -> float:
    """The slider's largest value now."""
    return float(control.locator(".noUi-handle").first.get_attribute("aria-valuemax"))


def press_slider(control: Locator, key: str = "ArrowRight", times: int = 1) -> None:
    """Move a slider as with the keyboard: focus its handle, press ``key`` ``times`` times."""
    handle = control.locator(".noUi-handle").first
    handle.focus()
    for _ in range(times):
        handle.press(key)


def drag_slider(control: Locator, fraction: float) -> None:
    """Drag a slider's handle with the mouse to ``fraction`` (0 to 1) of its track."""
    page = control.page
    handle = control.locator(".noUi-handle").first
    track = control.locator(".noUi-target").first
    box, grip = track.bounding_box(), handle.bounding_box()
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + fraction * box["width"], grip["y"] + grip["height"] / 2, steps=8)
    page.mouse.up()


def set_slider(lesson, control: Locator, value: float, target: Locator, step: float = 1) -> None:
    """Move a slider with the arrow keys to ``value`` (its readout), and wait for the redraws.

    ``step`` is the slider's step; ``target`` the picture that changes with it.
    Nothing happens when the slider is at ``value`` already.
    """
    now = float(slider_value(control))
    presses = int(round((value - now) / step))
    if presses == 0:
        return
    old = shown(target)
    press_slider(control, "ArrowRight" if presses > 0 else "ArrowLeft", abs(presses))
    lesson.page.wait_for_function(
        "([el, want]) => Math.abs(Number(el.textContent.replace('\u2212', '-')) - want) < 1e-9",
        arg=[control.locator(".widget-readout").element_handle(), value])
    wait_for_change(target, old)
    settle(lesson)


def settle(lesson) -> None:
    """Wait until the kernel has answered every change sent so far (its redraws are sent)."""
    lesson.page.wait_for_timeout(50)
    wait_for_idle_kernel(lesson.page, lesson.path)


def wait_for_change(target: Locator, old: str, timeout_ms: int = 15_000) -> None:
    """Wait until ``target`` (an <img>: its src; else its inner HTML) is no longer ``old``."""
    target.page.wait_for_function(
        "([el, old]) => (el.tagName === 'IMG' ? el.src : el.innerHTML) !== old",
        arg=[target.element_handle(), old], timeout=timeout_ms)


def shown(target: Locator) -> str:
    """What ``target`` now shows, as :func:`wait_for_change` compares it."""
    return target.evaluate("el => el.tagName === 'IMG' ? el.src : el.innerHTML")


def changed_by(target: Locator, action) -> None:
    """Do ``action()`` and wait for ``target`` to show something new."""
    old = shown(target)
    action()
    wait_for_change(target, old)


# ----------------------------------------------------------------- reading pictures

def colour_table(cmap: str) -> np.ndarray:
    """The 256 colours of ``cmap`` as the explorers' PNGs use them, (256, 3) uint8."""
    return matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, 256), bytes=True)[:, :3]


def colour_levels(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Which of the 256 colours a value gets on the fixed range ``vmin..vmax`` (as array_to_png)."""
    scaled = (np.asarray(values, dtype=float) - vmin) * (255.0 / (vmax - vmin)) + 0.5
    return np.clip(scaled, 0, 255).astype(np.uint8)


def shown_levels(img: Locator, cmap: str, scale: int | None = None, rows: int | None = None
                 ) -> np.ndarray:
    """The colour index (0-255 along ``cmap``) of each cell the <img> shows.

    ``scale`` pixels a cell (or found from ``rows``, the number of cells down).
    Each pixel is matched to the nearest colour of the table.
    """
    rgb = np.asarray(Image.open(io.BytesIO(image_bytes(img))).convert("RGB"), dtype=float)
    if scale is None:
        scale = rgb.shape[0] // rows if rows else 1
    cells = rgb[::scale, ::scale]                                      # (H, W, 3)
    colours, where = np.unique(cells.reshape(-1, 3), axis=0, return_inverse=True)   # (U, 3)
    table = colour_table(cmap).astype(float)                          # (256, 3)
    distance = ((colours[:, None, :] - table) ** 2).sum(axis=-1)      # (U, 256)
    return distance.argmin(axis=-1)[where.ravel()].reshape(cells.shape[:2])   # (H, W)


# ----------------------------------------------------------------- timing

def watch_input(root: Locator, target: Locator, starts=KEYS + CLICKS + MENUS) -> None:
    """Start timing input events inside ``root`` -> change of ``target``."""
    root.evaluate(_WATCH_INPUT_JS, [target.element_handle(), list(starts)])


def arm(page: Page) -> None:
    """Forget a start that led to no change: the next input event starts the clock."""
    page.evaluate("window.__cnnlabWatch.start = null")


def time_changes(page: Page, root: Locator, target: Locator, change, n: int = N_CHANGES,
                 starts=KEYS + CLICKS + MENUS) -> dict[str, list[float]]:
    """Call ``change(i)`` for i = 0 .. n-1, each one a user input that changes ``target``.

    Every change is waited for (picture on screen) before the next one.

    Returns
    -------
    dict
        ``update`` and ``shown``: n milliseconds each (see :func:`labpage.latency_samples`).
    """
    watch_input(root, target, starts)
    for i in range(n):
        arm(page)
        change(i)
        wait_for_sample(page, i + 1)
    return latency_samples(page)


def time_slider_keys(page: Page, root: Locator, target: Locator, control: Locator, *,
                     left_first: bool = False) -> dict[str, list[float]]:
    """Arrow keys on a slider, right and left in turn (``left_first``: left, right), timed.

    The slider ends where it started (asserted), so the explorer is left as found.
    """
    first, second = ("ArrowLeft", "ArrowRight") if left_first else ("ArrowRight", "ArrowLeft")
    start = slider_value(control)
    samples = time_changes(page, root, target,
                           lambda i: press_slider(control, second if i % 2 else first))
    assert slider_value(control) == start
    return samples


def time_play_steps(lesson, root: Locator, target: Locator, n: int) -> dict[str, list[float]]:
    """Press the Play button inside ``root`` ``n`` times, timing its first step each time.

    A press plays the next step at once (ipywidgets' Play); it is paused
    again as soon as that step is on screen, and a step that slipped in before
    the pause is not counted.

    Returns
    -------
    dict
        ``update`` and ``shown``: n milliseconds each.
    """
    page = lesson.page
    play = root.locator(".widget-play button").first
    watch_input(root, target, CLICKS)
    chosen = []
    for _ in range(n):
        settle(lesson)
        first = page.evaluate("window.__cnnlabWatch.samples.length")
        arm(page)
        play.click()                                               # play: the next step at once
        wait_for_sample(page, first + 1)
        chosen.append(first)
        play.click()                                               # pause before the next tick
        page.wait_for_function("el => el.querySelector('.fa-play') !== null",
                               arg=play.element_handle())
    settle(lesson)
    samples = latency_samples(page)
    return {stage: [values[i] for i in chosen] for stage, values in samples.items()}


def report(name: str, what: str, samples: dict[str, list[float]]) -> dict:
    """Record ``samples`` as ``"name: what"`` (build/browser-latency.json) and print them."""
    summary = record_latency(f"{name}: {what}", samples)
    shown_ms = summary["shown"]
    print(f"\n{name}, {what} -> new picture shown, {shown_ms['n']} changes: "
          f"median {shown_ms['median_ms']} ms, p95 {shown_ms['p95_ms']} ms")
    return summary
