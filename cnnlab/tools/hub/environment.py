"""The hub's own software, in a folder every user can read (``/opt/cnnlab-hub`` by default).

Single-user servers run as the students' Unix users, so the Python they run
must be readable by them: the course's ``.venv`` may be built from a Python in
root's home, which is not. The hub's environment is built instead from the
system's Python (Debian's ``python3.11``), from the same locks as ``.venv``
(``requirements.lock``, ``requirements-teacher.lock``) plus
``requirements-hub.lock`` (JupyterHub); its proxy,
``configurable-http-proxy``, comes from npm with this folder's
``package-lock.json``. The course's package and data are copied beside it
(``<prefix>/course``: ``cnnlab/`` and ``data/``, never the lessons'
solutions) and installed from there. Each part is rebuilt only when its
locks change.

Layout of ``<prefix>``::

    venv/      the Python environment (jupyterhub, jupyterlab, nbgrader, cnnlab)
    proxy/     configurable-http-proxy from npm
    course/    the cnnlab package and data/, read-only for everyone
    state/     the hub's database, secrets, passwords (root only)
    class/     the nbgrader exchange, for the class group only
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from cnnlab.tools.hub.accounts import HubError

__all__ = ["ROOT", "HERE", "LOCKS", "find_python", "ensure_environment", "venv_python",
           "proxy_command"]

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
LOCKS = ("requirements.lock", "requirements-teacher.lock", "requirements-hub.lock")
PYTHONS = ("/usr/bin/python3.11", "/usr/bin/python3.12", "/usr/local/bin/python3.11",
           "/usr/local/bin/python3.12")
SUPPORTED = "import sys; sys.exit(0 if sys.version_info[:2] in ((3, 11), (3, 12)) else 1)"
PIP = ("-m", "pip", "install", "--quiet", "--disable-pip-version-check")


def _everyone_can_run(path: Path) -> bool:
    """True if every folder above ``path`` (and above what it links to) lets others in, and
    ``path`` lets them run it."""
    real = path.resolve()
    for folder in {*Path(os.path.abspath(path)).parents, *real.parents}:
        if not os.stat(folder).st_mode & 0o001:
            return False
    return bool(os.stat(real).st_mode & 0o001)


def find_python(candidates=PYTHONS) -> Path:
    """A Python 3.11 or 3.12 with ``venv`` that every user can run.

    Raises :class:`HubError` with the install command when there is none.
    """
    for name in candidates:
        path = Path(name)
        if path.exists() and _everyone_can_run(path):
            ok = subprocess.run([str(path), "-c", SUPPORTED + "\nimport ensurepip, venv"],
                                capture_output=True)
            if ok.returncode == 0:
                return path
    raise HubError("the hub needs a Python 3.11 or 3.12 with venv that every user can run "
                   f"(tried {', '.join(candidates)}). On Debian/Ubuntu: "
                   "apt-get install python3.11 python3.11-venv")


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def venv_python(prefix) -> Path:
    """The hub environment's Python."""
    return Path(prefix) / "venv" / "bin" / "python"


def proxy_command(prefix) -> Path:
    """The ``configurable-http-proxy`` program npm installed for the hub."""
    return Path(prefix) / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


def _ensure_venv(prefix: Path, log) -> None:
    venv = prefix / "venv"
    stamp = venv / ".cnnlab-locks"
    want = _digest(*(ROOT / lock for lock in LOCKS))
    if stamp.exists() and stamp.read_text() == want and venv_python(prefix).exists():
        return
    python = find_python()
    if not venv_python(prefix).exists():
        log(f"hub: creating {venv} with {python}")
        subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    log("hub: installing the course's locked packages and JupyterHub (a few minutes the first "
        "time)")
    cmd = [str(venv_python(prefix)), *PIP]
    for lock in LOCKS:
        cmd += ["-r", str(ROOT / lock)]
    if subprocess.run(cmd).returncode:
        raise HubError(f"installing the hub's packages into {venv} failed (see pip's message "
                       "above); fix it and run make hub again")
    stamp.write_text(want)


def _copy_course(prefix: Path, log) -> None:
    """``cnnlab/`` and ``data/`` into ``prefix/course``, installed into the hub's venv."""
    course = prefix / "course"
    staging = prefix / "course.new"
    shutil.rmtree(staging, ignore_errors=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", ".made_again.json")
    staging.mkdir(parents=True)
    for name in ("cnnlab", "data"):
        shutil.copytree(ROOT / name, staging / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, staging / name)
    shutil.rmtree(course, ignore_errors=True)
    staging.rename(course)
    stamp = prefix / "venv" / ".cnnlab-course"
    if not stamp.exists():
        log(f"hub: installing the course package from {course}")
        # compat mode: a plain path entry, so a folder named cnnlab in a user's working
        # directory (the teacher's course folder) cannot shadow the package.
        subprocess.run([str(venv_python(prefix)), *PIP, "--no-deps", "--no-build-isolation",
                        "--config-settings", "editable_mode=compat", "-e", str(course)],
                       check=True)
        stamp.write_text(str(course))


def _ensure_proxy(prefix: Path, log) -> None:
    proxy = prefix / "proxy"
    want = _digest(HERE / "package.json", HERE / "package-lock.json")
    stamp = proxy / ".cnnlab-lock"
    if stamp.exists() and stamp.read_text() == want and proxy_command(prefix).exists():
        return
    if shutil.which("npm") is None:
        raise HubError("the hub's proxy (configurable-http-proxy) is installed with npm, which "
                       "is missing. On Debian/Ubuntu: apt-get install nodejs npm")
    proxy.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(HERE / name, proxy / name)
    log("hub: installing configurable-http-proxy with npm ci")
    done = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                           "--loglevel=error"], cwd=proxy)
    if done.returncode:
        raise HubError(f"npm ci in {proxy} failed (see npm's message above)")
    stamp.write_text(want)


def ensure_environment(prefix, log=print) -> None:
    """Build (or bring up to date) the hub's software under ``prefix``."""
    prefix = Path(prefix)
    prefix.mkdir(parents=True, exist_ok=True)
    os.chmod(prefix, 0o755)
    _ensure_venv(prefix, log)
    _copy_course(prefix, log)
    _ensure_proxy(prefix, log)
    subprocess.run(["chmod", "-R", "a+rX", str(prefix / "venv"), str(prefix / "course"),
                    str(prefix / "proxy")], check=True)
    (prefix / "state").mkdir(exist_ok=True)
    os.chmod(prefix / "state", 0o700)

