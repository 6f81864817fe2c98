"""Which lessons there are, reading one safely, and their exercises' worked solutions."""

from __future__ import annotations

import re
import stat
import warnings
from pathlib import Path

import nbformat

from ..params import ParameterError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def lesson_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered lessons, in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


MAX_NOTEBOOK_BYTES = 256 * 2**20  # an executed lesson with its figures is a few MB


def read_notebook(path: Path, fix: str = "restore it with `git checkout -- <file>`"):
    """The notebook at ``path``, or ParameterError with one line naming it, the fault and ``fix``.

    Refused: anything but a regular file (a folder, a pipe), more than 256 MB, bytes that
    are not UTF-8 JSON (a file cut short), and JSON that is not a valid notebook.
    """
    path = Path(path)
    shown = str(path) if len(str(path)) <= 120 else "..." + str(path)[-117:]

    def refuse(why: str):
        return ParameterError([f"{shown} is not a readable notebook: {why}; {fix}"])

    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise refuse("it is not a file")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise refuse(f"{info.st_size:,} bytes, more than {MAX_NOTEBOOK_BYTES:,}")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise refuse(exc.strerror or type(exc).__name__) from None
    except UnicodeDecodeError as exc:
        raise refuse(f"byte {exc.start} is not UTF-8 text") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except RecursionError:
        raise refuse("it nests too deeply") from None
    except Exception as exc:  # NotJSONError, ValidationError, a KeyError on a foreign shape...
        first = str(exc).strip().splitlines()[0][:100] if str(exc).strip() else ""
        why = "cut short or not JSON" if "JSON" in type(exc).__name__ + first else first
        raise refuse(why or type(exc).__name__) from None
    return nb


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
