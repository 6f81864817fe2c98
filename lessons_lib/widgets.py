"""The interactive explorers of lesson 06: a prediction explorer and a drawing pad.

Both keep their logic in plain Python methods (``set_filter``, ``show``,
``predict_image``...) so the tests can drive them without a browser; the
widgets only call those methods.
"""

from __future__ import annotations

import html
import io
import time

import numpy as np
from PIL import Image, ImageOps

from . import style

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_PIXELS = 25_000_000
FILTERS = {
    "all": "all test digits",
    "misclassified": "misclassified only",
    "true": "true digit is ...",
    "predicted": "predicted digit is ...",
    "least_confident": "least confident first",
}


# --------------------------------------------------------------------------- rendering


def digit_png(image: np.ndarray, scale: int = 6) -> bytes:
    """A 28x28 uint8 digit (ink high) as a PNG, dark ink on white, scaled up without blurring."""
    img = Image.fromarray(255 - np.asarray(image, dtype=np.uint8).reshape(28, 28))
    img = img.resize((28 * scale, 28 * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def probability_html(probs: np.ndarray, true_label: int | None = None) -> str:
    """The ten probabilities as horizontal HTML bars (fast to redraw, no matplotlib).

    Right and wrong show by colour (Okabe-Ito, safe for colour-blind eyes) and by a mark
    beside the digit: ✓ the prediction when right, ✗ when wrong, "true" the missed digit.
    """
    probs = np.asarray(probs, dtype=float).ravel()
    predicted = int(np.argmax(probs))
    right = true_label in (None, predicted)
    rows = []
    for digit, p in enumerate(probs):
        colour, mark = style.OTHER, ""
        if digit == predicted:
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


# --------------------------------------------------------------------------- explorer


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


# --------------------------------------------------------------------------- drawing pad


class DrawingError(ValueError):
    """A drawing or an uploaded file that cannot be read as a digit; the message says why."""


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """(h, w), (h, w, 3) or (h, w, 4) array -> (h, w) float in 0..255.

    Transparent pixels (a canvas's untouched background) count as white paper.
    """
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 2:
        gray = a
    elif a.ndim == 3 and a.shape[2] in (3, 4):
        gray = a[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if a.shape[2] == 4:
            alpha = np.clip(a[..., 3] / 255.0, 0, 1)
            gray = alpha * gray + (1 - alpha) * 255.0
    else:
        raise DrawingError(
            f"expected a grayscale, RGB or RGBA image, got an array of shape {a.shape}."
        )
    if gray.size == 0 or min(gray.shape) < 2:
        raise DrawingError("the image is empty: draw a digit (or upload a picture of one) first.")
    if not np.all(np.isfinite(gray)):
        raise DrawingError("the image holds values that are not numbers (NaN); draw it again.")
    return gray


WORK_SIZE = 256  # photos are shrunk to this (longer side) before the background is estimated
MIN_CONTRAST = 12.0  # ink must differ from the paper by this much (0..255 scale) to count


def _shrink(gray: np.ndarray, size: int = WORK_SIZE) -> np.ndarray:
    h, w = gray.shape
    if max(h, w) <= size:
        return gray
    scale = size / max(h, w)
    shape = (max(2, round(w * scale)), max(2, round(h * scale)))
    return np.asarray(Image.fromarray(gray.astype(np.float32), mode="F").resize(shape, Image.BOX))


def ink_map(image: np.ndarray) -> np.ndarray:
    """Any drawing or photo -> (h, w) float ink 0..255 (0 where there is paper).

    The paper is told from the ink by which side of the typical (median) pixel the
    extremes lie on, so a dim photo or grey paper works. The paper's own brightness
    is then estimated pixel by pixel with a grey closing (an opening for light ink)
    wider than a stroke: slow changes such as a shadow at the edge belong to the
    paper, thin strokes do not. What is left is stretched so the strongest ink is 255.
    """
    from scipy import ndimage

    gray = _shrink(to_grayscale(image))
    k = max(3, (max(gray.shape) // 5) | 1)
    gray = ndimage.gaussian_filter(gray, sigma=max(0.7, k / 50))  # sensor noise and JPEG blocks
    bg = float(np.median(gray))
    low, high = np.percentile(gray, [0.5, 99.5])
    if (bg - low) >= (high - bg):  # the extremes lie below the paper: dark ink
        ink = ndimage.grey_closing(gray, size=(k, k), mode="nearest") - gray
    else:
        ink = gray - ndimage.grey_opening(gray, size=(k, k), mode="nearest")
    ink = np.clip(ink, 0, None)
    top = float(np.percentile(ink, 99.9))
    # the paper's own wobble: most pixels are paper, so the median and its spread measure it
    typical = float(np.median(ink))
    spread = 1.4826 * float(np.median(np.abs(ink - typical)))
    floor = max(0.2 * top, typical + 5 * spread)
    if top < MIN_CONTRAST or top - floor < MIN_CONTRAST / 2:
        raise DrawingError("the image is empty: draw a digit (or upload a picture of one) first.")
    return np.clip((ink - floor) / (top - floor), 0, 1) * 255.0


def mnist_style(image: np.ndarray) -> np.ndarray:
    """Any drawing or photo of one digit -> (28, 28) uint8 the way MNIST digits were made.

    ink separated from the paper (:func:`ink_map`: dark or light ink, dim photos,
    shadows); cropped to the ink's bounding box; scaled to fit 20x20 keeping the
    aspect ratio; placed in 28x28 so its centre of mass is at the centre.
    Raises DrawingError when there is no ink.
    """
    gray = ink_map(image)
    ink = gray > 0.1 * gray.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray(crop.astype(np.float32), mode="F").resize((new_w, new_h), Image.LANCZOS)
    small = np.clip(np.asarray(small), 0, None)
    if small.max() > 0:
        small = small * (255.0 / small.max())
    out = np.zeros((28, 28), dtype=np.float32)
    total = small.sum()
    cy = (small.sum(axis=1) @ np.arange(new_h)) / total
    cx = (small.sum(axis=0) @ np.arange(new_w)) / total
    top = int(np.clip(round(14 - cy), 0, 28 - new_h))
    left = int(np.clip(round(14 - cx), 0, 28 - new_w))
    out[top : top + new_h, left : left + new_w] = small
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _as_gray(img: Image.Image) -> np.ndarray:
    """A decoded picture in any Pillow mode -> (h, w) float 0..255, transparency as white paper."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or a.max() > 255 else 255.0
        return np.clip(a * (255.0 / top), 0, 255).astype(np.float32)
    if img.mode == "1":
        img = img.convert("L")
    if img.mode == "L":
        return np.asarray(img, dtype=np.float32)
    # palette, CMYK, YCbCr, LAB, HSV, premultiplied and transparent modes: Pillow's own conversion
    return to_grayscale(np.asarray(img.convert("RGBA")))


def read_upload(content: bytes, name: str = "upload") -> np.ndarray:
    """Bytes of an image file -> (h, w) float 0..255 grayscale, upright.

    The EXIF orientation a phone writes is applied; 16-bit, palette, transparent and
    CMYK pictures are converted properly. Anything that is not a usable image, whatever
    the decoder raises, becomes a DrawingError with a message for the learner.
    """
    if not content:
        raise DrawingError(f"{name} is empty (0 bytes).")
    if len(content) > MAX_UPLOAD_BYTES:
        raise DrawingError(
            f"{name} is {len(content) / 1e6:.1f} MB; please use an image under "
            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB (a phone photo cropped to the digit is plenty)."
        )
    try:
        with Image.open(io.BytesIO(content)) as img:
            if img.width * img.height > MAX_UPLOAD_PIXELS:
                raise DrawingError(
                    f"{name} is {img.width} x {img.height} pixels, too large to process here; "
                    "crop or shrink it to a few hundred pixels around the digit."
                )
            if img.format == "JPEG":
                img.draft("L", (2 * WORK_SIZE, 2 * WORK_SIZE))  # decode a smaller copy: faster
            upright = ImageOps.exif_transpose(img)
            return _as_gray(upright)
    except DrawingError:
        raise
    except Image.DecompressionBombError as exc:
        raise DrawingError(f"{name} is too large to process; shrink it first.") from exc
    except Exception as exc:  # UnidentifiedImageError, OSError, SyntaxError, ValueError...
        raise DrawingError(
            f"{name} is not an image this pad can read (PNG, JPEG, GIF, BMP...), or it is "
            "damaged; please choose another picture file."
        ) from exc


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
