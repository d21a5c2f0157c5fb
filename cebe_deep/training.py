"""Train one run: the environments, the SB3 learner, resumable checkpoints.

A run is one (task, method, seed): an SB3 off-policy learner (SAC for continuous actions, DQN for discrete)
trained in the base context c0 with one of

- ``baseline``: no augmentation;
- ``cse``: the :class:`~cebe_deep.cse.ContextSampleEnhancementBuffer` replay buffer (arXiv 2507.07348, Section 5);
- ``ldr``: :class:`~cebe_deep.randomization.LocalDomainRandomization` (c0 + Gaussian of scale eps per episode);
- ``gdr``: :class:`~cebe_deep.randomization.GlobalDomainRandomization` (uniform over the context box).

Run directory layout (everything a resumed or later evaluation needs)::

    run_dir/config.json          the TrainConfig
    run_dir/monitor/<k>.monitor.csv   SB3 Monitor: one row per finished episode of env k (r, l, t)
    run_dir/checkpoint/          model.zip, replay_buffer.pkl, monitor/, elapsed.json (while training)
    run_dir/model.zip            the final model
    run_dir/train_summary.json   steps, seconds (all segments), episodes, steps per second
    run_dir/evaluation.csv       tidy: one row per (context, episode) of the deterministic policy

A checkpoint is written atomically (a temporary directory, then a rename) every ``checkpoint_every`` env
steps.  Resuming loads the model (its ``num_timesteps`` is where training continues), the replay buffer
(with CSE's perturbation pool and the priorities) and the monitor files of that moment, and restarts the
running episodes from a reset.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from gymnasium import spaces
from stable_baselines3 import DQN, SAC
from stable_baselines3.common.callbacks import CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import load_results

from cebe_deep.config import ConfigError, TrainConfig, make_task_env, validate_config
from cebe_deep.cse import ContextSampleEnhancementBuffer
from cebe_deep.randomization import GlobalDomainRandomization, LocalDomainRandomization
from cebe_deep.replay import PrioritizedCSEBuffer, PrioritizedReplayBuffer
from cebe_deep.sac import ContextSAC

__all__ = ["TrainResult", "make_training_env", "make_vec_training_env", "make_model", "train", "save_checkpoint",
           "load_model", "is_trained", "episode_log"]


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    config: TrainConfig
    num_timesteps: int
    seconds: float
    resumed_from: int
    episodes: int


def make_training_env(config: TrainConfig):
    """One environment a run trains on: the task at c0, wrapped for LDR/GDR, with Jacobians only for CSE."""
    jacobians = config.method == "cse" and config.cse_mode == "first_order"
    env = make_task_env(config.task, config.context, jacobians=jacobians, dynamics=config.dynamics)
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
    """The SB3 learner for ``config``: SAC (:class:`~cebe_deep.sac.ContextSAC`) for Box actions, DQN for
    Discrete ones; CSE and prioritized replay through the buffer class."""
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
    buffer_kwargs: dict = {}
    if config.method == "cse":
        buffer_class = ContextSampleEnhancementBuffer
        buffer_kwargs = dict(state_dim=task.state_dim, context_dim=task.context_dim, eps=config.eps,
                             perturbation=config.perturbation, cse_fraction=config.cse_fraction, mode=config.cse_mode,
                             simulate=task.simulate if config.cse_mode == "exact" else None)
    if config.replay == "prioritized":
        buffer_class = PrioritizedCSEBuffer if config.method == "cse" else PrioritizedReplayBuffer
        buffer_kwargs |= dict(priority_alpha=config.priority_alpha, priority_beta=config.priority_beta)
    if buffer_kwargs:
        common |= dict(replay_buffer_class=buffer_class, replay_buffer_kwargs=buffer_kwargs)
    if isinstance(env.action_space, spaces.Discrete):
        # DQN: hard target updates every 1,000 steps (SAC's soft tau does not carry over to DQN's schedule).
        exploration = {}
        if config.exploration_steps is not None:
            exploration["exploration_fraction"] = min(1.0, config.exploration_steps / config.total_steps)
        if config.exploration_final_eps is not None:
            exploration["exploration_final_eps"] = config.exploration_final_eps
        return DQN("MlpPolicy", env, tau=1.0, target_update_interval=1_000, **exploration, **common)
    ent_coef = "auto" if config.initial_entropy is None else f"auto_{config.initial_entropy}"
    return ContextSAC("MlpPolicy", env, tau=config.tau, ent_coef=ent_coef, actor_learning_rate=config.actor_learning_rate,
                      critic_learning_rate=config.critic_learning_rate,
                      entropy_learning_rate=config.entropy_learning_rate, authors_init=config.init == "authors", **common)


def _algorithm(config: TrainConfig):
    env = make_task_env(config.task, dynamics=config.dynamics)
    discrete = isinstance(env.action_space, spaces.Discrete)
    env.close()
    return DQN if discrete else ContextSAC


def save_checkpoint(model, run_dir: Path, elapsed: float = 0.0) -> None:
    """Write model, replay buffer, the monitor files and the elapsed training time to ``run_dir/checkpoint``,
    atomically (a temporary directory, then a rename)."""
    tmp = run_dir / "checkpoint.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp / "model.zip")
    model.save_replay_buffer(tmp / "replay_buffer.pkl")
    if (run_dir / "monitor").exists():
        shutil.copytree(run_dir / "monitor", tmp / "monitor")
    (tmp / "elapsed.json").write_text(json.dumps({"seconds": elapsed}))
    final, old = run_dir / "checkpoint", run_dir / "checkpoint.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


class AtomicCheckpointCallback(CheckpointCallback):
    """SB3's ``CheckpointCallback`` (every ``save_freq`` vector steps), writing through :func:`save_checkpoint`
    so that a crash mid-write never leaves a half checkpoint, and never after the last step."""

    def __init__(self, save_freq: int, run_dir: Path, total_steps: int, elapsed_before: float):
        super().__init__(save_freq=save_freq, save_path=str(run_dir / "checkpoint"))
        self.run_dir, self.total_steps = run_dir, total_steps
        self.elapsed_before, self.began = elapsed_before, time.perf_counter()

    def _init_callback(self) -> None:
        pass  # the checkpoint directory is made by save_checkpoint

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0 and self.num_timesteps < self.total_steps:
            save_checkpoint(self.model, self.run_dir, self.elapsed_before + time.perf_counter() - self.began)
        return True


def is_trained(run_dir: Path) -> bool:
    return (Path(run_dir) / "model.zip").exists() and (Path(run_dir) / "train_summary.json").exists()


def episode_log(run_dir: str | Path) -> pd.DataFrame:
    """Every finished training episode of a run (SB3's Monitor files of all its envs): columns r, l, t, index."""
    folder = Path(run_dir) / "monitor"
    if not any(folder.glob("*.monitor.csv")):
        return pd.DataFrame(columns=["r", "l", "t", "index"])
    return load_results(str(folder))


def _check_run_dir(config: TrainConfig, run_dir: Path) -> None:
    config_path = run_dir / "config.json"
    if not config_path.exists():
        config_path.write_text(json.dumps(config.to_json(), indent=2))
        return
    existing = TrainConfig.from_json(json.loads(config_path.read_text()))
    differences = existing.differences(config)
    if differences:
        raise ConfigError(f"{run_dir} holds a run with a different config ({'; '.join(differences)}); "
                          "use another --out directory")


def train(config: TrainConfig, run_dir: str | Path, progress: bool = True) -> TrainResult:
    """Train one run in ``run_dir``, resuming from ``run_dir/checkpoint`` if an earlier run was interrupted.

    A finished run is not retrained.  A run directory holding a different config is an error (naming the
    fields that differ), so that resumed runs never mix settings.
    """
    validate_config(config)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_run_dir(config, run_dir)
    if is_trained(run_dir):
        summary = json.loads((run_dir / "train_summary.json").read_text())
        return TrainResult(run_dir, config, summary["num_timesteps"], summary["seconds"], summary["resumed_from"],
                           summary["episodes"])
    if torch.get_num_threads() > 1 and "CEBE_TORCH_THREADS" not in os.environ:
        torch.set_num_threads(1)  # one thread per run: runs go in parallel instead (set CEBE_TORCH_THREADS to keep more)
    elif "CEBE_TORCH_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["CEBE_TORCH_THREADS"]))

    checkpoint = run_dir / "checkpoint"
    elapsed = 0.0
    if (checkpoint / "model.zip").exists():
        shutil.rmtree(run_dir / "monitor", ignore_errors=True)
        if (checkpoint / "monitor").exists():
            shutil.copytree(checkpoint / "monitor", run_dir / "monitor")
        elapsed = json.loads((checkpoint / "elapsed.json").read_text())["seconds"]
        env = make_vec_training_env(config, run_dir / "monitor", append=True)
        model = _algorithm(config).load(checkpoint / "model.zip", env=env, device="cpu")
        model.load_replay_buffer(checkpoint / "replay_buffer.pkl")
        model._last_obs = None  # restart the running episodes: SB3 then resets the environments
    else:
        shutil.rmtree(run_dir / "monitor", ignore_errors=True)
        env = make_vec_training_env(config, run_dir / "monitor")
        model = make_model(config, env)
    start = int(model.num_timesteps)
    began = time.perf_counter()
    callback = AtomicCheckpointCallback(max(config.checkpoint_every // config.n_envs, 1), run_dir, config.total_steps,
                                        elapsed)
    with tempfile.TemporaryDirectory() as log_dir:  # SB3's logger folder: removed, not left in /tmp
        from stable_baselines3.common.logger import configure

        model.set_logger(configure(log_dir, []))
        model.learn(total_timesteps=config.total_steps - start, callback=callback, reset_num_timesteps=False,
                    progress_bar=progress)
    seconds = elapsed + time.perf_counter() - began
    model.save(run_dir / "model.zip")
    env.close()
    episodes = len(episode_log(run_dir))
    summary = dict(num_timesteps=int(model.num_timesteps), seconds=seconds, resumed_from=start, episodes=episodes,
                   n_envs=config.n_envs, steps_per_second=model.num_timesteps / max(seconds, 1e-9))
    (run_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    shutil.rmtree(checkpoint, ignore_errors=True)
    return TrainResult(run_dir, config, int(model.num_timesteps), seconds, start, episodes)


def load_model(run_dir: str | Path):
    """The trained model of ``run_dir`` (SAC or DQN, as the config says) and its config."""
    run_dir = Path(run_dir)
    if not (run_dir / "model.zip").exists():
        raise ConfigError(f"no trained model in {run_dir} (missing model.zip)")
    if not (run_dir / "config.json").exists():
        raise ConfigError(f"{run_dir} has model.zip but no config.json")
    config = TrainConfig.from_json(json.loads((run_dir / "config.json").read_text()))
    return _algorithm(config).load(run_dir / "model.zip", device="cpu"), config
