"""``cebe-deep report``: the tables of the write-ups under ``results/``, printed from the committed CSVs
(:mod:`cebe_deep.report.tables`), and the refresh of a write-up's table blocks (:mod:`cebe_deep.report.readme`).
Every subcommand takes the folder it reads; nothing is read relative to the working directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from cebe_cli import UsageError, write_user_file
from cebe_cli import finite_number as _finite
from cebe_deep.learn.eps import PAPER_EPS

__all__ = ["add_report_parser", "run_report"]

OPEN_EXPERIMENTS = ("dimension", "jacobians", "stochastic", "extrapolation", "eps", "all", "collect-logs", "status")


def add_report_parser(commands) -> None:
    """The ``report`` subcommand and its own subcommands, one per table."""
    report = commands.add_parser("report", help="the tables of results/ write-ups, printed from the committed CSVs")
    tables = report.add_subparsers(dest="table", required=True, metavar="TABLE")
    verdicts = tables.add_parser("verdicts", help="the verdict table of results/README.md, per task")
    verdicts.add_argument("root", type=Path, help="a folder of task folders, e.g. results/authors")
    verdicts.add_argument("--zero-episodes", type=int, default=64, help="episodes of the all-zero action per context")
    tables.add_parser("differences", help="CSE - SAC and CSE - LDR per context, 95%% CI").add_argument(
        "folder", type=Path, help="a task's results folder, e.g. results/authors/PendulumGoal")
    tables.add_parser("ablation", help="the PendulumGoal ablation (task definition x replay)").add_argument(
        "results", type=Path, help="the results folder holding quick/ and authors/")
    tables.add_parser("training", help="training-episode return per quarter of the budget").add_argument(
        "root", type=Path, help="a folder of task folders with training_curves.csv, e.g. results/authors")
    tables.add_parser("markdown", help="headline and per-context tables of one results folder").add_argument(
        "folder", type=Path)
    seeds = tables.add_parser("per-seed", help="per-seed mean returns at points of one sweep")
    seeds.add_argument("folder", type=Path)
    seeds.add_argument("sweep", help="a sweep name of the table, e.g. context_0, angle, authors")
    seeds.add_argument("values", type=float, nargs="+")
    tables.add_parser("per-seed-above", help="(seed, context) pairs where a CSE seed beats the baseline's mean"
                      ).add_argument("folder", type=Path)
    zero = tables.add_parser("zero-action", help="the all-zero action's return at contexts of a task")
    zero.add_argument("task")
    zero.add_argument("values", type=float, nargs="*", help="first context coordinate (AntDirection: angle)")
    opened = tables.add_parser("open", help="the open questions' answers, from a results/open folder")
    opened.add_argument("root", type=Path, help="the open questions' results folder, e.g. results/open")
    opened.add_argument("experiment", choices=OPEN_EXPERIMENTS)
    opened.add_argument("--figure", type=Path, help="also write the experiment's figure here (for all: a folder)")
    protocol = tables.add_parser("protocol", help="the verdict table of results/PROTOCOL.md for results folders")
    protocol.add_argument("folders", nargs="+", type=Path, help="results folders (each with evaluation.csv or .gz)")
    protocol.add_argument("--write-zero-action", action="store_true",
                          help="simulate and write zero_action.csv where a folder has none (minutes for MuJoCo)")
    protocol.add_argument("--dynamics", action="append", default=[], metavar="FOLDER=NAME",
                          help="the task variant of a folder's runs, for its zero-action table "
                               "(PendulumGoal-gymnasium=gymnasium)")
    protocol.add_argument("--csv", type=Path, help="also write the full table (every column) here")
    protocol.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    protocol.add_argument("--eps", type=_finite, default=PAPER_EPS,
                          help=f"the runs' CSE radius: contexts farther than it from c0 are away from c0 (default "
                               f"{PAPER_EPS:g}, the authors'; a run trained with another --eps is analysed with its own)")
    protocol.add_argument("--reference", type=_finite, default=None, metavar="U",
                          help="your own task's reference return U, the return that counts as 1 at c0 (0 is the "
                               "all-zero action), fixed before looking at the runs; built-in tasks have theirs")
    protocol.add_argument("--reruns", type=Path, metavar="FOLDER",
                          help="a folder of re-runs (results/reruns): a table's <name>-rerun there, where it re-ran "
                               "every run, shows its claim status beside the table's")
    protocol.add_argument("--compact", action="store_true",
                          help="print the four-column summary (per comparison: interval, word, claim, where not robust)")
    protocol.add_argument("--figures", type=Path, metavar="FOLDER",
                          help="also draw FOLDER/verdicts.png (the intervals) and FOLDER/profiles.png (performance profiles)")
    replication = tables.add_parser("replication", help="a table's primary endpoints beside its re-run's, and the "
                                    "interval of their difference (Welch, Holm over the rows)")
    replication.add_argument("folders", nargs="+", type=Path, metavar="TABLE RERUN",
                             help="pairs of results folders: a table, then its re-run (each with its zero_action.csv)")
    replication.add_argument("--spread", action="store_true",
                             help="instead, how much the seeds spread in each (exploratory: sd over seeds, ranges, "
                                  "Levene's test, the same seed's correlation)")
    pooled = tables.add_parser("pooled", help="several samples of one task's runs pooled: the per-seed differences of "
                               "every folder, one t-interval (results/PROTOCOL.md section 9; secondary, never a verdict)")
    pooled.add_argument("folders", nargs="+", type=Path, metavar="FOLDER",
                        help="results folders of one task (each with its zero_action.csv)")
    runs = tables.add_parser("runs", help="runs.csv of a results folder with its reproduced runs (reproduced/), each "
                             "checked against the committed table")
    runs.add_argument("folder", type=Path, help="a task's results folder, e.g. results/authors/SimpleDirection")
    readme = tables.add_parser("readme", help="refresh the <!-- report ... --> blocks of a markdown write-up")
    readme.add_argument("path", type=Path, help="e.g. results/README.md; block paths are relative to its folder")
    readme.add_argument("--only", action="append", metavar="COMMAND",
                        help="refresh only the blocks whose command starts with this (repeatable): 'open eps', 'verdicts'")


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageError(f"{path}: no such {what}")
    return path


def run_report(args: argparse.Namespace) -> int:
    from cebe_deep.report import readme, tables

    table = args.table
    if table == "verdicts":
        if args.zero_episodes < 1:
            raise UsageError(f"--zero-episodes must be >= 1, got {args.zero_episodes}")
        tables.verdicts(_existing(args.root, "folder"), args.zero_episodes)
    elif table == "differences":
        tables.differences(_existing(args.folder, "folder"))
    elif table == "ablation":
        tables.ablation(_existing(args.results, "folder"))
    elif table == "training":
        tables.training(_existing(args.root, "folder"))
    elif table == "markdown":
        tables.markdown(_existing(args.folder, "folder"))
    elif table == "per-seed":
        tables.per_seed(_existing(args.folder, "folder"), args.sweep, args.values)
    elif table == "per-seed-above":
        tables.per_seed_above(_existing(args.folder, "folder"))
    elif table == "zero-action":
        tables.zero_action(args.task, args.values)
    elif table == "protocol":
        _run_protocol(args)
    elif table == "replication":
        from cebe_deep.report.protocol import print_replication

        print_replication(args.folders, spread=args.spread)
    elif table == "pooled":
        from cebe_deep.report.protocol import print_pooled

        print_pooled(args.folders)
    elif table == "runs":
        _run_runs(_existing(args.folder, "folder"))
    elif table == "open":
        tables.open_questions(_existing(args.root, "folder"), args.experiment, args.figure)
    else:
        refreshed = readme.refresh_readme(_existing(args.path, "file"), args.only)
        print(f"{args.path}: {refreshed} blocks refreshed")
    return 0


def _run_protocol(args: argparse.Namespace) -> None:
    from cebe_deep.learn.eps import check_eps
    from cebe_deep.report import protocol

    if args.resamples < 100:
        raise UsageError(f"--resamples must be >= 100, got {args.resamples}")
    check_eps(args.eps, "--eps")
    dynamics = protocol.parse_dynamics(args.dynamics)  # an InputError: one line, exit status 2
    for folder in args.folders:
        _existing(folder, "folder")
    protocol.print_protocol(args.folders, dynamics, csv=args.csv, figures=args.figures, resamples=args.resamples,
                            write_missing=args.write_zero_action, compact=args.compact, eps=args.eps,
                            reference=args.reference, reruns=args.reruns)


def _run_runs(folder: Path) -> None:
    from cebe_deep.run.provenance import REPRODUCED, runs_with_reproduced

    if not (folder / REPRODUCED).is_dir():
        raise UsageError(f"{folder}: no {REPRODUCED}/ folder of staged runs to add (results/commands.sh reproduce)")
    table = runs_with_reproduced(folder)
    write_user_file(folder / "runs.csv", "FOLDER", lambda path: table.to_csv(path, index=False))
    reproduced = table[table["reproduces"].astype(str) != ""]
    print(reproduced[["method", "seed", "env_steps", "training_seconds", "commit", "reproduces"]].to_string(index=False))
    identical = reproduced["reproduces"].str.startswith("identical").sum()
    print(f"{folder / 'runs.csv'}: {len(table)} runs; {identical} of {len(reproduced)} reproduced runs identical to the "
          "committed table")
