"""Seeds, callbacks, training, and saving or reloading a trained model with its history."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from .preprocess import stratified_split

MODEL_FILE = "dense_model.keras"
HISTORY_FILE = "dense_history.json"


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's ops deterministic.

    With this, one seed gives the same weights, the same training and the same
    test figures twice on the same machine.
    """
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The folder holding pyproject.toml above ``start`` (default: the working folder)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "lessons_lib").is_dir():
            return folder
    return None


def artifacts_dir(path: str | os.PathLike | None = None) -> Path:
    """Where trained models go: ``path`` if given, else <project>/artifacts (created)."""
    if path:
        folder = Path(path).expanduser()
    else:
        root = project_root()
        folder = (root or Path.cwd()) / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def cosine_schedule(epochs: int, peak: float, floor: float = 0.05) -> keras.callbacks.Callback:
    """Learning rate that starts at ``peak`` and falls along a half cosine to ``floor * peak``."""

    def rate(epoch: int, _lr: float) -> float:
        progress = epoch / max(epochs - 1, 1)
        return float(peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))))

    return keras.callbacks.LearningRateScheduler(rate)


@dataclass
class TrainResult:
    """A trained model, its per-epoch history and how long ``fit`` took."""

    model: keras.Model
    history: dict[str, list[float]]
    seconds: float

    @property
    def epochs_run(self) -> int:
        return len(self.history.get("loss", []))


def train(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    validation_fraction: float = 0.1,
    patience: int = 0,
    seed: int = 0,
    learning_rate_peak: float | None = None,
    verbose: int | str = "auto",
) -> TrainResult:
    """Fit ``model`` on (x, y) with a stratified validation split.

    patience > 0 adds early stopping on validation loss (best weights restored);
    learning_rate_peak adds the cosine schedule from that rate. Returns a TrainResult.
    """
    callbacks: list[keras.callbacks.Callback] = []
    validation_data = None
    if validation_fraction > 0:
        (x, y), validation_data = stratified_split(x, y, validation_fraction, seed=seed)
    if patience > 0 and validation_data is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=patience, restore_best_weights=True
            )
        )
    if learning_rate_peak:
        callbacks.append(cosine_schedule(epochs, learning_rate_peak))
    start = time.perf_counter()
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation_data,
        validation_batch_size=2048,  # score held-out images in big batches: same result, faster
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    clean = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return TrainResult(model, clean, seconds)


def save_trained(
    model: keras.Model,
    history: dict[str, list[float]],
    folder: str | os.PathLike | None = None,
    *,
    meta: dict | None = None,
) -> Path:
    """Save the model (native .keras format) and its history + ``meta`` as JSON. Returns the model path."""
    folder = artifacts_dir(folder)
    model_path = folder / MODEL_FILE
    model.save(model_path)
    payload = {"history": history, "meta": meta or {}}
    (folder / HISTORY_FILE).write_text(json.dumps(payload, indent=2))
    return model_path


@dataclass
class Saved:
    model: keras.Model
    history: dict[str, list[float]]
    meta: dict
    path: Path


def load_trained(folder: str | os.PathLike | None = None) -> Saved | None:
    """The model saved by lesson 04, or None when there is none in ``folder``."""
    folder = artifacts_dir(folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        return None
    model = keras.models.load_model(model_path)
    payload = {"history": {}, "meta": {}}
    if (folder / HISTORY_FILE).is_file():
        payload = json.loads((folder / HISTORY_FILE).read_text())
    return Saved(model, payload.get("history", {}), payload.get("meta", {}), model_path)


def train_lesson_model(
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    hidden_units: int,
    hidden_layers: int,
    dropout: float,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    validation_fraction: float,
    patience: int,
    seed: int,
    verbose: int | str = "auto",
) -> TrainResult:
    """Lesson 04's recipe in one call: seed, build ``dense_model``, train with the cosine schedule.

    ``x_train`` is the prepared (n, 784) float32 input.
    """
    from .models import dense_model

    set_seed(seed)
    model = dense_model(hidden_units, hidden_layers, dropout, learning_rate)
    result = train(
        model,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        validation_fraction=validation_fraction,
        patience=patience,
        seed=seed,
        learning_rate_peak=learning_rate,
        verbose=verbose,
    )
    return result


def load_or_train(
    folder, images: np.ndarray, labels: np.ndarray, **params
) -> tuple[keras.Model, dict, str]:
    """Lesson 04's saved model if there is one in ``folder``; otherwise train one now.

    ``images`` are the raw (n, 28, 28) uint8 training images: they are prepared
    (deskew, flatten, normalize) only when a model has to be trained. Returns
    (model, history, a sentence saying which happened). ``params`` are those of
    :func:`train_lesson_model`.
    """
    saved = load_trained(folder)
    if saved is not None:
        trained_on = saved.meta.get("data", "unknown data")
        return (
            saved.model,
            saved.history,
            f"Loaded the model lesson 04 saved at {saved.path} (trained on {trained_on}).",
        )
    from .preprocess import prepare

    result = train_lesson_model(prepare(images), labels, verbose=0, **params)
    return (
        result.model,
        result.history,
        f"No saved model in {artifacts_dir(folder)}, so one was trained now "
        f"({result.epochs_run} epochs, {result.seconds:.0f} s). Run lesson 04 to train and save it there.",
    )
