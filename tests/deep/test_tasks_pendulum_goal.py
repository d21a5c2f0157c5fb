"""PendulumGoal against the authors' equations (an independent numpy step written here), the first-order CSE
transition against the exact step at c + dc for both dynamics variants, and the ``dynamics`` option."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils import seeding

import cebe_deep  # noqa: F401  (registers cebe/<Task>-v0)
from cebe_deep.tasks import PendulumGoal, step_twin

DT = 0.05


def authors_step(theta, theta_dot, action, context):
    """One step of the authors' PendulumGoal (docs/authors_protocol.md), written from their equations:
    explicit Euler, no speed clip, angle wrapped to [-pi, pi), reward on the state after the step."""
    g, m, l, tau = context
    u = float(np.clip(action, -2.0, 2.0))
    next_theta = theta + DT * theta_dot
    next_theta_dot = theta_dot + DT * (3 * g / (2 * l) * np.sin(theta) + 3 * u / (m * l**2))
    next_theta = (next_theta + np.pi) % (2 * np.pi) - np.pi
    goal = np.arcsin(-tau / (m * g * l))
    reward = -(np.pi**2 * np.sin((next_theta - goal) / 2) ** 2 + 0.1 * next_theta_dot**2 + 0.001 * u**2)
    return next_theta, next_theta_dot, reward


@pytest.mark.parametrize("context", PendulumGoal.authors_contexts + ((19.0, 0.6, 0.3, 1.9),))
def test_step_and_reward_match_the_authors_equations(context):
    env = PendulumGoal(context=context)
    observation, _ = env.reset(seed=2)
    rng = np.random.default_rng(2)
    largest_speed = 0.0
    for _ in range(200):
        theta, theta_dot = np.arctan2(observation[1], observation[0]), observation[2]
        action = rng.uniform(-2.5, 2.5)  # beyond the box on purpose: both clip to [-2, 2]
        next_theta, next_theta_dot, reward = authors_step(theta, theta_dot, action, context)
        observation, ours, terminated, truncated, _ = env.step(np.array([action]))
        np.testing.assert_allclose(
            observation[:3], [np.cos(next_theta), np.sin(next_theta), next_theta_dot], rtol=1e-12, atol=1e-12
        )
        np.testing.assert_array_equal(observation[3:], context)
        assert ours == pytest.approx(reward, rel=1e-12, abs=1e-12)
        assert -np.pi <= env._theta < np.pi and not terminated and not truncated
        largest_speed = max(largest_speed, abs(next_theta_dot))
    if context[0] == 19.0:
        assert largest_speed > 8.0  # no speed clip (Gymnasium's Pendulum-v1 would stop at 8)


def test_reset_draws_the_authors_start_state():
    # theta ~ U[-pi, pi], theta_dot ~ U[-1, 1], drawn from the same generator stream as the authors' reset
    for seed in range(5):
        observation, _ = PendulumGoal().reset(seed=seed)
        generator, _ = seeding.np_random(seed)
        theta, theta_dot = generator.uniform(low=[-np.pi, -1.0], high=[np.pi, 1.0], size=(2,))
        np.testing.assert_allclose(observation[:3], [np.cos(theta), np.sin(theta), theta_dot], rtol=0, atol=1e-15)


def test_observation_space_is_unbounded_in_speed_only_for_the_authors_dynamics():
    authors, gymnasium_order = PendulumGoal(), PendulumGoal(dynamics="gymnasium")
    assert authors.observation_space.high[2] == np.inf and authors.observation_space.low[2] == -np.inf
    assert gymnasium_order.observation_space.high[2] == 8.0
    np.testing.assert_array_equal(authors.observation_space.high[:2], [1.0, 1.0])


def first_order_errors(dynamics, context, sizes, with_next_state_term=True, seed=0):
    """Max errors of the first-order CSE transition against the exact step at c + dc, for each |dc| in ``sizes``.

    CSE (arXiv 2507.07348, Section 5): s'(c + dc) ~ s' + dobs_dcontext dc and
    r(c + dc) ~ r + dreward_dcontext . dc + dreward_dnextobs . (dobs_dcontext dc); the error is O(|dc|^2).
    """
    rng = np.random.default_rng(seed)
    env = PendulumGoal(context=context, dynamics=dynamics)
    env.reset(seed=seed)
    state_errors, reward_errors = np.zeros(len(sizes)), np.zeros(len(sizes))
    for _ in range(6):
        for _ in range(7):  # into the episode, staying off Gymnasium's speed clip
            env.step(np.array([rng.uniform(-0.5, 0.5)]))
        action = np.array([rng.uniform(-2, 2)])
        direction = rng.normal(size=4)
        direction /= np.linalg.norm(direction)
        exact = [step_twin(None, env, action, env.context + size * direction) for size in sizes]
        observation, reward, _, _, info = env.step(action)
        next_state = observation[:3]
        for k, (size, (exact_state, exact_reward)) in enumerate(zip(sizes, exact)):
            dc = size * direction
            dstate = info["dobs_dcontext"] @ dc
            predicted_reward = reward + info["dreward_dcontext"] @ dc
            if with_next_state_term:
                predicted_reward += info["dreward_dnextobs"] @ dstate
            state_errors[k] = max(state_errors[k], np.max(np.abs(next_state + dstate - exact_state)))
            reward_errors[k] = max(reward_errors[k], abs(predicted_reward - exact_reward))
    return state_errors, reward_errors


def fitted_slope(sizes, errors):
    return float(np.polyfit(np.log(sizes), np.log(errors), 1)[0])


SIZES = np.geomspace(1e-1, 1e-3, 7)


@pytest.mark.parametrize("dynamics", ["authors", "gymnasium"])
@pytest.mark.parametrize("context", [(2.0, 1.0, 1.0, 0.0), (2.0, 1.2, 1.0, -0.75), (6.0, 0.7, 1.4, 1.5)])
def test_first_order_cse_is_within_dc_squared_of_the_exact_step(dynamics, context):
    state_errors, reward_errors = first_order_errors(dynamics, context, SIZES)
    for errors in (state_errors, reward_errors):
        assert np.all(errors > 0)
        assert 1.9 <= fitted_slope(SIZES, errors) <= 2.1
        assert np.max(errors / SIZES**2) <= 4 * np.min(errors / SIZES**2)  # error / |dc|^2 about constant


def test_authors_dynamics_need_the_next_state_term_of_cse():
    """With the reward on the state after the step, dropping d_s'R . d_cT dc leaves a first-order error."""
    env = PendulumGoal()
    env.reset(seed=0)
    assert np.any(env.step(np.array([1.0]))[4]["dreward_dnextobs"] != 0)
    _, without = first_order_errors("authors", (2.0, 1.0, 1.0, 0.0), SIZES, with_next_state_term=False)
    assert 0.9 <= fitted_slope(SIZES, without) <= 1.1
    gymnasium_order = PendulumGoal(dynamics="gymnasium")
    gymnasium_order.reset(seed=0)
    np.testing.assert_array_equal(gymnasium_order.step(np.array([1.0]))[4]["dreward_dnextobs"], 0.0)


@pytest.mark.parametrize("dynamics", ["Authors", "euler", "", None, 3])
def test_unknown_dynamics_is_a_one_line_value_error(dynamics):
    with pytest.raises(ValueError) as error:
        PendulumGoal(dynamics=dynamics)
    assert str(error.value) == f"PendulumGoal dynamics must be one of 'authors', 'gymnasium', got {dynamics!r}"
    with pytest.raises(ValueError, match="PendulumGoal dynamics must be one of"):
        gymnasium.make("cebe/PendulumGoal-v0", dynamics=dynamics)


def test_dynamics_reaches_the_task_through_gymnasium_make():
    assert gymnasium.make("cebe/PendulumGoal-v0").unwrapped.dynamics == "authors"
    assert gymnasium.make("cebe/PendulumGoal-v0", dynamics="gymnasium").unwrapped.dynamics == "gymnasium"
