"""Where each result came from: the commit a run trained on, its settings and speed (``runs.csv``), and the
staging of a finished run's small files, so that a long sweep survives machines that do not keep ``runs/``.

- :func:`code_commit`: the git commit of the package's own checkout (``unknown`` outside one; ``+`` when its code
  has uncommitted changes), recorded in ``train_summary.json`` when a run finishes, and :func:`machine`, the CPU
  and torch's kernels it ran on (a seeded run is bit-identical across commits on one machine only), and
  :func:`other_machines`, which of a folder's runs trained elsewhere (a sample fixed to one machine must not mix);
- :func:`runs_table`: one row per run directory (trained, or staged): method, seed, env steps, training seconds,
  env steps per second, the commit, the machine (empty for runs from before it was recorded), the profile, the
  replay, and for DQN ``double_q`` and ``dueling``;
  ``cebe-deep sweep --results`` writes it as ``runs.csv``, and so does ``cebe-deep summarize --results`` for the
  inputs that are runs' own tables (:func:`runs_beside`: staged runs merged into a results folder);
- :func:`reproduced_rows` / :func:`runs_with_reproduced`: runs trained again, on a later commit, for a results folder
  whose first runs trained before provenance was recorded (their run folders are gone): staged under
  ``<folder>/reproduced/<method>/seed<k>/``, each gets its row, and its ``reproduces`` column says whether its
  evaluation equals, episode for episode, the committed table's for the same method and seed (``identical``:
  the committed numbers are this run's; otherwise by how much they differ); empty for the runs of the table;
- :func:`stage_run`: copy a finished run's ``config.json``, ``train_summary.json``, ``evaluation.json``, its
  ``evaluation.csv`` (gzipped) and its Monitor logs, everything but the model, into a folder that is committed.
  A staged run is what a results table and the training curves need of it.
"""

from __future__ import annotations

import functools
import gzip
import json
import platform
import shutil
import subprocess
from pathlib import Path

import pandas as pd

from cebe_deep.errors import ConfigError

__all__ = ["RUN_COLUMNS", "STAGED_FILES", "REPRODUCED", "CODE_PATHS", "code_commit", "checkout_commit", "machine",
           "other_machines", "runs_table", "runs_beside", "reproduced_rows", "compare_evaluations",
           "runs_with_reproduced", "recorded_eps", "stage_run"]

#: The columns of ``runs.csv``.
RUN_COLUMNS = ("task", "method", "seed", "env_steps", "training_seconds", "env_steps_per_second", "commit", "machine",
               "profile", "replay", "double_q", "dueling", "run", "reproduces")
#: The folder of a results folder that holds its reproduced runs (staged).
REPRODUCED = "reproduced"
#: What a staged run keeps (besides ``evaluation.csv.gz`` and ``monitor/``).
STAGED_FILES = ("config.json", "train_summary.json", "evaluation.json")
#: Copied too where a run has them: the cost of finite-difference Jacobians, importance-weighted CSE's weights.
OPTIONAL_STAGED_FILES = ("fd_cost.json", "importance.json")


#: The tracked paths of the checkout that decide what a run computes (a change elsewhere, to ``results/``, the docs or
#: the notebooks, does not mark the commit: a sweep that rewrites a committed ``runs.csv`` stays on a clean commit).
CODE_PATHS = ("cebe_deep", "cebe_theory", "cebe_cli.py", "pyproject.toml")


@functools.lru_cache(maxsize=1)
def code_commit() -> str:
    """The commit of the git checkout this package runs from (a ``+`` marks uncommitted changes to its code,
    :data:`CODE_PATHS`); ``unknown`` for an installed copy outside a checkout."""
    return checkout_commit(Path(__file__).resolve().parent)


def checkout_commit(folder: Path, code_paths: tuple[str, ...] = CODE_PATHS) -> str:
    """The commit of the git checkout that holds ``folder``, with ``+`` when a tracked file under ``code_paths``
    (relative to the checkout's top) differs from it; ``unknown`` outside a checkout or without git."""
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=10,
                                  check=True).stdout.strip()
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", *(f":(top){path}" for path in code_paths))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+" if dirty else "")


def _cpu_model() -> str:
    """The CPU's model name as Linux reports it (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine() -> str:
    """The machine a run computes on, as far as it decides the bits: the CPU model and architecture, torch's version,
    the instruction set its CPU kernels dispatch to and its thread count, e.g. ``AMD EPYC (x86_64); torch 2.13.0+cpu,
    AVX512, 1 thread``.  Recorded in ``train_summary.json`` when a run finishes (a run resumed on another machine
    names the last): a seeded run is bit-identical across commits on one machine, not across machines
    (results/README.md, "How it was run")."""
    import torch

    capability = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "unknown")()
    threads = torch.get_num_threads()
    return (f"{_cpu_model()} ({platform.machine()}); torch {torch.__version__}, {capability}, "
            f"{threads} thread{'s' if threads != 1 else ''}")


def _without_threads(description: str) -> str:
    """A :func:`machine` description without its thread count (a sweep's parent process and its workers differ in
    threads, not in the machine)."""
    head, _, last = description.rpartition(", ")
    return head if head and last.split()[-1] in ("thread", "threads") else description


def other_machines(folder: str | Path) -> dict[str, list[Path]]:
    """The machines, other than this one, that the runs under ``folder`` (their ``train_summary.json``, at any depth)
    trained on, each with its runs; empty when every run names this machine, or none names one (runs from before
    the machine was recorded, or no run yet).  The thread count is not compared."""
    here = _without_threads(machine())
    others: dict[str, list[Path]] = {}
    for summary in sorted(Path(folder).rglob("train_summary.json")):
        recorded = json.loads(summary.read_text()).get("machine", "")
        if recorded and _without_threads(recorded) != here:
            others.setdefault(recorded, []).append(summary.parent)
    return others


def _row(run_dir: Path) -> dict:
    config = json.loads((run_dir / "config.json").read_text())
    summary = json.loads((run_dir / "train_summary.json").read_text())
    return dict(task=config["task"], method=config["method"], seed=config["seed"], env_steps=summary["num_timesteps"],
                training_seconds=summary["seconds"], env_steps_per_second=summary.get("steps_per_second"),
                commit=summary.get("commit", "unknown"), machine=summary.get("machine", ""),
                profile=config.get("profile"), replay=config.get("replay"), double_q=config.get("double_q", False),
                dueling=config.get("dueling", False), run=str(run_dir), reproduces="")


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


def _committed_table(folder: Path) -> pd.DataFrame | None:
    """The table a reproduced run of ``folder`` is checked against: the folder's own evaluation table (all its
    seeds, the merged later ones included), with the rows of ``first-seeds/`` for any method and seed it lacks;
    None where there is neither."""
    from cebe_deep.run.evaluation import read_evaluation

    own, first = read_evaluation(folder), read_evaluation(folder / "first-seeds")
    if own is None or first is None:
        return own if first is None else first
    held = pd.MultiIndex.from_frame(own[["method", "seed"]])
    missing = ~pd.MultiIndex.from_frame(first[["method", "seed"]]).isin(held)
    return pd.concat([own, first[missing]], ignore_index=True) if missing.any() else own


def compare_evaluations(run_table: pd.DataFrame, committed: pd.DataFrame | None, method: str, seed: int) -> str:
    """Whether a run's evaluation table ``run_table`` equals ``committed``'s episodes of ``method`` and ``seed``:
    ``identical (N episodes)`` when every context and every return is equal to the bit, else what differs."""
    if committed is None:
        return "no committed table"
    theirs = committed[(committed["method"] == method) & (committed["seed"] == seed)]
    if theirs.empty:
        return f"not in the committed table ({method}, seed {seed})"
    if len(theirs) != len(run_table):
        return f"differs: {len(run_table)} episodes, the committed table has {len(theirs)}"
    compared = ("run", "episode_return", "task", "method", "seed")  # the rest says where and which episode
    keys = [column for column in run_table.columns if column not in compared]
    if sorted(keys) != sorted(column for column in theirs.columns if column not in compared):
        return "differs: other columns than the committed table's"
    ours = run_table.sort_values(keys, kind="stable", ignore_index=True)
    theirs = theirs.sort_values(keys, kind="stable", ignore_index=True)
    if not ours[keys].equals(theirs[keys]):
        return "differs: other contexts or episodes than the committed table's"
    gap = (ours["episode_return"] - theirs["episode_return"]).abs().max()
    if gap == 0:
        return f"identical ({len(ours)} episodes)"
    return f"differs: max |return difference| {gap:.3g} over {len(ours)} episodes"


def reproduced_rows(folder: str | Path) -> pd.DataFrame:
    """:func:`runs_table` of the runs staged under ``folder/reproduced/<method>/seed<k>/``, each with its
    ``reproduces`` (:func:`compare_evaluations` against the committed table of ``folder``)."""
    from cebe_deep.run.evaluation import read_evaluation

    folder = Path(folder)
    runs = sorted((folder / REPRODUCED).glob("*/seed*"))
    table = runs_table(runs)
    if table.empty:
        return table
    committed = _committed_table(folder)
    table["reproduces"] = [
        compare_evaluations(read_evaluation(run), committed, method, seed)
        for run, method, seed in zip(table["run"], table["method"], table["seed"])]
    return table


def runs_with_reproduced(folder: str | Path, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """``folder``'s ``runs.csv`` to write: ``rows`` (None: the rows already in its runs.csv but those of
    ``reproduced/``) and :func:`reproduced_rows`, ordered by method and seed."""
    folder = Path(folder)
    if rows is None:
        path = folder / "runs.csv"
        rows = pd.read_csv(path, keep_default_na=False) if path.is_file() else pd.DataFrame(columns=list(RUN_COLUMNS))
        rows = rows.reindex(columns=list(RUN_COLUMNS), fill_value="")
        rows = rows[~rows["run"].astype(str).str.contains(f"/{REPRODUCED}/", regex=False)]
    table = pd.concat([frame for frame in (rows, reproduced_rows(folder)) if not frame.empty] or [rows],
                      ignore_index=True)
    return table.sort_values(["method", "seed"], kind="stable", ignore_index=True)


def recorded_eps(folder: str | Path) -> float | None:
    """The CSE radius the staged runs of a results folder trained with (``staged/*/seed*/config.json``), where they
    agree on one; None otherwise (no staged runs, or several radii)."""
    radii = {json.loads(path.read_text()).get("eps") for path in Path(folder).glob("staged/*/seed*/config.json")}
    return radii.pop() if len(radii) == 1 and None not in radii else None


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
