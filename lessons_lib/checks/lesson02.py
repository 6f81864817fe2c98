"""Lesson 02's exercises: flatten the test images, normalize them to [-1, 1]."""

from __future__ import annotations

import numpy as np

from .core import CheckResult, Exercise, Refusal, Slip, check, close_array, number

FLATTEN = Exercise(
    "02",
    "flatten",
    "each image becomes one row of 28 x 28 numbers, and there is one row per image: "
    "reshape to that shape.",
)
NORMALIZE = Exercise(
    "02",
    "normalize",
    "find the arithmetic that sends 0 to -1, 127.5 to 0 and 255 to 1 (a scale, then a shift), "
    "and make the result float32.",
)


@check(FLATTEN)
def check_flatten(answer, images: np.ndarray) -> CheckResult:
    images = np.asarray(images)
    n = len(images)
    right = images.reshape(n, -1)
    slips = [
        Slip(
            "still one 28 x 28 square per image",
            images,
            "the images are not flattened yet: reshape them to one row each.",
        ),
        Slip(
            "every image in one long row (flatten or ravel)",
            lambda: images.reshape(-1),
            "flatten() strings all the images together; keep one row per image.",
        ),
        Slip(
            "the flattened images transposed",
            lambda: right.T,
            f"that has one column per image; the network wants one row per image, ({n}, 784). "
            "Reshape, do not transpose.",
        ),
        Slip(
            "a reshape to (784, n)",
            lambda: images.reshape(784, n) if images.size == 784 * n else None,
            f"784 rows of {number(n)} numbers mixes the images together; the image count comes "
            f"first: ({n}, 784).",
        ),
        Slip(
            "the pixels read column by column (order='F')",
            lambda: images.reshape(n, 784, order="F"),
            "each row holds the right pixels in the wrong order; reshape in the default "
            "(row-major) order.",
        ),
        Slip(
            "the flattened images divided by 255",
            lambda: right / 255.0,
            "the pixels were rescaled; here only reshape (normalizing comes next).",
        ),
        Slip(
            "the flattened images mapped to [-1, 1]",
            lambda: right / 127.5 - 1,
            "the pixels were rescaled; here only reshape (normalizing comes next).",
        ),
    ]

    def dtype(value: np.ndarray) -> str | None:
        if value.dtype != images.dtype:
            return (
                f"the shape and the pixels are right, but the dtype changed from {images.dtype} "
                f"to {value.dtype}: flattening only reshapes, so leave the values' type alone."
            )
        return None

    return FLATTEN.judge_array(
        answer,
        right,
        f"shape ({n}, 784), pixels in row-major order.",
        slips,
        close=close_array(atol=0, rtol=0),
        dtype=dtype,
        wrong_shape=lambda s: f"shape {s}; expected ({n}, 784): one row of 784 pixels per image.",
        refusals=[_tensor_refusal("flatten")],
    )


def _tensor_refusal(what: str) -> Refusal:
    from .core import _is_tensor

    return Refusal(
        _is_tensor,
        f"that is a TensorFlow tensor (a Keras layer's output?); {what} the NumPy array "
        "itself, as the lesson does.",
    )


@check(NORMALIZE)
def check_normalize(answer, raw: np.ndarray) -> CheckResult:
    raw = np.asarray(raw)
    x = raw.astype(np.float64)
    right = x / 127.5 - 1

    def wraps(k: int, divisor: float):
        return lambda: (raw - np.array(k, raw.dtype)).astype(np.float64) / divisor

    slips = [
        Slip(
            "x / 255",
            lambda: x / 255,
            "your values run from 0 to 1; the lesson maps pixels to [-1, 1].",
        ),
        Slip("the raw pixels", raw, "the values still run from 0 to 255: nothing was rescaled."),
        Slip(
            "x // 127.5 - 1",
            lambda: x // 127.5 - 1,
            "// is floor division: it drops the fractions, so every pixel became -1, 0 or 1. "
            "Use true division, /.",
        ),
        Slip(
            "x / 255 - 0.5",
            lambda: x / 255 - 0.5,
            "your values run from -0.5 to 0.5: centred, but half the width.",
        ),
        Slip(
            "x / 127.5",
            lambda: x / 127.5,
            "your values run from 0 to 2: scaled but not shifted.",
        ),
        Slip(
            "x - 1 / 127.5",
            lambda: x - 1 / 127.5,
            "operator precedence: division happens before subtraction, so only the 1 was divided.",
        ),
        Slip(
            "(x - 1) / 127.5",
            lambda: (x - 1) / 127.5,
            "the 1 was subtracted before dividing, so the values run from about 0 to 2.",
        ),
        Slip(
            "x / 128 - 1",
            lambda: x / 128 - 1,
            "dividing by 128 sends 255 to 0.992, not 1: the half-way point of 0..255 is 127.5.",
        ),
        Slip(
            "x / 127 - 1",
            lambda: x / 127 - 1,
            "dividing by 127 sends 255 past 1, to 1.008: the half-way point of 0..255 is 127.5.",
        ),
    ]
    if raw.dtype == np.uint8:
        slips.append(
            Slip(
                "(x - 1) / 127.5 computed on uint8 pixels",
                wraps(1, 127.5),
                "the 1 was subtracted before dividing, and x - 1 on uint8 pixels wraps around "
                "(0 - 1 becomes 255): uint8 holds only 0..255.",
            )
        )
        for k, divisor in ((128, 128.0), (128, 127.5), (127, 127.5), (127, 128.0)):
            slips.append(
                Slip(
                    f"(x - {k}) / {divisor:g} computed on uint8 pixels",
                    wraps(k, divisor),
                    f"x - {k} on uint8 pixels wraps around (3 - {k} becomes {(3 - k) % 256}): "
                    "uint8 holds only 0..255. Convert to float32 before subtracting.",
                )
            )
    refusals = [_tensor_refusal("normalize")]

    def dtype(value: np.ndarray) -> str | None:
        if value.dtype == np.float32:
            return None
        if value.dtype.kind == "f":
            return (
                f"the values are right, but the dtype is {value.dtype}; the exercise asks for "
                "float32 (what Keras computes in, and "
                + (
                    "half the memory of float64)."
                    if value.dtype == np.float64
                    else "exact enough)."
                )
                + " Convert the pixels to float32 before the arithmetic."
            )
        return f"the values are right, but the dtype is {value.dtype}; make it float32."

    def wrong_shape(shape: tuple) -> str:
        return (
            f"shape {shape} differs from the input's {raw.shape}; normalizing changes values, "
            "not shape: start from x_test_flat."
        )

    if (
        isinstance(answer, np.ndarray)
        and answer.dtype.kind in "iu"
        and answer.shape == raw.shape
        and not np.array_equal(answer, raw)
    ):
        return NORMALIZE.wrong(
            f"the result has integer dtype {answer.dtype}, so the fractions were lost "
            "(an int cast, or // on integers?). Keep the values as floats."
        )

    def unnamed(value: np.ndarray) -> str:
        lo, hi = number(float(value.min())), number(float(value.max()))
        return f"your values run from {lo} to {hi}, not the mapping 0 -> -1, 255 -> 1."

    return NORMALIZE.judge_array(
        answer,
        right,
        "values run from -1 to 1, float32.",
        slips,
        close=_close_for_its_precision,
        dtype=dtype,
        wrong_shape=wrong_shape,
        unnamed=unnamed,
        refusals=refusals,
    )


def _close_for_its_precision(a: np.ndarray, b) -> bool:
    """float16 holds about 3 decimals: judge its values at that precision (its dtype is named)."""
    atol = 2e-3 if a.dtype.itemsize < 4 else 1e-5
    return close_array(atol=atol, rtol=1e-6)(a, b)
