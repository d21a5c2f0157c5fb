"""Statistics over seeds: per-seed means, Student-t intervals, and the method comparisons the verdicts use.

The unit of replication is the seed (one trained policy): a context's return for one seed is the mean over
its evaluation episodes, and intervals are over seeds.  Comparisons are paired differences where the runs
share seeds (:func:`paired_differences`), with their 95% t-interval.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["t_interval", "per_seed_returns", "summarize", "compare_methods", "headline", "method_differences"]


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two-sided Student-t confidence interval of the mean (over seeds)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))
    return mean, mean - half, mean + half


def per_seed_returns(table: pd.DataFrame) -> pd.DataFrame:
    """Mean return per (task, method, seed, sweep, sweep_value), over the evaluation episodes."""
    keys = ["task", "method", "seed", "sweep", "sweep_value"]
    return table.groupby(keys, as_index=False)["episode_return"].mean()


def summarize(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval over seeds of the per-seed mean return, per (task, method, sweep, sweep_value)."""
    per_seed = per_seed_returns(table)
    rows = []
    for (task, method, sweep_name, value), group in per_seed.groupby(["task", "method", "sweep", "sweep_value"]):
        mean, low, high = t_interval(group["episode_return"].to_numpy(), level)
        rows.append(dict(task=task, method=method, sweep=sweep_name, sweep_value=value, seeds=len(group),
                         mean_return=mean, ci_low=low, ci_high=high))
    return pd.DataFrame(rows)


def compare_methods(summary: pd.DataFrame, base_context: Sequence[float], eps: float,
                    baseline: str = "baseline", candidate: str = "cse", reference: str = "ldr") -> pd.DataFrame:
    """Per evaluated context: relative improvement of ``candidate`` over ``baseline`` (as a fraction of
    |baseline|), whether the context lies away from c0 (outside the training ball of radius eps), and
    whether ``candidate``'s mean lies inside ``reference``'s confidence interval.  The columns keep the
    default names (``cse_mean``, ``ldr_mean``, ``cse_within_ldr_ci``, ...) for any ``candidate`` and ``reference``.
    """
    wide = summary.pivot_table(index=["task", "sweep", "sweep_value"], columns="method",
                               values=["mean_return", "ci_low", "ci_high"])
    rows = []
    for (task, sweep_name, value), row in wide.iterrows():
        def get(stat, method):
            return float(row.get((stat, method), float("nan")))

        if sweep_name == "angle":
            distance = abs(math.atan2(math.sin(value - math.atan2(base_context[1], base_context[0])),
                                      math.cos(value - math.atan2(base_context[1], base_context[0]))))
        else:
            distance = abs(value - base_context[int(sweep_name.split("_")[1])])
        base_mean, cand_mean = get("mean_return", baseline), get("mean_return", candidate)
        rows.append(dict(task=task, sweep=sweep_name, sweep_value=value, distance_from_c0=distance,
                         away_from_c0=distance > eps, baseline_mean=base_mean, cse_mean=cand_mean,
                         ldr_mean=get("mean_return", reference),
                         relative_improvement=(cand_mean - base_mean) / abs(base_mean) if base_mean else float("nan"),
                         cse_within_ldr_ci=get("ci_low", reference) <= cand_mean <= get("ci_high", reference),
                         cse_at_least_ldr_low=cand_mean >= get("ci_low", reference)))
    return pd.DataFrame(rows)


def headline(comparison: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, sweep) and an ``all`` row: over the contexts away from c0, the mean and median
    relative improvement of CSE over the baseline, the share of contexts where CSE's mean beats the
    baseline's, and the share where CSE's mean is inside LDR's CI or above it."""
    away = comparison[comparison["away_from_c0"]]
    rows = []
    for (task, sweep_name), group in list(away.groupby(["task", "sweep"])) + [((t, "all"), g) for t, g in away.groupby("task")]:
        rows.append(dict(task=task, sweep=sweep_name, contexts=len(group),
                         mean_relative_improvement=group["relative_improvement"].mean(),
                         median_relative_improvement=group["relative_improvement"].median(),
                         cse_beats_baseline=(group["cse_mean"] > group["baseline_mean"]).mean(),
                         cse_within_or_above_ldr_ci=(group["cse_within_ldr_ci"] | (group["cse_mean"] > group["ldr_mean"])).mean()))
    return pd.DataFrame(rows)
