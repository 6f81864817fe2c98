"""Which exercises exist, and the progress file that records each one a learner has passed.

Lesson 00 summarises it; every check in :mod:`lessons_lib.checks` records into it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# lesson -> [(exercise key, short title)], in the order the lessons present them.
EXERCISES: dict[str, list[tuple[str, str]]] = {
    "00": [("pixels", "pixels in one image"), ("classes", "number of classes")],
    "01": [("count", "count the training images"), ("most_common", "the most common digit")],
    "02": [("flatten", "flatten to (n, 784)"), ("normalize", "normalize to [-1, 1]")],
    "03": [
        ("params", "parameters of a dense layer"),
        ("model", "build a small network"),
        ("initial_loss", "the loss before training"),
    ],
    "04": [("compile", "compile with the right loss"), ("best_epoch", "find the best epoch")],
    "05": [("accuracy", "accuracy from predictions"), ("confusion", "read the confusion matrix")],
    "06": [
        ("predicted_labels", "labels from probabilities"),
        ("least_confident", "the least confident digit"),
    ],
    "07": [
        ("conv_output", "size after a convolution"),
        ("conv_params", "parameters of a convolution"),
    ],
    "08": [
        ("batch_loss", "the loss of one batch by hand"),
        ("bias_gradient", "a gradient by hand"),
        ("sgd_step", "one gradient-descent step"),
    ],
}

LESSON_TITLES = {
    "00": "Start here",
    "01": "Loading the data",
    "02": "Flatten and normalize",
    "03": "Building the model",
    "04": "Training",
    "05": "Evaluating",
    "06": "Visualizing predictions",
    "07": "Going further",
    "08": "What fit does",
}


def progress_path() -> Path:
    """$LESSONS_PROGRESS, else <project>/artifacts/progress.json, else ~/.digit-lessons-progress.json."""
    if os.environ.get("LESSONS_PROGRESS"):
        return Path(os.environ["LESSONS_PROGRESS"])
    from .params import project_root

    root = project_root()
    if root is not None:
        return root / "artifacts" / "progress.json"
    return Path.home() / ".digit-lessons-progress.json"


def load_progress() -> dict[str, bool]:
    """{"02.flatten": True, ...} for every exercise attempted so far."""
    path = progress_path()
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {k: bool(v) for k, v in data.items()} if isinstance(data, dict) else {}


def record(exercise: str, passed: bool) -> None:
    path = progress_path()
    progress = load_progress()
    progress[exercise] = progress.get(exercise, False) or passed  # a pass stays a pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(progress, indent=1, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass  # a read-only folder must not break the lesson


def progress_table() -> str:
    """Markdown table: each lesson's exercises passed out of its total."""
    progress = load_progress()
    lines = ["| lesson | exercises passed |", "|---|---|"]
    done = total = 0
    for lesson, items in EXERCISES.items():
        passed = sum(progress.get(f"{lesson}.{key}", False) for key, _ in items)
        done += passed
        total += len(items)
        ticks = " ".join("✓" if progress.get(f"{lesson}.{k}") else "○" for k, _ in items)
        lines.append(f"| {lesson} {LESSON_TITLES[lesson]} | {passed} / {len(items)} {ticks} |")
    lines.append(f"| **all lessons** | **{done} / {total}** |")
    return "\n".join(lines)
