"""Lesson 08's exercises: the loss of a batch, a gradient by hand, one gradient-descent step."""

from __future__ import annotations

import math

import numpy as np

from .core import (
    CheckResult,
    Exercise,
    Refusal,
    Slip,
    _is_tensor,
    check,
    close_array,
    close_scalar,
    describe,
    number,
)

BATCH_LOSS = Exercise(
    "08",
    "batch_loss",
    "you need one probability per image: the one in its row at the column of its true digit. "
    "Index `probs` with two arrays, one for the rows and one for the columns; then the natural "
    "log, the mean, and a minus sign.",
)
BIAS_GRADIENT = Exercise(
    "08",
    "bias_gradient",
    "turn the labels into one-hot rows (an identity matrix has one such row per digit), "
    "subtract them from the probabilities, and average over the images: keep one number "
    "per digit.",
)
SGD_STEP = Exercise(
    "08",
    "sgd_step",
    "the gradient points uphill; step the other way, by the learning rate times the gradient, "
    "starting from the current weights.",
)

_TENSOR_BY_HAND = Refusal(
    _is_tensor,
    "that is a TensorFlow tensor; this exercise does it by hand in NumPy, on NumPy arrays "
    "(probs and y_batch are NumPy already).",
)


@check(BATCH_LOSS)
def check_batch_loss(answer, probs: np.ndarray, labels: np.ndarray) -> CheckResult:
    """The mean sparse categorical cross-entropy of one batch: -mean(ln p[true digit])."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels).astype(int)
    n = len(y)
    with np.errstate(divide="ignore"):
        log_p = np.log(np.clip(p, 1e-300, 1))
    per_image = -log_p[np.arange(n), y]
    right = float(per_image.mean())
    slips = [
        Slip(
            "minus the mean log of ALL the probabilities",
            float(-log_p.mean()),
            "that averages every digit's probability; the loss takes only each image's "
            "probability of its true digit.",
        ),
        Slip(
            "the loss without its minus sign",
            -right,
            "the log of a probability is negative, so the loss puts a minus in front.",
        ),
        Slip(
            f"the sum over the {n} images",
            right * n,
            "Keras reports the mean over the batch, not the sum.",
        ),
        Slip(
            "the loss in log base 10",
            right / math.log(10),
            "cross-entropy uses the natural log.",
        ),
        Slip(
            "the loss of the largest probability in each row",
            float(-log_p.max(axis=1).mean()),
            "the loss needs the probability of the TRUE digit, whatever the network guessed.",
        ),
        Slip(
            "probs[:, y_batch], every image paired with every label",
            lambda: float(-log_p[:, y].mean()),
            "[:, y_batch] picks the labels' columns for every image (a table of n x n); pair "
            "each row with its own label: one array of row numbers, one of labels.",
        ),
        Slip(
            "probs[y_batch], rows picked by the labels",
            lambda: float(-log_p[y].mean()) if y.max(initial=0) < len(p) else None,
            "indexing with the labels alone picks rows (images), not columns (digits).",
        ),
        Slip(
            "minus the log of the mean probability",
            float(-np.log(max(float(np.exp(-per_image).mean()), 1e-300))),
            "the loss is the mean of the logs, not the log of the mean: take the log first.",
        ),
        Slip(
            "ln 10, the loss of a network that gives exactly 1/10 to every digit",
            math.log(10),
            "this batch's loss is near ln 10 but not equal: compute it from probs.",
        ),
    ]
    refusals = [
        _TENSOR_BY_HAND,
        Refusal(
            lambda a: isinstance(a, np.ndarray) and a.shape == (n,),
            "that is one loss per image; the batch's loss is their mean.",
        ),
    ]
    return BATCH_LOSS.judge_number(
        answer,
        right,
        f"{number(right)}: the same number Keras reports as loss.",
        slips,
        whole=False,
        close=close_scalar(rel=1e-4, abs_=1e-6),
        slip_close=close_scalar(rel=1e-5, abs_=1e-7),  # with small weights the slips lie close
        refusals=refusals,
    )


@check(BIAS_GRADIENT)
def check_bias_gradient(answer, probs: np.ndarray, labels: np.ndarray) -> CheckResult:
    """d loss / d bias of a softmax layer: mean over the batch of (probabilities - one-hot)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels).astype(int)
    onehot = np.eye(p.shape[1])[y]
    diff = p - onehot
    right = diff.mean(axis=0)
    slips = [
        Slip("minus the gradient", -right, "probabilities minus one-hot, not the other way."),
        Slip(
            "the sum over the batch",
            diff.sum(axis=0),
            "the loss is a mean over the images, so its gradient is too.",
        ),
        Slip(
            "the mean probabilities, without the one-hot labels",
            p.mean(axis=0),
            "subtract the one-hot labels: 1 at each image's true digit.",
        ),
        Slip(
            "probabilities minus the label numbers themselves",
            p.mean(axis=0) - y.mean(),
            "subtracting the labels as numbers (3, 7...) is not one-hot: label 3 must become "
            "a row with a 1 at position 3 and 0 elsewhere.",
        ),
        Slip(
            "the gradient of every image (not averaged)",
            diff,
            "that is one row per image; average over the images (the first axis).",
        ),
        Slip(
            "the mean across the digits (axis=1)",
            diff.mean(axis=1),
            "that averages each image's ten numbers (they always cancel out to 0); average "
            "over the images instead, the other axis.",
        ),
        Slip(
            "the sum divided by 10",
            diff.sum(axis=0) / p.shape[1],
            f"divide by the batch size ({len(y)} images), not by the number of digits.",
        ),
    ]

    def wrong_shape(shape: tuple) -> str:
        return (
            f"shape {shape}; the bias has {len(right)} entries, one per digit, so its gradient "
            "does too."
        )

    return BIAS_GRADIENT.judge_array(
        answer,
        right,
        "the network's surplus belief in each digit, averaged over the batch. "
        "Below, tf.GradientTape works it out too: compare.",
        slips,
        close=close_array(atol=1e-5),
        refusals=[
            _TENSOR_BY_HAND,
            Refusal(
                lambda a: isinstance(a, (float, np.floating)),
                "that is one number, the mean of everything; keep one number per digit "
                "(average over the images only).",
            ),
        ],
        wrong_shape=wrong_shape,
        unnamed=lambda value: "not the gradient yet.",
    )


def compare_with_tape(my_db, db) -> str:
    """One line after the tape: does the learner's exercise 8.2 answer equal the tape's db?"""
    tape = np.asarray(db.numpy() if hasattr(db, "numpy") else db, dtype=np.float64)
    if my_db is None:
        return "Exercise 8.2 is not answered yet: the tape's db is above; try the exercise."
    try:
        mine = np.asarray(my_db, dtype=np.float64)
        same = mine.shape == tape.shape and bool(np.allclose(mine, tape, atol=1e-5))
    except (TypeError, ValueError):
        same = False
    if same:
        largest = number(float(np.abs(mine - tape).max()))
        return f"Your my_db equals the tape's db (largest difference {largest})."
    return (
        f"Your my_db ({describe(my_db)}) differs from the tape's db: "
        "see the message under exercise 8.2."
    )


@check(SGD_STEP)
def check_sgd_step(
    answer, weights: np.ndarray, gradient: np.ndarray, learning_rate: float
) -> CheckResult:
    """One step of plain gradient descent: weights - learning_rate * gradient."""
    w = np.asarray(weights, dtype=np.float64)
    g = np.asarray(gradient, dtype=np.float64)
    lr = float(learning_rate)
    right = w - lr * g
    if (
        isinstance(answer, np.ndarray)
        and answer is weights
        or (
            isinstance(answer, np.ndarray)
            and isinstance(weights, np.ndarray)
            and np.shares_memory(answer, weights)
        )
    ):
        return SGD_STEP.wrong(
            "new_W is W itself (changed in place with -= ?): the lesson still needs the "
            "old W below. Run the cells above again to restore W, then give new_W a new array."
        )
    slips = [
        Slip(
            "a step that goes uphill",
            lambda: w + lr * g,
            "the gradient points where the loss grows, so subtract it.",
        ),
        Slip(
            "a full gradient step",
            lambda: w - g,
            "that is far too big a step: scale the gradient by the learning rate.",
        ),
        Slip(
            "only the change",
            lambda: -lr * g,
            "add it to the current weights.",
        ),
        Slip(
            "the gradient divided by the learning rate",
            lambda: w - g / lr if lr else None,
            "multiply the gradient by the learning rate, do not divide.",
        ),
    ]
    refusals = [
        Refusal(
            _is_tensor,
            "that is a TensorFlow tensor; this step is done in NumPy, like W: use dW.numpy().",
        )
    ]

    def unnamed(value: np.ndarray) -> str:
        step = w - value
        scale = float(np.sum(g * g))
        if scale > 0:
            rate = float(np.sum(step * g)) / scale  # the rate that best explains the step
            consistent = np.allclose(value, w - rate * g, atol=1e-6)
            if rate > 0 and consistent and not math.isclose(rate, lr, rel_tol=1e-2):
                return (
                    f"that is a step of {number(rate)} x the gradient; the learning rate is "
                    f"hand_learning_rate = {number(lr)}."
                )
        return "not the step yet."

    return SGD_STEP.judge_array(
        answer,
        right,
        "downhill by learning_rate x gradient: the same weights Keras' SGD gives.",
        slips,
        close=close_array(atol=1e-6),
        refusals=refusals,
        unnamed=unnamed,
        wrong_shape=lambda s: f"the new weights have the old ones' shape {w.shape}, got {s}.",
    )
