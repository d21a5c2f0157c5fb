"""One process per run directory: an OS file lock held while a run is trained or evaluated.

The lock file is ``run_dir/.lock`` (:data:`LOCK_FILE`); the OS releases it when the process ends, however it ends.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from filelock import FileLock, Timeout

from cebe_deep.errors import ConfigError

__all__ = ["LOCK_FILE", "RunBusy", "run_lock", "run_is_busy"]

LOCK_FILE = ".lock"


class RunBusy(ConfigError):
    """Another process holds the run directory's lock: it is training or evaluating that run right now."""


@contextlib.contextmanager
def run_lock(run_dir: str | Path, wait: float = 2.0):
    """Hold ``run_dir/.lock`` (an OS file lock, released when the process ends, however it ends) while training
    or evaluating a run, so that two processes never write one run: a second sweep started over the same root,
    or the same command run twice, fails the runs the first one holds with :class:`RunBusy` (the sweep reports
    them and writes no results) instead of training them twice into one checkpoint.  Reentrant in a process
    (a sweep's job holds it across training and evaluation, and :func:`train` takes it again).  ``wait``: seconds
    to wait for the lock first (a ``sweep --dry-run`` looking at the run holds it for a moment)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(run_dir / LOCK_FILE, is_singleton=True)
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise RunBusy(f"{run_dir}: another process is training or evaluating this run (it holds {run_dir / LOCK_FILE}); "
                      "wait for it or stop it, then rerun") from None
    try:
        yield
    finally:
        lock.release()


def run_is_busy(run_dir: str | Path) -> bool:
    """Whether another process holds ``run_dir``'s lock now (a look: an existing lock is taken and released at
    once, without waiting; no lock file is created)."""
    if not (Path(run_dir) / LOCK_FILE).exists():
        return False
    try:
        with run_lock(run_dir, wait=0):
            return False
    except RunBusy:
        return True
