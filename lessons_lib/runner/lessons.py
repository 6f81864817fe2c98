"""Which lessons there are, and their exercises' worked solutions (for ``--solutions``)."""

from __future__ import annotations

import re
from pathlib import Path

from ..params import ParameterError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


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
