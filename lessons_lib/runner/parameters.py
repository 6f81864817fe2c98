"""The runner's parameters: read from each notebook's ``parameters`` cell, from ``-p`` and
from a YAML file, and checked against the one schema in :mod:`lessons_lib.params`."""

from __future__ import annotations

import ast
import io
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import params
from ..params import ParameterError
from .lessons import NOTEBOOKS, ROOT, select

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


def prepare_run(raw: dict, *, only: str | None, fast: bool, folder: Path = NOTEBOOKS):
    """Select notebooks and validate parameters (fast defaults first, then the user's)."""
    books = select(only, folder)
    known = all_parameters(books)
    given = {k: v for k, v in FAST.items() if k in known} if fast else {}
    given.update(raw)
    return books, validate(given, known)
