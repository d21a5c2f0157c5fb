"""SB3's SAC with the three things the authors' protocol needs and SB3 lacks; everything else is SB3's.

:class:`ContextSAC` adds

1. **separate learning rates** for the actor, the critics and the entropy coefficient (RLlib's
   ``actor_lr``, ``critic_lr``, ``alpha_lr``), through SB3's ``_update_learning_rate`` hook;
2. **the authors' initialisation** (``authors_init=True``): Xavier-uniform hidden weights, zero biases, and
   orthogonal output layers with gain 0.01 (RLlib's SAC default on the new API stack);
3. **prioritized replay** (a :class:`cebe_deep.learn.replay.PrioritizedReplay` buffer): the critic loss of sample i
   is weighted by its importance weight w_i, and the mean absolute TD error of the two critics,
   ``(|Q_1(s, a) - y| + |Q_2(s, a) - y|) / 2`` with the soft target
   ``y = r + gamma (1 - done) (min_j Q'_j(s', a') - alpha log pi(a'|s'))``, becomes its new priority (RLlib's);
   an :class:`~cebe_deep.learn.importance.ImportanceWeightedCSEBuffer` (importance-weighted CSE, uniform replay)
   sets ``last_weights`` as well, and its weights are applied the same way (it has no priorities);
4. **the critic loss** ``critic_loss="huber"``: each critic's loss is the (weighted) mean of the Huber loss
   with delta 1 of its TD error, as RLlib's SAC computes it, instead of SB3's half mean squared error.

Its policy, :class:`ContextSACPolicy`, is SB3's ``SACPolicy`` less two costs that change no number (a seeded run
ends with the same parameters to the bit: ``benchmarks/check_bit_identity.py``, ``tests/deep/test_sac_speed.py``):
torch's argument checks of the actor's Gaussian (``validate_args``), and the walk over every module when SB3 sets
the training mode it already has (three times per vector step).  Together about 4% of an AntDirection vector step.

With a uniform buffer, the MSE loss and no per-network rates it is exactly SB3's SAC: :meth:`train` hands
over to ``SAC.train``.  The update below is the standard SAC update (Haarnoja et al. 2018, as SB3 orders it:
entropy coefficient, critics, actor, Polyak step), with the weights and priorities added.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F
from stable_baselines3 import SAC
from stable_baselines3.common.distributions import SquashedDiagGaussianDistribution
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.sac.policies import SACPolicy
from torch.distributions import Normal

from cebe_deep.learn.importance import ImportanceWeightedCSEBuffer
from cebe_deep.learn.replay import PrioritizedReplay

__all__ = ["ContextSAC", "ContextSACPolicy", "authors_initialisation"]


def authors_initialisation(policy) -> None:
    """Xavier-uniform hidden layers, zero biases, orthogonal output layers (gain 0.01) in an SB3 SAC policy;
    the target critics are reset to the critics."""
    def hidden(layer):
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)

    def output(layer):
        torch.nn.init.orthogonal_(layer.weight, gain=0.01)
        torch.nn.init.zeros_(layer.bias)

    with torch.no_grad():
        for layer in policy.actor.latent_pi:
            if isinstance(layer, torch.nn.Linear):
                hidden(layer)
        output(policy.actor.mu)
        if isinstance(policy.actor.log_std, torch.nn.Linear):
            output(policy.actor.log_std)
        for q_network in policy.critic.q_networks:
            linears = [layer for layer in q_network if isinstance(layer, torch.nn.Linear)]
            for layer in linears[:-1]:
                hidden(layer)
            output(linears[-1])
        policy.critic_target.load_state_dict(policy.critic.state_dict())


class UncheckedSquashedGaussian(SquashedDiagGaussianDistribution):
    """SB3's tanh-squashed diagonal Gaussian whose torch ``Normal`` skips argument validation (the checks that its
    mean is real, its scale positive and each sample real, run on every call): the same numbers, less work.  The
    network's outputs are finite by construction; a NaN would show in the losses."""

    def proba_distribution(self, mean_actions: torch.Tensor, log_std: torch.Tensor):
        # SB3's DiagGaussianDistribution.proba_distribution, with validate_args=False
        self.distribution = Normal(mean_actions, torch.ones_like(mean_actions) * log_std.exp(), validate_args=False)
        return self


class ContextSACPolicy(SACPolicy):
    """SB3's ``SACPolicy`` with an unchecked actor Gaussian (:class:`UncheckedSquashedGaussian`) and a
    :meth:`set_training_mode` that returns at once when the actor and the critics are in that mode already
    (SB3 calls it before every update and every action; the networks have no dropout or batch norm, so the mode
    changes no number)."""

    def make_actor(self, features_extractor=None):
        actor = super().make_actor(features_extractor)
        if type(actor.action_dist) is SquashedDiagGaussianDistribution:
            actor.action_dist = UncheckedSquashedGaussian(actor.action_dist.action_dim, actor.action_dist.epsilon)
        return actor

    def set_training_mode(self, mode: bool) -> None:
        if self.training == mode and self.actor.training == mode and self.critic.training == mode:
            return
        super().set_training_mode(mode)


class ContextSAC(SAC):
    """SB3 SAC plus per-network learning rates, the authors' initialisation and prioritized replay.

    :param actor_learning_rate, critic_learning_rate, entropy_learning_rate: constants; None keeps
        ``learning_rate`` (SB3's single schedule) for that network
    :param authors_init: apply :func:`authors_initialisation` when the networks are built
    :param critic_loss: ``"mse"`` (SB3) or ``"huber"`` (RLlib)
    Other arguments are SAC's.  ``"MlpPolicy"`` is :class:`ContextSACPolicy`.
    """

    policy_aliases = {**SAC.policy_aliases, "MlpPolicy": ContextSACPolicy}

    def __init__(self, *args, actor_learning_rate: float | None = None, critic_learning_rate: float | None = None,
                 entropy_learning_rate: float | None = None, authors_init: bool = False, critic_loss: str = "mse",
                 **kwargs):
        if critic_loss not in ("mse", "huber"):
            raise ValueError(f"critic_loss must be 'mse' or 'huber', got {critic_loss!r}")
        self.critic_loss = critic_loss
        self.actor_learning_rate = actor_learning_rate
        self.critic_learning_rate = critic_learning_rate
        self.entropy_learning_rate = entropy_learning_rate
        self.authors_init = authors_init
        super().__init__(*args, **kwargs)

    def _setup_learn(self, *args, **kwargs):
        """SB3 would make an empty ``SB3-<time>`` folder in the temp directory for its default logger (no
        tensorboard); log to stdout (verbose >= 1) or nowhere instead, and leave no folder behind."""
        if not self._custom_logger and self.tensorboard_log is None:
            from stable_baselines3.common.logger import HumanOutputFormat, Logger

            self.set_logger(Logger(folder=None, output_formats=[HumanOutputFormat(sys.stdout)] if self.verbose >= 1 else []))
        return super()._setup_learn(*args, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        if self.authors_init:
            authors_initialisation(self.policy)
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer]
                                   + ([self.ent_coef_optimizer] if self.ent_coef_optimizer is not None else []))

    def _update_learning_rate(self, optimizers) -> None:
        """SB3 calls this with [actor, critic, (entropy)] optimizers before each training round."""
        shared = self.lr_schedule(self._current_progress_remaining)
        own = {id(self.actor.optimizer): self.actor_learning_rate, id(self.critic.optimizer): self.critic_learning_rate}
        if self.ent_coef_optimizer is not None:
            own[id(self.ent_coef_optimizer)] = self.entropy_learning_rate
        for optimizer in optimizers:
            rate = own.get(id(optimizer))
            for group in optimizer.param_groups:
                group["lr"] = shared if rate is None else rate
        if hasattr(self, "_logger"):
            self.logger.record("train/learning_rate", shared)

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        prioritized = isinstance(self.replay_buffer, PrioritizedReplay)
        # importance-weighted CSE sets per-sample weights on uniform replay too (priority weights x importance weights
        # on prioritized replay)
        weighted = prioritized or isinstance(self.replay_buffer, ImportanceWeightedCSEBuffer)
        if not weighted and getattr(self, "critic_loss", "mse") == "mse":
            return super().train(gradient_steps, batch_size)
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer]
                                   + ([self.ent_coef_optimizer] if self.ent_coef_optimizer is not None else []))
        buffer = self.replay_buffer
        for gradient_step in range(gradient_steps):
            batch = buffer.sample(batch_size)
            weights = buffer.last_weights if weighted else None
            discounts = batch.discounts if getattr(batch, "discounts", None) is not None else self.gamma
            actions_pi, log_prob = self.actor.action_log_prob(batch.observations)
            log_prob = log_prob.reshape(-1, 1)

            if self.ent_coef_optimizer is not None:
                ent_coef = torch.exp(self.log_ent_coef.detach())
                ent_coef_loss = -(self.log_ent_coef * (log_prob + self.target_entropy).detach()).mean()
                self.ent_coef_optimizer.zero_grad()
                ent_coef_loss.backward()
                self.ent_coef_optimizer.step()
            else:
                ent_coef = self.ent_coef_tensor

            with torch.no_grad():
                next_actions, next_log_prob = self.actor.action_log_prob(batch.next_observations)
                next_q = torch.cat(self.critic_target(batch.next_observations, next_actions), dim=1)
                next_q = next_q.min(dim=1, keepdim=True).values - ent_coef * next_log_prob.reshape(-1, 1)
                target_q = batch.rewards + (1 - batch.dones) * discounts * next_q

            current_q = self.critic(batch.observations, batch.actions)
            if self.critic_loss == "huber":
                per_sample = [F.huber_loss(q, target_q, reduction="none", delta=1.0) for q in current_q]
            else:
                per_sample = [0.5 * (q - target_q) ** 2 for q in current_q]
            critic_loss = sum((loss if weights is None else weights * loss).mean() for loss in per_sample)
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()
            if prioritized:
                td_error = torch.stack([(q - target_q).abs() for q in current_q]).mean(dim=0)
                buffer.update_priorities(td_error.detach().cpu().numpy())

            q_pi = torch.cat(self.critic(batch.observations, actions_pi), dim=1).min(dim=1, keepdim=True).values
            actor_loss = (ent_coef * log_prob - q_pi).mean()
            self.actor.optimizer.zero_grad()
            actor_loss.backward()
            self.actor.optimizer.step()

            if gradient_step % self.target_update_interval == 0:
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/critic_loss", float(critic_loss.item()))
        self.logger.record("train/actor_loss", float(actor_loss.item()))
        self.logger.record("train/ent_coef", float(np.asarray(ent_coef.item())))
