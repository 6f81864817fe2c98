"""The README's results table is the benchmark's own output, figure for figure, on full MNIST."""

from __future__ import annotations

import json

from conftest import ROOT

RESULTS = ROOT / "benchmarks" / "results" / "mnist-full.json"
ROWS = {"(a)": "reference", "(b)": "quickstart", "(c)": "lesson_dense", "(d)": "lesson_cnn"}


def _check_models_table(table: str, measured: dict, keys: list[str]) -> None:
    """Rows (a)-(d) of the first models table in ``table``: accuracy, then ``keys``, each the
    measured figure rounded to the digits the README shows."""
    for tag, name in ROWS.items():
        line = next(ln for ln in table.splitlines() if ln.startswith(f"| {tag} "))
        cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
        r = measured["configs"][name]
        assert cells[1] == f"{r['test_accuracy']:.2%}", name
        for cell, key in zip(cells[2:], keys, strict=True):
            assert shown_as(cell, r[key]), (
                f"{name}: README shows {cell} for {key}, measured {r[key]}"
            )


def test_readme_results_table_matches_the_committed_full_mnist_benchmark():
    measured = json.loads(RESULTS.read_text())
    assert set(measured["configs"]) == set(ROWS.values())
    assert measured["data"].startswith("official MNIST (verified)")
    assert "60,000 training and 10,000 test images" in measured["data"]
    keys = ["test_loss", "train_seconds", "seconds_per_epoch", "epochs", "peak_rss_mb",
            "error_vs_quickstart", "time_vs_quickstart"]  # fmt: skip
    _check_models_table((ROOT / "README.md").read_text(), measured, keys)


def test_readme_one_core_models_table_matches_the_committed_one_core_benchmark():
    """The one-core table (today's defaults; the lessons quote its dense and CNN figures)."""
    measured = json.loads((ROOT / "benchmarks" / "results" / "mnist-onecore.json").read_text())
    assert measured["machine"]["usable_cores"] == 1 and measured["machine"]["tf_threads"] == 1
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("**The same four models on one core of this machine") :]
    keys = ["test_loss", "train_cpu_seconds", "cpu_seconds_per_epoch", "train_seconds", "epochs",
            "cpu_time_vs_quickstart"]  # fmt: skip
    _check_models_table(table, measured, keys)


def test_readme_shift_cost_table_is_the_committed_run():
    run = json.loads((ROOT / "benchmarks" / "results" / "shift-cost-onecore.json").read_text())
    assert run["machine"]["usable_cores"] == 1 and run["machine"]["tf_threads"] == 1
    readme = (ROOT / "README.md").read_text()
    for net, start in (
        ("dense", "| lesson 04's dense, CPU s"),
        ("cnn", "| lesson 07's CNN, CPU s"),
    ):
        cells = [c.strip() for c in next(
            ln for ln in readme.splitlines() if ln.startswith(start)
        ).strip("|").split("|")][1:]  # fmt: skip
        kinds = ("RandomTranslation", "PixelShift", "none")
        for cell, kind in zip(cells, kinds, strict=True):
            assert shown_as(cell, run["summary"][net][kind]["cpu_seconds_per_epoch"]), (net, kind)


def test_readme_autotune_table_is_the_committed_run():
    """The idle-core table: every figure is benchmarks/bench_autotune.py's committed median,
    measured on one core, and both pipelines gave the same validation accuracies."""
    run = json.loads((ROOT / "benchmarks" / "results" / "autotune-onecore.json").read_text())
    assert run["machine"]["usable_cores"] == 1 and run["machine"]["tf_threads"] == 1
    readme = (ROOT / "README.md").read_text()
    keys = ("fit_wall", "fit_cpu", "fit_idle", "predict_wall")
    seen = 0
    for net, start in (("cnn", "| lesson 07's CNN then (raw digits), 4 epochs |"),
                       ("dense", "| lesson 04's dense network, its first 6 epochs |")):  # fmt: skip
        assert run["summary"][net]["same_val_accuracy_every_run"] is True
        for line in (ln for ln in readme.splitlines() if ln.startswith(start)):
            cells = [c.strip() for c in line.strip("|").split("|")]
            figures = run["summary"][net][cells[1]]
            for cell, key in zip(cells[2:], keys, strict=True):
                assert shown_as(cell, figures[key]), (net, cells[1], key, cell)
            seen += 1
    assert seen == 4


def test_readme_quota_table_is_the_committed_run():
    run = json.loads((ROOT / "benchmarks" / "results" / "quota-onecpu.json").read_text())
    assert run["quota"] == 1.0
    readme = (ROOT / "README.md").read_text()
    modes = list(run["summary"])
    for book in ("04", "07"):
        cells = _row(readme, f"| lesson {book} | ")
        assert len(cells) == 2, book
        for cell, mode in zip(cells, modes, strict=True):
            assert shown_as(cell, run["summary"][mode][book]["seconds"]), (book, mode, cell)
        for mode, threads in zip(modes, (run["machine"]["cores"], 1), strict=True):
            assert all(r[book]["tf_threads"] == threads for r in run["runs"][mode])


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


def _lesson_times():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import lesson_times

    return lesson_times


def _row(readme: str, start: str) -> list[str]:
    line = next(ln for ln in readme.splitlines() if ln.startswith(start))
    return [c.strip().strip("*") for c in line.strip("|").split("|")][1:]


def test_readme_one_core_lesson_times_are_the_committed_runs_with_their_machine():
    """Issue #19: the per-lesson one-core times are the committed runner output of each
    sitting, figure for figure, that output names the CPU each lesson ran on, and the
    "allow" row is what benchmarks/lesson_times.py estimates from them."""
    lesson_times = _lesson_times()
    readme = (ROOT / "README.md").read_text()
    rows = {
        "series-onecore.json": "| **this machine, 1 core, quiet (2026-12-04 12:40), first sitting",
        "series-onecore-2.json": "| **same, second sitting (12:43)",
    }
    sittings = []
    for name, start in rows.items():
        run = json.loads((ROOT / "benchmarks" / "results" / name).read_text())
        assert run["parameters"]["data_source"].endswith("mnist-full.npz"), name
        sittings.append(run)
        cells, books = _row(readme, start), sorted(run["notebooks"])
        assert len(cells) == len(books) == 9
        for cell, book in zip(cells, books, strict=True):
            assert run["notebooks"][book]["status"] == "ok"
            assert shown_as(cell, run["notebooks"][book]["seconds"]), f"{name} {book}: {cell}"
            machine = run["notebooks"][book]["metrics"]["machine"]
            assert machine["usable_cores"] == 1 and machine["tf_threads"] == 1, book
            assert machine["cpu"] and "avx512" in machine
    calibration = json.loads(lesson_times.CALIBRATION.read_text())
    figures = lesson_times.figures(sittings, calibration)
    allowed = _row(readme, "| **slower machine, 1 core, estimated")
    assert allowed == [str(figures[b[:2]]["slower"]) for b in sorted(sittings[0]["notebooks"])]


def test_a_lesson_timed_on_both_machines_takes_its_own_ratio_the_others_the_largest():
    """benchmarks/lesson_times.py's rule for the slower-machine estimate, on the committed
    calibration: lesson 04 (dense training) and 07 (convolutions) each their own largest
    slower/here ratio, every lesson not timed there the largest ratio of all."""
    lesson_times = _lesson_times()
    calibration = json.loads(lesson_times.CALIBRATION.read_text())
    slow, here = calibration["slow_kind"], calibration["here"]
    own = {
        book: max(slow[book][k] / here[book][k] for k in slow[book]) for book in slow
    }  # fmt: skip
    assert set(own) == {"04_training", "07_going_further"}
    assert own["04_training"] < own["07_going_further"]
    for book, ratio in own.items():
        assert lesson_times.slow_factor(calibration, book) == ratio
    for other in ("00_start_here", "02_flatten_and_normalize", "08_what_fit_does"):
        assert lesson_times.slow_factor(calibration, other) == max(own.values())
    # lesson 00 states the same factors in words
    import nbformat

    words = " ".join(
        " ".join(cell.source.split())
        for cell in nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", 4).cells
    )
    assert f"lesson 04 times {own['04_training']:.2f}" in words
    assert f"lesson 07 times {own['07_going_further']:.2f}" in words
    assert f"every other lesson times {max(own.values()):.2f}" in words


def test_each_lesson_header_states_the_measured_run_time_and_memory():
    """Issue #19: every lesson's header (and lesson 00's table) gives the committed one-core
    measurements and the estimate for a slower machine, as benchmarks/lesson_times.py computes
    them; a change to either file without rerunning it fails here."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "lesson_times.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calibration = json.loads(_lesson_times().CALIBRATION.read_text())
    assert _lesson_times().slow_factor(calibration) >= 1.0, "the slower machine is slower"


def test_lessons_05_to_07_state_their_time_and_memory_without_lesson_04s_network():
    """A learner who opens 05, 06 or 07 before 04 waits for lesson 04's training inside it: each
    header says how long that took and how much memory, as benchmarks/results/without-lesson04.json
    measured it (one core, one TensorFlow thread, full MNIST)."""
    import nbformat

    run = json.loads((ROOT / "benchmarks" / "results" / "without-lesson04.json").read_text())
    assert run["data_source"].endswith("mnist-full.npz")
    assert sorted(run["runs"]) == [
        "05_evaluating",
        "06_visualizing_predictions",
        "07_going_further",
    ]
    for book, r in run["runs"].items():
        assert r["status"] == "ok"
        machine = r["metrics"]["machine"]
        assert machine["usable_cores"] == 1 and machine["tf_threads"] == 1, book
        header = " ".join(
            nbformat.read(ROOT / "notebooks" / f"{book}.ipynb", 4).cells[0].source.split()
        )
        said = (
            f"the whole lesson then took {round(r['seconds'])} s and a peak of "
            f"{r['peak_rss_mb'] / 1024:.2f} GB on one core here"
        )
        assert said in header, (book, said)
