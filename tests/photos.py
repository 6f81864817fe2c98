"""Synthetic 'phone photos' of real MNIST digits, for the upload attack tests.

A 28x28 digit is enlarged, drawn as dark ink on paper of a chosen brightness, with
a little blur and sensor noise, optionally ruled lines, a shadow across one edge (sharp
or soft), a dark table beyond the paper's edge, or as a small digit in a large photo;
then encoded as JPEG, PNG (8- or 16-bit), TIFF (also floating point, several pages) or
GIF, optionally stored sideways with an EXIF orientation tag that tells a viewer how to
turn it upright, as phones do.
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
    soft_shadow: float = 0.0,
    lines: float = 0.0,
    table: float = 0.0,
    digit_px: int | None = None,
    noise: float = 4.0,
    seed: int = 0,
) -> np.ndarray:
    """(28, 28) uint8 digit (ink high) -> (size, size) float photo, dark ink on paper.

    ``shadow``: how dark (0..1 of the paper) a band over the left fifth of the picture
    is, as a hand or phone casts at the paper's edge. ``soft_shadow``: the same darkness
    fading in over the left half, with no edge at all. ``lines``: ruled lines this dark
    (0..1 of the way from paper to ink), one every tenth of the picture, slightly tilted,
    as on a school pad. ``table``: the share of the picture, at its right edge, that is
    a dark table beyond the paper. ``digit_px``: the digit's ink this many pixels tall,
    somewhere in the photo (by default it fills most of it, as a cropped photo does).
    """
    rng = np.random.default_rng(seed)
    box = size * 20 // 28 if digit_px is None else max(4, digit_px * 28 // 20)
    big = Image.fromarray(digit).resize((box, box), Image.BICUBIC)
    canvas = Image.new("L", (size, size), 0)
    offset = (size - big.width) // 2
    jiggle = size // 12 if digit_px is None else max(1, (size - box) // 3)
    canvas.paste(big, (offset + rng.integers(-jiggle, jiggle), offset + rng.integers(-1, 2)))
    coverage = (
        np.asarray(canvas.filter(ImageFilter.GaussianBlur(box / 140)), dtype=np.float32) / 255
    )
    page = np.full((size, size), paper, np.float32)
    y, x = np.indices((size, size), dtype=np.float32)
    if lines:
        tilt = np.tan(np.radians(rng.uniform(-0.6, 0.6)))
        phase = (y + x * tilt + rng.uniform(0, size / 10)) % (size / 10)
        thickness = max(1.5, size / 160)
        ruled = np.clip(1.0 - np.abs(phase - size / 20) / thickness, 0, 1)
        page = page - lines * (paper - ink) * ruled
    photo = page - coverage * (page - ink)
    if shadow:
        band = 1.0 - shadow * np.clip((size * 0.2 - x[0]) / (size * 0.08), 0, 1)
        photo = photo * band[None, :]
    if soft_shadow:
        photo = photo * (1.0 - soft_shadow * np.clip(1 - x / (size * 0.5), 0, 1) ** 1.5)
    if table:
        edge = size * (1 - table) + rng.uniform(-2, 2) + (y - size / 2) * 0.02
        beyond = np.clip((x - edge) / max(1.0, size / 120), 0, 1)
        photo = photo * (1 - beyond) + (45.0 + 10 * np.sin(y / 7)) * beyond
    photo = photo + rng.normal(0, noise, photo.shape)
    return np.clip(photo, 0, 255)


def encode(
    photo: np.ndarray,
    *,
    fmt: str = "JPEG",
    orientation: int = 1,
    bits: int = 8,
    mode: str = "L",
    blank_pages: int = 0,
) -> bytes:
    """Encode a float photo as a file; sideways pixels plus an EXIF tag when orientation != 1.

    ``mode``: "L", a Pillow mode to convert to, "transparent" (black ink whose opacity is
    the ink), "white-transparent" (white ink on a see-through page) or "float" (32-bit
    floating point 0..1, for TIFF). ``blank_pages``: that many blank pages or frames first.
    """
    if bits == 16:
        img = Image.fromarray((photo * 257).astype(np.uint16))
    elif mode == "float":  # a scientific TIFF: 32-bit floating point, 0..1
        img = Image.fromarray((photo / 255.0).astype(np.float32), mode="F")
    elif mode == "white-transparent":  # white ink on a see-through page (a sticker, a logo)
        alpha = np.clip((photo.max() - photo) / max(float(np.ptp(photo)), 1.0) * 255, 0, 255)
        img = Image.merge(
            "RGBA",
            [Image.new("L", alpha.shape[::-1], 255)] * 3
            + [Image.fromarray(alpha.astype(np.uint8))],
        )
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
    if blank_pages:  # a scan or a GIF whose first pages or frames are blank paper
        blank = Image.fromarray(np.full(photo.shape, photo.max(), np.uint8), mode="L").convert(
            img.mode if img.mode != "F" else "L"
        )
        if img.mode == "F":
            blank = Image.fromarray(np.full(photo.shape, 1.0, np.float32), mode="F")
        first, rest = blank, [blank] * (blank_pages - 1) + [img]
        first.save(buf, format=fmt, save_all=True, append_images=rest, **kwargs)
        return buf.getvalue()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()
