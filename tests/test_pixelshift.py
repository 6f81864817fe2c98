"""Lesson 04's augmentation layer, PixelShift: the bilinear shift it claims, within its range,
reproducible, and saved and loaded with the model like Keras' own layers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndimage
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib import models, training
from lessons_lib.data import load_mnist, take_subset
from lessons_lib.preprocess import prepare


@settings(max_examples=40, deadline=None)
@given(
    shift=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 4),
    fractions=st.lists(st.floats(-1, 1, allow_nan=False), min_size=8, max_size=8),
)
def test_a_move_is_scipys_bilinear_shift_with_white_paper_coming_in(shift, seed, n, fractions):
    """Against scipy.ndimage.shift (order 1: bilinear; grid-constant: the fill value enters
    the interpolation at the edges, as in Keras' RandomTranslation with fill_mode="constant")."""
    images = np.random.default_rng(seed).uniform(-1, 1, (n, 784)).astype("float32")
    down = np.float32(shift) * np.array(fractions[:n], "float32")
    right = np.float32(shift) * np.array(fractions[4 : 4 + n], "float32")
    moved = np.asarray(models.PixelShift(shift).move(images, down, right)).reshape(n, 28, 28)
    for i in range(n):
        expected = ndimage.shift(
            images[i].reshape(28, 28), (down[i], right[i]), order=1, mode="grid-constant", cval=-1
        )
        np.testing.assert_allclose(moved[i], expected, atol=2e-6)


def _dot_images(n: int) -> np.ndarray:
    """n images of white paper (-1) with one black pixel (+1) in the middle."""
    images = np.full((n, 28, 28), -1.0, "float32")
    images[:, 14, 14] = 1.0
    return images.reshape(n, 784)


def _moves(layer: models.PixelShift, images: np.ndarray) -> np.ndarray:
    """How far training moved each dot: its ink's centre of mass against the middle pixel
    (bilinear interpolation keeps both the ink and its centre away from the edges)."""
    ink = (np.asarray(layer(images, training=True)).reshape(-1, 28, 28) + 1) / 2
    rows, cols = np.mgrid[0:28, 0:28]
    mass = ink.sum(axis=(1, 2))
    np.testing.assert_allclose(mass, 1.0, atol=1e-5)
    return np.stack([(ink * rows).sum((1, 2)) / mass - 14, (ink * cols).sum((1, 2)) / mass - 14])


@pytest.mark.parametrize("shift", [1, 2])
def test_training_moves_every_image_anywhere_within_shift_and_predicting_not_at_all(shift):
    layer = models.PixelShift(shift, seed=3)
    images = _dot_images(4000)
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)
    moves = _moves(layer, images)
    assert np.abs(moves).max() <= shift + 1e-5
    # uniform on [-shift, shift] along each axis: mean 0, standard deviation shift / sqrt(3)
    assert np.abs(moves.mean(axis=1)).max() < 0.05 * shift
    np.testing.assert_allclose(moves.std(axis=1), shift / np.sqrt(3), rtol=0.05)
    assert np.abs(np.corrcoef(moves)[0, 1]) < 0.05, "down and right drawn independently"
    again = _moves(layer, images)
    assert not np.allclose(again, moves), "a new move every time an image is seen"


def test_the_same_seed_moves_the_same_way():
    moves = []
    for seed in (5, 5, 6):
        training.set_seed(seed)
        moves.append(_moves(models.PixelShift(1), _dot_images(50)))
    np.testing.assert_array_equal(moves[0], moves[1])
    assert not np.allclose(moves[0], moves[2])


@pytest.mark.parametrize("bad", [-1, 28, 1.5, True, "1"])
def test_a_shift_that_is_not_a_pixel_count_is_refused(bad):
    with pytest.raises(ValueError, match="shift must be a whole number of pixels from 0 to 27"):
        models.PixelShift(bad)


def test_a_shifted_model_saves_and_loads_through_the_lessons_checked_loader(tmp_path):
    """The safe loader (safe_mode, the layer whitelist in savecheck) takes PixelShift."""
    (x, y), (xt, _) = take_subset(load_mnist("sample"), 1000, seed=0)
    x, xt = prepare(x), prepare(xt)
    settings = dict(hidden_units=32, hidden_layers=1, dropout=0.1, learning_rate=0.002,
                    epochs=1, batch_size=128, validation_fraction=0.1, patience=0)  # fmt: skip
    result = training.train_lesson_model(x, y, seed=1, verbose=0, shift=1, **settings)
    assert any(isinstance(layer, models.PixelShift) for layer in result.model.layers)
    training.save_trained(result.model, result.history, tmp_path)
    saved = training.load_trained(tmp_path)
    shifts = [layer for layer in saved.model.layers if isinstance(layer, models.PixelShift)]
    assert [layer.get_config()["shift"] for layer in shifts] == [1]
    np.testing.assert_allclose(
        saved.model.predict(xt[:50], verbose=0), result.model.predict(xt[:50], verbose=0), rtol=1e-6
    )
