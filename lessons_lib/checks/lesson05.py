"""Lesson 05's exercises: accuracy from predictions, read the confusion matrix."""

from __future__ import annotations

import numpy as np

from .core import CheckResult, Exercise, Refusal, Slip, check, close_scalar, number

ACCURACY = Exercise(
    "05",
    "accuracy",
    "compare the predictions with the true labels, one image at a time: that gives a True or "
    "False per image. What share of them is True?",
)
CONFUSION = Exercise(
    "05",
    "confusion",
    "in the confusion matrix the row is the true digit and the column the predicted one; "
    "index the one cell you need.",
)


@check(ACCURACY)
def check_accuracy(answer, y_true: np.ndarray, y_pred: np.ndarray) -> CheckResult:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    hits = y_pred == y_true
    right = float(np.mean(hits))
    n, correct = len(y_true), int(hits.sum())
    slips = [
        Slip(
            "the accuracy as a percentage",
            100 * right,
            "the exercise asks for a fraction between 0 and 1.",
        ),
        Slip(
            "the error rate",
            1 - right,
            "that is the share of predictions that are wrong; accuracy is the share that is right.",
        ),
        Slip(
            "the number of correct predictions",
            correct,
            "divide by how many predictions there are, to get a share.",
        ),
        Slip(
            "the number of wrong predictions",
            n - correct,
            "that counts the mistakes; the accuracy is the share of predictions that are right.",
        ),
    ]
    refusals = [
        Refusal(
            lambda a: isinstance(a, np.ndarray) and a.dtype == bool and a.shape == hits.shape,
            "that is one True/False per image; the accuracy is the share of them that is True "
            "(the mean of a True/False array is that share).",
        ),
        Refusal(
            lambda a: isinstance(a, list) and len(a) == 2,
            "that is a list of two numbers (what model.evaluate returns?); the answer is the "
            "accuracy alone, computed from y_pred and the true labels.",
        ),
    ]

    def unnamed(value: float) -> str | None:
        if abs(value - right) < 0.01:
            return (
                f"{number(value)} is close to the accuracy but not equal to it: rounded, or "
                "computed on other images? Use y_pred and the true labels of the whole test "
                "set, unrounded."
            )
        return None

    return ACCURACY.judge_number(
        answer,
        right,
        f"{number(right)}, that is {right:.2%}.",
        slips,
        whole=False,
        close=close_scalar(abs_=1e-6),
        refusals=refusals,
        unnamed=unnamed,
    )


@check(CONFUSION)
def check_confusion_count(answer, cm: np.ndarray, true: int, predicted: int) -> CheckResult:
    cm = np.asarray(cm)
    right = int(cm[true, predicted])
    row = cm[true].sum()
    slips = [
        Slip(
            f"cm[{predicted}, {true}], the {predicted}s read as {true}",
            int(cm[predicted, true]),
            "rows are the true digit, columns the prediction.",
        ),
        Slip(
            f"the whole row {true} (every test image of a {true})",
            int(row),
            "pick the column of the prediction in that row.",
        ),
        Slip(
            f"the whole column {predicted} (every image read as {predicted})",
            int(cm[:, predicted].sum()),
            "pick the row of the true digit in that column.",
        ),
        Slip(
            f"cm[{true}, {true}], the {true}s read correctly",
            int(cm[true, true]),
            "the diagonal holds the right readings; the mistake is off it.",
        ),
        Slip(
            f"cm[{predicted}, {predicted}], the {predicted}s read correctly",
            int(cm[predicted, predicted]),
            "the diagonal holds the right readings; the mistake is off it.",
        ),
        Slip(
            f"the share of {true}s read as {predicted} (a fraction of the row)",
            float(right / row) if row else None,
            "the question asks how many images, a count: the plain matrix, not the normalized one.",
        ),
        Slip(
            f"the percentage of {true}s read as {predicted}",
            float(100 * right / row) if row else None,
            "the question asks how many images, a count: the plain matrix, not the normalized one.",
        ),
    ]
    if true >= 1 and predicted >= 1:
        slips.append(
            Slip(
                f"cm[{true - 1}, {predicted - 1}]",
                int(cm[true - 1, predicted - 1]),
                f"rows and columns are numbered from 0, so digit {true} is row {true} itself.",
            )
        )
    if isinstance(answer, (float, np.floating)) and not float(answer).is_integer():
        shares = [s for s in slips if isinstance(s.value, float)]
        matched = CONFUSION.matches(float(answer), float(right), shares, close_scalar(1e-4))
        if matched:
            return CONFUSION.named(number(answer), matched)
    return CONFUSION.judge_number(
        answer,
        right,
        f"{number(right)} images of {true} were read as {predicted}.",
        [s for s in slips if isinstance(s.value, int)],
        whole=True,
    )
