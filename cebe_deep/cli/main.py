"""Command line for the deep side: ``cebe-deep ...`` or ``python -m cebe_deep ...``.

Subcommands:

``train``      one run (task, method, seed) into a run directory; resumes an interrupted run.
``evaluate``   sweep the deterministic policy of one or more run directories over the context grid (tidy CSV).
``sweep``      train + evaluate methods x seeds in parallel worker processes (or Ray), then write the combined
               CSV, the summary table and the figure into ``--results``.
``plot``       the figure (mean and 95% CI over seeds per method against the context) from an evaluation CSV.
``summarize``  the per-context table (mean, CI, CSE vs baseline and LDR) from one or more evaluation CSVs;
               ``LABEL=PATH`` names the runs of PATH as method LABEL (e.g. a CSE variant trained under another
               ``--root``) and ``--candidate LABEL`` compares that method instead of ``cse``.
``curves``     training curves (return of the training episodes against env steps, mean and CI over seeds per
               method) from run directories' Monitor files, finished or still training; or redrawn from a
               curves CSV.

Bad input prints one line ``cebe-deep: error: ...`` naming the flag (or file), the value and what is allowed,
and exits with status 2.  Everything is checked before any file is written or any step trained (the
checks of :mod:`cebe_deep.cli.checks`: numeric ranges, unknown names, run directories, CSV files and their columns,
output folders), then the command runs.  The CLI catches the project's
:class:`~cebe_theory.errors.InputError` alone (:class:`~cebe_deep.run.config.ConfigError` is one), so any other
error, a bug, keeps its traceback.  SIGINT or SIGTERM during training writes a checkpoint; the command then
prints one line and exits with status 130, and rerunning it resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from cebe_cli import InputError, OneLineParser, UsageError
from cebe_cli import finite_number as _finite
from cebe_cli import output_folder as _output_folder
from cebe_cli import write_user_file as _write
from cebe_deep.cli.checks import (
    check_evaluation_arguments,
    check_sweep_arguments,
    checked_configs,
    curve_sources,
    image_types,
    output_file,
    output_folders,
    read_csv,
    read_labelled_tables,
    run_config,
    split_label,
)
from cebe_deep.cli.plan import plan_sweep
from cebe_deep.cli.report import add_report_parser, run_report
from cebe_deep.learn.eps import PAPER_EPS, check_eps
from cebe_deep.report.outputs import base_context, verdict_lines, write_summary_outputs, write_training_curves

__all__ = ["main", "build_parser"]

PROGRAM = "cebe-deep"


def _package_version() -> str:
    try:
        return version("cebe")
    except PackageNotFoundError:
        return "unknown (package not installed)"


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(value) for value in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _seeds(text: str) -> tuple[int, ...]:
    """``5`` -> seeds 0..4; ``3-7`` -> 3..7; ``0,2,9`` -> those.  At least one seed, none negative."""
    try:
        if "," in text:
            seeds = _ints(text)
        elif "-" in text.lstrip("-"):
            first, last = (int(part) for part in text.split("-"))
            seeds = tuple(range(first, last + 1))
        else:
            seeds = tuple(range(int(text)))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"expected N, A-B or a,b,c, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"{text!r} gives no seed (N >= 1, A-B with A <= B, or a,b,c)")
    if min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"seeds must be >= 0, got {text!r}")
    return seeds


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`~cebe_deep.run.config.TrainConfig` field that has a flag, from the field's metadata
    (:func:`~cebe_deep.run.config.setting`): flag, help, kind of value, group.  Left out, an option is None and
    the profile's value stands."""
    import dataclasses

    from cebe_deep.run.config import TrainConfig

    kinds = {"int": int, "float": _finite, "ints": _ints, "floats": _floats, "str": str}
    groups: dict = {}
    for field in dataclasses.fields(TrainConfig):
        metadata = field.metadata
        if not metadata.get("command_line", False):
            continue
        target = parser if metadata["group"] is None else groups.setdefault(
            metadata["group"], parser.add_argument_group(metadata["group"]))
        options = dict(type=kinds[metadata["kind"]], dest=field.name, help=metadata["help"])
        if metadata["metavar"]:
            options["metavar"] = metadata["metavar"]
        if field.name == "task":
            options["required"] = True
        elif field.name == "profile":
            options["default"] = field.default
        target.add_argument(metadata["flag"], **options)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROGRAM, description="CSE and domain randomization on Stable-Baselines3 (arXiv 2507.07348)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    train = commands.add_parser("train", help="train one run (resumes an interrupted one)")
    _add_config_arguments(train)
    train.add_argument("--method", required=True, help="baseline, cse, ldr or gdr")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, help="run directory (default runs/<task>/<method>/seed<seed>)")
    train.add_argument("--no-progress", action="store_true")

    evaluate = commands.add_parser("evaluate", help="sweep trained policies over the context grid")
    evaluate.add_argument("runs", nargs="+", type=Path, help="run directories")
    _add_evaluation_arguments(evaluate)
    evaluate.add_argument("--out", type=Path, help="combined tidy CSV (each run also gets run_dir/evaluation.csv)")

    sweep = commands.add_parser("sweep", help="train and evaluate methods x seeds in parallel")
    _add_config_arguments(sweep)
    sweep.add_argument("--methods", default="baseline,cse,ldr", help="comma-separated methods")
    sweep.add_argument("--seeds", type=_seeds, default=tuple(range(5)), help="N (0..N-1), A-B, or a,b,c")
    sweep.add_argument("--root", type=Path, default=Path("runs"), help="where run directories go")
    sweep.add_argument("--results", type=Path, help="write evaluation.csv, summary.csv, sweep.png and the training "
                                                    "curves (training_curves.csv, training.png) here")
    sweep.add_argument("--gzip", action="store_true", help=_GZIP_HELP)
    sweep.add_argument("--workers", type=int, default=2, help="worker processes (local backend), >= 1")
    sweep.add_argument("--backend", default="local", help="local (processes), serial, or ray")
    sweep.add_argument("--same-machine-as", type=Path, metavar="FOLDER",
                       help="refuse to run if a run under FOLDER (its train_summary.json, at any depth) trained on "
                            "another machine (CPU, torch, kernels): a sample fixed to one machine, as results/"
                            "PROTOCOL.md section 9's, stays on it; a FOLDER not there yet holds no run")
    sweep.add_argument("--dry-run", action="store_true", help="check every flag and say what each run would do "
                       "(train, resume, evaluate, extend, retrain, conflict); write nothing")
    _add_evaluation_arguments(sweep)

    plot = commands.add_parser("plot", help="figure from an evaluation CSV")
    plot.add_argument("csv", type=Path)
    plot.add_argument("--out", type=Path, required=True, help="image file (.png, .pdf)")
    plot.add_argument("--eps", type=_finite, default=PAPER_EPS, help="radius of the training ball to mark")

    figures = commands.add_parser("figures", help="redraw every <results>/[<group>/]<Task>/sweep.png from its committed "
                                                  "evaluation.csv, and training.png from training_curves.csv")
    figures.add_argument("--results", type=Path, default=Path("results"), help="folder of per-task results (default results/)")
    figures.add_argument("--eps", type=_finite, default=None, help="radius of the training ball to mark (default: the "
                         f"one a folder's staged runs trained with, else {PAPER_EPS:g})")

    summary = commands.add_parser("summarize", help="per-context table from evaluation CSVs")
    summary.add_argument("csv", nargs="+", help="evaluation CSVs of one task; LABEL=PATH relabels PATH's runs as method LABEL")
    summary.add_argument("--candidate", default="cse", help="the method compared with baseline and LDR (default cse)")
    summary.add_argument("--eps", type=_finite, default=PAPER_EPS, help="contexts farther than eps from c0 are 'away'")
    summary.add_argument("--out", type=Path, help="write the table as CSV")
    summary.add_argument(
        "--results", type=Path, help="write evaluation, summary, comparison, headline CSVs and sweep.png here"
    )
    summary.add_argument("--gzip", action="store_true", help=_GZIP_HELP)

    curves = commands.add_parser("curves", help="training curves from run directories (or a curves CSV)")
    curves.add_argument("sources", nargs="+", help="run directories (finished or training; LABEL=RUN_DIR names the "
                                                   "method LABEL) and curves CSVs written by --out, combined")
    curves.add_argument("--bins", type=int, default=50, help="bins along each run's env-step budget, >= 1 (default 50)")
    curves.add_argument("--windows", type=int, default=4,
                        help="the printed table's parts of each run's budget, 1..bins (default 4: quarters)")
    curves.add_argument("--out", type=Path, help="write the tidy binned curves as CSV")
    curves.add_argument("--figure", type=Path, help="draw the curves into this image file")
    stage = commands.add_parser("stage", help="copy a finished run's small files (not the model) into a folder to commit")
    stage.add_argument("run", type=Path, help="a trained and evaluated run directory")
    stage.add_argument("--out", type=Path, required=True, help="the staging folder, e.g. "
                       "results/authors/<Task>/staged/<method>/seed<k>")
    stage.add_argument("--commit", help="the commit the run trained on, where its train_summary.json has none")
    add_report_parser(commands)
    return parser


_GZIP_HELP = ("write the evaluation table to --results gzip-compressed, as evaluation.csv.gz instead of "
              "evaluation.csv (for large tables: SimpleDirection in high dimension)")


def _add_evaluation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--points", type=int, default=11, help="grid points per context coordinate, >= 2")
    parser.add_argument("--episodes", type=int, help="evaluation episodes per context, >= 1 (default 64 for runs of the "
                                                     "authors profile, 32 otherwise)")
    parser.add_argument("--span", type=_finite, help="sweep c0 +- span (> 0) instead of the task's default ranges")
    parser.add_argument("--contexts", help="evaluation contexts: sweeps (default), authors (the authors' test contexts), "
                                           "authors+sweeps, dimension-test (SimpleDirection: radii 0.2, 0.5, 0.8 x 16 "
                                           "directions), or a list such as '2,1,1,0.75;2,1.2,1,-0.75'")


# -------------------------------------------------------------------------------------------- the work
def _run_train(args: argparse.Namespace) -> int:
    from cebe_deep.run.sweeps import run_dir_for
    from cebe_deep.run.training import train

    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    (config,) = checked_configs(args, [args.method], [args.seed])
    out = _output_folder(args.out or run_dir_for("runs", config), "--out")
    result = train(config, out, progress=not args.no_progress)
    print(json.dumps(dict(run_dir=str(result.run_dir), num_timesteps=result.num_timesteps,
                          seconds=round(result.seconds, 1), resumed_from=result.resumed_from)))
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from cebe_deep.report.statistics import summarize
    from cebe_deep.run.evaluation import evaluate

    configs = [run_config(run) for run in args.runs]
    check_evaluation_arguments(args, [(config.task, config.dimension) for config in configs])
    if len({str(run.resolve()) for run in args.runs}) != len(args.runs):
        raise UsageError("a run directory is given twice")
    if args.out is not None:
        output_file(args.out, "--out")
    tables = [evaluate(run, args.points, args.episodes, args.span, contexts=args.contexts) for run in args.runs]
    table = pd.concat(tables, ignore_index=True)  # the ``run`` column keeps two runs of one seed apart
    if args.out:
        _write(args.out, "--out", lambda path: table.to_csv(path, index=False))
    print(summarize(table).to_string(index=False))
    return 0


def _run_sweep(args: argparse.Namespace) -> int:
    from cebe_deep.report.statistics import headline
    from cebe_deep.run.executors import BACKENDS, make_executor
    from cebe_deep.run.sweeps import run_dir_for, sweep

    methods = check_sweep_arguments(args, BACKENDS)
    configs = checked_configs(args, methods, args.seeds)
    check_evaluation_arguments(args, [(args.task, args.dimension)])
    episodes = args.episodes or (64 if args.profile == "authors" else 32)
    if args.dry_run:
        return plan_sweep(args, configs, episodes)
    results_made = args.results is not None and not args.results.exists()
    root, results = output_folders((args.root, "--root"), (args.results, "--results"))

    def drop_empty_results() -> None:  # an interrupted or failed sweep writes no results: leave no empty folder
        if results_made and results.is_dir() and not any(results.iterdir()):
            results.rmdir()

    executor = make_executor(args.backend, args.workers)
    try:
        table = sweep(configs, root, executor, args.points, episodes, args.span, contexts=args.contexts)
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once
        executor.shutdown(wait=True, cancel_futures=True)  # running workers checkpoint; queued runs do not start
        drop_empty_results()
        raise
    executor.shutdown(wait=True)
    failures = table.attrs.get("failures", [])
    if failures:  # a results folder missing runs would look complete: write none
        drop_empty_results()
        print(f"{PROGRAM}: {len(failures)} of {len(configs)} runs did not finish (first: {failures[0]}); finished runs "
              f"and checkpoints are kept under {root}, nothing written to --results; rerun the same command to "
              "resume", file=sys.stderr)
        return 130 if table.attrs.get("interrupted") else 1
    if table.empty:
        drop_empty_results()
        raise UsageError("no run finished (see the failures above)")
    table = table[table["method"].isin(methods) & table["seed"].isin(args.seeds)]
    _, comparison = write_summary_outputs(table, configs[0].eps, results, gzip=args.gzip)
    if results is not None:
        write_training_curves([run_dir_for(root, config) for config in configs], results)
    print(comparison.to_string(index=False))
    print(headline(comparison).to_string(index=False))
    print(verdict_lines(comparison, "cse", configs[0].eps))
    return 0


def _run_stage(args: argparse.Namespace) -> int:
    from cebe_deep.run.provenance import stage_run

    if not args.run.is_dir():
        raise UsageError(f"run directory {args.run}: no such folder")
    try:
        print(stage_run(args.run, args.out, args.commit))
    except OSError as error:
        raise UsageError(f"--out {args.out}: cannot write ({error.strerror or error})") from None
    return 0


def _run_plot(args: argparse.Namespace) -> int:
    from cebe_deep.report.plots import plot_context_sweeps

    table = read_csv(args.csv)
    check_eps(args.eps, "--eps")
    output_file(args.out, "--out", image_types())
    context0, names = base_context(table)
    _write(args.out, "--out", lambda path: plot_context_sweeps(table, context0, args.eps, path, names))
    print(args.out)
    return 0


def _run_figures(args: argparse.Namespace) -> int:
    from cebe_deep.report.curves import plot_training_curves
    from cebe_deep.report.plots import plot_context_sweeps
    from cebe_deep.run.provenance import recorded_eps

    if args.eps is not None:
        check_eps(args.eps, "--eps")
    if not args.results.is_dir():
        raise UsageError(f"--results {args.results}: no such folder")

    # <results>/<Task>/ and one level of grouping (<results>/authors/<Task>/, <results>/quick/<Task>/)
    def found(name: str) -> list[Path]:
        return sorted([*args.results.glob(f"*/{name}"), *args.results.glob(f"*/*/{name}")])

    paths, curve_paths = sorted(found("evaluation.csv") + found("evaluation.csv.gz")), found("training_curves.csv")
    if not paths and not curve_paths:
        raise UsageError(f"--results {args.results}: no */evaluation.csv, */*/evaluation.csv or training_curves.csv in it")
    tables = [(path, read_csv(path)) for path in paths]  # every input checked before anything is written
    curves = [(path, curve_sources([str(path)], 1)) for path in curve_paths]
    for path in [*paths, *curve_paths]:
        if not os.access(path.parent, os.W_OK):
            raise UsageError(f"--results {args.results}: the folder {path.parent} is not writable")
    for path, table in tables:
        context0, names = base_context(table)
        eps = args.eps or recorded_eps(path.parent) or PAPER_EPS
        _write(path.parent / "sweep.png", "--results", lambda out: plot_context_sweeps(table, context0, eps, out, names))
        print(path.parent / "sweep.png")
    for path, curve in curves:
        _write(path.parent / "training.png", "--results", lambda out: plot_training_curves(curve, out))
        print(path.parent / "training.png")
    return 0


def _run_summarize(args: argparse.Namespace) -> int:
    from cebe_deep.report.statistics import headline
    from cebe_deep.run.provenance import runs_beside, runs_with_reproduced

    table = read_labelled_tables(args.csv)
    check_eps(args.eps, "--eps")
    if args.candidate not in set(table["method"]):
        raise UsageError(f"--candidate {args.candidate!r}: candidate method {args.candidate!r} is not in the table; "
                         f"methods: {sorted(table['method'].unique())}")
    if args.out is not None:
        output_file(args.out, "--out")
    results = None if args.results is None else _output_folder(args.results, "--results")
    _, comparison = write_summary_outputs(table, args.eps, results, args.candidate, gzip=args.gzip)
    provenance = None if results is None else runs_with_reproduced(  # the inputs that are runs' own tables (as a
        results, runs_beside([split_label(source)[1] for source in args.csv]))  # sweep writes it), and reproduced/
    if provenance is not None and not provenance.empty:
        _write(results / "runs.csv", "--results", lambda path: provenance.to_csv(path, index=False))
    if args.out:
        _write(args.out, "--out", lambda path: comparison.to_csv(path, index=False))
    print(comparison.to_string(index=False))
    print(headline(comparison).to_string(index=False))
    print(verdict_lines(comparison, args.candidate, args.eps))
    return 0


def _run_curves(args: argparse.Namespace) -> int:
    from cebe_deep.report.curves import plot_training_curves, window_summary

    if not (1 <= args.bins <= 10_000):
        raise UsageError(f"--bins must be between 1 and 10000, got {args.bins}")
    if not (1 <= args.windows <= args.bins):
        raise UsageError(f"--windows must be between 1 and --bins ({args.bins}), got {args.windows}")
    if args.out is not None:
        output_file(args.out, "--out")
    if args.figure is not None:
        output_file(args.figure, "--figure", image_types())
    curves = curve_sources(args.sources, args.bins)
    try:
        table = window_summary(curves, args.windows)
    except ValueError as error:  # a curves CSV binned more coarsely than --windows asks
        raise UsageError(f"--windows {args.windows}: {error}") from None
    if args.out is not None:
        _write(args.out, "--out", lambda path: curves.to_csv(path, index=False))
    if args.figure is not None:
        _write(args.figure, "--figure", lambda path: plot_training_curves(curves, path))
    cells = [f"{row.mean:.1f} [{row.ci_low:.1f}, {row.ci_high:.1f}]" if row.seeds > 1 else f"{row.mean:.1f}"
             for row in table.itertuples()]
    print(table.drop(columns=["window", "mean", "ci_low", "ci_high"]).assign(**{"return, mean [95% CI]": cells})
          .to_string(index=False))
    return 0


_COMMANDS = {
    "report": run_report,
    "stage": _run_stage,
    "train": _run_train,
    "evaluate": _run_evaluate,
    "sweep": _run_sweep,
    "plot": _run_plot,
    "figures": _run_figures,
    "summarize": _run_summarize,
    "curves": _run_curves,
}


def main(argv: list[str] | None = None) -> int:
    from cebe_deep.run.training import TrainingInterrupted

    try:
        args = build_parser().parse_args(argv)
        return _COMMANDS[args.command](args)
    except InputError as error:  # ConfigError and UsageError are InputErrors; anything else is a bug: traceback
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{PROGRAM}: error: {message}", file=sys.stderr)
        return 2
    except TrainingInterrupted as interruption:
        print(f"{PROGRAM}: interrupted by {interruption.signal_name}; checkpoint written at step "
              f"{interruption.num_timesteps} in {interruption.run_dir}; rerun the same command to resume", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted (finished runs and checkpoints are kept; rerun to resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
