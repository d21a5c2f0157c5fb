"""PendulumGoal: swing the pendulum to the angle a constant goal torque would hold (PAPER.md section 5)."""

from __future__ import annotations

import functools

import numpy as np
import sympy
from gymnasium import spaces

from cebe_deep.tasks.base import ContextualEnv
from cebe_deep.tasks.symbolic_transition import SymbolicTask, SymbolicTransition

__all__ = ["PendulumGoal"]

TIME_STEP = 0.05
MAX_SPEED = 8.0
MAX_TORQUE = 2.0


@functools.lru_cache(maxsize=1)
def pendulum_goal_transition() -> SymbolicTransition:
    """The Euler step and reward of :class:`PendulumGoal` as sympy expressions, compiled (cached)."""
    g, m, l, tau = sympy.symbols("g m l tau", real=True)
    theta, theta_dot, u = sympy.symbols("theta theta_dot u", real=True)
    acceleration = 3 * g / (2 * l) * sympy.sin(theta) + 3 * u / (m * l**2)
    speed_unclipped = theta_dot + acceleration * TIME_STEP
    # Gymnasium's speed clip; sympy differentiates each branch, so the clipped branches have derivative 0.
    speed = sympy.Piecewise(
        (MAX_SPEED, speed_unclipped > MAX_SPEED), (-MAX_SPEED, speed_unclipped < -MAX_SPEED), (speed_unclipped, True)
    )
    next_theta = theta + speed * TIME_STEP
    goal = sympy.asin(-tau / (m * g * l))
    reward = -(sympy.pi**2 * sympy.sin((theta - goal) / 2) ** 2 + sympy.Rational(1, 10) * theta_dot**2 + u**2 / 1000)
    return SymbolicTransition(
        context_symbols=(g, m, l, tau),
        argument_symbols=(theta, theta_dot, u),
        next_state_expressions=(sympy.cos(next_theta), sympy.sin(next_theta), speed),
        reward_expression=reward,
        extra_expressions=(next_theta,),
    )


class PendulumGoal(SymbolicTask, ContextualEnv):
    r"""Gymnasium's Pendulum-v1 with gravity, mass, length and a goal torque as context.

    ## Dynamics (Pendulum-v1's update order and clipping)
    ``u = clip(a, -2, 2)``; ``theta_dot' = clip(theta_dot + (3 g / (2 l) sin(theta) + 3 u / (m l^2)) dt,
    -8, 8)``; ``theta' = theta + theta_dot' dt`` with ``dt = 0.05`` (semi-implicit Euler). ``theta = 0`` is
    upright. Start: ``theta ~ U[-pi, pi]``, ``theta_dot ~ U[-1, 1]``, or the values given by
    ``reset(options={"theta": ..., "theta_dot": ...})``.

    ## Reward (on the state before the step, as in Pendulum-v1)
    ``r = -(pi^2 sin^2((theta - goal) / 2) + 0.1 theta_dot^2 + 0.001 u^2)``,
    ``goal = asin(-tau / (m g l))``.

    ## Context
    ``c = (g, m, l, tau)``: gravity, mass, length, goal torque. Box ``g in [0.5, 20]``,
    ``m in [0.2, 5]``, ``l in [0.2, 5]``, ``tau in [-2, 2]``, and in addition ``|tau| < m g l``
    (so the goal angle exists). Default ``c0 = (2, 1, 1, 0)``.

    ## Observation
    ``(cos theta', sin theta', theta_dot', g, m, l, tau)``, shape ``(7,)``.

    ## Context derivatives (sympy, from the equations above)
    ``dobs_dcontext`` is the derivative of ``(cos theta', sin theta', theta_dot')`` -- the observables,
    not the raw angle, so no angle wrapping enters. Where the speed clip is active
    (``|theta_dot + ... dt| > 8``) ``theta_dot'`` does not depend on ``c`` and the whole column block is
    zero; exactly at the clip boundary the derivative is one-sided (sympy takes the unclipped branch).
    ``dreward_dcontext`` acts through ``goal`` only; the reward does not depend on the next state, so
    ``dreward_dnextobs = 0``.

    ## Episode
    200 steps (``gymnasium.make("cebe/PendulumGoal-v0")``), no termination.
    """

    transition_factory = staticmethod(pendulum_goal_transition)

    state_dim = 3
    context_dim = 4
    context_names = ("gravity", "mass", "length", "goal_torque")
    context_low = np.array([0.5, 0.2, 0.2, -2.0])
    context_high = np.array([20.0, 5.0, 5.0, 2.0])
    default_context = np.array([2.0, 1.0, 1.0, 0.0])
    max_episode_steps = 200
    supports_simulate = True

    def __init__(self, context=None, jacobians: bool = True):
        self.action_space = spaces.Box(-MAX_TORQUE, MAX_TORQUE, shape=(1,), dtype=np.float32)
        self.observation_space = self._observation_space([-1.0, -1.0, -MAX_SPEED], [1.0, 1.0, MAX_SPEED])
        self._build_transition()
        self._init_context(context, jacobians)
        self._theta, self._theta_dot = 0.0, 0.0

    def _check_context_constraints(self, context: np.ndarray) -> None:
        g, m, l, tau = context
        if not abs(tau) < m * g * l:
            raise ValueError(
                f"PendulumGoal goal_torque = {float(tau)!r} must satisfy |goal_torque| < mass * gravity * length = {float(m * g * l)!r}"
            )

    def _state_part(self) -> np.ndarray:
        return np.array([np.cos(self._theta), np.sin(self._theta), self._theta_dot])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._theta = float(self.np_random.uniform(-np.pi, np.pi))
        self._theta_dot = float(self.np_random.uniform(-1.0, 1.0))
        if options is not None:
            unknown = set(options) - {"theta", "theta_dot"}
            if unknown:
                raise ValueError(f"PendulumGoal reset options may set 'theta' and 'theta_dot', got {sorted(unknown)}")
            self._theta = float(options.get("theta", self._theta))
            self._theta_dot = float(np.clip(options.get("theta_dot", self._theta_dot), -MAX_SPEED, MAX_SPEED))
        return self._observation(self._state_part()), self._reset_info()

    def step(self, action):
        torque = float(self._box_action(action, self.action_space)[0])
        info = {}
        if self.jacobians:
            next_state, reward, extras, dobs, dreward_dc, dreward_dnext = self._transition.step_values_and_jacobians(
                self._context_floats, self._theta, self._theta_dot, torque
            )
            info = {"dobs_dcontext": dobs, "dreward_dcontext": dreward_dc, "dreward_dnextobs": dreward_dnext}
        else:
            next_state, reward, extras = self._transition.step_values(self._context_floats, self._theta, self._theta_dot, torque)
        self._theta, self._theta_dot = float(extras[0]), float(next_state[2])
        return self._observation(next_state), float(reward), False, False, info

    def simulate(self, state_obs, action, context):
        """Batched exact step from observations: ``state_obs (B, 3)``, ``action (B, 1)``, ``context (B, 4)``
        (or broadcastable) -> ``(next_state_obs (B, 3), reward (B,))``. The angle is recovered as
        ``atan2(sin, cos)``; the reward is 2 pi-periodic in theta, so this is exact."""
        state_obs = np.asarray(state_obs, dtype=np.float64)
        action = np.clip(np.asarray(action, dtype=np.float64), -MAX_TORQUE, MAX_TORQUE)
        context = np.asarray(context, dtype=np.float64)
        theta = np.arctan2(state_obs[..., 1], state_obs[..., 0])
        columns = [context[..., i] for i in range(self.context_dim)]
        next_state, reward, _ = self._transition.evaluate(columns, theta, state_obs[..., 2], action[..., 0])
        return np.moveaxis(next_state, 0, -1), reward
