"""check_jacobians: the one-call check of a task's Jacobians against central differences of its own step.

It must pass on tasks whose Jacobians are right (closed form, autodiff, MuJoCo finite differences) and fail on a
task whose Jacobians are wrong in the way a hand derivation goes wrong (a forgotten d_s'R term)."""

from __future__ import annotations

import doctest

import gymnasium
import numpy as np
import pytest

from cebe_deep.tasks import PendulumGoal, SimpleDirection, mujoco_task
from cebe_deep.tasks import jacobian_check as jacobian_check_module
from cebe_deep.tasks.jacobian_check import check_jacobians
from cebe_deep.tasks.torch_examples import pendulum_goal_torch
from cebe_theory.errors import InputError


class ForgetsTheNextStateTerm(PendulumGoal):
    """PendulumGoal reporting d_s'R = 0 although its reward reads the next state: CSE's reward would miss
    d_s'R d_cT dc, a first-order error."""

    def step(self, action):
        observation, reward, terminated, truncated, info = super().step(action)
        info["dreward_dnextobs"] = np.zeros(3)
        return observation, reward, terminated, truncated, info


def test_doctests():
    assert doctest.testmod(jacobian_check_module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


@pytest.mark.parametrize("make", [lambda: PendulumGoal(context=[3.0, 1.2, 0.8, 0.4]), pendulum_goal_torch])
def test_right_jacobians_pass(make):
    result = check_jacobians(make(), steps=12, seed=1)
    assert result.passed() and result.steps == 12 and max(result.dobs_error, result.dreward_error) < 1e-6


def test_a_forgotten_next_state_term_fails():
    result = check_jacobians(ForgetsTheNextStateTerm(context=[3.0, 1.2, 0.8, 0.4]), steps=12, seed=1)
    assert result.dobs_error < 1e-6 and result.dreward_error > 1e-2 and not result.passed()


@pytest.mark.parametrize("env_id, parameters", [
    ("Hopper-v5", {"torso_mass": ("body_mass", "torso"), "gravity_z": ("opt.gravity", 2)}),
    ("Ant-v5", {"torso_mass": ("body_mass", "torso"), "ankle_friction": ("geom_friction", "left_ankle_geom", 0)}),
])
def test_a_mujoco_task_passes_with_its_own_twin(env_id, parameters):
    env = mujoco_task(env_id, parameters)
    result = check_jacobians(env, steps=20, seed=2)
    assert result.passed(1e-3), result
    np.testing.assert_allclose(result.step_sizes, 1e-4 * np.maximum(np.abs(env.unwrapped.context), 1.0))


@pytest.mark.parametrize("env, message", [
    (lambda: SimpleDirection(jacobians=False), r"SimpleDirection was built with jacobians=False"),
    (lambda: gymnasium.make("CartPole-v1"), r"check_jacobians needs a contextual task \(missing 'context'\), got CartPoleEnv"),
])
def test_bad_input_is_a_one_line_error(env, message):
    with pytest.raises(InputError, match=message):
        check_jacobians(env())
