"""Installing: the lock resolves everywhere it claims to, bootstrap.py refuses what it cannot
use, and the lessons run from a wheel outside the repository (the Colab / JupyterHub path)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from packaging.markers import default_environment
from packaging.utils import canonicalize_name
from test_packaging import DEV_LOCK, locked

from conftest import ROOT, build_wheel

PYTHONS = ["3.11", "3.12", "3.13"]
PLATFORMS = {
    "Linux x86_64": "x86_64-unknown-linux-gnu",
    "Linux aarch64": "aarch64-unknown-linux-gnu",
    "macOS arm64": "aarch64-apple-darwin",
    "Windows amd64": "x86_64-pc-windows-msvc",
}
UV = Path(sys.executable).with_name("uv")


def _resolve(python: str, platform: str) -> tuple[int, str]:
    """Resolve the development lock (the runtime lock's pins plus the test tools) for one target
    with uv, wheels only, without installing anything."""
    result = subprocess.run(
        [str(UV), "pip", "compile", str(DEV_LOCK), "--python-version", python,
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
    pinned = {
        (r.name.lower().replace("_", "-"), next(iter(r.specifier)).version)
        for r in locked(DEV_LOCK)
    }
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

LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _clean_venv(path: Path, borrow: bool) -> Path:
    """A venv without pip; with ``borrow``, it sees this venv's third-party packages (TensorFlow is
    large: a course image or Colab has it already) through a .pth file, which, unlike
    PYTHONPATH, does not run this venv's editable lessons_lib hook."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    if borrow:
        site = next((path / "lib").glob("python3.*/site-packages"))
        (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of lessons_lib, built the way pip builds it from a clone (isolated build)."""
    return build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def outside(tmp_path_factory, wheel):
    """A clean venv holding only the wheel (plus the borrowed packages), a venv without
    lessons_lib, and a course folder made by `python -m lessons_lib init` from the wheel's own
    copy of the lessons, with no repository around it."""
    base = tmp_path_factory.mktemp("outside")
    venvs = {name: _clean_venv(base / name, borrow=True) for name in ("with_wheel", "without")}
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venvs["with_wheel"]), "install", "--no-deps",
         "--quiet", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    init = subprocess.run(
        [str(venvs["with_wheel"]), "-m", "lessons_lib", "init", "course"],
        capture_output=True, text=True, cwd=base, timeout=120, env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    return venvs, base / "course", init


def test_wheels_built_side_by_side_both_succeed_and_leave_the_clone_untouched(tmp_path):
    """xdist workers build wheels at the same time; building in the clone itself raced on
    setuptools' build/lib and egg-info there and failed CI. Four at once here, as on CI."""
    before = {p.name for p in ROOT.iterdir()}
    with ThreadPoolExecutor(4) as pool:
        wheels = list(pool.map(lambda i: build_wheel(tmp_path / f"w{i}"), range(4)))
    contents = [sorted(zipfile.ZipFile(w).namelist()) for w in wheels]
    assert all(c == contents[0] for c in contents), "every build gives the same wheel"
    assert "lessons_lib/lessons/04_training.ipynb" in contents[0]
    assert {p.name for p in ROOT.iterdir()} == before, "nothing written into the clone"


def test_the_wheel_carries_the_lessons_the_license_and_the_metadata(wheel):
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        meta = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        shipped = {
            n.rsplit("/", 1)[1]: whl.read(n) for n in names if n.startswith("lessons_lib/lessons/")
        }
        license_text = whl.read(next(n for n in names if n.endswith("/licenses/LICENSE"))).decode()
    assert sorted(shipped) == LESSONS and len(LESSONS) == 9
    for name, data in shipped.items():
        assert data == (ROOT / "notebooks" / name).read_bytes(), f"{name} differs from notebooks/"
    assert license_text == (ROOT / "LICENSE").read_text() and "MIT License" in license_text
    assert (
        "License-Expression: MIT" in meta and "Classifier: Intended Audience :: Education" in meta
    )
    assert "Author: The Digit Recognition contributors" in meta
    # TensorFlow only through the extra: a plain requirement would replace a host's build
    tf_lines = [ln for ln in meta.splitlines() if re.match(r"Requires-Dist: tensorflow", ln)]
    assert tf_lines and all('extra == "tensorflow"' in ln for ln in tf_lines), tf_lines


def test_init_copies_the_nine_lessons_from_the_wheel_and_says_so(outside):
    venvs, course, init = outside
    assert init.returncode == 0, init.stderr
    assert sorted(p.name for p in course.iterdir()) == LESSONS
    for name in LESSONS:
        assert name in init.stdout
        assert (course / name).read_bytes() == (ROOT / "notebooks" / name).read_bytes()
    assert "00_start_here.ipynb" in init.stdout.splitlines()[-1], "it says what to open"


def test_init_refuses_to_overwrite_a_learners_notebooks(outside, tmp_path):
    venvs, _, _ = outside
    course = tmp_path / "mine"
    course.mkdir()
    mine = course / "04_training.ipynb"
    mine.write_text("my answers")  # the learner's work
    result = subprocess.run(
        [str(venvs["with_wheel"]), "-m", "lessons_lib", "init", str(course)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    assert result.returncode == 2 and "04_training.ipynb" in result.stderr
    assert "nothing was copied" in result.stderr and result.stderr.count("\n") == 1
    assert mine.read_text() == "my answers" and [p.name for p in course.iterdir()] == [mine.name]
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = subprocess.run(
        [str(venvs["with_wheel"]), "-m", "lessons_lib", "init", str(afile)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    assert result.returncode == 2 and "is a file" in result.stderr and afile.read_text() == "x"


# papermill's CLI waits only 4 s for a cell's last output after the cell ends (nbclient's
# iopub_timeout) and then fails it; lesson 06's slider cell sends hundreds of widget messages,
# which on a loaded machine take longer to drain. The API takes a longer wait.
PAPERMILL = """
import json, sys
import papermill
source, out, cwd, parameters = json.loads(sys.argv[1])
papermill.execute_notebook(source, out, parameters=parameters, cwd=cwd, progress_bar=False,
                           iopub_timeout=120)
"""


def _papermill(python: Path, course: Path, lesson: str, out: Path, **params):
    parameters = {"data_source": "sample", **params}
    return subprocess.run(
        [str(python), "-c", PAPERMILL, json.dumps([str(course / lesson), str(out), str(course), parameters])],
        capture_output=True, text=True, timeout=900, cwd=course,
        env={**os.environ, "MNIST_PATH": "", "PYTHONPATH": ""},
    )  # fmt: skip


def _recorded(path: Path) -> list[dict]:
    nb = nbformat.read(path, as_version=4)
    return [
        json.loads(json.dumps(o["data"]["application/vnd.digit-lessons.metrics+json"]))
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.digit-lessons.metrics+json" in o.get("data", {})
    ]


@pytest.mark.notebooks
def test_the_wheel_runs_lessons_01_and_06_in_the_course_folder_init_made(outside, tmp_path):
    venvs, course, init = outside
    assert init.returncode == 0, init.stderr
    where = subprocess.run(
        [str(venvs["with_wheel"]), "-c", "import lessons_lib; print(lessons_lib.__file__)"],
        capture_output=True, text=True, cwd=course, env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    assert str(venvs["with_wheel"].parents[1]) in where.stdout, "lessons_lib comes from the wheel"
    first = _papermill(venvs["with_wheel"], course, LESSONS[1], tmp_path / "01.ipynb")
    assert first.returncode == 0, first.stderr[-2000:]
    assert _recorded(tmp_path / "01.ipynb")[-1]["n_train"] == 4000
    # 06 finds no saved model in the course folder, trains one (one epoch) and explains it
    sixth = _papermill(venvs["with_wheel"], course, LESSONS[6], tmp_path / "06.ipynb", epochs=1)
    assert sixth.returncode == 0, sixth.stderr[-2000:]
    assert list((course / "artifacts").glob("*.keras")), "the model is saved in the course folder"
    nb = nbformat.read(tmp_path / "06.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.notebooks
def test_a_kernel_without_lessons_lib_gets_the_install_instruction(outside, tmp_path):
    venvs, course, _ = outside
    missing = subprocess.run(
        [str(venvs["without"]), "-c", "import lessons_lib"],
        cwd=course, env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    assert missing.returncode != 0, "this venv must not see lessons_lib"
    result = _papermill(venvs["without"], course, LESSONS[1], tmp_path / "out.ipynb")
    assert result.returncode != 0
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "SetupNeeded"
    assert errors[0]["traceback"] == [errors[0]["evalue"]], "the instruction, not a traceback"
    message = errors[0]["evalue"]
    # the three steps, in order: install, init, restart
    steps = [
        message.index("%pip install lessons_lib-0.1.0-py3-none-any.whl"),
        message.index("%run -m lessons_lib init course"),
        message.index("restart the kernel"),
    ]
    assert steps == sorted(steps), message
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"lessons_lib-{version}-py3-none-any.whl" in message, "the wheel's real name"


# --------------------------------------------------------------------------- beside a host's TensorFlow


def _host_with_tensorflow(folder: Path, dist: str, version: str) -> Path:
    """A venv that already holds TensorFlow as ``dist`` ``version`` (Colab: tensorflow 2.20.0, a GPU
    build) and, like Colab, the other packages the lessons use (the lock's versions). Only their
    metadata is written: pip treats them as installed, so the dry run needs no network."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    site = next((folder / "lib").glob("python3.*/site-packages"))
    env = default_environment()
    present = {
        canonicalize_name(r.name): next(iter(r.specifier)).version
        for r in locked()
        if (r.marker is None or r.marker.evaluate(env)) and not r.name.startswith("tensorflow")
    }
    present[dist] = version
    for name, have in present.items():
        info = site / f"{name.replace('-', '_')}-{have}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {have}\n")
        (info / "INSTALLER").write_text("pip\n")
        (info / "RECORD").write_text("")
    return folder / "bin" / "python"


def _dry_run(python: Path, *what: str) -> dict:
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-",
         "--disable-pip-version-check", "--no-index", *what],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "dist, version", [("tensorflow", "2.20.0"), ("tensorflow-cpu", "2.16.1")], ids=["colab", "cpu"]
)
def test_installing_the_wheel_beside_a_hosts_tensorflow_installs_no_tensorflow(
    wheel, tmp_path, dist, version
):
    host = _host_with_tensorflow(tmp_path / "host", dist, version)
    report = _dry_run(host, str(wheel))
    names = [canonicalize_name(i["metadata"]["name"]) for i in report["install"]]
    assert names == ["lessons-lib"], f"pip would also install {names}"
