"""The open questions' reporting (cebe_deep.report.open_questions through ``cebe-deep report``) and the first-order
reward error tool (cebe_deep.report.open_questions.reward_error), on synthetic results folders whose per-seed
means are known by
construction: each seed's episodes are symmetric around a chosen value, so the per-seed mean is that value and the
intervals over seeds are scipy's t-interval of the chosen values.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cebe_deep.cli import main
from cebe_deep.report import open_questions as report
from cebe_deep.report import readme as readme_module
from cebe_deep.report import tables
from cebe_deep.report.open_questions import reward_error
from cebe_deep.tasks.simple_direction import dimension_test_contexts, simple_direction_optimal_return

REPOSITORY = Path(__file__).resolve().parents[2]




def t_cell(values, digits=1, signed=False) -> str:
    """``mean [low, high]`` of scipy's 95% t-interval, as the report prints it."""
    values = np.asarray(values, dtype=float)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    form = f"{'+' if signed else ''}.{digits}f"
    return f"{values.mean():{form}} [{low:{form}}, {high:{form}}]"


def welch_cell(first, second, digits=1, signed=True) -> str:
    """CSE - other with scipy's Welch 95% interval."""
    result = stats.ttest_ind(first, second, equal_var=False)
    low, high = result.confidence_interval(0.95)
    form = f"{'+' if signed else ''}.{digits}f"
    return f"{np.mean(first) - np.mean(second):{form}} [{low:{form}}, {high:{form}}]"


def rows_for(task, method, seed, sweep, value, context, mean, run="", spread=1.0, episodes=2):
    """Evaluation rows whose episodes average to ``mean`` exactly (mean +- spread)."""
    offsets = np.linspace(-spread, spread, episodes)
    return [dict(task=task, method=method, seed=seed, run=run, sweep=sweep, sweep_value=float(value),
                 **{f"context_{i}": float(v) for i, v in enumerate(context)}, episode=k, episode_return=mean + offset)
            for k, offset in enumerate(offsets)]


def write(folder: Path, rows) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "evaluation.csv", index=False)


# ------------------------------------------------------------------------------------------- OQ2: dimension
FRACTIONS = {  # (method, radius) -> per-seed fractions of the optimum (3 seeds)
    ("baseline", 0.2): [0.5, 0.6, 0.55], ("cse", 0.2): [0.9, 0.95, 0.85], ("ldr", 0.2): [0.8, 0.82, 0.9],
    ("baseline", 0.5): [0.4, 0.45, 0.5], ("cse", 0.5): [0.92, 0.91, 0.96], ("ldr", 0.5): [0.7, 0.75, 0.8],
    ("baseline", 0.8): [0.3, 0.2, 0.25], ("cse", 0.8): [0.8, 0.7, 0.75], ("ldr", 0.8): [0.6, 0.65, 0.62]}


def dimension_rows(dimension: int, fractions=FRACTIONS, scale: float = 1.0):
    """Each episode's return is fraction x the closed-form optimum x (1 +- 0.1): the per-seed fraction, averaged
    over the episodes and then over the 16 directions of a radius, is exactly ``fraction x scale``."""
    contexts = dimension_test_contexts(dimension)
    rows = []
    for index, context in enumerate(contexts):
        radius = (0.2, 0.5, 0.8)[index // 16]
        optimum = simple_direction_optimal_return(context)
        for (method, r), values in fractions.items():
            if r != radius:
                continue
            for seed, fraction in enumerate(values):
                rows += rows_for("SimpleDirection", method, seed, f"radius_{radius:g}", index % 16, context,
                                 fraction * scale * optimum, spread=0.1 * fraction * scale * optimum)
    return rows


def test_dimension_fraction_of_optimum_and_intervals(tmp_path, capsys):
    write(tmp_path / "dimension" / "d2", dimension_rows(2))
    write(tmp_path / "dimension" / "d8", dimension_rows(8, scale=0.5))
    by_dimension, missing, by_budget, missing_budgets = report.dimension_tables(tmp_path)
    assert missing == [4, 16, 32] and by_budget.empty and len(missing_budgets) == 12  # 2 dimensions x 6 budgets
    for (method, radius), values in FRACTIONS.items():
        for dimension, scale in ((2, 1.0), (8, 0.5)):
            row = by_dimension[(by_dimension["dimension"] == dimension) & (by_dimension["method"] == method)
                               & np.isclose(by_dimension["radius"], radius)].iloc[0]
            expected = np.array(values) * scale
            low, high = stats.t.interval(0.95, 2, loc=expected.mean(), scale=stats.sem(expected))
            assert row["mean"] == pytest.approx(expected.mean(), abs=1e-12)
            assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=1e-12)
    report.print_dimension(tmp_path)
    out = capsys.readouterr().out
    cse, ldr = np.array(FRACTIONS["cse", 0.5]), np.array(FRACTIONS["ldr", 0.5])
    assert f"| 2 | 3/3/3 | {t_cell(FRACTIONS['baseline', 0.5], 3)} | {t_cell(cse, 3)} | {t_cell(ldr, 3)} " \
           f"| {welch_cell(cse, ldr, 3)} (above 0) |" in out
    assert f"| 8 | 3/3/3 | {t_cell(np.array(FRACTIONS['baseline', 0.5]) / 2, 3)}" in out
    assert "| 4 | not run yet |" in out and "d = 4, 16, 32: not run yet" in out
    assert "results/open/dimension-budget: not run yet" in out


def test_dimension_trend_is_the_least_squares_slope_of_cse_minus_ldr_over_log2_d(tmp_path, capsys):
    # fractions scaled by 1, 0.8, 0.6 at d = 2, 4, 8 (log2 d = 1, 2, 3): CSE - LDR at a radius is D, 0.8 D, 0.6 D,
    # a straight line in log2 d with slope -0.2 D per doubling (D = the difference of the FRACTIONS means)
    for dimension, scale in ((2, 1.0), (4, 0.8), (8, 0.6)):
        write(tmp_path / "dimension" / f"d{dimension}", dimension_rows(dimension, scale=scale))
    trend = report.dimension_trend(report.dimension_cells(tmp_path)).set_index("radius")
    for radius in (0.2, 0.5, 0.8):
        difference = np.mean(FRACTIONS["cse", radius]) - np.mean(FRACTIONS["ldr", radius])
        assert trend.loc[radius, "slope"] == pytest.approx(-0.2 * difference, abs=1e-12)
        assert trend.loc[radius, "ci_low"] < trend.loc[radius, "slope"] < trend.loc[radius, "ci_high"]
        assert trend.loc[radius, "dimensions"] == "2,4,8"
    report.print_dimension(tmp_path)
    out = capsys.readouterr().out
    assert "**Trend**" in out and "| 0.5 | -0.0" in out
    # with two dimensions there is no trend to fit
    two = tmp_path / "two"
    write(two / "dimension" / "d2", dimension_rows(2))
    write(two / "dimension" / "d4", dimension_rows(4))
    assert report.dimension_trend(report.dimension_cells(two)).empty


def test_scaled_eps_cells_are_compared_with_cse_and_ldr_of_their_dimension(tmp_path, capsys):
    write(tmp_path / "dimension" / "d8", dimension_rows(8, scale=0.5))
    cse_only = {key: values for key, values in FRACTIONS.items() if key[0] == "cse"}
    write(tmp_path / "dimension-eps" / "d8-eps0.2", dimension_rows(8, cse_only, scale=0.5))
    cells = report.dimension_cells(tmp_path)
    assert cells.missing_scaled_eps == ["d32-eps0.4"]
    table = report.scaled_eps_tables(cells).set_index(["radius", "compared"])
    for radius in (0.2, 0.5, 0.8):
        cse, ldr = np.array(FRACTIONS["cse", radius]) / 2, np.array(FRACTIONS["ldr", radius]) / 2
        assert table.loc[(radius, "- CSE eps 0.1"), "mean"] == pytest.approx(0, abs=1e-12)
        reference = stats.ttest_ind(cse, ldr, equal_var=False).confidence_interval(0.95)
        assert table.loc[(radius, "- LDR eps 0.1"), ["ci_low", "ci_high"]].tolist() == pytest.approx(
            [reference.low, reference.high], abs=1e-12)
    report.print_dimension(tmp_path)
    out = capsys.readouterr().out
    assert "| 8 | 0.2 | 0.5 |" in out and "dimension-eps/{d32-eps0.4}: not run yet" in out
    assert "LDR with eps" not in out  # no LDR follow-up cell yet
    # the converse cell: LDR at eps 0.1 / sqrt(d / 2), compared with CSE and LDR of the dimension cell
    ldr_only = {key: [value * 0.9 for value in values] for key, values in FRACTIONS.items() if key[0] == "ldr"}
    write(tmp_path / "dimension-eps" / "d8-ldr-eps0.05", dimension_rows(8, ldr_only, scale=0.5))
    table = report.scaled_eps_tables(report.dimension_cells(tmp_path), "ldr").set_index(["radius", "compared"])
    for radius in (0.2, 0.5, 0.8):
        ldr, cse = np.array(FRACTIONS["ldr", radius]) / 2, np.array(FRACTIONS["cse", radius]) / 2
        assert table.loc[(radius, "ldr"), "mean"] == pytest.approx(0.9 * ldr.mean(), abs=1e-12)
        assert table.loc[(radius, "- LDR eps 0.1"), "mean"] == pytest.approx(-0.1 * ldr.mean(), abs=1e-12)
        reference = stats.ttest_ind(0.9 * ldr, cse, equal_var=False).confidence_interval(0.95)
        assert table.loc[(radius, "- CSE eps 0.1"), ["ci_low", "ci_high"]].tolist() == pytest.approx(
            [reference.low, reference.high], abs=1e-12)
    report.print_dimension(tmp_path)
    out = capsys.readouterr().out
    assert "**LDR with eps = 0.1 / sqrt(d / 2)**" in out and "| 8 | 0.05 | 0.5 |" in out
    assert "dimension-eps/{d32-ldr-eps0.025}: not run yet" in out


def test_gzipped_cells_are_read_like_plain_ones(tmp_path):
    rows = pd.DataFrame(dimension_rows(8, scale=0.5))
    (tmp_path / "dimension" / "d8").mkdir(parents=True)
    rows.to_csv(tmp_path / "dimension" / "d8" / "evaluation.csv.gz", index=False)
    write(tmp_path / "plain" / "dimension" / "d8", dimension_rows(8, scale=0.5))
    packed, plain = (report.dimension_tables(root)[0] for root in (tmp_path, tmp_path / "plain"))
    pd.testing.assert_frame_equal(packed, plain)
    assert "dimension/d8" in report.status_table(tmp_path)[2][3]


def test_dimension_budget_to_reach(tmp_path, capsys):
    # d = 8: CSE reaches 90% (mean 0.93) at 10000 steps, LDR never (its mean at 20000 is 0.75)
    for steps, scale in ((5000, 0.6), (10000, 1.0), (20000, 1.0)):
        fractions = {key: values for key, values in FRACTIONS.items() if key[1] == 0.5}
        write(tmp_path / "dimension-budget" / f"d8-{steps}", dimension_rows(8, fractions, scale))
    reach = report.budget_to_reach(report.dimension_tables(tmp_path)[2]).set_index(["dimension", "method"])
    assert reach.loc[(8, "cse"), "mean_reaches"] == 10000
    # the CSE interval at 10000 is 0.93 +- t(0.975, 2) sem = [0.866, 0.994]: not above 0.9 at any budget
    assert math.isnan(reach.loc[(8, "cse"), "interval_reaches"])
    assert math.isnan(reach.loc[(8, "ldr"), "mean_reaches"])
    report.print_dimension(tmp_path)
    out = capsys.readouterr().out
    assert "| 8 | cse | 10000 | not reached by 20000 |" in out
    assert "| 8 | ldr | not reached by 20000 | not reached by 20000 |" in out
    assert "| 40000 | not run yet |" in out
    assert f"| 10000 | {t_cell(FRACTIONS['baseline', 0.5], 3)} |" in out


# ------------------------------------------------------------------------------------------- OQ3: Jacobians
PENDULUM_CONTEXTS = ((2.0, 1.0, 1.0, 0.0), (2.0, 1.0, 1.0, 0.75), (2.0, 1.2, 1.0, -0.75))


def named_rows(task, sweep, values_by_method, contexts=PENDULUM_CONTEXTS, run_root=None):
    """``values_by_method[method][k]``: the per-seed means at context #k."""
    rows = []
    for method, per_context in values_by_method.items():
        for k, seeds in enumerate(per_context):
            for seed, mean in enumerate(seeds):
                run = "" if run_root is None else str(run_root / task / method / f"seed{seed}")
                rows += rows_for(task, method, seed, sweep, k, contexts[k], mean, run=run)
    return rows


def test_jacobians_returns_against_sigma(tmp_path, capsys):
    noise = [[-100.0, -110.0, -90.0], [-300.0, -320.0, -340.0], [-400.0, -380.0, -390.0]]
    write(tmp_path / "jacobians" / "noise-0.3", named_rows("PendulumGoal", "authors", {"cse": noise}))
    per_context, pooled, missing, _ = report.jacobian_tables(tmp_path)
    assert sorted(missing) == sorted(set(report.JACOBIAN_CELLS) - {"noise-0.3"})
    report.print_jacobians(tmp_path)
    out = capsys.readouterr().out
    pooled_seeds = np.mean(noise, axis=0)  # a seed's mean over the three contexts
    assert (
        f"| noise sigma = 0.3 | 3 | {t_cell(noise[0])} | {t_cell(noise[1])} | {t_cell(noise[2])} | {t_cell(pooled_seeds)} |"
        in out
    )
    assert "| noise sigma = 0 | not run yet |" in out and "| finite differences h = 0.0001 | not run yet |" in out


def test_jacobians_differences_against_exact_cse_and_the_reference(tmp_path, capsys):
    exact = [[-60.0, -62.0, -58.0], [-100.0, -110.0, -90.0], [-150.0, -140.0, -160.0]]
    noisy = [[-70.0, -65.0, -75.0], [-200.0, -180.0, -190.0], [-260.0, -240.0, -250.0]]
    reference = {
        "baseline": [[-60.0, -61.0, -59.0, -60.5], [-300.0, -320.0, -310.0, -305.0], [-400.0, -390.0, -410.0, -420.0]],
        "ldr": [[-65.0, -66.0, -64.0, -63.0], [-90.0, -95.0, -85.0, -92.0], [-120.0, -130.0, -125.0, -110.0]],
    }
    write(tmp_path / "open" / "jacobians" / "noise-0", named_rows("PendulumGoal", "authors", {"cse": exact}))
    write(tmp_path / "open" / "jacobians" / "noise-1.0", named_rows("PendulumGoal", "authors", {"cse": noisy}))
    write(tmp_path / "authors" / "PendulumGoal", named_rows("PendulumGoal", "authors", reference))
    report.print_jacobians(tmp_path / "open")
    out = capsys.readouterr().out

    def away(values):  # a seed's mean over #1 and #2
        return np.mean(values[1:], axis=0)

    assert (f"| noise-1.0 | 3 | {welch_cell(away(noisy), away(exact))} (below 0) | "
            f"{welch_cell(away(noisy), away(reference['baseline']))} (above 0) | "
            f"{welch_cell(away(noisy), away(reference['ldr']))} (below 0) |") in out
    assert f"| noise-0 | 3 | - | {welch_cell(away(exact), away(reference['baseline']))}" in out
    # without the reference folder the comparisons with SAC and LDR say so, and print no number
    (tmp_path / "authors" / "PendulumGoal" / "evaluation.csv").unlink()
    report.print_jacobians(tmp_path / "open")
    out = capsys.readouterr().out
    assert "(not found:" in out and f"| noise-1.0 | 3 | {welch_cell(away(noisy), away(exact))} (below 0) | - | - |" in out


def test_jacobians_fd_cost_from_runs_then_collected(tmp_path, capsys):
    runs = tmp_path / "runs"
    values = [[-100.0, -120.0], [-200.0, -220.0], [-300.0, -310.0]]
    write(tmp_path / "open" / "jacobians" / "fd-1e-2", named_rows("PendulumGoal", "authors", {"cse": values}, run_root=runs))
    for seed, (evaluations, seconds) in enumerate(((4.0, 2e-4), (4.0, 4e-4))):
        run = runs / "PendulumGoal" / "cse" / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "fd_cost.json").write_text(json.dumps(dict(step_size=0.01, evaluations_per_step=evaluations,
                                                          seconds_per_step=seconds, seconds_per_step_by_env=[seconds])))
    report.print_jacobians(tmp_path / "open")
    out = capsys.readouterr().out
    assert "fd-1e-2: 4.00 simulator steps and 300.0 us per env step over 2 runs (read from the run directories" in out
    assert report.collect_run_logs(tmp_path / "open") == [tmp_path / "open" / "jacobians" / "fd-1e-2" / "run_logs.csv"]
    report.print_jacobians(tmp_path / "open")
    assert "fd-1e-2: 4.00 simulator steps and 300.0 us per env step over 2 runs\n" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ OQ1: stochastic
def test_stochastic_four_methods_and_effective_sample_size(tmp_path, capsys):
    runs = tmp_path / "runs"
    methods = {"baseline": [[-200.0, -210.0, -190.0]] * 3, "cse": [[-150.0, -160.0, -140.0]] * 3,
               "ldr": [[-170.0, -175.0, -180.0]] * 3}
    importance = {"cse": [[-120.0, -125.0, -135.0]] * 3}
    write(tmp_path / "open" / "stochastic" / "noise-0.05", named_rows("NoisyPendulumGoal", "listed", methods))
    write(tmp_path / "open" / "stochastic" / "noise-0.05-importance",
          named_rows("NoisyPendulumGoal", "listed", importance, run_root=runs))
    fractions = (0.8, 0.9, 0.7)
    for seed, fraction in enumerate(fractions):
        run = runs / "NoisyPendulumGoal" / "cse" / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "importance.json").write_text(json.dumps(dict(max_weight=10.0, batches=100, mean_clipped_fraction=0.001,
                                                             mean_effective_sample_size_fraction=fraction)))
    report.print_stochastic(tmp_path / "open")
    out = capsys.readouterr().out
    assert f"| (c) SAC baseline | 3 | {t_cell(methods['baseline'][0])} |" in out
    assert f"| (b) importance-weighted CSE | 3 | {t_cell(importance['cse'][0])} |" in out
    assert f"| cse-importance - cse (Welch) | | {welch_cell(importance['cse'][0], methods['cse'][0])} (above 0) |" in out
    assert f"ESS fraction {t_cell(fractions, 3)}" in out and "read from the run directories" in out
    assert "**sigma_n = 0.2**\n\nnot run yet" in out


# --------------------------------------------------------------------------------- far extrapolation, eps
def test_extrapolation_sign_change_and_reward_error(tmp_path, capsys):
    velocities = (-3.0, 0.0, 2.0, 4.0, 5.0)
    differences = (-40.0, 30.0, 100.0, 20.0, -300.0)  # CSE - baseline per velocity
    rows = []
    for k, (velocity, difference) in enumerate(zip(velocities, differences)):
        for seed, noise in enumerate((-5.0, 0.0, 5.0)):
            rows += rows_for("CheetahVelocity", "baseline", seed, "listed", k, (velocity,), -500.0 + noise)
            rows += rows_for("CheetahVelocity", "cse", seed, "listed", k, (velocity,), -500.0 + difference + 2 * noise)
            rows += rows_for("CheetahVelocity", "ldr", seed, "listed", k, (velocity,), -450.0 + noise)
    write(tmp_path / "extrapolation", rows)
    per_velocity, errors = report.extrapolation_tables(tmp_path)
    assert errors is None
    assert per_velocity["cse_minus_baseline"].to_numpy() == pytest.approx(differences)
    report.print_extrapolation(tmp_path, zero_episodes=2)
    out = capsys.readouterr().out
    baseline = np.array([-505.0, -500.0, -495.0])
    assert f"| -3 | -5 | {t_cell(baseline)} | {t_cell(baseline - 40 + np.array([-5.0, 0, 5]))} |" in out
    # the all-zero action: the cheetah stays put, so 1000 steps of 1 - sqrt(1 + v_goal^2) (no control cost); the
    # methods (about -500) are below it only at v_goal = 0 (about 0; -1236 at 2, -2162 at -3)
    zero = {float(line.split("|")[1]): (line.split("|")[3:6], float(line.split("|")[6]))
            for line in out.splitlines() if line.startswith("| ") and line.split("|")[2].strip()[:1] in "+-"}
    for velocity, (cells, value) in zero.items():
        assert value == pytest.approx(1000 * (1 - np.sqrt(1 + velocity**2)), abs=1.0)
        assert all(cell.strip().endswith("\\*") == (velocity == 0.0) for cell in cells), (velocity, cells)
    assert len(zero) == len(velocities)
    assert welch_cell([-550.0, -540.0, -530.0], baseline) + " (below 0)" in out
    assert "mean changes sign between v_goal = -3 and 0" in out
    assert "mean changes sign between v_goal = 4 and 5" in out
    assert "reward_error.csv: not run yet" in out


def test_eps_table_and_missing_cells(tmp_path, capsys):
    values = [[-50.0, -60.0, -55.0], [-200.0, -150.0, -100.0], [-300.0, -250.0, -320.0]]
    write(tmp_path / "eps" / "0.2-ball", named_rows("PendulumGoal", "authors", {"cse": values}))
    report.print_eps(tmp_path)
    out = capsys.readouterr().out
    away = np.mean(values[1:], axis=0)  # a seed's mean over #1 and #2
    assert f"| 0.2 | ball | 3 | {t_cell(values[0])} | {t_cell(values[1])} | {t_cell(values[2])} | {t_cell(away)} |" in out
    assert "| 0.05 | sphere | not run yet |" in out


def test_eps_differences_at_the_authors_contexts_and_over_the_sweeps(tmp_path, capsys):
    # sweep rows along the goal torque (context_3); c0 = (2, 1, 1, 0): the points 0.05 and 0 are inside the
    # 0.1 ball, 0.5 and -0.5 outside; each seed's mean over the outside points is the mean of its two values
    def sweep_rows(method, per_point):
        rows = []
        for tau, seeds in per_point.items():
            for seed, mean in enumerate(seeds):
                rows += rows_for("PendulumGoal", method, seed, "context_3", tau, (2.0, 1.0, 1.0, tau), mean)
        return rows

    authors = [[-50.0, -52.0, -51.0], [-100.0, -90.0, -95.0], [-120.0, -110.0, -130.0]]
    wide = [[-55.0, -57.0, -56.0], [-80.0, -85.0, -70.0], [-100.0, -105.0, -95.0]]
    sweeps_authors = {
        0.0: [-50.0, -51.0, -49.0],
        0.05: [0.0, 0.0, 0.0],
        0.5: [-80.0, -82.0, -84.0],
        -0.5: [-90.0, -86.0, -88.0],
    }
    sweeps_wide = {0.0: [-55.0, -56.0, -54.0], 0.05: [9.0, 9.0, 9.0], 0.5: [-70.0, -74.0, -72.0], -0.5: [-76.0, -70.0, -73.0]}
    ldr = [[-60.0, -61.0, -62.0, -63.0], [-85.0, -80.0, -90.0, -88.0], [-100.0, -98.0, -97.0, -104.0]]
    sweeps_ldr = {0.0: [-60.0] * 4, 0.5: [-70.0, -71.0, -69.0, -72.0], -0.5: [-75.0, -74.0, -76.0, -73.0]}
    write(tmp_path / "open" / "eps" / "0.1-sphere",
          named_rows("PendulumGoal", "authors", {"cse": authors}) + sweep_rows("cse", sweeps_authors))
    write(
        tmp_path / "open" / "eps" / "0.4-ball",
        named_rows("PendulumGoal", "authors", {"cse": wide}) + sweep_rows("cse", sweeps_wide),
    )
    write(
        tmp_path / "authors" / "PendulumGoal",
        named_rows("PendulumGoal", "authors", {"ldr": ldr}) + sweep_rows("ldr", sweeps_ldr),
    )
    report.print_eps(tmp_path / "open")
    out = capsys.readouterr().out

    def away(values):
        return np.mean(values[1:], axis=0)

    def outside(per_point):
        return np.mean([per_point[0.5], per_point[-0.5]], axis=0)

    assert (f"| 0.4-ball | 3 | {welch_cell(away(wide), away(authors))} (above 0) | {welch_cell(away(wide), away(ldr))}"
            in out)
    assert (f"| {welch_cell(outside(sweeps_wide), outside(sweeps_authors))} (above 0) | "
            f"{welch_cell(outside(sweeps_wide), outside(sweeps_ldr))}") in out
    assert f"| 0.1-sphere | 3 | - | {welch_cell(away(authors), away(ldr))}" in out


def test_eps_sources_split_the_sweeps_and_contrast_the_wide_cell(tmp_path, capsys):
    # a gravity sweep (context_0) at c0 = 2, 3 and 4.55 and a goal-torque point (context_3) at 0.5; per point the
    # three seeds' values, plus each method's offset away from c0 (the 0.2 cell's growing with the seed); LDR is far
    # ahead at g = 4.55 only
    points = {("context_0", 2.0): [0.0, 0.0, 0.0], ("context_0", 3.0): [-80.0, -84.0, -82.0],
              ("context_0", 4.55): [-900.0, -700.0, -800.0], ("context_3", 0.5): [-70.0, -75.0, -72.0]}
    offset = {"0.1-sphere": lambda seed: 0.0, "0.2-sphere": lambda seed: 30.0 + 3.0 * seed, "ldr": lambda seed: 10.0}

    def value(cell, point, seed):
        if point == ("context_0", 2.0):
            return 0.0
        if cell == "ldr" and point == ("context_0", 4.55):
            return -400.0
        return points[point][seed] + offset[cell](seed)

    def rows(method, cell):
        out = []
        for sweep, at in points:
            context = [2.0, 1.0, 1.0, 0.0]
            context[int(sweep.split("_")[1])] = at
            for seed in range(3):
                out += rows_for("PendulumGoal", method, seed, sweep, at, tuple(context), value(cell, (sweep, at), seed))
        return out

    def seed_means(cell, keep):  # a seed's mean over the points kept
        return np.array([np.mean([value(cell, point, seed) for point in keep]) for seed in range(3)])

    authors = [[-50.0, -52.0, -51.0], [-100.0, -90.0, -95.0], [-120.0, -110.0, -130.0]]  # the test contexts #0-#2
    for folder, method, cell in ((tmp_path / "open" / "eps" / "0.1-sphere", "cse", "0.1-sphere"),
                                 (tmp_path / "open" / "eps" / "0.2-sphere", "cse", "0.2-sphere"),
                                 (tmp_path / "authors" / "PendulumGoal", "ldr", "ldr")):
        write(folder, named_rows("PendulumGoal", "authors", {method: authors}) + rows(method, cell))
    report.print_eps(tmp_path / "open")
    line = [row for row in capsys.readouterr().out.splitlines() if row.startswith("| 0.1-sphere | 3 | ")][-1]
    cells = [cell.strip() for cell in line.split("|")[3:-1]]  # the last table's row

    def expected(first, second):
        low, high = stats.ttest_ind(first, second, equal_var=False).confidence_interval(0.95)
        return welch_cell(first, second) + (" (above 0)" if low > 0 else " (below 0)" if high < 0 else " (contains 0)")

    gravity, torque = [("context_0", 3.0), ("context_0", 4.55)], [("context_3", 0.5)]
    near, every = [("context_0", 3.0), *torque], [*gravity, *torque]
    assert cells[0] == expected(seed_means("0.1-sphere", gravity), seed_means("ldr", gravity))
    assert cells[1] == cells[2] == "-"  # no mass or length sweep in these tables
    assert cells[3] == expected(seed_means("0.1-sphere", torque), seed_means("ldr", torque))
    assert cells[4] == expected(seed_means("0.1-sphere", near), seed_means("ldr", near))
    assert cells[4].startswith("-10.0 [")  # without the far gravity point the gap is LDR's offset alone
    assert cells[5] == expected(seed_means("0.1-sphere", every), seed_means("0.2-sphere", every))


def test_nothing_run_prints_not_run_yet_and_writes_no_figure(tmp_path, capsys):
    for name, (printer, plotter) in report.EXPERIMENTS.items():
        printer(tmp_path)
        plotter(tmp_path / f"{name}.png", tmp_path)
    out = capsys.readouterr().out
    assert out.count("not run yet") >= 5 and "Traceback" not in out
    assert not list(tmp_path.glob("*.png"))


def test_figures_and_the_tables_command(tmp_path):
    root = tmp_path / "open"
    write(root / "dimension" / "d2", dimension_rows(2))
    write(root / "jacobians" / "noise-0", named_rows("PendulumGoal", "authors", {"cse": [[-1.0, -2.0, -3.0]] * 3}))
    write(root / "jacobians" / "bias-0.5", named_rows("PendulumGoal", "authors", {"cse": [[-4.0, -2.0, -3.0]] * 3}))
    write(root / "stochastic" / "noise-0.2", named_rows("NoisyPendulumGoal", "listed", {"cse": [[-1.0, -2.0, -3.0]] * 3}))
    write(root / "eps" / "0.1-sphere", named_rows("PendulumGoal", "authors", {"cse": [[-1.0, -2.0, -3.0]] * 3}))
    pd.DataFrame([dict(source="random actions", goal_velocity=v, dc=v - 2, transitions=10, episodes=1, mean_abs_error=0.1,
                       max_abs_error=0.2, mean_error=0.1, mean_abs_reward_change=0.5, episode_sum_error=1.0,
                       episode_sum_abs_error=1.0) for v in (1.0, 3.0)]).to_csv(
        (root / "extrapolation").mkdir(parents=True) or root / "extrapolation" / "reward_error.csv", index=False)
    figures = tmp_path / "figures"
    result = subprocess.run([sys.executable, "-m", "cebe_deep", "report", "open", str(root), "all", "--figure", str(figures)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in figures.glob("*.png")) == sorted(f"{name}.png" for name in report.EXPERIMENTS)
    assert "| 2 | 3/3/3 |" in result.stdout and "| random actions" not in result.stdout
    assert "| 1 | -1 | 0.1000 | 0.2000 | 0.5000 | +1.0 | 1.0 |" in result.stdout


# ------------------------------------------------------------------------------------ the first-order error
def test_reward_error_against_the_closed_form():
    """CheetahVelocity: r = 1 - sqrt(1 + (v - v_goal)^2) - 0.1 |a|^2 and the context acts on the reward only, so
    with x = v - v_goal0 the first-order CSE reward misses exactly
    sqrt(1 + (x - dc)^2) - sqrt(1 + x^2) + x dc / sqrt(1 + x^2)."""
    action = np.array([0.5, -0.3, 0.2, 0.9, -1.0, 0.1])
    goal_velocities = (-3.0, 1.5, 2.0, 5.0)
    errors = reward_error.transition_errors(lambda observations: action[None], goal_velocities, episodes=1, steps=3)
    assert len(errors) == 3 * len(goal_velocities)
    x = errors["next_velocity"].to_numpy() - 2.0
    dc = errors["dc"].to_numpy()
    control = 0.1 * float(action @ action)
    assert errors["reward"].to_numpy() == pytest.approx(1 - np.sqrt(1 + x**2) - control, abs=1e-10)
    assert errors["resimulated_reward"].to_numpy() == pytest.approx(1 - np.sqrt(1 + (x - dc) ** 2) - control, abs=1e-10)
    expected = np.sqrt(1 + (x - dc) ** 2) - np.sqrt(1 + x**2) + x * dc / np.sqrt(1 + x**2)
    assert errors["error"].to_numpy() == pytest.approx(expected, abs=1e-10)
    assert (errors.loc[errors["dc"] == 0, "error"] == 0).all() and (errors["error"] >= -1e-12).all()


def test_reward_error_summary_by_hand():
    errors = pd.DataFrame(dict(episode=[0, 0, 1, 1], step=[0, 1, 0, 1], goal_velocity=[5.0] * 4, dc=[3.0] * 4,
                               reward=[0.0] * 4, first_order_reward=[0.0] * 4, resimulated_reward=[-1.0, 1.0, 2.0, 2.0],
                               error=[1.0, -1.0, -2.0, -2.0], next_velocity=[0.0] * 4))
    row = reward_error.summarize_errors(errors, "hand").iloc[0]
    assert (row.transitions, row.episodes) == (4, 2)
    assert (row.mean_abs_error, row.max_abs_error, row.mean_error) == (1.5, 2.0, -1.0)
    assert row.mean_abs_reward_change == 1.5 and row.mean_velocity == 0.0
    assert (row.episode_sum_error, row.episode_sum_abs_error) == (-2.0, 3.0)  # episodes: (0, 2) and (-4, 4)


def test_verdict_table_marks_test_contexts_where_every_method_is_below_doing_nothing(tmp_path):
    """CheetahVelocity's all-zero action scores about 1000 (1 - sqrt(1 + v_goal^2)): -250 at 0.75, -414 at -1.
    Agents at -100 (0.75) are above it; agents at -500 (-1) are below it: #6 is marked, #1 is not."""
    rows = []
    for method in ("baseline", "cse", "ldr"):
        for seed in range(3):
            for number, velocity, mean in ((0, 2.0, -60.0), (1, 0.75, -100.0), (6, -1.0, -500.0)):
                rows += rows_for("CheetahVelocity", method, seed, "authors", number, (velocity,), mean + seed)
    folder = tmp_path / "authors" / "CheetahVelocity"
    write(folder, rows)
    assert main(["summarize", str(folder / "evaluation.csv"), "--results", str(folder)]) == 0
    out = subprocess.run([sys.executable, "-m", "cebe_deep", "report", "verdicts", str(tmp_path / "authors"),
                          "--zero-episodes", "2"], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    row = next(line for line in out.splitlines() if line.startswith("| CheetahVelocity"))
    assert "#1:\u00a0" in row and "#6*:\u00a0" in row and "#1*" not in row
    assert "below the all-zero action's (2 episodes" in out


def test_readme_blocks_are_printed_by_the_report_command(tmp_path):
    """``cebe-deep report readme FILE`` rewrites each ``<!-- report open ... -->`` block with what the command prints
    (from the CSVs under the README's own folder, wherever it is run from), leaves the text around it, and
    refuses an unknown block command in one line before writing anything."""
    values = [[-50.0, -60.0, -55.0], [-200.0, -150.0, -100.0], [-300.0, -250.0, -320.0]]
    write(tmp_path / "results" / "open" / "eps" / "0.2-ball", named_rows("PendulumGoal", "authors", {"cse": values}))
    readme = tmp_path / "results" / "open" / "README.md"
    readme.write_text("intro\n<!-- report open eps -->\nstale numbers\n<!-- end -->\noutro\n")
    command = [sys.executable, "-m", "cebe_deep", "report", "readme", str(readme)]
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = readme.read_text()
    assert text.startswith("intro\n<!-- report open eps -->\n### eps and the perturbation shape") and text.endswith(
        "<!-- end -->\noutro\n"
    )
    assert "stale numbers" not in text and f"| 0.2 | ball | 3 | {t_cell(values[0])} |" in text

    readme.write_text("<!-- report nonsense x -->\nkeep\n<!-- end -->\n")
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "unknown block command 'nonsense x'" in result.stderr
    assert "Traceback" not in result.stderr and "keep" in readme.read_text()


def test_readme_only_some_blocks_and_an_edit_made_meanwhile_is_kept(tmp_path, monkeypatch):
    """``report readme FILE --only PREFIX`` refreshes just the blocks whose command starts with PREFIX; the file
    is read again before writing, so text edited while the tables were computed is kept (an earlier version read
    the file once and wrote it back, losing such an edit); a bad --only exits 2."""
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- report open eps -->\nold eps\n<!-- end -->\nmiddle\n"
                      "<!-- report verdicts authors -->\nold verdicts\n<!-- end -->\noutro\n")

    def eps_table(root, experiment):
        assert experiment == "eps" and root == tmp_path / "."
        readme.write_text(readme.read_text().replace("middle", "middle, edited meanwhile"))  # someone edits now
        print("new eps table")

    monkeypatch.setattr(tables, "open_questions", eps_table)
    monkeypatch.setattr(tables, "verdicts", lambda root: pytest.fail("--only 'open eps' refreshed the verdicts"))
    readme_module.refresh_readme(readme, ["open eps"])
    assert readme.read_text() == ("intro\n<!-- report open eps -->\nnew eps table\n<!-- end -->\n"
                                  "middle, edited meanwhile\n<!-- report verdicts authors -->\n"
                                  "old verdicts\n<!-- end -->\noutro\n")
    before = readme.read_text()
    result = subprocess.run([sys.executable, "-m", "cebe_deep", "report", "readme", str(readme), "--only", "nonsense"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--only 'nonsense'" in result.stderr and "Traceback" not in result.stderr
    assert readme.read_text() == before


def test_training_table_per_quarter_with_the_zero_action(tmp_path):
    """``cebe-deep report training``: a seed's episode-weighted mean per quarter, the t-interval over seeds, and the
    all-zero action at c0 (SimpleDirection's reward c . a is 0 at c0 = 0 for every action)."""
    rows = []
    for seed, level in enumerate((1.0, 3.0, 8.0)):
        for number in range(8):  # 8 bins of 10 env steps: quarter q holds bins 2q and 2q + 1
            episodes = 1 + number % 2  # bin 2q + 1 weighs twice as much as bin 2q
            rows.append(dict(task="SimpleDirection", method="ldr", seed=seed, run=f"r{seed}", budget=80, bin=number,
                             env_steps=10 * (number + 1), episodes=episodes, **{"return": level + number}))
    folder = tmp_path / "authors" / "SimpleDirection"
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "training_curves.csv", index=False)
    out = subprocess.run([sys.executable, "-m", "cebe_deep", "report", "training", str(tmp_path / "authors")],
                         capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    row = next(line for line in out.splitlines() if line.startswith("| SimpleDirection"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:3] == ["SimpleDirection (80)", "ldr", "3"]
    for quarter in range(4):
        per_seed = [level + (2 * quarter * 1 + (2 * quarter + 1) * 2) / 3 for level in (1.0, 3.0, 8.0)]
        low, high = stats.t.interval(0.95, 2, loc=np.mean(per_seed), scale=stats.sem(per_seed))
        assert cells[3 + quarter] == f"{np.mean(per_seed):.1f} [{low:.1f}, {high:.1f}]"
    assert cells[7] == "0.0"


def test_status_counts_the_committed_cells_of_each_part(tmp_path, capsys):
    """A cell counts once its folder holds evaluation.csv (the tabular part: slopes.csv); an empty folder, or a
    folder with only a figure, is not a committed cell."""
    for folder in ("stochastic-tabular",):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "slopes.csv").write_text("x\n")
    for cell in ("eps/0.05-sphere", "eps/0.4-ball", "dimension/d2"):
        (tmp_path / cell).mkdir(parents=True)
        (tmp_path / cell / "evaluation.csv").write_text("x\n")
    (tmp_path / "eps" / "0.1-ball").mkdir(parents=True)
    (tmp_path / "eps" / "0.1-ball" / "sweep.png").write_text("")
    report.print_status(tmp_path)
    lines = {line.split(" | ")[1].strip("`"): line for line in capsys.readouterr().out.splitlines()
             if line.startswith("| ") and "`" in line}
    assert lines["tabular"].endswith("| done |")
    assert lines["eps"].endswith("| 2 of 8 cells committed; not yet: 0.05-ball, 0.1-sphere, 0.1-ball, 0.2-sphere, "
                                 "0.2-ball, 0.4-sphere |")
    assert lines["dimension"].endswith("| 1 of 5 cells committed; not yet: d4, d8, d16, d32 |")
    assert lines["budget"].endswith("| not run yet (12 cells) |")  # 2 dimensions x 6 budgets
    assert lines["stochastic"].endswith("| not run yet (4 cells) |")
    assert lines["extrapolation"].endswith("| not run yet (2 cells) |")
