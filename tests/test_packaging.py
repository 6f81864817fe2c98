"""The locks, pyproject.toml, environment.yml and binder/ agree; this venv holds the locked versions.

requirements-lock.txt is the runtime lock (learners, Binder, conda); requirements-dev-lock.txt
adds the test tools at the same versions (tests, CI). Both pin every package with its hashes."""

from __future__ import annotations

import importlib.metadata
import itertools
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement

from conftest import ROOT

LOCK = ROOT / "requirements-lock.txt"
DEV_LOCK = ROOT / "requirements-dev-lock.txt"
TEST_TOOLS = {
    "pytest",
    "playwright",
    "ruff",
    "hypothesis",
    "uv",
    "nbval",
    "pytest-timeout",
    "pytest-xdist",
}


def entries(path=LOCK) -> list[tuple[str, list[str]]]:
    """Each requirement of a lock file with its hashes: ("name==1.0 ; marker", ["sha256:..."])."""
    text = path.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(" --hash=")
        out.append((parts[0].strip(), [h.strip() for h in parts[1:]]))
    return out


def locked(path=LOCK) -> list[Requirement]:
    """Every pinned requirement of a lock (default: the runtime lock), with its marker."""
    return [Requirement(spec) for spec, _ in entries(path)]


def _name(text: str) -> str:
    return re.split(r"[<>=!~;\[ ]", text.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_every_lock_line_is_an_exact_pin_with_hashes():
    for path in (LOCK, DEV_LOCK):
        assert len(entries(path)) > 100
        for spec, hashes in entries(path):
            req = Requirement(spec)
            specs = list(req.specifier)
            assert len(specs) == 1 and specs[0].operator == "==", (
                f"{path.name}: {req} is not pinned"
            )
            assert not specs[0].version.__contains__("rc"), f"{path.name}: {req}: a pre-release"
            assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (
                f"{path.name}: {req} has no sha256 hash: run `make lock`"
            )


def test_learners_install_no_test_tools_and_ci_tests_the_learners_versions():
    runtime = {_name(r.name): r for r in locked(LOCK)}
    dev = {_name(r.name): r for r in locked(DEV_LOCK)}
    assert not TEST_TOOLS & set(runtime), (
        f"test tools in the runtime lock: {TEST_TOOLS & set(runtime)}"
    )
    assert TEST_TOOLS <= set(dev)
    differ = {
        n: (str(r.specifier), str(dev[n].specifier) if n in dev else None)
        for n, r in runtime.items()
        if n not in dev or dev[n].specifier != r.specifier
    }
    assert not differ, f"the development lock pins other versions than learners get: {differ}"
    # A test tool may need a learner's package on more Pythons than learners do (aiohttp for
    # JupyterHub), so the dev lock's marker may be wider, never narrower.
    narrower = []
    for version, (platform, machine) in itertools.product(
        ("3.11", "3.12", "3.13"),
        [("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "arm64"), ("win32", "AMD64")],
    ):
        env = {**default_environment(), "python_version": version, "python_full_version": f"{version}.0",
               "sys_platform": platform, "platform_machine": machine}  # fmt: skip
        for n, r in runtime.items():
            if (r.marker is None or r.marker.evaluate(env)) and not (
                dev[n].marker is None or dev[n].marker.evaluate(env)
            ):
                narrower.append((n, version, platform))
    assert not narrower, f"CI would test without packages learners get: {narrower[:5]}"


def test_the_runtime_lock_installs_the_cpu_build_only_where_it_exists():
    env = default_environment()
    for platform, machine, want in [("linux", "x86_64", "tensorflow-cpu"), ("linux", "aarch64", "tensorflow"),
                                    ("darwin", "arm64", "tensorflow"), ("win32", "AMD64", "tensorflow")]:  # fmt: skip
        here = {**env, "sys_platform": platform, "platform_machine": machine}
        tf = [_name(r.name) for r in locked() if _name(r.name).startswith("tensorflow")
              and (r.marker is None or r.marker.evaluate(here))]  # fmt: skip
        assert tf == [want], f"{platform} {machine}: {tf}"


def test_lock_covers_every_project_dependency_on_every_supported_python():
    project = _project()
    runtime = [Requirement(d) for d in project["dependencies"]]
    runtime += [Requirement(d) for d in project["optional-dependencies"]["tensorflow"]]
    dev = list(runtime)
    for extra in ("test", "book"):
        dev += [Requirement(d) for d in project["optional-dependencies"][extra]]
    for (lock, wanted), version in itertools.product(
        [(LOCK, runtime), (DEV_LOCK, dev)], ("3.11", "3.12", "3.13")
    ):
        for platform, machine in [
            ("linux", "x86_64"),
            ("linux", "aarch64"),
            ("darwin", "arm64"),
            ("win32", "AMD64"),
        ]:
            env = {**default_environment(), "python_version": version, "python_full_version": f"{version}.0",
                   "sys_platform": platform, "platform_machine": machine}  # fmt: skip
            pins = {}
            for req in locked(lock):
                if req.marker is None or req.marker.evaluate(env):
                    pins[_name(req.name)] = next(iter(req.specifier)).version
            for req in wanted:
                if req.marker is not None and not req.marker.evaluate(env):
                    continue
                name = _name(req.name)
                assert name in pins, f"{name} missing from {lock.name} for {version} {platform}"
                assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} breaks {req}"


def test_installed_versions_are_the_locked_ones():
    """What `make test` installed in this venv is exactly what the dev lock says (pip freeze = lock)."""
    env = default_environment()
    differ = []
    for req in locked(DEV_LOCK):
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
    # conda runs one `pip install -U -r <these lines>`; with hashes, pip refuses an editable
    # install in the same call ("no single file to hash"): the README adds it as a second step
    assert pip == ["-r requirements-lock.txt"]
    readme = (ROOT / "README.md").read_text()
    assert "conda env create -f environment.yml" in readme
    assert readme.index("conda activate digit-recognition") < readme.index(
        "pip install --no-deps -e ."
    )


def test_binder_builds_from_a_copy_of_the_lock():
    assert (ROOT / "binder" / "requirements.txt").read_text() == LOCK.read_text(), (
        "binder/requirements.txt differs from requirements-lock.txt: run `make lock`"
    )
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post
    assert not (ROOT / "binder" / "environment.yml").exists(), "repo2docker would prefer it"


def test_repo2docker_builds_binder_from_the_runtime_lock_runtime_txt_postbuild_and_start(tmp_path):
    """What Binder would build, from the Dockerfile repo2docker prints offline (no Docker needed)."""
    r2d = Path(sys.executable).with_name("jupyter-repo2docker")
    assert r2d.exists(), "jupyter-repo2docker is in the test extra: run `make test`"
    repo = tmp_path / "repo"  # the committed files only, as mybinder.org clones them
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    for name in files.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    result = subprocess.run(
        [str(r2d), "--no-build", "--debug", str(repo)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dockerfile, log = result.stdout, result.stderr
    python = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"python={python}" in log, "runtime.txt picks Binder's Python"
    installs = [ln for ln in dockerfile.splitlines() if "pip install" in ln]
    assert installs == [
        'RUN ${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"'
    ], installs
    assert "RUN ./binder/postBuild" in dockerfile and "binder/start" in dockerfile
    assert "environment.yml" not in dockerfile + log, (
        "the root environment.yml is conda's, not Binder's"
    )


def test_citation_changelog_and_license_agree_with_the_metadata():
    project = _project()
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["version"] == project["version"] and cff["license"] == project["license"] == "MIT"
    assert [a["name"] for a in cff["authors"]] == [a["name"] for a in project["authors"]]
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert re.search(
        rf"^## ({re.escape(project['version'])}|Unreleased)",
        (ROOT / "CHANGELOG.md").read_text(),
        re.M,
    )
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert any(
        Requirement(r).name == "setuptools" and not Requirement(r).specifier.contains("76.9")
        for r in build
    ), 'license = "MIT" (SPDX) needs setuptools>=77 to build'
