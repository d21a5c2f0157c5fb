"""The radius eps and the shape (sphere or ball) of CSE's perturbation: PendulumGoal CSE."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .common import (
    EPS_VALUES,
    FONT,
    LEVEL,
    NOT_RUN,
    REFERENCE_TASK,
    ROOT,
    SHAPES,
    away_seed_means,
    cell_text,
    difference_row,
    interval_cells,
    interval_errorbar,
    interval_text,
    named_context_means,
    new_figure,
    not_run_row,
    print_differences,
    read_evaluation,
    reference_table,
    save,
)


def _eps_cells(root: Path):
    """``(eps, shape, cell name, its evaluation table or None where not committed)`` for every cell, in the order of
    :data:`EPS_VALUES` x :data:`SHAPES`."""
    for eps in EPS_VALUES:
        for shape in SHAPES:
            name = f"{eps}-{shape}"
            yield eps, shape, name, read_evaluation(root / "eps" / name)


def eps_tables(root: Path = ROOT) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """``(per context, pooled, missing)``: CSE's return at each authors' test context per (eps, shape), and pooled
    over the authors' contexts away from c0 (#1 onwards; a seed's mean over them)."""
    per_context, pooled, missing = [], [], []
    for eps, shape, name, table in _eps_cells(root):
        if table is None:
            missing.append(name)
            continue
        means = named_context_means(table, "authors")
        for context, group in means.groupby("sweep_value"):
            per_context.append(dict(eps=float(eps), shape=shape, context=int(context),
                                    **interval_text(group["episode_return"].to_numpy())))
        away = means[means["sweep_value"] > 0].groupby("seed")["episode_return"].mean()
        pooled.append(dict(eps=float(eps), shape=shape, **interval_text(away.to_numpy())))
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
    for _, _, name, table in _eps_cells(root):
        if table is None:
            continue
        authors, sweeps = away_seed_means(table, "cse"), away_seed_means(table, "cse", True)
        own = name == "0.1-sphere"  # the reference cell itself: no difference with itself
        rows.append(difference_row(name, {names[0]: (authors, None if own else base[False]),
                                           names[1]: (authors, ldr[False]),
                                           names[2]: (sweeps, None if own else base[True]),
                                           names[3]: (sweeps, ldr[True])}))
    return rows, names


#: The farthest gravity points of the sweep (4.1, 4.55, 5): where LDR is far ahead of every CSE cell
#: (results/authors/PendulumGoal), so the pooled sweep difference is also shown without them.
FAR_GRAVITY = 4.1
#: The cell the direct contrast is with: the radius that closed the gap to LDR over the sweeps.
WIDE_CELL = "0.2-sphere"
SWEEP_NAMES = ("gravity", "mass", "length", "goal torque")  # context_0 .. context_3 of PendulumGoal


def _one_sweep(index: int):
    return lambda means: means["sweep"] == f"context_{index}"


def _without_far_gravity(means: pd.DataFrame) -> pd.Series:
    return ~((means["sweep"] == "context_0") & (means["sweep_value"] >= FAR_GRAVITY - 1e-9))


def eps_sources(root: Path = ROOT) -> tuple[list[dict], list[str]]:
    """Where each cell's difference from LDR over the sweeps comes from: CSE - LDR (Welch, a seed's mean return over
    the points away from c0) per swept coordinate and over every sweep without gravity >= :data:`FAR_GRAVITY`;
    and the direct contrast with CSE at :data:`WIDE_CELL` over all the sweeps' points away from c0."""
    reference = reference_table(root)
    wide_table = read_evaluation(root / "eps" / WIDE_CELL)
    wide = away_seed_means(wide_table, "cse", True) if wide_table is not None else None
    selections = {f"{name} sweep: - LDR": _one_sweep(index) for index, name in enumerate(SWEEP_NAMES)}
    selections[f"sweeps without g >= {FAR_GRAVITY:g}: - LDR"] = _without_far_gravity
    names = [*selections, f"sweeps: - CSE {WIDE_CELL.replace('-', ' ')}"]
    rows = []
    for _, _, name, table in _eps_cells(root):
        if table is None:
            continue
        comparisons = {}
        for label, where in selections.items():
            ldr = away_seed_means(reference, "ldr", True, where=where) if reference is not None else None
            comparisons[label] = (away_seed_means(table, "cse", True, where=where), ldr)
        comparisons[names[-1]] = (away_seed_means(table, "cse", True), None if name == WIDE_CELL else wide)
        rows.append(difference_row(name, comparisons))
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
    print(
        "| eps | shape | seeds | "
        + " | ".join(f"#{k}" for k in contexts)
        + " | away |\n|---|---|---|"
        + "---|" * (len(contexts) + 1)
    )
    for eps in EPS_VALUES:
        for shape in SHAPES:
            rows = per_context[(per_context["eps"] == float(eps)) & (per_context["shape"] == shape)].set_index("context")
            if rows.empty:
                print(not_run_row(f"{eps} | {shape}", len(contexts) + 1))
                continue
            whole = pooled[(pooled["eps"] == float(eps)) & (pooled["shape"] == shape)].iloc[0]
            cells = interval_cells(rows, contexts)
            print(f"| {eps} | {shape} | {int(rows['seeds'].max())} | {' | '.join(cells)} "
                  f"| {cell_text(whole['mean'], whole.ci_low, whole.ci_high)} |")
    rows, names = eps_differences(root)
    print(f"\nDifferences of a seed's mean return away from c0, Welch {LEVEL:.0%} intervals: at the authors' "
          "contexts #1 onwards, and over the one-axis sweeps' points outside the 0.1 ball around c0; LDR: "
          f"results/authors/{REFERENCE_TASK} (all its seeds)"
          + ("" if reference_table(root) is not None else f" (not found: {Path(root).parent / 'authors' / REFERENCE_TASK})")
          + ".\n")
    print_differences(rows, names)
    rows, names = eps_sources(root)
    if rows:
        print(f"\nWhere the sweeps' difference from LDR comes from: the same Welch differences over each one-axis "
              f"sweep's points away from c0 alone, and over every sweep without gravity >= {FAR_GRAVITY:g} (the "
              f"sweep's far end, where LDR leads every cell); and each cell against CSE at {WIDE_CELL.replace('-', ' ')} "
              "directly, over all the sweeps' points away from c0.\n")
        print_differences(rows, names)


def plot_eps(path, root: Path = ROOT) -> None:
    """Return pooled over the authors' contexts away from c0 against eps, one line per perturbation shape."""
    _, pooled, _ = eps_tables(root)
    if (made := new_figure(pooled.empty, path, figsize=(9, 5.6))) is None:
        return
    figure, axis = made
    for shape, color, marker in zip(SHAPES, ("tab:blue", "tab:green"), ("s", "D")):
        rows = pooled[pooled["shape"] == shape].sort_values("eps")
        interval_errorbar(axis, rows["eps"], rows,
                           marker=marker, color=color, capsize=4, linewidth=2, label=f"dc on the {shape}")
    axis.set_xscale("log")
    axis.set_xticks([float(e) for e in EPS_VALUES], EPS_VALUES)
    axis.set_xlabel(r"CSE radius $\epsilon$ (context units)", fontsize=FONT["label"])
    axis.set_ylabel("mean episode return, authors' contexts\naway from $c_0$", fontsize=FONT["label"])
    axis.tick_params(labelsize=FONT["ticks"])
    axis.grid(alpha=0.3)
    axis.legend(fontsize=FONT["legend"], frameon=False)
    figure.suptitle(f"PendulumGoal, CSE: eps and the perturbation shape, mean and {LEVEL:.0%} CI", fontsize=FONT["title"])
    save(figure, path)
