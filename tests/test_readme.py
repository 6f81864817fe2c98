"""The README's results table is the benchmark's own output, figure for figure."""

from __future__ import annotations

import json

from conftest import ROOT

RESULTS = ROOT / "benchmarks" / "results" / "mnist-partial.json"
ROWS = {"(a)": "reference", "(b)": "quickstart", "(c)": "lesson_dense", "(d)": "lesson_cnn"}


def test_readme_results_table_matches_the_committed_benchmark_output():
    measured = json.loads(RESULTS.read_text())
    assert set(measured["configs"]) == set(ROWS.values())
    assert "22,699 training and 10,000 test images" in measured["data"]
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


def shown_as(cell: str, value: float) -> bool:
    """True when ``cell`` is ``value`` rounded to the digits the cell shows."""
    decimals = len(cell.split(".")[1]) if "." in cell else 0
    return abs(float(cell) - value) <= 0.5 * 10**-decimals + 1e-9
