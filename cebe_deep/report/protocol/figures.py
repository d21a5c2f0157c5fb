"""The protocol's figures: the primary intervals per task and rliable-style performance profiles."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from cebe_deep.report.protocol.verdicts import TaskScores

# ------------------------------------------------------------------------------------------------- figures
METHOD_STYLE = {"baseline": ("SAC / DQN (baseline)", "tab:gray"), "cse": ("CSE", "tab:blue"), "ldr": ("LDR", "tab:orange")}


def performance_profile(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The share of scores (every seed and context) above each threshold: ``rliable``'s score distribution."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    return (scores[:, None] > np.asarray(thresholds, dtype=np.float64)[None, :]).mean(axis=0)


def plot_verdicts(table: pd.DataFrame, path: str | Path) -> None:
    """Per results folder (rows) and comparison (columns): the primary difference in mean normalized score with its
    t-interval (filled), the IQM difference with its bootstrap interval (hollow), the margin band and 0."""
    import matplotlib.pyplot as plt

    folders = list(dict.fromkeys(table["folder"]))
    figure, axes = plt.subplots(len(folders), 2, figsize=(11, 1.3 * len(folders) + 0.8), layout="constrained",
                                squeeze=False)
    for row_index, folder in enumerate(folders):
        for column, other in enumerate(("baseline", "ldr")):
            axis = axes[row_index, column]
            rows = table[(table["folder"] == folder) & (table["comparison"] == f"cse - {other}")]
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(folder, rotation=0, ha="right", va="center", fontsize=12)
            if rows.empty:
                axis.text(0.5, 0.5, "not run", transform=axis.transAxes, ha="center", va="center", fontsize=12)
                axis.set_xticks([])
                continue
            row = rows.iloc[0]
            axis.axvspan(-row["margin"], row["margin"], color="tab:green", alpha=0.15, lw=0)
            axis.axvline(0.0, color="black", lw=0.8)
            for y, (estimate, low, high, face) in enumerate(((row["iqm_difference"], row["iqm_low"], row["iqm_high"], "white"),
                                                             (row["difference"], row["ci_low"], row["ci_high"], "tab:blue"))):
                axis.errorbar([estimate], [y], xerr=[[estimate - low], [high - estimate]], fmt="o", color="tab:blue",
                              markerfacecolor=face, capsize=3)
            axis.set_ylim(-0.8, 1.8)
            axis.set_title(f"{row['word']} ({row['claim_status']})", fontsize=12, loc="right")
            axis.tick_params(labelsize=12)
    axes[0, 0].set_title("CSE - baseline", fontsize=13, loc="left")
    axes[0, 1].set_title("CSE - LDR", fontsize=13, loc="left")
    figure.supxlabel("CSE minus the other method, normalized score (filled: mean, t 95%; hollow: IQM, bootstrap "
                     "95%; green: +-margin)", fontsize=12)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=130)
    plt.close(figure)


def plot_performance_profiles(scores: dict[str, TaskScores], path: str | Path, points: int = 200) -> None:
    """Per results folder, each method's performance profile over the contexts away from c0: the share of (seed,
    context) normalized scores above tau, against tau."""
    import matplotlib.pyplot as plt

    columns = min(4, len(scores))
    rows = math.ceil(len(scores) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows), layout="constrained", squeeze=False)
    for axis in axes.flat[len(scores):]:
        axis.set_visible(False)
    for axis, (folder, normalized) in zip(axes.flat, scores.items()):
        away = {method: normalized.away(method) for method in METHOD_STYLE if method in normalized.scores}
        values = np.concatenate([a.reshape(-1) for a in away.values()])
        low, high = np.quantile(values, [0.01, 1.0])
        thresholds = np.linspace(low - 0.05 * (high - low), high, points)
        for method, matrix in away.items():
            label, color = METHOD_STYLE[method]
            axis.plot(thresholds, performance_profile(matrix, thresholds), color=color, label=label)
        axis.set_title(folder, fontsize=13)
        axis.set_xlabel("normalized score tau", fontsize=12)
        axis.tick_params(labelsize=12)
    for axis in axes[:, 0]:
        axis.set_ylabel("share of (seed, context) above tau", fontsize=12)
    axes[0, 0].legend(fontsize=12)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=130)
    plt.close(figure)
