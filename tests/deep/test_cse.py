"""Context sample enhancement (arXiv 2507.07348, Section 5): the pure formula, the perturbation draw and the buffer.

CSE((s, a, r, s'), dc) = (r + d_c R dc + d_{s'} R d_c T dc,  s' + d_c T dc), replayed at context c + dc.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cebe_deep.learn.cse import ContextSampleEnhancementBuffer, context_sample_enhancement, sample_context_perturbation
from cebe_deep.learn.eps import check_eps
from cebe_deep.tasks.pendulum_goal import PendulumGoal
from cebe_deep.tasks.simple_direction import SimpleDirection


# ------------------------------------------------------------------------------------------ the formula
def test_hand_computed_case():
    # state_dim 2, context_dim 1.  J = (2, -1)^T, dR/dc = 3, dR/ds' = (1, 4), dc = 0.5:
    # J dc = (1, -0.5); s'_new = (1, 1) + (1, -0.5) = (2, 0.5);
    # r_new = 10 + 3 * 0.5 + (1 * 1 + 4 * -0.5) = 10 + 1.5 - 1 = 10.5.
    next_state, reward = context_sample_enhancement(
        next_state=np.array([[1.0, 1.0]]),
        reward=np.array([10.0]),
        dcontext=np.array([[0.5]]),
        dobs_dcontext=np.array([[[2.0], [-1.0]]]),
        dreward_dcontext=np.array([[3.0]]),
        dreward_dnextobs=np.array([[1.0, 4.0]]),
    )
    np.testing.assert_allclose(next_state, [[2.0, 0.5]])
    np.testing.assert_allclose(reward, [10.5])


def test_hand_computed_batch_of_two_contexts_dim_two():
    # Row 0: J = [[1, 2], [0, 1]], dc = (1, -1): J dc = (-1, -1); dR/dc . dc = (1, 1).(1, -1) = 0;
    #        dR/ds' . J dc = (2, 0).(-1, -1) = -2 -> r = 1 - 2 = -1, s' = (0, 0) + (-1, -1).
    # Row 1: J = 0, dc = (0.1, 0.2), dR/dc = (10, 0) -> r = 0 + 1 = 1, s' unchanged (5, 5).
    next_state, reward = context_sample_enhancement(
        next_state=np.array([[0.0, 0.0], [5.0, 5.0]]),
        reward=np.array([1.0, 0.0]),
        dcontext=np.array([[1.0, -1.0], [0.1, 0.2]]),
        dobs_dcontext=np.array([[[1.0, 2.0], [0.0, 1.0]], np.zeros((2, 2))]),
        dreward_dcontext=np.array([[1.0, 1.0], [10.0, 0.0]]),
        dreward_dnextobs=np.array([[2.0, 0.0], [3.0, 3.0]]),
    )
    np.testing.assert_allclose(next_state, [[-1.0, -1.0], [5.0, 5.0]])
    np.testing.assert_allclose(reward, [-1.0, 1.0])


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, (4, 3), elements=st.floats(-5, 5)),
    arrays(np.float64, (4, 3, 2), elements=st.floats(-5, 5)),
    arrays(np.float64, (4, 2), elements=st.floats(-5, 5)),
    arrays(np.float64, (4, 3), elements=st.floats(-5, 5)),
    arrays(np.float64, (4, 2), elements=st.floats(-1, 1)),
    arrays(np.float64, (4, 2), elements=st.floats(-1, 1)),
)
def test_formula_is_affine_in_dc_and_identity_at_zero(next_state, jacobian, dreward_dcontext, dreward_dnextobs, dc1, dc2):
    """CSE is the first-order (affine) expansion: zero dc changes nothing, and the changes add up."""
    reward = np.arange(4.0)
    args = (jacobian, dreward_dcontext, dreward_dnextobs)
    same_state, same_reward = context_sample_enhancement(next_state, reward, np.zeros((4, 2)), *args)
    np.testing.assert_array_equal(same_state, next_state)
    np.testing.assert_array_equal(same_reward, reward)
    s1, r1 = context_sample_enhancement(next_state, reward, dc1, *args)
    s2, r2 = context_sample_enhancement(next_state, reward, dc2, *args)
    s12, r12 = context_sample_enhancement(next_state, reward, dc1 + dc2, *args)
    np.testing.assert_allclose(s12 - next_state, (s1 - next_state) + (s2 - next_state), atol=1e-9)
    np.testing.assert_allclose(r12 - reward, (r1 - reward) + (r2 - reward), atol=1e-9)


def test_numpy_and_torch_agree():
    rng = np.random.default_rng(0)
    arrays_ = [rng.normal(size=shape) for shape in [(8, 3), (8,), (8, 2), (8, 3, 2), (8, 2), (8, 3)]]
    numpy_out = context_sample_enhancement(*arrays_)
    torch_out = context_sample_enhancement(*map(torch.as_tensor, arrays_))
    for a, b in zip(numpy_out, torch_out):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12)


# --------------------------------------------------------------- against the exact re-simulated transition
def _collect(env, steps, seed):
    """(state, action, reward, next_state, infos) of a random-action trajectory at the env's context."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    rows = []
    for _ in range(steps):
        action = rng.uniform(env.action_space.low, env.action_space.high)
        next_obs, reward, _, _, info = env.step(action)
        rows.append((obs[: env.state_dim], action, reward, next_obs[: env.state_dim], info))
        obs = next_obs
    state, action, reward, next_state, infos = zip(*rows)
    stack = lambda key: np.stack([info[key] for info in infos])  # noqa: E731
    return (np.array(state), np.array(action), np.array(reward), np.array(next_state),
            stack("dobs_dcontext"), stack("dreward_dcontext"), stack("dreward_dnextobs"))


def test_simple_direction_first_order_is_exact_in_the_dynamics():
    """s' = s + a + c is affine in c, so s' + J dc is exactly the transition at c + dc; the reward
    r = s'.c is quadratic: exact r(c + dc) = (s' + dc).(c + dc) = s'.c + s'.dc + c.dc + dc.dc, and the
    first-order CSE reward misses exactly dc.dc."""
    c0 = np.array([0.3, -0.2])
    env = SimpleDirection(context=c0)
    state, action, reward, next_state, dobs, dreward_dc, dreward_dnext = _collect(env, 20, seed=1)
    dc = np.random.default_rng(2).normal(scale=0.3, size=(20, 2))
    cse_state, cse_reward = context_sample_enhancement(next_state, reward, dc, dobs, dreward_dc, dreward_dnext)
    exact_state, exact_reward = env.simulate(state, action, c0 + dc)
    np.testing.assert_allclose(cse_state, exact_state, atol=1e-12)
    np.testing.assert_allclose(exact_reward - cse_reward, np.sum(dc * dc, axis=1), atol=1e-12)


def test_pendulum_goal_error_shrinks_as_eps_squared():
    """Theorem 2's O(|dc|^2): on PendulumGoal's nonlinear dynamics the sup error of first-order CSE over
    a batch, against the exact re-simulated transition at c0 + eps u (|u| = 1), has log-log slope ~2."""
    c0 = PendulumGoal.default_context
    env = PendulumGoal()
    state, action, reward, next_state, dobs, dreward_dc, dreward_dnext = _collect(env, 200, seed=3)
    assert np.all(np.abs(next_state[:, 2]) < 7.5), "speed clip active: pick another seed"
    direction = np.random.default_rng(4).normal(size=(200, 4))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    epsilons = np.geomspace(1e-3, 3e-2, 6)
    errors = []
    for eps in epsilons:
        dc = eps * direction
        cse_state, cse_reward = context_sample_enhancement(next_state, reward, dc, dobs, dreward_dc, dreward_dnext)
        exact_state, exact_reward = env.simulate(state, action, c0 + dc)
        errors.append(max(np.abs(cse_state - exact_state).max(), np.abs(cse_reward - exact_reward).max()))
    slope = np.polyfit(np.log(epsilons), np.log(errors), 1)[0]
    assert 1.8 < slope < 2.2, (slope, errors)
    # and at eps = 0 the transition is reproduced exactly (the stored one is the exact one at c0)
    exact_state, exact_reward = env.simulate(state, action, np.broadcast_to(c0, (200, 4)))
    np.testing.assert_allclose(exact_state, next_state, atol=1e-12)
    np.testing.assert_allclose(exact_reward, reward, atol=1e-12)


# ------------------------------------------------------------------------------------ perturbation draws
@pytest.mark.parametrize("dimension", [1, 2, 4])
def test_sphere_perturbation_has_norm_eps_and_no_preferred_direction(dimension):
    generator = torch.Generator().manual_seed(0)
    dc = sample_context_perturbation(20_000, dimension, 0.1, "sphere", generator)
    np.testing.assert_allclose(dc.norm(dim=1).numpy(), 0.1, rtol=1e-5)
    np.testing.assert_allclose(dc.mean(0).numpy(), 0.0, atol=0.004)


@pytest.mark.parametrize("dimension", [1, 2, 4])
def test_ball_perturbation_is_uniform_in_the_ball(dimension):
    # uniform in a d-ball: P(|dc| <= eps / 2) = (1/2)^d
    generator = torch.Generator().manual_seed(1)
    dc = sample_context_perturbation(20_000, dimension, 0.1, "ball", generator)
    norms = dc.norm(dim=1).numpy()
    assert norms.max() <= 0.1 + 1e-6
    assert abs(np.mean(norms <= 0.05) - 0.5**dimension) < 0.015


@pytest.mark.parametrize("eps", [0.0, -0.1, float("inf"), float("nan")])
def test_the_one_eps_rule_rejects_what_is_no_radius(eps):
    with pytest.raises(ValueError, match=f"--eps must be > 0 and finite, got {eps:g}"):
        check_eps(eps, "--eps")
    with pytest.raises(ValueError, match="eps must be > 0 and finite"):
        sample_context_perturbation(3, 2, eps)
    check_eps(1e-9)  # small is allowed: the rule is only positivity and finiteness


def test_bad_perturbation_arguments():
    with pytest.raises(ValueError, match="unknown perturbation"):
        sample_context_perturbation(3, 2, 0.1, "cube")


# ------------------------------------------------------------------------------------------ the buffer
def _filled_buffer(env, steps=64, seed=0, **kwargs):
    buffer = ContextSampleEnhancementBuffer(
        steps, env.observation_space, env.action_space, device="cpu",
        state_dim=env.state_dim, context_dim=env.context_dim, **kwargs,
    )
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    low, high = env.action_space.low.astype(np.float64), env.action_space.high.astype(np.float64)
    for _ in range(steps):
        scaled = rng.uniform(-1, 1, size=env.action_space.shape)  # SB3 stores actions rescaled to [-1, 1]
        next_obs, reward, terminated, truncated, info = env.step(low + 0.5 * (scaled + 1) * (high - low))
        buffer.add(obs[None], next_obs[None], scaled[None], np.array([reward]), np.array([terminated]), [info])
        obs = next_obs
    return buffer


def _sample_all(buffer):
    """Sample each stored transition once, in order (``_get_samples`` is the hook SB3 calls)."""
    torch.manual_seed(0)
    return buffer._get_samples(np.arange(buffer.buffer_size))


def test_buffer_rewrites_context_next_state_and_reward():
    env = SimpleDirection(context=[0.5, -0.5])
    buffer = _filled_buffer(env, eps=0.1)
    samples = _sample_all(buffer)
    obs, next_obs, reward = buffer.observations[:, 0], buffer.next_observations[:, 0], buffer.rewards[:, 0]
    new_context = samples.observations[:, 2:].numpy()
    dc = new_context - obs[:, 2:]
    np.testing.assert_allclose(np.linalg.norm(dc, axis=1), 0.1, rtol=1e-6)        # sphere draw
    np.testing.assert_array_equal(samples.observations[:, :2].numpy(), obs[:, :2])  # s untouched
    np.testing.assert_allclose(samples.next_observations[:, 2:].numpy(), new_context)
    # SimpleDirection: J = I, dR/dc = s', dR/ds' = c
    np.testing.assert_allclose(samples.next_observations[:, :2].numpy(), next_obs[:, :2] + dc, atol=1e-6)
    expected_reward = reward + np.sum(next_obs[:, :2] * dc, 1) + np.sum(obs[:, 2:] * dc, 1)
    np.testing.assert_allclose(samples.rewards[:, 0].numpy(), expected_reward, rtol=1e-5, atol=1e-5)


def test_buffer_fraction_leaves_the_rest_of_the_batch_alone():
    env = SimpleDirection()
    buffer = _filled_buffer(env, eps=0.1, cse_fraction=0.25)
    samples = _sample_all(buffer)
    changed = np.any(samples.observations.numpy() != buffer.observations[:, 0], axis=1)
    assert changed.sum() == 16 and changed[:16].all()
    np.testing.assert_array_equal(samples.next_observations[16:].numpy(), buffer.next_observations[16:, 0])
    np.testing.assert_allclose(samples.rewards[16:, 0].numpy(), buffer.rewards[16:, 0])


def test_exact_mode_matches_the_resimulated_transition_with_env_units():
    env = PendulumGoal()
    buffer = _filled_buffer(env, eps=0.1, mode="exact", simulate=env.simulate)
    samples = _sample_all(buffer)
    obs = buffer.observations[:, 0]
    torque = 2.0 * buffer.actions[:, 0].astype(np.float64)  # [-1, 1] -> [-2, 2]
    context = samples.observations[:, 3:].numpy()
    exact_state, exact_reward = env.simulate(obs[:, :3], torque, context)
    np.testing.assert_allclose(samples.next_observations[:, :3].numpy(), exact_state, atol=1e-5)
    np.testing.assert_allclose(samples.rewards[:, 0].numpy(), exact_reward, rtol=1e-4, atol=1e-4)


def test_first_order_buffer_is_close_to_exact_on_pendulum():
    env = PendulumGoal()
    first = _sample_all(_filled_buffer(env, eps=0.01))
    exact = _sample_all(_filled_buffer(PendulumGoal(), eps=0.01, mode="exact", simulate=env.simulate))
    np.testing.assert_allclose(first.observations.numpy(), exact.observations.numpy(), atol=1e-12)
    assert np.abs(first.next_observations.numpy() - exact.next_observations.numpy()).max() < 1e-3
    assert np.abs(first.rewards.numpy() - exact.rewards.numpy()).max() < 1e-2


def test_context_box_clipping():
    env = SimpleDirection(context=[2.0, 2.0])
    buffer = _filled_buffer(env, eps=0.5, context_low=env.context_low, context_high=env.context_high)
    samples = _sample_all(buffer)
    assert samples.observations[:, 2:].max() <= 2.0


def test_buffer_rejects_bad_arguments():
    env = SimpleDirection()
    make = lambda **kw: ContextSampleEnhancementBuffer(  # noqa: E731
        8, env.observation_space, env.action_space, state_dim=2, context_dim=2, **kw)
    with pytest.raises(ValueError, match="eps must be > 0"):
        make(eps=-1)
    with pytest.raises(ValueError, match="unknown perturbation"):
        make(perturbation="cube")
    with pytest.raises(ValueError, match="unknown CSE mode"):
        make(mode="second_order")
    with pytest.raises(ValueError, match="needs a simulate"):
        make(mode="exact")
    with pytest.raises(ValueError, match="observation shape"):
        ContextSampleEnhancementBuffer(8, spaces.Box(-1, 1, (5,)), env.action_space, state_dim=2, context_dim=2)


def test_buffer_keeps_each_transitions_partials_from_infos():
    env = PendulumGoal()
    buffer = _filled_buffer(env, steps=4)
    obs, _ = env.reset(seed=0)
    low, high = env.action_space.low.astype(np.float64), env.action_space.high.astype(np.float64)
    scaled = np.random.default_rng(0).uniform(-1, 1, size=env.action_space.shape)
    _, _, _, _, info = env.step(low + 0.5 * (scaled + 1) * (high - low))  # the same first step as the buffer's
    for stored, key in zip(buffer.partials(0), ("dobs_dcontext", "dreward_dcontext", "dreward_dnextobs")):
        np.testing.assert_array_equal(stored, info[key])


def test_any_sb3_off_policy_learner_trains_on_enhanced_samples():
    """The buffer is the learner's only contact with CSE (an SB3 extension point, like HerReplayBuffer): TD3, which
    the package never trains itself, learns with it, and every batch TD3 samples sits at c0 + dc with |dc| = eps
    while the environment only ever ran at c0."""
    from stable_baselines3 import TD3

    from cebe_deep.tasks import make_task

    env = make_task("SimpleDirection", context=[0.5, -0.5])
    model = TD3("MlpPolicy", env, replay_buffer_class=ContextSampleEnhancementBuffer,
                replay_buffer_kwargs=dict(state_dim=2, context_dim=2, eps=0.1), learning_starts=20, batch_size=8,
                policy_kwargs=dict(net_arch=[8]), device="cpu", seed=0)
    model.learn(60)
    assert model._n_updates > 0
    stored = model.replay_buffer.observations[: model.replay_buffer.pos, 0, 2:]
    np.testing.assert_allclose(stored, [[0.5, -0.5]] * len(stored))  # the env ran at c0 only
    batch = model.replay_buffer.sample(32)
    np.testing.assert_allclose(np.linalg.norm(batch.observations[:, 2:].numpy() - [0.5, -0.5], axis=1), 0.1, rtol=1e-5)
