"""The lesson models, each a function returning a compiled Keras model.

``dense_model`` is the network lesson 03 builds inline and lesson 04 trains;
``tests/test_notebooks.py`` checks that the two agree. ``reference_model`` and
``quickstart_model`` are the two outside baselines the benchmarks compare with;
``cnn_model`` is lesson 07's.
"""

from __future__ import annotations

import functools

import keras
from keras import layers

from . import tfdata
from .data import NUM_CLASSES

INPUT_PIXELS = 784

# The lesson defaults, chosen on validation figures with benchmarks/tune_dense.py on full
# MNIST (README, "Results"): random shifts of up to one pixel, 320 x 2 units, 18 epochs of 384.
DENSE_DEFAULTS = {
    "hidden_units": 320,
    "hidden_layers": 2,
    "dropout": 0.15,
    "learning_rate": 2e-3,
}
TRAINING_DEFAULTS = {
    "epochs": 18,
    "batch_size": 384,
    "validation_fraction": 0.1,
    "patience": 4,
    "shift": 1,
}
# Lesson 07's CNN and its training, chosen on validation figures with benchmarks/tune_cnn.py on
# full MNIST, one core, one TensorFlow thread (README, "Results"; issue #19). It trains on
# deskewed digits (preprocess.prepare_images), as lesson 04's dense network does.
CNN_DEFAULTS = {
    "filters": 16,
    "dense_units": 128,
    "dropout": 0.3,
    "learning_rate": 4e-3,
    "shift": 1,
}
CNN_TRAINING = {"epochs": 6, "batch_size": 128}
# Run this many batches per call into TensorFlow: cuts Python overhead per step
# (measured on 2 cores: 10 epochs took 5.1 s with 1, 3.2 s with 8), same results.
STEPS_PER_EXECUTION = 32


def clip_progress_steps() -> bool:
    """Make Keras report the last batch it really ran, so the bar never reads "160/141".

    Keras 3.15's ``EpochIterator`` yields, for each call into TensorFlow, the index of the
    last of ``steps_per_execution`` batches (keras-team/keras#21422, for #20861), without
    clipping it to the epoch: 141 batches in calls of 32 end with a call that runs batches
    128..140 but reports 159, and the progress bar shows "160/141" (and a negative ETA). This
    wraps that generator to clip the index to the epoch's last batch. It patches only when a
    probe shows the overshoot, so a Keras that fixes it is left alone. Returns True if the
    reported steps are now right.
    """
    from keras.src.trainers import epoch_iterator

    cls = epoch_iterator.EpochIterator
    if _overshoots(cls) is False:
        return True
    original = cls._enumerate_iterator

    @functools.wraps(original)
    def enumerate_clipped(self):
        for begin, end, iterator in original(self):
            last = (self.num_batches or 0) - 1
            yield begin, (min(end, last) if last >= begin else end), iterator

    cls._enumerate_iterator = enumerate_clipped
    return _overshoots(cls) is False


def _overshoots(cls) -> bool | None:
    """Whether 10 batches in calls of 4 report a step past the 10th (None: cannot tell)."""
    import numpy as np

    try:
        probe = cls(np.zeros((10, 1), "float32"), batch_size=1, steps_per_execution=4)
        ends = [end for _, end, _ in probe._enumerate_iterator()]
    except Exception:
        return None
    return max(ends) > 9


clip_progress_steps()
tfdata.install()  # arrays reach fit without tf.data's autotuner: no idle core between epochs


@keras.saving.register_keras_serializable(package="lessons_lib")
class PixelShift(layers.Layer):
    """Moves each 28x28 image by a random amount of up to ``shift`` pixels along each axis
    while training, a new amount every time; passes images through unchanged when predicting.
    Uncovered pixels take ``fill_value`` (-1.0 is white paper in [-1, 1]).

    The same augmentation as Keras' ``RandomTranslation(shift / 28, shift / 28,
    fill_mode="constant")``: moves drawn uniformly from [-shift, shift], bilinear
    interpolation between pixels. It computes it as a weighted sum of copies of the image
    moved by whole pixels, one axis then the other (for a move by d, weight
    ``max(0, 1 - |d - k|)`` on the copy moved by k), which is plain array arithmetic.
    RandomTranslation's general projective-transform kernel costs more: on one core,
    lesson 04's network trained 2.57 CPU s per epoch with it, 2.15 with this layer and 1.90
    without shifts (benchmarks/bench_shift.py, results/shift-cost-onecore.json). Lesson
    07's CNN keeps RandomTranslation (results/cnn-pixelshift-trial.json).
    """

    def __init__(self, shift: int = 1, fill_value: float = -1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(shift, int) or isinstance(shift, bool) or not 0 <= shift <= 27:
            raise ValueError(f"shift must be a whole number of pixels from 0 to 27, not {shift!r}")
        self.shift = shift
        self.fill_value = float(fill_value)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _along(self, images, moves, axis: int):
        """``images`` (n, 28, 28) moved along ``axis`` (1: rows, 2: columns) by ``moves``
        (n, 1, 1): the pixel at i takes, from the padded image, the one at i - move,
        interpolated."""
        s = self.shift
        pad = [[0, 0], [0, 0], [0, 0]]
        pad[axis] = [s, s]
        padded = keras.ops.pad(images, pad, constant_values=self.fill_value)
        out = None
        for k in range(-s, s + 1):
            window = [slice(None)] * 3
            window[axis] = slice(s + k, s + k + 28)
            term = keras.ops.relu(1.0 - keras.ops.abs(moves + k)) * padded[tuple(window)]
            out = term if out is None else out + term
        return out

    def move(self, inputs, down, right):
        """Images moved ``down`` and ``right`` pixels (one figure per image, each within
        [-shift, shift]; fractions interpolate bilinearly). ``inputs`` is (n, 784), flattened
        as in lesson 04, or (n, 28, 28) or (n, 28, 28, 1); the result has its shape."""
        images = keras.ops.reshape(inputs, (-1, 28, 28))
        down = keras.ops.reshape(keras.ops.cast(down, images.dtype), (-1, 1, 1))
        right = keras.ops.reshape(keras.ops.cast(right, images.dtype), (-1, 1, 1))
        images = self._along(images, down, 1)
        images = self._along(images, right, 2)
        return keras.ops.reshape(images, keras.ops.shape(inputs))

    def call(self, inputs, training=False):
        if not training or self.shift == 0:
            return inputs
        n = keras.ops.shape(inputs)[0]
        moves = keras.random.uniform(
            (2, n), -self.shift, self.shift, dtype=inputs.dtype, seed=self.seed_generator
        )
        return self.move(inputs, moves[0], moves[1])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "shift": self.shift,
            "fill_value": self.fill_value,
            "seed": self.seed,
        }


def dense_model(
    hidden_units: int = DENSE_DEFAULTS["hidden_units"],
    hidden_layers: int = DENSE_DEFAULTS["hidden_layers"],
    dropout: float = DENSE_DEFAULTS["dropout"],
    learning_rate: float = DENSE_DEFAULTS["learning_rate"],
    steps_per_execution: int = STEPS_PER_EXECUTION,
    shift: int = 0,
) -> keras.Model:
    """The lessons' dense network on flattened (n, 784) float32 input in [-1, 1].

    ``shift`` > 0 moves each training image by up to that many pixels in each direction,
    a new random shift every time it is seen (a data augmentation; off at test time).

    ``hidden_layers`` ReLU layers of ``hidden_units`` each, each followed by
    Dropout(``dropout``), then a 10-way softmax. Compiled with Adam and sparse
    categorical cross-entropy (labels are the integers 0..9), metric accuracy.
    """
    model = keras.Sequential(name="lesson_dense")
    model.add(keras.Input(shape=(INPUT_PIXELS,)))
    if shift:
        model.add(PixelShift(shift, fill_value=-1.0))
    for _ in range(hidden_layers):
        model.add(layers.Dense(hidden_units, activation="relu"))
        if dropout > 0:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax"))
    return _compile(model, learning_rate, steps_per_execution)


def _compile(model: keras.Model, learning_rate: float, steps_per_execution: int) -> keras.Model:
    """Adam, sparse categorical cross-entropy (integer labels 0..9), accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def reference_model() -> keras.Model:
    """The reference project: Dense 64 ReLU twice, softmax; Adam; input in [-1, 1]."""
    return dense_model(
        hidden_units=64, hidden_layers=2, dropout=0.0, learning_rate=1e-3, steps_per_execution=1
    )


def quickstart_model() -> keras.Model:
    """TensorFlow's beginner quickstart: Dense 128 ReLU, Dropout 0.2, Dense 10 logits.

    It takes (n, 28, 28) input in [0, 1] and flattens it itself, as the quickstart does.
    """
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(NUM_CLASSES),
        ],
        name="quickstart",
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def cnn_model(
    filters: int = CNN_DEFAULTS["filters"],
    dense_units: int = CNN_DEFAULTS["dense_units"],
    dropout: float = CNN_DEFAULTS["dropout"],
    learning_rate: float = CNN_DEFAULTS["learning_rate"],
    shift: int = CNN_DEFAULTS["shift"],
    steps_per_execution: int = STEPS_PER_EXECUTION,
) -> keras.Model:
    """Lesson 07's small convolutional network on raw (n, 28, 28, 1) uint8 images.

    A Rescaling layer maps pixels to [-1, 1] inside the model (x / 127.5 - 1), so
    no float copy of the data set is ever made. Two 3x3 convolution blocks
    (``filters``, then twice as many) each followed by 2x2 max pooling, then
    dropout, Dense(``dense_units``) and a softmax. ``shift`` > 0 adds random shifts of up
    to that many pixels while training (Keras' ``RandomTranslation``; lesson 04's network
    uses ``PixelShift``, the same moves).
    """
    augment = (
        [layers.RandomTranslation(shift / 28, shift / 28, fill_mode="constant", fill_value=-1.0)]
        if shift
        else []
    )
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Rescaling(1 / 127.5, offset=-1),
            *augment,
            layers.Conv2D(filters, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(2 * filters, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(dropout),
            layers.Dense(dense_units, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="lesson_cnn",
    )
    return _compile(model, learning_rate, steps_per_execution)


def dense_param_count(hidden_units: int, hidden_layers: int, inputs: int = INPUT_PIXELS) -> int:
    """Weights plus biases of ``dense_model``: what lesson 03 works out by hand."""
    total, fan_in = 0, inputs
    for _ in range(hidden_layers):
        total += fan_in * hidden_units + hidden_units
        fan_in = hidden_units
    return total + fan_in * NUM_CLASSES + NUM_CLASSES
