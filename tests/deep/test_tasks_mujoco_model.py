"""mujoco_task: a stock Gymnasium MuJoCo environment with named model parameters as context.

References, independent of the implementation: a plain ``gymnasium.make(env_id)`` environment whose simulator
state is restored with ``mujoco.mj_getState``/``mj_setState`` (not mj_copyData) and whose parameters are written
through MuJoCo's named accessors (``model.body("torso").mass``, not mj_name2id), differenced at a step ten times
the implementation's; the exact step at c + dc for CSE's first-order error (slope 2 in |dc|).
"""

from __future__ import annotations

import doctest
import warnings

import gymnasium
import mujoco
import numpy as np
import pytest

from cebe_deep.tasks import JACOBIAN_KEYS, step_twin
from cebe_deep.tasks import model_parameters as model_parameters_module
from cebe_deep.tasks import mujoco_examples as mujoco_examples_module
from cebe_deep.tasks import mujoco_model as mujoco_model_module
from cebe_deep.tasks.mujoco_model import ModelParameterError, mujoco_task
from cebe_theory.errors import InputError
from tests.deep.tasks_support import relative_error

FINITE_DIFFERENCE_TOLERANCE = 1e-3  # as for CheetahMassVelocity: two central differences of a contact simulation


def set_torso_mass(model, value):
    model.body("torso").mass[0] = value


def set_gravity_z(model, value):
    model.opt.gravity[2] = value


def set_bthigh_damping(model, value):
    model.dof_damping[model.joint("bthigh").dofadr[0]] = value


def set_foot_friction(model, value):
    model.geom("foot_geom").friction[0] = value


#: env id -> (parameters, the reference's own setter of each)
CASES = {
    "HalfCheetah-v5": ({"torso_mass": ("body_mass", "torso"), "gravity_z": ("opt.gravity", 2),
                        "bthigh_damping": ("dof_damping", "bthigh")},
                       (set_torso_mass, set_gravity_z, set_bthigh_damping)),
    "Hopper-v5": ({"torso_mass": ("body_mass", "torso"), "foot_friction": ("geom_friction", "foot_geom", 0)},
                  (set_torso_mass, set_foot_friction)),
}


def make_quietly(env_id, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MuJoCo's settotalmass deprecation for HalfCheetah
        return gymnasium.make(env_id, **kwargs).unwrapped


def reference_step(reference, state, setters, context, action):
    """The plain environment's step from a restored ``mj_getState`` state with the parameters set by name."""
    mujoco.mj_setState(reference.model, reference.data, state, mujoco.mjtState.mjSTATE_INTEGRATION)
    for setter, value in zip(setters, context):
        setter(reference.model, value)
    observation, reward, *_ = reference.step(action)
    return np.asarray(observation, dtype=np.float64), float(reward)


@pytest.mark.parametrize("module", [mujoco_model_module, model_parameters_module, mujoco_examples_module])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_a_cse_run_on_a_mujoco_task_records_the_cost_of_its_differences(tmp_path):
    """Trained through ``--task module:callable`` with CSE, the run's fd_cost.json counts 2 simulator steps per env
    step (one parameter), over every env step of the run, with the task's absolute step h = 1e-5 |c0|."""
    import json

    from cebe_deep.run.config import make_config
    from cebe_deep.run.training import train

    source = "cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass"
    config = make_config(source, "cse", "authors", settings_of="CheetahVelocity", total_steps=160, n_envs=2,
                         learning_starts=40, buffer_size=1_000, batch_size=16, net_arch=(16,), eps=0.625)
    train(config, tmp_path / "run", progress=False)
    cost = json.loads((tmp_path / "run" / "fd_cost.json").read_text())
    torso = mujoco_task("HalfCheetah-v5", {"m": ("body_mass", "torso")}).unwrapped.default_context[0]
    assert cost["env_steps"] == 160 and cost["evaluations"] == 320 and cost["evaluations_per_step"] == 2.0
    assert cost["step_size"] == pytest.approx([1e-5 * torso], rel=1e-12)
    assert cost["seconds"] > 0 and len(cost["seconds_per_step_by_env"]) == 2
    from cebe_deep.run.provenance import stage_run

    # The cost travels with a staged run (stage_run wants an evaluated run: stand-in evaluation files, not checked here).
    (tmp_path / "run" / "evaluation.json").write_text("{}")
    (tmp_path / "run" / "evaluation.csv").write_text("method\ncse\n")
    staged = stage_run(tmp_path / "run", tmp_path / "staged")
    assert json.loads((staged / "fd_cost.json").read_text()) == cost
    baseline = make_config(source, "baseline", "authors", settings_of="CheetahVelocity", total_steps=160, n_envs=2,
                           learning_starts=40, buffer_size=1_000, batch_size=16, net_arch=(16,), eps=0.625)
    train(baseline, tmp_path / "baseline", progress=False)
    assert not (tmp_path / "baseline" / "fd_cost.json").exists()


@pytest.mark.parametrize("env_id", sorted(CASES))
def test_jacobians_match_finite_differences_of_re_simulated_steps(env_id):
    parameters, setters = CASES[env_id]
    rng = np.random.default_rng(4)
    env = mujoco_task(env_id, parameters)
    task = env.unwrapped
    task.set_context(task.default_context * rng.uniform(0.8, 1.2, size=task.context_dim))
    reference = make_quietly(env_id)
    state = np.empty(mujoco.mj_stateSize(task.model, mujoco.mjtState.mjSTATE_INTEGRATION))
    env.reset(seed=4)
    env.action_space.seed(4)
    checked, acting = 0, np.zeros(task.context_dim, dtype=bool)
    for step in range(40):
        action = env.action_space.sample()
        if step % 8 != 7:
            env.step(action)
            continue
        mujoco.mj_getState(task.model, task.data, state, mujoco.mjtState.mjSTATE_INTEGRATION)
        context = task.context
        steps = 10 * task.step_sizes  # the reference's own step, a decade above the implementation's
        columns, rewards = [], []
        for i in range(task.context_dim):
            plus, minus = context.copy(), context.copy()
            plus[i] += steps[i]
            minus[i] -= steps[i]
            (obs_plus, reward_plus), (obs_minus, reward_minus) = (
                reference_step(reference, state, setters, c, action) for c in (plus, minus))
            columns.append((obs_plus - obs_minus) / (2 * steps[i]))
            rewards.append((reward_plus - reward_minus) / (2 * steps[i]))
        at_context = reference_step(reference, state, setters, context, action)
        observation, reward, *_, info = env.step(action)
        # the restored reference at c is the real step, bit for bit: the differences above are of the real step
        np.testing.assert_array_equal(at_context[0], observation[: task.state_dim])
        assert at_context[1] == reward
        assert relative_error(info["dobs_dcontext"], np.column_stack(columns)) <= FINITE_DIFFERENCE_TOLERANCE
        # dreward_dnextobs = 0, so dreward_dcontext is the total derivative
        np.testing.assert_array_equal(info["dreward_dnextobs"], 0.0)
        assert relative_error(info["dreward_dcontext"], rewards) <= FINITE_DIFFERENCE_TOLERANCE
        acting |= np.any(info["dobs_dcontext"] != 0, axis=0)
        checked += 1
    assert checked == 5 and acting.all()  # every parameter acted on the dynamics at some checked step


@pytest.mark.parametrize("env_id", sorted(CASES))
def test_first_order_cse_is_within_dc_squared_of_the_exact_step(env_id):
    """s' + d_cT dc and r + (dr/dc) dc against the environment's step at c + dc: error O(|dc|^2), slope 2."""
    parameters, _ = CASES[env_id]
    env, twin = mujoco_task(env_id, parameters), mujoco_task(env_id, parameters, jacobians=False)
    task = env.unwrapped
    rng = np.random.default_rng(1)
    env.reset(seed=1)
    env.action_space.seed(1)
    for _ in range(20):
        env.step(env.action_space.sample())
    sizes = np.geomspace(3e-2, 1e-3, 6)  # |dc| relative to |c0|
    state_errors, reward_errors = np.zeros(sizes.size), np.zeros(sizes.size)
    for _ in range(3):
        action = env.action_space.sample()
        direction = rng.normal(size=task.context_dim)
        direction /= np.linalg.norm(direction)
        shifts = [size * direction * np.abs(task.default_context) for size in sizes]
        exact = [step_twin(twin, env, action, task.context + dc) for dc in shifts]
        observation, reward, *_, info = env.step(action)
        for k, (dc, (exact_state, exact_reward)) in enumerate(zip(shifts, exact)):
            predicted = observation[: task.state_dim] + info["dobs_dcontext"] @ dc
            state_errors[k] = max(state_errors[k], np.max(np.abs(predicted - exact_state)))
            reward_errors[k] = max(reward_errors[k], abs(reward + info["dreward_dcontext"] @ dc - exact_reward))
    for errors in (state_errors, reward_errors):
        assert 1.9 <= float(np.polyfit(np.log(sizes), np.log(errors), 1)[0]) <= 2.1


def test_at_c0_it_is_the_stock_environment_and_jacobians_leave_the_trajectory_unchanged():
    parameters, _ = CASES["Hopper-v5"]
    stock = gymnasium.make("Hopper-v5")
    rollouts = []
    for env in (stock, mujoco_task("Hopper-v5", parameters), mujoco_task("Hopper-v5", parameters, jacobians=False)):
        observation, _ = env.reset(seed=3)
        env.action_space.seed(3)
        trajectory = [observation[:11]]
        for _ in range(30):
            observation, reward, terminated, _, info = env.step(env.action_space.sample())
            trajectory.append(np.append(observation[:11], [reward, terminated]))
        rollouts.append(np.concatenate(trajectory))
    np.testing.assert_array_equal(rollouts[1], rollouts[0])
    np.testing.assert_array_equal(rollouts[2], rollouts[0])


def test_context_defaults_box_interface_and_cost():
    env = mujoco_task("Hopper-v5", CASES["Hopper-v5"][0])
    task = env.unwrapped
    model = make_quietly("Hopper-v5").model
    np.testing.assert_array_equal(task.default_context, [model.body("torso").mass[0], model.geom("foot_geom").friction[0]])
    np.testing.assert_allclose(task.context_low, 0.5 * task.default_context)
    np.testing.assert_allclose(task.context_high, 1.5 * task.default_context)
    np.testing.assert_allclose(task.step_sizes, 1e-5 * task.default_context)
    assert env.spec is None and env._max_episode_steps == 1000  # Hopper-v5's own time limit
    task.set_context([5.0, 1.5])
    assert model.body("torso").mass[0] != 5.0 and task.model.body("torso").mass[0] == 5.0
    assert task.model.geom("foot_geom").friction[0] == 1.5
    observation, info = env.reset(seed=0)
    assert observation.shape == (13,) and observation.dtype == np.float64 and env.observation_space.contains(observation)
    np.testing.assert_array_equal(observation[11:], [5.0, 1.5])
    for _ in range(3):
        *_, info = env.step(env.action_space.sample())
    assert set(JACOBIAN_KEYS) <= set(info) and info["finite_difference_evaluations"] == 4
    cost = task.jacobian_cost()
    assert cost["steps"] == 3 and cost["evaluations"] == 12 and cost["seconds_per_step"] > 0
    explicit = mujoco_task("HalfCheetah-v5", {"wind_x": ("opt.wind", 0)}, context_low=[-2.0], context_high=[2.0],
                           step_size=1e-4).unwrapped
    assert explicit.default_context.tolist() == [0.0] and explicit.step_sizes.tolist() == [2e-4]  # 1e-4 * half-width


def test_a_parameter_no_contact_uses_gets_a_warning():
    # Hopper's floor friction (1.0) loses to the foot's (2.0) in MuJoCo's max rule: only the foot touches the floor
    env = mujoco_task("Hopper-v5", {"floor_friction": ("geom_friction", "floor", 0)})
    env.reset(seed=0)
    with pytest.warns(UserWarning, match=r"Hopper-v5: the context Jacobians of floor_friction \(coordinate 0\) were zero"):
        for _ in range(10):
            env.step(np.zeros(3))


BAD_PARAMETERS = [
    ({"m": ("body_mass", "torsoo")}, r"context 'm' of HalfCheetah-v5: no body named 'torsoo'; bodies: world, torso, bthigh"),
    ({"m": ("body_mas", "torso")}, r"'body_mas' is not a real-valued model field; body fields: .*body_mass"),
    ({"m": ("bodies_mass", "torso")}, r"unknown field 'bodies_mass'; fields start with body_, geom_"),
    ({"f": ("geom_friction", "floor")},
     r"geom_friction takes 1 index\(es\) here \(entry of geom_friction, which has 3 per geom 0..2\), got \[\]"),
    ({"f": ("geom_friction", "floor", 3)}, r"geom_friction index 3 is not in 0..2"),
    ({"f": ("geom_friction", "flor", 0)}, r"no geom named 'flor'; geoms: floor, torso, head"),
    ({"g": ("opt.gravity",)}, r"opt.gravity takes 1 index\(es\) here \(entry 0..2\)"),
    ({"g": ("opt.gravityz", 2)}, r"unknown option 'opt.gravityz'; real-valued options: .*opt.gravity"),
    ({"d": ("dof_damping", "bthig")}, r"no joint named 'bthig'; joints: rootx, rootz, rooty, bthigh"),
    ({"m": ("body_mass",)}, r"body_mass needs a body name after the field; bodies: world, torso"),
    ({"m": 3}, r"give \(field, object name, index...\) such as \('body_mass', 'torso'\), got 3"),
    ({"a": ("body_mass", "torso"), "b": ("body_mass", "torso")},
     r"contexts 'a' and 'b' name the same parameter body_mass\['torso'\]"),
]


@pytest.mark.parametrize("parameters, message", BAD_PARAMETERS)
def test_a_bad_parameter_is_a_one_line_error_listing_the_valid_ones(parameters, message):
    with pytest.raises(ModelParameterError, match=message) as raised:
        mujoco_task("HalfCheetah-v5", parameters)
    assert "\n" not in str(raised.value) and isinstance(raised.value, InputError)


@pytest.mark.parametrize("arguments, message", [
    (("CartPole-v1", {"m": ("body_mass", "torso")}), r"'CartPole-v1' is not a MuJoCo environment"),
    (("NoSuchEnv-v0", {"m": ("body_mass", "torso")}), r"'NoSuchEnv-v0' cannot be made: Environment `NoSuchEnv` doesn't exist"),
    (("HalfCheetah-v5", {"wind_x": ("opt.wind", 0)}), r"wind_x has c0 = 0, so the default box .* is empty; pass context_low"),
    (("HalfCheetah-v5", {}), r"parameters must be a non-empty dict"),
])
def test_bad_environments_and_boxes_are_one_line_errors(arguments, message):
    with pytest.raises(InputError, match=message) as raised:
        mujoco_task(*arguments)
    assert "\n" not in str(raised.value)


def test_bad_context_c0_and_step_size_are_one_line_errors():
    parameters = {"torso_mass": ("body_mass", "torso")}
    with pytest.raises(InputError, match=r"c0\[0\] \(torso_mass\) = 20.0 is outside the box \[3.0, 12.0\]"):
        mujoco_task("HalfCheetah-v5", parameters, c0=[20.0], context_low=[3.0], context_high=[12.0])
    assert mujoco_task("HalfCheetah-v5", parameters, c0=[8.0]).unwrapped.context_high.tolist() == [12.0]  # +-50% of c0
    with pytest.raises(InputError, match=r"step_size \(relative finite-difference step\) must be in \(0, 1\), got 0"):
        mujoco_task("HalfCheetah-v5", parameters, step_size=0)
    task = mujoco_task("HalfCheetah-v5", parameters).unwrapped
    with pytest.raises(InputError, match=r"context\[0\] \(torso_mass\) = 10.0 is outside the allowed range \[3.125"):
        task.set_context([10.0])
