"""lessons_lib.preprocess: shapes, dtypes, ranges, and the stratified split."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib.preprocess import (
    deskew,
    flatten,
    normalize,
    prepare,
    prepare_images,
    stratified_split,
)


def images(n=6):
    return np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def test_flatten_shape_and_order():
    x = images()
    flat = flatten(x)
    assert flat.shape == (6, 784) and flat.dtype == np.uint8
    np.testing.assert_array_equal(flat[2, 28:56], x[2, 1])  # row-major: row 1 follows row 0


@pytest.mark.parametrize("shape", [(5, 28), (5, 27, 28), (28, 28)])
def test_flatten_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        flatten(np.zeros(shape, np.uint8))


def test_flatten_twice_is_explained():
    with pytest.raises(ValueError, match="already .*flattened"):
        flatten(flatten(images()))


def test_normalize_default_range_is_minus_one_to_one():
    x = np.array([[0, 127, 128, 255]], dtype=np.uint8)
    out = normalize(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[-1.0, 127 / 127.5 - 1, 128 / 127.5 - 1, 1.0]], atol=1e-6)


def test_normalize_zero_one_option():
    out = normalize(np.array([0, 51, 255], dtype=np.uint8), (0, 1))
    np.testing.assert_allclose(out, [0.0, 0.2, 1.0], atol=1e-6)


def test_normalize_rejects_float_input_as_already_normalized():
    with pytest.raises(TypeError, match="normalized already"):
        normalize(normalize(images()))


def test_normalize_rejects_other_dtypes_and_ranges():
    with pytest.raises(TypeError, match="uint8"):
        normalize(images().astype(np.int32))
    with pytest.raises(ValueError, match="value_range"):
        normalize(images(), (0, 255))


def test_prepare_is_deskew_flatten_normalize():
    x = images()
    out = prepare(x)
    assert out.shape == (6, 784) and out.dtype == np.float32
    assert -1.0 <= out.min() and out.max() <= 1.0
    np.testing.assert_array_equal(out, normalize(flatten(deskew(x))))
    np.testing.assert_array_equal(prepare(x, straighten=False), normalize(flatten(x)))


def test_prepare_images_is_deskew_with_one_channel_and_stays_uint8():
    """Lesson 07's CNN pipeline: deskewed, (n, 28, 28, 1), uint8 (the model rescales), and
    without deskewing a view of the images, not a copy."""
    x = images()
    out = prepare_images(x)
    assert out.shape == (6, 28, 28, 1) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], deskew(x))
    assert not np.shares_memory(out, x)
    raw = prepare_images(x, straighten=False)
    assert raw.shape == (6, 28, 28, 1) and np.shares_memory(raw, x)
    np.testing.assert_array_equal(raw[..., 0], x)
    with pytest.raises(TypeError, match="uint8"):
        prepare_images(x.astype(np.float32))


def slanted_bar(slope: float) -> np.ndarray:
    """A one-pixel-wide stroke from bottom-left to top-right, column = 14 + slope * (row - 14)."""
    img = np.zeros((28, 28), np.uint8)
    for row in range(4, 24):
        img[row, int(round(14 + slope * (row - 14)))] = 255
    return img


def column_spread(img: np.ndarray) -> float:
    cols = np.arange(28)
    w = img.astype(float)
    mean = (w.sum(0) * cols).sum() / w.sum()
    return float(np.sqrt((w.sum(0) * (cols - mean) ** 2).sum() / w.sum()))


def test_deskew_stands_a_slanted_stroke_upright():
    img = slanted_bar(-0.4)
    out = deskew(img[None])[0]
    assert column_spread(img) > 2.0
    assert column_spread(out) < 0.6
    assert out.dtype == np.uint8 and abs(int(out.sum()) - int(img.sum())) < 0.1 * img.sum()


def test_deskew_leaves_upright_and_blank_images_alone():
    upright = slanted_bar(0.0)
    np.testing.assert_array_equal(deskew(upright[None])[0], upright)
    blank = np.zeros((1, 28, 28), np.uint8)
    np.testing.assert_array_equal(deskew(blank), blank)


def test_deskew_rejects_wrong_input():
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        deskew(np.zeros((3, 784), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        deskew(np.zeros((3, 28, 28), np.float32))


def test_split_is_stratified_disjoint_and_complete():
    y = np.repeat(np.arange(10), [100, 50, 80, 60, 70, 90, 100, 40, 30, 20]).astype(np.uint8)
    x = np.arange(len(y))
    (xt, yt), (xv, yv) = stratified_split(x, y, val_fraction=0.2, seed=3)
    assert len(xt) + len(xv) == len(x)
    assert set(xt).isdisjoint(xv) and set(xt) | set(xv) == set(x)
    np.testing.assert_array_equal(np.bincount(yv), np.round(0.2 * np.bincount(y)))
    np.testing.assert_array_equal(y[xv], yv)  # images travel with their labels


def test_split_is_deterministic_per_seed():
    y = np.tile(np.arange(10), 30)
    x = np.arange(len(y))
    a = stratified_split(x, y, seed=1)[1][0]
    b = stratified_split(x, y, seed=1)[1][0]
    c = stratified_split(x, y, seed=2)[1][0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.sort(a), np.sort(c))


def test_split_rejects_bad_fraction_and_mismatch():
    with pytest.raises(ValueError, match="between 0 and 1"):
        stratified_split(np.arange(10), np.arange(10), val_fraction=1.0)
    with pytest.raises(ValueError, match="must match"):
        stratified_split(np.arange(10), np.arange(9))


def test_normalize_names_and_bad_ranges_get_a_clear_error():
    x = np.array([[0, 255]], np.uint8)
    assert normalize(x, "0..1").max() == 1.0
    for bad in (None, "0-1", (0, 2), "abc", 5):
        with pytest.raises(ValueError, match="value_range must be"):
            normalize(x, bad)


def test_stratified_split_refuses_empty_and_nan_labels():
    with pytest.raises(ValueError, match="at least 2 labelled images"):
        stratified_split(np.zeros((0, 784)), np.zeros(0))
    with pytest.raises(ValueError, match="NaN or fractional labels"):
        stratified_split(np.zeros((4, 784)), np.array([0, 1, np.nan, 1]))
