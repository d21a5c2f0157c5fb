"""The ``cebe-deep`` command: thin over cebe_deep.experiment; bad input is one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cebe_deep.cli import main

ROOT = Path(__file__).resolve().parents[2]

TINY = ["--steps", "200", "--learning-starts", "50", "--batch-size", "16", "--net", "8,8"]


S = ["--task", "SimpleDirection"]
TRAIN = ["train", *S, "--method", "cse"]
SWEEP = ["sweep", *S]


def _csv_files(folder):
    """Bad CSV inputs: malformed (other columns), empty (0 bytes), header only."""
    (folder / "malformed.csv").write_text("a,b\n1,2\n")
    (folder / "empty.csv").write_text("")
    (folder / "header.csv").write_text("task,method,seed,sweep,sweep_value,context_0,episode,episode_return\n")
    (folder / "unknown_task.csv").write_text("task,method,seed,sweep,sweep_value,context_0,episode,episode_return\n"
                                             "Nope,cse,0,context_0,0.0,0.0,0,1.0\n")


@pytest.mark.parametrize(
    "argv, names",
    [
        # unknown names
        (["train", "--task", "Nope", "--method", "cse"], ["unknown task", "Nope"]),
        (["train", *S, "--method", "magic"], ["unknown method", "--method", "magic"]),
        ([*TRAIN, "--profile", "huge"], ["unknown profile", "--profile", "huge"]),
        ([*TRAIN, "--replay", "fancy"], ["--replay", "fancy"]),
        ([*TRAIN, "--perturbation", "cube"], ["--perturbation", "cube"]),
        ([*TRAIN, "--cse-mode", "magic"], ["--cse-mode", "magic"]),
        (["train", "--task", "PendulumGoal", "--method", "cse", "--dynamics", "odd"], ["--dynamics", "odd"]),
        ([*SWEEP, "--backend", "mpi"], ["--backend", "mpi", "unknown backend"]),
        ([*SWEEP, "--methods", "cse,foo"], ["--methods", "foo"]),
        (["frobnicate"], ["invalid choice"]),
        # numeric ranges
        ([*TRAIN, "--eps", "0"], ["--eps", "must be > 0", "0"]),
        ([*TRAIN, "--eps", "-0.1"], ["--eps", "-0.1"]),
        ([*TRAIN, "--eps", "nan"], ["--eps", "nan"]),
        ([*TRAIN, "--gamma", "1.5"], ["--gamma", "1.5", "[0, 1]"]),
        ([*TRAIN, "--gamma", "-0.5"], ["--gamma", "-0.5", "[0, 1]"]),
        ([*TRAIN, "--steps", "0"], ["--steps", "positive", "0"]),
        ([*TRAIN, "--batch-size", "-1"], ["--batch-size", "-1"]),
        ([*TRAIN, "--checkpoint-every", "0"], ["--checkpoint-every", "0"]),
        ([*TRAIN, "--n-envs", "0"], ["--n-envs", "0"]),
        ([*TRAIN, "--buffer-size", "0"], ["--buffer-size", "0"]),
        ([*TRAIN, "--learning-starts", "-5"], ["--learning-starts", "-5"]),
        ([*TRAIN, "--learning-rate", "0"], ["--learning-rate", "0"]),
        ([*TRAIN, "--cse-fraction", "1.5"], ["--cse-fraction", "1.5"]),
        ([*TRAIN, "--priority-alpha", "2"], ["--priority-alpha", "2", "[0, 1]"]),
        ([*TRAIN, "--priority-beta", "-1"], ["--priority-beta", "-1", "[0, 1]"]),
        ([*TRAIN, "--seed", "-1"], ["--seed", "-1"]),
        ([*TRAIN, "--net", "a,b"], ["--net", "comma-separated integers"]),
        ([*TRAIN, "--net", "0,8"], ["--net", "(0, 8)"]),
        ([*SWEEP, "--span", "-1"], ["--span", "-1", "> 0"]),
        ([*SWEEP, "--points", "0"], ["--points", "0", ">= 2"]),
        ([*SWEEP, "--points", "1"], ["--points", "1", ">= 2"]),
        ([*SWEEP, "--episodes", "0"], ["--episodes", "0", ">= 1"]),
        ([*SWEEP, "--seeds", "0"], ["--seeds", "'0'", "no seed"]),
        ([*SWEEP, "--seeds", "3-1"], ["--seeds", "'3-1'", "no seed"]),
        ([*SWEEP, "--seeds", "x"], ["--seeds", "'x'"]),
        ([*SWEEP, "--workers", "0"], ["--workers", "0", ">= 1"]),
        ([*SWEEP, "--eps", "0"], ["--eps", "0"]),
        (["plot", "{dir}/malformed.csv", "--out", "x.png", "--eps", "0"], ["malformed.csv", "missing column"]),
        # contexts
        ([*TRAIN, "--context", "3,0"], ["--context", "3,0", "outside the task's box"]),
        ([*TRAIN, "--context", "1,2,3"], ["--context", "2 values"]),
        (["train", "--task", "PendulumGoal", "--method", "ldr", "--context", "1,1,1,1.5"], ["--context", "goal_torque"]),
        ([*SWEEP, "--contexts", "1,2,3"], ["--contexts", "(1.0, 2.0, 3.0)", "2 values"]),
        ([*SWEEP, "--contexts", "5,5"], ["--contexts", "(5.0, 5.0)", "outside"]),
        ([*SWEEP, "--contexts", "1,x"], ["--contexts", "'1,x'"]),
        ([*SWEEP, "--contexts", "1,2;3"], ["--contexts", "entry 2"]),
        # the open questions' options (results/open/README.md)
        ([*TRAIN, "--dimension", "0"], ["--dimension", "positive integer", "0"]),
        ([*TRAIN, "--dimension", "x"], ["--dimension", "'x'"]),
        (["train", "--task", "PendulumGoal", "--method", "cse", "--dimension", "3"], ["--dimension", "only SimpleDirection"]),
        ([*TRAIN, "--dimension", "4", "--context", "0,0"], ["--context", "4 values"]),
        ([*SWEEP, "--dimension", "4", "--contexts", "0,0"], ["--contexts", "entry 1", "4 values"]),
        (["sweep", "--task", "PendulumGoal", "--contexts", "dimension-test"], ["--contexts", "only SimpleDirection"]),
        ([*TRAIN, "--task-noise", "0.1"], ["--task-noise", "only NoisyPendulumGoal"]),
        (["train", "--task", "NoisyPendulumGoal", "--method", "cse", "--task-noise", "-1"], ["--task-noise", "-1", ">= 0"]),
        ([*TRAIN, "--jacobian-noise", "-0.1"], ["--jacobian-noise", "-0.1", ">= 0"]),
        ([*TRAIN, "--jacobian-noise", "inf"], ["--jacobian-noise", "finite"]),
        (["train", *S, "--method", "ldr", "--jacobian-bias", "0.5"], ["--jacobian-bias", "first-order CSE", "ldr"]),
        ([*TRAIN, "--cse-mode", "exact", "--jacobian-noise", "0.1"], ["--jacobian-noise", "first-order CSE", "exact"]),
        ([*TRAIN, "--fd-jacobians", "0"], ["--fd-jacobians", "> 0", "0"]),
        ([*SWEEP, "--methods", "baseline,cse", "--fd-jacobians", "1e-3"], ["--fd-jacobians", "first-order CSE", "baseline"]),
        ([*TRAIN, "--cse-variant", "magic"], ["unknown CSE variant", "--cse-variant", "magic"]),
        ([*TRAIN, "--cse-variant", "importance"], ["--cse-variant", "transition density", "SimpleDirection"]),
        (["train", "--task", "NoisyPendulumGoal", "--method", "cse", "--cse-variant", "importance", "--task-noise", "0"],
         ["--cse-variant", "--task-noise", "> 0"]),
        (["train", "--task", "NoisyPendulumGoal", "--method", "cse", "--cse-variant", "importance", "--jacobian-noise",
          "0.1"], ["--cse-variant", "--jacobian-noise"]),
        (["train", "--task", "NoisyPendulumGoal", "--method", "cse", "--cse-variant", "importance", "--max-weight", "0"],
         ["--max-weight", "> 0"]),
        ([*TRAIN, "--max-weight", "5"], ["--max-weight", "--cse-variant importance"]),
        # paths and files
        ([*TRAIN, "--out", "/proc/nope"], ["--out", "/proc/nope"]),
        ([*SWEEP, "--root", "/proc/nope"], ["--root", "/proc/nope"]),
        ([*SWEEP, "--results", "/proc/nope"], ["--results", "/proc/nope"]),
        (["plot", "missing.csv", "--out", "x.png"], ["missing.csv", "no such file"]),
        (["plot", "{dir}/malformed.csv", "--out", "p.png"], ["malformed.csv", "missing column", "task"]),
        (["plot", "{dir}/empty.csv", "--out", "p.png"], ["empty.csv", "empty"]),
        (["plot", "{dir}/header.csv", "--out", "p.png"], ["header.csv", "no rows"]),
        (["plot", "{dir}/unknown_task.csv", "--out", "p.png"], ["unknown_task.csv", "unknown task 'Nope'"]),
        (["plot", "{dir}", "--out", "p.png"], ["is a folder"]),
        (["summarize", "{dir}/malformed.csv"], ["malformed.csv", "missing column", "task"]),
        (["summarize", "{dir}/empty.csv"], ["empty.csv", "empty"]),
        (["figures", "--results", "no/such/dir"], ["--results", "no/such/dir"]),
        (["evaluate", "no/such/run"], ["no/such/run", "no such folder"]),
        (["evaluate", "{dir}"], ["no trained model", "model.zip"]),
    ],
)
def test_bad_input_is_one_line_naming_the_flag_and_status_2(argv, names, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _csv_files(inputs)
    assert main([part.replace("{dir}", str(inputs)) for part in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cebe-deep: error: ") and err.count("\n") == 1, err
    assert all(name in err for name in names), err
    assert "Traceback" not in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["inputs"]  # rejected before anything was written


def test_plot_refuses_an_unknown_image_type(tmp_path, capsys):
    csv = _synthetic_evaluation(tmp_path / "main.csv", {"baseline": -10.0, "cse": -8.0})
    assert main(["plot", str(csv), "--out", str(tmp_path / "p.xyz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out" in err and ".xyz" in err and ".png" in err


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"cebe-deep {version('cebe')}"


def test_a_bug_keeps_its_traceback(monkeypatch):
    """main catches InputError alone: any other exception (here a ValueError from inside the library) is a bug
    and propagates with its traceback."""
    from cebe_deep.run import training

    def broken(*args, **kwargs):
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(training, "train", broken)
    with pytest.raises(ValueError, match="a bug"):
        main([*TRAIN, "--out", "/tmp/unused-run-dir-never-written", "--steps", "10"])


def test_bad_input_from_the_shell_has_no_traceback(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "cebe_deep", "train", "--task", "Nope", "--method", "cse"],
                               capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.strip() == "cebe-deep: error: unknown task 'Nope'; known tasks: " + ", ".join(
        __import__("cebe_deep.tasks", fromlist=["TASKS"]).TASKS) + ("; or give a registered Gymnasium id of a contextual "
                                                                   "task, or module:callable returning one")


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
    # the differences the verdicts rest on, with their intervals and signs
    assert {f"cse_minus_{other}{suffix}" for other in ("baseline", "ldr") for suffix in ("", "_low", "_high", "_sign")} \
        <= set(comparison.columns)
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
    # per-seed means -7, -6, -5 against -10, -9, -8 (baseline) and -4, -3, -2 (LDR): differences +3 and -3, Welch
    # half-width t(0.975, 4) sqrt(2 / 3) = 2.27, so above 0 and below 0 at both contexts away from c0
    printed = capsys.readouterr().out.splitlines()[-2:]  # no caveat line: CSE - LDR is resolved at both contexts
    assert printed == ["  cse_exact - baseline: above 0 at 2, contains 0 at 0, below 0 at 0: 'cse_exact beats the "
                       "baseline' reproduced",
                       "  cse_exact - ldr: above 0 at 0, contains 0 at 0, below 0 at 2: 'cse_exact matches LDR' not "
                       "reproduced"]
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
        (["{main}", "--eps", "-1"], "--eps must be > 0"),
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
    from cebe_deep.report.plots import METHOD_STYLE, method_styles

    styles = method_styles(["cse", "cse_exact", "baseline", "cse_ball"])
    colours = [style["color"] for style in styles.values()]
    assert len(set(colours)) == 4 and styles["cse"] == METHOD_STYLE["cse"]
    assert styles["cse_exact"]["label"] == "cse_exact"


def test_the_verdict_says_when_matching_ldr_only_means_no_detectable_difference(tmp_path, capsys):
    # CSE and LDR with the same per-seed means: every interval of CSE - LDR holds 0, the rule says "reproduced"
    csv = _synthetic_evaluation(tmp_path / "same.csv", {"baseline": -10.0, "cse": -4.0, "ldr": -4.0})
    assert main(["summarize", str(csv)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == "  cse - ldr: above 0 at 0, contains 0 at 2, below 0 at 0: 'cse matches LDR' reproduced"
    assert out[-1].startswith("  (at most of these contexts the interval of CSE - LDR holds 0: no difference detectable")


def test_gzip_writes_the_same_table_compressed_and_every_reader_takes_it(tmp_path):
    """``summarize --results --gzip`` writes evaluation.csv.gz (the same rows as evaluation.csv, reproducible bytes)
    and removes a plain evaluation.csv left there; the readers find either name; both at once is an error."""
    import gzip

    import pandas as pd

    from cebe_deep.cli import main
    from cebe_deep.run.config import ConfigError
    from cebe_deep.run.evaluation import evaluation_file, read_evaluation

    source = ROOT / "results" / "quick" / "SimpleDirection" / "evaluation.csv"
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    assert main(["summarize", str(source), "--results", str(plain)]) == 0
    assert main(["summarize", str(source), "--results", str(packed)]) == 0
    assert main(["summarize", str(source), "--results", str(packed), "--gzip"]) == 0
    assert evaluation_file(packed) == packed / "evaluation.csv.gz" and not (packed / "evaluation.csv").exists()
    assert gzip.decompress((packed / "evaluation.csv.gz").read_bytes()) == (plain / "evaluation.csv").read_bytes()
    first = (packed / "evaluation.csv.gz").read_bytes()
    assert main(["summarize", str(packed / "evaluation.csv.gz"), "--results", str(packed), "--gzip"]) == 0
    assert (packed / "evaluation.csv.gz").read_bytes() == first  # no time stamp: the same bytes again
    pd.testing.assert_frame_equal(read_evaluation(packed), pd.read_csv(source))
    for name in ("summary.csv", "comparison.csv"):
        assert (packed / name).read_bytes() == (plain / name).read_bytes()
    assert read_evaluation(tmp_path) is None
    (packed / "evaluation.csv").write_text("stale")
    with pytest.raises(ConfigError, match="both evaluation.csv and evaluation.csv.gz"):
        evaluation_file(packed)
