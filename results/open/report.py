"""The answers of results/open/README.md, read from the CSVs under results/open/ (issue 14's five experiments).

Called by ``python results/tables.py open EXPERIMENT [--figure PATH]`` (run from the repository root); each
experiment has a ``*_tables`` function that returns tidy DataFrames, a ``print_*`` function that prints them as
markdown, and a ``plot_*`` function that draws its one figure.  The folders are the ones the ``open`` section of
``results/commands.sh`` writes (one ``cebe-deep sweep --results`` folder per cell)::

    dimension/d<d>/evaluation.csv               OQ2, d in 2 4 8 16 32, baseline / cse / ldr, dimension-test contexts
    dimension-budget/d<d>-<steps>/evaluation.csv OQ2, d in 8 32, steps in 5000 .. 80000
    jacobians/{noise-<s>,bias-<b>,fd-<h>}/      OQ3, PendulumGoal cse, authors' contexts
    stochastic/noise-<s>[-importance]/          OQ1, NoisyPendulumGoal, listed contexts (sweep "listed")
    extrapolation/evaluation.csv                far extrapolation, CheetahVelocity, listed goal velocities
    extrapolation/reward_error.csv              the first-order reward error (results/open/reward_error.py)
    eps/<eps>-<shape>/                          eps and the perturbation shape, PendulumGoal cse

Statistics: the unit of replication is the seed (one trained policy).  A seed's number at a context is the mean
over its evaluation episodes (:func:`cebe_deep.statistics.per_seed_returns`); where several contexts are pooled
(the 16 directions of a radius, the authors' contexts) a seed's number is the mean over them.  Intervals are the
95% Student-t interval over seeds (:func:`cebe_deep.statistics.t_interval`); differences of methods are Welch
intervals (:func:`cebe_deep.statistics.welch_interval`), the methods' runs being independent.

The per-run logs the training writes beside the model (``fd_cost.json``, ``importance.json``) live in the run
directories under ``runs/``, which are not committed; :func:`collect_run_logs` copies them into each cell's
``run_logs.csv`` (``python results/tables.py open collect-logs``), and the tables read that file.  Where it is
missing they read the run directories named in the cell's evaluation.csv, and say so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from cebe_deep.evaluation import with_fraction_of_optimum
from cebe_deep.statistics import per_seed_returns, t_interval, welch_interval

ROOT = Path("results/open")
NOT_RUN = "not run yet"
LEVEL = 0.95

DIMENSIONS = (2, 4, 8, 16, 32)
RADII = (0.2, 0.5, 0.8)
BUDGET_DIMENSIONS = (8, 32)
BUDGETS = (5000, 10000, 20000, 40000, 80000)
BUDGET_RADIUS = 0.5
TARGET_FRACTION = 0.9
JACOBIAN_CELLS = {  # folder -> (kind, value), the loops of results/commands.sh
    "noise-0": ("sigma", 0.0), "noise-0.1": ("sigma", 0.1), "noise-0.3": ("sigma", 0.3), "noise-1.0": ("sigma", 1.0),
    "bias-0.5": ("bias", 0.5), "bias-1.5": ("bias", 1.5), "fd-1e-2": ("fd step h", 1e-2), "fd-1e-4": ("fd step h", 1e-4)}
NOISE_LEVELS = ("0.05", "0.2")
STOCHASTIC_METHODS = {"baseline": "(c) SAC baseline", "cse": "(a) first-order CSE (noise held fixed)",
                      "cse-importance": "(b) importance-weighted CSE", "ldr": "(d) LDR"}
EXTRAPOLATION_C0 = 2.0
EPS_VALUES = ("0.05", "0.1", "0.2", "0.4")
SHAPES = ("sphere", "ball")
FONT = dict(title=15, label=14, ticks=12, legend=13)  # slide-sized: nothing under 12 pt
REFERENCE_TASK = "PendulumGoal"  # results/authors/<task>: SAC and LDR under the authors' protocol (10 seeds)
METHOD_LABELS = {"baseline": "SAC (baseline)", "cse": "SAC + CSE", "ldr": "SAC + LDR"}
METHOD_COLORS = {"baseline": "tab:gray", "cse": "tab:blue", "ldr": "tab:orange", "cse-importance": "tab:purple"}


# ------------------------------------------------------------------------------------------------ helpers
def read_evaluation(folder: Path) -> pd.DataFrame | None:
    """``folder/evaluation.csv``, or None where the folder (or its CSV) does not exist yet."""
    path = Path(folder) / "evaluation.csv"
    return pd.read_csv(path) if path.exists() else None


def _interval(values) -> dict:
    mean, low, high = t_interval(np.asarray(values, dtype=np.float64), LEVEL)
    return dict(mean=mean, ci_low=low, ci_high=high, seeds=len(values))


def _cell(mean: float, low: float, high: float, digits: int = 1, signed: bool = False) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    form = f"{'+' if signed else ''}.{digits}f"
    if math.isnan(low):
        return f"{mean:{form}}"
    return f"{mean:{form}} [{low:{form}}, {high:{form}}]"


def _sign(low: float, high: float) -> str:
    if math.isnan(low):
        return "?"
    return "above 0" if low > 0 else ("below 0" if high < 0 else "contains 0")


def seed_means(table: pd.DataFrame, value: str = "episode_return") -> pd.DataFrame:
    """Mean of ``value`` over the episodes of each (method, seed, sweep, sweep_value): one row per seed and context."""
    keys = ["method", "seed", "sweep", "sweep_value"]
    context = sorted((c for c in table.columns if c.startswith("context_")), key=lambda c: int(c.split("_")[1]))
    if value == "episode_return":
        return per_seed_returns(table)[keys + context + ["episode_return"]]
    return table.groupby(keys + context, as_index=False, dropna=False)[value].mean()


def _figure_not_written(path) -> None:
    print(f"\n(figure {path} not written: nothing has run yet)")


def _save(figure, path) -> None:
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=130)
    plt.close(figure)
    print(f"\nfigure: {path}")


# ------------------------------------------------------------------------------------ OQ2: context dimension
def fraction_by_radius(table: pd.DataFrame) -> pd.DataFrame:
    """Per (method, seed, radius): the mean over the radius's directions of the per-seed fraction of the optimum
    (:func:`cebe_deep.evaluation.with_fraction_of_optimum`: episode return / ``55 (|c|_1 + |c|_2^2)``)."""
    fractions = seed_means(with_fraction_of_optimum(table), "fraction_of_optimum")
    fractions = fractions[fractions["sweep"].str.startswith("radius_")]
    fractions = fractions.assign(radius=fractions["sweep"].str.slice(len("radius_")).astype(float))
    return fractions.groupby(["method", "seed", "radius"], as_index=False)["fraction_of_optimum"].mean()


def fraction_intervals(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per (radius, method): mean fraction of the optimum with its t-interval over seeds, and per radius the
    Welch interval of CSE - LDR (rows with ``method = "cse - ldr"``) and CSE - baseline."""
    rows = []
    for radius, group in per_seed.groupby("radius"):
        values = {method: part["fraction_of_optimum"].to_numpy() for method, part in group.groupby("method")}
        for method, seeds in values.items():
            rows.append(dict(radius=radius, method=method, **_interval(seeds)))
        for other in ("ldr", "baseline"):
            if "cse" in values and other in values:
                mean, low, high = welch_interval(values["cse"], values[other], LEVEL)
                rows.append(dict(radius=radius, method=f"cse - {other}", mean=mean, ci_low=low, ci_high=high,
                                 seeds=min(len(values["cse"]), len(values[other]))))
    return pd.DataFrame(rows)


def dimension_tables(root: Path = ROOT) -> tuple[pd.DataFrame, list[int], pd.DataFrame, list[str]]:
    """``(by_dimension, missing dimensions, by_budget, missing budget folders)``: the intervals of
    :func:`fraction_intervals` with a ``dimension`` column, and at r = 0.5 for each (dimension, steps)."""
    frames, missing = [], []
    for dimension in DIMENSIONS:
        table = read_evaluation(root / "dimension" / f"d{dimension}")
        if table is None:
            missing.append(dimension)
            continue
        frames.append(fraction_intervals(fraction_by_radius(table)).assign(dimension=dimension))
    budgets, missing_budgets = [], []
    for dimension in BUDGET_DIMENSIONS:
        for steps in BUDGETS:
            name = f"d{dimension}-{steps}"
            table = read_evaluation(root / "dimension-budget" / name)
            if table is None:
                missing_budgets.append(name)
                continue
            intervals = fraction_intervals(fraction_by_radius(table))
            intervals = intervals[np.isclose(intervals["radius"], BUDGET_RADIUS)]
            budgets.append(intervals.assign(dimension=dimension, steps=steps))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), missing,
            pd.concat(budgets, ignore_index=True) if budgets else pd.DataFrame(), missing_budgets)


def budget_to_reach(by_budget: pd.DataFrame, target: float = TARGET_FRACTION) -> pd.DataFrame:
    """Per (dimension, method): the smallest budget whose mean fraction reaches ``target``, and the smallest whose
    whole interval lies above it (NaN where none of the budgets run does)."""
    rows = []
    for (dimension, method), group in by_budget[by_budget["method"].isin(["baseline", "cse", "ldr"])].groupby(
            ["dimension", "method"]):
        group = group.sort_values("steps")
        reached = group.loc[group["mean"] >= target, "steps"]
        surely = group.loc[group["ci_low"] >= target, "steps"]
        rows.append(dict(dimension=dimension, method=method, largest_budget=int(group["steps"].max()),
                         mean_reaches=float(reached.iloc[0]) if len(reached) else float("nan"),
                         interval_reaches=float(surely.iloc[0]) if len(surely) else float("nan")))
    return pd.DataFrame(rows)


def print_dimension(root: Path = ROOT) -> None:
    by_dimension, missing, by_budget, missing_budgets = dimension_tables(root)
    print("### OQ2: fraction of the optimum against the context dimension (SimpleDirection)\n")
    print(f"Fraction of the closed-form optimum 55 (|c|_1 + |c|_2^2), mean over the 16 directions of a radius, mean "
          f"[{LEVEL:.0%} t-interval over seeds]; CSE - LDR and CSE - baseline: Welch {LEVEL:.0%} interval.\n")
    if by_dimension.empty:
        print(f"results/open/dimension: {NOT_RUN}")
    else:
        for radius in RADII:
            part = by_dimension[np.isclose(by_dimension["radius"], radius)]
            print(f"\n**radius {radius:g}**\n")
            print("| d | seeds | baseline | CSE | LDR | CSE - LDR | CSE - baseline |")
            print("|---|---|---|---|---|---|---|")
            for dimension in DIMENSIONS:
                rows = part[part["dimension"] == dimension].set_index("method")
                if rows.empty:
                    print(f"| {dimension} | {NOT_RUN} | | | | | |")
                    continue
                cells = [_cell(*rows.loc[m, ["mean", "ci_low", "ci_high"]], digits=3) if m in rows.index else "-"
                         for m in ("baseline", "cse", "ldr")]
                differences = [_cell(*rows.loc[m, ["mean", "ci_low", "ci_high"]], digits=3, signed=True)
                               + f" ({_sign(rows.loc[m, 'ci_low'], rows.loc[m, 'ci_high'])})" if m in rows.index else "-"
                               for m in ("cse - ldr", "cse - baseline")]
                seeds = "/".join(str(int(rows.loc[m, "seeds"])) for m in ("baseline", "cse", "ldr") if m in rows.index)
                print(f"| {dimension} | {seeds} | {' | '.join(cells)} | {' | '.join(differences)} |")
        if missing:
            print(f"\nd = {', '.join(map(str, missing))}: {NOT_RUN}")
    print(f"\n### OQ2: budget to reach {TARGET_FRACTION:.0%} of the optimum at r = {BUDGET_RADIUS:g}\n")
    if by_budget.empty:
        print(f"results/open/dimension-budget: {NOT_RUN}")
        return
    for dimension in BUDGET_DIMENSIONS:
        part = by_budget[by_budget["dimension"] == dimension]
        print(f"\n**d = {dimension}** (fraction of the optimum at r = {BUDGET_RADIUS:g})\n")
        print("| env steps | baseline | CSE | LDR | CSE - LDR |\n|---|---|---|---|---|")
        for steps in BUDGETS:
            rows = part[part["steps"] == steps].set_index("method")
            if rows.empty:
                print(f"| {steps} | {NOT_RUN} | | | |")
                continue
            cells = [_cell(*rows.loc[m, ["mean", "ci_low", "ci_high"]], digits=3, signed=m == "cse - ldr")
                     if m in rows.index else "-" for m in ("baseline", "cse", "ldr", "cse - ldr")]
            print(f"| {steps} | {' | '.join(cells)} |")
    reach = budget_to_reach(by_budget)
    print(f"\n| d | method | first budget with mean >= {TARGET_FRACTION:g} | first budget with the interval above "
          f"{TARGET_FRACTION:g} |\n|---|---|---|---|")
    for row in reach.itertuples():
        def show(value):
            return f"{int(value)}" if not math.isnan(value) else f"not reached by {row.largest_budget}"
        print(f"| {row.dimension} | {row.method} | {show(row.mean_reaches)} | {show(row.interval_reaches)} |")
    if missing_budgets:
        print(f"\ndimension-budget/{{{', '.join(missing_budgets)}}}: {NOT_RUN}")


def plot_dimension(path, root: Path = ROOT) -> None:
    """Fraction of the optimum against d (log2 axis), one line per method with its interval, one panel per radius."""
    by_dimension = dimension_tables(root)[0]
    if by_dimension.empty:
        return _figure_not_written(path)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(RADII), figsize=(15, 5.2), sharey=True, layout="constrained")
    for axis, radius in zip(axes, RADII):
        part = by_dimension[np.isclose(by_dimension["radius"], radius)]
        for method in ("baseline", "cse", "ldr"):
            rows = part[part["method"] == method].sort_values("dimension")
            if rows.empty:
                continue
            axis.errorbar(rows["dimension"], rows["mean"], yerr=[rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]],
                          color=METHOD_COLORS[method], marker="o", linewidth=2, capsize=4, label=METHOD_LABELS[method])
        axis.set_xscale("log", base=2)
        axis.set_xticks(DIMENSIONS, [str(d) for d in DIMENSIONS])
        axis.axhline(1.0, color="black", linestyle=":", linewidth=1)
        axis.set_title(f"test radius |c| = {radius:g}", fontsize=FONT["title"])
        axis.set_xlabel("context dimension d (number of coordinates)", fontsize=FONT["label"])
        axis.tick_params(labelsize=FONT["ticks"])
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("return / optimal return (fraction)", fontsize=FONT["label"])
    axes[0].legend(fontsize=FONT["legend"], frameon=False)
    figure.suptitle(f"SimpleDirection: fraction of the optimum, mean and {LEVEL:.0%} CI over seeds", fontsize=FONT["title"])
    _save(figure, path)


# ------------------------------------------------------------------------------------ OQ3: inexact Jacobians
def _named_context_means(table: pd.DataFrame, sweep: str) -> pd.DataFrame:
    means = seed_means(table)
    return means[means["sweep"] == sweep]


def away_seed_means(table: pd.DataFrame, method: str | None = None, sweeps: bool = False,
                    radius: float = 0.1) -> np.ndarray:
    """One number per seed: its mean return over the contexts away from c0.  ``sweeps=False``: the authors' test
    contexts #1 onwards (#0 is c0); ``sweeps=True``: every point of the one-axis sweeps farther than ``radius``
    from c0 (the training ball of the authors' eps)."""
    means = seed_means(table)
    if method is not None:
        means = means[means["method"] == method]
    if not sweeps:
        means = means[(means["sweep"] == "authors") & (means["sweep_value"] > 0)]
    else:
        means = means[means["sweep"].str.startswith("context_")]
        columns = sorted((c for c in means.columns if c.startswith("context_")), key=lambda c: int(c.split("_")[1]))
        from cebe_deep.config import make_task_env

        env = make_task_env(str(table["task"].iloc[0]))
        c0 = np.asarray(env.unwrapped.default_context, dtype=np.float64)
        env.close()
        distance = np.linalg.norm(means[columns].to_numpy(np.float64) - c0[: len(columns)], axis=1)
        means = means[distance > radius + 1e-9]
    return means.groupby("seed")["episode_return"].mean().to_numpy()


def reference_table(root: Path) -> pd.DataFrame | None:
    """results/authors/PendulumGoal/evaluation.csv beside ``root`` (results/open): SAC and LDR under the authors'
    protocol, the reference of the Jacobian and eps cells; None where it is not there."""
    return read_evaluation(Path(root).parent / "authors" / REFERENCE_TASK)


def _difference_row(label: str, candidate: np.ndarray, others: dict[str, np.ndarray | None]) -> dict:
    row = dict(cell=label, seeds=len(candidate))
    for name, other in others.items():
        if other is None or len(other) == 0 or len(candidate) == 0:
            row[name] = (math.nan, math.nan, math.nan)
        else:
            row[name] = welch_interval(candidate, other, LEVEL)
    return row


def _print_differences(rows: list[dict], names: list[str]) -> None:
    print("| cell | seeds | " + " | ".join(names) + " |\n|---|---|" + "---|" * len(names))
    for row in rows:
        cells = [_cell(*row[name], signed=True) + (f" ({_sign(row[name][1], row[name][2])})"
                                                   if not math.isnan(row[name][0]) else "") for name in names]
        print(f"| {row['cell']} | {row['seeds']} | {' | '.join(cells)} |")


def read_run_logs(folder: Path, name: str) -> tuple[pd.DataFrame, str]:
    """The ``name`` (``fd_cost`` or ``importance``) logs of a cell's runs: from ``folder/run_logs.csv`` if present,
    else from the run directories named in ``folder/evaluation.csv`` (with a note saying so); an empty frame and
    the reason where neither has them."""
    committed = Path(folder) / "run_logs.csv"
    if committed.exists():
        logs = pd.read_csv(committed)
        logs = logs[logs["log"] == name]
        return logs, "" if len(logs) else f"no {name}.json in {committed}"
    table = read_evaluation(folder)
    if table is None or "run" not in table.columns:
        return pd.DataFrame(), NOT_RUN
    rows = [_log_row(Path(run), name) for run in _runs(table)]
    rows = [row for row in rows if row is not None]
    if not rows:
        return pd.DataFrame(), (f"no {name}.json in results ({committed} missing) nor in the run directories; "
                                f"the runs are needed: they live under runs/, not committed")
    return pd.DataFrame(rows), (f"read from the run directories under runs/ ({committed} missing; "
                                f"`python results/tables.py open collect-logs` copies them into results)")


def _runs(table: pd.DataFrame) -> list[str]:
    """The run directories named in an evaluation table's ``run`` column (empty where it has none)."""
    return sorted(str(run) for run in table["run"].dropna().unique() if str(run))


def _log_row(run: Path, name: str) -> dict | None:
    path = run / f"{name}.json"
    if not path.exists():
        return None
    values = {key: value for key, value in json.loads(path.read_text()).items() if np.isscalar(value)}
    seed = run.name.removeprefix("seed")
    return dict(log=name, run=str(run), method=run.parent.name, seed=int(seed) if seed.isdigit() else -1, **values)


def collect_run_logs(root: Path = ROOT) -> list[Path]:
    """Copy every run's ``fd_cost.json`` / ``importance.json`` (run directories named in each cell's
    evaluation.csv) into the cell's ``run_logs.csv``; returns the files written."""
    written = []
    for evaluation in sorted(Path(root).glob("*/*/evaluation.csv")) + sorted(Path(root).glob("*/evaluation.csv")):
        table = pd.read_csv(evaluation, usecols=lambda column: column == "run")
        if "run" not in table.columns:
            continue
        rows = [row for run in _runs(table) for name in ("fd_cost", "importance")
                if (row := _log_row(Path(run), name)) is not None]
        if rows:
            path = evaluation.parent / "run_logs.csv"
            pd.DataFrame(rows).to_csv(path, index=False)
            written.append(path)
    return written


def jacobian_tables(root: Path = ROOT) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict]:
    """``(per context, pooled, missing cells, fd cost)``: CSE's return at each authors' test context (mean and
    interval over seeds) per cell, the same pooled over the authors' contexts (a seed's mean over them), the cells
    not run, and per finite-difference cell its mean cost per env step (or the reason it is absent)."""
    per_context, pooled, missing, cost = [], [], [], {}
    for name, (kind, value) in JACOBIAN_CELLS.items():
        folder = root / "jacobians" / name
        table = read_evaluation(folder)
        if table is None:
            missing.append(name)
            continue
        means = _named_context_means(table, "authors")
        for context, group in means.groupby("sweep_value"):
            per_context.append(dict(cell=name, kind=kind, value=value, context=int(context),
                                    **_interval(group["episode_return"].to_numpy())))
        per_seed = means.groupby("seed")["episode_return"].mean()
        pooled.append(dict(cell=name, kind=kind, value=value, **_interval(per_seed.to_numpy())))
        if kind == "fd step h":
            logs, note = read_run_logs(folder, "fd_cost")
            cost[name] = (logs, note)
    return pd.DataFrame(per_context), pd.DataFrame(pooled), missing, cost


def jacobian_differences(root: Path = ROOT) -> tuple[list[dict], list[str]]:
    """Per cell, Welch differences of the seeds' mean return over the authors' contexts away from c0: the cell
    minus CSE with exact Jacobians (noise-0), minus SAC and minus LDR (results/authors/PendulumGoal); the
    comparisons' names."""
    names = ["- exact CSE", "- SAC", "- LDR"]
    exact_table = read_evaluation(root / "jacobians" / "noise-0")
    exact = away_seed_means(exact_table, "cse") if exact_table is not None else None
    reference = reference_table(root)
    baseline = away_seed_means(reference, "baseline") if reference is not None else None
    ldr = away_seed_means(reference, "ldr") if reference is not None else None
    rows = []
    for name in JACOBIAN_CELLS:
        table = read_evaluation(root / "jacobians" / name)
        if table is None:
            continue
        candidate = away_seed_means(table, "cse")
        rows.append(_difference_row(name, candidate, {"- exact CSE": None if name == "noise-0" else exact,
                                                      "- SAC": baseline, "- LDR": ldr}))
    return rows, names


def print_jacobians(root: Path = ROOT) -> None:
    per_context, pooled, missing, cost = jacobian_tables(root)
    print("### OQ3: CSE with inexact Jacobians (PendulumGoal, authors' test contexts)\n")
    print(f"Return: mean [{LEVEL:.0%} t-interval over seeds]; #0 is c0; 'pooled' is a seed's mean over the "
          "authors' contexts. Baseline and LDR for reference: results/authors/PendulumGoal.\n")
    if per_context.empty:
        print(f"results/open/jacobians: {NOT_RUN}")
        return
    contexts = sorted(per_context["context"].unique())
    print("| Jacobians | seeds | " + " | ".join(f"#{k}" for k in contexts) + " | pooled |")
    print("|---|---|" + "---|" * (len(contexts) + 1))
    for name, (kind, value) in JACOBIAN_CELLS.items():
        label = {"sigma": f"noise sigma = {value:g}", "bias": f"bias x {value:g}", "fd step h": f"finite differences h = {value:g}"}[kind]
        if name in missing:
            print(f"| {label} | {NOT_RUN} |" + " |" * (len(contexts) + 1))
            continue
        rows = per_context[per_context["cell"] == name].set_index("context")
        whole = pooled[pooled["cell"] == name].iloc[0]
        cells = [_cell(*rows.loc[k, ["mean", "ci_low", "ci_high"]]) if k in rows.index else "-" for k in contexts]
        print(f"| {label} | {int(whole.seeds)} | {' | '.join(cells)} | {_cell(whole['mean'], whole.ci_low, whole.ci_high)} |")
    rows, names = jacobian_differences(root)
    print(f"\nDifferences of a seed's mean return over the authors' contexts away from c0 (#1 onwards), Welch "
          f"{LEVEL:.0%} intervals; SAC and LDR: results/authors/{REFERENCE_TASK} (the authors' protocol, all its seeds)"
          + ("" if reference_table(root) is not None else f" (not found: {Path(root).parent / 'authors' / REFERENCE_TASK})")
          + ".\n")
    _print_differences(rows, names)
    if cost:
        print("\nFinite-difference cost (fd_cost.json, mean over runs):\n")
        for name, (logs, note) in cost.items():
            if logs.empty:
                print(f"- {name}: {note}")
                continue
            per_step = logs["seconds_per_step"].mean() * 1e6
            print(f"- {name}: {logs['evaluations_per_step'].mean():.2f} simulator steps and {per_step:.1f} us per env "
                  f"step over {len(logs)} runs" + (f" ({note})" if note else ""))


def plot_jacobians(path, root: Path = ROOT) -> None:
    """Return against sigma (one line per authors' context, and pooled), with the bias and finite-difference cells
    as labelled points in a second panel."""
    per_context, pooled, _, _ = jacobian_tables(root)
    if per_context.empty:
        return _figure_not_written(path)
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 5.4), sharey=True, layout="constrained",
                                         gridspec_kw=dict(width_ratios=(3, 2)))
    colors = plt.get_cmap("tab10")
    contexts = sorted(per_context["context"].unique())
    others = [name for name, (kind, _) in JACOBIAN_CELLS.items() if kind != "sigma"]
    for index, context in enumerate(contexts):
        rows = per_context[(per_context["context"] == context)]
        noise = rows[rows["kind"] == "sigma"].sort_values("value")
        left.errorbar(noise["value"], noise["mean"], yerr=[noise["mean"] - noise["ci_low"], noise["ci_high"] - noise["mean"]],
                      marker="o", capsize=4, linewidth=2, color=colors(index), label=f"context #{context}" + (" (c0)" if context == 0 else ""))
        rest = rows.set_index("cell").reindex(others)
        right.errorbar(np.arange(len(others)) + 0.08 * (index - len(contexts) / 2), rest["mean"],
                       yerr=[rest["mean"] - rest["ci_low"], rest["ci_high"] - rest["mean"]], fmt="o", capsize=4,
                       color=colors(index))
    left.set_xscale("symlog", linthresh=0.1)
    left.set_xticks([0, 0.1, 0.3, 1.0], ["0", "0.1", "0.3", "1"])
    left.set_xlabel(r"Jacobian noise $\sigma$ (relative, dimensionless)", fontsize=FONT["label"])
    left.set_ylabel("mean episode return", fontsize=FONT["label"])
    left.legend(fontsize=FONT["legend"], frameon=False)
    right.set_xticks(range(len(others)), [name.replace("bias-", "bias x").replace("fd-", "FD h=") for name in others])
    right.set_xlabel("biased or finite-difference Jacobians", fontsize=FONT["label"])
    for axis in (left, right):
        axis.tick_params(labelsize=FONT["ticks"])
        axis.grid(alpha=0.3)
    figure.suptitle(f"PendulumGoal, CSE with inexact Jacobians: return at the authors' contexts, mean and {LEVEL:.0%} CI",
                    fontsize=FONT["title"])
    _save(figure, path)


# ------------------------------------------------------------------------------ OQ1: stochastic transitions
def stochastic_tables(root: Path = ROOT) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict]:
    """``(per context, CSE variants' differences, missing cells, ESS)``: per noise level, the four methods' returns
    at the listed contexts, importance-weighted minus first-order CSE (Welch), and the importance runs' logs."""
    returns, differences, missing, ess = [], [], [], {}
    for noise in NOISE_LEVELS:
        seeds = {}
        for suffix in ("", "-importance"):
            folder = root / "stochastic" / f"noise-{noise}{suffix}"
            table = read_evaluation(folder)
            if table is None:
                missing.append(folder.name)
                continue
            means = _named_context_means(table, "listed")
            if suffix:
                means = means.assign(method="cse-importance")
                ess[noise] = read_run_logs(folder, "importance")
            for (method, context), group in means.groupby(["method", "sweep_value"]):
                values = group["episode_return"].to_numpy()
                seeds[method, int(context)] = values
                returns.append(dict(noise=noise, method=method, context=int(context), **_interval(values)))
        for context in sorted({context for _, context in seeds}):
            for candidate, other in (("cse-importance", "cse"), ("cse", "baseline"), ("cse", "ldr")):
                if (candidate, context) in seeds and (other, context) in seeds:
                    mean, low, high = welch_interval(seeds[candidate, context], seeds[other, context], LEVEL)
                    differences.append(dict(noise=noise, context=context, comparison=f"{candidate} - {other}",
                                            mean=mean, ci_low=low, ci_high=high))
    return pd.DataFrame(returns), pd.DataFrame(differences), missing, ess


def print_stochastic(root: Path = ROOT) -> None:
    returns, differences, missing, ess = stochastic_tables(root)
    print("### OQ1: stochastic transitions (NoisyPendulumGoal)\n")
    print(f"Return at PendulumGoal's authors' contexts (#0 = c0), mean [{LEVEL:.0%} t-interval over seeds].\n")
    if returns.empty:
        print(f"results/open/stochastic: {NOT_RUN}")
        return
    for noise in NOISE_LEVELS:
        part = returns[returns["noise"] == noise]
        print(f"\n**sigma_n = {noise}**\n")
        if part.empty:
            print(NOT_RUN)
            continue
        contexts = sorted(part["context"].unique())
        print("| method | seeds | " + " | ".join(f"#{k}" for k in contexts) + " |\n|---|---|" + "---|" * len(contexts))
        for method, label in STOCHASTIC_METHODS.items():
            rows = part[part["method"] == method].set_index("context")
            if rows.empty:
                print(f"| {label} | {NOT_RUN} |" + " |" * len(contexts))
                continue
            cells = [_cell(*rows.loc[k, ["mean", "ci_low", "ci_high"]]) if k in rows.index else "-" for k in contexts]
            print(f"| {label} | {int(rows['seeds'].max())} | {' | '.join(cells)} |")
        diff = differences[differences["noise"] == noise] if not differences.empty else differences
        for comparison, group in (diff.groupby("comparison", sort=False) if not diff.empty else []):
            group = group.set_index("context")
            cells = [_cell(*group.loc[k, ["mean", "ci_low", "ci_high"]], signed=True) + f" ({_sign(group.loc[k, 'ci_low'], group.loc[k, 'ci_high'])})"
                     if k in group.index else "-" for k in contexts]
            print(f"| {comparison} (Welch) | | {' | '.join(cells)} |")
        if noise in ess:
            logs, note = ess[noise]
            if logs.empty:
                print(f"\nImportance weights: {note}")
            else:
                fraction = _interval(logs["mean_effective_sample_size_fraction"].to_numpy())
                clipped = _interval(logs["mean_clipped_fraction"].to_numpy())
                print(f"\nImportance weights (max weight {logs['max_weight'].iloc[0]:g}, {len(logs)} runs): ESS fraction "
                      f"{_cell(fraction['mean'], fraction['ci_low'], fraction['ci_high'], digits=3)}, clipped fraction "
                      f"{_cell(clipped['mean'], clipped['ci_low'], clipped['ci_high'], digits=4)}" + (f" ({note})" if note else ""))
    if missing:
        print(f"\nstochastic/{{{', '.join(missing)}}}: {NOT_RUN}")


def plot_stochastic(path, root: Path = ROOT) -> None:
    """The four methods' returns at each listed context, one panel per noise level (mean and interval)."""
    returns = stochastic_tables(root)[0]
    if returns.empty:
        return _figure_not_written(path)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(NOISE_LEVELS), figsize=(14, 5.6), sharey=True, layout="constrained")
    for axis, noise in zip(axes, NOISE_LEVELS):
        part = returns[returns["noise"] == noise]
        for offset, (method, label) in enumerate(STOCHASTIC_METHODS.items()):
            rows = part[part["method"] == method].sort_values("context")
            if rows.empty:
                continue
            axis.errorbar(rows["context"] + 0.12 * (offset - 1.5), rows["mean"], fmt="o", capsize=4,
                          yerr=[rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]],
                          color=METHOD_COLORS[method], label=label)
        contexts = sorted(part["context"].unique())
        axis.set_xticks(contexts, [f"#{k}" + (" (c0)" if k == 0 else "") for k in contexts])
        axis.set_title(rf"noise $\sigma_n$ = {noise} rad/s" + ("" if len(part) else f": {NOT_RUN}"), fontsize=FONT["title"])
        axis.set_xlabel("authors' test context of PendulumGoal", fontsize=FONT["label"])
        axis.tick_params(labelsize=FONT["ticks"])
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("mean episode return", fontsize=FONT["label"])
    handles, labels = axes[0].get_legend_handles_labels() if len(returns[returns["noise"] == NOISE_LEVELS[0]]) else axes[1].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False, fontsize=FONT["legend"])
    figure.suptitle(f"NoisyPendulumGoal: return, mean and {LEVEL:.0%} CI over seeds", fontsize=FONT["title"])
    _save(figure, path)


# ------------------------------------------------------------------------------------ far extrapolation
def extrapolation_tables(root: Path = ROOT) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``(per goal velocity, reward error)``: the three methods' returns and CSE - baseline (Welch) per listed goal
    velocity (empty where not run), and results/open/extrapolation/reward_error.csv (None where absent)."""
    table = read_evaluation(root / "extrapolation")
    error_path = root / "extrapolation" / "reward_error.csv"
    errors = pd.read_csv(error_path) if error_path.exists() else None
    if table is None:
        return pd.DataFrame(), errors
    means = seed_means(table)
    means = means[means["sweep"] == "listed"]
    rows = []
    for velocity, group in means.groupby("context_0"):
        values = {method: part["episode_return"].to_numpy() for method, part in group.groupby("method")}
        row = dict(goal_velocity=velocity, dc=velocity - EXTRAPOLATION_C0)
        for method, seeds in values.items():
            row.update({f"{method}_{key}": value for key, value in _interval(seeds).items()})
        for other in ("baseline", "ldr"):
            if "cse" in values and other in values:
                mean, low, high = welch_interval(values["cse"], values[other], LEVEL)
                row.update({f"cse_minus_{other}": mean, f"cse_minus_{other}_low": low, f"cse_minus_{other}_high": high})
        rows.append(row)
    return pd.DataFrame(rows).sort_values("goal_velocity", ignore_index=True), errors


def sign_changes(per_velocity: pd.DataFrame, column: str = "cse_minus_baseline") -> list[str]:
    """Where ``column`` changes sign between neighbouring goal velocities: of the mean, and of the interval
    (above 0 / contains 0 / below 0)."""
    changes = []
    rows = per_velocity.dropna(subset=[column]).to_dict("records")
    for before, after in zip(rows, rows[1:]):
        if np.sign(before[column]) != np.sign(after[column]):
            changes.append(f"mean changes sign between v_goal = {before['goal_velocity']:g} and {after['goal_velocity']:g}")
        was, now = (_sign(r[f"{column}_low"], r[f"{column}_high"]) for r in (before, after))
        if was != now:
            changes.append(f"interval goes from '{was}' to '{now}' between v_goal = {before['goal_velocity']:g} "
                           f"and {after['goal_velocity']:g}")
    return changes


def print_extrapolation(root: Path = ROOT) -> None:
    per_velocity, errors = extrapolation_tables(root)
    print(f"### Far extrapolation (CheetahVelocity, c0 = {EXTRAPOLATION_C0:g})\n")
    if per_velocity.empty:
        print(f"results/open/extrapolation/evaluation.csv: {NOT_RUN}")
    else:
        print(f"Return per goal velocity, mean [{LEVEL:.0%} t-interval over seeds]; differences: Welch {LEVEL:.0%} interval.\n")
        print("| v_goal (m/s) | dc | baseline | CSE | LDR | CSE - baseline | CSE - LDR |\n|---|---|---|---|---|---|---|")
        for row in per_velocity.to_dict("records"):
            cells = [_cell(row.get(f"{m}_mean", float("nan")), row.get(f"{m}_ci_low", float("nan")),
                           row.get(f"{m}_ci_high", float("nan"))) for m in ("baseline", "cse", "ldr")]
            diffs = [_cell(row.get(c, float("nan")), row.get(f"{c}_low", float("nan")), row.get(f"{c}_high", float("nan")), signed=True)
                     + (f" ({_sign(row[c + '_low'], row[c + '_high'])})" if c in row else "")
                     for c in ("cse_minus_baseline", "cse_minus_ldr")]
            print(f"| {row['goal_velocity']:g} | {row['dc']:+g} | {' | '.join(cells)} | {' | '.join(diffs)} |")
        changes = sign_changes(per_velocity) if "cse_minus_baseline" in per_velocity else []
        print("\nCSE - baseline: " + ("; ".join(changes) if changes else "no sign change over the goal velocities run"))
    print("\n**First-order reward error** (results/open/extrapolation/reward_error.csv, results/open/reward_error.py)\n")
    if errors is None:
        print(f"reward_error.csv: {NOT_RUN}")
        return
    for source, group in errors.groupby("source"):
        velocity = (f", mean velocity {group['mean_velocity'].iloc[0]:.2f} m/s" if "mean_velocity" in group else "")
        print(f"\ntransitions: {source} ({int(group['transitions'].iloc[0])} per goal velocity{velocity})\n")
        print("| v_goal (m/s) | dc | mean abs error per step | max abs error per step | mean abs reward change per step "
              "| episode sum of the error | episode sum of abs error |\n|---|---|---|---|---|---|---|")
        for row in group.sort_values("goal_velocity").itertuples():
            print(f"| {row.goal_velocity:g} | {row.dc:+g} | {row.mean_abs_error:.4f} | {row.max_abs_error:.4f} "
                  f"| {row.mean_abs_reward_change:.4f} | {row.episode_sum_error:+.1f} | {row.episode_sum_abs_error:.1f} |")


def plot_extrapolation(path, root: Path = ROOT) -> None:
    """CSE - baseline against the goal velocity with its interval band; the measured first-order reward error
    (episode sum of |error|) on a second axis where reward_error.csv exists."""
    per_velocity, errors = extrapolation_tables(root)
    if per_velocity.empty and errors is None:
        return _figure_not_written(path)
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(11, 5.6), layout="constrained")
    handles = []
    if not per_velocity.empty and "cse_minus_baseline" in per_velocity:
        rows = per_velocity.dropna(subset=["cse_minus_baseline"])
        handles += axis.plot(rows["goal_velocity"], rows["cse_minus_baseline"], marker="s", linewidth=2,
                             color=METHOD_COLORS["cse"], label="CSE - baseline (mean)")
        band = axis.fill_between(rows["goal_velocity"], rows["cse_minus_baseline_low"], rows["cse_minus_baseline_high"],
                                 color=METHOD_COLORS["cse"], alpha=0.2, label=f"{LEVEL:.0%} Welch interval")
        handles.append(band)
    axis.axhline(0, color="black", linewidth=1)
    handles.append(axis.axvline(EXTRAPOLATION_C0, color="black", linestyle="--", linewidth=1.2,
                                label=f"training context $c_0$ = {EXTRAPOLATION_C0:g} m/s"))
    axis.set_xlabel("goal velocity $v_{goal}$ (m/s)", fontsize=FONT["label"])
    axis.set_ylabel("CSE - baseline (episode return)", fontsize=FONT["label"])
    axis.tick_params(labelsize=FONT["ticks"])
    axis.grid(alpha=0.3)
    if errors is not None:
        second = axis.twinx()
        for (source, group), style in zip(errors.groupby("source"), ("-", ":", "-.")):
            group = group.sort_values("goal_velocity")
            handles += second.plot(group["goal_velocity"], group["episode_sum_abs_error"], color="tab:red", linestyle=style,
                                   marker="^", linewidth=2, label=f"first-order reward error, {source}")
        second.set_ylabel("sum over an episode of |first-order r - r(c+dc)|", fontsize=FONT["label"], color="tab:red")
        second.tick_params(labelsize=FONT["ticks"], colors="tab:red")
    figure.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, fontsize=FONT["legend"])
    figure.suptitle("CheetahVelocity far from $c_0$: CSE's advantage against the first-order model's error",
                    fontsize=FONT["title"])
    _save(figure, path)


# ------------------------------------------------------------------------------ eps and perturbation shape
def eps_tables(root: Path = ROOT) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """``(per context, pooled, missing)``: CSE's return at each authors' test context per (eps, shape), and pooled
    over the authors' contexts away from c0 (#1 onwards; a seed's mean over them)."""
    per_context, pooled, missing = [], [], []
    for eps in EPS_VALUES:
        for shape in SHAPES:
            table = read_evaluation(root / "eps" / f"{eps}-{shape}")
            if table is None:
                missing.append(f"{eps}-{shape}")
                continue
            means = _named_context_means(table, "authors")
            for context, group in means.groupby("sweep_value"):
                per_context.append(dict(eps=float(eps), shape=shape, context=int(context),
                                        **_interval(group["episode_return"].to_numpy())))
            away = means[means["sweep_value"] > 0].groupby("seed")["episode_return"].mean()
            pooled.append(dict(eps=float(eps), shape=shape, **_interval(away.to_numpy())))
    return pd.DataFrame(per_context), pd.DataFrame(pooled), missing


def eps_differences(root: Path = ROOT) -> tuple[list[dict], list[str]]:
    """Per (eps, shape) cell, Welch differences of a seed's mean return away from c0, at the authors' test
    contexts and over the one-axis sweeps outside the 0.1 ball: minus CSE at the authors' setting (0.1, sphere)
    and minus LDR (results/authors/PendulumGoal)."""
    names = ["authors' contexts: - CSE 0.1 sphere", "- LDR", "sweeps: - CSE 0.1 sphere", "sweeps: - LDR"]
    reference = reference_table(root)
    authors_table = read_evaluation(root / "eps" / "0.1-sphere")
    base = {sweeps: away_seed_means(authors_table, "cse", sweeps) if authors_table is not None else None
            for sweeps in (False, True)}
    ldr = {sweeps: away_seed_means(reference, "ldr", sweeps) if reference is not None else None for sweeps in (False, True)}
    rows = []
    for eps in EPS_VALUES:
        for shape in SHAPES:
            name = f"{eps}-{shape}"
            table = read_evaluation(root / "eps" / name)
            if table is None:
                continue
            authors, sweeps = away_seed_means(table, "cse"), away_seed_means(table, "cse", True)
            row = _difference_row(name, authors, {names[0]: None if name == "0.1-sphere" else base[False],
                                                  names[1]: ldr[False]})
            row.update({key: value for key, value in _difference_row(
                name, sweeps, {names[2]: None if name == "0.1-sphere" else base[True], names[3]: ldr[True]}).items()
                        if key in names[2:]})
            rows.append(row)
    return rows, names


def print_eps(root: Path = ROOT) -> None:
    per_context, pooled, missing = eps_tables(root)
    print("### eps and the perturbation shape (PendulumGoal, CSE)\n")
    if per_context.empty:
        print(f"results/open/eps: {NOT_RUN}")
        return
    print(f"Return at the authors' test contexts (#0 = c0), mean [{LEVEL:.0%} t-interval over seeds]; 'away' pools "
          "#1 onwards (a seed's mean over them). LDR for reference: results/authors/PendulumGoal.\n")
    contexts = sorted(per_context["context"].unique())
    print("| eps | shape | seeds | " + " | ".join(f"#{k}" for k in contexts) + " | away |\n|---|---|---|" + "---|" * (len(contexts) + 1))
    for eps in EPS_VALUES:
        for shape in SHAPES:
            rows = per_context[(per_context["eps"] == float(eps)) & (per_context["shape"] == shape)].set_index("context")
            if rows.empty:
                print(f"| {eps} | {shape} | {NOT_RUN} |" + " |" * (len(contexts) + 1))
                continue
            whole = pooled[(pooled["eps"] == float(eps)) & (pooled["shape"] == shape)].iloc[0]
            cells = [_cell(*rows.loc[k, ["mean", "ci_low", "ci_high"]]) if k in rows.index else "-" for k in contexts]
            print(f"| {eps} | {shape} | {int(rows['seeds'].max())} | {' | '.join(cells)} "
                  f"| {_cell(whole['mean'], whole.ci_low, whole.ci_high)} |")
    rows, names = eps_differences(root)
    print(f"\nDifferences of a seed's mean return away from c0, Welch {LEVEL:.0%} intervals: at the authors' "
          "contexts #1 onwards, and over the one-axis sweeps' points outside the 0.1 ball around c0; LDR: "
          f"results/authors/{REFERENCE_TASK} (all its seeds)"
          + ("" if reference_table(root) is not None else f" (not found: {Path(root).parent / 'authors' / REFERENCE_TASK})")
          + ".\n")
    _print_differences(rows, names)


def plot_eps(path, root: Path = ROOT) -> None:
    """Return pooled over the authors' contexts away from c0 against eps, one line per perturbation shape."""
    _, pooled, _ = eps_tables(root)
    if pooled.empty:
        return _figure_not_written(path)
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 5.6), layout="constrained")
    for shape, color, marker in zip(SHAPES, ("tab:blue", "tab:green"), ("s", "D")):
        rows = pooled[pooled["shape"] == shape].sort_values("eps")
        axis.errorbar(rows["eps"], rows["mean"], yerr=[rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]],
                      marker=marker, color=color, capsize=4, linewidth=2, label=f"dc on the {shape}")
    axis.set_xscale("log")
    axis.set_xticks([float(e) for e in EPS_VALUES], EPS_VALUES)
    axis.set_xlabel(r"CSE radius $\epsilon$ (context units)", fontsize=FONT["label"])
    axis.set_ylabel("mean episode return, authors' contexts\naway from $c_0$", fontsize=FONT["label"])
    axis.tick_params(labelsize=FONT["ticks"])
    axis.grid(alpha=0.3)
    axis.legend(fontsize=FONT["legend"], frameon=False)
    figure.suptitle(f"PendulumGoal, CSE: eps and the perturbation shape, mean and {LEVEL:.0%} CI", fontsize=FONT["title"])
    _save(figure, path)


EXPERIMENTS = {
    "dimension": (print_dimension, plot_dimension),
    "jacobians": (print_jacobians, plot_jacobians),
    "stochastic": (print_stochastic, plot_stochastic),
    "extrapolation": (print_extrapolation, plot_extrapolation),
    "eps": (print_eps, plot_eps),
}
"""Per experiment: its markdown printer and its figure."""
