"""Theorem 4 (policy transfer) on the paper's Cliffwalking and the windy variant."""

import numpy as np
import pytest

from cebe_theory.bellman import deterministic_policy, evaluate_policy
from cebe_theory.cebe import FirstOrderExpansion
from cebe_theory.cliffwalking import cliffwalking, windy_cliffwalking
from cebe_theory.transfer import policy_transfer_check, policy_transfer_over_grid

GRID = np.linspace(0.02, 0.3, 21)  # 21 contexts around p0 = 0.1


@pytest.mark.parametrize("family", ["constant", "inverse", "power"])
@pytest.mark.parametrize("suboptimality", [0.0, 1.0])
def test_cebe_optimal_policy_is_within_two_delta_plus_two_eps(family, suboptimality):
    result = policy_transfer_over_grid(cliffwalking(family=family), [0.1], GRID, 0.9, suboptimality=suboptimality)
    assert len(result.checks) == 21 and result.policy_table.shape == (21, 30)
    assert result.holds, result.to_frame()
    assert result.max_ratio <= 1 + 1e-9
    assert result.uniform_ratio <= result.max_ratio + 1e-12  # the uniform delta only loosens the bound


def test_constant_family_transfers_exactly():
    # T affine in p and rewards constant: CEBE is exact, so delta ~ 0 and the transferred policy is optimal.
    result = policy_transfer_over_grid(cliffwalking(family="constant"), [0.1], GRID, 0.9)
    assert result.uniform_delta < 1e-10 and result.max_gap < 1e-10


def test_gap_is_recomputed_independently():
    # The gap from first principles: evaluate the CEBE-optimal actions in the true MDP and compare with the
    # best value over all deterministic policies found by brute-force value iteration.
    cmdp = windy_cliffwalking()
    context = np.array([0.15])
    check = policy_transfer_check(cmdp, [-0.2], context, 0.9)
    true = cmdp.mdp(context)
    value = np.zeros(cmdp.n_states)
    reward = true.expected_reward()
    for _ in range(2000):  # value iteration, contraction 0.9: error 0.9^2000 ~ 0
        value = (reward + 0.9 * (true.transition @ value).reshape(cmdp.n_states, cmdp.n_actions)).max(axis=1)
    transferred = evaluate_policy(true, deterministic_policy(check.cebe_policy, cmdp.n_actions), 0.9)
    transferred_value = transferred[np.arange(cmdp.n_states), check.cebe_policy]
    assert check.gap == pytest.approx(np.max(value - transferred_value), abs=1e-8)
    assert check.holds


def test_eps_is_the_measured_cebe_suboptimality():
    cmdp = cliffwalking(family="power")
    check = policy_transfer_check(cmdp, [0.1], [0.2], 0.9, suboptimality=1.0)
    cebe = FirstOrderExpansion.at(cmdp, [0.1]).mdp([0.1])
    q = evaluate_policy(cebe, deterministic_policy(check.cebe_policy, 4), 0.9)
    states = np.arange(cmdp.n_states)
    value = np.zeros(cmdp.n_states)  # V*_CE by value iteration, independent of policy iteration
    for _ in range(2000):
        value = (cebe.expected_reward() + 0.9 * (cebe.transition @ value).reshape(-1, 4)).max(axis=1)
    assert check.eps == pytest.approx(np.max(value - q[states, check.cebe_policy]), abs=1e-8)
    assert 0 < check.eps <= 1.0


def test_bad_input():
    cmdp = cliffwalking(family="power")
    with pytest.raises(ValueError, match="suboptimality"):
        policy_transfer_over_grid(cmdp, [0.1], GRID, suboptimality=-1)
    with pytest.raises(ValueError, match="transition variant"):
        policy_transfer_over_grid(cmdp, [0.1], GRID, transition_variant="clip")
    with pytest.raises(ValueError, match="outside the allowed context box"):
        policy_transfer_over_grid(cmdp, [0.1], [1.5])
    with pytest.raises(ValueError, match="must not be empty"):
        policy_transfer_over_grid(cmdp, [0.1], [])
