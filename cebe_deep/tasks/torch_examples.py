r"""Two of the paper's tasks written as torch step functions for :func:`~cebe_deep.tasks.differentiable_task`.

Worked examples of what a researcher writes for their own task: the dynamics and the reward as a few torch
lines, no derivative anywhere. They are the same tasks as :class:`~cebe_deep.tasks.SimpleDirection` (closed
form) and :class:`~cebe_deep.tasks.PendulumGoal` (sympy), and give the same Jacobians to 1e-10
(``tests/deep/test_tasks_differentiable.py``).

* SimpleDirection (arXiv 2507.07348, Section 5): ``s' = s + a + c``, ``r = s' . c``.
* PendulumGoal, the authors' dynamics: state ``(cos theta, sin theta, theta_dot)``, explicit Euler with
  ``dt = 0.05``, ``theta_dot' = theta_dot + dt (3 g / (2 l) sin theta + 3 u / (m l^2))``,
  ``theta' = theta + dt theta_dot``; reward on the state after the step,
  ``-(pi^2 sin^2((theta' - goal) / 2) + 0.1 theta_dot'^2 + 0.001 u^2)`` with ``goal = asin(-tau / (m g l))``,
  ``theta' = atan2(sin theta', cos theta')``; context ``(g, m, l, tau)``, c0 ``(2, 1, 1, 0)``.

Each reward is also written as a function of the next state (``*_reward``), which separates ``d_c R`` from
``d_{s'} R``; ``separate_reward=False`` builds the task from the step alone (total derivative, module
docstring of :mod:`cebe_deep.tasks.differentiable`).

>>> env = pendulum_goal_torch()
>>> obs, info = env.reset(seed=0)
>>> obs, reward, *_, info = env.step([1.0])
>>> info["dobs_dcontext"].shape, info["dreward_dnextobs"].shape
((3, 4), (3,))
"""

from __future__ import annotations

import math

import numpy as np
import torch

from cebe_deep.tasks.differentiable import differentiable_task

__all__ = ["simple_direction_step", "simple_direction_reward", "simple_direction_torch",
           "pendulum_goal_step", "pendulum_goal_reward", "pendulum_goal_reset", "pendulum_goal_torch"]


# --- SimpleDirection: s' = s + a + c, r = s' . c --------------------------------------------------------------
def simple_direction_step(state, action, context):
    next_state = state + action + context
    return next_state, torch.sum(next_state * context)


def simple_direction_reward(state, action, next_state, context):
    return torch.sum(next_state * context)


def simple_direction_torch(separate_reward: bool = True, dimension: int = 2, **options):
    """SimpleDirection in dimension ``dimension``: box ``[-2, 2]^d``, c0 = 0, start ``U[-1, 1]^d``, 10 steps."""
    return differentiable_task(
        simple_direction_step, lambda rng: rng.uniform(-1.0, 1.0, size=dimension),
        reward=simple_direction_reward if separate_reward else None, state_dim=dimension,
        action_low=-np.ones(dimension), action_high=np.ones(dimension), context_low=np.full(dimension, -2.0),
        context_high=np.full(dimension, 2.0), c0=np.zeros(dimension), horizon=10,
        context_names=tuple(f"direction_{i}" for i in range(dimension)), name="SimpleDirection (torch)", **options)


# --- PendulumGoal, the authors' dynamics --------------------------------------------------------------------
TIME_STEP = 0.05


def pendulum_goal_step(state, action, context):
    gravity, mass, length, _ = context
    theta, theta_dot, torque = torch.atan2(state[1], state[0]), state[2], action[0]
    acceleration = 3 * gravity / (2 * length) * torch.sin(theta) + 3 * torque / (mass * length**2)
    next_theta = theta + TIME_STEP * theta_dot
    next_state = torch.stack([torch.cos(next_theta), torch.sin(next_theta), theta_dot + TIME_STEP * acceleration])
    return next_state, pendulum_goal_reward(state, action, next_state, context)


def pendulum_goal_reward(state, action, next_state, context):
    gravity, mass, length, goal_torque = context
    goal = torch.asin(-goal_torque / (mass * gravity * length))
    angle = torch.atan2(next_state[1], next_state[0])
    return -(math.pi**2 * torch.sin((angle - goal) / 2) ** 2 + next_state[2] ** 2 / 10 + action[0] ** 2 / 1000)


def pendulum_goal_reset(rng):
    theta, theta_dot = rng.uniform(-np.pi, np.pi), rng.uniform(-1.0, 1.0)
    return np.array([np.cos(theta), np.sin(theta), theta_dot])


def pendulum_goal_torch(separate_reward: bool = True, **options):
    """PendulumGoal (authors' dynamics): torque in ``[-2, 2]``, PendulumGoal's context box and c0, 200 steps
    (PendulumGoal's extra constraint ``|tau| < m g l`` is not enforced here: stay inside it)."""
    return differentiable_task(
        pendulum_goal_step, pendulum_goal_reset, reward=pendulum_goal_reward if separate_reward else None,
        state_dim=3, action_low=[-2.0], action_high=[2.0], context_low=[0.5, 0.2, 0.2, -2.0],
        context_high=[20.0, 5.0, 5.0, 2.0], c0=[2.0, 1.0, 1.0, 0.0], horizon=200,
        context_names=("gravity", "mass", "length", "goal_torque"), name="PendulumGoal (torch)", **options)
