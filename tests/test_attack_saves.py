"""Attack: saves killed mid-write, two writers at once, NaN training, damaged and foreign models.

The previous model must load after every SIGKILL; a model that cannot be used is set
aside (renamed, never deleted) and the lesson says so and carries on.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import nbformat
import numpy as np
import papermill as pm
import pytest

from conftest import ROOT
from lessons_lib import machine, params, training
from lessons_lib.data import load_mnist

WRITER = textwrap.dedent(
    """
    import sys, itertools
    import numpy as np
    from lessons_lib import models, training
    folder, tag = sys.argv[1], int(sys.argv[2])
    model = models.dense_model(512, 2)  # about 4 MB of weights: a save takes tens of ms
    model.optimizer.iterations.assign(1000)  # as if trained: a history needs training steps
    for step in itertools.count():
        mark = float(tag * 1_000_000 + step)
        model.layers[-1].bias.assign(np.full(10, mark, np.float32))
        training.save_trained(model, {"loss": [mark]}, folder)
        if step == 0:
            print("saving", flush=True)
    """
)


def _writer(folder, tag: int) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), str(tag)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=env,
    )


def _consistent(saved: training.Saved) -> bool:
    """The weights and the history inside one file come from the same save."""
    bias = saved.model.layers[-1].bias.numpy()
    return bool(np.all(bias == bias[0])) and saved.history["loss"] == [float(bias[0])]


def _kill_during_saves(folder, kills: int, seed: int) -> dict:
    rng = random.Random(seed)
    torn = 0
    for _ in range(kills):
        proc = _writer(folder, 1)
        assert proc.stdout.readline().strip() == "saving"
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        torn += any(folder.glob(".dense_model-*.keras"))  # the kill landed mid-save
        saved = training.load_trained(folder)  # raises SavedModelProblem if torn
        assert saved is not None and _consistent(saved)
    return {"kills": kills, "mid_save": torn}


def test_twenty_sigkills_during_saving_leave_a_model_that_loads_every_time(tmp_path):
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:  # a good model to start from
        model = _compiled(
            keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
        )
        model.layers[-1].bias.assign(np.full(10, 7.0, np.float32))
        training.save_trained(model, {"loss": [7.0]}, folder)
    with ThreadPoolExecutor(2) as pool:  # two folders at once: 2 x 10 kills in half the time
        results = list(pool.map(_kill_during_saves, folders, [10, 10], [1, 2]))
    kills = sum(r["kills"] for r in results)
    mid = sum(r["mid_save"] for r in results)
    print(f"SIGKILLs: {kills}, landed mid-save: {mid}, model loaded after each: {kills}")
    assert kills == 20 and mid >= 5, "too few kills landed during a save to prove anything"
    training.save_trained(model, {"loss": [7.0]}, folders[0])  # the next save cleans up
    assert not list(folders[0].glob(".dense_model-*.keras"))


def test_two_writers_at_once_leave_one_complete_model_with_its_own_history(tmp_path):
    procs = [_writer(tmp_path, tag) for tag in (1, 2)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "saving"
    deadline = time.time() + 4  # at least 4 s of saving, and at least 5 loads however slow
    checks = 0
    while time.time() < deadline or (checks < 5 and time.time() < deadline + 120):
        saved = training.load_trained(tmp_path)
        assert _consistent(saved)
        checks += 1
    for proc in procs:
        proc.kill()
        proc.wait()
    assert checks >= 5


def test_a_diverged_model_is_never_saved_over_a_good_one(tmp_path):
    model = _compiled(
        keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    )
    path = training.save_trained(model, {"loss": [0.3]}, tmp_path)
    before = path.read_bytes()
    with pytest.raises(training.TrainingDiverged, match="loss became nan at epoch 2"):
        training.save_trained(model, {"loss": [0.3, float("nan")]}, tmp_path)
    model.layers[-1].bias.assign(np.full(10, np.inf, np.float32))
    with pytest.raises(training.TrainingDiverged, match="NaN or infinity"):
        training.save_trained(model, {"loss": [0.3]}, tmp_path)
    assert path.read_bytes() == before


# --------------------------------------------------------------------------- models that do not fit


@pytest.fixture(scope="module")
def sample():
    (x, y), (xt, yt) = data = load_mnist("sample")
    return data


QUICK = dict(
    hidden_units=32,
    hidden_layers=1,
    dropout=0.0,
    learning_rate=2e-3,
    epochs=1,
    batch_size=256,
    validation_fraction=0.1,
    patience=0,
    shift=0,
    seed=1,
)


def _settings(folder) -> params.TrainingSettings:
    return params.TrainingSettings(artifacts_dir=str(folder), **QUICK)


@pytest.fixture(scope="module")
def trained(sample):
    """A model trained one epoch on the offline sample (about 80% right), and its history."""
    from lessons_lib.preprocess import prepare

    (x, y), _ = sample
    return training.train_lesson_model(prepare(x), y, verbose=0, **QUICK)


def _compiled(model):
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.optimizer.iterations.assign(1000)  # as if trained: a history needs training steps
    return model


def _damage(path):
    path.write_bytes(b"")  # what a kill during Keras' own write left behind


def _truncate(path):
    path.write_bytes(path.read_bytes()[:4096])


def _foreign(path):
    _compiled(keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])).save(path)


def _wrong_input(path, info):
    model = _compiled(
        keras.Sequential([keras.Input((32,)), keras.layers.Dense(10, activation="softmax")])
    )
    training.save_trained(model, {"loss": [1.0]}, path.parent, data_info=info)


def _wrong_outputs(path, info):
    model = _compiled(
        keras.Sequential([keras.Input((784,)), keras.layers.Dense(3, activation="softmax")])
    )
    training.save_trained(model, {"loss": [1.0]}, path.parent, data_info=info)


def _fashion(path, info):
    import dataclasses

    model = _compiled(
        keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    )
    fashion = dataclasses.replace(info, kind="fashion-mnist", dataset="Fashion-MNIST")
    training.save_trained(model, {"loss": [1.0]}, path.parent, data_info=fashion)


CASES = [
    ("0-byte", lambda p, i: _damage(p), "is damaged", "damaged"),
    ("torn 4 KB", lambda p, i: _truncate(p), "is damaged", "damaged"),
    ("foreign", lambda p, i: _foreign(p), "was not saved by these lessons", "foreign"),
    ("input 32", _wrong_input, "takes input [(None, 32)] instead of (n, 784)", "mismatched"),
    ("3 outputs", _wrong_outputs, "instead of 10 probabilities", "mismatched"),
    ("fashion", _fashion, "was trained on Fashion-MNIST", "mismatched"),
]


@pytest.mark.parametrize("name, spoil, reason, tag", CASES, ids=[c[0] for c in CASES])
def test_a_model_that_cannot_be_used_is_set_aside_and_replaced(
    tmp_path, sample, name, spoil, reason, tag
):
    (x, y), _ = sample
    path = tmp_path / training.MODEL_FILE
    if name in ("0-byte", "torn 4 KB"):
        _foreign(path)
        training.save_trained(
            _compiled(keras.models.load_model(path)),
            {"loss": [1.0]},
            tmp_path,
            data_info=sample.info,
        )
    spoil(path, sample.info)
    spoiled = path.read_bytes()
    model, history, how = training.load_or_train(sample, _settings(tmp_path))
    assert how.startswith("The saved model ") and reason in how and "set aside as" in how
    aside = list(tmp_path.glob(f"{training.MODEL_FILE}.{tag}-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == spoiled, "set aside, byte for byte"
    again = training.load_trained(tmp_path, data_info=sample.info)
    assert again is not None and again.history == history


def test_a_damaged_history_never_blocks_a_good_model(tmp_path, sample, trained):
    path = training.save_trained(trained.model, trained.history, tmp_path, data_info=sample.info)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members[training.META_MEMBER] = members[training.META_MEMBER][:25]  # cut JSON
    with zipfile.ZipFile(path, "w") as zf:
        for n, blob in members.items():
            zf.writestr(n, blob)
    saved = training.load_trained(tmp_path)
    assert saved is not None and saved.history == {} and "history is damaged" in saved.note
    _, _, how = training.load_or_train(sample, _settings(tmp_path))
    assert how.startswith("Loaded lesson 04's network from") and "history is damaged" in how


@pytest.mark.notebooks
def test_lesson_05_after_a_damaged_save_says_so_and_carries_on(tmp_path):
    """As a learner: lesson 04's save was cut off, leaving a 0-byte file; lesson 05 runs."""
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / training.MODEL_FILE).write_bytes(b"")
    out = tmp_path / "05.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "05_evaluating.ipynb"),
        str(out),
        parameters={"data_source": "sample", "epochs": 1, "artifacts_dir": str(folder)},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(ROOT / "notebooks"),
    )
    text = json.dumps(nbformat.read(out, as_version=4).cells)
    assert (
        "The saved model is damaged" in text and "set aside as dense_model.keras.damaged-" in text
    )
    assert "Traceback" not in text
    # it says why and for how long BEFORE training, then shows the epochs as they pass
    said = text.index("Lesson 04's network is trained now: up to 1 epoch of 3,600 images, about")
    assert said < text.index("training: epoch 1 of 1") < text.index("Trained: 1 epoch in")
    assert len(list(folder.glob("dense_model.keras.damaged-*"))) == 1
    assert training.load_trained(folder) is not None, "a fresh model is saved for lesson 06"


# --------------------------------------------------------------------------- memory: bombs

LOADER = textwrap.dedent(
    """
    import json, sys
    from lessons_lib import training
    from lessons_lib.data import load_mnist
    from lessons_lib.metrics import peak_rss_mb
    from lessons_lib.preprocess import prepare
    data = load_mnist("sample")
    probe = (prepare(data[1][0][:500]), data[1][1][:500])
    base = peak_rss_mb()
    try:
        saved = training.load_trained(sys.argv[1], data_info=data.info, probe=probe)
        outcome = "loaded"
    except training.SavedModelProblem as exc:
        outcome = "refused: " + exc.reason
    print(json.dumps({"base": base, "peak": peak_rss_mb(), "outcome": outcome}))
    """
)
LESSON_LIMIT_MB = 1536  # no input may take a lesson past 1.5 GB


def _memory_cgroup(limit_mb: int):
    """A cgroup-v1 memory cgroup with ``limit_mb`` under this process's own, as Binder's
    2 GiB limit works; None where this machine does not let us make one (not root, v2...)."""
    own = machine.v1_cgroup("memory")
    if own is None:
        return None
    try:
        group = f"{own}/lessons-attack-{os.getpid()}"
        os.makedirs(group, exist_ok=True)
        with open(f"{group}/memory.limit_in_bytes", "w") as fh:
            fh.write(str(limit_mb * 2**20))
        return group
    except OSError:
        return None


def load_in_child(folder, cgroup_mb: int = LESSON_LIMIT_MB) -> dict:
    """``load_trained(folder)`` in a fresh Python: its peak RSS (VmHWM, MB), inside a
    1.5 GiB memory cgroup when the machine allows one (the kernel kills what goes over)."""
    group = _memory_cgroup(cgroup_mb)

    def enter():
        if group:
            with open(f"{group}/cgroup.procs", "w") as fh:
                fh.write(str(os.getpid()))

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    try:
        result = subprocess.run(
            [sys.executable, "-c", LOADER, str(folder)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=600,
            preexec_fn=enter,
        )
    finally:
        if group:
            with contextlib.suppress(OSError):
                os.rmdir(group)
    assert result.returncode == 0, (
        f"killed or failed ({result.returncode}): {result.stderr[-1500:]}"
    )
    got = json.loads(result.stdout.strip().splitlines()[-1])
    got["cgroup"] = bool(group)
    return got


def _rewrite(path, name, write):
    """Copy the zip at ``path`` with member ``name`` replaced by what ``write(fh)`` streams."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info.filename))
        with dst.open(zipfile.ZipInfo(name), "w", force_zip64=True) as fh:  # ZIP_DEFLATED below
            write(fh)
    tmp.replace(path)


def _zeros(megabytes: int):
    def write(fh):
        block = b"\0" * 2**20
        for _ in range(megabytes):
            fh.write(block)

    return write


def _deflated(path, name, megabytes):
    """``name`` becomes ``megabytes`` of zeros, deflated: a few MB on disk."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info.filename))
        target = zipfile.ZipInfo(name)
        target.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(target, "w", force_zip64=True) as fh:
            _zeros(megabytes)(fh)
    tmp.replace(path)


@pytest.fixture(scope="module")
def bomb_folders(tmp_path_factory, sample, trained):
    """One folder per hostile model, each built from a real lesson save."""
    root = tmp_path_factory.mktemp("model-bombs")
    good = root / "good"
    training.save_trained(trained.model, trained.history, good, data_info=sample.info)
    made = {"good": good}
    for name, member, megabytes in [
        ("record 2 GB", training.META_MEMBER, 2048),
        ("config 2 GB", "config.json", 2048),
        ("weights 1 GB", "model.weights.h5", 1024),
    ]:
        folder = root / name.replace(" ", "-")
        shutil.copytree(good, folder)
        _deflated(folder / training.MODEL_FILE, member, megabytes)
        made[name] = folder
    huge = root / "dense-1e8"
    shutil.copytree(good, huge)
    path = huge / training.MODEL_FILE
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["config"]["units"] = 100_000_000  # 78 billion weights: 314 GB if built
    _rewrite(path, "config.json", lambda fh: fh.write(json.dumps(config).encode()))
    made["Dense of 1e8 units"] = huge
    return made


BOMBS = [
    ("record 2 GB", "declares 2,048.0 MB for its lessons_meta.json"),
    ("config 2 GB", "declares 2,048.0 MB for its config.json"),
    ("weights 1 GB", "declares 1,024.0 MB for its model.weights.h5"),
    ("Dense of 1e8 units", "declares more than 22 million weights"),
]


@pytest.mark.parametrize("name, reason", BOMBS, ids=[b[0] for b in BOMBS])
def test_a_model_file_that_inflates_to_gigabytes_is_refused_within_a_lesson_s_memory(
    bomb_folders, name, reason
):
    path = bomb_folders[name] / training.MODEL_FILE
    assert path.stat().st_size < 8 * 2**20, "a small file on disk"
    got = load_in_child(bomb_folders[name])
    print(f"{name}: {got}")
    assert got["outcome"].startswith("refused") and reason in got["outcome"], got
    assert got["peak"] < LESSON_LIMIT_MB and got["peak"] - got["base"] < 100, got


def test_a_good_model_loads_within_a_lesson_s_memory(bomb_folders):
    got = load_in_child(bomb_folders["good"])
    print(f"good: {got}")
    assert got["outcome"] == "loaded" and got["peak"] < LESSON_LIMIT_MB, got


def test_the_limits_come_from_what_the_lessons_models_can_be():
    from lessons_lib import savecheck

    schema = params.SPECS
    assert savecheck.dense_params(320, 2) == 357_130  # models.dense_model's count
    assert savecheck.MAX_PARAMS == min(
        savecheck.dense_params(schema["hidden_units"].high, schema["hidden_layers"].high),
        savecheck.LOAD_BUDGET // savecheck.BYTES_PER_PARAM_LOADED,
    )
    # every default-sized lesson model is far inside them
    assert 12 * savecheck.dense_params(4096, 1) < savecheck.MAX_WEIGHTS_BYTES


# --------------------------------------------------------------------------- models that lie


def test_an_untrained_model_is_never_saved_with_a_trained_record(tmp_path, sample, trained):
    from lessons_lib import models

    path = training.save_trained(trained.model, trained.history, tmp_path, data_info=sample.info)
    before = path.read_bytes()
    rebuilt = models.dense_model(32, 1)  # lesson 04's build cell run again after training
    with pytest.raises(training.UntrainedModel, match="0 training steps, but the history"):
        training.save_trained(rebuilt, trained.history, tmp_path, data_info=sample.info)
    assert path.read_bytes() == before, "the model saved before is kept byte for byte"


def test_an_untrained_model_with_a_real_record_is_caught_when_loaded(tmp_path, sample, trained):
    """Saved by an earlier release (or forged): the record claims training the weights lack."""
    from lessons_lib import models

    rebuilt = _compiled(models.dense_model(32, 1))  # steps faked: the save-time check passes
    training.save_trained(rebuilt, trained.history, tmp_path, data_info=sample.info)
    with pytest.raises(training.SavedModelProblem, match="not the model its record describes"):
        training.load_trained(tmp_path, data_info=sample.info, probe=_probe(sample))
    _, _, how = training.load_or_train(sample, _settings(tmp_path))
    assert "scores" in how and "set aside as dense_model.keras.mismatched-" in how


def _probe(sample):
    from lessons_lib.preprocess import prepare

    (_, _), (xt, yt) = sample
    return prepare(xt[:500]), yt[:500]


def test_a_model_saved_by_the_previous_release_is_read_and_named_so(tmp_path, sample, trained):
    """Releases before the record saved the plain .keras file and dense_history.json beside it."""
    trained.model.save(tmp_path / training.MODEL_FILE)
    (tmp_path / training.HISTORY_FILE).write_text(
        json.dumps({"history": trained.history, "meta": {"seed": 1}}, indent=2)
    )
    saved = training.load_trained(tmp_path, data_info=sample.info, probe=_probe(sample))
    assert saved.history == trained.history and saved.meta == {"seed": 1}
    assert "saved by an older release of these lessons" in saved.note
    _, _, how = training.load_or_train(sample, _settings(tmp_path))
    assert how.startswith("Loaded lesson 04's network from") and "older release" in how
    (tmp_path / training.HISTORY_FILE).unlink()  # no record at all: not the lessons'
    with pytest.raises(training.SavedModelProblem, match="was not saved by these lessons"):
        training.load_trained(tmp_path)


# --------------------------------------------------------------------------- shared and awkward folders


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_saved_model_has_the_mode_an_ordinary_file_would(tmp_path, trained, umask, mode):
    old = os.umask(umask)
    try:
        path = training.save_trained(trained.model, trained.history, tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.fixture
def mounted(tmp_path):
    """mount(kind) -> folder: a size-limited tmpfs ("full"), or a read-only bind mount
    ("read-only") of a folder holding ``dense_model.keras`` when asked. None where this
    machine does not allow mounts (then the test injects the fault at the OS call)."""
    mounts = []

    def mount(kind, size_kb=64, seed_from=None):
        folder = tmp_path / f"mnt-{len(mounts)}"
        folder.mkdir()
        if seed_from is not None:
            shutil.copy(seed_from, folder / training.MODEL_FILE)
        if kind == "full":
            cmd = ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)]
        else:
            cmd = ["mount", "--bind", "-o", "ro", str(folder), str(folder)]
        if subprocess.run(cmd, capture_output=True).returncode != 0:
            return None
        if kind == "read-only":  # older util-linux ignores ro on the first bind
            subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True)
        mounts.append(folder)
        return folder

    yield mount
    for folder in reversed(mounts):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fault(monkeypatch, code):
    """Fallback where mounts are not allowed: the OS call that writes fails as it would."""

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(training.save_trained.__globals__["os"], "replace", fail)


def test_a_full_disk_leaves_the_lesson_running_with_the_model_in_memory(
    sample, mounted, monkeypatch, capsys
):
    folder = mounted("full", size_kb=64)  # 64 KB: a lesson model needs about 1.5 MB
    if folder is None:
        folder = Path(tempfile.mkdtemp())
        _fault(monkeypatch, errno.ENOSPC)
    model, history, how = training.load_or_train(sample, _settings(folder))
    assert "It could not be saved in" in how and "the disk is full" in how
    assert "this lesson uses it from memory" in how and len(history["loss"]) == 1
    assert model.predict(np.zeros((1, 784), np.float32), verbose=0).shape == (1, 10)
    assert not [p for p in folder.iterdir() if p.name.startswith(".dense_model-")], "no litter"
    assert "Traceback" not in capsys.readouterr().out


def test_a_read_only_course_folder_with_a_good_model_just_loads(sample, trained, mounted, tmp_path):
    source = training.save_trained(
        trained.model, trained.history, tmp_path / "src", data_info=sample.info
    )
    folder = mounted("read-only", seed_from=source)
    if folder is None:
        pytest.fail("this machine lets root mount; a read-only bind mount must work here")
    with pytest.raises(OSError):
        (folder / "probe").write_text("x")  # really read-only, even for root
    _, _, how = training.load_or_train(sample, _settings(folder))
    assert how.startswith("Loaded lesson 04's network from"), how


def test_a_read_only_course_folder_with_a_bad_model_trains_and_says_why(sample, mounted, tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"")
    folder = mounted("read-only", seed_from=bad)
    if folder is None:
        pytest.fail("this machine lets root mount; a read-only bind mount must work here")
    _, history, how = training.load_or_train(sample, _settings(folder))
    assert "could not be set aside (the folder is on a read-only disk)" in how
    assert "It is not saved, so that dense_model.keras stays as it is" in how
    assert history["loss"]
    assert (folder / training.MODEL_FILE).read_bytes() == b"", "left as it was"


def test_a_full_tmpdir_does_not_stop_loading(sample, trained, mounted, tmp_path, monkeypatch):
    training.save_trained(trained.model, trained.history, tmp_path, data_info=sample.info)
    full = mounted("full", size_kb=4)
    if full is None:
        pytest.fail("this machine lets root mount; a 4 KB tmpfs must work here")
    with pytest.raises(OSError, match="No space left"), open(full / "filler", "wb") as fh:
        for _ in range(64):
            fh.write(b"\0" * 4096)
            fh.flush()
    monkeypatch.setenv("TMPDIR", str(full))
    monkeypatch.setattr(tempfile, "tempdir", str(full))
    saved = training.load_trained(tmp_path, data_info=sample.info, probe=_probe(sample))
    assert saved is not None and saved.probe_accuracy > 0.5


def test_an_artifacts_link_inside_the_project_is_followed(tmp_path, monkeypatch):
    project = tmp_path / "course"
    (project / "lessons_lib").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    shared = tmp_path / "shared-models"
    shared.mkdir()
    (project / "artifacts").symlink_to(shared, target_is_directory=True)
    monkeypatch.chdir(project)
    target, problem = params.resolve_artifacts("artifacts")
    assert problem is None and target == shared
    for climbing in ["../elsewhere", "artifacts/../../elsewhere", "a/../../x"]:
        _, problem = params.resolve_artifacts(climbing)
        assert problem and "leads outside the project" in problem
    (project / "root-link").symlink_to(project, target_is_directory=True)
    _, problem = params.resolve_artifacts("root-link")
    assert problem and "a folder of its own" in problem


def test_a_member_that_lies_about_its_size_is_never_inflated_past_it(tmp_path, sample, trained):
    """The design rests on zipfile never inflating a member past its declared size: a
    config.json that declares 1 KB but inflates to 256 MB is read as 1 KB and fails its CRC."""
    folder = tmp_path / "liar"
    path = training.save_trained(trained.model, trained.history, folder, data_info=sample.info)
    _deflated(path, "config.json", 256)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        local = zf.getinfo("config.json").header_offset
    raw[local + 22 : local + 26] = (1024).to_bytes(4, "little")  # local header's size
    central = raw.index(b"PK\x01\x02")
    while raw[central + 46 : central + 57] != b"config.json":
        central = raw.index(b"PK\x01\x02", central + 4)
    raw[central + 24 : central + 28] = (1024).to_bytes(4, "little")  # the directory's size
    path.write_bytes(bytes(raw))
    got = load_in_child(folder)
    print(f"liar: {got}")
    assert got["outcome"] == "refused: is damaged (member config.json fails its checksum)", got
    assert got["peak"] - got["base"] < 100, got
