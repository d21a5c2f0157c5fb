"""Train, evaluate and sweep the paper's deep experiments (section 5): configs, profiles, runs, executors.

A run is one (task, method, seed): an SB3 off-policy learner (SAC for continuous actions, DQN for discrete)
trained in the base context c0 with one of

- ``baseline``: no augmentation;
- ``cse``: the :class:`~cebe_deep.cse.ContextSampleEnhancementBuffer` replay buffer (paper section 5);
- ``ldr``: :class:`~cebe_deep.randomization.LocalDomainRandomization` (c0 + Gaussian of scale eps per episode);
- ``gdr``: :class:`~cebe_deep.randomization.GlobalDomainRandomization` (uniform over the context box).

Run directory layout (everything a resumed or later evaluation needs)::

    run_dir/config.json        the TrainConfig
    run_dir/checkpoint/        model.zip, replay_buffer.pkl, progress.json (while training; resumable)
    run_dir/metrics.csv        one row per training episode: timestep, return, length
    run_dir/model.zip          the final model
    run_dir/evaluation.csv     tidy: one row per (context, episode) of the deterministic policy

A sweep is a list of :class:`Job` s (train then evaluate) handed to an executor: anything with
``submit(fn, *args) -> concurrent.futures.Future``.  :class:`LocalExecutor` (worker processes, default),
:class:`SerialExecutor` and :class:`RayExecutor` (optional, ``pip install ray``) are provided; a cluster
user can pass any other such executor without changing experiment code.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

METHODS = ("baseline", "cse", "ldr", "gdr")
PROFILES = ("quick", "paper")


class ConfigError(ValueError):
    """Bad user input (unknown task or method, eps <= 0, a context outside the box, ...): a one-line message."""


def _tasks():
    from cebe_deep import tasks

    return tasks


# --------------------------------------------------------------------------------------------- configs
@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one training run.  Build with :func:`make_config` (profile + overrides).

    ``context`` is the training context c0 (None: the task's ``default_context``).  ``eps`` is the radius of
    CSE's ball and LDR's Gaussian scale.  ``net_arch`` is the hidden layers of actor and critics.
    """

    task: str
    method: str
    seed: int = 0
    total_steps: int = 10_000
    eps: float = 0.1
    net_arch: tuple[int, ...] = (64, 64)
    learning_rate: float = 3e-4
    batch_size: int = 256
    buffer_size: int = 1_000_000
    learning_starts: int = 1_000
    gamma: float = 0.99
    tau: float = 0.005
    train_freq: int = 1
    gradient_steps: int = 1
    perturbation: str = "sphere"
    cse_mode: str = "first_order"
    cse_fraction: float = 1.0
    checkpoint_every: int = 5_000
    context: tuple[float, ...] | None = None
    profile: str = "quick"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainConfig":
        data = dict(data)
        data["net_arch"] = tuple(data["net_arch"])
        if data.get("context") is not None:
            data["context"] = tuple(data["context"])
        return cls(**data)


# The paper (section 5) fixes eps = 0.1, 10 policies per method and 64 evaluation episodes; PAPER.md does not
# list budgets or network sizes, so the ``paper`` profile uses the standard SAC settings of the authors'
# framework (RLlib SAC: 256x256, batch 256, lr 3e-4, tau 0.005) and budgets we chose (see results/README.md).
_PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        "SimpleDirection": dict(total_steps=10_000, gamma=0.9, learning_starts=1_000, net_arch=(64, 64), checkpoint_every=2_500),
        "PendulumGoal": dict(total_steps=30_000, gamma=0.99, learning_starts=1_000, net_arch=(64, 64), checkpoint_every=5_000),
        "CartGoal": dict(total_steps=50_000, gamma=0.99, learning_starts=1_000, net_arch=(64, 64), learning_rate=1e-4),
        "CheetahVelocity": dict(total_steps=50_000, gamma=0.99, learning_starts=5_000, net_arch=(64, 64)),
        "AntDirection": dict(total_steps=50_000, gamma=0.99, learning_starts=5_000, net_arch=(64, 64)),
        "AntGoal": dict(total_steps=50_000, gamma=0.99, learning_starts=5_000, net_arch=(64, 64)),
    },
    "paper": {
        "SimpleDirection": dict(total_steps=50_000, gamma=0.9, learning_starts=1_000, net_arch=(256, 256)),
        "PendulumGoal": dict(total_steps=200_000, gamma=0.99, learning_starts=10_000, net_arch=(256, 256)),
        "CartGoal": dict(total_steps=500_000, gamma=0.99, learning_starts=10_000, net_arch=(256, 256), learning_rate=1e-4),
        "CheetahVelocity": dict(total_steps=1_000_000, gamma=0.99, learning_starts=10_000, net_arch=(256, 256), checkpoint_every=25_000),
        "AntDirection": dict(total_steps=1_000_000, gamma=0.99, learning_starts=10_000, net_arch=(256, 256), checkpoint_every=25_000),
        "AntGoal": dict(total_steps=1_000_000, gamma=0.99, learning_starts=10_000, net_arch=(256, 256), checkpoint_every=25_000),
    },
}
_DEFAULT_PROFILE = dict(total_steps=20_000, gamma=0.99, learning_starts=1_000, net_arch=(64, 64))


def make_config(task: str, method: str, profile: str = "quick", **overrides: Any) -> TrainConfig:
    """The profile's config for ``task`` with ``overrides`` (None values are ignored), validated."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    settings = dict(_PROFILES[profile].get(task, _DEFAULT_PROFILE))
    settings.update({key: value for key, value in overrides.items() if value is not None})
    if "net_arch" in settings:
        settings["net_arch"] = tuple(int(width) for width in settings["net_arch"])
    if settings.get("context") is not None:
        settings["context"] = tuple(float(value) for value in settings["context"])
    config = TrainConfig(task=task, method=method, profile=profile, **settings)
    validate_config(config)
    return config


def validate_config(config: TrainConfig) -> None:
    """Raise :class:`ConfigError` with a one-line message for anything a run would fail on later."""
    from cebe_deep.cse import MODES, PERTURBATIONS

    tasks = _tasks()
    if config.task not in tasks.TASKS:
        raise ConfigError(f"unknown task {config.task!r}; choose one of {', '.join(tasks.TASKS)}")
    if config.method not in METHODS:
        raise ConfigError(f"unknown method {config.method!r}; choose one of {', '.join(METHODS)}")
    if not (config.eps > 0 and math.isfinite(config.eps)):
        raise ConfigError(f"eps must be > 0, got {config.eps}")
    if config.perturbation not in PERTURBATIONS:
        raise ConfigError(f"unknown perturbation {config.perturbation!r}; choose one of {', '.join(PERTURBATIONS)}")
    if config.cse_mode not in MODES:
        raise ConfigError(f"unknown CSE mode {config.cse_mode!r}; choose one of {', '.join(MODES)}")
    if not 0.0 < config.cse_fraction <= 1.0:
        raise ConfigError(f"cse_fraction must be in (0, 1], got {config.cse_fraction}")
    if config.total_steps <= 0 or config.batch_size <= 0 or config.checkpoint_every <= 0:
        raise ConfigError("total_steps, batch_size and checkpoint_every must be positive")
    if not config.net_arch or min(config.net_arch) <= 0:
        raise ConfigError(f"net_arch must be positive layer widths, got {config.net_arch}")
    task_class = tasks.TASKS[config.task]
    if config.method == "cse" and config.cse_mode == "exact" and not getattr(task_class, "supports_simulate", False):
        raise ConfigError(f"task {config.task} has no closed-form simulate(); CSE mode 'exact' is not available")
    if config.context is not None:
        env = make_task_env(config.task)
        try:
            check_context(env.unwrapped, config.context)
        finally:
            env.close()


def check_context(task, context: Sequence[float]) -> np.ndarray:
    """``context`` as an array, or :class:`ConfigError` if it has the wrong size or lies outside the box."""
    context = np.asarray(context, dtype=np.float64)
    low, high = np.asarray(task.context_low), np.asarray(task.context_high)
    if context.shape != low.shape:
        raise ConfigError(f"context must have {low.size} values for this task, got {context.size}")
    if np.any(context < low) or np.any(context > high):
        raise ConfigError(f"context {context.tolist()} is outside the task's box [{low.tolist()}, {high.tolist()}]")
    try:
        task.validate_context(context)  # constraints beyond the box, e.g. PendulumGoal's |tau| < m g l
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return context


# --------------------------------------------------------------------------------------------- environments
def make_task_env(task: str, context: Sequence[float] | None = None, jacobians: bool = False):
    """One contextual task environment (with its episode time limit)."""
    tasks = _tasks()
    kwargs: dict[str, Any] = {"jacobians": jacobians}
    if context is not None:
        kwargs["context"] = np.asarray(context, dtype=np.float64)
    return tasks.make_task(task, **kwargs)


def make_training_env(config: TrainConfig):
    """The environment a run trains on: the task at c0, wrapped for LDR/GDR, with Jacobians only for CSE."""
    from cebe_deep.randomization import GlobalDomainRandomization, LocalDomainRandomization

    jacobians = config.method == "cse" and config.cse_mode == "first_order"
    env = make_task_env(config.task, config.context, jacobians=jacobians)
    if config.method == "ldr":
        env = LocalDomainRandomization(env, eps=config.eps, base_context=config.context)
    elif config.method == "gdr":
        env = GlobalDomainRandomization(env)
    return env


def make_model(config: TrainConfig, env):
    """The SB3 learner for ``config``: SAC for Box actions, DQN for Discrete ones; CSE through the buffer."""
    from gymnasium import spaces
    from stable_baselines3 import DQN, SAC

    from cebe_deep.cse import ContextSampleEnhancementBuffer

    task = env.unwrapped
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
    if config.method == "cse":
        common["replay_buffer_class"] = ContextSampleEnhancementBuffer
        common["replay_buffer_kwargs"] = dict(
            state_dim=task.state_dim,
            context_dim=task.context_dim,
            eps=config.eps,
            perturbation=config.perturbation,
            cse_fraction=config.cse_fraction,
            mode=config.cse_mode,
            simulate=task.simulate if config.cse_mode == "exact" else None,
        )
    if isinstance(env.action_space, spaces.Discrete):
        # DQN: hard target updates every 1,000 steps (SAC's soft tau does not carry over to DQN's schedule).
        return DQN("MlpPolicy", env, tau=1.0, target_update_interval=1_000, **common)
    return SAC("MlpPolicy", env, tau=config.tau, **common)


# --------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    config: TrainConfig
    num_timesteps: int
    seconds: float
    resumed_from: int
    episodes: int


def _training_callback(config: TrainConfig, run_dir: Path, progress: bool, start: int):
    from stable_baselines3.common.callbacks import BaseCallback

    class TrainingCallback(BaseCallback):
        """Progress bar, per-episode metrics and periodic resumable checkpoints."""

        def _on_training_start(self) -> None:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=config.total_steps,
                initial=start,
                disable=not progress,
                desc=f"{config.task}/{config.method}/seed{config.seed}",
                unit="step",
                dynamic_ncols=True,
            )
            self.episodes: list[dict[str, float]] = []
            self.next_checkpoint = (start // config.checkpoint_every + 1) * config.checkpoint_every

        def _on_step(self) -> bool:
            self.bar.update(self.training_env.num_envs)
            for info in self.locals.get("infos", []):
                if "episode" in info:
                    self.episodes.append(
                        dict(timestep=self.num_timesteps, episode_return=float(info["episode"]["r"]), length=int(info["episode"]["l"]))
                    )
            if self.num_timesteps >= self.next_checkpoint and self.num_timesteps < config.total_steps:
                self.flush_metrics()
                save_checkpoint(self.model, run_dir)
                self.next_checkpoint += config.checkpoint_every
            return True

        def flush_metrics(self) -> None:
            if self.episodes:
                path = run_dir / "metrics.csv"
                pd.DataFrame(self.episodes).to_csv(path, mode="a", header=not path.exists(), index=False)
                self.episodes = []

        def _on_training_end(self) -> None:
            self.flush_metrics()
            self.bar.close()

    return TrainingCallback()


def save_checkpoint(model, run_dir: Path) -> None:
    """Write model, replay buffer and progress to ``run_dir/checkpoint`` (atomically: tmp dir then rename)."""
    tmp = run_dir / "checkpoint.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp / "model.zip")
    model.save_replay_buffer(tmp / "replay_buffer.pkl")
    (tmp / "progress.json").write_text(json.dumps({"num_timesteps": int(model.num_timesteps)}))
    final = run_dir / "checkpoint"
    old = run_dir / "checkpoint.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _trim_metrics(run_dir: Path, num_timesteps: int) -> None:
    """On resume, drop metrics rows logged after the checkpoint we resume from."""
    path = run_dir / "metrics.csv"
    if path.exists():
        metrics = pd.read_csv(path)
        metrics[metrics["timestep"] <= num_timesteps].to_csv(path, index=False)


def is_trained(run_dir: Path) -> bool:
    return (Path(run_dir) / "model.zip").exists() and (Path(run_dir) / "train_summary.json").exists()


def train(config: TrainConfig, run_dir: str | Path, progress: bool = True) -> TrainResult:
    """Train one run in ``run_dir``, resuming from ``run_dir/checkpoint`` if an earlier run was interrupted.

    A finished run (``model.zip`` and ``train_summary.json`` present) is not retrained.  A run directory
    holding a different config is an error (so that resumed runs never mix settings).
    """
    import torch
    from stable_baselines3 import DQN, SAC

    validate_config(config)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = run_dir / "config.json"
    if config_path.exists():
        existing = TrainConfig.from_json(json.loads(config_path.read_text()))
        if existing != config:
            raise ConfigError(f"{run_dir} holds a run with a different config; use another --out directory")
    else:
        config_path.write_text(json.dumps(config.to_json(), indent=2))
    if is_trained(run_dir):
        summary = json.loads((run_dir / "train_summary.json").read_text())
        return TrainResult(run_dir, config, summary["num_timesteps"], summary["seconds"], summary["resumed_from"], summary["episodes"])

    if torch.get_num_threads() > 1 and os.environ.get("CEBE_TORCH_THREADS") is None:
        torch.set_num_threads(1)
    env = make_training_env(config)
    start = 0
    checkpoint = run_dir / "checkpoint"
    if (checkpoint / "progress.json").exists():
        algorithm = DQN if hasattr(env.action_space, "n") else SAC
        model = algorithm.load(checkpoint / "model.zip", env=env, device="cpu")
        model.load_replay_buffer(checkpoint / "replay_buffer.pkl")
        start = int(json.loads((checkpoint / "progress.json").read_text())["num_timesteps"])
        _trim_metrics(run_dir, start)
    else:
        (run_dir / "metrics.csv").unlink(missing_ok=True)
        model = make_model(config, env)
    began = time.perf_counter()
    callback = _training_callback(config, run_dir, progress, start)
    model.learn(total_timesteps=config.total_steps - start, callback=callback, reset_num_timesteps=start == 0)
    seconds = time.perf_counter() - began
    model.save(run_dir / "model.zip")
    episodes = len(pd.read_csv(run_dir / "metrics.csv")) if (run_dir / "metrics.csv").exists() else 0
    summary = dict(num_timesteps=int(model.num_timesteps), seconds=seconds, resumed_from=start, episodes=episodes,
                   steps_per_second=(model.num_timesteps - start) / max(seconds, 1e-9))
    (run_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    shutil.rmtree(checkpoint, ignore_errors=True)
    env.close()
    return TrainResult(run_dir, config, int(model.num_timesteps), seconds, start, episodes)


def load_model(run_dir: str | Path):
    """The trained model of ``run_dir`` (SAC or DQN, as the config says)."""
    from stable_baselines3 import DQN, SAC

    run_dir = Path(run_dir)
    if not (run_dir / "model.zip").exists():
        raise ConfigError(f"no trained model in {run_dir} (missing model.zip)")
    data = json.loads((run_dir / "config.json").read_text())
    config = TrainConfig.from_json(data)
    env = make_task_env(config.task)
    algorithm = DQN if hasattr(env.action_space, "n") else SAC
    env.close()
    return algorithm.load(run_dir / "model.zip", device="cpu"), config


# --------------------------------------------------------------------------------------------- evaluation
# Tasks whose context is a unit direction: sweep the angle instead of each coordinate.
ANGLE_SWEEP_TASKS = ("AntDirection",)

# Default evaluation range per context coordinate (low, high); None: the task's whole box.  Chosen to cover
# the contexts the paper discusses (e.g. PendulumGoal goal torque > 0.6) without leaving the regime where the
# task is well posed.
SWEEP_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "SimpleDirection": ((-1.0, 1.0), (-1.0, 1.0)),
    "PendulumGoal": ((1.0, 4.0), (0.5, 2.0), (0.5, 2.0), (-1.5, 1.5)),
    "CheetahVelocity": ((0.0, 4.0),),
}


def context_grid(task: str, points: int = 11, span: float | None = None) -> pd.DataFrame:
    """The evaluation contexts of ``task``: one row per context, columns ``sweep``, ``sweep_value``, ``context``.

    Coordinate sweeps (default): for each context dimension i, ``points`` values across ``SWEEP_RANGES``
    (or the task's box; or c0_i +- span, clipped to the box, when ``span`` is given), the other coordinates
    at c0, plus c0_i itself; contexts the task rejects (e.g. PendulumGoal's |tau| < m g l) are dropped.
    Angle sweeps (unit-direction contexts, ``ANGLE_SWEEP_TASKS``): c = (cos theta, sin theta), theta over
    [-pi, pi].
    """
    if points < 2:
        raise ConfigError(f"points must be >= 2, got {points}")
    env = make_task_env(task)
    base = env.unwrapped
    c0 = np.asarray(base.default_context, dtype=np.float64)
    low, high = np.asarray(base.context_low, np.float64), np.asarray(base.context_high, np.float64)
    rows = []
    if task in ANGLE_SWEEP_TASKS:
        for theta in np.linspace(-np.pi, np.pi, points):
            rows.append(dict(sweep="angle", sweep_value=float(theta), context=(math.cos(theta), math.sin(theta))))
        env.close()
        return pd.DataFrame(rows)
    ranges = SWEEP_RANGES.get(task)
    for i in range(c0.size):
        if span is not None:
            lo, hi = max(low[i], c0[i] - span), min(high[i], c0[i] + span)
        elif ranges is not None and i < len(ranges):
            lo, hi = ranges[i]
        else:
            lo, hi = low[i], high[i]
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ConfigError(f"context dimension {i} of {task} is unbounded; pass a span")
        values = np.unique(np.round(np.append(np.linspace(lo, hi, points), c0[i]), 12))
        for value in values:
            context = c0.copy()
            context[i] = value
            try:
                base.validate_context(context)
            except ValueError:
                continue
            rows.append(dict(sweep=f"context_{i}", sweep_value=float(value), context=tuple(context.tolist())))
    env.close()
    return pd.DataFrame(rows)


def evaluate_policy_at_context(predict: Callable[[np.ndarray], np.ndarray], task: str, context: Sequence[float],
                               episodes: int, seed: int) -> np.ndarray:
    """Undiscounted returns of ``episodes`` episodes of ``predict`` (batched obs -> actions) at ``context``.

    The episodes run side by side (one batched policy call per time step); episode k is reset with seed
    ``seed + k``, so every method and policy meets the same initial states.
    """
    envs = [make_task_env(task, context) for _ in range(episodes)]
    observations = np.stack([env.reset(seed=seed + k)[0] for k, env in enumerate(envs)])
    returns = np.zeros(episodes)
    running = np.ones(episodes, dtype=bool)
    while running.any():
        active = np.flatnonzero(running)
        actions = predict(observations[active])
        for row, k in enumerate(active):
            obs, reward, terminated, truncated, _ = envs[k].step(actions[row])
            observations[k] = obs
            returns[k] += reward
            if terminated or truncated:
                running[k] = False
    for env in envs:
        env.close()
    return returns


def evaluate(run_dir: str | Path, points: int = 11, episodes: int = 32, span: float | None = None, seed: int = 10_000,
             grid: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sweep the deterministic policy of ``run_dir`` over :func:`context_grid`; tidy DataFrame, also written
    to ``run_dir/evaluation.csv``.  Columns: task, method, seed, sweep, sweep_value, context_0.., episode, return.
    """
    import torch

    if torch.get_num_threads() > 1 and os.environ.get("CEBE_TORCH_THREADS") is None:
        torch.set_num_threads(1)
    if episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    model, config = load_model(run_dir)
    grid = context_grid(config.task, points, span) if grid is None else grid

    def predict(observations: np.ndarray) -> np.ndarray:
        return model.predict(observations, deterministic=True)[0]

    frames = []
    for row in grid.itertuples(index=False):
        returns = evaluate_policy_at_context(predict, config.task, row.context, episodes, seed)
        frame = pd.DataFrame(dict(task=config.task, method=config.method, seed=config.seed, sweep=row.sweep,
                                  sweep_value=row.sweep_value, episode=np.arange(episodes), episode_return=returns))
        for i, value in enumerate(row.context):
            frame.insert(5 + i, f"context_{i}", value)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.to_csv(Path(run_dir) / "evaluation.csv", index=False)
    return table


# --------------------------------------------------------------------------------------------- executors
class SerialExecutor:
    """Runs each job in this process when submitted (debugging, tests)."""

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True) -> None:
        pass


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


class LocalExecutor(concurrent.futures.ProcessPoolExecutor):
    """Worker processes on this machine (one torch thread each); the default backend."""

    def __init__(self, max_workers: int = 2):
        import multiprocessing

        super().__init__(max_workers=max_workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker)


class RayExecutor:
    """Runs jobs as Ray tasks (``ray.init(address=...)`` first to use a cluster).  Optional: needs ``ray``."""

    def __init__(self, num_cpus_per_job: float = 1.0, **init_kwargs: Any):
        try:
            import ray
        except ImportError as error:
            raise ConfigError("the ray backend needs the 'ray' package (pip install ray)") from error
        if not ray.is_initialized():
            ray.init(**init_kwargs)
        self._ray, self._num_cpus = ray, num_cpus_per_job

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        remote = self._ray.remote(num_cpus=self._num_cpus)(fn)
        return remote.remote(*args, **kwargs).future()

    def shutdown(self, wait: bool = True) -> None:
        pass


BACKENDS = ("local", "serial", "ray")


def make_executor(backend: str = "local", workers: int = 2):
    if backend == "local":
        return LocalExecutor(max_workers=workers)
    if backend == "serial":
        return SerialExecutor()
    if backend == "ray":
        return RayExecutor()
    raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


# --------------------------------------------------------------------------------------------- sweeps
@dataclass(frozen=True)
class Job:
    """Train (or resume) one run, then evaluate it over the context grid."""

    config: TrainConfig
    run_dir: str
    points: int = 11
    episodes: int = 32
    span: float | None = None


@dataclass(frozen=True)
class JobResult:
    run_dir: str
    config: TrainConfig
    train_seconds: float
    steps_per_second: float
    error: str | None = None


def run_job(job: Job) -> JobResult:
    """The unit of work an executor runs (module level, so it pickles for processes and Ray)."""
    result = train(job.config, job.run_dir, progress=False)
    run_dir = Path(job.run_dir)
    if not (run_dir / "evaluation.csv").exists():
        evaluate(run_dir, points=job.points, episodes=job.episodes, span=job.span)
    summary = json.loads((run_dir / "train_summary.json").read_text())
    return JobResult(job.run_dir, job.config, result.seconds, summary.get("steps_per_second", float("nan")))


def run_dir_for(root: str | Path, config: TrainConfig) -> Path:
    return Path(root) / config.task / config.method / f"seed{config.seed}"


def sweep(configs: Iterable[TrainConfig], root: str | Path, executor=None, points: int = 11, episodes: int = 32,
          span: float | None = None, progress: bool = True) -> pd.DataFrame:
    """Train and evaluate every config (finished runs are kept, interrupted ones resume); returns and writes
    ``root/<task>/evaluation.csv`` (all runs of the task, tidy).  A failed run is reported, not fatal.
    """
    from tqdm.auto import tqdm

    configs = list(configs)
    for config in configs:
        validate_config(config)
    owned = executor is None  # shut down only an executor made here; a caller's stays usable
    executor = LocalExecutor() if owned else executor
    futures = {executor.submit(run_job, Job(config, str(run_dir_for(root, config)), points, episodes, span)): config
               for config in configs}
    failures = []
    with tqdm(total=len(futures), disable=not progress, desc="runs", unit="run") as bar:
        for future in concurrent.futures.as_completed(futures):
            config = futures[future]
            try:
                result = future.result()
                bar.set_postfix_str(f"{config.method}/seed{config.seed}: {result.steps_per_second:.0f} steps/s")
            except Exception as error:  # noqa: BLE001 - one failed run must not lose the others
                failures.append(f"{config.task}/{config.method}/seed{config.seed}: {type(error).__name__}: {error}")
            bar.update(1)
    if owned:
        executor.shutdown(wait=True)
    for failure in failures:
        print(f"run failed: {failure}")
    return collect(root, sorted({config.task for config in configs}))


def collect(root: str | Path, tasks: Sequence[str]) -> pd.DataFrame:
    """Concatenate the runs' evaluation.csv files under ``root/<task>/`` into ``root/<task>/evaluation.csv``."""
    frames = []
    for task in tasks:
        paths = sorted((Path(root) / task).glob("*/seed*/evaluation.csv"))
        if not paths:
            continue
        table = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
        table.to_csv(Path(root) / task / "evaluation.csv", index=False)
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --------------------------------------------------------------------------------------------- summaries
def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two-sided Student-t confidence interval of the mean (over seeds)."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))
    return mean, mean - half, mean + half


def per_seed_returns(table: pd.DataFrame) -> pd.DataFrame:
    """Mean return per (task, method, seed, sweep, sweep_value), over the evaluation episodes."""
    keys = ["task", "method", "seed", "sweep", "sweep_value"]
    return table.groupby(keys, as_index=False)["episode_return"].mean()


def summarize(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval over seeds of the per-seed mean return, per (task, method, sweep, sweep_value)."""
    per_seed = per_seed_returns(table)
    rows = []
    for (task, method, sweep_name, value), group in per_seed.groupby(["task", "method", "sweep", "sweep_value"]):
        mean, low, high = t_interval(group["episode_return"].to_numpy(), level)
        rows.append(dict(task=task, method=method, sweep=sweep_name, sweep_value=value, seeds=len(group),
                         mean_return=mean, ci_low=low, ci_high=high))
    return pd.DataFrame(rows)


def compare_methods(summary: pd.DataFrame, base_context: Sequence[float], eps: float,
                    baseline: str = "baseline", candidate: str = "cse", reference: str = "ldr") -> pd.DataFrame:
    """Per evaluated context: relative improvement of ``candidate`` over ``baseline`` (as a fraction of
    |baseline|), whether the context lies away from c0 (outside the training ball of radius eps), and
    whether ``candidate``'s mean lies inside ``reference``'s confidence interval.  The columns keep the
    default names (``cse_mean``, ``ldr_mean``, ``cse_within_ldr_ci``, ...) for any ``candidate`` and ``reference``.
    """
    wide = summary.pivot_table(index=["task", "sweep", "sweep_value"], columns="method",
                               values=["mean_return", "ci_low", "ci_high"])
    rows = []
    for (task, sweep_name, value), row in wide.iterrows():
        def get(stat, method):
            return float(row.get((stat, method), float("nan")))

        if sweep_name == "angle":
            distance = abs(math.atan2(math.sin(value - math.atan2(base_context[1], base_context[0])),
                                      math.cos(value - math.atan2(base_context[1], base_context[0]))))
        else:
            distance = abs(value - base_context[int(sweep_name.split("_")[1])])
        base_mean, cand_mean = get("mean_return", baseline), get("mean_return", candidate)
        rows.append(dict(task=task, sweep=sweep_name, sweep_value=value, distance_from_c0=distance,
                         away_from_c0=distance > eps, baseline_mean=base_mean, cse_mean=cand_mean,
                         ldr_mean=get("mean_return", reference),
                         relative_improvement=(cand_mean - base_mean) / abs(base_mean) if base_mean else float("nan"),
                         cse_within_ldr_ci=get("ci_low", reference) <= cand_mean <= get("ci_high", reference),
                         cse_at_least_ldr_low=cand_mean >= get("ci_low", reference)))
    return pd.DataFrame(rows)


def headline(comparison: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, sweep) and an ``all`` row: over the contexts away from c0, the mean and median
    relative improvement of CSE over the baseline, the share of contexts where CSE's mean beats the
    baseline's, and the share where CSE's mean is inside LDR's CI or above it."""
    away = comparison[comparison["away_from_c0"]]
    rows = []
    for (task, sweep_name), group in list(away.groupby(["task", "sweep"])) + [((t, "all"), g) for t, g in away.groupby("task")]:
        rows.append(dict(task=task, sweep=sweep_name, contexts=len(group),
                         mean_relative_improvement=group["relative_improvement"].mean(),
                         median_relative_improvement=group["relative_improvement"].median(),
                         cse_beats_baseline=(group["cse_mean"] > group["baseline_mean"]).mean(),
                         cse_within_or_above_ldr_ci=(group["cse_within_ldr_ci"] | (group["cse_mean"] > group["ldr_mean"])).mean()))
    return pd.DataFrame(rows)
