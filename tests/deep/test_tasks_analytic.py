"""The analytic tasks (closed form and sympy): Jacobians against finite differences of the environment's own
step, dynamics against independent references, the interface, and input validation."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import cebe_deep  # noqa: F401  (registers cebe/<Task>-v0)
from cebe_deep.tasks import JACOBIAN_KEYS, TASKS, CartGoal, PendulumGoal, SimpleDirection, central_differences, make_task
from tests.deep.tasks_support import central_gradient, relative_error

TOLERANCE = 1e-4  # acceptance: relative error of closed-form and sympy Jacobians


# --- documented rewards, written from the task docstrings (independent of the implementations) -------------
def simple_direction_reward(previous_obs, action, next_state, context):
    # r = s' . c
    return float(np.dot(next_state, context))


def pendulum_goal_reward(previous_obs, action, next_state, context):
    # dynamics="authors": r = -(pi^2 sin^2((theta' - goal)/2) + 0.1 theta_dot'^2 + 0.001 u^2) on the state after
    # the step, theta' = atan2(sin theta', cos theta'), goal = asin(-tau / (m g l)), u = clip(a, -2, 2)
    g, m, l, tau = context
    theta = np.arctan2(next_state[1], next_state[0])
    theta_dot, u = next_state[2], float(np.clip(np.ravel(action)[0], -2, 2))
    goal = np.arcsin(-tau / (m * g * l))
    return float(-(np.pi**2 * np.sin((theta - goal) / 2) ** 2 + 0.1 * theta_dot**2 + 0.001 * u**2))


def pendulum_goal_gymnasium_reward(previous_obs, action, next_state, context):
    # dynamics="gymnasium": r = -(pi^2 sin^2((theta - goal)/2) + 0.1 theta_dot^2 + 0.001 u^2) on the state before the step,
    # goal = asin(-tau / (m g l)), u = clip(a, -2, 2)
    g, m, l, tau = context
    theta = np.arctan2(previous_obs[1], previous_obs[0])
    theta_dot, u = previous_obs[2], float(np.clip(np.ravel(action)[0], -2, 2))
    goal = np.arcsin(-tau / (m * g * l))
    return float(-(np.pi**2 * np.sin((theta - goal) / 2) ** 2 + 0.1 * theta_dot**2 + 0.001 * u**2))


def cart_goal_reward(previous_obs, action, next_state, context):
    # r = 1 + (1 - sqrt(1 + (x' - goal)^2)) on the next state
    return float(1 + (1 - np.sqrt(1 + (next_state[0] - context[4]) ** 2)))


def sample_cart_goal_context(rng):
    return np.array(
        [rng.uniform(5, 15), rng.uniform(0.05, 0.5), rng.uniform(0.5, 2.0), rng.uniform(0.3, 1.0), rng.uniform(-1.5, 1.5)]
    )


def sample_simple_direction_context(rng):
    return rng.uniform(-1.5, 1.5, size=2)


def sample_pendulum_goal_context(rng):
    g, m, l = rng.uniform(1.0, 10.0), rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0)
    tau = np.clip(rng.uniform(-0.8, 0.8) * m * g * l, -1.9, 1.9)
    return np.array([g, m, l, tau])


CASES = {
    "SimpleDirection": (sample_simple_direction_context, simple_direction_reward),
    "PendulumGoal": (sample_pendulum_goal_context, pendulum_goal_reward),
    "PendulumGoal-gymnasium": (sample_pendulum_goal_context, pendulum_goal_gymnasium_reward),
    "CartGoal": (sample_cart_goal_context, cart_goal_reward),
}
#: A case name -> (task name, keyword arguments of the task): the variants of one task.
VARIANTS = {"PendulumGoal-gymnasium": ("PendulumGoal", {"dynamics": "gymnasium"})}


def task_of(case: str) -> str:
    return VARIANTS.get(case, (case, {}))[0]


def build(case: str, **kwargs):
    """The unwrapped task of a case (a variant's options added)."""
    task, options = VARIANTS.get(case, (case, {}))
    return TASKS[task](**options, **kwargs)


def make_case(case: str, **kwargs):
    """``gymnasium.make`` of a case (with its time limit)."""
    task, options = VARIANTS.get(case, (case, {}))
    return make_task(task, **options, **kwargs)


def check_jacobians_along_episode(env, rng, documented_reward, steps=12, check_every=3):
    """Step an episode with random actions; every few steps compare the reported Jacobians with central
    differences of the environment's own step at c +/- h (from a copy of the state)."""
    n, context = env.state_dim, env.context
    step_sizes = 1e-6 * np.maximum(1.0, np.abs(context))
    observation, _ = env.reset(seed=int(rng.integers(1 << 30)))
    env.action_space.seed(int(rng.integers(1 << 30)))
    checked = 0
    for step in range(steps):
        action = env.action_space.sample()
        if step % check_every != check_every - 1:
            observation, *_ = env.step(action)
            continue
        dobs_fd, total_dreward_fd = central_differences(None, env, action, step_sizes)
        previous = observation
        observation, reward, _, _, info = env.step(action)
        dobs, dreward_dc, dreward_dnext = (info[key] for key in JACOBIAN_KEYS)
        assert relative_error(dobs, dobs_fd) <= TOLERANCE
        # chain rule: total dr/dc = partial dR/dc + dR/ds' . ds'/dc
        assert relative_error(dreward_dc + dreward_dnext @ dobs, total_dreward_fd) <= TOLERANCE
        # the partials themselves, from the documented reward formula R(s, a, s', c)
        next_state = observation[:n]
        assert documented_reward(previous, action, next_state, context) == pytest.approx(reward, rel=1e-12, abs=1e-12)
        partial_c = central_gradient(lambda c: documented_reward(previous, action, next_state, c), context)
        partial_next = central_gradient(lambda s: documented_reward(previous, action, s, context), next_state)
        assert relative_error(dreward_dc, partial_c) <= TOLERANCE
        assert relative_error(dreward_dnext, partial_next) <= TOLERANCE
        checked += 1
    assert checked == steps // check_every


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", sorted(CASES))
def test_reported_jacobians_match_finite_differences(name, seed):
    sample_context, documented_reward = CASES[name]
    rng = np.random.default_rng(seed)
    env = build(name, context=sample_context(rng))
    check_jacobians_along_episode(env, rng, documented_reward)


def test_simple_direction_jacobians_in_higher_dimension():
    rng = np.random.default_rng(7)
    env = SimpleDirection(context=rng.uniform(-1, 1, size=5), dimension=5)
    check_jacobians_along_episode(env, rng, simple_direction_reward)


def test_simple_direction_dynamics_closed_form():
    env = SimpleDirection(context=[0.5, -0.25])
    observation, _ = env.reset(seed=3)
    state = observation[:2]
    next_observation, reward, terminated, truncated, _ = env.step(np.array([0.25, 3.0]))  # 3.0 clips to 1
    expected = state + np.array([0.25, 1.0]) + np.array([0.5, -0.25])
    np.testing.assert_allclose(next_observation, np.concatenate([expected, [0.5, -0.25]]), rtol=0, atol=1e-15)
    assert reward == pytest.approx(expected @ np.array([0.5, -0.25]), abs=1e-15)
    assert not terminated and not truncated


def test_pendulum_goal_dynamics_match_gymnasium_pendulum():
    """dynamics="gymnasium": the same step as Gymnasium's own Pendulum-v1 with g, m, l set (the reward differs
    by design)."""
    context = np.array([3.0, 1.3, 0.8, 0.4])
    ours = PendulumGoal(context=context, dynamics="gymnasium")
    reference = gymnasium.make("Pendulum-v1", g=3.0).unwrapped
    reference.m, reference.l = 1.3, 0.8
    observation, _ = ours.reset(seed=0)
    reference.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(30):
        reference.state = np.array([np.arctan2(observation[1], observation[0]), observation[2]])
        action = rng.uniform(-2.5, 2.5, size=1)  # beyond the box on purpose: both clip to [-2, 2]
        reference.step(action)
        theta, theta_dot = reference.state  # float64 internal state (its observation is float32)
        expected = np.array([np.cos(theta), np.sin(theta), theta_dot])
        observation, *_ = ours.step(action)
        np.testing.assert_allclose(observation[:3], expected, rtol=0, atol=1e-12)


def test_cart_goal_dynamics_match_gymnasium_cartpole():
    """Same Euler step as Gymnasium's own CartPole-v1 with its physical constants set to the context."""
    ours = CartGoal(context=[12.0, 0.3, 1.5, 0.7, 1.0])
    reference = gymnasium.make("CartPole-v1").unwrapped
    reference.gravity, reference.masspole, reference.masscart, reference.length = 12.0, 0.3, 1.5, 0.7
    reference.total_mass = reference.masspole + reference.masscart
    reference.polemass_length = reference.masspole * reference.length
    observation, _ = ours.reset(seed=1)
    reference.reset(seed=1)
    for action in [1, 0, 0, 1, 1, 1, 0, 1, 0, 0]:
        reference.state = observation[:4].copy()
        reference.step(action)
        observation, reward, terminated, *_ = ours.step(action)
        np.testing.assert_allclose(observation[:4], reference.state, rtol=0, atol=1e-13)
        assert reward == pytest.approx(2 - np.sqrt(1 + (reference.state[0] - 1.0) ** 2), abs=1e-13)
        assert not terminated


def test_cart_goal_terminates_like_cartpole():
    env = CartGoal()
    env.reset(seed=0)
    terminated, steps = False, 0
    while not terminated:
        observation, _, terminated, _, _ = env.step(1)  # always push right: the pole falls left
        steps += 1
    assert abs(observation[2]) > 12 * 2 * np.pi / 360 or abs(observation[0]) > 2.4
    assert steps < 100


def test_pendulum_goal_gymnasium_speed_clip_zeroes_the_context_derivative():
    # g = 19, l = 0.25: the speed 7.9 + 114 sin(pi/2) 0.05 + ... > 8 is clipped, whatever the context nearby
    env = PendulumGoal(context=[19.0, 1.0, 0.25, 0.0], dynamics="gymnasium")
    env.reset(seed=0, options={"theta": np.pi / 2, "theta_dot": 7.9})
    action = np.array([1.0])
    dobs_fd, total_dreward_fd = central_differences(None, env, action, 1e-6 * np.array([19.0, 1.0, 1.0, 1.0]))
    observation, _, _, _, info = env.step(action)
    assert observation[2] == 8.0
    np.testing.assert_array_equal(info["dobs_dcontext"], 0.0)
    np.testing.assert_allclose(dobs_fd, 0.0, atol=1e-9)
    assert relative_error(info["dreward_dcontext"], total_dreward_fd) <= TOLERANCE


@pytest.mark.parametrize("name", sorted(CASES))
def test_simulate_reproduces_step_in_a_batch(name):
    sample_context, _ = CASES[name]
    rng = np.random.default_rng(11)
    env = build(name)
    assert env.supports_simulate
    states, actions, contexts, next_states, rewards = [], [], [], [], []
    for _ in range(3):
        env.set_context(sample_context(rng))
        observation, _ = env.reset(seed=int(rng.integers(1000)))
        for _ in range(5):
            if isinstance(env.action_space, gymnasium.spaces.Discrete):
                action = int(rng.integers(2))
            else:  # reaching beyond the box on purpose: step and simulate both clip
                action = rng.uniform(-1.2, 1.2, size=env.action_space.shape) * env.action_space.high
            next_observation, reward, *_ = env.step(action)
            states.append(observation[: env.state_dim])
            actions.append(action)
            contexts.append(env.context)
            next_states.append(next_observation[: env.state_dim])
            rewards.append(reward)
            observation = next_observation
    simulated_states, simulated_rewards = env.simulate(np.array(states), np.array(actions), np.array(contexts))
    assert simulated_states.shape == (15, env.state_dim) and simulated_rewards.shape == (15,)
    np.testing.assert_allclose(simulated_states, next_states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(simulated_rewards, rewards, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jacobians_flag_leaves_the_trajectory_unchanged(name):
    trajectories = []
    for jacobians in (True, False):
        env = make_case(name, jacobians=jacobians)
        env.action_space.seed(5)
        observation, info = env.reset(seed=5)
        assert set(JACOBIAN_KEYS) <= set(info) if jacobians else not set(JACOBIAN_KEYS) & set(info)
        trajectory = [np.concatenate([observation, [0.0, False, False]])]
        for _ in range(40):
            observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
            trajectory.append(np.concatenate([observation, [reward, terminated, truncated]]))
            if terminated or truncated:
                observation, _ = env.reset()
        trajectories.append(np.array(trajectory))
    np.testing.assert_array_equal(trajectories[0], trajectories[1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_interface_shapes_dtypes_and_time_limit(name):
    task = TASKS[task_of(name)]
    env = gymnasium.make(f"cebe/{task_of(name)}-v0", context=build(name).default_context, **VARIANTS.get(name, (name, {}))[1])
    assert env.spec.max_episode_steps == task.max_episode_steps
    base = env.unwrapped
    n, d = base.state_dim, base.context_dim
    assert env.observation_space.shape == (n + d,)
    observation, info = env.reset(seed=0)
    assert observation.dtype == np.float64
    np.testing.assert_array_equal(observation[n:], base.default_context)
    assert info["dobs_dcontext"].shape == (n, d) and not info["dobs_dcontext"].any()
    assert info["dreward_dcontext"].shape == (d,) and not info["dreward_dcontext"].any()
    assert info["dreward_dnextobs"].shape == (n,) and not info["dreward_dnextobs"].any()
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated):
        observation, _, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        assert all(info[key].dtype == np.float64 for key in JACOBIAN_KEYS)
        assert info["dobs_dcontext"].shape == (n, d)
        assert info["dreward_dcontext"].shape == (d,) and info["dreward_dnextobs"].shape == (n,)
    assert terminated or steps == task.max_episode_steps  # CartGoal may fall before its time limit
    # set_context takes effect at the next step and shows in the observation; context is a copy
    new_context = base.default_context + 0.1
    base.set_context(new_context)
    base.context[0] = 99.0
    np.testing.assert_array_equal(base.context, new_context)
    observation, *_ = env.step(env.action_space.sample())
    np.testing.assert_array_equal(observation[n:], new_context)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gymnasium_check_env_passes(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded/unnormalized space advisories are warnings, not failures
        check_env(build(name))


@pytest.mark.parametrize(
    ("name", "context", "message"),
    [
        ("SimpleDirection", [3.0, 0.0], r"context\[0\] \(direction_0\) = 3\.0 is outside the allowed range \[-2\.0, 2\.0\]"),
        ("SimpleDirection", [0.0, 0.0, 0.0], r"shape \(2,\)"),
        ("PendulumGoal", [2.0, 1.0, 1.0, np.nan], "finite"),
        ("PendulumGoal", [2.0, 9.0, 1.0, 0.0], r"context\[1\] \(mass\) = 9\.0 is outside the allowed range \[0\.2, 5\.0\]"),
        (
            "PendulumGoal",
            [1.0, 1.0, 1.0, 1.5],
            r"goal_torque = 1\.5 must satisfy \|goal_torque\| < mass \* gravity \* length = 1\.0",
        ),
        ("PendulumGoal", "heavy", "vector of 4 real numbers"),
        ("CartGoal", [10.0, 0.1, 1.0, 0.5, 4.5], r"context\[4\] \(goal\) = 4\.5 is outside the allowed range \[-4\.0, 4\.0\]"),
    ],
)
def test_invalid_context_is_a_one_line_value_error(name, context, message):
    with pytest.raises(ValueError, match=message) as error:
        TASKS[name](context=context)
    assert "\n" not in str(error.value)
    env = TASKS[name]()
    with pytest.raises(ValueError, match=message):
        env.set_context(context)
    np.testing.assert_array_equal(env.context, env.default_context)  # a refused context changes nothing


@pytest.mark.parametrize(
    ("name", "action", "message"),
    [
        ("SimpleDirection", [0.1, 0.2, 0.3], r"action must have shape \(2,\)"),
        ("SimpleDirection", [np.nan, 0.0], "action must be finite"),
        ("PendulumGoal", [1.0, 1.0], r"action must have shape \(1,\)"),
        ("PendulumGoal", "push", "action must be a real vector"),
        ("CartGoal", 2, r"action must be 0 \(push left\) or 1 \(push right\), got 2"),
        ("CartGoal", 0.5, "got 0.5"),
        ("CartGoal", [1], r"got \[1\]"),
    ],
)
def test_invalid_action_is_a_one_line_value_error(name, action, message):
    env = TASKS[name]()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message) as error:
        env.step(action)
    assert "\n" not in str(error.value)


def test_make_task_names_the_known_tasks():
    with pytest.raises(
        ValueError,
        match="unknown task 'Nope'; known tasks: SimpleDirection, PendulumGoal, CartGoal, CheetahVelocity, "
              "AntDirection, AntGoal, CheetahMassVelocity",
    ):
        make_task("Nope")
    assert make_task("PendulumGoal", context=[2.0, 1.0, 1.0, 0.5]).unwrapped.context[3] == 0.5


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_docstring_states_dynamics_reward_context_box_c0_and_time_limit(name):
    doc = TASKS[name].__doc__
    for section in ("## Dynamics", "## Reward", "## Context", "## Episode"):
        assert section in doc, f"{name} docstring lacks {section}"
    assert "Box" in doc and "c0 = " in doc
    assert f"{TASKS[name].max_episode_steps} steps" in doc


@pytest.mark.parametrize("name", ["PendulumGoal", "PendulumGoal-gymnasium", "CartGoal"])
def test_batched_sympy_jacobians_equal_the_per_step_ones(name):
    sample_context, _ = CASES[name]
    rng = np.random.default_rng(3)
    env = build(name, context=sample_context(rng))
    env.reset(seed=3)
    transition = env._transition
    context = env.context
    if name.startswith("PendulumGoal"):
        arguments = [rng.uniform(-3, 3, 6), rng.uniform(-8, 8, 6), rng.uniform(-2, 2, 6)]
    else:
        arguments = [*(rng.uniform(-0.2, 0.2, (4, 6))), np.where(rng.integers(2, size=6) == 1, 10.0, -10.0)]
    batched = transition.evaluate_with_jacobians(list(context), *arguments)
    for k in range(6):
        single = transition.step_values_and_jacobians(tuple(context), *(float(a[k]) for a in arguments))
        for batched_part, single_part in zip(batched, single):
            np.testing.assert_allclose(np.asarray(batched_part)[..., k], single_part, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_pickled_task_continues_the_same_trajectory(name):
    import pickle

    env = build(name, context=CASES[name][0](np.random.default_rng(0)))
    env.reset(seed=0)
    action = env.action_space.sample()
    clone = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(clone.context, env.context)
    assert getattr(clone, "dynamics", None) == getattr(env, "dynamics", None)
    np.testing.assert_array_equal(clone.step(action)[0], env.step(action)[0])


def test_the_gymnasium_order_pendulum_has_its_own_id():
    """``cebe/PendulumGoal-gym-v0`` is PendulumGoal with the Gymnasium-order dynamics, step for step; the paper's
    ``cebe/PendulumGoal-v0`` keeps the authors' dynamics (a changed environment gets a new id)."""
    import gymnasium

    from cebe_deep.tasks.pendulum_goal import PendulumGoal

    variant = gymnasium.make("cebe/PendulumGoal-gym-v0")
    direct = PendulumGoal(dynamics="gymnasium")
    assert variant.unwrapped.dynamics == "gymnasium" and gymnasium.make("cebe/PendulumGoal-v0").unwrapped.dynamics == "authors"
    first, _ = variant.reset(seed=5)
    second, _ = direct.reset(seed=5)
    np.testing.assert_array_equal(first, second)
    for action in np.linspace(-2, 2, 7):
        a = variant.step(np.array([action], dtype=np.float32))
        b = direct.step(np.array([action], dtype=np.float32))
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] == b[1]
