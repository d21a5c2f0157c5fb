"""Far extrapolation: CheetahVelocity away from c0 = 2, against the first-order reward error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cebe_deep.report.statistics import welch_interval
from cebe_deep.run.evaluation import zero_action_returns

from .common import (
    EXTRAPOLATION_C0,
    FONT,
    LEVEL,
    METHOD_COLORS,
    NOT_RUN,
    ROOT,
    cell_text,
    interval_text,
    new_figure,
    read_evaluation,
    save,
    seed_means,
    sign_text,
)


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
            row.update({f"{method}_{key}": value for key, value in interval_text(seeds).items()})
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
        was, now = (sign_text(r[f"{column}_low"], r[f"{column}_high"]) for r in (before, after))
        if was != now:
            changes.append(f"interval goes from '{was}' to '{now}' between v_goal = {before['goal_velocity']:g} "
                           f"and {after['goal_velocity']:g}")
    return changes


def print_extrapolation(root: Path = ROOT, zero_episodes: int = 64) -> None:
    """The table per goal velocity (with the all-zero action's return there: a method below it is marked *),
    where CSE - baseline changes sign, and the first-order reward error."""
    per_velocity, errors = extrapolation_tables(root)
    print(f"### Far extrapolation (CheetahVelocity, c0 = {EXTRAPOLATION_C0:g})\n")
    if per_velocity.empty:
        print(f"results/open/extrapolation/evaluation.csv: {NOT_RUN}")
    else:
        print(f"Return per goal velocity, mean [{LEVEL:.0%} t-interval over seeds]; differences: Welch {LEVEL:.0%} interval; "
              f"'zero': the all-zero action's mean return ({zero_episodes} episodes, the evaluation's reset seeds), "
              "\\* a method whose mean is below it.\n")
        print(
            "| v_goal (m/s) | dc | baseline | CSE | LDR | zero | CSE - baseline | CSE - LDR "
            "|\n|---|---|---|---|---|---|---|---|"
        )
        for row in per_velocity.to_dict("records"):
            zero = float(zero_action_returns("CheetahVelocity", (row["goal_velocity"],), zero_episodes).mean())
            cells = [cell_text(row.get(f"{m}_mean", float("nan")), row.get(f"{m}_ci_low", float("nan")),
                           row.get(f"{m}_ci_high", float("nan"))) + ("\\*" if row.get(f"{m}_mean", np.inf) < zero else "")
                     for m in ("baseline", "cse", "ldr")]
            diffs = [
                cell_text(
                    row.get(c, float("nan")),
                    row.get(f"{c}_low", float("nan")),
                    row.get(f"{c}_high", float("nan")),
                    signed=True,
                )
                + (f" ({sign_text(row[c + '_low'], row[c + '_high'])})" if c in row else "")
                for c in ("cse_minus_baseline", "cse_minus_ldr")
            ]
            print(f"| {row['goal_velocity']:g} | {row['dc']:+g} | {' | '.join(cells)} | {zero:.1f} | {' | '.join(diffs)} |")
        changes = sign_changes(per_velocity) if "cse_minus_baseline" in per_velocity else []
        print("\nCSE - baseline: " + ("; ".join(changes) if changes else "no sign change over the goal velocities run"))
    print(
        "\n**First-order reward error** (results/open/extrapolation/reward_error.csv, "
        "cebe_deep/report/open_questions/reward_error.py)\n"
    )
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
    if (made := new_figure(per_velocity.empty and errors is None, path, figsize=(11, 5.6))) is None:
        return
    figure, axis = made
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
    save(figure, path)
