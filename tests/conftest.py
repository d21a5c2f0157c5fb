"""What every test shares: temporary files go to pytest's own temporary folder, not the machine's.

Code under test may write to the temp directory without cleaning up: plain Stable-Baselines3 models (the README's
SAC example, TD3 in the CSE tests) make an ``SB3-<time>`` folder for their default logger, and notebooks 03 and 04
keep their figures and runs in a ``cebe-notebook-*`` folder for the reader.  Pointing ``tempfile`` (and ``TMPDIR``,
for the notebook kernels, the course-site build and other subprocesses) at one folder under pytest's base temp for
the whole session keeps them out of ``/tmp``: pytest keeps only the last few sessions' folders.  Session-scoped, so
that it is in place before the module-scoped fixtures (the site build of tests/test_docs.py) run."""

from __future__ import annotations

import tempfile

import pytest


@pytest.fixture(autouse=True, scope="session")
def _temporary_files_stay_with_the_session(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("tmp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(scratch))
        patch.setenv("TMPDIR", str(scratch))
        yield
