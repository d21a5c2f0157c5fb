"""The ``cebe-deep`` command: thin over cebe_deep.experiment; bad input is one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from cebe_deep.cli import main

TINY = ["--steps", "200", "--learning-starts", "50", "--batch-size", "16", "--net", "8,8"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--task", "Nope", "--method", "cse"], "unknown task"),
        (["train", "--task", "SimpleDirection", "--method", "magic"], "unknown method"),
        (["train", "--task", "SimpleDirection", "--method", "cse", "--eps", "0"], "eps must be > 0"),
        (["train", "--task", "SimpleDirection", "--method", "cse", "--eps", "-0.1"], "eps must be > 0"),
        (["train", "--task", "SimpleDirection", "--method", "cse", "--context", "3,0"], "outside the task's box"),
        (["train", "--task", "PendulumGoal", "--method", "ldr", "--context", "1,1,1,1.5"], "goal_torque"),
        (["train", "--task", "SimpleDirection", "--method", "cse", "--profile", "huge"], "unknown profile"),
        (["train", "--task", "SimpleDirection", "--method", "cse", "--net", "a,b"], "comma-separated integers"),
        (["sweep", "--task", "SimpleDirection", "--backend", "mpi"], "unknown backend"),
        (["plot", "missing.csv", "--out", "x.png"], "no such file"),
        (["evaluate", "no/such/run"], "no trained model"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_status_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("cebe-deep: error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # rejected before any run directory is written


def test_bad_input_from_the_shell_has_no_traceback(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "cebe_deep", "train", "--task", "Nope", "--method", "cse"],
                               capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.strip() == "cebe-deep: error: unknown task 'Nope'; choose one of " + ", ".join(
        __import__("cebe_deep.tasks", fromlist=["TASKS"]).TASKS)


def test_train_evaluate_summarize_plot(tmp_path, capsys):
    runs = []
    for method, seed in [("baseline", 0), ("baseline", 1), ("cse", 0), ("cse", 1), ("ldr", 0), ("ldr", 1)]:
        out = tmp_path / method / str(seed)
        assert main(["train", "--task", "SimpleDirection", "--method", method, "--seed", str(seed), "--out", str(out),
                     "--no-progress", *TINY]) == 0
        runs.append(str(out))
    csv = tmp_path / "evaluation.csv"
    assert main(["evaluate", *runs, "--points", "3", "--episodes", "2", "--out", str(csv)]) == 0
    table = pd.read_csv(csv)
    assert len(table) == 6 * (2 * 3) * 2
    assert main(["summarize", str(csv), "--out", str(tmp_path / "comparison.csv")]) == 0
    comparison = pd.read_csv(tmp_path / "comparison.csv")
    assert {"relative_improvement", "cse_within_ldr_ci", "away_from_c0"} <= set(comparison.columns)
    assert main(["plot", str(csv), "--out", str(tmp_path / "sweep.png")]) == 0
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
    capsys.readouterr()
