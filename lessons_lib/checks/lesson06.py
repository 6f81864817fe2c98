"""Lesson 06's exercises: labels from probabilities, the least confident reading."""

from __future__ import annotations

import numpy as np

from .core import CheckResult, Exercise, Refusal, Slip, check, close_array, close_scalar, number

LABELS = Exercise(
    "06",
    "predicted_labels",
    "each row of `probs` is one image's ten probabilities; its predicted digit is the position "
    "of the largest one. NumPy can do every row at once if you tell it which axis to work along.",
)
LEAST = Exercise(
    "06",
    "least_confident",
    "first find each image's confidence, the largest probability in its row; then ask which "
    "image has the smallest confidence: its index is the answer.",
)


def _list_of(values: np.ndarray):
    def fits(answer) -> bool:
        if not isinstance(answer, list) or len(answer) != len(values):
            return False
        try:
            return bool(np.array_equal(np.asarray(answer, dtype=np.float64), values))
        except (TypeError, ValueError):
            return False

    return fits


@check(LABELS)
def check_predicted_labels(
    answer, probs: np.ndarray, y_true: np.ndarray | None = None
) -> CheckResult:
    probs = np.asarray(probs)
    right = np.argmax(probs, axis=1)
    slips = [
        Slip(
            "the argmax down each column (axis=0)",
            lambda: np.argmax(probs, axis=0),
            "that finds, for each digit, the image most sure of it; take it across each row: "
            "the other axis.",
        ),
        Slip(
            "the largest probability of each row",
            lambda: probs.max(axis=1),
            "those are the probabilities themselves; the label is their position: argmax, not max.",
        ),
        Slip(
            "the probability table itself",
            probs,
            "each image still has ten probabilities; keep the position of the largest.",
        ),
        Slip(
            "the least likely digit of each image (argmin)",
            lambda: np.argmin(probs, axis=1),
            "the prediction is the most likely digit: the largest probability.",
        ),
    ]
    if y_true is not None:
        slips.append(
            Slip(
                "the true labels",
                np.asarray(y_true),
                "the exercise asks what the network predicts, read from probs; the true labels "
                "say what the images really are.",
            )
        )
    refusals = [
        Refusal(
            lambda a: isinstance(a, (int, np.integer)) and not isinstance(a, bool),
            "that is one number for the whole table; give one label per image (one per row).",
        ),
        Refusal(
            _list_of(right),
            "these are the right digits, but in a Python list; NumPy gives an array when it "
            "works on all the rows at once.",
        ),
    ]

    def dtype(value: np.ndarray) -> str | None:
        if value.dtype.kind not in "iu":
            return (
                f"the digits are right, but stored as {value.dtype}; labels are whole numbers "
                "(an integer dtype)."
            )
        return None

    def unnamed(value: np.ndarray) -> str:
        differ = int(np.sum(value != right))
        return f"{number(differ)} of the {number(len(right))} labels differ from the predictions."

    return LABELS.judge_array(
        answer,
        right,
        f"{number(len(right))} predicted digits.",
        slips,
        close=close_array(atol=0, rtol=0),
        dtype=dtype,
        unnamed=unnamed,
        wrong_shape=lambda s: f"shape {s}; expected {right.shape}: one label per image.",
        refusals=refusals,
    )


@check(LEAST)
def check_least_confident(answer, probs: np.ndarray) -> CheckResult:
    probs = np.asarray(probs)
    confidence = probs.max(axis=1)
    right = int(np.argmin(confidence))
    slips = [
        Slip(
            "the most confident test digit",
            int(np.argmax(confidence)),
            "look for the smallest top probability, not the largest.",
        ),
        Slip(
            "a position in the flattened probability table (np.argmin(probs))",
            int(np.argmin(probs)),
            "without an axis, argmin runs over all the numbers at once; find each image's "
            "confidence first.",
        ),
        Slip(
            "the digit the network guessed for that image",
            int(np.argmax(probs[right])),
            "the question asks which test image (its index), not what it was read as.",
        ),
        Slip(
            "the digit found from the max down each column (axis=0)",
            int(np.argmin(probs.max(axis=0))),
            "an image's confidence is the largest value in its row, along the other axis.",
        ),
        Slip(
            "the smallest confidence itself",
            float(confidence.min()),
            "that is how unsure the network is; the question asks which image it is (its index).",
        ),
    ]
    refusals = [
        Refusal(
            lambda a: isinstance(a, np.ndarray) and a.ndim == 1 and len(a) == len(probs),
            "that is one number per image; the answer is the index of one image.",
        )
    ]
    if isinstance(answer, (float, np.floating)) and not float(answer).is_integer():
        floats = [s for s in slips if isinstance(s.value, float)]
        matched = LEAST.matches(float(answer), float(right), floats, close_scalar(1e-6))
        if matched:
            return LEAST.named(number(answer), matched)
    return LEAST.judge_number(
        answer,
        right,
        f"test digit {right}: the network gives its top class only {float(confidence[right]):.1%}.",
        [s for s in slips if isinstance(s.value, int)],
        whole=True,
        refusals=refusals,
    )
