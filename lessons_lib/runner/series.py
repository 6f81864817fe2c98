"""``python -m lessons_lib run``: the selected lessons in order, then a summary."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..params import ParameterError
from . import folders
from .execute import DEFAULT_TIME_LIMIT, execute, kernel_environment
from .lessons import NOTEBOOKS, ROOT
from .parameters import check_time_limit, prepare_run, validate
from .reports import summary_table, write_metrics

DEFAULT_OUT = ROOT / "build" / "run"


def check_artifacts_dir(values: dict, folder: Path) -> str | None:
    """An explicit ``artifacts_dir`` may not be, hold or lie in a protected place."""
    if "artifacts_dir" not in values:
        return None
    target = Path(values["artifacts_dir"])
    problem = folders.conflict(target, folders.protected_places(folder))
    if problem:
        return f"artifacts_dir {target} {problem}; leave it unset (the run uses <out>/artifacts)"
    return None


def run(
    raw: dict,
    *,
    only: str | None = None,
    fast: bool = False,
    solutions: bool = False,
    out: Path = DEFAULT_OUT,
    folder: Path = NOTEBOOKS,
    echo=print,
    time_limit: float | str | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Run the series; print progress and a summary; return the exit code (0, 1, or 2).

    Everything is checked before any notebook starts, and every problem listed at once
    (exit code 2): the parameters, the time limit and the run folder ``out`` (see
    :mod:`.folders`: a run writes only into a folder of its own).
    """
    problems: list[str] = []
    books, values = [], {}
    try:
        books, values = prepare_run(raw, only=only, fast=fast, folder=folder)
    except ParameterError as exc:
        problems += exc.problems
    limit, problem = check_time_limit(time_limit)
    target, out_problem = folders.check_out(out, folder)
    problems += [p for p in (problem, out_problem, check_artifacts_dir(values, folder)) if p]
    if not problems and "artifacts_dir" not in values:  # the run's own model folder
        values.update(
            validate({"artifacts_dir": str(target / "artifacts")}, {"artifacts_dir": None})
        )
    problems += [folders.claim(target, "run")] if not problems else []
    if any(problems):
        for problem in filter(None, problems):
            echo(f"error: {problem}", file=sys.stderr)
        return 2
    echo(
        f"Running {len(books)} notebook(s) into {target / 'notebooks'}"
        + (f" with {', '.join(f'{k}={v}' for k, v in values.items())}" if values else "")
    )
    outcomes = []
    environment = {
        "LESSONS_PROGRESS": str(
            target / folders.PROGRESS
        ),  # this run's passes, never the learner's
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get(
            "TF_CPP_MIN_LOG_LEVEL", "2"
        ),  # C++ chatter stays out
    }
    with kernel_environment(environment):
        for i, book in enumerate(books, 1):
            echo(f"[{i}/{len(books)}] {book.stem}: running", flush=True)
            outcome = execute(
                book,
                target / "notebooks" / book.name,
                values,
                solutions=solutions,
                time_limit=limit,
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
    write_metrics(target / "metrics.json", outcomes, values)
    echo("\n" + summary_table(outcomes))
    echo(f"\nmetrics: {target / 'metrics.json'}")
    return 0 if all(o.status == "ok" for o in outcomes) else 1
