"""An nbgrader course made from the lessons, for instructors who grade the exercises.

``python -m lessons_lib course FOLDER`` writes ``FOLDER/nbgrader_config.py`` and
``FOLDER/source/<lesson>/<lesson>.ipynb`` for every lesson (``<lesson>`` is the notebook's
name without ``.ipynb``, e.g. ``00_start_here``). In each course notebook:

- an exercise's answer lines become an nbgrader *solution* region (the worked solution,
  which ``nbgrader generate_assignment`` replaces by the learner's blank line again);
- its check becomes an autograded *test* cell worth one point that calls the same
  :mod:`lessons_lib.checks` function as the lesson and prints its message, so the feedback
  names the learner's mistake just as the lesson does;
- the worked-solution blocks are left out (the hints stay).

The lesson notebooks themselves are not changed: self-learners keep theirs.
"""

from __future__ import annotations

import ast
import copy
import os
import re
from pathlib import Path

import nbformat

COURSE_ID = "digit-recognition"
BEGIN, FINISH = "### BEGIN SOLUTION", "### END SOLUTION"
SCHEMA = 3  # nbgrader's cell-metadata schema version (nbgrader 0.9)

CONFIG = """\
# nbgrader configuration for the Digit Recognition course, written by
# `python -m lessons_lib course`. See the README's "For instructors".
c = get_config()  # noqa: F821  (nbgrader provides it)

c.CourseDirectory.course_id = "{course_id}"
# The learner's blank line ("my_accuracy = None  # YOUR CODE HERE") stays above each
# solution region, so the region itself is replaced by nothing.
c.ClearSolutions.code_stub = {{"python": ""}}
# Lessons 04 and 07 train networks: give a notebook time to run when it is autograded.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
"""

PROGRESS_CELL = (
    "# Course setting: the exercise checks record passes in a file beside this notebook,\n"
    "# not in the home folder of whoever runs the autograder.\n"
    "import os\n\n"
    'os.environ.setdefault("LESSONS_PROGRESS", "progress.json")'
)


class CourseError(ValueError):
    """The course cannot be written as asked; the message says why and what to do."""


def _nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": SCHEMA,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = 1
    return meta


def _solution_of(cells: list, index: int, pattern: re.Pattern) -> str:
    following = next((c for c in cells[index + 1 :] if c.cell_type == "markdown"), None)
    match = pattern.search(following.source) if following is not None else None
    if match is None:
        raise CourseError(f"exercise cell {index} has no worked solution after it")
    return match.group(1).strip()


def course_notebook(nb: nbformat.NotebookNode, lesson: str) -> tuple[nbformat.NotebookNode, int]:
    """The nbgrader version of one lesson notebook, and how many graded exercises it has.

    ``nb`` is not changed. ``lesson`` is the two-digit number, used in the grade ids.
    """
    from .runner import END, SOLUTION_RE, START

    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    cells = nb.cells
    keys = _exercise_keys(lesson)
    graded = 0
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and SOLUTION_RE.search(cell.source):
            continue  # the worked solution is what the grader checks against: not in the course
        if cell.cell_type != "code" or START not in cell.source:
            out.cells.append(_copy(cell))
            if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
                out.cells.append(nbformat.v4.new_code_cell(PROGRESS_CELL))
            continue
        if graded >= len(keys):
            raise CourseError(f"lesson {lesson} has more exercise cells than lessons_lib knows")
        key = keys[graded]
        head, rest = cell.source.split(START, 1)
        blank, tail = rest.split(END, 1)
        check = tail.strip()
        try:
            ast.parse(check, mode="eval")
        except SyntaxError as exc:
            raise CourseError(
                f"lesson {lesson}, exercise {key}: the line after {END!r} must be one check call"
            ) from exc
        answer = (
            f"{head}{START}\n{blank.strip()}\n{BEGIN}\n"
            f"{_solution_of(cells, i, SOLUTION_RE)}\n{FINISH}\n{END}"
        )
        solution_cell = nbformat.v4.new_code_cell(answer)
        solution_cell.metadata["nbgrader"] = _nbgrader(f"ex_{lesson}_{key}_answer", solution=True)
        test_cell = nbformat.v4.new_code_cell(
            f"# Graded check ({lesson}.{key}, 1 point): the same check as in the lesson.\n"
            f"_result = {check}\n"
            "print(_result)\n"
            'assert _result.passed, "not yet: the line above says what to change"'
        )
        test_cell.metadata["nbgrader"] = _nbgrader(f"ex_{lesson}_{key}_check", grade=True)
        out.cells.extend([solution_cell, test_cell])
        graded += 1
    if graded != len(keys):
        raise CourseError(
            f"lesson {lesson} has {graded} exercise cells but lessons_lib lists {len(keys)}"
        )
    return out, graded


def _exercise_keys(lesson: str) -> list[str]:
    from .progress import EXERCISES

    if lesson not in EXERCISES:
        raise CourseError(f"no exercises are listed for lesson {lesson!r}")
    return [key for key, _ in EXERCISES[lesson]]


def _copy(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return nbformat.from_dict(copy.deepcopy(dict(cell)))


def write_course(
    folder: str | os.PathLike,
    books: list[Path],
    *,
    parameters: dict | None = None,
    timeout: int = 1800,
    force: bool = False,
) -> list[Path]:
    """Write the nbgrader course for ``books`` into ``folder``; return the notebooks written.

    ``parameters`` (already checked against the schema) are written into each notebook that
    has them, as papermill would inject them. An existing course notebook is only replaced
    with ``force``: an instructor's edits are never overwritten silently.
    """
    root = Path(folder).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise CourseError(f"{root} is a file; give a folder for the course")
    plans = []
    for book in books:
        name = book.stem
        target = root / "source" / name / book.name
        if target.exists() and not force:
            raise CourseError(
                f"{target} already exists; nothing was written. Use --force to replace the "
                "course notebooks (your nbgrader database and submissions are not touched)."
            )
        nb = nbformat.read(book, as_version=4)
        course_nb, _ = course_notebook(nb, name[:2])
        known = _parameters_in(nb)
        wanted = {k: v for k, v in (parameters or {}).items() if k in known}
        if wanted:
            _inject(course_nb, wanted)
        plans.append((target, course_nb))
    for target, course_nb in plans:
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(course_nb)
        nbformat.write(course_nb, target)
    config = root / "nbgrader_config.py"
    if force or not config.exists():
        config.write_text(CONFIG.format(course_id=COURSE_ID, timeout=int(timeout)))
    return [target for target, _ in plans]


def _parameters_in(nb: nbformat.NotebookNode) -> set[str]:
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            return {
                t.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            }
    return set()


def _inject(nb: nbformat.NotebookNode, values: dict) -> None:
    """Add a cell after ``parameters`` that sets ``values``, as papermill does."""
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    lines = ["# Parameters chosen when the course was made (python -m lessons_lib course -p ...)"]
    lines += [f"{name} = {value!r}" for name, value in values.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(at + 1, cell)
