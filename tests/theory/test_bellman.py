"""Exact policy evaluation and policy iteration against second methods (value iteration, dense solve)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cebe_theory import TabularMDP, evaluate_policy, policy_iteration
from cebe_theory.bellman import bellman_backup, check_discount


def _random_mdp(rng, n_states, n_actions, sparsity=0.5):
    T = rng.random((n_states, n_actions, n_states)) * (rng.random((n_states, n_actions, n_states)) < sparsity)
    T[:, :, 0] += 1e-3  # every row has some mass
    T /= T.sum(axis=2, keepdims=True)
    R = rng.normal(size=(n_states, n_actions, n_states))
    return TabularMDP.from_dense(T, R), T, R


def _value_iteration_q(T, R, policy, gamma, tolerance=1e-13):
    r = (T * R).sum(axis=2)
    q = np.zeros_like(r)
    while True:
        v = (policy * q).sum(axis=1)
        new = r + gamma * T @ v
        if np.max(np.abs(new - q)) < tolerance * (1 - gamma):
            return new
        q = new


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 4), st.floats(0.0, 0.95), st.integers(0, 2**32 - 1))
def test_policy_evaluation_matches_value_iteration_on_random_policies(n_states, n_actions, gamma, seed):
    rng = np.random.default_rng(seed)
    mdp, T, R = _random_mdp(rng, n_states, n_actions)
    policy = rng.dirichlet(np.ones(n_actions), size=n_states)
    q = evaluate_policy(mdp, policy, gamma)
    np.testing.assert_allclose(q, _value_iteration_q(T, R, policy, gamma), atol=1e-11 * (1 + np.abs(q).max()))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 10), st.integers(1, 4), st.floats(0.0, 0.95), st.integers(0, 2**32 - 1))
def test_policy_iteration_is_optimal_by_the_bellman_optimality_equation(n_states, n_actions, gamma, seed):
    rng = np.random.default_rng(seed)
    mdp, T, R = _random_mdp(rng, n_states, n_actions)
    result = policy_iteration(mdp, gamma)
    # Q* = r + gamma T max_a Q*: check the optimality residual, and compare with optimal value iteration.
    residual = bellman_backup(mdp, result.q.max(axis=1), gamma) - result.q
    assert np.max(np.abs(residual)) < 1e-9 * (1 + np.abs(result.q).max())
    r = (T * R).sum(axis=2)
    q = np.zeros_like(r)
    for _ in range(2000):
        q = r + gamma * T @ q.max(axis=1)
    np.testing.assert_allclose(result.q, q, atol=1e-8 * (1 + np.abs(q).max()))


def test_two_state_closed_form():
    # Stay with prob 1 - p, switch with p; reward 1 in state 0 only. V0 - V1 = 1 / (1 - gamma (1 - 2p)).
    p, gamma = 0.3, 0.8
    T = np.array([[[1 - p, p]], [[p, 1 - p]]])
    R = np.array([[1.0], [0.0]])
    q = evaluate_policy(TabularMDP.from_dense(T, R), np.ones((2, 1)), gamma)
    mean = 0.5 / (1 - gamma)
    difference = 1 / (1 - gamma * (1 - 2 * p))
    np.testing.assert_allclose(q[:, 0], [mean + difference / 2, mean - difference / 2], rtol=1e-13)


@pytest.mark.parametrize("gamma", [1.0, -0.1, "x", float("nan")])
def test_bad_discount_is_a_clear_error(gamma):
    with pytest.raises(ValueError, match="gamma must be"):
        check_discount(gamma)


def test_bad_policy_shape_is_a_clear_error():
    mdp = TabularMDP.from_dense(np.ones((1, 1, 1)), np.ones((1, 1)))
    with pytest.raises(ValueError, match="policy must have shape"):
        evaluate_policy(mdp, np.ones((2, 1)), 0.5)


def test_dense_and_sparse_solvers_agree_on_a_medium_cliffwalking():
    from cebe_theory import cliffwalking, uniform_policy

    mdp = cliffwalking(12, 12, "power").mdp([0.3])
    policy = np.random.default_rng(0).dirichlet(np.ones(4), size=mdp.n_states)
    dense = evaluate_policy(mdp, policy, 0.95, method="dense")
    sparse = evaluate_policy(mdp, policy, 0.95, method="sparse")
    np.testing.assert_allclose(dense, sparse, rtol=1e-10, atol=1e-12)
    assert evaluate_policy(mdp, uniform_policy(mdp), 0.95).shape == (144, 4)
