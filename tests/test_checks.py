"""Each check: the right answer passes; each named wrong answer gets its own message."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from lessons_lib import checks

RNG = np.random.default_rng(0)
RAW = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
LABELS = np.array([1, 1, 1, 7, 7, 3, 0, 2, 4, 5, 6, 8, 9, 1], dtype=np.uint8)
PROBS = RNG.dirichlet(np.ones(10), size=40)
LEAST = int(PROBS.max(axis=1).argmin())
HISTORY = {"loss": [0.5, 0.3, 0.2, 0.1], "val_loss": [0.4, 0.25, 0.3, 0.35]}
CM = np.arange(100).reshape(10, 10)
P8 = RNG.dirichlet(np.ones(10), size=16)
Y8 = RNG.integers(0, 10, 16)
LOSS8 = float(-np.log(P8[np.arange(16), Y8]).mean())
DB8 = (P8 - np.eye(10)[Y8]).mean(axis=0)
W8 = RNG.normal(size=(6, 10))
G8 = RNG.normal(size=(6, 10))


def model(*layer_list, inputs=784):
    return keras.Sequential([keras.Input(shape=(inputs,)), *layer_list])


D = keras.layers.Dense

CASES = [
    # (check, args, answer, passes, a phrase the message must hold)
    (checks.check_pixels_per_image, (), 784, True, "784"),
    (checks.check_pixels_per_image, (), 28, False, "one side"),
    (checks.check_pixels_per_image, (), 56, False, "added the sides"),
    (checks.check_num_classes, (), 10, True, "ten classes"),
    (checks.check_num_classes, (), 9, False, "0 is a class too"),
    (checks.check_train_count, (RAW,), 5, True, "5 training images"),
    (checks.check_train_count, (RAW,), RAW.shape, False, "whole shape"),
    (checks.check_train_count, (RAW,), 784, False, "describes one image"),
    (checks.check_most_common_digit, (LABELS,), 1, True, "digit 1"),
    (checks.check_most_common_digit, (LABELS,), 4, False, "how many images"),
    (checks.check_most_common_digit, (LABELS,), 0, False, "least common"),
    (checks.check_most_common_digit, (LABELS,), np.array([1, 2]), False, "single number"),
    (checks.check_flatten, (RAW,), RAW.reshape(5, 784), True, "row-major"),
    (checks.check_flatten, (RAW,), RAW, False, "not flattened yet"),
    (checks.check_flatten, (RAW,), RAW.reshape(5, 784).T, False, "do not transpose"),
    (checks.check_flatten, (RAW,), RAW.reshape(5, 784, order="F"), False, "out of order"),
    (checks.check_flatten, (RAW,), RAW.reshape(5, 28, 28, 1), False, "expected (5, 784)"),
    (checks.check_normalize, (RAW,), RAW / 127.5 - 1, True, "float64"),
    (checks.check_normalize, (RAW,), (RAW / 127.5 - 1).astype(np.float32), True, "-1 to 1"),
    (checks.check_normalize, (RAW,), RAW / 255, False, "divide by 127.5, then subtract 1"),
    (checks.check_normalize, (RAW,), RAW.astype(float), False, "nothing was rescaled"),
    (checks.check_normalize, (RAW,), RAW // 127, False, "fractions were lost"),
    (checks.check_normalize, (RAW,), RAW / 255 - 0.5, False, "half the width"),
    (checks.check_normalize, (RAW,), RAW / 127.5, False, "did not shift"),
    (checks.check_normalize, (RAW,), RAW - 1 / 127.5, False, "operator precedence"),
    (checks.check_normalize, (RAW,), RAW.reshape(5, 784) / 127.5 - 1, False, "not shape"),
    (checks.check_dense_params, (784, 64), 784 * 64 + 64, True, "biases"),
    (checks.check_dense_params, (784, 64), 784 * 64, False, "weights only"),
    (checks.check_dense_params, (784, 64), 784 + 64, False, "multiply, do not add"),
    (checks.check_dense_params, (784, 64), 785 * 65, False, "one bias per unit"),
    (checks.check_initial_loss, (), math.log(10), True, "ln 10"),
    (checks.check_initial_loss, (), 1.0, False, "log10"),
    (checks.check_initial_loss, (), -math.log(10), False, "sign"),
    (checks.check_initial_loss, (), 0.1, False, "probability of each digit"),
    (checks.check_initial_loss, (), math.log2(10), False, "base 2"),
    (checks.check_best_epoch, (HISTORY,), 2, True, "epoch 2"),
    (checks.check_best_epoch, (HISTORY,), 1, False, "0-based"),
    (checks.check_best_epoch, (HISTORY,), 4, False, "training loss"),
    (checks.check_accuracy, (LABELS, LABELS), 1.0, True, "100.00%"),
    (
        checks.check_accuracy,
        (LABELS, np.where(LABELS == 1, 2, LABELS)),
        100 * 10 / 14,
        False,
        "percentage",
    ),
    (
        checks.check_accuracy,
        (LABELS, np.where(LABELS == 1, 2, LABELS)),
        4 / 14,
        False,
        "error rate",
    ),
    (
        checks.check_accuracy,
        (LABELS, np.where(LABELS == 1, 2, LABELS)),
        10,
        False,
        "counts the correct",
    ),
    (checks.check_confusion_count, (CM, 4, 9), 49, True, "read as 9"),
    (checks.check_confusion_count, (CM, 4, 9), 94, False, "Rows are the true digit"),
    (checks.check_confusion_count, (CM, 4, 9), CM[4].sum(), False, "whole row"),
    (checks.check_predicted_labels, (PROBS,), PROBS.argmax(axis=1), True, "40 predicted"),
    (checks.check_predicted_labels, (PROBS,), PROBS.argmax(axis=0), False, "axis=1"),
    (checks.check_predicted_labels, (PROBS,), PROBS.max(axis=1), False, "argmax, not max"),
    (checks.check_predicted_labels, (PROBS,), PROBS.argmax(), False, "one label per image"),
    (checks.check_least_confident, (PROBS,), LEAST, True, f"test digit {LEAST}"),
    (
        checks.check_least_confident,
        (PROBS,),
        int(PROBS.max(axis=1).argmax()),
        False,
        "most confident",
    ),
    (checks.check_least_confident, (PROBS,), int(np.argmin(PROBS)), False, "flattened"),
    (checks.check_conv_output, (), 26, True, "26 x 26"),
    (checks.check_conv_output, (), 28, False, "padding='same'"),
    (checks.check_conv_output, (), 25, False, "off by one"),
    (checks.check_conv_params, (), 320, True, "= 320"),
    (checks.check_conv_params, (), 288, False, "weights only"),
    (checks.check_conv_params, (), 28 * 28 * 32, False, "shared across the image"),
    (checks.check_batch_loss, (P8, Y8), LOSS8, True, "same number Keras reports"),
    (checks.check_batch_loss, (P8, Y8), -LOSS8, False, "sign is flipped"),
    (checks.check_batch_loss, (P8, Y8), LOSS8 * len(Y8), False, "the sum over"),
    (checks.check_batch_loss, (P8, Y8), LOSS8 / math.log(10), False, "log base 10"),
    (checks.check_batch_loss, (P8, Y8), float(-np.log(P8.max(axis=1)).mean()), False, "TRUE digit"),
    (checks.check_bias_gradient, (P8, Y8), DB8, True, "tf.GradientTape"),
    (checks.check_bias_gradient, (P8, Y8), -DB8, False, "sign is flipped"),
    (checks.check_bias_gradient, (P8, Y8), DB8 * len(Y8), False, "the sum over the batch"),
    (checks.check_bias_gradient, (P8, Y8), P8.mean(axis=0), False, "left out the one-hot"),
    (checks.check_bias_gradient, (P8, Y8), DB8[:5], False, "one per digit"),
    (checks.check_sgd_step, (W8, G8, 0.5), W8 - 0.5 * G8, True, "the same weights Keras"),
    (checks.check_sgd_step, (W8, G8, 0.5), W8 + 0.5 * G8, False, "goes uphill"),
    (checks.check_sgd_step, (W8, G8, 0.5), W8 - G8, False, "scale it by the learning rate"),
    (checks.check_sgd_step, (W8, G8, 0.5), -0.5 * G8, False, "only the change"),
    (checks.check_sgd_step, (W8, G8, 0.5), W8.T, False, "shape"),
]


@pytest.mark.parametrize(
    "check, args, answer, passes, phrase",
    CASES,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)],
)
def test_check_answers(check, args, answer, passes, phrase):
    result = check(answer, *args)
    assert result.passed is passes, result.message
    assert phrase in result.message


def test_every_check_has_a_blank_answer_message():
    blank_calls = [
        (checks.check_pixels_per_image, ()),
        (checks.check_num_classes, ()),
        (checks.check_train_count, (RAW,)),
        (checks.check_most_common_digit, (LABELS,)),
        (checks.check_flatten, (RAW,)),
        (checks.check_normalize, (RAW,)),
        (checks.check_dense_params, (784, 64)),
        (checks.check_model, ()),
        (checks.check_initial_loss, ()),
        (checks.check_compiled, ()),
        (checks.check_best_epoch, (HISTORY,)),
        (checks.check_accuracy, (LABELS, LABELS)),
        (checks.check_confusion_count, (CM, 4, 9)),
        (checks.check_predicted_labels, (PROBS,)),
        (checks.check_least_confident, (PROBS,)),
        (checks.check_conv_output, ()),
        (checks.check_conv_params, ()),
        (checks.check_batch_loss, (P8, Y8)),
        (checks.check_bias_gradient, (P8, Y8)),
        (checks.check_sgd_step, (W8, G8, 0.5)),
    ]
    exercises = {
        f"{lesson}.{key}" for lesson, items in checks.EXERCISES.items() for key, _ in items
    }
    seen = set()
    for check, args in blank_calls:
        result = check(None, *args)
        assert (
            not result.passed and "not answered yet" in result.message and "Hint:" in result.message
        )
        seen.add(result.exercise)
    assert seen == exercises, "every registered exercise has a check, and every check is registered"


@pytest.mark.parametrize(
    "build, passes, phrase",
    [
        (
            lambda: model(D(64, activation="relu"), D(10, activation="softmax")),
            True,
            "1 hidden layer",
        ),
        (lambda: model(D(64, activation="relu"), D(10)), False, "not probabilities"),
        (lambda: model(D(10, activation="softmax")), False, "no hidden layer"),
        (lambda: model(D(64, activation="relu"), D(9, activation="softmax")), False, "needs 10"),
        (lambda: model(D(64), D(10, activation="softmax")), False, "no activation"),
        (
            lambda: model(D(64, activation="relu"), D(10, activation="softmax"), inputs=28),
            False,
            "(784,)",
        ),
        (lambda: "a model", False, "not a Keras model"),
    ],
)
def test_check_model(build, passes, phrase):
    result = checks.check_model(build())
    assert result.passed is passes and phrase in result.message, result.message


def _compiled(loss, optimizer="adam"):
    m = model(D(10, activation="softmax"))
    m.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return m


@pytest.mark.parametrize(
    "build, passes, phrase",
    [
        (lambda: _compiled("sparse_categorical_crossentropy"), True, "Adam"),
        (lambda: _compiled(keras.losses.SparseCategoricalCrossentropy()), True, "Adam"),
        (lambda: _compiled("categorical_crossentropy"), False, "one-hot"),
        (lambda: _compiled("mse"), False, "mean squared error"),
        (lambda: _compiled("sparse_categorical_crossentropy", "sgd"), False, "uses Adam"),
        (lambda: model(D(10, activation="softmax")), False, "not compiled"),
    ],
)
def test_check_compiled(build, passes, phrase):
    result = checks.check_compiled(build())
    assert result.passed is passes and phrase in result.message, result.message


def test_progress_is_recorded_and_a_pass_stays_a_pass():
    checks.check_pixels_per_image(28)
    assert checks.load_progress()["00.pixels"] is False
    checks.check_pixels_per_image(784)
    checks.check_pixels_per_image(None)
    assert checks.load_progress()["00.pixels"] is True
    table = checks.progress_table()
    assert "| 00 Start here | 1 / 2 ✓ ○ |" in table
    total = sum(len(items) for items in checks.EXERCISES.values())
    assert total == 20 and f"**1 / {total}**" in table
