"""What lessons_lib needs installed, read from its own requirements, and what to run when not.

The package's metadata (``importlib.metadata``; in a clone, ``pyproject.toml`` beside the
package, which is the truth for that code) is the one place the supported Python, the Keras
floor and the TensorFlow floor are written. The self-check of lesson 00 and the check cell of
every lesson read them from here, so they cannot drift from what pip enforces.

TensorFlow is a special case: it is in the ``tensorflow`` extra, not a plain dependency, so
that installing the package never replaces a host's own TensorFlow build (``tensorflow`` and
``tensorflow-cpu`` write the same folder). Any installed build at or above the floor will do.
"""

from __future__ import annotations

import importlib.metadata as md
import platform
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DIST = "lessons_lib"
TF_EXTRA = "tensorflow"
# the names TensorFlow is published under; each provides the same `tensorflow` module
TENSORFLOW_DISTS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel")
SOURCE_TREE = Path(__file__).resolve().parent.parent


class SetupNeeded(Exception):
    """A missing or too old package: the message says what to run. Shown without a traceback."""

    def _render_traceback_(self):  # IPython shows this instead of the traceback
        return [str(self)]


@dataclass(frozen=True)
class Declared:
    requires_python: SpecifierSet
    requirements: tuple[Requirement, ...]  # with their markers, extras included
    origin: str  # where they were read


@cache
def declared() -> Declared:
    """The package's own requirements: pyproject.toml in a clone, else the installed metadata."""
    pyproject = SOURCE_TREE / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == DIST:
            reqs = [Requirement(r) for r in project.get("dependencies", [])]
            for extra, items in project.get("optional-dependencies", {}).items():
                for item in items:
                    req = Requirement(item)
                    marker = f"extra == '{extra}'"
                    req = Requirement(
                        f"{req.name}{req.specifier}"
                        + (f"; ({req.marker}) and {marker}" if req.marker else f"; {marker}")
                    )
                    reqs.append(req)
            python = project.get("requires-python", "").split("#")[0].strip()
            return Declared(SpecifierSet(python), tuple(reqs), str(pyproject))
    meta = md.metadata(DIST)
    reqs = tuple(Requirement(r) for r in (md.requires(DIST) or []))
    return Declared(
        SpecifierSet(meta.get("Requires-Python") or ""), reqs, f"the installed {DIST} metadata"
    )


def _environment(extra: str = "") -> dict[str, str]:
    return {**default_environment(), "extra": extra}


def installed(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _satisfies(version: str, spec: SpecifierSet) -> bool:
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def runtime_requirements() -> list[Requirement]:
    """The plain dependencies that apply on this machine (no extras)."""
    env = _environment()
    return [r for r in declared().requirements if r.marker is None or r.marker.evaluate(env)]


def tensorflow_requirement() -> Requirement:
    """The TensorFlow build the ``tensorflow`` extra installs on this machine, with its floor."""
    env = _environment(TF_EXTRA)
    for req in declared().requirements:
        if (
            canonicalize_name(req.name) in TENSORFLOW_DISTS
            and req.marker
            and req.marker.evaluate(env)
        ):
            return req
    return Requirement("tensorflow>=2.16")  # an old installation without the extra


def pip_command(spec: str, upgrade: bool = False) -> str:
    """``%pip install ...`` for a notebook cell (it installs into the kernel's own Python)."""
    return f'%pip install {"-U " if upgrade else ""}"{spec}"'


def python_problem() -> str | None:
    spec = declared().requires_python
    here = platform.python_version()
    if not spec or _satisfies(here, spec):
        return None
    return (
        f"Python {here} is not supported: the lessons need Python {spec} "
        f"(this kernel runs {sys.executable})"
    )


def tensorflow_status() -> tuple[str | None, str | None]:
    """(installed version or None, the problem with what to run, or None when it is good)."""
    want = tensorflow_requirement()
    have = [(d, v) for d in TENSORFLOW_DISTS if (v := installed(d))]
    if not have:
        spec = f"{want.name}{want.specifier}"
        return None, (
            f"TensorFlow is not installed. Run {pip_command(spec)} in a notebook cell "
            f'(in a terminal: pip install "{spec}"), then restart the kernel. '
            '(With an NVIDIA GPU on Linux: "tensorflow[and-cuda]" instead.)'
        )
    good = [(d, v) for d, v in have if _satisfies(v, want.specifier)]
    if good:
        return good[0][1], None
    dist, version = have[0]
    return version, (
        f"{dist} {version} is older than the lessons need ({want.specifier}). Run "
        f"{pip_command(f'{dist}{want.specifier}', upgrade=True)} in a notebook cell, "
        "then restart the kernel."
    )


def dependency_problems() -> list[tuple[str, str | None, str]]:
    """(name, installed version or None, what to run) for each plain dependency not met."""
    problems = []
    for req in runtime_requirements():
        version = installed(req.name)
        if version is not None and _satisfies(version, req.specifier):
            continue
        spec = f"{req.name}{req.specifier}"
        what = "is not installed" if version is None else f"{version} is too old ({req.specifier})"
        problems.append(
            (
                req.name,
                version,
                f"{req.name} {what}: run {pip_command(spec, upgrade=version is not None)} "
                "in a notebook cell, then restart the kernel",
            )
        )
    return problems


def require_tensorflow() -> None:
    """Raise SetupNeeded, saying exactly what to install, when the lessons cannot run here.

    Called by the check cell of every lesson; reads only package metadata (no TensorFlow import),
    so it costs milliseconds."""
    problems = [p for p in (python_problem(), tensorflow_status()[1]) if p]
    keras = next((p for p in dependency_problems() if canonicalize_name(p[0]) == "keras"), None)
    if keras:
        problems.append(keras[2])
    if problems:
        raise SetupNeeded("This lesson cannot run in this kernel yet:\n  " + "\n  ".join(problems))
