"""A tiny contextual task written by hand on the task interface, for the tests of own tasks (no tests here).

:class:`PointMass`: a point of mass ``m`` on a line, pushed by a force ``a`` in [-1, 1] towards a target ``x*``;
context ``c = (m, x*)``. With ``dt = 0.1``

    v' = v + dt a / m,        x' = x + dt v',        r = -(x' - x*)^2 - 0.01 a^2

so ``d_c T`` has the mass column ``dv'/dm = -dt a / m^2``, ``dx'/dm = dt dv'/dm`` (the target moves nothing),
``d_c R = (0, 2 (x' - x*))`` at fixed ``s'`` and ``d_{s'} R = (-2 (x' - x*), 0)``. Its whole state is two Python
floats, so a deep copy is a twin (:class:`~cebe_deep.learn.inexact.FiniteDifferenceJacobians` without ``simulate``).

Entry points for ``--task``: ``tests.deep.point_mass_task:make_point_mass`` (takes ``context`` and ``jacobians``),
``tests.deep.point_mass_task:PointMass-v0`` (registered at import), ``...:make_without_keywords`` (takes none),
and the bad ones ``...:not_a_task`` (a Gymnasium environment without the interface), ``...:not_an_env`` and
``...:broken``. :class:`ForgetfulPointMass` has the bug the zero-Jacobian warning is for: its ``set_context``
does not write the mass into the dynamics.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from cebe_deep.tasks import ContextualEnv

DT = 0.1


class PointMass(ContextualEnv):
    """The point mass of the module docstring, its Jacobians in closed form."""

    state_dim = 2
    context_dim = 2
    context_names = ("mass", "target")
    context_low = np.array([0.5, -1.0])
    context_high = np.array([2.0, 1.0])
    default_context = np.array([1.0, 0.5])
    max_episode_steps = 20

    def __init__(self, context=None, jacobians: bool = True):
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.observation_space = self.build_observation_space(-np.inf, np.inf)
        self.mass = float(self.default_context[0])
        self.init_context(context, jacobians)
        self.position, self.velocity = 0.0, 0.0

    def apply_context(self, context):
        self.mass = float(context[0])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position, self.velocity = (float(v) for v in self.np_random.uniform(-0.5, 0.5, size=2))
        return self.observe([self.position, self.velocity]), self.reset_info()

    def step(self, action):
        force = float(self.clip_action(action, self.action_space)[0])
        mass, target = self.mass, float(self.context[1])
        self.velocity += DT * force / mass
        self.position += DT * self.velocity
        gap = self.position - target
        reward = -gap**2 - 0.01 * force**2
        info = {}
        if self.jacobians:
            dv_dm = -DT * force / mass**2
            info = {"dobs_dcontext": np.array([[DT * dv_dm, 0.0], [dv_dm, 0.0]]),
                    "dreward_dcontext": np.array([0.0, 2.0 * gap]),
                    "dreward_dnextobs": np.array([-2.0 * gap, 0.0])}
        return self.observe([self.position, self.velocity]), reward, False, False, info


class ForgetfulPointMass(PointMass):
    """The bug the zero-Jacobian warning catches: the context is validated and observed, but the mass the
    dynamics use stays at c0's."""

    def apply_context(self, context):
        pass


def make_point_mass(context=None, jacobians: bool = True) -> gymnasium.Env:
    """A point mass with its time limit (``--task tests.deep.point_mass_task:make_point_mass``)."""
    return gymnasium.wrappers.TimeLimit(PointMass(context, jacobians), PointMass.max_episode_steps)


def make_without_keywords() -> PointMass:
    """A bare point mass from a callable that takes no keywords (the caller sets the context; no TimeLimit)."""
    return PointMass()


def not_a_task() -> gymnasium.Env:
    return gymnasium.make("Pendulum-v1")


def not_an_env():
    return 42


def broken():
    raise RuntimeError("the simulator licence expired")


if "PointMass-v0" not in gymnasium.registry:
    gymnasium.register("PointMass-v0", entry_point=PointMass, max_episode_steps=PointMass.max_episode_steps)


class OddBoxPointMass(PointMass):
    """The point mass with box edges that rounding to 12 decimals moves outside the box (as ``mujoco_task``'s
    +-50% of a model's 6.25020920502092 kg torso does)."""

    context_low = np.array([0.312510460251046, -1.0])
    context_high = np.array([2.0000000000006, 1.0])


def make_odd_box_point_mass(context=None, jacobians: bool = True) -> gymnasium.Env:
    return gymnasium.wrappers.TimeLimit(OddBoxPointMass(context, jacobians), PointMass.max_episode_steps)
