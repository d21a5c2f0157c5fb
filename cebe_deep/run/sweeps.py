"""Sweeps: train and evaluate many runs (methods x seeds) on an executor, resuming what is already there.

A sweep is a list of :class:`Job` s (train, then evaluate) handed to an executor
(:mod:`cebe_deep.run.executors`).  Each run lives in ``root/<task>/<method>/seed<k>``; a finished run is kept, an
interrupted one resumes from its checkpoint, a missing one is trained: rerunning the same command after an
interruption (or on a fresh machine with the run directories copied over) redoes only what is missing.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import shutil
import signal
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd
from tqdm.auto import tqdm

from cebe_deep.run.config import ConfigError, TrainConfig, validate_config
from cebe_deep.run.evaluation import evaluate, evaluation_grid
from cebe_deep.run.executors import LocalExecutor, job_running, stop_requested
from cebe_deep.run.training import (
    LOCK_FILE,
    STATE_FILE,
    TrainingInterrupted,
    checkpoint_folder,
    is_trained,
    run_is_busy,
    run_lock,
    train,
)
from cebe_deep.tasks import task_folder

__all__ = ["Job", "JobResult", "run_job", "is_evaluated", "run_dir_for", "plan_run", "supersede_run", "steps_to_train",
           "measured_steps_per_second", "makespan", "sweep", "collect"]


@dataclass(frozen=True)
class Job:
    """Train (or resume) one run, then evaluate it over the context grid."""

    config: TrainConfig
    run_dir: str
    points: int = 11
    episodes: int = 32
    span: float | None = None
    contexts: str | None = None

    def evaluation_spec(self) -> dict:
        return dict(points=self.points, episodes=self.episodes, span=self.span, contexts=self.contexts)


@dataclass(frozen=True)
class JobResult:
    run_dir: str
    config: TrainConfig
    train_seconds: float
    steps_per_second: float
    error: str | None = None


class RunNotStarted(Exception):
    """A run not started because its sweep was stopping (SIGTERM)."""


def run_job(job: Job) -> JobResult:
    """The unit of work an executor runs (module level, so it pickles for processes and Ray)."""
    if stop_requested():
        raise RunNotStarted(f"{job.run_dir}: not started, the sweep is stopping")
    run_dir = Path(job.run_dir)
    with job_running(), run_lock(run_dir):  # held across training and evaluation: a second sweep over this root skips the run
        if _plan_run(job.config, run_dir, None)[0] == "retrain":
            supersede_run(run_dir)
        result = train(job.config, run_dir, progress=False, validated=True)
        if not is_evaluated(run_dir, job.evaluation_spec()):
            evaluate(run_dir, points=job.points, episodes=job.episodes, span=job.span, contexts=job.contexts)
            spec = dict(job.evaluation_spec(), model_steps=int(result.num_timesteps))
            (run_dir / "evaluation.json").write_text(json.dumps(spec))
    summary = json.loads((run_dir / "train_summary.json").read_text())
    return JobResult(job.run_dir, job.config, result.seconds, summary.get("steps_per_second", float("nan")))


def _trained_steps(run_dir: Path) -> int | None:
    """The env steps of the run's final model (``train_summary.json``), None where it has none."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads((run_dir / "train_summary.json").read_text())["num_timesteps"])
    return None


def is_evaluated(run_dir: str | Path, evaluation_spec: dict) -> bool:
    """Whether ``run_dir/evaluation.csv`` exists, was written with these evaluation settings, and evaluated the
    run's present model: ``evaluation.json`` records the env steps of the model it evaluated (``model_steps``), so
    a run extended to a larger budget since is evaluated again.  An ``evaluation.json`` of an earlier version
    (no ``model_steps``) counts only if it is newer than ``model.zip``."""
    run_dir = Path(run_dir)
    spec_path, csv_path = run_dir / "evaluation.json", run_dir / "evaluation.csv"
    if not (spec_path.exists() and csv_path.exists()):
        return False
    try:
        recorded = json.loads(spec_path.read_text())
    except ValueError:
        return False
    model_steps = recorded.pop("model_steps", None)
    if recorded != evaluation_spec:
        return False
    if model_steps is not None:
        return model_steps == _trained_steps(run_dir)
    model = run_dir / "model.zip"
    return model.exists() and spec_path.stat().st_mtime >= model.stat().st_mtime


def supersede_run(run_dir: str | Path) -> Path:
    """Move a finished run that cannot be extended (its final replay buffer and state were not kept,
    :data:`~cebe_deep.run.training.KEEP_REPLAY_BYTES`) to ``run_dir/superseded/<its steps>/``, so that a sweep with a
    larger budget trains it from zero (the run an extension would give: an extended run equals one trained in one
    go); nothing is deleted.  Returns the folder it went to."""
    run_dir = Path(run_dir)
    steps = TrainConfig.from_json(json.loads((run_dir / "config.json").read_text())).total_steps
    target = run_dir / "superseded" / str(steps)
    if target.exists():
        raise ConfigError(f"{run_dir}: {target} exists already; move it away, then rerun")
    target.mkdir(parents=True)
    for path in run_dir.iterdir():
        if path.name not in ("superseded", LOCK_FILE):
            shutil.move(str(path), str(target / path.name))
    return target


def run_dir_for(root: str | Path, config: TrainConfig) -> Path:
    return Path(root) / task_folder(config.task) / config.method / f"seed{config.seed}"


def plan_run(config: TrainConfig, run_dir: str | Path, evaluation_spec: dict | None = None) -> tuple[str, str]:
    """What a sweep would do with ``run_dir`` for ``config``, touching nothing: ``(action, detail)`` with action
    ``train`` (nothing there yet, or a config but no checkpoint), ``resume`` (from its checkpoint), ``evaluate``
    (trained: evaluated only), ``done`` (trained, and evaluated with ``evaluation_spec``, :meth:`Job.evaluation_spec`),
    ``extend`` (trained or checkpointed at a smaller ``total_steps``), ``retrain`` (finished at a smaller
    ``total_steps`` without its final state, so it cannot be extended: moved aside by :func:`supersede_run` and
    trained from zero), ``conflict`` (another config is there: the
    sweep would fail this run; the detail names the fields) or ``busy`` (another process is training or evaluating
    it now: this sweep would fail it; the detail says how far its checkpoint is)."""
    action, detail = _plan_run(config, Path(run_dir), evaluation_spec)
    if action != "conflict" and run_is_busy(run_dir):
        return "busy", f"another process holds it; {action}: {detail}"
    return action, detail


def _plan_run(config: TrainConfig, run_dir: Path, evaluation_spec: dict | None) -> tuple[str, str]:
    config_path = run_dir / "config.json"
    if not config_path.exists():
        return "train", "new run"
    try:
        existing = TrainConfig.from_json(json.loads(config_path.read_text()))
    except (ValueError, TypeError) as error:
        return "conflict", f"unreadable config.json ({error})"
    changed = [name for name in existing.to_json() if getattr(existing, name) != getattr(config, name)]
    checkpoint = checkpoint_folder(run_dir)
    if changed == ["total_steps"] and config.total_steps > existing.total_steps:
        if is_trained(run_dir) and not (run_dir / "checkpoint" / STATE_FILE).exists():
            return "retrain", (f"finished at {existing.total_steps} steps without its final state: moved to "
                               f"superseded/{existing.total_steps}/, trained from zero to {config.total_steps}")
        return "extend", f"{existing.total_steps} -> {config.total_steps} steps"
    if changed:
        return "conflict", "; ".join(f"{name}: {getattr(existing, name)!r} there, {getattr(config, name)!r} now"
                                     for name in changed)
    if is_trained(run_dir):
        if evaluation_spec is not None and is_evaluated(run_dir, evaluation_spec):
            return "done", "trained and evaluated"
        return "evaluate", "trained"
    if checkpoint is not None:
        return "resume", f"from its last checkpoint{_checkpoint_progress(checkpoint / 'model.zip', config)}"
    return "train", "config written, no checkpoint yet: starts over"


def _checkpoint_step(model_zip: Path) -> int | None:
    """The ``num_timesteps`` SB3 saves in the ``data`` JSON of ``model_zip`` (read without loading the networks);
    None where the file is not such an archive."""
    try:
        with zipfile.ZipFile(model_zip) as archive:
            return int(json.loads(archive.read("data"))["num_timesteps"])
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError):
        return None


def _checkpoint_progress(model_zip: Path, config: TrainConfig) -> str:
    """`` at step N of total, p%`` of a checkpoint; ``(step not readable)`` where it is not an SB3 archive."""
    steps = _checkpoint_step(model_zip)
    if steps is None:
        return " (step not readable)"
    return f" at step {steps} of {config.total_steps}, {steps / config.total_steps:.0%}"


def steps_to_train(config: TrainConfig, run_dir: str | Path) -> int:
    """Env steps a sweep would still train for ``config`` in ``run_dir``: all of them for a new run, the rest after
    its last checkpoint for one to resume (a run another process is training counts from that checkpoint too, so
    this overestimates it), the added budget for one to extend, all of them for one to retrain, 0 for a trained
    or conflicting one."""
    run_dir = Path(run_dir)
    action, _ = _plan_run(config, run_dir, None)
    if action in ("train", "retrain"):
        return config.total_steps
    if action == "resume":
        step = _checkpoint_step(checkpoint_folder(run_dir) / "model.zip")
        return config.total_steps - (step or 0)
    if action == "extend":
        existing = TrainConfig.from_json(json.loads((run_dir / "config.json").read_text()))
        return config.total_steps - existing.total_steps
    return 0


def measured_steps_per_second(run_dirs: Iterable[str | Path]) -> tuple[float, int]:
    """Median training speed (env steps per second, ``train_summary.json``) of the finished runs among
    ``run_dirs``, and how many there are; ``(nan, 0)`` when none is finished."""
    rates = []
    for run_dir in run_dirs:
        path = Path(run_dir) / "train_summary.json"
        if path.exists():
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                rates.append(float(json.loads(path.read_text())["steps_per_second"]))
    return (float(pd.Series(rates).median()), len(rates)) if rates else (float("nan"), 0)


def makespan(work: Sequence[float], workers: int) -> float:
    """Wall time of ``work`` (one item per run) on ``workers`` parallel workers, each item to the least busy worker,
    longest first (the greedy LPT schedule: within 4/3 of the best possible)."""
    loads = [0.0] * max(1, workers)
    for item in sorted(work, reverse=True):
        loads[loads.index(min(loads))] += item
    return max(loads)


@contextlib.contextmanager
def _stop_on_signals(executor, futures):
    """While a sweep waits for its runs, SIGINT (Ctrl-C) and SIGTERM (``kill``, a batch system's stop) stop it
    cleanly: the runs not started are cancelled, no worker starts another run (the executor's stop event, which
    also makes a running run checkpoint and stop at its next vector step), and for SIGTERM the running workers get
    SIGTERM too (Ctrl-C reaches them from the terminal itself).  Their futures then fail with
    :class:`~cebe_deep.run.training.TrainingInterrupted` or :class:`RunNotStarted`, and the sweep reports itself
    interrupted.  The handlers are set whatever the inherited disposition (a background job ignores SIGINT:
    before, a SIGINT then reached only the workers, and every queued run still trained).  A second signal stops
    at once (a worker between two runs may then end abruptly; checkpoints are atomic).  Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def handler(number, frame):
        if received:
            raise KeyboardInterrupt
        received.append(number)
        for future in futures:
            future.cancel()  # runs not handed to a worker yet
        if hasattr(executor, "stop_runs"):  # the workers start no other run; running ones checkpoint and stop
            executor.stop_runs(signal_workers=number == signal.SIGTERM)

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def sweep(configs: Iterable[TrainConfig], root: str | Path, executor=None, points: int = 11, episodes: int = 32,
          span: float | None = None, progress: bool = True, contexts: str | None = None) -> pd.DataFrame:
    """Train and evaluate every config (finished runs are kept, interrupted ones resume); returns and writes
    ``root/<task>/evaluation.csv`` (all runs of the task, tidy).  A failed run is reported, not fatal: the
    returned table's ``attrs["failures"]`` lists ``task/method/seed<k>: Error: message`` for each, and
    ``attrs["interrupted"]`` says whether one of them was a run stopped by SIGINT / SIGTERM (checkpointed).
    ``contexts`` chooses the evaluation contexts (see :func:`cebe_deep.run.evaluation.evaluation_grid`); a run
    evaluated earlier with other settings is evaluated again.
    """
    configs = list(configs)
    if not configs:
        raise ConfigError("a sweep needs at least one run (check --methods and --seeds)")
    if episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {episodes}")
    for config in configs:
        validate_config(config)
    for task, dimension in sorted({(config.task, config.dimension) for config in configs}, key=str):
        evaluation_grid(task, contexts, points, span, dimension)  # bad --contexts / --points / --span: refused before training
    owned = executor is None  # shut down only an executor made here; a caller's stays usable
    executor = LocalExecutor() if owned else executor
    futures = {executor.submit(run_job, Job(config, str(run_dir_for(root, config)), points, episodes, span, contexts)): config
               for config in configs}
    failures, interrupted = [], False
    with tqdm(total=len(futures), disable=not progress, desc="runs", unit="run") as bar, \
            _stop_on_signals(executor, futures):
        for future in concurrent.futures.as_completed(futures):
            config = futures[future]
            try:
                result = future.result()
                bar.set_postfix_str(f"{config.method}/seed{config.seed}: {result.steps_per_second:.0f} steps/s")
            except Exception as error:  # noqa: BLE001 - one failed run must not lose the others
                failures.append(f"{config.task}/{config.method}/seed{config.seed}: {type(error).__name__}: {error}")
                interrupted |= isinstance(error, (TrainingInterrupted, RunNotStarted, concurrent.futures.CancelledError))
            bar.update(1)
    if owned:
        executor.shutdown(wait=True)
    for failure in failures:
        print(f"run failed: {failure}")
    table = collect(root, sorted({config.task for config in configs}))
    table.attrs.update(failures=failures, interrupted=interrupted)
    return table


def collect(root: str | Path, tasks: Sequence[str]) -> pd.DataFrame:
    """Concatenate the runs' evaluation.csv files under ``root/<task>/`` into ``root/<task>/evaluation.csv``
    (``<task>`` is :func:`~cebe_deep.tasks.task_folder` of the task: ``/`` and ``:`` of an own task's id made ``__``)."""
    frames = []
    for task in tasks:
        folder = Path(root) / task_folder(task)
        paths = sorted(folder.glob("*/seed*/evaluation.csv"))
        if not paths:
            continue
        table = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
        table.to_csv(folder / "evaluation.csv", index=False)
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


