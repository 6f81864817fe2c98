"""Every matplotlib figure the lessons show.

Each function returns a ``matplotlib.figure.Figure`` with a title and labelled
axes. Figures are built without pyplot, so a notebook shows each exactly once
(as the cell's value) and nothing accumulates in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from . import style

DIGITS = np.arange(10)


class LessonFigure(Figure):
    """A Figure that Jupyter shows as a PNG when it is a cell's value (no pyplot needed)."""

    def _repr_png_(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=90)
        return buf.getvalue()


def _grid(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return int(np.ceil(n / cols)), cols


def _image_grid(n: int, cols: int, cell_w: float, cell_h: float, extra_h: float):
    """A figure of n image panels without ticks; panels past n are hidden. Returns (fig, axes)."""
    rows, cols = _grid(max(n, 1), cols)
    fig = LessonFigure(figsize=(cell_w * cols, cell_h * rows + extra_h), layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
    return fig, axes[:n]


def sample_grid(
    images: np.ndarray,
    labels: np.ndarray,
    n: int = 20,
    cols: int = 10,
    predictions: np.ndarray | None = None,
    title: str = "Sample digits with their labels",
) -> Figure:
    """A grid of the first ``n`` images, each titled with its label (and prediction, if given)."""
    n = min(n, len(images))
    fig, axes = _image_grid(n, cols, 1.2, 1.45, 0.5)
    for i, ax in enumerate(axes):
        ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray_r")
        text = f"label {labels[i]}"
        color = "black"
        if predictions is not None:
            right = predictions[i] == labels[i]
            mark = style.RIGHT_MARK if right else style.WRONG_MARK
            text = f"{labels[i]} -> {predictions[i]} {mark}"
            color = style.RIGHT if right else style.WRONG
        ax.set_title(text, fontsize=10, color=color, fontweight="bold")
    fig.suptitle(title)
    if predictions is not None:  # each title already says "label N" when there is no prediction
        fig.supxlabel("true -> predicted", fontsize=9)
    return fig


def class_balance(y_train: np.ndarray, y_test: np.ndarray | None = None) -> Figure:
    """Bar chart: how many images of each digit, per split."""
    fig = LessonFigure(figsize=(7, 3.5), layout="constrained")
    ax = fig.subplots()
    width = 0.4 if y_test is not None else 0.8
    train_counts = np.bincount(y_train, minlength=10)
    ax.bar(DIGITS - (width / 2 if y_test is not None else 0), train_counts, width, label="train")
    if y_test is not None:
        ax.bar(DIGITS + width / 2, np.bincount(y_test, minlength=10), width, label="test")
    ax.set_xticks(DIGITS)
    ax.set_xlabel("digit")
    ax.set_ylabel("number of images")
    ax.set_title("Class balance: images per digit")
    ax.set_ylim(0, train_counts.max() * 1.25)  # room for the legend above the tallest bar
    ax.legend(loc="upper right", ncols=2)
    return fig


def pixel_histograms(raw: np.ndarray, normalized: np.ndarray) -> Figure:
    """Two histograms: pixel values before (0..255) and after normalization."""
    fig = LessonFigure(figsize=(9, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.hist(np.asarray(raw).ravel(), bins=64, color="tab:blue", log=True)
    left.set_title("Before: raw pixels")
    left.set_xlabel("pixel value (uint8)")
    left.set_ylabel("count (log scale)")
    right.hist(np.asarray(normalized).ravel(), bins=64, color="tab:orange", log=True)
    right.set_title("After: normalized pixels")
    right.set_xlabel("pixel value (float32)")
    right.set_ylabel("count (log scale)")
    fig.suptitle("Pixel values before and after normalization")
    return fig


def learning_curves(history: Mapping[str, Sequence[float]], epochs: int | None = None) -> Figure:
    """Loss and accuracy per epoch, training against validation.

    ``epochs``: the planned number, so a figure drawn while training keeps its x axis.
    """
    fig = LessonFigure(figsize=(10, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        values = history.get(metric, [])
        if epochs:
            ax.set_xlim(0.5, epochs + 0.5)
        done = np.arange(1, len(values) + 1)
        ax.plot(done, values, "o-", color=style.RIGHT, label="training")
        if f"val_{metric}" in history:
            ax.plot(done, history[f"val_{metric}"], "s--", color=style.WRONG, label="validation")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{metric.capitalize()} per epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    done = len(history.get("loss", []))
    fig.suptitle("Learning curves" + (f" (epoch {done} of {epochs})" if epochs else ""))
    return fig


def live_curves(epochs: int):
    """A Keras callback that redraws the learning curves in the notebook after every epoch.

    The figure is one display that is updated in place (``display_id``), so the learner
    watches the curves grow; headless (papermill) the last drawing is what the notebook keeps.
    """
    import keras

    class LiveCurves(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history: dict[str, list[float]] = {}
            self.handle = None

        def on_train_begin(self, logs=None):
            from IPython.display import display

            self.handle = display(learning_curves({}, epochs), display_id=True)

        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                if key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                    self.history.setdefault(key, []).append(float(value))
            if self.handle is not None:
                self.handle.update(learning_curves(self.history, epochs))

    return LiveCurves()


def _confusion_axes(ax, cm: np.ndarray, normalized: bool, title: str) -> None:
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalized else cm
    ax.imshow(shown, cmap="Blues")
    for i in range(10):
        for j in range(10):
            value = shown[i, j]
            text = f"{value:.2f}" if normalized else f"{int(value)}"
            if normalized and value < 0.005:
                text = ""
            dark = value > (0.5 if normalized else shown.max() / 2)
            ax.text(
                j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black"
            )
    ax.set_xticks(DIGITS)
    ax.set_yticks(DIGITS)
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)


def confusion_matrix(cm: np.ndarray, title: str = "Confusion matrix") -> Figure:
    """The matrix twice: raw counts, and each row normalized to sum to 1."""
    fig = LessonFigure(figsize=(12, 5.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    _confusion_axes(left, cm, False, "counts")
    _confusion_axes(right, cm, True, "share of each true digit")
    fig.suptitle(title)
    return fig


def confusion_side_by_side(cms: Mapping[str, np.ndarray]) -> Figure:
    """Normalized confusion matrices of several models, side by side (lesson 07)."""
    fig = LessonFigure(figsize=(6 * len(cms), 5.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(cms)))
    for ax, (name, cm) in zip(axes, cms.items(), strict=True):
        errors = int(cm.sum() - np.trace(cm))
        _confusion_axes(ax, cm, True, f"{name}: {errors} errors")
    fig.suptitle("Confusion matrices on the same test set")
    return fig


def per_class_accuracy(accuracy: np.ndarray, overall: float | None = None) -> Figure:
    """Bar chart of the accuracy for each true digit, with the overall figure as a line."""
    fig = LessonFigure(figsize=(7, 3.5), layout="constrained")
    ax = fig.subplots()
    ax.bar(DIGITS, accuracy, color="tab:green")
    if overall is not None:
        ax.axhline(overall, color="black", linestyle="--", label=f"overall {overall:.2%}")
        # above the axes, beside the title: inside, it covered a bar (digit 9's, lesson 05)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
    low = float(np.min(accuracy)) if len(accuracy) else 0.0
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.set_xticks(DIGITS)
    ax.set_xlabel("true digit")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy per digit", loc="left")
    return fig


def misclassified_gallery(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    probs: np.ndarray | None = None,
    n: int = 20,
    cols: int = 10,
) -> Figure:
    """The first ``n`` mistakes, each titled 'true -> predicted (confidence)'."""
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))[:n]
    fig, axes = _image_grid(len(wrong), cols, 1.25, 1.5, 0.6)
    for ax, i in zip(axes, wrong, strict=True):
        ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray_r")
        conf = f" ({probs[i, y_pred[i]]:.0%})" if probs is not None else ""
        ax.set_title(f"{y_true[i]} -> {y_pred[i]}{conf}", fontsize=10, color="black")
    if len(wrong) == 0:
        fig.axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    fig.suptitle(f"Misclassified test digits (first {len(wrong)}): true -> predicted (confidence)")
    fig.supxlabel("each panel: true digit -> predicted digit (confidence)", fontsize=9)
    return fig


def first_layer_weights(weights: np.ndarray, n: int = 16, cols: int = 8) -> Figure:
    """First-layer weights (784, units) shown as 28x28 images, one per hidden unit."""
    weights = np.asarray(weights)
    n = min(n, weights.shape[1])
    fig, axes = _image_grid(n, cols, 1.3, 1.4, 0.6)
    limit = float(np.abs(weights[:, :n]).max()) or 1.0
    for i, ax in enumerate(axes):
        ax.imshow(weights[:, i].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"unit {i}", fontsize=8)
    fig.suptitle("First-layer weights as images (red: pixel pushes the unit up, blue: down)")
    fig.supxlabel(
        "each panel: one hidden unit's 784 input weights laid out as 28x28 pixels", fontsize=9
    )
    return fig


def probability_bars(
    probs: np.ndarray, true_label: int | None = None, ax=None, title: str | None = None
) -> Figure:
    """The ten predicted probabilities as bars; the prediction highlighted."""
    probs = np.asarray(probs, dtype=float).ravel()
    fig = ax.figure if ax is not None else LessonFigure(figsize=(5, 3), layout="constrained")
    ax = ax if ax is not None else fig.subplots()
    predicted = int(np.argmax(probs))
    colors = [style.OTHER] * 10
    hatches = [""] * 10
    right = true_label in (None, predicted)
    colors[predicted] = style.RIGHT if right else style.WRONG
    if not right:
        colors[true_label] = style.TRUE
        hatches[true_label] = "//"  # the true digit is marked by pattern as well as colour
    bars = ax.bar(DIGITS, probs, color=colors, edgecolor="black", linewidth=0.5)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    mark = style.RIGHT_MARK if right else style.WRONG_MARK
    ax.annotate(mark, (predicted, probs[predicted]), ha="center", va="bottom", fontsize=12,
                color=colors[predicted], fontweight="bold")  # fmt: skip
    ax.set_ylim(0, 1.18)  # room above a full bar for its mark, below the title
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_xticks(DIGITS)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability")
    verdict = "" if true_label is None else (" right" if right else f" wrong (true {true_label})")
    ax.set_title(title or f"Predicted {predicted} ({probs[predicted]:.1%}){verdict}")
    return fig


def predictions_with_probabilities(
    images: np.ndarray,
    probs: np.ndarray,
    labels: np.ndarray,
    n: int = 6,
    indices: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
) -> Figure:
    """Rows of (digit, probability bars): the first ``n`` images, or the given ``indices``.

    ``indices`` may map a caption to indices (``evaluation.examples_to_show``): each row's
    digit is then titled with its caption ("sure", "unsure", "wrong").
    """
    if indices is None:
        rows = [("", i) for i in range(min(n, len(images)))]
    elif isinstance(indices, Mapping):
        rows = [(kind, int(i)) for kind, group in indices.items() for i in group]
    else:
        rows = [("", int(i)) for i in indices]
    n = max(len(rows), 1)
    fig = LessonFigure(figsize=(7.5, 1.9 * n + 0.4), layout="constrained")
    axes = fig.subplots(n, 2, squeeze=False, width_ratios=[1, 3])
    for (kind, i), (img_ax, bar_ax) in zip(rows, axes, strict=False):
        img_ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray_r")
        img_ax.set_xticks([])
        img_ax.set_yticks([])
        img_ax.set_ylabel(f"true {labels[i]}")
        if kind:
            img_ax.set_title(kind, fontsize=9)
        probability_bars(probs[i], int(labels[i]), ax=bar_ax)
    fig.suptitle("Test digits and the probabilities the network gives each class")
    return fig


def _labelled_bars(ax, positions, values, fmt: str, color: str) -> None:
    """Bars with each value written on top."""
    bars = ax.bar(positions, values, color=color)
    for bar, value in zip(bars, values, strict=True):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            value,
            fmt.format(value),
            ha="center",
            va="bottom",
            fontsize=8,
        )


def comparison_bars(
    results: Mapping[str, float],
    metric: str = "test accuracy",
    title: str = "Comparison",
    reference: float | None = None,
    fmt: str = "{:.2%}",
) -> Figure:
    """One bar per configuration, its value written on it."""
    fig = LessonFigure(figsize=(1.6 * len(results) + 2.5, 3.6), layout="constrained")
    ax = fig.subplots()
    names, values = list(results), [float(v) for v in results.values()]
    _labelled_bars(ax, names, values, fmt, "tab:purple")
    if reference is not None:
        ax.axhline(
            reference, color="black", linestyle="--", label=f"reference {fmt.format(reference)}"
        )
        ax.legend(loc="lower right")
    if values and min(values) > 0.5 and max(values) <= 1.0:
        ax.set_ylim(min(values + ([reference] if reference else [])) - 0.03, 1.0)
    ax.set_xlabel("configuration")
    ax.set_ylabel(metric)
    ax.set_title(title)
    return fig


def sweep_plot(
    rows: Sequence[Mapping[str, object]], label_keys: Sequence[str], metrics: Sequence[str]
) -> Figure:
    """One panel per metric (accuracy, loss, training time...), one bar per configuration."""
    labels = [", ".join(f"{k}={r[k]}" for k in label_keys) for r in rows]
    metrics = list(metrics) or ["seconds"]
    fig = LessonFigure(figsize=(max(9, 1.2 * len(rows) * len(metrics)), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, key in zip(axes, metrics, strict=True):
        values = [float(r.get(key) or 0.0) for r in rows]
        _labelled_bars(
            ax, range(len(rows)), values, "{:.2%}" if "accuracy" in key else "{:.3g}", "tab:cyan"
        )
        if "accuracy" in key and values and min(values) > 0.5:
            ax.set_ylim(max(0.0, min(values) - 0.03), min(1.0, max(values) + 0.01))
        ax.set_xticks(range(len(rows)), labels, rotation=30, ha="right", fontsize=8)
        ax.set_xlabel("configuration")
        name = key.replace("_", " ")
        ax.set_ylabel(name)
        ax.set_title(name.capitalize())
    fig.suptitle("Sweep: configurations compared")
    return fig


def learning_rate_curves(curves: Mapping[float, Sequence[float]]) -> Figure:
    """Loss per step of the same training at several learning rates (lesson 08).

    A run whose loss became NaN or infinite is drawn up to that step and marked "diverged".
    """
    fig = LessonFigure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    palette = [style.RIGHT, style.WRONG, style.TRUE, "#CC79A7", "#E69F00"]
    for (rate, losses), colour in zip(sorted(curves.items()), palette, strict=False):
        values = np.asarray(losses, dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        shown = values[: bad[0]] if len(bad) else values
        label = f"learning rate {rate:g}" + (
            f" (diverged at step {bad[0] + 1})" if len(bad) else ""
        )
        ax.plot(np.arange(1, len(shown) + 1), shown, color=colour, label=label, linewidth=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("step (one batch each)")
    ax.set_ylabel("loss on the batch (log scale)")
    ax.set_title("Too small crawls, too large jumps about: the learning rate")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig
