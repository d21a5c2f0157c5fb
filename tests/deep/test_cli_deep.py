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


# ----------------------------------------------------------- summarize: several CSVs, LABEL=PATH, --candidate
def _synthetic_evaluation(path, returns_by_method, values=(-0.5, 0.0, 0.5), seeds=(0, 1, 2), episodes=2):
    """A tidy SimpleDirection evaluation CSV whose per-seed mean return is ``returns_by_method[m] + seed``
    (episodes +-1 around it), so every mean is known in closed form: ``returns_by_method[m] + mean(seeds)``."""
    rows = []
    for method, level in returns_by_method.items():
        for seed in seeds:
            for value in values:
                for episode in range(episodes):
                    rows.append(dict(task="SimpleDirection", method=method, seed=seed, sweep="context_0",
                                     sweep_value=value, context_0=value, context_1=0.0, episode=episode,
                                     episode_return=level + seed + (1.0 if episode % 2 else -1.0)))
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_summarize_compares_a_relabelled_variant(tmp_path, capsys):
    main_csv = _synthetic_evaluation(tmp_path / "main.csv", {"baseline": -10.0, "cse": -8.0, "ldr": -4.0})
    variant_csv = _synthetic_evaluation(tmp_path / "variant.csv", {"cse": -7.0})
    results = tmp_path / "results"
    assert main(["summarize", str(main_csv), f"cse_exact={variant_csv}", "--candidate", "cse_exact",
                 "--results", str(results)]) == 0
    capsys.readouterr()
    comparison = pd.read_csv(results / "comparison.csv")
    # means over seeds 0, 1, 2: baseline -9, variant -6, ldr -3 at every context
    assert comparison["baseline_mean"].tolist() == pytest.approx([-9.0] * 3)
    assert comparison["cse_mean"].tolist() == pytest.approx([-6.0] * 3)
    assert comparison["relative_improvement"].tolist() == pytest.approx([1 / 3] * 3)
    # LDR's 95% CI over seeds {-4, -3, -2}: -3 +- t(0.975, 2) / sqrt(3) = -3 +- 2.484, so -6 lies below it
    assert not comparison["cse_within_ldr_ci"].any() and not comparison["cse_at_least_ldr_low"].any()
    # the plain CSE of the first CSV (-7 mean) is still there, and comparing it instead changes the answer
    assert main(["summarize", str(main_csv), f"cse_exact={variant_csv}", "--out", str(tmp_path / "plain.csv")]) == 0
    assert pd.read_csv(tmp_path / "plain.csv")["cse_mean"].tolist() == pytest.approx([-7.0] * 3)
    assert comparison["away_from_c0"].tolist() == [True, False, True]
    evaluation = pd.read_csv(results / "evaluation.csv")
    assert sorted(evaluation["method"].unique()) == ["baseline", "cse", "cse_exact", "ldr"]
    assert (results / "sweep.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["{main}", "{variant}"], "appear in more than one CSV"),
        (["{main}", "x={main}"], "relabels the runs of one method"),
        (["{main}", "--candidate", "cse_exact"], "candidate method 'cse_exact' is not in the table"),
        (["{main}", "v=no/such.csv"], "no such file"),
    ],
)
def test_summarize_bad_combinations_are_one_line(arguments, message, tmp_path, capsys):
    paths = dict(main=_synthetic_evaluation(tmp_path / "main.csv", {"baseline": -10.0, "cse": -8.0, "ldr": -4.0}),
                 variant=_synthetic_evaluation(tmp_path / "variant.csv", {"cse": -6.0}))
    argv = ["summarize", *(argument.format(**paths) for argument in arguments)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("cebe-deep: error: ") and message in err and err.count("\n") == 1


def test_unknown_methods_get_distinct_colours():
    from cebe_deep.plots import METHOD_STYLE, method_styles

    styles = method_styles(["cse", "cse_exact", "baseline", "cse_ball"])
    colours = [style["color"] for style in styles.values()]
    assert len(set(colours)) == 4 and styles["cse"] == METHOD_STYLE["cse"]
    assert styles["cse_exact"]["label"] == "cse_exact"
