"""Lesson 04's exercises: compile with the right loss, find the best epoch."""

from __future__ import annotations

import numpy as np

from .core import CheckResult, Exercise, Refusal, Slip, check, close_scalar, describe, number

COMPILE = Exercise(
    "04",
    "compile",
    "call the model's compile method with three things: the optimizer the lesson uses, "
    "a loss for integer labels (not one-hot), and the accuracy metric.",
)
BEST_EPOCH = Exercise(
    "04",
    "best_epoch",
    "find the position of the lowest value in the validation loss list; remember Python counts "
    "positions from 0 while Keras counts epochs from 1.",
)


def _plain(name) -> str:
    return str(name).lower().replace("_", "")


def _loss_name(model) -> tuple[str, bool]:
    """The compiled loss's name (lower case, no underscores) and whether it expects logits."""
    loss = model.loss
    if isinstance(loss, str):
        return _plain(loss), False
    config = {}
    try:
        config = loss.get_config() or {}
    except (AttributeError, TypeError, NotImplementedError):
        pass
    name = config.get("name") or getattr(loss, "name", None) or getattr(loss, "__name__", None)
    return _plain(name or type(loss).__name__), bool(config.get("from_logits", False))


def _metrics(model) -> list[str]:
    try:
        metrics = model.get_compile_config().get("metrics") or []
    except (AttributeError, TypeError, ValueError):
        return []
    if isinstance(metrics, dict):
        metrics = list(metrics.values())
    names = []
    for m in metrics if isinstance(metrics, (list, tuple)) else [metrics]:
        if isinstance(m, dict):
            m = (m.get("config") or {}).get("name") or m.get("class_name", "")
        names.append(_plain(getattr(m, "name", m)))
    return names


@check(COMPILE, blank=False)
def check_compiled(model) -> CheckResult:
    import keras

    if model is None:
        return COMPILE.wrong(
            "my_model is None: compile changes the model in place and gives back None, so "
            "`my_model = my_model.compile(...)` throws the model away. Run the cell that builds "
            "my_model again, and call my_model.compile(...) without assigning its result."
        )
    if not isinstance(model, keras.Model):
        return COMPILE.wrong(f"my_model is {describe(model)}, not a Keras model.", hint=True)
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        return COMPILE.wrong("the model is not compiled yet.", hint=True)
    name, from_logits = _loss_name(model)
    if name != "sparsecategoricalcrossentropy":
        if "categoricalcrossentropy" in name:
            return COMPILE.wrong(
                "categorical cross-entropy expects one-hot labels like [0,0,1,0,...]; our "
                "labels are plain integers 0..9, which is what the sparse version takes."
            )
        if "binarycrossentropy" in name:
            return COMPILE.wrong(
                "binary cross-entropy is for one yes/no output; here each image is one of ten "
                "digits, given as an integer label."
            )
        if "meansquared" in name or name == "mse":
            return COMPILE.wrong(
                "mean squared error suits predicting a number, not choosing one of ten classes; "
                "use the cross-entropy for integer labels."
            )
        return COMPILE.wrong(
            f"the loss '{name}' is not the cross-entropy for integer labels.", hint=True
        )
    if from_logits:
        return COMPILE.wrong(
            "from_logits=True tells the loss the outputs are raw scores, but this model ends in "
            "softmax: they are already probabilities. Leave from_logits out."
        )
    optimizer = type(model.optimizer).__name__
    if optimizer.lower() != "adam":
        default = " (what Keras uses when no optimizer is given)" if optimizer == "RMSprop" else ""
        return COMPILE.wrong(f"the optimizer is {optimizer}{default}; this lesson uses Adam.")
    metrics = _metrics(model)
    if not metrics:
        return COMPILE.wrong(
            "no metrics: fit would report only the loss. Ask for accuracy too (metrics is a list)."
        )
    if not any(m in ("accuracy", "acc", "sparsecategoricalaccuracy") for m in metrics):
        if any("categoricalaccuracy" in m for m in metrics):
            return COMPILE.wrong(
                "categorical accuracy expects one-hot labels; with integer labels ask for "
                "'accuracy'."
            )
        return COMPILE.wrong("the metrics do not include accuracy.", hint=True)
    return COMPILE.right("Adam, sparse categorical cross-entropy, and accuracy.")


@check(BEST_EPOCH)
def check_best_epoch(answer, history: dict) -> CheckResult:
    val = np.asarray(history["val_loss"], dtype=np.float64)
    best = int(np.argmin(val)) + 1
    slips = [
        Slip(
            "the 0-based position of the lowest validation loss",
            best - 1,
            "Python counts positions from 0, Keras counts epochs from 1.",
        ),
        Slip(
            "the lowest validation loss itself",
            float(val.min()),
            "that is how low the loss got, not the epoch in which it got there.",
        ),
        Slip(
            "the epoch with the highest validation loss",
            int(np.argmax(val)) + 1,
            "look for the lowest validation loss, not the highest.",
        ),
        Slip(
            "the last epoch",
            len(val),
            "the last epoch is not always the best: look for the lowest validation loss.",
        ),
    ]
    if "loss" in history:
        train = np.asarray(history["loss"], dtype=np.float64)
        slips += [
            Slip(
                "the epoch with the lowest training loss",
                int(np.argmin(train)) + 1,
                "the best epoch is judged on the validation loss, which the model did not "
                "train on.",
            ),
            Slip(
                "the lowest training loss itself",
                float(train.min()),
                "that is a loss value (and the training one), not an epoch number.",
            ),
        ]
    if "val_accuracy" in history:
        acc = np.asarray(history["val_accuracy"], dtype=np.float64)
        slips.append(
            Slip(
                "the epoch with the highest validation accuracy",
                int(np.argmax(acc)) + 1,
                "the exercise asks for the lowest validation loss, not the best accuracy.",
            )
        )
    refusals = [
        Refusal(
            lambda a: isinstance(a, (list, tuple, dict)),
            f"that is {describe(answer)}; the answer is one epoch number.",
        )
    ]
    if isinstance(answer, (float, np.floating)) and not float(answer).is_integer():
        losses = [s for s in slips if isinstance(s.value, float)]
        matched = BEST_EPOCH.matches(float(answer), float(best), losses, close_scalar(1e-6))
        if matched:  # a loss value where an epoch number is asked
            return BEST_EPOCH.named(number(answer), matched)
    return BEST_EPOCH.judge_number(
        answer,
        best,
        f"epoch {best}, validation loss {number(float(val[best - 1]))}.",
        [s for s in slips if not isinstance(s.value, float)],
        whole=True,
        refusals=refusals,
    )
