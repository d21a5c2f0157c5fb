"""Importance-weighted context sample enhancement (open question 1, the second estimator).

For stochastic transitions, first-order CSE moves the sampled ``s'`` along the transport map with the noise held
fixed (the reparameterized estimator; :mod:`cebe_deep.tasks.noisy_pendulum`).  The other estimator keeps ``s'``
where it is and reweights.  A sample ``(s, a, r, s')`` with ``s' ~ p_c(. | s, a)`` is replayed at ``c + dc`` as

    obs      = (s,  c + dc)                 next_obs = (s', c + dc)              (only the context parts move)
    reward   = r + d_c R(s, a, s') . dc     (the reward's explicit context dependence, at fixed s')
    weight   = min( p_{c+dc}(s' | s, a) / p_c(s' | s, a) , max_weight )

and the learner weights that sample's TD loss by ``weight``.  Unclipped, the weighted target is unbiased for the
Bellman backup at ``c + dc`` (up to the first-order reward): ``E_{s' ~ p_c}[w(s') y(s')] = E_{s' ~ p_{c+dc}}[y(s')]``.
Clipping trades that bias for variance.  Only the critic loss is weighted: the actor loss involves ``(s, c + dc)``
only, whose distribution CSE does not change.

The weights' spread is logged per batch as the effective sample size ``ESS = (sum w)^2 / sum w^2`` over the
enhanced samples (:attr:`ImportanceWeightedCSEBuffer.last_effective_sample_size`, and its running mean
:attr:`~ImportanceWeightedCSEBuffer.mean_effective_sample_size_fraction` as a fraction of the enhanced count).

How the learner gets the weights.  The buffer sets ``last_weights``, a float32 torch column ``(batch, 1)`` (1 for
samples that were not enhanced), the same attribute :class:`cebe_deep.learn.sac.ContextSAC` reads from a
:class:`cebe_deep.learn.replay.PrioritizedReplay` buffer.  :class:`PrioritizedImportanceCSEBuffer` is that
combination: its weights are the priority weights times the importance weights, and with
``priority_alpha = priority_beta = 0`` it is uniform replay with importance weights.  The plain
:class:`ImportanceWeightedCSEBuffer` (uniform SB3 replay) computes the same weights; ContextSAC applies them too
(SB3's own ``SAC.train`` would ignore them).  A run picks one through ``TrainConfig.cse_variant = "importance"``
(``cebe-deep ... --cse-variant importance``): the prioritized buffer with ``--replay prioritized``, the plain one
with ``--replay uniform``.

>>> import numpy as np
>>> gaussian_log_density(np.array([0.5]), np.array([0.0]), 1.0) - gaussian_log_density(np.array([0.5]), np.array([1.0]), 1.0)
array([0.])
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from cebe_deep.learn.cse import ContextSampleEnhancementBuffer
from cebe_deep.learn.replay import PrioritizedReplay

__all__ = ["ImportanceWeightedCSEBuffer", "PrioritizedImportanceCSEBuffer", "importance_weights",
           "effective_sample_size", "gaussian_log_density"]

LogDensity = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def gaussian_log_density(value: np.ndarray, mean: np.ndarray, scale: float) -> np.ndarray:
    """``log N(value; mean, scale^2)`` elementwise."""
    return -0.5 * ((np.asarray(value) - mean) / scale) ** 2 - math.log(scale) - 0.5 * math.log(2 * math.pi)


def importance_weights(log_density_new: np.ndarray, log_density_old: np.ndarray, max_weight: float = np.inf) -> np.ndarray:
    """``min(exp(log p_new - log p_old), max_weight)``, computed in log space (no overflow before the clip)."""
    log_ratio = np.asarray(log_density_new, dtype=np.float64) - np.asarray(log_density_old, dtype=np.float64)
    if np.isfinite(max_weight):
        log_ratio = np.minimum(log_ratio, math.log(max_weight))
    return np.exp(log_ratio)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (``len(w)`` for equal weights; 0 for no weight)."""
    weights = np.asarray(weights, dtype=np.float64)
    squares = float(np.sum(weights**2))
    return float(np.sum(weights)) ** 2 / squares if squares > 0 else 0.0


class ImportanceWeightedCSEBuffer(ContextSampleEnhancementBuffer):
    """CSE that keeps ``s'`` and reweights by the transition density ratio (module docstring).

    Takes :class:`~cebe_deep.learn.cse.ContextSampleEnhancementBuffer`'s keywords (``mode`` must stay
    ``"first_order"``: the explicit ``d_c R`` comes from the stored partials), plus

    :param log_density: ``log_density(next_state_obs, state_obs, action, context) -> (B,)``, the transition
        log-density of the next state part given the state part, the action (in the environment's units) and
        the context, batched (e.g. :meth:`NoisyPendulumGoal.transition_log_density`)
    :param max_weight: the clip of each weight (``inf``: unclipped)

    Attributes after each sample: ``last_weights`` (torch ``(batch, 1)`` float32; see
    :class:`PrioritizedImportanceCSEBuffer` for how they reach the loss), ``last_importance_weights`` (numpy,
    the enhanced rows' clipped ratios), ``last_effective_sample_size``, ``last_clipped_fraction``; running
    means over all batches: :attr:`mean_effective_sample_size_fraction`, :attr:`mean_clipped_fraction`.
    """

    def __init__(self, *args, log_density: LogDensity, max_weight: float = 10.0, **kwargs):
        max_weight = float(max_weight)
        if not max_weight >= 1.0:
            raise ValueError(f"max_weight must be >= 1 (or inf), got {max_weight!r}")
        super().__init__(*args, **kwargs)
        if self.mode != "first_order":
            raise ValueError("ImportanceWeightedCSEBuffer needs mode='first_order' (it reads the stored d_c R)")
        self.log_density, self.max_weight = log_density, max_weight
        self.last_weights: torch.Tensor | None = None
        self.last_importance_weights = np.ones(0)
        self.last_effective_sample_size = 0.0
        self.last_clipped_fraction = 0.0
        self._ess_fraction_sum, self._clipped_sum, self._batches = 0.0, 0.0, 0

    @property
    def mean_effective_sample_size_fraction(self) -> float:
        """Mean over batches of ESS / (number of enhanced samples); nan before the first batch."""
        return self._ess_fraction_sum / self._batches if self._batches else math.nan

    @property
    def mean_clipped_fraction(self) -> float:
        """Mean over batches of the fraction of weights that hit ``max_weight``; nan before the first batch."""
        return self._clipped_sum / self._batches if self._batches else math.nan

    def _samples_at(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> ReplayBufferSamples:
        self._batch_weights = np.ones(len(batch_inds))
        samples = super()._samples_at(batch_inds, env_indices)
        weights = torch.as_tensor(self._batch_weights, dtype=torch.float32).reshape(-1, 1)
        prior = getattr(self, "last_weights", None) if isinstance(self, PrioritizedReplay) else None
        # PrioritizedReplay.sample sets its weights (or None) just before calling this hook.
        self.last_weights = weights if prior is None else prior * weights
        return samples

    def _enhance(self, obs, next_obs, reward, actions, batch_inds: np.ndarray, env_indices: np.ndarray) -> None:
        """Move the first ``len(batch_inds)`` rows' contexts to c + dc, add ``d_c R . dc`` to their rewards, keep
        ``s'`` and record their importance weights (module docstring)."""
        n, s, d = len(batch_inds), self.state_dim, self.context_dim
        context = obs[:n, s:].astype(np.float64)
        dcontext = self._draw_perturbations(n).astype(np.float64)
        new_context = context + dcontext
        if self.context_low is not None or self.context_high is not None:
            new_context = np.clip(new_context, self.context_low, self.context_high)
            dcontext = new_context - context
        dreward_dcontext = self.context_derivatives[batch_inds, env_indices][:, s * d : s * d + d]
        state, next_state, action = (
            obs[:n, :s].astype(np.float64),
            next_obs[:n, :s].astype(np.float64),
            self._env_action(actions[:n]),
        )
        weights = importance_weights(self.log_density(next_state, state, action, new_context),
                                     self.log_density(next_state, state, action, context), self.max_weight)
        reward[:n, 0] = reward[:n, 0] + (dreward_dcontext * dcontext).sum(-1)
        obs[:n, s:] = new_context
        next_obs[:n, s:] = new_context
        self._batch_weights[:n] = weights
        self.last_importance_weights = weights
        self.last_effective_sample_size = effective_sample_size(weights)
        self.last_clipped_fraction = float(np.mean(weights >= self.max_weight)) if n else 0.0
        self._ess_fraction_sum += self.last_effective_sample_size / n
        self._clipped_sum += self.last_clipped_fraction
        self._batches += 1

    def _env_action(self, buffer_action: np.ndarray) -> np.ndarray:
        """Stored actions in the environment's units (SB3's off-policy learners store Box actions scaled to [-1, 1])."""
        action = buffer_action.astype(np.float64)
        if isinstance(self.action_space, spaces.Box):
            low, high = self.action_space.low.astype(np.float64), self.action_space.high.astype(np.float64)
            action = low + 0.5 * (action + 1.0) * (high - low)
        return action

    def update_priorities(self, td_errors: np.ndarray, slots: np.ndarray | None = None) -> None:
        """No priorities in uniform replay (lets a weight-aware learner call it on any weighted buffer)."""


class PrioritizedImportanceCSEBuffer(PrioritizedReplay, ImportanceWeightedCSEBuffer):
    """Prioritized replay over :class:`ImportanceWeightedCSEBuffer`; ``last_weights`` = priority weight x
    importance weight.  ``priority_alpha = priority_beta = 0`` gives uniform replay with importance weights,
    which :class:`cebe_deep.learn.sac.ContextSAC` applies to the critic loss as it stands."""

    def __init__(self, *args, priority_alpha: float = 0.6, priority_beta: float = 0.4, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_priorities(priority_alpha, priority_beta)
