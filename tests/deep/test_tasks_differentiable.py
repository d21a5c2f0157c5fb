"""differentiable_task: a contextual task from a torch step function, its Jacobians by torch.func.

References, all independent of the autodiff code: the closed-form SimpleDirection and the sympy-derived
PendulumGoal (both dynamics variants) written again as torch step functions (cebe_deep.tasks.torch_examples, and
the gymnasium variant here), with equal Jacobians to 1e-10,
central differences of the environment's own step (cebe_deep.tasks.central_differences), and the exact step at
c + dc for CSE's first-order error (slope 2 in |dc|).
"""

from __future__ import annotations

import dataclasses
import doctest
import math
import warnings
from functools import partial

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from cebe_deep.tasks import (
    JACOBIAN_KEYS,
    PendulumGoal,
    SimpleDirection,
    central_differences,
    step_twin,
    torch_examples,
)
from cebe_deep.tasks import differentiable as differentiable_module
from cebe_deep.tasks.differentiable import (
    DifferentiableTask,
    StepFunctionError,
    differentiable_task,
)
from cebe_deep.tasks.torch_examples import (
    pendulum_goal_reset,
    pendulum_goal_torch,
    simple_direction_torch,
)
from cebe_theory.errors import InputError
from tests.deep.tasks_support import central_gradient, relative_error

AGREEMENT = 1e-10  # autodiff against the sympy / closed-form Jacobians (both exact up to rounding)
TOLERANCE = 1e-6  # autodiff against central differences of step 1e-6 (truncation ~1e-12, rounding ~1e-10)


# --- the paper's tasks as torch step functions (cebe_deep.tasks.torch_examples), and the gymnasium variant -----
def torch_simple_direction(separate_reward=True, **options):
    return simple_direction_torch(separate_reward, **options)


def pendulum_gymnasium_step(state, action, context):
    # PendulumGoal(dynamics="gymnasium"): semi-implicit Euler with Gymnasium's speed clip, reward on the state
    # before the step: theta_dot' = clip(theta_dot + dt acc, -8, 8), theta' = theta + dt theta_dot'
    g, m, length, tau = context
    theta, theta_dot, u = torch.atan2(state[1], state[0]), state[2], action[0]
    acceleration = 3 * g / (2 * length) * torch.sin(theta) + 3 * u / (m * length**2)
    next_speed = torch.clamp(theta_dot + 0.05 * acceleration, -8.0, 8.0)
    next_theta = theta + 0.05 * next_speed
    next_state = torch.stack([torch.cos(next_theta), torch.sin(next_theta), next_speed])
    goal = torch.asin(-tau / (m * g * length))
    return next_state, -(math.pi**2 * torch.sin((theta - goal) / 2) ** 2 + theta_dot**2 / 10 + u**2 / 1000)


def torch_pendulum_goal(dynamics="authors", separate_reward=True):
    if dynamics == "authors":
        return pendulum_goal_torch(separate_reward).unwrapped
    return DifferentiableTask(pendulum_gymnasium_step, pendulum_goal_reset, state_dim=3, action_low=[-2.0],
                              action_high=[2.0], context_low=PendulumGoal.context_low,
                              context_high=PendulumGoal.context_high, c0=PendulumGoal.default_context, horizon=200)


def sample_pendulum_context(rng):
    g, m, length = rng.uniform(1.0, 10.0), rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0)
    return np.array([g, m, length, np.clip(rng.uniform(-0.8, 0.8) * m * g * length, -1.9, 1.9)])


# --- equal to the closed-form and sympy tasks -------------------------------------------------------------
def test_doctests():
    for module in (differentiable_module, torch_examples):
        assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


@pytest.mark.parametrize("seed", range(3))
def test_simple_direction_equals_the_closed_form_task(seed):
    rng = np.random.default_rng(seed)
    reference, autodiff, total = SimpleDirection(), torch_simple_direction().unwrapped, torch_simple_direction(False).unwrapped
    for env in (reference, autodiff, total):
        env.reset(seed=seed)
    for _ in range(10):
        context, action = rng.uniform(-2, 2, size=2), rng.uniform(-1.2, 1.2, size=2)  # some actions clipped
        steps = []
        for env in (reference, autodiff, total):
            env.set_context(context)
            steps.append(env.step(action))
        (obs, reward, *_, info), (obs_a, reward_a, *_, info_a), (obs_t, reward_t, *_, info_t) = steps
        np.testing.assert_array_equal(obs_a, obs)
        np.testing.assert_array_equal(obs_t, obs)
        assert reward_a == reward == reward_t
        for key in JACOBIAN_KEYS:
            np.testing.assert_allclose(info_a[key], info[key], rtol=0, atol=AGREEMENT)
        # reward not separated: the total derivative d_c R + d_s'R d_c T = s' + c, and no d_s'R
        np.testing.assert_allclose(info_t["dreward_dcontext"],
                                   info["dreward_dcontext"] + info["dreward_dnextobs"] @ info["dobs_dcontext"],
                                   rtol=0, atol=AGREEMENT)
        np.testing.assert_array_equal(info_t["dreward_dnextobs"], 0.0)


@pytest.mark.parametrize("dynamics", ["authors", "gymnasium"])
def test_pendulum_goal_equals_the_sympy_task(dynamics):
    rng = np.random.default_rng(11)
    reference = PendulumGoal(dynamics=dynamics)
    autodiff, total = torch_pendulum_goal(dynamics), torch_pendulum_goal(dynamics, separate_reward=False)
    worst = 0.0
    for _ in range(40):
        context = sample_pendulum_context(rng)
        theta, theta_dot = rng.uniform(-np.pi, np.pi), rng.uniform(-6, 6)
        action = rng.uniform(-2.5, 2.5, size=1)
        reference.set_context(context)
        obs, reward, *_, info = (reference.reset(options={"theta": theta, "theta_dot": theta_dot}), reference.step(action))[1]
        for env in (autodiff, total):
            env.set_context(context)
            env.reset(options={"state": [np.cos(theta), np.sin(theta), theta_dot]})
        obs_a, reward_a, *_, info_a = autodiff.step(action)
        obs_t, reward_t, *_, info_t = total.step(action)
        np.testing.assert_allclose(obs_a, obs, rtol=0, atol=1e-12)
        assert reward_a == pytest.approx(reward, abs=1e-12) and reward_t == pytest.approx(reward, abs=1e-12)
        for key in JACOBIAN_KEYS:
            np.testing.assert_allclose(info_a[key], info[key], rtol=0, atol=AGREEMENT)
            worst = max(worst, float(np.max(np.abs(info_a[key] - info[key]))))
        np.testing.assert_allclose(info_t["dobs_dcontext"], info["dobs_dcontext"], rtol=0, atol=AGREEMENT)
        np.testing.assert_allclose(info_t["dreward_dcontext"],
                                   info["dreward_dcontext"] + info["dreward_dnextobs"] @ info["dobs_dcontext"],
                                   rtol=0, atol=AGREEMENT)
    if dynamics == "authors":  # the case where d_s'R is not zero: the separation is exercised
        assert np.any(info_a["dreward_dnextobs"] != 0)
    assert worst <= AGREEMENT


# --- a task the tests define: Jacobians against central differences, CSE within O(dc^2) ---------------------
def drag_step(state, action, context):
    """A 2-D point mass with mass m, linear drag k and wind w (x, y): position p, velocity v, force a.
    v' = v + dt ((a + w) / m - k v |v|), p' = p + dt v'; reward -|p' - goal|^2 with goal (1, 0)."""
    mass, drag, wind = context[0], context[1], context[2:4]
    position, velocity = state[:2], state[2:]
    next_velocity = velocity + 0.1 * ((action + wind) / mass - drag * velocity * torch.linalg.vector_norm(velocity))
    next_position = position + 0.1 * next_velocity
    next_state = torch.cat([next_position, next_velocity])
    return next_state, drag_reward(state, action, next_state, context)


def drag_reward(state, action, next_state, context):
    return -torch.sum((next_state[:2] - torch.tensor([1.0, 0.0], dtype=torch.float64)) ** 2) - 0.01 * torch.sum(action**2)


def drag_task(separate_reward=True, **options):
    return differentiable_task(
        drag_step, lambda rng: rng.normal(size=4), reward=drag_reward if separate_reward else None, state_dim=4,
        action_low=[-1.0, -1.0], action_high=[1.0, 1.0], context_low=[0.5, 0.0, -1.0, -1.0],
        context_high=[2.0, 1.0, 1.0, 1.0], c0=[1.0, 0.3, 0.0, 0.0], horizon=50, **options)


@pytest.mark.parametrize("separate_reward", [True, False])
def test_jacobians_match_central_differences_of_the_step(separate_reward):
    rng = np.random.default_rng(3)
    env = drag_task(separate_reward)
    task = env.unwrapped
    env.reset(seed=3)
    for _ in range(8):
        task.set_context(rng.uniform(task.context_low + 0.1, task.context_high - 0.1))
        action = rng.uniform(-1, 1, size=2)
        previous = task.state
        dobs_fd, total_fd = central_differences(None, env, action, 1e-6)
        obs, reward, *_, info = env.step(action)
        dobs, dreward_dc, dreward_dnext = (info[key] for key in JACOBIAN_KEYS)
        assert relative_error(dobs, dobs_fd) <= TOLERANCE
        assert relative_error(dreward_dc + dreward_dnext @ dobs, total_fd) <= TOLERANCE
        if separate_reward:  # the partials of the reward the test wrote, by central differences
            context, next_state = task.context, obs[:4]

            def reward_at(next_s, c, state=previous, action=action):
                return float(drag_reward(*(torch.tensor(x) for x in (state, action, next_s, c))))
            assert relative_error(dreward_dc, central_gradient(partial(reward_at, next_state), context)) <= TOLERANCE
            by_next_state = central_gradient(lambda s, c=context: reward_at(s, c), next_state)
            assert relative_error(dreward_dnext, by_next_state) <= TOLERANCE
            assert np.any(dreward_dnext != 0)
        else:
            np.testing.assert_array_equal(dreward_dnext, 0.0)


def test_first_order_cse_is_within_dc_squared_of_the_exact_step():
    """CSE's s' + d_cT dc and r + d_cR dc + d_s'R d_cT dc against the exact step at c + dc: error O(|dc|^2)."""
    rng = np.random.default_rng(5)
    env = drag_task()
    env.reset(seed=5)
    sizes = np.geomspace(1e-1, 1e-3, 7)
    state_errors, reward_errors = np.zeros(sizes.size), np.zeros(sizes.size)
    for _ in range(5):
        action = rng.uniform(-1, 1, size=2)
        direction = rng.normal(size=4)
        direction /= np.linalg.norm(direction)
        exact = [step_twin(None, env, action, env.unwrapped.context + size * direction) for size in sizes]
        obs, reward, *_, info = env.step(action)
        for k, (size, (exact_state, exact_reward)) in enumerate(zip(sizes, exact)):
            dstate = info["dobs_dcontext"] @ (size * direction)
            predicted = reward + info["dreward_dcontext"] @ (size * direction) + info["dreward_dnextobs"] @ dstate
            state_errors[k] = max(state_errors[k], np.max(np.abs(obs[:4] + dstate - exact_state)))
            reward_errors[k] = max(reward_errors[k], abs(predicted - exact_reward))
    for errors in (state_errors, reward_errors):
        slope = float(np.polyfit(np.log(sizes), np.log(errors), 1)[0])
        assert 1.9 <= slope <= 2.1


# --- interface -----------------------------------------------------------------------------------------
def test_interface_time_limit_and_check_env():
    env = drag_task()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # check_env's notes on unbounded observation spaces
        check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float64 and obs.shape == (8,) and env.observation_space.contains(obs)
    assert {key: info[key].shape for key in JACOBIAN_KEYS} == {"dobs_dcontext": (4, 4), "dreward_dcontext": (4,),
                                                              "dreward_dnextobs": (4,)}
    np.testing.assert_array_equal(obs[4:], [1.0, 0.3, 0.0, 0.0])
    for _ in range(49):
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        assert not (terminated or truncated)
    *_, terminated, truncated, _ = env.step(env.action_space.sample())
    assert truncated and not terminated


def test_jacobians_flag_leaves_the_trajectory_unchanged():
    rollouts = []
    for jacobians in (True, False):
        env = drag_task(jacobians=jacobians)
        obs, info = env.reset(seed=7)
        env.action_space.seed(7)
        trajectory = [obs]
        for _ in range(20):
            obs, reward, _, _, info = env.step(env.action_space.sample())
            trajectory.append(np.append(obs, reward))
        assert all(key in info for key in JACOBIAN_KEYS) == jacobians
        rollouts.append(np.concatenate(trajectory))
    np.testing.assert_array_equal(*rollouts)


def test_terminated_ends_the_episode():
    env = drag_task(terminated=lambda next_state, context: bool(next_state[0] > 0.5))
    env.reset(options={"state": [0.45, 0.0, 1.0, 0.0]})
    assert env.step(np.zeros(2))[2] is True


@pytest.mark.parametrize("use_vmap", [True, False])
def test_simulate_reproduces_step_in_a_batch(use_vmap):
    env = drag_task()
    task = env.unwrapped
    task._vmap_works = None if use_vmap else False
    rng = np.random.default_rng(2)
    states, actions, contexts, expected = [], [], [], []
    env.reset(seed=2)
    for _ in range(6):
        context, action = rng.uniform(task.context_low, task.context_high), rng.uniform(-1.5, 1.5, size=2)
        task.set_context(context)
        states.append(task.state)
        obs, reward, *_ = env.step(action)
        actions.append(action), contexts.append(context), expected.append(np.append(obs[:4], reward))
    next_states, rewards = task.simulate(np.array(states), np.array(actions), np.array(contexts))
    np.testing.assert_allclose(np.column_stack([next_states, rewards]), expected, rtol=0, atol=1e-13)
    assert task._vmap_works is use_vmap


def test_a_context_that_the_step_ignores_gets_a_warning():
    def ignores_wind_y(state, action, context):
        return drag_step(state, action, torch.cat([context[:3], torch.zeros(1, dtype=torch.float64)]))
    env = differentiable_task(ignores_wind_y, lambda rng: rng.normal(size=4), state_dim=4, action_low=[-1, -1],
                              action_high=[1, 1], context_low=[0.5, 0, -1, -1], context_high=[2, 1, 1, 1],
                              c0=[1, 0.3, 0, 0], horizon=50, context_names=("mass", "drag", "wind_x", "wind_y"))
    env.reset(seed=0)
    with pytest.warns(UserWarning, match=r"wind_y \(coordinate 3\) were zero at each of the first 10 steps"):
        for _ in range(10):
            env.step(np.zeros(2))
    with warnings.catch_warnings():  # once only
        warnings.simplefilter("error")
        env.step(np.zeros(2))


# --- bad input: one-line errors naming the value and what is allowed --------------------------------------
def _task(step=drag_step, reset=lambda rng: np.zeros(4), **overrides):
    arguments = dict(state_dim=4, action_low=[-1, -1], action_high=[1, 1], context_low=[0.5, 0, -1, -1],
                     context_high=[2, 1, 1, 1], c0=[1, 0.3, 0, 0], horizon=50)
    return DifferentiableTask(step, reset, **(arguments | overrides))


BAD_INPUTS = [
    (dict(step=lambda s, a, c: (s[:3] + c[0], torch.sum(s))), r"next_state must have shape \(4,\), got shape \(3,\)"),
    (dict(step=lambda s, a, c: (s.float(), torch.sum(s))), r"next_state must be float64, got torch.float32"),
    (dict(step=lambda s, a, c: (s.numpy() * 2, 0.0)), r"next_state must be a torch tensor, got ndarray"),
    (dict(step=lambda s, a, c: (s + c, s)), r"step's reward must be a scalar, got shape \(4,\)"),
    (dict(step=lambda s, a, c: s + c), r"step must return \(next_state, reward\) as torch tensors, got Tensor"),
    (dict(step=lambda s, a, c: (s + c * c[0].item(), torch.sum(s))),
     r"derivative of next_state\[0\] in context coordinate 0 \(context_0\) is 1 but a central difference gives 2"),
    (dict(step=lambda s, a, c: (s + c, torch.sum(s + c.detach()))), r"derivative of reward in context coordinate"),
    (dict(step=lambda s, a, c: (s + c, torch.sum(s + c) + 1.0), reward=lambda s, a, ns, c: torch.sum(ns)),
     r"step's reward 2.3 differs from reward\(state, action, next_state, context\) = 1.3"),
    (dict(step=lambda s, a, c: (s + c / 0.0, torch.sum(s))), r"next_state must be finite"),
    (dict(reset=lambda rng: np.zeros(3)), r"reset\(rng\) must give shape \(4,\), got shape \(3,\)"),
    (dict(step="not a function"), r"step must be a function, got 'not a function'"),
    (dict(c0=[3, 0.3, 0, 0]), r"context\[0\] \(context_0\) = 3.0 is outside the allowed range \[0.5, 2.0\]"),
    (dict(c0=[1, 0.3]), r"c0 must have 4 values like context_low, got 2"),
    (dict(context_low=[0.5, 0, -1, 1]), r"context_low\[3\] = 1.0 must be < context_high\[3\] = 1.0"),
    (dict(action_high=[1, 1, 1]), r"action_low and action_high must have the same shape, got \(2,\) and \(3,\)"),
    (dict(horizon=0), r"horizon must be a positive integer, got 0"),
    (dict(context_names=("a", "b")), r"context_names must name all 4 coordinates"),
]


@pytest.mark.parametrize("overrides, message", BAD_INPUTS)
def test_bad_input_is_a_one_line_input_error(overrides, message):
    with pytest.raises(InputError, match=message) as raised:
        _task(**overrides)
    assert "\n" not in str(raised.value)


def test_a_step_torch_func_cannot_trace_names_torch_s_error():
    def leaves_torch(s, a, c):
        return s + torch.as_tensor(c.numpy()), torch.sum(s)
    with pytest.raises(StepFunctionError, match=r"torch.func cannot differentiate step in the context \(jacrev: "
                                                r"RuntimeError: Can't call numpy\(\) on Tensor that requires grad"):
        _task(step=leaves_torch)


def test_context_outside_the_box_and_bad_actions_are_one_line_errors():
    task = _task()
    with pytest.raises(ValueError, match=r"context\[1\] \(context_1\) = 1.5 is outside the allowed range \[0.0, 1.0\]"):
        task.set_context([1, 1.5, 0, 0])
    task.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must have shape \(2,\), got shape \(3,\)"):
        task.step(np.zeros(3))
    with pytest.raises(InputError, match=r"reset options may set 'state' only, got \['theta'\]"):
        task.reset(options={"theta": 1.0})


# --- CSE training on the autodiff task is the training on the closed-form one ------------------------------
def trained_parameters(make_env, config):
    from stable_baselines3.common.vec_env import DummyVecEnv

    from cebe_deep.experiment import make_model

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as cebe_deep's training does; and bit-for-bit reproducible
    try:
        model = make_model(config, DummyVecEnv([make_env]))
        model.learn(config.total_steps)
    finally:
        torch.set_num_threads(threads)
    return [parameter.detach().clone() for parameter in model.policy.parameters()]


def test_cse_training_on_the_autodiff_simple_direction_is_bit_identical_to_the_closed_form_task():
    """Same seed, same SAC + CSE buffer: 600 env steps, 400 gradient steps at c0 = (0.3, -0.2).

    With the reward separated, the torch step computes s' = s + a + c and r = sum(s' * c) with the same float64
    operations as SimpleDirection, and torch.func's partials I, s', c are exact: the whole run is bit-identical.
    From the step alone, d_c R = s' + c and d_s'R = 0: CSE's reward r + (s' + c) . dc instead of
    r + s' . dc + c . dc, equal up to float64 rounding (~1e-16 relative), and SB3 keeps rewards in float32, which
    absorbs it unless a rounding boundary is crossed (about one sample in 1e8); this run is bit-identical too."""
    from cebe_deep.experiment import make_config
    from cebe_deep.tasks import make_task

    context = (0.3, -0.2)
    config = make_config("SimpleDirection", "cse", total_steps=600, learning_starts=200, net_arch=(32, 32), seed=3,
                         context=context)
    closed_form = trained_parameters(lambda: make_task("SimpleDirection", jacobians=True, context=context), config)
    separated = trained_parameters(lambda: simple_direction_torch(context=context), config)
    step_only = trained_parameters(lambda: simple_direction_torch(False, context=context), config)
    assert all(torch.equal(a, b) for a, b in zip(closed_form, separated))
    assert max(float((a - b).abs().max()) for a, b in zip(closed_form, step_only)) <= 1e-3
    assert not all(torch.equal(a, b) for a, b in zip(closed_form, trained_parameters(
        lambda: simple_direction_torch(context=context), dataclasses.replace(config, seed=4))))  # the check can fail


def test_finite_difference_jacobians_wrapper_differences_it_through_simulate():
    """FiniteDifferenceJacobians differences a task with simulate in one batched call: on the autodiff task it
    must agree with torch.func's Jacobians (total reward derivative, d_s'R = 0)."""
    from cebe_deep.learn.inexact import FiniteDifferenceJacobians

    reference, wrapped = drag_task(), FiniteDifferenceJacobians(drag_task(jacobians=False), step_size=1e-6)
    for env in (reference, wrapped):
        env.reset(seed=9)
    for action in np.random.default_rng(9).uniform(-1, 1, size=(5, 2)):
        info, info_fd = reference.step(action)[4], wrapped.step(action)[4]
        assert relative_error(info_fd["dobs_dcontext"], info["dobs_dcontext"]) <= TOLERANCE
        total = info["dreward_dcontext"] + info["dreward_dnextobs"] @ info["dobs_dcontext"]
        assert relative_error(info_fd["dreward_dcontext"], total) <= TOLERANCE
