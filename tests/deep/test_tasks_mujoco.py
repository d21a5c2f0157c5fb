"""The MuJoCo tasks: Jacobians against central differences of the environment's own step (run on a twin
environment whose simulator state is copied with mujoco.mj_copyData), rewards against their documented
formulas, unchanged trajectories with Jacobians on, and the interface."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import cebe_deep  # noqa: F401  (registers cebe/<Task>-v0)
from cebe_deep.tasks import JACOBIAN_KEYS, TASKS, AntGoal, CheetahMassVelocity, central_differences
from tests.deep.tasks_support import central_gradient, relative_error

CLOSED_FORM_TOLERANCE = 1e-4
FINITE_DIFFERENCE_TOLERANCE = 1e-3  # acceptance for the MuJoCo finite-difference dynamics Jacobian


# --- documented rewards (from the task docstrings), as functions of (next state part, action, context) ----
def healthy(z):
    return 1.0 if 0.2 <= z <= 1.0 else 0.0


def cheetah_velocity_reward(next_state, action, context):
    # 1 - sqrt(1 + (v - v_goal)^2) - 0.1 |a|^2, v = state[17]
    return 1 - np.sqrt(1 + (next_state[17] - context[0]) ** 2) - 0.1 * np.sum(np.square(action))


def ant_direction_reward(next_state, action, context):
    # c . v_xy + healthy(z) - 0.5 |a|^2 - 5e-4 |contact|^2; z = state[0], contact = state[27:105], v_xy = state[105:107]
    return (
        context @ next_state[105:107]
        + healthy(next_state[0])
        - 0.5 * np.sum(np.square(action))
        - 5e-4 * np.sum(np.square(next_state[27:105]))
    )


def ant_goal_reward(next_state, action, context):
    # 1 - sqrt(1 + |p_xy - goal|^2) - 0.5 |a|^2 - 5e-4 |contact|^2 (no healthy reward, as the authors');
    # p_xy = state[0:2], contact = state[29:107]
    return (
        1 - np.sqrt(1 + np.sum((next_state[0:2] - context) ** 2))
        - 0.5 * np.sum(np.square(action))
        - 5e-4 * np.sum(np.square(next_state[29:107]))
    )


def unit_direction(angle):
    return np.array([np.cos(angle), np.sin(angle)])


CASES = {
    "CheetahVelocity": (lambda rng: rng.uniform(-4, 4, size=1), cheetah_velocity_reward),
    "CheetahMassVelocity": (
        lambda rng: np.array([rng.uniform(-4, 4), rng.uniform(4, 10), rng.uniform(6, 15)]),
        cheetah_velocity_reward,
    ),
    "AntDirection": (lambda rng: unit_direction(rng.uniform(0, 2 * np.pi)), ant_direction_reward),
    "AntGoal": (lambda rng: rng.uniform(-5, 5, size=2), ant_goal_reward),
}
REWARD_ONLY = ["CheetahVelocity", "AntDirection", "AntGoal"]


def check_mujoco_jacobians(name, seed, steps=24, check_every=8):
    sample_context, documented_reward = CASES[name]
    rng = np.random.default_rng(seed)
    env = TASKS[name](context=sample_context(rng))
    twin = TASKS[name](jacobians=False)  # takes the real one's simulator state (cebe_deep.tasks.step_twin)
    twin.reset(seed=0)
    n, context = env.state_dim, env.context
    # the test's own steps, a decade above the implementation's 1e-5 |c| (independent choice)
    step_sizes = 1e-4 * np.maximum(1.0, np.abs(context))
    env.reset(seed=seed)
    env.action_space.seed(seed)
    checked = 0
    for step in range(steps):
        action = env.action_space.sample().astype(np.float64)
        if step % check_every != check_every - 1:
            env.step(action)
            continue
        dobs_fd, total_dreward_fd = central_differences(twin, env, action, step_sizes)
        observation, reward, terminated, _, info = env.step(action)
        assert not terminated
        dobs, dreward_dc, dreward_dnext = (info[key] for key in JACOBIAN_KEYS)
        next_state = observation[:n]
        if name in REWARD_ONLY:  # the context is in the reward only: the physics must not move at all
            np.testing.assert_array_equal(dobs_fd, 0.0)
            np.testing.assert_array_equal(dobs, 0.0)
            tolerance = CLOSED_FORM_TOLERANCE
        else:
            np.testing.assert_array_equal(dobs[:, 0], 0.0)  # the goal velocity does not act on the physics
            assert np.abs(dobs_fd[:, 1:]).max() > 1e-3  # mass and gravity do
            assert relative_error(dobs, dobs_fd) <= FINITE_DIFFERENCE_TOLERANCE
            tolerance = FINITE_DIFFERENCE_TOLERANCE
        assert relative_error(dreward_dc + dreward_dnext @ dobs, total_dreward_fd) <= tolerance
        assert documented_reward(next_state, action, context) == pytest.approx(reward, rel=1e-12, abs=1e-12)
        partial_c = central_gradient(lambda c: documented_reward(next_state, action, c), context)
        partial_next = central_gradient(lambda s: documented_reward(s, action, context), next_state)
        assert relative_error(dreward_dc, partial_c) <= CLOSED_FORM_TOLERANCE
        assert relative_error(dreward_dnext, partial_next) <= CLOSED_FORM_TOLERANCE
        checked += 1
    assert checked == steps // check_every


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("name", sorted(CASES))
def test_reported_jacobians_match_finite_differences(name, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_mujoco_jacobians(name, seed)


def test_finite_difference_task_restores_the_model_exactly():
    env = CheetahMassVelocity(context=[1.0, 7.5, 11.0])
    before = (env.model.body_mass.copy(), env.model.body_inertia.copy(), env.model.opt.gravity.copy())
    env.reset(seed=0)
    for _ in range(5):
        env.step(env.action_space.sample())
    np.testing.assert_array_equal(env.model.body_mass, before[0])
    np.testing.assert_array_equal(env.model.body_inertia, before[1])
    np.testing.assert_array_equal(env.model.opt.gravity, before[2])
    # and the context really is the physics: torso mass 7.5 (inertia scaled alike), gravity 11
    torso = env.model.body("torso").id
    assert env.model.body_mass[torso] == 7.5 and env.model.opt.gravity[2] == -11.0
    reference = gymnasium.make("HalfCheetah-v5").unwrapped.model
    np.testing.assert_allclose(env.model.body_inertia[torso], reference.body_inertia[torso] * 7.5 / reference.body_mass[torso])


def test_finite_difference_task_at_c0_is_halfcheetah():
    """At c0 the physics is Gymnasium's HalfCheetah-v5 (same seed, same actions, same states)."""
    ours = CheetahMassVelocity()
    reference = gymnasium.make("HalfCheetah-v5").unwrapped
    observation, _ = ours.reset(seed=4)
    expected, _ = reference.reset(seed=4)
    rng = np.random.default_rng(4)
    for _ in range(10):
        np.testing.assert_array_equal(observation[:17], expected)
        action = rng.uniform(-1, 1, size=6)
        observation, *_ = ours.step(action)
        expected, *_ = reference.step(action)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jacobians_flag_leaves_the_trajectory_unchanged(name):
    trajectories = []
    for jacobians in (True, False):
        env = TASKS[name](context=TASKS[name].default_context, jacobians=jacobians)
        env.action_space.seed(3)
        observation, _ = env.reset(seed=3)
        trajectory = [np.concatenate([observation, [0.0, False]])]
        for _ in range(30):
            observation, reward, terminated, _, _ = env.step(env.action_space.sample())
            trajectory.append(np.concatenate([observation, [reward, terminated]]))
        trajectories.append(np.array(trajectory))
    np.testing.assert_array_equal(trajectories[0], trajectories[1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_interface_and_check_env(name):
    task = TASKS[name]
    env = gymnasium.make(f"cebe/{name}-v0", context=task.default_context)
    assert env.spec.max_episode_steps == task.max_episode_steps == 1000
    base = env.unwrapped
    n, d = base.state_dim, base.context_dim
    observation, info = env.reset(seed=0)
    assert observation.shape == env.observation_space.shape == (n + d,) and observation.dtype == np.float64
    np.testing.assert_array_equal(observation[n:], base.default_context)
    assert info["dobs_dcontext"].shape == (n, d) and not info["dobs_dcontext"].any()
    assert info["dreward_dcontext"].shape == (d,) and info["dreward_dnextobs"].shape == (n,)
    observation, _, _, _, info = env.step(env.action_space.sample())
    assert info["dobs_dcontext"].shape == (n, d) and info["dreward_dnextobs"].shape == (n,)
    assert all(info[key].dtype == np.float64 for key in JACOBIAN_KEYS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(task(), skip_render_check=True)  # rendering needs a display


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        (
            "CheetahVelocity",
            {"context": [7.0]},
            r"context\[0\] \(goal_velocity\) = 7\.0 is outside the allowed range \[-6\.0, 6\.0\]",
        ),
        (
            "CheetahMassVelocity",
            {"context": [2.0, 50.0, 9.81]},
            r"context\[1\] \(torso_mass\) = 50\.0 is outside the allowed range \[3\.0, 12\.0\]",
        ),
        ("AntDirection", {"context": [1.0]}, r"shape \(2,\)"),
        (
            "AntGoal",
            {"exclude_current_positions_from_observation": True},
            "needs exclude_current_positions_from_observation=False",
        ),
    ],
)
def test_invalid_construction_is_a_one_line_value_error(name, kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        TASKS[name](**kwargs)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", ["CheetahVelocity", "AntGoal"])
def test_invalid_action_is_a_one_line_value_error(name):
    env = TASKS[name]()
    env.reset(seed=0)
    size = env.action_space.shape[0]
    with pytest.raises(ValueError, match=rf"action must have shape \({size},\)"):
        env.step(np.zeros(size + 1))
    with pytest.raises(ValueError, match="action must be finite"):
        env.step(np.full(size, np.nan))


def test_ant_goal_observes_the_position_the_reward_uses():
    env = AntGoal(context=[0.5, -0.5])
    env.reset(seed=2)
    observation, *_ = env.step(np.zeros(8))
    np.testing.assert_array_equal(observation[0:2], env.data.qpos[0:2])


@pytest.mark.parametrize("name", ["AntDirection", "AntGoal"])
def test_ant_reward_gradient_covers_contact_forces(name):
    """Contact forces are rare in Ant-v5's observation; step until some appear, and check dR/ds' there."""
    _, documented_reward = CASES[name]
    env = TASKS[name]()
    env.reset(seed=1)
    env.action_space.seed(1)
    n, context, contact_steps = env.state_dim, env.context, 0
    for _ in range(200):
        action = env.action_space.sample().astype(np.float64)
        observation, reward, terminated, _, info = env.step(action)
        next_state = observation[:n]
        contact = next_state[27:105] if name == "AntDirection" else next_state[29:107]
        if np.any(contact != 0.0):
            contact_steps += 1
            gradient = central_gradient(lambda s: documented_reward(s, action, context), next_state)
            assert relative_error(info["dreward_dnextobs"], gradient) <= CLOSED_FORM_TOLERANCE
        if terminated or contact_steps == 3:
            break
    assert contact_steps == 3


def test_cheetah_compiles_quietly_and_unchanged(tmp_path, monkeypatch, capfd):
    # Gymnasium's half_cheetah.xml sets settotalmass="14", deprecated by MuJoCo 4 with a warning on stderr and in
    # MUJOCO_LOG.TXT at every compile; the tasks drop that one message and compile the same model
    import mujoco
    from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

    from cebe_deep.tasks import CheetahVelocity
    from cebe_deep.tasks.cheetah import forward_mujoco_warning

    monkeypatch.chdir(tmp_path)
    previous = mujoco.get_mju_user_warning()
    task = CheetahVelocity()
    assert "settotalmass" not in capfd.readouterr().err and not (tmp_path / "MUJOCO_LOG.TXT").exists()
    assert mujoco.get_mju_user_warning() is previous  # the handler is restored
    plain = HalfCheetahEnv()  # Gymnasium's own build (it may warn: not ours to silence)
    np.testing.assert_array_equal(task.model.body_mass, plain.model.body_mass)
    np.testing.assert_array_equal(task.model.body_inertia, plain.model.body_inertia)
    assert task.model.body_mass.sum() == pytest.approx(14.0)  # the attribute still applies
    task.close(), plain.close()
    # any other MuJoCo warning is passed on, as a Python warning
    with pytest.warns(RuntimeWarning, match="MuJoCo: something else"):
        forward_mujoco_warning("something else")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forward_mujoco_warning("compiler attribute 'settotalmass' is deprecated and will be removed")
