"""Pictures of one digit -> the 28x28 the network reads: uploaded files and drawings.

``read_upload`` turns the bytes of an image file into grayscale, checking its declared
size before decoding; ``mnist_style`` separates ink from paper and crops, scales and
centres it the way MNIST's digits were made; ``digit_png`` draws a digit back as a PNG.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_PIXELS = 25_000_000


def digit_png(image: np.ndarray, scale: int = 6) -> bytes:
    """A 28x28 uint8 digit (ink high) as a PNG, dark ink on white, scaled up without blurring."""
    img = Image.fromarray(255 - np.asarray(image, dtype=np.uint8).reshape(28, 28))
    img = img.resize((28 * scale, 28 * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def placeholder_png(size: int = 112, text: str = "no drawing yet") -> bytes:
    """A light grey square with ``text`` in it: what a preview shows before there is a digit
    (an empty image widget shows the browser's broken-image icon instead)."""
    from PIL import ImageDraw, ImageFont

    img = Image.new("L", (size, size), 238)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, size - 1, size - 1), outline=170)
    try:  # Pillow's bundled scalable font: its bitmap default all but drops the spaces
        font = ImageFont.load_default(size=max(9, size // 9))
    except (TypeError, OSError):  # a Pillow before 10.1, or built without FreeType
        font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x, y = (size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top
    draw.text((x, y), text, fill=90, font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


class DrawingError(ValueError):
    """A drawing or an uploaded file that cannot be read as a digit; the message says why."""


def _page_under(gray: np.ndarray, alpha: np.ndarray) -> float:
    """What a see-through page stands for: white paper, unless most of the picture is
    see-through and what is opaque is light (white ink on nothing), then black."""
    opaque = alpha >= 0.5
    if opaque.size and opaque.any() and opaque.mean() < 0.5 and np.median(gray[opaque]) > 127:
        return 0.0
    return 255.0


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """(h, w), (h, w, 3) or (h, w, 4) array -> (h, w) float in 0..255.

    Transparent pixels (a canvas's untouched background) count as white paper, or as
    black when the ink on them is light (white ink on a see-through page).
    """
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 2:
        gray = a
    elif a.ndim == 3 and a.shape[2] in (3, 4):
        gray = a[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if a.shape[2] == 4:
            alpha = np.clip(np.nan_to_num(a[..., 3]) / 255.0, 0, 1)
            gray = alpha * gray + (1 - alpha) * _page_under(gray, alpha)
    else:
        raise DrawingError(
            f"expected a grayscale, RGB or RGBA image, got an array of shape {a.shape}."
        )
    if gray.size == 0 or min(gray.shape) < 2:
        raise DrawingError("the image is empty: draw a digit (or upload a picture of one) first.")
    if not np.all(np.isfinite(gray)):
        raise DrawingError("the image holds values that are not numbers (NaN); draw it again.")
    return gray


WORK_SIZE = 1024  # photos are shrunk to this (longer side) before the background is estimated
# Ink over the 20x20 box a digit is scaled into: MNIST's test digits reach 0.50 (99th
# percentile), 0.58 (99.9th), 0.64 at most; a filled dot reaches 0.78.
MAX_FILL = 0.68
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
    wider than a stroke: slow changes such as a soft shadow belong to the paper, thin
    strokes do not. Ruled lines (ink that runs across half the picture) are taken off,
    and so is what hugs an edge of the picture along most of it (a table or a shadow
    beyond the paper's edge). What is left is stretched so the strongest ink is 255.
    """
    from scipy import ndimage

    gray = _shrink(to_grayscale(image))
    k = max(3, (max(gray.shape) // 5) | 1)
    # sensor noise and JPEG blocks; no wider, or a small digit loses its loops
    gray = ndimage.gaussian_filter(gray, sigma=0.7)
    bg = float(np.median(gray))
    low, high = np.percentile(gray, [0.5, 99.5])
    if (bg - low) >= (high - bg):  # the extremes lie below the paper: dark ink
        ink = ndimage.grey_closing(gray, size=(k, k), mode="nearest") - gray
    else:
        ink = gray - ndimage.grey_opening(gray, size=(k, k), mode="nearest")
    ink = _without_ruled_lines(np.clip(ink, 0, None))
    # the paper's own wobble: most pixels are paper, so the median and its spread measure it
    typical = float(np.median(ink))
    spread = 1.4826 * float(np.median(np.abs(ink - typical)))
    top = float(ink.max())  # a small digit in a large photo is far fewer than 0.1% of it
    floor = max(0.2 * top, typical + 5 * spread)
    if top < MIN_CONTRAST or top - floor < MIN_CONTRAST / 2:
        raise DrawingError("the image is empty: draw a digit (or upload a picture of one) first.")
    ink = _without_edge_bands(np.clip((ink - floor) / (top - floor), 0, 1))
    top = float(ink.max())
    if top <= 0.1:
        raise DrawingError("the image is empty: draw a digit (or upload a picture of one) first.")
    return np.clip(ink / top, 0, 1) * 255.0


LINE_RUN = 0.9  # ink running straight across this share of the picture is a ruled line


def _without_ruled_lines(ink: np.ndarray) -> np.ndarray:
    """Take off ink that runs straight across nearly the whole picture: a ruled line.

    A grey opening with a horizontal (then vertical) segment LINE_RUN of the picture long
    keeps only such runs; a digit's strokes stop short of the picture's edges (a 1 or a
    7's bar drawn from edge to edge of the pad is the one casualty). A slight tilt is
    allowed for by first widening the runs by a few pixels across their direction.
    """
    from scipy import ndimage

    h, w = ink.shape
    across = max(3, round(max(h, w) / 100)) | 1
    rows = ndimage.grey_opening(
        ndimage.grey_dilation(ink, size=(across, 1)), size=(1, max(3, round(w * LINE_RUN)))
    )
    cols = ndimage.grey_opening(
        ndimage.grey_dilation(ink, size=(1, across)), size=(max(3, round(h * LINE_RUN)), 1)
    )
    return np.clip(ink - np.maximum(rows, cols), 0, None)


EDGE_BAND = 0.25  # a mark lying wholly within this share of the picture from one edge ...
EDGE_SPAN = 0.5  # ... and running along more than this share of that edge is not the digit


def _without_edge_bands(ink: np.ndarray) -> np.ndarray:
    """Drop what is not the digit: marks that hug one edge along most of it (a table, a
    shadow or the paper's edge), small marks cut by the picture's border or far from the
    largest mark, and specks."""
    from scipy import ndimage

    labels, count = ndimage.label(ink > 0.1, structure=np.ones((3, 3)))  # as mnist_style crops
    if count == 0:
        return ink
    h, w = ink.shape
    mass = ndimage.sum_labels(ink, labels, index=np.arange(1, count + 1))
    biggest = float(mass.max())
    keep = ink.copy()
    boxes = ndimage.find_objects(labels)
    main_rows, main_cols = boxes[int(np.argmax(mass))]
    for index, box in enumerate(boxes, start=1):
        rows, cols = box
        gap = max(
            main_rows.start - rows.stop,
            rows.start - main_rows.stop,
            main_cols.start - cols.stop,
            cols.start - main_cols.stop,
        )
        height, width = rows.stop - rows.start, cols.stop - cols.start
        near_side = (
            cols.stop <= w * EDGE_BAND or cols.start >= w * (1 - EDGE_BAND)
        ) and height > h * EDGE_SPAN
        near_end = (
            rows.stop <= h * EDGE_BAND or rows.start >= h * (1 - EDGE_BAND)
        ) and width > w * EDGE_SPAN
        on_border = rows.start == 0 or cols.start == 0 or rows.stop == h or cols.stop == w
        share = mass[index - 1] / biggest
        stray = share < 0.3 and (on_border or gap > 0.1 * max(h, w))  # a mark off on its own
        if near_side or near_end or stray or share < 0.03:
            keep[box][labels[box] == index] = 0.0
    return keep


def mnist_style(image: np.ndarray) -> np.ndarray:
    """Any drawing or photo of one digit -> (28, 28) uint8 the way MNIST digits were made.

    ink separated from the paper (:func:`ink_map`: dark or light ink, dim photos,
    shadows); cropped to the ink's bounding box; scaled to fit 20x20 keeping the
    aspect ratio; placed in 28x28 so its centre of mass is at the centre.
    Raises DrawingError when there is no ink, or when it is a blot rather than strokes.
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
    fill = float(small.sum()) / 255.0 / 400.0
    if fill > MAX_FILL:
        raise DrawingError(
            f"this looks like a blot, not a digit: ink covers {fill:.0%} of its box (a digit's "
            "strokes cover at most about half). Draw one digit with thin strokes."
        )
    out = np.zeros((28, 28), dtype=np.float32)
    total = small.sum()
    cy = (small.sum(axis=1) @ np.arange(new_h)) / total
    cx = (small.sum(axis=0) @ np.arange(new_w)) / total
    top = int(np.clip(round(14 - cy), 0, 28 - new_h))
    left = int(np.clip(round(14 - cx), 0, 28 - new_w))
    out[top : top + new_h, left : left + new_w] = small
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


MAX_FRAMES = 16  # pages (TIFF) or frames (GIF, APNG, WebP) looked at for the digit
DECODE_MAX = 1024  # every decoded frame is reduced to this longer side before anything else
_EXIF_TURN = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


def _as_gray(img: Image.Image) -> np.ndarray:
    """A decoded (reduced) picture in any Pillow mode -> (h, w) float 0..255.

    Integers above 255 are taken as 16-bit (0..65535); floating point pictures are
    scaled from 0..1 when they stay within it (a float TIFF), else from 0..255. Transparency is
    handled by :func:`to_grayscale` (ink on a see-through page, dark or light).
    """
    if img.mode in (*_SIXTEEN_BIT, "I", "F"):
        a = np.asarray(img, dtype=np.float32)
        finite = a[np.isfinite(a)]
        peak = float(finite.max()) if finite.size else 0.0
        if peak > 255:  # 16-bit (or wider) values: a scanner's 0..65535
            top = 65535.0
        elif img.mode == "F" and peak <= 1.0:
            top = 1.0
        else:
            top = 255.0
        return np.clip(np.nan_to_num(a, nan=0.0) * (255.0 / top), 0, 255).astype(np.float32)
    if img.mode == "L":
        return np.asarray(img, dtype=np.float32)
    # palette, CMYK, YCbCr, LAB, HSV, premultiplied and transparent modes: Pillow's own conversion
    return to_grayscale(np.asarray(img.convert("RGBA")))


def _decode_reduced(img: Image.Image) -> Image.Image:
    """Decode the current frame and shrink it to at most DECODE_MAX on its longer side at once.

    Only Pillow's own buffer of the frame exists at full size (at most 4 bytes a pixel
    under MAX_UPLOAD_PIXELS: 100 MB); every NumPy array is made from the reduced copy.
    A JPEG is even decoded at a reduced scale (``draft``).
    """
    if img.format == "JPEG":
        img.draft(img.mode if img.mode in ("L", "RGB") else None, (DECODE_MAX, DECODE_MAX))
    orientation = img.getexif().get(0x0112, 1) if hasattr(img, "getexif") else 1
    frame = img
    if frame.mode in ("P", "1") or frame.mode in _SIXTEEN_BIT:
        # reduce() cannot average palette indices or 16-bit words: convert first
        frame = frame.convert("RGBA" if frame.mode == "P" else "L" if frame.mode == "1" else "I")
    factor = -(-max(frame.size) // DECODE_MAX)
    if factor > 1:
        frame = frame.reduce(factor)
    elif frame is img:
        frame = img.copy()  # detach from the file, which the caller closes
    if orientation in _EXIF_TURN:  # what a phone's EXIF tag says: turn the picture upright
        frame = frame.transpose(_EXIF_TURN[orientation])
    return frame


def _has_contrast(gray: np.ndarray) -> bool:
    low, high = np.percentile(gray, [0.5, 99.5])
    return high - low >= MIN_CONTRAST


def read_upload(content: bytes, name: str = "upload") -> np.ndarray:
    """Bytes of an image file -> (h, w) float 0..255 grayscale, upright, at most DECODE_MAX a side.

    Sizes are checked from the file's header before anything is decoded: the bytes, the
    pixels of each frame (MAX_UPLOAD_PIXELS) and the frames looked at (MAX_FRAMES). Each
    frame is reduced as soon as it is decoded. A file of several frames or pages (TIFF,
    GIF) gives its first one that is not blank. The EXIF orientation a phone writes is
    applied; 16-bit, float, palette, transparent and CMYK pictures are converted properly.
    Anything that is not a usable image, whatever the decoder raises, becomes a
    DrawingError with a message for the learner.
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
            first = None
            for index in range(min(getattr(img, "n_frames", 1), MAX_FRAMES)):
                if index:
                    img.seek(index)
                if img.width * img.height > MAX_UPLOAD_PIXELS:  # declared in the header
                    raise DrawingError(
                        f"{name} is {img.width} x {img.height} pixels, too large to process "
                        "here; crop or shrink it to a few hundred pixels around the digit."
                    )
                gray = _as_gray(_decode_reduced(img))
                if _has_contrast(gray):
                    return gray
                first = gray if first is None else first
            return first
    except DrawingError:
        raise
    except Image.DecompressionBombError as exc:
        raise DrawingError(f"{name} is too large to process; shrink it first.") from exc
    except Exception as exc:  # UnidentifiedImageError, OSError, SyntaxError, ValueError...
        raise DrawingError(
            f"{name} is not an image this pad can read (PNG, JPEG, GIF, BMP...), or it is "
            "damaged; please choose another picture file."
        ) from exc
