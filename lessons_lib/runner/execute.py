"""Execute one notebook with papermill and report what happened (never raises for the notebook)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..metrics import read_recorded
from .lessons import fill_solutions
from .parameters import notebook_parameters
from .watchdog import _kernel_stderr_to, _MemorySampler, _Watchdog

DEFAULT_TIME_LIMIT = 3600  # seconds per notebook; a full-MNIST lesson takes a few minutes


@dataclass
class Outcome:
    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    peak_rss_mb: float
    output: str
    metrics: dict
    error: str = ""


def execute(
    book: Path,
    output: Path,
    parameters: dict,
    *,
    solutions: bool = False,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> Outcome:
    """Execute one notebook with papermill; never raises for a failure inside the notebook.

    ``time_limit``: seconds before the kernel is stopped and the notebook counted as failed.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    nb = nbformat.read(book, as_version=4)
    if solutions:
        fill_solutions(nb)
    own = set(notebook_parameters(book))
    params = {k: v for k, v in parameters.items() if k in own}
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    error = ""
    log_path = output.with_suffix(".log")
    with _kernel_stderr_to(log_path), _MemorySampler() as memory, _Watchdog(time_limit) as dog:
        try:
            pm.execute_notebook(
                nb,
                str(output),
                parameters=params,
                cwd=str(book.parent),
                progress_bar=False,
                kernel_name="python3",
                log_output=False,
            )
            status = "ok"
        except PapermillExecutionError as exc:
            status = "failed"
            error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}".strip()
        except Exception as exc:  # kernel died, timeout...
            status = "failed"
            error = f"{type(exc).__name__}: {exc}"
    if dog.fired:
        status = "failed"
        error = (
            f"stopped after {time_limit:g} s, the time limit per notebook "
            "(raise it with --time-limit SECONDS, or use fewer epochs)"
        )
    seconds = time.perf_counter() - start
    metrics = read_recorded(nbformat.read(output, as_version=4)) if output.exists() else {}
    peak = max(memory.peak_mb, float(metrics.get("peak_rss_mb", 0.0)))
    return Outcome(
        book.stem, status, round(seconds, 1), round(peak, 1), str(output), metrics, error
    )
