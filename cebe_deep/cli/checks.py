"""The checks of the ``cebe-deep`` command line: everything a command needs, before any work.

Numeric ranges, unknown names, run directories, evaluation CSVs and their columns, output folders (created
last).  Each failure is one :class:`~cebe_cli.UsageError` line naming the flag or file, the
value and what is allowed; :mod:`cebe_deep.cli` turns it into exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from cebe_cli import InputError, UsageError
from cebe_cli import output_folder as _output_folder

#: Columns every evaluation CSV must have (``context_0`` ... as many as the task has; ``run`` is optional).


def config_overrides(args: argparse.Namespace) -> dict:
    """The config fields a command line sets (None where left out: the profile's value stands)."""
    from cebe_deep.run.config import OVERRIDABLE

    return {name: getattr(args, name) for name in OVERRIDABLE}


# Everything a command needs is checked here, before any work; output folders are created last.
def output_folders(*folders: tuple[Path | None, str]) -> list[Path | None]:
    """:func:`_output_folder` for each ``(path, flag)`` (None: not asked for); if one fails, the folders made
    here for the others are removed again, so that a refused command leaves nothing behind."""
    made: list[Path] = []
    try:
        for path, flag in folders:
            if path is None:
                continue
            missing = [folder for folder in (path, *path.parents) if not folder.exists()]
            _output_folder(path, flag)
            made += missing
    except InputError:
        for folder in made:  # children first
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return [path for path, _ in folders]


def output_file(path: Path, flag: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """Check that ``path`` is not a folder (and has one of ``suffixes``), and create its folder."""
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder, expected a file name")
    if suffixes is not None and path.suffix.lower().lstrip(".") not in suffixes:
        raise UsageError(f"{flag} {path}: unknown image type {path.suffix!r}; use one of "
                         f"{', '.join('.' + suffix for suffix in suffixes)}")
    _output_folder(path.parent, flag)
    return path


def image_types() -> tuple[str, ...]:
    from matplotlib.figure import Figure

    return tuple(Figure().canvas.get_supported_filetypes())


def check_evaluation_arguments(args: argparse.Namespace, tasks) -> None:
    """``tasks``: task names, or ``(task, dimension)`` pairs (SimpleDirection's d of the runs)."""
    from cebe_deep.run.evaluation import evaluation_grid

    if args.points < 2:
        raise UsageError(f"--points must be >= 2, got {args.points}")
    if args.episodes is not None and args.episodes < 1:
        raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
    if args.span is not None and not args.span > 0:
        raise UsageError(f"--span must be > 0, got {args.span:g}")
    for task, dimension in sorted({task if isinstance(task, tuple) else (task, None) for task in tasks}, key=str):
        try:
            evaluation_grid(task, args.contexts, args.points, args.span, dimension)
        except InputError as error:
            message = str(error)
            raise UsageError(message if message.startswith("--") else f"--contexts {args.contexts}: {message}") from None


def checked_configs(args: argparse.Namespace, methods, seeds):
    from cebe_deep.run.config import make_config

    return [make_config(args.task, method, args.profile, flags=True, seed=seed, **config_overrides(args))
            for method in methods for seed in seeds]


def check_sweep_arguments(args: argparse.Namespace, backends) -> list[str]:
    """The methods of ``sweep --methods``, after checking them, ``--backend`` (one of ``backends``), ``--workers``
    and ``--same-machine-as``."""
    from cebe_deep.run.config import METHODS

    methods = [method.strip() for method in args.methods.split(",")]
    if "" in methods:  # "cse,,ldr", a trailing comma: a typo, never a method to drop
        raise UsageError(f"--methods {args.methods!r}: entry {methods.index('') + 1} is empty; give methods from "
                         f"{', '.join(METHODS)}, separated by commas")
    unknown = [method for method in methods if method not in METHODS]
    if not methods or unknown:
        raise UsageError(f"--methods {args.methods!r}: " + (f"unknown method {unknown[0]!r}" if unknown else "no method")
                         + f"; choose from {', '.join(METHODS)}")
    if args.backend not in backends:
        raise UsageError(f"--backend {args.backend!r}: unknown backend; choose one of {', '.join(backends)}")
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    if args.same_machine_as is not None:
        check_same_machine(args.same_machine_as, "--same-machine-as")
    return methods


def check_same_machine(folder: Path, flag: str) -> None:
    """Refuse when a run under ``folder`` trained on another machine than this one
    (:func:`cebe_deep.run.provenance.other_machines`); a folder that is not there yet holds no run."""
    from cebe_deep.run.provenance import machine, other_machines

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{flag} {folder}: is a file, expected the folder of a sample's runs")
    others = other_machines(folder) if folder.is_dir() else {}
    if others:
        recorded, runs = next(iter(others.items()))
        raise UsageError(f"{flag} {folder}: {len(runs)} run(s) there (first: {runs[0]}) trained on {recorded!r}, this "
                         f"machine is {machine()!r}; a sample fixed to one machine cannot go on here (for CheetahVelocity's "
                         "settling sample results/PROTOCOL.md, section 9, says what to do)")


def run_config(run: Path):
    """The config of a trained run directory, or a one-line error naming it."""
    from cebe_deep.run.config import TrainConfig

    if not run.is_dir():
        raise UsageError(f"run directory {run}: no such folder")
    if not (run / "model.zip").exists():
        raise UsageError(f"run directory {run}: no trained model in it (missing model.zip)")
    try:
        return TrainConfig.from_json(json.loads((run / "config.json").read_text()))
    except FileNotFoundError:
        raise UsageError(f"run directory {run}: has model.zip but no config.json") from None
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise UsageError(f"run directory {run}: unreadable config.json ({type(error).__name__}: {error})") from None


def read_csv(path: Path):
    """An evaluation table (``.csv`` or ``.csv.gz``), checked: the file exists and is whole
    (:func:`cebe_deep.run.evaluation.read_evaluation_table`: gzip integrity, a complete last line, the columns,
    finite returns, every run at the same contexts with the same episodes), holds one known task, and its runs
    are told apart."""
    from cebe_deep import tasks
    from cebe_deep.run.evaluation import read_evaluation_table

    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, expected an evaluation CSV")
    table = read_evaluation_table(path)
    names = sorted(str(task) for task in table["task"].unique())
    if len(names) != 1:
        raise UsageError(f"{path}: holds several tasks {names}; one task per CSV")
    if not tasks.is_builtin(names[0]):
        try:
            tasks.task_factory(names[0], tasks.TASKS)  # an own task: its module must import (base_context builds it)
        except InputError as error:
            raise UsageError(f"{path}: {error}") from None
    check_runs_apart(table, str(path))
    return table


def check_runs_apart(table, where: str) -> None:
    """Two runs with the same (method, seed) in one table would be counted as two seeds: refuse."""
    if "run" not in table.columns:
        return
    runs = table.groupby(["method", "seed"])["run"].nunique()
    if (runs > 1).any():
        method, seed = runs[runs > 1].index[0]
        names = sorted(table.loc[(table["method"] == method) & (table["seed"] == seed), "run"].astype(str).unique())
        raise UsageError(f"{where}: method {method} seed {seed} comes from {len(names)} runs ({', '.join(names)}); "
                         "summarize each in its own CSV, or name one with LABEL=PATH")


def split_label(spec: str) -> tuple[str, str]:
    """``LABEL=PATH`` -> ``(LABEL, PATH)``; a plain PATH (one that exists even with an ``=`` in its name) ->
    ``("", PATH)``."""
    label, _, path = spec.partition("=") if "=" in spec and not Path(spec).exists() else ("", "", spec)
    return label, path


def read_labelled_tables(specs: list[str]):
    """Concatenate evaluation CSVs given as ``PATH`` or ``LABEL=PATH`` (every run of PATH becomes method LABEL)."""
    import pandas as pd

    tables = []
    for spec in specs:
        label, path = split_label(spec)
        table = read_csv(Path(path))
        if label:
            methods = sorted(table["method"].unique())
            if len(methods) != 1:
                raise UsageError(f"{label}={path}: LABEL=PATH relabels the runs of one method, {path} holds {methods}")
            table = table.assign(method=label)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    tasks = sorted(table["task"].unique())
    if len(tasks) != 1:
        raise UsageError(f"the CSVs must hold one task, got {tasks}")
    repeated = table.duplicated(["method", "seed", "sweep", "sweep_value", "episode"])
    if repeated.any():
        twice = sorted(table.loc[repeated, "method"].unique())
        raise UsageError(f"method(s) {twice} appear in more than one CSV; give a variant its own name with LABEL=PATH")
    return table


def read_curves_csv(path: Path):
    """A curves CSV written by ``cebe-deep curves --out``, checked: one :class:`UsageError` line otherwise."""
    import pandas as pd

    from cebe_deep.report.curves import CURVE_COLUMNS

    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        curves = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a readable CSV ({type(error).__name__}: {error})") from None
    missing = [column for column in CURVE_COLUMNS if column not in curves.columns]
    if missing or curves.empty:
        raise UsageError(f"{path}: not a curves CSV of `cebe-deep curves --out` "
                         f"({'no rows' if not missing else 'missing columns ' + ', '.join(missing)})")
    return curves


def curve_sources(sources: list[str], bins: int):
    """The binned curves of ``sources``: run directories (``LABEL=RUN_DIR`` allowed) and curves CSVs, together
    (e.g. a committed training_curves.csv and the run directories of seeds trained later, binned alike)."""
    import pandas as pd

    from cebe_deep.report.curves import training_curves

    tables = [read_curves_csv(Path(spec)) for spec in sources if spec.endswith(".csv")]
    runs = []
    for spec in (spec for spec in sources if not spec.endswith(".csv")):
        label, path = split_label(spec)
        run = Path(path)
        if not run.is_dir():
            raise UsageError(f"run directory {run}: no such folder")
        if not (run / "config.json").is_file():
            raise UsageError(f"run directory {run}: no config.json in it")
        if not any((run / "monitor").glob("*.monitor.csv")):
            raise UsageError(f"run directory {run}: no training episodes yet (no monitor/*.monitor.csv)")
        runs.append((run, label or None))
    if len({str(run.resolve()) for run, _ in runs}) != len(runs):
        raise UsageError("a run directory is given twice")
    if runs:
        try:
            from_runs = training_curves(runs, bins)
        except (ValueError, KeyError) as error:
            raise UsageError(f"unreadable run directory: {type(error).__name__}: {error}") from None
        if from_runs.empty:
            raise UsageError("no finished training episode in these run directories")
        if tables and any(table["bin"].max() + 1 != bins for table in tables):
            raise UsageError(f"the curves CSVs are not binned in --bins {bins} like the run directories")
        tables.append(from_runs)
    keys = [set(zip(table["method"], table["seed"])) for table in tables]
    if sum(map(len, keys)) != len(set().union(*keys)):
        raise UsageError("two sources have runs of the same method and seed; name a variant with LABEL=RUN_DIR")
    curves = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    if curves.groupby(["method", "seed"])["run"].nunique().max() > 1:
        raise UsageError("two sources have runs of the same method and seed; name a variant with LABEL=RUN_DIR")
    for column, what in (("task", "tasks"), ("budget", "env-step budgets")):
        if curves[column].nunique() > 1:
            raise UsageError(f"the runs have different {what} ({', '.join(map(str, sorted(curves[column].unique())))}); "
                             "give each its own `cebe-deep curves`")
    return curves
