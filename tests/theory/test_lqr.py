"""Deterministic CEBE (Theorem 2) on the contextual LQR: exact quadratic Q-functions, O(|dc|^2) errors,
Monte Carlo agreement, and the bridge to context sample enhancement (cebe_deep.learn.cse)."""

import numpy as np
import pytest

from cebe_theory.bounds import checks_frame
from cebe_theory.lqr import (
    DEFAULT_CONTEXT0,
    DEFAULT_GAIN,
    coefficient_sweep,
    default_lqr,
    monte_carlo_q,
    optimal_q_matrix,
    policy_q_matrix,
    theorem2_sweep,
)
from cebe_theory.sweep import log_grid

GAMMA = 0.9
LQR = default_lqr()
C0 = DEFAULT_CONTEXT0


def _value_iteration_q(problem, gain, gamma, steps=600):
    """Q^K by iterating G <- H + gamma F^T [I;K]^T... i.e. the Bellman operator on quadratic forms."""
    n = problem.n_states
    lift = np.vstack([np.eye(n), gain])
    G = np.zeros_like(problem.cost)
    for _ in range(steps):
        P = lift.T @ G @ lift
        G = problem.cost + gamma * problem.dynamics.T @ P @ problem.dynamics
    return G


def _riccati_iteration(problem, gamma, steps=600):
    """Q* by value iteration on quadratic forms: V(x) = max_u Q(x, u) = -x^T (G_xx - G_xu G_uu^-1 G_ux) x."""
    n = problem.n_states
    G = np.zeros_like(problem.cost)
    for _ in range(steps):
        P = G[:n, :n] - G[:n, n:] @ np.linalg.solve(G[n:, n:], G[n:, :n]) if G[n:, n:].any() else G[:n, :n]
        G = problem.cost + gamma * problem.dynamics.T @ P @ problem.dynamics
    return G


def test_lyapunov_and_riccati_solutions_match_value_iteration():
    problem = LQR.true_problem(C0 + 0.1)
    G, _ = policy_q_matrix(problem, DEFAULT_GAIN, GAMMA)
    np.testing.assert_allclose(G, _value_iteration_q(problem, DEFAULT_GAIN, GAMMA), atol=1e-10)
    G_star, _, gain = optimal_q_matrix(problem, GAMMA)
    np.testing.assert_allclose(G_star, _riccati_iteration(problem, GAMMA), atol=1e-10)
    # The optimal policy is at least as good as the fixed one at every z (Q* >= Q^K, i.e. G* <= G^K).
    assert np.linalg.eigvalsh(G - G_star).min() >= -1e-12
    np.testing.assert_allclose(policy_q_matrix(problem, gain, GAMMA)[0], G_star, atol=1e-10)


def test_cebe_reward_matrix_is_the_first_order_expansion_of_the_realized_reward():
    # Assembled from the CEBE formula (d_c R + d_s'R d_c f); reference: central differences of H(c).
    h, dc = 1e-5, 0.05
    dH = (LQR.realized_cost(C0 + h) - LQR.realized_cost(C0 - h)) / (2 * h)
    dF = (LQR.dynamics(C0 + h) - LQR.dynamics(C0 - h)) / (2 * h)
    cebe = LQR.cebe_problem(C0, dc)
    np.testing.assert_allclose(cebe.cost, LQR.realized_cost(C0) + dc * dH, atol=1e-9)
    np.testing.assert_allclose(cebe.dynamics, LQR.dynamics(C0) + dc * dF, atol=1e-9)


def test_q_coefficient_error_is_second_order():
    sweep = coefficient_sweep(LQR, C0, log_grid(-8.0, -2.0, 20), DEFAULT_GAIN, GAMMA)
    for name, slope in sweep.slopes.items():
        assert 1.9 <= slope <= 2.1, (name, slope)
    # Also for a negative context step.
    negative = coefficient_sweep(LQR, C0, -log_grid(-8.0, -2.0, 12), DEFAULT_GAIN, GAMMA)
    assert all(1.9 <= s <= 2.1 for s in negative.slopes.values()), negative.slopes


@pytest.mark.parametrize("state, action", [([1.0, 0.0], [0.3]), ([0.2, -0.5], [-0.4]), ([-0.7, 0.7], [0.0])])
def test_q_agrees_with_monte_carlo_rollouts(state, action):
    z = np.r_[state, action]
    for problem in (LQR.true_problem(C0 + 0.2), LQR.cebe_problem(C0, 0.2)):
        G, _ = policy_q_matrix(problem, DEFAULT_GAIN, GAMMA)
        step = lambda zz, p=problem: (zz @ p.dynamics.T, -np.einsum("bi,ij,bj->b", zz, p.cost, zz))  # noqa: E731
        mean, stderr = monte_carlo_q(step, np.array(state), np.array(action), DEFAULT_GAIN, GAMMA, rollouts=20000, seed=1)
        assert abs(mean - (-z @ G @ z)) <= 4 * stderr
        assert stderr < 0.01 * (1 + abs(z @ G @ z))  # the check has teeth


def _cse_formula(next_state, reward, dcontext, dnext, dreward_dc, dreward_dnext):
    """CSE as written in arXiv 2507.07348 (context sample enhancement): s' + dT/dc dc, r + dR/dc dc + dR/ds' dT/dc dc."""
    shift = (dnext @ dcontext[..., None])[..., 0]
    return next_state + shift, reward + (dreward_dc * dcontext).sum(-1) + (dreward_dnext * shift).sum(-1)


def _cse_functions():
    functions = [_cse_formula]
    try:
        from cebe_deep.learn.cse import context_sample_enhancement
    except ImportError:  # cebe_deep's optional dependencies (torch, SB3) are not installed
        return functions
    return functions + [context_sample_enhancement]


@pytest.mark.parametrize("cse", _cse_functions(), ids=lambda f: f.__module__ + "." + f.__name__)
def test_cse_on_lqr_samples_reproduces_the_cebe_lqr(cse):
    rng = np.random.default_rng(0)
    states, actions = rng.normal(size=(64, 2)), rng.normal(size=(64, 1))
    dc = 0.15
    samples = LQR.transition_samples(C0, states, actions)
    next_state, reward = cse(samples["next_state"], samples["reward"], np.full((64, 1), dc), samples["dnext_dcontext"],
                             samples["dreward_dcontext"], samples["dreward_dnext"])
    cebe = LQR.cebe_problem(C0, dc)
    z = np.hstack([states, actions])
    np.testing.assert_allclose(next_state, z @ cebe.dynamics.T, atol=1e-12)
    np.testing.assert_allclose(reward, -np.einsum("bi,ij,bj->b", z, cebe.cost, z), atol=1e-12)

    # Rollouts that simulate at c0 and move every transition with CSE estimate Q_CE, not Q_BE.
    def cse_step(zz):
        s = LQR.transition_samples(C0, zz[:, :2], zz[:, 2:])
        return cse(
            s["next_state"],
            s["reward"],
            np.full((zz.shape[0], 1), dc),
            s["dnext_dcontext"],
            s["dreward_dcontext"],
            s["dreward_dnext"],
        )

    x, u = np.array([0.8, -0.6]), np.array([0.5])
    mean, stderr = monte_carlo_q(cse_step, x, u, DEFAULT_GAIN, GAMMA, rollouts=20000, seed=2)
    G_ce, _ = policy_q_matrix(cebe, DEFAULT_GAIN, GAMMA)
    zz = np.r_[x, u]
    assert abs(mean - (-zz @ G_ce @ zz)) <= 4 * stderr


def test_theorem2_bound_holds_where_its_conditions_hold():
    for gamma in (0.9, 0.8):
        frame = checks_frame(theorem2_sweep(LQR, C0, np.exp(np.linspace(-8, np.log(0.35), 10)), DEFAULT_GAIN, gamma))
        holds = frame["conditions"] == "hold"
        assert holds.any()
        assert frame.loc[holds, "within_bound"].all()
        assert frame.loc[~holds, "bound"].isna().all()
    # At gamma = 0.9 the gamma condition fails for the larger dc: (|Df| + |D^2f| |dc|)(1 + |K|) grows with |dc|.
    frame = checks_frame(theorem2_sweep(LQR, C0, [1e-3, 0.3], DEFAULT_GAIN, 0.9))
    assert frame["conditions"].tolist()[0] == "hold" and "gamma < 1/" in frame["conditions"].tolist()[1]


def test_bad_input():
    with pytest.raises(ValueError, match="outside the allowed context interval"):
        LQR.cebe_problem(C0, 1.0)
    with pytest.raises(ValueError, match="gain K must have shape"):
        policy_q_matrix(LQR.true_problem(C0), np.zeros((2, 2)), GAMMA)
    with pytest.raises(ValueError, match="value is infinite"):
        policy_q_matrix(LQR.true_problem(C0), np.array([[0.0, -20.0]]), GAMMA)
    with pytest.raises(ValueError, match="state_radius"):
        theorem2_sweep(LQR, C0, [0.01], state_radius=-1.0)
