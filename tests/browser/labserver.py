"""Start a private JupyterLab for the browser tests and always stop it again.

The server runs from the current interpreter's environment (``.venv``), on a
free loopback port with a random token, on a temporary copy of the lessons.
Everything it writes (settings, workspaces, runtime files) stays in that
temporary folder. The news and update checks are off, so no pop-up covers the
page, and the notebook renders every cell (no windowing), so elements keep
their place while the page scrolls.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

SETTING_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 10


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it listens and what it serves."""

    url: str            # http://127.0.0.1:PORT
    token: str
    root: Path          # the folder it serves (a copy of notebooks/)
    log: Path

    def notebook_url(self, name: str, workspace: str) -> str:
        """URL that opens ``name`` alone, in a fresh workspace of its own."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_command(port: int, token: str, jupyter: Path, root: Path) -> list[str]:
    """The ``jupyter lab`` command line (no browser, private settings in ``jupyter``)."""
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.app_settings_dir={jupyter / 'app-settings'}",
        f"--LabApp.user_settings_dir={jupyter / 'user-settings'}",
        f"--LabApp.workspaces_dir={jupyter / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def lab_environment(jupyter: Path) -> dict[str, str]:
    """The server's environment: the learner's one, with Jupyter's folders private."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)             # lessons draw inline, as for a learner
    env.update(
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_DATA_DIR=str(jupyter / "data"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
        CNNLAB_FAST="1",
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "3"),
    )
    return env


@contextmanager
def running_lab(notebooks: Path, workdir: Path, siblings=("data",)):
    """Serve a copy of ``notebooks`` with JupyterLab; yield a :class:`Lab`.

    The copy keeps the course's layout: each of ``siblings`` (folders beside
    ``notebooks``, such as ``data``) is linked beside it, so a lesson's
    relative path like ``../data/...`` works as in the course folder.
    The server and every kernel it started are stopped on leaving, whatever
    happened inside (failure, time-out, Ctrl-C).
    """
    root = workdir / "course" / notebooks.name
    shutil.copytree(notebooks, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in siblings:
        if (notebooks.parent / name).exists():
            (root.parent / name).symlink_to(notebooks.parent / name)
    jupyter = workdir / "jupyter"
    (jupyter / "app-settings").mkdir(parents=True)
    (jupyter / "app-settings" / "overrides.json").write_text(json.dumps(SETTING_OVERRIDES))
    port, token = free_port(), secrets.token_hex(24)
    log = workdir / "jupyterlab.log"
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log)
    with open(log, "wb") as out:
        proc = subprocess.Popen(lab_command(port, token, jupyter, root), cwd=root,
                                env=lab_environment(jupyter), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(lab, proc)
        yield lab
    finally:
        stop_lab(lab, proc)


def wait_until_up(lab: Lab, proc: subprocess.Popen) -> None:
    """Poll ``/api/status`` until the server answers (or fail with its log)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode} while starting:\n"
                               f"{lab.log_tail()}")
        try:
            with urllib.request.urlopen(api_request(lab, "/api/status"), timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer within {START_TIMEOUT_S} s:\n{lab.log_tail()}")


def api_request(lab: Lab, path: str, method: str = "GET") -> urllib.request.Request:
    return urllib.request.Request(lab.url + path, method=method,
                                  headers={"Authorization": f"token {lab.token}"})


def stop_lab(lab: Lab, proc: subprocess.Popen) -> None:
    """Ask the server to shut down (kernels too); then end what is left by process id."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    if proc.poll() is None:
        try:
            urllib.request.urlopen(api_request(lab, "/api/shutdown", "POST"), timeout=5).close()
            proc.wait(STOP_TIMEOUT_S)
        except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
            pass
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(STOP_TIMEOUT_S)
    for child in children:             # kernels run in process groups of their own
        try:
            if child.is_running():         # same process (psutil checks its start time)
                child.kill()
        except psutil.Error:
            pass


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
