"""SB3's DQN as the authors ran CartGoal: RLlib 2.44's DQN (double Q, dueling heads, prioritized replay).

The authors trained CartGoal, the paper's one discrete-action task, with RLlib's DQN on its new API stack
(their ``utils/train_kwargs.py`` sets lr 5e-4, batch 32, prioritized replay 50k with alpha 0.6 and beta 0.4,
``double_q``, ``dueling``, epsilon 1 -> 0.02 over 10,000 steps, one hidden layer of 256 (tanh) and a head of 256).
:class:`ContextDQN` is SB3's ``DQN`` with what that run has and SB3's DQN lacks:

1. **double Q** (van Hasselt et al. 2016; ``double_q=True``): the online network picks the next action, the
   target network values it,

       y = r + gamma (1 - done) Q'(s', argmax_a Q(s', a))      instead of      y = r + gamma (1 - done) max_a Q'(s', a)

   (:func:`td_target`);
2. **dueling heads** (Wang et al. 2016, eq. 9; ``dueling=True``): shared hidden layers, then a value stream V(s)
   and an advantage stream A(s, a), each with its own hidden layers, combined as

       Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')

   (:func:`dueling_q_values`, :class:`ContextQNetwork`);
3. **prioritized replay** (a :class:`cebe_deep.learn.replay.PrioritizedReplay` buffer, with or without CSE): the loss of
   sample i is the Huber loss (delta 1) of its TD error weighted by its importance weight w_i, and its new
   priority is ``|Q(s, a) - y|`` (as :class:`cebe_deep.learn.sac.ContextSAC` does for SAC's critics);
4. **RLlib's update rules** where they differ from SB3's DQN: the target network is copied (tau 1) after the
   first gradient update at which at least ``target_update_interval`` = 500 env steps were sampled since the
   last copy (SB3's DQN copies every ``interval // n_envs`` vector steps, updates or not); gradients are clipped to global norm
   40
   (SB3: 10); epsilon-greedy draws "explore or not" for each environment separately (SB3's DQN draws once for
   all environments of a vector step) and acts epsilon-greedily from the first step (SB3 acts uniformly at
   random until ``learning_starts``).

The optimizer is torch's Adam in its *fused* form (one kernel per step over all parameters; the same algorithm,
rounded differently from the per-tensor loop, so it is fixed before CartGoal's runs train): 10-20% more env steps
per second of a CartGoal run here, whose updates of batch 32 are dominated by per-tensor overhead (SAC's larger
updates keep the per-tensor loop: their committed seeds trained with it).

CSE composes through the buffer, as for SAC: :class:`~cebe_deep.learn.replay.PrioritizedCSEBuffer` rewrites the sampled
batch (context, next observation, reward) before the loss sees it, so the TD errors and priorities are those of
the enhanced samples.

Where each RLlib fact comes from (RLlib 2.44, ``rllib/algorithms/dqn/``): ``dqn.py`` (``DQNConfig``:
``target_network_update_freq = 500``, ``tau = 1.0``, ``grad_clip = 40`` by global norm, ``adam_epsilon = 1e-8``,
``n_step = 1``, ``td_error_loss_fn = "huber"``, ``num_steps_sampled_before_learning_starts = 1000``,
``training_intensity = None`` so that each training step samples one step of each environment and makes one
update, ``min_sample_timesteps_per_iteration = 1000``); ``torch/dqn_torch_learner.py`` (the double-Q target, the
loss ``mean(w * huber(Q, y))``, the TD error ``|Q - y|`` handed to the buffer); ``dqn_learner.py`` (the target
copy after an update once ``NUM_ENV_STEPS_SAMPLED_LIFETIME - last_update >= target_network_update_freq``);
``torch/default_dqn_torch_rl_module.py`` (dueling: ``Q = V + A - mean(A)``, one encoder shared by both streams);
``dqn_catalog.py`` (each stream is an MLP head with ``head_fcnet_hiddens`` and ``head_fcnet_activation``, ReLU by
default in ``core/rl_module/default_model_config.py``, whose encoder activation default is tanh).  The authors set
``fcnet_hiddens=[256]``, ``fcnet_activation="tanh"``, ``head_fcnet_hiddens=[256]`` and zero biases, and keep
torch's default weight initialisation.

Example: a value 1 and advantages (2, 0) give Q = (2, 0): the advantages are centred before they are added.

>>> dueling_q_values(torch.tensor([[1.0]]), torch.tensor([[2.0, 0.0]])).tolist()
[[2.0, 0.0]]
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.dqn.policies import DQNPolicy
from torch import nn

from cebe_deep.errors import ConfigError
from cebe_deep.learn.importance import ImportanceWeightedCSEBuffer
from cebe_deep.learn.replay import PrioritizedReplay

__all__ = ["ContextDQN", "ContextDQNPolicy", "ContextQNetwork", "dueling_q_values", "td_target"]


def dueling_q_values(value: torch.Tensor, advantage: torch.Tensor) -> torch.Tensor:
    """``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')`` (Wang et al. 2016, eq. 9).

    :param value: (batch, 1) state values V(s)
    :param advantage: (batch, n_actions) advantages A(s, a)
    :return: (batch, n_actions) action values
    """
    return value + advantage - advantage.mean(dim=-1, keepdim=True)


def td_target(rewards: torch.Tensor, dones: torch.Tensor, discounts, next_q_target: torch.Tensor,
              next_q_online: torch.Tensor | None = None) -> torch.Tensor:
    """The one-step TD target ``y = r + gamma (1 - done) Q'(s', a*)``.

    Double Q (``next_q_online`` given): ``a* = argmax_a Q(s', a)`` of the online network, valued by the target
    network.  Plain DQN (``next_q_online`` None): ``a* = argmax_a Q'(s', a)``, i.e. ``max_a Q'(s', a)``.

    :param rewards, dones: (batch, 1); ``dones`` is 1 only where the episode terminated (not truncated)
    :param discounts: gamma, a number or a (batch, 1) tensor
    :param next_q_target: (batch, n_actions) target-network values Q'(s', .)
    :param next_q_online: (batch, n_actions) online-network values Q(s', .), or None
    :return: (batch, 1)
    """
    chooser = next_q_target if next_q_online is None else next_q_online
    best = chooser.argmax(dim=1, keepdim=True)
    return rewards + (1 - dones) * discounts * next_q_target.gather(1, best)


class ContextQNetwork(BasePolicy):
    """RLlib's DQN network: shared hidden layers (``net_arch``, ``activation_fn``), then either one Q head or
    (``dueling``) a value head and an advantage head, each with hidden layers ``head_arch``
    (``head_activation_fn``) and a linear output.  ``zero_biases``: all biases start at 0 (the authors' setting);
    weights keep torch's default initialisation."""

    action_space: spaces.Discrete

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Discrete, features_extractor,
                 features_dim: int, net_arch: list[int] | None = None, activation_fn: type[nn.Module] = nn.Tanh,
                 normalize_images: bool = True, head_arch: list[int] | None = None,
                 head_activation_fn: type[nn.Module] = nn.ReLU, dueling: bool = True, zero_biases: bool = True):
        super().__init__(observation_space, action_space, features_extractor=features_extractor,
                         normalize_images=normalize_images)
        self.net_arch = [256] if net_arch is None else list(net_arch)
        self.head_arch = [256] if head_arch is None else list(head_arch)
        self.activation_fn, self.head_activation_fn = activation_fn, head_activation_fn
        self.features_dim, self.dueling, self.zero_biases = features_dim, bool(dueling), bool(zero_biases)
        n_actions = int(self.action_space.n)
        self.shared = nn.Sequential(*create_mlp(features_dim, -1, self.net_arch, activation_fn))
        latent_dim = self.net_arch[-1] if self.net_arch else features_dim
        if self.dueling:
            self.value_head = nn.Sequential(*create_mlp(latent_dim, 1, self.head_arch, head_activation_fn))
            self.advantage_head = nn.Sequential(*create_mlp(latent_dim, n_actions, self.head_arch, head_activation_fn))
        else:
            self.q_head = nn.Sequential(*create_mlp(latent_dim, n_actions, self.head_arch, head_activation_fn))
        if self.zero_biases:
            with torch.no_grad():
                for layer in self.modules():
                    if isinstance(layer, nn.Linear):
                        layer.bias.zero_()

    def forward(self, obs) -> torch.Tensor:
        """Q(s, .) of a batch of observations: (batch, n_actions)."""
        latent = self.shared(self.extract_features(obs, self.features_extractor))
        if self.dueling:
            return dueling_q_values(self.value_head(latent), self.advantage_head(latent))
        return self.q_head(latent)

    def _predict(self, observation, deterministic: bool = True) -> torch.Tensor:
        return self(observation).argmax(dim=1).reshape(-1)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(net_arch=self.net_arch, head_arch=self.head_arch, activation_fn=self.activation_fn,
                    head_activation_fn=self.head_activation_fn, features_dim=self.features_dim,
                    features_extractor=self.features_extractor, dueling=self.dueling, zero_biases=self.zero_biases)
        return data


class ContextDQNPolicy(DQNPolicy):
    """SB3's DQN policy (online and target :class:`ContextQNetwork`, Adam, fused unless ``optimizer_kwargs`` say
    ``fused=False``) with RLlib's network; the extra arguments are :class:`ContextQNetwork`'s (``net_arch`` None:
    [256]; ``activation_fn``: tanh)."""

    q_net: ContextQNetwork
    q_net_target: ContextQNetwork

    def __init__(self, observation_space, action_space, lr_schedule, net_arch: list[int] | None = None,
                 activation_fn: type[nn.Module] = nn.Tanh, *args, head_arch: list[int] | None = None,
                 head_activation_fn: type[nn.Module] = nn.ReLU, dueling: bool = True, zero_biases: bool = True,
                 **kwargs):
        # Read by make_q_net, which DQNPolicy.__init__ calls: set before it.
        self._stream_args = dict(head_arch=[256] if head_arch is None else list(head_arch),
                                 head_activation_fn=head_activation_fn, dueling=bool(dueling),
                                 zero_biases=bool(zero_biases))
        if kwargs.get("optimizer_class", torch.optim.Adam) is torch.optim.Adam:  # fused Adam (module docstring)
            kwargs["optimizer_kwargs"] = {"fused": True, **(kwargs.get("optimizer_kwargs") or {})}
        super().__init__(observation_space, action_space, lr_schedule, [256] if net_arch is None else list(net_arch),
                         activation_fn, *args, **kwargs)

    def make_q_net(self) -> ContextQNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return ContextQNetwork(**net_args, **self._stream_args).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return super()._get_constructor_parameters() | self._stream_args


class ContextDQN(DQN):
    """SB3 DQN plus double Q, dueling heads, prioritized replay and RLlib's target, clipping and exploration rules
    (see the module docstring).

    :param double_q: the online network picks the next action of the TD target (False: plain max target)
    :param dueling: value and advantage streams (False: one Q head after the shared layers)
    :param target_update_interval: env steps between two hard target copies, counted RLlib's way (500)
    :param max_grad_norm: global gradient-norm clip (RLlib's 40)
    Other arguments are DQN's; ``policy_kwargs`` go to :class:`ContextDQNPolicy` (``net_arch``: the shared layers,
    ``head_arch``: each stream's hidden layers).
    """

    policy_aliases = {"MlpPolicy": ContextDQNPolicy}

    def __init__(self, policy, env, *args, double_q: bool = True, dueling: bool = True,
                 target_update_interval: int = 500, max_grad_norm: float = 40.0, **kwargs):
        if not isinstance(double_q, bool) or not isinstance(dueling, bool):
            raise ConfigError(f"double_q and dueling must be True or False, got {double_q!r} and {dueling!r}")
        if "dueling" in (kwargs.get("policy_kwargs") or {}):
            raise ConfigError("pass dueling to ContextDQN, not in policy_kwargs")
        self.double_q, self.dueling = double_q, dueling
        self._last_target_update = 0  # env steps at the last target copy (RLlib's LAST_TARGET_UPDATE_TS)
        super().__init__(policy, env, *args, target_update_interval=target_update_interval,
                         max_grad_norm=max_grad_norm, **kwargs)

    def _setup_model(self) -> None:
        self.policy_kwargs = dict(self.policy_kwargs, dueling=self.dueling)
        super()._setup_model()

    def _setup_learn(self, *args, **kwargs):
        """Quiet default logger (no ``SB3-<time>`` folder in the temp directory, as ContextSAC), and epsilon at
        the current progress: SB3 sets it only after the first step, and this class acts on it from the first."""
        if not self._custom_logger and self.tensorboard_log is None:
            from stable_baselines3.common.logger import HumanOutputFormat, Logger

            self.set_logger(Logger(folder=None, output_formats=[HumanOutputFormat(sys.stdout)] if self.verbose >= 1 else []))
        total_timesteps, callback = super()._setup_learn(*args, **kwargs)
        if total_timesteps > 0:  # learn(0) trains nothing (SB3's own DQN accepts it too)
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
        self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
        return total_timesteps, callback

    def _on_step(self) -> None:
        """After each vector step: the exploration rate only (the target copy is in :meth:`train`, RLlib's way)."""
        self._n_calls += 1
        self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
        self.logger.record("rollout/exploration_rate", self.exploration_rate)

    def _sample_action(self, learning_starts: int, action_noise=None, n_envs: int = 1):
        """Epsilon-greedy from the first step (no uniform warm-up before ``learning_starts``, as RLlib)."""
        action, _ = self.predict(self._last_obs, deterministic=False)
        return action, action

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """Greedy actions; unless ``deterministic``, each observation's action is replaced, with probability
        ``exploration_rate`` and independently of the others, by a uniformly random one (numpy's global
        generator, which SB3 seeds)."""
        action, state = self.policy.predict(observation, state, episode_start, deterministic)
        if deterministic or self.exploration_rate <= 0:
            return action, state
        shape = np.shape(action)
        explore = np.random.random_sample(shape) < self.exploration_rate
        random_action = np.random.randint(int(self.action_space.n), size=shape)
        return np.where(explore, random_action, action).astype(np.asarray(action).dtype), state

    @torch.no_grad()
    def q_target(self, rewards: torch.Tensor, dones: torch.Tensor, discounts, next_observations: torch.Tensor) -> torch.Tensor:
        """The TD target of a batch (:func:`td_target`): double Q when ``double_q``, else the max target."""
        next_q_online = self.q_net(next_observations) if self.double_q else None
        return td_target(rewards, dones, discounts, self.q_net_target(next_observations), next_q_online)

    def train(self, gradient_steps: int, batch_size: int = 32) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        buffer = self.replay_buffer
        prioritized = isinstance(buffer, PrioritizedReplay)
        weighted = prioritized or isinstance(buffer, ImportanceWeightedCSEBuffer)
        losses = []
        for _ in range(gradient_steps):
            batch = buffer.sample(batch_size, env=self._vec_normalize_env)
            weights = buffer.last_weights if weighted else None
            discounts = batch.discounts if getattr(batch, "discounts", None) is not None else self.gamma
            target = self.q_target(batch.rewards, batch.dones, discounts, batch.next_observations)
            q_taken = self.q_net(batch.observations).gather(1, batch.actions.long())
            per_sample = F.huber_loss(q_taken, target, reduction="none", delta=1.0)
            loss = (per_sample if weights is None else weights * per_sample).mean()
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
            if prioritized:
                buffer.update_priorities((q_taken - target).abs().detach().cpu().numpy())
            if self.num_timesteps - self._last_target_update >= self.target_update_interval:
                polyak_update(self.q_net.parameters(), self.q_net_target.parameters(), self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
                self._last_target_update = self.num_timesteps
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))
