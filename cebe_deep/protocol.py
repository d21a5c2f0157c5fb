r"""The statistical protocol of the verdicts (``results/PROTOCOL.md``), applied by one function to every task.

The protocol, in formulas (the document says why each choice was made):

- **Away from c0**: :math:`|c - c_0|_2 > \varepsilon + 10^{-6}`, :math:`\varepsilon = 0.1` (:func:`away_from_c0`).
- **Normalized score** of a seed at context c: :math:`x(c) = (R(c) - Z(c)) / S(c)`, R the seed's mean return over the
  64 evaluation episodes, Z the all-zero action's over the same start states, and S(c) the optimum minus Z where
  the optimum is known in closed form (SimpleDirection), else one constant per task :math:`S = U - Z(c_0)` with U
  a reference fixed without any learner (:data:`REFERENCES`).
- **Primary endpoint** per task and comparison (CSE - baseline, CSE - LDR), paired by seed:
  :math:`d_s = \frac{1}{|A|}\sum_{c \in A} (x_{CSE}(s, c) - x_{other}(s, c))` over the away contexts A, the mean of
  :math:`d_s` over the n paired seeds and its Student-t 95% interval.
- **Words** from the interval [lo, hi] and the margin :math:`\delta` = :data:`MARGIN` (:func:`verdict_word`):
  *beats* if lo > 0; else *matches* if :math:`-\delta <` lo and hi :math:`< \delta`; else *worse* if hi < 0; else
  *inconclusive*.  Claims (:func:`claim_status`): "beats the baseline" needs *beats*; "matches LDR" *matches* or
  *beats*.
- **Secondary** (never a verdict): IQM of normalized scores and probability of improvement, as ``rliable``'s
  ``aggregate_iqm`` and ``probability_of_improvement``, with a bootstrap over paired seeds (whole rows) and the
  expanded percentile interval (:func:`paired_bootstrap_interval`); per-context paired tests, Holm-corrected
  (:func:`per_context_tests`); the primary on the authors' test contexts alone; the earlier per-context rule
  (:func:`cebe_deep.statistics.verdict`); the smallest difference detectable with 80% power
  (:func:`minimum_detectable_difference`).

The stratified bootstrap is implemented here with numpy (scipy for quantiles), not with ``rliable``: ``rliable``'s
``StratifiedBootstrap`` resamples each task's (here: context's) runs independently, which would treat one seed's
policy, evaluated at every context, as independent runs; ``rliable`` brings ``arch``, ``statsmodels`` and
``seaborn`` with it; and its ``rliable.library`` (the bootstrap, the profiles) does not import under pandas 3
(``arch`` 7.2).  The tests check the point estimates against ``rliable.metrics`` where it is installed.

``python -m cebe_deep.protocol FOLDER...`` prints the verdict table (markdown) of results folders.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from cebe_deep.statistics import compare_methods, summarize, t_interval, verdict

__all__ = ["EPS", "AWAY_TOLERANCE", "LEVEL", "MARGIN", "PAPER_SEEDS", "BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "POWER",
           "REFERENCES", "ZERO_ACTION_FILE", "away_from_c0", "distinct_contexts", "zero_action_table",
           "read_zero_action", "context_scale", "seed_scores", "verdict_word", "claim_status",
           "expanded_percentile_alpha", "paired_bootstrap_interval", "iqm", "probability_of_improvement", "holm",
           "per_context_tests", "minimum_detectable_difference", "seeds_for_difference", "compare_paired",
           "TaskScores", "task_scores", "task_verdicts", "verdict_table", "render_markdown", "performance_profile",
           "plot_verdicts", "plot_performance_profiles", "main"]

#: The CSE radius of every run analysed (the authors' eps): the training ball is |c - c0| <= EPS.
EPS = 0.1
#: A context at distance EPS + AWAY_TOLERANCE or less is inside the ball (absorbs rounding: 1.1 - 1.0 > 0.1).
AWAY_TOLERANCE = 1e-6
LEVEL = 0.95
#: The equivalence margin of "matches", in normalized units (results/PROTOCOL.md, section 5).
MARGIN = 0.02
#: Trained policies per method in the paper; fewer is marked in the table.
PAPER_SEEDS = 10
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 2021
POWER = 0.8
#: The evaluation's episodes per context and its first reset seed (cebe_deep.evaluation.evaluate).
EVALUATION_EPISODES = 64
EVALUATION_SEED = 10_000
ZERO_ACTION_FILE = "zero_action.csv"
#: (candidate, other) pairs of the protocol, and the claim each is judged against.
COMPARISONS = (("cse", "baseline"), ("cse", "ldr"))
CLAIMS = {"baseline": "beats", "ldr": "matches or beats"}


def _ant_threshold() -> float:
    import gymnasium

    return float(gymnasium.spec("Ant-v5").reward_threshold)


#: Per task without a closed-form optimum: U (the return called 1 at c0) and where it comes from, fixed without
#: any learner.  SimpleDirection is absent: its optimum is known at every context (:func:`context_scale`).
REFERENCES: dict[str, tuple[Callable[[], float], str]] = {
    "PendulumGoal": (lambda: 0.0, "0, the supremum of the return (every reward term is <= 0)"),
    "CheetahVelocity": (lambda: 0.0, "0, the supremum of the return (forward term <= 0, control cost >= 0)"),
    "CartGoal": (lambda: 500.0, "500: reward <= 1 per step, 500 steps"),
    "AntDirection": (_ant_threshold, "Gymnasium's reward_threshold of Ant-v5 (AntDirection's reward at c0 is Ant-v5's)"),
}


# ------------------------------------------------------------------------------------------------ contexts
def _context_columns(table: pd.DataFrame) -> list[str]:
    return sorted((c for c in table.columns if c.startswith("context_")), key=lambda c: int(c.split("_")[1]))


def _keys(coordinates: np.ndarray) -> list[tuple[float, ...]]:
    """One hashable key per row of coordinates: rounded to 9 decimals, -0.0 made 0.0 (AntDirection's -pi and pi)."""
    rounded = np.round(np.asarray(coordinates, dtype=np.float64), 9) + 0.0
    return [tuple(row) for row in rounded]


def away_from_c0(contexts: np.ndarray, c0: Sequence[float], eps: float = EPS,
                 tolerance: float = AWAY_TOLERANCE) -> np.ndarray:
    """Whether each context (rows of ``contexts``, shape (K, d)) lies outside the training ball:
    ``|c - c0|_2 > eps + tolerance`` (the one definition of results/PROTOCOL.md, section 2)."""
    contexts = np.atleast_2d(np.asarray(contexts, dtype=np.float64))
    distance = np.linalg.norm(contexts - np.asarray(c0, dtype=np.float64), axis=1)
    return distance > eps + tolerance


def _task_and_c0(table: pd.DataFrame) -> tuple[str, np.ndarray]:
    from cebe_deep.config import make_task_env

    tasks = table["task"].unique()
    if len(tasks) != 1:
        raise ValueError(f"one task per analysis, got {sorted(tasks)}")
    task = str(tasks[0])
    columns = _context_columns(table)
    env = make_task_env(task, dimension=len(columns) if task == "SimpleDirection" else None)
    c0 = np.asarray(env.unwrapped.default_context, dtype=np.float64)
    env.close()
    return task, c0


def distinct_contexts(table: pd.DataFrame, c0: Sequence[float], eps: float = EPS) -> pd.DataFrame:
    """The distinct contexts of an evaluation table, each once (a context on two sweeps is one context): columns
    ``key`` (the rounded coordinates), ``context_i``, ``authors`` (it has a row of the authors' test contexts),
    ``distance`` (|c - c0|_2) and ``away`` (:func:`away_from_c0`), in the table's order of first appearance."""
    columns = _context_columns(table)
    rows = table[["sweep", *columns]].drop_duplicates()
    rows = rows.assign(key=_keys(rows[columns].to_numpy()))
    authors = set(rows.loc[rows["sweep"] == "authors", "key"])
    contexts = rows.drop_duplicates("key")[["key", *columns]].reset_index(drop=True)
    coordinates = contexts[columns].to_numpy(np.float64)
    return contexts.assign(authors=contexts["key"].isin(authors),
                           distance=np.linalg.norm(coordinates - np.asarray(c0, np.float64), axis=1),
                           away=away_from_c0(coordinates, c0, eps))


# ------------------------------------------------------------------------------------------- normalization
def zero_action_table(task: str, contexts: np.ndarray, dynamics: str | None = None,
                      episodes: int = EVALUATION_EPISODES, seed: int = EVALUATION_SEED) -> pd.DataFrame:
    """The all-zero action's mean return at each context (rows of ``contexts``) over the evaluation's start states
    (reset seeds ``seed + k``), simulated (:func:`cebe_deep.evaluation.zero_action_returns`): columns
    ``context_i``, ``dynamics`` (``"default"`` for the task's), ``episodes``, ``seed``, ``zero_return``."""
    from cebe_deep.evaluation import zero_action_returns

    contexts = np.atleast_2d(np.asarray(contexts, dtype=np.float64))
    rows = []
    for context in contexts:
        returns = zero_action_returns(task, context, episodes, seed, dynamics)
        rows.append({**{f"context_{i}": float(v) for i, v in enumerate(context)}, "dynamics": dynamics or "default",
                     "episodes": episodes, "seed": seed, "zero_return": float(returns.mean())})
    return pd.DataFrame(rows)


def read_zero_action(folder: str | Path) -> pd.DataFrame | None:
    """The folder's committed ``zero_action.csv`` (:func:`zero_action_table`), None where it has none."""
    path = Path(folder) / ZERO_ACTION_FILE
    return pd.read_csv(path) if path.is_file() else None


def _lookup_zero(zero: pd.DataFrame, keys: list[tuple], dynamics: str) -> np.ndarray:
    part = zero[zero["dynamics"] == dynamics]
    table = dict(zip(_keys(part[_context_columns(part)].to_numpy()), part["zero_return"]))
    missing = [key for key in keys if key not in table]
    if missing:
        raise ValueError(f"the zero-action table ({dynamics} dynamics) lacks {len(missing)} context(s), e.g. "
                         f"{missing[0]}: write it with `python -m cebe_deep.protocol FOLDER --write-zero-action`")
    return np.array([table[key] for key in keys])


def evaluation_start_states(task: str, episodes: int = EVALUATION_EPISODES, seed: int = EVALUATION_SEED,
                            dimension: int | None = None) -> np.ndarray:
    """The state parts of the evaluation's start states (reset seed ``seed + k``), shape (episodes, state_dim)."""
    from cebe_deep.config import make_task_env

    env = make_task_env(task, dimension=dimension)
    state_dim = env.unwrapped.state_dim
    starts = np.stack([env.reset(seed=seed + k)[0][:state_dim] for k in range(episodes)])
    env.close()
    return starts


def context_scale(task: str, contexts: np.ndarray, zero: np.ndarray, zero_at_c0: float,
                  episodes: int = EVALUATION_EPISODES, seed: int = EVALUATION_SEED) -> tuple[np.ndarray, str]:
    """S(c), the return difference that counts as one normalized unit at each context, and its description.

    SimpleDirection: the closed-form optimum over the evaluation's start states minus the zero action's return
    ``zero`` there (= 55 |c|_1 for every start state: the terms 10 s0 . c and 55 |c|^2 are common to both).
    Other tasks: ``U - zero_at_c0``, one constant, U of :data:`REFERENCES`."""
    contexts = np.atleast_2d(np.asarray(contexts, dtype=np.float64))
    if task == "SimpleDirection":
        from cebe_deep.tasks.simple_direction import simple_direction_optimal_return

        starts = evaluation_start_states(task, episodes, seed, dimension=contexts.shape[1])
        optimum = np.array([np.mean([simple_direction_optimal_return(c, start_state=s) for s in starts])
                            for c in contexts])
        return optimum - np.asarray(zero, np.float64), "the closed-form optimum at each context"
    if task not in REFERENCES:
        raise ValueError(f"no reference return fixed for task {task!r}: add one to cebe_deep.protocol.REFERENCES "
                         f"(and results/PROTOCOL.md) before analysing it")
    reference, source = REFERENCES[task]
    return np.full(len(contexts), reference() - zero_at_c0), f"U = {source}"


def seed_scores(table: pd.DataFrame, contexts: pd.DataFrame, zero: np.ndarray,
                scale: np.ndarray) -> dict[str, pd.DataFrame]:
    """Per method, the normalized scores ``(R - zero) / scale`` as a (seed x context) frame, columns in the order of
    ``contexts`` (:func:`distinct_contexts`); NaN where a seed lacks a context or the scale is 0 (SimpleDirection's
    c0).  R is a seed's mean return over its episodes at that context."""
    columns = _context_columns(table)
    per_seed = table.groupby(["method", "seed", *columns], as_index=False)["episode_return"].mean()
    per_seed["key"] = _keys(per_seed[columns].to_numpy())
    per_seed = per_seed.groupby(["method", "seed", "key"], as_index=False)["episode_return"].mean()
    position = {key: index for index, key in enumerate(contexts["key"])}
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(scale != 0, 1.0 / np.where(scale != 0, scale, 1.0), np.nan)
    result = {}
    for method, part in per_seed.groupby("method"):
        frame = part.pivot(index="seed", columns="key", values="episode_return")
        frame = frame.reindex(columns=list(contexts["key"]))
        result[str(method)] = (frame - zero[[position[k] for k in frame.columns]]) * unit
    return result


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


def _iqm_difference(first: np.ndarray, second: np.ndarray) -> np.ndarray:
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


# ------------------------------------------------------------------------------------------- the one function
def _old_rule(table: pd.DataFrame, c0: np.ndarray, eps: float) -> dict:
    """The verdict of the earlier per-context rule (:func:`cebe_deep.statistics.verdict`): claim -> status."""
    comparison = compare_methods(summarize(table), c0, eps, table=table)
    result = verdict(comparison)
    return {"baseline": result.get("beats_baseline", "no data"), "ldr": result.get("matches_ldr", "no data")}


def _holm_claim(words: np.ndarray, claim: str) -> str:
    if words.size == 0:
        return "no data"
    count = {word: int((words == word).sum()) for word in ("beats", "matches", "worse")}
    half = words.size / 2
    if claim == "beats":
        if count["beats"] >= half and count["worse"] == 0:
            return "reproduced"
        return "not reproduced" if count["beats"] == 0 else "inconclusive"
    if count["worse"] == 0 and count["beats"] + count["matches"] >= half:
        return "reproduced"
    return "not reproduced" if count["worse"] >= half else "inconclusive"


@dataclass(frozen=True)
class TaskScores:
    """One task's normalized scores (results/PROTOCOL.md, section 3): ``contexts`` (:func:`distinct_contexts`),
    ``scores`` (method -> seed x context frame, :func:`seed_scores`), ``scale`` (S(c) per context, return units per
    normalized unit) and where the scale comes from."""

    task: str
    c0: np.ndarray
    contexts: pd.DataFrame
    scores: dict[str, pd.DataFrame]
    scale: np.ndarray
    scale_source: str

    def away(self, method: str) -> np.ndarray:
        """``method``'s scores at the contexts away from c0, (seeds x contexts), contexts a seed lacks dropped."""
        frame = self.scores[method].loc[:, self.contexts["away"].to_numpy()]
        return frame.dropna(axis=1).to_numpy()


def task_scores(table: pd.DataFrame, zero: pd.DataFrame | None = None, dynamics: str | None = None,
                eps: float = EPS) -> TaskScores:
    """The normalized scores of one task's evaluation table.  ``zero``: the all-zero action's returns
    (:func:`zero_action_table`: rows of the runs' ``dynamics`` at every context, ``"default"`` at c0); None
    simulates them (minutes for the MuJoCo tasks)."""
    task, c0 = _task_and_c0(table)
    contexts = distinct_contexts(table, c0, eps)
    coordinates = contexts[_context_columns(contexts)].to_numpy(np.float64)
    name = dynamics or "default"
    if zero is None:
        zero = zero_action_table(task, coordinates, dynamics)
        if name != "default":
            zero = pd.concat([zero, zero_action_table(task, c0[None], None)], ignore_index=True)
    zero_returns = _lookup_zero(zero, list(contexts["key"]), name)
    zero_at_c0 = float(_lookup_zero(zero, _keys(c0[None]), "default")[0])
    scale, source = context_scale(task, coordinates, zero_returns, zero_at_c0)
    return TaskScores(task, c0, contexts, seed_scores(table, contexts, zero_returns, scale), scale, source)


def task_verdicts(table: pd.DataFrame, zero: pd.DataFrame | None = None, dynamics: str | None = None,
                  margin: float = MARGIN, eps: float = EPS, level: float = LEVEL,
                  resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED, old_rule: bool = True) -> pd.DataFrame:
    """The protocol of results/PROTOCOL.md applied to one task's evaluation table: one row per comparison of
    :data:`COMPARISONS` whose two methods the table holds.

    ``zero`` and ``dynamics``: as :func:`task_scores`.  ``old_rule=False`` skips the earlier per-context rule (it
    needs the whole table twice more).

    Columns: task, comparison, claim, seeds_candidate, seeds_other, paired_seeds, unpaired (seeds left out),
    fewer_than_paper, contexts_away, authors_away, scale (return units per normalized unit; NaN where it varies
    by context), margin, margin_return (the margin in return units, NaN where it varies), the primary
    (difference, ci_low, ci_high, word, claim_status), the words at margin / 2 and 2 margin, the levels
    (mean_candidate, mean_other, iqm_candidate, iqm_other), iqm_difference with iqm_low / iqm_high / iqm_status,
    poi with poi_low / poi_high, the per-context Holm counts (holm_beats, holm_matches, holm_worse,
    holm_inconclusive) and holm_status, the authors'-contexts-only primary (authors_difference, authors_low,
    authors_high, authors_status), old_status (the earlier rule), sd (of the per-seed differences), detectable (the
    80%-power detectable difference) and seeds_for_margin (the paired seeds at which it would be the margin).
    """
    normalized = task_scores(table, zero, dynamics, eps)
    task, c0, contexts, scores = normalized.task, normalized.c0, normalized.contexts, normalized.scores
    constant_scale = float(normalized.scale[0]) if np.ptp(normalized.scale) == 0 else float("nan")
    old = _old_rule(table, c0, eps) if old_rule else {}
    away = contexts["away"].to_numpy()
    rows = []
    for candidate, other in COMPARISONS:
        if candidate not in scores or other not in scores:
            continue
        claim = CLAIMS[other]
        mine, theirs = scores[candidate], scores[other]
        paired = sorted(set(mine.index) & set(theirs.index))
        unpaired = sorted(set(mine.index) ^ set(theirs.index))
        first, second = mine.loc[paired].to_numpy(), theirs.loc[paired].to_numpy()
        usable = away & ~np.isnan(first).any(axis=0) & ~np.isnan(second).any(axis=0)
        authors = usable & contexts["authors"].to_numpy()
        x, y = first[:, usable], second[:, usable]
        primary = compare_paired(x, y, margin, level)
        authors_primary = compare_paired(first[:, authors], second[:, authors], margin, level) if authors.any() else \
            dict(difference=float("nan"), ci_low=float("nan"), ci_high=float("nan"), word="no data")
        row = dict(task=task, comparison=f"{candidate} - {other}", claim=claim, seeds_candidate=len(mine),
                   seeds_other=len(theirs), paired_seeds=len(paired), unpaired=" ".join(map(str, unpaired)),
                   fewer_than_paper=len(paired) < PAPER_SEEDS, contexts_away=int(usable.sum()),
                   authors_away=int(authors.sum()), scale=constant_scale, margin=margin,
                   margin_return=margin * constant_scale,
                   difference=primary["difference"], ci_low=primary["ci_low"], ci_high=primary["ci_high"],
                   word=primary["word"], claim_status=claim_status(primary["word"], claim),
                   word_half_margin=verdict_word(primary["ci_low"], primary["ci_high"], margin / 2),
                   word_double_margin=verdict_word(primary["ci_low"], primary["ci_high"], 2 * margin))
        if len(paired) >= 1 and usable.any():
            row.update(mean_candidate=float(x.mean()), mean_other=float(y.mean()), iqm_candidate=float(iqm(x)),
                       iqm_other=float(iqm(y)))
            difference, low, high = paired_bootstrap_interval(_iqm_difference, x, y, level, resamples, seed)
            row.update(iqm_difference=difference, iqm_low=low, iqm_high=high,
                       iqm_status=claim_status(verdict_word(low, high, margin), claim))
            row.update(zip(("poi", "poi_low", "poi_high"),
                           paired_bootstrap_interval(probability_of_improvement, x, y, level, resamples, seed)))
        if len(paired) >= 2 and usable.any():
            words = per_context_tests(x - y, margin, level)["word"].to_numpy()
            row.update({f"holm_{word}": int((words == word).sum()) for word in ("beats", "matches", "worse", "inconclusive")})
            row["holm_status"] = _holm_claim(words, claim)
        else:
            row["holm_status"] = "no data"
        row.update(authors_difference=authors_primary["difference"], authors_low=authors_primary["ci_low"],
                   authors_high=authors_primary["ci_high"], authors_status=claim_status(authors_primary["word"], claim))
        row["old_status"] = old.get(other, "not computed")
        row.update(sd=primary["sd"], detectable=primary["detectable"],
                   seeds_for_margin=seeds_for_difference(primary["sd"], margin, level) if len(paired) >= 2 else None)
        rows.append(row)
    return pd.DataFrame(rows)


def _folder_inputs(folder: Path, dynamics: dict[str, str] | None,
                   simulate_missing: bool) -> tuple[pd.DataFrame, pd.DataFrame | None, str | None]:
    """A results folder's evaluation table, its zero-action table (None: to be simulated) and its runs' dynamics."""
    from cebe_deep.evaluation import read_evaluation

    table = read_evaluation(folder)
    if table is None:
        raise ValueError(f"{folder}: no evaluation.csv or evaluation.csv.gz")
    zero = read_zero_action(folder)
    variant = (dynamics or {}).get(folder.name)
    if zero is not None:
        names = set(zero["dynamics"]) - {"default"}
        variant = names.pop() if names else None
    elif not simulate_missing:
        raise ValueError(f"{folder}: no {ZERO_ACTION_FILE}")
    return table, zero, variant


def verdict_table(folders: Sequence[str | Path], dynamics: dict[str, str] | None = None,
                  simulate_missing: bool = True, **options) -> pd.DataFrame:
    """:func:`task_verdicts` of every results folder (its evaluation.csv or .gz and its zero_action.csv), with a
    column ``folder`` (the folder's name) first.  ``dynamics``: folder name -> the task variant its runs used
    (for a zero-action table that has to be simulated).  A folder without a zero-action table is simulated when
    ``simulate_missing``, an error otherwise."""
    frames = []
    for folder in map(Path, folders):
        table, zero, variant = _folder_inputs(folder, dynamics, simulate_missing)
        frame = task_verdicts(table, zero, dynamics=variant, **options)
        frames.append(frame.assign(folder=folder.name)[["folder", *frame.columns]])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_zero_action(folder: str | Path, dynamics: str | None = None) -> Path:
    """Simulate and write ``folder/zero_action.csv`` for every distinct context of its evaluation table (with
    ``dynamics``), plus c0 with the task's default dynamics where ``dynamics`` is another."""
    from cebe_deep.evaluation import read_evaluation

    table = read_evaluation(folder, usecols=lambda c: c in ("task", "sweep") or c.startswith("context_"))
    task, c0 = _task_and_c0(table)
    contexts = distinct_contexts(table, c0)
    zero = zero_action_table(task, contexts[_context_columns(contexts)].to_numpy(np.float64), dynamics)
    if dynamics is not None:
        zero = pd.concat([zero, zero_action_table(task, c0[None], None)], ignore_index=True)
    path = Path(folder) / ZERO_ACTION_FILE
    zero.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------------------------ rendering
def _interval_text(estimate: float, low: float, high: float, digits: int = 3) -> str:
    if math.isnan(estimate):
        return "-"
    if math.isnan(low):
        return f"{estimate:+.{digits}f}"
    return f"{estimate:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def _robustness(row) -> str:
    checks = (("IQM", row.get("iqm_status")), ("Holm per context", row.get("holm_status")),
              ("authors' contexts", row.get("authors_status")), ("old rule", row.get("old_status")))
    holds = [name for name, status in checks if status == row["claim_status"]]
    differs = [f"{name} ({status})" for name, status in checks if status not in (row["claim_status"], "not computed", None)]
    parts = []
    if holds:
        parts.append("same under " + ", ".join(holds))
    if differs:
        parts.append("differs: " + ", ".join(differs))
    return "; ".join(parts) or "-"


def render_markdown(table: pd.DataFrame) -> str:
    """The verdict table of :func:`verdict_table` as markdown: one row per results folder, CSE - baseline and
    CSE - LDR side by side (primary difference in normalized score [95% CI], word, claim status), then the
    robustness of each claim status, the detectable difference and notes; a legend below."""
    lines = ["| task | seeds (paired) | contexts away (authors') | CSE - baseline: mean normalized score [95% CI] "
             "| CSE - LDR: same | robustness | detectable with 80% power (seeds for the margin) |",
             "|---|---|---|---|---|---|---|"]
    notes = []
    for folder, group in table.groupby("folder", sort=False):
        by = {row["comparison"].split(" - ")[1]: row for row in group.to_dict("records")}
        first = next(iter(by.values()))
        seeds = first["paired_seeds"]
        seed_text = f"{seeds}" + (f" (< paper's {PAPER_SEEDS})" if first["fewer_than_paper"] else "")
        cells, robust, power = [], [], []
        for other in ("baseline", "ldr"):
            row = by.get(other)
            if row is None:
                cells.append("not run")
                continue
            cells.append(f"{_interval_text(row['difference'], row['ci_low'], row['ci_high'])} **{row['word']}** "
                         f"({row['claim_status']})")
            label = "vs baseline" if other == "baseline" else "vs LDR"
            robust.append(f"{label}: {_robustness(row)}")
            seeds_needed = row.get("seeds_for_margin")
            needed = "-" if seeds_needed is None or (isinstance(seeds_needed, float) and math.isnan(seeds_needed)) \
                else f"{int(seeds_needed)}"
            power.append(f"{label}: {row['detectable']:.3f} ({needed})")
            if row["word_half_margin"] != row["word"] or row["word_double_margin"] != row["word"]:
                notes.append(f"{folder}, {row['comparison']}: {row['word_half_margin']} at margin "
                             f"{row['margin'] / 2:g}, {row['word_double_margin']} at {row['margin'] * 2:g}")
            if row["unpaired"]:
                notes.append(f"{folder}, {row['comparison']}: seeds without a partner left out: {row['unpaired']}")
        lines.append(f"| {folder} | {seed_text} | {first['contexts_away']} ({first['authors_away']}) | "
                     f"{cells[0]} | {cells[1]} | {'<br>'.join(robust)} | {'<br>'.join(power)} |")
    units = []
    for folder, group in table.groupby("folder", sort=False):
        row = group.iloc[0]
        units.append(f"{folder} {row['scale']:.1f}" if not math.isnan(row["scale"]) else
                     f"{folder}: the optimum's gain over the zero action at each context")
    legend = [
        "",
        f"Normalized score: 0 = the all-zero action at the context, 1 unit = {'; '.join(units)} (return units per "
        "normalized unit; results/PROTOCOL.md, section 3). Primary: CSE minus the other method in mean normalized "
        "score over the contexts away from c0, paired by seed, Student-t 95% interval over the paired seeds. "
        f"Words: beats (interval above 0), matches (inside +-{table['margin'].iloc[0]:g}), worse (below 0), "
        "inconclusive; the claim status in parentheses. Robustness: the claim status under the IQM difference "
        "(bootstrap), the Holm-corrected per-context rule, the authors' test contexts alone and the earlier "
        "per-context rule of results/README.md.",
    ]
    if notes:
        legend += ["", "Margin sensitivity and pairing: " + "; ".join(notes) + "."]
    return "\n".join(lines + legend) + "\n"


# ------------------------------------------------------------------------------------------------- figures
METHOD_STYLE = {"baseline": ("SAC / DQN (baseline)", "tab:gray"), "cse": ("CSE", "tab:blue"), "ldr": ("LDR", "tab:orange")}


def performance_profile(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The share of scores (every seed and context) above each threshold: ``rliable``'s score distribution."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    return (scores[:, None] > np.asarray(thresholds, dtype=np.float64)[None, :]).mean(axis=0)


def plot_verdicts(table: pd.DataFrame, path: str | Path) -> None:
    """Per results folder (rows) and comparison (columns): the primary difference in mean normalized score with its
    t-interval (filled), the IQM difference with its bootstrap interval (hollow), the margin band and 0."""
    import matplotlib.pyplot as plt

    folders = list(dict.fromkeys(table["folder"]))
    figure, axes = plt.subplots(len(folders), 2, figsize=(11, 1.3 * len(folders) + 0.8), layout="constrained",
                                squeeze=False)
    for row_index, folder in enumerate(folders):
        for column, other in enumerate(("baseline", "ldr")):
            axis = axes[row_index, column]
            rows = table[(table["folder"] == folder) & (table["comparison"] == f"cse - {other}")]
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(folder, rotation=0, ha="right", va="center", fontsize=12)
            if rows.empty:
                axis.text(0.5, 0.5, "not run", transform=axis.transAxes, ha="center", va="center", fontsize=12)
                axis.set_xticks([])
                continue
            row = rows.iloc[0]
            axis.axvspan(-row["margin"], row["margin"], color="tab:green", alpha=0.15, lw=0)
            axis.axvline(0.0, color="black", lw=0.8)
            for y, (estimate, low, high, face) in enumerate(((row["iqm_difference"], row["iqm_low"], row["iqm_high"], "white"),
                                                             (row["difference"], row["ci_low"], row["ci_high"], "tab:blue"))):
                axis.errorbar([estimate], [y], xerr=[[estimate - low], [high - estimate]], fmt="o", color="tab:blue",
                              markerfacecolor=face, capsize=3)
            axis.set_ylim(-0.8, 1.8)
            axis.set_title(f"{row['word']} ({row['claim_status']})", fontsize=12, loc="right")
            axis.tick_params(labelsize=12)
    axes[0, 0].set_title("CSE - baseline", fontsize=13, loc="left")
    axes[0, 1].set_title("CSE - LDR", fontsize=13, loc="left")
    figure.supxlabel("CSE minus the other method, normalized score (filled: mean, t 95%; hollow: IQM, bootstrap "
                     "95%; green: +-margin)", fontsize=12)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=130)
    plt.close(figure)


def plot_performance_profiles(scores: dict[str, TaskScores], path: str | Path, points: int = 200) -> None:
    """Per results folder, each method's performance profile over the contexts away from c0: the share of (seed,
    context) normalized scores above tau, against tau."""
    import matplotlib.pyplot as plt

    columns = min(4, len(scores))
    rows = math.ceil(len(scores) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows), layout="constrained", squeeze=False)
    for axis in axes.flat[len(scores):]:
        axis.set_visible(False)
    for axis, (folder, normalized) in zip(axes.flat, scores.items()):
        away = {method: normalized.away(method) for method in METHOD_STYLE if method in normalized.scores}
        values = np.concatenate([a.reshape(-1) for a in away.values()])
        low, high = np.quantile(values, [0.01, 1.0])
        thresholds = np.linspace(low - 0.05 * (high - low), high, points)
        for method, matrix in away.items():
            label, color = METHOD_STYLE[method]
            axis.plot(thresholds, performance_profile(matrix, thresholds), color=color, label=label)
        axis.set_title(folder, fontsize=13)
        axis.set_xlabel("normalized score tau", fontsize=12)
        axis.tick_params(labelsize=12)
    for axis in axes[:, 0]:
        axis.set_ylabel("share of (seed, context) above tau", fontsize=12)
    axes[0, 0].legend(fontsize=12)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=130)
    plt.close(figure)


# ----------------------------------------------------------------------------------------------------- CLI
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cebe_deep.protocol",
                                     description="The verdict table of results/PROTOCOL.md for results folders.")
    parser.add_argument("folders", nargs="+", type=Path, help="results folders (each with evaluation.csv or .gz)")
    parser.add_argument("--write-zero-action", action="store_true",
                        help=f"simulate and write {ZERO_ACTION_FILE} where a folder has none (minutes for MuJoCo)")
    parser.add_argument("--dynamics", action="append", default=[], metavar="FOLDER=NAME",
                        help="the task variant of a folder's runs, for its zero-action table (PendulumGoal-gymnasium=gymnasium)")
    parser.add_argument("--csv", type=Path, help="also write the full table (every column) here")
    parser.add_argument("--resamples", type=int, default=BOOTSTRAP_RESAMPLES, help="bootstrap resamples")
    parser.add_argument("--figures", type=Path, metavar="FOLDER",
                        help="also draw FOLDER/verdicts.png (the intervals) and FOLDER/profiles.png (performance profiles)")
    args = parser.parse_args(argv)
    dynamics = dict(item.split("=", 1) for item in args.dynamics)
    for folder in args.folders:
        if read_zero_action(folder) is None:
            if args.write_zero_action:
                print(f"{write_zero_action(folder, dynamics.get(folder.name))}: written", file=sys.stderr)
            else:
                print(f"{folder}: no {ZERO_ACTION_FILE}, simulating the zero action (not written)", file=sys.stderr)
    table = verdict_table(args.folders, dynamics, resamples=args.resamples)
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.figures:
        import matplotlib

        matplotlib.use("Agg")
        plot_verdicts(table, args.figures / "verdicts.png")
        scores = {}
        for folder in args.folders:
            evaluation, zero, variant = _folder_inputs(folder, dynamics, True)
            scores[folder.name] = task_scores(evaluation, zero, variant)
        plot_performance_profiles(scores, args.figures / "profiles.png")
    print(render_markdown(table), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
