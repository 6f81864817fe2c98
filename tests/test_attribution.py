"""Input-gradient maps: shape, sign (checked against finite differences), and their place in
the explorer and on the pad."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest
from PIL import Image

from lessons_lib import attribution
from lessons_lib.data import load_mnist
from lessons_lib.preprocess import deskew, prepare
from lessons_lib.widgets import DrawingPad, PredictionExplorer


@pytest.fixture(scope="module")
def trained():
    (x, y), (xt, yt) = load_mnist("sample")
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(prepare(x), y, epochs=3, batch_size=128, verbose=0)
    return model, xt[:200], yt[:200]


def test_a_map_per_image_with_the_input_shape_and_the_sign_of_the_probability_change(trained):
    model, xt, _ = trained
    x = prepare(xt[:20])
    classes = model.predict(x, verbose=0).argmax(1)
    maps = attribution.input_gradients(model, x, classes, batch_size=7)  # batches of any size
    assert maps.shape == x.shape == (20, 784) and maps.dtype == np.float32
    eps = 1e-2
    agree = 0
    for i in range(20):
        j = int(np.argmax(np.abs(maps[i])))
        nudged = x[i : i + 1].copy()
        nudged[0, j] += eps
        before = model.predict(x[i : i + 1], verbose=0)[0, classes[i]]
        after = model.predict(nudged, verbose=0)[0, classes[i]]
        agree += np.sign(after - before) == np.sign(maps[i, j])
        assert (after - before) == pytest.approx(eps * maps[i, j], rel=0.2, abs=1e-6)
    assert agree == 20, "a positive map value raises the probability, a negative one lowers it"


def test_explorer_maps_for_mistakes_show_the_true_digit_too(trained):
    model, xt, yt = trained
    x = prepare(xt)
    probs = model.predict(x, verbose=0)
    maps = attribution.explorer_maps(model, x, probs, yt)
    assert maps["predicted"].shape == maps["true"].shape == (200, 784)
    explorer = PredictionExplorer(xt, yt, probs, maps=maps, seen=deskew(xt))
    explorer.set_filter("misclassified")
    assert explorer.shown()["true"] != explorer.shown()["predicted"]
    assert (
        explorer.why.value
        and explorer.why_true.value
        and explorer.why_true_box.layout.display == ""
    )
    assert "the true digit" in explorer.why_true_caption.value
    explorer.set_filter("all")
    right = next(i for i in range(200) if probs[i].argmax() == yt[i])
    explorer.slider.value = right
    assert explorer.why_true_box.layout.display == "none"
    assert explorer.last_update_ms < 100, "a move redraws two small PNGs, nothing is recomputed"


def test_map_png_colours_raise_orange_and_lower_blue():
    g = np.zeros(784, np.float32)
    g[0], g[1] = 1.0, -1.0
    img = np.asarray(Image.open(io.BytesIO(attribution.map_png(g, scale=1))).convert("RGB"))
    assert tuple(img[0, 0]) == (230, 159, 0) and tuple(img[0, 1]) == (0, 114, 178)
    assert tuple(img[5, 5]) == (255, 255, 255)


def test_the_pad_shows_what_the_network_looked_at(trained):
    model, xt, _ = trained

    def explain(digits, predicted):
        return attribution.input_gradients(model, prepare(digits), [predicted])[0], deskew(digits)[
            0
        ]

    pad = DrawingPad(lambda d: model.predict(prepare(d), verbose=0), explain)
    paper = np.full((200, 200), 255, np.uint8)
    paper[30:170, 95:110] = 0  # a 1
    result = pad.try_predict(paper)
    assert result["map"].shape == (28, 28) and pad.why.value
