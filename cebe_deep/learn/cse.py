"""Context sample enhancement (CSE): the paper's section 5, as a pure function and an SB3 replay buffer.

A transition (s, a, r, s') collected in context c is moved to a nearby context c + dc by the
first-order expansion of the context-enhanced Bellman equation (CEBE, paper section 2):

    s'_new = s' + d_c T dc
    r_new  = r  + d_c R dc + d_{s'} R (d_c T dc)

and is replayed with context c + dc written into the context part of both the observation and the
next observation.  ``d_c T`` (``dobs_dcontext``, shape (state_dim, context_dim)), ``d_c R``
(``dreward_dcontext``, shape (context_dim,)) and ``d_{s'} R`` (``dreward_dnextobs``, shape (state_dim,))
are the partial derivatives each contextual task reports in its step ``info``.

Worked example (SimpleDirection, d = 2: s' = s + a + c, r = s' . c, so d_c T = I, d_c R = s',
d_{s'} R = c).  At s = 0, a = (1, 0), c = 0 we get s' = (1, 0), r = 0.  Moving to dc = (0, 0.1):

>>> import numpy as np
>>> next_state, reward = context_sample_enhancement(
...     next_state=np.array([[1.0, 0.0]]), reward=np.array([0.0]), dcontext=np.array([[0.0, 0.1]]),
...     dobs_dcontext=np.eye(2)[None], dreward_dcontext=np.array([[1.0, 0.0]]),
...     dreward_dnextobs=np.array([[0.0, 0.0]]))
>>> next_state.tolist(), reward.tolist()
([[1.0, 0.1]], [0.0])

and the exact transition at c = (0, 0.1) is s' = (1, 0.1), r = s' . c = 0.01: the first-order reward misses
the second-order term dc . (d_c T dc) = 0.01, as CEBE's Theorem 2 allows (error O(|dc|^2)).

The buffer :class:`ContextSampleEnhancementBuffer` follows the shape of SB3's ``HerReplayBuffer``: it keeps
each transition's Jacobians from ``infos`` at ``add()`` time and rewrites a fraction of every sampled batch
in ``_get_samples``, so the learner (SAC, TD3, DQN, ...) never knows.  Use it as

    SAC("MlpPolicy", env, replay_buffer_class=ContextSampleEnhancementBuffer,
        replay_buffer_kwargs=dict(state_dim=env.unwrapped.state_dim, context_dim=env.unwrapped.context_dim,
                                  eps=0.1))
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from cebe_deep.errors import ConfigError
from cebe_deep.learn.eps import PAPER_EPS, check_eps

#: The step-info keys first-order CSE reads (:data:`cebe_deep.tasks.base.JACOBIAN_KEYS`).
JACOBIAN_KEYS = ("dobs_dcontext", "dreward_dcontext", "dreward_dnextobs")

PERTURBATIONS = ("sphere", "ball")
"""How dc is drawn in the ball of radius eps: ``sphere`` = a uniform direction times eps (the authors'
choice, |dc| = eps always); ``ball`` = uniform in the ball, |dc| = eps * U^(1/d)."""

MODES = ("first_order", "exact")
"""``first_order``: the CSE formula from the stored Jacobians (the paper's CSE).  ``exact``: re-simulate
(s, a) at c + dc with the task's closed-form ``simulate`` (the authors' second variant)."""


def context_sample_enhancement(next_state, reward, dcontext, dobs_dcontext, dreward_dcontext, dreward_dnextobs):
    """First-order CSE of a batch of transitions (paper section 5; the CEBE expansion of section 2).

    Returns ``(next_state + J dc, reward + dR/dc . dc + dR/ds' . (J dc))`` with ``J = dobs_dcontext``.

    Works on numpy arrays and torch tensors alike (only ``@``, ``*``, ``+`` and ``.sum(-1)``).

    :param next_state: (batch, state_dim) state part of s' (without the context)
    :param reward: (batch,) rewards
    :param dcontext: (batch, context_dim) context perturbations dc
    :param dobs_dcontext: (batch, state_dim, context_dim) d_c T, the partial of s' in the context
    :param dreward_dcontext: (batch, context_dim) d_c R, the partial of r in the context at fixed s'
    :param dreward_dnextobs: (batch, state_dim) d_{s'} R, the partial of r in s' at fixed context
    :return: (next_state_new (batch, state_dim), reward_new (batch,))
    """
    dnext_state = (dobs_dcontext @ dcontext[..., None])[..., 0]
    reward_new = reward + (dreward_dcontext * dcontext).sum(-1) + (dreward_dnextobs * dnext_state).sum(-1)
    return next_state + dnext_state, reward_new


def sample_context_perturbation(
    batch_size: int, context_dim: int, eps: float, perturbation: str = "sphere", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw ``batch_size`` perturbations dc in the closed ball of radius ``eps`` (float32, shape (batch, d)).

    ``sphere``: dc = eps * u, u uniform on the unit sphere (the authors' choice).
    ``ball``: dc = eps * U^(1/d) * u, uniform in the ball.
    """
    if perturbation not in PERTURBATIONS:
        raise ConfigError(f"unknown perturbation {perturbation!r}; choose one of {', '.join(PERTURBATIONS)}")
    check_eps(eps)
    direction = torch.randn(batch_size, context_dim, generator=generator)
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-12)
    radius = torch.full((batch_size, 1), float(eps))
    if perturbation == "ball":
        radius = radius * torch.rand(batch_size, 1, generator=generator) ** (1.0 / context_dim)
    return direction * radius


class ContextSampleEnhancementBuffer(ReplayBuffer):
    """SB3 replay buffer that applies CSE to a fraction of every sampled batch.

    Observations are ``concat(state (state_dim), context (context_dim))`` as in ``cebe_deep.tasks``.
    At ``add()`` the buffer keeps ``infos[i]["dobs_dcontext"]``, ``["dreward_dcontext"]`` and
    ``["dreward_dnextobs"]``.  At sampling, for each enhanced sample it draws dc (see
    :func:`sample_context_perturbation`), computes the new s' and r with :func:`context_sample_enhancement`
    (or, in ``exact`` mode, with ``simulate(state, action, context + dc)``) and writes ``c + dc`` into the
    context part of the observation and the next observation.  Dones are kept.

    :param state_dim, context_dim: sizes of the two parts of the observation
    :param eps: radius of the ball dc is drawn from (the paper: 0.1)
    :param perturbation: ``"sphere"`` (authors) or ``"ball"``
    :param cse_fraction: fraction of each batch that is enhanced (like HER's ``her_ratio``); 1.0 = all
    :param mode: ``"first_order"`` or ``"exact"``
    :param simulate: for ``exact`` mode, ``simulate(state_obs, action, context) -> (next_state_obs, reward)``
        vectorized over a leading batch axis (numpy float64), with actions in the environment's units
    :param context_low, context_high: optional box; when given, c + dc is clipped into it
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: torch.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        *,
        state_dim: int,
        context_dim: int,
        eps: float = PAPER_EPS,
        perturbation: str = "sphere",
        cse_fraction: float = 1.0,
        mode: str = "first_order",
        simulate: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
        context_low: np.ndarray | None = None,
        context_high: np.ndarray | None = None,
    ):
        if optimize_memory_usage:
            raise ConfigError("ContextSampleEnhancementBuffer does not support optimize_memory_usage=True")
        check_eps(eps)
        if perturbation not in PERTURBATIONS:
            raise ConfigError(f"unknown perturbation {perturbation!r}; choose one of {', '.join(PERTURBATIONS)}")
        if mode not in MODES:
            raise ConfigError(f"unknown CSE mode {mode!r}; choose one of {', '.join(MODES)}")
        if mode == "exact" and simulate is None:
            raise ConfigError("CSE mode 'exact' needs a simulate(state_obs, action, context) function")
        if not 0.0 <= cse_fraction <= 1.0:
            raise ConfigError(f"cse_fraction must be in [0, 1], got {cse_fraction}")
        if observation_space.shape != (state_dim + context_dim,):
            raise ConfigError(
                f"observation shape {observation_space.shape} is not (state_dim + context_dim,) = ({state_dim + context_dim},)"
            )
        super().__init__(
            buffer_size, observation_space, action_space, device, n_envs, optimize_memory_usage, handle_timeout_termination
        )
        self.state_dim, self.context_dim = int(state_dim), int(context_dim)
        self.eps, self.perturbation, self.cse_fraction, self.mode = float(eps), perturbation, float(cse_fraction), mode
        self.simulate = simulate
        self.context_low = None if context_low is None else np.asarray(context_low, dtype=np.float32)
        self.context_high = None if context_high is None else np.asarray(context_high, dtype=np.float32)
        # The three partials of each transition, packed in one row (one gather per batch), in the
        # observation's dtype so that the torch arithmetic needs no casts:
        # [dobs_dcontext (state_dim * context_dim, row-major) | dreward_dcontext | dreward_dnextobs].
        width = self.state_dim * self.context_dim + self.context_dim + self.state_dim
        self.context_derivatives = np.zeros((self.buffer_size, self.n_envs, width), dtype=observation_space.dtype)

    def add(self, obs, next_obs, action, reward, done, infos: list[dict[str, Any]]) -> None:
        # Jacobians first: super().add advances self.pos.
        if self.mode == "first_order":
            for env_index, info in enumerate(infos):
                missing = [key for key in JACOBIAN_KEYS if key not in info]
                if missing:
                    raise ConfigError(
                        f"CSE needs the context Jacobians in each step's info, missing {', '.join(missing)} "
                        f"(env {env_index}); build the task with jacobians=True (make_task(..., jacobians=True))")
                self.context_derivatives[self.pos, env_index] = np.concatenate(
                    [np.ravel(info["dobs_dcontext"]), info["dreward_dcontext"], info["dreward_dnextobs"]]
                )
        super().add(obs, next_obs, action, reward, done, infos)

    def _get_samples(self, batch_inds: np.ndarray, env=None) -> ReplayBufferSamples:
        if env is not None:
            raise ValueError("ContextSampleEnhancementBuffer does not support VecNormalize (CSE needs raw observations)")
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        return self._samples_at(batch_inds, env_indices)

    def _samples_at(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> ReplayBufferSamples:
        """The batch of transitions ``(batch_inds[k], env_indices[k])``, CSE applied to the first
        ``cse_fraction`` of it (the hook :class:`cebe_deep.learn.replay.PrioritizedReplay` samples through)."""
        # Fancy indexing copies: these arrays are the batch's own, edited in place, then shared with torch.
        obs = self.observations[batch_inds, env_indices]
        next_obs = self.next_observations[batch_inds, env_indices]
        reward = self.rewards[batch_inds, env_indices].reshape(-1, 1)
        actions = self.actions[batch_inds, env_indices]
        n_enhanced = int(round(self.cse_fraction * len(batch_inds)))
        if n_enhanced > 0:
            # The batch is i.i.d., so its first rows are a uniformly random subset.
            self._enhance(obs, next_obs, reward, actions, batch_inds[:n_enhanced], env_indices[:n_enhanced])
        done = self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])
        return ReplayBufferSamples(
            *(self.to_torch(array, copy=False) for array in (obs, actions, next_obs, done.reshape(-1, 1), reward))
        )

    def _enhance(self, obs, next_obs, reward, actions, batch_inds: np.ndarray, env_indices: np.ndarray) -> None:
        """Move the first ``len(batch_inds)`` rows of the gathered batch to c + dc, in place.

        The arithmetic runs on the gathered numpy batch, before SB3 hands it to torch: SB3's buffers are
        numpy arrays, and on batches of 256 x (a few) numbers numpy's per-operation overhead is several
        times smaller than torch's (measured: 0.03 against 0.05 ms per batch, see benchmarks/bench_cse.py).
        :func:`context_sample_enhancement` is array-generic, so this is the same formula either way.
        """
        n, s, d = len(batch_inds), self.state_dim, self.context_dim
        context = obs[:n, s:]
        dcontext = self._draw_perturbations(n)
        new_context = context + dcontext
        if self.context_low is not None or self.context_high is not None:
            new_context = np.clip(new_context, self.context_low, self.context_high)
            dcontext = new_context - context
        if self.mode == "first_order":
            packed = self.context_derivatives[batch_inds, env_indices]
            next_state, new_reward = context_sample_enhancement(
                next_obs[:n, :s],
                reward[:n, 0],
                dcontext,
                packed[:, : s * d].reshape(n, s, d),
                packed[:, s * d : s * d + d],
                packed[:, s * d + d :],
            )
        else:
            next_state, new_reward = self._resimulate(obs[:n, :s], actions[:n], new_context)
        next_obs[:n, :s] = next_state
        next_obs[:n, s:] = new_context
        obs[:n, s:] = new_context
        reward[:n, 0] = new_reward

    def _resimulate(self, state: np.ndarray, buffer_action: np.ndarray, context: np.ndarray):
        """``exact`` mode: the true transition at the perturbed context, from the task's ``simulate``."""
        action = buffer_action.astype(np.float64)
        if isinstance(self.action_space, spaces.Box):
            # SB3 off-policy algorithms store actions rescaled to [-1, 1]; simulate wants the env's units.
            low, high = self.action_space.low.astype(np.float64), self.action_space.high.astype(np.float64)
            action = low + 0.5 * (action + 1.0) * (high - low)
        elif isinstance(self.action_space, spaces.Discrete):
            action = action.reshape(-1).astype(np.int64)
        next_state, reward = self.simulate(state.astype(np.float64), action, context.astype(np.float64))
        return np.asarray(next_state), np.asarray(reward).reshape(-1)

    def _draw_perturbations(self, n: int) -> np.ndarray:
        """n i.i.d. draws of dc (torch's generator, so SB3's seeding covers it), served from a block drawn
        for many batches at once: per call, drawing costs as much as the CSE arithmetic itself."""
        pool = getattr(self, "_perturbation_pool", None)
        start = getattr(self, "_perturbation_next", 0)
        if pool is None or start + n > len(pool):
            block = sample_context_perturbation(max(64 * n, 4096), self.context_dim, self.eps, self.perturbation)
            pool, start = block.numpy().astype(self.observations.dtype), 0
            self._perturbation_pool = pool
        self._perturbation_next = start + n
        return pool[start : start + n]

    def partials(self, index: int, env_index: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored ``(dobs_dcontext, dreward_dcontext, dreward_dnextobs)`` of one transition."""
        s, d = self.state_dim, self.context_dim
        row = self.context_derivatives[index, env_index]
        return row[: s * d].reshape(s, d), row[s * d : s * d + d], row[s * d + d :]
