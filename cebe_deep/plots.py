"""Figures of the deep experiments: return against the context, mean and 95% CI over seeds, per method.

Input is the tidy evaluation table of :func:`cebe_deep.evaluation.evaluate` (one row per context and
episode); the statistics come from :func:`cebe_deep.statistics.summarize` (per-seed mean over episodes,
then the Student-t interval over seeds).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from cebe_deep.statistics import summarize

METHOD_STYLE = {
    "baseline": dict(color="tab:gray", label="SAC (baseline)"),
    "cse": dict(color="tab:blue", label="SAC + CSE"),
    "ldr": dict(color="tab:orange", label="SAC + LDR"),
    "gdr": dict(color="tab:green", label="SAC + GDR"),
}

EXTRA_COLORS = ("tab:purple", "tab:red", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
"""Colours for methods outside :data:`METHOD_STYLE` (variants named with ``cebe-deep summarize LABEL=PATH``)."""


def method_styles(methods) -> dict[str, dict]:
    """Line style per method: the fixed ones of :data:`METHOD_STYLE`, then distinct colours for the others
    (in sorted order, so a method keeps its colour from figure to figure)."""
    others = sorted(set(methods) - set(METHOD_STYLE))
    styles = {method: METHOD_STYLE[method] for method in methods if method in METHOD_STYLE}
    for index, method in enumerate(others):
        styles[method] = dict(color=EXTRA_COLORS[index % len(EXTRA_COLORS)], label=method)
    return styles


def plot_context_sweeps(table: pd.DataFrame, base_context: Sequence[float], eps: float, path: str | Path | None = None,
                        context_names: Sequence[str] | None = None, title: str | None = None, level: float = 0.95):
    """One panel per sweep (context coordinate or angle): mean return and CI band per method; a dashed line
    at c0 and a shaded band for the training ball |c - c0| <= eps.  Returns the figure; with ``path`` it is
    also written there and closed. The backend is left alone (inline in Jupyter; Agg where there is no
    display, which matplotlib picks by itself)."""
    import matplotlib.pyplot as plt

    summary = summarize(table, level)
    # One-axis and angle sweeps only: named context lists (the authors' test contexts) are tables, not curves.
    summary = summary[summary["sweep"].str.startswith("context_") | (summary["sweep"] == "angle")]
    sweeps = list(dict.fromkeys(summary["sweep"]))
    styles = method_styles(summary["method"].unique())
    columns = min(len(sweeps), 4)
    rows = math.ceil(len(sweeps) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(max(4.2 * columns, 8.0), 3.4 * rows), squeeze=False)
    for axis, sweep_name in zip(axes.flat, sweeps):
        part = summary[summary["sweep"] == sweep_name]
        for method, group in part.groupby("method"):
            group = group.sort_values("sweep_value")
            style = styles[method]
            axis.plot(group["sweep_value"], group["mean_return"], marker=".", **style)
            axis.fill_between(group["sweep_value"], group["ci_low"], group["ci_high"], alpha=0.2,
                              color=style.get("color"))
        if sweep_name == "angle":
            center = math.atan2(base_context[1], base_context[0])
            label = "direction angle (rad)"
        else:
            index = int(sweep_name.split("_")[1])
            center = base_context[index]
            label = context_names[index] if context_names else sweep_name
        axis.axvline(center, color="black", linestyle="--", linewidth=0.8)
        axis.axvspan(center - eps, center + eps, color="black", alpha=0.08)
        axis.set_xlabel(label)
        axis.set_ylabel("return")
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(sweeps):]:
        axis.set_visible(False)
    seeds = int(summary["seeds"].max()) if len(summary) else 0
    episodes = int(table.groupby(["method", "seed", "sweep", "sweep_value"]).size().max()) if len(table) else 0
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False)
    figure.suptitle(title or f"{table['task'].iloc[0]}: mean and {level:.0%} CI over {seeds} seeds "
                    f"({episodes} episodes per context); c0 dashed, training ball shaded", y=0.0, fontsize=9,
                    va="bottom")
    figure.tight_layout(rect=(0, 0.04, 1, 0.93))
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=130)
        plt.close(figure)
    return figure
