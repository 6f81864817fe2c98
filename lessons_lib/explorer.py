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

        self.images = np.asarray(images)
        self.labels = np.asarray(labels).astype(int)
        self.probs = np.asarray(probs, dtype=np.float32)
        if not (len(self.images) == len(self.labels) == len(self.probs)):
            raise ValueError(
                f"{len(self.images)} images, {len(self.labels)} labels and {len(self.probs)} "
                "probability rows: they must match, one of each per test digit."
            )
        self.maps = maps
        self.seen = self.images if seen is None else np.asarray(seen)
        self.predicted = self.probs.argmax(axis=1)
        self.confidence = self.probs.max(axis=1)
        self.indices = np.arange(len(self.labels))
        self.last_update_ms = 0.0

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
        raise ValueError(f"unknown filter {mode!r}; choose one of {', '.join(FILTERS)}.")

    def set_filter(self, mode: str, digit: int | None = None) -> None:
        """Switch the filter (and digit), keeping the widgets in step."""
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
        start = time.perf_counter()
        n = len(self.indices)
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
