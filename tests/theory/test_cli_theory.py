"""The cebe-theory command line, run as a user would (a subprocess)."""

import json
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from cebe_theory import cli
from cebe_theory.cli import main
from cebe_theory.cli_support import AvailableMemory, available_memory
from cebe_theory.cliffwalking import error_sweep_cost


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


@pytest.mark.parametrize(
    "args, flag, phrase", BAD_INPUTS, ids=lambda value: " ".join(value) if isinstance(value, list) else None
)
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
    assert result.stderr.strip().splitlines() == [
        f"cebe-theory: error: --out {blocked}: cannot create this folder (Not a directory)"
    ]


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
    for name in (
        "figure1a.png",
        "figure1a.pdf",
        "figure1b.png",
        "windy.pdf",
        "error_sweeps.csv",
        "summary.md",
        "bounds/bounds.png",
    ):
        assert (tmp_path / name).stat().st_size > 0, name


def test_bounds_quick_writes_tables_and_reports_no_violation(tmp_path):
    result = _run("bounds", "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no bound violated" in result.stdout
    assert "with R read the other way (bound_other_reading): 0 rows below the measured error" in result.stdout
    for theorem in (1, 2, 3, 4):
        assert (tmp_path / f"bounds_theorem{theorem}.md").stat().st_size > 0
    assert (tmp_path / "bounds.png").exists()


# ----------------------------------------------------------------------------------------- grid size and Ctrl-C


@pytest.mark.skipif(available_memory() is None, reason="this system reports no available memory")
def test_a_grid_that_cannot_fit_is_refused_before_it_is_built():
    # 10^10 states: tens of TiB by any estimate. Refused in a real process before anything is allocated (the
    # unchecked command ran for 36 s and died with a 74.5 GiB MemoryError traceback).
    started = time.perf_counter()
    result = _run("error-sweep", "--grid", "100000x100000")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cebe-theory: error: --grid 100000x100000 (10,000,000,000 states)"), (
        result.stderr
    )
    assert "TiB of memory" in lines[0] and "is available" in lines[0] and "--force" in lines[0]
    assert result.stdout == ""
    assert time.perf_counter() - started < 30  # the imports, then one line; nothing built


def _memory(monkeypatch, size):
    monkeypatch.setattr(cli, "available_memory", lambda: None if size is None else AvailableMemory(size, "a test"))


def test_the_refusal_compares_the_estimate_with_the_available_memory(monkeypatch, capsys):
    estimate = error_sweep_cost(30, 30, 5).peak_bytes
    _memory(monkeypatch, int(estimate) - 1)
    assert main(["error-sweep", "--grid", "30x30", "--num", "5"]) == 2
    line, = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("cebe-theory: error: --grid 30x30 (900 states) needs about") and "available (a test)" in line
    _memory(monkeypatch, int(estimate) + 1)
    assert main(["error-sweep", "--grid", "30x30", "--num", "5"]) == 0
    assert "fitted slope" in capsys.readouterr().out


@pytest.mark.parametrize("flags, memory", [(["--force"], 2**20), ([], None)], ids=["--force", "memory unknown"])
def test_force_or_an_unknown_memory_runs_the_sweep(flags, memory, monkeypatch, capsys):
    _memory(monkeypatch, memory)
    assert main(["error-sweep", "--grid", "6x6", "--num", "5", *flags]) == 0
    captured = capsys.readouterr()
    assert "fitted slope" in captured.out and captured.err == ""


def test_the_memory_estimate_bounds_a_measured_peak():
    # Peak resident memory of a 200 x 200 sweep in a fresh process, above what the imports left resident.
    # The estimate (calibrated on other grids) must cover it, and not by more than a factor 3.
    code = (
        "import resource\n"
        "from cebe_theory import cli, cliffwalking, error_sweep, log_grid\n"
        "rss = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS:')).split()[1]) * 1024\n"
        "base = rss()\n"
        # the peak of the sweep alone: clear_refs 5 resets VmHWM (ru_maxrss would keep the imports' transient peak,
        # e.g. matplotlib building its font cache in a fresh MPLCONFIGDIR)
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "error_sweep(cliffwalking(200, 200, 'inverse'), [0.1], log_grid(-8, -3, 2), gamma=0.9)\n"
        "hwm = int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]) * 1024\n"
        "print(hwm - base)\n"
    )
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the resident memory")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    measured = int(result.stdout)
    estimate = error_sweep_cost(200, 200, 2).peak_bytes
    assert estimate / 3 < measured < estimate, (measured, estimate)


def test_available_memory_reads_meminfo_then_a_cgroup_limit(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683772 kB\nMemAvailable:    2000000 kB\n")
    assert available_memory(meminfo, tmp_path / "no-cgroup") == AvailableMemory(2_048_000_000, "MemAvailable in /proc/meminfo")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text("1000000000\n")
    (cgroup / "memory.current").write_text("400000000\n")
    assert available_memory(meminfo, cgroup) == AvailableMemory(600_000_000, "room under the cgroup memory limit")
    (cgroup / "memory.max").write_text("max\n")
    assert available_memory(meminfo, cgroup).bytes == 2_048_000_000


def test_available_memory_falls_back_to_sysconf_without_meminfo(tmp_path):
    fallback = available_memory(tmp_path / "missing", tmp_path / "missing")
    assert fallback is None or (fallback.bytes > 0 and "sysconf" in fallback.source)


@pytest.mark.parametrize("patched, argv", [
    ("error_sweep", ["error-sweep", "--num", "5"]),
    ("bounds_report", ["bounds", "--quick", "--out", "{tmp}"]),
    ("reproduce", ["reproduce", "--out", "{tmp}"]),
])
def test_ctrl_c_inside_a_command_is_one_line_and_status_130(patched, argv, monkeypatch, tmp_path, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, patched, interrupted)
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 130
    captured = capsys.readouterr()
    assert captured.err == "cebe-theory: interrupted\n" and captured.out == ""


def test_ctrl_c_of_a_long_sweep_in_a_real_process():
    # A sweep estimated to run for minutes announces itself on stderr; SIGINT then stops it with one line.
    process = subprocess.Popen(
        [sys.executable, "-m", "cebe_theory", "error-sweep", "--grid", "100x100", "--policy", "optimal"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        note = process.stderr.readline()
        assert note.startswith("cebe-theory: note: --grid 100x100 (10,000 states)") and "Ctrl-C stops it" in note, note
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert (process.returncode, err, out) == (130, "cebe-theory: interrupted\n", "")


def test_ctrl_c_stops_a_sweep_started_with_sigint_ignored():
    """A shell starts background jobs (and nohup children) with SIGINT ignored; `kill -INT` must still stop the
    sweep with one line, and an in-process call puts the inherited disposition back."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cebe_theory", "error-sweep", "--grid", "100x100", "--policy", "optimal"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert "Ctrl-C stops it" in process.stderr.readline()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert (process.returncode, err, out) == (130, "cebe-theory: interrupted\n", "")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert main(["error-sweep", "--grid", "0x3"]) == 2
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
