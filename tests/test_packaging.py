"""The lock, pyproject.toml, environment.yml and binder/ agree; this venv holds the locked versions."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement

from conftest import ROOT

LOCK = ROOT / "requirements-lock.txt"


def locked() -> list[Requirement]:
    """Every pinned line of the lock, with its environment marker."""
    lines = [ln.strip() for ln in LOCK.read_text().splitlines()]
    return [Requirement(ln) for ln in lines if ln and not ln.startswith("#")]


def _name(text: str) -> str:
    return re.split(r"[<>=!~;\[ ]", text.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_every_lock_line_is_an_exact_pin():
    reqs = locked()
    assert len(reqs) > 100
    for req in reqs:
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{req} is not pinned"
        assert not req.specifier.prereleases or "rc" not in str(req.specifier), (
            f"{req}: a pre-release"
        )


def test_lock_covers_every_project_dependency_on_every_supported_python():
    project = _project()
    wanted = [Requirement(d) for d in project["dependencies"]]
    for extra in ("test", "book"):
        wanted += [Requirement(d) for d in project["optional-dependencies"][extra]]
    for version in ("3.11", "3.12", "3.13"):
        for platform, machine in [
            ("linux", "x86_64"),
            ("linux", "aarch64"),
            ("darwin", "arm64"),
            ("win32", "AMD64"),
        ]:
            env = {**default_environment(), "python_version": version, "python_full_version": f"{version}.0",
                   "sys_platform": platform, "platform_machine": machine}  # fmt: skip
            pins = {}
            for req in locked():
                if req.marker is None or req.marker.evaluate(env):
                    pins[_name(req.name)] = next(iter(req.specifier)).version
            for req in wanted:
                if req.marker is not None and not req.marker.evaluate(env):
                    continue
                name = _name(req.name)
                assert name in pins, f"{name} missing from the lock for {version} {platform}"
                assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} breaks {req}"


def test_installed_versions_are_the_locked_ones():
    """What `make test` installed in this venv is exactly what the lock says (pip freeze = lock)."""
    env = default_environment()
    differ = []
    for req in locked():
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        want = next(iter(req.specifier)).version
        try:
            have = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            have = "not installed"
        if have != want:
            differ.append(f"{req.name}: {have}, locked {want}")
    assert not differ, "run `make test` (it reinstalls from the lock): " + "; ".join(differ)


def test_requires_python_matches_what_the_lock_supports():
    assert _project()["requires-python"].split("#")[0].strip() == ">=3.11,<3.14"
    boot = (ROOT / "bootstrap.py").read_text()
    assert "SUPPORTED = ((3, 13), (3, 12), (3, 11))" in boot


def test_conda_environment_installs_the_lock_then_the_project():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert conda == ["python=3.11", "pip"], "every package comes from the lock, not from conda"
    assert pip == ["-r requirements-lock.txt", "-e ."]


def test_binder_builds_from_a_copy_of_the_lock():
    assert (ROOT / "binder" / "requirements.txt").read_text() == LOCK.read_text(), (
        "binder/requirements.txt differs from requirements-lock.txt: run `make lock`"
    )
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post
    assert not (ROOT / "binder" / "environment.yml").exists(), "repo2docker would prefer it"
