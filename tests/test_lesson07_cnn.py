"""Lesson 07 builds its CNN inline, layer by layer, for the learner to read; ``models.cnn_model``
is what the benchmarks time (bench_models.py, tune_cnn.py) and what the README's figures are
of. The two must be the same network, compiled and trained the same way."""

from __future__ import annotations

import nbformat
import pytest

from conftest import ROOT
from lessons_lib import models, params, runner, training

BOOK = ROOT / "notebooks" / "07_going_further.ipynb"


def _inline_cnn(**overrides):
    """Run lesson 07's model cell (with the lesson's parameter defaults) and return its ``cnn``."""
    nb = nbformat.read(BOOK, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "cnn = keras.Sequential(" in c.source]
    assert len(cells) == 1, "lesson 07 builds its CNN in exactly one cell"
    namespace = {name: p.default for name, p in runner.notebook_parameters(BOOK).items()}
    namespace |= {"training": training, **overrides}
    exec(compile(cells[0].source, f"{BOOK.name}: the model cell", "exec"), namespace)
    return namespace["cnn"]


def _layers(model):
    """Each layer's class and full configuration, without its name."""
    rows = []
    for layer in model.layers:
        config = dict(layer.get_config())
        config.pop("name", None)
        rows.append((type(layer).__name__, config))
    return rows


def _compiled(model):
    return (
        type(model.optimizer).__name__,
        round(float(model.optimizer.learning_rate), 9),
        model.loss,
        model.steps_per_execution,
        [type(m).__name__ for m in model.metrics],
    )


@pytest.fixture(scope="module")
def inline():
    return _inline_cnn()


def test_lesson_07_inline_cnn_is_models_cnn_model_layer_for_layer(inline):
    library = models.cnn_model()
    assert _layers(inline) == _layers(library)
    assert inline.count_params() == library.count_params()
    assert _compiled(inline) == _compiled(library)
    assert inline.input_shape == library.input_shape == (None, 28, 28, 1)


@pytest.mark.parametrize(
    "change",
    [
        {"filters": models.CNN_DEFAULTS["filters"] * 2},
        {"dense_units": models.CNN_DEFAULTS["dense_units"] + 1},
        {"dropout": 0.5},
        {"shift": models.CNN_DEFAULTS["shift"] + 1},
        {"learning_rate": 1e-3},
    ],
    ids=lambda c: next(iter(c)),
)
def test_the_comparison_sees_any_change(inline, change):
    """Each knob of cnn_model changed alone makes the comparison fail: it is not vacuous."""
    other = models.cnn_model(**{**models.CNN_DEFAULTS, **change})
    assert (_layers(inline), _compiled(inline)) != (_layers(other), _compiled(other))


def test_lesson_07_trains_with_the_library_defaults():
    """The lesson's parameters are the schema's, which are models.CNN_TRAINING (what the
    benchmarks train), and its training cell uses the model's learning rate."""
    found = runner.notebook_parameters(BOOK)
    for name, key in (("cnn_epochs", "epochs"), ("cnn_batch_size", "batch_size")):
        assert found[name].default == params.SPECS[name].default == models.CNN_TRAINING[key]
    nb = nbformat.read(BOOK, as_version=4)
    (fit,) = [c.source for c in nb.cells if c.cell_type == "code" and "= cnn.fit(" in c.source]
    lr = models.CNN_DEFAULTS["learning_rate"]
    assert f"cosine_schedule(cnn_epochs, {lr})" in fit, "the schedule starts at the model's rate"


def test_lesson_07_and_the_benchmarks_train_the_cnn_on_deskewed_digits():
    """The CNN's figures (99.50% in mnist-onecore.json, the tune_cnn rows it was chosen by) are
    of deskewed digits: the lesson's training cell, bench_models and tune_cnn's chosen row must
    all straighten them, and the Fashion-MNIST CNN must not (clothes do not slant)."""
    nb = nbformat.read(BOOK, as_version=4)
    (fit,) = [c.source for c in nb.cells if c.cell_type == "code" and "= cnn.fit(" in c.source]
    assert "x_img = prepare_images(x_train)" in fit
    assert "x_test_img = prepare_images(x_test)" in fit
    (fashion,) = [c.source for c in nb.cells if c.cell_type == "code" and "f_cnn.fit(" in c.source]
    assert fashion.count("prepare_images(") == 2
    assert fashion.count("straighten=False") >= 4  # dense prepare twice, CNN images twice
    bench = (ROOT / "benchmarks" / "bench_models.py").read_text()
    cnn_branch = bench[bench.index('elif name == "lesson_cnn":') :]
    assert "xin = prepare_images(x)" in cnn_branch and "xtest = prepare_images(xt)" in cnn_branch
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import tune_cnn

    rows = [tune_cnn.unpack(row) for row in tune_cnn.GRID]
    chosen = [
        r for r in rows
        if r["straighten"]
        and r["epochs"] == models.CNN_TRAINING["epochs"]
        and r["learning_rate"] == models.CNN_DEFAULTS["learning_rate"]
    ]  # fmt: skip
    assert len(chosen) == 1 and chosen[0]["filters"] == models.CNN_DEFAULTS["filters"]
