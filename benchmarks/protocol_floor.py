"""The floor under a training loop: a bare SAC update in plain torch and bare environment steps.

The authors' profile does one update of ``batch`` per vector step of ``n_envs`` env steps, so no loop that keeps
that protocol can spend less per env step than

    floor = (one bare SAC update) * gradient_steps / (train_freq * n_envs) + (one bare env step).

*Bare update*: twin critics and their targets, a tanh-Gaussian actor and a learned entropy coefficient, the
networks of the run (``net_arch``), one batch of random tensors already in memory; per update: the critics' soft
Bellman loss and Adam step, the actor's loss and step, the entropy coefficient's loss and step, the Polyak
update of the targets.  Nothing of SB3, no replay sampling, no logging: what any SAC implementation must do.
*Bare env step*: for MuJoCo tasks ``mujoco.mj_step`` of the task's own model ``frame_skip`` times with random
controls (no reward, observation, Monitor or vector env); for the others, the task's own ``step``.

:func:`floor_seconds_per_env_step` is used by ``bench_protocol.py``, which measures a training loop against it in
the same run.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from stable_baselines3.common.torch_layers import create_mlp
from torch import nn

from cebe_deep.run.config import TrainConfig
from cebe_deep.tasks import make_task


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (SB3's builder, the layers SB3's SAC networks are made of)."""
    return nn.Sequential(*create_mlp(sizes[0], sizes[-1], list(sizes[1:-1]), activation_fn=nn.ReLU))


class BareSAC:
    """The arithmetic of one SAC update, nothing else (see the module docstring)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: list[int], batch: int, gamma: float, tau: float,
                 learning_rate: float):
        self.actor = _mlp([obs_dim, *hidden, 2 * act_dim])
        self.critics = nn.ModuleList(_mlp([obs_dim + act_dim, *hidden, 1]) for _ in range(2))
        self.targets = nn.ModuleList(_mlp([obs_dim + act_dim, *hidden, 1]) for _ in range(2))
        self.targets.load_state_dict(self.critics.state_dict())
        self.log_alpha = torch.zeros(1, requires_grad=True)
        self.optimizers = [torch.optim.Adam(self.actor.parameters(), lr=learning_rate),
                           torch.optim.Adam(self.critics.parameters(), lr=learning_rate),
                           torch.optim.Adam([self.log_alpha], lr=learning_rate)]
        self.gamma, self.tau, self.target_entropy = gamma, tau, -float(act_dim)
        generator = torch.Generator().manual_seed(0)
        self.batch = dict(obs=torch.randn(batch, obs_dim, generator=generator),
                          actions=torch.rand(batch, act_dim, generator=generator) * 2 - 1,
                          rewards=torch.randn(batch, 1, generator=generator),
                          next_obs=torch.randn(batch, obs_dim, generator=generator),
                          dones=torch.zeros(batch, 1))

    def _act(self, obs):
        mean, log_std = self.actor(obs).chunk(2, dim=-1)
        std = log_std.clamp(-20, 2).exp()
        noise = mean + std * torch.randn_like(mean)
        action = torch.tanh(noise)
        log_prob = (torch.distributions.Normal(mean, std).log_prob(noise)
                    - torch.log1p(-action.pow(2) + 1e-6)).sum(-1, keepdim=True)
        return action, log_prob

    def update(self) -> None:
        b = self.batch
        actor_optimizer, critic_optimizer, alpha_optimizer = self.optimizers
        action, log_prob = self._act(b["obs"])
        alpha_loss = -(self.log_alpha * (log_prob.detach() + self.target_entropy)).mean()
        alpha_optimizer.zero_grad()
        alpha_loss.backward()
        alpha_optimizer.step()
        alpha = self.log_alpha.detach().exp()
        with torch.no_grad():
            next_action, next_log_prob = self._act(b["next_obs"])
            pair = torch.cat([b["next_obs"], next_action], dim=-1)
            next_q = torch.min(self.targets[0](pair), self.targets[1](pair)) - alpha * next_log_prob
            target = b["rewards"] + (1 - b["dones"]) * self.gamma * next_q
        pair = torch.cat([b["obs"], b["actions"]], dim=-1)
        critic_loss = sum(0.5 * ((critic(pair) - target) ** 2).mean() for critic in self.critics)
        critic_optimizer.zero_grad()
        critic_loss.backward()
        critic_optimizer.step()
        pair = torch.cat([b["obs"], action], dim=-1)
        actor_loss = (alpha * log_prob - torch.min(self.critics[0](pair), self.critics[1](pair))).mean()
        actor_optimizer.zero_grad()
        actor_loss.backward()
        actor_optimizer.step()
        with torch.no_grad():
            for target_parameter, parameter in zip(self.targets.parameters(), self.critics.parameters()):
                target_parameter.mul_(1 - self.tau).add_(parameter, alpha=self.tau)


def bare_update_seconds(config: TrainConfig, obs_dim: int, act_dim: int, updates: int) -> float:
    """Seconds per bare SAC update at the run's network, batch and discount (after 5 untimed updates)."""
    sac = BareSAC(obs_dim, act_dim, list(config.net_arch), config.batch_size, config.gamma, config.tau,
                  config.learning_rate)
    for _ in range(5):
        sac.update()
    began = time.perf_counter()
    for _ in range(updates):
        sac.update()
    return (time.perf_counter() - began) / updates


def bare_env_step_seconds(task: str, steps: int, seed: int = 0) -> float:
    """Seconds per bare env step of ``task`` (see the module docstring)."""
    env = make_task(task)
    env.reset(seed=seed)
    core = env.unwrapped
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    actions = rng.uniform(low, high, size=(steps, *env.action_space.shape)).astype(env.action_space.dtype)
    if hasattr(core, "frame_skip") and hasattr(core, "data"):
        import mujoco

        began = time.perf_counter()
        for action in actions:
            core.data.ctrl[:] = action
            mujoco.mj_step(core.model, core.data, nstep=core.frame_skip)
        return (time.perf_counter() - began) / steps
    began = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = core.step(action)
        if terminated or truncated:
            core.reset()
    return (time.perf_counter() - began) / steps


def floor_seconds_per_env_step(config: TrainConfig, updates: int = 200, env_steps: int = 2000) -> dict[str, float]:
    """``update`` (s per bare update), ``env`` (s per bare env step), ``updates_per_env_step`` and ``floor``
    (s per env step) for the run ``config`` describes."""
    env = make_task(config.task)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    update = bare_update_seconds(config, obs_dim, act_dim, updates)
    step = bare_env_step_seconds(config.task, env_steps)
    per_env_step = config.gradient_steps / (config.train_freq * config.n_envs)
    return dict(update=update, env=step, updates_per_env_step=per_env_step, floor=update * per_env_step + step)
