"""Saving and reloading a trained model with its history, parameters and data identity.

One ``.keras`` file carries all of it; it is written to a temporary file and renamed, and a
model that cannot be used here is set aside (renamed, never deleted).

Loading trusts nothing it has not measured: every member of the zip has its declared size
checked against what the lessons' models can be (:mod:`lessons_lib.savecheck`) before a
byte is inflated or handed to Keras, and the model is scored on a few test digits before
a lesson uses it (:func:`load_trained`'s ``probe``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from . import params
from .params import why_not_written
from .savecheck import (
    CONFIG_MEMBER,
    KERAS_MEMBERS,
    META_MEMBER,
    check_config,
    check_members,
    read_member,
)

MODEL_FILE = "dense_model.keras"
HISTORY_FILE = "dense_history.json"  # beside the model: what releases before the record wrote
SAVE_FORMAT = 1


def resolve_folder(path: str | os.PathLike | None) -> Path:
    target, problem = params.resolve_artifacts(str(path) if path else params.LEARNER_ARTIFACTS)
    if problem:
        raise params.ParameterError([problem])
    return target


def artifacts_dir(path: str | os.PathLike | None = None) -> Path:
    """Where trained models go (created): ``path`` checked like the ``artifacts_dir``
    parameter (relative to the project, never outside it), else <project>/artifacts."""
    target = resolve_folder(path)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaveFailed(target, exc) from exc
    return target


class TrainingDiverged(ValueError):
    """Training produced NaN or infinite values: such a model is never saved."""


class UntrainedModel(ValueError):
    """The history describes training the model never had: such a pair is never saved."""


class SavedModelProblem(Exception):
    """A saved model that cannot be used here; ``reason`` completes "The saved model ..."."""

    def __init__(self, path: Path, reason: str, tag: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.tag = path, reason, tag


class SaveFailed(OSError):
    """The model could not be written (read-only folder, full disk...); nothing was replaced.

    In a notebook it shows as one sentence, not a traceback.
    """

    def __init__(self, folder: Path, cause: OSError):
        self.folder, self.why = folder, why_not_written(cause)
        super().__init__(
            cause.errno,
            f"The model could not be saved in {folder}: {self.why}. Any model saved there "
            "before is unchanged; the one in memory can still be used in this lesson.",
        )

    def __str__(self) -> str:
        return self.strerror

    def _render_traceback_(self) -> list[str]:
        return [f"SaveFailed: {self.strerror}"]


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_finite(model: keras.Model, history: dict[str, list[float]]) -> None:
    for key, values in history.items():
        bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
        if bad:
            raise TrainingDiverged(
                f"training diverged: {key} became {values[bad[0]]} at epoch {bad[0] + 1}. "
                "The model was not saved and any model saved before is kept. Lower "
                "learning_rate (the default is 0.002) and train again."
            )
    for weight in model.weights:
        if not np.all(np.isfinite(np.asarray(weight))):
            raise TrainingDiverged(
                f"training diverged: the weights of {weight.path} hold NaN or infinity. "
                "The model was not saved and any model saved before is kept. Lower "
                "learning_rate and train again."
            )


def training_steps(model: keras.Model) -> int:
    """How many weight updates the model's optimizer has made (0 for a fresh model)."""
    optimizer = getattr(model, "optimizer", None)
    try:
        return int(np.asarray(optimizer.iterations))
    except (AttributeError, TypeError, ValueError):
        return 0


def _check_trained(model: keras.Model, history: dict[str, list[float]]) -> None:
    epochs = max((len(v) for v in history.values()), default=0)
    steps = training_steps(model)
    if epochs and steps < epochs:
        raise UntrainedModel(
            f"this model has made {steps} training steps, but the history records {epochs} "
            f"epoch{'s' if epochs != 1 else ''} of training: they do not belong together (was the cell that builds the "
            "model run again after training?). Nothing was saved and any model saved before "
            "is kept. Run the training cell, then save."
        )


def _clean_stale_temporaries(folder: Path) -> None:
    """Remove half-written saves (.dense_model-<pid>-*.keras) of processes that are gone."""
    for tmp in folder.glob(".dense_model-*.keras"):
        try:
            pid = int(tmp.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _pid_alive(pid: int) -> bool:
    # psutil, not os.kill(pid, 0): on Windows that call sends the process a Ctrl+C.
    import psutil

    return psutil.pid_exists(pid)


def _new_temporary(folder: Path) -> Path:
    """An empty file beside the model, created with mode 0666 so the umask applies
    (a course folder's group can read the saved model as it reads any other file)."""
    while True:
        tmp = folder / f".dense_model-{os.getpid()}-{secrets.token_hex(4)}.keras"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def save_trained(
    model: keras.Model,
    history: dict[str, list[float]],
    folder: str | os.PathLike | None = None,
    *,
    meta: dict | None = None,
    data_info=None,
) -> Path:
    """Save the model with its history, ``meta`` and the data's identity as one file.

    The .keras file (a zip) gets a member ``lessons_meta.json``; it is written to a
    temporary file in the same folder and moved into place with ``os.replace``, so
    a save killed at any moment leaves the previous model whole, and two saves at
    once leave one complete model with its own history. Refused, with the model saved
    before kept: NaN or infinite loss or weights (TrainingDiverged), a history of more
    epochs than the model has made training steps (UntrainedModel), a fit cut short by
    Kernel > Interrupt (fitstate.TrainingUnfinished). A folder that cannot be written
    (read-only, full) raises SaveFailed, one sentence. Returns the path.
    """
    from .fitstate import refuse_unfinished

    # Checks on what is about to be saved: each raises before anything is written.
    refuse_unfinished(model)  # a fit cut short by Kernel > Interrupt never replaces a saved model
    _check_finite(model, history)
    _check_trained(model, history)

    folder = artifacts_dir(folder)
    _clean_stale_temporaries(folder)
    model_path = folder / MODEL_FILE
    payload = {
        "format": SAVE_FORMAT,
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "steps": training_steps(model),
        "history": history,
        "meta": dict(meta or {}),
    }
    if data_info is not None:
        payload["meta"].update(
            data=data_info.describe(),
            data_kind=data_info.kind,
            data_fingerprint=data_info.fingerprint,
        )
    tmp = None
    try:
        tmp = _new_temporary(folder)
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(META_MEMBER, json.dumps(payload, default=float))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, model_path)
        _fsync_dir(folder)
    except OSError as exc:
        _remove(tmp)
        raise SaveFailed(folder, exc) from exc
    except BaseException:
        _remove(tmp)
        raise
    return model_path


def _remove(tmp: Path | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            tmp.unlink()


@dataclass
class Saved:
    model: keras.Model
    history: dict[str, list[float]]
    meta: dict
    path: Path
    note: str = ""  # e.g. that the history could not be read
    probe_accuracy: float | None = None  # on the probe digits, when given


DAMAGED_HISTORY = "Its training history is damaged and was skipped."


def _parse_record(blob: bytes | None) -> tuple[dict, str]:
    """(payload with 'history' and 'meta', note) from the record's bytes."""
    try:
        payload = json.loads(blob)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except (ValueError, TypeError, RecursionError):
        return {"history": {}, "meta": {}}, DAMAGED_HISTORY
    history = payload.get("history")
    ok = isinstance(history, dict) and all(
        isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
        for v in history.values()
    )
    meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
    steps = payload.get("steps")
    return {
        "history": history if ok else {},
        "meta": meta,
        "steps": steps if isinstance(steps, int) else None,
    }, ("" if ok else DAMAGED_HISTORY)


OLDER_RELEASE = (
    "It was saved by an older release of these lessons, which kept no record of its data"
)


def _read_record(zf: zipfile.ZipFile, folder: Path, path: Path) -> tuple[dict, str]:
    """The lessons' record inside the zip, else the older releases' history file beside it."""
    if META_MEMBER in zf.namelist():
        blob = read_member(zf, META_MEMBER)
        if blob is None:  # fails its checksum
            return {"history": {}, "meta": {}}, DAMAGED_HISTORY
        return _parse_record(blob)
    sidecar = folder / HISTORY_FILE
    try:
        with open(sidecar, "rb") as fh:
            blob = fh.read(_SIDECAR_LIMIT + 1)
    except OSError:
        blob = None
    if blob is None or len(blob) > _SIDECAR_LIMIT:
        raise SavedModelProblem(
            path, "was not saved by these lessons (it carries no lesson record)", "foreign"
        )
    payload, note = _parse_record(blob)
    payload["older"] = True
    return payload, f"{OLDER_RELEASE}{'; its history is damaged' if note else ''}."


_SIDECAR_LIMIT = 1 << 20


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def _recorded_accuracy(history: dict[str, list[float]]) -> float | None:
    """The validation accuracy the history ends with (what early stopping restores: the best)."""
    values = history.get("val_accuracy") or []
    good = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return max(good) if good else None


# A loaded model scores the probe digits; it is refused when it falls this far below the
# validation accuracy its record claims. An untrained model scores about 10%; a model
# trained on the offline sample and scored on official digits loses about 3 points.
PROBE_SIZE = 500
PROBE_TOLERANCE = 0.15


def load_trained(
    folder: str | os.PathLike | None = None, *, data_info=None, probe=None
) -> Saved | None:
    """The model lesson 04 saved in ``folder``, checked; None when there is none.

    ``probe``: (prepared (n, 784) float32 images, labels) to score the model on; a model
    that scores far below the validation accuracy its record claims is refused.

    Raises SavedModelProblem when the file is damaged (a torn save, not a zip, a bad
    checksum), is larger than a lesson model can be, was not saved by these lessons,
    does not fit the lesson (input (n, 784), 10 outputs, compiled), was trained on
    another kind of data than ``data_info``, or is not the model its record describes.
    A damaged history alone never blocks a good model: it comes back empty, with a note.
    Nothing is written: a read-only folder or a full disk does not matter here.
    """
    folder = resolve_folder(folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        return None
    # One open file: another lesson may replace the model while this one reads it
    # (os.replace gives the name a new file; this one stays whole), so the record and
    # the weights come from the same bytes, with no copy in TMPDIR.
    try:
        with open(model_path, "rb") as fh:
            return _load_open(fh, model_path, data_info, probe)
    except OSError as exc:
        raise SavedModelProblem(
            model_path, f"cannot be read ({why_not_written(exc)})", "unreadable"
        ) from exc


def _load_open(fh, model_path: Path, data_info, probe) -> Saved:
    try:
        with zipfile.ZipFile(fh) as zf:
            check_members(zf, os.fstat(fh.fileno()).st_size)
            payload, note = _read_record(zf, model_path.parent, model_path)
            check_config(read_member(zf, CONFIG_MEMBER))
            model = _keras_load(zf)
    except SavedModelProblem as exc:
        raise SavedModelProblem(model_path, exc.reason, exc.tag) from exc
    except Exception as exc:  # BadZipFile (0-byte or torn file), h5py, Keras...
        raise SavedModelProblem(
            model_path, f"is damaged ({type(exc).__name__}: {str(exc)[:120]})", "damaged"
        ) from exc
    problems = []
    inputs = [_shape(t) for t in model.inputs]
    outputs = [_shape(t) for t in model.outputs]
    if inputs != [(None, 784)]:
        problems.append(f"takes input {inputs} instead of (n, 784)")
    if outputs != [(None, 10)]:
        problems.append(f"gives output {outputs} instead of 10 probabilities")
    if not getattr(model, "compiled", False) or model.optimizer is None:
        problems.append("is not compiled")
    meta = payload["meta"]
    kind = meta.get("data_kind")
    if data_info is not None and kind is not None and kind != data_info.kind:
        problems.append(f"was trained on {meta.get('data', kind)}, not on {data_info.dataset}")
    if problems:
        raise SavedModelProblem(model_path, " and ".join(problems), "mismatched")
    saved = Saved(model, payload["history"], meta, model_path, note)
    if probe is not None:
        _check_probe(saved, probe, payload)
    return saved


def _keras_load(zf: zipfile.ZipFile) -> keras.Model:
    """Keras' own reader, given only Keras' members (already checked), in memory.

    Keras treats a fourth member as assets and extracts the whole archive into TMPDIR;
    an in-memory copy without the lessons' record needs no disk at all (a full TMPDIR, a
    read-only folder) and still reads the bytes opened once.
    """
    from keras.src.saving import saving_lib  # its public load_model wants a path

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in KERAS_MEMBERS:
            if name in zf.namelist():
                with zf.open(name) as src, out.open(name, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    buffer.seek(0)
    return saving_lib.load_model(buffer, safe_mode=True)


def _check_probe(saved: Saved, probe, payload: dict) -> None:
    x, y = probe
    x, y = x[:PROBE_SIZE], np.asarray(y[:PROBE_SIZE])
    probs = saved.model.predict(x, batch_size=len(x), verbose=0)
    saved.probe_accuracy = float(np.mean(probs.argmax(axis=1) == y))
    claimed = _recorded_accuracy(saved.history)
    reason = None
    if claimed is not None and saved.probe_accuracy < claimed - PROBE_TOLERANCE:
        reason = (
            f"claims {claimed:.1%} validation accuracy but scores {saved.probe_accuracy:.1%} "
            f"on {len(y)} test digits: it is not the model its record describes"
        )
    elif claimed is None and saved.probe_accuracy < 0.5:
        reason = f"scores {saved.probe_accuracy:.1%} on {len(y)} test digits: it is not trained"
    if reason and payload.get("steps") == 0:
        reason += " (it was saved before any training step)"
    if reason:
        raise SavedModelProblem(saved.path, reason, "mismatched")


def set_aside(path: Path, tag: str) -> Path:
    """Rename a model that cannot be used to ``<name>.<tag>-<time>``; never delete it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        target = path.with_name(f"{path.name}.{tag}-{stamp}" + (f"-{n}" if n else ""))
        if not target.exists():
            os.replace(path, target)
            return target
    raise OSError(f"could not find a free name to set {path} aside")
