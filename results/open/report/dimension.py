"""OQ2, the context dimension: SimpleDirection in d = 2 .. 32, fractions of the closed-form optimum, the budget to reach 90%."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from cebe_deep.evaluation import with_fraction_of_optimum
from cebe_deep.statistics import welch_interval

from .common import (BUDGETS, BUDGET_DIMENSIONS, BUDGET_RADIUS, DIMENSIONS, FONT, LEVEL, METHOD_COLORS, METHOD_LABELS,
                     NOT_RUN, RADII, ROOT, TARGET_FRACTION, read_evaluation, seed_means, _interval, _interval_cells,
                     _interval_errorbar, _new_figure, _not_run_row, _save)


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
                    print(_not_run_row(dimension, 5))
                    continue
                differences = ("cse - ldr", "cse - baseline")
                cells = _interval_cells(rows, ("baseline", "cse", "ldr") + differences, digits=3, sign=differences)
                seeds = "/".join(str(int(rows.loc[m, "seeds"])) for m in ("baseline", "cse", "ldr") if m in rows.index)
                print(f"| {dimension} | {seeds} | {' | '.join(cells)} |")
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
                print(_not_run_row(steps, 3))
                continue
            cells = _interval_cells(rows, ("baseline", "cse", "ldr", "cse - ldr"), digits=3, signed=("cse - ldr",))
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
    if (made := _new_figure(by_dimension.empty, path, 1, len(RADII), figsize=(15, 5.2), sharey=True)) is None:
        return
    figure, axes = made
    for axis, radius in zip(axes, RADII):
        part = by_dimension[np.isclose(by_dimension["radius"], radius)]
        for method in ("baseline", "cse", "ldr"):
            rows = part[part["method"] == method].sort_values("dimension")
            if rows.empty:
                continue
            _interval_errorbar(axis, rows["dimension"], rows,
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
