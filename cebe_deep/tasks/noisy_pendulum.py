"""NoisyPendulumGoal: PendulumGoal with Gaussian noise on the angular speed (open question 1: stochastic transitions).

The paper's CSE assumes deterministic dynamics.  This task makes the authors' PendulumGoal stochastic in the
simplest way that keeps the two candidate fixes comparable:

    theta'     = theta + dt theta_dot                                   (explicit Euler, as the authors)
    theta_dot' = theta_dot + dt (3 g / (2 l) sin(theta) + 3 u / (m l^2)) + xi,      xi ~ N(0, sigma_n^2)

and the authors' reward on the post-step state (see :class:`~cebe_deep.tasks.pendulum_goal.PendulumGoal`).

**Reparameterized (transport-map) Jacobians.**  Write the step as ``s' = f(c; s, a) + xi e_3`` with the noise
``xi`` drawn independently of the context.  Holding ``xi`` fixed, ``d s'/dc = d f/dc``: the additive noise drops
out, so ``dobs_dcontext`` and ``dreward_dcontext`` (which acts through the goal angle only) equal the noiseless
task's partials at the same ``(s, a, c)``.  ``dreward_dnextobs`` is the same formula, evaluated at the noisy
``s'`` (``dR/dtheta_dot' = -0.2 theta_dot'``).  First-order CSE with these partials moves the sample
``(s, a, xi)`` along the transport map ``c -> f(c; s, a) + xi``: it is exact to first order for additive noise
(the moved ``s'`` has exactly the law of ``s'`` at ``c + dc`` up to ``O(dc^2)``).  They are derived by sympy from
the step written with ``xi`` as an explicit argument, so nothing here is hand-differentiated.

**Transition density.**  Only ``theta_dot'`` is random; ``(cos theta', sin theta')`` is a deterministic,
context-free function of ``(s, a)``.  :meth:`NoisyPendulumGoal.transition_log_density` returns the Gaussian
log-density of ``theta_dot'``; the deterministic part is the same point mass at every context, so it cancels
in the importance ratio ``p_{c+dc}(s' | s, a) / p_c(s' | s, a)`` that
:class:`cebe_deep.learn.importance.ImportanceWeightedCSEBuffer` uses.

Only the authors' dynamics are offered: there, ``theta'`` does not depend on the noise or the context, so keeping
``s'`` fixed and reweighting is well defined (Gymnasium's semi-implicit step would move ``theta'`` with the
noisy speed, and the point-mass part would no longer cancel).

>>> env = NoisyPendulumGoal(noise=0.0)
>>> _ = env.reset(seed=0, options={"theta": 0.3, "theta_dot": 0.1})
>>> quiet = PendulumGoal()
>>> _ = quiet.reset(seed=0, options={"theta": 0.3, "theta_dot": 0.1})
>>> bool(np.allclose(env.step([0.5])[0], quiet.step([0.5])[0]))
True
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy

from cebe_deep.tasks.pendulum_goal import MAX_TORQUE, TIME_STEP, PendulumGoal, wrap_angle
from cebe_deep.tasks.symbolic_transition import SymbolicTransition

__all__ = ["NoisyPendulumGoal", "noisy_pendulum_goal_transition"]


@functools.lru_cache(maxsize=1)
def noisy_pendulum_goal_transition() -> SymbolicTransition:
    """The authors' PendulumGoal step with an explicit speed noise ``xi`` as the fourth argument, compiled.

    Same expressions as :func:`cebe_deep.tasks.pendulum_goal.pendulum_goal_transition` (``"authors"``) plus
    ``+ xi`` on the next speed; arguments ``(theta, theta_dot, u, xi)``.
    """
    g, m, l, tau = sympy.symbols("g m l tau", real=True)
    theta, theta_dot, u, xi = sympy.symbols("theta theta_dot u xi", real=True)
    acceleration = 3 * g / (2 * l) * sympy.sin(theta) + 3 * u / (m * l**2)
    goal = sympy.asin(-tau / (m * g * l))
    next_theta = theta + TIME_STEP * theta_dot
    speed = theta_dot + TIME_STEP * acceleration + xi
    next_cos, next_sin, next_speed = sympy.symbols("next_cos next_sin next_theta_dot", real=True)
    next_angle = sympy.atan2(next_sin, next_cos)
    reward = -(sympy.pi**2 * sympy.sin((next_angle - goal) / 2) ** 2 + next_speed**2 / 10 + u**2 / 1000)
    return SymbolicTransition(
        context_symbols=(g, m, l, tau),
        argument_symbols=(theta, theta_dot, u, xi),
        next_state_expressions=(sympy.cos(next_theta), sympy.sin(next_theta), speed),
        reward_expression=reward,
        next_state_symbols=(next_cos, next_sin, next_speed),
        extra_expressions=(next_theta,),
    )


class NoisyPendulumGoal(PendulumGoal):
    r"""The authors' PendulumGoal with Gaussian noise on the next angular speed (module docstring).

    ## Dynamics
    ``u = clip(a, -2, 2)``, ``dt = 0.05``, the authors' explicit Euler step of :class:`PendulumGoal` plus noise:
    ``theta' = theta + dt theta_dot``, ``theta_dot' = theta_dot + dt (3 g / (2 l) sin(theta) + 3 u / (m l^2)) + xi``,
    ``xi ~ N(0, noise^2)`` drawn from the environment's ``np_random`` (seeded by ``reset(seed=...)``); no speed
    clip. The last draw is :attr:`last_noise`, so a twin or a finite-difference wrapper can replay the step with
    the same noise (``simulate(..., noise=env.last_noise)``). ``noise = 0`` is PendulumGoal's trajectory.

    ## Reward
    As the authors' PendulumGoal, on the state after the step (so it sees the noisy speed):
    ``r = -(pi^2 sin^2((theta' - goal) / 2) + 0.1 theta_dot'^2 + 0.001 u^2)``, ``goal = asin(-tau / (m g l))``.

    ## Context
    ``c = (g, m, l, tau)``, PendulumGoal's Box and constraint ``|tau| < m g l``; default ``c0 = (2, 1, 1, 0)``.
    The authors have no noisy task, so :attr:`authors_contexts` is empty and :attr:`authors_context_box` None;
    evaluate at PendulumGoal's ``authors_contexts`` with a listed grid.

    ## Context derivatives (reparameterized: the noise held fixed)
    sympy's partials of the step written with ``xi`` as an argument: ``dobs_dcontext`` and
    ``dreward_dcontext`` equal the noiseless task's at the same ``(s, a, c)`` (additive noise drops out);
    ``dreward_dnextobs`` is the same formula at the noisy ``s'``.

    ## Episode
    200 steps (``gymnasium.make("cebe/NoisyPendulumGoal-v0", noise=...)``), no termination.

    :param noise: the noise scale ``sigma_n >= 0``
    :param context, jacobians: as :class:`PendulumGoal`
    """

    authors_contexts: tuple[tuple[float, ...], ...] = ()
    authors_context_box = None

    def __init__(self, context=None, jacobians: bool = True, noise: float = 0.05, dynamics: str = "authors"):
        if dynamics != "authors":
            raise ValueError(f"NoisyPendulumGoal supports only dynamics='authors', got {dynamics!r}")
        noise = float(noise)
        if not (math.isfinite(noise) and noise >= 0):
            raise ValueError(f"NoisyPendulumGoal noise must be a finite number >= 0, got {noise!r}")
        self.noise = noise
        self.last_noise = 0.0
        super().__init__(context=context, jacobians=jacobians, dynamics="authors")

    def _build_transition(self) -> None:
        self._transition = noisy_pendulum_goal_transition()

    def step(self, action):
        torque = float(self._box_action(action, self.action_space)[0])
        self.last_noise = float(self.noise * self.np_random.standard_normal()) if self.noise > 0 else 0.0
        arguments = (self._context_floats, self._theta, self._theta_dot, torque, self.last_noise)
        info = {}
        if self.jacobians:
            next_state, reward, extras, dobs, dreward_dc, dreward_dnext = self._transition.step_values_and_jacobians(
                *arguments
            )
            info = {"dobs_dcontext": dobs, "dreward_dcontext": dreward_dc, "dreward_dnextobs": dreward_dnext}
        else:
            next_state, reward, extras = self._transition.step_values(*arguments)
        self._theta = wrap_angle(float(extras[0]))
        self._theta_dot = float(next_state[2])
        return self._observation(next_state), float(reward), False, False, info

    def simulate(self, state_obs, action, context, noise=0.0):
        """Batched step with a given noise ``xi`` (default 0: the mean step): ``state_obs (B, 3)``,
        ``action (B, 1)``, ``context (B, 4)``, ``noise`` scalar or ``(B,)`` -> ``(next_state_obs (B, 3), reward (B,))``."""
        state_obs = np.asarray(state_obs, dtype=np.float64)
        action = np.clip(np.asarray(action, dtype=np.float64), -MAX_TORQUE, MAX_TORQUE)
        context = np.asarray(context, dtype=np.float64)
        theta = np.arctan2(state_obs[..., 1], state_obs[..., 0])
        columns = [context[..., i] for i in range(self.context_dim)]
        noise = np.asarray(noise, dtype=np.float64)
        next_state, reward, _ = self._transition.evaluate(columns, theta, state_obs[..., 2], action[..., 0], noise)
        return np.moveaxis(next_state, 0, -1), reward

    def transition_log_density(self, next_obs, obs, action, context) -> np.ndarray:
        """``log p_c(theta_dot' | s, a)``: the Gaussian log-density of the next speed at ``context``.

        ``next_obs`` and ``obs`` are observations or their state parts (only the first 3 columns are read),
        ``action`` in the environment's units, all with a leading batch axis (or broadcastable); returns
        shape ``(B,)``.  The angle part of ``s'`` is a context-free point mass and is left out (it cancels
        in density ratios).  Needs ``noise > 0``.
        """
        if not self.noise > 0:
            raise ValueError("transition_log_density needs noise > 0 (a deterministic step has no density)")
        next_obs = np.asarray(next_obs, dtype=np.float64)
        mean_next, _ = self.simulate(np.asarray(obs, dtype=np.float64)[..., :3], action, context, noise=0.0)
        residual = next_obs[..., 2] - mean_next[..., 2]
        return -0.5 * (residual / self.noise) ** 2 - math.log(self.noise) - 0.5 * math.log(2 * math.pi)
