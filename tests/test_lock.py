"""The committed locks agree with pyproject.toml, and this environment runs what they pin.

A range widened in pyproject.toml without `make lock`, or a virtualenv that drifted from the
lock (a hand-run `pip install -U`, an old shared venv), fails here instead of as a puzzling
test failure on someone else's machine.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return {canonicalize_name(pkg): version for pkg, version in PIN.findall(text)}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _unmet(requirements: list[str], pins: dict[str, str]) -> list[str]:
    unmet = []
    for line in requirements:
        req = Requirement(line)
        version = pins.get(canonicalize_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            unmet.append(f"{line} (locked: {version})")
    return unmet


def test_lock_satisfies_every_pyproject_requirement():
    project = _project()
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert _unmet(wanted, _pins("requirements.lock")) == [], "pyproject.toml changed: run `make lock`"


def test_runtime_lock_is_the_tested_lock_without_dev_tools():
    full, runtime = _pins("requirements.lock"), _pins("requirements-runtime.lock")
    assert _unmet(_project()["dependencies"], runtime) == [], "run `make lock`"
    assert {pkg: v for pkg, v in runtime.items() if full.get(pkg) != v} == {}
    assert "pytest" not in runtime


def test_installed_versions_are_the_locked_ones():
    drifted = {}
    for pkg, version in _pins("requirements.lock").items():
        try:
            installed = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            drifted[pkg] = f"locked {version}, installed {installed}"
    assert drifted == {}, "this environment is not the locked one: run `make install`"
