"""Preprocessing taught in lesson 02: flatten, normalize, and a stratified validation split.

The lesson writes ``flatten`` and ``normalize`` inline; later lessons call these
versions, and ``tests/test_notebooks.py`` proves the two agree.
"""

from __future__ import annotations

import numpy as np

from .data import IMAGE_SHAPE

PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
RANGES = {"-1..1": (-1.0, 1.0), "0..1": (0.0, 1.0)}


def flatten(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) -> (n, 784), dtype unchanged: each image becomes one row of 784 pixels."""
    images = np.asarray(images)
    if images.ndim == 2 and images.shape[1] == PIXELS:
        raise ValueError(
            f"images already have shape {images.shape}: they are flattened. "
            "Call flatten() once, on the (n, 28, 28) images."
        )
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"flatten expects images of shape (n, 28, 28), got {images.shape}.")
    return images.reshape(len(images), PIXELS)


def normalize(images: np.ndarray, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 in ``value_range``: [-1, 1] by default, (0, 1) as an option.

    Any shape is kept. For [-1, 1] this is ``x / 127.5 - 1``; for [0, 1], ``x / 255``.
    """
    images = np.asarray(images)
    if isinstance(value_range, str) and value_range in RANGES:  # "-1..1" or "0..1"
        value_range = RANGES[value_range]
    try:
        value_range = tuple(float(v) for v in value_range)
    except (TypeError, ValueError):
        value_range = None
    if value_range not in RANGES.values():
        raise ValueError(
            f"value_range must be (-1, 1) or (0, 1) (or the names {', '.join(RANGES)}), "
            f"got {value_range!r}."
        )
    if images.dtype != np.uint8:
        if np.issubdtype(images.dtype, np.floating) and images.size and images.max() <= 1.0:
            raise TypeError(
                f"normalize expects raw uint8 pixels 0..255, got {images.dtype} with values "
                f"{images.min():.3g}..{images.max():.3g}: these look normalized already. "
                "Normalize the raw images once."
            )
        raise TypeError(
            f"normalize expects raw uint8 pixels 0..255, got dtype {images.dtype}. "
            "Pass the images as load_mnist() returns them."
        )
    low, high = value_range
    # Written as a division so that [-1, 1] is bit for bit lesson 02's x / 127.5 - 1.
    return images.astype(np.float32) / np.float32(255.0 / (high - low)) + np.float32(low)


def stratified_split(
    x: np.ndarray, y: np.ndarray, val_fraction: float = 0.1, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split into ((x_train, y_train), (x_val, y_val)) keeping each digit's share.

    Deterministic: the same ``seed`` picks the same validation images. Each class
    gives ``round(val_fraction * count)`` images (at least one where it has two or more).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels; they must match.")
    if len(y) < 2:
        raise ValueError(f"need at least 2 labelled images to split, got {len(y)}.")
    if y.ndim != 1 or not (
        np.issubdtype(y.dtype, np.integer)
        or (np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y % 1 == 0))
    ):
        raise ValueError(
            f"labels must be whole numbers, one per image (shape (n,)), got dtype {y.dtype} "
            f"and shape {y.shape}; NaN or fractional labels cannot be split by class."
        )
    if not isinstance(val_fraction, (int, float)) or not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie between 0 and 1 (exclusive), got {val_fraction}.")
    rng = np.random.default_rng(seed)
    val_idx = []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        take = int(round(val_fraction * len(idx)))
        if len(idx) >= 2:
            take = min(max(take, 1), len(idx) - 1)
        val_idx.append(idx[:take])
    val_idx = np.sort(np.concatenate(val_idx))
    mask = np.ones(len(y), dtype=bool)
    mask[val_idx] = False
    train_idx = rng.permutation(np.flatnonzero(mask))
    val_idx = rng.permutation(val_idx)
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx])


def prepare(
    images: np.ndarray,
    value_range: tuple[float, float] = (-1.0, 1.0),
    *,
    straighten: bool = True,
) -> np.ndarray:
    """The dense lessons' pipeline: (n, 28, 28) uint8 -> (n, 784) float32 in ``value_range``.

    deskew (unless ``straighten=False``), then flatten, then normalize.
    """
    images = np.asarray(images)
    if straighten:
        images = deskew(images)
    return normalize(flatten(images), value_range)


def prepare_images(images: np.ndarray, *, straighten: bool = True) -> np.ndarray:
    """Lesson 07's CNN pipeline: (n, 28, 28) uint8 -> (n, 28, 28, 1) uint8.

    deskew (unless ``straighten=False``) and add the one colour channel a convolution
    expects. The pixels stay uint8: the CNN maps them to [-1, 1] itself, so no float copy
    of the data set is made. Without deskewing the result is a view of ``images``.
    """
    images = np.asarray(images)
    if straighten:
        images = deskew(images)
    return images[..., None]


def deskew(images: np.ndarray) -> np.ndarray:
    """Straighten slanted digits: (n, 28, 28) uint8 -> (n, 28, 28) uint8.

    Each image's ink is treated as a cloud of points; its covariance gives the
    slant ``alpha = cov(x, y) / var(y)``, and every row is shifted sideways by
    ``alpha * (row - centre_row)`` (linear interpolation) so the digit stands
    upright. This is the "deskewing" preprocessing of the MNIST results table
    (LeCun et al.), which lowers the error of dense networks markedly.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"deskew expects images of shape (n, 28, 28), got {images.shape}.")
    if images.dtype != np.uint8:
        raise TypeError(f"deskew expects raw uint8 pixels 0..255, got dtype {images.dtype}.")
    out = np.empty_like(images)
    rows = np.arange(28, dtype=np.float32)
    for start in range(0, len(images), 4096):  # chunks keep the float copies small
        w = images[start : start + 4096].astype(np.float32)
        row_mass = w.sum(axis=2)  # (n, 28)
        col_mass = w.sum(axis=1)
        total = row_mass.sum(axis=1) + 1e-6
        cy = row_mass @ rows / total
        cx = col_mass @ rows / total
        var_y = (row_mass * (rows[None, :] - cy[:, None]) ** 2).sum(axis=1) / total
        # sum_ij w_ij * (i - cy) * (j - cx)
        cov = np.einsum("nij,ni,nj->n", w, rows[None, :] - cy[:, None], rows[None, :] - cx[:, None])
        alpha = np.where(var_y > 1e-3, cov / total / np.maximum(var_y, 1e-3), 0.0)
        shift = alpha[:, None] * (rows[None, :] - cy[:, None])  # (n, 28), per row
        src = rows[None, None, :] + shift[:, :, None]  # source column of each output pixel
        left = np.floor(src)
        frac = src - left
        left = left.astype(np.int64)
        padded = np.pad(w, ((0, 0), (0, 0), (1, 2)))  # zeros outside the image
        lo = np.take_along_axis(padded, np.clip(left + 1, 0, 30), axis=2)
        hi = np.take_along_axis(padded, np.clip(left + 2, 0, 30), axis=2)
        result = (1 - frac) * lo + frac * hi
        out[start : start + 4096] = np.clip(np.rint(result), 0, 255).astype(np.uint8)
    return out
