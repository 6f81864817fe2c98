"""The runner's parameters: read from each notebook's ``parameters`` cell, from ``-p`` and
from a YAML file, and checked against the one schema in :mod:`lessons_lib.params`."""

from __future__ import annotations

import ast
import io
import math
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from .. import params
from ..params import ParameterError
from .lessons import NOTEBOOKS, ROOT, read_notebook, select

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
    """Parameters from a notebook's ``parameters`` cell: name, default value and comment.

    A notebook that cannot be read, has no ``parameters`` cell or whose cell is not valid
    Python raises ParameterError with one line saying which and what to do.
    """
    nb = read_notebook(path)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    restore = f"restore it with `git checkout -- {path.name}`, or fix it in JupyterLab"
    if not cells:
        raise ParameterError([f"{path.name} has no cell tagged 'parameters'; {restore}"])
    source = cells[0].source
    comments = {}
    try:
        body = ast.parse(source).body
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except (SyntaxError, tokenize.TokenError, ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" at line {line}" if line else ""
        why = getattr(exc, "msg", None) or str(exc).split("\n")[0][:80]
        raise ParameterError(
            [f"{path.name}: its parameters cell is not valid Python{where} ({why}); {restore}"]
        ) from None
    params = {}
    for node in body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name = node.targets[0].id
            try:
                default = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
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


def _text_loader():
    """A safe YAML loader that reads every scalar as the text written, and refuses a name twice.

    YAML 1.1 resolvers read ``017`` as 15 (octal), ``1:30`` as 90 (base 60), ``0x10`` as 16
    and ``no`` as False. With none, a value reaches :mod:`lessons_lib.params` as the same
    text ``-p NAME VALUE`` gives it, and the one schema converts both alike.
    """
    import yaml

    class TextLoader(yaml.SafeLoader):
        pass

    TextLoader.yaml_implicit_resolvers = {}

    def mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise ParameterError([f"parameter names must be text, got {params.short(key)}"])
            if key in result:
                raise ParameterError(
                    [
                        f"{params.short(key)} is given twice (line {key_node.start_mark.line + 1}); keep one"
                    ]
                )
            result[key] = loader.construct_object(value_node, deep=deep)
        return result

    TextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return TextLoader


def load_yaml_params(path: str | os.PathLike) -> dict[str, object]:
    """NAME: VALUE pairs from a YAML file, each value the text written (lists stay lists);
    ParameterError (one line) for anything else."""
    path = Path(path)
    shown = str(path) if len(str(path)) <= 100 else "..." + str(path)[-97:]
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ParameterError([f"parameter file {shown} is a folder; give a .yaml file"])
        if size > MAX_PARAMETER_FILE_BYTES:
            raise ParameterError(
                [
                    f"parameter file {shown} is {size:,} bytes; a parameter file is a few lines "
                    f"(at most {MAX_PARAMETER_FILE_BYTES:,} bytes)"
                ]
            )
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ParameterError([f"parameter file {shown} does not exist"]) from None
    except UnicodeDecodeError as exc:
        raise ParameterError(
            [f"parameter file {shown} is not UTF-8 text (byte {exc.start}); save it as UTF-8"]
        ) from None
    except OSError as exc:
        raise ParameterError([f"parameter file {shown} cannot be read: {exc.strerror}"]) from None
    return load_yaml_params_text(text, shown)


def load_yaml_params_text(text: str, shown: str = "(text)") -> dict[str, object]:
    """NAME: VALUE pairs from YAML text, every scalar as the text written (see _text_loader)."""
    import yaml

    try:
        loaded = yaml.load(text, Loader=_text_loader())  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ParameterError([f"parameter file {shown} is not valid YAML{at}"]) from None
    except RecursionError:
        raise ParameterError([f"parameter file {shown} nests too deeply"]) from None
    except ParameterError as exc:
        raise ParameterError([f"parameter file {shown}: {p}" for p in exc.problems]) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParameterError(
            [f"parameter file {shown} must map names to values (NAME: VALUE per line)"]
        )
    return loaded


def prepare_run(raw: dict, *, only: str | None, fast: bool, folder: Path = NOTEBOOKS):
    """Select notebooks and validate parameters (fast defaults first, then the user's)."""
    books = select(only, folder)
    known = all_parameters(books)
    given = {k: v for k, v in FAST.items() if k in known} if fast else {}
    given.update(raw)
    return books, validate(given, known)


def command_line(pairs: list[tuple[str, str]] | list[list[str]]) -> dict[str, str]:
    """``-p NAME VALUE`` pairs as a dict; a name given twice is refused (which one was meant?)."""
    raw: dict[str, str] = {}
    problems = []
    for name, value in pairs:
        if name in raw and raw[name] != value:
            problems.append(
                f"-p {params.short(name)} is given twice ({params.short(raw[name])} and "
                f"{params.short(value)}); give it once (a sweep takes comma-separated values)"
            )
        raw[name] = value
    if problems:
        raise ParameterError(problems)
    return raw


MAX_TIME_LIMIT = 7 * 24 * 3600  # a week: more is a mistake, not a plan


def check_time_limit(value: object) -> tuple[float | None, str | None]:
    """--time-limit: (seconds, None), (None, None) for "none", or (None, the problem).

    ``None`` (from Python) and the word "none" mean no limit, explicitly; anything else
    must be a finite number of seconds > 0, so that -5, 0 and nan cannot remove it quietly.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None, None
    number = params._number(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        number = math.nan
    if not (math.isfinite(number) and 0 < number <= MAX_TIME_LIMIT):
        return None, (
            f"--time-limit must be a number of seconds above 0 and at most {MAX_TIME_LIMIT:,} "
            f"(a week), or none for no limit; got {params.short(value)}"
        )
    return float(number), None


MAX_JOBS = 64


def check_jobs(value: object) -> tuple[int | None, str | None]:
    """--jobs: (None, None) for the default (the core count), (n, None), or (None, the problem)."""
    if value is None:
        return None, None
    number = params._number(value) if isinstance(value, str) else value
    if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= MAX_JOBS:
        return number, None
    return None, f"--jobs must be a whole number from 1 to {MAX_JOBS}, got {params.short(value)}"
