"""Train one run: the environments, the SB3 learner, resumable checkpoints.

A run is one (task, method, seed): an SB3 off-policy learner (SAC for continuous actions, DQN for discrete)
trained in the base context c0 with one of

- ``baseline``: no augmentation;
- ``cse``: the :class:`~cebe_deep.learn.cse.ContextSampleEnhancementBuffer` replay buffer (arXiv 2507.07348, Section 5);
- ``ldr``: :class:`~cebe_deep.learn.randomization.LocalDomainRandomization` (c0 + Gaussian of scale eps per episode);
- ``gdr``: :class:`~cebe_deep.learn.randomization.GlobalDomainRandomization` (uniform over the context box).

Run directory layout (everything a resumed or later evaluation needs)::

    run_dir/config.json          the TrainConfig
    run_dir/monitor/<k>.monitor.csv   SB3 Monitor: one row per finished episode of env k (r, l, t)
    run_dir/checkpoint/          model.zip, replay_buffer.pkl, monitor/, elapsed.json (while training)
    run_dir/model.zip            the final model
    run_dir/train_summary.json   steps, seconds (all segments), episodes, steps per second, the code's commit
    run_dir/evaluation.csv       tidy: one row per (context, episode) of the deterministic policy
    run_dir/fd_cost.json         (``fd_jacobians`` runs, and CSE on a task with its own finite differences such as
                                 :func:`~cebe_deep.tasks.mujoco_task`) finite-difference cost: simulator steps and
                                 seconds per env step
    run_dir/importance.json      (``cse_variant="importance"``) mean ESS fraction and clipped fraction over the batches
    run_dir/.lock                :func:`run_lock`'s file: locked while a process trains or evaluates the run

A checkpoint is written atomically (a temporary directory, then a rename) every ``checkpoint_every`` env
steps, and when the process gets SIGINT or SIGTERM (then training stops with :class:`TrainingInterrupted`).
It holds model.zip, replay_buffer.pkl (with CSE's perturbation pool and the priorities), the monitor files,
elapsed.json (training seconds so far, all segments) and state.pkl (:mod:`cebe_deep.run.checkpoint`: random
generators, the environments' episode state, the learner's last observation and counters).  Resuming
restores all of it, so a resumed run equals the uninterrupted one bit for bit (tested on the analytic tasks).
A checkpoint without state.pkl (written by earlier versions) resumes too, restarting the running episodes
from a reset.

When a run finishes, its final checkpoint is kept in ``run_dir/checkpoint`` if the replay buffer is under
:data:`KEEP_REPLAY_BYTES`; training it again with a larger ``total_steps`` then extends it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import load_results

from cebe_deep.learn.importance import ImportanceWeightedCSEBuffer
from cebe_deep.run.checkpoint import grow_replay_buffer, restore_training_state, training_state
from cebe_deep.run.config import ConfigError, TrainConfig, validate_config
from cebe_deep.run.executors import stop_requested
from cebe_deep.run.learners import algorithm_class, make_model, make_training_env, make_vec_training_env, task_env  # noqa: F401
from cebe_deep.run.locks import LOCK_FILE, RunBusy, run_is_busy, run_lock  # noqa: F401
from cebe_deep.run.provenance import code_commit, machine

__all__ = ["TrainResult", "TrainingInterrupted", "RunBusy", "run_lock", "checkpoint_folder", "latest_checkpoint",
           "task_env", "make_training_env", "make_vec_training_env", "make_model", "train",
           "save_checkpoint", "load_model", "is_trained", "episode_log", "KEEP_REPLAY_BYTES"]

#: A finished run keeps its final checkpoint (replay buffer included) when the buffer's arrays are at most this
#: large, so that a larger budget can extend it; larger buffers are deleted (a finished run cannot be extended).
KEEP_REPLAY_BYTES = 256 * 2**20
STATE_FILE = "state.pkl"


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    config: TrainConfig
    num_timesteps: int
    seconds: float
    resumed_from: int
    episodes: int


def save_checkpoint(model, run_dir: Path, elapsed: float = 0.0) -> None:
    """Write model, replay buffer, the monitor files, the elapsed training time and the state a bit-identical
    resume needs (:func:`cebe_deep.run.checkpoint.training_state`) to ``run_dir/checkpoint``, atomically (a
    temporary directory, then a rename).  Call it between two vector steps (see :class:`AtomicCheckpointCallback`)."""
    tmp = run_dir / "checkpoint.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp / "model.zip")
    model.save_replay_buffer(tmp / "replay_buffer.pkl")
    with open(tmp / STATE_FILE, "wb") as file:
        pickle.dump(training_state(model), file, protocol=pickle.HIGHEST_PROTOCOL)
    if (run_dir / "monitor").exists():
        shutil.copytree(run_dir / "monitor", tmp / "monitor")
    (tmp / "elapsed.json").write_text(json.dumps({"seconds": elapsed}))
    final, old = run_dir / "checkpoint", run_dir / "checkpoint.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def checkpoint_folder(run_dir: str | Path) -> Path | None:
    """The folder of ``run_dir``'s last complete checkpoint, touching nothing: ``run_dir/checkpoint``, or
    ``checkpoint.old`` where a process was killed between the two renames of :func:`save_checkpoint` (the
    previous checkpoint, complete, and no ``checkpoint``); None where there is none.  ``checkpoint.tmp`` may be
    half written and is never used."""
    run_dir = Path(run_dir)
    final, old = run_dir / "checkpoint", run_dir / "checkpoint.old"
    if (final / "model.zip").exists():
        return final
    return old if (old / "model.zip").exists() and not final.exists() else None


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """``run_dir/checkpoint`` holding the last complete checkpoint (:func:`checkpoint_folder`; a left-over
    ``checkpoint.old`` is renamed back, so that the run resumes from it instead of starting over), or None."""
    folder = checkpoint_folder(run_dir)
    if folder is not None and folder.name == "checkpoint.old":
        folder = folder.rename(folder.with_name("checkpoint"))
    return folder


class TrainingInterrupted(Exception):
    """Training stopped on SIGINT or SIGTERM after writing a checkpoint at ``num_timesteps``; rerun to resume."""

    def __init__(self, run_dir: Path, num_timesteps: int, signal_name: str):
        super().__init__(f"{signal_name}: checkpoint of {run_dir} written at step {num_timesteps}; rerun to resume")
        self.run_dir, self.num_timesteps, self.signal_name = run_dir, num_timesteps, signal_name

    def __reduce__(self):  # pickled from a worker process back to its sweep: rebuild from the fields
        return type(self), (self.run_dir, self.num_timesteps, self.signal_name)


class AtomicCheckpointCallback(BaseCallback):
    """Checkpoints through :func:`save_checkpoint` every ``checkpoint_every`` env steps, and at once when
    :meth:`request_stop` was called (the SIGINT / SIGTERM handler of :func:`train`), then stops training by
    raising :class:`TrainingInterrupted`.

    It acts in SB3's ``on_rollout_start``: there the previous transition is stored and its gradient updates
    are done, so the model, the buffer and the environments agree.  Never after the last step."""

    def __init__(self, checkpoint_every: int, run_dir: Path, total_steps: int, elapsed_before: float):
        super().__init__()
        self.checkpoint_every, self.run_dir, self.total_steps = checkpoint_every, run_dir, total_steps
        self.elapsed_before, self.began = elapsed_before, time.perf_counter()
        self.stop_signal: str | None = None
        self.signalled = False  # a signal reached this process's handler (a second one interrupts at once)
        self.next_checkpoint: int | None = None

    def request_stop(self, signal_name: str) -> None:
        self.stop_signal = signal_name

    def _on_training_start(self) -> None:
        self.next_checkpoint = (self.model.num_timesteps // self.checkpoint_every + 1) * self.checkpoint_every

    def _on_rollout_start(self) -> None:
        steps = self.model.num_timesteps
        if self.stop_signal is None and stop_requested():  # a SIGTERM from the sweep before the handler was set
            self.stop_signal = "SIGTERM"
        if self.stop_signal is not None:
            save_checkpoint(self.model, self.run_dir, self.elapsed_before + time.perf_counter() - self.began)
            raise TrainingInterrupted(self.run_dir, steps, self.stop_signal)
        if steps >= self.next_checkpoint and steps < self.total_steps:
            save_checkpoint(self.model, self.run_dir, self.elapsed_before + time.perf_counter() - self.began)
            self.next_checkpoint = (steps // self.checkpoint_every + 1) * self.checkpoint_every

    def _on_step(self) -> bool:
        return True


@contextlib.contextmanager
def _checkpoint_on_signals(callback: AtomicCheckpointCallback):
    """While training, SIGINT and SIGTERM ask ``callback`` for a checkpoint and a stop at the next vector step;
    a second signal interrupts at once (the last checkpoint stays intact: checkpoints are atomic).  Only in
    the main thread (Python's rule for signal handlers); elsewhere the default behaviour stays."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(number, frame):
        # a second signal: stop at once.  Not merely a stop already requested: a sweep's stop sets its event before
        # it sends SIGTERM, and a run that saw the event first is writing its checkpoint when the signal comes
        if callback.signalled:
            raise KeyboardInterrupt
        callback.signalled = True
        callback.request_stop(signal.Signals(number).name)

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def is_trained(run_dir: Path) -> bool:
    return (Path(run_dir) / "model.zip").exists() and (Path(run_dir) / "train_summary.json").exists()


def episode_log(run_dir: str | Path) -> pd.DataFrame:
    """Every finished training episode of a run (SB3's Monitor files of all its envs): columns r, l, t, index."""
    folder = Path(run_dir) / "monitor"
    if not any(folder.glob("*.monitor.csv")):
        return pd.DataFrame(columns=["r", "l", "t", "index"])
    return load_results(str(folder))


def _check_run_dir(config: TrainConfig, run_dir: Path) -> bool:
    """Write ``config.json`` into a new run directory, or check the one there.  Returns True when ``config``
    extends the run there (only ``total_steps`` differs, and is larger); config.json then says the new budget."""
    config_path = run_dir / "config.json"
    if not config_path.exists():
        config_path.write_text(json.dumps(config.to_json(), indent=2))
        return False
    existing = TrainConfig.from_json(json.loads(config_path.read_text()))
    differences = existing.differences(config)
    if not differences:
        return False
    changed = [f.name for f in dataclasses.fields(config) if getattr(existing, f.name) != getattr(config, f.name)]
    if changed == ["total_steps"] and config.total_steps > existing.total_steps:
        if is_trained(run_dir) and not (run_dir / "checkpoint" / STATE_FILE).exists():
            raise ConfigError(
                f"--steps {config.total_steps}: {run_dir} finished at {existing.total_steps} steps without keeping its "
                "final replay buffer and state (kept only under "
                f"{KEEP_REPLAY_BYTES // 2**20} MiB, and only by this version), so it cannot be extended; "
                "train into another --out directory")
        config_path.write_text(json.dumps(config.to_json(), indent=2))
        return True
    named = "; ".join(f"{_FLAGS.get(f.name, f.name)}: {getattr(existing, f.name)!r} there, {getattr(config, f.name)!r} now"
                      for f in dataclasses.fields(config) if f.name in changed)
    hint = " (only a larger --steps extends a run)" if "total_steps" in changed else ""
    raise ConfigError(f"{run_dir} holds a run with a different config ({named}){hint}; use another --out directory")


#: The command-line flag of each config field whose name differs (for messages).
_FLAGS = {"total_steps": "--steps", "net_arch": "--net"}


def _replay_bytes(buffer) -> int:
    return sum(value.nbytes for value in vars(buffer).values() if isinstance(value, np.ndarray))


def _load_checkpoint(config: TrainConfig, run_dir: Path):
    """The model of ``run_dir/checkpoint`` with its replay buffer and environments, ready to continue; and the
    training seconds spent so far."""
    checkpoint = run_dir / "checkpoint"
    shutil.rmtree(run_dir / "monitor", ignore_errors=True)
    if (checkpoint / "monitor").exists():
        shutil.copytree(checkpoint / "monitor", run_dir / "monitor")
    elapsed = json.loads((checkpoint / "elapsed.json").read_text())["seconds"]
    env = make_vec_training_env(config, run_dir / "monitor", append=True)
    model = algorithm_class(config).load(checkpoint / "model.zip", env=env, device="cpu")
    model.load_replay_buffer(checkpoint / "replay_buffer.pkl")
    buffer_size = min(config.buffer_size, config.total_steps)
    if buffer_size > model.buffer_size:  # an extended run: room for the larger budget, as a longer run has
        grow_replay_buffer(model.replay_buffer, buffer_size)
        model.buffer_size = buffer_size
    if (checkpoint / STATE_FILE).exists():
        with open(checkpoint / STATE_FILE, "rb") as file:
            restore_training_state(model, pickle.load(file))
    else:  # a checkpoint from before exact resume: restart the running episodes (SB3 then resets the envs)
        model._last_obs = None
    return model, env, elapsed


def train(config: TrainConfig, run_dir: str | Path, progress: bool = True, callback: BaseCallback | None = None,
          validated: bool = False) -> TrainResult:
    """Train one run in ``run_dir``, resuming from ``run_dir/checkpoint`` if an earlier run was interrupted.

    A finished run is not retrained; with a larger ``total_steps`` it is extended (when its final checkpoint
    was kept).  A run directory holding another config is an error (naming the fields that differ), so that
    resumed runs never mix settings.  SIGINT or SIGTERM writes a checkpoint and raises
    :class:`TrainingInterrupted`.  A run another process is training raises :class:`RunBusy` (:func:`run_lock`).
    ``callback``: an extra SB3 callback (tests use one to interrupt).  ``validated``: the caller checked ``config``
    already (a sweep checks every config before it starts a run), so it is not checked again.
    """
    if not validated:
        validate_config(config)
    run_dir = Path(run_dir)
    with run_lock(run_dir):
        return _train(config, run_dir, progress, callback)


def _train(config: TrainConfig, run_dir: Path, progress: bool, callback: BaseCallback | None) -> TrainResult:
    extending = _check_run_dir(config, run_dir)
    if is_trained(run_dir) and not extending:
        summary = json.loads((run_dir / "train_summary.json").read_text())
        return TrainResult(run_dir, config, summary["num_timesteps"], summary["seconds"], summary["resumed_from"],
                           summary["episodes"])
    if extending:
        (run_dir / "train_summary.json").unlink(missing_ok=True)
    if torch.get_num_threads() > 1 and "CEBE_TORCH_THREADS" not in os.environ:
        torch.set_num_threads(1)  # one thread per run: runs go in parallel instead (set CEBE_TORCH_THREADS to keep more)
    elif "CEBE_TORCH_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["CEBE_TORCH_THREADS"]))

    elapsed = 0.0
    if latest_checkpoint(run_dir) is not None:
        model, env, elapsed = _load_checkpoint(config, run_dir)
    else:
        shutil.rmtree(run_dir / "monitor", ignore_errors=True)
        env = make_vec_training_env(config, run_dir / "monitor")
        model = make_model(config, env)
    start = int(model.num_timesteps)
    began = time.perf_counter()
    checkpoints = AtomicCheckpointCallback(config.checkpoint_every, run_dir, config.total_steps, elapsed)
    callbacks = CallbackList([checkpoints] + ([callback] if callback is not None else []))
    try:
        with tempfile.TemporaryDirectory() as log_dir, _checkpoint_on_signals(checkpoints):
            # SB3's logger folder: removed, not left in the temp directory
            model.set_logger(configure(log_dir, []))
            model.learn(total_timesteps=config.total_steps - start, callback=callbacks, reset_num_timesteps=False,
                        progress_bar=progress)
    except BaseException:
        env.close()
        raise
    seconds = elapsed + time.perf_counter() - began
    model.save(run_dir / "model.zip")
    keep_final_state = _replay_bytes(model.replay_buffer) <= KEEP_REPLAY_BYTES
    if keep_final_state:
        save_checkpoint(model, run_dir, seconds)  # the final state: a larger budget extends the run
    _write_open_question_logs(config, model, env, run_dir)
    env.close()
    episodes = len(episode_log(run_dir))
    summary = dict(num_timesteps=int(model.num_timesteps), seconds=seconds, resumed_from=start, episodes=episodes,
                   n_envs=config.n_envs, steps_per_second=model.num_timesteps / max(seconds, 1e-9),
                   commit=code_commit(), machine=machine())
    (run_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))  # from here on the run is trained
    if not keep_final_state:  # only now: a process killed before the summary still resumes from the checkpoint
        shutil.rmtree(run_dir / "checkpoint", ignore_errors=True)
    return TrainResult(run_dir, config, int(model.num_timesteps), seconds, start, episodes)


def _write_open_question_logs(config: TrainConfig, model, env, run_dir: Path) -> None:
    """``fd_cost.json`` (finite-difference Jacobians, ``fd_jacobians`` or a task's own as ``mujoco_task``'s: their
    simulator steps and wall time, over all envs and all segments of the run, since the counters travel with the
    checkpoint) and ``importance.json`` (importance-weighted CSE: the mean over batches of the effective
    sample size as a fraction of the enhanced samples, and of the fraction of weights clipped at ``max_weight``)."""
    # A task that takes its own finite differences (mujoco_task) counts them the same way; step_size is then its
    # absolute steps h_i.
    own_differences = config.method == "cse" and config.fd_jacobians is None and env.has_attr("jacobian_cost")
    if config.method == "cse" and (config.fd_jacobians is not None or own_differences):
        steps, evaluations, seconds = (env.get_attr(name) for name in ("steps", "evaluations", "seconds"))
        total_steps = sum(steps)
        step_size = config.fd_jacobians if not own_differences else [float(h) for h in env.get_attr("step_sizes")[0]]
        cost = dict(step_size=step_size, env_steps=total_steps, evaluations=sum(evaluations),
                    seconds=sum(seconds), evaluations_per_step=sum(evaluations) / max(total_steps, 1),
                    seconds_per_step=sum(seconds) / max(total_steps, 1),
                    seconds_per_step_by_env=[t / max(n, 1) for t, n in zip(seconds, steps)])
        (run_dir / "fd_cost.json").write_text(json.dumps(cost, indent=2))
    buffer = model.replay_buffer
    if isinstance(buffer, ImportanceWeightedCSEBuffer):
        weights = dict(max_weight=buffer.max_weight, batches=buffer._batches,
                       mean_effective_sample_size_fraction=buffer.mean_effective_sample_size_fraction,
                       mean_clipped_fraction=buffer.mean_clipped_fraction)
        (run_dir / "importance.json").write_text(json.dumps(weights, indent=2))


def load_model(run_dir: str | Path):
    """The trained model of ``run_dir`` (SAC or DQN, as the config says) and its config."""
    run_dir = Path(run_dir)
    if not (run_dir / "model.zip").exists():
        raise ConfigError(f"no trained model in {run_dir} (missing model.zip)")
    if not (run_dir / "config.json").exists():
        raise ConfigError(f"{run_dir} has model.zip but no config.json")
    config = TrainConfig.from_json(json.loads((run_dir / "config.json").read_text()))
    try:
        model = algorithm_class(config).load(run_dir / "model.zip", device="cpu")
    except (ValueError, EOFError, KeyError, RuntimeError, zipfile.BadZipFile, pickle.UnpicklingError) as error:
        raise ConfigError(f"{run_dir / 'model.zip'}: not a readable model ({type(error).__name__}: "
                          f"{str(error).splitlines()[0] if str(error) else 'damaged'}); retrain the run") from None
    return model, config
