"""Run the lesson series headlessly with papermill: validated parameters, sweeps, a summary.

The command line lives in ``lessons_lib/__main__.py``; this package holds the logic so
the tests can call it directly. One concern per file:

- ``lessons.py``     which lessons there are; reading one safely; their worked solutions
- ``folders.py``     the run folder: the one place a run writes, and the places it never touches
- ``parameters.py``  parameters from the notebooks, ``-p`` and YAML, checked by ``params``
- ``watchdog.py``    a running kernel's peak memory, C++ log and time limit
- ``execute.py``     one notebook through papermill -> an ``Outcome``
- ``reports.py``     the summary table, ``metrics.json``, the sweep's table
- ``series.py``      ``run``: the selected lessons in order
- ``sweeps.py``      ``sweep``: one lesson over a grid of values, in parallel
                     (``run_configuration`` runs one: the seam for another executor)

Everything a caller needs is importable from here: ``from lessons_lib import runner``.
"""

from __future__ import annotations

import os  # noqa: F401  (tests read runner.os.environ)

from ..params import ParameterError
from .execute import DEFAULT_TIME_LIMIT, Outcome, execute, kernel_environment
from .lessons import (
    END,
    NOTEBOOKS,
    ROOT,
    SOLUTION_RE,
    START,
    fill_solutions,
    lesson_notebooks,
    read_notebook,
    select,
)
from .parameters import (
    FAST,
    MAX_PARAMETER_FILE_BYTES,
    Param,
    all_parameters,
    check_jobs,
    check_time_limit,
    command_line,
    load_yaml_params,
    load_yaml_params_text,
    notebook_parameters,
    prepare_run,
    validate,
)
from .reports import (
    SCHEMA_VERSION,
    SWEEP_METRICS,
    headline,
    summary_table,
    sweep_table,
    write_metrics,
)
from .series import DEFAULT_OUT, run
from .sweeps import Configuration, run_configuration, sweep, thread_caps

__all__ = [
    "DEFAULT_OUT",
    "Configuration",
    "check_jobs",
    "check_time_limit",
    "command_line",
    "kernel_environment",
    "read_notebook",
    "run_configuration",
    "thread_caps",
    "DEFAULT_TIME_LIMIT",
    "END",
    "FAST",
    "MAX_PARAMETER_FILE_BYTES",
    "NOTEBOOKS",
    "ROOT",
    "SCHEMA_VERSION",
    "SOLUTION_RE",
    "START",
    "SWEEP_METRICS",
    "Outcome",
    "Param",
    "ParameterError",
    "all_parameters",
    "execute",
    "fill_solutions",
    "headline",
    "lesson_notebooks",
    "load_yaml_params",
    "load_yaml_params_text",
    "notebook_parameters",
    "prepare_run",
    "run",
    "select",
    "summary_table",
    "sweep",
    "sweep_table",
    "validate",
    "write_metrics",
]
