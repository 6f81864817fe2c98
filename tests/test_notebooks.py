"""The committed notebooks: no outputs, a parameters cell, the lesson structure, exercises with solutions."""

from __future__ import annotations

import re

import nbformat
import pytest

from lessons_lib import checks, runner

BOOKS = runner.lesson_notebooks()


def test_all_lessons_are_there():
    assert [b.name[:2] for b in BOOKS] == ["00", "01", "02", "03", "04", "05", "06", "07", "08"]
    assert set(checks.EXERCISES) == {b.name[:2] for b in BOOKS}


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.stem)
def test_committed_without_outputs_and_with_parameters(book):
    nb = nbformat.read(book, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{book.name} has stored output"
            )
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = runner.notebook_parameters(book)
    assert {"data_source", "seed"} <= set(params)
    if book.name[:2] != "00":
        assert "subset" in params
    if book.name[:2] in ("04", "05", "06"):
        assert "epochs" in params


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.stem)
def test_lesson_structure(book):
    nb = nbformat.read(book, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].source.startswith(f"# {book.name[:2]} · ")
    for required in ("**You will learn**", "**Time:**", "**Memory:**", "## Recap quiz", "## Recap"):
        assert required in text, f"{book.name} lacks {required}"
    exercises = [c for c in nb.cells if c.cell_type == "code" and runner.START in c.source]
    assert len(exercises) >= 2
    assert len(exercises) == len(checks.EXERCISES[book.name[:2]])
    for cell in exercises:
        assert "# YOUR CODE HERE" in cell.source and runner.END in cell.source
        assert re.search(r"checks\.check_\w+\(", cell.source.split(runner.END)[1])
    assert text.count("<summary>Hint</summary>") == len(exercises)
    assert len(runner.SOLUTION_RE.findall(text)) == len(exercises)
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert last.source.startswith("record("), "each lesson ends by recording its figures"
