"""``python -m lessons_lib sweep``: one lesson for every combination of values, in parallel."""

from __future__ import annotations

import itertools
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..params import ParameterError
from .execute import execute
from .lessons import NOTEBOOKS, ROOT, select
from .parameters import FAST, notebook_parameters, validate
from .reports import SWEEP_METRICS, sweep_table


def _sweep_one(args):
    book, output, params = args
    return execute(Path(book), Path(output), params)


def sweep(
    lesson: str,
    raw: dict[str, str],
    *,
    fast: bool = False,
    jobs: int | None = None,
    out: Path = ROOT / "build" / "sweep",
    folder: Path = NOTEBOOKS,
    echo=print,
) -> int:
    """Run one lesson for every combination of comma-separated values, in parallel processes."""
    try:
        books = select(lesson, folder)
        if len(books) != 1:
            raise ParameterError([f"a sweep runs one lesson, got {lesson!r}"])
        book = books[0]
        known = notebook_parameters(book)
        grid_raw = {
            k: [v.strip() for v in str(v).split(",")] if isinstance(v, str) else [v]
            for k, v in raw.items()
        }
        base = {k: v for k, v in FAST.items() if k in known} if fast else {}
        combos = []
        problems = []
        for values in itertools.product(*grid_raw.values()):
            config = dict(zip(grid_raw, values, strict=True))
            try:
                combos.append(validate({**base, **config}, known))
            except ParameterError as exc:
                problems += [p for p in exc.problems if p not in problems]
        if problems:
            raise ParameterError(problems)
    except ParameterError as exc:
        for problem in exc.problems:
            echo(f"error: {problem}", file=sys.stderr)
        return 2
    out = Path(out).resolve()
    os.environ["LESSONS_PROGRESS"] = str(out / "progress.json")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    swept = list(grid_raw)
    tasks = []
    for k, combo in enumerate(combos):
        tag = "-".join(f"{name}={combo[name]}" for name in swept) or "default"
        combo.setdefault("artifacts_dir", str(out / f"artifacts-{k}"))
        tasks.append((str(book), str(out / f"{book.stem}-{tag}.ipynb"), combo))
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    echo(f"Sweeping {book.name}: {len(tasks)} configuration(s), {workers} in parallel")
    with ProcessPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(_sweep_one, tasks))
    rows = []
    for (_, _, combo), outcome in zip(tasks, outcomes, strict=True):
        row = {name: combo[name] for name in swept}
        row.update({k: outcome.metrics.get(k) for k in SWEEP_METRICS if k in outcome.metrics})
        row.update(status=outcome.status, seconds=outcome.seconds, output=outcome.output)
        rows.append(row)
    table = sweep_table(rows, swept)
    echo("\n" + table)
    (out / "sweep.md").write_text(table + "\n")
    (out / "sweep.json").write_text(json.dumps(rows, indent=2, default=str))
    from .plots import sweep_plot

    fig = sweep_plot(rows, swept, [k for k in SWEEP_METRICS if any(k in r for r in rows)])
    fig.savefig(out / "sweep.png", dpi=100)
    echo(f"\ntable: {out / 'sweep.md'}\nplot:  {out / 'sweep.png'}")
    return 0 if all(o.status == "ok" for o in outcomes) else 1
