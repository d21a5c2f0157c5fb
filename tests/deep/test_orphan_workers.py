"""A sweep's worker processes exit when the sweep dies, even by SIGKILL (which it cannot forward): before, they
finished their run, then idled forever and ignored SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PARENT = r"""
import os, signal, sys, time
from cebe_deep.run.executors import LocalExecutor
executor = LocalExecutor(max_workers=1)
print(executor.submit(os.getpid).result(), flush=True)
executor.submit(time.sleep, 600)  # a long job: the worker is busy when the parent dies
time.sleep(1.0)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie (exited, not yet reaped by init) counts as gone
        return stat.read().split(") ")[1].split()[0] != "Z"


def test_workers_exit_when_the_sweep_is_killed():
    result = subprocess.run([sys.executable, "-c", PARENT], capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr
    worker = int(result.stdout.split()[0])
    deadline = time.monotonic() + 30
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.5)
    alive = _alive(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)
    assert not alive, "the worker outlived its sweep by 30 s"
