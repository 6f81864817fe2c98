"""make test runs on several pytest-xdist workers: what must stay together does (conftest.py)."""

from __future__ import annotations

import re

from conftest import ROOT, SHARED_UNITS, work_unit


def test_every_lesson_notebook_is_in_one_unit_so_nbval_runs_them_in_order():
    units = {work_unit(f"{p.relative_to(ROOT)}::Cell 0") for p in ROOT.glob("notebooks/*.ipynb")}
    assert units == {"lesson-notebooks"}


def test_every_test_of_the_shared_series_run_is_in_the_fast_run_unit():
    """A test file that starts using the session fixture `fast_run` must join that unit, or a
    second worker would run the whole series again (three minutes of CPU)."""
    users = set()
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        if re.search(r"def test_\w+\([^)]*\bfast_run\b", text) or re.search(
            r"def \w+\(fast_run\b", text
        ):
            users.add(str(path.relative_to(ROOT)))
    assert users, "no test uses fast_run any more: drop it from SHARED_UNITS"
    assert {work_unit(f"{u}::test_x") for u in users} == {"fast-run"}, users
    assert set(SHARED_UNITS) == users, "SHARED_UNITS lists a file that no longer needs fast_run"


def test_other_tests_are_spread_one_by_one():
    a, b = "tests/test_data.py::test_a", "tests/test_data.py::test_b"
    assert work_unit(a) == a and work_unit(b) == b
