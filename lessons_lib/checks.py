"""Instant feedback for the exercises.

Every ``check_*`` function looks at a learner's answer, returns a
:class:`CheckResult` (shown as one line under the cell) whose message names the
misconception when the answer is wrong, and records the outcome in the
progress file that lesson 00 summarises. They work offline and never raise on
a wrong answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .progress import EXERCISES, LESSON_TITLES, load_progress, progress_path, progress_table  # noqa: F401
from .progress import record as _record


@dataclass
class CheckResult:
    """Outcome of one check: ``passed`` and a message in plain words."""

    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "✓ Correct" if self.passed else "✗ Not yet"
        return f"{mark} ({self.exercise}): {self.message}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        colour = "green" if self.passed else "#b00"
        mark = "✓ **Correct**" if self.passed else "✗ **Not yet**"
        return f"<span style='color:{colour}'>{mark}</span> ({self.exercise}): {self.message}"


def _result(lesson: str, key: str, passed: bool, message: str) -> CheckResult:
    exercise = f"{lesson}.{key}"
    _record(exercise, passed)
    return CheckResult(exercise, passed, message)


def _blank(lesson: str, key: str, hint: str) -> CheckResult:
    return _result(
        lesson, key, False, f"not answered yet: replace `None` with your code. Hint: {hint}"
    )


def _number(value) -> float | None:
    try:
        return float(np.asarray(value).item())
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- 00


def check_pixels_per_image(answer) -> CheckResult:
    hint = "an image is 28 pixels wide and 28 pixels tall."
    if answer is None:
        return _blank("00", "pixels", hint)
    value = _number(answer)
    if value == 784:
        return _result("00", "pixels", True, "28 x 28 = 784 pixels, one input per pixel.")
    if value == 28:
        return _result(
            "00",
            "pixels",
            False,
            "28 is one side of the image; count every pixel: multiply width by height.",
        )
    if value == 56:
        return _result(
            "00",
            "pixels",
            False,
            "you added the sides; the pixels fill a square, so multiply them.",
        )
    return _result("00", "pixels", False, f"{answer!r} is not it. Hint: {hint}")


def check_num_classes(answer) -> CheckResult:
    hint = "the digits run from 0 to 9; count them, including 0."
    if answer is None:
        return _blank("00", "classes", hint)
    value = _number(answer)
    if value == 10:
        return _result("00", "classes", True, "ten classes, the digits 0 to 9.")
    if value == 9:
        return _result(
            "00",
            "classes",
            False,
            "9 is the largest digit, but 0 is a class too: 0..9 is ten classes.",
        )
    return _result("00", "classes", False, f"{answer!r} is not it. Hint: {hint}")


# --------------------------------------------------------------------------- 01


def check_train_count(answer, x_train: np.ndarray) -> CheckResult:
    hint = "the first number of x_train.shape, or len(x_train)."
    if answer is None:
        return _blank("01", "count", hint)
    if isinstance(answer, tuple):
        return _result(
            "01",
            "count",
            False,
            "that is the whole shape; the number of images is its first entry.",
        )
    value = _number(answer)
    n = len(x_train)
    if value == n:
        return _result("01", "count", True, f"{n:,} training images.")
    if value in (28, 784):
        return _result(
            "01",
            "count",
            False,
            f"{int(value)} describes one image (its pixels), not how many images there are.",
        )
    return _result(
        "01", "count", False, f"{answer!r} is not the number of training images. Hint: {hint}"
    )


def check_most_common_digit(answer, y_train: np.ndarray) -> CheckResult:
    hint = "np.bincount(y_train) counts each digit; np.argmax finds the largest count's position."
    if answer is None:
        return _blank("01", "most_common", hint)
    counts = np.bincount(np.asarray(y_train), minlength=10)
    if np.ndim(answer) != 0:
        return _result(
            "01", "most_common", False, "give one digit (a single number), not an array."
        )
    value = _number(answer)
    best = int(np.argmax(counts))
    if value == best:
        return _result("01", "most_common", True, f"digit {best}, with {counts[best]:,} images.")
    if value == counts.max():
        return _result(
            "01",
            "most_common",
            False,
            "that is how many images the commonest digit has; the question asks which digit it is (use argmax, not max).",
        )
    if value == int(np.argmin(counts)):
        return _result(
            "01",
            "most_common",
            False,
            "that is the least common digit; look for the largest count.",
        )
    return _result(
        "01", "most_common", False, f"{answer!r} is not the most common digit. Hint: {hint}"
    )


# --------------------------------------------------------------------------- 02


def check_flatten(answer, images: np.ndarray) -> CheckResult:
    hint = "images.reshape(len(images), 28 * 28) keeps one row per image."
    if answer is None:
        return _blank("02", "flatten", hint)
    answer = np.asarray(answer)
    n = len(images)
    if answer.shape == images.shape:
        return _result(
            "02",
            "flatten",
            False,
            f"the shape is still {answer.shape}: the images are not flattened yet.",
        )
    if answer.shape == (784, n) and n != 784:
        return _result(
            "02",
            "flatten",
            False,
            f"shape {answer.shape} has one column per image; the network wants one row per image, (n, 784). Reshape, do not transpose.",
        )
    if answer.shape != (n, 784):
        return _result(
            "02",
            "flatten",
            False,
            f"shape {answer.shape}; expected ({n}, 784): one row of 784 pixels per image.",
        )
    if not np.array_equal(answer, np.asarray(images).reshape(n, 784)):
        return _result(
            "02",
            "flatten",
            False,
            "the shape is right but the pixels are out of order or changed; reshape in the default (row-major) order and do not rescale here.",
        )
    return _result("02", "flatten", True, f"shape ({n}, 784), pixels in row-major order.")


def check_normalize(answer, raw: np.ndarray) -> CheckResult:
    hint = "x / 127.5 - 1 maps 0 to -1 and 255 to 1."
    if answer is None:
        return _blank("02", "normalize", hint)
    answer = np.asarray(answer)
    raw = np.asarray(raw)
    if answer.shape != raw.shape:
        return _result(
            "02",
            "normalize",
            False,
            f"shape {answer.shape} differs from the input's {raw.shape}; normalizing changes values, not shape.",
        )
    if np.issubdtype(answer.dtype, np.integer):
        return _result(
            "02",
            "normalize",
            False,
            f"the result has integer dtype {answer.dtype}, so the fractions were lost (floor division // or an int cast?). Use true division /.",
        )
    expected = raw.astype(np.float32) / 127.5 - 1
    lo, hi = float(answer.min()), float(answer.max())
    if np.allclose(answer, expected, atol=1e-5):
        note = (
            " (float64: correct, but float32 halves the memory)"
            if answer.dtype == np.float64
            else ""
        )
        return _result("02", "normalize", True, f"values run from {lo:.0f} to {hi:.0f}{note}.")
    if np.allclose(answer, raw / 255.0, atol=1e-5):
        return _result(
            "02",
            "normalize",
            False,
            "your values run from 0 to 1; the lesson maps pixels to [-1, 1]: divide by 127.5, then subtract 1.",
        )
    if np.allclose(answer, raw, atol=1e-5):
        return _result(
            "02", "normalize", False, "the values still run from 0 to 255: nothing was rescaled."
        )
    if np.allclose(answer, raw / 255.0 - 0.5, atol=1e-5):
        return _result(
            "02",
            "normalize",
            False,
            "your values run from -0.5 to 0.5: centred, but half the width. Divide by 127.5 (not 255), then subtract 1.",
        )
    if np.allclose(answer, raw / 127.5, atol=1e-5):
        return _result(
            "02",
            "normalize",
            False,
            "your values run from 0 to 2: you scaled but did not shift. Subtract 1 after dividing by 127.5.",
        )
    if np.allclose(answer, raw - 1 / 127.5, atol=1e-5):
        return _result(
            "02",
            "normalize",
            False,
            "operator precedence: x - 1 / 127.5 divides only the 1. Write x / 127.5 - 1 (division happens first).",
        )
    return _result(
        "02",
        "normalize",
        False,
        f"your values run from {lo:.3g} to {hi:.3g}, not the mapping 0 -> -1, 255 -> 1. Hint: {hint}",
    )


# --------------------------------------------------------------------------- 03


def check_dense_params(answer, inputs: int, units: int) -> CheckResult:
    hint = "every unit has one weight per input, plus one bias."
    if answer is None:
        return _blank("03", "params", hint)
    value = _number(answer)
    right = inputs * units + units
    if value == right:
        return _result(
            "03", "params", True, f"{inputs} x {units} weights + {units} biases = {right:,}."
        )
    if value == inputs * units:
        return _result(
            "03",
            "params",
            False,
            f"{inputs} x {units} counts the weights only; each unit also has a bias.",
        )
    if value == inputs + units:
        return _result(
            "03",
            "params",
            False,
            "a dense layer connects every input to every unit: multiply, do not add.",
        )
    if value == (inputs + 1) * (units + 1):
        return _result(
            "03",
            "params",
            False,
            "the bias belongs to the units only: add one bias per unit, not an extra input and an extra unit.",
        )
    return _result("03", "params", False, f"{answer!r} is not it. Hint: {hint}")


def check_model(model) -> CheckResult:
    hint = (
        "keras.Sequential([keras.Input(shape=(784,)), layers.Dense(64, activation='relu'), "
        "layers.Dense(10, activation='softmax')])"
    )
    if model is None:
        return _blank("03", "model", hint)
    import keras

    if not isinstance(model, keras.Model):
        return _result(
            "03",
            "model",
            False,
            f"that is a {type(model).__name__}, not a Keras model. Hint: {hint}",
        )
    try:
        in_shape = tuple(model.inputs[0].shape)
        out_shape = tuple(model.outputs[0].shape)
    except (AttributeError, IndexError, ValueError):
        return _result(
            "03",
            "model",
            False,
            "the model has no input shape yet; start it with keras.Input(shape=(784,)).",
        )
    if in_shape[1:] != (784,):
        return _result(
            "03",
            "model",
            False,
            f"the model takes input of shape {in_shape[1:]}; the flattened images are (784,).",
        )
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if out_shape[1:] != (10,):
        return _result(
            "03",
            "model",
            False,
            f"the last layer has {out_shape[-1]} units; there are 10 digits, so it needs 10.",
        )
    if len(dense) < 2:
        return _result(
            "03",
            "model",
            False,
            "there is no hidden layer: put at least one Dense layer with 'relu' before the output layer.",
        )
    last_act = getattr(dense[-1].activation, "__name__", "")
    if last_act != "softmax":
        return _result(
            "03",
            "model",
            False,
            f"the output layer's activation is '{last_act}', so its outputs are not probabilities; use activation='softmax'.",
        )
    hidden_acts = {getattr(layer.activation, "__name__", "") for layer in dense[:-1]}
    if "linear" in hidden_acts:
        return _result(
            "03",
            "model",
            False,
            "a hidden layer has no activation: stacked linear layers are still one linear map. Use activation='relu'.",
        )
    return _result(
        "03",
        "model",
        True,
        f"{len(dense) - 1} hidden layer(s), softmax over 10 digits, {model.count_params():,} parameters.",
    )


def check_initial_loss(answer) -> CheckResult:
    hint = "an untrained network guesses about 1/10 for every digit; cross-entropy is -ln(probability of the true class)."
    if answer is None:
        return _blank("03", "initial_loss", hint)
    value = _number(answer)
    right = math.log(10)
    if value is not None and abs(value - right) < 0.01:
        return _result("03", "initial_loss", True, f"-ln(1/10) = ln 10 = {right:.3f}.")
    if value is not None and abs(value - 1.0) < 0.01:
        return _result(
            "03",
            "initial_loss",
            False,
            "that is log10(10); cross-entropy uses the natural log: np.log(10).",
        )
    if value is not None and abs(value + right) < 0.01:
        return _result(
            "03",
            "initial_loss",
            False,
            "the sign is off: the loss is minus the log of the probability, so it is positive.",
        )
    if value is not None and abs(value - 0.1) < 0.01:
        return _result(
            "03",
            "initial_loss",
            False,
            "0.1 is the probability of each digit; the loss is -ln of it.",
        )
    if value is not None and abs(value - math.log2(10)) < 0.01:
        return _result(
            "03",
            "initial_loss",
            False,
            "that uses log base 2; Keras uses the natural log: np.log(10).",
        )
    return _result("03", "initial_loss", False, f"{answer!r} is not it. Hint: {hint}")


# --------------------------------------------------------------------------- 04


def check_compiled(model) -> CheckResult:
    hint = "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])"
    if model is None:
        return _blank("04", "compile", hint)
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", False):
        return _result("04", "compile", False, f"the model is not compiled yet. Hint: {hint}")
    loss = model.loss
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or type(loss).__name__
    name = str(name).lower()
    if "sparse_categorical" not in name and "sparsecategorical" not in name:
        if "categorical" in name:
            return _result(
                "04",
                "compile",
                False,
                "categorical cross-entropy expects one-hot labels like [0,0,1,0,...]; our labels are plain integers 0..9, so use 'sparse_categorical_crossentropy'.",
            )
        if "mean_squared" in name or name == "mse":
            return _result(
                "04",
                "compile",
                False,
                "mean squared error suits predicting a number, not choosing one of ten classes; use 'sparse_categorical_crossentropy'.",
            )
        return _result(
            "04",
            "compile",
            False,
            f"loss '{name}' is not sparse categorical cross-entropy. Hint: {hint}",
        )
    opt = type(model.optimizer).__name__.lower()
    if opt != "adam":
        return _result(
            "04",
            "compile",
            False,
            f"the optimizer is {type(model.optimizer).__name__}; this lesson uses Adam (optimizer='adam').",
        )
    return _result("04", "compile", True, "Adam with sparse categorical cross-entropy.")


def check_best_epoch(answer, history: dict) -> CheckResult:
    hint = "np.argmin(history['val_loss']) gives a 0-based position; Keras numbers epochs from 1."
    if answer is None:
        return _blank("04", "best_epoch", hint)
    value = _number(answer)
    val = np.asarray(history["val_loss"])
    best = int(np.argmin(val)) + 1
    if value == best:
        return _result(
            "04", "best_epoch", True, f"epoch {best}, validation loss {val[best - 1]:.4f}."
        )
    if value == best - 1:
        return _result(
            "04",
            "best_epoch",
            False,
            "that is the 0-based position; Keras prints epochs from 1, so add 1.",
        )
    if value == int(np.argmin(history["loss"])) + 1 and value != best:
        return _result(
            "04",
            "best_epoch",
            False,
            "that is where the training loss is lowest; the best epoch is judged on the validation loss, which the model did not train on.",
        )
    if value == len(val) and value != best:
        return _result(
            "04",
            "best_epoch",
            False,
            "the last epoch is not always the best: look for the lowest validation loss.",
        )
    return _result("04", "best_epoch", False, f"{answer!r} is not it. Hint: {hint}")


# --------------------------------------------------------------------------- 05


def check_accuracy(answer, y_true: np.ndarray, y_pred: np.ndarray) -> CheckResult:
    hint = "np.mean(y_pred == y_true): the share of predictions that match."
    if answer is None:
        return _blank("05", "accuracy", hint)
    value = _number(answer)
    right = float(np.mean(np.asarray(y_pred) == np.asarray(y_true)))
    if value is None:
        return _result("05", "accuracy", False, f"give one number. Hint: {hint}")
    if abs(value - right) < 1e-6:
        return _result("05", "accuracy", True, f"{right:.4f}, that is {right:.2%}.")
    if abs(value - 100 * right) < 1e-4:
        return _result(
            "05",
            "accuracy",
            False,
            "that is a percentage; give the fraction between 0 and 1 (divide by 100).",
        )
    if abs(value - (1 - right)) < 1e-6:
        return _result(
            "05",
            "accuracy",
            False,
            "that is the error rate (the share that is wrong); accuracy is the share that is right.",
        )
    if value == right * len(y_true):
        return _result(
            "05",
            "accuracy",
            False,
            "that counts the correct predictions; divide by how many there are.",
        )
    return _result("05", "accuracy", False, f"{answer!r} is not it. Hint: {hint}")


def check_confusion_count(answer, cm: np.ndarray, true: int, predicted: int) -> CheckResult:
    hint = f"rows are true digits, columns are predictions: cm[{true}, {predicted}]."
    if answer is None:
        return _blank("05", "confusion", hint)
    value = _number(answer)
    if value == cm[true, predicted]:
        return _result(
            "05",
            "confusion",
            True,
            f"{int(cm[true, predicted])} images of {true} were read as {predicted}.",
        )
    if value == cm[predicted, true]:
        return _result(
            "05",
            "confusion",
            False,
            f"that is cm[{predicted}, {true}]: {predicted}s read as {true}. Rows are the true digit, columns the prediction.",
        )
    if value == cm[true].sum():
        return _result(
            "05",
            "confusion",
            False,
            f"that is the whole row: every test image of {true}. Pick the column of the prediction.",
        )
    return _result("05", "confusion", False, f"{answer!r} is not it. Hint: {hint}")


# --------------------------------------------------------------------------- 06


def check_predicted_labels(answer, probs: np.ndarray) -> CheckResult:
    hint = "np.argmax(probs, axis=1): for each row, the position of the largest probability."
    if answer is None:
        return _blank("06", "predicted_labels", hint)
    answer = np.asarray(answer)
    right = np.argmax(probs, axis=1)
    if answer.shape == right.shape and np.array_equal(answer, right):
        return _result("06", "predicted_labels", True, f"{len(right):,} predicted digits.")
    if answer.shape == (probs.shape[1],):
        return _result(
            "06",
            "predicted_labels",
            False,
            "you took argmax over axis 0 (down the images); take it across each row: axis=1.",
        )
    if answer.shape == right.shape and np.allclose(answer, probs.max(axis=1)):
        return _result(
            "06",
            "predicted_labels",
            False,
            "those are the largest probabilities themselves; the label is their position: argmax, not max.",
        )
    if answer.ndim == 0:
        return _result(
            "06",
            "predicted_labels",
            False,
            "that is one number for the whole array; give one label per image (axis=1).",
        )
    return _result("06", "predicted_labels", False, f"not the labels. Hint: {hint}")


def check_least_confident(answer, probs: np.ndarray) -> CheckResult:
    hint = "the confidence of each prediction is probs.max(axis=1); np.argmin finds the smallest."
    if answer is None:
        return _blank("06", "least_confident", hint)
    value = _number(answer)
    confidence = probs.max(axis=1)
    right = int(np.argmin(confidence))
    if value == right:
        return _result(
            "06",
            "least_confident",
            True,
            f"test digit {right}: the network gives its top class only {confidence[right]:.1%}.",
        )
    if value == int(np.argmax(confidence)):
        return _result(
            "06",
            "least_confident",
            False,
            "that is the most confident prediction; look for the smallest top probability.",
        )
    if value == int(np.argmin(probs)):
        return _result(
            "06",
            "least_confident",
            False,
            "that indexes the flattened probability array, not a test digit; take the max over axis=1 first.",
        )
    return _result("06", "least_confident", False, f"{answer!r} is not it. Hint: {hint}")


# --------------------------------------------------------------------------- 07


def check_conv_output(answer, size: int = 28, kernel: int = 3) -> CheckResult:
    hint = f"without padding, a {kernel}x{kernel} window fits in {size} - {kernel} + 1 positions."
    if answer is None:
        return _blank("07", "conv_output", hint)
    value = _number(answer)
    right = size - kernel + 1
    if value == right:
        return _result(
            "07",
            "conv_output",
            True,
            f"{right} x {right}: the window has {right} places to sit along each side.",
        )
    if value == size:
        return _result(
            "07",
            "conv_output",
            False,
            f"{size} would need padding='same'; with the default 'valid' padding the edges are lost.",
        )
    if value == size - kernel:
        return _result(
            "07",
            "conv_output",
            False,
            "off by one: count the window's positions, size - kernel + 1.",
        )
    return _result("07", "conv_output", False, f"{answer!r} is not it. Hint: {hint}")


def check_conv_params(answer, filters: int = 32, kernel: int = 3, channels: int = 1) -> CheckResult:
    hint = "each filter has kernel x kernel x channels weights plus one bias."
    if answer is None:
        return _blank("07", "conv_params", hint)
    value = _number(answer)
    weights = kernel * kernel * channels * filters
    if value == weights + filters:
        return _result(
            "07",
            "conv_params",
            True,
            f"{kernel}x{kernel}x{channels}x{filters} weights + {filters} biases = {weights + filters}.",
        )
    if value == weights:
        return _result(
            "07", "conv_params", False, "that counts the weights only; each filter also has a bias."
        )
    if value == 28 * 28 * filters:
        return _result(
            "07",
            "conv_params",
            False,
            "a filter's weights are shared across the image: they do not grow with the image size.",
        )
    return _result("07", "conv_params", False, f"{answer!r} is not it. Hint: {hint}")


# --------------------------------------------------------------------------- 08


def _array(answer) -> np.ndarray | None:
    try:
        return np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def check_batch_loss(answer, probs: np.ndarray, labels: np.ndarray) -> CheckResult:
    """The mean sparse categorical cross-entropy of one batch: -mean(ln p[true digit])."""
    hint = "take each image's probability of its true digit, its natural log, the mean, and a minus sign."
    if answer is None:
        return _blank("08", "batch_loss", hint)
    value = _number(answer)
    if value is None:
        return _result("08", "batch_loss", False, f"{answer!r} is not one number. Hint: {hint}")
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels).astype(int)
    true_p = np.clip(p[np.arange(len(y)), y], 1e-12, 1)
    right = float(-np.mean(np.log(true_p)))
    if math.isclose(value, right, rel_tol=1e-4, abs_tol=1e-6):
        return _result(
            "08", "batch_loss", True, f"{right:.4f}: the same number Keras reports as loss."
        )
    if math.isclose(value, -right, rel_tol=1e-4):
        return _result(
            "08", "batch_loss", False,
            "the sign is flipped: ln of a probability is negative, so the loss puts a minus in front.",
        )  # fmt: skip
    if math.isclose(value, right * len(y), rel_tol=1e-4):
        return _result(
            "08", "batch_loss", False,
            f"that is the sum over the {len(y)} images; Keras reports the mean (divide by the batch size).",
        )  # fmt: skip
    if math.isclose(value, right / math.log(10), rel_tol=1e-4):
        return _result(
            "08", "batch_loss", False, "that is log base 10; cross-entropy uses the natural log, np.log."
        )  # fmt: skip
    wrong_class = float(-np.mean(np.log(np.clip(p.max(axis=1), 1e-12, 1))))
    if math.isclose(value, wrong_class, rel_tol=1e-4) and not math.isclose(wrong_class, right):
        return _result(
            "08", "batch_loss", False,
            "you used the largest probability of each row; the loss needs the probability of the TRUE digit.",
        )  # fmt: skip
    return _result("08", "batch_loss", False, f"{value:.4f} is not it. Hint: {hint}")


def check_bias_gradient(answer, probs: np.ndarray, labels: np.ndarray) -> CheckResult:
    """d loss / d bias of a softmax layer: mean over the batch of (probabilities - one-hot label)."""
    hint = "for softmax with cross-entropy, d loss / d logits = probabilities - one_hot(labels); average over the batch."
    if answer is None:
        return _blank("08", "bias_gradient", hint)
    value = _array(answer)
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels).astype(int)
    onehot = np.eye(p.shape[1])[y]
    right = (p - onehot).mean(axis=0)
    if value is None or value.shape != right.shape:
        shape = None if value is None else value.shape
        return _result(
            "08", "bias_gradient", False,
            f"the bias has {len(right)} entries, one per digit, so its gradient does too (got shape {shape}).",
        )  # fmt: skip
    if np.allclose(value, right, atol=1e-5):
        return _result(
            "08", "bias_gradient", True,
            "it equals the gradient tf.GradientTape computed: the network's surplus belief in each digit.",
        )  # fmt: skip
    if np.allclose(value, -right, atol=1e-5):
        return _result(
            "08", "bias_gradient", False, "the sign is flipped: probabilities minus one-hot, not one-hot minus probabilities."
        )  # fmt: skip
    if np.allclose(value, (p - onehot).sum(axis=0), atol=1e-4):
        return _result(
            "08", "bias_gradient", False, "that is the sum over the batch; the loss is a mean, so its gradient is too."
        )  # fmt: skip
    if np.allclose(value, p.mean(axis=0), atol=1e-5):
        return _result(
            "08", "bias_gradient", False, "you left out the one-hot labels: subtract 1 at each image's true digit."
        )  # fmt: skip
    return _result("08", "bias_gradient", False, f"not the gradient yet. Hint: {hint}")


def check_sgd_step(
    answer, weights: np.ndarray, gradient: np.ndarray, learning_rate: float
) -> CheckResult:
    """One step of plain gradient descent: weights - learning_rate * gradient."""
    hint = "move against the gradient, by learning_rate times it: w - learning_rate * grad."
    if answer is None:
        return _blank("08", "sgd_step", hint)
    value = _array(answer)
    w = np.asarray(weights, dtype=np.float64)
    g = np.asarray(gradient, dtype=np.float64)
    if value is None or value.shape != w.shape:
        shape = None if value is None else value.shape
        return _result(
            "08",
            "sgd_step",
            False,
            f"the new weights have the old ones' shape {w.shape}, got {shape}.",
        )
    if np.allclose(value, w - learning_rate * g, atol=1e-6):
        return _result(
            "08",
            "sgd_step",
            True,
            "downhill by learning_rate x gradient: the same weights Keras' SGD gives.",
        )
    if np.allclose(value, w + learning_rate * g, atol=1e-6):
        return _result(
            "08", "sgd_step", False, "that goes uphill: the gradient points where the loss grows, so subtract it."
        )  # fmt: skip
    if np.allclose(value, w - g, atol=1e-6):
        return _result(
            "08", "sgd_step", False, "a full gradient step is far too big; scale it by the learning rate."
        )  # fmt: skip
    if np.allclose(value, -learning_rate * g, atol=1e-6):
        return _result(
            "08", "sgd_step", False, "that is only the change; add it to the current weights."
        )  # fmt: skip
    return _result("08", "sgd_step", False, f"not the step yet. Hint: {hint}")
