"""``python -m lessons_lib sweep``: one lesson for every combination of values, in parallel.

The seam: :class:`Configuration` (picklable: plain paths, values and environment) and
:func:`run_configuration`, which runs exactly one. The local pool maps the second over
the first; another executor (a Dask cluster) can submit the same function.

Where the configurations run: ``--scheduler ADDRESS`` submits each as a task to an existing
Dask cluster (a local one, Slurm through dask-jobqueue, Kubernetes through dask-kubernetes);
without it, an embedded Dask ``LocalCluster`` with one single-threaded worker per parallel
kernel. A worker that dies mid-task has its task run again elsewhere by the scheduler, and each
configuration's result is gathered exactly once. Without the ``dask``/``distributed``
packages (``pip install 'lessons_lib[cluster]'``), a local process pool does the same work.

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


class SchedulerError(RuntimeError):
    """The Dask scheduler given with --scheduler cannot be used; the message says why."""


def _outcomes(
    tasks: list[Configuration], workers: int, scheduler: str | None, pool: bool = False
) -> list:
    """Run every configuration and return their Outcomes, in order (``pool``: a plain local
    process pool instead of Dask, as before Dask; the benchmark compares the two)."""
    try:
        if pool:
            raise ImportError
        from distributed import Client, LocalCluster
    except ImportError:
        if scheduler:
            raise SchedulerError(
                "--scheduler needs the dask and distributed packages: "
                "pip install 'lessons_lib[cluster]'"
            ) from None
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(run_configuration, tasks))
    import dask

    keys = [f"lesson-sweep-{k}-{Path(t.output).stem}" for k, t in enumerate(tasks)]
    saved = dict(os.environ)  # a LocalCluster sets OMP_NUM_THREADS=1 and more in this process
    with dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise SchedulerError(
                    f"could not reach the Dask scheduler at {scheduler} ({exc}); start one "
                    "(dask scheduler) or leave --scheduler out to run here"
                ) from None
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,  # one kernel per worker: the thread caps stay honest
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
        try:
            futures = client.map(run_configuration, tasks, key=keys, pure=False)
            return client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            _restore_environment(saved)


def _restore_environment(saved: dict[str, str]) -> None:
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


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
    scheduler: str | None = None,
    pool: bool = False,
    time_limit: float | str | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Run one lesson for every combination of comma-separated values, in parallel: on the
    Dask cluster at ``scheduler``, else on this machine."""
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
    where = (
        f"the Dask cluster at {scheduler}"
        if scheduler
        else "a local process pool"
        if pool
        else "this machine"
    )
    echo(f"Running on {where}.")
    try:
        outcomes = _outcomes(tasks, workers, scheduler, pool)
    except SchedulerError as exc:
        echo(f"error: {exc}", file=sys.stderr)
        return 2
    rows = []
    threads = {"parallel_kernels": workers, "cores": usable_cores(), "where": where, **caps}
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
