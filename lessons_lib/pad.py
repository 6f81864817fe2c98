"""The drawing pad of lesson 06: draw a digit (or upload a photo) and watch the network read it."""

from __future__ import annotations

import html

import numpy as np

from .explorer import probability_html
from .images import DrawingError, digit_png, mnist_style, read_upload

PAPER = "white"  # the pad's page: in JupyterLab's dark theme too, so black ink shows


def _has_ink(rgba: np.ndarray) -> bool:
    """True when a canvas image holds a stroke: an opaque pixel that is not white paper."""
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        return False
    opaque = rgba[..., 3] > 0
    return bool((opaque & (rgba[..., :3].min(axis=2) < 200)).any())


UNSURE_BELOW = 0.6  # a top probability below this is shown as a guess, not an answer


def prediction_message(probs: np.ndarray) -> str:
    """What the pad says about a reading: the digit, or a guess between two when unsure."""
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


class DrawingPad:
    """Draw a digit (or upload a picture) and watch the network read it.

    ``predict_fn`` maps (n, 28, 28) uint8 digits to (n, 10) probabilities.
    """

    SIZE = 280

    def __init__(self, predict_fn, explain_fn=None):
        """``explain_fn`` (optional) maps a (1, 28, 28) digit and its predicted class to a
        (1, 784) attribution map (:func:`lessons_lib.attribution.input_gradients`) and the
        28x28 digit it was computed on; the pad then shows what the network looked at."""
        import ipywidgets as w
        from ipycanvas import Canvas

        self.predict_fn = predict_fn
        self.explain_fn = explain_fn
        self.last = None  # dict(digit=..., probs=..., predicted=...) after a prediction
        self.canvas = Canvas(
            width=self.SIZE,
            height=self.SIZE,
            sync_image_data=True,
            layout=w.Layout(
                width=f"{self.SIZE}px", height=f"{self.SIZE}px", border="2px solid #888"
            ),
        )
        self.canvas.line_width = 18
        self.canvas.line_cap = "round"
        self.canvas.line_join = "round"
        self.canvas.stroke_style = "black"
        self._paper()  # a white page whatever the theme: black ink reads in light and dark
        self._drawing = False
        self._prev = None
        self.canvas.on_mouse_down(self._down)
        self.canvas.on_mouse_move(self._move)
        self.canvas.on_mouse_up(self._up)
        self.canvas.on_mouse_out(self._up)
        self.canvas.observe(self._on_image_data, names="image_data")

        self.clear_button = w.Button(description="clear", icon="eraser")
        self.clear_button.on_click(lambda _: self.clear())
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="upload image")
        self.upload.observe(self._on_upload, names="value")
        self.message = w.HTML("<i>Draw a digit in the box, as large as the box allows.</i>")
        self.preview = w.Image(format="png", width=112, height=112)
        self.why = w.Image(format="png", width=112, height=112)
        self.bars = w.HTML()
        looked = (
            [w.HTML("<b>what it looked at</b><br>orange raised, blue lowered"), self.why]
            if explain_fn is not None
            else []
        )
        self.widget = w.VBox(
            [
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
                w.HBox([self.clear_button, self.upload]),
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
        self.preview.value = digit_png(digit, scale=4)
        self.bars.value = probability_html(probs)
        self.message.value = prediction_message(probs)
        if self.explain_fn is not None:
            from .attribution import map_png

            gradient, seen = self.explain_fn(digit[None], predicted)
            self.last["map"] = np.asarray(gradient).reshape(28, 28)
            self.why.value = map_png(gradient, seen, scale=4)
        return self.last

    def try_predict(self, image: np.ndarray) -> dict | None:
        """predict_image, but a problem becomes a friendly message instead of an exception."""
        try:
            return self.predict_image(image)
        except DrawingError as exc:
            self.last = None
            self.bars.value = ""
            self.message.value = f"<span class='pad-problem'>⚠ {html.escape(str(exc))}</span>"
            return None

    def load_upload(self, content: bytes, name: str = "upload") -> dict | None:
        """Read, preprocess and predict an uploaded file; any problem becomes the pad's message."""
        name = str(name)[:80]
        try:
            image = read_upload(content, name)
        except DrawingError as exc:
            self.last = None
            self.bars.value = ""
            self.message.value = f"<span class='pad-problem'>⚠ {html.escape(str(exc))}</span>"
            return None
        return self.try_predict(image)

    def clear(self) -> None:
        self.canvas.clear()
        self._paper()
        self.last = None
        self.bars.value = ""
        self.message.value = "<i>Cleared. Draw a digit.</i>"

    def _paper(self) -> None:
        self.canvas.fill_style = PAPER
        self.canvas.fill_rect(0, 0, self.SIZE, self.SIZE)

    # -- widget callbacks

    def _down(self, x, y):
        self._drawing, self._prev = True, (x, y)
        self.canvas.fill_style = "black"
        self.canvas.fill_circle(x, y, self.canvas.line_width / 2)

    def _move(self, x, y):
        if self._drawing and self._prev is not None:
            self.canvas.stroke_line(self._prev[0], self._prev[1], x, y)
            self._prev = (x, y)

    def _up(self, x, y):
        was_drawing = self._drawing
        self._drawing = False
        self._prev = None
        if was_drawing:  # the image_data sync that follows the stroke predicts again
            self._on_image_data(None)

    def _on_image_data(self, _change):
        if self._drawing:
            return
        data = self.canvas.get_image_data()
        if data is None or not _has_ink(np.asarray(data)):
            return  # empty canvas (e.g. after clear): nothing to read
        self.try_predict(np.asarray(data))

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
