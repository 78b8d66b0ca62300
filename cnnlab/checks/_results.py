"""What a check reports: the failure a learner reads, and the verdict of a passed check.

Shared by the checkers of :mod:`cnnlab.checks` and by the calls of :mod:`._calls`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import _hints


class CheckFailed(AssertionError):
    """A learner's function gave a wrong answer; the message says why and what to try.

    Attributes
    ----------
    problem : str
        One sentence: what went wrong.
    call : str or None
        The call that went wrong, with its inputs.
    expected, got : object or None
        The right answer and the learner's answer.
    hint : str or None
        The likely mistake and how to fix it.
    """

    def __init__(self, problem, *, call=None, expected=None, got=None, hint=None):
        self.problem, self.call, self.hint = problem, call, hint
        self.expected, self.got = expected, got
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [self.problem]
        if self.call:
            lines.append(labelled("called", self.call))
        if self.expected is not None:
            lines.append(labelled("expected", show(self.expected)))
        if self.got is not None:
            lines.append(labelled("got", show(self.got)))
        if self.hint:
            lines.append("Hint: " + self.hint)
        return "\n".join(lines)


class NotAFunction(CheckFailed, TypeError):
    """The checker was given something that is not a function (``check_conv2d(3)``).

    A :class:`CheckFailed` (so a notebook shows the same short message) and
    a ``TypeError`` naming the argument ``fn``.
    """


def labelled(label, text) -> str:
    """``text`` after a label column, its further lines indented to match."""
    prefix = f"  {label:<9}"
    first, *rest = text.split("\n")
    return "\n".join([prefix + first] + [" " * len(prefix) + line for line in rest])


def show(value, prefix="") -> str:
    """``prefix`` and a value as the message shows it: small arrays in full, large ones summarised."""
    if not isinstance(value, np.ndarray):
        return prefix + _hints.short(value)
    return prefix + show_array(value, prefix)


def show_array(value, prefix):
    if value.size > 64 or value.ndim > 2:
        if value.size == 0:
            return f"an empty array of shape {value.shape}"
        return (f"an array of shape {value.shape}, values from {np.min(value):.4g} "
                f"to {np.max(value):.4g}")
    text = np.array2string(value, precision=4, suppress_small=True, separator=", ", prefix=prefix)
    return f"{text}  (shape {value.shape})"


@dataclass(frozen=True)
class CheckResult:
    """What a passed check covered: the function, the number of cases, the features."""

    function: str
    cases: int
    covered: tuple

    def __str__(self) -> str:
        return (f"Well done: {self.function} passed all {self.cases} checks "
                f"({', '.join(self.covered)}).")

    def _ipython_display_(self):
        """Show nothing at the end of a cell: the checker already printed its verdict."""


def short_traceback(check):
    """Re-raise a CheckFailed from the public checker, so a notebook shows one short frame."""
    @functools.wraps(check)
    def checker(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except CheckFailed as failure:
            raise failure.with_traceback(None) from None
    return checker



def passed(name, cases, covered) -> CheckResult:
    result = CheckResult(name, cases, tuple(covered))
    print(result)
    return result
