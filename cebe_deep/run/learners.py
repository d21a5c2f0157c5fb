"""What a run trains with: its environments (the task at c0, wrapped for LDR / GDR, with Jacobians for CSE),
the replay buffer (:data:`REPLAY_BUFFERS`, one table for every combination of CSE variant and replay), and the
SB3 learner (:class:`~cebe_deep.learn.sac.ContextSAC` for Box actions, DQN for Discrete ones)."""

from __future__ import annotations

from pathlib import Path

from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.common.env_util import make_vec_env

from cebe_deep.learn.cse import ContextSampleEnhancementBuffer
from cebe_deep.learn.dqn import ContextDQN
from cebe_deep.learn.importance import ImportanceWeightedCSEBuffer, PrioritizedImportanceCSEBuffer
from cebe_deep.learn.inexact import FiniteDifferenceJacobians, InexactJacobianCSEBuffer, PrioritizedInexactJacobianCSEBuffer
from cebe_deep.learn.randomization import GlobalDomainRandomization, LocalDomainRandomization
from cebe_deep.learn.replay import PrioritizedCSEBuffer, PrioritizedReplayBuffer
from cebe_deep.learn.sac import ContextSAC
from cebe_deep.run.config import TrainConfig, make_task_env

__all__ = ["REPLAY_BUFFERS", "replay_buffer", "task_env", "make_training_env", "make_vec_training_env", "make_model",
           "algorithm_class"]

#: (samples, replay) -> SB3 replay buffer class; None: SB3's default uniform buffer.  ``samples`` is ``plain``
#: (baseline, LDR, GDR), ``cse`` (the paper's first-order CSE), ``importance`` (open question 1:
#: :mod:`cebe_deep.learn.importance`) or ``inexact`` (open question 3: :mod:`cebe_deep.learn.inexact`).
REPLAY_BUFFERS = {
    ("plain", "uniform"): None,
    ("plain", "prioritized"): PrioritizedReplayBuffer,
    ("cse", "uniform"): ContextSampleEnhancementBuffer,
    ("cse", "prioritized"): PrioritizedCSEBuffer,
    ("importance", "uniform"): ImportanceWeightedCSEBuffer,
    ("importance", "prioritized"): PrioritizedImportanceCSEBuffer,
    ("inexact", "uniform"): InexactJacobianCSEBuffer,
    ("inexact", "prioritized"): PrioritizedInexactJacobianCSEBuffer,
}


def replay_buffer(config: TrainConfig, task) -> tuple[type | None, dict]:
    """The run's replay buffer class (:data:`REPLAY_BUFFERS`) and its keyword arguments (``task``: the unwrapped
    task at c0, for its dimensions, ``simulate`` and transition density)."""
    samples, kwargs = "plain", {}
    if config.method == "cse":
        samples = "cse"
        kwargs = dict(state_dim=task.state_dim, context_dim=task.context_dim, eps=config.eps,
                      perturbation=config.perturbation, cse_fraction=config.cse_fraction, mode=config.cse_mode,
                      simulate=task.simulate if config.cse_mode == "exact" else None)
        if config.cse_variant == "importance":
            samples = "importance"
            kwargs |= dict(log_density=task.transition_log_density, max_weight=config.max_weight)
        elif config.jacobian_noise != 0 or config.jacobian_bias != 1:
            samples = "inexact"
            kwargs |= dict(jacobian_noise=config.jacobian_noise, jacobian_bias=config.jacobian_bias)
    if config.replay == "prioritized":
        kwargs |= dict(priority_alpha=config.priority_alpha, priority_beta=config.priority_beta)
    return REPLAY_BUFFERS[samples, config.replay], kwargs


def task_env(config: TrainConfig, context=None, jacobians: bool = False):
    """The run's task (its ``dynamics``, ``dimension`` and ``task_noise``) at ``context`` (None: c0 of the config)."""
    return make_task_env(config.task, config.context if context is None else context, jacobians=jacobians,
                         dynamics=config.dynamics, dimension=config.dimension, noise=config.task_noise)


def make_training_env(config: TrainConfig):
    """One environment a run trains on: the task at c0, wrapped for LDR/GDR, with Jacobians only for CSE
    (closed form, or central differences of step ``fd_jacobians`` through
    :class:`~cebe_deep.learn.inexact.FiniteDifferenceJacobians`, with a twin environment for tasks without ``simulate``)."""
    jacobians = config.method == "cse" and config.cse_mode == "first_order"
    if jacobians and config.fd_jacobians is not None:
        env = task_env(config)
        twin = None if env.unwrapped.supports_simulate else task_env(config)
        return FiniteDifferenceJacobians(env, config.fd_jacobians, twin=twin)
    env = task_env(config, jacobians=jacobians)
    if config.method == "ldr":
        env = LocalDomainRandomization(env, eps=config.eps, base_context=config.context)
    elif config.method == "gdr":
        # The authors' protocol randomizes over their context box; the quick profile over ours.
        box = getattr(env.unwrapped, "authors_context_box", None) if config.profile == "authors" else None
        env = GlobalDomainRandomization(env, box=box)
    return env


def make_vec_training_env(config: TrainConfig, monitor_dir: str | Path | None = None, append: bool = False):
    """``config.n_envs`` training environments stepped together (SB3's ``DummyVecEnv``), each in a
    ``Monitor`` (episode log in ``monitor_dir/<k>.monitor.csv``, appended to when ``append``; LDR/GDR redraw
    each env's context per episode)."""
    if append:  # SB3's Monitor writes its header only when it creates the file
        append = monitor_dir is not None and all((Path(monitor_dir) / f"{k}.monitor.csv").exists()
                                                 for k in range(config.n_envs))
    return make_vec_env(lambda: make_training_env(config), n_envs=config.n_envs,
                        monitor_dir=None if monitor_dir is None else str(monitor_dir),
                        monitor_kwargs=dict(override_existing=not append))


def make_model(config: TrainConfig, env):
    """The SB3 learner for ``config``: SAC (:class:`~cebe_deep.learn.sac.ContextSAC`) for Box actions, DQN for
    Discrete ones (:class:`~cebe_deep.learn.dqn.ContextDQN` with ``init`` authors); CSE and prioritized replay
    through the buffer class."""
    task = env.get_attr("unwrapped")[0] if hasattr(env, "get_attr") else env.unwrapped
    common = dict(
        learning_rate=config.learning_rate,
        buffer_size=min(config.buffer_size, config.total_steps),
        learning_starts=config.learning_starts,
        batch_size=config.batch_size,
        gamma=config.gamma,
        train_freq=config.train_freq,
        gradient_steps=config.gradient_steps,
        policy_kwargs=dict(net_arch=list(config.net_arch)),
        seed=config.seed,
        verbose=0,
        device="cpu",
    )
    buffer_class, buffer_kwargs = replay_buffer(config, task)
    if buffer_class is not None:
        common |= dict(replay_buffer_class=buffer_class, replay_buffer_kwargs=buffer_kwargs)
    if isinstance(env.action_space, spaces.Discrete):
        # DQN: hard target updates every 1,000 steps (SAC's soft tau does not carry over to DQN's schedule).
        exploration = {}
        if config.exploration_steps is not None:
            exploration["exploration_fraction"] = min(1.0, config.exploration_steps / config.total_steps)
        if config.exploration_final_eps is not None:
            exploration["exploration_final_eps"] = config.exploration_final_eps
        if config.init == "authors":  # RLlib's DQN: its own target period (500 env steps) and gradient clip (40)
            common["policy_kwargs"]["head_arch"] = list(config.head_arch)
            return ContextDQN("MlpPolicy", env, double_q=config.double_q, dueling=config.dueling, **exploration, **common)
        return DQN("MlpPolicy", env, tau=1.0, target_update_interval=1_000, **exploration, **common)
    ent_coef = "auto" if config.initial_entropy is None else f"auto_{config.initial_entropy}"
    return ContextSAC("MlpPolicy", env, tau=config.tau, ent_coef=ent_coef, actor_learning_rate=config.actor_learning_rate,
                      critic_learning_rate=config.critic_learning_rate,
                      entropy_learning_rate=config.entropy_learning_rate, authors_init=config.init == "authors",
                      critic_loss=config.critic_loss, **common)


def algorithm_class(config: TrainConfig):
    """The SB3 class a run of ``config`` trains (DQN for Discrete actions, ContextSAC otherwise)."""
    env = task_env(config)
    discrete = isinstance(env.action_space, spaces.Discrete)
    env.close()
    if discrete:
        return ContextDQN if config.init == "authors" else DQN
    return ContextSAC
