"""``python -m lessons_lib run``: the selected lessons in order, then a summary."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..params import ParameterError
from .execute import DEFAULT_TIME_LIMIT, execute
from .lessons import NOTEBOOKS, ROOT
from .parameters import prepare_run, validate
from .reports import summary_table, write_metrics


def run(
    raw: dict,
    *,
    only: str | None = None,
    fast: bool = False,
    solutions: bool = False,
    out: Path = ROOT / "build",
    folder: Path = NOTEBOOKS,
    echo=print,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Run the series; print progress and a summary; return the exit code (0, 1, or 2)."""
    out = Path(out).resolve()
    try:
        books, values = prepare_run(raw, only=only, fast=fast, folder=folder)
        if "artifacts_dir" not in values:  # keep the learner's own model apart
            values.update(
                validate({"artifacts_dir": str(out / "artifacts")}, {"artifacts_dir": None})
            )
    except ParameterError as exc:
        for problem in exc.problems:
            echo(f"error: {problem}", file=sys.stderr)
        return 2
    os.environ["LESSONS_PROGRESS"] = str(out / "progress.json")  # and the learner's progress too
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ chatter stays out
    echo(
        f"Running {len(books)} notebook(s) into {out / 'notebooks'}"
        + (f" with {', '.join(f'{k}={v}' for k, v in values.items())}" if values else "")
    )
    outcomes = []
    for i, book in enumerate(books, 1):
        echo(f"[{i}/{len(books)}] {book.stem}: running", flush=True)
        outcome = execute(
            book, out / "notebooks" / book.name, values, solutions=solutions, time_limit=time_limit
        )
        outcomes.append(outcome)
        echo(
            f"[{i}/{len(books)}] {book.stem}: {outcome.status} in {outcome.seconds:.1f} s, "
            f"peak {outcome.peak_rss_mb / 1024:.2f} GB",
            flush=True,
        )
        if outcome.status != "ok":
            echo(
                f"    {outcome.error[:500]}\n    executed notebook: {outcome.output}"
                f"\n    kernel log: {Path(outcome.output).with_suffix('.log')}"
            )
    write_metrics(out / "metrics.json", outcomes, values)
    echo("\n" + summary_table(outcomes))
    echo(f"\nmetrics: {out / 'metrics.json'}")
    return 0 if all(o.status == "ok" for o in outcomes) else 1
