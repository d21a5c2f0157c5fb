"""Prioritized experience replay (Schaul et al. 2016), as the authors' RLlib SAC runs it; SB3 has none.

A transition i is drawn with probability ``P(i) = p_i^alpha / sum_k p_k^alpha``, where ``p_i`` is its last
absolute TD error (plus a small constant) and a new transition gets the largest priority seen so far.
With ``beta > 0`` each sampled transition's loss is weighted by ``w_i = (N P(i))^-beta / max_k (N P(k))^-beta``
(N: transitions stored), which undoes the sampling bias as beta -> 1.  ``alpha = 0`` is uniform replay.

- :class:`SumTree`: sums and minima of ``n`` leaf values, updated and searched in O(log n), vectorized
  over a batch.
- :class:`PrioritizedReplay`: a mixin that replaces a replay buffer's uniform draw by the prioritized one;
  :class:`PrioritizedReplayBuffer` (plain) and :class:`PrioritizedCSEBuffer` (with context sample
  enhancement) are the two buffers built from it.  The buffer keeps the last batch's indices and weights;
  the learner (:class:`cebe_deep.learn.sac.ContextSAC`) reads the weights and hands the TD errors back through
  :meth:`PrioritizedReplay.update_priorities`.

Example: with priorities 1, 2, 3, 4 and alpha = 1, the four transitions are drawn with probabilities
0.1, 0.2, 0.3, 0.4:

>>> tree = SumTree(4)
>>> tree.update(np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]))
>>> tree.total, tree.find(np.array([0.5, 1.5, 5.9, 6.0, 9.99])).tolist()
(10.0, [0, 1, 2, 3, 3])
"""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from cebe_deep.errors import ConfigError
from cebe_deep.learn.cse import ContextSampleEnhancementBuffer

__all__ = ["SumTree", "PrioritizedReplay", "PrioritizedReplayBuffer", "PrioritizedCSEBuffer", "PRIORITY_EPSILON"]

#: Added to |TD error| so that no transition's probability drops to zero (RLlib's ``prioritized_replay_eps``).
PRIORITY_EPSILON = 1e-6


class SumTree:
    """A complete binary tree over ``capacity`` leaves (padded to a power of two) holding, at every node,
    the sum and the minimum of the leaves below it.  Leaves start at 0 (never drawn)."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ConfigError(f"SumTree capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.leaves = 1 << max(0, (self.capacity - 1).bit_length())
        self.sums = np.zeros(2 * self.leaves)
        self.mins = np.full(2 * self.leaves, np.inf)

    @property
    def total(self) -> float:
        return float(self.sums[1])

    @property
    def minimum(self) -> float:
        """The smallest leaf value among the leaves that were ever set (inf if none)."""
        return float(self.mins[1])

    def values(self, indices: np.ndarray) -> np.ndarray:
        return self.sums[self.leaves + np.asarray(indices)]

    def update(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Set leaves ``indices`` to ``values`` (>= 0) and refresh their ancestors.  Repeated indices: the last wins."""
        indices = np.asarray(indices, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        if np.any(values < 0) or not np.all(np.isfinite(values)):
            raise ValueError("SumTree values must be finite and >= 0")
        nodes = self.leaves + indices
        sums, mins = self.sums, self.mins
        sums[nodes] = values
        mins[nodes] = values
        # The parents, sorted and unique; a sorted array's parents stay sorted, so each level above only drops
        # neighbours that repeat (no sort per level).
        nodes = np.unique(nodes >> 1)
        while nodes[0] >= 1:  # (a one-leaf tree has no parents: its leaf is the root)
            left = nodes << 1
            sums[nodes] = sums[left] + sums[left + 1]
            mins[nodes] = np.minimum(mins[left], mins[left + 1])
            if nodes[0] == 1:
                break
            nodes = nodes >> 1
            if nodes.size > 1:
                nodes = nodes[np.concatenate(([True], nodes[1:] != nodes[:-1]))]

    def find(self, masses: np.ndarray) -> np.ndarray:
        """For each ``m`` in ``[0, total)``, the leaf i with ``sum(leaves < i) <= m < sum(leaves <= i)``."""
        masses = np.array(masses, dtype=np.float64)
        nodes = np.ones(masses.shape, dtype=np.int64)
        while nodes[0] < self.leaves:  # every node descends one level per pass
            left = 2 * nodes
            go_right = masses >= self.sums[left]
            masses = np.where(go_right, masses - self.sums[left], masses)
            nodes = np.where(go_right, left + 1, left)
        leaves = nodes - self.leaves
        # Round-off can step past the last non-empty leaf; fall back to the nearest non-empty one on the left.
        empty = self.sums[nodes] <= 0
        for k in np.flatnonzero(empty):
            candidates = np.flatnonzero(self.sums[self.leaves:self.leaves + leaves[k]] > 0)
            leaves[k] = candidates[-1] if candidates.size else leaves[k]
        return leaves


class PrioritizedReplay:
    """Mixin for an SB3 replay buffer with a ``_samples_at(batch_inds, env_indices)`` hook: draws a batch by
    priority (one leaf per (position, env) slot, ``slot = position * n_envs + env``) and keeps
    ``last_slots`` and ``last_weights`` (a float32 torch column, or None when ``beta = 0``) for the learner."""

    def _init_priorities(self, alpha: float, beta: float) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"priority alpha must be in [0, 1], got {alpha}")
        if not 0.0 <= beta <= 1.0:
            raise ConfigError(f"priority beta must be in [0, 1], got {beta}")
        self.alpha, self.beta = float(alpha), float(beta)
        self.tree = SumTree(self.buffer_size * self.n_envs)
        self.max_priority = 1.0
        self.last_slots: np.ndarray | None = None
        self.last_weights: torch.Tensor | None = None
        # Seeded from numpy's global generator, which SB3 seeds before it builds the buffer: reproducible per
        # run seed; the generator's state travels with the pickled buffer, so a resumed run continues it.
        self.rng = np.random.default_rng(np.random.randint(2**31))

    def add(self, obs, next_obs, action, reward, done, infos) -> None:
        position = self.pos
        super().add(obs, next_obs, action, reward, done, infos)
        slots = position * self.n_envs + np.arange(self.n_envs)
        self.tree.update(slots, np.full(self.n_envs, self.max_priority**self.alpha))

    def sample(self, batch_size: int, env=None) -> ReplayBufferSamples:
        if env is not None:
            raise ValueError("prioritized replay does not support VecNormalize")
        total = self.tree.total
        # i.i.d. draws of the probability mass (as RLlib's proportional sampling does).
        masses = self.rng.random(batch_size) * total
        slots = self.tree.find(np.minimum(masses, np.nextafter(total, 0)))
        self.last_slots = slots
        if self.beta > 0:
            stored = (self.buffer_size if self.full else self.pos) * self.n_envs
            probabilities = self.tree.values(slots) / total
            weights = (stored * probabilities) ** -self.beta / (stored * self.tree.minimum / total) ** -self.beta
            self.last_weights = torch.as_tensor(weights, dtype=torch.float32).reshape(-1, 1)
        else:
            self.last_weights = None
        return self._samples_at(slots // self.n_envs, slots % self.n_envs)

    def update_priorities(self, td_errors: np.ndarray, slots: np.ndarray | None = None) -> None:
        """Set the priorities of the last batch (or ``slots``) to ``(|td_error| + eps)^alpha``."""
        slots = self.last_slots if slots is None else slots
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64).reshape(-1)) + PRIORITY_EPSILON
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.update(slots, priorities**self.alpha)


class PrioritizedReplayBuffer(PrioritizedReplay, ReplayBuffer):
    """SB3's ``ReplayBuffer`` with prioritized sampling (see the module docstring).

    :param priority_alpha: how strongly priorities shape the draw (0: uniform, 1: proportional)
    :param priority_beta: importance-weight exponent (0: no correction)
    """

    def __init__(self, buffer_size, observation_space, action_space, device="auto", n_envs: int = 1,
                 optimize_memory_usage: bool = False, handle_timeout_termination: bool = True, *,
                 priority_alpha: float = 0.6, priority_beta: float = 0.4):
        if optimize_memory_usage:
            raise ConfigError("PrioritizedReplayBuffer does not support optimize_memory_usage=True")
        super().__init__(buffer_size, observation_space, action_space, device, n_envs, optimize_memory_usage,
                         handle_timeout_termination)
        self._init_priorities(priority_alpha, priority_beta)

    def _samples_at(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> ReplayBufferSamples:
        done = self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])
        arrays = (self.observations[batch_inds, env_indices], self.actions[batch_inds, env_indices],
                  self.next_observations[batch_inds, env_indices], done.reshape(-1, 1),
                  self.rewards[batch_inds, env_indices].reshape(-1, 1))
        return ReplayBufferSamples(*(self.to_torch(array, copy=False) for array in arrays))


class PrioritizedCSEBuffer(PrioritizedReplay, ContextSampleEnhancementBuffer):
    """Prioritized sampling, then context sample enhancement of the drawn batch.  The priorities are the TD
    errors of the enhanced samples the learner saw (as in the authors' runs, where CSE rewrites the batch
    before the loss).  Takes :class:`~cebe_deep.learn.cse.ContextSampleEnhancementBuffer`'s keyword arguments and
    ``priority_alpha``, ``priority_beta``."""

    def __init__(self, *args, priority_alpha: float = 0.6, priority_beta: float = 0.4, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_priorities(priority_alpha, priority_beta)
