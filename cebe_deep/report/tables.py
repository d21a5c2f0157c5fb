"""The tables of results/README.md and results/open/README.md, printed as markdown from the committed CSVs.

Each function takes the folder it reads (no path is taken relative to the working directory); the command line
is ``cebe-deep report`` (:mod:`cebe_deep.cli.report`)::

    cebe-deep report verdicts results/authors                 # the verdict table that opens results/README.md
    cebe-deep report differences results/authors/PendulumGoal # CSE - SAC, CSE - LDR per context, 95% CI
    cebe-deep report ablation results                         # the PendulumGoal ablation (results/{quick,authors})
    cebe-deep report training results/authors                 # training-episode return per quarter of the budget
    cebe-deep report markdown results/quick/PendulumGoal      # headline + per-context tables
    cebe-deep report per-seed results/quick/PendulumGoal context_3 0.9 0.6
    cebe-deep report per-seed-above results/quick/AntDirection-100k
    cebe-deep report zero-action CheetahVelocity 0 2 4        # reference: return of the all-zero action
    cebe-deep report open results/open dimension --figure results/open/dimension/dimension.png
    cebe-deep report readme results/README.md                 # refresh every table block of a write-up

The open questions' tables and figures come from :mod:`cebe_deep.report.open_questions`, one module per
experiment; a folder not written yet prints "not run yet".  The per-context numbers are those of ``summary.csv``
/ ``comparison.csv`` / ``headline.csv`` (written by ``cebe-deep sweep`` or ``cebe-deep summarize``); per-seed
numbers come from ``evaluation.csv`` through :func:`cebe_deep.report.statistics.per_seed_returns`.  Percentages
are rounded to whole percent.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from cebe_deep.learn.eps import PAPER_EPS
from cebe_deep.report.statistics import per_seed_returns, verdict
from cebe_deep.run.config import make_task_env
from cebe_deep.run.evaluation import evaluation_file, read_evaluation, zero_action_returns
from cebe_deep.tasks import default_context
from cebe_deep.tasks.simple_direction import simple_direction_optimal_return

METHODS = ("baseline", "cse", "ldr")


def _sweep_label(task: str, sweep: str, values: pd.Series) -> str:
    if sweep == "angle":
        return "direction angle in [-pi, pi]"
    names = getattr(make_task_env(task).unwrapped, "context_names", ())
    name = names[int(sweep.split("_")[1])] if names else sweep
    return f"{name} in [{values.min():g}, {values.max():g}]"


def markdown(folder: Path) -> None:
    """Headline table, then one per-context table per sweep: mean [95% CI] per method, CSE vs baseline."""
    summary = pd.read_csv(folder / "summary.csv")
    comparison = pd.read_csv(folder / "comparison.csv")
    headline = pd.read_csv(folder / "headline.csv")
    task = str(summary["task"].iloc[0])
    labels = {sweep: _sweep_label(task, sweep, group["sweep_value"]) for sweep, group in summary.groupby("sweep")}
    labels["all"] = "all"
    print("| sweep | contexts | CSE vs baseline, median | mean | CSE mean > baseline mean | CSE inside LDR's CI or above |")
    print("|---|---|---|---|---|---|")
    for row in headline.itertuples():
        n = row.contexts
        print(f"| {labels[row.sweep]} | {n} | {row.median_relative_improvement:+.0%} | {row.mean_relative_improvement:+.0%} "
              f"| {round(row.cse_beats_baseline * n)}/{n} | {round(row.cse_within_or_above_ldr_ci * n)}/{n} |")
    for sweep, group in summary.groupby("sweep", sort=False):
        seeds = int(group["seeds"].max())
        print(f"\n**{labels[sweep]}** (mean [95% CI over {seeds} seeds])\n")
        print("| value | baseline | CSE | LDR | CSE vs baseline | CSE in LDR CI |\n|---|---|---|---|---|---|")
        compared = comparison[comparison["sweep"] == sweep].set_index("sweep_value")
        for value in sorted(group["sweep_value"].unique()):
            cells = []
            for method in METHODS:
                row = group[(group["method"] == method) & (group["sweep_value"] == value)].iloc[0]
                cells.append(f"{row.mean_return:.1f} [{row.ci_low:.1f}, {row.ci_high:.1f}]")
            row = compared.loc[value]
            if row.distance_from_c0 == 0:
                relative = "c0"
            else:
                relative = f"{row.relative_improvement:+.0%}" if row.away_from_c0 else "(inside the ball)"
            inside = "yes" if row.cse_within_ldr_ci else ("above" if row.cse_at_least_ldr_low else "below")
            print(f"| {value:g} | {' | '.join(cells)} | {relative} | {inside} |")


def _evaluation(folder: Path, **read_csv_arguments) -> pd.DataFrame:
    """The folder's evaluation table (evaluation.csv or evaluation.csv.gz); exits naming the folder where it has none."""
    table = read_evaluation(folder, **read_csv_arguments)
    if table is None:
        raise SystemExit(f"{folder}: no evaluation.csv or evaluation.csv.gz")
    return table


def per_seed(folder: Path, sweep: str, values: list[float]) -> None:
    """Per-seed mean return of every method at the given points of one sweep."""
    table = per_seed_returns(_evaluation(folder))
    for value in values:
        part = table[(table["sweep"] == sweep) & np.isclose(table["sweep_value"], value)]
        if part.empty:
            raise SystemExit(f"no evaluation at {sweep} = {value} in {evaluation_file(folder)}")
        print(f"{sweep} = {value:g}")
        print(part.pivot(index="method", columns="seed", values="episode_return").round(0).to_string(), "\n")


def per_seed_above(folder: Path) -> None:
    """Away from c0: in how many (seed, context) pairs a CSE seed is above the baseline's mean over seeds.
    For angle sweeps -pi and pi are one direction and counted once."""
    comparison = pd.read_csv(folder / "comparison.csv")
    away = comparison[comparison["away_from_c0"]]
    if (away["sweep"] == "angle").all():
        away = away[~np.isclose(away["sweep_value"], math.pi)]
    table = per_seed_returns(_evaluation(folder))
    above = total = 0
    for row in away.itertuples():
        seeds = table[(table["method"] == "cse") & (table["sweep"] == row.sweep)
                      & np.isclose(table["sweep_value"], row.sweep_value)]["episode_return"]
        above += int((seeds > row.baseline_mean).sum())
        total += len(seeds)
    print(f"{folder.name}: CSE seed above the baseline's mean in {above} of {total} (seed, context) pairs away from c0")


@functools.lru_cache(maxsize=None)
def zero_action_mean(task: str, context: tuple[float, ...], episodes: int) -> float:
    """Mean return of the all-zero action at ``context``, simulated once per process: ``readme`` prints the
    verdict table and the per-task tables, which ask for the same contexts."""
    return float(zero_action_returns(task, context, episodes).mean())


def zero_action(task: str, values: list[float], episodes: int = 3, seed: int = 10_000) -> None:
    """Return of the all-zero action with the evaluation's reset seeds (seed + k); ``values`` set the
    first context coordinate (for AntDirection: the direction angle), the others stay at c0."""
    base = default_context(task)
    for value in values or [None]:
        if value is None:
            context = np.asarray(base, dtype=np.float64)
        elif task.startswith("AntDirection"):
            context = np.array([math.cos(value), math.sin(value)])
        else:
            context = np.array(base, dtype=np.float64)
            context[0] = value
        returns = zero_action_returns(task, context, episodes, seed)
        print(f"{task} context {np.round(context, 4).tolist()}: zero-action return {np.round(returns, 1).tolist()}")


CLAIMS = {
    "SimpleDirection": "CSE beats SAC away from c0 (30-50% on interpolation) and matches LDR",
    "PendulumGoal": "CSE beats SAC away from c0; matches or exceeds LDR for goal torque > 0.6",
    "CartGoal": "CSE (DQN) beats the baseline away from c0 and matches LDR",
    "CheetahVelocity": "CSE beats SAC away from c0; matches or exceeds LDR for goal velocity > 2.6",
    "AntDirection": "CSE beats SAC away from c0 and matches LDR",
}


def _interval(row, name: str) -> str:
    """``mean [low, high]`` of a difference; ``-`` where it was not computed (a method not in the sweep)."""
    if pd.isna(row[name]):
        return "-"
    return f"{row[name]:+.1f} [{row[name + '_low']:+.1f}, {row[name + '_high']:+.1f}]"


def verdicts(root: Path, zero_episodes: int = 64) -> None:
    """The opening table of results/README.md: per task, the paper's claim, our result (the differences at the
    authors' test contexts away from c0, and the sign counts over every context away from c0) and the verdict
    of :func:`cebe_deep.report.statistics.verdict`.  A test context where every method's mean is below the all-zero
    action's (``zero_episodes`` episodes) is marked ``#k*``: a difference there is between agents that do worse
    than doing nothing."""
    print("| task | the paper's claim | seeds | CSE - SAC / CSE - LDR at the authors' test contexts (#k), mean [95% CI] "
          "| CSE - SAC: CI above / inside / below 0 | CSE - LDR: same | CSE beats SAC | CSE matches LDR |")
    print("|---|---|---|---|---|---|---|---|")
    footnotes, marked = [], False
    for task, claim in CLAIMS.items():
        folder = root / task
        if not (folder / "comparison.csv").exists():
            print(f"| {task} | {claim} | - | no committed results yet | | | | |")
            continue
        comparison = pd.read_csv(folder / "comparison.csv")
        summary = pd.read_csv(folder / "summary.csv")
        seeds = "/".join(str(int(summary.loc[summary["method"] == m, "seeds"].max())) for m in METHODS
                         if (summary["method"] == m).any())
        result = verdict(comparison)
        authors = comparison[(comparison["sweep"] == "authors") & comparison["away_from_c0"]]
        summary_authors = summary[summary["sweep"] == "authors"]
        columns = [c for c in summary_authors.columns if c.startswith("context_")]
        named = {int(row.sweep_value): tuple(round(float(getattr(row, c)), 3) for c in columns)
                 for row in summary_authors.drop_duplicates("sweep_value").itertuples()}

        def below_zero(row) -> bool:  # every method evaluated there scores below the all-zero action
            means = [getattr(row, f"{m}_mean") for m in ("baseline", "cse", "ldr") if not pd.isna(getattr(row, f"{m}_mean"))]
            zero = zero_action_mean(task, named[int(row.sweep_value)], zero_episodes)
            return bool(means) and max(means) < zero

        below = {int(row.sweep_value) for row in authors.itertuples() if below_zero(row)}
        marked |= bool(below)
        # one line per context (<br>), each kept whole (no-break spaces): a narrow column would break the intervals
        cells = "<br>".join(f"#{int(row.sweep_value)}{'*' if int(row.sweep_value) in below else ''}: "
                            f"{_interval(row._asdict(), 'cse_minus_baseline')} / "
                            f"{_interval(row._asdict(), 'cse_minus_ldr')}".replace(" ", "\u00a0")
                            for row in authors.itertuples())
        counts = [
            f"{result[name + '_above']} / {result[name + '_unclear']} / {result[name + '_below']} of {result['contexts']}"
            for name in ("cse_minus_baseline", "cse_minus_ldr")
        ]
        print(f"| {task} | {claim} | {seeds} | {cells or '-'} | {counts[0]} | {counts[1]} | {result['beats_baseline']} "
              f"| {result['matches_ldr']} |")
        footnotes.append(f"{task}: " + ", ".join(f"#{k} = {context}" for k, context in sorted(named.items())))
    if footnotes:
        print("\nThe authors' test contexts (#0 is c0): " + "; ".join(footnotes) + ".")
    if marked:
        print(f"\n\\* every method's mean return there is below the all-zero action's ({zero_episodes} episodes, the "
              "evaluation's reset seeds)")


ABLATION = (("quick/PendulumGoal", "Gymnasium-order", "quick: 64x64, 1 update per env step, 30k steps"),
            ("authors/PendulumGoal-gymnasium", "Gymnasium-order", "authors' protocol"),
            ("authors/PendulumGoal-uniform", "authors'", "authors' protocol, uniform replay"),
            ("authors/PendulumGoal", "authors'", "authors' protocol"))


def ablation(results: Path) -> None:
    """The PendulumGoal ablation: CSE - SAC under each (task definition, protocol), at the authors' test contexts
    away from c0 (where evaluated) and counted over every context away from c0, from each folder's comparison.csv
    (recomputed from evaluation.csv when an older comparison.csv lacks the differences)."""
    from cebe_deep.report.statistics import compare_methods, summarize

    print("| dynamics | protocol | seeds | CSE - SAC at the authors' test contexts #1 / #2 | CSE - SAC on goal torque "
          "tau >= 0.6: CI above / inside / below 0 | all contexts away from c0: above / inside / below |")
    print("|---|---|---|---|---|---|")
    for folder, dynamics, protocol in ABLATION:
        folder = Path(results) / folder
        if evaluation_file(folder) is None:
            print(f"| {dynamics} | {protocol} | - | not run yet | | |")
            continue
        comparison = pd.read_csv(folder / "comparison.csv")
        if "cse_minus_baseline_sign" not in comparison:
            table = _evaluation(folder)
            context0 = default_context("PendulumGoal")
            comparison = compare_methods(summarize(table), context0, PAPER_EPS, table=table)
        summary = pd.read_csv(folder / "summary.csv")
        seeds = "/".join(str(int(summary.loc[summary["method"] == m, "seeds"].max())) for m in ("baseline", "cse"))
        away = comparison[comparison["away_from_c0"]]
        authors = away[away["sweep"] == "authors"]
        cells = " / ".join(_interval(row._asdict(), "cse_minus_baseline") for row in authors.itertuples()) or "not evaluated"
        torque = away[(away["sweep"] == "context_3") & (away["sweep_value"] >= 0.6 - 1e-9)]

        def counts(part):
            signs = part["cse_minus_baseline_sign"]
            return f"{(signs == 1).sum()} / {(signs == 0).sum()} / {(signs == -1).sum()} of {len(part)}"

        print(f"| {dynamics} | {protocol} | {seeds} | {cells} | {counts(torque)} | {counts(away)} |")
    contrasts = ablation_contrasts(results)
    if contrasts.empty:
        return
    print("\n**Each variant's gain minus the authors' gain** (a seed's gain: CSE - SAC of that seed; the difference of "
          "the two folders' mean gains with a Welch 95% interval over their seeds, the folders' runs taken as "
          "independent). At the authors' test contexts #1 / #2 in return units, and the protocol's primary statistic "
          "(results/PROTOCOL.md: the mean normalized score over the contexts away from c0) in normalized units and, in "
          "parentheses, return units:\n")
    print("| variant | seeds (variant / authors') | at #1 | at #2 | contexts away from c0 | mean over them, normalized "
          "(return units) |")
    print("|---|---|---|---|---|---|")
    for row in contrasts.to_dict("records"):
        normalized = _text(row["away"], row["away_low"], row["away_high"], 3)
        returns = _text(*(row["scale"] * row[name] for name in ("away", "away_low", "away_high")))
        print(f"| {row['variant']} | {row['seeds']} / {row['seeds_authors']} | "
              f"{_text(row['authors_1'], row['authors_1_low'], row['authors_1_high'])} | "
              f"{_text(row['authors_2'], row['authors_2_low'], row['authors_2_high'])} | {row['contexts']} | "
              f"{normalized} ({returns}) |")


def _text(estimate: float, low: float, high: float, digits: int = 1) -> str:
    return f"{estimate:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def ablation_contrasts(results: Path) -> pd.DataFrame:
    """Per authors'-protocol variant of the ablation (:data:`ABLATION`, the folders beside authors/PendulumGoal):
    the variant's gain of CSE over SAC minus the authors' gain, a seed's gain being CSE - SAC of that seed (the two
    share their random streams), the two folders' seeds independent (Welch).  At the authors' test contexts #1 and
    #2 (``authors_1``, ``authors_2``, return units) and in the protocol's primary statistic, the mean normalized
    score over the contexts away from c0 (``away``, :mod:`cebe_deep.report.protocol`; ``scale``: return units per
    normalized unit), each with ``_low`` and ``_high``.  Folders without evaluation or zero-action tables are
    left out."""
    from cebe_deep.report.protocol import folder_inputs, read_zero_action, task_scores
    from cebe_deep.report.statistics import welch_interval

    def gains(folder: Path):
        table, zero, variant = folder_inputs(folder, None, False)
        normalized = task_scores(table, zero, variant)
        away = normalized.contexts["away"].to_numpy()
        mean_gain = (normalized.scores["cse"].loc[:, away] - normalized.scores["baseline"].loc[:, away]).mean(axis=1)
        means = per_seed_returns(table)
        authors = means[means["sweep"] == "authors"].pivot_table(index="seed", columns=["sweep_value", "method"],
                                                                  values="episode_return")
        at = {k: (authors[(k, "cse")] - authors[(k, "baseline")]).dropna().to_numpy() for k in (1, 2)}
        return mean_gain.dropna().to_numpy(), at, int(away.sum()), float(normalized.scale[0])

    root = Path(results) / "authors"
    usable = [folder for folder, *_ in ABLATION if folder.startswith("authors/")
              and evaluation_file(Path(results) / folder) is not None and read_zero_action(Path(results) / folder) is not None]
    if "authors/PendulumGoal" not in usable:
        return pd.DataFrame()
    reference, reference_at, _, _ = gains(root / "PendulumGoal")
    rows = []
    for folder, dynamics, protocol in ABLATION:
        if folder not in usable or folder == "authors/PendulumGoal":
            continue
        gain, at, contexts, scale = gains(Path(results) / folder)
        row = dict(variant=f"{dynamics} dynamics, {protocol}", seeds=len(gain), seeds_authors=len(reference),
                   contexts=contexts, scale=scale)
        for name, (mine, theirs) in (("authors_1", (at[1], reference_at[1])), ("authors_2", (at[2], reference_at[2])),
                                     ("away", (gain, reference))):
            row.update(zip((name, f"{name}_low", f"{name}_high"), welch_interval(mine, theirs), strict=True))
        rows.append(row)
    return pd.DataFrame(rows)


def differences(folder: Path, zero_episodes: int = 64) -> None:
    """Per context away from or at c0: CSE - SAC and CSE - LDR with their 95% intervals, the three methods'
    means, and the all-zero action's mean return there (a trained agent below it has learned less than nothing)."""
    comparison = pd.read_csv(folder / "comparison.csv")
    evaluation = _evaluation(folder, nrows=1)
    task = str(evaluation["task"].iloc[0])
    context_columns = [c for c in evaluation.columns if c.startswith("context_")]
    if not set(context_columns) <= set(comparison.columns):  # a comparison.csv written before it held them
        full = _evaluation(folder, usecols=["sweep", "sweep_value", *context_columns]).drop_duplicates()
        comparison = comparison.merge(full, on=["sweep", "sweep_value"], how="left")
    optimum = task == "SimpleDirection"  # closed form, cebe_deep.tasks.simple_direction_optimal_return
    print(f"**{task}** ({folder}): returns are undiscounted episode sums; 'zero' is the all-zero action"
          + ("; 'optimum' the optimal expected return (closed form)" if optimum else "") + "\n")
    print("| sweep | value | context | SAC | CSE | LDR | zero |" + (" optimum |" if optimum else "")
          + " CSE - SAC [95% CI] | CSE - LDR [95% CI] |")
    print("|---|---|---|---|---|---|---|" + ("---|" if optimum else "") + "---|---|")
    for row in comparison.itertuples():
        exact = tuple(float(getattr(row, c)) for c in context_columns)  # simulated where the runs were evaluated
        context = tuple(round(value, 3) for value in exact)  # (shown rounded: a box edge of 3.12510 kg is not 3.125)
        zero = zero_action_mean(task, exact, zero_episodes)
        marks = {m: ("*" if mean < zero else "") for m, mean in
                 (("baseline", row.baseline_mean), ("cse", row.cse_mean), ("ldr", row.ldr_mean))}
        where = "c0" if row.distance_from_c0 == 0 else ("" if row.away_from_c0 else "(in ball)")
        best = f" {simple_direction_optimal_return(np.array(exact)):.1f} |" if optimum else ""
        ldr = "-" if pd.isna(row.ldr_mean) else f"{row.ldr_mean:.1f}{marks['ldr']}"
        print(f"| {row.sweep} {where} | {row.sweep_value:g} | {context} | {row.baseline_mean:.1f}{marks['baseline']} "
              f"| {row.cse_mean:.1f}{marks['cse']} | {ldr} | {zero:.1f} |{best} "
              f"{_interval(row._asdict(), 'cse_minus_baseline')} | {_interval(row._asdict(), 'cse_minus_ldr')} |")
    print("\n\\* below the all-zero action's return at that context")


def training(root: Path, windows: int = 4, zero_episodes: int = 64) -> None:
    """Did the agents learn?  Per task and method, the training-episode return in each quarter of the budget
    (``cebe_deep.report.curves.window_summary`` of the committed ``training_curves.csv``), and the all-zero action's
    return at c0 for scale."""
    from cebe_deep.report.curves import window_summary
    from cebe_deep.report.plots import method_order

    paths = sorted(Path(root).glob("*/training_curves.csv"))
    if not paths:
        print(f"{root}: no */training_curves.csv (written by `cebe-deep curves ... --out`)")
        return
    print("Return of the training episodes (the stochastic policy while it learned; at c0 for SAC/DQN and CSE, at "
          "the randomized contexts for LDR), a seed's episode mean per part of the budget, mean [95% t-interval over "
          "seeds]; 'zero': the all-zero action's mean return at c0 (64 episodes, the evaluation's reset seeds).\n")
    parts = [f"{index / windows:.0%}-{(index + 1) / windows:.0%}" for index in range(windows)]
    print(f"| task (env steps per run) | method | seeds | {' | '.join(parts)} | zero |")
    print("|---" * (len(parts) + 4) + "|")
    for path in paths:
        curves = pd.read_csv(path)
        task = str(curves["task"].iloc[0])
        base = tuple(float(value) for value in default_context(task))
        zero = zero_action_mean(task, base, zero_episodes)
        table = window_summary(curves, windows)
        for method in sorted(table["method"].unique(), key=method_order):
            rows = table[table["method"] == method].set_index("window")
            cells = [f"{rows.loc[index, 'mean']:.1f} [{rows.loc[index, 'ci_low']:.1f}, {rows.loc[index, 'ci_high']:.1f}]"
                     if index in rows.index else "" for index in range(windows)]
            budget = int(curves.loc[curves["method"] == method, "budget"].max())
            print(f"| {path.parent.name} ({budget:,}) | {method} | {int(rows['seeds'].max())} | {' | '.join(cells)} | "
                  f"{zero:.1f} |")


def open_questions(root: Path, experiment: str, figure: Path | None = None) -> None:
    """The open questions' answers (``root``: the folder of results/open/README.md): the markdown of one experiment
    (or ``all``) and, with ``figure``, its figure
    (for ``all``, ``figure`` is a folder that gets ``<experiment>.png``); ``collect-logs`` copies the runs'
    logs into the results folders."""
    from cebe_deep.report import open_questions as report

    if experiment == "collect-logs":
        written = report.collect_run_logs(root)
        print("\n".join(str(path) for path in written) or f"no fd_cost.json / importance.json found for {root}")
        return
    if experiment == "status":
        report.print_status(root)
        return
    names = list(report.EXPERIMENTS) if experiment == "all" else [experiment]
    for index, name in enumerate(names):
        if index:
            print()
        printer, plotter = report.EXPERIMENTS[name]
        printer(root)
        if figure is not None:
            plotter(figure / f"{name}.png" if experiment == "all" else figure, root)
