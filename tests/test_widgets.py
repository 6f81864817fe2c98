"""Widget logic without a browser: the explorer's filters and slider, the drawing pad's preprocessing."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lessons_lib import images, widgets
from lessons_lib.widgets import DrawingError, DrawingPad, PredictionExplorer, mnist_style


@pytest.fixture
def explorer():
    rng = np.random.default_rng(0)
    labels = np.tile(np.arange(10), 5)  # 50 digits
    probs = rng.dirichlet(np.ones(10) * 0.3, size=50).astype(np.float32)
    probs[:40, :] = 0.01
    probs[np.arange(40), labels[:40]] = 0.91  # the first 40 right, the last 10 mostly wrong
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    return PredictionExplorer(images, labels, probs)


def test_slider_moves_change_what_is_shown(explorer):
    first = explorer.shown()
    png = explorer.image.value
    explorer.slider.value = 7
    shown = explorer.shown()
    assert shown["index"] == 7 and shown != first
    assert explorer.image.value != png
    assert f"#{7}<" in explorer.caption.value


def test_misclassified_filter(explorer):
    explorer.set_filter("misclassified")
    wrong = np.flatnonzero(explorer.predicted != explorer.labels)
    assert len(explorer.indices) == len(wrong) > 0 and explorer.slider.max == len(wrong) - 1
    assert f"<b>{len(wrong)}</b> digits" in explorer.count.value
    seen = []
    for pos in range(len(wrong)):
        explorer.slider.value = pos
        s = explorer.shown()
        assert s["true"] != s["predicted"]
        seen.append(s["index"])
    assert seen == list(wrong)


def test_true_and_predicted_digit_filters(explorer):
    explorer.set_filter("true", digit=3)
    assert not explorer.digit.disabled
    assert all(explorer.labels[i] == 3 for i in explorer.indices) and len(explorer.indices) == 5
    explorer.set_filter("predicted", digit=3)
    assert all(explorer.predicted[i] == 3 for i in explorer.indices)
    explorer.digit.value = 4  # changing the digit re-filters
    assert all(explorer.predicted[i] == 4 for i in explorer.indices)
    explorer.set_filter("all")
    assert explorer.digit.disabled and len(explorer.indices) == 50


def test_least_confident_first(explorer):
    explorer.set_filter("least_confident")
    conf = [explorer.confidence[i] for i in explorer.indices]
    assert conf == sorted(conf)
    assert explorer.shown()["confidence"] == min(conf)


def test_previous_next_buttons_stay_in_range(explorer):
    explorer.set_filter("true", digit=1)
    explorer.next_button.click()
    explorer.next_button.click()
    assert explorer.slider.value == 2
    for _ in range(10):
        explorer.next_button.click()
    assert explorer.slider.value == 4
    explorer.prev_button.click()
    assert explorer.slider.value == 3


def test_empty_filter_is_explained(explorer):
    explorer.probs[:] = 0.0
    explorer.probs[:, 0] = 1.0
    explorer.predicted = explorer.probs.argmax(axis=1)
    explorer.set_filter("predicted", digit=9)
    assert explorer.current_index is None and "No test digit matches" in explorer.caption.value


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="must match"):
        PredictionExplorer(np.zeros((3, 28, 28), np.uint8), np.zeros(3), np.zeros((2, 10)))


# --------------------------------------------------------------------------- MNIST-style preprocessing


def canvas_drawing(top, left, height, width, size=280, rgba=True):
    """Black ink on a transparent canvas, like a canvas with no page gives: a filled rectangle 'stroke'."""
    img = np.zeros((size, size, 4), np.uint8)
    img[top : top + height, left : left + width] = (0, 0, 0, 255)
    return img if rgba else img[..., :3]


def centre_of_mass(digit):
    w = digit.astype(float)
    rows, cols = np.indices(w.shape)
    return (rows * w).sum() / w.sum(), (cols * w).sum() / w.sum()


def test_off_centre_drawing_is_cropped_scaled_and_centred():
    digit = mnist_style(canvas_drawing(20, 200, 120, 30))  # small, far right, near the top
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows = np.flatnonzero(digit.max(axis=1) > 50)
    cols = np.flatnonzero(digit.max(axis=0) > 50)
    assert 19 <= rows[-1] - rows[0] + 1 <= 21, "the long side fits 20 pixels"
    assert cols[-1] - cols[0] + 1 <= 7, "aspect ratio kept: 120x30 becomes 20x5"
    cy, cx = centre_of_mass(digit)
    assert abs(cy - 14) < 1.0 and abs(cx - 14) < 1.0


def test_dark_ink_on_white_paper_is_inverted():
    paper = np.full((100, 80), 255, np.uint8)
    paper[20:80, 35:45] = 0  # dark vertical bar
    digit = mnist_style(paper)
    assert digit[14, 14] > 200 and digit[0, 0] == 0, "ink bright, background black, like MNIST"


def test_light_ink_on_dark_background_is_kept():
    img = np.zeros((60, 60), np.uint8)
    img[10:50, 28:32] = 255
    digit = mnist_style(img)
    assert digit[14, 14] > 200 and digit[0, 0] == 0


def test_rgb_without_alpha_is_converted():
    white = np.full((50, 50, 3), 255, np.uint8)
    white[10:40, 20:25] = (20, 20, 200)  # blue ink
    assert mnist_style(white).max() > 200


def test_empty_canvas_is_a_friendly_error():
    with pytest.raises(DrawingError, match="empty"):
        mnist_style(np.zeros((280, 280, 4), np.uint8))


def _png(array):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_upload_that_is_not_an_image_gets_a_message_not_a_traceback():
    pad = DrawingPad(lambda d: np.full((len(d), 10), 0.1))
    assert pad.load_upload(b"%PDF-1.4 not a picture", "notes.pdf") is None
    assert "notes.pdf is not an image" in pad.message.value
    assert pad.load_upload(b"", "empty.png") is None and "empty" in pad.message.value


def test_huge_upload_gets_a_message(monkeypatch):
    pad = DrawingPad(lambda d: np.full((len(d), 10), 0.1))
    monkeypatch.setattr(images, "MAX_UPLOAD_PIXELS", 100 * 100)
    assert pad.load_upload(_png(np.zeros((200, 200), np.uint8)), "big.png") is None
    assert "200 x 200 pixels, too large" in pad.message.value
    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", 10)
    assert pad.load_upload(_png(np.zeros((20, 20), np.uint8)), "big.png") is None
    assert "MB; please use an image under" in pad.message.value


def test_pad_predicts_an_uploaded_digit_and_an_empty_canvas_is_explained():
    seen = []

    def fake_model(digits):
        seen.append(digits)
        probs = np.full((len(digits), 10), 0.02)
        probs[:, 7] = 0.82
        return probs

    pad = DrawingPad(fake_model)
    paper = np.full((120, 90, 3), 255, np.uint8)
    paper[10:110, 40:50] = 0
    result = pad.load_upload(_png(paper), "seven.png")
    assert result["predicted"] == 7 and seen[0].shape == (1, 28, 28) and seen[0].dtype == np.uint8
    assert "reads <b>7</b>" in pad.message.value and pad.preview.value
    assert pad.try_predict(np.zeros((280, 280, 4), np.uint8)) is None
    assert "empty" in pad.message.value and pad.last is None


# --------------------------------------------------------------------------- the pad, as the browser drives it


def _page_png(draw) -> bytes:
    """The pad's page as the browser sends it: 280x280 RGBA PNG, white, black strokes 18 wide."""
    from PIL import ImageDraw

    img = Image.new("RGBA", (280, 280), "white")
    draw(ImageDraw.Draw(img))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _confident(digit: int = 1):
    def predict(digits):
        probs = np.full((len(digits), 10), 0.001)
        probs[:, digit] = 0.991
        return probs

    return predict


def _stroke(pad, png: bytes) -> None:
    """What one finished stroke in the browser does: the page and the count, in one update."""
    with pad.canvas.hold_sync():
        pad.canvas.image = png
        pad.canvas.strokes += 1


def test_a_stroke_from_the_browser_is_read_and_answered():
    pad = DrawingPad(_confident(1))
    _stroke(pad, _page_png(lambda d: d.line((140, 40, 150, 240), fill="black", width=18)))
    assert pad.last["predicted"] == 1 and "reads <b>1</b>" in pad.message.value
    assert pad.canvas.answered == pad.canvas.strokes == 1, "the browser stops waiting"
    _stroke(pad, b"")  # the browser's clear button: an empty page
    assert pad.last is None and "Cleared" in pad.message.value and pad.canvas.answered == 2


def test_before_the_first_drawing_the_previews_show_a_placeholder_not_a_broken_image():
    pad = DrawingPad(_confident(), explain_fn=lambda d, p: (np.zeros((1, 784)), d[0]))
    for image in (pad.preview, pad.why):
        picture = Image.open(io.BytesIO(image.value))
        assert picture.size == (112, 112)
        assert 0 < np.asarray(picture.convert("L")).std(), "a drawn placeholder, not a blank"


def test_the_reading_of_a_drawing_does_not_use_the_mark_for_right():
    pad = DrawingPad(_confident(7))
    paper = np.full((120, 90), 255, np.uint8)
    paper[10:110, 40:50] = 0
    pad.load_upload(_png(paper), "seven.png")
    assert "reads <b>7</b>" in pad.message.value
    assert "✓" not in pad.bars.value + pad.message.value and "✗" not in pad.bars.value
    assert ">read<" in pad.bars.value


def test_a_host_that_needs_a_call_gets_it_once(monkeypatch):
    """Colab shows third-party widgets only after enable_custom_widget_manager(): the pad calls it."""
    import sys
    import types

    from lessons_lib import anywidgets

    calls = []
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append(1)
    output._widgets = types.SimpleNamespace(_installed_url=None)  # what anywidget reads there
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    for name, module in {
        "google": google,
        "google.colab": colab,
        "google.colab.output": output,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(anywidgets, "_colab_ready", False)
    DrawingPad(_confident())
    DrawingPad(_confident())
    assert len(calls) >= 1 and anywidgets.prepare_host().startswith("Colab")
    monkeypatch.setattr(anywidgets, "_colab_ready", False)
    for name in ("google", "google.colab", "google.colab.output"):
        monkeypatch.delitem(sys.modules, name)
    assert anywidgets.prepare_host() == "nothing needed"


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["dot", "scribble"]),
    x=st.integers(5, 275),
    y=st.integers(5, 275),
    size=st.integers(1, 60),
    seed=st.integers(0, 10**6),
)
def test_fuzz_a_dot_or_a_small_scribble_is_never_read_as_a_digit(kind, x, y, size, seed):
    """Whatever the network would say (here: 99% sure), a mark that is not a digit is not read."""
    rng = np.random.default_rng(seed)

    def draw(d):
        if kind == "dot":
            d.ellipse((x - 9, y - 9, x + 9, y + 9), fill="black")
        else:  # a scribble that fits in a box of `size` pixels
            points = [(x + rng.uniform(0, size), y + rng.uniform(0, size)) for _ in range(6)]
            d.line(points, fill="black", width=18, joint="curve")

    pad = DrawingPad(_confident(8))
    assert pad.read_drawing(_page_png(draw)) is None
    assert pad.last is None and "⚠" in pad.message.value and "reads" not in pad.message.value


def test_a_blot_in_a_photo_is_not_read_but_every_real_digit_is():
    blot = np.full((200, 200), 230, np.uint8)
    yy, xx = np.indices(blot.shape)
    blot[(yy - 100) ** 2 + (xx - 100) ** 2 < 14**2] = 20  # a dot of ink
    with pytest.raises(DrawingError, match="blot"):
        mnist_style(blot)
    from lessons_lib.data import load_mnist

    digits = load_mnist("sample")[1][0]  # 1,000 real test digits, each enlarged as a photo
    for digit in digits:
        big = np.asarray(Image.fromarray(255 - digit).resize((112, 112), Image.BICUBIC))
        assert mnist_style(big).max() == 255


# --------------------------------------------------------------------------- the explorer's API on bad input


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda e: e.set_filter("mistakes"), "unknown filter 'mistakes'; choose one of all"),
        (lambda e: e.set_filter("true", digit=12), "digit is 12; pass a digit 0..9"),
        (lambda e: e.set_filter("true", digit="3"), "digit is '3'"),
        (lambda e: e.filtered_indices(None), "unknown filter None"),
        (lambda e: e.show(-1), "position -1 is outside this filter's 50 digits; choose 0 to 49"),
        (lambda e: e.show(50), "position 50 is outside"),
        (lambda e: e.show(2.5), "position is 2.5; pass a whole number from 0 to 49"),
        (lambda e: e.step("next"), "step's delta is 'next'"),
    ],
)
def test_the_explorer_api_says_what_was_wrong(explorer, call, expected):
    shown = explorer.shown()
    with pytest.raises(widgets.ExplorerError, match=re.escape(expected)):
        call(explorer)
    assert explorer.shown() == shown, "a refused call changes nothing"


def _good_inputs(n=12):
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(10), size=n).astype(np.float32)
    return {
        "images": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        "labels": np.arange(n) % 10,
        "probs": probs,
        "maps": {"predicted": rng.normal(size=(n, 784)), "true": rng.normal(size=(n, 784))},
        "seen": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
    }


BAD_VALUES = [
    None,
    "abc",
    [],
    [[1, 2], [3]],
    np.zeros(0),
    np.zeros((12,)),
    np.zeros((12, 28)),
    np.zeros((11, 28, 28)),
    np.zeros((12, 10)),
    np.full((12, 28, 28), np.nan),
    np.full((12, 28, 28), -3.0),
    np.full((12, 28, 28), 0.5),
    np.full((12, 10), 1.0),
    np.full((12, 10), np.inf),
    np.arange(12) + 5,
    np.array(["1"] * 12),
    {"predicted": np.zeros((12, 784))},
    {"predicted": np.zeros((12, 784)), "true": np.zeros((3, 784))},
]


@settings(max_examples=150, deadline=None)
@given(
    field=st.sampled_from(["images", "labels", "probs", "maps", "seen"]),
    bad=st.sampled_from(range(len(BAD_VALUES))),
)
def test_fuzz_bad_explorer_inputs_get_a_clear_error_never_a_raw_one(field, bad):
    inputs = _good_inputs()
    inputs[field] = BAD_VALUES[bad]
    try:
        explorer = PredictionExplorer(**inputs)
    except widgets.ExplorerError as exc:
        assert "pass" in str(exc) or "must" in str(exc), str(exc)
        return
    # what got through is usable: every filter and position shows without error
    for mode in widgets.FILTERS:
        explorer.set_filter(mode, digit=3)
        for position in range(len(explorer.indices)):
            explorer.show(position)


def test_the_small_picture_is_the_digit_the_network_receives_straightened():
    """A newcomer drew a slanted 7 and saw it still slanted under "what the network sees",
    while the network got it deskewed. With lesson 06's explain_fn the preview is the
    straightened digit the map is drawn on."""
    from lessons_lib.preprocess import deskew

    def explain(digits, predicted):
        return np.zeros((1, 784)), deskew(digits)[0]

    pad = DrawingPad(_confident(1), explain_fn=explain)
    paper = np.full((200, 200), 255, np.uint8)
    for row in range(20, 180):  # a stroke leaning right by one pixel in two
        paper[row, 60 + (180 - row) // 2 : 72 + (180 - row) // 2] = 0
    result = pad.load_upload(_png(paper), "slanted-one.png")
    straight = np.clip(np.asarray(deskew(result["digit"][None])[0], "float32"), 0, 255).round()
    assert np.array_equal(result["shown"], straight.astype(np.uint8))
    assert not np.array_equal(result["shown"], result["digit"]), "deskewing moved nothing"
    assert pad.preview.value == images.digit_png(result["shown"], scale=4)
    plain = DrawingPad(_confident(1))  # no explain_fn: the MNIST-style digit itself
    assert np.array_equal(
        plain.load_upload(_png(paper), "slanted-one.png")["shown"], result["digit"]
    )
