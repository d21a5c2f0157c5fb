"""OQ1, stochastic transitions: NoisyPendulumGoal, first-order and importance-weighted CSE against SAC and LDR."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cebe_deep.report.statistics import welch_interval

from .common import (
    FONT,
    LEVEL,
    METHOD_COLORS,
    NOISE_LEVELS,
    NOT_RUN,
    ROOT,
    STOCHASTIC_METHODS,
    cell_text,
    interval_cells,
    interval_errorbar,
    interval_text,
    named_context_means,
    new_figure,
    not_run_row,
    read_evaluation,
    read_run_logs,
    save,
)


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
            means = named_context_means(table, "listed")
            if suffix:
                means = means.assign(method="cse-importance")
                ess[noise] = read_run_logs(folder, "importance")
            for (method, context), group in means.groupby(["method", "sweep_value"]):
                values = group["episode_return"].to_numpy()
                seeds[method, int(context)] = values
                returns.append(dict(noise=noise, method=method, context=int(context), **interval_text(values)))
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
                print(not_run_row(label, len(contexts)))
                continue
            cells = interval_cells(rows, contexts)
            print(f"| {label} | {int(rows['seeds'].max())} | {' | '.join(cells)} |")
        diff = differences[differences["noise"] == noise] if not differences.empty else differences
        for comparison, group in (diff.groupby("comparison", sort=False) if not diff.empty else []):
            group = group.set_index("context")
            cells = interval_cells(group, contexts, sign=contexts)
            print(f"| {comparison} (Welch) | | {' | '.join(cells)} |")
        if noise in ess:
            logs, note = ess[noise]
            if logs.empty:
                print(f"\nImportance weights: {note}")
            else:
                fraction = interval_text(logs["mean_effective_sample_size_fraction"].to_numpy())
                clipped = interval_text(logs["mean_clipped_fraction"].to_numpy())
                print(
                    f"\nImportance weights (max weight {logs['max_weight'].iloc[0]:g}, {len(logs)} runs): ESS fraction "
                    f"{cell_text(fraction['mean'], fraction['ci_low'], fraction['ci_high'], digits=3)}, clipped fraction "
                    f"{cell_text(clipped['mean'], clipped['ci_low'], clipped['ci_high'], digits=4)}"
                    + (f" ({note})" if note else "")
                )
    if missing:
        print(f"\nstochastic/{{{', '.join(missing)}}}: {NOT_RUN}")


def plot_stochastic(path, root: Path = ROOT) -> None:
    """The four methods' returns at each listed context, one panel per noise level (mean and interval)."""
    returns = stochastic_tables(root)[0]
    if (made := new_figure(returns.empty, path, 1, len(NOISE_LEVELS), figsize=(14, 5.6), sharey=True)) is None:
        return
    figure, axes = made
    for axis, noise in zip(axes, NOISE_LEVELS):
        part = returns[returns["noise"] == noise]
        for offset, (method, label) in enumerate(STOCHASTIC_METHODS.items()):
            rows = part[part["method"] == method].sort_values("context")
            if rows.empty:
                continue
            interval_errorbar(axis, rows["context"] + 0.12 * (offset - 1.5), rows, fmt="o", capsize=4,
                               color=METHOD_COLORS[method], label=label)
        contexts = sorted(part["context"].unique())
        axis.set_xticks(contexts, [f"#{k}" + (" (c0)" if k == 0 else "") for k in contexts])
        axis.set_title(rf"noise $\sigma_n$ = {noise} rad/s" + ("" if len(part) else f": {NOT_RUN}"), fontsize=FONT["title"])
        axis.set_xlabel("authors' test context of PendulumGoal", fontsize=FONT["label"])
        axis.tick_params(labelsize=FONT["ticks"])
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("mean episode return", fontsize=FONT["label"])
    handles, labels = (
        axes[0].get_legend_handles_labels()
        if len(returns[returns["noise"] == NOISE_LEVELS[0]])
        else axes[1].get_legend_handles_labels()
    )
    figure.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False, fontsize=FONT["legend"])
    figure.suptitle(f"NoisyPendulumGoal: return, mean and {LEVEL:.0%} CI over seeds", fontsize=FONT["title"])
    save(figure, path)
