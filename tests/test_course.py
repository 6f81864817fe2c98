"""The nbgrader course: every lesson converts, and a whole grading round trip gives 0, partial, full."""

from __future__ import annotations

import copy
import csv
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lessons_lib import checks, course, runner
from lessons_lib.__main__ import main

BOOKS = runner.lesson_notebooks()


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.stem)
def test_every_exercise_becomes_a_solution_region_and_a_one_point_check(book):
    lesson = book.name[:2]
    nb = nbformat.read(book, as_version=4)
    before = copy.deepcopy(nb)
    out, graded = course.course_notebook(nb, lesson)
    assert nb == before, "the lesson notebook itself must not change"
    nbformat.validate(out)
    keys = [key for key, _ in checks.EXERCISES[lesson]]
    assert graded == len(keys)
    meta = [c.metadata["nbgrader"] for c in out.cells if "nbgrader" in c.metadata]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids)) == 2 * len(keys)
    answers = [c for c in out.cells if c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in out.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata.nbgrader.points for c in tests] == [1] * len(keys)
    for key, answer, test in zip(keys, answers, tests, strict=True):
        assert f"_{key}_" in answer.metadata.nbgrader.grade_id
        assert course.BEGIN in answer.source and course.FINISH in answer.source
        assert "# YOUR CODE HERE" in answer.source.split(course.BEGIN)[0]
        assert (
            re.search(r"checks\.check_\w+\(", test.source)
            and "assert _result.passed" in test.source
        )
    text = "\n".join(c.source for c in out.cells if c.cell_type == "markdown")
    assert not runner.SOLUTION_RE.search(text), "worked solutions are not handed out"
    assert "Hint" in text


def test_the_command_writes_a_course_and_refuses_to_overwrite_it(tmp_path, capsys):
    folder = tmp_path / "course"
    assert main(["course", str(folder), "--only", "00,05", "-p", "data_source", "sample"]) == 0
    assert (folder / "nbgrader_config.py").is_file()
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.ipynb"))
    assert written == [
        "source/00_start_here/00_start_here.ipynb",
        "source/05_evaluating/05_evaluating.ipynb",
    ]
    nb = nbformat.read(folder / written[1], as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "data_source = 'sample'" in injected[0].source
    mtime = (folder / written[0]).stat().st_mtime_ns
    assert main(["course", str(folder), "--only", "00"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (folder / written[0]).stat().st_mtime_ns == mtime
    assert main(["course", str(tmp_path / "c2"), "-p", "epochs", "-3"]) == 2
    assert "epochs must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "c2" / "source").exists(), "a bad parameter writes nothing"


def _nbgrader(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done


@pytest.mark.notebooks
def test_nbgrader_round_trip_grades_blank_wrong_and_right(tmp_path):
    """generate_assignment, three submissions, autograde, feedback and export, with nbgrader itself."""
    pytest.importorskip(
        "nbgrader", reason="nbgrader is in the test extra: pip install -e '.[test]'"
    )
    folder = tmp_path / "course"
    assert main(["course", str(folder), "--only", "00"]) == 0
    name = "00_start_here"
    _nbgrader(folder, "generate_assignment", name)
    released = json.loads((folder / "release" / name / f"{name}.ipynb").read_text())
    assert "28 * 28" not in json.dumps(released), "the release must not hold the solution"

    def submit(student: str, answers: dict[str, str]) -> None:
        nb = copy.deepcopy(released)
        for cell in nb["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
            for key, line in answers.items():
                if grade_id == f"ex_00_{key}_answer":
                    source = "".join(cell["source"])
                    variable = line.split(" = ")[0]
                    assert f"{variable} = None  # YOUR CODE HERE" in source
                    cell["source"] = source.replace(f"{variable} = None  # YOUR CODE HERE", line)
        target = folder / "submitted" / student / name
        target.mkdir(parents=True)
        (target / f"{name}.ipynb").write_text(json.dumps(nb))

    wrong = "pixels_per_image = 28 + 28"
    submit("blank", {})
    submit("wrong", {"pixels": wrong, "classes": "num_classes = 10"})
    submit("right", {"pixels": "pixels_per_image = 28 * 28", "classes": "num_classes = 10"})
    _nbgrader(folder, "autograde", name)
    _nbgrader(folder, "generate_feedback", name)
    _nbgrader(folder, "export")
    with open(folder / "grades.csv") as fh:
        scores = {
            row["student_id"]: (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(fh)
        }
    assert scores == {"blank": (0.0, 2.0), "wrong": (1.0, 2.0), "right": (2.0, 2.0)}

    feedback = (folder / "feedback" / "wrong" / name / f"{name}.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", feedback))
    named = checks.check_pixels_per_image(
        28 + 28
    ).message  # what the lesson itself tells the learner
    assert named and named in text, "the feedback must name the learner's mistake"
