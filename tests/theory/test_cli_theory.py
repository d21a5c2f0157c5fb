"""The cebe-theory command line, run as a user would (a subprocess)."""

import json
import subprocess
import sys
from importlib.metadata import version

import pytest

from cebe_theory import cli
from cebe_theory.cli import main


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


def _blocked(tmp_path):
    """A path that cannot be created: its parent is a regular file."""
    (tmp_path / "a_file").write_text("")
    return str(tmp_path / "a_file" / "out")


# (arguments, the flag the one-line message must name, a phrase of the message); "{tmp}" is the test's folder.
BAD_INPUTS = [
    (["error-sweep", "--c0", "1.5"], "--c0", "outside the allowed context box"),
    (["error-sweep", "--c0", "0"], "--c0", "outside the allowed context box"),
    (["error-sweep", "--gamma", "1"], "--gamma", "gamma must be in [0, 1)"),
    (["error-sweep", "--gamma", "-0.5"], "--gamma", "gamma must be in [0, 1)"),
    (["error-sweep", "--family", "quadratic"], "--family", "unknown reward family 'quadratic'"),
    (["error-sweep", "--grid", "5by6"], "--grid", "grid must look like ROWSxCOLS"),
    (["error-sweep", "--grid", "5x2"], "--grid", "at least 1 row and 3 columns"),
    (["error-sweep", "--dc", "nan"], "--dc", "finite"),
    (["error-sweep", "--dc", "0"], "--dc", "nonzero, with p0 + dc in (0, 1), i.e. dc in (-0.1, 0.9)"),
    (["error-sweep", "--dc", "0.01", "0.95"], "--dc", "dc in (-0.1, 0.9)"),
    (["error-sweep", "--num", "1"], "--num", "num must be at least 2"),
    (["error-sweep", "--log-range", "-1", "-3"], "--log-range", "LOW < HIGH"),
    (["error-sweep", "--log-range", "-8", "1"], "--log-range", "reaches dc = 2.718"),
    (["error-sweep", "--fit-points", "1000"], "--fit-points", "between 2 and the number of dc values (100"),
    (["error-sweep", "--fit-points", "1"], "--fit-points", "between 2 and"),
    (["error-sweep", "--dc", "0.01", "0.02", "--fit-points", "3"], "--fit-points", "(2, from --dc)"),
    (["error-sweep", "--variant", "clip"], "--variant", "invalid choice"),
    (["error-sweep", "--csv", "{tmp}/missing/x.csv"], "--csv", "missing does not exist"),
    (["error-sweep", "--csv", "{tmp}"], "--csv", "is a folder"),
    (["reproduce", "--points", "5"], "--points", "at least 10"),
    (["reproduce", "--out", "{blocked}"], "--out", "cannot create this folder"),
    (["bounds", "--quick", "--out", "{blocked}"], "--out", "cannot create this folder"),
    (["bounds", "--steps", "3"], "--steps", "unrecognized arguments"),
]


@pytest.mark.parametrize("args, flag, phrase", BAD_INPUTS, ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_bad_input_is_one_line_naming_the_flag_and_status_two(args, flag, phrase, tmp_path, capsys):
    argv = [arg.format(tmp=tmp_path, blocked=_blocked(tmp_path)) for arg in args]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cebe-theory: error:"), captured.err
    assert flag in lines[0] and phrase in lines[0], lines[0]
    assert captured.out == ""
    assert not (tmp_path / "missing").exists()


def test_unwritable_output_folder_is_one_line_in_a_real_process(tmp_path):
    # As a user would run it: no traceback, exit status 2, the path in the message.
    blocked = _blocked(tmp_path)
    result = _run("reproduce", "--out", blocked)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"cebe-theory: error: --out {blocked}: cannot create this folder (Not a directory)"]


def test_a_bug_is_not_reported_as_bad_input(monkeypatch):
    # The CLI catches the project's InputError only: any other ValueError is a bug and keeps its traceback.
    def broken_sweep(*args, **kwargs):
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(cli, "error_sweep", broken_sweep)
    with pytest.raises(ValueError, match="a bug"):
        main(["error-sweep", "--num", "5"])


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"cebe-theory {version('cebe')}"


def test_fewer_dc_than_the_default_fit_points_fits_on_all_of_them():
    result = _run("error-sweep", "--dc", "0.001", "0.002", "0.004")
    assert result.returncode == 0, result.stderr
    assert "fitted slope on the 3 smallest dc" in result.stdout


def test_reproduce_writes_figures_and_tables(tmp_path):
    result = _run("reproduce", "--out", str(tmp_path), "--points", "12")
    assert result.returncode == 0, result.stderr
    for name in ("figure1a.png", "figure1a.pdf", "figure1b.png", "windy.pdf", "error_sweeps.csv", "summary.md", "bounds/bounds.png"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_bounds_quick_writes_tables_and_reports_no_violation(tmp_path):
    result = _run("bounds", "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no bound violated" in result.stdout
    assert "with R read the other way (bound_other_reading): 0 rows below the measured error" in result.stdout
    for theorem in (1, 2, 3, 4):
        assert (tmp_path / f"bounds_theorem{theorem}.md").stat().st_size > 0
    assert (tmp_path / "bounds.png").exists()
