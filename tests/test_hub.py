"""A class on a real JupyterHub on 127.0.0.1: two learners, each in their own home, nothing shared."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

pytestmark = [pytest.mark.notebooks, pytest.mark.realdata]


def test_two_learners_train_and_explore_without_touching_each_other(partial_npz):
    pytest.importorskip("jupyterhub", reason="JupyterHub is in the test extra")
    import hub_load

    proxy = shutil.which("configurable-http-proxy") or (
        ROOT / "build" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
    )
    assert Path(proxy).exists(), (
        "configurable-http-proxy is missing: npm install --prefix build/chp "
        "configurable-http-proxy@5 (.ci/run does this)"
    )
    figures = hub_load.measure(2, str(partial_npz), threads=1, epochs=1)
    assert figures["failures"] == []
    assert figures["isolation_problems"] == []
    assert len(figures["lesson_04_s"]) == 2, "both learners trained in lesson 04"
    assert figures["slider_moves"] >= hub_load.SLIDER_MOVES
    assert figures["slider_moves_while_others_trained"] > 0, "the slider was dragged under load"
    assert all(p and p < 1536 for p in figures["kernel_peak_mb"]), figures["kernel_peak_mb"]
