"""Synthetic 'phone photos' of real MNIST digits, for the upload attack tests.

A 28x28 digit is enlarged, drawn as dark ink on paper of a chosen brightness, with
a little blur and sensor noise, optionally a shadow across one edge, and encoded as
JPEG or PNG (8- or 16-bit), optionally stored sideways with an EXIF orientation tag
that tells a viewer how to turn it upright, as phones do.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

# EXIF orientation -> the rotation (PIL's rotate, counter-clockwise degrees) that a phone's
# stored pixels have relative to the upright picture, so that exif_transpose undoes it.
STORED_ROTATION = {1: 0, 3: 180, 6: 90, 8: 270}


def render(
    digit: np.ndarray,
    *,
    size: int = 240,
    paper: float = 225.0,
    ink: float = 30.0,
    shadow: float = 0.0,
    noise: float = 4.0,
    seed: int = 0,
) -> np.ndarray:
    """(28, 28) uint8 digit (ink high) -> (size, size) float photo, dark ink on paper.

    ``shadow``: how dark (0..1 of the paper) a soft band over the left fifth of the
    picture is, as a hand or phone casts at the paper's edge.
    """
    rng = np.random.default_rng(seed)
    big = Image.fromarray(digit).resize((size * 20 // 28, size * 20 // 28), Image.BICUBIC)
    canvas = Image.new("L", (size, size), 0)
    offset = (size - big.width) // 2
    canvas.paste(big, (offset + rng.integers(-size // 12, size // 12), offset))
    coverage = (
        np.asarray(canvas.filter(ImageFilter.GaussianBlur(size / 200)), dtype=np.float32) / 255
    )
    photo = paper - coverage * (paper - ink)
    if shadow:
        x = np.arange(size, dtype=np.float32)
        band = 1.0 - shadow * np.clip((size * 0.2 - x) / (size * 0.08), 0, 1)
        photo = photo * band[None, :]
    photo = photo + rng.normal(0, noise, photo.shape)
    return np.clip(photo, 0, 255)


def encode(
    photo: np.ndarray, *, fmt: str = "JPEG", orientation: int = 1, bits: int = 8, mode: str = "L"
) -> bytes:
    """Encode a float photo as a file; sideways pixels plus an EXIF tag when orientation != 1."""
    if bits == 16:
        img = Image.fromarray((photo * 257).astype(np.uint16))
    elif mode == "transparent":  # black ink whose opacity is the ink, on a see-through page
        alpha = (255 - photo).astype(np.uint8)
        img = Image.merge(
            "RGBA", [Image.new("L", alpha.shape[::-1], 0)] * 3 + [Image.fromarray(alpha)]
        )
    else:
        img = Image.fromarray(photo.astype(np.uint8), mode="L")
        if mode != "L":
            img = img.convert(mode)
    img = img.rotate(STORED_ROTATION[orientation], expand=True)
    buf = io.BytesIO()
    kwargs = {}
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif
    if fmt == "JPEG":
        kwargs["quality"] = 90
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()
