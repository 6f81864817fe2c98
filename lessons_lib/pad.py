"""The drawing pad of lesson 06: draw a digit (or upload a photo) and watch the network read it.

The strokes are drawn in the browser (:class:`lessons_lib.anywidgets.DrawingCanvas`);
the kernel receives one picture per finished stroke and reads it here. The logic is in
plain methods (``predict_image``, ``read_drawing``, ``load_upload``) that the tests
call without a browser.
"""

from __future__ import annotations

import html

import numpy as np

from .explorer import probability_html
from .images import DrawingError, digit_png, mnist_style, placeholder_png, read_upload

UNSURE_BELOW = 0.6  # a top probability below this is shown as a guess, not an answer
MIN_DRAWING = 0.25  # a drawing's longer side must span this share of the pad to be read


def prediction_message(probs: np.ndarray) -> str:
    """What the pad says about a reading: the digit, or a guess between two when unsure.

    No ✓ here: elsewhere in the lessons ✓ means "right", and a drawing has no true label.
    """
    probs = np.asarray(probs, dtype=float).ravel()
    order = np.argsort(probs)[::-1]
    first, second = int(order[0]), int(order[1])
    if probs[first] < UNSURE_BELOW:
        return (
            f"<span class='pad-prediction pad-unsure'>The network is unsure: perhaps "
            f"<b>{first}</b> ({probs[first]:.0%}), perhaps {second} ({probs[second]:.0%}). "
            "Try drawing it larger, centred and with clear strokes.</span>"
        )
    return (
        f"<span class='pad-prediction'>The network reads <b>{first}</b> "
        f"({probs[first]:.1%} sure).</span>"
    )


def check_drawing_size(gray: np.ndarray, min_share: float = MIN_DRAWING) -> None:
    """Refuse a drawing whose ink spans less than ``min_share`` of the pad (a dot, a scribble).

    gray: (h, w) float 0..255, dark ink on white. MNIST digits fill a 20x20 box; a tiny mark
    scaled up to that size would be read with confidence it has not earned.
    """
    ink = gray < 128
    if not ink.any():
        raise DrawingError("the image is empty: draw a digit (or upload a picture of one) first.")
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    span = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    if span < min_share * max(gray.shape):
        raise DrawingError(
            f"that mark spans only {span} of the pad's {max(gray.shape)} pixels, too small to "
            "be read as a digit: clear the pad and draw one digit as large as the box allows."
        )


class DrawingPad:
    """Draw a digit (or upload a picture) and watch the network read it.

    ``predict_fn`` maps (n, 28, 28) uint8 digits to (n, 10) probabilities.
    """

    SIZE = 280

    def __init__(self, predict_fn, explain_fn=None):
        """``explain_fn`` (optional) maps a (1, 28, 28) digit and its predicted class to a
        (1, 784) attribution map (:func:`lessons_lib.attribution.input_gradients`) and the
        28x28 digit it was computed on, the one the network receives (lesson 06: deskewed);
        the pad then shows what the network looked at, and that digit as what it sees."""
        import ipywidgets as w

        from .anywidgets import DrawingCanvas, KernelLink, prepare_host

        prepare_host()
        self.predict_fn = predict_fn
        self.explain_fn = explain_fn
        self.last = None  # dict(digit=..., probs=..., predicted=...) after a prediction
        self.canvas = DrawingCanvas(size=self.SIZE)
        self.canvas.observe(self._on_stroke, names="strokes")

        self.upload = w.FileUpload(accept="image/*", multiple=False, description="upload image")
        self.upload.observe(self._on_upload, names="value")
        self.message = w.HTML("<i>Draw a digit in the box, as large as the box allows.</i>")
        self.preview = w.Image(value=placeholder_png(112), format="png", width=112, height=112)
        self.why = w.Image(value=placeholder_png(112), format="png", width=112, height=112)
        self.bars = w.HTML()
        looked = (
            [w.HTML("<b>what it looked at</b><br>orange raised, blue lowered"), self.why]
            if explain_fn is not None
            else []
        )
        self.widget = w.VBox(
            [
                KernelLink(),
                w.HBox(
                    [
                        self.canvas,
                        w.VBox(
                            [
                                w.HTML("<b>what the network sees</b> (28x28)"),
                                self.preview,
                                self.bars,
                            ]
                        ),
                        w.VBox(looked),
                    ]
                ),
                self.upload,
                self.message,
            ]
        )
        self.widget.add_class("drawing-pad")

    # -- logic

    def predict_image(self, image: np.ndarray) -> dict:
        """Preprocess one image the MNIST way and predict; updates the display. Raises DrawingError."""
        digit = mnist_style(image)
        probs = np.asarray(self.predict_fn(digit[None]))[0]
        predicted = int(np.argmax(probs))
        self.last = {"digit": digit, "probs": probs, "predicted": predicted}
        shown = digit
        if self.explain_fn is not None:
            from .attribution import map_png

            gradient, seen = self.explain_fn(digit[None], predicted)
            self.last["map"] = np.asarray(gradient).reshape(28, 28)
            self.why.value = map_png(gradient, seen, scale=4)
            shown = np.clip(np.asarray(seen, dtype="float32").reshape(28, 28), 0, 255).round()
        # the digit as the network gets it: the straightened one the map is drawn on, when
        # explain_fn gives it (its deskewing is the network's), else the MNIST-style digit
        self.last["shown"] = shown.astype(np.uint8)
        self.preview.value = digit_png(self.last["shown"], scale=4)
        self.bars.value = probability_html(probs)
        self.message.value = prediction_message(probs)
        return self.last

    def _problem(self, exc: Exception) -> None:
        self.last = None
        self.bars.value = ""
        self.preview.value = placeholder_png(112)
        self.why.value = placeholder_png(112)
        self.message.value = f"<span class='pad-problem'>⚠ {html.escape(str(exc))}</span>"

    def try_predict(self, image: np.ndarray) -> dict | None:
        """predict_image, but a problem becomes a friendly message instead of an exception."""
        try:
            return self.predict_image(image)
        except DrawingError as exc:
            self._problem(exc)
            return None

    def read_drawing(self, png: bytes) -> dict | None:
        """Read the pad's page (a PNG from the browser); a mark too small to be a digit is refused."""
        try:
            gray = read_upload(png, "the drawing")
            check_drawing_size(gray)
        except DrawingError as exc:
            self._problem(exc)
            return None
        return self.try_predict(gray)

    def load_upload(self, content: bytes, name: str = "upload") -> dict | None:
        """Read, preprocess and predict an uploaded file; any problem becomes the pad's message."""
        name = str(name)[:80]
        try:
            image = read_upload(content, name)
        except DrawingError as exc:
            self._problem(exc)
            return None
        return self.try_predict(image)

    def clear(self) -> None:
        """Wipe the page and the reading."""
        self.canvas.clear()
        self._cleared()

    def _cleared(self) -> None:
        self.last = None
        self.bars.value = ""
        self.preview.value = placeholder_png(112)
        self.why.value = placeholder_png(112)
        self.message.value = "<i>Cleared. Draw a digit.</i>"

    # -- widget callbacks

    def _on_stroke(self, _change=None) -> None:
        strokes = self.canvas.strokes
        try:
            if not self.canvas.image:
                self._cleared()
            else:
                self.read_drawing(bytes(self.canvas.image))
        except Exception as exc:  # never let a callback fail silently in the browser
            self._problem(RuntimeError(f"the drawing could not be read ({type(exc).__name__})"))
        finally:
            self.canvas.answered = strokes  # the browser stops waiting for an answer

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        try:
            self.load_upload(bytes(item["content"]), item.get("name", "upload"))
        except Exception as exc:  # never let a callback fail silently in the browser
            self.last = None
            self.message.value = (
                "<span class='pad-problem'>⚠ That file could not be read "
                f"({html.escape(type(exc).__name__)}); please try another picture.</span>"
            )

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
