"""Statistics over seeds: per-seed means, Student-t intervals, and the method comparisons the verdicts use.

The unit of replication is the seed (one trained policy): a context's return for one seed is the mean over
its evaluation episodes, and intervals are over seeds.  Comparisons between methods are differences of
means over independently trained seeds with their Welch t-interval (:func:`method_differences`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["AWAY_TOLERANCE", "outside_ball", "away_from_c0", "t_interval", "per_seed_returns", "summarize",
           "welch_interval", "contrast_interval", "method_differences", "distance_from_c0", "compare_methods", "verdict",
           "distinct_contexts", "headline"]

#: A context at distance ``eps + AWAY_TOLERANCE`` or less from c0 is inside the training ball: the tolerance absorbs
#: rounding (``1.1 - 1.0 = 0.10000000000000009 > 0.1``), so a context the grid puts on the ball's edge is not away.
AWAY_TOLERANCE = 1e-6


def outside_ball(distance, eps: float, tolerance: float = AWAY_TOLERANCE) -> np.ndarray:
    """Whether each distance from c0 lies outside the training ball of radius ``eps``: ``distance > eps + tolerance``,
    the one rule "away from c0" of results/PROTOCOL.md (section 2), whatever the distance measures (Euclidean, or
    the angle between directions on an ``angle`` sweep, :func:`distance_from_c0`)."""
    return np.asarray(distance, dtype=np.float64) > eps + tolerance


def away_from_c0(contexts, c0: Sequence[float], eps: float, tolerance: float = AWAY_TOLERANCE) -> np.ndarray:
    """Whether each context (rows of ``contexts``, shape (K, d)) lies outside the training ball:
    ``|c - c0|_2 > eps + tolerance`` (:func:`outside_ball` of the Euclidean distance)."""
    contexts = np.atleast_2d(np.asarray(contexts, dtype=np.float64))
    return outside_ball(np.linalg.norm(contexts - np.asarray(c0, dtype=np.float64), axis=1), eps, tolerance)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two-sided Student-t confidence interval of the mean (over seeds)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))
    return mean, mean - half, mean + half


def _context_columns(table: pd.DataFrame) -> list[str]:
    return sorted((column for column in table.columns if column.startswith("context_")), key=lambda c: int(c.split("_")[1]))


def per_seed_returns(table: pd.DataFrame) -> pd.DataFrame:
    """Mean return per (task, method, seed, sweep, sweep_value) over the evaluation episodes, with the
    context's coordinates ``context_i`` (and ``run`` where the table has it)."""
    keys = ["task", "method", "seed", "sweep", "sweep_value"] + (["run"] if "run" in table.columns else [])
    context = _context_columns(table)
    return table.groupby(keys + context, as_index=False, dropna=False)["episode_return"].mean()


def summarize(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval over seeds of the per-seed mean return, per (task, method, sweep, sweep_value),
    with the context's coordinates."""
    per_seed = per_seed_returns(table)
    context = _context_columns(per_seed)
    rows = []
    for (task, method, sweep_name, value), group in per_seed.groupby(["task", "method", "sweep", "sweep_value"]):
        mean, low, high = t_interval(group["episode_return"].to_numpy(), level)
        rows.append(dict(task=task, method=method, sweep=sweep_name, sweep_value=value,
                         **{column: group[column].iloc[0] for column in context}, seeds=len(group),
                         mean_return=mean, ci_low=low, ci_high=high))
    return pd.DataFrame(rows)


def welch_interval(first: np.ndarray, second: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Difference of means ``mean(first) - mean(second)`` of two independent samples (runs of two methods are
    trained independently) and its Welch t-interval (Welch-Satterthwaite degrees of freedom)."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    difference = float(first.mean() - second.mean())
    if first.size < 2 or second.size < 2:
        return difference, float("nan"), float("nan")
    v1, v2 = first.var(ddof=1) / first.size, second.var(ddof=1) / second.size
    if v1 + v2 == 0:
        return difference, difference, difference
    dof = (v1 + v2) ** 2 / (v1**2 / (first.size - 1) + v2**2 / (second.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, dof) * math.sqrt(v1 + v2))
    return difference, difference - half, difference + half


def contrast_interval(samples: Sequence[np.ndarray], weights: Sequence[float],
                      level: float = 0.95) -> tuple[float, float, float]:
    r"""A linear contrast :math:`L = \sum_i w_i \bar x_i` of the means of independent samples (runs of different
    cells are trained independently) and its t-interval with Welch-Satterthwaite degrees of freedom:
    :math:`\widehat{\mathrm{Var}}(L) = \sum_i w_i^2 s_i^2 / n_i`,
    :math:`\nu = \widehat{\mathrm{Var}}(L)^2 / \sum_i (w_i^2 s_i^2 / n_i)^2 / (n_i - 1)`.
    With two samples and weights (1, -1) it is :func:`welch_interval`.  A least-squares slope of group means
    against x is such a contrast, with :math:`w_i = (x_i - \bar x) / \sum_j (x_j - \bar x)^2`.  NaN bounds
    where a sample with a nonzero weight has fewer than two values."""
    samples = [np.asarray(sample, np.float64) for sample in samples]
    weights = np.asarray(weights, np.float64)
    if len(samples) != weights.size:
        raise ValueError(f"contrast_interval: {len(samples)} samples but {weights.size} weights")
    estimate = float(sum(w * sample.mean() for w, sample in zip(weights, samples)))
    used = [(w, sample) for w, sample in zip(weights, samples) if w != 0]
    if any(sample.size < 2 for _, sample in used):
        return estimate, float("nan"), float("nan")
    parts = np.array([w**2 * sample.var(ddof=1) / sample.size for w, sample in used])
    variance = float(parts.sum())
    if variance == 0:
        return estimate, estimate, estimate
    dof = variance**2 / float(sum(part**2 / (sample.size - 1) for part, (_, sample) in zip(parts, used)))
    half = float(stats.t.ppf(0.5 + level / 2, dof) * math.sqrt(variance))
    return estimate, estimate - half, estimate + half


def method_differences(table: pd.DataFrame, candidate: str = "cse", others: Sequence[str] = ("baseline", "ldr"),
                       level: float = 0.95) -> pd.DataFrame:
    """Per evaluated context and per method in ``others``: ``candidate - other`` of the per-seed mean returns,
    with its Welch ``level`` interval over seeds and a sign: +1 (interval above 0), -1 (below), 0 (contains 0);
    NaN where there is no interval (fewer than two seeds of a method), so that a verdict never counts such a
    context as judged."""
    per_seed = per_seed_returns(table)
    context = _context_columns(per_seed)
    rows = []
    for (task, sweep_name, value), group in per_seed.groupby(["task", "sweep", "sweep_value"]):
        mine = group.loc[group["method"] == candidate, "episode_return"].to_numpy()
        for other in others:
            theirs = group.loc[group["method"] == other, "episode_return"].to_numpy()
            if mine.size == 0 or theirs.size == 0:
                continue
            difference, low, high = welch_interval(mine, theirs, level)
            sign = float("nan") if math.isnan(low) else 1 if low > 0 else (-1 if high < 0 else 0)
            rows.append(dict(task=task, sweep=sweep_name, sweep_value=value,
                             **{column: group[column].iloc[0] for column in context},
                             comparison=f"{candidate} - {other}", difference=difference, ci_low=low, ci_high=high,
                             seeds_candidate=mine.size, seeds_other=theirs.size, sign=sign))
    return pd.DataFrame(rows)


def distance_from_c0(summary: pd.DataFrame, base_context: Sequence[float]) -> np.ndarray:
    """|c - c0| of each row (Euclidean; for ``angle`` sweeps the angle between the directions)."""
    base = np.asarray(base_context, np.float64)
    context = summary[_context_columns(summary)].to_numpy(np.float64)
    distance = np.linalg.norm(context - base, axis=1)
    angle = (summary["sweep"] == "angle").to_numpy()
    if angle.any():
        base_angle = math.atan2(base[1], base[0])
        values = summary.loc[angle, "sweep_value"].to_numpy(np.float64) - base_angle
        distance[angle] = np.abs(np.arctan2(np.sin(values), np.cos(values)))
    return distance


def compare_methods(summary: pd.DataFrame, base_context: Sequence[float], eps: float,
                    baseline: str = "baseline", candidate: str = "cse", reference: str = "ldr",
                    table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per evaluated context: its coordinates ``context_i``, the means of ``baseline``, ``candidate`` and
    ``reference``, the distance from c0 and whether it lies outside the training ball of radius eps
    (``away_from_c0``, :func:`outside_ball`: farther than ``eps + AWAY_TOLERANCE``), whether ``candidate``'s mean
    lies inside ``reference``'s confidence interval, and (only descriptive; unreliable near a zero baseline) the
    relative improvement over ``baseline``.  The columns keep the default names (``cse_mean``,
    ``ldr_mean``, ...) for any ``candidate`` and ``reference``.  With the evaluation ``table``, the differences
    ``candidate - baseline`` and ``candidate - reference`` and their Welch 95% intervals over seeds
    (:func:`method_differences`) are added as ``cse_minus_baseline``, ``cse_minus_baseline_low``, ``..._high``,
    ``cse_minus_baseline_sign`` and the same for ``cse_minus_ldr``: the verdicts rest on these.
    """
    summary = summary.assign(distance_from_c0=distance_from_c0(summary, base_context))
    wide = summary.pivot_table(index=["task", "sweep", "sweep_value", "distance_from_c0"], columns="method",
                               values=["mean_return", "ci_low", "ci_high"])
    rows = []
    for (task, sweep_name, value, distance), row in wide.iterrows():
        def get(stat, method):
            return float(row.get((stat, method), float("nan")))

        base_mean, cand_mean = get("mean_return", baseline), get("mean_return", candidate)
        rows.append(dict(task=task, sweep=sweep_name, sweep_value=value, distance_from_c0=distance,
                         away_from_c0=bool(outside_ball(distance, eps)), baseline_mean=base_mean, cse_mean=cand_mean,
                         ldr_mean=get("mean_return", reference),
                         relative_improvement=(cand_mean - base_mean) / abs(base_mean) if base_mean else float("nan"),
                         cse_within_ldr_ci=get("ci_low", reference) <= cand_mean <= get("ci_high", reference),
                         cse_at_least_ldr_low=cand_mean >= get("ci_low", reference)))
    comparison = pd.DataFrame(rows)
    context = _context_columns(summary)
    if context and not comparison.empty:  # the coordinates: one context can be on two sweeps (distinct_contexts)
        coordinates = summary[["task", "sweep", "sweep_value", *context]].drop_duplicates(["task", "sweep", "sweep_value"])
        comparison = comparison.merge(coordinates, on=["task", "sweep", "sweep_value"], how="left")
    if table is not None and not comparison.empty:
        differences = method_differences(table, candidate, (baseline, reference))
        for other, name in ((baseline, "cse_minus_baseline"), (reference, "cse_minus_ldr")):
            if differences.empty:  # the table lacks the candidate or both others: no differences to add
                break
            part = differences[differences["comparison"] == f"{candidate} - {other}"]
            part = part[["task", "sweep", "sweep_value", "difference", "ci_low", "ci_high", "sign"]].rename(columns=dict(
                difference=name, ci_low=f"{name}_low", ci_high=f"{name}_high", sign=f"{name}_sign"))
            comparison = comparison.merge(part, on=["task", "sweep", "sweep_value"], how="left")
    return comparison


def verdict(comparison: pd.DataFrame) -> dict:
    """The paper's claim for one task, judged on the contexts away from c0 (outside the training ball) of a
    :func:`compare_methods` table with differences.  The claim has two parts, each judged from the signs of
    the 95% intervals of the differences (+1: above 0, -1: below 0, 0: contains 0):

    - CSE beats the baseline: ``reproduced`` if CSE - baseline is above 0 at half the contexts or more and
      below 0 at none; ``not reproduced`` if it is above 0 at none; ``inconclusive`` otherwise;
    - CSE matches LDR: ``reproduced`` if CSE - LDR is below 0 at no more than a tenth of the contexts;
      ``not reproduced`` if below 0 at half or more; ``inconclusive`` otherwise.

    The intervals are per context, not corrected for the number of contexts; the counts are reported with
    the verdict so a reader can judge.  Each part is judged on the contexts where its difference exists; a part
    with none (no candidate, or a sweep without LDR runs) is ``no data``, never a verdict on zero contexts."""
    away = distinct_contexts(comparison)
    away = away[away["away_from_c0"]]
    result = dict(contexts=len(away))
    for name, part in (("cse_minus_baseline", "beats_baseline"), ("cse_minus_ldr", "matches_ldr")):
        signs = away[f"{name}_sign"].to_numpy(dtype=np.float64) if f"{name}_sign" in away else np.array([])
        signs = signs[~np.isnan(signs)]
        n, above, below = len(signs), int((signs == 1).sum()), int((signs == -1).sum())
        result.update({f"{name}_above": above, f"{name}_below": below, f"{name}_unclear": int((signs == 0).sum())})
        if n == 0:
            result[part] = "no data"
        elif part == "beats_baseline":
            result[part] = (
                "reproduced" if above >= n / 2 and below == 0 else "not reproduced" if above == 0 else "inconclusive"
            )
        else:
            result[part] = "reproduced" if below <= n / 10 else "not reproduced" if below >= n / 2 else "inconclusive"
    return result


def distinct_contexts(comparison: pd.DataFrame) -> pd.DataFrame:
    """``comparison`` with each context once, so that no context is counted twice in a verdict: a context on two
    sweeps (an authors' test context that is also a point of a one-axis sweep, c0 on every sweep) keeps its
    first row (by the coordinates ``context_i``, where the table has them); an angle sweep that holds both -pi
    and pi (older grids) keeps -pi only, since the two are one direction."""
    angle = comparison["sweep"] == "angle"
    has_minus_pi = np.isclose(comparison.loc[angle, "sweep_value"], -math.pi).any()
    repeated = angle & np.isclose(comparison["sweep_value"], math.pi) & has_minus_pi
    context = _context_columns(comparison)
    if context:
        repeated |= comparison[["task", *context]].round(9).duplicated()
    return comparison[~repeated]


def headline(comparison: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, sweep) and an ``all`` row: over the distinct contexts away from c0, the mean and
    median relative improvement of CSE over the baseline, the share of contexts where CSE's mean beats the
    baseline's, and the share where CSE's mean is inside LDR's CI or above it."""
    comparison = distinct_contexts(comparison)
    away = comparison[comparison["away_from_c0"]]
    rows = []
    for (task, sweep_name), group in list(away.groupby(["task", "sweep"])) + [
        ((t, "all"), g) for t, g in away.groupby("task")
    ]:
        rows.append(
            dict(
                task=task,
                sweep=sweep_name,
                contexts=len(group),
                mean_relative_improvement=group["relative_improvement"].mean(),
                median_relative_improvement=group["relative_improvement"].median(),
                cse_beats_baseline=(group["cse_mean"] > group["baseline_mean"]).mean(),
                cse_within_or_above_ldr_ci=(group["cse_within_ldr_ci"] | (group["cse_mean"] > group["ldr_mean"])).mean(),
            )
        )
    return pd.DataFrame(rows)
