"""The interactive parts of lesson 06, under one name for the notebooks and tests.

The explorer lives in :mod:`lessons_lib.explorer`, the drawing pad in
:mod:`lessons_lib.pad`, and reading pictures of digits in :mod:`lessons_lib.images`.
"""

from .explorer import FILTERS, ExplorerError, PredictionExplorer, probability_html
from .images import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_PIXELS,
    DrawingError,
    digit_png,
    ink_map,
    mnist_style,
    read_upload,
    to_grayscale,
)
from .pad import DrawingPad, prediction_message

__all__ = [
    "FILTERS",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_PIXELS",
    "DrawingError",
    "DrawingPad",
    "ExplorerError",
    "PredictionExplorer",
    "digit_png",
    "ink_map",
    "mnist_style",
    "prediction_message",
    "probability_html",
    "read_upload",
    "to_grayscale",
]
