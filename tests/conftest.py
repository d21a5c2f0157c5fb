"""What every test shares: its temporary files go to pytest's own temporary folder, not the machine's.

Code under test may write to the temp directory without cleaning up: plain Stable-Baselines3 models (the README's
SAC example, TD3 in the CSE tests) make an ``SB3-<time>`` folder for their default logger, and notebooks 03 and 04
keep their figures and runs in a ``cebe-notebook-*`` folder for the reader.  Pointing ``tempfile`` (and ``TMPDIR``,
for the notebook kernels and other subprocesses) at a per-test folder under pytest's base temp keeps them out of
``/tmp``: pytest keeps only the last few runs' folders."""

from __future__ import annotations

import tempfile

import pytest


@pytest.fixture(autouse=True)
def _temporary_files_stay_with_the_test(tmp_path_factory, monkeypatch):
    scratch = tmp_path_factory.mktemp("tmp")
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    yield
