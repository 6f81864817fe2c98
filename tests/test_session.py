"""The kernel hook (lessons_lib.session): quiet TensorFlow logs, one-line answers after a
restart, an out-of-order cell or an interrupt; the progress bar's step count; fresh starts."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, build_wheel
from lessons_lib import fitstate, models, nativelog, runner, session, training

# Lines TensorFlow 2.21 wrote into the lessons before this change (from executed notebooks).
NOISE = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"I0000 00:00:1796319245.544524   12575 port.cc:153] oneDNN custom operations are on. You "
    b"may see slightly different numerical results due to floating-point round-off errors.",
    b"I0000 00:00:1796319010.167436    8126 cpu_feature_guard.cc:227] This TensorFlow binary is "
    b"optimized to use available CPU instructions in performance-critical operations.",
    b"E0000 00:00:1796319269.806360   12575 node_def_util.cc:682] NodeDef mentions attribute "
    b"use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset> This may "
    b"be expected if your graph generating binary is newer  than this binary. Unknown "
    b"attributes will be ignored. NodeDef: {{node ParallelMapDatasetV2/_15}}",
    b"W1203 17:59:01.123456   26331 allocator.cc:107] Allocation of 188160000 exceeds 10% of "
    b"free system memory.",
]
KEPT = [
    b"E1203 17:59:01.123456   26331 op_kernel.cc:1830] OP_REQUIRES failed: a real error",
    b"F1203 17:59:01.123456   26331 check.cc:12] Check failed: fatal",
    b"Traceback (most recent call last):",
    b"ValueError: something the learner must see",
    b"plain text a library wrote to stderr",
    b"I am not a log line",
    b"",
]


# --------------------------------------------------------------------------- the log filter


def test_known_noise_is_held_back_and_everything_else_shown():
    for line in NOISE:
        assert nativelog.is_noise(line), line
    for line in KEPT:
        assert not nativelog.is_noise(line), line
    chunk = b"\n".join(
        [NOISE[2], b"To enable the following instructions: AVX2 FMA, rebuild", *KEPT]
    )
    show, held = nativelog.split_noise(chunk + b"\n")
    assert show == b"\n".join(KEPT) + b"\n"
    assert held.startswith(NOISE[2]) and b"To enable" in held


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=120).filter(lambda b: b"\n" not in b and b"\r" not in b)))
def test_lines_that_are_not_tensorflow_logs_pass_unchanged(lines):
    lines = [line for line in lines if not nativelog.is_noise(line)]
    text = b"".join(line + b"\n" for line in lines)
    show, held = nativelog.split_noise(text)
    assert show == text and held == b""


CHILD = r"""
import os, sys, time
from lessons_lib import nativelog
nativelog._installed.append(nativelog._Filter())   # as in a kernel, outside one
lines = [l.encode() for l in sys.argv[1:]]
for line in lines:
    os.write(2, line + b"\n")                      # C-level writes, as TensorFlow's
os.write(2, b"no newline at the end")
time.sleep(0.5)
"""


def test_the_filter_on_descriptor_2_of_a_real_process():
    lines = [line.decode() for line in NOISE + KEPT]
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *lines], capture_output=True, timeout=60, cwd=ROOT
    )
    shown = result.stderr.decode()
    for line in NOISE:
        assert line.decode()[:40] not in shown
    for line in KEPT:
        assert line.decode() in shown
    assert shown.endswith("no newline at the end"), "a partial line is not held back"


TF_CHILD = r"""
import os, sys
from lessons_lib import nativelog
nativelog._installed.append(nativelog._Filter())
import numpy as np, keras                          # TensorFlow's start-up lines
from lessons_lib import models, training
training.set_seed(1)                               # op determinism: the E0000 line during fit
m = models.dense_model(8, 1, 0.0, shift=1)
m.fit(np.zeros((300, 784), "float32"), np.zeros(300, "int64"), epochs=1, batch_size=7, verbose=0)
m.predict(np.zeros((5, 784), "float32"), verbose=0)
try:
    m.fit(np.zeros((10, 3), "float32"), np.zeros(10, "int64"), verbose=0)
except Exception as exc:
    print("python error:", type(exc).__name__, file=sys.stderr, flush=True)
"""


@pytest.mark.notebooks
def test_tensorflow_import_fit_and_predict_show_no_log_line_but_real_errors_do():
    result = subprocess.run(
        [sys.executable, "-c", TF_CHILD],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert not nativelog.LOG_LINE.search(result.stderr.encode()), result.stderr[-2000:]
    assert "absl::InitializeLog" not in result.stderr
    assert re.search(r"python error: \w+Error", result.stderr), "a real error still shows"


# --------------------------------------------------------------------------- which cell makes a name


def test_top_level_names_of_a_cell():
    source = textwrap.dedent(
        """
        import numpy as np
        from lessons_lib import checks, plots as p
        (x_train, y_train), (x_test, y_test) = data
        for i, row in enumerate(rows):
            total += row
        if ok:
            fx = 1
        with open(f) as fh:
            pass
        def helper(a):
            inner = a
        squares = [k * k for k in range(3)]
        %matplotlib inline
        """
    )
    names = session.top_level_names(source)
    expected = {"np", "checks", "p", "x_train", "y_train", "x_test", "y_test", "i", "row"}
    assert expected | {"total", "fx", "fh", "helper", "squares"} <= names
    assert not {"inner", "k", "a"} & names


def _lesson(folder: Path, name: str, *cells) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(c[1:]) if c.startswith("#") else nbformat.v4.new_code_cell(c)
        for c in cells
    ]
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_name_hint_says_which_cell_and_what_to_run(tmp_path, monkeypatch):
    first = _lesson(
        tmp_path,
        "04_training.ipynb",
        "# # 04 · Training",
        "import keras",
        "## Build",
        "model = keras.Sequential()",
        "## Fit",
        "history = model.fit(x)",
        "late = 1",
    )
    _lesson(tmp_path, "07_going_further.ipynb", "cnn = make()")
    hint = session.name_hint("model", "history = model.fit(x)", first)
    assert '`model` is made by an earlier cell of this lesson (under "Build")' in hint
    assert session.RUN_ABOVE in hint and "\n" not in hint
    assert "later cell" in session.name_hint("late", "model = keras.Sequential()", first)
    assert "earlier cell" in session.name_hint("model", "print(model)  # my own cell", first)
    assert "another lesson (07_going_further.ipynb)" in session.name_hint("cnn", "cnn", first)
    assert session.name_hint("modle", "modle", first) is None, "a typo keeps Python's error"
    # the lesson not known (no session name): found by the cell's own source, beside the kernel
    monkeypatch.chdir(tmp_path)
    assert "this lesson" in session.name_hint("model", "history = model.fit(x)", None)


@pytest.mark.parametrize("book", runner.lesson_notebooks(), ids=lambda b: b.stem)
def test_every_lesson_name_a_cell_reads_gets_the_hint(book):
    """Run any cell of a lesson first: each name it needs from an earlier cell gets the hint."""
    nb = nbformat.read(book, as_version=4)
    made: set[str] = set()
    tried = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = session._parse(cell.source)
        loads = {n.id for n in __import__("ast").walk(tree) if type(n).__name__ == "Name"} & made
        for name in loads:
            hint = session.name_hint(name, cell.source, book)
            assert hint and "earlier cell of this lesson" in hint, (book.name, name, hint)
            tried += 1
        made |= session.top_level_names(cell.source)
    assert tried >= 5


# --------------------------------------------------------------------------- the progress bar


@settings(max_examples=200, deadline=None)
@given(
    samples=st.integers(1, 400),
    batch=st.integers(1, 64),
    per_call=st.integers(1, 40),
)
def test_reported_steps_never_pass_the_epochs_batches(samples, batch, per_call):
    from keras.src.trainers.epoch_iterator import EpochIterator

    it = EpochIterator(
        np.zeros((samples, 1), "float32"), batch_size=batch, steps_per_execution=per_call
    )
    ends = [end for _, end, _ in it._enumerate_iterator()]
    batches = -(-samples // batch)
    assert max(ends) == batches - 1, "the last report is the epoch's last batch"
    assert ends == sorted(ends)


def test_fit_reports_141_of_141_not_160():
    """lesson 04 on full MNIST: 54,000 images in batches of 384 = 141 batches, 32 per call."""
    seen = []

    class Record(training.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch + 1)

    model = models.dense_model(4, 1, 0.0)
    model.fit(
        np.zeros((141 * 8, 784), "float32"),
        np.zeros(141 * 8, "int64"),
        batch_size=8,
        epochs=1,
        verbose=0,
        callbacks=[Record()],
    )
    assert seen == [32, 64, 96, 128, 141]
    assert (
        models._overshoots(__import__("keras").src.trainers.epoch_iterator.EpochIterator) is False
    )


def test_run_progress_shows_a_titled_bar_to_the_end(capsys):
    model = models.reference_model()
    model.fit(
        np.zeros((200, 784), "float32"),
        np.zeros(200, "int64"),
        batch_size=32,
        epochs=2,
        verbose=0,
        callbacks=[training.RunProgress("Training on [0, 1]")],
    )
    out = capsys.readouterr().out
    assert out.startswith("Training on [0, 1] (2 epochs):")
    assert "14/14" in out and "loss:" in out, "7 batches of 32 per epoch, 2 epochs"
    counts = [(int(a), int(b)) for a, b in re.findall(r"(\d+)/(\d+)", out)]
    assert all(a <= b for a, b in counts)
    assert out.count("14/14") == 1, "the final line once (it was printed twice)"


def test_run_progress_closes_a_bar_stopped_before_its_end_once(capsys):
    import keras

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    models.reference_model().fit(
        np.zeros((200, 784), "float32"),
        np.zeros(200, "int64"),
        batch_size=32,
        epochs=2,
        verbose=0,
        callbacks=[training.RunProgress("Stopped early"), StopAfterFirstEpoch()],
    )
    out = capsys.readouterr().out
    assert out.count("7/14") == 1 and "14/14" not in out


# --------------------------------------------------------------------------- fresh starts, unfinished fits


def test_fresh_start_rebuilds_the_same_untrained_network(capsys):
    x = np.random.RandomState(0).rand(300, 784).astype("float32")
    y = np.random.RandomState(1).randint(0, 10, 300)
    training.set_seed(7)
    model = models.dense_model(16, 2, 0.1, shift=1)
    before = [w.copy() for w in model.get_weights()]
    assert training.fresh_start(model, 7) is model, "never trained: kept as it is"
    first = model.fit(x, y, epochs=2, batch_size=32, verbose=0).history["loss"]
    again = training.fresh_start(model, 7)
    assert again is not model and "starts again from fresh" in capsys.readouterr().out
    assert all(np.array_equal(a, b) for a, b in zip(before, again.get_weights(), strict=True))
    assert again.steps_per_execution == model.steps_per_execution
    assert again.fit(x, y, epochs=2, batch_size=32, verbose=0).history["loss"] == first


def test_a_model_marked_unfinished_is_not_saved_and_training_on_clears_it(tmp_path):
    model = models.dense_model(4, 1, 0.0)
    x, y = np.zeros((64, 784), "float32"), np.zeros(64, "int64")
    model.fit(x, y, epochs=1, verbose=0)
    fitstate.mark(model, 3, 18)
    assert fitstate.unfinished(model) == (3, 18)
    with pytest.raises(fitstate.TrainingUnfinished, match="stopped after 3 of 18 epochs"):
        training.save_trained(model, {"loss": [1.0]}, tmp_path / "art")
    assert not (tmp_path / "art" / training.MODEL_FILE).exists()
    model.fit(x, y, epochs=2, verbose=0)  # trained on, to the end: the mark no longer holds
    assert fitstate.unfinished(model) is None


# --------------------------------------------------------------------------- in a real kernel


@pytest.fixture(scope="module")
def hooked_kernel(tmp_path_factory):
    """A venv set up as bootstrap.py does (``python -m lessons_lib.session install``), and a
    kernel started from it for a copy of lesson 04 (JupyterLab's JPY_SESSION_NAME)."""
    from jupyter_client.manager import KernelManager

    base = tmp_path_factory.mktemp("hooked")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3.*/site-packages"))
    (site / "borrowed.pth").write_text(f"{ROOT}\n{sysconfig.get_paths()['purelib']}\n")
    python = venv / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "lessons_lib.session", "install"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((venv / "etc" / "ipython" / session.CONFIG_NAME).read_text())
    assert config == json.loads((ROOT / "lessons_lib" / session.CONFIG_NAME).read_text())
    lessons = base / "notebooks"
    lessons.mkdir()
    for book in runner.lesson_notebooks():
        (lessons / book.name).write_bytes(book.read_bytes())
    spec = base / "share" / "jupyter" / "kernels" / "hooked"
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "hooked"}))
    os.environ["JUPYTER_PATH"] = str(base / "share" / "jupyter")
    km = KernelManager(kernel_name="hooked")
    env = {**os.environ, "JPY_SESSION_NAME": str(lessons / "04_training.ipynb"), "PYTHONPATH": ""}
    km.start_kernel(cwd=str(lessons), env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    yield km, kc, lessons
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    os.environ.pop("JUPYTER_PATH", None)


def _run(kc, code, on_output=None, timeout=300):
    msg_id = kc.execute(code)
    outputs = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=5)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            break
        if kind in ("stream", "error"):
            outputs.append(content)
            if on_output:
                on_output(content)
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["status"], outputs


def _text(outputs):
    return "".join(o.get("text", "") + "\n".join(o.get("traceback", [])) for o in outputs)


@pytest.mark.notebooks
def test_a_fresh_kernel_has_the_hook_before_anything_is_imported(hooked_kernel):
    _, kc, _ = hooked_kernel
    status, outputs = _run(kc, "print(sorted(get_ipython().extension_manager.loaded))")
    assert status == "ok" and "lessons_lib.session" in _text(outputs)
    # after a restart, the learner runs lesson 04's fit cell first
    book = next(b for b in runner.lesson_notebooks() if b.name.startswith("04"))
    fit = next(
        c.source
        for c in nbformat.read(book, as_version=4).cells
        if c.cell_type == "code" and "model.fit(" in c.source
    )
    status, outputs = _run(kc, fit)
    assert status == "error" and len(outputs) == 1
    error = outputs[0]
    assert error["traceback"] == [
        f'NameError: `training` is made by an earlier cell of this lesson (under "04 · Training"), '
        f"which has not run to its end since the kernel started; run the cells above this one: "
        f"{session.RUN_ABOVE}."
    ]
    status, outputs = _run(kc, "seeds = 1\nprint(seeed)")
    assert status == "error" and "Traceback" in _text(outputs), "a typo keeps Python's traceback"
    assert "seeed" in _text(outputs) and "earlier cell" not in _text(outputs)


@pytest.mark.notebooks
def test_tensorflow_imported_first_in_a_cell_shows_no_log_line(hooked_kernel):
    _, kc, _ = hooked_kernel
    status, outputs = _run(kc, "import tensorflow as tf\nimport keras\nprint('imported')")
    assert status == "ok"
    assert _text(outputs).strip() == "imported", _text(outputs)


@pytest.mark.notebooks
def test_interrupting_fit_says_where_it_stopped_and_the_save_is_refused(hooked_kernel):
    km, kc, _ = hooked_kernel
    setup = textwrap.dedent(
        """
        import numpy as np, keras
        from lessons_lib import models, training
        x = np.random.RandomState(0).rand(8000, 784).astype("float32")
        y = np.random.RandomState(1).randint(0, 10, 8000)
        seed = 3
        training.set_seed(seed)
        model = models.dense_model(256, 2, 0.0)
        class Tick(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                print("tick", epoch, flush=True)
        """
    )
    assert _run(kc, setup)[0] == "ok"
    fit_cell = (
        "model = training.fresh_start(model, seed)\n"
        "history = model.fit(x, y, epochs=60, batch_size=32, verbose=0, callbacks=[Tick()])"
    )
    ticks, sent = [], []

    def interrupt_after_two(content):
        ticks.extend(re.findall(r"tick \d+", content.get("text", "")))
        if len(ticks) >= 2 and not sent:
            sent.append(True)
            km.interrupt_kernel()

    status, outputs = _run(kc, fit_cell, on_output=interrupt_after_two)
    errors = [o for o in outputs if "traceback" in o]
    assert status == "error" and len(errors) == 1, re.sub(r"\x1b\[[\d;]*m", "", _text(outputs))
    (line,) = errors[0]["traceback"]
    done = int(re.search(r"Training stopped after (\d+) of 60 epochs", line).group(1))
    assert done >= 1 and "Run this cell again to train from the start." in line
    status, outputs = _run(kc, "training.save_trained(model, {'loss': [1.0]}, 'build/x')")
    assert status == "error"
    assert _text(outputs) == (
        f"TrainingUnfinished: this model's training was stopped after {done} of 60 epochs, so "
        "it is not saved (a model saved before is kept). Run the training cell again, to the "
        "end, then this cell."
    )
    status, outputs = _run(kc, fit_cell.split("\n")[0])
    assert status == "ok" and f"stopped after {done} of 60 epochs; training starts again" in _text(
        outputs
    )


@pytest.mark.notebooks
def test_interrupting_a_cell_outside_fit_says_it_stopped_part_way(hooked_kernel):
    """A newcomer interrupted lesson 02's experiment between its fits and got about 100 lines
    of traceback into TensorFlow. Any interrupt now gets one line."""
    km, kc, _ = hooked_kernel
    cell = (
        "import time\nfor i in range(600):\n    print('tick', i, flush=True)\n    time.sleep(0.1)"
    )
    sent = []

    def interrupt_soon(content):
        if "tick 2" in content.get("text", "") and not sent:
            sent.append(True)
            km.interrupt_kernel()

    status, outputs = _run(kc, cell, on_output=interrupt_soon)
    errors = [o for o in outputs if "traceback" in o]
    assert status == "error" and len(errors) == 1
    assert errors[0]["traceback"] == [f"KeyboardInterrupt: {session.INTERRUPTED}"]
    assert _run(kc, "print('still here')")[0] == "ok"


def test_the_wheel_installs_the_kernel_config_into_the_environment(tmp_path):
    """A wheel install (Colab, a course folder) gets {prefix}/etc/ipython/... as data."""
    import zipfile

    wheel = build_wheel(tmp_path, isolated=False)
    member = f"lessons_lib-0.1.0.data/data/etc/ipython/{session.CONFIG_NAME}"
    with zipfile.ZipFile(wheel) as zf:
        shipped = json.loads(zf.read(member))
    written = json.loads(session.install_config(tmp_path / "prefix").read_text())
    assert shipped == written == {"InteractiveShellApp": {"extensions": [session.EXTENSION]}}
    # installing again keeps whatever else the environment's config holds
    path = session.config_file(tmp_path / "prefix")
    path.write_text(json.dumps({"InteractiveShellApp": {"extensions": ["other"]}, "X": {"y": 1}}))
    again = json.loads(session.install_config(tmp_path / "prefix").read_text())
    assert again == {
        "InteractiveShellApp": {"extensions": ["other", session.EXTENSION]},
        "X": {"y": 1},
    }
