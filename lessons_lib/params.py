"""The lessons' parameters, declared once: type, allowed range, meaning.

Two callers use the same check:

- the runner (``python -m lessons_lib run/sweep``) validates before any notebook starts;
- every lesson's first code cell after ``parameters`` calls :func:`check_parameters`,
  so papermill used directly (or a learner editing the cell) gets the same one-line
  error before any data is loaded or any model trained.

Paths: a data path (``data_source``, ``fashion_source``) that is relative is looked
up in the working folder and then in the project folder; ``artifacts_dir`` is
always relative to the project folder and may not leave it. A run of the whole
series never writes the learner's own ``<project>/artifacts``: the runner gives
each run its own folder under ``build/``.

This module imports only the standard library, so the check cell is instant.
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import math
import os
from dataclasses import dataclass
from pathlib import Path

DATA_SOURCES = ("auto", "keras", "sample")  # the same names as lessons_lib.data.SOURCES
LEARNER_ARTIFACTS = "artifacts"


class ParameterError(ValueError):
    """One or more parameters are invalid; ``problems`` holds one line each.

    In a notebook, IPython shows only these lines (``_render_traceback_``), not a
    traceback: the learner reads what was wrong and what is allowed.
    """

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)

    def _render_traceback_(self) -> list[str]:
        return [f"ParameterError: {p}" for p in self.problems] + [
            "(change the parameters cell, or the -p values given to papermill; "
            "`python -m lessons_lib params` lists every parameter with its range)"
        ]


@dataclass(frozen=True)
class Spec:
    """One parameter: ``kind`` is "int", "float", "source", "folder" or "fashion"."""

    name: str
    kind: str
    default: object
    help: str
    lessons: tuple[str, ...]
    low: float | None = None
    high: float | None = None
    zero_ok: bool = False  # for ints whose 0 means "all"/"off" below a larger minimum
    why_high: str = ""

    @property
    def type_name(self) -> str:
        return {"int": "int", "float": "float"}.get(self.kind, "str")

    def range_text(self) -> str:
        if self.kind == "int":
            text = f"{self.low:,}..{self.high:,}"
            return f"0 or {text}" if self.zero_ok else text
        if self.kind == "float":
            return f"[{self.low:g}, {self.high:g}]"
        if self.kind == "source":
            return "auto | keras | sample | path"
        if self.kind == "fashion":
            return "auto | skip | folder"
        return "folder in the project"


ALL = ("00", "01", "02", "03", "04", "05", "06", "07", "08")
TRAINED = ("04", "05", "06", "07")
SPECS: dict[str, Spec] = {
    s.name: s
    for s in [
        Spec(
            "data_source",
            "source",
            "auto",
            '"auto", "keras", "sample", or a path to mnist.npz / a folder of IDX files',
            ALL,
        ),
        Spec(
            "seed",
            "int",
            42,
            "random seed: the same seed gives the same results",
            ALL,
            0,
            2**32 - 1,
            why_high="NumPy and TensorFlow take 32-bit seeds",
        ),
        Spec(
            "subset",
            "int",
            0,
            "0 keeps all training images; N > 0 keeps a stratified subset of N for a quick run",
            ALL[1:],
            10,
            1_000_000,
            zero_ok=True,
            why_high="MNIST has 60,000 training images",
        ),
        Spec(
            "experiment_epochs",
            "int",
            3,
            "epochs for each run of the scaling experiment",
            ("02",),
            1,
            50,
            why_high="each of the experiment's runs trains this long",
        ),
        Spec(
            "experiment_size",
            "int",
            10000,
            "training images used by the experiment (0 for all)",
            ("02",),
            100,
            1_000_000,
            zero_ok=True,
            why_high="MNIST has 60,000 training images",
        ),
        Spec(
            "hidden_units",
            "int",
            320,
            "units in each hidden layer",
            ("03", *TRAINED),
            1,
            4096,
            why_high="wider layers will not fit Binder's 2 GB",
        ),
        Spec(
            "hidden_layers",
            "int",
            2,
            "number of hidden layers",
            ("03", *TRAINED),
            1,
            10,
            why_high="deeper dense networks learn nothing more here",
        ),
        Spec(
            "dropout",
            "float",
            0.15,
            "share of hidden units switched off at random while training",
            ("03", *TRAINED),
            0.0,
            0.9,
        ),
        Spec(
            "learning_rate",
            "float",
            0.002,
            "Adam's starting learning rate (it then decays along a cosine)",
            TRAINED,
            1e-6,
            1.0,
        ),
        Spec(
            "epochs",
            "int",
            18,
            "passes over the training images",
            TRAINED,
            1,
            200,
            why_high="more would take hours on a laptop",
        ),
        Spec(
            "batch_size",
            "int",
            384,
            "images per weight update",
            TRAINED,
            1,
            8192,
            why_high="larger batches will not fit Binder's 2 GB",
        ),
        Spec(
            "validation_fraction",
            "float",
            0.1,
            "share of training images held out to watch for overfitting",
            TRAINED,
            0.01,
            0.5,
        ),
        Spec(
            "patience",
            "int",
            4,
            "stop when validation loss has not improved for this many epochs (0 turns it off)",
            TRAINED,
            0,
            50,
        ),
        Spec(
            "shift",
            "int",
            1,
            "pixels a training image may be moved at random (augmentation; 0: off)",
            TRAINED,
            0,
            4,
            why_high="a digit moved further leaves its 28x28 frame",
        ),
        Spec(
            "artifacts_dir",
            "folder",
            "artifacts",
            "folder in the project where the model is saved for lessons 05-07",
            TRAINED,
        ),
        Spec(
            "cnn_epochs",
            "int",
            6,
            "epochs for the convolutional network (each takes 6 to 12 s on one core)",
            ("07",),
            1,
            50,
            why_high="each epoch takes 6 to 12 seconds on one core",
        ),
        Spec(
            "cnn_batch_size",
            "int",
            128,
            "images per update for the convolutional network",
            ("07",),
            1,
            4096,
            why_high="larger batches will not fit Binder's 2 GB",
        ),
        Spec(
            "fashion_source",
            "fashion",
            "auto",
            '"auto" (local copy, else download), a folder of IDX files, or "skip"',
            ("07",),
        ),
        Spec(
            "fashion_size",
            "int",
            10000,
            "Fashion-MNIST training images used (0 for all 60,000)",
            ("07",),
            10,
            60000,
            zero_ok=True,
            why_high="Fashion-MNIST has 60,000 training images",
        ),
        Spec(
            "hand_epochs",
            "int",
            3,
            "passes over the training images for the loop written by hand",
            ("08",),
            1,
            20,
        ),
        Spec(
            "hand_batch_size",
            "int",
            128,
            "images per step of the loop written by hand",
            ("08",),
            1,
            8192,
        ),
        Spec(
            "hand_learning_rate",
            "float",
            0.05,
            "step size of plain gradient descent in the loop written by hand",
            ("08",),
            1e-4,
            100.0,
        ),
        Spec(
            "fashion_epochs",
            "int",
            3,
            "epochs for each Fashion-MNIST model",
            ("07",),
            1,
            50,
        ),
    ]
}


def lesson_parameters(lesson: str) -> list[str]:
    """Names of the parameters lesson ``lesson`` ("04") has, in schema order."""
    return [name for name, spec in SPECS.items() if lesson in spec.lessons]


# --------------------------------------------------------------------------- values


def short(value: object, limit: int = 60) -> str:
    """repr of ``value`` cut to ``limit`` characters; containers only by type and size."""
    if isinstance(value, (list, tuple, dict, set)):
        return f"a {type(value).__name__} of {len(value)} items"
    if not isinstance(value, (str, int, float, bool, type(None))):
        return f"a {type(value).__name__}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**18:
        return f"an integer of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def _number(value: object) -> object:
    """A string that spells a number (papermill -r, YAML quotes, a CLI) becomes that number."""
    if isinstance(value, str) and len(value) < 40:
        text = value.strip()
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                continue
    return value


def project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The folder holding pyproject.toml and lessons_lib/ above ``start`` (default: cwd)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "lessons_lib").is_dir():
            return folder
    return None


def _base() -> Path:
    """Where relative project paths start: the project folder, else the working folder."""
    return project_root() or Path.cwd().resolve()


def resolve_read_path(value: str) -> Path | None:
    """An existing file or folder for ``value``: as given, else under the project; or None."""
    p = Path(value).expanduser()
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, _base() / p]
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    return None


def _check_int(spec: Spec, value: object) -> tuple[object, str | None]:
    value = _number(value)
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return None, f"{spec.name} must be a whole number, got {short(value)} (write {int(value)})"
    if not isinstance(value, int) or isinstance(value, bool):
        return None, f"{spec.name} must be a positive integer, got {short(value)}"
    if spec.zero_ok and value == 0:
        return value, None
    if value < spec.low:
        if spec.low == 1:
            return None, f"{spec.name} must be a positive integer, got {short(value)}"
        if spec.zero_ok:
            return None, (
                f"{spec.name} must be 0 (all) or at least {spec.low:,}, got {short(value)}"
            )
        return None, f"{spec.name} must be a whole number >= {spec.low:,}, got {short(value)}"
    if value > spec.high:
        why = f" ({spec.why_high})" if spec.why_high else ""
        return None, f"{spec.name} must be at most {spec.high:,}{why}, got {short(value)}"
    return value, None


def _check_float(spec: Spec, value: object) -> tuple[object, str | None]:
    value = _number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"{spec.name} must be a number in {spec.range_text()}, got {short(value)}"
    value = float(value)  # Keras wants floats: an integer 1 becomes 1.0
    if not math.isfinite(value):
        return None, (
            f"{spec.name} must be a finite number in {spec.range_text()}, got {value} "
            "(NaN and infinity would train a model that predicts nothing)"
        )
    if spec.name == "learning_rate" and value <= 0:
        return None, f"learning_rate must be a number > 0, got {short(value)}"
    if spec.name == "dropout" and value >= 1:
        return None, (
            f"dropout must be a number from 0 up to (not including) 1, at most 0.9, got {short(value)}"
        )
    if not spec.low <= value <= spec.high:
        return None, f"{spec.name} must be a number in {spec.range_text()}, got {short(value)}"
    return value, None


def _check_source(spec: Spec, value: object) -> tuple[object, str | None]:
    named = DATA_SOURCES if spec.kind == "source" else ("auto", "skip")
    if isinstance(value, str) and value in named:
        return value, None
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return None, f"{spec.name} must be one of {', '.join(named)} or a path, got {short(value)}"
    found = resolve_read_path(value)
    if found is None:
        what = (
            "an mnist.npz file or a folder of IDX files"
            if spec.kind == "source"
            else "a folder of IDX files"
        )
        return None, (
            f"{spec.name} must be one of {', '.join(named)} or an existing path ({what}), "
            f"got {short(value)}"
        )
    if spec.kind == "fashion" and not found.is_dir():
        return (
            None,
            f"fashion_source must be auto, skip or an existing folder of IDX files, got {short(value)}",
        )
    return str(found), None


def resolve_artifacts(value: object) -> tuple[Path | None, str | None]:
    """``artifacts_dir`` as an absolute folder, or the reason it is refused.

    Relative: under the project folder, and it may not climb out of it. Absolute: as
    given (an instructor's explicit choice), but never a file, the filesystem root,
    or the project folder itself.
    """
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return None, (
            f"artifacts_dir must name a folder (default: artifacts), got {short(value)}; "
            "an empty value would write over whatever is in the working folder"
        )
    base = _base()
    p = Path(value).expanduser()
    # The rule is about the path the learner gives: a relative path may not climb out of
    # the project ("../x"). A link that sits inside the project (artifacts -> a shared or
    # larger disk) is the learner's or instructor's own choice, so it is followed.
    given = Path(os.path.normpath(p if p.is_absolute() else base / p))
    if not p.is_absolute() and base not in (given, *given.parents):
        return None, (
            f"artifacts_dir {short(value)} leads outside the project ({base}); "
            "give a folder inside it, e.g. artifacts, or an absolute path"
        )
    refuse_unusable_name(given)
    target = given.resolve()
    if target == base or target == Path(target.anchor):
        return None, f"artifacts_dir must be a folder of its own, not {target}"
    if target.exists() and not target.is_dir():
        return None, f"artifacts_dir {target} is a file; give a folder"
    return target, None


def refuse_unusable_name(path: Path) -> None:
    """Raise ENAMETOOLONG for a name the system could never create, whether or not the
    folders above it exist yet (the system only says so once it reaches that name)."""
    too_long = len(os.fsencode(str(path))) >= 4096 or any(
        len(os.fsencode(part)) > 255 for part in path.parts
    )
    if too_long:
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), str(path)[:80])


def why_not_written(exc: OSError) -> str:
    """A few words for an OSError met while writing: 'the disk is full', 'the folder is read-only'."""
    return {
        errno.ENOSPC: "the disk is full",
        getattr(errno, "EDQUOT", -1): "your disk quota is used up",  # not on Windows
        errno.EROFS: "the folder is on a read-only disk",
        errno.EACCES: "you may not write in that folder",
        errno.EPERM: "you may not write in that folder",
    }.get(exc.errno, exc.strerror or type(exc).__name__)


def mnist_path() -> tuple[Path | None, str | None]:
    """$MNIST_PATH resolved like a data path: (the path or None if unset, the problem or None)."""
    env_path = os.environ.get("MNIST_PATH")
    if not env_path:
        return None, None
    found = resolve_read_path(env_path)
    if found is None:
        return None, (
            f"MNIST_PATH={short(env_path)} does not exist: point it at an mnist.npz or an IDX "
            "folder, or unset it"
        )
    return found, None


def check_value(name: str, value: object) -> tuple[object, str | None]:
    """(the value to use, None) or (None, one line saying what is wrong and what is allowed).

    A path the system cannot even look up (a name over 255 bytes, a path over 4096) is
    refused with the system's reason, not a traceback.
    """
    try:
        return _check_value(name, value)
    except OSError as exc:
        return None, (
            f"{name} {short(value)} cannot be used as a path: {exc.strerror or exc}; "
            "give a shorter path"
        )


def _check_value(name: str, value: object) -> tuple[object, str | None]:
    spec = SPECS.get(name)
    if spec is None:
        return None, unknown(name)
    if spec.kind == "int":
        return _check_int(spec, value)
    if spec.kind == "float":
        return _check_float(spec, value)
    if spec.kind in ("source", "fashion"):
        return _check_source(spec, value)
    target, problem = resolve_artifacts(value)
    return (str(target) if target else None), problem


def unknown(name: object) -> str:
    if not isinstance(name, str):
        return f"parameter names must be text, got {short(name)}"
    close = difflib.get_close_matches(name, SPECS, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"unknown parameter {short(name)}{hint}; `python -m lessons_lib params` lists them"


def validate(raw: dict, names: list[str] | None = None) -> dict[str, object]:
    """Check every value in ``raw``; return them cleaned, or raise ParameterError listing all problems.

    ``names``: the parameters allowed (default: all in the schema).
    """
    allowed = set(SPECS if names is None else names)
    problems, values = [], {}
    for name, given in raw.items():
        if isinstance(name, str) and name in SPECS and name not in allowed:
            problems.append(
                f"{name} is not a parameter of the selected lessons "
                f"(it belongs to {', '.join(SPECS[name].lessons)})"
            )
            continue
        if not isinstance(name, str) or name not in allowed:
            problems.append(unknown(name))
            continue
        value, problem = check_value(name, given)
        if problem:
            problems.append(problem)
        else:
            values[name] = value
    if problems:
        raise ParameterError(problems)
    return values


def check_parameters(namespace: dict, lesson: str) -> None:
    """The check cell of every lesson: validate its parameters in ``namespace`` (``globals()``).

    Cleaned values are written back (an integer learning rate becomes a float, paths
    become absolute). Raises ParameterError, shown as one line per problem, before
    anything is loaded or trained. Returns nothing, so the cell shows nothing when all is well.
    """
    names = lesson_parameters(lesson)
    missing = [n for n in names if n not in namespace]
    if missing:
        raise ParameterError(
            [f"lesson {lesson}: the parameters cell has lost {', '.join(missing)}; restore it"]
        )
    values = validate({n: namespace[n] for n in names}, names)
    _, problem = mnist_path()
    if problem:
        raise ParameterError([problem])
    namespace.update(values)


# --------------------------------------------------------------------------- lesson 04's recipe

TRAINING_SETTINGS = (
    "hidden_units",
    "hidden_layers",
    "dropout",
    "learning_rate",
    "epochs",
    "batch_size",
    "validation_fraction",
    "patience",
    "shift",
    "seed",
    "artifacts_dir",
)

_PY_TYPES = {"int": int, "float": float}
TrainingSettings = dataclasses.make_dataclass(
    "TrainingSettings",
    [
        (n, _PY_TYPES.get(SPECS[n].kind, str), dataclasses.field(default=SPECS[n].default))
        for n in TRAINING_SETTINGS
    ],
    frozen=True,
    namespace={
        "__doc__": "Lesson 04's recipe and where its model is saved, one field per parameter "
        "of the schema (same names, same defaults).",
        "recipe": lambda self: {
            n: getattr(self, n) for n in TRAINING_SETTINGS if n != "artifacts_dir"
        },
    },
)


def training_settings(namespace: dict) -> TrainingSettings:
    """Lesson 04's recipe as one object, from a lesson's parameters (``globals()``), checked.

    A name the lesson does not define keeps the schema's default. Raises ParameterError.
    """
    given = {n: namespace[n] for n in TRAINING_SETTINGS if n in namespace}
    return TrainingSettings(**validate(given, list(TRAINING_SETTINGS)))
