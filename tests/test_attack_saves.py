"""Attack: saves killed mid-write, two writers at once, NaN training, damaged and foreign models.

The previous model must load after every SIGKILL; a model that cannot be used is set
aside (renamed, never deleted) and the lesson says so and carries on.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import keras
import nbformat
import numpy as np
import papermill as pm
import pytest

from conftest import ROOT
from lessons_lib import training
from lessons_lib.data import load_mnist

WRITER = textwrap.dedent(
    """
    import sys, itertools
    import numpy as np
    from lessons_lib import models, training
    folder, tag = sys.argv[1], int(sys.argv[2])
    model = models.dense_model(512, 2)  # about 4 MB of weights: a save takes tens of ms
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
        model = keras.Sequential(
            [keras.Input((784,)), keras.layers.Dense(10, activation="softmax")]
        )
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
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
    deadline = time.time() + 4
    checks = 0
    while time.time() < deadline:
        saved = training.load_trained(tmp_path)
        assert _consistent(saved)
        checks += 1
    for proc in procs:
        proc.kill()
        proc.wait()
    assert checks >= 5


def test_a_diverged_model_is_never_saved_over_a_good_one(tmp_path):
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
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
    seed=1,
)


def _compiled(model):
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
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
            keras.models.load_model(path), {"loss": [1.0]}, tmp_path, data_info=sample.info
        )
    spoil(path, sample.info)
    spoiled = path.read_bytes()
    model, history, how = training.load_or_train(tmp_path, x, y, data_info=sample.info, **QUICK)
    assert how.startswith("The saved model ") and reason in how and "set aside as" in how
    aside = list(tmp_path.glob(f"{training.MODEL_FILE}.{tag}-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == spoiled, "set aside, byte for byte"
    again = training.load_trained(tmp_path, data_info=sample.info)
    assert again is not None and again.history == history


def test_a_damaged_history_never_blocks_a_good_model(tmp_path, sample):
    model = _compiled(
        keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    )
    path = training.save_trained(model, {"loss": [1.0]}, tmp_path, data_info=sample.info)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members[training.META_MEMBER] = members[training.META_MEMBER][:25]  # cut JSON
    with zipfile.ZipFile(path, "w") as zf:
        for n, blob in members.items():
            zf.writestr(n, blob)
    saved = training.load_trained(tmp_path)
    assert saved is not None and saved.history == {} and "history is damaged" in saved.note
    _, _, how = training.load_or_train(tmp_path, *sample[0], data_info=sample.info, **QUICK)
    assert how.startswith("Loaded the model") and "history is damaged" in how


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
    assert len(list(folder.glob("dense_model.keras.damaged-*"))) == 1
    assert training.load_trained(folder) is not None, "a fresh model is saved for lesson 06"
