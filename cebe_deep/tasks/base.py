"""The contextual-environment interface shared by every CSE task (arXiv 2507.07348, Section 5).

A contextual task is a Gymnasium environment ``M(c)`` indexed by a context vector ``c``. Every task here

* observes ``obs = concat(state_part, context)``: ``obs[:state_dim]`` is the state part the dynamics act
  on, ``obs[state_dim:]`` the current context, shape ``(state_dim + context_dim,)``, float64;
* has a context box ``[context_low, context_high]`` and a base context ``default_context`` (c0);
  ``set_context(c)`` validates shape and box and raises a one-line ``ValueError`` otherwise;
* records the authors' evaluation contexts for the task, ``authors_contexts`` (docs/authors_protocol.md, their
  ``get_env_config``; c0 first), and the authors' context box ``authors_context_box = (low, high)``, which
  lies inside ours (empty / None where the task has no counterpart in the authors' code);
* reports, when built with ``jacobians=True`` (the default), the first-order context information that
  context sample enhancement needs, in the ``info`` of every ``step``:

  ================== ========================== ===============================================
  key                shape                      meaning
  ================== ========================== ===============================================
  ``dobs_dcontext``   ``(state_dim, context_dim)`` d(next state part)/dc  = d_c T
  ``dreward_dcontext`` ``(context_dim,)``         partial dR/dc at fixed (s, a, s')  = d_c R
  ``dreward_dnextobs`` ``(state_dim,)``           partial dR/d(next state part) at fixed c = d_s' R
  ================== ========================== ===============================================

  so that the CSE transition at ``c + dc`` is (arXiv 2507.07348, Section 5)
  ``r + dreward_dcontext . dc + dreward_dnextobs . (dobs_dcontext @ dc)`` and
  ``s' + dobs_dcontext @ dc``. ``reset`` returns zeros of the same shapes under the same keys.
  All three are float64 numpy arrays. With ``jacobians=False`` the keys are absent and nothing extra is
  computed; the trajectory (observations, rewards, terminations) is bit-for-bit the same either way.

Tasks with an analytic model (closed form or sympy) also set ``supports_simulate = True`` and implement
``simulate(state_obs, action, context) -> (next_state_obs, reward)`` vectorized over a leading batch axis,
for an exact re-simulation of a stored transition at another context.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from cebe_theory.errors import InputError
from cebe_theory.symbolic import as_context_vector

__all__ = ["ContextualEnv", "JACOBIAN_KEYS"]

#: The ``info`` keys every task fills at every step (and with zeros at reset) when ``jacobians=True``.
JACOBIAN_KEYS = ("dobs_dcontext", "dreward_dcontext", "dreward_dnextobs")


class ContextualEnv(gymnasium.Env):
    """Abstract contextual task: observation = state part followed by context (see the module docstring).

    Subclasses set the class attributes ``state_dim``, ``context_dim``, ``context_names``,
    ``context_low``, ``context_high``, ``default_context``, ``max_episode_steps`` (the paper's time
    limit, applied by ``gymnasium.make``), ``authors_contexts`` and ``authors_context_box``, call
    :meth:`_init_context` in their constructor and build the
    observation space with :meth:`_observation_space`. This class defines neither ``step`` nor ``reset``,
    so it can be mixed in front of an existing Gymnasium environment (the MuJoCo tasks do that).
    """

    state_dim: int
    context_dim: int
    context_names: tuple[str, ...]
    #: Axis labels of the context coordinates, human-readable and with units (figures use them); empty where
    #: a task has none (figures then show ``context_names``).
    context_labels: tuple[str, ...] = ()
    context_low: np.ndarray
    context_high: np.ndarray
    default_context: np.ndarray
    max_episode_steps: int
    #: The authors' test contexts for this task (c0 first); empty where the authors have no such task.
    authors_contexts: tuple[tuple[float, ...], ...] = ()
    #: The authors' context box ``(low, high)`` (inside ours); None where the authors have no such task.
    authors_context_box: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    #: True where the task implements an exact, batched :meth:`simulate`.
    supports_simulate: bool = False

    # ----------------------------------------------------------------- context
    def _init_context(self, context, jacobians: bool) -> None:
        self.jacobians = bool(jacobians)
        self._context = self.default_context.copy()
        self.set_context(self.default_context if context is None else context)

    @property
    def context(self) -> np.ndarray:
        """The current context c (a float64 copy)."""
        return self._context.copy()

    def validate_context(self, context) -> np.ndarray:
        """Return ``context`` as a float64 vector, or raise a one-line :class:`~cebe_theory.errors.InputError` (a
        ValueError) naming value and range."""
        name = type(self).__name__
        vector = as_context_vector(context, self.context_dim, name=f"{name} context")
        for index, value in enumerate(vector):
            low, high = self.context_low[index], self.context_high[index]
            if not low <= value <= high:
                raise InputError(
                    f"{name} context[{index}] ({self.context_names[index]}) = {float(value)!r} is outside the "
                    f"allowed range [{float(low)}, {float(high)}]"
                )
        self._check_context_constraints(vector)
        return vector

    def _check_context_constraints(self, context: np.ndarray) -> None:
        """Hook for constraints beyond the box (raise a one-line ValueError)."""

    def set_context(self, context) -> None:
        """Validate and set the context; it takes effect from the next step (no reset needed)."""
        self._context = self.validate_context(context)
        self._apply_context(self._context)

    def _apply_context(self, context: np.ndarray) -> None:
        """Hook: push the context into a simulator (MuJoCo model parameters); no-op by default."""

    # -------------------------------------------------------------- helpers
    def _observation_space(self, state_low, state_high) -> spaces.Box:
        low = np.concatenate([np.broadcast_to(np.asarray(state_low, np.float64), (self.state_dim,)), self.context_low])
        high = np.concatenate([np.broadcast_to(np.asarray(state_high, np.float64), (self.state_dim,)), self.context_high])
        return spaces.Box(low=low, high=high, dtype=np.float64)

    def _observation(self, state_part) -> np.ndarray:
        return np.concatenate([np.asarray(state_part, dtype=np.float64), self._context])

    def _reset_info(self, info: dict | None = None) -> dict:
        info = dict(info or {})
        if self.jacobians:
            info["dobs_dcontext"] = np.zeros((self.state_dim, self.context_dim))
            info["dreward_dcontext"] = np.zeros(self.context_dim)
            info["dreward_dnextobs"] = np.zeros(self.state_dim)
        return info

    def _box_action(self, action, space: spaces.Box) -> np.ndarray:
        """Validate a continuous action's shape and finiteness and clip it to the action box."""
        return np.clip(self._validated_box_action(action, space), space.low, space.high)

    def _validated_box_action(self, action, space: spaces.Box) -> np.ndarray:
        """A continuous action as a float64 array of the space's shape; one-line ValueError otherwise."""
        try:
            vector = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(self).__name__} action must be a real vector of shape {space.shape}, got {action!r}"
            ) from None
        if vector.size != int(np.prod(space.shape)):
            raise ValueError(
                f"{type(self).__name__} action must have shape {space.shape}, got shape {vector.shape} ({action!r})"
            )
        vector = vector.reshape(space.shape)
        if not np.all(np.isfinite(vector)):
            raise ValueError(f"{type(self).__name__} action must be finite, got {vector.tolist()}")
        return vector

    def simulate(self, state_obs, action, context):
        """Exact batched re-simulation ``(next_state_obs, reward)``; only where ``supports_simulate``."""
        raise NotImplementedError(f"{type(self).__name__} has no analytic model (supports_simulate is False)")
