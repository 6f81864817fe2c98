"""What a run or a sweep reports: the summary table, metrics.json, the sweep's table."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from ..evaluation import REFERENCE
from .execute import Outcome
from .folders import fresh

SCHEMA_VERSION = 1


def headline(outcomes: list[Outcome]) -> dict | None:
    """The series' headline figures: the last recorded test accuracy and loss."""
    for outcome in reversed(outcomes):
        if outcome.notebook.startswith("05") and "test_accuracy" in outcome.metrics:
            m = outcome.metrics
            return {
                "test_accuracy": m["test_accuracy"],
                "test_loss": m["test_loss"],
                "data": m.get("data", ""),
                "reference": REFERENCE,
            }
    return None


def summary_table(outcomes: list[Outcome]) -> str:
    lines = [f"{'notebook':34s} {'status':8s} {'minutes':>8s} {'peak memory':>12s}"]
    for o in outcomes:
        lines.append(
            f"{o.notebook:34s} {o.status:8s} {o.seconds / 60:8.2f} {o.peak_rss_mb / 1024:9.2f} GB"
        )
    head = headline(outcomes)
    if head:
        ref = head["reference"]
        lines += [
            "",
            f"test accuracy {_fmt(head['test_accuracy'], '.2%')}, loss "
            f"{_fmt(head['test_loss'], '.4f')}  on {head['data']}",
            f"reference     {ref['test_accuracy']:.2%}, loss {ref['test_loss']:.2f}    on {ref['data']}",
        ]
    return "\n".join(lines)


def _fmt(value: object, spec: str) -> str:
    """A recorded figure as text; a missing or non-numeric one says so instead of crashing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return f"{value!r} (not a number)"


def write_metrics(path: Path, outcomes: list[Outcome], parameters: dict) -> dict:
    payload = {
        "schema": SCHEMA_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": parameters,
        "headline": headline(outcomes),
        "notebooks": {
            o.notebook: {k: v for k, v in asdict(o).items() if k != "notebook"} for o in outcomes
        },
    }
    fresh(path).write_text(json.dumps(payload, indent=2, default=str))
    return payload


SWEEP_METRICS = ["test_accuracy", "test_loss", "val_accuracy", "val_loss", "train_seconds"]


def sweep_table(rows: list[dict], swept: list[str]) -> str:
    metrics = [k for k in SWEEP_METRICS if any(k in r for r in rows)]
    header = swept + metrics + ["status"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = []
        for key in header:
            value = row.get(key)
            if isinstance(value, float) and "accuracy" in key:
                cells.append(f"{value:.2%}")
            elif isinstance(value, float):
                cells.append(f"{value:.4g}")
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
