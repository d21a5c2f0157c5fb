"""Cliffwalking, Bellman and CEBE against an independent dense implementation (arXiv 2507.07348, the Cliffwalking of
Figure 1)."""

import numpy as np
import pytest

from cebe_theory import FirstOrderExpansion, cliffwalking, error_sweep, evaluate_policy, log_grid, uniform_policy
from tests.theory.reference_cliffwalking import dense_cliffwalking, dense_q


@pytest.mark.parametrize("family", ["constant", "inverse", "power"])
@pytest.mark.parametrize("grid", [(5, 6), (3, 4), (4, 3)])
def test_transitions_and_rewards_match_the_reference(family, grid):
    rows, cols = grid
    cmdp = cliffwalking(rows, cols, family)
    for p in (0.05, 0.1, 0.6):
        T, R = dense_cliffwalking(rows, cols, p, family)
        mdp = cmdp.mdp([p])
        n = rows * cols
        np.testing.assert_allclose(mdp.transition.toarray().reshape(n, 4, n), T, atol=1e-15)
        # Rewards only matter where T > 0 (the library stores them on T's pattern).
        np.testing.assert_allclose(mdp.reward.toarray().reshape(n, 4, n) * (T > 0), R * (T > 0), rtol=1e-14)


@pytest.mark.parametrize("family", ["constant", "inverse", "power"])
def test_context_derivatives_match_hand_derived_ones(family):
    cmdp = cliffwalking(5, 6, family)
    derivatives = cmdp.derivatives([0.1])
    dT, dR = dense_cliffwalking(5, 6, 0.1, family, derivative=True)
    T, _ = dense_cliffwalking(5, 6, 0.1, family)
    n = 30
    dtransition = cmdp.matrix(derivatives.dtransition[0]).toarray().reshape(n, 4, n)
    dreward = cmdp.matrix(derivatives.dreward[0]).toarray().reshape(n, 4, n)
    np.testing.assert_allclose(dtransition, dT, atol=1e-14)
    np.testing.assert_allclose(dreward * (T > 0), dR * (T > 0), rtol=1e-13)


@pytest.mark.parametrize("family", ["inverse", "power"])
def test_sweep_errors_agree_with_a_dense_independent_computation(family):
    """Q_BE from dense T(p0 + dc); Q_CE from dense T(p0) + dT dc (T affine in p: no projection acts)."""
    p0, gamma = 0.1, 0.9
    high = -3.0 if family == "inverse" else -1.0
    dcs = log_grid(-8.0, high, 7)
    sweep = error_sweep(cliffwalking(5, 6, family), [p0], dcs, gamma=gamma)
    policy = np.full((30, 4), 0.25)
    T0, R0 = dense_cliffwalking(5, 6, p0, family)
    dT, dR = dense_cliffwalking(5, 6, p0, family, derivative=True)
    for dc, error in zip(dcs, sweep.sup_error):
        T, R = dense_cliffwalking(5, 6, p0 + dc, family)
        bellman_q = dense_q(T, R, policy, gamma)
        cebe_q = dense_q(T0 + dT * dc, R0 + dR * dc, policy, gamma)
        reference = np.max(np.abs(cebe_q - bellman_q))
        assert error == pytest.approx(reference, rel=1e-7, abs=1e-11)


def test_paper_setting_slopes_are_about_two():
    """Figure 1: 5 x 6, gamma 0.9, uniform policy, p0 = 0.1, 100 log-spaced dc; slope on the 10 smallest."""
    for family, high in (("inverse", -3.0), ("power", -1.0)):
        sweep = error_sweep(cliffwalking(5, 6, family), [0.1], log_grid(-8.0, high, 100), gamma=0.9)
        assert 1.95 <= sweep.fitted_slope <= 2.05, (family, sweep.fitted_slope)
        # The authors' script reports 1.9955 and 1.9993 (docs/authors_protocol.md); the models agree to the third digit.
        assert abs(sweep.fitted_slope - {"inverse": 1.9955, "power": 1.9993}[family]) < 5e-3


@pytest.mark.parametrize("variant", ["projection", "renormalize"])
def test_constant_family_cebe_is_exact_for_every_dc(variant):
    """Reward 0 and T affine in p: CEBE is the Bellman equation at every p0 + dc in (0, 1)."""
    dcs = np.concatenate([-np.linspace(0.0999, 1e-6, 15), np.linspace(1e-6, 0.8999, 40)])
    sweep = error_sweep(cliffwalking(5, 6, "constant"), [0.1], dcs, gamma=0.9, transition_variant=variant)
    assert sweep.sup_error.max() < 1e-10


@pytest.mark.parametrize("family", ["constant", "inverse", "power", "windy"])
def test_cebe_equals_bellman_at_dc_zero(family):
    from cebe_theory import windy_cliffwalking

    cmdp, c0 = (windy_cliffwalking(5, 6, "power"), -0.2) if family == "windy" else (cliffwalking(5, 6, family), 0.1)
    for policy in ("uniform", "optimal"):
        sweep = error_sweep(cmdp, [c0], [0.0], gamma=0.9, policy=policy)
        assert sweep.sup_error[0] <= 1e-12


def test_uniform_policy_q_matches_dense_solve():
    cmdp = cliffwalking(5, 6, "inverse")
    T, R = dense_cliffwalking(5, 6, 0.2, "inverse")
    reference = dense_q(T, R, np.full((30, 4), 0.25), 0.9)
    mdp = cmdp.mdp([0.2])
    np.testing.assert_allclose(evaluate_policy(mdp, uniform_policy(mdp), 0.9), reference, rtol=1e-11, atol=1e-9)


def test_cebe_at_dc_is_linear_in_the_context_for_affine_transitions():
    cmdp = cliffwalking(5, 6, "power")
    expansion = FirstOrderExpansion.at(cmdp, [0.1])
    T0, _ = dense_cliffwalking(5, 6, 0.1, "power")
    dT, _ = dense_cliffwalking(5, 6, 0.1, "power", derivative=True)
    cebe = expansion.mdp([0.2])
    np.testing.assert_allclose(cebe.transition.toarray().reshape(30, 4, 30), T0 + 0.2 * dT, atol=1e-15)
