"""The protocol's statistics: verdict words, bootstrap intervals over paired seeds, IQM, probability of
improvement, Holm, per-context tests and power (results/PROTOCOL.md)."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from cebe_deep.report.protocol.scores import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, LEVEL, MARGIN, POWER
from cebe_deep.report.statistics import t_interval


# ----------------------------------------------------------------------------------------------- the rules
def verdict_word(low: float, high: float, margin: float = MARGIN) -> str:
    """The word of a 95% interval [low, high] of CSE - other (results/PROTOCOL.md, section 5), in this order:
    ``beats`` if low > 0; ``matches`` if -margin < low and high < margin; ``worse`` if high < 0; else
    ``inconclusive``; ``no data`` for a NaN bound."""
    if math.isnan(low) or math.isnan(high):
        return "no data"
    if low > 0:
        return "beats"
    if -margin < low and high < margin:
        return "matches"
    if high < 0:
        return "worse"
    return "inconclusive"


def claim_status(word: str, claim: str) -> str:
    """The paper's claim ``"beats"`` (CSE beats the baseline) or ``"matches or beats"`` (CSE matches LDR) judged
    from a :func:`verdict_word`: ``reproduced``, ``not reproduced``, ``inconclusive`` or ``no data``."""
    if word in ("no data", "inconclusive"):
        return word
    if claim == "beats":
        return "reproduced" if word == "beats" else "not reproduced"
    if claim == "matches or beats":
        return "reproduced" if word in ("beats", "matches") else "not reproduced"
    raise ValueError(f"unknown claim {claim!r}")


# ------------------------------------------------------------------------------------------- the statistics
def expanded_percentile_alpha(n: int, level: float = LEVEL) -> float:
    r"""The expanded percentile interval's tail level (Hesterberg 2015): :math:`\alpha' = 2\Phi(-\sqrt{n/(n-1)}\,
    t_{n-1, 1-\alpha/2})`, :math:`\alpha = 1 - ` ``level``; the bootstrap percentiles :math:`\alpha'/2` and
    :math:`1 - \alpha'/2` then give a mean about the width of the Student-t interval."""
    if n < 2:
        return float("nan")
    alpha = 1.0 - level
    return float(2.0 * stats.norm.cdf(-math.sqrt(n / (n - 1)) * stats.t.ppf(1.0 - alpha / 2.0, n - 1)))


def iqm(scores: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Interquartile mean (25% trimmed from each end), over all entries (``axis=None``), as ``rliable``'s
    ``aggregate_iqm``."""
    return stats.trim_mean(np.asarray(scores, dtype=np.float64), 0.25, axis=axis)


def probability_of_improvement(first: np.ndarray, second: np.ndarray) -> np.ndarray | float:
    """P(first > second) as ``rliable``: per context (last axis), the share of (run of first, run of second) pairs
    where first scores higher, ties counting 1/2 (the Mann-Whitney U / (n m)), averaged over contexts.  ``first``
    (..., n, K) and ``second`` (..., m, K); leading axes are kept (one value per bootstrap resample)."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    above = first[..., :, None, :] > second[..., None, :, :]
    tied = first[..., :, None, :] == second[..., None, :, :]
    return (above + 0.5 * tied).mean(axis=(-3, -2)).mean(axis=-1)


def paired_bootstrap_interval(statistic: Callable[[np.ndarray, np.ndarray], np.ndarray], first: np.ndarray,
                              second: np.ndarray, level: float = LEVEL, resamples: int = BOOTSTRAP_RESAMPLES,
                              seed: int = BOOTSTRAP_SEED, chunk: int = 1000) -> tuple[float, float, float]:
    """``statistic(first, second)`` and its expanded-percentile bootstrap interval over paired rows: ``first`` and
    ``second`` are (n, K) with row i of both one seed pair; each resample draws n row indices with replacement and
    takes the same rows of both (a seed with all its contexts).  ``statistic`` maps (B, n, K) arrays to (B,)."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    n = first.shape[0]
    estimate = float(statistic(first[None], second[None])[0])
    if n < 2:
        return estimate, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = []
    for start in range(0, resamples, chunk):
        rows = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        values.append(statistic(first[rows], second[rows]))
    values = np.concatenate(values)
    tail = expanded_percentile_alpha(n, level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return estimate, float(low), float(high)


def iqm_difference(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return iqm(first.reshape(first.shape[0], -1), axis=1) - iqm(second.reshape(second.shape[0], -1), axis=1)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values: sorted ascending, p_(j) times (m - j + 1) (j from 1), made monotone and
    capped at 1; reject at level alpha where the adjusted p-value is below alpha."""
    p = np.asarray(pvalues, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    m = p.size
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted


def _one_sample_p(differences: np.ndarray, value: float, alternative: str) -> np.ndarray:
    """Per column, the one-sample t-test p-value of mean(differences) against ``value``; a column with sd 0 gives 0
    or 1 by which side of ``value`` its mean lies (scipy returns NaN there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = stats.ttest_1samp(differences, value, axis=0, alternative=alternative).pvalue
    mean, sd = differences.mean(axis=0), differences.std(axis=0, ddof=1)
    degenerate = ~(sd > 0)
    side = {"two-sided": mean != value, "greater": mean > value, "less": mean < value}[alternative]
    return np.where(degenerate, np.where(side, 0.0, 1.0), p)


def per_context_tests(differences: np.ndarray, margin: float = MARGIN, level: float = LEVEL) -> pd.DataFrame:
    """Per context (columns of ``differences``, (n seeds, K)): the mean paired difference, its t-interval, the
    two-sided paired t-test p-value against 0 and the equivalence p-value (two one-sided tests against -margin and
    +margin: the larger of their p-values), both Holm-adjusted over the K contexts, and the context's word
    (results/PROTOCOL.md, section 6): ``beats`` (adjusted p < 1 - level, mean > 0), else ``matches`` (adjusted
    equivalence p < (1 - level) / 2), else ``worse`` (adjusted p < 1 - level, mean < 0), else ``inconclusive``."""
    differences = np.asarray(differences, np.float64)
    alpha = 1.0 - level
    mean = differences.mean(axis=0)
    p_two_sided = _one_sample_p(differences, 0.0, "two-sided")
    p_equivalent = np.maximum(_one_sample_p(differences, -margin, "greater"), _one_sample_p(differences, margin, "less"))
    adjusted, adjusted_equivalent = holm(p_two_sided), holm(p_equivalent)
    words = np.where((adjusted < alpha) & (mean > 0), "beats",
                     np.where(adjusted_equivalent < alpha / 2, "matches",
                              np.where((adjusted < alpha) & (mean < 0), "worse", "inconclusive")))
    intervals = np.array([t_interval(column, level) for column in differences.T]).reshape(-1, 3)
    return pd.DataFrame(dict(difference=mean, ci_low=intervals[:, 1], ci_high=intervals[:, 2], p=p_two_sided,
                             p_holm=adjusted, p_equivalence=p_equivalent, p_equivalence_holm=adjusted_equivalent,
                             word=words))


def _power(difference: float, sd: float, n: int, level: float) -> float:
    """Power of the two-sided one-sample (paired) t-test at level 1 - ``level`` for a true mean ``difference``."""
    df = n - 1
    critical = stats.t.ppf(0.5 + level / 2.0, df)
    noncentrality = difference * math.sqrt(n) / sd
    power = float(stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality))
    if math.isnan(power):  # scipy's noncentral t fails far in the tail (large n): its normal limit
        power = float(stats.norm.sf(critical - noncentrality) + stats.norm.cdf(-critical - noncentrality))
    return power


def minimum_detectable_difference(sd: float, n: int, level: float = LEVEL, power: float = POWER) -> float:
    """The smallest true mean difference a two-sided paired t-test on n pairs (per-pair sd ``sd``) detects with
    probability ``power`` at level 1 - ``level`` (exact, from the noncentral t); NaN below 2 pairs."""
    if n < 2 or not math.isfinite(sd):
        return float("nan")
    if sd == 0:
        return 0.0
    upper = (stats.norm.ppf(0.5 + level / 2.0) + stats.norm.ppf(power)) * sd / math.sqrt(n)  # the normal limit
    while _power(upper, sd, n, level) < power:
        upper *= 2.0
    return float(optimize.brentq(lambda d: _power(d, sd, n, level) - power, 0.0, upper, xtol=1e-12 * upper))


def seeds_for_difference(sd: float, difference: float, level: float = LEVEL, power: float = POWER,
                         largest: int = 100_000) -> int | None:
    """The fewest pairs n (>= 2) at which :func:`minimum_detectable_difference` is at most ``difference``; None
    above ``largest``."""
    if not math.isfinite(sd):
        return None
    if minimum_detectable_difference(sd, 2, level, power) <= difference:
        return 2
    if minimum_detectable_difference(sd, largest, level, power) > difference:
        return None
    low, high = 2, largest  # mdd(low) > difference >= mdd(high); mdd decreases with n
    while high - low > 1:
        middle = (low + high) // 2
        if minimum_detectable_difference(sd, middle, level, power) <= difference:
            high = middle
        else:
            low = middle
    return high


def compare_paired(first: np.ndarray, second: np.ndarray, margin: float = MARGIN, level: float = LEVEL) -> dict:
    """The primary endpoint of two (n paired seeds x K contexts) score matrices: ``difference`` (mean over seeds of
    the per-seed mean over contexts of first - second), its Student-t interval ``ci_low``, ``ci_high``, the
    ``word`` (:func:`verdict_word`), the sd of the per-seed differences and the 80%-power detectable difference."""
    per_seed = (np.asarray(first, np.float64) - np.asarray(second, np.float64)).mean(axis=1)
    n = per_seed.size
    if n == 0:
        return dict(difference=float("nan"), ci_low=float("nan"), ci_high=float("nan"), word="no data",
                    sd=float("nan"), detectable=float("nan"))
    difference, low, high = t_interval(per_seed, level)
    sd = float(per_seed.std(ddof=1)) if n > 1 else float("nan")
    return dict(difference=difference, ci_low=low, ci_high=high, word=verdict_word(low, high, margin), sd=sd,
                detectable=minimum_detectable_difference(sd, n, level))
