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

Bad input (unknown task or method, eps <= 0, a context outside the box, ...) prints one line
``cebe-deep: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

PROGRAM = "cebe-deep"


from cebe_theory.cli_support import OneLineParser as _Parser  # noqa: E402
from cebe_theory.cli_support import UsageError  # noqa: E402


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _seeds(text: str) -> tuple[int, ...]:
    """``5`` -> seeds 0..4; ``3-7`` -> 3..7; ``0,2,9`` -> those."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-"))
            return tuple(range(first, last + 1))
        if "," in text:
            return _ints(text)
        return tuple(range(int(text)))
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds: expected N, A-B or a,b,c, got {text!r}") from None


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, help="task name, e.g. SimpleDirection, PendulumGoal")
    parser.add_argument("--profile", default="quick",
                        help="quick (small, minutes) or authors (the authors' protocol and budgets, AUTHORS.md)")
    parser.add_argument("--steps", type=int, dest="total_steps", help="training budget in env steps")
    parser.add_argument("--eps", type=float, help="CSE ball radius and LDR scale (paper: 0.1)")
    parser.add_argument("--net", type=_ints, dest="net_arch", help="hidden layer widths, e.g. 64,64")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-starts", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--gamma", type=float)
    parser.add_argument("--context", type=_floats, help="training context c0, comma-separated (default: the task's)")
    parser.add_argument("--perturbation", help="CSE draw: sphere (authors) or ball")
    parser.add_argument("--cse-mode", help="first_order (default) or exact")
    parser.add_argument("--cse-fraction", type=float, help="fraction of each batch CSE rewrites (default 1)")
    parser.add_argument("--checkpoint-every", type=int, help="env steps between resumable checkpoints")
    parser.add_argument("--n-envs", type=int, help="environments stepped together (authors: 8)")
    parser.add_argument("--replay", help="uniform or prioritized")
    parser.add_argument("--priority-alpha", type=float, help="prioritized replay: priority exponent in [0, 1]")
    parser.add_argument("--priority-beta", type=float, help="prioritized replay: importance-weight exponent in [0, 1]")
    parser.add_argument("--dynamics", help="task variant, e.g. PendulumGoal: authors (default) or gymnasium")
    parser.add_argument("--buffer-size", type=int, help="replay capacity in transitions")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROGRAM, description="CSE and domain randomization on Stable-Baselines3 (arXiv 2507.07348)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    sweep.add_argument("--results", type=Path, help="write evaluation.csv, summary.csv and sweep.png here")
    sweep.add_argument("--workers", type=int, default=2, help="worker processes (local backend)")
    sweep.add_argument("--backend", default="local", help="local (processes), serial, or ray")
    _add_evaluation_arguments(sweep)

    plot = commands.add_parser("plot", help="figure from an evaluation CSV")
    plot.add_argument("csv", type=Path)
    plot.add_argument("--out", type=Path, required=True, help="image file (.png, .pdf)")
    plot.add_argument("--eps", type=float, default=0.1, help="radius of the training ball to mark")

    figures = commands.add_parser("figures", help="redraw every <results>/<Task>/sweep.png from its committed evaluation.csv")
    figures.add_argument("--results", type=Path, default=Path("results"), help="folder of per-task results (default results/)")
    figures.add_argument("--eps", type=float, default=0.1, help="radius of the training ball to mark")

    summary = commands.add_parser("summarize", help="per-context table from evaluation CSVs")
    summary.add_argument("csv", nargs="+", help="evaluation CSVs of one task; LABEL=PATH relabels PATH's runs as method LABEL")
    summary.add_argument("--candidate", default="cse", help="the method compared with baseline and LDR (default cse)")
    summary.add_argument("--eps", type=float, default=0.1, help="contexts farther than eps from c0 are 'away'")
    summary.add_argument("--out", type=Path, help="write the table as CSV")
    summary.add_argument("--results", type=Path, help="write evaluation, summary, comparison, headline CSVs and sweep.png here")
    return parser


def _add_evaluation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--points", type=int, default=11, help="grid points per context coordinate")
    parser.add_argument("--episodes", type=int, help="evaluation episodes per context (default 64 for runs of the "
                                                     "authors profile, 32 otherwise)")
    parser.add_argument("--span", type=float, help="sweep c0 +- span instead of the task's default ranges")
    parser.add_argument("--contexts", help="evaluation contexts: sweeps (default), authors (the authors' test contexts), "
                                           "authors+sweeps, or a list such as '2,1,1,0.75;2,1.2,1,-0.75'")


def _config_overrides(args: argparse.Namespace) -> dict:
    names = ("total_steps", "eps", "net_arch", "batch_size", "learning_starts", "learning_rate", "gamma", "context",
             "perturbation", "cse_mode", "cse_fraction", "checkpoint_every", "n_envs", "replay", "priority_alpha",
             "priority_beta", "dynamics", "buffer_size")
    return {name: getattr(args, name) for name in names}


def _check_task(task: str) -> None:
    from cebe_deep import tasks
    from cebe_deep.experiment import ConfigError

    if task not in tasks.TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(tasks.TASKS)}")


def _base_context(table) -> list[float]:
    from cebe_deep.experiment import make_task_env

    env = make_task_env(str(table["task"].iloc[0]))
    context = list(env.unwrapped.default_context)
    names = list(getattr(env.unwrapped, "context_names", []))
    env.close()
    return context, names


def _read_table(path: Path):
    import pandas as pd

    from cebe_deep.experiment import ConfigError

    if not path.exists():
        raise ConfigError(f"no such file: {path}")
    table = pd.read_csv(path)
    if table.empty:
        raise ConfigError(f"{path} has no rows")
    return table


def _read_labelled_tables(specs: list[str]):
    """Concatenate evaluation CSVs given as ``PATH`` or ``LABEL=PATH`` (every run of PATH becomes method LABEL)."""
    import pandas as pd

    from cebe_deep.experiment import ConfigError

    tables = []
    for spec in specs:
        label, _, path = spec.partition("=") if "=" in spec and not Path(spec).exists() else ("", "", spec)
        table = _read_table(Path(path))
        if label:
            methods = sorted(table["method"].unique())
            if len(methods) != 1:
                raise ConfigError(f"{label}={path}: LABEL=PATH relabels the runs of one method, {path} holds {methods}")
            table = table.assign(method=label)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    tasks = sorted(table["task"].unique())
    if len(tasks) != 1:
        raise ConfigError(f"the CSVs must hold one task, got {tasks}")
    repeated = table.duplicated(["method", "seed", "sweep", "sweep_value", "episode"])
    if repeated.any():
        twice = sorted(table.loc[repeated, "method"].unique())
        raise ConfigError(f"method(s) {twice} appear in more than one CSV; give a variant its own name with LABEL=PATH")
    return table


def _summary_outputs(table, eps: float, results: Path | None, candidate: str = "cse"):
    """Summary and comparison tables (and files under ``results``)."""
    from cebe_deep.experiment import compare_methods, headline, summarize

    base_context, names = _base_context(table)
    summary = summarize(table)
    comparison = compare_methods(summary, base_context, eps, candidate=candidate, table=table)
    if results is not None:
        results.mkdir(parents=True, exist_ok=True)
        table.to_csv(results / "evaluation.csv", index=False)
        summary.to_csv(results / "summary.csv", index=False)
        comparison.to_csv(results / "comparison.csv", index=False)
        headline(comparison).to_csv(results / "headline.csv", index=False)
        from cebe_deep.plots import plot_context_sweeps

        plot_context_sweeps(table, base_context, eps, results / "sweep.png", names)
    return summary, comparison


def _run(args: argparse.Namespace) -> int:
    from cebe_deep import experiment

    if args.command == "train":
        _check_task(args.task)
        config = experiment.make_config(args.task, args.method, args.profile, seed=args.seed, **_config_overrides(args))
        out = args.out or experiment.run_dir_for("runs", config)
        result = experiment.train(config, out, progress=not args.no_progress)
        print(json.dumps(dict(run_dir=str(result.run_dir), num_timesteps=result.num_timesteps,
                              seconds=round(result.seconds, 1), resumed_from=result.resumed_from)))
        return 0
    if args.command == "evaluate":
        import pandas as pd

        tables = [experiment.evaluate(run, args.points, args.episodes, args.span, contexts=args.contexts)
                  for run in args.runs]
        table = pd.concat(tables, ignore_index=True)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(args.out, index=False)
        print(experiment.summarize(table).to_string(index=False))
        return 0
    if args.command == "sweep":
        _check_task(args.task)
        methods = [method.strip() for method in args.methods.split(",") if method.strip()]
        configs = [experiment.make_config(args.task, method, args.profile, seed=seed, **_config_overrides(args))
                   for method in methods for seed in args.seeds]
        executor = experiment.make_executor(args.backend, args.workers)
        try:
            episodes = args.episodes or (64 if args.profile == "authors" else 32)
            table = experiment.sweep(configs, args.root, executor, args.points, episodes, args.span,
                                     contexts=args.contexts)
        finally:
            if hasattr(executor, "shutdown"):
                executor.shutdown(wait=True)
        if table.empty:
            raise experiment.ConfigError("no run finished")
        table = table[table["method"].isin(methods) & table["seed"].isin(args.seeds)]
        _, comparison = _summary_outputs(table, configs[0].eps, args.results)
        print(comparison.to_string(index=False))
        print(experiment.headline(comparison).to_string(index=False))
        return 0
    if args.command == "plot":
        from cebe_deep.plots import plot_context_sweeps

        table = _read_table(args.csv)
        base_context, names = _base_context(table)
        plot_context_sweeps(table, base_context, args.eps, args.out, names)
        print(args.out)
        return 0
    if args.command == "figures":
        from cebe_deep.plots import plot_context_sweeps

        if not args.eps > 0:
            raise experiment.ConfigError(f"eps must be > 0, got {args.eps}")
        tables = sorted(args.results.glob("*/evaluation.csv"))
        if not tables:
            raise experiment.ConfigError(f"no */evaluation.csv under {args.results}")
        for csv in tables:
            table = _read_table(csv)
            base_context, names = _base_context(table)
            plot_context_sweeps(table, base_context, args.eps, csv.parent / "sweep.png", names)
            print(csv.parent / "sweep.png")
        return 0
    if args.command == "summarize":
        from cebe_deep.experiment import headline

        table = _read_labelled_tables(args.csv)
        if args.candidate not in set(table["method"]):
            raise experiment.ConfigError(
                f"candidate method {args.candidate!r} is not in the table; methods: {sorted(table['method'].unique())}")
        _, comparison = _summary_outputs(table, args.eps, args.results, args.candidate)
        if args.out:
            comparison.to_csv(args.out, index=False)
        print(comparison.to_string(index=False))
        print(headline(comparison).to_string(index=False))
        return 0
    raise UsageError(f"unknown command {args.command!r}")


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return _run(args)
    except UsageError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as error:  # ConfigError and the tasks' one-line ValueErrors
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"{PROGRAM}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted (finished runs and checkpoints are kept; rerun to resume)", file=sys.stderr)
        return 130
