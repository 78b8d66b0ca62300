"""Use a learner's answer further on in a lesson, or the course's own version while it is unsolved.

A later cell that needs an exercise's function (to draw a figure with it, to
build on it) takes it through :func:`answer_or_reference`, so that a lesson
stays runnable top to bottom while an exercise is still a stub::

    conv = checks.answer_or_reference(my_conv2d, kernels.conv2d, exercise="ex02-conv2d")
    conv(image, kernel)      # the learner's function, or kernels.conv2d if it raises
"""

from __future__ import annotations

import functools

from . import _hints

__all__ = ["answer_or_reference"]


def answer_or_reference(answer, reference, *, exercise):
    """A function that calls ``answer``, or ``reference`` where ``answer`` raises.

    Parameters
    ----------
    answer : callable or None
        The learner's function (a stub that raises ``NotImplementedError``
        while the exercise is unsolved); None: not defined yet.
    reference : callable
        The course's version, with the same arguments.
    exercise : str
        The exercise's name, shown in the note when the reference is used.

    Returns
    -------
    callable
        Takes the arguments of ``reference``. The first time ``answer`` raises,
        a one-line note names the exercise and the error, and ``reference``
        answers that call and every later one.
    """
    if not callable(reference):
        raise TypeError(f"`reference` must be a function, got {_hints.short(reference)}")
    if not isinstance(exercise, str) or not exercise:
        raise TypeError(f"`exercise` must be the exercise's name (a string), got {_hints.short(exercise)}")
    if answer is not None and not callable(answer):
        raise TypeError(f"`answer` must be a function or None, got {_hints.short(answer)}")
    state = {"use_reference": answer is None}
    if answer is None:
        print(f"{exercise} is not answered yet: using cnnlab's own version here.")

    @functools.wraps(reference)
    def call(*args, **kwargs):
        if not state["use_reference"]:
            try:
                return answer(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - any failure: the lesson goes on with the reference
                state["use_reference"] = True
                reason = "not answered yet" if isinstance(exc, NotImplementedError) else \
                    f"your answer raised {type(exc).__name__}: {exc}"
                print(f"{exercise}: {reason}; using cnnlab's own version here.")
        return reference(*args, **kwargs)

    return call
