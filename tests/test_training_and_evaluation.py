"""Training is reproducible; saving round-trips; the evaluation helpers compute the right numbers."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import evaluation, models, params, training
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
    data = take_subset(load_mnist("sample"), 1500, seed=0)
    (x, y), (xt, yt) = data
    return prepare(x), y, prepare(xt), yt, data


def test_same_seed_same_figures_twice(sample):
    x, y, xt, yt, _ = sample
    a = training.train_lesson_model(x, y, seed=7, verbose=0, **PARAMS)
    b = training.train_lesson_model(x, y, seed=7, verbose=0, **PARAMS)
    c = training.train_lesson_model(x, y, seed=8, verbose=0, **PARAMS)
    assert a.history == b.history
    assert evaluation.evaluate(a.model, xt, yt) == evaluation.evaluate(b.model, xt, yt)
    assert a.history != c.history


def test_one_pass_gives_what_keras_evaluate_gives_and_the_probabilities(sample):
    """Lesson 07 scores each network with one pass: the same accuracy as model.evaluate, the
    same loss to float32 rounding, and predict's probabilities."""
    x, y, xt, yt, _ = sample
    for seed in (1, 2):
        model = training.train_lesson_model(x, y, seed=seed, verbose=0, **PARAMS).model
        result, probs = evaluation.evaluate_and_predict(model, xt, yt)
        keras_result = evaluation.evaluate(model, xt, yt)
        assert result["test_accuracy"] == pytest.approx(keras_result["test_accuracy"], abs=1e-6)
        assert result["test_loss"] == pytest.approx(keras_result["test_loss"], rel=1e-4)
        np.testing.assert_array_equal(probs, evaluation.predict_proba(model, xt))


def test_save_and_reload_round_trip(sample, tmp_path):
    x, y, xt, _, raw = sample
    result = training.train_lesson_model(x, y, seed=1, verbose=0, **PARAMS)
    training.save_trained(result.model, result.history, tmp_path, meta={"data": "sample"})
    saved = training.load_trained(tmp_path)
    assert saved.history == result.history and saved.meta == {"data": "sample"} and not saved.note
    np.testing.assert_allclose(
        saved.model.predict(xt[:50], verbose=0), result.model.predict(xt[:50], verbose=0), rtol=1e-6
    )
    settings = params.TrainingSettings(seed=1, artifacts_dir=str(tmp_path), **PARAMS)
    model, _, how = training.load_or_train(raw, settings)
    assert "Loaded lesson 04's network from" in how and "right on the first 500 test digits" in how


def test_load_or_train_says_before_it_trains_and_how_long(sample, tmp_path, capsys):
    _, y, xt, yt, raw = sample
    settings = params.TrainingSettings(
        seed=1, shift=0, artifacts_dir=str(tmp_path / "empty"), **PARAMS
    )
    model, history, how = training.load_or_train(raw, settings)
    out = capsys.readouterr().out
    announced = out.index("is trained now: up to 2 epochs of 1,350 images, about ")
    assert announced < out.index("training: epoch 1 of 2") < out.index("Trained: 2 epochs")
    assert "There is no saved model" in how and "Run lesson 04" in how
    assert len(history["loss"]) == 2
    assert (tmp_path / "empty" / training.MODEL_FILE).is_file() and "saved at" in how
    assert evaluation.evaluate(model, xt, yt)["test_accuracy"] > 0.5  # trained on prepared input


def test_the_expected_time_comes_from_the_measured_run():
    import json

    from conftest import ROOT

    run = json.loads((ROOT / "benchmarks" / "results" / "mnist-full.json").read_text())
    dense = run["configs"]["lesson_dense"]
    assert training.MEASURED_SECONDS == dense["train_seconds"]
    assert training.MEASURED_EPOCHS == dense["epochs"]
    assert training.MEASURED_WEIGHTS == dense["params"]
    default = params.TrainingSettings()
    two_cores = training.expected_seconds(54_000, default) / (
        training.ONE_CORE_FACTOR if len(__import__("os").sched_getaffinity(0)) < 2 else 1
    )
    assert two_cores == pytest.approx(dense["train_seconds"] + training.STARTUP_SECONDS)


def test_the_settings_object_is_the_schema():
    fields = {f.name: f.default for f in __import__("dataclasses").fields(params.TrainingSettings)}
    assert fields == {n: params.SPECS[n].default for n in params.TRAINING_SETTINGS}
    lesson = {n: params.SPECS[n].default for n in params.lesson_parameters("05")}
    lesson["learning_rate"] = 1  # an integer, as a learner may type it
    assert params.training_settings(lesson).learning_rate == 1.0
    with pytest.raises(params.ParameterError, match="epochs must be a positive integer"):
        params.training_settings({**lesson, "epochs": 0})


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
