"""Shared fixtures: where the real MNIST files live, and a clean environment per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# make test runs several xdist workers on few cores, each starting kernels: one TensorFlow
# thread in each (as on Binder) instead of a thread pool per core in every one of them, which
# oversubscribes the cores and spins. A value set by the caller is kept; tests that need other
# values set their own.
for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def _require(path: Path, what: str = "real MNIST data (it sits beside the project in CI)") -> Path:
    """Return ``path`` if it exists; otherwise fail in CI and skip with the reason elsewhere."""
    if path.exists():
        return path
    message = f"{what} not found at {path}"
    if IN_CI:
        pytest.fail(message + "; CI must run this test")
    pytest.skip(message)


def build_wheel(dest: Path, *, isolated: bool = True) -> Path:
    """Build the lessons_lib wheel into ``dest`` from a private copy of the project's files.

    Never from the clone itself: setuptools writes build/lib and lessons_lib.egg-info into the
    tree it builds, and the xdist workers build at the same time (each worker that runs a wheel
    test builds its own), so two builds in one tree race on those folders (CI failed that way:
    "Building wheel for lessons_lib did not run successfully"). A copy of the files git knows
    (tracked, or new and not ignored) also keeps a run's build/ and artifacts/ out of the wheel.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True, timeout=60,
    ).stdout.decode().split("\0")  # fmt: skip
    source = dest / "source"
    for name in filter(None, listed):
        origin = ROOT / name
        if origin.is_file():  # listed but deleted in the work tree: not part of it
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dest)]
    if not isolated:
        command.append("--no-build-isolation")
    subprocess.run([*command, str(source)], check=True, timeout=300)
    return next(dest.glob("lessons_lib-*.whl"))


@pytest.fixture(scope="session")
def partial_npz() -> Path:
    """The first 22,699 training images and the full test set, Keras npz layout."""
    return _require(SHARED_DATA / "mnist-partial.npz")


@pytest.fixture(scope="session")
def idx_dir() -> Path:
    """All four official IDX files, gzipped, byte for byte."""
    return _require(SHARED_DATA / "mnist-idx")


@pytest.fixture(scope="session")
def full_npz() -> Path:
    """The complete official MNIST (60,000 / 10,000), Keras npz layout."""
    return _require(SHARED_DATA / "mnist-full.npz")


# pytest-xdist runs the suite on several workers (`-n` in pyproject.toml's addopts). Its own
# `--dist loadgroup` cannot be used: it renames items (`item._nodeid`), which pytest 9 no longer
# reads. So the grouping is this scheduler's, by test address. One work unit, run in order on
# one worker, for:
# - the lesson notebooks nbval runs: they share artifacts/ (05-07 load the model 04 saves);
# - tests/test_claims.py and tests/test_runner.py: they share the one --fast series run
#   (the session fixture `fast_run`, built once per worker that needs it).
# Every other test is its own unit. tests/test_xdist_groups.py checks both rules.
SHARED_UNITS = {
    "tests/test_claims.py": "fast-run",
    "tests/test_runner.py": "fast-run",
}


def work_unit(nodeid: str) -> str:
    """The xdist work unit of a test, from its address (all the controller knows of it)."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return "lesson-notebooks"
    return SHARED_UNITS.get(path, nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class Grouped(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return Grouped(config, log)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test reads the developer's Keras cache, MNIST_PATH or lesson progress."""
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
    monkeypatch.setenv("LESSONS_PROGRESS", str(tmp_path_factory.mktemp("progress") / "p.json"))


@pytest.fixture(scope="session")
def fast_run(tmp_path_factory):
    """The whole series, --fast, with every exercise filled by its worked solution.

    One run per session, shared by tests/test_runner.py and tests/test_claims.py.
    """
    out = tmp_path_factory.mktemp("series")
    result = subprocess.run(
        [sys.executable, "-m", "lessons_lib", "run", "--fast", "--solutions", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        env={**os.environ, "MNIST_PATH": ""},
    )
    return out, result
