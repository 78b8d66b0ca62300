"""JupyterHub itself: its configuration, starting it in the background, stopping it.

The hub listens on loopback only (``127.0.0.1``, port 8000 by default; the hub's
own API on the next port, the proxy's API on the one after). Users log in with
their Unix password (JupyterHub's PAM authenticator); each user's server runs
as that user, from the hub environment, and opens JupyterLab. A service token
(``<state>/admin-token``, root only) lets the course's tools manage users and
servers through the hub's REST API.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from cnnlab.tools.hub.accounts import HubError
from cnnlab.tools.hub.course import COURSE_ID
from cnnlab.tools.hub.environment import proxy_command

__all__ = ["DEFAULT_PORT", "hub_config", "write_hub_config", "admin_token", "start_hub",
           "stop_hub", "hub_pid", "wait_for_hub"]

DEFAULT_PORT = 8000
ADMIN_SCOPES = ["admin:users", "admin:servers", "tokens", "admin:groups", "list:users",
                "read:users", "access:servers"]
# What each user's server may ask the hub: nbgrader reads the user's own groups
# (its JupyterHubAuthPlugin) to know which courses they are in.
SERVER_SCOPES = ["users:activity!user", "access:servers!server", "read:users:name!user",
                 "read:users:groups!user"]


def admin_token(state) -> str:
    """The hub's service token for the course's tools (made once, kept in ``state``)."""
    path = Path(state) / "admin-token"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def hub_config(prefix, teacher, students, port=DEFAULT_PORT, environment=None) -> str:
    """The text of ``jupyterhub_config.py`` for the hub at ``prefix``."""
    prefix = Path(prefix)
    state = prefix / "state"
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    env.update(environment or {})
    settings = {
        "bind_url": f"http://127.0.0.1:{port}",
        "hub_port": port + 1,
        "proxy_api": f"http://127.0.0.1:{port + 2}",
        "proxy": [str(proxy_command(prefix))],
        "db": f"sqlite:///{state / 'jupyterhub.sqlite'}",
        "cookie": str(state / "jupyterhub_cookie_secret"),
        "pid": str(state / "jupyterhub.pid"),
        "users": sorted({teacher, *students}),
        "teacher": teacher,
        "students": list(students),
        "cmd": [str(prefix / "venv" / "bin" / "jupyterhub-singleuser")],
        "env": env,
        "token": admin_token(state),
        "admin_scopes": ADMIN_SCOPES,
        "server_scopes": SERVER_SCOPES,
        "course": COURSE_ID,
    }
    return HUB_CONFIG.format(**{k: json.dumps(v) if not isinstance(v, int) else v
                                for k, v in settings.items()})


HUB_CONFIG = '''\
# JupyterHub for the cnnlab class (written by `make hub`; edit the roster, not this file).
import json
c = get_config()  # noqa: F821

c.JupyterHub.bind_url = {bind_url}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = {proxy_api}
c.ConfigurableHTTPProxy.command = {proxy}
c.JupyterHub.db_url = {db}
c.JupyterHub.cookie_secret_file = {cookie}
c.JupyterHub.pid_file = {pid}
c.JupyterHub.cleanup_servers = True

# Log in with the Unix password (PAM); only the teacher and the roster's students.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set({users})
c.Authenticator.admin_users = {{{teacher}}}

# nbgrader's groups: who is a student of the course, who grades it.
c.JupyterHub.load_groups = {{
    "nbgrader-" + {course}: {{"users": {students}}},
    "formgrade-" + {course}: {{"users": [{teacher}]}},
}}

# Each user's server: JupyterLab from the hub's environment, as that Unix user.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = {cmd}
c.Spawner.default_url = "/lab"
c.Spawner.environment = {env}
c.Spawner.server_token_scopes = {server_scopes}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180

# The course's own tools (make test-hub, scripts): manage users and servers.
c.JupyterHub.services = [{{"name": "cnnlab-admin", "api_token": {token}}}]
c.JupyterHub.load_roles = [{{"name": "cnnlab-admin", "scopes": {admin_scopes},
                            "services": ["cnnlab-admin"]}}]
'''


def write_hub_config(prefix, teacher, students, port=DEFAULT_PORT, environment=None) -> Path:
    """Write ``<prefix>/state/jupyterhub_config.py``; return its path."""
    path = Path(prefix) / "state" / "jupyterhub_config.py"
    path.write_text(hub_config(prefix, teacher, students, port, environment))
    os.chmod(path, 0o600)
    return path


def hub_pid(prefix) -> int | None:
    """The process id of the running hub at ``prefix``, or None."""
    path = Path(prefix) / "state" / "jupyterhub.pid"
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def wait_for_hub(port=DEFAULT_PORT, timeout=120.0, process=None) -> float:
    """Wait until the hub answers on ``port``; return the seconds it took."""
    url = f"http://127.0.0.1:{port}/hub/api/"
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process is not None and process.poll() is not None:
            raise HubError(f"JupyterHub exited with status {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise HubError(f"JupyterHub did not answer on {url} within {timeout:.0f} s")


def start_hub(prefix, port=DEFAULT_PORT, timeout=120.0) -> tuple[int, float]:
    """Start JupyterHub in the background; return (its pid, seconds until it answered).

    Its log goes to ``<prefix>/state/jupyterhub.log``.
    """
    prefix = Path(prefix)
    state = prefix / "state"
    if hub_pid(prefix):
        raise HubError(f"a hub is already running from {prefix} (pid {hub_pid(prefix)}); "
                       "stop it first: make hub-stop")
    log = open(state / "jupyterhub.log", "ab")
    hub = prefix / "venv" / "bin" / "jupyterhub"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "CNNLAB_"))}
    env["PATH"] = f"{prefix / 'venv' / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    process = subprocess.Popen([str(hub), "-f", str(state / "jupyterhub_config.py")],
                               cwd=state, stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
    try:
        seconds = wait_for_hub(port, timeout, process)
    except HubError as e:
        process.kill()
        raise HubError(f"{e}; its log: {state / 'jupyterhub.log'}") from None
    return process.pid, seconds


def stop_hub(prefix, timeout=60.0) -> bool:
    """Stop the hub at ``prefix`` (and the servers it started); False if none was running."""
    pid = hub_pid(prefix)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return True
        time.sleep(0.3)
    os.killpg(pid, signal.SIGKILL)
    return True
