"""Unix accounts for the class: one teacher, the roster's students, one group.

Every account ``make hub`` creates gets a random password (for the hub's PAM
login), written once to ``<state>/passwords.csv`` (readable by root only) for
the teacher to hand out, and its name to ``<state>/created-users.txt``, so
``make hub-remove-users`` removes exactly those accounts and nothing else. A
user who already exists keeps their password and home; they are only added to
the class group. Homes are private (mode 0700): students cannot read each
other's work or the teacher's course folder.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import subprocess
from pathlib import Path

from cnnlab.tools.hub.roster import check_username

__all__ = ["HubError", "require_root", "ensure_group", "ensure_user", "created_users",
           "remove_created_users", "user_home", "chown_tree"]


class HubError(RuntimeError):
    """Something ``make hub`` cannot do, saying what and how to fix it."""


def require_root(what="make hub") -> None:
    """Raise :class:`HubError` unless running as root (creating users needs it)."""
    if os.geteuid() != 0:
        raise HubError(f"{what} creates Unix users and runs JupyterHub's spawner, so it must run "
                       f"as root: sudo {what}")


def _run(cmd, what) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise HubError(f"{what} failed: {' '.join(cmd)}: {done.stderr.strip() or done.stdout.strip()}")


def ensure_group(name) -> int:
    """The id of Unix group ``name``, created when missing."""
    check_username(name, "group")
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        _run(["groupadd", name], f"creating group {name}")
        return grp.getgrnam(name).gr_gid


def ensure_user(name, group, state, comment="") -> str | None:
    """Make Unix user ``name`` (a member of ``group``) exist; return its new password.

    Returns None for a user who already existed (their password is not
    touched). New users are listed in ``state/created-users.txt`` and their
    password appended to ``state/passwords.csv``.
    """
    check_username(name)
    state = Path(state)
    try:
        pwd.getpwnam(name)
        _run(["usermod", "-a", "-G", group, name], f"adding {name} to group {group}")
        os.chmod(user_home(name), 0o700)
        return None
    except KeyError:
        pass
    _run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", group,
          "--comment", comment.replace(":", " ")[:60], name], f"creating user {name}")
    os.chmod(user_home(name), 0o700)
    password = secrets.token_urlsafe(12)
    done = subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True,
                          capture_output=True)
    if done.returncode:
        raise HubError(f"setting the password of {name} failed: {done.stderr.strip()}")
    _append(state / "created-users.txt", f"{name}\n")
    _append(state / "passwords.csv", f"{name},{password}\n", header="username,password\n")
    return password


def _append(path: Path, line: str, header: str = "") -> None:
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write((header if new else "") + line)


def created_users(state) -> list[str]:
    """The accounts ``make hub`` created (``state/created-users.txt``), oldest first."""
    path = Path(state) / "created-users.txt"
    if not path.exists():
        return []
    return [n for n in (line.strip() for line in path.read_text().splitlines()) if n]


def remove_created_users(state, group=None, log=print) -> list[str]:
    """Remove (with their homes) the accounts ``make hub`` created; return their names.

    Accounts that existed before ``make hub`` are never removed. ``group``, if
    given and now empty, is removed too.
    """
    state = Path(state)
    removed = []
    for name in created_users(state):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        _run(["userdel", "--remove", name], f"removing user {name}")
        removed.append(name)
        log(f"removed user {name}")
    for leftover in ("created-users.txt", "passwords.csv"):
        (state / leftover).unlink(missing_ok=True)
    if group:
        try:
            if not grp.getgrnam(group).gr_mem:
                _run(["groupdel", group], f"removing group {group}")
        except KeyError:
            pass
    return removed


def user_home(name) -> Path:
    """The home folder of Unix user ``name``."""
    return Path(pwd.getpwnam(name).pw_dir)


def chown_tree(path, user) -> None:
    """Give ``path`` and everything below it to ``user`` (and their primary group)."""
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for item in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.lchown(item, entry.pw_uid, entry.pw_gid)
