"""Lesson 00's self-check says what is wrong and what to do."""

from __future__ import annotations

from lessons_lib import data, selfcheck


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
