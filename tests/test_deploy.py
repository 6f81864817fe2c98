"""deploy/: the hub values and the sizing guide follow from the measured hub load test."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml

from conftest import ROOT

RESULTS = ROOT / "benchmarks" / "results" / "hub-load.json"
SCRIPT = ROOT / "deploy" / "size_class.py"


def _check(results) -> int:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--results", str(results)],
        capture_output=True,
        text=True,
    ).returncode


def test_the_measurement_covers_a_class_of_one_to_eight_and_found_no_fault():
    report = json.loads(RESULTS.read_text())
    assert [r["learners"] for r in report["runs"]] == [1, 2, 4, 8]
    assert report["command"].startswith("python") and "hub_load.py" in report["command"]
    assert {"model", "cores", "avx512"} <= set(report["cpu"])
    for run in report["runs"]:
        assert run["failures"] == [] and run["isolation_problems"] == [], run["learners"]
        assert len(run["lesson_04_s"]) == run["learners"]
        assert run["kernel_peak_mb_max"] and run["server_peak_mb_max"]


def test_values_and_guide_are_what_the_figures_give(tmp_path):
    assert _check(RESULTS) == 0, "deploy/ is out of date: python deploy/size_class.py"
    changed = json.loads(RESULTS.read_text())
    changed["runs"][-1]["kernel_peak_mb_max"] += 512  # a different measurement ...
    bumped = tmp_path / "hub-load.json"
    bumped.write_text(json.dumps(changed))
    assert _check(bumped) == 1  # ... must show up in the files


def test_values_have_the_shape_the_chart_reads():
    values = yaml.safe_load((ROOT / "deploy" / "z2jh-values.yaml").read_text())
    single = values["singleuser"]
    guarantee = float(single["memory"]["guarantee"].rstrip("G"))
    limit = float(single["memory"]["limit"].rstrip("G"))
    assert 0 < guarantee <= limit <= 4
    assert 0 < single["cpu"]["guarantee"] <= single["cpu"]["limit"]
    assert single["extraEnv"]["MNIST_PATH"].startswith("/srv/mnist/")
    mount = single["storage"]["extraVolumeMounts"][0]
    assert mount["readOnly"] is True and single["extraEnv"]["MNIST_PATH"].startswith(
        mount["mountPath"]
    )
    assert single["storage"]["extraVolumes"][0]["persistentVolumeClaim"]["readOnly"] is True
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    report = json.loads(RESULTS.read_text())
    peak = max(r["kernel_peak_mb_max"] + r["server_peak_mb_max"] for r in report["runs"]) / 1024
    assert guarantee >= peak, "the guarantee must hold the measured peak"


def test_readme_quotes_the_hub_figures():
    readme = (ROOT / "README.md").read_text()
    report = json.loads(RESULTS.read_text())
    for run in report["runs"]:
        row = re.search(rf"^\| {run['learners']} \| ([^\n]*)$", readme, re.M)
        assert row, f"README has no hub row for {run['learners']} learner(s)"
        cells = [c.strip().strip("*") for c in row.group(1).split("|")]
        assert cells[0] == f"{run['lesson_04_s_median']:.1f}"
        assert cells[1] == f"{run['kernel_peak_mb_max'] / 1024:.2f}"
        assert cells[2] == f"{run['slider_ms_median']:.0f} / {run['slider_ms_p95']:.0f}"
        assert cells[3] == str(len(run["failures"]))
