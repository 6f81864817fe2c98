"""The prediction explorer of lesson 06: browse every test digit with its reading.

The logic lives in plain methods (``set_filter``, ``show``, ``shown``...) so the tests
drive it without a browser; the widgets only call those methods.
"""

from __future__ import annotations

import html
import time

import numpy as np

from . import style
from .images import digit_png

FILTERS = {
    "all": "all test digits",
    "misclassified": "misclassified only",
    "true": "true digit is ...",
    "predicted": "predicted digit is ...",
    "least_confident": "least confident first",
}


def probability_html(probs: np.ndarray, true_label: int | None = None) -> str:
    """The ten probabilities as horizontal HTML bars (fast to redraw, no matplotlib).

    Right and wrong show by colour (Okabe-Ito, safe for colour-blind eyes) and by a mark
    beside the digit: ✓ the prediction when right, ✗ when wrong, "true" the missed digit.
    Without ``true_label`` (a drawing) the reading is marked "read" in a neutral colour.
    """
    probs = np.asarray(probs, dtype=float).ravel()
    predicted = int(np.argmax(probs))
    right = true_label == predicted
    rows = []
    for digit, p in enumerate(probs):
        colour, mark = style.OTHER, ""
        if digit == predicted and true_label is None:  # a drawing: no truth, so no ✓ or ✗
            colour, mark = style.READING, style.READING_MARK
        elif digit == predicted:
            colour = style.RIGHT if right else style.WRONG
            mark = style.RIGHT_MARK if right else style.WRONG_MARK
        elif digit == true_label:
            colour, mark = style.TRUE, "true"
        weight = "bold" if mark else "normal"
        rows.append(
            f"<tr><td style='padding:0 6px;font-weight:{weight}'>{digit}</td>"
            f"<td style='width:200px'><div style='background:{colour};height:12px;"
            f"width:{max(p * 100, 0.5):.1f}%'></div></td><td style='padding:0 6px'>{p:.1%}</td>"
            f"<td class='prob-mark' style='font-weight:bold;color:{colour}'>{mark}</td></tr>"
        )
    return (
        "<table class='digit-probs' style='border-collapse:collapse;font-size:13px'>"
        "<tr><th>digit</th><th>probability</th><th></th><th></th></tr>" + "".join(rows) + "</table>"
    )


class ExplorerError(ValueError):
    """Input the explorer cannot show; the message says what was wrong and what to pass."""


def _array(value, name: str, what: str) -> np.ndarray:
    try:
        a = np.asarray(value)
    except Exception as exc:  # ragged lists, objects numpy cannot hold
        raise ExplorerError(f"{name} is not an array ({exc}); pass {what}.") from None
    if a.dtype.kind not in "biuf":
        raise ExplorerError(f"{name} holds {a.dtype} values, not numbers; pass {what}.")
    return a


def _digits_array(value, name: str, n: int | None) -> np.ndarray:
    what = "the (n, 28, 28) uint8 test images, as load_mnist returns them"
    a = _array(value, name, what)
    if a.ndim == 2 and a.shape[1] == 784:
        a = a.reshape(-1, 28, 28)  # flattened digits: the same pixels
    if a.ndim != 3 or a.shape[1:] != (28, 28):
        raise ExplorerError(f"{name} has shape {a.shape}; pass {what}.")
    if n is not None and len(a) != n:
        raise ExplorerError(f"{name} holds {len(a)} digits but there are {n} labels; pass {what}.")
    if not np.isfinite(a).all() or a.min(initial=0) < 0 or a.max(initial=0) > 255:
        raise ExplorerError(f"{name} has values outside 0..255 (or NaN); pass {what}.")
    if a.dtype.kind == "f" and a.max(initial=0) <= 1.0 and a.any():
        raise ExplorerError(
            f"{name} runs from 0 to 1: these look normalized; pass {what} (not the prepared input)."
        )
    return a.astype(np.uint8, copy=False)


def check_explorer_inputs(images, labels, probs, maps=None, seen=None):
    """The explorer's inputs, checked and in the shapes it uses; ExplorerError names any problem.

    (images, labels, probs, maps, seen) -> (uint8 (n, 28, 28), int (n,), float32 (n, 10),
    maps or None, uint8 (n, 28, 28)).
    """
    labels = _array(labels, "labels", "the (n,) true digits 0..9, e.g. y_test")
    if labels.ndim != 1 or len(labels) == 0:
        raise ExplorerError(
            f"labels has shape {labels.shape}; pass the (n,) true digits 0..9, e.g. y_test "
            "(at least one)."
        )
    if not np.isfinite(labels).all() or not np.isin(labels, np.arange(10)).all():
        raise ExplorerError("labels must be whole numbers 0..9, one per test digit (y_test).")
    n = len(labels)
    images = _digits_array(images, "images", None)
    probs = _array(probs, "probs", "the (n, 10) probabilities of model.predict")
    if not (len(images) == n == len(probs)):
        raise ExplorerError(
            f"{len(images)} images, {n} labels and {len(probs)} probability rows: they must "
            "match, one of each per test digit."
        )
    if probs.shape != (n, 10):
        raise ExplorerError(
            f"probs has shape {probs.shape}; pass the (n, 10) probabilities of model.predict."
        )
    probs = probs.astype(np.float32)
    sums = probs.sum(axis=1)
    if not np.isfinite(probs).all() or probs.min() < 0 or np.abs(sums - 1).max() > 0.01:
        raise ExplorerError(
            "each row of probs must be ten probabilities 0..1 that add up to 1 (a row adds up "
            f"to {sums[np.argmax(np.abs(sums - 1))]:.3g}): pass model.predict's output "
            "(softmax), not logits or labels."
        )
    if maps is not None:
        if not isinstance(maps, dict) or not {"predicted", "true"} <= set(maps):
            raise ExplorerError(
                "maps must be the dict attribution.explorer_maps returns, with 'predicted' and "
                "'true' maps."
            )
        checked = {}
        for key in ("predicted", "true"):
            a = _array(maps[key], f"maps[{key!r}]", "attribution.explorer_maps's output")
            if a.shape not in ((n, 784), (n, 28, 28)) or not np.isfinite(a).all():
                raise ExplorerError(
                    f"maps[{key!r}] has shape {a.shape} (or NaN); pass ({n}, 784) finite "
                    "values, as attribution.explorer_maps returns for these digits."
                )
            checked[key] = a
        maps = checked
    seen = images if seen is None else _digits_array(seen, "seen", n)
    return images, labels.astype(int), probs, maps, seen


def _whole(value, name: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ExplorerError(f"{name} is {value!r}; pass {what}.")
    return int(value)


def _check_filter(mode, digit):
    if not isinstance(mode, str) or mode not in FILTERS:
        raise ExplorerError(f"unknown filter {mode!r}; choose one of {', '.join(FILTERS)}.")
    if digit is not None:
        digit = _whole(digit, "digit", "a digit 0..9")
        if not 0 <= digit <= 9:
            raise ExplorerError(f"digit is {digit}; pass a digit 0..9.")
    return mode, digit


class PredictionExplorer:
    """Browse test digits with their true label, prediction and probabilities.

    images: (n, 28, 28) uint8; labels: (n,) ints; probs: (n, 10) from one batched
    ``model.predict``: nothing is recomputed when the slider moves.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        probs: np.ndarray,
        maps: dict[str, np.ndarray] | None = None,
        seen: np.ndarray | None = None,
    ):
        """``maps``: :func:`lessons_lib.attribution.explorer_maps` (optional): what raised or
        lowered the predicted (and, for a mistake, the true) digit's probability.
        ``seen``: the (n, 28, 28) digits the network saw (deskewed), drawn under the maps."""
        import ipywidgets as w

        from .anywidgets import KernelLink, prepare_host

        self.images, self.labels, self.probs, self.maps, self.seen = check_explorer_inputs(
            images, labels, probs, maps, seen
        )
        self.predicted = self.probs.argmax(axis=1)
        self.confidence = self.probs.max(axis=1)
        self.indices = np.arange(len(self.labels))
        self.last_update_ms = 0.0
        prepare_host()

        self.filter = w.Dropdown(
            options=[(v, k) for k, v in FILTERS.items()],
            value="all",
            description="Show",
            layout=w.Layout(width="260px"),
        )
        self.digit = w.Dropdown(
            options=list(range(10)),
            value=0,
            description="digit",
            disabled=True,
            layout=w.Layout(width="140px"),
        )
        self.slider = w.IntSlider(
            min=0,
            max=max(len(self.indices) - 1, 0),
            value=0,
            description="position",
            continuous_update=True,
            layout=w.Layout(width="420px"),
        )
        self.prev_button = w.Button(description="◀ previous", layout=w.Layout(width="110px"))
        self.next_button = w.Button(description="next ▶", layout=w.Layout(width="110px"))
        self.count = w.HTML()
        self.image = w.Image(format="png", width=168, height=168)
        self.caption = w.HTML()
        self.bars = w.HTML()
        self.why = w.Image(format="png", width=140, height=140)
        self.why_true = w.Image(format="png", width=140, height=140)
        self.why_caption = w.HTML()
        self.why_true_caption = w.HTML()
        self.why_true_box = w.VBox([self.why_true, self.why_true_caption])

        self.filter.observe(self._on_filter, names="value")
        self.digit.observe(self._on_filter, names="value")
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        self.prev_button.on_click(lambda _: self.step(-1))
        self.next_button.on_click(lambda _: self.step(+1))
        self.widget = w.VBox(
            [
                KernelLink(),  # says so on the page when a restart leaves this explorer dead
                w.HBox([self.filter, self.digit, self.count]),
                w.HBox([self.prev_button, self.slider, self.next_button]),
                w.HBox([w.VBox([self.image, self.caption]), self.bars]),
            ]
            + (
                [
                    w.HTML(
                        "<b>What the network looked at</b>: orange pixels raised the digit's "
                        "probability, blue ones lowered it (input gradients, on the straightened "
                        "digit the network sees)"
                    ),
                    w.HBox([w.VBox([self.why, self.why_caption]), self.why_true_box]),
                ]
                if maps is not None
                else []
            )
        )
        self.widget.add_class("prediction-explorer")
        self.show(0)

    # -- logic the widgets call (and the tests drive directly)

    def filtered_indices(self, mode: str, digit: int | None = None) -> np.ndarray:
        """Test-set positions that a filter keeps, in the order the slider walks them."""
        mode, digit = _check_filter(mode, digit)
        if mode == "all":
            return np.arange(len(self.labels))
        if mode == "misclassified":
            return np.flatnonzero(self.predicted != self.labels)
        if mode == "true":
            return np.flatnonzero(self.labels == digit)
        if mode == "predicted":
            return np.flatnonzero(self.predicted == digit)
        if mode == "least_confident":
            return np.argsort(self.confidence, kind="stable")
        raise AssertionError(mode)  # _check_filter allows only the FILTERS

    def set_filter(self, mode: str, digit: int | None = None) -> None:
        """Switch the filter (and digit), keeping the widgets in step."""
        mode, digit = _check_filter(mode, digit)
        if digit is not None:
            self.digit.value = digit
        self.filter.value = mode  # triggers _on_filter when it changes
        self._on_filter()

    def _on_filter(self, _change=None) -> None:
        mode = self.filter.value
        self.digit.disabled = mode not in ("true", "predicted")
        self.indices = self.filtered_indices(mode, self.digit.value)
        with self.slider.hold_trait_notifications():
            self.slider.max = max(len(self.indices) - 1, 0)
            self.slider.value = 0
        self.show(0)

    def step(self, delta: int) -> None:
        """Move the slider by ``delta`` within the current filter."""
        delta = _whole(delta, "step's delta", "a whole number of digits such as 1 or -1")
        if len(self.indices):
            self.slider.value = int(np.clip(self.slider.value + delta, 0, len(self.indices) - 1))

    @property
    def current_index(self) -> int | None:
        """Test-set index of the digit on show, or None when the filter is empty."""
        if not len(self.indices):
            return None
        return int(self.indices[min(self.slider.value, len(self.indices) - 1)])

    def shown(self) -> dict:
        """What the explorer shows now: index, true label, prediction, confidence."""
        i = self.current_index
        if i is None:
            return {"index": None}
        return {
            "index": i,
            "true": int(self.labels[i]),
            "predicted": int(self.predicted[i]),
            "confidence": float(self.confidence[i]),
        }

    def show(self, position: int) -> None:
        """Show the digit at ``position`` (0 .. the filter's count - 1) of the current filter."""
        start = time.perf_counter()
        n = len(self.indices)
        position = _whole(position, "position", f"a whole number from 0 to {max(n - 1, 0)}")
        if not 0 <= position < max(n, 1):
            raise ExplorerError(
                f"position {position} is outside this filter's {n} digits; choose 0 to {max(n - 1, 0)}."
            )
        label = FILTERS[self.filter.value].replace("...", str(self.digit.value))
        self.count.value = f"<b>{n:,}</b> digits in this filter ({html.escape(label)})"
        if n == 0:
            self.caption.value = "<i>No test digit matches this filter.</i>"
            self.bars.value = ""
            self.image.value = digit_png(np.zeros((28, 28), np.uint8))
        else:
            i = int(self.indices[min(position, n - 1)])
            true, pred = int(self.labels[i]), int(self.predicted[i])
            verdict = "✓ right" if true == pred else "✗ wrong"
            self.image.value = digit_png(self.images[i])
            self.caption.value = (
                f"<div class='explorer-caption'>test digit #{i}<br>true: <b>{true}</b> · "
                f"predicted: <b class='explorer-predicted'>{pred}</b> "
                f"({self.confidence[i]:.1%}) {verdict}</div>"
            )
            self.bars.value = probability_html(self.probs[i], true)
            self._show_maps(i, true, pred)
        self.last_update_ms = (time.perf_counter() - start) * 1000

    def _show_maps(self, i: int, true: int, pred: int) -> None:
        if self.maps is None:
            return
        from .attribution import map_png

        self.why.value = map_png(self.maps["predicted"][i], self.seen[i], scale=5)
        self.why_caption.value = f"<span class='why-caption'>for {pred}, the reading</span>"
        wrong = true != pred
        self.why_true_box.layout.display = "" if wrong else "none"
        if wrong:
            self.why_true.value = map_png(self.maps["true"][i], self.seen[i], scale=5)
            self.why_true_caption.value = (
                f"<span class='why-caption'>for {true}, the true digit</span>"
            )

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
