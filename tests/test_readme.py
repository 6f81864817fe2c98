"""The README's results table is the benchmark's own output, figure for figure, on full MNIST."""

from __future__ import annotations

import json

from conftest import ROOT

RESULTS = ROOT / "benchmarks" / "results" / "mnist-full.json"
ROWS = {"(a)": "reference", "(b)": "quickstart", "(c)": "lesson_dense", "(d)": "lesson_cnn"}


def test_readme_results_table_matches_the_committed_full_mnist_benchmark():
    measured = json.loads(RESULTS.read_text())
    assert set(measured["configs"]) == set(ROWS.values())
    assert measured["data"].startswith("official MNIST (verified)")
    assert "60,000 training and 10,000 test images" in measured["data"]
    readme = (ROOT / "README.md").read_text()
    for tag, name in ROWS.items():
        line = next(ln for ln in readme.splitlines() if ln.startswith(f"| {tag} "))
        cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
        r = measured["configs"][name]
        acc, *numbers = cells[1:]
        assert acc == f"{r['test_accuracy']:.2%}"
        keys = [
            "test_loss",
            "train_seconds",
            "seconds_per_epoch",
            "epochs",
            "peak_rss_mb",
            "error_vs_quickstart",
            "time_vs_quickstart",
        ]
        for cell, key in zip(numbers, keys, strict=True):
            assert shown_as(cell, r[key]), (
                f"{name}: README shows {cell} for {key}, measured {r[key]}"
            )


def test_no_sentence_still_says_full_mnist_was_not_measured():
    texts = [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    for path in texts:
        text = path.read_text().lower()
        for stale in ("was not measured", "not measured here", "unverified", "cannot download it"):
            assert stale not in text, f"{path.name} still says '{stale}'"


def shown_as(cell: str, value: float) -> bool:
    """True when ``cell`` is ``value`` rounded to the digits the cell shows."""
    decimals = len(cell.split(".")[1]) if "." in cell else 0
    return abs(float(cell) - value) <= 0.5 * 10**-decimals + 1e-9


def test_readme_one_core_lesson_times_are_the_committed_run_with_its_machine():
    """Issue #19: the per-lesson one-core CPU seconds are the committed runner output, figure
    for figure, and that output names the CPU each lesson ran on."""
    run = json.loads((ROOT / "benchmarks" / "results" / "series-onecore.json").read_text())
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("| **fast kind, 1 core, busy"))
    cells = [c.strip().strip("*") for c in line.strip("|").split("|")][1:]
    books = sorted(run["notebooks"])
    assert len(cells) == len(books) == 9
    for cell, book in zip(cells, books, strict=True):
        metrics = run["notebooks"][book]["metrics"]
        assert run["notebooks"][book]["status"] == "ok"
        assert shown_as(cell, metrics["kernel_cpu_seconds"]), f"{book}: README {cell}"
        machine = metrics["machine"]
        assert machine["usable_cores"] == 1 and machine["tf_threads"] == 1, book
        assert machine["cpu"] and "avx512" in machine
