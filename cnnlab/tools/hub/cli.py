"""``python -m cnnlab.tools.hub``: start, stop and clear away the class hub.

Usage (``make hub``, ``make hub-stop``, ``make hub-remove-users`` run these, as root)::

    python -m cnnlab.tools.hub start [--roster CSV] [--teacher NAME] [--lessons 01 05 ...]
                                     [--prefix /opt/cnnlab-hub] [--port 8000]
    python -m cnnlab.tools.hub stop [--prefix ...]
    python -m cnnlab.tools.hub remove-users [--prefix ...]
    python -m cnnlab.tools.hub status [--prefix ...]

``start`` builds the hub's environment (once), creates the teacher's and the
roster's Unix users (new ones get a password in ``<prefix>/state/passwords.csv``),
the class group and nbgrader's exchange, builds the lessons into the teacher's
course folder (``~teacher/cnnlab``; lessons already there are kept), writes the
configuration and starts JupyterHub on ``http://127.0.0.1:<port>``. ``stop``
stops the hub and every server it started, and removes nothing. ``remove-users``
removes the accounts ``start`` created (with their homes: students' work and
the teacher's course folder go with them) and nothing else.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cnnlab.tools.hub import accounts, course, environment, roster, server

__all__ = ["DEFAULT_PREFIX", "DEFAULT_TEACHER", "DEFAULT_ROSTER", "GROUP", "start", "main"]

DEFAULT_PREFIX = Path("/opt/cnnlab-hub")
DEFAULT_TEACHER = "teacher"
DEFAULT_ROSTER = Path(__file__).resolve().parent / "roster.example.csv"
GROUP = "cnnlab-class"


def start(roster_path=DEFAULT_ROSTER, teacher=DEFAULT_TEACHER, lessons=(), prefix=DEFAULT_PREFIX,
          port=server.DEFAULT_PORT, group=GROUP, log=print, environment_vars=None) -> dict:
    """Set up and start the class hub; return what a teacher needs to know.

    Returns a dict with ``url``, ``teacher``, ``students`` (user names),
    ``passwords`` (path), ``course`` (the teacher's course folder), ``pid``,
    ``startup_s`` (seconds from starting JupyterHub until it answered) and
    ``setup_s`` (seconds for everything before that).
    """
    accounts.require_root()
    began = time.monotonic()
    students = roster.read_roster(roster_path)
    roster.check_username(teacher, "teacher")
    if teacher in {s.username for s in students}:
        raise roster.RosterError(f"teacher: {teacher!r} is also in the roster {roster_path}")
    prefix = Path(prefix)
    if server.hub_pid(prefix):
        raise accounts.HubError(f"a hub is already running from {prefix}; stop it first: "
                                "make hub-stop")
    environment.ensure_environment(prefix, log)
    state = prefix / "state"
    gid = accounts.ensure_group(group)
    for name, comment in [(teacher, "cnnlab teacher")] + [
            (s.username, f"{s.first_name} {s.last_name}".strip()) for s in students]:
        if accounts.ensure_user(name, group, state, comment):
            log(f"hub: created user {name}")
    course.prepare_exchange(prefix, gid)
    course.write_shared_config(prefix)
    folder = course.prepare_teacher(teacher, lessons, students, log)
    for s in students:
        course.prepare_student(s.username)
    server.write_hub_config(prefix, teacher, [s.username for s in students], port,
                            environment_vars)
    setup_s = time.monotonic() - began
    pid, startup_s = server.start_hub(prefix, port)
    return {"url": f"http://127.0.0.1:{port}/", "teacher": teacher,
            "students": [s.username for s in students], "passwords": state / "passwords.csv",
            "course": folder, "pid": pid, "startup_s": startup_s, "setup_s": setup_s}


def _print_started(info) -> None:
    print(f"The class hub is running: {info['url']} (loopback only; pid {info['pid']}; "
          f"answered {info['startup_s']:.1f} s after starting)")
    print(f"  teacher: {info['teacher']} (Formgrader: Nbgrader menu in JupyterLab); course "
          f"folder {info['course']}")
    print(f"  students: {', '.join(info['students'])} (Assignments: Nbgrader menu)")
    if Path(info["passwords"]).exists():
        print(f"  passwords of the accounts made here: {info['passwords']} (root only)")
    print("  stop it: make hub-stop; remove the accounts it made: make hub-remove-users")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.tools.hub",
                                     description="The cnnlab class hub (JupyterHub + nbgrader).")
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("start", help="set up and start the hub")
    go.add_argument("--roster", default=str(DEFAULT_ROSTER), help="CSV: username,first_name,last_name")
    go.add_argument("--teacher", default=DEFAULT_TEACHER)
    go.add_argument("--lessons", nargs="*", default=[], help="lessons to build (default: all)")
    go.add_argument("--port", type=int, default=server.DEFAULT_PORT)
    for p in [go] + [sub.add_parser(n, help=h) for n, h in (
            ("stop", "stop the hub and its servers; removes nothing"),
            ("remove-users", "remove the accounts the hub created"),
            ("status", "is the hub running?"))]:
        p.add_argument("--prefix", default=str(DEFAULT_PREFIX))
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            _print_started(start(args.roster, args.teacher, args.lessons, args.prefix, args.port))
        elif args.command == "stop":
            print("hub stopped" if server.stop_hub(args.prefix) else f"no hub running from {args.prefix}")
        elif args.command == "remove-users":
            accounts.require_root("make hub-remove-users")
            if server.hub_pid(args.prefix):
                raise accounts.HubError("the hub is running; stop it first: make hub-stop")
            removed = accounts.remove_created_users(Path(args.prefix) / "state", GROUP)
            print(f"removed {len(removed)} accounts" if removed else "no accounts to remove")
        else:
            pid = server.hub_pid(args.prefix)
            print(f"hub running (pid {pid})" if pid else f"no hub running from {args.prefix}")
            return 0 if pid else 1
    except (accounts.HubError, roster.RosterError) as e:
        print(f"make hub: {e}", file=sys.stderr)
        return 1
    return 0
