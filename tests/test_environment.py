"""The three descriptions of the stack must agree.

pyproject.toml says what cnnlab needs, requirements.lock pins what `make`
installs, environment.yml is the conda / Binder route. conda cannot run here,
so drift between them is caught by reading the files.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
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
