"""``python -m lessons_lib sweep``: one lesson for every combination of values, in parallel.

The seam: :class:`Configuration` (picklable: plain paths, values and environment) and
:func:`run_configuration`, which runs exactly one. The local pool maps the second over
the first; another executor (a Dask cluster) can submit the same function.

Thread caps: each kernel gets ``cores // workers`` TensorFlow threads (intra-op and
inter-op, and OpenMP), so parallel kernels share the cores instead of each starting a
thread per core and timing one another's contention. The caps go into every row of
``sweep.json`` and under the table in ``sweep.md``.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..params import ParameterError
from . import folders
from .execute import DEFAULT_TIME_LIMIT, Outcome, execute, kernel_environment
from .lessons import NOTEBOOKS, ROOT, select
from .parameters import FAST, check_jobs, check_time_limit, notebook_parameters, validate
from .reports import SWEEP_METRICS, sweep_table

THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


@dataclass(frozen=True)
class Configuration:
    """One run of a sweep: the notebook, where its executed copy goes, its values, its kernel's
    environment (progress file, thread caps)."""

    book: str
    output: str
    parameters: dict
    environment: dict[str, str] = field(default_factory=dict)
    time_limit: float | None = DEFAULT_TIME_LIMIT


def run_configuration(config: Configuration) -> Outcome:
    """Run one configuration (in whatever process calls it); never raises for the notebook."""
    with kernel_environment(config.environment):
        return execute(
            Path(config.book), Path(config.output), config.parameters, time_limit=config.time_limit
        )


def usable_cores() -> int:
    """Cores this process may run on (respects taskset and cgroup CPU sets on Linux)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def thread_caps(workers: int, cores: int | None = None) -> dict[str, str]:
    """The thread environment for each of ``workers`` parallel kernels on ``cores`` cores.

    A cap the user set already (``TF_NUM_INTRAOP_THREADS=1 python -m lessons_lib sweep``)
    is kept as given.
    """
    share = max(1, (cores or usable_cores()) // max(1, workers))
    return {name: os.environ.get(name, str(share)) for name in THREAD_VARIABLES}


def sweep(
    lesson: str,
    raw: dict[str, str],
    *,
    fast: bool = False,
    jobs: int | str | None = None,
    out: Path = ROOT / "build" / "sweep",
    folder: Path = NOTEBOOKS,
    echo=print,
    time_limit: float | str | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Run one lesson for every combination of comma-separated values, in parallel processes."""
    problems: list[str] = []
    combos, grid_raw, book = [], {}, None
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
        for values in itertools.product(*grid_raw.values()):
            config = dict(zip(grid_raw, values, strict=True))
            try:
                combos.append(validate({**base, **config}, known))
            except ParameterError as exc:
                problems += [p for p in exc.problems if p not in problems]
    except ParameterError as exc:
        problems += exc.problems
    jobs, problem = check_jobs(jobs)
    limit, limit_problem = check_time_limit(time_limit)
    target, out_problem = folders.check_out(out, folder, example="build/sweep-2")
    problems += [p for p in (problem, limit_problem, out_problem) if p]
    if not problems:
        explicit = [c for c in combos if "artifacts_dir" in c]
        found = (
            folders.conflict(Path(explicit[0]["artifacts_dir"]), folders.protected_places(folder))
            if explicit
            else None
        )
        if found:
            problems.append(f"artifacts_dir {explicit[0]['artifacts_dir']} {found}; leave it unset")
    if not problems:
        problems += [p for p in [folders.claim(target, "sweep")] if p]
    if problems:
        for problem in problems:
            echo(f"error: {problem}", file=sys.stderr)
        return 2
    swept = list(grid_raw)
    workers = max(1, min(jobs or usable_cores(), len(combos)))
    caps = thread_caps(workers)
    environment = {
        "LESSONS_PROGRESS": str(target / folders.PROGRESS),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        **caps,
    }
    tasks = []
    for k, combo in enumerate(combos):
        tag = "-".join(f"{name}={combo[name]}" for name in swept) or "default"
        combo.setdefault("artifacts_dir", str(target / f"artifacts-{k}"))
        output = target / f"{book.stem}-{tag}.ipynb"
        tasks.append(Configuration(str(book), str(output), combo, environment, limit))
    caps_text = ", ".join(f"{name}={value}" for name, value in caps.items())
    echo(
        f"Sweeping {book.name}: {len(tasks)} configuration(s), {workers} in parallel on "
        f"{usable_cores()} core(s); each kernel: {caps_text}"
    )
    with ProcessPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(run_configuration, tasks))
    rows = []
    threads = {"parallel_kernels": workers, "cores": usable_cores(), **caps}
    for task, outcome in zip(tasks, outcomes, strict=True):
        row = {name: task.parameters[name] for name in swept}
        row.update({k: outcome.metrics.get(k) for k in SWEEP_METRICS if k in outcome.metrics})
        row.update(status=outcome.status, seconds=outcome.seconds, output=outcome.output)
        row["threads"] = threads
        rows.append(row)
    table = sweep_table(rows, swept)
    note = f"{workers} kernel(s) in parallel on {usable_cores()} core(s); each kernel: {caps_text}"
    echo("\n" + table + "\n" + note)
    folders.fresh(target / "sweep.md").write_text(table + "\n\n" + note + "\n")
    folders.fresh(target / "sweep.json").write_text(json.dumps(rows, indent=2, default=str))
    from ..plots import sweep_plot

    fig = sweep_plot(rows, swept, [k for k in SWEEP_METRICS if any(k in r for r in rows)])
    fig.savefig(folders.fresh(target / "sweep.png"), dpi=100)
    echo(f"\ntable: {target / 'sweep.md'}\nplot:  {target / 'sweep.png'}")
    return 0 if all(o.status == "ok" for o in outcomes) else 1
