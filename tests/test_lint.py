"""ruff keeps code and notebooks formatted and lint-free (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def _ruff(*args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, str(ROOT)], capture_output=True, text=True, cwd=ROOT
    )


def test_ruff_check_passes():
    result = _ruff("check", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = _ruff("format", "--check", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
