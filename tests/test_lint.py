"""The code passes ruff's checks ([tool.ruff] in pyproject.toml: pycodestyle, pyflakes, import order, bugbear; lines
of at most 127 characters), so CI fails on a lint error as on a failing test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_is_clean():
    pytest.importorskip("ruff", reason="ruff is in the dev extra, which the README's test command installs")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
