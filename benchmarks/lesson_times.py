"""The run time and memory each lesson's header states, from the committed measurements.

    python benchmarks/lesson_times.py            # rewrite the headers and lesson 00's table
    python benchmarks/lesson_times.py --check    # exit 1 if a notebook says something else

Measured: ``benchmarks/results/series-onecore.json`` and ``series-onecore-2.json``, the
runner's metrics of the whole series run twice on one core with one TensorFlow thread (README,
"Results", for the command); the same machine is not equally fast from one sitting to the next,
so the header gives the range. Estimated: the slower sitting's seconds times the ratio seen
between a slower machine and this one on the same notebooks
(``benchmarks/results/slow-kind-calibration.json``: issue #19's machine against this project's,
lessons 04 and 07 as they were at commit 591aa81): a lesson timed on both takes its own ratio,
every other lesson the largest one. ``tests/test_readme.py`` runs
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


def slow_factor(calibration: dict, book: str | None = None) -> float:
    """The slower/here ratio for ``book``: the largest of its own ratios (whole notebook,
    training) when that notebook was timed on both machines, else the largest of them all.

    A lesson measured on both says how much slower its own kind of work runs there (lesson
    04's dense training: 1.35; lesson 07's convolutions: 1.87); a lesson that was not is
    given the worst ratio seen, so its estimate errs on the long side."""

    def ratios(name: str) -> list[float]:
        slow, here = calibration["slow_kind"][name], calibration["here"][name]
        return [slow[k] / here[k] for k in slow if isinstance(slow[k], (int, float))]

    if book in calibration["slow_kind"]:
        return max(ratios(book))
    return max(r for name in calibration["slow_kind"] for r in ratios(name))


def figures(sittings: list[dict], calibration: dict) -> dict[str, dict]:
    """Per lesson: the fastest and slowest sitting (s), the estimate for a slower machine (s,
    from the slowest sitting, ``slow_factor``) and the largest peak memory (GB)."""
    out = {}
    for book in sorted(sittings[0]["notebooks"]):
        runs = [s["notebooks"][book] for s in sittings]
        assert all(r["status"] == "ok" for r in runs), book
        fastest, slowest = min(r["seconds"] for r in runs), max(r["seconds"] for r in runs)
        out[book[:2]] = {
            "low": max(1, round(fastest)),
            "high": max(1, round(slowest)),
            "slower": max(1, math.ceil(slowest * slow_factor(calibration, book))),
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
