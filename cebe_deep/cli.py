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
checks of :mod:`cebe_deep.cli_checks`: numeric ranges, unknown names, run directories, CSV files and their columns,
output folders), then the command runs.  The CLI catches the project's
:class:`~cebe_theory.errors.InputError` alone (:class:`~cebe_deep.config.ConfigError` is one), so any other
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

from cebe_theory.cli_support import InputError, OneLineParser, UsageError
from cebe_theory.cli_support import finite_number as _finite
from cebe_theory.cli_support import write_user_file as _write

from cebe_deep.cli_checks import (_check_eps, _check_evaluation_arguments, _checked_configs,
                                  _image_types, _output_file, _output_folder, _output_folders, _read_csv,
                                  _read_labelled_tables, _run_config, _split_label)

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
    parser.add_argument("--task", required=True, help="task name, e.g. SimpleDirection, PendulumGoal")
    parser.add_argument("--profile", default="quick",
                        help="quick (small, minutes) or authors (the authors' protocol and budgets, docs/authors_protocol.md)")
    parser.add_argument("--steps", type=int, dest="total_steps",
                        help="training budget in env steps (larger than a finished run's: extends it)")
    parser.add_argument("--eps", type=_finite, help="CSE ball radius and LDR scale, > 0 (paper: 0.1)")
    parser.add_argument("--net", type=_ints, dest="net_arch", help="hidden layer widths, e.g. 64,64")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-starts", type=int)
    parser.add_argument("--learning-rate", type=_finite)
    parser.add_argument("--gamma", type=_finite, help="discount in [0, 1]")
    parser.add_argument("--context", type=_floats, help="training context c0, comma-separated (default: the task's)")
    parser.add_argument("--perturbation", help="CSE draw: sphere (authors) or ball")
    parser.add_argument("--cse-mode", help="first_order (default) or exact")
    parser.add_argument("--cse-fraction", type=_finite, help="fraction of each batch CSE rewrites, in (0, 1] (default 1)")
    parser.add_argument("--checkpoint-every", type=int, help="env steps between resumable checkpoints")
    parser.add_argument("--n-envs", type=int, help="environments stepped together (authors: 8)")
    parser.add_argument("--replay", help="uniform or prioritized")
    parser.add_argument("--priority-alpha", type=_finite, help="prioritized replay: priority exponent in [0, 1]")
    parser.add_argument("--priority-beta", type=_finite, help="prioritized replay: importance-weight exponent in [0, 1]")
    parser.add_argument("--dynamics", help="task variant, e.g. PendulumGoal: authors (default) or gymnasium")
    parser.add_argument("--buffer-size", type=int, help="replay capacity in transitions")
    open_questions = parser.add_argument_group("open questions (results/open/README.md)")
    open_questions.add_argument("--dimension", type=int, help="SimpleDirection: context dimension d >= 1 (default 2)")
    open_questions.add_argument("--task-noise", type=_finite, help="NoisyPendulumGoal: noise scale on the next speed, "
                                                                   ">= 0 (default 0.05)")
    open_questions.add_argument("--jacobian-noise", type=_finite, help="CSE: multiply each stored partial by "
                                                                       "(1 + SIGMA N(0, 1)), SIGMA >= 0 (default 0)")
    open_questions.add_argument("--jacobian-bias", type=_finite, help="CSE: multiply each stored partial by B (default 1)")
    open_questions.add_argument("--fd-jacobians", type=_finite, metavar="H",
                                help="CSE: central finite differences of step H > 0 instead of the closed-form Jacobians")
    open_questions.add_argument("--cse-variant", help="CSE: first_order (default) or importance (keep s', weight by the "
                                                      "transition-density ratio; NoisyPendulumGoal)")
    open_questions.add_argument("--max-weight", type=_finite, help="importance-weighted CSE: clip weights at W > 0 (default 10)")


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
    sweep.add_argument("--dry-run", action="store_true", help="check every flag and say what each run would do "
                                                              "(train, resume, evaluate, extend, retrain, conflict); write nothing")
    _add_evaluation_arguments(sweep)

    plot = commands.add_parser("plot", help="figure from an evaluation CSV")
    plot.add_argument("csv", type=Path)
    plot.add_argument("--out", type=Path, required=True, help="image file (.png, .pdf)")
    plot.add_argument("--eps", type=_finite, default=0.1, help="radius of the training ball to mark")

    figures = commands.add_parser("figures", help="redraw every <results>/[<group>/]<Task>/sweep.png from its committed "
                                                  "evaluation.csv, and training.png from training_curves.csv")
    figures.add_argument("--results", type=Path, default=Path("results"), help="folder of per-task results (default results/)")
    figures.add_argument("--eps", type=_finite, default=0.1, help="radius of the training ball to mark")

    summary = commands.add_parser("summarize", help="per-context table from evaluation CSVs")
    summary.add_argument("csv", nargs="+", help="evaluation CSVs of one task; LABEL=PATH relabels PATH's runs as method LABEL")
    summary.add_argument("--candidate", default="cse", help="the method compared with baseline and LDR (default cse)")
    summary.add_argument("--eps", type=_finite, default=0.1, help="contexts farther than eps from c0 are 'away'")
    summary.add_argument("--out", type=Path, help="write the table as CSV")
    summary.add_argument("--results", type=Path, help="write evaluation, summary, comparison, headline CSVs and sweep.png here")
    summary.add_argument("--gzip", action="store_true", help=_GZIP_HELP)

    curves = commands.add_parser("curves", help="training curves from run directories (or a curves CSV)")
    curves.add_argument("sources", nargs="+", help="run directories (finished or training; LABEL=RUN_DIR names the "
                                                   "method LABEL), or one CSV written by --out")
    curves.add_argument("--bins", type=int, default=50, help="bins along each run's env-step budget, >= 1 (default 50)")
    curves.add_argument("--windows", type=int, default=4,
                        help="the printed table's parts of each run's budget, 1..bins (default 4: quarters)")
    curves.add_argument("--out", type=Path, help="write the tidy binned curves as CSV")
    curves.add_argument("--figure", type=Path, help="draw the curves into this image file")
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
def _base_context(table) -> tuple[list[float], list[str]]:
    from cebe_deep.config import make_task_env

    task = str(table["task"].iloc[0])
    # SimpleDirection of another dimension (--dimension): as many coordinates as the table has context columns
    columns = [column for column in table.columns if column.startswith("context_") and table[column].notna().any()]
    env = make_task_env(task, dimension=len(columns) if task == "SimpleDirection" else None)
    context = list(env.unwrapped.default_context)
    names = list(getattr(env.unwrapped, "context_names", []))
    env.close()
    return context, names


def _summary_outputs(table, eps: float, results: Path | None, candidate: str = "cse", gzip: bool = False):
    """Summary and comparison tables (and files under ``results``, a folder already checked)."""
    from cebe_deep.statistics import compare_methods, headline, summarize

    base_context, names = _base_context(table)
    summary = summarize(table)
    comparison = compare_methods(summary, base_context, eps, candidate=candidate, table=table)
    if results is not None:
        from cebe_deep.plots import plot_context_sweeps, plot_named_contexts

        from cebe_deep.evaluation import write_evaluation

        _write(results / ("evaluation.csv.gz" if gzip else "evaluation.csv"), "--results",
               lambda path: write_evaluation(table, path.parent, compress=gzip))
        _write(results / "summary.csv", "--results", lambda path: summary.to_csv(path, index=False))
        _write(results / "comparison.csv", "--results", lambda path: comparison.to_csv(path, index=False))
        _write(results / "headline.csv", "--results", lambda path: headline(comparison).to_csv(path, index=False))
        _write(results / "sweep.png", "--results", lambda path: plot_context_sweeps(table, base_context, eps, path, names))
        if (table["sweep"] == "authors").any():
            _write(results / "authors_contexts.png", "--results", lambda path: plot_named_contexts(table, "authors", path))
    return summary, comparison


def _run_train(args: argparse.Namespace) -> int:
    from cebe_deep.sweeps import run_dir_for
    from cebe_deep.training import train

    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    (config,) = _checked_configs(args, [args.method], [args.seed])
    out = _output_folder(args.out or run_dir_for("runs", config), "--out")
    result = train(config, out, progress=not args.no_progress)
    print(json.dumps(dict(run_dir=str(result.run_dir), num_timesteps=result.num_timesteps,
                          seconds=round(result.seconds, 1), resumed_from=result.resumed_from)))
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from cebe_deep.evaluation import evaluate
    from cebe_deep.statistics import summarize

    configs = [_run_config(run) for run in args.runs]
    _check_evaluation_arguments(args, [(config.task, config.dimension) for config in configs])
    if len({str(run.resolve()) for run in args.runs}) != len(args.runs):
        raise UsageError("a run directory is given twice")
    if args.out is not None:
        _output_file(args.out, "--out")
    tables = [evaluate(run, args.points, args.episodes, args.span, contexts=args.contexts) for run in args.runs]
    table = pd.concat(tables, ignore_index=True)  # the ``run`` column keeps two runs of one seed apart
    if args.out:
        _write(args.out, "--out", lambda path: table.to_csv(path, index=False))
    print(summarize(table).to_string(index=False))
    return 0


def _run_sweep(args: argparse.Namespace) -> int:
    from cebe_deep.executors import BACKENDS, make_executor
    from cebe_deep.statistics import headline
    from cebe_deep.sweeps import run_dir_for, sweep

    methods = [method.strip() for method in args.methods.split(",")]
    from cebe_deep.config import METHODS

    if "" in methods:  # "cse,,ldr", a trailing comma: a typo, never a method to drop
        raise UsageError(f"--methods {args.methods!r}: entry {methods.index('') + 1} is empty; give methods from "
                         f"{', '.join(METHODS)}, separated by commas")
    unknown = [method for method in methods if method not in METHODS]
    if not methods or unknown:
        raise UsageError(f"--methods {args.methods!r}: " + (f"unknown method {unknown[0]!r}" if unknown else "no method")
                         + f"; choose from {', '.join(METHODS)}")
    if args.backend not in BACKENDS:
        raise UsageError(f"--backend {args.backend!r}: unknown backend; choose one of {', '.join(BACKENDS)}")
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    configs = _checked_configs(args, methods, args.seeds)
    _check_evaluation_arguments(args, [(args.task, args.dimension)])
    episodes = args.episodes or (64 if args.profile == "authors" else 32)
    if args.dry_run:
        return _plan_sweep(args, configs, episodes)
    root, results = _output_folders((args.root, "--root"), (args.results, "--results"))
    executor = make_executor(args.backend, args.workers)
    try:
        table = sweep(configs, root, executor, args.points, episodes, args.span, contexts=args.contexts)
    except KeyboardInterrupt:
        executor.shutdown(wait=True, cancel_futures=True)  # running workers checkpoint; queued runs do not start
        raise
    executor.shutdown(wait=True)
    failures = table.attrs.get("failures", [])
    if failures:  # a results folder missing runs would look complete: write none
        print(f"{PROGRAM}: {len(failures)} of {len(configs)} runs did not finish (first: {failures[0]}); finished runs "
              f"and checkpoints are kept under {root}, nothing written to --results; rerun the same command to "
              "resume", file=sys.stderr)
        return 130 if table.attrs.get("interrupted") else 1
    if table.empty:
        raise UsageError("no run finished (see the failures above)")
    table = table[table["method"].isin(methods) & table["seed"].isin(args.seeds)]
    _, comparison = _summary_outputs(table, configs[0].eps, results, gzip=args.gzip)
    if results is not None:
        _write_training_curves([run_dir_for(root, config) for config in configs], results)
    print(comparison.to_string(index=False))
    print(headline(comparison).to_string(index=False))
    print(_verdict_lines(comparison, "cse", configs[0].eps))
    return 0


def _plan_sweep(args: argparse.Namespace, configs, episodes: int) -> int:
    """``sweep --dry-run``: one line per run (what the sweep would do with it), nothing written; exit 2 when a
    run directory holds another config (the sweep would fail that run)."""
    from cebe_deep.sweeps import Job, makespan, measured_steps_per_second, plan_run, run_dir_for, steps_to_train

    for path, flag in ((args.root, "--root"), (args.results, "--results")):
        if path is not None and path.exists() and not path.is_dir():
            raise UsageError(f"{flag} {path}: exists and is not a folder")
    spec = Job(configs[0], "", args.points, episodes, args.span, args.contexts).evaluation_spec()
    plans = [(config, run_dir_for(args.root, config), *plan_run(config, run_dir_for(args.root, config), spec))
             for config in configs]
    for config, run_dir, action, detail in plans:
        print(f"{action:9s} {run_dir}  ({detail})")
    counts = {action: sum(plan[2] == action for plan in plans) for action in dict.fromkeys(plan[2] for plan in plans)}
    remaining = [steps_to_train(config, run_dir) for config, run_dir, _, _ in plans]
    print(f"{len(plans)} runs: " + ", ".join(f"{count} {action}" for action, count in counts.items())
          + _time_to_train(remaining, measured_steps_per_second(plan[1] for plan in plans), args.workers, makespan)
          + (f"; results to {args.results}" if args.results else ""))
    conflicts = [str(plan[1]) for plan in plans if plan[2] == "conflict"]
    if conflicts:
        raise UsageError(f"{len(conflicts)} run directories hold another config (first: {conflicts[0]}); "
                         "use another --root")
    return 0


def _time_to_train(remaining: list[int], measured: tuple[float, int], workers: int, makespan) -> str:
    """``; N env steps to train, about T with W workers at R env steps/s per run (...)`` for a plan, or ``""``."""
    total = sum(remaining)
    if total == 0:
        return ""
    text = f"; {total:,} env steps to train"
    rate, finished = measured
    if finished == 0:
        return text + " (no finished run here to time them)"
    workers = max(1, min(workers, sum(1 for steps in remaining if steps)))
    return (f"{text}, about {_duration(makespan([steps / rate for steps in remaining], workers))} with {workers} "
            f"worker{'s' if workers > 1 else ''} at {rate:.0f} env steps/s per run ("
            + (f"the median of the {finished} finished runs here" if finished > 1 else "the one finished run here")
            + "; evaluation not included)")


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _run_plot(args: argparse.Namespace) -> int:
    from cebe_deep.plots import plot_context_sweeps

    table = _read_csv(args.csv)
    _check_eps(args.eps)
    _output_file(args.out, "--out", _image_types())
    base_context, names = _base_context(table)
    _write(args.out, "--out", lambda path: plot_context_sweeps(table, base_context, args.eps, path, names))
    print(args.out)
    return 0


def _run_figures(args: argparse.Namespace) -> int:
    from cebe_deep.curves import plot_training_curves
    from cebe_deep.plots import plot_context_sweeps

    _check_eps(args.eps)
    if not args.results.is_dir():
        raise UsageError(f"--results {args.results}: no such folder")

    # <results>/<Task>/ and one level of grouping (<results>/authors/<Task>/, <results>/quick/<Task>/)
    def found(name: str) -> list[Path]:
        return sorted([*args.results.glob(f"*/{name}"), *args.results.glob(f"*/*/{name}")])

    paths, curve_paths = sorted(found("evaluation.csv") + found("evaluation.csv.gz")), found("training_curves.csv")
    if not paths and not curve_paths:
        raise UsageError(f"--results {args.results}: no */evaluation.csv, */*/evaluation.csv or training_curves.csv in it")
    tables = [(path, _read_csv(path)) for path in paths]  # every input checked before anything is written
    curves = [(path, _curve_sources([str(path)], 1)) for path in curve_paths]
    for path in [*paths, *curve_paths]:
        if not os.access(path.parent, os.W_OK):
            raise UsageError(f"--results {args.results}: the folder {path.parent} is not writable")
    for path, table in tables:
        base_context, names = _base_context(table)
        _write(path.parent / "sweep.png", "--results",
               lambda out: plot_context_sweeps(table, base_context, args.eps, out, names))
        print(path.parent / "sweep.png")
    for path, curve in curves:
        _write(path.parent / "training.png", "--results", lambda out: plot_training_curves(curve, out))
        print(path.parent / "training.png")
    return 0


def _run_summarize(args: argparse.Namespace) -> int:
    from cebe_deep.statistics import headline

    table = _read_labelled_tables(args.csv)
    _check_eps(args.eps)
    if args.candidate not in set(table["method"]):
        raise UsageError(f"--candidate {args.candidate!r}: candidate method {args.candidate!r} is not in the table; "
                         f"methods: {sorted(table['method'].unique())}")
    if args.out is not None:
        _output_file(args.out, "--out")
    results = None if args.results is None else _output_folder(args.results, "--results")
    _, comparison = _summary_outputs(table, args.eps, results, args.candidate, gzip=args.gzip)
    if args.out:
        _write(args.out, "--out", lambda path: comparison.to_csv(path, index=False))
    print(comparison.to_string(index=False))
    print(headline(comparison).to_string(index=False))
    print(_verdict_lines(comparison, args.candidate, args.eps))
    return 0


def _verdict_lines(comparison, candidate: str = "cse", eps: float = 0.1) -> str:
    """The verdict of :func:`cebe_deep.statistics.verdict` in words: per difference, at how many distinct contexts
    away from c0 its 95% Welch interval is above, around or below 0, and what the rule says of the paper's claim."""
    from cebe_deep.statistics import verdict

    judged = verdict(comparison)
    lines = [f"Verdict over the {judged['contexts']} distinct contexts farther than eps = {eps:g} from c0 "
             "(95% Welch interval of each difference over seeds; cebe_deep.statistics.verdict):"]
    for name, other, part, claim in (("cse_minus_baseline", "baseline", "beats_baseline", "beats the baseline"),
                                     ("cse_minus_ldr", "ldr", "matches_ldr", "matches LDR")):
        if judged[part] == "no data":
            lines.append(f"  {candidate} - {other}: no data")
            continue
        lines.append(f"  {candidate} - {other}: above 0 at {judged[f'{name}_above']}, contains 0 at "
                     f"{judged[f'{name}_unclear']}, below 0 at {judged[f'{name}_below']}: '{candidate} {claim}' "
                     f"{judged[part]}")
    if judged["matches_ldr"] == "reproduced" and judged["cse_minus_ldr_unclear"] > judged["contexts"] / 2:
        lines.append("  (at most of these contexts the interval of CSE - LDR holds 0: no difference detectable with "
                     "these seeds, which is not evidence that the two are equal)")
    return "\n".join(lines)


def _run_curves(args: argparse.Namespace) -> int:
    from cebe_deep.curves import plot_training_curves, window_summary

    if not (1 <= args.bins <= 10_000):
        raise UsageError(f"--bins must be between 1 and 10000, got {args.bins}")
    if not (1 <= args.windows <= args.bins):
        raise UsageError(f"--windows must be between 1 and --bins ({args.bins}), got {args.windows}")
    if args.out is not None:
        _output_file(args.out, "--out")
    if args.figure is not None:
        _output_file(args.figure, "--figure", _image_types())
    curves = _curve_sources(args.sources, args.bins)
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


def _write_training_curves(runs: list[Path], results: Path) -> None:
    """A sweep's training curves into its results folder: ``training_curves.csv`` and ``training.png``."""
    from cebe_deep.curves import plot_training_curves, training_curves

    curves = training_curves([(run, None) for run in runs])
    if curves.empty:  # runs trained elsewhere and copied in without their Monitor files
        return
    _write(results / "training_curves.csv", "--results", lambda path: curves.to_csv(path, index=False))
    _write(results / "training.png", "--results", lambda path: plot_training_curves(curves, path))


def _curve_sources(sources: list[str], bins: int):
    """The binned curves of ``sources``: run directories (``LABEL=RUN_DIR`` allowed), or one curves CSV."""
    import pandas as pd

    from cebe_deep.curves import CURVE_COLUMNS, training_curves

    if len(sources) == 1 and sources[0].endswith(".csv"):
        path = Path(sources[0])
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
    runs = []
    for spec in sources:
        label, path = _split_label(spec)
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
    try:
        curves = training_curves(runs, bins)
    except (ValueError, KeyError) as error:
        raise UsageError(f"unreadable run directory: {type(error).__name__}: {error}") from None
    if curves.empty:
        raise UsageError("no finished training episode in these run directories")
    if curves.groupby(["method", "seed"])["run"].nunique().max() > 1:
        raise UsageError("two run directories have the same method and seed; name a variant with LABEL=RUN_DIR")
    for column, what in (("task", "tasks"), ("budget", "env-step budgets")):
        if curves[column].nunique() > 1:
            raise UsageError(f"the runs have different {what} ({', '.join(map(str, sorted(curves[column].unique())))}); "
                             "give each its own `cebe-deep curves`")
    return curves


_COMMANDS = {"train": _run_train, "evaluate": _run_evaluate, "sweep": _run_sweep, "plot": _run_plot,
             "figures": _run_figures, "summarize": _run_summarize, "curves": _run_curves}


def main(argv: list[str] | None = None) -> int:
    from cebe_deep.training import TrainingInterrupted

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
