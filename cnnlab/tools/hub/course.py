"""nbgrader on the hub: the exchange, the configuration every user reads, the teacher's course.

- **The exchange** lies in ``<prefix>/class/exchange``. ``<prefix>/class`` is
  open to the class group only (``root:<group>``, mode 0750), so an account that
  is not in the course cannot reach the exchange at all; nbgrader's own checks
  (``JupyterHubAuthPlugin``: the hub group ``nbgrader-cnnlab``) say so in words.
- **The configuration for everyone** is written into the hub environment's own
  Jupyter folder (``<prefix>/venv/etc/jupyter/nbgrader_config.py``), never the
  machine's system-wide ``/etc/jupyter``: it changes nothing for nbgrader
  commands run outside the hub, and goes when the environment goes.
- **The teacher's course folder** is ``~<teacher>/cnnlab``, built by
  ``cnnlab.tools.assignments`` (the sandboxed, replay-checked grader of
  ``make grade``) and owned by the teacher. Lessons already there are left as
  they are (with their gradebook and grades); only missing ones are added.
- **Students** see the *Assignments* tab; Formgrader and the assignment
  creator are switched off in their own settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cnnlab.tools.hub.accounts import chown_tree, user_home

__all__ = ["COURSE_ID", "COURSE_FOLDER", "exchange_root", "prepare_exchange",
           "write_shared_config", "prepare_teacher", "prepare_student", "add_students"]

COURSE_ID = "cnnlab"
COURSE_FOLDER = "cnnlab"   # in the teacher's home
STUDENT_OFF = ("nbgrader.server_extensions.formgrader",)
STUDENT_LAB_OFF = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                   "@jupyter/nbgrader:course-list")

SHARED_CONFIG = '''\
# nbgrader for the cnnlab class hub (written by `make hub`; read by every user's server).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
# Who may fetch and submit: the hub's group nbgrader-{course_id} (the roster).
from nbgrader.auth import JupyterHubAuthPlugin  # noqa: E402
c.Authenticator.plugin_class = JupyterHubAuthPlugin
'''

TEACHER_CONFIG = '''\
# The teacher's nbgrader settings (written by `make hub`): the course folder and its own
# settings (the sandboxed grader, time and memory limits, written by make assignments).
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
load_subconfig({course_config!r})  # noqa: F821
'''


def exchange_root(prefix) -> Path:
    """nbgrader's exchange folder of the hub at ``prefix``."""
    return Path(prefix) / "class" / "exchange"


def prepare_exchange(prefix, gid: int) -> Path:
    """Create the exchange, reachable by the class group only; return its path."""
    folder = Path(prefix) / "class"
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, 0, gid)
    os.chmod(folder, 0o750)
    root = exchange_root(prefix)
    root.mkdir(exist_ok=True)
    os.chmod(root, 0o777)   # nbgrader's own setting for its root
    return root


def write_shared_config(prefix) -> Path:
    """nbgrader's settings for every user of the hub, in the hub environment's own folder."""
    path = Path(prefix) / "venv" / "etc" / "jupyter" / "nbgrader_config.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SHARED_CONFIG.format(course_id=COURSE_ID, exchange=str(exchange_root(prefix))))
    os.chmod(path, 0o644)
    return path


def _write_owned(path: Path, text: str, user: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    chown_tree(path.parent, user)


def prepare_teacher(teacher, lessons, students, log=print, timeout=None) -> Path:
    """The teacher's course folder with ``lessons`` built in, and their nbgrader settings.

    Lessons whose ``source/<lesson>`` exists already are kept as they are.
    ``students`` (roster rows) are put into the gradebook. Returns the folder.
    """
    from cnnlab.tools.assignments import build, built_lessons, find_lessons, pick_lessons

    home = user_home(teacher)
    course = home / COURSE_FOLDER
    have = set(built_lessons(course))
    wanted = pick_lessons(sorted(find_lessons()), lessons)
    missing = [lesson for lesson in wanted if lesson not in have]
    if missing or not (course / "nbgrader_config.py").exists():
        log(f"hub: building {', '.join(missing) or 'the course settings'} into {course}")
        kwargs = {} if timeout is None else {"timeout": timeout}
        build(course=course, lessons=missing or wanted[:1], **kwargs)
    add_students(course, students)
    _write_owned(home / ".jupyter" / "nbgrader_config.py",
                 TEACHER_CONFIG.format(root=str(course),
                                       course_config=str(course / "nbgrader_config.py")), teacher)
    chown_tree(course, teacher)
    return course


def add_students(course, students) -> None:
    """Put the roster's students into the gradebook of ``course`` (kept if already there)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gb:
        for s in students:
            gb.update_or_create_student(s.username, first_name=s.first_name or None,
                                        last_name=s.last_name or None)


def prepare_student(name) -> None:
    """Switch Formgrader and the assignment creator off in student ``name``'s own settings."""
    home = user_home(name)
    server = {"ServerApp": {"jpserver_extensions": {ext: False for ext in STUDENT_OFF}}}
    _write_owned(home / ".jupyter" / "jupyter_server_config.json", json.dumps(server, indent=1),
                 name)
    lab = {"disabledExtensions": {ext: True for ext in STUDENT_LAB_OFF}}
    _write_owned(home / ".jupyter" / "labconfig" / "page_config.json", json.dumps(lab, indent=1),
                 name)
