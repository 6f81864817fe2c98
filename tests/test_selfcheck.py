"""Lesson 00's self-check says what is wrong and what to do."""

from __future__ import annotations

import tomllib

import nbformat
import pytest
from packaging.specifiers import SpecifierSet

from conftest import ROOT
from lessons_lib import data, requirements, selfcheck


def test_a_healthy_environment_reports_ok():
    report = selfcheck.run("sample")
    assert report.ok, report.problems
    names = [row[0] for row in report.rows]
    for item in (
        "Python",
        "TensorFlow",
        "Keras",
        "widgets in JupyterLab",
        "anywidget",
        "MNIST data",
    ):
        assert item in names
    assert "All set" in report._repr_markdown_()


def test_a_missing_mnist_path_is_a_problem_with_a_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "nope.npz"))
    report = selfcheck.run("auto")
    assert not report.ok
    assert any("MNIST_PATH" in p and "does not exist" in p for p in report.problems)
    assert "1 problem(s)" in report._repr_markdown_()


def test_a_corrupt_keras_cache_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cache = data.keras_cache_path()
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not the real file")
    report = selfcheck.run("auto")
    assert any("corrupt" in p and "delete it" in p for p in report.problems)


def test_an_empty_cache_says_keras_will_download(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    ok, detail = selfcheck.describe_data_source("auto")
    assert ok and "downloaded by Keras" in detail and "sample is used instead" in detail


# --------------------------------------------------------------------------- the package's own requirements


def _pretend(monkeypatch, **versions):
    """Installed versions as given (None: not installed); every other package as it is."""
    real = requirements.installed
    monkeypatch.setattr(
        requirements,
        "installed",
        lambda dist: versions.get(dist, real(dist)) if dist in versions else real(dist),
    )


def test_the_floors_come_from_pyproject_not_from_the_code():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = requirements.declared()
    assert str(declared.requires_python) == str(
        SpecifierSet(project["requires-python"].split("#")[0])
    )
    keras = next(r for r in declared.requirements if r.name == "keras")
    assert f"keras{keras.specifier}" in project["dependencies"]
    tf = requirements.tensorflow_requirement()
    assert tf.name == "tensorflow-cpu" and str(tf.specifier) == ">=2.16"  # Linux x86_64


@pytest.mark.parametrize(
    "python, ok", [("3.10.12", False), ("3.11.0", True), ("3.13.9", True), ("3.14.0", False)]
)
def test_python_outside_requires_python_is_a_problem(monkeypatch, python, ok):
    monkeypatch.setattr(requirements.platform, "python_version", lambda: python)
    report = selfcheck.run("sample")
    row = next(r for r in report.rows if r[0] == "Python")
    assert row[1] is ok, row
    if not ok:
        assert (
            f"Python {python} is not supported" in row[2]
            and ">=3.11" in row[2]
            and "<3.14" in row[2]
        )


@pytest.mark.parametrize(
    "keras, ok", [("3.0.0", False), ("3.13.9", False), ("3.14.0", True), (None, False)]
)
def test_keras_below_the_declared_floor_is_a_problem(monkeypatch, keras, ok):
    _pretend(monkeypatch, keras=keras)
    row = next(r for r in selfcheck.run("sample").rows if r[0] == "Keras")
    assert row[1] is ok, row
    if not ok:
        assert "%pip install" in row[2] and '"keras>=3.14"' in row[2], row


def test_no_tensorflow_says_exactly_what_to_install(monkeypatch):
    _pretend(monkeypatch, **{d: None for d in requirements.TENSORFLOW_DISTS})
    row = next(r for r in selfcheck.run("sample").rows if r[0] == "TensorFlow")
    assert not row[1] and '%pip install "tensorflow-cpu>=2.16"' in row[2] and "restart" in row[2]


def test_an_old_host_tensorflow_is_upgraded_under_its_own_name(monkeypatch):
    """Colab's `tensorflow` 2.15 must become a newer `tensorflow`, never `tensorflow-cpu`."""
    _pretend(
        monkeypatch, **{**dict.fromkeys(requirements.TENSORFLOW_DISTS), "tensorflow": "2.15.1"}
    )
    version, problem = requirements.tensorflow_status()
    assert version == "2.15.1" and '%pip install -U "tensorflow>=2.16"' in problem
    _pretend(
        monkeypatch, **{**dict.fromkeys(requirements.TENSORFLOW_DISTS), "tensorflow": "2.20.0"}
    )
    assert requirements.tensorflow_status() == ("2.20.0", None), "a host's GPU build is accepted"


def _run_check_cell(lesson: str) -> dict:
    """The parameters cell, then the check cell after it, as the kernel runs them."""
    nb = nbformat.read(ROOT / "notebooks" / lesson, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(nb.cells[i].source, namespace)
    exec(nb.cells[i + 1].source, namespace)
    return namespace


LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_check_cell_stops_without_tensorflow_with_the_command(monkeypatch, lesson):
    _pretend(monkeypatch, **{d: None for d in requirements.TENSORFLOW_DISTS})
    with pytest.raises(requirements.SetupNeeded) as caught:
        _run_check_cell(lesson)
    message = str(caught.value)
    assert '%pip install "tensorflow-cpu>=2.16"' in message and "restart the kernel" in message
    assert caught.value._render_traceback_() == [message], "shown without a traceback"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_check_cell_passes_in_a_good_environment(lesson):
    namespace = _run_check_cell(lesson)
    assert "require_tensorflow" in namespace and "check_parameters" in namespace
