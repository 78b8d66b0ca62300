"""The three descriptions of the stack must agree.

pyproject.toml says what cnnlab needs, requirements.lock pins what `make`
installs, environment.yml is the conda / Binder route. conda cannot run here,
so drift between them is caught by reading the files.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
# One project, two wheel names: the CPU-only wheel is used on Linux x86-64.
ALIASES = {"tensorflow-cpu": "tensorflow"}


def canon(name: str) -> str:
    name = re.sub(r"[-_.]+", "-", name).lower()
    return ALIASES.get(name, name)


def lock_versions() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        spec = list(req.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"lock line not pinned: {line}"
        pins[canon(req.name)] = Version(spec[0].version)
    return pins


def pyproject_requirements() -> list[Requirement]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def conda_specs() -> tuple[dict[str, str], dict[str, str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                if line.startswith("-e"):
                    continue
                name, _, version = line.partition("==")
                pip[canon(name)] = version
        else:
            name, _, version = dep.partition("=")
            conda[canon(name)] = version
    return conda, pip


def test_lock_pins_every_package_exactly():
    pins = lock_versions()
    assert "tensorflow" in pins and "keras" in pins and "numpy" in pins


@pytest.mark.parametrize("req", pyproject_requirements(), ids=str)
def test_lock_satisfies_pyproject(req):
    pins = lock_versions()
    name = canon(req.name)
    assert name in pins, f"{req.name} is in pyproject.toml but not in requirements.lock (run make lock)"
    assert req.specifier.contains(pins[name], prereleases=True), (
        f"requirements.lock pins {name}=={pins[name]}, outside pyproject.toml's {req}"
    )


def test_environment_yml_lists_what_pyproject_needs():
    conda, pip = conda_specs()
    named = set(conda) | set(pip)
    missing = {canon(r.name) for r in pyproject_requirements()} - named
    assert not missing, f"environment.yml lacks {sorted(missing)}"


def test_environment_yml_versions_match_the_lock():
    pins = lock_versions()
    conda, pip = conda_specs()
    assert conda.pop("python") == "3.11"
    conda.pop("pip")
    for name, version in conda.items():
        assert name in pins, f"environment.yml names {name}, which requirements.lock does not pin"
        # conda's "=2.4" means any 2.4.x
        assert str(pins[name]) == version or str(pins[name]).startswith(version + "."), (
            f"environment.yml asks for {name}={version}, requirements.lock pins {pins[name]}"
        )
    for name, version in pip.items():
        assert Version(version) == pins[name], (
            f"environment.yml's pip section pins {name}=={version}, requirements.lock {pins[name]}"
        )


def test_environment_yml_takes_tensorflow_from_pip():
    conda, pip = conda_specs()
    assert "tensorflow" in pip and "tensorflow" not in conda


# --------------------------------------------------------------------------
# Every Python the README names can install every lock
# --------------------------------------------------------------------------

LOCKS = ("requirements.lock", "requirements-teacher.lock", "requirements-browser.lock")


def readme_pythons() -> list[str]:
    """The minor versions the README asks for, e.g. ['3.11', '3.12']."""
    text = (ROOT / "README.md").read_text()
    line = re.search(r"You need\s+Python (.*?)and `make`", text, flags=re.S)
    assert line, "README.md should say which Pythons the course needs ('You need Python ...')"
    return sorted(set(re.findall(r"\b3\.\d+\b", line.group(1))))


def pinned(lock: str) -> list[Requirement]:
    reqs = []
    for line in (ROOT / lock).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            reqs.append(Requirement(line))
    return reqs


def test_readme_names_the_pythons_pyproject_and_makefile_accept():
    minors = readme_pythons()
    assert minors == ["3.11", "3.12"]
    spec = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    for minor in minors:
        assert f"{minor}.0" in spec, f"pyproject.toml's requires-python {spec} refuses {minor}.0"
    assert "3.10.13" not in spec and "3.13.0" not in spec
    makefile = (ROOT / "Makefile").read_text()
    accepted = re.search(r"PY_SUPPORTED := .*in \(([^\n]*)\) else", makefile).group(1)
    assert sorted(re.findall(r"\((\d), (\d+)\)", accepted)) == [tuple(m.split(".")) for m in minors]


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pinned_package_installs_on_every_named_python(lock):
    """Requires-Python of each pinned, installed package admits X.Y.0 of every named X.Y.

    Debian 12 ships Python 3.11.2: a pin that needs 3.11.5 breaks `make lab` there.
    """
    checked, refused = 0, []
    for req in pinned(lock):
        if req.marker is not None and not req.marker.evaluate():
            continue                                   # the other platform's wheel
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue                                   # e.g. the browser lock before make test-browser
        assert dist.version == str(list(req.specifier)[0].version), (
            f"{lock} pins {req}, but {dist.version} is installed: run make setup")
        wants = dist.metadata.get("Requires-Python")
        checked += 1
        for minor in readme_pythons():
            for patch in ("0", "2", "99"):
                if wants and f"{minor}.{patch}" not in SpecifierSet(wants):
                    refused.append(f"{req.name}=={dist.version} needs Python {wants}, "
                                   f"refusing {minor}.{patch}")
    if lock == "requirements.lock":
        assert checked > 100, "the course's own lock should be installed here"
    assert not refused, "\n".join(refused)
