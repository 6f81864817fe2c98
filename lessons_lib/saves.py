"""Saving and reloading a trained model with its history, parameters and data identity.

One ``.keras`` file carries all of it; it is written to a temporary file and renamed, and a
model that cannot be used here is set aside (renamed, never deleted).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from . import params

MODEL_FILE = "dense_model.keras"
HISTORY_FILE = "dense_history.json"


def artifacts_dir(path: str | os.PathLike | None = None) -> Path:
    """Where trained models go (created): ``path`` checked like the ``artifacts_dir``
    parameter (relative to the project, never outside it), else <project>/artifacts."""
    target, problem = params.resolve_artifacts(str(path) if path else params.LEARNER_ARTIFACTS)
    if problem:
        raise params.ParameterError([problem])
    target.mkdir(parents=True, exist_ok=True)
    return target


META_MEMBER = "lessons_meta.json"  # inside the .keras zip: history, parameters, data
SAVE_FORMAT = 1


class TrainingDiverged(ValueError):
    """Training produced NaN or infinite values: such a model is never saved."""


class SavedModelProblem(Exception):
    """A saved model that cannot be used here; ``reason`` completes "The saved model ..."."""

    def __init__(self, path: Path, reason: str, tag: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.tag = path, reason, tag


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
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


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
    once leave one complete model with its own history. A model whose loss or
    weights are NaN or infinite is refused (TrainingDiverged), and so is one whose training
    was interrupted (fitstate.TrainingUnfinished). Returns the path.
    """
    from .fitstate import refuse_unfinished

    refuse_unfinished(model)  # a fit cut short by Kernel > Interrupt never replaces a saved model
    _check_finite(model, history)
    folder = artifacts_dir(folder)
    _clean_stale_temporaries(folder)
    model_path = folder / MODEL_FILE
    payload = {
        "format": SAVE_FORMAT,
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "history": history,
        "meta": dict(meta or {}),
    }
    if data_info is not None:
        payload["meta"].update(
            data=data_info.describe(),
            data_kind=data_info.kind,
            data_fingerprint=data_info.fingerprint,
        )
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".dense_model-{os.getpid()}-", suffix=".keras", dir=folder
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(META_MEMBER, json.dumps(payload, default=float))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, model_path)
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return model_path


@dataclass
class Saved:
    model: keras.Model
    history: dict[str, list[float]]
    meta: dict
    path: Path
    note: str = ""  # e.g. that the history could not be read


def _read_meta(path: Path) -> tuple[dict | None, str]:
    """(payload, note): payload None when the file carries no lesson metadata at all."""
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()  # CRC of every member
        if bad is not None and bad != META_MEMBER:
            raise SavedModelProblem(
                path, f"is damaged (member {bad} fails its checksum)", "damaged"
            )
        if META_MEMBER not in zf.namelist():
            return None, ""
        if bad == META_MEMBER:
            return {"history": {}, "meta": {}}, "Its training history is damaged and was skipped."
        try:
            payload = json.loads(zf.read(META_MEMBER))
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            return {"history": {}, "meta": {}}, "Its training history is damaged and was skipped."
    history = payload.get("history")
    ok = isinstance(history, dict) and all(
        isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
        for v in history.values()
    )
    note = "" if ok else "Its training history is damaged and was skipped."
    return {
        "history": history if ok else {},
        "meta": payload.get("meta") if isinstance(payload.get("meta"), dict) else {},
    }, note


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def load_trained(folder: str | os.PathLike | None = None, *, data_info=None) -> Saved | None:
    """The model lesson 04 saved in ``folder``, checked; None when there is none.

    Raises SavedModelProblem when the file is damaged (a torn save, not a zip, a bad
    checksum), was not saved by these lessons, does not fit the lesson (input (n, 784),
    10 outputs, compiled), or was trained on another kind of data than ``data_info``.
    A damaged history alone never blocks a good model: it comes back empty, with a note.
    """
    folder = artifacts_dir(folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        return None
    # One open, one file: another lesson may replace the model while this one reads it,
    # so the record and the weights are read from a private snapshot of the same bytes.
    fd, snap_name = tempfile.mkstemp(prefix="lesson-model-", suffix=".keras")
    snapshot = Path(snap_name)
    try:
        with open(model_path, "rb") as src, os.fdopen(fd, "wb") as dst:
            size = os.fstat(src.fileno()).st_size
            if size > MAX_MODEL_BYTES:
                raise SavedModelProblem(
                    model_path,
                    f"is {size / 2**20:.0f} MB, far larger than a lesson model (a few MB)",
                    "foreign",
                )
            shutil.copyfileobj(src, dst)
        return _load_snapshot(snapshot, model_path, data_info)
    finally:
        with contextlib.suppress(OSError):
            snapshot.unlink()


MAX_MODEL_BYTES = 512 * 2**20


def _load_snapshot(snapshot: Path, model_path: Path, data_info) -> Saved:
    try:
        payload, note = _read_meta(snapshot)
    except SavedModelProblem as exc:
        raise SavedModelProblem(model_path, exc.reason, exc.tag) from exc
    except Exception as exc:  # BadZipFile (0-byte or torn file), OSError...
        raise SavedModelProblem(
            model_path, f"is damaged ({type(exc).__name__}: {str(exc)[:120]})", "damaged"
        ) from exc
    if payload is None:
        raise SavedModelProblem(
            model_path, "was not saved by these lessons (it carries no lesson record)", "foreign"
        )
    try:
        model = keras.models.load_model(snapshot, safe_mode=True)
    except Exception as exc:
        raise SavedModelProblem(
            model_path, f"cannot be loaded ({type(exc).__name__}: {str(exc)[:120]})", "damaged"
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
    return Saved(model, payload["history"], meta, model_path, note)


def set_aside(path: Path, tag: str) -> Path:
    """Rename a model that cannot be used to ``<name>.<tag>-<time>``; never delete it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        target = path.with_name(f"{path.name}.{tag}-{stamp}" + (f"-{n}" if n else ""))
        if not target.exists():
            os.replace(path, target)
            return target
    raise OSError(f"could not find a free name to set {path} aside")
