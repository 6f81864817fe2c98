"""Installing: the lock resolves everywhere it claims to, bootstrap.py refuses what it cannot
use, and the lessons run from a wheel outside the repository (the Colab / JupyterHub path)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from test_packaging import locked

from conftest import ROOT

PYTHONS = ["3.11", "3.12", "3.13"]
PLATFORMS = {
    "Linux x86_64": "x86_64-unknown-linux-gnu",
    "Linux aarch64": "aarch64-unknown-linux-gnu",
    "macOS arm64": "aarch64-apple-darwin",
    "Windows amd64": "x86_64-pc-windows-msvc",
}
UV = Path(sys.executable).with_name("uv")


def _resolve(python: str, platform: str) -> tuple[int, str]:
    """Resolve the lock for one target with uv, wheels only, without installing anything."""
    result = subprocess.run(
        [str(UV), "pip", "compile", str(ROOT / "requirements-lock.txt"), "--python-version", python,
         "--python-platform", PLATFORMS[platform], "--only-binary", ":all:", "--prerelease", "disallow",
         "--no-header", "--no-annotate", "--quiet"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def test_the_lock_resolves_for_every_supported_python_and_platform():
    assert UV.exists(), "uv is in the test extra of pyproject.toml"
    targets = [(py, plat) for py in PYTHONS for plat in PLATFORMS]
    with ThreadPoolExecutor(4) as pool:
        results = dict(zip(targets, pool.map(lambda t: _resolve(*t), targets), strict=True))
    pinned = {(r.name.lower().replace("_", "-"), next(iter(r.specifier)).version) for r in locked()}
    failures = []
    for (py, plat), (code, out) in results.items():
        if code != 0:
            failures.append(f"{py} {plat}: {out.strip()[-300:]}")
            continue
        got = {tuple(line.split(" ;")[0].split("==")) for line in out.splitlines() if "==" in line}
        extra = {(n.lower().replace("_", "-"), v) for n, v in got} - pinned
        if extra:
            failures.append(f"{py} {plat}: needs packages the lock lacks: {sorted(extra)}")
    print(f"resolved {len(targets) - len(failures)} of {len(targets)} Python/platform combinations")
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------- choosing a Python


def _shim(folder: Path, name: str, version: str) -> Path:
    """A fake interpreter that reports ``version`` and records any other use in used.txt."""
    path = folder / name
    path.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *version_info*) echo "{version} final"; exit 0;; esac\n'
        f'echo "$*" >> "{folder}/used.txt"\nexit 1\n'
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def project_copy(tmp_path):
    """bootstrap.py with the files it reads, in a folder of its own."""
    for name in ("bootstrap.py", "pyproject.toml", "requirements-lock.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("how", ["PYTHON", "PATH"])
def test_python_3_14_is_refused_in_seconds_and_nothing_is_installed(
    project_copy, tmp_path_factory, how
):
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = _shim(bin_dir, "python3", "3.14.0")
    _shim(bin_dir, "python", "3.9.18")
    env = {"PATH": str(bin_dir), "HOME": str(project_copy)}  # only the shims
    if how == "PYTHON":
        env["PYTHON"] = str(shim)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "bootstrap.py", "test"],
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    seconds = time.perf_counter() - start
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and seconds < 5, (result.stderr, seconds)
    assert "3.14.0" in lines[0] and "3.11, 3.12, 3.13" in lines[0]
    if how == "PATH":
        assert "/python 3.9.18" in lines[0], "it names every Python it found"
    assert not (project_copy / ".venv").exists() and not (bin_dir / "used.txt").exists()


def test_the_newest_supported_python_is_chosen(project_copy, tmp_path_factory):
    bin_dir = tmp_path_factory.mktemp("bin")
    _shim(bin_dir, "python3.11", "3.11.9")
    _shim(bin_dir, "python3.13", "3.13.1")
    _shim(bin_dir, "python3", "3.14.0")
    result = subprocess.run(
        [sys.executable, "bootstrap.py", "python"],
        cwd=project_copy,
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and result.stdout.startswith("Python 3.13.1:"), result.stdout


def test_make_targets_are_one_call_into_bootstrap():
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "test", "lab", "lock"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},  # not nested
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and all(" bootstrap.py " in ln for ln in lines), lines


# --------------------------------------------------------------------------- outside the repository


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    """A wheel of lessons_lib, a clean venv that borrows this venv's third-party packages
    (TensorFlow is large: a course image or Colab has it already), and the lessons copied
    to a course folder with no repository around it."""
    base = tmp_path_factory.mktemp("outside")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(base / "dist"),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    wheel = next((base / "dist").glob("lessons_lib-*.whl"))
    venvs = {}
    for name in ("with_wheel", "without"):
        venv = base / name
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next((venv / "lib").glob("python3.*/site-packages"))
        # only the packages: a path from a .pth file does not run the editable lessons_lib hook
        (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        venvs[name] = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venvs["with_wheel"]), "install", "--no-deps",
         "--quiet", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "notebooks" / "01_loading_the_data.ipynb", course)
    return venvs, course, wheel


def _papermill(python: Path, course: Path, out: Path):
    return subprocess.run(
        [str(python), "-m", "papermill", str(course / "01_loading_the_data.ipynb"), str(out),
         "-p", "data_source", "sample", "--cwd", str(course), "--no-progress-bar"],
        capture_output=True, text=True, timeout=300, cwd=course,
        env={**os.environ, "MNIST_PATH": "", "PYTHONPATH": ""},
    )  # fmt: skip


@pytest.mark.notebooks
def test_the_wheel_runs_lesson_01_headless_outside_the_repository(outside, tmp_path):
    venvs, course, wheel = outside
    where = subprocess.run(
        [str(venvs["with_wheel"]), "-c", "import lessons_lib; print(lessons_lib.__file__)"],
        capture_output=True, text=True, cwd=course,
    )  # fmt: skip
    assert str(venvs["with_wheel"].parents[1]) in where.stdout, "lessons_lib comes from the wheel"
    result = _papermill(venvs["with_wheel"], course, tmp_path / "out.ipynb")
    assert result.returncode == 0, result.stderr[-2000:]
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    recorded = [
        o["data"]["application/vnd.digit-lessons.metrics+json"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.digit-lessons.metrics+json" in o.get("data", {})
    ]
    assert json.loads(json.dumps(recorded[-1]))["n_train"] == 4000


@pytest.mark.notebooks
def test_a_kernel_without_lessons_lib_gets_the_install_instruction(outside, tmp_path):
    venvs, course, _ = outside
    missing = subprocess.run([str(venvs["without"]), "-c", "import lessons_lib"], cwd=course)
    assert missing.returncode != 0, "this venv must not see lessons_lib"
    result = _papermill(venvs["without"], course, tmp_path / "out.ipynb")
    assert result.returncode != 0
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "SetupNeeded"
    assert errors[0]["traceback"] == [errors[0]["evalue"]], "the instruction, not a traceback"
    assert "%pip install" in errors[0]["evalue"] and "restart the kernel" in errors[0]["evalue"]
