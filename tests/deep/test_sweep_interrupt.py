"""Ctrl-C of a sweep with queued runs: the running run checkpoints, no queued run starts, the command exits 130 with
one line and leaves no empty --results folder, whether the parent handles SIGINT (a terminal) or inherited it
ignored (a background job, where before every queued run still trained)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _started(root: Path) -> list[str]:
    return sorted(
        str(path.parent.relative_to(root / "SimpleDirection")) for path in root.glob("SimpleDirection/*/seed*/config.json")
    )


@pytest.mark.parametrize("sigint", ["handled", "ignored"])
def test_ctrl_c_starts_no_queued_run(tmp_path, sigint):
    root, results = tmp_path / "runs", tmp_path / "results"
    command = [sys.executable, "-m", "cebe_deep", "sweep", "--task", "SimpleDirection", "--methods", "baseline,cse",
               "--seeds", "2", "--steps", "200000", "--checkpoint-every", "1000", "--workers", "1",
               "--root", str(root), "--results", str(results)]

    def setup():
        os.setsid()  # its own process group, as a terminal's job: the group gets the SIGINT
        if sigint == "ignored":
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = subprocess.Popen(command, preexec_fn=setup, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not list(root.glob("SimpleDirection/*/seed*/checkpoint/model.zip")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _started(root), "no run started"
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("cebe-deep:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert _started(root) == ["baseline/seed0"], "a queued run started after Ctrl-C"
    assert (root / "SimpleDirection" / "baseline" / "seed0" / "checkpoint" / "model.zip").exists()
    assert not results.exists()
