"""Statistics behind the verdicts: Welch's interval against scipy's own Welch test, the differences per
context, and the verdict rule on hand-made sign patterns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cebe_deep.report.statistics import (
    compare_methods,
    contrast_interval,
    method_differences,
    summarize,
    verdict,
    welch_interval,
)


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(3)
    first, second = rng.normal(1.0, 2.0, 7), rng.normal(0.0, 0.5, 10)
    difference, low, high = welch_interval(first, second)
    reference = stats.ttest_ind(first, second, equal_var=False).confidence_interval(0.95)
    assert difference == pytest.approx(first.mean() - second.mean())
    assert (low, high) == pytest.approx((reference.low, reference.high), rel=1e-10)


def _table(means: dict[str, dict[float, float]], seeds=4, spread=0.1):
    """Per-seed returns ``mean + spread * z[seed]``, the same z for every method: equal means give equal samples."""
    z = np.random.default_rng(0).normal(size=seeds)
    rows = []
    for method, per_value in means.items():
        for seed in range(seeds):
            for value, mean in per_value.items():
                rows.append(dict(task="SimpleDirection", method=method, seed=seed, sweep="context_0", sweep_value=value,
                                 context_0=value, context_1=0.0, episode=0, episode_return=mean + spread * z[seed]))
    return pd.DataFrame(rows)


def test_differences_carry_intervals_and_signs():
    table = _table({"baseline": {0.5: -10.0, 1.0: -3.0}, "cse": {0.5: -5.0, 1.0: -3.0}, "ldr": {0.5: -5.0, 1.0: -1.0}})
    differences = method_differences(table).set_index(["comparison", "sweep_value"])
    assert differences.loc[("cse - baseline", 0.5), "sign"] == 1
    assert differences.loc[("cse - baseline", 1.0), "sign"] == 0  # equal means: the interval holds 0
    assert differences.loc[("cse - ldr", 1.0), "sign"] == -1


def test_one_seed_gives_no_interval_and_no_verdict():
    # one seed per method: no Welch interval, so no sign; the verdict must say "no data", not count "contains 0"
    # (it said CSE "not reproduced" against the baseline and "reproduced" against LDR from one seed each)
    values = (0.0, 0.5, 1.0)
    table = _table({"baseline": {v: -10.0 for v in values}, "cse": {v: -5.0 for v in values},
                    "ldr": {v: -5.0 for v in values}}, seeds=1)
    differences = method_differences(table)
    assert differences["ci_low"].isna().all() and differences["sign"].isna().all()
    assert differences["difference"].tolist() == pytest.approx([5.0, 0.0] * 3)
    comparison = compare_methods(summarize(table), (0.0, 0.0), eps=0.1, table=table)
    assert (verdict(comparison)["beats_baseline"], verdict(comparison)["matches_ldr"]) == ("no data", "no data")


@pytest.mark.parametrize("cse, expected", [
    ({0.5: -5.0, 1.0: -5.0, 1.5: -5.0}, ("reproduced", "reproduced")),       # above baseline everywhere, = LDR
    ({0.5: -10.0, 1.0: -10.0, 1.5: -10.0}, ("not reproduced", "not reproduced")),  # = baseline, below LDR
    ({0.5: -5.0, 1.0: -10.0, 1.5: -12.0}, ("inconclusive", "not reproduced")),  # above once, below once
])
def test_verdict_rule(cse, expected):
    values = (0.0, 0.5, 1.0, 1.5)
    table = _table({"baseline": {v: -10.0 for v in values}, "cse": {0.0: -10.0, **cse}, "ldr": {v: -5.0 for v in values}})
    comparison = compare_methods(summarize(table), (0.0, 0.0), eps=0.1, table=table)
    result = verdict(comparison)
    assert result["contexts"] == 3  # c0 itself is inside the training ball
    assert (result["beats_baseline"], result["matches_ldr"]) == expected


def test_a_context_on_two_sweeps_is_counted_once():
    # CheetahVelocity's authors' test context v = -1 is also a point of its one-axis sweep: same coordinates,
    # same evaluation; the verdict counts it once (it counted 18 contexts where there are 17)
    values = (0.0, 0.5, 1.0, 1.5)
    means = {"baseline": {v: -10.0 for v in values}, "cse": {0.0: -10.0, 0.5: -5.0, 1.0: -10.0, 1.5: -10.0},
             "ldr": {v: -10.0 for v in values}}
    table = _table(means)
    authors = table[table["sweep_value"] == 0.5].assign(sweep="authors", sweep_value=1.0)  # test context #1
    table = pd.concat([table, authors], ignore_index=True)
    comparison = compare_methods(summarize(table), (0.0, 0.0), eps=0.1, table=table)
    assert len(comparison[comparison["away_from_c0"]]) == 4  # both rows are reported
    result = verdict(comparison)
    assert result["contexts"] == 3
    assert (result["cse_minus_baseline_above"], result["cse_minus_baseline_unclear"]) == (1, 2)
    assert result["beats_baseline"] == "inconclusive"  # 1 of 3 above (it was 2 of 4: "reproduced")


def test_a_sweep_without_ldr_gets_no_ldr_verdict():
    # an ablation of baseline and CSE only: "CSE matches LDR" has no context to be judged on, so no verdict
    # (counting "below 0 at none of 0 contexts" as reproduced was the bug), while "CSE beats SAC" is judged
    values = (0.0, 0.5, 1.0, 1.5)
    table = _table({"baseline": {v: -10.0 for v in values}, "cse": {0.0: -10.0, 0.5: -5.0, 1.0: -5.0, 1.5: -5.0}})
    comparison = compare_methods(summarize(table), (0.0, 0.0), eps=0.1, table=table)
    result = verdict(comparison)
    assert (result["beats_baseline"], result["matches_ldr"]) == ("reproduced", "no data")
    assert (result["cse_minus_ldr_above"], result["cse_minus_ldr_below"], result["cse_minus_ldr_unclear"]) == (0, 0, 0)


def test_comparison_of_a_table_without_the_candidate_has_no_differences():
    table = _table({"baseline": {0.0: -10.0, 0.5: -10.0}})  # a sweep of the baseline alone
    comparison = compare_methods(summarize(table), (0.0, 0.0), eps=0.1, table=table)
    assert len(comparison) == 2 and "cse_minus_baseline" not in comparison.columns
    assert verdict(comparison)["beats_baseline"] == "no data"  # no differences: no verdict, not a negative one


def test_contrast_interval_with_weights_one_minus_one_is_scipys_welch_interval():
    rng = np.random.default_rng(5)
    first, second = rng.normal(1.0, 2.0, 6), rng.normal(0.0, 0.5, 9)
    reference = stats.ttest_ind(first, second, equal_var=False).confidence_interval(0.95)
    estimate, low, high = contrast_interval([first, second], [1.0, -1.0])
    assert estimate == pytest.approx(first.mean() - second.mean())
    assert (low, high) == pytest.approx((reference.low, reference.high), rel=1e-10)


def test_a_slope_over_group_means_as_a_contrast_covers_the_true_slope_95_percent_of_the_time():
    """Least-squares slope of CSE - LDR means against log2 d, as the dimension report forms it: the estimate is
    numpy's polyfit slope of the differences; over 4000 simulated experiments (5 seeds per cell, unequal spreads)
    the interval holds the true slope about 95% of the time (Welch-Satterthwaite is an approximation: +-1.5%)."""
    rng = np.random.default_rng(11)
    x = np.log2([2.0, 4.0, 8.0, 16.0, 32.0])
    weights = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    true_first, true_second = 1.0 - 0.05 * x, 0.9 + 0.02 * x**2
    spreads = [0.02, 0.05, 0.1, 0.02, 0.08]
    true_slope = np.polyfit(x, true_first - true_second, 1)[0]
    covered = 0
    for trial in range(4000):
        first = [rng.normal(m, s, 5) for m, s in zip(true_first, spreads)]
        second = [rng.normal(m, s / 2, 5) for m, s in zip(true_second, spreads)]
        estimate, low, high = contrast_interval([*first, *second], [*weights, *-weights])
        if trial == 0:
            means = np.array([a.mean() - b.mean() for a, b in zip(first, second)])
            assert estimate == pytest.approx(np.polyfit(x, means, 1)[0], rel=1e-10)
        covered += low <= true_slope <= high
    assert abs(covered / 4000 - 0.95) < 0.015


def test_contrast_interval_refuses_mismatched_weights_and_has_no_interval_from_one_seed():
    with pytest.raises(ValueError, match="2 samples but 3 weights"):
        contrast_interval([np.ones(3), np.ones(3)], [1, -1, 0])
    estimate, low, high = contrast_interval([np.array([1.0]), np.array([0.0, 1.0])], [1, -1])
    assert estimate == 0.5 and np.isnan(low) and np.isnan(high)
    # a sample with weight 0 does not need two values
    assert not np.isnan(contrast_interval([np.array([1.0]), np.array([0.0, 1.0]), np.array([2.0, 3.0])], [0, 1, -1])[1])
