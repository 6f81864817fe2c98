"""The headless runner: parameter validation, the whole series in --fast mode, sweeps, the book."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT
from lessons_lib import checks, models, runner
from lessons_lib.book import build_book


def cli(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "lessons_lib", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("epochs", "-1", "epochs must be a positive integer, got -1"),
        ("epochs", "0", "epochs must be a positive integer, got 0"),
        ("epochs", "two", "epochs must be a positive integer, got 'two'"),
        ("epochs", "2.5", "epochs must be a positive integer, got 2.5"),
        ("hidden_units", "0", "hidden_units must be a positive integer, got 0"),
        ("learning_rate", "0", "learning_rate must be a number > 0, got 0"),
        ("learning_rate", "-0.1", "learning_rate must be a number > 0, got -0.1"),
        ("dropout", "1", "dropout must be a number from 0 up to (not including) 1"),
        (
            "data_source",
            "mnist-cloud",
            "data_source must be one of auto, keras, sample or an existing path",
        ),
        ("data_source", "/no/such/mnist.npz", "got '/no/such/mnist.npz'"),
        ("subset", "5", "subset must be 0 (all) or at least 10"),
        ("epochz", "3", "unknown parameter 'epochz' (did you mean epochs, cnn_epochs?)"),
    ],
)
def test_bad_parameter_is_rejected_before_any_notebook_starts(tmp_path, name, value, message):
    lines = []
    code = runner.run(
        {name: value},
        out=tmp_path / "out",
        echo=lambda *a, **k: lines.append(" ".join(map(str, a))),
    )
    assert code == 2
    assert lines == [f"error: {lines[0][7:]}"] and message in lines[0]
    assert not (tmp_path / "out").exists(), "no notebook may start"


def test_every_problem_is_listed_at_once(tmp_path):
    lines = []
    code = runner.run(
        {"epochs": "-1", "learning_rate": "0", "foo": "1"},
        out=tmp_path,
        echo=lambda *a, **k: lines.append(a[0]),
    )
    assert code == 2 and len(lines) == 3


def test_cli_rejects_negative_epochs_with_exit_code_2():
    result = cli("run", "-p", "epochs", "-1")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: epochs must be a positive integer, got -1"
    assert "running" not in result.stdout


def test_cli_yaml_file_and_only(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("epochs: 0\nhidden_units: 32\n")
    result = cli("run", "-f", str(bad))
    assert result.returncode == 2 and "epochs must be a positive integer, got 0" in result.stderr
    result = cli("run", "--only", "04,42")
    assert result.returncode == 2 and "no lesson numbered 42" in result.stderr


def test_params_lists_every_parameter_with_type_default_and_meaning():
    result = cli("params")
    assert result.returncode == 0
    for book in runner.lesson_notebooks():
        for name, param in runner.notebook_parameters(book).items():
            line = next(ln for ln in result.stdout.splitlines() if ln.startswith(name + " "))
            assert param.type_name in line and repr(param.default) in line and param.help in line
            assert param.help, f"{book.name}: parameter {name} has no comment saying what it means"


def test_fill_solutions_replaces_exactly_the_exercise_lines():
    nb = nbformat.read(ROOT / "notebooks" / "02_flatten_and_normalize.ipynb", as_version=4)
    before = [c.source for c in nb.cells]
    assert runner.fill_solutions(nb) == 2
    changed = [i for i, c in enumerate(nb.cells) if c.source != before[i]]
    assert len(changed) == 2
    for i in changed:
        assert "YOUR CODE HERE" not in nb.cells[i].source
        assert (
            nb.cells[i].source.splitlines()[-1] == before[i].splitlines()[-1]
        )  # the check call stays


# --------------------------------------------------------------------------- the whole series


# fast_run (tests/conftest.py): the whole series, --fast, every exercise filled with its solution


@pytest.mark.notebooks
def test_fast_run_succeeds_with_a_summary(fast_run):
    out, result = fast_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    books = runner.lesson_notebooks()
    for i, book in enumerate(books, 1):
        assert f"[{i}/{len(books)}] {book.stem}: ok in" in result.stdout
    assert "test accuracy" in result.stdout and "reference     97.50%" in result.stdout
    for book in books:
        executed = nbformat.read(out / "notebooks" / book.name, as_version=4)
        assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")


@pytest.mark.notebooks
def test_fast_run_metrics_json(fast_run):
    out, _ = fast_run
    m = json.loads((out / "metrics.json").read_text())
    assert m["schema"] == runner.SCHEMA_VERSION
    assert m["parameters"]["data_source"] == "sample" and m["parameters"]["epochs"] == 1
    nbs = m["notebooks"]
    assert sorted(nbs) == [b.stem for b in runner.lesson_notebooks()]
    assert all(
        v["status"] == "ok" and v["seconds"] > 0 and v["peak_rss_mb"] > 50 for v in nbs.values()
    )
    assert nbs["01_loading_the_data"]["metrics"]["n_train"] == 4000
    assert nbs["01_loading_the_data"]["metrics"]["class_counts"] == [400] * 10
    two = nbs["02_flatten_and_normalize"]["metrics"]
    assert two["inline_matches_library"] is True and two["flat_shape"] == [4000, 784]
    assert (two["norm_min"], two["norm_max"]) == (-1.0, 1.0)
    three = nbs["03_building_the_model"]["metrics"]
    assert three["architecture"] == three["library_architecture"], (
        "lesson 03's model = models.dense_model"
    )
    assert (
        three["param_count"]
        == three["by_hand"]
        == models.dense_param_count(models.DENSE_DEFAULTS["hidden_units"], 2)
    )
    assert 2.0 < three["untrained_loss"] < 2.8
    four = nbs["04_training"]["metrics"]
    assert four["epochs_run"] == 1 and four["reload_ok"] is True
    assert (out / "artifacts" / "dense_model.keras").is_file()
    five = nbs["05_evaluating"]["metrics"]
    assert "Loaded lesson 04's network from" in five["model_source"]
    assert 0.5 < five["test_accuracy"] <= 1 and five["n_test"] == 1000
    assert five["errors"] == round((1 - five["test_accuracy"]) * 1000)
    assert m["headline"]["test_accuracy"] == five["test_accuracy"]
    assert m["headline"]["reference"]["test_accuracy"] == 0.975
    six = nbs["06_visualizing_predictions"]["metrics"]
    assert six["misclassified"] == five["errors"] and six["explorer_update_ms"] > 0
    eight = nbs["08_what_fit_does"]["metrics"]
    assert eight["step_matches_keras"] is True and eight["hand_accuracy"] > 0.75
    assert 2.0 < eight["batch_loss"] < 2.6, "random weights: about ln 10"
    seven = nbs["07_going_further"]["metrics"]
    assert 0.1 < seven["cnn_test_accuracy"] <= 1 and seven["fashion_data"] == "skipped"


@pytest.mark.notebooks
def test_every_worked_solution_passes_its_check(fast_run):
    out, _ = fast_run
    progress = json.loads((out / "progress.json").read_text())
    expected = {f"{lesson}.{key}" for lesson, items in checks.EXERCISES.items() for key, _ in items}
    assert set(progress) == expected
    failing = [k for k, v in progress.items() if not v]
    assert not failing, f"worked solutions that fail their check: {failing}"


@pytest.mark.notebooks
def test_book_links_every_lesson_and_works_offline(fast_run, tmp_path):
    out, _ = fast_run
    index = build_book(out / "notebooks", tmp_path / "book")
    text = index.read_text()
    for book in runner.lesson_notebooks():
        page = tmp_path / "book" / f"{book.stem}.html"
        assert f"href='{page.name}'" in text and page.is_file()
        html = page.read_text()
        assert "href='index.html'" in html
        assert 'src="http' not in html and "cdnjs" not in html, f"{page.name} needs the network"
        assert "<script" not in html.lower() and "script-src 'none'" in html
        assert str(ROOT) not in html and str(out) not in html, "no local absolute paths"
        source = book.read_text()
        if "plots." in source:  # lessons with figures embed them as images
            assert "<img" in html, f"{page.name} shows no figure"


def test_book_without_executed_notebooks_says_what_to_do(tmp_path):
    result = cli("book", "--src", str(tmp_path), "--out", str(tmp_path / "b"))
    assert result.returncode == 2 and "make run" in result.stderr


@pytest.mark.notebooks
def test_sweep_over_two_tiny_configurations(tmp_path):
    result = cli(
        "sweep",
        "04",
        "-p",
        "hidden_units",
        "16,32",
        "--fast",
        "--jobs",
        "2",
        "--out",
        str(tmp_path),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = json.loads((tmp_path / "sweep.json").read_text())
    assert [r["hidden_units"] for r in rows] == [16, 32]
    assert all(
        r["status"] == "ok" and 0 < r["val_accuracy"] <= 1 and r["train_seconds"] > 0 for r in rows
    )
    assert (tmp_path / "sweep.png").stat().st_size > 5000
    table = (tmp_path / "sweep.md").read_text()
    assert table.count("\n| 16 |") == 1 and table.count("\n| 32 |") == 1
    for r in rows:
        assert (tmp_path / f"04_training-hidden_units={r['hidden_units']}.ipynb").is_file()


def test_sweep_rejects_a_bad_value_before_running(tmp_path):
    result = cli("sweep", "04", "-p", "hidden_units", "64,-8", "--out", str(tmp_path))
    assert (
        result.returncode == 2
        and "hidden_units must be a positive integer, got -8" in result.stderr
    )
    assert not any(tmp_path.iterdir())


def test_relative_paths_are_made_absolute_for_the_kernels(tmp_path, monkeypatch):
    data = tmp_path / "m.npz"
    data.write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    known = runner.all_parameters(runner.select("01"))
    assert runner.validate({"data_source": "m.npz"}, known)["data_source"] == str(data)
    monkeypatch.setenv("MNIST_PATH", "m.npz")
    runner.validate({}, known)
    assert runner.os.environ["MNIST_PATH"] == str(data)


def test_missing_mnist_path_is_rejected_before_running(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "nope.npz"))
    lines = []
    assert runner.run({}, out=tmp_path / "out", echo=lambda *a, **k: lines.append(a[0])) == 2
    assert "MNIST_PATH=" in lines[0] and "does not exist" in lines[0]
    assert not (tmp_path / "out").exists()


def tiny_lesson(tmp_path, name: str, *cells: str):
    """A folder holding one lesson: a parameters cell (seed) and then ``cells``."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell("seed = 42  # random seed")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def test_a_failing_notebook_gives_exit_1_the_cell_its_error_and_the_path(tmp_path):
    folder = tiny_lesson(
        tmp_path, "01_broken", "x = 1", "raise ValueError('the data is not what I expected')"
    )
    lines = []
    code = runner.run(
        {},
        out=tmp_path / "out",
        folder=folder,
        echo=lambda *a, **k: lines.append(" ".join(map(str, a))),
    )
    text = "\n".join(lines)
    assert code == 1
    assert "01_broken: failed" in text
    assert "ValueError: the data is not what I expected" in text
    assert f"executed notebook: {tmp_path / 'out' / 'notebooks' / '01_broken.ipynb'}" in text
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["notebooks"]["01_broken"]["status"] == "failed" and saved["headline"] is None


@pytest.mark.notebooks
def test_lesson_04_draws_its_curves_while_it_trains(fast_run):
    """The fit cell itself shows the learning-curve figure (updated each epoch), headless too."""
    out, _ = fast_run
    nb = nbformat.read(out / "notebooks" / "04_training.ipynb", as_version=4)
    fit = next(c for c in nb.cells if c.cell_type == "code" and "live_curves(epochs)" in c.source)
    images = [o for o in fit.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1, "one figure, redrawn in place"
    import base64
    import io

    from PIL import Image

    png = Image.open(io.BytesIO(base64.b64decode(images[0]["data"]["image/png"])))
    assert png.width > 600 and png.height > 200, "the two-panel curves figure"


@pytest.mark.notebooks
def test_the_check_cell_is_silent_when_the_parameters_are_good(fast_run):
    out, _ = fast_run
    for book in runner.lesson_notebooks():
        nb = nbformat.read(out / "notebooks" / book.name, as_version=4)
        cell = next(c for c in nb.cells if "check_parameters(globals()" in c.source)
        assert cell.execution_count is not None and cell.outputs == [], book.name


def test_a_notebook_past_its_time_limit_is_stopped_and_nothing_else_is(tmp_path):
    folder = tiny_lesson(tmp_path, "01_endless", "import time\ntime.sleep(120)")
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lines = []
        code = runner.run(
            {},
            out=tmp_path / "out",
            folder=folder,
            time_limit=5,
            echo=lambda *a, **k: lines.append(" ".join(map(str, a))),
        )
        assert code == 1 and "stopped after 5 s, the time limit per notebook" in "\n".join(lines)
        assert bystander.poll() is None, "only the notebook's own kernel is stopped"
    finally:
        bystander.kill()


def test_sweep_kernels_share_the_cores_and_the_caps_are_recorded(tmp_path, monkeypatch):
    """One TensorFlow thread pool per core per kernel would oversubscribe: each of the
    parallel kernels gets cores // workers threads, and the table says so."""
    for name in runner.sweeps.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    folder = tiny_lesson(
        tmp_path,
        "01_threads",
        "import os\nfrom lessons_lib import metrics\n"
        "metrics.record(val_accuracy=0.5, **{n: os.environ.get(n) for n in "
        "('TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS', 'OMP_NUM_THREADS')})",
    )
    lines = []
    code = runner.sweep(
        "01",
        {"seed": "1,2"},
        jobs="2",
        out=tmp_path / "out",
        folder=folder,
        echo=lambda *a, **k: lines.append(" ".join(map(str, a))),
    )
    assert code == 0, lines
    share = str(max(1, runner.sweeps.usable_cores() // 2))
    caps = {name: share for name in runner.sweeps.THREAD_VARIABLES}
    rows = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert [r["seed"] for r in rows] == [1, 2]
    for row in rows:
        assert row["threads"] == {
            "parallel_kernels": 2,
            "cores": runner.sweeps.usable_cores(),
            "where": "this machine",
            **caps,
        }
        executed = nbformat.read(row["output"], as_version=4)
        from lessons_lib.metrics import read_recorded

        recorded = read_recorded(executed)
        assert {n: recorded[n] for n in caps} == caps, "the kernel itself saw the caps"
    assert (
        f"each kernel: TF_NUM_INTRAOP_THREADS={share}"
        in (tmp_path / "out" / "sweep.md").read_text()
    )
    assert runner.thread_caps(4, cores=2) == {n: "1" for n in caps}, "never fewer than one"
    assert runner.thread_caps(1, cores=8) == {n: "8" for n in caps}


def test_one_configuration_runs_through_the_seam_another_executor_would_use(tmp_path):
    folder = tiny_lesson(
        tmp_path, "01_seam", "from lessons_lib import metrics\nmetrics.record(x=seed)"
    )
    config = runner.Configuration(
        str(folder / "01_seam.ipynb"),
        str(tmp_path / "out" / "01_seam-seed=7.ipynb"),
        {"seed": 7},
        {"TF_NUM_INTRAOP_THREADS": "1"},
        time_limit=120,
    )
    import pickle

    outcome = runner.run_configuration(pickle.loads(pickle.dumps(config)))
    assert outcome.status == "ok" and outcome.metrics["x"] == 7


@pytest.mark.notebooks
def test_no_lesson_shows_a_tensorflow_log_line_or_an_overshooting_bar(fast_run):
    """Every output of every executed lesson: no line from TensorFlow's C++ or absl logging
    (issue #15: E0000 ... use_unbounded_threadpool, absl::InitializeLog, cpu_feature_guard),
    and no progress bar past its total (the "160/141" of steps_per_execution)."""
    import re

    from lessons_lib import nativelog

    noise = re.compile(
        rb"(?m)^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]|absl::InitializeLog|"
        rb"cpu_feature_guard|oneDNN custom operations|^WARNING:absl:"
    )
    bar = re.compile(r"(\d+)/(\d+)\x1b\[0m \x1b\[32m")
    out, _ = fast_run
    scanned = 0
    for book in runner.lesson_notebooks():
        nb = nbformat.read(out / "notebooks" / book.name, as_version=4)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                text = output.get("text", "") + "\n".join(output.get("traceback", []))
                scanned += 1
                found = noise.search(text.encode())
                assert not found, f"{book.name}: {text[:300]}"
                assert not nativelog.LOG_LINE.search(text.encode())
                for done, total in bar.findall(text):
                    assert int(done) <= int(total), f"{book.name}: a bar reads {done}/{total}"
    assert scanned > 50
