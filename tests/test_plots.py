"""Every figure renders headless, with a title and labelled axes."""

from __future__ import annotations

import io

import numpy as np
import pytest

from lessons_lib import plots

RNG = np.random.default_rng(1)
IMAGES = RNG.integers(0, 256, (40, 28, 28), dtype=np.uint8)
LABELS = RNG.integers(0, 10, 40)
PRED = np.where(RNG.random(40) < 0.3, (LABELS + 1) % 10, LABELS)
PROBS = RNG.dirichlet(np.ones(10), 40)
CM = np.bincount(LABELS * 10 + PRED, minlength=100).reshape(10, 10)

FIGURES = {
    "sample_grid": lambda: plots.sample_grid(IMAGES, LABELS, n=12),
    "sample_grid_with_predictions": lambda: plots.sample_grid(
        IMAGES, LABELS, n=12, predictions=PRED
    ),
    "class_balance": lambda: plots.class_balance(LABELS, LABELS[:20]),
    "pixel_histograms": lambda: plots.pixel_histograms(IMAGES, IMAGES / 127.5 - 1),
    "learning_curves": lambda: plots.learning_curves(
        {
            "loss": [1, 0.5],
            "val_loss": [1.1, 0.6],
            "accuracy": [0.7, 0.8],
            "val_accuracy": [0.6, 0.7],
        }
    ),
    "confusion_matrix": lambda: plots.confusion_matrix(CM),
    "confusion_side_by_side": lambda: plots.confusion_side_by_side({"a": CM, "b": CM.T}),
    "per_class_accuracy": lambda: plots.per_class_accuracy(np.linspace(0.9, 1, 10), overall=0.95),
    "misclassified_gallery": lambda: plots.misclassified_gallery(IMAGES, LABELS, PRED, PROBS),
    "first_layer_weights": lambda: plots.first_layer_weights(RNG.normal(size=(784, 32))),
    "probability_bars": lambda: plots.probability_bars(PROBS[0], true_label=3),
    "predictions_with_probabilities": lambda: plots.predictions_with_probabilities(
        IMAGES, PROBS, LABELS
    ),
    "comparison_bars": lambda: plots.comparison_bars({"a": 0.95, "b": 0.97}, reference=0.975),
    "sweep_plot": lambda: plots.sweep_plot(
        [{"h": 1, "val_accuracy": 0.9}, {"h": 2, "val_accuracy": 0.95}], ["h"], ["val_accuracy"]
    ),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_renders_with_title_and_labels(name):
    fig = FIGURES[name]()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG" and len(buf.getvalue()) > 3000
    axes_title = " ".join(fig.axes[0].get_title(loc) for loc in ("left", "center", "right"))
    title = fig._suptitle.get_text() if fig._suptitle else axes_title.strip()
    assert title, f"{name} has no title"
    labelled_axes = any(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    image_grid_caption = fig.get_supxlabel()  # image grids label the grid as a whole
    pictures = [ax for ax in fig.axes if ax.images]  # ... or title every picture ("label 7")
    titled_pictures = bool(pictures) and all(ax.get_title() for ax in pictures)
    assert labelled_axes or image_grid_caption or titled_pictures, f"{name} has no axis labels"


def test_misclassified_gallery_shows_only_mistakes():
    fig = plots.misclassified_gallery(IMAGES, LABELS, PRED, PROBS, n=50)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == int((LABELS != PRED).sum())
    for t in titles:
        true, pred = t.split(" (")[0].split(" -> ")
        assert true != pred


def test_confusion_matrix_annotates_counts():
    fig = plots.confusion_matrix(CM)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert str(CM.max()) in texts


def test_the_per_digit_legend_covers_no_bar_and_no_title():
    """Lesson 05's figure: the legend sat over digit 9's bar."""
    for accuracy in (np.linspace(0.9, 1, 10), np.array([0.99] * 9 + [0.97]), np.full(10, 0.5)):
        fig = plots.per_class_accuracy(accuracy, overall=float(accuracy.mean()))
        fig.canvas.draw()
        ax = fig.axes[0]
        legend = ax.get_legend().get_window_extent()
        for bar in ax.patches:
            assert not legend.overlaps(bar.get_window_extent()), "the legend covers a bar"
        assert not legend.overlaps(ax.title.get_window_extent()), "the legend covers the title"
        assert not legend.overlaps(ax._left_title.get_window_extent()), (
            "the legend covers the title"
        )
        assert fig.bbox.contains(legend.x1 - 1, legend.y1 - 1), "the legend is cut off"
