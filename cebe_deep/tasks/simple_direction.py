"""SimpleDirection: move in the direction of the context (arXiv 2507.07348, Section 5, first row of the task table).

Also the closed-form optimal return (:func:`simple_direction_optimal_return`) and the test contexts of the
context-dimension question (:func:`dimension_test_contexts`), so that returns can be reported as a fraction
of the optimum in any dimension.
"""

from __future__ import annotations

import itertools

import numpy as np
from gymnasium import spaces

from cebe_deep.tasks.base import ContextualEnv

__all__ = ["SimpleDirection", "simple_direction_optimal_return", "dimension_test_contexts"]


def direction_labels(dimension: int) -> tuple[str, ...]:
    """Axis labels of the context coordinates, 1-based so that no coordinate reads as the training context c0."""
    return tuple(f"direction coordinate $c_{{{i + 1}}}$ (dimensionless)" for i in range(dimension))


class SimpleDirection(ContextualEnv):
    r"""SimpleDirection in dimension ``d``: the agent is rewarded for moving along the context vector.

    ## Dynamics
    ``s' = s + a + c`` with state ``s`` in R^d and action ``a`` in ``[-1, 1]^d`` (actions outside the
    box are clipped to it; a wrong shape or a non-finite action raises ValueError).
    Start state: ``s0 ~ Uniform[-1, 1]^d``.

    ## Reward
    ``r = s' . c`` (computed on the next state).

    ## Context
    ``c`` in R^d, the drift and the rewarded direction. Box ``[-2, 2]^d``; default ``c0 = 0`` (the
    authors' c0). The authors' test contexts (:attr:`authors_contexts`), for ``d = 2``: ``(0, 0)`` and the
    four corners ``(+-0.8, +-0.8)``, in their order; for other ``d`` (our generalization) the origin and all
    ``2^d`` corners of ``[-0.8, 0.8]^d`` (for ``d > 8``: the two corners ``+-(0.8, ..., 0.8)`` only).
    Differs from the authors: their box is ``[-1, 1]^d`` (:attr:`authors_context_box`); ours is wider (a
    validity range only: GDR over the authors' range should sample ``authors_context_box``). Same dynamics,
    reward, start and time limit as theirs (their step does not clip the action, but their policies'
    actions lie in the box).

    ## Observation
    ``(s', c)``, shape ``(2 d,)``: state part ``s'`` (unbounded), then the context.

    ## Context derivatives (closed form, exact)
    ``dobs_dcontext = I_d``, ``dreward_dcontext = s'`` (partial, at fixed ``s'``),
    ``dreward_dnextobs = c``. The total derivative is ``s' + c``; the reward is quadratic in ``c``,
    so first-order CSE is exact in the dynamics and off by ``|dc|^2`` in the reward.

    ## Episode
    10 steps (``gymnasium.make("cebe/SimpleDirection-v0")``), no termination; the paper uses gamma 0.9.
    """

    max_episode_steps = 10
    supports_simulate = True
    context_bound = 2.0
    #: For the default d = 2 (an instance of another dimension holds its own).
    context_labels = direction_labels(2)
    #: The authors' test contexts for d = 2 (an instance of another dimension holds its own, see the docstring).
    authors_contexts = ((0.0, 0.0), (0.8, 0.8), (-0.8, 0.8), (-0.8, -0.8), (0.8, -0.8))
    authors_context_box = ((-1.0, -1.0), (1.0, 1.0))

    def __init__(self, context=None, jacobians: bool = True, dimension: int = 2):
        if not isinstance(dimension, (int, np.integer)) or dimension < 1:
            raise ValueError(f"SimpleDirection dimension must be a positive integer, got {dimension!r}")
        self.dimension = int(dimension)
        self.state_dim = self.context_dim = self.dimension
        self.context_names = tuple(f"direction_{i}" for i in range(self.dimension))
        self.context_labels = direction_labels(self.dimension)
        self.context_low = np.full(self.dimension, -self.context_bound)
        self.context_high = np.full(self.dimension, self.context_bound)
        self.default_context = np.zeros(self.dimension)
        if self.dimension != 2:
            # all 2^d corners up to d = 8 (256); above, the two diagonal corners only (2^32 tuples would not fit)
            corners = (itertools.product((0.8, -0.8), repeat=self.dimension) if self.dimension <= 8
                       else ((0.8,) * self.dimension, (-0.8,) * self.dimension))
            self.authors_contexts = ((0.0,) * self.dimension, *corners)
            self.authors_context_box = ((-1.0,) * self.dimension, (1.0,) * self.dimension)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self.dimension,), dtype=np.float32)
        self.observation_space = self._observation_space(-np.inf, np.inf)
        self._init_context(context, jacobians)
        self._state = np.zeros(self.dimension)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._state = self.np_random.uniform(-1.0, 1.0, size=self.dimension)
        return self._observation(self._state), self._reset_info()

    def step(self, action):
        action = self._box_action(action, self.action_space)
        next_states, rewards = self.simulate(self._state, action, self._context)
        self._state = next_states
        info = {}
        if self.jacobians:
            info["dobs_dcontext"] = np.eye(self.dimension)
            info["dreward_dcontext"] = self._state.copy()
            info["dreward_dnextobs"] = self._context.copy()
        return self._observation(self._state), float(rewards), False, False, info

    def simulate(self, state_obs, action, context):
        """``s' = s + clip(a, -1, 1) + c``, ``r = s' . c``; broadcasts over a leading batch axis."""
        state_obs, action, context = (np.asarray(x, dtype=np.float64) for x in (state_obs, action, context))
        next_state = state_obs + np.clip(action, -1.0, 1.0) + context
        return next_state, np.sum(next_state * context, axis=-1)


def simple_direction_optimal_return(context, gamma: float = 1.0, steps: int = 10, start_state=None) -> float:
    r"""The optimal return of SimpleDirection at ``context`` (any dimension d), in closed form.

    Derivation.  With ``s_{t+1} = s_t + a_t + c`` and ``r_t = s_{t+1} . c``,
    ``s_{t+1} = s_0 + sum_{k <= t} a_k + (t + 1) c``, so the return of ``T = steps`` steps is

        G = sum_t gamma^t r_t = (s_0 . c) sum_t gamma^t  +  sum_k (a_k . c) sum_{t >= k} gamma^t
                               + |c|_2^2 sum_t (t + 1) gamma^t.

    G is linear in the actions with positive coefficients ``sum_{t >= k} gamma^t``, and over the box
    ``a in [-1, 1]^d`` the largest ``a . c`` is ``|c|_1``, at ``a = sign(c)`` (any value where ``c_i = 0``):
    the same open-loop action at every step, for every gamma > 0.  Since ``sum_k sum_{t >= k} gamma^t =
    sum_t (t + 1) gamma^t``,

        G* = (s_0 . c) sum_t gamma^t  +  (|c|_1 + |c|_2^2) sum_{t=0}^{T-1} (t + 1) gamma^t.

    With ``s_0 ~ U[-1, 1]^d`` (the task's start) the first term has mean 0.  Undiscounted (``gamma = 1``, what
    :func:`cebe_deep.run.evaluation.evaluate_policy_at_context` reports) and ``T = 10``: ``G* = 55 (|c|_1 + |c|_2^2)``
    in expectation.

    :param context: ``c``, shape ``(d,)``
    :param gamma: the discount (default 1: the undiscounted return evaluations report)
    :param steps: episode length (the task's 10)
    :param start_state: ``s_0``; None gives the expectation over the task's uniform start
    :returns: the optimal (expected) return

    >>> simple_direction_optimal_return([0.3, -0.4])        # 55 * (0.7 + 0.25)
    52.25
    """
    context = np.asarray(context, dtype=np.float64).reshape(-1)
    t = np.arange(int(steps))
    discounts = float(gamma) ** t
    value = (np.abs(context).sum() + context @ context) * float(np.sum((t + 1) * discounts))
    if start_state is not None:
        value += float(np.asarray(start_state, dtype=np.float64).reshape(-1) @ context) * float(discounts.sum())
    return float(value)


def dimension_test_contexts(dimension: int, radii=(0.2, 0.5, 0.8), directions: int = 16, seed: int = 2025) -> np.ndarray:
    """Test contexts of the context-dimension experiment: ``directions`` random unit directions in R^d, each at
    every radius, shape ``(len(radii) * directions, d)``, radius-major (all directions at ``radii[0]`` first).

    The directions are uniform on the sphere (normalized Gaussians) from ``numpy.random.default_rng(seed)`` and are
    the same at every radius (a paired design: a radius effect is not confounded with the directions drawn), and
    the same for every method evaluated.  All lie inside the authors' box ``[-1, 1]^d`` for radii <= 1.

    >>> contexts = dimension_test_contexts(8)
    >>> contexts.shape, np.round(np.linalg.norm(contexts, axis=1)[[0, 16, 32]], 12).tolist()
    ((48, 8), [0.2, 0.5, 0.8])
    """
    if not isinstance(dimension, (int, np.integer)) or dimension < 1:
        raise ValueError(f"dimension must be a positive integer, got {dimension!r}")
    rng = np.random.default_rng(seed)
    unit = rng.standard_normal((int(directions), int(dimension)))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    return np.concatenate([float(radius) * unit for radius in radii])
