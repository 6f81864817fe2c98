"""What ``fit`` does, written out: lesson 08's softmax regression trained by hand.

The lesson writes each piece inline; these are the library's versions, and
``tests/test_handmade.py`` proves one hand-made step equals Keras' own SGD step.

Model: logits = x @ W + b, probabilities = softmax(logits), for x of shape (n, 784)
float32 (lesson 02's preparation) and W (784, 10), b (10,). Loss: mean sparse
categorical cross-entropy, -mean(ln p[true digit]).
"""

from __future__ import annotations

import numpy as np


def init(seed: int, inputs: int = 784, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Small random weights and zero biases: (W (784, 10) float32, b (10,) float32)."""
    rng = np.random.default_rng(seed)
    return (
        rng.normal(0, 0.01, (inputs, classes)).astype(np.float32),
        np.zeros(classes, np.float32),
    )


def loss_and_gradients(W, b, x, y):
    """(loss, dW, db) for one batch, by tf.GradientTape; numpy in, numpy out."""
    import tensorflow as tf

    W, b = tf.Variable(W), tf.Variable(b)
    with tf.GradientTape() as tape:
        probs = tf.nn.softmax(tf.convert_to_tensor(x) @ W + b)
        true_p = tf.gather(
            probs, tf.convert_to_tensor(np.asarray(y, np.int64)), axis=1, batch_dims=1
        )
        loss = -tf.reduce_mean(tf.math.log(true_p))
    dW, db = tape.gradient(loss, [W, b])
    return float(loss), dW.numpy(), db.numpy()


def sgd_step(W, b, x, y, learning_rate: float):
    """One step of plain gradient descent: (new W, new b, the batch's loss before the step)."""
    loss, dW, db = loss_and_gradients(W, b, x, y)
    return W - learning_rate * dW, b - learning_rate * db, loss


def keras_twin(W, b, learning_rate: float):
    """The same model in Keras (Dense(10, softmax), weights W, b), compiled with plain SGD."""
    import keras

    model = keras.Sequential(
        [keras.Input((W.shape[0],)), keras.layers.Dense(W.shape[1], activation="softmax")]
    )
    model.layers[0].set_weights([W, b])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate), loss="sparse_categorical_crossentropy"
    )
    return model


def train(
    x, y, *, epochs: int, batch_size: int, learning_rate: float, seed: int, steps: int | None = None
):
    """Mini-batch gradient descent by hand. Returns (W, b, loss per step)."""
    W, b = init(seed)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            W, b, loss = sgd_step(W, b, x[idx], y[idx], learning_rate)
            losses.append(loss)
            if steps is not None and len(losses) >= steps:
                return W, b, losses
    return W, b, losses


def accuracy(W, b, x, y) -> float:
    """Share of images whose largest logit is the true digit."""
    return float(np.mean((np.asarray(x) @ W + b).argmax(axis=1) == np.asarray(y)))
