"""lessons_lib.tfdata: arrays reach fit, evaluate and predict through a pipeline with tf.data's
autotuner off (on one core its thread left the core idle at every epoch boundary), with the
same results as Keras' own pipeline, in every lesson that trains or predicts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lessons_lib import models, runner, tfdata, training

ROOT = Path(__file__).resolve().parents[1]


def _array_pipeline_options():
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    adapter = ArrayDataAdapter(np.zeros((10, 2), "float32"), np.zeros(10), batch_size=4)
    return adapter.get_tf_dataset().options()


@pytest.fixture
def keras_own_pipeline():
    """Keras' own pipeline for the test's duration; lessons_lib's again afterwards."""
    tfdata.uninstall()
    yield
    tfdata.install()


def test_importing_the_models_module_turns_the_autotuner_off_for_arrays():
    """This fails when a Keras release moves ArrayDataAdapter: then install() finds nothing
    to wrap and the lessons are back to an idle core between epochs."""
    assert tfdata.installed()
    assert _array_pipeline_options().autotune.enabled is False


def test_a_fresh_kernel_gets_it_from_the_imports_the_lessons_make():
    code = "import lessons_lib.training, lessons_lib.tfdata as t; print(t.installed())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True"


def test_install_is_idempotent_and_uninstall_gives_keras_back(keras_own_pipeline):
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    assert not tfdata.installed()
    assert _array_pipeline_options().autotune.enabled is None  # Keras' default: on
    own = ArrayDataAdapter.get_tf_dataset
    assert tfdata.install() and tfdata.install()
    assert ArrayDataAdapter.get_tf_dataset.__wrapped__ is own  # wrapped once, not twice
    tfdata.uninstall()
    assert ArrayDataAdapter.get_tf_dataset is own


def _train(seed: int = 3):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (600, 28, 28, 1), dtype=np.uint8)
    y = rng.integers(0, 10, 600)
    training.set_seed(seed)
    model = models.cnn_model(filters=4, dense_units=16, steps_per_execution=4)
    history = model.fit(x, y, validation_split=0.2, epochs=2, batch_size=64, verbose=0)
    return model, history.history, model.predict(x[:50], verbose=0)


def test_training_and_predictions_are_the_same_with_either_pipeline(keras_own_pipeline):
    own_model, own_history, own_probs = _train()
    tfdata.install()
    model, history, probs = _train()
    assert history == own_history
    for ours, theirs in zip(model.get_weights(), own_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(probs, own_probs)


def _cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


CALLS = re.compile(r"\.(fit|predict|evaluate)\(|evaluation\.|load_or_train\(")
IMPORTS = re.compile(
    r"from lessons_lib import [^\n]*\b(models|training)\b|import lessons_lib\.(models|training)"
)


@pytest.mark.parametrize("path", runner.lesson_notebooks(), ids=lambda p: p.name[:2])
def test_every_lesson_imports_the_library_before_it_trains_or_predicts(path):
    """The fix rides on importing lessons_lib.models (lessons_lib.training imports it): a
    lesson calling fit, predict or evaluate before that import would train the slow way."""
    cells = _cells(path)
    first_call = next((i for i, s in enumerate(cells) if CALLS.search(s)), None)
    if first_call is None:
        return
    assert any(IMPORTS.search(s) for s in cells[: first_call + 1]), (
        f"{path.name}: cell {first_call} trains or predicts before any cell imports "
        "lessons_lib.models or lessons_lib.training"
    )
