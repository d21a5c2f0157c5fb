"""PendulumGoal: swing the pendulum to the angle a constant goal torque would hold (arXiv 2507.07348, Section 5)."""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy
from gymnasium import spaces

from cebe_deep.tasks.base import ContextualEnv
from cebe_deep.tasks.symbolic_transition import SymbolicTask, SymbolicTransition

__all__ = ["PendulumGoal", "DYNAMICS", "pendulum_goal_transition"]

TIME_STEP = 0.05
MAX_SPEED = 8.0  # the "gymnasium" variant's speed clip
MAX_TORQUE = 2.0

#: The dynamics variants of :class:`PendulumGoal` (the first is the default).
DYNAMICS = ("authors", "gymnasium")


@functools.lru_cache(maxsize=len(DYNAMICS))
def pendulum_goal_transition(dynamics: str = "authors") -> SymbolicTransition:
    """The Euler step and reward of :class:`PendulumGoal` as sympy expressions, compiled (cached per variant)."""
    g, m, l, tau = sympy.symbols("g m l tau", real=True)
    theta, theta_dot, u = sympy.symbols("theta theta_dot u", real=True)
    acceleration = 3 * g / (2 * l) * sympy.sin(theta) + 3 * u / (m * l**2)
    goal = sympy.asin(-tau / (m * g * l))
    if dynamics == "authors":
        # explicit Euler, no clip; the reward is a function of the next observation (cos, sin, theta_dot)
        next_theta = theta + TIME_STEP * theta_dot
        speed = theta_dot + TIME_STEP * acceleration
        next_cos, next_sin, next_speed = sympy.symbols("next_cos next_sin next_theta_dot", real=True)
        next_angle = sympy.atan2(next_sin, next_cos)
        reward = -(sympy.pi**2 * sympy.sin((next_angle - goal) / 2) ** 2 + next_speed**2 / 10 + u**2 / 1000)
        next_state_symbols = (next_cos, next_sin, next_speed)
    elif dynamics == "gymnasium":
        speed_unclipped = theta_dot + acceleration * TIME_STEP
        # Gymnasium's speed clip; sympy differentiates each branch, so the clipped branches have derivative 0.
        speed = sympy.Piecewise(
            (MAX_SPEED, speed_unclipped > MAX_SPEED), (-MAX_SPEED, speed_unclipped < -MAX_SPEED), (speed_unclipped, True)
        )
        next_theta = theta + speed * TIME_STEP
        reward = -(sympy.pi**2 * sympy.sin((theta - goal) / 2) ** 2 + theta_dot**2 / 10 + u**2 / 1000)
        next_state_symbols = ()
    else:
        raise ValueError(f"PendulumGoal dynamics must be one of {', '.join(map(repr, DYNAMICS))}, got {dynamics!r}")
    return SymbolicTransition(
        context_symbols=(g, m, l, tau),
        argument_symbols=(theta, theta_dot, u),
        next_state_expressions=(sympy.cos(next_theta), sympy.sin(next_theta), speed),
        reward_expression=reward,
        next_state_symbols=next_state_symbols,
        extra_expressions=(next_theta,),
    )


def wrap_angle(angle: float) -> float:
    """``angle`` wrapped to ``[-pi, pi)``."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


class PendulumGoal(SymbolicTask, ContextualEnv):
    r"""A pendulum with gravity, mass, length and a goal torque as context (the authors' PendulumGoal).

    ## Dynamics
    ``u = clip(a, -2, 2)``, ``theta = 0`` upright, ``dt = 0.05``,
    ``acc = 3 g / (2 l) sin(theta) + 3 u / (m l^2)``. Two variants, chosen by ``dynamics=``:

    * ``"authors"`` (default; the authors' code): explicit Euler ``theta' = theta + dt theta_dot``,
      ``theta_dot' = theta_dot + dt acc``, **no speed clip**; the angle is kept wrapped to ``[-pi, pi)``.
    * ``"gymnasium"`` (Gymnasium's Pendulum-v1 order, this package's first PendulumGoal,
      on which ``results/quick/`` was trained):
      semi-implicit Euler ``theta_dot' = clip(theta_dot + dt acc, -8, 8)``, ``theta' = theta + dt theta_dot'``.

    Start: ``theta ~ U[-pi, pi]``, ``theta_dot ~ U[-1, 1]``, or the values given by
    ``reset(options={"theta": ..., "theta_dot": ...})`` (``theta_dot`` clipped to +-8 in ``"gymnasium"``).

    ## Reward
    ``goal = asin(-tau / (m g l))``.

    * ``"authors"``: on the state **after** the step,
      ``r = -(pi^2 sin^2((theta' - goal) / 2) + 0.1 theta_dot'^2 + 0.001 u^2)``.
    * ``"gymnasium"``: on the state **before** the step (as Pendulum-v1),
      ``r = -(pi^2 sin^2((theta - goal) / 2) + 0.1 theta_dot^2 + 0.001 u^2)``.

    ## Context
    ``c = (g, m, l, tau)``: gravity, mass, length, goal torque. Box ``g in [0.5, 20]``,
    ``m in [0.2, 5]``, ``l in [0.2, 5]``, ``tau in [-2, 2]``, and in addition ``|tau| < m g l``
    (so the goal angle exists). Default ``c0 = (2, 1, 1, 0)`` (the authors' c0). The authors' test contexts
    are :attr:`authors_contexts`. Differs from the authors: their box is ``g in [0.5, 5]``,
    ``m, l in [0.5, 2]``, ``tau in [-1, 1]`` (:attr:`authors_context_box`); ours is wider so that the
    context sweeps reach further (the box is only a validity range here).

    ## Observation
    ``(cos theta', sin theta', theta_dot', g, m, l, tau)``, shape ``(7,)``. ``theta_dot'`` is unbounded in
    ``"authors"`` (no clip; the space says ``+-inf``) and within ``[-8, 8]`` in ``"gymnasium"``.

    ## Context derivatives (sympy, from the equations above)
    ``dobs_dcontext`` is the derivative of ``(cos theta', sin theta', theta_dot')`` -- the observables,
    not the raw angle, so no angle wrapping enters. In ``"authors"`` ``theta'`` does not depend on ``c``
    (explicit Euler moves the angle with the old speed), so only the ``theta_dot'`` row is nonzero. In
    ``"gymnasium"``, where the speed clip is active the whole column block is zero; exactly at the clip
    boundary the derivative is one-sided (sympy takes the unclipped branch).

    ``dreward_dcontext`` acts through ``goal`` only. ``dreward_dnextobs``: in ``"gymnasium"`` it is 0 (the
    reward does not see the next state). In ``"authors"`` the reward is read as a function of the next
    observation ``(C, S, W) = (cos theta', sin theta', theta_dot')`` through ``theta' = atan2(S, C)``:
    ``dR/dC = -S dR/dtheta'``, ``dR/dS = C dR/dtheta'`` (on the circle ``C^2 + S^2 = 1``) with
    ``dR/dtheta' = -(pi^2 / 2) sin(theta' - goal)``, and ``dR/dW = -0.2 W``. The gradient is tangent to
    the circle, so ``dreward_dnextobs . (dobs_dcontext dc)`` is exactly ``dR/dtheta' dtheta' + dR/dW dW``,
    and ``r + dreward_dcontext . dc + dreward_dnextobs . (dobs_dcontext dc)`` is the first-order reward
    at ``c + dc`` (tested against the exact step). The authors' code instead divides ``dR/dtheta'`` by
    ``-sin theta'`` and ``cos theta'``, which counts the angle term twice; it never matters there because
    their ``dtheta'/dc = 0``.

    ## Episode
    200 steps (``gymnasium.make("cebe/PendulumGoal-v0")``), no termination.
    """

    state_dim = 3
    context_dim = 4
    context_names = ("gravity", "mass", "length", "goal_torque")
    context_labels = ("gravity $g$ (m/s$^2$)", "pendulum mass $m$ (kg)", "pendulum length $l$ (m)",
                      r"goal torque $\tau$ (N m)")
    context_low = np.array([0.5, 0.2, 0.2, -2.0])
    context_high = np.array([20.0, 5.0, 5.0, 2.0])
    default_context = np.array([2.0, 1.0, 1.0, 0.0])
    #: The authors' test contexts (their ``get_env_config``): c0, then +0.75 and -0.75 goal torque (the latter
    #: with mass 1.2).
    authors_contexts: tuple[tuple[float, ...], ...] = ((2.0, 1.0, 1.0, 0.0), (2.0, 1.0, 1.0, 0.75), (2.0, 1.2, 1.0, -0.75))
    #: The authors' context box ``(low, high)``.
    authors_context_box: tuple[tuple[float, ...], tuple[float, ...]] = ((0.5, 0.5, 0.5, -1.0), (5.0, 2.0, 2.0, 1.0))
    max_episode_steps = 200
    supports_simulate = True

    def __init__(self, context=None, jacobians: bool = True, dynamics: str = "authors"):
        if dynamics not in DYNAMICS:
            raise ValueError(f"PendulumGoal dynamics must be one of {', '.join(map(repr, DYNAMICS))}, got {dynamics!r}")
        self.dynamics = dynamics
        self.action_space = spaces.Box(-MAX_TORQUE, MAX_TORQUE, shape=(1,), dtype=np.float32)
        max_speed = np.inf if dynamics == "authors" else MAX_SPEED
        self.observation_space = self._observation_space([-1.0, -1.0, -max_speed], [1.0, 1.0, max_speed])
        self._build_transition()
        self._init_context(context, jacobians)
        self._theta, self._theta_dot = 0.0, 0.0

    def _build_transition(self) -> None:
        self._transition = pendulum_goal_transition(self.dynamics)

    def _check_context_constraints(self, context: np.ndarray) -> None:
        g, m, l, tau = context
        if not abs(tau) < m * g * l:
            raise ValueError(
                f"PendulumGoal goal_torque = {float(tau)!r} must satisfy |goal_torque| < mass * gravity * "
                f"length = {float(m * g * l)!r}"
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
            self._theta_dot = float(options.get("theta_dot", self._theta_dot))
            if self.dynamics == "gymnasium":
                self._theta_dot = float(np.clip(self._theta_dot, -MAX_SPEED, MAX_SPEED))
            else:
                self._theta = wrap_angle(self._theta)
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
            next_state, reward, extras = self._transition.step_values(
                self._context_floats, self._theta, self._theta_dot, torque
            )
        next_theta = float(extras[0])
        self._theta = wrap_angle(next_theta) if self.dynamics == "authors" else next_theta
        self._theta_dot = float(next_state[2])
        return self._observation(next_state), float(reward), False, False, info

    def simulate(self, state_obs, action, context):
        """Batched exact step from observations: ``state_obs (B, 3)``, ``action (B, 1)``, ``context (B, 4)``
        (or broadcastable) -> ``(next_state_obs (B, 3), reward (B,))``. The angle is recovered as
        ``atan2(sin, cos)``; everything is 2 pi-periodic in theta, so this is exact."""
        state_obs = np.asarray(state_obs, dtype=np.float64)
        action = np.clip(np.asarray(action, dtype=np.float64), -MAX_TORQUE, MAX_TORQUE)
        context = np.asarray(context, dtype=np.float64)
        theta = np.arctan2(state_obs[..., 1], state_obs[..., 0])
        columns = [context[..., i] for i in range(self.context_dim)]
        next_state, reward, _ = self._transition.evaluate(columns, theta, state_obs[..., 2], action[..., 0])
        return np.moveaxis(next_state, 0, -1), reward
