"""The cebe-theory command line, run as a user would (a subprocess)."""

import json
import subprocess
import sys

import pytest


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cebe_theory", *args], capture_output=True, text=True, cwd=cwd)


def test_error_sweep_json_has_dc_error_and_slope():
    result = _run("error-sweep", "--family", "power", "--log-range", "-8", "-1", "--num", "20", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["dc"]) == len(data["sup_error"]) == 20
    assert 1.95 <= data["fitted_slope"] <= 2.05


def test_error_sweep_windy_optimal_with_explicit_dc(tmp_path):
    csv = tmp_path / "sweep.csv"
    result = _run("error-sweep", "--cmdp", "windy", "--family", "constant", "--policy", "optimal", "--variant", "renormalize",
                  "--grid", "4x5", "--dc", "0.001", "0.002", "0.004", "--csv", str(csv))
    assert result.returncode == 0, result.stderr
    assert "fitted slope" in result.stdout
    assert csv.read_text().count("\n") == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["--c0", "1.5"], "outside the allowed context box"),
        (["--c0", "0"], "outside the allowed context box"),
        (["--gamma", "1"], "gamma must be in [0, 1)"),
        (["--family", "quadratic"], "unknown reward family 'quadratic'"),
        (["--grid", "5by6"], "grid must look like ROWSxCOLS"),
        (["--grid", "5x2"], "at least 1 row and 3 columns"),
        (["--dc", "nan"], "finite"),
        (["--num", "1"], "num must be at least 2"),
    ],
)
def test_bad_input_is_one_line_and_status_two(args, message):
    result = _run("error-sweep", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cebe-theory: error:"), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_reproduce_writes_figures_and_tables(tmp_path):
    result = _run("reproduce", "--out", str(tmp_path), "--points", "12")
    assert result.returncode == 0, result.stderr
    for name in ("figure1a.png", "figure1a.pdf", "figure1b.png", "windy.pdf", "error_sweeps.csv", "summary.md", "bounds/bounds.png"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_bounds_quick_writes_tables_and_reports_no_violation(tmp_path):
    result = _run("bounds", "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no bound violated" in result.stdout
    for theorem in (1, 2, 3, 4):
        assert (tmp_path / f"bounds_theorem{theorem}.md").stat().st_size > 0
    assert (tmp_path / "bounds.png").exists()
