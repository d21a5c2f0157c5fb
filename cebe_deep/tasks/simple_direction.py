"""SimpleDirection: move in the direction of the context (PAPER.md section 5, first row of the task table)."""

from __future__ import annotations

import itertools

import numpy as np
from gymnasium import spaces

from cebe_deep.tasks.base import ContextualEnv

__all__ = ["SimpleDirection"]


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
    ``2^d`` corners of ``[-0.8, 0.8]^d``. Differs from the authors: their box is ``[-1, 1]^d``
    (:attr:`authors_context_box`); ours is wider (a validity range only: GDR over the authors' range
    should sample ``authors_context_box``). Same dynamics, reward, start and time limit as theirs (their
    step does not clip the action, but their policies' actions lie in the box).

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
    #: The authors' test contexts for d = 2 (an instance of another dimension holds its own, see the docstring).
    authors_contexts = ((0.0, 0.0), (0.8, 0.8), (-0.8, 0.8), (-0.8, -0.8), (0.8, -0.8))
    authors_context_box = ((-1.0, -1.0), (1.0, 1.0))

    def __init__(self, context=None, jacobians: bool = True, dimension: int = 2):
        if not isinstance(dimension, (int, np.integer)) or dimension < 1:
            raise ValueError(f"SimpleDirection dimension must be a positive integer, got {dimension!r}")
        self.dimension = int(dimension)
        self.state_dim = self.context_dim = self.dimension
        self.context_names = tuple(f"direction_{i}" for i in range(self.dimension))
        self.context_low = np.full(self.dimension, -self.context_bound)
        self.context_high = np.full(self.dimension, self.context_bound)
        self.default_context = np.zeros(self.dimension)
        if self.dimension != 2:
            corners = itertools.product((0.8, -0.8), repeat=self.dimension)
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
