"""Lesson 00's exercises: pixels in one image, number of classes."""

from __future__ import annotations

import numpy as np

from .core import CheckResult, Exercise, Refusal, Slip, check

PIXELS = Exercise("00", "pixels", "how many pixels wide is an image, and how many tall?")
CLASSES = Exercise("00", "classes", "which digits are there, from the smallest to the largest?")


@check(PIXELS)
def check_pixels_per_image(answer) -> CheckResult:
    slips = [
        Slip("one side of the image", 28, "count every pixel of the square, not one row."),
        Slip(
            "28 + 28 (or 2 x 28)",
            56,
            "the sides were added or doubled; the square has 28 rows, each of 28 pixels.",
        ),
        Slip(
            "28 ^ 2 in Python",
            30,
            "^ is not a power in Python but bitwise XOR (28 ^ 2 = 30): write 28 ** 2 or 28 * 28.",
        ),
        Slip(
            "28 ^ 28 in Python",
            0,
            "^ is bitwise XOR in Python, and any number XOR itself is 0: "
            "use ** for a power, or * to multiply.",
        ),
        Slip(
            "28 x 28 x 3",
            2352,
            "that counts three colour values per pixel; MNIST is grayscale, one value per pixel.",
        ),
    ]
    refusals = [
        Refusal(
            lambda a: isinstance(a, tuple) and tuple(a) == (28, 28),
            "(28, 28) is the image's shape; the question asks how many pixels that makes in all.",
        )
    ]
    return PIXELS.judge_number(
        answer,
        784,
        "28 x 28 = 784 pixels, one input per pixel.",
        slips,
        whole=True,
        refusals=refusals,
    )


@check(CLASSES)
def check_num_classes(answer) -> CheckResult:
    slips = [
        Slip("the largest digit", 9, "0 is a class too: count 0, 1, ..., 9."),
        Slip("the number of pixels in an image", 784, "the classes are the digits, not pixels."),
    ]
    refusals = [
        Refusal(
            lambda a: (
                isinstance(a, (range, list, tuple, np.ndarray))
                and len(a) == 10
                and _equal(a, range(10))
            ),
            "that lists the classes; the question asks how many there are (len of it).",
        )
    ]
    return CLASSES.judge_number(
        answer, 10, "ten classes, the digits 0 to 9.", slips, whole=True, refusals=refusals
    )


def _equal(a, b) -> bool:
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return False
