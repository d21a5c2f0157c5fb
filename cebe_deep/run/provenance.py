"""Where each result came from: the commit a run trained on, its settings and speed (``runs.csv``), and the
staging of a finished run's small files, so that a long sweep survives machines that do not keep ``runs/``.

- :func:`code_commit`: the git commit of the package's own checkout (``unknown`` outside one), recorded in
  ``train_summary.json`` when a run finishes;
- :func:`runs_table`: one row per run directory (trained, or staged): method, seed, env steps, training seconds,
  env steps per second, the commit, the profile, the replay, and for DQN ``double_q`` and ``dueling``;
  ``cebe-deep sweep --results`` writes it as ``runs.csv``, and so does ``cebe-deep summarize --results`` for the
  inputs that are runs' own tables (:func:`runs_beside`: staged runs merged into a results folder);
- :func:`stage_run`: copy a finished run's ``config.json``, ``train_summary.json``, ``evaluation.json``, its
  ``evaluation.csv`` (gzipped) and its Monitor logs, everything but the model, into a folder that is committed.
  A staged run is what a results table and the training curves need of it.
"""

from __future__ import annotations

import functools
import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd

from cebe_deep.errors import ConfigError

__all__ = ["RUN_COLUMNS", "STAGED_FILES", "code_commit", "runs_table", "runs_beside", "stage_run"]

#: The columns of ``runs.csv``.
RUN_COLUMNS = ("task", "method", "seed", "env_steps", "training_seconds", "env_steps_per_second", "commit", "profile",
               "replay", "double_q", "dueling", "run")
#: What a staged run keeps (besides ``evaluation.csv.gz`` and ``monitor/``).
STAGED_FILES = ("config.json", "train_summary.json", "evaluation.json")
#: Copied too where a run has them: the cost of finite-difference Jacobians, importance-weighted CSE's weights.
OPTIONAL_STAGED_FILES = ("fd_cost.json", "importance.json")


@functools.lru_cache(maxsize=1)
def code_commit() -> str:
    """The commit of the git checkout this package runs from (a ``+`` marks uncommitted changes to tracked files);
    ``unknown`` for an installed copy outside a checkout."""
    folder = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder, capture_output=True,
                               text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+" if dirty else "")


def _row(run_dir: Path) -> dict:
    config = json.loads((run_dir / "config.json").read_text())
    summary = json.loads((run_dir / "train_summary.json").read_text())
    return dict(task=config["task"], method=config["method"], seed=config["seed"], env_steps=summary["num_timesteps"],
                training_seconds=summary["seconds"], env_steps_per_second=summary.get("steps_per_second"),
                commit=summary.get("commit", "unknown"), profile=config.get("profile"), replay=config.get("replay"),
                double_q=config.get("double_q", False), dueling=config.get("dueling", False), run=str(run_dir))


def runs_table(run_dirs) -> pd.DataFrame:
    """``runs.csv`` of the trained (or staged) run directories among ``run_dirs``, ordered by method and seed."""
    rows = [_row(Path(run)) for run in run_dirs
            if (Path(run) / "config.json").is_file() and (Path(run) / "train_summary.json").is_file()]
    table = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    return table.sort_values(["method", "seed"], kind="stable", ignore_index=True)


def runs_beside(tables) -> pd.DataFrame:
    """:func:`runs_table` of the run (or staged run) folders whose own evaluation tables are ``tables`` (paths of
    ``evaluation.csv`` or ``.csv.gz`` with config.json and train_summary.json beside them); a table without its
    run folder (merged, or trained before provenance was recorded) has no row."""
    folders = [Path(table).parent for table in tables]
    return runs_table(folder for folder in folders
                      if (folder / "config.json").is_file() and (folder / "train_summary.json").is_file())


def stage_run(run_dir: str | Path, out: str | Path, commit: str | None = None) -> Path:
    """Copy a finished, evaluated run's small files into ``out`` (created; a staged run already there is
    replaced): everything a results table and the training curves need, not the model.  ``commit``: the commit
    it trained on, where its ``train_summary.json`` does not record one (runs of versions before it did)."""
    run_dir, out = Path(run_dir), Path(out)
    missing = [name for name in (*STAGED_FILES, "evaluation.csv") if not (run_dir / name).is_file()]
    if missing:
        raise ConfigError(f"run directory {run_dir}: not finished and evaluated (missing {', '.join(missing)})")
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in STAGED_FILES:
        shutil.copy2(run_dir / name, partial / name)
    for name in OPTIONAL_STAGED_FILES:
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, partial / name)
    summary = json.loads((partial / "train_summary.json").read_text())
    if "commit" not in summary and commit is not None:
        summary["commit"] = commit
        (partial / "train_summary.json").write_text(json.dumps(summary, indent=2))
    with gzip.GzipFile(partial / "evaluation.csv.gz", "wb", mtime=0) as packed:
        packed.write((run_dir / "evaluation.csv").read_bytes())
    if (run_dir / "monitor").is_dir():
        shutil.copytree(run_dir / "monitor", partial / "monitor")
    shutil.rmtree(out, ignore_errors=True)
    partial.replace(out)
    return out
