"""The class hub's pieces that need neither root nor a running hub: the roster, the
configuration files, the checks on the Python it runs. (The hub itself: tests/hub/.)"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cnnlab.tools.hub import cli, course, environment, server
from cnnlab.tools.hub.accounts import HubError, created_users
from cnnlab.tools.hub.roster import RosterError, Student, check_username, read_roster


def write(tmp_path, text, name="roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_roster_gives_its_students_in_order(tmp_path):
    path = write(tmp_path, "username,first_name,last_name\nada,Ada,Lovelace\n\nalan,Alan,\n")
    assert read_roster(path) == [Student("ada", "Ada", "Lovelace"), Student("alan", "Alan", "")]


def test_the_example_roster_reads():
    students = read_roster(cli.DEFAULT_ROSTER)
    assert len(students) >= 3 and all(s.first_name for s in students)


def test_names_columns_may_be_missing_or_reordered(tmp_path):
    path = write(tmp_path, "Last_Name,USERNAME\nHopper,grace\n")
    assert read_roster(path) == [Student("grace", "", "Hopper")]


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("name,first\nada,Ada\n", "'username' column"),
    ("username\n", "no students"),
    ("username\nAda\n", "line 2"),
    ("username\nada\nbob smith\n", "line 3"),
    ("username\nada\nada\n", "appears twice"),
    ("username\nroot\n", "system account"),
    ("username\n" + "a" * 33 + "\n", "at most 32"),
    ("username\n-x\n", "starting with a letter"),
])
def test_bad_rosters_say_where_and_what(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(RosterError, match="roster") as e:
        read_roster(path)
    assert words in str(e.value) and str(path) in str(e.value)


def test_a_missing_roster_names_the_file(tmp_path):
    with pytest.raises(RosterError, match="no file .*nope.csv"):
        read_roster(tmp_path / "nope.csv")


@pytest.mark.parametrize("bad", [None, 3, "", "Teacher", "a b", "../x", "x" * 40])
def test_check_username_refuses(bad):
    with pytest.raises(RosterError, match="teacher"):
        check_username(bad, "teacher")


def test_shared_nbgrader_config_lives_in_the_hub_environment(tmp_path):
    path = course.write_shared_config(tmp_path)
    assert path == tmp_path / "venv" / "etc" / "jupyter" / "nbgrader_config.py"
    text = path.read_text()
    ast.parse(text)
    assert f'c.Exchange.root = {str(tmp_path / "class" / "exchange")!r}' in text
    assert "c.CourseDirectory.course_id = 'cnnlab'" in text
    assert "JupyterHubAuthPlugin" in text


def test_teacher_config_loads_the_course_settings():
    text = course.TEACHER_CONFIG.format(root="/home/t/cnnlab",
                                        course_config="/home/t/cnnlab/nbgrader_config.py")
    ast.parse(text)
    assert "load_subconfig('/home/t/cnnlab/nbgrader_config.py')" in text


def _run_config(text) -> dict:
    """Execute a JupyterHub config file against a stand-in ``get_config``."""
    from traitlets.config import Config

    config = Config()
    exec(compile(text, "jupyterhub_config.py", "exec"), {"get_config": lambda: config})
    return config


def test_hub_config_is_loopback_pam_and_the_roster(tmp_path):
    (tmp_path / "state").mkdir()
    c = _run_config(server.hub_config(tmp_path, "teach", ["ada", "alan"], port=8200))
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8200"
    assert c.JupyterHub.hub_ip == "127.0.0.1" and c.JupyterHub.hub_port == 8201
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8202"
    assert c.JupyterHub.authenticator_class == "pam"
    assert c.Authenticator.allowed_users == {"teach", "ada", "alan"}
    assert c.Authenticator.admin_users == {"teach"}
    assert c.JupyterHub.load_groups == {"nbgrader-cnnlab": {"users": ["ada", "alan"]},
                                        "formgrade-cnnlab": {"users": ["teach"]}}
    assert c.Spawner.cmd == [str(tmp_path / "venv" / "bin" / "jupyterhub-singleuser")]
    assert "read:users:groups!user" in c.Spawner.server_token_scopes
    assert str(tmp_path / "state") in c.JupyterHub.db_url


def test_admin_token_is_made_once_and_private(tmp_path):
    first = server.admin_token(tmp_path)
    assert server.admin_token(tmp_path) == first and len(first) == 64
    assert (tmp_path / "admin-token").stat().st_mode & 0o777 == 0o600


def test_no_hub_running_from_an_empty_prefix(tmp_path):
    assert server.hub_pid(tmp_path) is None
    assert server.stop_hub(tmp_path) is False


def test_created_users_reads_only_what_was_recorded(tmp_path):
    assert created_users(tmp_path) == []
    (tmp_path / "created-users.txt").write_text("ada\n\nalan\n")
    assert created_users(tmp_path) == ["ada", "alan"]


def test_a_python_inside_a_closed_folder_is_refused(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir()
    python = closed / "python3.11"
    python.symlink_to(Path("/bin/true"))
    closed.chmod(0o700)
    try:
        with pytest.raises(HubError, match="every user can run.*apt-get install python3.11"):
            environment.find_python([str(python)])
    finally:
        closed.chmod(0o755)


def test_the_proxy_is_pinned_by_its_lock():
    here = Path(environment.__file__).parent
    wanted = json.loads((here / "package.json").read_text())["dependencies"]
    lock = json.loads((here / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/configurable-http-proxy"]["version"]
    assert wanted == {"configurable-http-proxy": pinned}


def test_the_hub_lock_pins_jupyterhub():
    lock = (environment.ROOT / "requirements-hub.lock").read_text().splitlines()
    pins = dict(line.split("==") for line in lock if line and not line.startswith("#"))
    assert "jupyterhub" in pins and "pamela" in pins
    assert all(v.count(".") >= 1 for v in pins.values())


def test_start_refuses_without_root(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(HubError, match="must run as root: sudo make hub"):
        cli.start()


def test_cli_reports_a_bad_roster_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    code = cli.main(["start", "--roster", str(write(tmp_path, "username\nBad Name\n")),
                     "--prefix", str(tmp_path / "hub")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("make hub: roster") and "line 2" in err
    assert not (tmp_path / "hub").exists()
