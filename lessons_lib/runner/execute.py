"""Execute one notebook with papermill and report what happened (never raises for the notebook)."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..metrics import read_recorded
from ..params import ParameterError
from .folders import fresh
from .lessons import fill_solutions, read_notebook
from .parameters import notebook_parameters
from .watchdog import _kernel_stderr_to, _MemorySampler, _Watchdog

DEFAULT_TIME_LIMIT = 3600  # seconds per notebook; a full-MNIST lesson takes a few minutes


@contextlib.contextmanager
def kernel_environment(values: dict[str, str]):
    """Set environment variables for the kernels started inside; restore them afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


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
    ``output`` must not be in the folder of ``book``: the executed copy never replaces a
    source. Its old name is removed before writing, so a link there cannot redirect it.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    if Path(output).resolve().parent == Path(book).resolve().parent:
        raise ValueError(f"{output} is beside its source {book}; write executed copies elsewhere")
    nb = read_notebook(book)
    if solutions:
        fill_solutions(nb)
    own = set(notebook_parameters(book))
    params = {k: v for k, v in parameters.items() if k in own}
    output = fresh(Path(output))
    start = time.perf_counter()
    error = ""
    log_path = fresh(output.with_suffix(".log"))
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
                # nbclient waits only 4 s for a cell's last output by default; a busy machine
                # (or Binder's one core) delays lesson 06's 200 widget updates past that.
                iopub_timeout=120,
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
    try:
        metrics = read_recorded(read_notebook(output)) if output.exists() else {}
    except ParameterError as exc:  # a kernel killed while papermill was writing
        metrics = {}
        error = error or exc.problems[0]
    peak = max(memory.peak_mb, float(metrics.get("peak_rss_mb", 0.0)))
    return Outcome(
        book.stem, status, round(seconds, 1), round(peak, 1), str(output), metrics, error
    )
