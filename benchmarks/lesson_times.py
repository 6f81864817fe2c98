"""The run time and memory each lesson's header states, from the committed measurements.

    python benchmarks/lesson_times.py            # rewrite the headers and lesson 00's table
    python benchmarks/lesson_times.py --check    # exit 1 if a notebook says something else

Measured: ``benchmarks/results/series-onecore.json`` and ``series-onecore-2.json``, the
runner's metrics of the whole series run twice on one core with one TensorFlow thread (README,
"Results", for the command); the same machine is not equally fast from one sitting to the next,
so the header gives the range. Estimated: the slower sitting's seconds times the largest ratio
seen between a slower machine and this one, on the same notebooks (``benchmarks/results/slow-kind-calibration.json``: issue #19's machine against this
project's, lessons 04 and 07 as they were at commit 591aa81). ``tests/test_readme.py`` runs
``--check``, so a header cannot drift from the measurement.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SITTINGS = (RESULTS / "series-onecore.json", RESULTS / "series-onecore-2.json")
CALIBRATION = RESULTS / "slow-kind-calibration.json"
NOTEBOOKS = ROOT / "notebooks"

HEADER = re.compile(r'\*\*Memory:\*\*.*?README, "Results"\)\.')
TABLE_ROW = re.compile(r"^(\| \[(\d\d) [^|]*\]\([^)]*\) \|[^|]*\|[^|]*\| )[^|]*\|[^|]*\|$", re.M)


def slow_factor(calibration: dict) -> float:
    """The largest slower/here ratio over every notebook and training time measured on both."""
    ratios = [
        calibration["slow_kind"][book][key] / calibration["here"][book][key]
        for book in calibration["slow_kind"]
        for key in calibration["slow_kind"][book]
        if isinstance(calibration["slow_kind"][book][key], (int, float))
    ]
    return max(ratios)


def figures(sittings: list[dict], calibration: dict) -> dict[str, dict]:
    """Per lesson: the fastest and slowest sitting (s), the estimate for a slower machine (s,
    from the slowest sitting) and the largest peak memory (GB)."""
    factor = slow_factor(calibration)
    out = {}
    for book in sorted(sittings[0]["notebooks"]):
        runs = [s["notebooks"][book] for s in sittings]
        assert all(r["status"] == "ok" for r in runs), book
        fastest, slowest = min(r["seconds"] for r in runs), max(r["seconds"] for r in runs)
        out[book[:2]] = {
            "low": max(1, round(fastest)),
            "high": max(1, round(slowest)),
            "slower": max(1, math.ceil(slowest * factor)),
            "gb": max(r["peak_rss_mb"] for r in runs) / 1024,
        }
    return out


def date_of(sittings: list[dict]) -> str:
    return sittings[0]["created"][:10]


def here(f: dict) -> str:
    return f"{f['low']} s" if f["low"] == f["high"] else f"{f['low']}-{f['high']} s"


def header(f: dict, date: str) -> str:
    return (
        f"**Memory:** a peak of {f['gb']:.2f} GB with full MNIST (measured; Binder gives 2 GB). "
        f"**Run time:** {here(f)} on one core with one TensorFlow thread (measured twice on this "
        f"project's AMD EPYC, {date}); allow up to {f['slower']} s on a slower machine, as "
        'Binder may give you (estimated; README, "Results").'
    )


def table_cells(f: dict) -> str:
    return f"{here(f)} / {f['slower']} s | {f['gb']:.2f} GB |"


def rewrite(check: bool) -> int:
    import nbformat

    sittings = [json.loads(path.read_text()) for path in SITTINGS]
    calibration = json.loads(CALIBRATION.read_text())
    figs, date = figures(sittings, calibration), date_of(sittings)
    stale = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        lesson = path.name[:2]
        nb = nbformat.read(path, as_version=4)
        changed, headers, rows = False, 0, 0
        text = header(figs[lesson], date)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            new, n = HEADER.subn(text.replace("\\", r"\\"), cell.source, count=1)
            headers += n
            if lesson == "00":
                new, n = TABLE_ROW.subn(lambda m: m.group(1) + table_cells(figs[m.group(2)]), new)
                rows += n
            if new != cell.source:
                cell.source, changed = new, True
        if headers != 1 or rows != (9 if lesson == "00" else 0):
            # a reworded header or table would otherwise pass --check unnoticed
            print(f"{path.name}: found {headers} run-time header(s) and {rows} table row(s)")
            return 1
        if changed:
            stale.append(path.name)
            if not check:
                nbformat.write(nb, path)
    if check and stale:
        print("out of date (python benchmarks/lesson_times.py): " + ", ".join(stale))
        return 1
    print(("checked: " if check else "wrote: ") + (", ".join(stale) or "nothing to change"))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    return rewrite(parser.parse_args(argv).check)


if __name__ == "__main__":
    sys.exit(main())
