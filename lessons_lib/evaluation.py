"""Test loss and accuracy, the confusion matrix, per-class accuracy and the most confused pairs."""

from __future__ import annotations

import numpy as np

from .data import NUM_CLASSES

# The reference project this series starts from: a dense network reaching 97.50%
# test accuracy and a test loss of about 0.14 (full MNIST, 60,000 training images).
REFERENCE = {"test_accuracy": 0.9750, "test_loss": 0.14, "data": "full MNIST (60,000 / 10,000)"}


def predict_proba(model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """(n, ...) inputs -> (n, 10) float32 probabilities, computed once in large batches."""
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def evaluate(model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> dict[str, float]:
    """{"test_loss": ..., "test_accuracy": ...} from ``model.evaluate``."""
    loss, accuracy = model.evaluate(x, y, batch_size=batch_size, verbose=0)
    return {"test_loss": float(loss), "test_accuracy": float(accuracy)}


def evaluate_and_predict(
    model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[dict[str, float], np.ndarray]:
    """What :func:`evaluate` gives, and the probabilities, from one pass over ``x``.

    A lesson that needs both saves running the network twice (and building Keras' test step
    as well as its predict step). The loss is Keras' own sparse categorical cross-entropy,
    the function the lessons compile with, applied to the probabilities
    (tests/test_training_and_evaluation.py compares the result with ``model.evaluate``).
    """
    import keras

    probs = predict_proba(model, x, batch_size)
    y = np.asarray(y).astype(np.int64)
    losses = keras.losses.sparse_categorical_crossentropy(y, probs)
    result = {
        "test_loss": float(np.mean(keras.ops.convert_to_numpy(losses))),
        "test_accuracy": float((probs.argmax(axis=1) == y).mean()),
    }
    return result, probs


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(10, 10) int64 counts: row = true digit, column = predicted digit."""
    y_true = np.asarray(y_true).astype(np.int64)
    y_pred = np.asarray(y_pred).astype(np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}.")
    return np.bincount(y_true * NUM_CLASSES + y_pred, minlength=NUM_CLASSES**2).reshape(
        NUM_CLASSES, NUM_CLASSES
    )


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """(10,) float: for each true digit, the share of its images predicted correctly."""
    totals = cm.sum(axis=1)
    return np.divide(np.diag(cm), totals, out=np.zeros(len(cm)), where=totals > 0)


def most_confused(cm: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (true, predicted, count), largest first."""
    cells = [
        (int(cm[t, p]), t, p) for t in range(NUM_CLASSES) for p in range(NUM_CLASSES) if t != p
    ]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))  # ties: lower true digit first, always the same
    return [(t, p, n) for n, t, p in cells[:k] if n > 0]


def compare_with_reference(metrics: dict[str, float], data_description: str) -> str:
    """A short table comparing this run's test figures with the reference project's."""
    acc, loss = metrics["test_accuracy"], metrics["test_loss"]
    return (
        f"{'':22s}{'accuracy':>10s}{'loss':>8s}  data\n"
        f"{'this run':22s}{acc:>10.2%}{loss:>8.3f}  {data_description}\n"
        f"{'reference project':22s}{REFERENCE['test_accuracy']:>10.2%}"
        f"{REFERENCE['test_loss']:>8.2f}  {REFERENCE['data']}"
    )


def examples_to_show(probs: np.ndarray, y_true: np.ndarray, each: int = 2) -> dict[str, list[int]]:
    """Test indices worth a look, ``each`` of a kind, for lesson 06's probability figure.

    ``"sure"``: right readings with the highest top probability; ``"unsure"``: the readings
    with the lowest top probability (right or wrong); ``"wrong"``: the first mistakes. An
    index appears once; a kind with too few examples (no mistakes at all) is shorter.
    """
    probs = np.asarray(probs)
    y_true = np.asarray(y_true)
    top = probs.max(axis=1)
    right = probs.argmax(axis=1) == y_true
    taken: set[int] = set()

    def pick(candidates) -> list[int]:
        chosen = [int(i) for i in candidates if int(i) not in taken][:each]
        taken.update(chosen)
        return chosen

    order = np.argsort(-top, kind="stable")
    return {
        "sure": pick(order[right[order]]),
        "unsure": pick(np.argsort(top, kind="stable")),
        "wrong": pick(np.flatnonzero(~right)),
    }
