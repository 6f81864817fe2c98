"""Attack: bad parameters, given as a hurried instructor or a careless learner would.

Every bad value must be refused with one line naming the parameter, by the runner
before any notebook starts and by each lesson's check cell when papermill is used
directly, before any data is loaded.
"""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys

import nbformat
import papermill as pm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from papermill.exceptions import PapermillExecutionError

from conftest import ROOT
from lessons_lib import params, runner
from lessons_lib.params import ParameterError

NOTEBOOKS = ROOT / "notebooks"

# (lesson, parameter, value as papermill would pass it, text the error must contain)
DIRECT = [
    ("04", "epochs", -1, "epochs must be a positive integer, got -1"),
    ("04", "epochs", 10**9, "epochs must be at most 200"),
    ("04", "batch_size", 0, "batch_size must be a positive integer, got 0"),
    ("04", "learning_rate", float("nan"), "learning_rate must be a finite number"),
    ("04", "learning_rate", float("inf"), "learning_rate must be a finite number"),
    ("05", "learning_rate", "1e999", "learning_rate must be a finite number"),
    ("04", "learning_rate", "fast", "learning_rate must be a number"),
    ("04", "seed", 2**32, "seed must be at most 4,294,967,295"),
    ("04", "hidden_layers", 100000, "hidden_layers must be at most 10"),
    ("02", "experiment_size", 3, "experiment_size must be 0 (all) or at least 100"),
    ("01", "subset", 5, "subset must be 0 (all) or at least 10"),
    ("04", "artifacts_dir", "", "artifacts_dir must name a folder"),
    ("04", "artifacts_dir", "../../elsewhere", "leads outside the project"),
    ("06", "dropout", 1.0, "dropout must be a number from 0 up to (not including) 1"),
    ("05", "validation_fraction", 0, "validation_fraction must be a number in"),
    ("07", "patience", -1, "patience must be a whole number >= 0"),
    ("07", "cnn_epochs", 0, "cnn_epochs must be a positive integer"),
    ("07", "fashion_size", 5, "fashion_size must be 0 (all) or at least 10"),
    ("03", "data_source", "/no/such/mnist.npz", "data_source must be one of auto, keras, sample"),
    ("04", "epochs", True, "epochs must be a positive integer, got True"),
]


def _book(lesson: str):
    return next(NOTEBOOKS.glob(f"{lesson}_*.ipynb"))


@pytest.mark.notebooks
@pytest.mark.parametrize(
    "lesson, name, value, message", DIRECT, ids=[f"{c[0]}-{c[1]}={c[2]!r}"[:40] for c in DIRECT]
)
def test_papermill_direct_fails_at_the_check_cell(tmp_path, lesson, name, value, message):
    out = tmp_path / "out.ipynb"
    with pytest.raises(PapermillExecutionError) as err:
        pm.execute_notebook(
            str(_book(lesson)),
            str(out),
            parameters={name: value},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(ROOT),  # run from the repository root, as an instructor would
        )
    assert err.value.ename == "ParameterError" and message in err.value.evalue
    nb = nbformat.read(out, as_version=4)
    failed = [
        c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    assert len(failed) == 1 and "check_parameters(globals()" in failed[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    after = code[code.index(failed[0]) + 1 :]
    assert all(c.execution_count is None for c in after), "nothing after the check may run"
    assert not (ROOT.parent / "artifacts").exists(), "nothing may be written outside the project"


def test_papermill_cli_prints_one_line_naming_the_parameter(tmp_path):
    """The acceptance command, exactly: papermill notebooks/04_training.ipynb out.ipynb -p epochs -1."""
    papermill = os.path.join(os.path.dirname(sys.executable), "papermill")
    result = subprocess.run(
        [
            papermill,
            "notebooks/04_training.ipynb",
            str(tmp_path / "out.ipynb"),
            "-p",
            "epochs",
            "-1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("ParameterError:")]
    assert lines == ["ParameterError: epochs must be a positive integer, got -1"]
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    ran = [c for c in nb.cells if c.cell_type == "code" and c.execution_count is not None]
    assert "check_parameters" in ran[-1].source, "the check cell is the last one that ran"


def test_check_cell_converts_integers_and_resolves_paths_inside_the_project(monkeypatch):
    for folder in (ROOT, ROOT / "notebooks"):  # the repository root or the notebook's folder
        monkeypatch.chdir(folder)
        ns = {n: params.SPECS[n].default for n in params.lesson_parameters("04")}
        ns["learning_rate"] = 1  # an integer where Keras wants a float
        params.check_parameters(ns, "04")
        assert ns["learning_rate"] == 1.0 and isinstance(ns["learning_rate"], float)
        assert ns["artifacts_dir"] == str(ROOT / "artifacts")


def test_check_cell_names_a_lost_parameter():
    ns = {n: params.SPECS[n].default for n in params.lesson_parameters("05")}
    del ns["epochs"]
    with pytest.raises(ParameterError, match="has lost epochs"):
        params.check_parameters(ns, "05")


# --------------------------------------------------------------------------- the runner


RUNNER_CASES = [
    ({"learning_rate": "1e999"}, "learning_rate must be a finite number"),
    ({"learning_rate": "nan"}, "learning_rate must be a finite number"),
    ({"seed": str(2**32)}, "seed must be at most"),
    ({"hidden_layers": "100000"}, "hidden_layers must be at most 10"),
    ({"experiment_size": "3"}, "experiment_size must be 0 (all) or at least 100"),
    ({"artifacts_dir": ""}, "artifacts_dir must name a folder"),
    ({"artifacts_dir": "artifacts"}, "is the learner's own model folder"),
    ({"artifacts_dir": str(ROOT / "artifacts")}, "is the learner's own model folder"),
    ({"epochs": "1000000000", "patience": "0"}, "epochs must be at most 200"),
]


@pytest.mark.parametrize("raw, message", RUNNER_CASES, ids=[str(c[0])[:40] for c in RUNNER_CASES])
def test_runner_refuses_before_any_notebook(tmp_path, raw, message):
    lines = []
    code = runner.run(raw, out=tmp_path / "out", echo=lambda *a, **k: lines.append(str(a[0])))
    assert code == 2 and any(message in ln for ln in lines), lines
    assert not (tmp_path / "out").exists()


def test_runner_only_comma_runs_nothing_and_says_so(tmp_path):
    lines = []
    assert runner.run({}, only=",", out=tmp_path, echo=lambda *a, **k: lines.append(a[0])) == 2
    assert "names no lesson" in lines[0]


def test_summary_survives_a_non_number():
    outcome = runner.Outcome(
        "05_evaluating", "ok", 1.0, 1.0, "x", {"test_accuracy": None, "test_loss": "nan"}
    )
    text = runner.summary_table([outcome])
    assert "None (not a number)" in text


YAML_CASES = [
    (b"3: 4\n", "parameter names must be text"),
    (b"epochs: 3\n\xff\xfe\n", "is not UTF-8 text"),
    (b"learning_rate: .nan\n", "learning_rate must be a finite number"),
    (b"epochs: [1, 2\n", "is not valid YAML"),
    (b"- 1\n- 2\n", "must map names to values"),
    (
        b'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        b"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        b"epochs: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
        "epochs must be a positive integer, got a list of 9 items",
    ),
]


@pytest.mark.parametrize("content, message", YAML_CASES, ids=range(len(YAML_CASES)))
def test_yaml_file_attacks_give_one_line(tmp_path, content, message):
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problems = []
    try:
        raw = runner.load_yaml_params(path)
        runner.prepare_run(raw, only=None, fast=False)
    except ParameterError as exc:
        problems = exc.problems
    assert any(message in p for p in problems), problems
    assert all(len(p) < 400 for p in problems)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"a YAML file grew memory by {grown_mb:.0f} MB"


def test_yaml_folder_and_huge_file(tmp_path):
    with pytest.raises(ParameterError, match="is a folder"):
        runner.load_yaml_params(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * 200_000 + b"\n")
    with pytest.raises(ParameterError, match="a parameter file is a few lines"):
        runner.load_yaml_params(big)


# --------------------------------------------------------------------------- fuzzing

ANY_VALUE = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(params.SPECS)), value=ANY_VALUE)
def test_fuzz_every_value_is_accepted_in_range_or_refused_in_one_line(name, value):
    try:
        clean = params.validate({name: value})[name]
    except ParameterError as exc:
        assert len(exc.problems) == 1 and name in exc.problems[0] and len(exc.problems[0]) < 400
        return
    spec = params.SPECS[name]
    if spec.kind == "int":
        assert isinstance(clean, int) and (
            clean == 0 and spec.zero_ok or spec.low <= clean <= spec.high
        )
    elif spec.kind == "float":
        assert isinstance(clean, float) and math.isfinite(clean) and spec.low <= clean <= spec.high
    elif spec.kind == "folder":
        assert os.path.isabs(clean)
    else:
        assert clean in ("auto", "keras", "sample", "skip") or os.path.exists(clean)
