"""Stochastic CSE on a finite CMDP: the reparameterized (pathwise) and importance-weighted estimators against
exact Bellman solutions (cebe_theory.stochastic_cse)."""

from __future__ import annotations

import numpy as np
import pytest

from cebe_theory.bellman import evaluate_policy, uniform_policy
from cebe_theory.cebe import FirstOrderExpansion
from cebe_theory.cliffwalking import cliffwalking
from cebe_theory.stochastic_cse import (
    estimator_sweep,
    importance_weighted_mdp,
    pathwise_mdp,
    stochastic_cliffwalking,
    target_statistics,
)
from cebe_theory.sweep import log_grid

C0 = [0.1, 0.0]


@pytest.fixture(scope="module")
def cmdp():
    return stochastic_cliffwalking()


def test_along_the_slip_importance_weights_are_exact_and_the_pathwise_estimator_is_first_order(cmdp):
    # Along p, T is affine in p and R does not depend on p: CEBE and exact importance weights reproduce T^c, so
    # their Q is Q_BE to round-off; holding the inverse-CDF noise fixed keeps T^{c0}, an O(dc) error.
    sweep = estimator_sweep(cmdp, C0, log_grid(-8, -3, 12), direction=[1.0, 0.0])
    assert sweep.sup_error["importance"].max() < 1e-10
    assert sweep.sup_error["cebe"].max() < 1e-10
    assert sweep.sup_error["pathwise"].min() > 0
    assert sweep.slopes["pathwise"] == pytest.approx(1.0, abs=0.02)


def test_along_the_reward_parameter_the_estimators_agree_and_are_second_order(cmdp):
    # Along b the transitions do not move: every estimator is CEBE's reward linearization, error O(db^2).
    sweep = estimator_sweep(cmdp, C0, log_grid(-7, -4, 10), direction=[0.0, 1.0])
    for name in ("pathwise", "importance", "importance_first_order"):
        np.testing.assert_allclose(sweep.sup_error[name], sweep.sup_error["cebe"], rtol=1e-9, atol=1e-14)
    assert sweep.slopes["cebe"] == pytest.approx(2.0, abs=0.02)


def test_paper_power_family_pathwise_slope_one_importance_slope_two():
    # The paper's Figure 1b CMDP (p moves both T and R): only the pathwise estimator loses an order.
    sweep = estimator_sweep(cliffwalking(family="power"), [0.1], log_grid(-8, -3, 12))
    assert sweep.slopes["pathwise"] == pytest.approx(1.0, abs=0.05)
    assert sweep.slopes["importance"] == pytest.approx(2.0, abs=0.05)
    np.testing.assert_allclose(sweep.sup_error["importance_first_order"], sweep.sup_error["cebe"], rtol=1e-8)


def test_ess_fraction_by_hand(cmdp):
    # Interior cell, p0 = 0.1 -> p = 0.15: intended move 0.9 -> 0.85, each slip 1/30 -> 1/20.
    # w = 0.85/0.9 (prob 0.9) or 1.5 (prob 0.1 in all); E w = 1, E w^2 = 0.85^2/0.9 + 0.1 * 2.25.
    stats = target_statistics(cmdp, C0, [0.05, 0.0])
    expected = 1.0 / (0.85**2 / 0.9 + 0.1 * 1.5**2)
    np.testing.assert_allclose(stats.ess_fraction[cmdp.state_index(2, 2)], expected, rtol=1e-12)
    # Unclipped weights: the importance target is unbiased (R does not depend on p); the pathwise one is not.
    assert np.abs(stats.importance_bias).max() < 1e-10
    assert np.abs(stats.pathwise_bias).max() > 0.1


def test_pathwise_bias_is_linear_in_dc(cmdp):
    small = target_statistics(cmdp, C0, [1e-4, 0.0]).pathwise_bias
    double = target_statistics(cmdp, C0, [2e-4, 0.0]).pathwise_bias
    worst = np.unravel_index(np.argmax(np.abs(small)), small.shape)
    assert double[worst] / small[worst] == pytest.approx(2.0, rel=1e-3)


def test_importance_target_moments_against_monte_carlo(cmdp):
    # One (s, a): draw s' ~ T^{c0}, weight, compare the sample mean and std with the exact moments.
    dc = np.array([0.05, 0.02])
    stats = target_statistics(cmdp, C0, dc)
    expansion = FirstOrderExpansion.at(cmdp, C0)
    true = cmdp.mdp(np.array(C0) + dc)
    value = (uniform_policy(true) * evaluate_policy(true, uniform_policy(true), 0.9)).sum(axis=1)
    state, action = cmdp.state_index(1, 2), 3
    row = state * cmdp.n_actions + action
    base = expansion.cmdp.mdp(C0).transition[row].toarray().ravel()
    moved = true.transition[row].toarray().ravel()
    reward = cmdp.matrix(expansion.reward(dc))[row].toarray().ravel()
    rng = np.random.default_rng(0)
    next_states = rng.choice(cmdp.n_states, size=200_000, p=base / base.sum())
    targets = moved[next_states] / base[next_states] * (reward[next_states] + 0.9 * value[next_states])
    standard_error = stats.importance_std[state, action] / np.sqrt(targets.size)
    exact_mean = stats.exact_backup[state, action] + stats.importance_bias[state, action]
    assert abs(targets.mean() - exact_mean) < 5 * standard_error
    assert targets.std() == pytest.approx(stats.importance_std[state, action], rel=0.02)


def test_clipping_makes_the_kernel_substochastic_and_biased(cmdp):
    expansion = FirstOrderExpansion.at(cmdp, C0)
    clipped = importance_weighted_mdp(expansion, [0.05, 0.0], max_weight=1.2)
    row_sums = np.asarray(clipped.transition.sum(axis=1)).ravel()
    open_rows = row_sums < 1 - 1e-12
    assert open_rows.any() and np.all(row_sums <= 1 + 1e-12)
    sweep = estimator_sweep(cmdp, C0, [0.05], direction=[1.0, 0.0], max_weight=1.2)
    assert sweep.sup_error["importance"][0] > 1e-3
    # pathwise keeps T^{c0}
    np.testing.assert_array_equal(pathwise_mdp(expansion, [0.05, 0.0]).transition.toarray(), cmdp.mdp(C0).transition.toarray())


def test_sweep_frame_is_tidy(cmdp):
    frame = estimator_sweep(cmdp, C0, [1e-3, 1e-2], direction=[1.0, 1.0]).to_frame()
    assert set(frame["estimator"]) == {"cebe", "pathwise", "importance", "importance_first_order"}
    assert len(frame) == 8 and {"dc", "sup_error", "min_ess_fraction", "gamma", "max_weight"} <= set(frame.columns)
