"""The class hub over HTTP: the hub's REST API and each user's own server.

What a script (or the course's end-to-end test) does in place of clicking:
the Assignments tab calls ``/user/<name>/assignments/...`` on the student's
server, Formgrader calls ``/user/<teacher>/formgrader/api/...``; both go
through the hub's proxy with a token of that user, exactly as the browser's
requests do with its cookie.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["HubApiError", "Hub", "UserServer"]


class HubApiError(RuntimeError):
    """A request the hub or a user's server answered with an error status."""

    def __init__(self, method, url, status, body):
        super().__init__(f"{method} {url}: HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


def _request(method, url, token, body=None, timeout=600.0, form=False):
    data = None
    headers = {"Authorization": f"token {token}"}
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
    except urllib.error.HTTPError as e:
        raise HubApiError(method, url, e.code, e.read().decode(errors="replace")) from None
    return json.loads(text) if text.strip() else None


class Hub:
    """The hub's REST API (``/hub/api``) with the course tools' service token."""

    def __init__(self, port, token, host="127.0.0.1"):
        self.base = f"http://{host}:{port}"
        self.token = token

    def api(self, method, path, body=None):
        return _request(method, f"{self.base}/hub/api{path}", self.token, body)

    def user(self, name):
        return self.api("GET", f"/users/{name}")

    def add_user(self, name):
        return self.api("POST", f"/users/{name}")

    def token_for(self, name, note="cnnlab", expires_in=3600) -> str:
        """A new API token of user ``name`` (reaches their server through the proxy)."""
        got = self.api("POST", f"/users/{name}/tokens", {"note": note, "expires_in": expires_in})
        return got["token"]

    def start_server(self, name):
        try:
            self.api("POST", f"/users/{name}/server")
        except HubApiError as e:
            if e.status != 400 or "already running" not in e.body:
                raise

    def wait_ready(self, name, timeout=240.0) -> float:
        """Wait until user ``name``'s server is ready; return the seconds waited."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            server = self.user(name).get("servers", {}).get("", {})
            if server.get("ready"):
                return time.monotonic() - start
            if not server.get("pending") and not server.get("ready") and server.get("stopped"):
                raise HubApiError("GET", f"/users/{name}", 0, "the server stopped while starting")
            time.sleep(0.5)
        raise HubApiError("GET", f"/users/{name}", 0, f"server not ready after {timeout:.0f} s")

    def stop_server(self, name):
        try:
            self.api("DELETE", f"/users/{name}/server")
        except HubApiError as e:
            if e.status not in (204, 400, 404):
                raise


class UserServer:
    """One user's own Jupyter server, reached through the hub's proxy."""

    def __init__(self, port, name, token, host="127.0.0.1"):
        self.base = f"http://{host}:{port}/user/{name}"
        self.name = name
        self.token = token

    def call(self, method, path, body=None, form=False, timeout=600.0):
        return _request(method, self.base + path, self.token, body, timeout, form)

    # -- files (JupyterLab's contents API) ---------------------------------
    def read(self, path):
        return self.call("GET", f"/api/contents/{urllib.parse.quote(path)}?content=1")

    def exists(self, path) -> bool:
        try:
            self.call("GET", f"/api/contents/{urllib.parse.quote(path)}?content=0")
            return True
        except HubApiError as e:
            if e.status == 404:
                return False
            raise

    def write_notebook(self, path, nb):
        return self.call("PUT", f"/api/contents/{urllib.parse.quote(path)}",
                         {"type": "notebook", "format": "json", "content": nb})

    def delete(self, path):
        return self.call("DELETE", f"/api/contents/{urllib.parse.quote(path)}")

    # -- the Assignments tab (nbgrader's assignment_list extension) -----------
    def assignments(self, course):
        got = self.call("GET", f"/assignments?course_id={urllib.parse.quote(course)}")
        return got

    def assignment_action(self, action, course, assignment):
        """``fetch``, ``submit`` or ``fetch_feedback``: nbgrader's answer as a dict."""
        return self.call("POST", f"/assignments/{action}",
                         {"course_id": course, "assignment_id": assignment}, form=True)

    # -- Formgrader (the teacher) ----------------------------------------------
    def formgrader(self, method, path, body=None):
        return self.call(method, f"/formgrader/api{path}", body)
