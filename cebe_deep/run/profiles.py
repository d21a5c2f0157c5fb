"""The two training profiles, task by task: ``quick`` (small networks, minutes) and ``authors`` (the authors'
protocol and budgets, docs/authors_protocol.md).  :func:`cebe_deep.run.config.make_config` starts from these
settings and applies the overrides."""

from __future__ import annotations

from typing import Any

__all__ = ["ENV_STEPS_PER_ITERATION", "AUTHORS_ITERATIONS", "DQN_ENV_STEPS_PER_ITERATION", "authors_settings",
           "PROFILE_SETTINGS", "DEFAULT_SETTINGS"]

#: Env steps per RLlib iteration of the authors' pipeline on a 2-core machine (500 iterations = 52-54k steps).
ENV_STEPS_PER_ITERATION = 107
#: The authors' iteration budget per task (their run scripts).  DQN iterations last at least 1,000 env steps.
AUTHORS_ITERATIONS = {"SimpleDirection": 500, "PendulumGoal": 1_000, "CartGoal": 2_000, "CheetahVelocity": 5_000,
                      "AntDirection": 10_000, "AntGoal": 10_000,
                      "NoisyPendulumGoal": 1_000}  # not the authors' task: PendulumGoal's budget (open question 1)
#: Env steps per RLlib DQN iteration (``min_sample_timesteps_per_iteration = 1000``; a training step samples one step
#: of each of the 8 envs, so an iteration is exactly 125 training steps): CartGoal's 2,000 iterations are 2M env steps.
DQN_ENV_STEPS_PER_ITERATION = 1_000


def authors_settings(task: str, **settings: Any) -> dict[str, Any]:
    common = dict(total_steps=AUTHORS_ITERATIONS[task] * ENV_STEPS_PER_ITERATION, n_envs=8, train_freq=1,
                  gradient_steps=1, batch_size=256, tau=5e-3, net_arch=(256, 256), init="authors",
                  replay="prioritized", initial_entropy=1.0, checkpoint_every=10_000, critic_loss="huber")
    return common | settings


#: PendulumGoal's settings, shared by NoisyPendulumGoal (open question 1) in each profile.
PENDULUM_QUICK = dict(total_steps=30_000, gamma=0.99, learning_starts=1_000, net_arch=(64, 64), checkpoint_every=5_000)
PENDULUM_AUTHORS = dict(gamma=0.99, actor_learning_rate=2e-4, critic_learning_rate=8e-4, entropy_learning_rate=9e-4,
                        learning_starts=256, buffer_size=100_000, priority_alpha=1.0, priority_beta=0.0)
# The Ants' 1M-transition buffers are 1.7 GiB (SAC, LDR) and 4.1 GiB (CSE, with its stored partials): a checkpoint
# every 100k env steps (about 6 minutes) keeps writing them to about 4% of the run at 260 MB/s.
ANT_AUTHORS = dict(gamma=0.99, actor_learning_rate=3e-5, critic_learning_rate=3e-4, entropy_learning_rate=1e-4,
                   learning_starts=256, buffer_size=1_000_000, priority_alpha=0.6, priority_beta=0.4,
                   checkpoint_every=100_000)

PROFILE_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        "SimpleDirection": dict(
            total_steps=10_000, gamma=0.9, learning_starts=1_000, net_arch=(64, 64), checkpoint_every=2_500
        ),
        "PendulumGoal": PENDULUM_QUICK,
        "CartGoal": dict(total_steps=50_000, gamma=0.99, learning_starts=1_000, net_arch=(64, 64), learning_rate=1e-4),
        "CheetahVelocity": dict(total_steps=50_000, gamma=0.99, learning_starts=5_000, net_arch=(64, 64)),
        "AntDirection": dict(total_steps=50_000, gamma=0.99, learning_starts=5_000, net_arch=(64, 64)),
        "AntGoal": dict(total_steps=50_000, gamma=0.99, learning_starts=5_000, net_arch=(64, 64)),
        # Not the authors' task (open question 1): PendulumGoal's settings.
        "NoisyPendulumGoal": PENDULUM_QUICK,
    },
    # The authors' utils/train_kwargs.py and RLlib 2.44's SAC defaults, task by task (docs/authors_protocol.md).
    "authors": {
        "SimpleDirection": authors_settings(
            "SimpleDirection",
            gamma=0.9,
            actor_learning_rate=1e-3,
            critic_learning_rate=2e-3,
            entropy_learning_rate=4e-4,
            learning_starts=256,
            buffer_size=1_000_000,
            priority_alpha=0.6,
            priority_beta=0.4,
        ),
        "PendulumGoal": authors_settings("PendulumGoal", **PENDULUM_AUTHORS),
        # Not the authors' task (open question 1): PendulumGoal's settings.
        "NoisyPendulumGoal": authors_settings("NoisyPendulumGoal", **PENDULUM_AUTHORS),
        "CheetahVelocity": authors_settings(
            "CheetahVelocity",
            gamma=0.99,
            actor_learning_rate=2e-4,
            critic_learning_rate=8e-4,
            entropy_learning_rate=9e-4,
            learning_starts=10_000,
            buffer_size=100_000,
            priority_alpha=0.6,
            priority_beta=0.4,
            checkpoint_every=25_000,
        ),
        "AntDirection": authors_settings("AntDirection", **ANT_AUTHORS),
        # AntGoal: the Ants' settings with the authors' smaller initial entropy coefficient.
        "AntGoal": authors_settings("AntGoal", **ANT_AUTHORS, initial_entropy=0.01),
        # RLlib's DQN (cebe_deep.learn.dqn.ContextDQN): double Q, dueling heads, prioritized replay 50k (alpha 0.6, beta
        # 0.4), lr 5e-4, batch 32, epsilon 1 -> 0.02 over 10k env steps, one tanh layer of 256 shared by two streams
        # with a ReLU layer of 256 each; one update per vector step of 8 envs (training_intensity None), learning
        # after 1,000 env steps (SB3 makes its first update 8 steps later); 2,000 iterations of 1,000 env steps.
        "CartGoal": dict(
            total_steps=AUTHORS_ITERATIONS["CartGoal"] * DQN_ENV_STEPS_PER_ITERATION,
            n_envs=8,
            train_freq=1,
            gradient_steps=1,
            gamma=0.99,
            learning_rate=5e-4,
            batch_size=32,
            buffer_size=50_000,
            learning_starts=1_000,
            net_arch=(256,),
            head_arch=(256,),
            init="authors",
            double_q=True,
            dueling=True,
            replay="prioritized",
            priority_alpha=0.6,
            priority_beta=0.4,
            checkpoint_every=100_000,
            exploration_steps=10_000,
            exploration_final_eps=0.02,
        ),
    },
}
DEFAULT_SETTINGS = dict(total_steps=20_000, gamma=0.99, learning_starts=1_000, net_arch=(64, 64))
