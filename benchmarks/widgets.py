"""How long the kernel editor of lesson 02 takes to show a new feature map.

One weight change in ``KernelEditor`` on the 256x256 photo runs the
convolution ("same" padding), encodes the map as a PNG and replaces the
bytes of an ``Image`` widget. Measured side by side in one run, 50 changes
each, for 3x3 and 5x5 kernels:

- editor: setting a weight box's ``.value`` until the new PNG is in place;
- conv2d alone: ``cnnlab.kernels.conv2d(photo, kernel, padding="same")``;
- array_to_png alone: encoding the feature map;
- matplotlib figure: the usual way, ``imshow(...).set_data`` then
  ``savefig`` to PNG (the figure itself only, no conv2d).

Target: median editor redraw under 50 ms. Run with ``make bench`` or
``.venv/bin/python benchmarks/widgets.py``.
"""

from __future__ import annotations

import io
import os
import platform
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnlab import kernels  # noqa: E402
from cnnlab.plot import array_to_png  # noqa: E402
from cnnlab.widgets import KernelEditor  # noqa: E402

CHANGES = 50
WARM_UP = 3
TARGET_MS = 50.0


def timed(step, n=CHANGES) -> np.ndarray:
    """Milliseconds of ``step(i)`` for i in 0..n-1, after a few untimed calls."""
    for i in range(WARM_UP):
        step(i)
    out = []
    for i in range(n):
        start = time.perf_counter()
        step(i)
        out.append((time.perf_counter() - start) * 1e3)
    return np.array(out)


def weight(i: int) -> float:
    return 0.5 + (i % 10) / 10                  # a new value at each change


def measure(size: int) -> dict[str, np.ndarray]:
    editor = KernelEditor(image="photo", size=size, preset="box_blur")
    box = editor.controls[f"w_{size // 2}_{size // 2}"]
    image, kernel = editor.image, editor.kernel                 # (256, 256), (size, size)
    feature_map = editor.feature_map                            # (256, 256)

    def editor_step(i):
        box.value = weight(i) + 1e-3 * i        # never the previous value: always redraws

    fig, ax = plt.subplots(figsize=(2.56, 2.56), dpi=100)
    shown = ax.imshow(feature_map, cmap="gray")
    ax.set_axis_off()

    def figure_step(i):
        shown.set_data(feature_map * weight(i))
        shown.autoscale()
        fig.savefig(io.BytesIO(), format="png")

    results = {
        "editor: weight -> new PNG": timed(editor_step),
        "conv2d alone": timed(lambda i: kernels.conv2d(image, kernel * weight(i), padding="same")),
        "array_to_png alone": timed(lambda i: array_to_png(feature_map * weight(i))),
        "matplotlib figure -> PNG": timed(figure_step),
    }
    plt.close(fig)
    assert editor.redraw_count >= CHANGES + WARM_UP  # every change redrew
    return results


def main() -> None:
    print(f"KernelEditor redraw, 256x256 photo, {CHANGES} weight changes "
          f"(Python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPU cores)")
    print(f"{'':4}{'':30}{'median ms':>10}{'p95 ms':>10}")
    medians = {}
    for size in (3, 5):
        for name, ms in measure(size).items():
            median, p95 = np.percentile(ms, [50, 95])
            medians[size, name] = median
            print(f"{size}x{size} {name:30}{median:10.2f}{p95:10.2f}")
    worst = max(v for (_, name), v in medians.items() if name.startswith("editor"))
    verdict = "met" if worst < TARGET_MS else "MISSED"
    print(f"target: median editor redraw < {TARGET_MS:.0f} ms: {verdict} "
          f"(slowest median {worst:.2f} ms)")


if __name__ == "__main__":
    main()
