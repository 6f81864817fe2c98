"""Run the lesson series headlessly with papermill: validated parameters, sweeps, a summary.

The command line lives in ``__main__.py``; this module holds the logic so the
tests can call it directly.
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
import json
import os
import re
import sys
import threading
import time
import tokenize
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from . import params
from .evaluation import REFERENCE
from .metrics import read_recorded
from .params import ParameterError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SCHEMA_VERSION = 1

# --fast: the offline sample and one epoch everywhere, for a whole-series run in a minute or two.
FAST = {
    "data_source": "sample",
    "epochs": 1,
    "experiment_epochs": 1,
    "experiment_size": 2000,
    "cnn_epochs": 1,
    "fashion_source": "skip",
    "hand_epochs": 1,
}


# --------------------------------------------------------------------------- discovery


def lesson_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered lessons, in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def select(only: str | None, folder: Path = NOTEBOOKS) -> list[Path]:
    """Notebooks whose number is in ``only`` ("04,05"), or all of them."""
    books = lesson_notebooks(folder)
    if only is None:
        return books
    wanted = [w.strip().zfill(2) for w in only.split(",") if w.strip()]
    if not wanted:
        known = ", ".join(b.name[:2] for b in books)
        raise ParameterError(
            [f"--only {only!r} names no lesson; give numbers like 04,05 (lessons: {known})"]
        )
    chosen = [b for b in books if b.name[:2] in wanted]
    missing = sorted(set(wanted) - {b.name[:2] for b in chosen})
    if missing:
        known = ", ".join(b.name[:2] for b in books)
        raise ParameterError(
            [f"--only: no lesson numbered {', '.join(missing)} (lessons: {known})"]
        )
    return chosen


@dataclass
class Param:
    name: str
    default: object
    help: str
    notebooks: list[str] = field(default_factory=list)

    @property
    def type_name(self) -> str:
        return type(self.default).__name__


def notebook_parameters(path: Path) -> dict[str, Param]:
    """Parameters from a notebook's ``parameters`` cell: name, default value and comment."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ValueError(f"{path.name} has no cell tagged 'parameters'")
    source = cells[0].source
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    params = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name = node.targets[0].id
            try:
                default = ast.literal_eval(node.value)
            except ValueError:
                default = ast.get_source_segment(source, node.value)
            lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            comment = next((comments[n] for n in lines if n in comments), "")
            params[name] = Param(name, default, comment, [path.name])
    return params


def all_parameters(books: list[Path]) -> dict[str, Param]:
    merged: dict[str, Param] = {}
    for book in books:
        for name, param in notebook_parameters(book).items():
            if name in merged:
                merged[name].notebooks.append(book.name)
            else:
                merged[name] = param
    return merged


# --------------------------------------------------------------------------- validation


def validate(raw: dict[str, object], known: dict[str, Param]) -> dict[str, object]:
    """Parse and check every parameter against the schema in ``params``.

    ``known`` are the parameters of the selected notebooks; raise ParameterError
    listing all problems at once. Paths come back absolute (the kernels run in notebooks/).
    """
    problems = []
    try:
        values = params.validate(raw, list(known))
    except ParameterError as exc:
        problems, values = exc.problems, {}
    if "artifacts_dir" in values:
        learner = params.project_root(ROOT)
        if learner and Path(values["artifacts_dir"]) == learner / params.LEARNER_ARTIFACTS:
            problems.append(
                f"artifacts_dir {values['artifacts_dir']} is the learner's own model folder; "
                "a run writes to its own (leave artifacts_dir unset: the run uses <out>/artifacts)"
            )
    found, problem = params.mnist_path()
    if problem:
        problems.append(problem)
    if problems:
        raise ParameterError(problems)
    if found is not None:
        os.environ["MNIST_PATH"] = str(found)
    return values


MAX_PARAMETER_FILE_BYTES = 64 * 1024


def load_yaml_params(path: str | os.PathLike) -> dict[str, object]:
    """NAME: VALUE pairs from a YAML file; ParameterError (one line) for anything else."""
    import yaml

    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ParameterError([f"parameter file {path} is a folder; give a .yaml file"])
        if size > MAX_PARAMETER_FILE_BYTES:
            raise ParameterError(
                [
                    f"parameter file {path} is {size:,} bytes; a parameter file is a few lines "
                    f"(at most {MAX_PARAMETER_FILE_BYTES:,} bytes)"
                ]
            )
        text = path.read_bytes().decode("utf-8")
        loaded = yaml.safe_load(text)
    except FileNotFoundError:
        raise ParameterError([f"parameter file {path} does not exist"]) from None
    except UnicodeDecodeError as exc:
        raise ParameterError(
            [f"parameter file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"]
        ) from None
    except OSError as exc:
        raise ParameterError([f"parameter file {path} cannot be read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ParameterError([f"parameter file {path} is not valid YAML{at}"]) from None
    except RecursionError:
        raise ParameterError([f"parameter file {path} nests too deeply"]) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParameterError(
            [f"parameter file {path} must map names to values (NAME: VALUE per line)"]
        )
    return loaded


# --------------------------------------------------------------------------- solutions


SOLUTION_RE = re.compile(r"<summary>Show a worked solution</summary>\s*```python\n(.*?)```", re.S)
START, END = "### START CODE HERE ###", "### END CODE HERE ###"


def fill_solutions(nb) -> int:
    """Put each exercise's worked solution between its START/END markers. Returns how many."""
    filled = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or START not in cell.source:
            continue
        following = next((c for c in nb.cells[i + 1 :] if c.cell_type == "markdown"), None)
        match = SOLUTION_RE.search(following.source) if following is not None else None
        if match is None:
            raise ValueError(f"exercise cell {i} has no worked solution after it")
        head, rest = cell.source.split(START, 1)
        _, tail = rest.split(END, 1)
        cell.source = f"{head}{START}\n{match.group(1).strip()}\n{END}{tail}"
        filled += 1
    return filled


# --------------------------------------------------------------------------- running


class _MemorySampler:
    """Peak resident memory of this process's children (the kernel), sampled every 0.2 s."""

    def __init__(self):
        import psutil

        self._me = psutil.Process()
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            total = 0
            for child in self._me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def _kernel_stderr_to(path: Path):
    """Point file descriptor 2 at ``path`` while a kernel starts, so its C++ logs land there."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


class _Watchdog:
    """Ends the kernel (the child processes started since entering) when a notebook runs
    past ``limit`` seconds."""

    def __init__(self, limit: float | None):
        self.limit = limit
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        if self._stop.wait(self.limit):
            return
        self.fired = True
        for child in psutil.Process().children(recursive=True):
            if child.pid not in self._before:  # only what this notebook started: its kernel
                with contextlib.suppress(psutil.Error):
                    child.kill()

    def __enter__(self):
        import psutil

        self._before = {c.pid for c in psutil.Process().children(recursive=True)}
        if self.limit:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()


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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str))
    return payload


def prepare_run(raw: dict, *, only: str | None, fast: bool, folder: Path = NOTEBOOKS):
    """Select notebooks and validate parameters (fast defaults first, then the user's)."""
    books = select(only, folder)
    known = all_parameters(books)
    given = {k: v for k, v in FAST.items() if k in known} if fast else {}
    given.update(raw)
    return books, validate(given, known)


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


# --------------------------------------------------------------------------- sweeps


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
