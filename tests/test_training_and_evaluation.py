"""Training is reproducible; saving round-trips; the evaluation helpers compute the right numbers."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import evaluation, models, training
from lessons_lib.data import load_mnist, take_subset
from lessons_lib.preprocess import prepare

PARAMS = dict(
    hidden_units=32,
    hidden_layers=1,
    dropout=0.1,
    learning_rate=0.002,
    epochs=2,
    batch_size=128,
    validation_fraction=0.1,
    patience=0,
)


@pytest.fixture(scope="module")
def sample():
    (x, y), (xt, yt) = take_subset(load_mnist("sample"), 1500, seed=0)
    return prepare(x), y, prepare(xt), yt, x


def test_same_seed_same_figures_twice(sample):
    x, y, xt, yt, _ = sample
    a = training.train_lesson_model(x, y, seed=7, verbose=0, **PARAMS)
    b = training.train_lesson_model(x, y, seed=7, verbose=0, **PARAMS)
    c = training.train_lesson_model(x, y, seed=8, verbose=0, **PARAMS)
    assert a.history == b.history
    assert evaluation.evaluate(a.model, xt, yt) == evaluation.evaluate(b.model, xt, yt)
    assert a.history != c.history


def test_save_and_reload_round_trip(sample, tmp_path):
    x, y, xt, _, raw = sample
    result = training.train_lesson_model(x, y, seed=1, verbose=0, **PARAMS)
    training.save_trained(result.model, result.history, tmp_path, meta={"data": "sample"})
    saved = training.load_trained(tmp_path)
    assert saved.history == result.history and saved.meta == {"data": "sample"} and not saved.note
    np.testing.assert_allclose(
        saved.model.predict(xt[:50], verbose=0), result.model.predict(xt[:50], verbose=0), rtol=1e-6
    )
    model, _, how = training.load_or_train(tmp_path, raw, y, seed=1, **PARAMS)
    assert "Loaded the model lesson 04 saved" in how


def test_load_or_train_says_it_trained(sample, tmp_path):
    _, y, xt, yt, raw = sample
    model, history, how = training.load_or_train(tmp_path / "empty", raw, y, seed=1, **PARAMS)
    assert "No saved model" in how and "Run lesson 04" in how and len(history["loss"]) == 2
    assert (tmp_path / "empty" / training.MODEL_FILE).is_file() and "saved at" in how
    assert evaluation.evaluate(model, xt, yt)["test_accuracy"] > 0.5  # trained on prepared input


def test_cosine_schedule_falls_from_peak_to_floor():
    cb = training.cosine_schedule(5, 0.01, floor=0.1)
    rates = [cb.schedule(e, 0) for e in range(5)]
    assert rates[0] == pytest.approx(0.01) and rates[-1] == pytest.approx(0.001)
    assert rates == sorted(rates, reverse=True)


def test_dense_model_matches_its_param_count():
    for units, layers in [(64, 2), (256, 2), (10, 1)]:
        assert models.dense_model(units, layers).count_params() == models.dense_param_count(
            units, layers
        )


def test_confusion_matrix_per_class_and_most_confused():
    y = np.array([0, 0, 1, 1, 1, 2, 4, 4])
    p = np.array([0, 1, 1, 1, 2, 2, 9, 9])
    cm = evaluation.confusion_matrix(y, p)
    assert cm.sum() == 8 and cm[4, 9] == 2 and cm[0, 1] == 1 and np.trace(cm) == 4
    acc = evaluation.per_class_accuracy(cm)
    assert acc[0] == 0.5 and acc[1] == pytest.approx(2 / 3) and acc[3] == 0
    assert evaluation.most_confused(cm, 3) == [(4, 9, 2), (0, 1, 1), (1, 2, 1)]
    with pytest.raises(ValueError, match="shape"):
        evaluation.confusion_matrix(y, p[:3])


def test_reference_comparison_names_both_data_sets():
    text = evaluation.compare_with_reference({"test_accuracy": 0.98, "test_loss": 0.07}, "partial")
    assert "98.00%" in text and "97.50%" in text and "partial" in text and "60,000" in text
