"""CartGoal: balance the cart-pole while driving the cart to a goal position (arXiv 2507.07348, Section 5)."""

from __future__ import annotations

import functools

import numpy as np
import sympy
from gymnasium import spaces

from cebe_deep.tasks.base import ContextualEnv
from cebe_deep.tasks.symbolic_transition import SymbolicTask, SymbolicTransition

__all__ = ["CartGoal"]

TIME_STEP = 0.02
FORCE_MAGNITUDE = 10.0
X_THRESHOLD = 2.4
THETA_THRESHOLD = 12 * 2 * np.pi / 360


@functools.lru_cache(maxsize=1)
def cart_goal_transition() -> SymbolicTransition:
    """The Euler step and reward of :class:`CartGoal` as sympy expressions, compiled (cached)."""
    gravity, pole_mass, cart_mass, length, goal = sympy.symbols("gravity pole_mass cart_mass length goal", real=True)
    x, x_dot, theta, theta_dot, force = sympy.symbols("x x_dot theta theta_dot force", real=True)
    next_x = sympy.Symbol("next_x", real=True)
    total_mass = pole_mass + cart_mass
    pole_mass_length = pole_mass * length
    temp = (force + pole_mass_length * theta_dot**2 * sympy.sin(theta)) / total_mass
    theta_acceleration = (gravity * sympy.sin(theta) - sympy.cos(theta) * temp) / (
        length * (sympy.Rational(4, 3) - pole_mass * sympy.cos(theta) ** 2 / total_mass)
    )
    x_acceleration = temp - pole_mass_length * theta_acceleration * sympy.cos(theta) / total_mass
    next_state = (
        x + TIME_STEP * x_dot,
        x_dot + TIME_STEP * x_acceleration,
        theta + TIME_STEP * theta_dot,
        theta_dot + TIME_STEP * theta_acceleration,
    )
    reward = 1 + (1 - sympy.sqrt(1 + (next_x - goal) ** 2))
    other_next = sympy.symbols("next_x_dot next_theta next_theta_dot", real=True)
    return SymbolicTransition(
        context_symbols=(gravity, pole_mass, cart_mass, length, goal),
        argument_symbols=(x, x_dot, theta, theta_dot, force),
        next_state_expressions=next_state,
        reward_expression=reward,
        next_state_symbols=(next_x, *other_next),
    )


class CartGoal(SymbolicTask, ContextualEnv):
    r"""Gymnasium's CartPole-v1 with gravity, masses, pole length and a goal position as context.

    ## Dynamics (CartPole-v1, explicit Euler, ``dt = 0.02``)
    Action ``a in {0, 1}`` pushes with force ``F = -10`` or ``+10``. With ``M = m_pole + m_cart``,
    ``temp = (F + m_pole l theta_dot^2 sin theta) / M``,
    ``theta_acc = (g sin theta - cos theta temp) / (l (4/3 - m_pole cos^2 theta / M))``,
    ``x_acc = temp - m_pole l theta_acc cos theta / M``; then
    ``x' = x + dt x_dot``, ``x_dot' = x_dot + dt x_acc``, ``theta' = theta + dt theta_dot``,
    ``theta_dot' = theta_dot + dt theta_acc``. Start: each state coordinate ``~ U[-0.05, 0.05]``.
    Terminates when ``|x'| > 2.4`` or ``|theta'| > 12 degrees`` (``12 * 2 pi / 360`` rad, as CartPole-v1 and
    the authors' code, ``environments/ode_env.py``).

    ## Reward (on the next state)
    ``r = 1 + (1 - sqrt(1 + (x' - goal)^2))``: 1 for staying up, minus a smooth distance to the goal.
    It is given on the terminating step too; steps after termination are undefined (as in Gymnasium).

    ## Context
    ``c = (g, m_pole, m_cart, l, goal)``; ``l`` is CartPole's ``length``, *half* the pole's length.
    Box ``g in [1, 20]``, ``m_pole in [0.01, 2]``, ``m_cart in [0.1, 5]``, ``l in [0.1, 2]``,
    ``goal in [-4, 4]``. Default ``c0 = (10, 0.1, 1, 0.5, 0)`` (the authors' c0). The authors' test
    contexts (:attr:`authors_contexts`): the goal at ``0, -0.5, 0.5, -1, 1``, the rest at c0. Differs from
    the authors: their box is ``g in [1, 12]``, ``m_cart in [0.25, 2]`` and otherwise ours
    (:attr:`authors_context_box`); ours is wider in gravity and cart mass. Dynamics, reward, termination,
    start and time limit are theirs (their code writes the same CartPole equations in sympy).

    ## Observation
    ``(x', x_dot', theta', theta_dot', c)``, shape ``(9,)``, float64.

    ## Context derivatives (sympy, exact)
    ``dobs_dcontext``: derivative of the Euler step (the ``x'`` and ``theta'`` rows are zero: explicit
    Euler moves positions with the old velocities). ``dreward_dcontext`` is nonzero only in ``goal``;
    ``dreward_dnextobs = (-(x' - goal) / sqrt(1 + (x' - goal)^2), 0, 0, 0)``.

    ## Episode
    500 steps (``gymnasium.make("cebe/CartGoal-v0")``); discrete actions (the paper trains DQN).
    """

    transition_factory = staticmethod(cart_goal_transition)

    state_dim = 4
    context_dim = 5
    context_names = ("gravity", "pole_mass", "cart_mass", "length", "goal")
    context_labels = ("gravity $g$ (m/s$^2$)", "pole mass $m_{pole}$ (kg)", "cart mass $m_{cart}$ (kg)",
                      "half pole length $l$ (m)", "goal position $x_{goal}$ (m)")
    context_low = np.array([1.0, 0.01, 0.1, 0.1, -4.0])
    context_high = np.array([20.0, 2.0, 5.0, 2.0, 4.0])
    default_context = np.array([10.0, 0.1, 1.0, 0.5, 0.0])
    authors_contexts = tuple((10.0, 0.1, 1.0, 0.5, goal) for goal in (0.0, -0.5, 0.5, -1.0, 1.0))
    authors_context_box = ((1.0, 0.01, 0.25, 0.1, -4.0), (12.0, 2.0, 2.0, 2.0, 4.0))
    max_episode_steps = 500
    supports_simulate = True

    def __init__(self, context=None, jacobians: bool = True):
        self.action_space = spaces.Discrete(2)
        high = np.array([2 * X_THRESHOLD, np.inf, 2 * THETA_THRESHOLD, np.inf])
        self.observation_space = self._observation_space(-high, high)
        self._build_transition()
        self._init_context(context, jacobians)
        self._state = np.zeros(4)

    @staticmethod
    def _force(action) -> float:
        if isinstance(action, (bool, np.bool_)) or np.ndim(action) != 0 or action not in (0, 1):
            raise ValueError(f"CartGoal action must be 0 (push left) or 1 (push right), got {action!r}")
        return FORCE_MAGNITUDE if action == 1 else -FORCE_MAGNITUDE

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._state = self.np_random.uniform(-0.05, 0.05, size=4)
        return self._observation(self._state), self._reset_info()

    def step(self, action):
        force = self._force(action)
        arguments = (*(float(value) for value in self._state), force)
        info = {}
        if self.jacobians:
            next_state, reward, _, dobs, dreward_dc, dreward_dnext = self._transition.step_values_and_jacobians(
                self._context_floats, *arguments
            )
            info = {"dobs_dcontext": dobs, "dreward_dcontext": dreward_dc, "dreward_dnextobs": dreward_dnext}
        else:
            next_state, reward, _ = self._transition.step_values(self._context_floats, *arguments)
        self._state = next_state.copy()
        x, _, theta, _ = self._state
        terminated = bool(abs(x) > X_THRESHOLD or abs(theta) > THETA_THRESHOLD)
        return self._observation(self._state), float(reward), terminated, False, info

    def simulate(self, state_obs, action, context):
        """Batched exact step: ``state_obs (B, 4)``, ``action (B,)`` in {0, 1}, ``context (B, 5)`` (or
        broadcastable) -> ``(next_state_obs (B, 4), reward (B,))``."""
        state_obs = np.asarray(state_obs, dtype=np.float64)
        action = np.asarray(action)
        if not np.all((action == 0) | (action == 1)):
            raise ValueError(f"CartGoal actions must be 0 or 1, got values {np.unique(action).tolist()}")
        force = np.where(action == 1, FORCE_MAGNITUDE, -FORCE_MAGNITUDE)
        context = np.asarray(context, dtype=np.float64)
        columns = [context[..., i] for i in range(self.context_dim)]
        states = [state_obs[..., i] for i in range(self.state_dim)]
        next_state, reward, _ = self._transition.evaluate(columns, *states, force)
        return np.moveaxis(next_state, 0, -1), reward
