"""Instant feedback for the exercises.

Every ``check_*`` function looks at a learner's answer, returns a :class:`CheckResult` (shown
as one line under the cell) and records the outcome in the progress file that lesson 00
summarises. They work offline and never raise.

The rules they share (how numbers are shown, when a misconception may be named, what a blank
answer gets, which types are refused) live once in :mod:`.core`; each lesson's checks sit in
their own module beside it (``lesson00`` ... ``lesson08``) and only list their exercise's hint,
right answer and common slips.
"""

from __future__ import annotations

from ..progress import EXERCISES, LESSON_TITLES, load_progress, progress_path, progress_table
from .core import ALL, CheckResult, describe, number
from .lesson00 import check_num_classes, check_pixels_per_image
from .lesson01 import check_most_common_digit, check_train_count
from .lesson02 import check_flatten, check_normalize
from .lesson03 import check_dense_params, check_initial_loss, check_model
from .lesson04 import check_best_epoch, check_compiled
from .lesson05 import check_accuracy, check_confusion_count
from .lesson06 import check_least_confident, check_predicted_labels
from .lesson07 import check_conv_output, check_conv_params
from .lesson08 import check_batch_loss, check_bias_gradient, check_sgd_step, compare_with_tape

__all__ = [
    "ALL",
    "EXERCISES",
    "LESSON_TITLES",
    "CheckResult",
    "check_accuracy",
    "check_batch_loss",
    "check_best_epoch",
    "check_bias_gradient",
    "check_compiled",
    "check_confusion_count",
    "check_conv_output",
    "check_conv_params",
    "check_dense_params",
    "check_flatten",
    "check_initial_loss",
    "check_least_confident",
    "check_model",
    "check_most_common_digit",
    "check_normalize",
    "check_num_classes",
    "check_pixels_per_image",
    "check_predicted_labels",
    "check_sgd_step",
    "check_train_count",
    "compare_with_tape",
    "describe",
    "load_progress",
    "number",
    "progress_path",
    "progress_table",
]
