"""`cebe-deep figures` redraws every committed sweep figure from its evaluation CSV (the README's main job)."""

import shutil
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "results"


def _run(*args):
    return subprocess.run([sys.executable, "-m", "cebe_deep", *args], capture_output=True, text=True)


def test_figures_redraws_each_task_folder(tmp_path):
    source = RESULTS / "quick" / "SimpleDirection" / "evaluation.csv"
    (tmp_path / "SimpleDirection").mkdir()
    shutil.copy(source, tmp_path / "SimpleDirection" / "evaluation.csv")
    result = _run("figures", "--results", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "SimpleDirection" / "sweep.png").stat().st_size > 10_000


def test_figures_without_results_is_a_one_line_error(tmp_path):
    result = _run("figures", "--results", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no */evaluation.csv" in result.stderr
