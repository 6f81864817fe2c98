"""The exercise checks: each right answer passes; each common wrong answer, typed as a learner
types it, gets its own message; wrong types never pass; no check ever raises."""

from __future__ import annotations

import math
import re

import keras
import nbformat
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lessons_lib import checks, runner
from lessons_lib.checks import core

RNG = np.random.default_rng(0)

# --------------------------------------------------------------------------- the lessons' data
# Small stand-ins for what each lesson's namespace holds when its exercise runs.
x_train = RNG.integers(0, 256, (7, 28, 28), dtype=np.uint8)
x_test = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
x_test_flat = x_test.reshape(len(x_test), 28 * 28)
y_train = np.array([1, 1, 1, 7, 7, 3, 0, 2, 4, 5, 6, 8, 9, 1], dtype=np.uint8)
history = {
    "loss": [0.5, 0.3, 0.2, 0.1],
    "accuracy": [0.80, 0.90, 0.93, 0.97],
    "val_loss": [0.4, 0.25, 0.3, 0.35],
    "val_accuracy": [0.85, 0.90, 0.91, 0.89],
}
untrained_loss = 2.632
y_test = RNG.integers(0, 10, 40)
y_pred = np.where(np.arange(40) % 4 == 0, (y_test + 1) % 10, y_test)  # 30 of 40 right
cm = RNG.integers(0, 60, (10, 10))
cm[4, 9], cm[9, 4], cm[4, 4], cm[9, 9] = 7, 11, 901, 950
probs = RNG.dirichlet(np.ones(10), size=40)
# lesson 08: a batch, its softmax probabilities, the weights and TensorFlow's gradient
y_batch = RNG.integers(0, 10, 16)
probs8 = RNG.dirichlet(np.ones(10), size=16).astype(np.float32)
W = RNG.normal(0, 0.01, (6, 10)).astype(np.float32)
dW = tf.constant(RNG.normal(size=(6, 10)).astype(np.float32))
db = tf.constant((probs8 - np.eye(10, dtype=np.float32)[y_batch]).mean(axis=0))
hand_learning_rate = 0.05

NAMESPACE = {
    "np": np,
    "math": math,
    "tf": tf,
    "x_train": x_train,
    "x_test": x_test,
    "x_test_flat": x_test_flat,
    "y_train": y_train,
    "history": history,
    "untrained_loss": untrained_loss,
    "y_test": y_test,
    "y_pred": y_pred,
    "cm": cm,
    "probs": probs,
    "Counter": __import__("collections").Counter,
}
NAMESPACE8 = {
    **NAMESPACE,
    "probs": probs8,
    "y_batch": y_batch,
    "W": W,
    "dW": dW,
    "db": db,
    "hand_learning_rate": hand_learning_rate,
}

# each exercise's check call, exactly as its notebook cell makes it
CALLS = {
    "00.pixels": lambda a: checks.check_pixels_per_image(a),
    "00.classes": lambda a: checks.check_num_classes(a),
    "01.count": lambda a: checks.check_train_count(a, x_train, n_test=len(x_test)),
    "01.most_common": lambda a: checks.check_most_common_digit(a, y_train),
    "02.flatten": lambda a: checks.check_flatten(a, x_test),
    "02.normalize": lambda a: checks.check_normalize(a, x_test_flat),
    "03.params": lambda a: checks.check_dense_params(a, inputs=784, units=64),
    "03.model": lambda a: checks.check_model(a),
    "03.initial_loss": lambda a: checks.check_initial_loss(a, measured=untrained_loss),
    "04.compile": lambda a: checks.check_compiled(a),
    "04.best_epoch": lambda a: checks.check_best_epoch(a, history),
    "05.accuracy": lambda a: checks.check_accuracy(a, y_test, y_pred),
    "05.confusion": lambda a: checks.check_confusion_count(a, cm, true=4, predicted=9),
    "06.predicted_labels": lambda a: checks.check_predicted_labels(a, probs, y_true=y_test),
    "06.least_confident": lambda a: checks.check_least_confident(a, probs),
    "07.conv_output": lambda a: checks.check_conv_output(a),
    "07.conv_params": lambda a: checks.check_conv_params(a),
    "08.batch_loss": lambda a: checks.check_batch_loss(a, probs8, y_batch),
    "08.bias_gradient": lambda a: checks.check_bias_gradient(a, probs8, y_batch),
    "08.sgd_step": lambda a: checks.check_sgd_step(a, W, dW.numpy(), hand_learning_rate),
}

# (exercise, what the learner types, passes, a phrase the message must hold)
CASES = [
    # 00.pixels
    ("00.pixels", "28 * 28", True, "784 pixels"),
    ("00.pixels", "28 ** 2", True, "784 pixels"),
    ("00.pixels", "28", False, "one side of the image"),
    ("00.pixels", "28 + 28", False, "added or doubled"),
    ("00.pixels", "28 * 2", False, "added or doubled"),
    ("00.pixels", "28 ^ 2", False, "bitwise XOR"),
    ("00.pixels", "28 ^ 28", False, "XOR itself is 0"),
    ("00.pixels", "28 * 28 * 3", False, "grayscale"),
    ("00.pixels", "(28, 28)", False, "the image's shape"),
    ("00.pixels", "'784'", False, "the text '784'"),
    ("00.pixels", "True", False, "yes/no value"),
    ("00.pixels", "784.5", False, "fractional part"),
    ("00.pixels", "785", False, "785 is not it. Hint:"),
    # 00.classes
    ("00.classes", "10", True, "ten classes"),
    ("00.classes", "9", False, "0 is a class too"),
    ("00.classes", "list(range(10))", False, "how many there are"),
    ("00.classes", "range(10)", False, "how many there are"),
    ("00.classes", "'10'", False, "leave out the quotes"),
    ("00.classes", "28 * 28", False, "not pixels"),
    # 01.count
    ("01.count", "len(x_train)", True, "7 training images"),
    ("01.count", "x_train.shape[0]", True, "7 training images"),
    ("01.count", "x_train.shape", False, "whole shape"),
    ("01.count", "x_train.shape[1]", False, "one image"),
    ("01.count", "x_train.size", False, "every pixel"),
    ("01.count", "len(x_test)", False, "the number of test images"),
    ("01.count", "len(x_train) + len(x_test)", False, "training images alone"),
    ("01.count", "'7'", False, "the text '7'"),
    ("01.count", "28 * 28", False, "describes one image"),
    ("01.count", "np.array([7])", False, ".item()"),
    # 01.most_common
    ("01.most_common", "np.argmax(np.bincount(y_train))", True, "digit 1, with 4 images"),
    ("01.most_common", "Counter(y_train).most_common(1)[0][0]", True, "digit 1"),
    ("01.most_common", "np.argmax(y_train)", False, "np.argmax(y_train)"),
    ("01.most_common", "max(y_train)", False, "the largest label"),
    ("01.most_common", "np.max(np.bincount(y_train))", False, "argmax, not max"),
    ("01.most_common", "np.argmin(np.bincount(y_train))", False, "least common"),
    ("01.most_common", "np.bincount(y_train)", False, "the count of every digit"),
    ("01.most_common", "Counter(y_train).most_common(1)", False, "(digit, count) pairs"),
    ("01.most_common", "Counter(y_train).most_common(1)[0]", False, "a pair"),
    ("01.most_common", "'1'", False, "leave out the quotes"),
    # 02.flatten
    ("02.flatten", "x_test.reshape(len(x_test), 784)", True, "row-major"),
    ("02.flatten", "x_test.reshape(-1, 28 * 28)", True, "row-major"),
    ("02.flatten", "x_test", False, "not flattened yet"),
    ("02.flatten", "x_test.flatten()", False, "one row per image"),
    ("02.flatten", "x_test.ravel()", False, "one row per image"),
    ("02.flatten", "x_test.reshape(len(x_test), 784).T", False, "do not transpose"),
    ("02.flatten", "x_test.reshape(784, -1)", False, "image count comes first"),
    ("02.flatten", "x_test.reshape(len(x_test), 784, order='F')", False, "wrong order"),
    ("02.flatten", "x_test.reshape(len(x_test), 784) / 255", False, "only reshape"),
    ("02.flatten", "x_test.reshape(len(x_test), 784).astype('float32')", False, "dtype changed"),
    ("02.flatten", "x_test.reshape(len(x_test), 28, 28, 1)", False, "expected (5, 784)"),
    ("02.flatten", "x_test.reshape(len(x_test), 784).tolist()", False, "Python list"),
    ("02.flatten", "x_test.reshape(len(x_test), 784) / 127.5 - 1", False, "only reshape"),
    ("02.flatten", "tf.reshape(x_test, (5, 784))", False, "TensorFlow tensor"),
    # 02.normalize
    ("02.normalize", "x_test_flat.astype('float32') / 127.5 - 1", True, "-1 to 1"),
    ("02.normalize", "(x_test_flat.astype('float32') - 127.5) / 127.5", True, "-1 to 1"),
    ("02.normalize", "x_test_flat / np.float32(127.5) - np.float32(1)", True, "float32"),
    ("02.normalize", "x_test_flat / 127.5 - 1", False, "dtype is float64"),
    ("02.normalize", "(x_test_flat / 127.5 - 1).astype('float16')", False, "dtype is float16"),
    ("02.normalize", "x_test_flat / 255", False, "your values run from 0 to 1"),
    ("02.normalize", "x_test_flat.astype('float32')", False, "nothing was rescaled"),
    ("02.normalize", "x_test_flat // 127.5 - 1", False, "floor division"),
    ("02.normalize", "x_test_flat // 127", False, "fractions were lost"),
    ("02.normalize", "(x_test_flat / 127.5 - 1).astype(int)", False, "fractions were lost"),
    ("02.normalize", "x_test_flat / 255 - 0.5", False, "half the width"),
    ("02.normalize", "x_test_flat / 127.5", False, "not shifted"),
    ("02.normalize", "x_test_flat - 1 / 127.5", False, "precedence"),
    ("02.normalize", "(x_test_flat - 1) / 127.5", False, "subtracted before dividing"),
    ("02.normalize", "x_test_flat / 128 - 1", False, "0.992"),
    ("02.normalize", "x_test_flat / 127 - 1", False, "1.008"),
    ("02.normalize", "(x_test_flat - 128) / 128", False, "wraps around"),
    ("02.normalize", "x_test / 127.5 - 1", False, "start from x_test_flat"),
    ("02.normalize", "(x_test_flat.astype('float32') - 1) / 127.5", False, "before dividing"),
    ("02.normalize", "(x_test_flat - 127) / 127.5", False, "3 - 127 becomes 132"),
    ("02.normalize", "(x_test_flat - 127) / 128", False, "3 - 127 becomes 132"),
    ("02.normalize", "(x_test_flat - 128) / 127.5", False, "3 - 128 becomes 131"),
    ("02.normalize", "x_test_flat / 100 - 1", False, "not the mapping"),
    ("02.normalize", "tf.cast(x_test_flat, 'float32') / 127.5 - 1", False, "TensorFlow tensor"),
    # 03.params
    ("03.params", "784 * 64 + 64", True, "= 50,240"),
    ("03.params", "(784 + 1) * 64", True, "= 50,240"),
    ("03.params", "784 * 64", False, "each unit also has a bias"),
    ("03.params", "784 + 64", False, "multiply, do not add"),
    ("03.params", "785 * 65", False, "one bias per unit"),
    ("03.params", "784 * 64 + 1", False, "each of the 64 units has its own"),
    ("03.params", "784 * 64 + 784", False, "biases belong to the units"),
    ("03.params", "64", False, "counts the units"),
    ("03.params", "784", False, "counts the inputs"),
    ("03.params", "'50240'", False, "leave out the quotes"),
    # 03.initial_loss
    ("03.initial_loss", "-math.log(1 / 10)", True, "ln 10"),
    ("03.initial_loss", "np.log(10)", True, "ln 10"),
    ("03.initial_loss", "2.3", True, "ln 10"),
    ("03.initial_loss", "np.float32(np.log(10))", True, "ln 10"),
    ("03.initial_loss", "math.log10(10)", False, "base 10"),
    ("03.initial_loss", "-math.log10(1 / 10)", False, "base 10"),
    ("03.initial_loss", "np.log(1 / 10)", False, "without the minus"),
    ("03.initial_loss", "1 / 10", False, "the probability of each digit"),
    ("03.initial_loss", "math.log2(10)", False, "base 2"),
    ("03.initial_loss", "10", False, "not the count"),
    ("03.initial_loss", "np.log10(1 / 10)", False, "without the minus"),
    ("03.initial_loss", "untrained_loss", False, "the loss this untrained network measured"),
    ("03.initial_loss", "-np.log(0)", False, "infinity"),
    ("03.initial_loss", "np.log(-1)", False, "NaN"),
    ("03.initial_loss", "'2.303'", False, "leave out the quotes"),
    # 04.best_epoch (validation loss lowest at epoch 2; accuracy highest at epoch 3)
    ("04.best_epoch", "int(np.argmin(history['val_loss'])) + 1", True, "epoch 2"),
    ("04.best_epoch", "np.argmin(history['val_loss']) + 1", True, "validation loss 0.25"),
    ("04.best_epoch", "2.0", True, "epoch 2"),
    ("04.best_epoch", "np.argmin(history['val_loss'])", False, "0-based position"),
    ("04.best_epoch", "min(history['val_loss'])", False, "the lowest validation loss itself"),
    ("04.best_epoch", "np.argmin(history['loss']) + 1", False, "lowest training loss"),
    ("04.best_epoch", "len(history['val_loss'])", False, "last epoch"),
    ("04.best_epoch", "np.argmax(history['val_accuracy']) + 1", False, "not the best accuracy"),
    ("04.best_epoch", "min(history['loss'])", False, "training one"),
    ("04.best_epoch", "history['val_loss']", False, "one epoch number"),
    ("04.best_epoch", "'2'", False, "leave out the quotes"),
    ("04.best_epoch", "0.3", False, "fractional part"),
    # 05.accuracy (30 of 40 right)
    ("05.accuracy", "np.mean(y_pred == y_test)", True, "0.75, that is 75.00%"),
    ("05.accuracy", "(y_pred == y_test).sum() / len(y_test)", True, "75.00%"),
    ("05.accuracy", "100 * np.mean(y_pred == y_test)", False, "percentage"),
    ("05.accuracy", "np.mean(y_pred != y_test)", False, "error rate"),
    ("05.accuracy", "np.sum(y_pred == y_test)", False, "divide by how many"),
    ("05.accuracy", "np.sum(y_pred != y_test)", False, "counts the mistakes"),
    ("05.accuracy", "y_pred == y_test", False, "one True/False per image"),
    ("05.accuracy", "round(float(np.mean(y_pred == y_test)) + 0.004, 3)", False, "close to"),
    ("05.accuracy", "[0.31, 0.75]", False, "model.evaluate"),
    ("05.accuracy", "'0.75'", False, "leave out the quotes"),
    ("05.accuracy", "'75%'", False, "leave out the quotes and the % sign: 75% is the number 0.75."),
    ("03.params", "'50,240'", False, "Python reads 50,240 as several numbers; write 50240."),
    # 05.confusion
    ("05.confusion", "cm[4, 9]", True, "7 images of 4 were read as 9"),
    ("05.confusion", "int(cm[4][9])", True, "read as 9"),
    ("05.confusion", "cm[9, 4]", False, "rows are the true digit"),
    ("05.confusion", "cm[4].sum()", False, "the whole row 4"),
    ("05.confusion", "cm[:, 9].sum()", False, "the whole column 9"),
    ("05.confusion", "cm[4, 4]", False, "the 4s read correctly"),
    ("05.confusion", "cm[3, 8]", False, "numbered from 0"),
    ("05.confusion", "cm[4, 9] / cm[4].sum()", False, "normalized"),
    ("05.confusion", "100 * cm[4, 9] / cm[4].sum()", False, "percentage of 4s"),
    ("05.confusion", "cm[9, 9]", False, "the 9s read correctly"),
    ("05.confusion", "cm[4]", False, "the answer is one number"),
    # 06.predicted_labels
    ("06.predicted_labels", "np.argmax(probs, axis=1)", True, "40 predicted digits"),
    ("06.predicted_labels", "probs.argmax(axis=-1)", True, "40 predicted digits"),
    ("06.predicted_labels", "np.argmax(probs, axis=0)", False, "down each column"),
    ("06.predicted_labels", "probs.max(axis=1)", False, "argmax, not max"),
    ("06.predicted_labels", "np.argmax(probs)", False, "one label per image"),
    ("06.predicted_labels", "probs", False, "the probability table itself"),
    ("06.predicted_labels", "np.argmin(probs, axis=1)", False, "the most likely digit"),
    ("06.predicted_labels", "y_test", False, "the true labels"),
    ("06.predicted_labels", "[int(np.argmax(p)) for p in probs]", False, "Python list"),
    ("06.predicted_labels", "np.argmax(probs, axis=1).astype(float)", False, "integer dtype"),
    # 06.least_confident
    ("06.least_confident", "int(np.argmin(probs.max(axis=1)))", True, "only"),
    ("06.least_confident", "np.argmin(np.max(probs, axis=1))", True, "test digit"),
    ("06.least_confident", "np.argmax(probs.max(axis=1))", False, "most confident"),
    ("06.least_confident", "np.argmin(probs)", False, "flattened probability table"),
    ("06.least_confident", "probs.max(axis=1).min()", False, "the smallest confidence itself"),
    ("06.least_confident", "probs.max(axis=1)", False, "one number per image"),
    ("06.least_confident", "np.argmin(probs.max(axis=0))", False, "each column (axis=0)"),
    (
        "06.least_confident",
        "np.argmax(probs[np.argmin(probs.max(axis=1))])",
        False,
        "not what it was read as",
    ),
    ("06.least_confident", "'3'", False, "leave out the quotes"),
    # 07.conv_output
    ("07.conv_output", "28 - 3 + 1", True, "26 x 26"),
    ("07.conv_output", "28", False, "padding='same'"),
    ("07.conv_output", "28 - 3", False, "off by one"),
    ("07.conv_output", "26 * 26", False, "the width alone"),
    ("07.conv_output", "28 // 3", False, "stride 1"),
    ("07.conv_output", "13", False, "before pooling"),
    ("07.conv_output", "(26, 26)", False, "that is a shape"),
    ("07.conv_output", "26 * 26 * 32", False, "the width alone"),
    ("07.conv_output", "28 + 3 - 1", False, "hang over the edges"),
    ("07.conv_output", "28 - 1", False, "more than one position"),
    ("07.conv_output", "'26'", False, "leave out the quotes"),
    # 07.conv_params
    ("07.conv_params", "3 * 3 * 1 * 16 + 16", True, "= 160"),
    ("07.conv_params", "(3 * 3 + 1) * 16", True, "= 160"),
    ("07.conv_params", "3 * 3 * 16", False, "each filter also has a bias"),
    ("07.conv_params", "3 * 3 * 16 + 1", False, "each of the 16 filters has its own"),
    ("07.conv_params", "3 * 3 + 1", False, "there are 16 filters"),
    ("07.conv_params", "3 * 3 * 3 * 16 + 16", False, "three colour channels"),
    ("07.conv_params", "28 * 28 * 16", False, "shared across the image"),
    ("07.conv_params", "(3 + 3) * 16 + 16", False, "3 times 3 cells"),
    ("07.conv_params", "3 * 3", False, "each also has a bias"),
    ("07.conv_params", "26 * 26 * 16", False, "values the layer outputs"),
    ("07.conv_params", "'160'", False, "leave out the quotes"),
    # 08.batch_loss
    (
        "08.batch_loss",
        "float(-np.mean(np.log(probs[np.arange(len(y_batch)), y_batch])))",
        True,
        "the same number Keras reports",
    ),
    (
        "08.batch_loss",
        "-np.mean(np.log(probs[np.arange(len(y_batch)), y_batch]))",
        True,
        "Keras reports",
    ),
    ("08.batch_loss", "-np.mean(np.log(probs))", False, "ALL the probabilities"),
    (
        "08.batch_loss",
        "np.mean(np.log(probs[np.arange(len(y_batch)), y_batch]))",
        False,
        "without its minus sign",
    ),
    (
        "08.batch_loss",
        "-np.sum(np.log(probs[np.arange(len(y_batch)), y_batch]))",
        False,
        "not the sum",
    ),
    (
        "08.batch_loss",
        "-np.mean(np.log10(probs[np.arange(len(y_batch)), y_batch]))",
        False,
        "natural log",
    ),
    ("08.batch_loss", "-np.mean(np.log(probs.max(axis=1)))", False, "TRUE digit"),
    ("08.batch_loss", "-np.mean(np.log(probs[:, y_batch]))", False, "every label"),
    ("08.batch_loss", "-np.mean(np.log(probs[y_batch]))", False, "picks rows"),
    (
        "08.batch_loss",
        "-np.log(np.mean(probs[np.arange(len(y_batch)), y_batch]))",
        False,
        "log of the mean",
    ),
    ("08.batch_loss", "np.log(10)", False, "ln 10"),
    (
        "08.batch_loss",
        "-np.log(probs[np.arange(len(y_batch)), y_batch])",
        False,
        "one loss per image",
    ),
    (
        "08.batch_loss",
        "keras.losses.sparse_categorical_crossentropy(y_batch, probs)",
        False,
        "TensorFlow tensor",
    ),
    # 08.bias_gradient
    ("08.bias_gradient", "(probs - np.eye(10)[y_batch]).mean(axis=0)", True, "surplus belief"),
    ("08.bias_gradient", "np.mean(probs - np.eye(10)[y_batch], axis=0)", True, "GradientTape"),
    ("08.bias_gradient", "(np.eye(10)[y_batch] - probs).mean(axis=0)", False, "not the other way"),
    ("08.bias_gradient", "(probs - np.eye(10)[y_batch]).sum(axis=0)", False, "a mean"),
    ("08.bias_gradient", "probs.mean(axis=0)", False, "one-hot labels"),
    ("08.bias_gradient", "(probs - y_batch[:, None]).mean(axis=0)", False, "not one-hot"),
    ("08.bias_gradient", "probs - np.eye(10)[y_batch]", False, "one row per image"),
    ("08.bias_gradient", "(probs - np.eye(10)[y_batch]).mean(axis=1)", False, "other axis"),
    ("08.bias_gradient", "(probs - np.eye(10)[y_batch]).sum(axis=0) / 10", False, "batch size"),
    ("08.bias_gradient", "(probs - np.eye(10)[y_batch]).mean()", False, "one number"),
    ("08.bias_gradient", "db", False, "TensorFlow tensor"),
    ("08.bias_gradient", "list((probs - np.eye(10)[y_batch]).mean(axis=0))", False, "list"),
    # 08.sgd_step
    ("08.sgd_step", "W - hand_learning_rate * dW.numpy()", True, "the same weights Keras"),
    ("08.sgd_step", "W + hand_learning_rate * dW.numpy()", False, "goes uphill"),
    ("08.sgd_step", "W - dW.numpy()", False, "scale the gradient by the learning rate"),
    ("08.sgd_step", "-hand_learning_rate * dW.numpy()", False, "add it to the current weights"),
    ("08.sgd_step", "W - dW.numpy() / hand_learning_rate", False, "do not divide"),
    ("08.sgd_step", "W - 0.01 * dW.numpy()", False, "a step of 0.01 x the gradient"),
    ("08.sgd_step", "W - hand_learning_rate * dW", False, "TensorFlow tensor"),
    ("08.sgd_step", "(W - hand_learning_rate * dW.numpy()).T", False, "shape"),
]


def _answer(exercise: str, expression: str):
    names = NAMESPACE8 if exercise.startswith("08") else NAMESPACE
    with np.errstate(all="ignore"):  # -np.log(0) and friends are answers here, not accidents
        return eval(expression, {"keras": keras, **names})  # noqa: S307 - test data only


@pytest.mark.parametrize(
    "exercise, expression, passes, phrase", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES]
)
def test_what_a_learner_types_gets_its_message(exercise, expression, passes, phrase):
    result = CALLS[exercise](_answer(exercise, expression))
    assert result.exercise == exercise and result.check_error is None, result.message
    assert result.passed is passes, result.message
    assert phrase in result.message, result.message
    _reads_like_a_person(result.message)


def test_every_exercise_has_its_right_answer_and_named_slips_tested():
    tested = {}
    for exercise, _, passes, _ in CASES:
        tested.setdefault(exercise, set()).add(passes)
    for exercise in ("03.model", "04.compile"):  # built objects: their own tests below
        tested[exercise] = {True, False}
    assert set(tested) == set(CALLS) == set(checks.ALL)
    assert all(outcomes == {True, False} for outcomes in tested.values()), tested


def _reads_like_a_person(message: str):
    """No repr leaks into a message: np.float32(...), array(...), tf.Tensor(...)."""
    leak = r"np\.(float|int|uint|bool)\w*\(|numpy\.|array\(|tf\.Tensor\(|<(function|class|keras)"
    assert not re.search(leak, message), message


# --------------------------------------------------------------------------- the naming rule


def test_a_slip_shared_with_another_is_never_named_as_if_known():
    """Issue #15: argmax(val_accuracy) + 1 gave the 0-based position's number and was told
    'that is the 0-based position'. Now both are offered as possibilities, neither asserted."""
    h = {"loss": [0.9, 0.6, 0.5], "val_loss": [0.8, 0.5, 0.6], "val_accuracy": [0.9, 0.8, 0.7]}
    best0 = int(np.argmin(h["val_loss"]))  # 1: the best epoch is 2
    answer = np.argmax(h["val_accuracy"]) + 1
    assert answer == best0
    result = checks.check_best_epoch(answer, h)
    assert not result.passed
    assert "More than one slip" in result.message
    assert "the 0-based position of the lowest validation loss" in result.message
    assert "the epoch with the highest validation accuracy" in result.message
    assert "Hint:" in result.message
    assert not result.message.startswith("1 is the 0-based")


def test_a_slip_that_equals_the_right_answer_passes():
    h = {"loss": [0.9, 0.6, 0.5], "val_loss": [0.8, 0.5, 0.6], "val_accuracy": [0.7, 0.9, 0.8]}
    result = checks.check_best_epoch(np.argmax(h["val_accuracy"]) + 1, h)
    assert result.passed, result.message


def test_the_mnist_case_of_argmax_of_the_labels():
    """MNIST's first 9 is its fifth label, so np.argmax(y_train) is 4, a digit: the message states
    what that call gives, as a fact about the value (no other slip gives 4 here)."""
    labels = np.array([5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5, 3, 6, 1, 7, 2, 8, 6, 9, 1])
    result = checks.check_most_common_digit(int(np.argmax(labels)), labels)
    assert result.message.startswith("4 is np.argmax(y_train)"), result.message


def test_a_value_that_is_no_slip_gets_the_hint_not_a_guess():
    result = checks.check_conv_params(1234)
    assert result.message == f"1,234 is not it. Hint: {checks.ALL['07.conv_params'].hint}"


def test_lesson_08s_close_slips_are_told_apart():
    """With lesson 08's small random weights every probability is near 1/10, so the batch loss
    and its slips lie within 1% of each other; each is still told apart (float32 arithmetic)."""
    rng = np.random.default_rng(42)
    x = rng.uniform(-1, 1, (128, 784)).astype(np.float32)
    w = rng.normal(0, 0.01, (784, 10)).astype(np.float32)
    logits = x @ w
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    y = rng.integers(0, 10, 128)
    result = checks.check_batch_loss(-np.mean(np.log(p)), p, y)
    assert "is minus the mean log of ALL the probabilities" in result.message, result.message
    right = -np.mean(np.log(p[np.arange(128), y]))
    assert checks.check_batch_loss(right, p, y).passed
    g = rng.normal(0, 1e-3, (784, 10)).astype(np.float32)
    result = checks.check_sgd_step(w - 0.01 * g, w, g, 0.05)
    assert "a step of 0.01 x the gradient" in result.message, result.message


# --------------------------------------------------------------------------- built objects


def model(*layer_list, inputs=784):
    return keras.Sequential([keras.Input(shape=(inputs,)), *layer_list])


D = keras.layers.Dense


@pytest.mark.parametrize(
    "build, passes, phrase",
    [
        (lambda: model(D(64, activation="relu"), D(10, activation="softmax")), True, "64 ReLU"),
        (
            lambda: model(D(64, activation="relu"), D(10), keras.layers.Softmax()),
            True,
            "softmax over 10",
        ),
        (lambda: model(D(64, activation="relu"), D(10)), False, "not probabilities"),
        (lambda: model(D(10, activation="softmax")), False, "no hidden layer"),
        (lambda: model(D(64, activation="relu"), D(9, activation="softmax")), False, "needs 10"),
        (lambda: model(D(64), D(10, activation="softmax")), False, "no activation"),
        (
            lambda: model(D(64, activation="sigmoid"), D(10, activation="softmax")),
            False,
            "asks for ReLU",
        ),
        (
            lambda: model(D(32, activation="relu"), D(10, activation="softmax")),
            False,
            "has 32 units",
        ),
        (
            lambda: model(
                D(64, activation="relu"), D(64, activation="relu"), D(10, activation="softmax")
            ),
            False,
            "the reference project's network, which lesson 02 trains",
        ),
        (
            lambda: model(
                D(64, activation="relu"), D(32, activation="relu"), D(10, activation="softmax")
            ),
            False,
            "asks for one",
        ),
        (
            lambda: model(D(64, activation="relu"), D(10, activation="softmax"), inputs=28),
            False,
            "(784,)",
        ),
        (
            lambda: keras.Sequential([D(64, activation="relu"), D(10, activation="softmax")]),
            False,
            "no input shape yet",
        ),
        (lambda: [keras.Input(shape=(784,)), D(64), D(10)], False, "wrap the list"),
        (lambda: keras.Sequential, False, "the class Sequential itself"),
        (lambda: D(64, activation="relu"), False, "one layer (Dense)"),
        (lambda: "a model", False, "not a Keras model"),
    ],
)
def test_check_model(build, passes, phrase):
    result = checks.check_model(build())
    assert result.passed is passes and phrase in result.message, result.message
    assert result.check_error is None


def _compiled(loss, optimizer="adam", metrics=("accuracy",)):
    m = model(D(64, activation="relu"), D(10, activation="softmax"))
    chosen = {"optimizer": optimizer} if optimizer is not None else {}  # None: Keras' default
    m.compile(loss=loss, metrics=list(metrics) if metrics is not None else None, **chosen)
    return m


@pytest.mark.parametrize(
    "build, passes, phrase",
    [
        (lambda: _compiled("sparse_categorical_crossentropy"), True, "Adam"),
        (lambda: _compiled(keras.losses.SparseCategoricalCrossentropy()), True, "Adam"),
        (lambda: _compiled(keras.losses.sparse_categorical_crossentropy), True, "Adam"),
        (lambda: _compiled("SparseCategoricalCrossentropy", "Adam", ["acc"]), True, "Adam"),
        (
            lambda: _compiled(
                "sparse_categorical_crossentropy",
                metrics=[keras.metrics.SparseCategoricalAccuracy()],
            ),
            True,
            "accuracy",
        ),
        (lambda: _compiled("categorical_crossentropy"), False, "one-hot"),
        (lambda: _compiled("binary_crossentropy"), False, "yes/no"),
        (lambda: _compiled("mse"), False, "mean squared error"),
        (
            lambda: _compiled(keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
            False,
            "from_logits",
        ),
        (lambda: _compiled("sparse_categorical_crossentropy", "sgd"), False, "uses Adam"),
        (
            lambda: _compiled("sparse_categorical_crossentropy", None),
            False,
            "RMSprop (what Keras uses when no optimizer is given)",
        ),
        (lambda: _compiled("sparse_categorical_crossentropy", metrics=None), False, "no metrics"),
        (
            lambda: _compiled("sparse_categorical_crossentropy", metrics=["categorical_accuracy"]),
            False,
            "categorical accuracy",
        ),
        (lambda: model(D(10, activation="softmax")), False, "not compiled yet"),
        # my_model = my_model.compile(...): compile returns None
        (lambda: None, False, "gives back None"),
        (lambda: "adam", False, "not a Keras model"),
    ],
)
def test_check_compiled(build, passes, phrase):
    result = checks.check_compiled(build())
    assert result.passed is passes and phrase in result.message, result.message
    assert result.check_error is None


def test_not_compiled_hint_is_a_nudge_not_the_line():
    result = checks.check_compiled(model(D(10, activation="softmax")))
    assert "compile(optimizer=" not in result.message and "sparse_categorical" not in result.message


# --------------------------------------------------------------------------- blank answers, hints


def test_every_blank_answer_gets_the_hint():
    for exercise, call in CALLS.items():
        if exercise == "04.compile":
            continue  # its blank is an uncompiled model (above); None means compile's result
        result = call(None)
        hint = checks.ALL[exercise].hint
        assert not result.passed, exercise
        assert result.message == f"not answered yet: replace `None` with your code. Hint: {hint}"


def _solutions_and_hints():
    """Each exercise (named by the check its cell calls), its notebook Hint block (the markdown
    before the cell) and its worked solution (the markdown after, as the runner reads it)."""
    for book in runner.lesson_notebooks():
        nb = nbformat.read(book, as_version=4)
        hint = None
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown" and "<summary>Hint</summary>" in cell.source:
                hint = re.search(r"<summary>Hint</summary>\s*(.*?)\s*</details>", cell.source, re.S)
            if cell.cell_type == "code" and runner.END in cell.source:
                name = re.search(r"checks\.(check_\w+)\(", cell.source.split(runner.END)[1])
                exercise = getattr(checks, name.group(1)).exercise.id
                after = next(c for c in nb.cells[i + 1 :] if c.cell_type == "markdown")
                solution = runner.SOLUTION_RE.search(after.source)
                assert hint is not None and solution is not None, f"{book.name} cell {i}"
                yield exercise, hint.group(1), solution.group(1)
                hint = None


def test_each_check_names_its_exercise_as_the_heading_above_it_does():
    """A learner reads "Exercise 4.1" in the heading and the same words in the check's answer,
    never an internal id like "04.compile" (that stays what progress files record)."""
    seen = []
    for book in runner.lesson_notebooks():
        nb = nbformat.read(book, as_version=4)
        heading = None
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                found = re.search(r"^### (Exercise \d+\.\d+)\b", cell.source, re.M)
                heading = found.group(1) if found else heading
            if cell.cell_type == "code" and runner.END in cell.source:
                name = re.search(r"checks\.(check_\w+)\(", cell.source.split(runner.END)[1])
                exercise = getattr(checks, name.group(1)).exercise
                result = exercise.wrong("a test answer.")
                assert heading == f"Exercise {exercise.number}", (book.name, exercise.id)
                assert str(result).startswith(f"✗ Not yet ({heading}): ")
                assert f"({heading}): " in result._repr_markdown_()
                assert exercise.id not in str(result) + result._repr_markdown_()
                seen.append(exercise.id)
                heading = None
    assert sorted(seen) == sorted(checks.ALL)


def test_every_exercise_has_one_hint_and_one_solution():
    assert sorted(e for e, _, _ in _solutions_and_hints()) == sorted(checks.ALL)


def _squash(text: str) -> str:
    return re.sub(r"[\s`\"']", "", text)


def _longest_common_run(a: str, b: str) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


@pytest.mark.parametrize("exercise, hint, solution", list(_solutions_and_hints()))
def test_each_hint_is_a_nudge_and_the_same_in_notebook_and_check(exercise, hint, solution):
    """The notebook's Hint block is the check's hint, word for word; and it does not hold the
    worked solution's code (no run of it longer than a short name)."""
    words = " ".join(checks.ALL[exercise].hint.split())
    assert " ".join(hint.split()) == words[0].upper() + words[1:]
    rhs = _squash(solution.split("=", 1)[-1] if "=" in solution.split("(")[0] else solution)
    run = _longest_common_run(rhs, _squash(hint))
    assert run < max(9, len(rhs) // 2), f"{exercise}: the hint holds {run} chars of {rhs!r}"


def test_the_nudge_test_would_catch_the_old_hints():
    old = "`np.mean(y_pred == y_test)`."
    rhs = _squash("float(np.mean(y_pred == y_test))")
    assert _longest_common_run(rhs, _squash(old)) >= len(rhs) // 2


# --------------------------------------------------------------------------- numbers as written


@pytest.mark.parametrize(
    "value, shown",
    [
        (np.float32(0.317845678), "0.3178"),
        (np.int64(4), "4"),
        (60000, "60,000"),
        (784.0, "784"),
        (0.1, "0.1"),
        (math.log(10), "2.303"),
        (np.float64("nan"), "NaN"),
        (-math.inf, "minus infinity"),
        (1.5e-9, "1.5e-09"),
        (2**70, "1.181e+21"),
        (10**400, "a number too large to hold"),
        (123456789, "123,456,789"),
        (123456.78, "123,456.8"),
        (True, "True"),
    ],
)
def test_numbers_are_shown_as_a_person_writes_them(value, shown):
    assert checks.number(value) == shown


def test_an_echoed_answer_is_never_a_repr():
    result = checks.check_pixels_per_image(np.int64(785))
    assert result.message.startswith("785 is not it")
    result = checks.check_initial_loss(np.float32(0.3178))
    assert result.message.startswith("0.3178 is not it")


# --------------------------------------------------------------------------- never raise


def test_a_check_that_breaks_says_so_instead_of_raising():
    result = checks.check_most_common_digit(3, y_train="not labels")
    assert not result.passed and result.check_error is not None
    assert "could not read" in result.message and "report it" in result.message


def _the_right_type(exercise: str, answer) -> bool:
    """Whether ``answer`` has a type the exercise accepts (a wrong type must never pass)."""
    if exercise in ("03.model", "04.compile"):
        return isinstance(answer, keras.Model)
    if isinstance(answer, (bool, np.bool_, str, bytes, list, tuple, dict)) or answer is None:
        return False
    if core._is_tensor(answer):
        return False
    arrays = ("02.", "06.predicted", "08.bias", "08.sgd")
    if exercise.startswith(arrays):
        return isinstance(answer, np.ndarray) and answer.dtype.kind in "iuf"
    if isinstance(answer, np.ndarray):
        return answer.ndim == 0 and answer.dtype.kind in "iuf"
    return isinstance(answer, (int, float, np.integer, np.floating))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["784", "10", "0.75", "", "None", "<b>x</b>", "`"]),
    st.binary(max_size=4),
)
ARRAYS = hnp.arrays(
    dtype=st.sampled_from(
        [np.uint8, np.int64, np.float32, np.float64, np.bool_, np.complex64, np.dtype("U3")]
    ),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=12),
)
ANSWERS = st.one_of(
    SCALARS,
    ARRAYS,
    st.lists(SCALARS, max_size=5),
    st.tuples(st.integers(), st.integers()),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    ARRAYS.map(lambda a: tf.constant(a) if a.dtype.kind in "iuf" else a),
    st.sampled_from(
        [
            object(),
            np.float32("nan"),
            np.array(None),
            np.array([1, "a"], dtype=object),
            range(10),
            keras.Sequential,
            keras.layers.Dense(3),
            tf.Variable([1.0, 2.0]),
            x_test,
            probs,
            probs8,
            W.T,
        ]
    ),
)


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(exercise=st.sampled_from(sorted(CALLS)), answer=ANSWERS)
def test_no_check_raises_or_passes_a_wrong_type(exercise, answer):
    result = CALLS[exercise](answer)
    assert isinstance(result, checks.CheckResult)
    assert result.check_error is None, f"{exercise} broke on {answer!r}: {result.check_error}"
    assert result.exercise == exercise and result.message
    if result.passed:
        assert _the_right_type(exercise, answer), f"{exercise} passed {answer!r}"
    _reads_like_a_person(result.message)
    str(result), result._repr_markdown_()


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


def test_every_named_slip_is_met_by_a_test_case(monkeypatch):
    """Each slip a check can name is named for at least one answer in CASES (typed as a learner
    types it), so no message goes untested."""
    offered: dict[str, set[str]] = {}
    named: dict[str, set[str]] = {}
    original = core.Exercise.matches

    def spy(self, value, right, slips, close, slip_close=None):
        offered.setdefault(self.id, set()).update(s.what for s in slips)
        found = original(self, value, right, slips, close, slip_close)
        named.setdefault(self.id, set()).update(s.what for s in found or [])
        return found

    monkeypatch.setattr(core.Exercise, "matches", spy)
    for exercise, expression, _, _ in CASES:
        CALLS[exercise](_answer(exercise, expression))
    missing = {e: sorted(offered[e] - named.get(e, set())) for e in offered}
    missing = {e: m for e, m in missing.items() if m}
    assert not missing, "\n".join(f"{e}: {m}" for e, m in missing.items())


def test_the_line_after_the_tape_compares_my_db_with_db():
    right = (probs8 - np.eye(10)[y_batch]).mean(axis=0)
    assert checks.compare_with_tape(right, db).startswith("Your my_db equals the tape's db")
    assert "not answered yet" in checks.compare_with_tape(None, db)
    assert "differs" in checks.compare_with_tape(-right, db)
    assert "differs" in checks.compare_with_tape("db", db)
    assert "differs" in checks.compare_with_tape(right[:3], db)
