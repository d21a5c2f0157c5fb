"""The components of the open-question experiments (beyond the paper): inexact Jacobians (OQ3), the noisy
PendulumGoal and importance-weighted CSE (OQ1), SimpleDirection's closed-form optimum in dimension d (OQ2)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from gymnasium import spaces
from scipy.optimize import minimize

from cebe_deep.learn.cse import context_sample_enhancement
from cebe_deep.learn.importance import (
    ImportanceWeightedCSEBuffer,
    PrioritizedImportanceCSEBuffer,
    effective_sample_size,
    gaussian_log_density,
)
from cebe_deep.learn.inexact import FiniteDifferenceJacobians, InexactJacobianCSEBuffer, PrioritizedInexactJacobianCSEBuffer
from cebe_deep.tasks import NoisyPendulumGoal, PendulumGoal, SimpleDirection, central_differences, make_task
from cebe_deep.tasks.simple_direction import dimension_test_contexts, simple_direction_optimal_return


def spaces_for(state_dim, context_dim, action_dim=1):
    observation = spaces.Box(-np.inf, np.inf, shape=(state_dim + context_dim,), dtype=np.float64)
    return observation, spaces.Box(-1.0, 1.0, shape=(action_dim,), dtype=np.float32)


# ------------------------------------------------------------------------------ OQ3: noisy / biased Jacobians
JACOBIAN = np.array([[1.0, -2.0], [0.5, 0.0]])  # d_c T (2 x 2)
DREWARD_DC = np.array([3.0, -1.0])
DREWARD_DNEXT = np.array([0.25, 4.0])
PACKED = np.concatenate([JACOBIAN.ravel(), DREWARD_DC, DREWARD_DNEXT])


def filled_inexact_buffer(noise, bias, n=4000, cls=InexactJacobianCSEBuffer, **kwargs):
    np.random.seed(0)
    observation, action = spaces_for(2, 2)
    buffer = cls(n, observation, action, device="cpu", state_dim=2, context_dim=2, eps=0.1,
                 jacobian_noise=noise, jacobian_bias=bias, **kwargs)
    info = {"dobs_dcontext": JACOBIAN, "dreward_dcontext": DREWARD_DC, "dreward_dnextobs": DREWARD_DNEXT}
    rng = np.random.default_rng(1)
    for _ in range(n):
        obs, next_obs = rng.normal(size=(1, 4)), rng.normal(size=(1, 4))
        buffer.add(obs, next_obs, rng.uniform(-1, 1, (1, 1)), np.array([0.5]), np.array([0.0]), [info])
    return buffer


@pytest.mark.parametrize("noise, bias", [(0.3, 1.0), (1.0, 1.0), (0.1, 1.5), (0.0, 0.5)])
def test_jacobian_noise_statistics(noise, bias):
    # J_used = bias (1 + sigma Z) J: mean bias J, std sigma |bias J| entrywise; zero partials stay zero.
    buffer = filled_inexact_buffer(noise, bias)
    stored = buffer.context_derivatives[:, 0].astype(np.float64)
    n = len(stored)
    mean, std = stored.mean(axis=0), stored.std(axis=0)
    tolerance = 4 * noise * np.abs(bias * PACKED) / math.sqrt(n) + 1e-6
    assert np.all(np.abs(mean - bias * PACKED) <= tolerance)
    np.testing.assert_allclose(std, noise * np.abs(bias * PACKED), rtol=0.06, atol=1e-6)
    assert np.all(stored[:, PACKED == 0] == 0)
    # entries are independent: the correlation of two partials' factors is ~0
    if noise > 0:
        factors = stored[:, [0, 1]] / (bias * PACKED[[0, 1]])
        assert abs(np.corrcoef(factors.T)[0, 1]) < 0.06


def test_jacobian_noise_is_drawn_once_per_transition_and_used_by_cse():
    buffer = filled_inexact_buffer(0.5, 1.0, n=64)
    before = buffer.context_derivatives.copy()
    batch_inds, env_inds = np.arange(64), np.zeros(64, dtype=int)
    first = buffer._samples_at(batch_inds, env_inds)
    np.testing.assert_array_equal(buffer.context_derivatives, before)  # sampling does not redraw
    # The enhanced batch is the CSE formula with the stored (degraded) partials.
    obs, next_obs = buffer.observations[:64, 0], buffer.next_observations[:64, 0]
    dcontext = first.observations.numpy()[:, 2:] - obs[:, 2:]
    packed = before[:64, 0].astype(np.float64)
    next_state, reward = context_sample_enhancement(next_obs[:, :2], buffer.rewards[:64, 0], dcontext,
                                                    packed[:, :4].reshape(64, 2, 2), packed[:, 4:6], packed[:, 6:])
    np.testing.assert_allclose(first.next_observations.numpy()[:, :2], next_state, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first.rewards.numpy()[:, 0], reward, rtol=1e-5, atol=1e-5)


def test_exact_jacobians_when_noise_is_zero_and_prioritized_variant_builds():
    buffer = filled_inexact_buffer(0.0, 1.0, n=16, cls=PrioritizedInexactJacobianCSEBuffer, priority_alpha=0.6,
                                   priority_beta=0.4)
    np.testing.assert_array_equal(buffer.context_derivatives[:, 0], np.broadcast_to(PACKED, (16, 8)))
    buffer.sample(8)
    assert buffer.last_weights.shape == (8, 1)
    with pytest.raises(ValueError, match="jacobian_noise"):
        filled_inexact_buffer(-0.1, 1.0, n=1)


# ---------------------------------------------------------------------------- finite-difference Jacobians
@pytest.mark.parametrize("step_size", [1e-2, 1e-4])
def test_finite_difference_wrapper_matches_the_closed_form(step_size):
    # The wrapper reports the total reward derivative as dreward_dcontext (dreward_dnextobs = 0); CSE uses
    # d_c R + d_s'R d_c T, so compare that combination.
    rng = np.random.default_rng(4)
    exact = PendulumGoal(context=[2.5, 1.2, 0.9, 0.3])
    wrapped = FiniteDifferenceJacobians(PendulumGoal(context=[2.5, 1.2, 0.9, 0.3], jacobians=False), step_size)
    exact.reset(seed=5)
    wrapped.reset(seed=5)
    for _ in range(20):
        action = rng.uniform(-2, 2, size=1)
        *_, info_exact = exact.step(action)
        *_, info_fd = wrapped.step(action)
        total = info_exact["dreward_dcontext"] + info_exact["dreward_dnextobs"] @ info_exact["dobs_dcontext"]
        tolerance = 50 * step_size**2 + 1e-7
        np.testing.assert_allclose(info_fd["dobs_dcontext"], info_exact["dobs_dcontext"], atol=tolerance)
        np.testing.assert_allclose(info_fd["dreward_dcontext"], total, atol=tolerance * 10)
        assert not info_fd["dreward_dnextobs"].any()
    assert wrapped.evaluations == 20 * 2 * 4 and wrapped.steps == 20 and wrapped.seconds_per_step > 0


# ------------------------------------------------------------------------- OQ1: the noisy PendulumGoal
def test_noisy_task_at_zero_noise_is_pendulum_goal():
    quiet, noisy = PendulumGoal(), NoisyPendulumGoal(noise=0.0)
    quiet.reset(seed=2)
    noisy.reset(seed=2)
    for torque in np.linspace(-2, 2, 15):
        a, b = quiet.step([torque]), noisy.step([torque])
        np.testing.assert_allclose(b[0], a[0], rtol=1e-13, atol=1e-13)
        assert b[1] == pytest.approx(a[1], rel=1e-12, abs=1e-13)
        for key in ("dobs_dcontext", "dreward_dcontext", "dreward_dnextobs"):
            np.testing.assert_allclose(b[4][key], a[4][key], rtol=1e-12, atol=1e-13)


def test_noisy_task_jacobians_against_finite_differences_with_the_noise_held_fixed():
    # central_differences steps deep copies of the environment: each copy carries the generator's state, so it
    # draws the same xi as the real step -- finite differences through the public step with the noise fixed.
    rng = np.random.default_rng(7)
    env = NoisyPendulumGoal(context=[2.0, 1.1, 0.8, 0.2], noise=0.2)
    env.reset(seed=7)
    for _ in range(15):
        action = rng.uniform(-2, 2, size=1)
        fd_state, fd_total = central_differences(None, env, action, step_sizes=1e-5)
        # additive noise: d_c T and d_c R are the noiseless task's at the same (s, a, c)
        quiet = PendulumGoal(context=env.context)
        quiet._theta, quiet._theta_dot = env._theta, env._theta_dot
        _, _, _, _, quiet_info = quiet.step(action)
        _, _, _, _, info = env.step(action)
        assert env.last_noise != 0
        np.testing.assert_allclose(info["dobs_dcontext"], fd_state, atol=1e-7)
        np.testing.assert_allclose(info["dreward_dcontext"] + info["dreward_dnextobs"] @ info["dobs_dcontext"],
                                   fd_total, atol=1e-6)
        np.testing.assert_allclose(info["dobs_dcontext"], quiet_info["dobs_dcontext"], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(info["dreward_dcontext"], quiet_info["dreward_dcontext"], rtol=1e-12, atol=1e-14)
        # d_s'R is the same formula at the noisy s': its speed entry is -0.2 theta_dot'
        assert info["dreward_dnextobs"][2] == pytest.approx(-0.2 * env._theta_dot, rel=1e-12)


def test_noisy_task_reparameterized_dobs_is_independent_of_the_noise():
    env = NoisyPendulumGoal(noise=0.5)
    state = np.array([[math.cos(0.4), math.sin(0.4), -0.3]])
    context = np.array([[2.0, 1.0, 1.0, 0.1]])
    h = 1e-6
    for noise in (-1.0, 0.0, 0.7):
        plus = env.simulate(state, [[0.5]], context + [[h, 0, 0, 0]], noise=noise)[0]
        minus = env.simulate(state, [[0.5]], context - [[h, 0, 0, 0]], noise=noise)[0]
        np.testing.assert_allclose((plus - minus)[0, 2] / (2 * h), 3 / 2 * math.sin(0.4) * 0.05, rtol=1e-6)


def test_finite_difference_wrapper_holds_the_noise_fixed():
    closed = NoisyPendulumGoal(noise=0.3)
    wrapped = FiniteDifferenceJacobians(NoisyPendulumGoal(noise=0.3, jacobians=False), 1e-5)
    closed.reset(seed=1)
    wrapped.reset(seed=1)
    for torque in (0.5, -1.0, 2.0, 0.0):
        *_, info_closed = closed.step([torque])
        *_, info_fd = wrapped.step([torque])
        np.testing.assert_allclose(info_fd["dobs_dcontext"], info_closed["dobs_dcontext"], atol=1e-7)
        total = info_closed["dreward_dcontext"] + info_closed["dreward_dnextobs"] @ info_closed["dobs_dcontext"]
        np.testing.assert_allclose(info_fd["dreward_dcontext"], total, atol=1e-6)


def test_transition_log_density_ratio_is_the_gaussian_closed_form():
    # theta_dot' ~ N(mu_c, sigma^2): log p_{c'} - log p_c = ((x - mu_c)^2 - (x - mu_{c'})^2) / (2 sigma^2),
    # mu_c = theta_dot + dt (3 g / (2 l) sin(theta) + 3 u / (m l^2)).
    sigma, dt = 0.2, 0.05
    env = NoisyPendulumGoal(noise=sigma)
    theta, speed, torque = 0.7, -0.4, 1.3
    obs = np.array([[math.cos(theta), math.sin(theta), speed]])
    c, c_new = np.array([2.0, 1.0, 1.0, 0.0]), np.array([2.3, 0.9, 1.1, 0.4])

    def mean(g, m, l, _tau):
        return speed + dt * (3 * g / (2 * l) * math.sin(theta) + 3 * torque / (m * l**2))

    x = mean(*c) + 0.13
    next_obs = np.array([[math.cos(theta + dt * speed), math.sin(theta + dt * speed), x]])
    ratio = np.exp(env.transition_log_density(next_obs, obs, [[torque]], c_new[None])
                   - env.transition_log_density(next_obs, obs, [[torque]], c[None]))
    expected = math.exp(((x - mean(*c)) ** 2 - (x - mean(*c_new)) ** 2) / (2 * sigma**2))
    assert ratio[0] == pytest.approx(expected, rel=1e-12)
    log_density = env.transition_log_density(next_obs, obs, [[torque]], c[None])[0]
    assert log_density == pytest.approx(-0.5 * (0.13 / sigma) ** 2 - math.log(sigma * math.sqrt(2 * math.pi)), rel=1e-12)
    with pytest.raises(ValueError, match="noise > 0"):
        NoisyPendulumGoal(noise=0.0).transition_log_density(next_obs, obs, [[torque]], c[None])


def test_noisy_task_is_registered_with_the_noise_keyword():
    env = make_task("NoisyPendulumGoal", noise=0.05)
    assert env.unwrapped.noise == 0.05 and env.spec.max_episode_steps == 200
    with pytest.raises(ValueError, match="dynamics='authors'"):
        NoisyPendulumGoal(dynamics="gymnasium")


# ------------------------------------------------------------------- OQ1: importance-weighted CSE buffer
SIGMA = 0.5


def toy_log_density(next_state, state, action, context):
    # a 1-d toy: s' ~ N(s + a + c, SIGMA^2); the action arrives in env units ([-2, 2] here)
    return gaussian_log_density(next_state[:, 0], state[:, 0] + action[:, 0] + context[:, 0], SIGMA)


def filled_importance_buffer(n=5000, cls=ImportanceWeightedCSEBuffer, max_weight=np.inf, **kwargs):
    np.random.seed(0)
    torch.manual_seed(0)
    observation = spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float64)
    action_space = spaces.Box(-2.0, 2.0, shape=(1,), dtype=np.float32)
    buffer = cls(n, observation, action_space, device="cpu", state_dim=1, context_dim=1, eps=0.3,
                 log_density=toy_log_density, max_weight=max_weight, **kwargs)
    rng = np.random.default_rng(3)
    info = {"dobs_dcontext": np.ones((1, 1)), "dreward_dcontext": np.array([2.0]), "dreward_dnextobs": np.array([0.0])}
    for _ in range(n):
        state, context, action = rng.normal(), 0.5, rng.uniform(-1, 1)  # stored action: scaled to [-1, 1]
        next_state = state + 2 * action + context + SIGMA * rng.normal()
        buffer.add(np.array([[state, context]]), np.array([[next_state, context]]), np.array([[action]]),
                   np.array([1.0]), np.array([0.0]), [info])
    return buffer


def test_importance_weights_are_the_gaussian_density_ratio_and_s_prime_is_kept():
    buffer = filled_importance_buffer(n=256)
    inds = np.arange(256)
    batch = buffer._samples_at(inds, np.zeros(256, dtype=int))
    state, next_state = buffer.observations[:256, 0, 0], buffer.next_observations[:256, 0, 0]
    action = 2 * buffer.actions[:256, 0, 0].astype(np.float64)
    new_context = batch.observations.numpy()[:, 1]
    dc = new_context - 0.5
    np.testing.assert_allclose(np.abs(dc), 0.3, rtol=1e-6)
    mean_old, mean_new = state + action + 0.5, state + action + new_context
    expected = np.exp(((next_state - mean_old) ** 2 - (next_state - mean_new) ** 2) / (2 * SIGMA**2))
    np.testing.assert_allclose(buffer.last_importance_weights, expected, rtol=1e-5)
    np.testing.assert_allclose(batch.next_observations.numpy()[:, 0], next_state)          # s' kept
    np.testing.assert_allclose(batch.next_observations.numpy()[:, 1], new_context)
    np.testing.assert_allclose(batch.rewards.numpy()[:, 0], 1.0 + 2.0 * dc, rtol=1e-5)      # r + d_c R dc
    np.testing.assert_allclose(buffer.last_weights.numpy()[:, 0], expected, rtol=1e-5)
    assert buffer.last_effective_sample_size == pytest.approx(expected.sum() ** 2 / (expected**2).sum(), rel=1e-6)


def test_importance_weighted_mean_is_the_mean_at_the_new_context():
    # E_{s' ~ p_c}[w s'] = E_{s' ~ p_{c+dc}}[s'] = s + a + c + dc: regress the weighted residual on dc.
    buffer = filled_importance_buffer(n=20000)
    inds = np.arange(20000)
    batch = buffer._samples_at(inds, np.zeros(20000, dtype=int))
    state, next_state = buffer.observations[:20000, 0, 0], buffer.next_observations[:20000, 0, 0]
    action = 2 * buffer.actions[:20000, 0, 0].astype(np.float64)
    w = buffer.last_importance_weights
    new_mean = state + action + batch.observations.numpy()[:, 1]
    assert np.mean(w) == pytest.approx(1.0, abs=0.03)
    dc = batch.observations.numpy()[:, 1] - 0.5
    residual = next_state - new_mean  # = noise - dc under p_c
    # unweighted, s' lags the new mean by dc (slope -1 on dc); weighted, the lag is gone (slope 0)
    assert np.mean(residual * dc) / np.mean(dc**2) == pytest.approx(-1.0, abs=0.05)
    assert np.mean(w * residual * dc) / np.mean(dc**2) == pytest.approx(0.0, abs=0.08)
    assert np.mean(w * residual) == pytest.approx(0.0, abs=0.02)


def test_clipping_and_effective_sample_size():
    buffer = filled_importance_buffer(n=2000, max_weight=1.5)
    buffer._samples_at(np.arange(2000), np.zeros(2000, dtype=int))
    assert buffer.last_importance_weights.max() <= 1.5 + 1e-12
    assert 0 < buffer.last_clipped_fraction < 1
    assert 0 < buffer.mean_effective_sample_size_fraction <= 1
    assert effective_sample_size(np.ones(7)) == pytest.approx(7.0)
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)


def test_prioritized_importance_buffer_multiplies_the_weights():
    uniform = filled_importance_buffer(n=300, cls=PrioritizedImportanceCSEBuffer, priority_alpha=0.0, priority_beta=0.0)
    uniform.sample(64)
    np.testing.assert_allclose(uniform.last_weights.numpy()[:, 0], uniform.last_importance_weights, rtol=1e-6)
    prioritized = filled_importance_buffer(n=300, cls=PrioritizedImportanceCSEBuffer, priority_alpha=0.6, priority_beta=0.4)
    prioritized.update_priorities(np.linspace(0.1, 3.0, 300), np.arange(300))
    prioritized.sample(64)
    slots = prioritized.last_slots
    stored = 300
    probabilities = prioritized.tree.values(slots) / prioritized.tree.total
    priority = (stored * probabilities) ** -0.4 / (stored * prioritized.tree.minimum / prioritized.tree.total) ** -0.4
    np.testing.assert_allclose(prioritized.last_weights.numpy()[:, 0], priority * prioritized.last_importance_weights,
                               rtol=1e-5)


def test_context_sac_trains_with_importance_weights_on_the_noisy_pendulum():
    from cebe_deep.learn.sac import ContextSAC

    env = make_task("NoisyPendulumGoal", noise=0.05, jacobians=True)
    task = env.unwrapped
    model = ContextSAC(
        "MlpPolicy",
        env,
        learning_starts=64,
        batch_size=32,
        buffer_size=400,
        seed=0,
        device="cpu",
        policy_kwargs=dict(net_arch=[16]),
        replay_buffer_class=PrioritizedImportanceCSEBuffer,
        replay_buffer_kwargs=dict(
            state_dim=task.state_dim,
            context_dim=task.context_dim,
            eps=0.1,
            log_density=task.transition_log_density,
            max_weight=10.0,
            priority_alpha=0.0,
            priority_beta=0.0,
        ),
    )
    model.learn(120)
    assert model.replay_buffer.last_weights is not None
    assert 0 < model.replay_buffer.mean_effective_sample_size_fraction <= 1


# ----------------------------------------------------------------- OQ2: SimpleDirection's optimum in dimension d
def rollout_return(env, start, actions, context, gamma):
    state, total = np.asarray(start, dtype=np.float64), 0.0
    for t, action in enumerate(actions):
        state, reward = env.simulate(state, action, context)
        total += gamma**t * float(reward)
    return total


@pytest.mark.parametrize("dimension", [1, 2])
@pytest.mark.parametrize("gamma", [0.9, 1.0])
def test_closed_form_optimum_against_exhaustive_search(dimension, gamma):
    # Three steps, actions on the grid {-1, -1/2, 0, 1/2, 1}^d per step: the best open-loop plan (the dynamics
    # are deterministic, so open loop loses nothing) from a fixed start.
    env = SimpleDirection(dimension=dimension)
    rng = np.random.default_rng(dimension)
    context, start = rng.uniform(-1, 1, dimension), rng.uniform(-1, 1, dimension)
    grid = [np.array(a) for a in itertools.product(np.linspace(-1, 1, 5), repeat=dimension)]
    best = max(rollout_return(env, start, plan, context, gamma) for plan in itertools.product(grid, repeat=3))
    assert simple_direction_optimal_return(context, gamma, steps=3, start_state=start) == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("dimension", [2, 3])
def test_closed_form_optimum_against_numerical_optimization(dimension):
    # The full 10-step episode, optimized by L-BFGS-B over all 10 d actions in the box from random starts.
    env = SimpleDirection(dimension=dimension)
    rng = np.random.default_rng(10 + dimension)
    context, start = rng.uniform(-0.8, 0.8, dimension), rng.uniform(-1, 1, dimension)

    def negative_return(flat):
        return -rollout_return(env, start, flat.reshape(10, dimension), context, 0.9)

    best = min(minimize(negative_return, rng.uniform(-1, 1, 10 * dimension), method="L-BFGS-B",
                        bounds=[(-1, 1)] * (10 * dimension)).fun for _ in range(3))
    assert simple_direction_optimal_return(context, 0.9, start_state=start) == pytest.approx(-best, rel=1e-6)


def test_sign_policy_reaches_the_closed_form_in_the_environment():
    # The undiscounted episode return of a = sign(c), averaged over starts, is 55 (|c|_1 + |c|^2).
    context = np.array([0.3, -0.5, 0.1, 0.0])
    env = make_task("SimpleDirection", dimension=4, context=context)
    returns = []
    for seed in range(400):
        env.reset(seed=seed)
        start = env.unwrapped._state.copy()
        total = sum(env.step(np.sign(context))[1] for _ in range(10))
        assert total == pytest.approx(simple_direction_optimal_return(context, start_state=start), rel=1e-12)
        returns.append(total)
    assert simple_direction_optimal_return(context) == pytest.approx(55 * (0.9 + 0.35))
    assert np.mean(returns) == pytest.approx(55 * (0.9 + 0.35), rel=0.05)


def test_dimension_test_contexts():
    contexts = dimension_test_contexts(16)
    assert contexts.shape == (48, 16)
    radii = np.linalg.norm(contexts, axis=1)
    np.testing.assert_allclose(radii, np.repeat([0.2, 0.5, 0.8], 16), rtol=1e-12)
    np.testing.assert_allclose(contexts[16:32] / 0.5, contexts[:16] / 0.2, rtol=1e-12)  # same directions
    np.testing.assert_array_equal(contexts, dimension_test_contexts(16))                 # fixed seed
    assert np.all(np.abs(contexts) <= 1.0)
    env = SimpleDirection(dimension=16)
    for context in contexts:
        env.set_context(context)


@pytest.mark.parametrize("name", ["cebe_deep.learn.inexact", "cebe_deep.learn.importance", "cebe_deep.tasks.noisy_pendulum",
                                  "cebe_deep.tasks.simple_direction"])
def test_docstring_examples_of_the_new_modules(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_the_new_buffers_pickle_with_their_task_density():
    # SB3's save_replay_buffer pickles the buffer (resumable checkpoints); the log density is a bound method of
    # the task, whose compiled sympy functions are rebuilt on unpickling.
    import pickle

    task = NoisyPendulumGoal(noise=0.1)
    observation, action = task.observation_space, task.action_space
    buffer = PrioritizedImportanceCSEBuffer(8, observation, action, device="cpu", state_dim=3, context_dim=4,
                                            log_density=task.transition_log_density, priority_alpha=0.0, priority_beta=0.0)
    obs, _ = task.reset(seed=0)
    next_obs, reward, _, _, info = task.step([0.5])
    for _ in range(8):
        buffer.add(obs[None], next_obs[None], np.array([[0.25]]), np.array([reward]), np.array([0.0]), [info])
    copy = pickle.loads(pickle.dumps(buffer))
    copy.sample(4)
    assert copy.last_weights.shape == (4, 1) and np.all(copy.last_importance_weights > 0)
    inexact = pickle.loads(pickle.dumps(filled_inexact_buffer(0.3, 1.0, n=8)))
    np.testing.assert_array_equal(inexact.context_derivatives, filled_inexact_buffer(0.3, 1.0, n=8).context_derivatives)


# ----------------------------------------------------------------- the options wired into the run pipeline
# Tiny budgets: these check the wiring (config -> env -> buffer -> files), not learning.
from cebe_deep.run import training  # noqa: E402
from cebe_deep.run.config import ConfigError, TrainConfig, make_config  # noqa: E402

TINY = dict(total_steps=200, learning_starts=50, batch_size=16, net_arch=(8, 8), checkpoint_every=10_000)
TINY_FLAGS = ["--steps", "200", "--learning-starts", "50", "--batch-size", "16", "--net", "8,8", "--no-progress"]
NEW_FIELDS = ("dimension", "task_noise", "jacobian_noise", "jacobian_bias", "fd_jacobians", "cse_variant", "max_weight")


def test_a_config_json_written_before_the_new_fields_still_compares_equal():
    # Runs in progress wrote config.json without the open-question fields; resuming them must not see a change.
    for profile in ("quick", "authors"):
        config = make_config("PendulumGoal", "cse", profile)
        old = {key: value for key, value in config.to_json().items() if key not in NEW_FIELDS}
        assert TrainConfig.from_json(old) == config and TrainConfig.from_json(old).differences(config) == []
    assert make_config("PendulumGoal", "cse", "authors", jacobian_noise=0.3).differences(make_config(
        "PendulumGoal", "cse", "authors")) == ["jacobian_noise: 0.3 != 0.0"]


def test_noisy_pendulum_has_pendulum_goal_profiles():
    for profile in ("quick", "authors"):
        noisy, plain = make_config("NoisyPendulumGoal", "cse", profile), make_config("PendulumGoal", "cse", profile)
        assert [line for line in noisy.differences(plain) if not line.startswith("task:")] == []


def _model(config):
    env = training.make_vec_training_env(config)
    return training.make_model(config, env), env


@pytest.mark.parametrize("profile, uniform, prioritized", [("quick", InexactJacobianCSEBuffer, None),
                                                          ("authors", None, PrioritizedInexactJacobianCSEBuffer)])
def test_jacobian_noise_and_bias_build_the_inexact_buffer(profile, uniform, prioritized):
    config = make_config("PendulumGoal", "cse", profile, jacobian_noise=0.3, jacobian_bias=1.5, **TINY)
    model, env = _model(config)
    assert type(model.replay_buffer) is (uniform or prioritized)
    assert (model.replay_buffer.jacobian_noise, model.replay_buffer.jacobian_bias) == (0.3, 1.5)
    env.close()


@pytest.mark.parametrize("replay, expected", [("uniform", ImportanceWeightedCSEBuffer),
                                              ("prioritized", PrioritizedImportanceCSEBuffer)])
def test_importance_variant_builds_the_importance_buffer_with_the_task_density(replay, expected):
    config = make_config("NoisyPendulumGoal", "cse", "authors", task_noise=0.2, cse_variant="importance", max_weight=4.0,
                         replay=replay, **TINY)
    model, env = _model(config)
    buffer = model.replay_buffer
    assert type(buffer) is expected and buffer.max_weight == 4.0
    assert buffer.log_density.__self__.noise == 0.2 and env.get_attr("unwrapped")[0].noise == 0.2
    env.close()


def test_dimension_and_task_noise_reach_every_env_of_the_run():
    config = make_config("SimpleDirection", "ldr", dimension=5, **TINY)
    env = training.make_training_env(config)
    assert env.unwrapped.context_dim == 5 and env.observation_space.shape == (10,)
    assert training.algorithm_class(config).__name__ == "ContextSAC"
    noisy = training.make_training_env(make_config("NoisyPendulumGoal", "baseline", task_noise=0.2, **TINY))
    assert noisy.unwrapped.noise == 0.2


def test_fd_jacobians_wrap_a_task_without_closed_form_jacobians():
    env = training.make_training_env(make_config("PendulumGoal", "cse", fd_jacobians=1e-3, **TINY))
    assert isinstance(env, FiniteDifferenceJacobians) and not env.unwrapped.jacobians
    np.testing.assert_array_equal(env.step_size, [1e-3] * 4)


def test_uniform_importance_buffer_weights_reach_the_critic_loss():
    # ContextSAC weights each sample's critic loss by the buffer's last_weights: with all weights 0 the critics get
    # no gradient (Adam then moves nothing) while the actor still learns; unweighted, the critics move.
    from cebe_deep.learn.sac import ContextSAC

    class ZeroWeights(ImportanceWeightedCSEBuffer):
        def _samples_at(self, batch_inds, env_indices):
            samples = super()._samples_at(batch_inds, env_indices)
            self.last_weights = torch.zeros_like(self.last_weights)
            return samples

    def critic_and_actor_change(buffer_class):
        env = make_task("NoisyPendulumGoal", noise=0.1, jacobians=True)
        task = env.unwrapped
        model = ContextSAC("MlpPolicy", env, learning_starts=64, batch_size=32, buffer_size=400, seed=0, device="cpu",
                           policy_kwargs=dict(net_arch=[16]), replay_buffer_class=buffer_class,
                           replay_buffer_kwargs=dict(state_dim=3, context_dim=4, eps=0.1,
                                                     log_density=task.transition_log_density))
        model.learn(100)
        critic = [p.detach().clone() for p in model.critic.parameters()]
        actor = [p.detach().clone() for p in model.actor.parameters()]
        model.train(gradient_steps=5, batch_size=32)
        moved = lambda before, now: any(not torch.equal(a, b) for a, b in zip(before, now))  # noqa: E731
        return moved(critic, model.critic.parameters()), moved(actor, model.actor.parameters())

    assert critic_and_actor_change(ZeroWeights) == (False, True)
    assert critic_and_actor_change(ImportanceWeightedCSEBuffer) == (True, True)


def test_cli_train_with_each_new_flag(tmp_path, capsys):
    from cebe_deep.cli import main

    def train(name, *argv):
        assert main(["train", *argv, *TINY_FLAGS, "--out", str(tmp_path / name)]) == 0, capsys.readouterr().err
        return tmp_path / name

    run = train("noise", "--task", "SimpleDirection", "--method", "cse", "--jacobian-noise", "0.3", "--jacobian-bias", "1.5")
    assert json.loads((run / "config.json").read_text())["jacobian_noise"] == 0.3
    run = train("fd", "--task", "PendulumGoal", "--method", "cse", "--fd-jacobians", "1e-3")
    cost = json.loads((run / "fd_cost.json").read_text())
    assert cost["env_steps"] == 200 and cost["evaluations_per_step"] == 8 and cost["seconds_per_step"] > 0
    run = train("importance", "--task", "NoisyPendulumGoal", "--task-noise", "0.2", "--method", "cse",
                "--cse-variant", "importance", "--max-weight", "5")
    weights = json.loads((run / "importance.json").read_text())
    assert weights["max_weight"] == 5 and weights["batches"] > 0
    assert 0 < weights["mean_effective_sample_size_fraction"] <= 1 and 0 <= weights["mean_clipped_fraction"] <= 1


def test_cli_sweep_in_dimension_4_at_the_dimension_test_contexts(tmp_path, capsys):
    import pandas as pd

    from cebe_deep.cli import main
    from cebe_deep.run.evaluation import with_fraction_of_optimum

    assert main(["sweep", "--task", "SimpleDirection", "--dimension", "4", "--methods", "baseline", "--seeds", "1",
                 *TINY_FLAGS[:-1], "--episodes", "2", "--contexts", "dimension-test", "--backend", "serial",
                 "--root", str(tmp_path / "runs"), "--results", str(tmp_path / "results")]) == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "results" / "evaluation.csv")
    assert sorted(table["sweep"].unique()) == ["radius_0.2", "radius_0.5", "radius_0.8"]
    assert len(table) == 48 * 2 and [f"context_{i}" for i in range(4)] == [c for c in table if c.startswith("context_")]
    np.testing.assert_allclose(table[[f"context_{i}" for i in range(4)]].to_numpy()[::2], dimension_test_contexts(4),
                               atol=1e-12)
    scored = with_fraction_of_optimum(table)
    contexts = dimension_test_contexts(4)
    np.testing.assert_allclose(scored["optimal_return"].to_numpy()[::2],
                               55 * (np.abs(contexts).sum(1) + (contexts**2).sum(1)), rtol=1e-12)
    np.testing.assert_allclose(scored["fraction_of_optimum"], scored["episode_return"] / scored["optimal_return"])


def test_simple_direction_in_high_dimension_builds_at_once():
    # 2^32 corners cannot be listed: above d = 8 only the two diagonal corners are authors' contexts.
    env = SimpleDirection(dimension=32)
    assert len(env.authors_contexts) == 3 and len(SimpleDirection(dimension=8).authors_contexts) == 1 + 2**8


def test_dimension_test_contexts_only_for_simple_direction():
    from cebe_deep.run.evaluation import evaluation_grid

    with pytest.raises(ConfigError, match="only SimpleDirection"):
        evaluation_grid("PendulumGoal", "dimension-test")
