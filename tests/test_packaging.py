"""The three places that list dependencies (pyproject, environment.yml, binder/) agree."""

from __future__ import annotations

import re

import tomllib
import yaml

from conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _conda_names(path):
    env = yaml.safe_load(path.read_text())
    names, pip = set(), []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep.get("pip", [])
        else:
            names.add(_name(dep))
    return env, names, pip


def _project_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_name(d) for d in project["dependencies"]}


def test_root_environment_installs_the_project_and_its_conda_deps_match_pyproject():
    env, names, pip = _conda_names(ROOT / "environment.yml")
    assert env["channels"] == ["conda-forge"]
    assert any(p.startswith("-e .") for p in pip), "environment.yml must pip-install the project"
    tf_family = {"tensorflow", "tensorflow-cpu", "keras"}
    assert _project_names() - tf_family <= names


def test_binder_environment_matches_the_root_one():
    _, root_names, _ = _conda_names(ROOT / "environment.yml")
    _, binder_names, binder_pip = _conda_names(ROOT / "binder" / "environment.yml")
    assert binder_names == root_names
    assert {_name(p) for p in binder_pip} == {"tensorflow-cpu", "keras"}
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post
