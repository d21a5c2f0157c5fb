"""OQ3, inexact Jacobians: PendulumGoal CSE with noisy, biased or finite-difference Jacobians."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .common import (
    FONT,
    JACOBIAN_CELLS,
    LEVEL,
    NOT_RUN,
    REFERENCE_TASK,
    ROOT,
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
    read_run_logs,
    reference_table,
    save,
)


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
        means = named_context_means(table, "authors")
        for context, group in means.groupby("sweep_value"):
            per_context.append(dict(cell=name, kind=kind, value=value, context=int(context),
                                    **interval_text(group["episode_return"].to_numpy())))
        per_seed = means.groupby("seed")["episode_return"].mean()
        pooled.append(dict(cell=name, kind=kind, value=value, **interval_text(per_seed.to_numpy())))
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
        rows.append(difference_row(name, {"- exact CSE": (candidate, None if name == "noise-0" else exact),
                                           "- SAC": (candidate, baseline), "- LDR": (candidate, ldr)}))
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
        label = {
            "sigma": f"noise sigma = {value:g}",
            "bias": f"bias x {value:g}",
            "fd step h": f"finite differences h = {value:g}",
        }[kind]
        if name in missing:
            print(not_run_row(label, len(contexts) + 1))
            continue
        rows = per_context[per_context["cell"] == name].set_index("context")
        whole = pooled[pooled["cell"] == name].iloc[0]
        cells = interval_cells(rows, contexts)
        print(
            f"| {label} | {int(whole.seeds)} | {' | '.join(cells)} | {cell_text(whole['mean'], whole.ci_low, whole.ci_high)} |"
        )
    rows, names = jacobian_differences(root)
    print(f"\nDifferences of a seed's mean return over the authors' contexts away from c0 (#1 onwards), Welch "
          f"{LEVEL:.0%} intervals; SAC and LDR: results/authors/{REFERENCE_TASK} (the authors' protocol, all its seeds)"
          + ("" if reference_table(root) is not None else f" (not found: {Path(root).parent / 'authors' / REFERENCE_TASK})")
          + ".\n")
    print_differences(rows, names)
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
    """Return against sigma (one line per authors' context), with the bias and finite-difference cells as labelled
    points in a second panel, and SAC's and LDR's returns at each context as horizontal lines (reference runs)."""
    per_context, pooled, _, _ = jacobian_tables(root)
    if (made := new_figure(per_context.empty, path, 1, 2, figsize=(14, 6.0), sharey=True,
                            gridspec_kw=dict(width_ratios=(3, 2)))) is None:
        return
    import matplotlib.pyplot as plt

    figure, (left, right) = made
    colors = plt.get_cmap("tab10")
    contexts = sorted(per_context["context"].unique())
    others = [name for name, (kind, _) in JACOBIAN_CELLS.items() if kind != "sigma"]
    for index, context in enumerate(contexts):
        rows = per_context[(per_context["context"] == context)]
        noise = rows[rows["kind"] == "sigma"].sort_values("value")
        interval_errorbar(left, noise["value"], noise, marker="o", capsize=4, linewidth=2, color=colors(index),
                           label=f"context #{context}" + (" (c0)" if context == 0 else ""))
        rest = rows.set_index("cell").reindex(others)
        interval_errorbar(right, np.arange(len(others)) + 0.08 * (index - len(contexts) / 2), rest, fmt="o", capsize=4,
                           color=colors(index))
    reference = reference_table(root)
    if reference is not None:  # SAC (dashed) and LDR (dotted) at each context, in the context's colour
        means = named_context_means(reference, "authors").groupby(["method", "sweep_value"])["episode_return"].mean()
        for index, context in enumerate(contexts):
            for method, style in (("baseline", "--"), ("ldr", ":")):
                if (method, context) in means.index:
                    for axis in (left, right):
                        axis.axhline(means[method, context], color=colors(index), linestyle=style, linewidth=1.3)
        left.plot([], [], color="black", linestyle="--", label=f"SAC (results/authors/{REFERENCE_TASK})")
        left.plot([], [], color="black", linestyle=":", label="LDR (same)")
    left.set_xscale("symlog", linthresh=0.1)
    left.set_xticks([0, 0.1, 0.3, 1.0], ["0", "0.1", "0.3", "1"])
    left.set_xlabel(r"Jacobian noise $\sigma$ (relative, dimensionless)", fontsize=FONT["label"])
    left.set_ylabel("mean episode return", fontsize=FONT["label"])
    handles, labels = left.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=len(labels), frameon=False, fontsize=FONT["legend"])
    right.set_xticks(range(len(others)), [name.replace("bias-", "bias x").replace("fd-", "FD h=") for name in others])
    right.set_xlim(-0.5, len(others) - 0.5)
    right.set_xlabel("biased or finite-difference Jacobians", fontsize=FONT["label"])
    for axis in (left, right):
        axis.tick_params(labelsize=FONT["ticks"])
        axis.grid(alpha=0.3)
    figure.suptitle(f"PendulumGoal, CSE with inexact Jacobians: return at the authors' contexts, mean and {LEVEL:.0%} CI",
                    fontsize=FONT["title"])
    save(figure, path)
