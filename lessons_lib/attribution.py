"""What the network looks at: input-gradient maps for a digit and a class.

For an input x (the prepared (784,) vector the network sees) and a digit c, the map is
the gradient of the predicted probability p_c(x) with respect to every pixel:

    map[j] = d p_c / d x_j

A positive value means the probability of c would rise if pixel j were a little
brighter (more ink), a negative one that it would fall. Drawn in orange (raises) and
blue (lowers) over the digit, it shows which strokes spoke for the reading and which
against it; for a mistake, the map for the true digit beside it shows what was missing.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

RAISE = np.array([230, 159, 0], dtype=np.float32)  # Okabe-Ito orange
LOWER = np.array([0, 114, 178], dtype=np.float32)  # Okabe-Ito blue


def input_gradients(
    model, x: np.ndarray, classes: np.ndarray, batch_size: int = 1000
) -> np.ndarray:
    """(n, 784) float32 prepared inputs, (n,) digits -> (n, 784) float32 d p_class / d pixel."""
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float32)
    classes = np.asarray(classes, dtype=np.int64).ravel()
    if x.ndim != 2 or len(x) != len(classes):
        raise ValueError(
            f"x must be (n, features) with one class each, got {x.shape} and {classes.shape}"
        )
    out = np.empty_like(x)
    for start in range(0, len(x), batch_size):
        xb = tf.convert_to_tensor(x[start : start + batch_size])
        cb = tf.convert_to_tensor(classes[start : start + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(xb)
            probs = model(xb, training=False)
            chosen = tf.gather(probs, cb, axis=1, batch_dims=1)
        out[start : start + batch_size] = tape.gradient(chosen, xb).numpy()
    return out


def explorer_maps(
    model, x: np.ndarray, probs: np.ndarray, labels: np.ndarray
) -> dict[str, np.ndarray]:
    """Maps for every test digit, computed once in batches: for the predicted digit and the true one.

    Returns {"predicted": (n, 784), "true": (n, 784)} float16 (half the memory; maps are
    only drawn). For a right prediction the two are the same array rows.
    """
    predicted = np.asarray(probs).argmax(axis=1)
    labels = np.asarray(labels).astype(np.int64)
    maps_pred = input_gradients(model, x, predicted).astype(np.float16)
    wrong = np.flatnonzero(predicted != labels)
    maps_true = maps_pred.copy()
    if len(wrong):
        maps_true[wrong] = input_gradients(model, np.asarray(x)[wrong], labels[wrong]).astype(
            np.float16
        )
    return {"predicted": maps_pred, "true": maps_true}


def map_png(gradient: np.ndarray, digit: np.ndarray | None = None, scale: int = 6) -> bytes:
    """A (784,) or (28, 28) map as a PNG: orange raises, blue lowers, white neutral.

    The colour strength is |map| / max |map| of this image; ``digit`` (28x28 uint8, ink
    high) is drawn faintly underneath so the strokes can be recognised.
    """
    g = np.asarray(gradient, dtype=np.float32).reshape(28, 28)
    limit = float(np.abs(g).max()) or 1.0
    strength = np.clip(np.abs(g) / limit, 0, 1)[..., None]
    colour = np.where(g[..., None] >= 0, RAISE, LOWER)
    white = np.full((28, 28, 3), 255.0, np.float32)
    if digit is not None:
        ink = np.asarray(digit, dtype=np.float32).reshape(28, 28)[..., None] / 255.0
        white = white - 70.0 * ink  # a grey ghost of the digit
    rgb = white * (1 - strength) + colour * strength
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), mode="RGB")
    img = img.resize((28 * scale, 28 * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
