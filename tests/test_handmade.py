"""Lesson 08's pieces: the hand-made step equals Keras' SGD step; the loop learns."""

from __future__ import annotations

import numpy as np

from lessons_lib import handmade
from lessons_lib.data import load_mnist
from lessons_lib.preprocess import prepare


def test_one_hand_made_step_equals_keras_sgd_step():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    W, b = handmade.init(seed=5)
    W = W + rng.normal(0, 0.05, W.shape).astype(np.float32)  # not a trivial start
    new_W, new_b, loss = handmade.sgd_step(W, b, x, y, learning_rate=0.3)
    twin = handmade.keras_twin(W, b, 0.3)
    keras_loss = float(twin.train_on_batch(x, y))
    kW, kb = twin.layers[0].get_weights()
    np.testing.assert_allclose(kW, new_W, atol=1e-6)
    np.testing.assert_allclose(kb, new_b, atol=1e-6)
    assert abs(keras_loss - loss) < 1e-5 and not np.allclose(new_W, W)


def test_the_loop_by_hand_learns_the_offline_sample():
    (x, y), (xt, yt) = load_mnist("sample")
    W, b, losses = handmade.train(
        prepare(x), y, epochs=2, batch_size=128, learning_rate=0.05, seed=42
    )
    assert losses[0] > 2.0 and np.mean(losses[-10:]) < 0.6
    assert handmade.accuracy(W, b, prepare(xt), yt) > 0.8
