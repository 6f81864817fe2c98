"""Seeds, callbacks and training; lesson 04's recipe in one call, and load-or-train for 05-07."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import NamedTuple

import keras
import numpy as np

from . import (
    models,  # noqa: F401  (importing it makes Keras' progress bar count true steps)
    params,
)
from .preprocess import stratified_split
from .saves import (  # noqa: F401  (saving and loading live in saves.py; these names stay here too)
    HISTORY_FILE,
    META_MEMBER,
    MODEL_FILE,
    PROBE_SIZE,
    Saved,
    SavedModelProblem,
    SaveFailed,
    TrainingDiverged,
    UntrainedModel,
    artifacts_dir,
    load_trained,
    resolve_folder,
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
        # The last batch of the last epoch already finished the bar (Progbar does at its
        # target); finishing it again printed the final line twice. Only a fit stopped
        # before its end (early stopping, an unknown step count) is closed here.
        if self.bar is None:
            return
        done = self.bar._seen_so_far
        if self.bar.target is None or done < self.bar.target:
            self.bar.update(done, finalize=True)


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
    callbacks: list[keras.callbacks.Callback] | tuple = (),
    progress: str | None = None,
) -> TrainResult:
    """Fit ``model`` on (x, y) with a stratified validation split.

    patience > 0 adds early stopping on validation loss (best weights restored);
    learning_rate_peak adds the cosine schedule from that rate; ``callbacks`` are added
    after those; ``progress``, with ``verbose=0``, shows one titled bar over all epochs
    (:class:`RunProgress`). Returns a TrainResult.
    """
    extra = list(callbacks)
    callbacks = [RunProgress(progress)] if progress else []
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
    callbacks += extra
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
    callbacks: list[keras.callbacks.Callback] | tuple = (),
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
        callbacks=callbacks,
        progress=progress,
    )
    return result


# Measured: lesson 04's default network (357,130 weights) trained 18 epochs on 54,000 images
# in 19.74 s on two cores (benchmarks/results/mnist-full.json, "lesson_dense"), and took
# 1.35 times as long on one core with one thread (README: 27.5 s against 20.4 s). That
# run had an untimed warm-up; a lesson pays Keras' start-up (building and tracing the
# training step) in its first epoch: 3.4 epochs' worth, measured on full MNIST on this
# machine under load (first epochs 22.9 s and 22.4 s against 4.0 to 12.2 s for the
# following ones), so about 3.7 s at the pace above.
MEASURED_SECONDS, MEASURED_EPOCHS, MEASURED_IMAGES, MEASURED_WEIGHTS = 19.74, 18, 54_000, 357_130
ONE_CORE_FACTOR = 1.35
STARTUP_SECONDS = 3.4 * MEASURED_SECONDS / MEASURED_EPOCHS


def expected_seconds(n_images: int, settings) -> float:
    """Training time to expect, scaled from the measured run by images, epochs and weights."""
    from .savecheck import dense_params

    weights = dense_params(settings.hidden_units, settings.hidden_layers)
    per_image_epoch = MEASURED_SECONDS / (MEASURED_EPOCHS * MEASURED_IMAGES)
    scale = max(weights / MEASURED_WEIGHTS, 0.25)  # small networks still pay Keras' overhead
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    slower = ONE_CORE_FACTOR if cores < 2 else 1.0
    return (STARTUP_SECONDS + per_image_epoch * n_images * settings.epochs * scale) * slower


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _say_time(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.0f} minutes"


class EpochProgress(keras.callbacks.Callback):
    """One line that shows how far training is, updated after each epoch (in place in a
    notebook, one printed line each elsewhere)."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs, self.start, self.handle = epochs, time.perf_counter(), None

    def _show(self, text: str) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import Pretty, display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            if self.handle is None:
                self.handle = display(Pretty(text), display_id=True)
            else:
                self.handle.update(Pretty(text))
        else:
            print(text, flush=True)

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self._show(f"training: epoch 0 of {self.epochs}")

    def on_epoch_end(self, epoch, logs=None):
        done, spent = epoch + 1, time.perf_counter() - self.start
        accuracy = (logs or {}).get("val_accuracy")
        text = f"training: epoch {done} of {self.epochs}"
        if accuracy is not None:
            text += f", validation accuracy {accuracy:.1%}"
        left = spent / done * (self.epochs - done)
        text += f", {spent:.0f} s so far" + (f", about {left:.0f} s to go" if left >= 1 else "")
        self._show(text)


class Ready(NamedTuple):
    """What :func:`load_or_train` gives: the model, its history, and what it did (printed too)."""

    model: keras.Model
    history: dict[str, list[float]]
    story: str


def _save(result: TrainResult, folder, settings, info) -> str:
    """Save a model trained by load_or_train; one sentence saying where, or why not."""
    try:
        path = save_trained(
            result.model, result.history, folder, meta=settings.recipe(), data_info=info
        )
    except (TrainingDiverged, UntrainedModel) as exc:
        return f"It was not saved: {exc}"
    except SaveFailed as exc:
        return (
            f"It could not be saved in {exc.folder} ({exc.why}); this lesson uses it from "
            "memory, and the next lesson will train its own."
        )
    return f"It is saved at {path} for the next lessons."


def load_or_train(data, settings=None) -> Ready:
    """Lesson 04's saved model if there is a usable one; otherwise train one now and save it.

    ``data``: what :func:`lessons_lib.data.load_mnist` returned (raw (n, 28, 28) uint8
    images, prepared only if a model has to be trained; its ``.info`` is checked against
    the model's record). ``settings``: :func:`lessons_lib.params.training_settings` of the
    lesson's parameters (where the model is saved, and the recipe used if one must be
    trained). A saved model that is damaged, foreign, trained on other data or not what its
    record says (it is scored on a few test digits) is set aside (renamed, never deleted).
    Says what it does as it goes: before training, why and for how long; while training,
    the epochs; a model that cannot be saved (read-only folder, full disk) is used from
    memory, and the lesson says so. Returns ``(model, history, story)``.
    """
    from .preprocess import prepare

    settings = settings if settings is not None else params.TrainingSettings()
    (x, y), (x_test, y_test) = data
    info = getattr(data, "info", None)
    folder = resolve_folder(settings.artifacts_dir)
    story: list[str] = []
    keep_out = None  # a saved model this lesson may not read, so must not replace
    probe = (prepare(x_test[:PROBE_SIZE]), y_test[:PROBE_SIZE])
    try:
        saved = load_trained(folder, data_info=info, probe=probe)
    except SavedModelProblem as problem:
        saved = None
        if problem.tag == "unreadable":  # someone else's file: neither moved nor replaced
            keep_out = problem.path
            story.append(f"The saved model {problem.reason}, so it is left as it is.")
        else:
            try:
                moved = set_aside(problem.path, problem.tag)
                story.append(
                    f"The saved model {problem.reason}, so it was set aside as {moved.name}."
                )
            except OSError as exc:
                keep_out = problem.path
                story.append(
                    f"The saved model {problem.reason}; it could not be set aside "
                    f"({params.why_not_written(exc)}), so it stays as it is and is not used."
                )
    if saved is not None:
        trained_on = str(saved.meta.get("data", "unknown data")).rstrip(". ")
        text = (
            f"Loaded lesson 04's network from {saved.path} (trained on {trained_on}). "
            f"A quick check before using it: {saved.probe_accuracy:.1%} right on the first "
            f"{len(probe[1])} test digits."
        )
        text += f" {saved.note}" if saved.note else ""
        print(text)
        return Ready(saved.model, saved.history, text)

    n_fit = round(len(x) * (1 - settings.validation_fraction))
    story.append(
        (
            "Lesson 04's network"
            if story
            else f"There is no saved model in {folder}, so lesson 04's network"
        )
        + f" is trained now: up to {_count(settings.epochs, 'epoch')} of "
        f"{n_fit:,} images, about {_say_time(expected_seconds(n_fit, settings))} "
        "(scaled from a measured run). Run lesson 04 to see it explained and saved."
    )
    print(" ".join(story), flush=True)
    result = train_lesson_model(
        prepare(x),
        y,
        verbose=0,
        callbacks=[EpochProgress(settings.epochs)],
        **settings.recipe(),
    )
    done = f"Trained: {_count(result.epochs_run, 'epoch')} in {result.seconds:.0f} s."
    if keep_out is not None:
        done += (
            f" It is not saved, so that {keep_out.name} stays as it is; this lesson uses it "
            "from memory."
        )
    else:
        done += " " + _save(result, folder, settings, info)
    print(done)
    story.append(done)
    return Ready(result.model, result.history, " ".join(story))
