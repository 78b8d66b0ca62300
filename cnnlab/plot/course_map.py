"""The map of the course (lesson 00): the lessons by part, arrows from what each builds on."""

from __future__ import annotations

import textwrap

from ..tools.course import LESSONS, PARTS
from ._parts import new_axes

__all__ = ["draw_course_map"]


def draw_course_map(ax=None):
    """The lessons as boxes in columns by part, with an arrow from each lesson it builds on.

    Introduced in lesson 00. The lessons, their parts and prerequisites come
    from :data:`cnnlab.course.LESSONS`.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, (13, 5.6))
    columns = {part: [item for item in LESSONS if item.part == part] for part in PARTS}
    tallest = max(len(c) for c in columns.values())
    boxes = {}
    for x, (part, items) in enumerate(columns.items()):
        ax.text(x, tallest - 0.35, part, ha="center", va="center", fontsize=11,
                fontweight="bold", color="0.35")
        for row, item in enumerate(items):
            label = f"{item.number}\n" + textwrap.fill(item.title, 20)
            boxes[item.number] = ax.text(
                x, tallest - 1 - row, label, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.45", facecolor="#e8f0fa", edgecolor="#4a6fa5"))
    order = [item.number for item in LESSONS]
    for item in LESSONS:
        for need in item.needs:
            source, target = boxes[need], boxes[item.number]
            skips = source.get_position()[0] == target.get_position()[0] and \
                abs(order.index(item.number) - order.index(need)) > 1
            bend = 0.55 if order.index(need) % 2 == 0 else -0.55  # neighbouring arcs on opposite sides
            ax.annotate("", xy=(0.5, 0.5), xycoords=target, xytext=(0.5, 0.5),
                        textcoords=source,
                        arrowprops=dict(arrowstyle="-|>", color="0.4", lw=1.2, shrinkA=2,
                                        shrinkB=2, patchA=source.get_bbox_patch(),
                                        patchB=target.get_bbox_patch(),
                                        connectionstyle=f"arc3,rad={bend if skips else 0.0}"))
    ax.set_xlim(-0.6, len(PARTS) - 0.4)
    ax.set_ylim(-0.6, tallest)
    ax.axis("off")
    return ax
