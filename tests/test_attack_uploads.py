"""Attack: pictures as people take them, and files that are not pictures at all.

Readings are scored with a small network trained on the offline sample, on synthetic
phone photos of real MNIST test digits (tests/photos.py). Only DrawingError may
escape the upload path (fuzzed), and the pad always shows a message.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from photos import encode, render
from PIL import Image

from lessons_lib import training, widgets
from lessons_lib.data import load_mnist
from lessons_lib.preprocess import prepare
from lessons_lib.widgets import DrawingError, DrawingPad, mnist_style, read_upload

N = 30  # digits per condition


@pytest.fixture(scope="module")
def reader():
    (x, y), (xt, yt) = load_mnist("sample")
    model = training.train_lesson_model(
        prepare(x),
        y,
        hidden_units=128,
        hidden_layers=2,
        dropout=0.2,
        learning_rate=2e-3,
        epochs=8,
        batch_size=128,
        validation_fraction=0.1,
        patience=0,
        seed=1,
        verbose=0,
    ).model

    def read(blob: bytes) -> int:
        return int(model.predict(prepare(mnist_style(read_upload(blob))[None]), verbose=0).argmax())

    return read, xt[:N], yt[:N]


@pytest.fixture(scope="module")
def clean(reader):
    return _score(reader)


def _score(reader, photo_kwargs=None, encode_kwargs=None):
    read, digits, labels = reader
    readings = [
        read(encode(render(d, seed=i, **(photo_kwargs or {})), **(encode_kwargs or {})))
        for i, d in enumerate(digits)
    ]
    return np.array(readings), labels


def test_exif_rotated_photos_read_the_same_as_upright_ones(reader, clean):
    upright, labels = clean
    assert (upright == labels).mean() >= 0.85
    for orientation in (3, 6, 8):
        turned, _ = _score(reader, encode_kwargs={"orientation": orientation})
        assert (turned == upright).mean() >= 0.95, f"orientation {orientation}"


@pytest.mark.parametrize(
    "condition, photo_kwargs, encode_kwargs",
    [
        ("dim photo", {"paper": 60, "ink": 25}, {}),
        ("grey paper", {"paper": 140, "ink": 40}, {}),
        ("shadow at the edge", {"shadow": 0.6}, {}),
        ("16-bit PNG", {}, {"fmt": "PNG", "bits": 16}),
        ("palette PNG", {}, {"fmt": "PNG", "mode": "P"}),
        ("CMYK JPEG", {}, {"mode": "CMYK"}),
        ("transparent PNG", {}, {"fmt": "PNG", "mode": "transparent"}),
    ],
)
def test_hard_photos_read_as_well_as_clean_ones(
    reader, clean, condition, photo_kwargs, encode_kwargs
):
    clean, labels = clean
    hard, _ = _score(reader, photo_kwargs, encode_kwargs)
    print(
        f"{condition}: {(hard == labels).sum()}/{N} right (clean photos: {(clean == labels).sum()}/{N})"
    )
    assert (hard == labels).mean() >= (clean == labels).mean() - 0.05


def test_a_dim_photo_is_not_called_empty_but_a_blank_page_is():
    digit = load_mnist("sample")[1][0][0]
    assert mnist_style(read_upload(encode(render(digit, paper=50, ink=30)))).max() == 255
    blank = np.full((200, 200), 120.0) + np.random.default_rng(0).normal(0, 3, (200, 200))
    with pytest.raises(DrawingError, match="empty"):
        mnist_style(read_upload(encode(blank)))


def test_an_unsure_reading_says_so():
    probs = np.full(10, 0.02)
    probs[4], probs[9] = 0.45, 0.39
    text = widgets.prediction_message(probs)
    assert "unsure" in text and "<b>4</b>" in text and "9 (39%)" in text
    probs[4], probs[9] = 0.82, 0.02
    assert "reads <b>4</b>" in widgets.prediction_message(probs)


def _valid_files():
    img = np.full((40, 40), 255, np.uint8)
    img[5:35, 18:22] = 0
    files = []
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format=fmt)
        files.append(buf.getvalue())
    return files


VALID = _valid_files()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(VALID) - 1),
    edits=st.lists(st.tuples(st.integers(0, 10**5), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 200),
)
def test_fuzz_damaged_picture_files_only_raise_drawing_error(which, edits, cut):
    raw = bytearray(VALID[which])
    for pos, value in edits:
        raw[pos % len(raw)] = value
    blob = bytes(raw[: max(0, len(raw) - cut)])
    try:
        digit = mnist_style(read_upload(blob, "photo.png"))
    except DrawingError as exc:
        assert "photo.png" in str(exc) or "empty" in str(exc) or "NaN" in str(exc)
        return
    assert digit.shape == (28, 28) and digit.dtype == np.uint8


@settings(max_examples=200, deadline=None)
@given(
    shape=st.tuples(st.integers(0, 40), st.integers(0, 40), st.sampled_from([0, 1, 2, 3, 4, 5])),
    fill=st.sampled_from([0.0, 255.0, np.nan, np.inf, -5.0, 1e30]),
    seed=st.integers(0, 1000),
)
def test_fuzz_arrays_only_raise_drawing_error(shape, fill, seed):
    h, w, c = shape
    rng = np.random.default_rng(seed)
    array = rng.uniform(0, 255, (h, w, c) if c else (h, w))
    array[rng.random(array.shape) < 0.3] = fill
    try:
        digit = mnist_style(array)
    except DrawingError:
        return
    assert digit.shape == (28, 28) and digit.dtype == np.uint8


def test_the_pad_never_fails_silently():
    pad = DrawingPad(lambda d: np.full((len(d), 10), 0.1))
    pad._on_upload({"new": [{"content": b"\x89PNG\r\n\x1a\n broken", "name": "x.png"}]})
    assert "⚠" in pad.message.value
    pad._on_upload({"new": [{"content": memoryview(b"GIF89a"), "name": None}]})
    assert "⚠" in pad.message.value
    pad._on_upload({"new": [{"name": "no content at all"}]})  # a malformed widget value
    assert "could not be read" in pad.message.value
