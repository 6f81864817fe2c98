"""Attack: bad parameters, given as a hurried instructor or a careless learner would.

Every bad value must be refused with one line naming the parameter, by the runner
before any notebook starts and by each lesson's check cell when papermill is used
directly, before any data is loaded.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
from pathlib import Path

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
    (b"3: 4\n", "unknown parameter '3'"),
    (b"? [a, b]\n: 4\n", "parameter names must be text"),
    (b"epochs: 1:30\n", "epochs must be a positive integer, got '1:30'"),  # not 90 (base 60)
    (b"epochs: 0x10\n", "epochs must be a positive integer, got '0x10'"),  # not 16
    (b"seed: 0o17\n", "seed must be a positive integer, got '0o17'"),  # not 15
    (b"epochs: no\n", "epochs must be a positive integer, got 'no'"),  # not False
    (b"epochs: ~\n", "epochs must be a positive integer, got '~'"),  # not None
    (b"epochs: 3\nseed: 1\nepochs: 5\n", "'epochs' is given twice (line 3); keep one"),
    (b"epochs: 3\n\xff\xfe\n", "is not UTF-8 text"),
    (b"learning_rate: .nan\n", "learning_rate must be a number in [1e-06, 1], got '.nan'"),
    (b"learning_rate: nan\n", "learning_rate must be a finite number"),
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


# --------------------------------------------------------------------------- YAML reads as -p does


def test_yaml_keeps_leading_zeros_as_written():
    """YAML 1.1 reads 017 as 15 (octal); the runner reads it as -p does: 17."""
    for text, expected in [("017", 17), ("1_000", None), ("18", 18), ("0.002", None)]:
        raw = runner.load_yaml_params_text(f"epochs: {text}\n")
        assert raw == {"epochs": text}, "every scalar arrives as the text written"
        if expected is not None:
            assert params.validate(raw)["epochs"] == expected


NUMBERISH = st.text(alphabet="0123456789+-._:eExXoObB", min_size=1, max_size=12)
WORDS = st.sampled_from(
    ["yes", "no", "on", "off", "true", "False", "null", "~", ".nan", ".inf", "-.inf", "NaN"]
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["epochs", "seed", "learning_rate", "subset"]),
    text=st.one_of(NUMBERISH, WORDS),
)
def test_fuzz_a_yaml_value_means_what_the_same_text_means_after_p(name, text):
    """The whole class: no YAML 1.1 reading (octal, base 60, booleans, null) can reach the schema."""
    import yaml

    try:
        raw = runner.load_yaml_params_text(f"{name}: {text}\n")
    except ParameterError as exc:  # only what YAML itself cannot parse as a plain scalar
        assert len(exc.problems) == 1 and "not valid YAML" in exc.problems[0]
        with pytest.raises(yaml.YAMLError):
            yaml.safe_load(f"{name}: {text}\n")
        return
    assert raw == {name: text}
    from_yaml = from_p = None
    try:
        from_yaml = params.validate(raw)
    except ParameterError as exc:
        from_yaml = exc.problems
    try:
        from_p = params.validate(runner.command_line([(name, text)]))
    except ParameterError as exc:
        from_p = exc.problems
    assert from_yaml == from_p


# --------------------------------------------------------------------------- the command line


def main_(*argv):
    """python -m lessons_lib ARGV in this process: (exit code, stdout, stderr)."""
    import contextlib
    import io

    from lessons_lib.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


LONG = "x" * 300  # one path component longer than any file system allows (255)
CLI_CASES = [
    (["run", "--time-limit", "-5"], "--time-limit must be a number of seconds above 0"),
    (["run", "--time-limit", "nan"], "--time-limit must be a number of seconds above 0"),
    (["run", "--time-limit", "0"], "--time-limit must be a number of seconds above 0"),
    (["run", "--time-limit", "inf"], "--time-limit must be a number of seconds above 0"),
    (["run", "--time-limit", "1e999"], "--time-limit must be a number of seconds above 0"),
    (["run", "--time-limit=-inf"], "--time-limit must be a number of seconds above 0"),
    (["run", "--time-limit", "soon"], "got 'soon'"),
    (["run", "--time-limit", ""], "got ''"),
    (["run", "--time-limit", "1e9"], "at most 604,800 (a week)"),
    (
        ["sweep", "04", "-p", "epochs", "1", "--jobs", "0"],
        "--jobs must be a whole number from 1 to 64",
    ),
    (["sweep", "04", "-p", "epochs", "1", "--jobs", "-3"], "--jobs must be a whole number"),
    (["sweep", "04", "-p", "epochs", "1", "--jobs", "two"], "got 'two'"),
    (["sweep", "04", "-p", "epochs", "1", "--time-limit", "nan"], "--time-limit must be"),
    (["run", "-p", "epochs", "3", "-p", "epochs", "5"], "-p 'epochs' is given twice ('3' and '5')"),
    (["run", "-p", "data_source", f"/tmp/{LONG}.npz"], "cannot be used as a path: File name too"),
    (["run", "-p", "data_source", f"{LONG}/{LONG}"], "cannot be used as a path: File name too"),
    (
        ["run", "-p", "artifacts_dir", f"build/{LONG}"],
        "cannot be used as a path: File name too long",
    ),
    (["run", "-f", f"/tmp/{LONG}.yaml"], "cannot be read: File name too long"),
    (["run", "--out", f"build/{LONG}"], "cannot be used: File name too long"),
    (["run", "--out", "/" + "/".join([LONG[:200]] * 25)], "cannot be used: File name too long"),
    (["sweep", "04", "-p", "epochs", "1", "--out", f"build/{LONG}"], "File name too long"),
    (["book", "--src", f"/tmp/{LONG}"], "--src"),
]


@pytest.mark.parametrize("argv, message", CLI_CASES, ids=[" ".join(c[0])[:40] for c in CLI_CASES])
def test_command_line_attack_gives_one_clear_line_and_exit_2(argv, message, monkeypatch):
    def no_notebook(*args, **kwargs):
        raise AssertionError(f"a notebook started for {argv}")

    monkeypatch.setattr(runner.series, "execute", no_notebook)
    monkeypatch.setattr(runner.sweeps, "execute", no_notebook)
    code, out, err = main_(*argv)
    lines = err.strip().splitlines()
    assert code == 2, (out, err)
    assert lines and all(ln.startswith("error: ") and len(ln) < 600 for ln in lines), err
    assert any(message in ln for ln in lines), err
    assert "Traceback" not in err + out and "Running" not in out and "Sweeping" not in out


def test_long_paths_from_a_real_shell_give_no_traceback():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lessons_lib",
            "run",
            "--out",
            f"build/{LONG}",
            "--time-limit",
            "-5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2, "both problems, one line each"


def test_no_limit_only_when_asked_for_by_name():
    assert runner.check_time_limit("none") == (None, None)
    assert runner.check_time_limit(None) == (None, None)
    assert runner.check_time_limit("90") == (90.0, None)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.text(max_size=20),
        st.booleans(),
    )
)
def test_fuzz_time_limit_is_a_real_limit_or_refused(value):
    for given_value in (value, str(value)):
        limit, problem = runner.check_time_limit(given_value)
        if problem is None:
            assert (
                limit is None
                and str(given_value).strip().lower() == "none"
                or (
                    isinstance(limit, float) and math.isfinite(limit) and 0 < limit <= 7 * 24 * 3600
                )
            )
        else:
            assert limit is None and problem.startswith("--time-limit must") and len(problem) < 300


def test_a_parameters_cell_with_a_syntax_error_or_a_cut_file_is_named(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("seed = 42\nepochs = (3\n")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, folder / "01_broken.ipynb")
    lines = []
    code = runner.run(
        {}, folder=folder, out=tmp_path / "out", echo=lambda *a, **k: lines.append(a[0])
    )
    assert code == 2 and not (tmp_path / "out").exists()
    assert lines == [
        "error: 01_broken.ipynb: its parameters cell is not valid Python at line 2 "
        "('(' was never closed); restore it with `git checkout -- 01_broken.ipynb`, "
        "or fix it in JupyterLab"
    ]
    text = (folder / "01_broken.ipynb").read_text()
    (folder / "01_broken.ipynb").write_text(text[: len(text) // 2])
    lines.clear()
    code = runner.run(
        {}, folder=folder, out=tmp_path / "out", echo=lambda *a, **k: lines.append(a[0])
    )
    assert (
        code == 2 and len(lines) == 1 and "01_broken.ipynb is not a readable notebook" in lines[0]
    )
    assert "cut short or not JSON" in lines[0]


# --------------------------------------------------------------------------- --out


TINY_SOLUTION = (
    "Exercise.\n\n<details><summary>Show a worked solution</summary>\n\n"
    "```python\nanswer = 42\n```\n\n</details>"
)


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A learner's project: one lesson answered by the learner, their progress and model,
    links to its folders, a home folder with files, and an unrelated folder with files."""
    proj = tmp_path / "proj"
    (proj / "lessons_lib").mkdir(parents=True)
    (proj / "pyproject.toml").write_text("[project]\nname = 'course'\n")
    (proj / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params_cell = nbformat.v4.new_code_cell("seed = 42  # random seed")
    params_cell.metadata["tags"] = ["parameters"]
    nb.cells = [
        params_cell,
        nbformat.v4.new_code_cell(
            f"{runner.START}\nanswer = 41  # the learner's own answer\n{runner.END}\n"
            "from lessons_lib import progress\nprogress.record('01.x', answer == 42)"
        ),
        nbformat.v4.new_markdown_cell(TINY_SOLUTION),
    ]
    nbformat.write(nb, proj / "notebooks" / "01_tiny.ipynb")
    (proj / "artifacts").mkdir()
    (proj / "artifacts" / "progress.json").write_text('{"00.pixels": true}')
    (proj / "artifacts" / "dense_model.keras").write_bytes(b"the learner's model")
    (proj / "stuff").mkdir()
    (proj / "stuff" / "notes.txt").write_text("mine")
    (proj / "empty").mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("# mine")
    for name, to in [
        ("link_nb", proj / "notebooks"),
        ("link_root", proj),
        ("link_art", proj / "artifacts"),
        ("link_home", home),
    ]:
        (proj / name).symlink_to(to, target_is_directory=True)
    monkeypatch.setenv("HOME", str(home))
    tools = tmp_path / "tools"  # what Jupyter, IPython and matplotlib keep under a home folder
    tools.mkdir()
    for name in (
        "IPYTHONDIR",
        "MPLCONFIGDIR",
        "JUPYTER_RUNTIME_DIR",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
    ):
        monkeypatch.setenv(name, str(tools / name.lower()))
    monkeypatch.delenv(
        "LESSONS_PROGRESS"
    )  # the learner's progress: <project>/artifacts/progress.json
    monkeypatch.chdir(proj)
    return proj, home


def _snapshot(proj, home):
    """Every byte of what the learner owns: source notebooks, artifacts, home, other files."""
    files = {}
    for top in (proj / "notebooks", proj / "artifacts", proj / "stuff", home):
        for path in sorted(top.rglob("*")):
            files[str(path)] = path.read_bytes() if path.is_file() else b"<folder>"
    files["pyproject"] = (proj / "pyproject.toml").read_bytes()
    return files


def _run(proj, out):
    lines = []
    code = runner.run(
        {},
        folder=proj / "notebooks",
        out=out,
        solutions=True,
        echo=lambda *a, **k: lines.append(" ".join(map(str, a))),
    )
    return code, lines


DANGEROUS_OUT = [
    ".", "notebooks", "notebooks/..", "notebooks/.", "./notebooks/../notebooks", "artifacts",
    "artifacts/run", "notebooks/run", "link_nb", "link_root", "link_art", "link_nb/..",
    "link_art/run", "link_home", "~", "~/", "~/..", "..", "/", "stuff", "stuff/..",
    "pyproject.toml", "notebooks/01_tiny.ipynb", "artifacts/progress.json",
]  # fmt: skip


@pytest.mark.notebooks
def test_no_out_overwrites_a_source_notebook_or_the_learners_progress(course):
    """#16.2: every dangerous --out is refused before any notebook starts; the safe ones run
    the lesson with its worked solution filled in, and only the run's own files change."""
    proj, home = course
    before = _snapshot(proj, home)
    for out in DANGEROUS_OUT + [str(proj), str(home), str(proj.parent)]:
        code, lines = _run(proj, out)
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: --out"), (out, lines)
        assert _snapshot(proj, home) == before, out
    # the safe places: a new folder, an empty one, and the same run folder again
    for out in ["build/run-a", "empty", "build/run-a"]:
        code, lines = _run(proj, out)
        assert code == 0, (out, lines)
        assert json.loads((proj / out / "progress.json").read_text()) == {"01.x": True}
        assert "answer = 42" in (proj / out / "notebooks" / "01_tiny.ipynb").read_text()
        assert _snapshot(proj, home) == before, out
    # an old run folder with a link back to the source, or a second name for it
    executed = proj / "build" / "run-a" / "notebooks" / "01_tiny.ipynb"
    for make_link in (os.symlink, os.link):
        executed.unlink()
        make_link(proj / "notebooks" / "01_tiny.ipynb", executed)
        code, lines = _run(proj, "build/run-a")
        assert code == 2 and ("symbolic link" in lines[0] or "hard link" in lines[0]), lines
        assert _snapshot(proj, home) == before


def _fake_papermill(nb, output, **kwargs):
    """papermill without a kernel: write the notebook the naive way and record a pass."""
    from lessons_lib import progress

    with open(output, "w") as fh:  # follows any link, as a careless writer would
        nbformat.write(nb, fh)
    progress.record("01.x", True)


TOKENS = [
    ".", "..", "notebooks", "artifacts", "link_nb", "link_root", "link_art", "link_home",
    "stuff", "empty", "build", "new", "01_tiny.ipynb", "progress.json",
]  # fmt: skip


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.sampled_from(["", "~/", "ABS/", "ABS/proj/"]),
    parts=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4),
)
def test_fuzz_out_never_writes_what_the_learner_owns(course, monkeypatch, start, parts):
    import papermill

    proj, home = course
    monkeypatch.setattr(papermill, "execute_notebook", _fake_papermill)
    out = start.replace("ABS", str(proj.parent)) + "/".join(parts)
    before = _snapshot(proj, home)
    code, lines = _run(proj, out)
    after = _snapshot(proj, home)
    target = Path(out).expanduser().resolve()
    kept = {k: v for k, v in before.items() if not Path(k).is_relative_to(target)}
    assert {k: after.get(k) for k in kept} == kept, (out, lines)  # a run may rewrite only its own
    for new in set(after) - set(before):  # only the run folder, and the folders leading to it
        assert Path(new).is_relative_to(target) or target.is_relative_to(new), (out, new)
    if code == 0:
        assert json.loads((target / "progress.json").read_text()) == {"01.x": True}
        assert not target.is_relative_to(proj / "notebooks")
        assert not target.is_relative_to(proj / "artifacts")
        assert not (proj / "notebooks").is_relative_to(target)
    else:
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: --out"), lines
