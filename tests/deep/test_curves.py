"""Training curves (cebe_deep.report.curves, ``cebe-deep curves``): the env-step axis, the binning, the seed statistics
and the command line, on hand-written Monitor files with known answers and on a real (tiny) training run."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cebe_deep import experiment
from cebe_deep.cli import main
from cebe_deep.experiment import make_config
from cebe_deep.report import curves


def _run(folder, method, seed, n_envs, budget, episodes_per_env):
    """A run directory with config.json and one Monitor file per env: ``episodes_per_env[k]`` = [(r, l), ...]."""
    (folder / "monitor").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(dict(task="SimpleDirection", method=method, seed=seed,
                                                        n_envs=n_envs, total_steps=budget)))
    for env, episodes in enumerate(episodes_per_env):
        lines = ['#{"t_start": 0.0, "env_id": "test"}', "r,l,t"]
        lines += [f"{r},{l},{index}.0" for index, (r, l) in enumerate(episodes)]
        (folder / "monitor" / f"{env}.monitor.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_env_steps_and_bins_by_hand(tmp_path):
    # two envs stepping together: env 0's episodes end after 10, 20, 50 of its own steps = 20, 40, 100 env steps;
    # env 1's after 25 and 50 = 50 and 100.  Budget 100 in 5 bins of 20: edges close their bin.
    run = _run(tmp_path / "a", "cse", 0, 2, 100, [[(1, 10), (2, 10), (3, 30)], [(10, 25), (20, 25)]])
    episodes = curves.run_episodes(run, 2)
    assert episodes["env_steps"].tolist() == [20, 40, 50, 100, 100]
    table = curves.training_curves([(run, None)], bins=5)
    assert table["bin"].tolist() == [0, 1, 2, 4]
    assert table["env_steps"].tolist() == [20, 40, 60, 100]
    assert table["episodes"].tolist() == [1, 1, 1, 2]
    assert table["return"].tolist() == [1, 2, 10, 11.5]
    assert (table["method"] == "cse").all() and (table["budget"] == 100).all()
    assert curves.training_curves([(run, "cse-variant")], bins=5)["method"].eq("cse-variant").all()
    # halves: bin centres at 10%, 30% | 50%, 70%, 90% of the budget; episode-weighted per seed
    halves = curves.window_summary(table, 2).set_index("window")
    assert halves.loc[0, "mean"] == pytest.approx((1 + 2) / 2)
    assert halves.loc[1, "mean"] == pytest.approx((10 + 3 + 20) / 3)
    assert halves["episodes"].tolist() == [2, 3]
    with pytest.raises(ValueError, match="cannot exceed"):
        curves.window_summary(table, 6)


def test_a_monitor_line_being_written_is_left_out(tmp_path):
    run = _run(tmp_path / "a", "cse", 0, 1, 100, [[(1.0, 10), (2.0, 10)]])
    with open(run / "monitor" / "0.monitor.csv", "a") as log:
        log.write("3.5")  # the training process has written the return, not yet the length
    assert curves.run_episodes(run, 1)["r"].tolist() == [1.0, 2.0]


def test_seed_statistics_against_scipy(tmp_path):
    returns = [5.0, 7.0, 12.0]
    runs = [(_run(tmp_path / f"s{seed}", "baseline", seed, 1, 10, [[(value, 10)]]), None)
            for seed, value in enumerate(returns)]
    table = curves.training_curves(runs, bins=1)
    summary = curves.curve_summary(table)
    low, high = stats.t.interval(0.95, 2, loc=np.mean(returns), scale=stats.sem(returns))
    assert summary["seeds"].tolist() == [3]
    assert summary[["mean", "ci_low", "ci_high"]].iloc[0].tolist() == pytest.approx([np.mean(returns), low, high])
    window = curves.window_summary(table, 1)
    assert window[["mean", "ci_low", "ci_high"]].iloc[0].tolist() == pytest.approx([np.mean(returns), low, high])


def test_runs_of_different_budgets_are_not_averaged_bin_by_bin(tmp_path):
    short = _run(tmp_path / "short", "cse", 0, 1, 20, [[(1.0, 10)]])
    long = _run(tmp_path / "long", "cse", 1, 1, 40, [[(1.0, 10)]])
    with pytest.raises(ValueError, match="different budgets"):
        curves.curve_summary(curves.training_curves([(short, None), (long, None)], bins=2))


def test_a_run_still_training_has_no_rows_past_its_progress(tmp_path):
    run = _run(tmp_path / "r", "cse", 0, 1, 100, [[(1.0, 10), (2.0, 10)]])  # 20 of 100 steps done
    table = curves.training_curves([(run, None)], bins=10)
    assert table["bin"].tolist() == [0, 1]
    quarters = curves.window_summary(table, 4)
    assert quarters["window"].tolist() == [0]  # both bins' centres (5%, 15%) lie in the first quarter


def test_a_real_run_matches_sb3s_step_count(tmp_path):
    # 4 envs x 60 steps of SimpleDirection's 10-step episodes: env k's episode j ends at 4 * 10 j env steps
    config = make_config("SimpleDirection", "baseline", total_steps=240, learning_starts=60, batch_size=16,
                         net_arch=(8, 8), checkpoint_every=10_000, n_envs=4)
    result = experiment.train(config, tmp_path, progress=False)
    episodes = curves.run_episodes(tmp_path, 4)
    assert len(episodes) == len(experiment.episode_log(tmp_path)) == 24
    assert episodes["env_steps"].max() == result.num_timesteps == 240
    assert sorted(set(episodes["env_steps"])) == list(range(40, 241, 40))
    table = curves.training_curves([(tmp_path, None)], bins=6)
    assert table["episodes"].tolist() == [4] * 6
    assert table["return"].sum() * 4 == pytest.approx(experiment.episode_log(tmp_path)["r"].sum())


def test_cli_writes_reads_back_and_draws(tmp_path, capsys):
    runs = [_run(tmp_path / f"{method}{seed}", method, seed, 1, 40, [[(seed + offset, 10)] * 4])
            for offset, method in enumerate(("baseline", "cse")) for seed in range(2)]
    out, figure = tmp_path / "curves.csv", tmp_path / "curves.png"
    assert main(["curves", *map(str, runs), "--bins", "4", "--out", str(out), "--figure", str(figure)]) == 0
    first = capsys.readouterr().out
    assert figure.stat().st_size > 0
    written = pd.read_csv(out)
    assert len(written) == 4 * 4 and set(written["method"]) == {"baseline", "cse"}
    assert main(["curves", str(out)]) == 0
    assert capsys.readouterr().out == first  # the table from the CSV is the table from the runs
    assert "0.5 [" in first and "1.5 [" in first  # baseline seeds 0, 1 -> 0.5; cse 1, 2 -> 1.5


@pytest.mark.parametrize("arguments, message", [
    (["{missing}"], "no such folder"),
    (["{empty}"], "no config.json"),
    (["{nomonitor}"], "no training episodes yet"),
    (["{a}", "{a}"], "given twice"),
    (["{a}", "{b}"], "same method and seed"),
    (["{a}", "--bins", "0"], "--bins must be between 1 and 10000, got 0"),
    (["{a}", "--bins", "3", "--windows", "4"], "--windows must be between 1 and --bins (3), got 4"),
    (["{a}", "--figure", "{root}/x.unknown"], "unknown image type"),
    (["{root}/nothing.csv"], "no such file"),
    (["{a}", "{longer}"], "different env-step budgets (20, 40)"),
    (["{a}", "{pendulum}"], "different tasks (PendulumGoal, SimpleDirection)"),
    (["{badcsv}"], "not a curves CSV"),
    (["{curvescsv}", "--windows", "3"], "--windows 3: windows (3) cannot exceed the bins of the curves (2)"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, arguments, message):
    a = _run(tmp_path / "a", "cse", 0, 1, 20, [[(1.0, 10)]])
    b = _run(tmp_path / "b", "cse", 0, 1, 20, [[(2.0, 10)]])
    longer = _run(tmp_path / "longer", "cse", 1, 1, 40, [[(1.0, 10)]])
    pendulum = _run(tmp_path / "pendulum", "cse", 2, 1, 20, [[(1.0, 10)]])
    config = json.loads((pendulum / "config.json").read_text())
    (pendulum / "config.json").write_text(json.dumps(dict(config, task="PendulumGoal")))
    (tmp_path / "empty").mkdir()
    (tmp_path / "nomonitor").mkdir()
    (tmp_path / "nomonitor" / "config.json").write_text("{}")
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    curves.training_curves([(a, None)], bins=2).to_csv(tmp_path / "two-bins.csv", index=False)
    names = dict(missing=tmp_path / "missing", empty=tmp_path / "empty", nomonitor=tmp_path / "nomonitor", a=a,
                 b=b, root=tmp_path, badcsv=tmp_path / "bad.csv", longer=longer, pendulum=pendulum,
                 curvescsv=tmp_path / "two-bins.csv")
    argv = [part.format(**names) for part in arguments]
    done = subprocess.run([sys.executable, "-m", "cebe_deep", "curves", *argv], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_a_sweep_writes_its_training_curves_into_results(tmp_path, capsys):
    root, results = tmp_path / "runs", tmp_path / "results"
    assert main(["sweep", "--task", "SimpleDirection", "--methods", "baseline,ldr", "--seeds", "2", "--steps", "120",
                 "--learning-starts", "40", "--batch-size", "16", "--net", "8,8", "--points", "2", "--episodes", "1",
                 "--root", str(root), "--results", str(results), "--backend", "serial"]) == 0
    capsys.readouterr()
    written = pd.read_csv(results / "training_curves.csv")
    assert sorted(set(zip(written["method"], written["seed"]))) == [("baseline", 0), ("baseline", 1), ("ldr", 0),
                                                                    ("ldr", 1)]
    for (method, seed), part in written.groupby(["method", "seed"]):  # every episode of each run, once
        assert part["episodes"].sum() == len(experiment.episode_log(root / "SimpleDirection" / method / f"seed{seed}"))
    assert (results / "training.png").stat().st_size > 10_000


def test_the_figure_spans_the_seeds_values_not_a_two_seed_interval(tmp_path):
    # two seeds, 0 and 10: the t-interval (t = 12.7 with one degree of freedom) reaches -58.5 .. 68.5
    runs = [(_run(tmp_path / f"s{seed}", "cse", seed, 1, 10, [[(value, 10)]]), None) for seed, value in enumerate((0, 10))]
    table = curves.training_curves(runs, bins=1)
    summary = curves.curve_summary(table)
    assert summary["ci_low"].iloc[0] < -50 and summary["ci_high"].iloc[0] > 60
    figure = curves.plot_training_curves(table)
    assert figure.axes[0].get_ylim() == pytest.approx((-0.5, 10.5))
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == ["SAC + CSE, 2 seeds"]
    one = curves.plot_training_curves(table[table["seed"] == 0])
    assert one.axes[0].get_legend().get_texts()[0].get_text() == "SAC + CSE, 1 seed"


def test_a_committed_curves_csv_and_later_run_directories_combine_as_if_binned_together(tmp_path, capsys):
    """The extra seeds of a task are staged run directories while its first seeds survive only as a committed
    training_curves.csv: `curves CSV RUN_DIR...` equals `curves RUN_DIR...` of all of them."""
    runs = [_run(tmp_path / f"{method}{seed}", method, seed, 1, 40, [[(seed + offset, 10)] * 4])
            for offset, method in enumerate(("baseline", "cse")) for seed in range(3)]
    early, late = [run for run in runs if not run.name.endswith("2")], [run for run in runs if run.name.endswith("2")]
    committed, combined, together = tmp_path / "committed.csv", tmp_path / "combined.csv", tmp_path / "together.csv"
    assert main(["curves", *map(str, early), "--bins", "4", "--out", str(committed)]) == 0
    assert main(["curves", str(committed), *map(str, late), "--bins", "4", "--out", str(combined)]) == 0
    assert main(["curves", *map(str, runs), "--bins", "4", "--out", str(together)]) == 0
    capsys.readouterr()
    order = ["method", "seed", "bin"]
    pd.testing.assert_frame_equal(pd.read_csv(combined).sort_values(order, ignore_index=True),
                                  pd.read_csv(together).sort_values(order, ignore_index=True))
    assert main(["curves", str(committed), *map(str, late), "--bins", "5"]) == 2  # binned unlike the CSV
    assert "not binned in --bins 5" in capsys.readouterr().err
    assert main(["curves", str(committed), str(early[0]), "--bins", "4"]) == 2  # seed 0 of baseline twice
    assert "same method and seed" in capsys.readouterr().err
