"""Lesson 01's exercises: count the training images, the most common digit."""

from __future__ import annotations

import numpy as np

from .core import CheckResult, Exercise, Refusal, Slip, check, number

COUNT = Exercise(
    "01", "count", "the first number of an array's shape counts its images; `len` gives it too."
)
MOST_COMMON = Exercise(
    "01",
    "most_common",
    "first count how many times each digit appears in `y_train`; then ask which digit has the "
    "largest count.",
)


@check(COUNT)
def check_train_count(answer, x_train: np.ndarray, n_test: int | None = None) -> CheckResult:
    n = len(x_train)
    shape = tuple(np.shape(x_train))
    slips = [
        Slip("the size of one image side", 28, "that describes one image, not how many there are."),
        Slip("the pixels of one image", 784, "that describes one image, not how many there are."),
        Slip(
            "x_train.size, the number of pixels in all the images",
            int(np.size(x_train)),
            "that counts every pixel; the images are counted by the first number of the shape.",
        ),
    ]
    if n_test is not None:
        slips.append(
            Slip(
                "the number of test images",
                int(n_test),
                "the question asks for the training images, x_train, not x_test.",
            )
        )
        slips.append(
            Slip(
                "training and test images together",
                n + int(n_test),
                "the question asks for the training images alone.",
            )
        )
    refusals = [
        Refusal(
            lambda a: isinstance(a, tuple) and tuple(a) == shape,
            f"{shape} is the whole shape; the number of images is its first entry.",
        )
    ]
    return COUNT.judge_number(
        answer, n, f"{number(n)} training images.", slips, whole=True, refusals=refusals
    )


def _pair_list(answer) -> bool:
    """Counter(...).most_common(1): a list holding one (digit, count) pair."""
    return (
        isinstance(answer, list)
        and len(answer) >= 1
        and isinstance(answer[0], tuple)
        and len(answer[0]) == 2
    )


@check(MOST_COMMON)
def check_most_common_digit(answer, y_train: np.ndarray) -> CheckResult:
    y = np.asarray(y_train).astype(np.int64)
    counts = np.bincount(y, minlength=10)
    best = int(np.argmax(counts))
    slips = [
        Slip(
            "np.argmax(y_train)",
            int(np.argmax(y)),
            "the position in y_train of the first of its largest labels (a 9), not a digit "
            "that was counted. Count how often each digit appears first.",
        ),
        Slip(
            "the largest label, max(y_train)",
            int(y.max()),
            "that is the largest digit, not the one that appears most often: count each digit.",
        ),
        Slip(
            "how many images the commonest digit has",
            int(counts.max()),
            "the question asks which digit that is, the position of the largest count "
            "(argmax, not max).",
        ),
        Slip(
            "the least common digit",
            int(np.argmin(counts)),
            "that digit has the smallest count; look for the largest.",
        ),
    ]
    refusals = [
        Refusal(
            lambda a: isinstance(a, np.ndarray) and a.shape == counts.shape and _eq(a, counts),
            "that is the count of every digit (10 numbers); the answer is the one digit "
            "whose count is largest.",
        ),
        Refusal(
            _pair_list,
            "that is a list of (digit, count) pairs; the answer is the digit alone.",
        ),
        Refusal(
            lambda a: isinstance(a, tuple) and len(a) == 2,
            "that is a pair; the answer is the digit alone.",
        ),
    ]
    return MOST_COMMON.judge_number(
        answer,
        best,
        f"digit {best}, with {number(int(counts[best]))} images.",
        slips,
        whole=True,
        refusals=refusals,
    )


def _eq(a, b) -> bool:
    try:
        return bool(np.array_equal(a, b))
    except (TypeError, ValueError):
        return False
