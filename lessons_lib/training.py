"""Seeds, callbacks and training; lesson 04's recipe in one call, and load-or-train for 05-07."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import keras
import numpy as np

from . import models  # noqa: F401  (importing it makes Keras' progress bar count true steps)
from .preprocess import stratified_split
from .saves import (  # noqa: F401  (saving and loading live in saves.py; these names stay here too)
    HISTORY_FILE,
    META_MEMBER,
    MODEL_FILE,
    Saved,
    SavedModelProblem,
    TrainingDiverged,
    artifacts_dir,
    load_trained,
    save_trained,
    set_aside,
)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's ops deterministic.

    With this, one seed gives the same weights, the same training and the same
    test figures twice on the same machine.
    """
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def cosine_schedule(epochs: int, peak: float, floor: float = 0.05) -> keras.callbacks.Callback:
    """Learning rate that starts at ``peak`` and falls along a half cosine to ``floor * peak``."""

    def rate(epoch: int, _lr: float) -> float:
        progress = epoch / max(epochs - 1, 1)
        return float(peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))))

    return keras.callbacks.LearningRateScheduler(rate)


def fresh_start(model: keras.Model, seed: int) -> keras.Model:
    """``model`` itself if it was never trained; else the same network rebuilt untrained.

    For a cell that trains: run again (after an interrupt, or to see it once more) it starts
    from the same untrained weights as the first time, instead of going on from where the
    last run stopped. The rebuilt model is ``keras.models.clone_model`` after
    ``set_seed(seed)``, compiled as ``model`` was: with the seed ``model`` was built after,
    its weights equal ``model``'s before any training (tests/test_session.py checks this).
    Says so in one line when it rebuilds.
    """
    if int(model.optimizer.iterations.numpy()) == 0:
        return model
    from .fitstate import unfinished

    state = unfinished(model)
    why = f"stopped after {state[0]} of {state[1]} epochs" if state else "trained before"
    set_seed(seed)
    fresh = keras.models.clone_model(model)
    fresh.compile_from_config(model.get_compile_config())
    print(f"This model was {why}; training starts again from fresh, untrained weights.")
    return fresh


class RunProgress(keras.callbacks.Callback):
    """A titled Keras progress bar over every epoch of one ``fit``.

    For a cell that trains several models in a row with ``verbose=0``: each shows one line
    with its title, the steps done of all its epochs, the time left and the loss, instead of
    running silently.
    """

    def __init__(self, title: str):
        super().__init__()
        self.title = title
        self.bar: keras.utils.Progbar | None = None
        self.steps = 0
        self.epoch = 0

    def on_train_begin(self, logs=None):
        self.steps = int(self.params.get("steps") or 0)
        epochs = int(self.params.get("epochs") or 1)
        print(f"{self.title} ({epochs} epoch{'s' if epochs != 1 else ''}):", flush=True)
        self.bar = keras.utils.Progbar(
            self.steps * epochs or None, unit_name="step", stateful_metrics={"loss"}
        )

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        values = [("loss", float(logs["loss"]))] if logs and "loss" in logs else []
        self.bar.update(self.epoch * self.steps + batch + 1, values)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.update(self.bar.target or self.bar._seen_so_far, finalize=True)


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
    progress: str | None = None,
) -> TrainResult:
    """Fit ``model`` on (x, y) with a stratified validation split.

    patience > 0 adds early stopping on validation loss (best weights restored);
    learning_rate_peak adds the cosine schedule from that rate; ``progress``, with
    ``verbose=0``, shows one titled bar over all epochs (:class:`RunProgress`). Returns a
    TrainResult.
    """
    callbacks: list[keras.callbacks.Callback] = [RunProgress(progress)] if progress else []
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
    shift: int = 0,
    progress: str | None = None,
) -> TrainResult:
    """Lesson 04's recipe in one call: seed, build ``dense_model``, train with the cosine schedule.

    ``x_train`` is the prepared (n, 784) float32 input.
    """
    from .models import dense_model

    set_seed(seed)
    model = dense_model(hidden_units, hidden_layers, dropout, learning_rate, shift=shift)
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
        progress=progress,
    )
    return result


def load_or_train(
    folder, images: np.ndarray, labels: np.ndarray, *, data_info=None, **params
) -> tuple[keras.Model, dict, str]:
    """Lesson 04's saved model if there is a usable one in ``folder``; otherwise train one now.

    ``images`` are the raw (n, 28, 28) uint8 training images: they are prepared
    (deskew, flatten, normalize) only when a model has to be trained. A saved model
    that is damaged, foreign or trained on other data (``data_info``) is set aside
    (renamed, never deleted), and a freshly trained one is saved in its place.
    Returns (model, history, one or two sentences saying what happened). ``params``
    are those of :func:`train_lesson_model`.
    """
    folder = artifacts_dir(folder)
    prefix = ""
    try:
        saved = load_trained(folder, data_info=data_info)
    except SavedModelProblem as problem:
        moved = set_aside(problem.path, problem.tag)
        prefix = (
            f"The saved model {problem.reason}, so it was set aside as {moved.name} "
            "and a fresh one is trained now. "
        )
        saved = None
    if saved is not None:
        trained_on = saved.meta.get("data", "unknown data")
        text = f"Loaded the model lesson 04 saved at {saved.path} (trained on {trained_on})."
        return saved.model, saved.history, text + (f" {saved.note}" if saved.note else "")
    from .preprocess import prepare

    result = train_lesson_model(prepare(images), labels, verbose=0, **params)
    if not prefix:
        prefix = f"No saved model in {folder}, so one was trained now (Run lesson 04 to watch it train). "
    try:
        path = save_trained(
            result.model, result.history, folder, meta=dict(params), data_info=data_info
        )
        saved_text = f"It is saved at {path} for the next lessons."
    except TrainingDiverged as exc:
        saved_text = f"It was not saved: {exc}"
    return (
        result.model,
        result.history,
        f"{prefix}({result.epochs_run} epochs, {result.seconds:.0f} s.) {saved_text}",
    )
