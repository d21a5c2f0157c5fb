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

    **Writing your own.** A subclass sets the class (or instance) attributes ``state_dim``, ``context_dim``,
    ``context_names``, ``context_low``, ``context_high``, ``default_context`` (c0) and ``max_episode_steps``
    (optional: ``context_labels``, ``authors_contexts``, ``authors_context_box``), and in its constructor

    * sets ``action_space`` and ``observation_space = self.build_observation_space(state_low, state_high)``
      (the state part's bounds, then the context box);
    * calls ``self.init_context(context, jacobians)`` last: it sets ``self.jacobians`` (whether ``step`` must
      report the Jacobians, the three ``info`` keys of the module docstring) and the starting context (None: c0)
      through :meth:`set_context`, which validates it and calls the hook :meth:`apply_context` -- override that
      to push the context into your simulator (a model parameter that is never written there makes every
      Jacobian zero and CSE a silent relabelling; a run warns when the Jacobians stay zero).

    It defines ``reset`` (return ``self.observe(state), self.reset_info()``) and ``step`` (return
    ``self.observe(next_state)`` and, when ``self.jacobians``, the Jacobians in ``info``). The current
    context is ``self.context`` (a copy); ``self.clip_action(action, self.action_space)`` validates and clips a
    continuous action. :meth:`check_context_constraints` is the hook for constraints beyond the box. This class
    defines neither ``step`` nor ``reset``, so it can be mixed in front of an existing Gymnasium environment
    (the MuJoCo tasks do that). The names of earlier versions, ``_init_context``, ``_observation_space``,
    ``_observation``, ``_reset_info``, ``_box_action`` and the hooks ``_apply_context`` and
    ``_check_context_constraints``, still work.

    A worked example, a cart of mass ``m`` pushed towards a goal ``g`` (context ``(m, g)``), with its Jacobians
    by hand (``v' = v + 0.1 a / m``, ``x' = x + 0.1 v'``, ``r = -(x' - g)^2``):

    >>> import numpy as np
    >>> from gymnasium import spaces
    >>> class Cart(ContextualEnv):
    ...     state_dim, context_dim, context_names = 2, 2, ("mass", "goal")
    ...     context_low, context_high = np.array([0.5, -1.0]), np.array([2.0, 1.0])
    ...     default_context, max_episode_steps = np.array([1.0, 0.0]), 50
    ...
    ...     def __init__(self, context=None, jacobians=True):
    ...         self.action_space = spaces.Box(-1.0, 1.0, shape=(1,))
    ...         self.observation_space = self.build_observation_space(-np.inf, np.inf)
    ...         self.init_context(context, jacobians)
    ...
    ...     def reset(self, *, seed=None, options=None):
    ...         super().reset(seed=seed)
    ...         self.state = self.np_random.uniform(-1, 1, size=2)
    ...         return self.observe(self.state), self.reset_info()
    ...
    ...     def step(self, action):
    ...         force = self.clip_action(action, self.action_space)[0]
    ...         (x, v), (mass, goal) = self.state, self.context
    ...         v = v + 0.1 * force / mass
    ...         self.state = np.array([x + 0.1 * v, v])
    ...         reward = -(self.state[0] - goal) ** 2
    ...         info = {}
    ...         if self.jacobians:
    ...             dv_dmass = -0.1 * force / mass**2             # d_c T: only the mass moves the cart
    ...             info = {"dobs_dcontext": np.array([[0.1 * dv_dmass, 0.0], [dv_dmass, 0.0]]),
    ...                     "dreward_dcontext": np.array([0.0, 2 * (self.state[0] - goal)]),   # at fixed s'
    ...                     "dreward_dnextobs": np.array([-2 * (self.state[0] - goal), 0.0])}  # at fixed c
    ...         return self.observe(self.state), float(reward), False, False, info
    >>> env = Cart(context=[1.5, 0.5])
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.context.tolist(), env.jacobians
    ((4,), [1.5, 0.5], True)
    >>> obs, reward, terminated, truncated, info = env.step(np.array([1.0]))
    >>> info["dobs_dcontext"].round(4).tolist()
    [[-0.0044, 0.0], [-0.0444, 0.0]]
    >>> from cebe_deep.tasks import check_jacobians      # the Jacobians against central differences of step
    >>> check_jacobians(Cart(), steps=10).passed()
    True
    >>> try:
    ...     env.set_context([3.0, 0.0])
    ... except ValueError as error:  # one line, naming the value and the range
    ...     print(error)
    Cart context[0] (mass) = 3.0 is outside the allowed range [0.5, 2.0]

    Wrapped in ``gymnasium.wrappers.TimeLimit(Cart(), Cart.max_episode_steps)`` it trains with CSE as a built-in
    task does; ``cebe-deep train --task my_module:make_cart`` takes a function that returns it
    (:mod:`cebe_deep.tasks.sources`).
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
    #: True where the task warns itself about Jacobians that stay zero (else a run wraps it in
    #: :class:`~cebe_deep.tasks.jacobian_watch.WatchZeroJacobians`).
    watches_jacobians: bool = False

    # ----------------------------------------------------------------- context
    def init_context(self, context, jacobians: bool) -> None:
        """Call at the end of the constructor: set ``self.jacobians`` and the starting context (None: c0)."""
        self.jacobians = bool(jacobians)
        self._context = np.asarray(self.default_context, dtype=np.float64).copy()
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
        self.check_context_constraints(vector)
        return vector

    def check_context_constraints(self, context: np.ndarray) -> None:
        """Hook for constraints beyond the box (raise a one-line ValueError); none by default."""
        self._check_context_constraints(context)

    def _check_context_constraints(self, context: np.ndarray) -> None:
        """The hook's earlier name (still called by :meth:`check_context_constraints`)."""

    def set_context(self, context) -> None:
        """Validate and set the context; it takes effect from the next step (no reset needed)."""
        self._context = self.validate_context(context)
        self.apply_context(self._context)

    def apply_context(self, context: np.ndarray) -> None:
        """Hook: push the context into a simulator (MuJoCo model parameters); no-op by default."""
        self._apply_context(context)

    def _apply_context(self, context: np.ndarray) -> None:
        """The hook's earlier name (still called by :meth:`apply_context`)."""

    # -------------------------------------------------------------- helpers
    def build_observation_space(self, state_low, state_high) -> spaces.Box:
        """The observation box: the state part's bounds (scalars or ``(state_dim,)``), then the context box."""
        low = np.concatenate([np.broadcast_to(np.asarray(state_low, np.float64), (self.state_dim,)), self.context_low])
        high = np.concatenate([np.broadcast_to(np.asarray(state_high, np.float64), (self.state_dim,)), self.context_high])
        return spaces.Box(low=low, high=high, dtype=np.float64)

    def observe(self, state_part) -> np.ndarray:
        """The observation of a state part: ``concat(state_part, context)``, float64."""
        return np.concatenate([np.asarray(state_part, dtype=np.float64), self._context])

    def reset_info(self, info: dict | None = None) -> dict:
        """``info`` (default empty) with the three Jacobian keys as zeros when ``self.jacobians``: what ``reset``
        returns."""
        info = dict(info or {})
        if self.jacobians:
            info["dobs_dcontext"] = np.zeros((self.state_dim, self.context_dim))
            info["dreward_dcontext"] = np.zeros(self.context_dim)
            info["dreward_dnextobs"] = np.zeros(self.state_dim)
        return info

    def clip_action(self, action, space: spaces.Box) -> np.ndarray:
        """Validate a continuous action's shape and finiteness (one-line ValueError) and clip it to the box."""
        return np.clip(self._validated_box_action(action, space), space.low, space.high)

    # The names of earlier versions.
    _init_context = init_context
    _observation_space = build_observation_space
    _observation = observe
    _reset_info = reset_info
    _box_action = clip_action

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
