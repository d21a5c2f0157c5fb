"""One rule for "away from c0" (results/PROTOCOL.md, section 2: |c - c0| > eps + 1e-6) in every code path that
decides it: the protocol's distinct contexts, the per-context comparison (comparison.csv) with its verdict and
headline, and the open questions' per-seed means.  The boundary case is PendulumGoal's mass 1.1 and length 1.1
with c0 1.0 and eps 0.1, where ``1.1 - 1.0 = 0.10000000000000009 > 0.1``: inside the ball everywhere."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cebe_deep.report import protocol, statistics
from cebe_deep.report.open_questions import away_seed_means
from cebe_deep.report.statistics import (
    AWAY_TOLERANCE,
    away_from_c0,
    compare_methods,
    headline,
    outside_ball,
    summarize,
    verdict,
)

C0 = (2.0, 1.0, 1.0, 0.0)  # PendulumGoal: gravity, mass, length, goal torque
EPS = 0.1
#: (sweep, value) -> away from c0: two on the edge of the ball by rounding, one inside, three clearly outside.
POINTS = {("context_1", 1.1): False, ("context_2", 1.1): False, ("context_1", 0.9): False,
          ("context_1", 1.0): False, ("context_1", 1.3): True, ("context_2", 0.5): True, ("context_3", 0.75): True}


def _context(sweep: str, value: float) -> tuple[float, ...]:
    context = list(C0)
    context[int(sweep.split("_")[1])] = value
    return tuple(context)


def _table(seeds: int = 3) -> pd.DataFrame:
    """PendulumGoal runs of the three methods at the points of :data:`POINTS`: CSE is 10 above the baseline and LDR
    at every context away from c0 and equal to them inside the ball, with a seed effect shared by the methods."""
    rows = []
    for method, gain in (("baseline", 0.0), ("cse", 10.0), ("ldr", 0.0)):
        for seed in range(seeds):
            for (sweep, value), away in POINTS.items():
                context = _context(sweep, value)
                base = -100.0 + seed + (gain if away else 0.0)
                for episode, shift in enumerate((-1.0, 1.0)):
                    rows.append(dict(task="PendulumGoal", method=method, seed=seed, sweep=sweep, sweep_value=value,
                                     **{f"context_{i}": v for i, v in enumerate(context)}, episode=episode,
                                     episode_return=base + shift))
    return pd.DataFrame(rows)


def test_the_boundary_in_floating_point_is_what_the_rule_is_for():
    assert 1.1 - 1.0 > EPS  # the comparison without a tolerance calls the edge of the ball "away"
    assert AWAY_TOLERANCE == 1e-6
    assert outside_ball([1.1 - 1.0, EPS + 0.5e-6, EPS + 2e-6, 0.3], EPS).tolist() == [False, False, True, True]
    contexts = np.array([_context(sweep, value) for sweep, value in POINTS])
    assert away_from_c0(contexts, C0, EPS).tolist() == list(POINTS.values())


def test_the_protocol_uses_the_same_function():
    assert protocol.away_from_c0 is statistics.away_from_c0
    assert protocol.AWAY_TOLERANCE == statistics.AWAY_TOLERANCE
    contexts = protocol.distinct_contexts(_table(), C0, EPS)
    away = {tuple(row[f"context_{i}"] for i in range(4)): row["away"] for _, row in contexts.iterrows()}
    assert away == {_context(sweep, value): expected for (sweep, value), expected in POINTS.items()}


def test_the_comparison_table_its_verdict_and_headline_count_the_edge_as_inside():
    table = _table()
    comparison = compare_methods(summarize(table), C0, EPS, table=table)
    found = dict(zip(zip(comparison["sweep"], comparison["sweep_value"]), comparison["away_from_c0"]))
    assert found == POINTS
    assert comparison["away_from_c0"].dtype == bool
    judged = verdict(comparison)
    assert judged["contexts"] == 3 and judged["cse_minus_baseline_above"] == 3
    assert headline(comparison).set_index("sweep").loc["all", "contexts"] == 3


def test_an_angle_sweep_keeps_its_angle_as_the_distance_with_the_same_tolerance():
    # AntDirection-like angle sweep: the distance is the angle from c0's direction, judged by the same rule
    angles = {0.0: False, EPS + 0.5e-6: False, -(EPS + 0.5e-6): False, EPS + 2e-6: True, 0.5: True, math.pi: True}
    summary = pd.DataFrame([dict(task="AntDirection", method=method, sweep="angle", sweep_value=angle,
                                 context_0=math.cos(angle), context_1=math.sin(angle), seeds=2,
                                 mean_return=0.0, ci_low=-1.0, ci_high=1.0)
                            for method in ("baseline", "cse", "ldr") for angle in angles])
    comparison = compare_methods(summary, (1.0, 0.0), EPS)
    assert dict(zip(comparison["sweep_value"], comparison["away_from_c0"])) == angles


@pytest.mark.parametrize("sweeps", [False, True])
def test_the_open_questions_seed_means_leave_out_the_edge(sweeps):
    table = _table()
    if not sweeps:  # the authors' contexts: c0, one on the edge of the ball and one clearly outside
        table = table[table["sweep"].isin(["context_1"])].assign(sweep="authors")
        table = table.assign(sweep_value=table["sweep_value"].map({1.0: 0, 1.1: 1, 1.3: 2, 0.9: 3}))
    means = away_seed_means(table, "cse", sweeps=sweeps)
    # every context counted is away, where CSE's return is -100 + seed + 10; one inside would pull the mean down
    assert means.tolist() == pytest.approx([-90.0, -89.0, -88.0])
