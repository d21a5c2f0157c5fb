"""OQ2, the context dimension: SimpleDirection in d = 2 .. 32, fractions of the closed-form optimum, the budget to reach
90%."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cebe_deep.report.statistics import contrast_interval, welch_interval
from cebe_deep.run.evaluation import with_fraction_of_optimum

from .common import (
    BUDGET_DIMENSIONS,
    BUDGET_RADIUS,
    BUDGETS,
    DIMENSIONS,
    FONT,
    LEVEL,
    METHOD_COLORS,
    METHOD_LABELS,
    NOT_RUN,
    RADII,
    ROOT,
    SCALED_EPS,
    SCALED_LDR_EPS,
    TARGET_FRACTION,
    cell_text,
    interval_cells,
    interval_errorbar,
    interval_text,
    new_figure,
    not_run_row,
    read_evaluation,
    save,
    seed_means,
    sign_text,
)


def fraction_by_radius(table: pd.DataFrame) -> pd.DataFrame:
    """Per (method, seed, radius): the mean over the radius's directions of the per-seed fraction of the optimum
    (:func:`cebe_deep.run.evaluation.with_fraction_of_optimum`: episode return / ``55 (|c|_1 + |c|_2^2)``)."""
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
            rows.append(dict(radius=radius, method=method, **interval_text(seeds)))
        for other in ("ldr", "baseline"):
            if "cse" in values and other in values:
                mean, low, high = welch_interval(values["cse"], values[other], LEVEL)
                rows.append(dict(radius=radius, method=f"cse - {other}", mean=mean, ci_low=low, ci_high=high,
                                 seeds=min(len(values["cse"]), len(values[other]))))
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class DimensionCells:
    """Every committed cell of OQ2, read once: per-seed fractions of the optimum by radius
    (:func:`fraction_by_radius`) for each dimension cell, each budget stage ``(d, steps)`` and each scaled-eps
    follow-up cell ``(d, eps)`` (CSE at eps = 0.1 sqrt(d / 2); LDR at eps = 0.1 / sqrt(d / 2)); and the folders not
    committed yet."""

    by_dimension: dict
    by_budget: dict
    by_scaled_eps: dict
    by_scaled_ldr: dict
    missing_dimensions: list
    missing_budgets: list
    missing_scaled_eps: list
    missing_scaled_ldr: list


def dimension_cells(root: Path = ROOT) -> DimensionCells:
    """Read each OQ2 cell's evaluation table once (the tables, the trend, the follow-up and the figure share it)."""
    def read(parent: str, names: dict) -> tuple[dict, list]:
        """``{key: folder name under root/parent}`` -> ``({key: per-seed fractions}, [names not committed])``."""
        found, missing = {}, []
        for key, name in names.items():
            table = read_evaluation(root / parent / name)
            if table is None:
                missing.append(name)
            else:
                found[key] = fraction_by_radius(table)
        return found, missing

    by_dimension, missing = read("dimension", {d: f"d{d}" for d in DIMENSIONS})
    by_budget, missing_budgets = read("dimension-budget", {(d, steps): f"d{d}-{steps}"
                                                           for d in BUDGET_DIMENSIONS for steps in BUDGETS})
    by_eps, missing_eps = read("dimension-eps", {(d, eps): f"d{d}-eps{eps:g}" for d, eps in SCALED_EPS.items()})
    by_ldr, missing_ldr = read("dimension-eps", {(d, eps): f"d{d}-ldr-eps{eps:g}" for d, eps in SCALED_LDR_EPS.items()})
    return DimensionCells(by_dimension, by_budget, by_eps, by_ldr, [int(name[1:]) for name in missing],
                          missing_budgets, missing_eps, missing_ldr)


def dimension_tables(root: Path = ROOT, cells: DimensionCells | None = None
                     ) -> tuple[pd.DataFrame, list[int], pd.DataFrame, list[str]]:
    """``(by_dimension, missing dimensions, by_budget, missing budget folders)``: the intervals of
    :func:`fraction_intervals` with a ``dimension`` column, and at r = 0.5 for each (dimension, steps)."""
    cells = dimension_cells(root) if cells is None else cells
    frames = [fraction_intervals(per_seed).assign(dimension=dimension) for dimension, per_seed in cells.by_dimension.items()]
    budgets = []
    for (dimension, steps), per_seed in cells.by_budget.items():
        intervals = fraction_intervals(per_seed)
        intervals = intervals[np.isclose(intervals["radius"], BUDGET_RADIUS)]
        budgets.append(intervals.assign(dimension=dimension, steps=steps))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), cells.missing_dimensions,
            pd.concat(budgets, ignore_index=True) if budgets else pd.DataFrame(), cells.missing_budgets)


def _fractions(per_seed: pd.DataFrame, radius: float, method: str) -> np.ndarray:
    """The per-seed fractions of the optimum of ``method`` at ``radius`` (rows of :func:`fraction_by_radius`)."""
    return per_seed.loc[np.isclose(per_seed["radius"], radius) & (per_seed["method"] == method),
                        "fraction_of_optimum"].to_numpy()


def dimension_trend(cells: DimensionCells, first: str = "cse", second: str = "ldr") -> pd.DataFrame:
    """Per radius: the least-squares slope of ``first - second`` (fractions of the optimum) against log2 d over
    the dimension cells, per doubling of d, with its t-interval (a contrast of the 2 x (number of d) cell means,
    :func:`cebe_deep.report.statistics.contrast_interval`); ``dimensions`` says which d entered.  Empty with fewer than
    three dimensions."""
    dimensions = sorted(cells.by_dimension)
    if len(dimensions) < 3:
        return pd.DataFrame()
    x = np.log2(dimensions)
    weights = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    rows = []
    for radius in RADII:
        samples = [_fractions(cells.by_dimension[d], radius, method) for method in (first, second) for d in dimensions]
        slope, low, high = contrast_interval(samples, [*weights, *-weights], LEVEL)
        rows.append(dict(radius=radius, slope=slope, ci_low=low, ci_high=high,
                         dimensions=",".join(map(str, dimensions))))
    return pd.DataFrame(rows)


def scaled_eps_tables(cells: DimensionCells, method: str = "cse") -> pd.DataFrame:
    """Per follow-up cell (d, eps) of ``method`` and radius: ``method`` at that eps (``compared = method``), and its
    Welch differences from CSE and from LDR at the authors' eps 0.1 (the dimension cell of that d, where committed;
    ``compared = "- CSE eps 0.1"``, ``"- LDR eps 0.1"``).  ``method = "cse"``: the cells of eps = 0.1 sqrt(d / 2);
    ``"ldr"``: those of eps = 0.1 / sqrt(d / 2)."""
    rows = []
    for (dimension, eps), per_seed in (cells.by_scaled_eps if method == "cse" else cells.by_scaled_ldr).items():
        reference = cells.by_dimension.get(dimension)
        for radius in RADII:
            mine = _fractions(per_seed, radius, method)
            rows.append(dict(dimension=dimension, eps=eps, radius=radius, compared=method, **interval_text(mine)))
            if reference is None:
                continue
            for other, label in (("cse", "- CSE eps 0.1"), ("ldr", "- LDR eps 0.1")):
                theirs = _fractions(reference, radius, other)
                mean, low, high = welch_interval(mine, theirs, LEVEL)
                rows.append(dict(dimension=dimension, eps=eps, radius=radius, compared=label, mean=mean,
                                 ci_low=low, ci_high=high, seeds=min(len(mine), len(theirs))))
    return pd.DataFrame(rows)


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
    cells = dimension_cells(root)
    by_dimension, missing, by_budget, missing_budgets = dimension_tables(root, cells)
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
                    print(not_run_row(dimension, 5))
                    continue
                differences = ("cse - ldr", "cse - baseline")
                formatted = interval_cells(rows, ("baseline", "cse", "ldr") + differences, digits=3, sign=differences)
                seeds = "/".join(str(int(rows.loc[m, "seeds"])) for m in ("baseline", "cse", "ldr") if m in rows.index)
                print(f"| {dimension} | {seeds} | {' | '.join(formatted)} |")
        if missing:
            print(f"\nd = {', '.join(map(str, missing))}: {NOT_RUN}")
        _print_trend(cells)
    print(f"\n### OQ2: budget to reach {TARGET_FRACTION:.0%} of the optimum at r = {BUDGET_RADIUS:g}\n")
    if by_budget.empty:
        print(f"results/open/dimension-budget: {NOT_RUN}")
    else:
        _print_budget(by_budget, missing_budgets)
    _print_scaled_eps(cells)


def _print_trend(cells: DimensionCells) -> None:
    trend = dimension_trend(cells)
    if trend.empty:
        return
    print(f"\n**Trend**: least-squares slope of CSE - LDR against log2 d (per doubling of d; d = "
          f"{trend['dimensions'].iloc[0].replace(',', ', ')}), {LEVEL:.0%} interval (Welch-Satterthwaite)\n")
    print("| radius | slope of CSE - LDR per doubling of d |\n|---|---|")
    for row in trend.itertuples():
        print(f"| {row.radius:g} | {cell_text(row.slope, row.ci_low, row.ci_high, 3, signed=True)} "
              f"({sign_text(row.ci_low, row.ci_high)}) |")


def _print_scaled_eps(cells: DimensionCells) -> None:
    print("\n### OQ2 follow-up: eps scaled with d\n")
    printed = False
    for method, title, missing in (("cse", "CSE with eps = 0.1 sqrt(d / 2)", cells.missing_scaled_eps),
                                   ("ldr", "LDR with eps = 0.1 / sqrt(d / 2)", cells.missing_scaled_ldr)):
        table = scaled_eps_tables(cells, method)
        if table.empty:
            continue
        printed = True
        label = method.upper()
        print(f"\n**{title}**: fraction of the optimum; differences from CSE and LDR at eps 0.1 (the dimension cell "
              "of the same d; Welch)\n")
        print(f"| d | eps | radius | {label} at eps | {label} at eps - CSE eps 0.1 | {label} at eps - LDR eps 0.1 |")
        print("|---|---|---|---|---|---|")
        differences = ("- CSE eps 0.1", "- LDR eps 0.1")
        for (dimension, eps, radius), rows in table.groupby(["dimension", "eps", "radius"]):
            formatted = interval_cells(rows.set_index("compared"), (method,) + differences, digits=3, sign=differences)
            print(f"| {dimension} | {eps:g} | {radius:g} | {' | '.join(formatted)} |")
        if missing:
            print(f"\ndimension-eps/{{{', '.join(missing)}}}: {NOT_RUN}")
    if not printed:
        print(f"results/open/dimension-eps: {NOT_RUN}")


def _print_budget(by_budget: pd.DataFrame, missing_budgets: list[str]) -> None:
    for dimension in BUDGET_DIMENSIONS:
        part = by_budget[by_budget["dimension"] == dimension]
        print(f"\n**d = {dimension}** (fraction of the optimum at r = {BUDGET_RADIUS:g})\n")
        print("| env steps | baseline | CSE | LDR | CSE - LDR |\n|---|---|---|---|---|")
        for steps in BUDGETS:
            rows = part[part["steps"] == steps].set_index("method")
            if rows.empty:
                print(not_run_row(steps, 3))
                continue
            cells = interval_cells(rows, ("baseline", "cse", "ldr", "cse - ldr"), digits=3, signed=("cse - ldr",))
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
    """Fraction of the optimum against d (log2 axis), one line per method with its interval, one panel per radius,
    the scaled-eps CSE cells as single points; and a last panel: the fraction at r = 0.5 against the env-step
    budget at d = 8 (solid) and d = 32 (dashed)."""
    cells = dimension_cells(root)
    by_dimension, _, by_budget, _ = dimension_tables(root, cells)
    panels = len(RADII) + (not by_budget.empty)
    if (made := new_figure(by_dimension.empty and by_budget.empty, path, 1, panels, figsize=(5 * panels, 5.2))) is None:
        return
    figure, axes = made
    scaled = scaled_eps_tables(cells)
    for axis, radius in zip(axes, RADII):
        part = by_dimension[np.isclose(by_dimension["radius"], radius)] if not by_dimension.empty else by_dimension
        for method in ("baseline", "cse", "ldr"):
            rows = part[part["method"] == method].sort_values("dimension") if not part.empty else part
            if rows.empty:
                continue
            interval_errorbar(axis, rows["dimension"], rows,
                               color=METHOD_COLORS[method], marker="o", linewidth=2, capsize=4, label=METHOD_LABELS[method])
        if not scaled.empty:
            points = scaled[np.isclose(scaled["radius"], radius) & (scaled["compared"] == "cse")]
            if not points.empty:
                interval_errorbar(axis, points["dimension"], points, color=METHOD_COLORS["cse"], marker="*",
                                   markersize=13, linestyle="none", capsize=4, label="SAC + CSE, eps = 0.1 sqrt(d/2)")
        axis.set_xscale("log", base=2)
        axis.set_xticks(DIMENSIONS, [str(d) for d in DIMENSIONS])
        axis.set_ylim(0, 1.05)
        axis.axhline(1.0, color="black", linestyle=":", linewidth=1)
        axis.set_title(f"test radius |c| = {radius:g}", fontsize=FONT["title"])
        axis.set_xlabel("context dimension d (number of coordinates)", fontsize=FONT["label"])
        axis.tick_params(labelsize=FONT["ticks"])
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("return / optimal return (fraction)", fontsize=FONT["label"])
    axes[0].legend(fontsize=FONT["legend"] - 2, frameon=False, loc="lower left")
    if not by_budget.empty:
        axis = axes[-1]
        for dimension, style in zip(BUDGET_DIMENSIONS, ("-", "--")):
            for method in ("baseline", "cse", "ldr"):
                rows = by_budget[(by_budget["dimension"] == dimension) & (by_budget["method"] == method)]
                if rows.empty:
                    continue
                rows = rows.sort_values("steps")
                interval_errorbar(axis, rows["steps"] / 1000, rows, color=METHOD_COLORS[method], marker="o",
                                   linestyle=style, linewidth=2, capsize=3,
                                   label=f"d = {dimension}" if method == "cse" else None)
        axis.axhline(TARGET_FRACTION, color="black", linestyle=":", linewidth=1)
        axis.set_ylim(0, 1.05)
        axis.set_title(f"budget at |c| = {BUDGET_RADIUS:g} (colours as left)", fontsize=FONT["title"])
        axis.set_xlabel("training budget (thousand env steps)", fontsize=FONT["label"])
        axis.tick_params(labelsize=FONT["ticks"])
        axis.grid(alpha=0.3)
        axis.legend(fontsize=FONT["legend"] - 2, frameon=False, loc="lower right", title="CSE line style")
    figure.suptitle(f"SimpleDirection: fraction of the optimum, mean and {LEVEL:.0%} CI over seeds", fontsize=FONT["title"])
    save(figure, path)
