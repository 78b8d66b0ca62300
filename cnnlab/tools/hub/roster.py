"""The class list: a CSV of students that ``make hub`` turns into Unix users.

A roster has a header row and one row per student::

    username,first_name,last_name
    ada,Ada,Lovelace
    alan,Alan,Turing

``username`` becomes the student's Unix user name, hub login and nbgrader
student id, so it must be a portable Unix name: lower-case letters, digits,
``_`` and ``-``, starting with a letter, at most 32 characters. ``first_name``
and ``last_name`` (optional columns) are what Formgrader shows.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Student", "RosterError", "read_roster", "check_username"]

USERNAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# Names a roster may not take: they are the system's own accounts.
RESERVED = {"root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news",
            "uucp", "proxy", "www-data", "backup", "list", "irc", "nobody", "systemd-network",
            "messagebus", "sshd", "admin"}


class RosterError(ValueError):
    """A roster file that cannot be used, with the file, the line and what is wrong."""


@dataclass(frozen=True)
class Student:
    """One row of the roster."""

    username: str
    first_name: str = ""
    last_name: str = ""


def check_username(name, what="username") -> str:
    """``name`` if it is a portable Unix user name, else a :class:`RosterError` saying why."""
    if not isinstance(name, str):
        raise RosterError(f"{what}: expected a string, got {type(name).__name__}")
    if not USERNAME.fullmatch(name):
        raise RosterError(f"{what}: expected lower-case letters, digits, '_' or '-', starting "
                          f"with a letter, at most 32 characters; got {name!r}")
    if name in RESERVED:
        raise RosterError(f"{what}: {name!r} is a system account's name; choose another")
    return name


def read_roster(path) -> list[Student]:
    """The students of the roster CSV at ``path``, in file order.

    Raises :class:`RosterError` naming the file and line for a missing file, a
    missing ``username`` column, a bad or repeated user name, or an empty list.
    """
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"roster: no file {path} (a CSV with a header row "
                          "'username,first_name,last_name')")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise RosterError(f"roster {path}: the file is empty; it needs a header row "
                          "'username,first_name,last_name' and one row per student")
    header = [h.strip().lower() for h in rows[0]]
    if "username" not in header:
        raise RosterError(f"roster {path}, line 1: expected a header row with a 'username' "
                          f"column (and optionally first_name, last_name); got {rows[0]}")
    col = {name: header.index(name) for name in ("username", "first_name", "last_name")
           if name in header}
    students, seen = [], set()
    for line, row in enumerate(rows[1:], start=2):
        cells = {k: (row[i].strip() if i < len(row) else "") for k, i in col.items()}
        try:
            name = check_username(cells["username"])
        except RosterError as e:
            raise RosterError(f"roster {path}, line {line}: {e}") from None
        if name in seen:
            raise RosterError(f"roster {path}, line {line}: {name!r} appears twice")
        seen.add(name)
        students.append(Student(name, cells.get("first_name", ""), cells.get("last_name", "")))
    if not students:
        raise RosterError(f"roster {path}: no students after the header row")
    return students
