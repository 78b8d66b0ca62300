"""The lessons of the course, in order, with what each one builds on (lesson 00).

:data:`LESSONS` feeds the course map (:func:`cnnlab.plot.draw_course_map`);
the titles are those of the syllabus and of the notebooks' first headings.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

from .._validate import describe

__all__ = ["LESSONS", "PARTS", "Lesson", "lesson"]


class Lesson(NamedTuple):
    """One lesson: its number ``"NN"``, title, part of the course and prerequisites."""

    number: str
    title: str
    part: str
    needs: tuple  # numbers of the lessons it builds on


#: The parts of the course, in order.
PARTS = ("start", "convolution", "building blocks", "training and architectures", "beyond")

LESSONS = (
    Lesson("00", "Start here", "start", ()),
    Lesson("01", "Convolution in 1D: detecting a bump", "convolution", ("00",)),
    Lesson("02", "Convolution in 2D: detecting lines", "convolution", ("01",)),
    Lesson("03", "Padding, stride and output size", "convolution", ("02",)),
    Lesson("04", "Channels and many filters", "building blocks", ("03",)),
    Lesson("05", "Pooling", "building blocks", ("04",)),
    Lesson("06", "ReLU and why non-linearity", "building blocks", ("04",)),
    Lesson("07", "From feature maps to classes", "building blocks", ("05", "06")),
    Lesson("08", "Training a CNN", "training and architectures", ("07",)),
    Lesson("09", "LeNet-5", "training and architectures", ("08",)),
    Lesson("10", "Classic architectures", "training and architectures", ("09",)),
    Lesson("11", "ResNet", "training and architectures", ("10",)),
    Lesson("12", "Beyond classification", "beyond", ("03", "08", "10")),
)


def lesson(number) -> Lesson:
    """The lesson numbered ``number`` (an int or a string such as ``"03"`` or ``"3"``)."""
    if isinstance(number, numbers.Integral) and not isinstance(number, bool):
        key = f"{int(number):02d}"
    elif isinstance(number, str):
        key = number.strip()
        key = f"{int(key):02d}" if key.isdigit() and len(key) < 3 else key
    else:
        raise TypeError(f"`number` must be a lesson number, an int such as 3 or a string such as "
                        f"'03', got {describe(number)}")
    for item in LESSONS:
        if item.number == key:
            return item
    raise ValueError(f"`number` must be one of {[item.number for item in LESSONS]}, got {number!r}")
