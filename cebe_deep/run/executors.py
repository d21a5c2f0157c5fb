"""Where a sweep's runs execute: anything with ``submit(fn, *args) -> concurrent.futures.Future``.

:class:`LocalExecutor` (worker processes on this machine, one torch thread each; the default),
:class:`SerialExecutor` (this process; debugging, tests) and :class:`RayExecutor` (optional, ``pip install
ray``; ``ray.init(address=...)`` first to use a cluster).  A cluster user can pass any other such executor.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from typing import Any, Callable

from cebe_deep.errors import ConfigError

__all__ = ["SerialExecutor", "LocalExecutor", "RayExecutor", "BACKENDS", "make_executor", "stop_requested", "job_running"]


class SerialExecutor:
    """Runs each job in this process when submitted (debugging, tests)."""

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


_STOP_EVENT = None  # in a LocalExecutor's worker: the executor's "stop the sweep" event
_ORPHANED = threading.Event()  # set in a worker whose parent (the sweep) has died
_JOB = threading.Lock()  # held by a worker while it runs a job (job_running)
#: Seconds a worker whose sweep died waits for its running job to checkpoint before it exits.
ORPHAN_GRACE_SECONDS = 600.0


@contextlib.contextmanager
def job_running():
    """Held around a job in a worker, so that a worker whose sweep died exits once the job has checkpointed."""
    with _JOB:
        yield


def _exit_when_orphaned(parent: int, poll: float = 1.0) -> None:
    """A worker's watchdog: when the sweep that started it dies (even by SIGKILL, which it cannot forward), stop
    the running run (SIGTERM: train() checkpoints and stops; no further job starts) and exit."""
    while os.getppid() == parent:
        time.sleep(poll)
    _ORPHANED.set()
    if _JOB.locked():
        os.kill(os.getpid(), signal.SIGTERM)
        if _JOB.acquire(timeout=ORPHAN_GRACE_SECONDS):
            _JOB.release()
    os._exit(1)


def _init_worker(stop_event=None) -> None:
    import torch

    global _STOP_EVENT
    _STOP_EVENT = stop_event
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), name="orphan-watchdog", daemon=True).start()
    # SIGTERM outside training (idle, evaluating) must not kill the worker: a dead worker breaks the whole pool,
    # and its siblings' runs would end without a checkpoint.  While training, train() handles it (checkpoint, stop).
    signal.signal(signal.SIGTERM, lambda number, frame: None)
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def stop_requested() -> bool:
    """True in a worker of a :class:`LocalExecutor` whose sweep is stopping (:meth:`LocalExecutor.stop_runs`)."""
    return _ORPHANED.is_set() or (_STOP_EVENT is not None and _STOP_EVENT.is_set())


class LocalExecutor(concurrent.futures.ProcessPoolExecutor):
    """Worker processes on this machine (one torch thread each); the default backend."""

    def __init__(self, max_workers: int = 2):
        if not (isinstance(max_workers, int) and max_workers >= 1):
            raise ConfigError(f"--workers (max_workers) must be an integer >= 1, got {max_workers!r}")
        context = multiprocessing.get_context("spawn")
        self._stop_event = context.Event()
        super().__init__(max_workers=max_workers, mp_context=context, initializer=_init_worker,
                         initargs=(self._stop_event,))

    def stop_runs(self, signal_workers: bool = True) -> None:
        """Stop the sweep: no worker starts another run and a running one checkpoints and stops at its next vector
        step (:func:`stop_requested`); with ``signal_workers`` each worker also gets SIGTERM, which interrupts a
        run between two vector steps too (see :func:`cebe_deep.run.training.train`)."""
        self._stop_event.set()
        if not signal_workers:
            return
        for process in list((self._processes or {}).values()):
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)


class RayExecutor:
    """Runs jobs as Ray tasks (``ray.init(address=...)`` first to use a cluster).  Optional: needs ``ray``."""

    def __init__(self, num_cpus_per_job: float = 1.0, **init_kwargs: Any):
        try:
            import ray
        except ImportError as error:
            raise ConfigError("the ray backend needs the 'ray' package (pip install ray)") from error
        if not ray.is_initialized():
            if "address" not in init_kwargs:  # a local instance: on loopback (a sandbox's hostname may not resolve)
                init_kwargs = dict(_node_ip_address="127.0.0.1", include_dashboard=False) | init_kwargs
            ray.init(**init_kwargs)
        self._ray, self._num_cpus = ray, num_cpus_per_job

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        remote = self._ray.remote(num_cpus=self._num_cpus)(fn)
        return remote.remote(*args, **kwargs).future()

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


BACKENDS = ("local", "serial", "ray")


def make_executor(backend: str = "local", workers: int = 2):
    if backend == "local":
        return LocalExecutor(max_workers=workers)
    if backend == "serial":
        return SerialExecutor()
    if backend == "ray":
        return RayExecutor()
    raise ConfigError(f"--backend {backend!r}: unknown backend; choose one of {', '.join(BACKENDS)}")
