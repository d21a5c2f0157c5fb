"""Figures of the deep experiments: return against the context, mean and 95% CI over seeds, per method.

Input is the tidy evaluation table of :func:`cebe_deep.run.evaluation.evaluate` (one row per context and
episode); the statistics come from :func:`cebe_deep.report.statistics.summarize` (per-seed mean over episodes,
then the Student-t interval over seeds).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from cebe_deep.report.statistics import summarize

METHOD_STYLE = {  # distinct markers too, so that a grey-scale print or a projector keeps the methods apart
    "baseline": dict(color="tab:gray", marker="o", label="SAC (baseline)"),
    "cse": dict(color="tab:blue", marker="s", label="SAC + CSE"),
    "ldr": dict(color="tab:orange", marker="^", label="SAC + LDR"),
    "gdr": dict(color="tab:green", marker="D", label="SAC + GDR"),
}

EXTRA_COLORS = ("tab:purple", "tab:red", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
"""Colours for methods outside :data:`METHOD_STYLE` (variants named with ``cebe-deep summarize LABEL=PATH``)."""
EXTRA_MARKERS = ("v", "P", "X", "<", ">", "*")

FONT_SIZES = dict(title=15, label=14, ticks=12, legend=13)
"""Point sizes of the sweep figures: readable on a slide (nothing under 12 pt)."""

ANGLE_LABEL = r"direction angle $\theta$ (rad)"


def task_title(task: str) -> str:
    """A task's name in a figure's title: a built-in name as it is; an own task's ``module:callable`` (or
    ``module:Id-v0``) by the part after the colon, which fits a title (the tables keep the whole source).

    >>> task_title("CheetahVelocity"), task_title("cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass")
    ('CheetahVelocity', 'half_cheetah_torso_mass')
    """
    return task.rsplit(":", 1)[-1]


@functools.lru_cache(maxsize=None)
def learner_name(task: str) -> str:
    """The SB3 learner a task trains with, as the figures name it: ``"DQN"`` for discrete actions (CartGoal),
    ``"SAC"`` otherwise (the choice of :func:`cebe_deep.run.training.make_model`); ``"SAC"`` for an unknown task."""
    from gymnasium import spaces

    from cebe_deep import tasks

    try:
        env = tasks.make_task(task, jacobians=False)
    except ValueError:  # a task that cannot be built here (an own task's module not importable)
        return "SAC"
    try:
        return "DQN" if isinstance(env.action_space, spaces.Discrete) else "SAC"
    finally:
        env.close()


def method_styles(methods, learner: str = "SAC") -> dict[str, dict]:
    """Line style per method: the fixed ones of :data:`METHOD_STYLE` (their labels naming ``learner``, e.g.
    "DQN + CSE"), then distinct colours and markers for the others (in sorted order, so a method keeps its style
    from figure to figure)."""
    others = sorted(set(methods) - set(METHOD_STYLE))
    styles = {method: dict(METHOD_STYLE[method], label=METHOD_STYLE[method]["label"].replace("SAC", learner))
              for method in methods if method in METHOD_STYLE}
    for index, method in enumerate(others):
        styles[method] = dict(color=EXTRA_COLORS[index % len(EXTRA_COLORS)],
                              marker=EXTRA_MARKERS[index % len(EXTRA_MARKERS)], label=method)
    return styles


def context_axis_labels(task: str, dimension: int, context_names: Sequence[str] | None = None) -> list[str]:
    """Axis label of each context coordinate of ``task``: the task's ``context_labels`` (human-readable, with
    units, e.g. PendulumGoal's ``gravity $g$ (m/s$^2$)``) when it has them for ``dimension`` coordinates,
    else ``context_names``, else ``context_<i>``."""
    from cebe_deep import tasks

    labels = tuple(getattr(tasks.TASKS.get(task), "context_labels", ()))
    if len(labels) == dimension:
        return list(labels)
    if context_names is not None and len(context_names) == dimension:
        return list(context_names)
    return [f"context_{index}" for index in range(dimension)]


def plot_context_sweeps(table: pd.DataFrame, base_context: Sequence[float], eps: float, path: str | Path | None = None,
                        context_names: Sequence[str] | None = None, title: str | None = None, level: float = 0.95,
                        context_labels: Sequence[str] | None = None):
    """One panel per sweep (context coordinate or angle), at most two panels a row: mean return and CI band
    per method; a dashed line at c0 and a shaded band for the training ball |c - c0| <= eps.

    Sized for a slide: fonts of :data:`FONT_SIZES` (12 pt and more, legend included). Each context axis is
    named with its unit: ``context_labels`` if given, else the task's own ``context_labels`` (found from the
    table's ``task`` column, see :func:`context_axis_labels`), else ``context_names``. Returns the figure;
    with ``path`` it is also written there and closed. The backend is left alone (inline in Jupyter; Agg
    where there is no display, which matplotlib picks by itself)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    summary = summarize(table, level)
    # One-axis and angle sweeps only: named context lists (the authors' test contexts) are tables, not curves.
    summary = summary[summary["sweep"].str.startswith("context_") | (summary["sweep"] == "angle")]
    sweeps = list(dict.fromkeys(summary["sweep"]))
    task = str(table["task"].iloc[0]) if len(table) else ""
    styles = method_styles(summary["method"].unique(), learner_name(task))
    if context_labels is None:
        context_labels = context_axis_labels(task, len(base_context), context_names)
    columns = max(min(len(sweeps), 2), 1)
    rows = max(math.ceil(len(sweeps) / columns), 1)
    figure, axes = plt.subplots(rows, columns, figsize=(5.2 * columns + 0.6, 3.9 * rows + 1.5), squeeze=False,
                                layout="constrained")
    for axis, sweep_name in zip(axes.flat, sweeps):
        part = summary[summary["sweep"] == sweep_name]
        for method, group in part.groupby("method"):
            group = group.sort_values("sweep_value")
            style = styles[method]
            axis.plot(group["sweep_value"], group["mean_return"], markersize=6, linewidth=2, **style)
            axis.fill_between(group["sweep_value"], group["ci_low"], group["ci_high"], alpha=0.2,
                              color=style.get("color"))
        if sweep_name == "angle":
            center = math.atan2(base_context[1], base_context[0])
            label = ANGLE_LABEL
        else:
            index = int(sweep_name.split("_")[1])
            center = base_context[index]
            label = context_labels[index] if index < len(context_labels) else sweep_name
        axis.axvline(center, color="black", linestyle="--", linewidth=1.2)
        axis.axvspan(center - eps, center + eps, color="black", alpha=0.08, linewidth=0)
        axis.set_xlabel(label, fontsize=FONT_SIZES["label"])
        axis.tick_params(labelsize=FONT_SIZES["ticks"])
        axis.grid(alpha=0.3)
    for axis in axes[:, 0]:
        axis.set_ylabel("mean episode return", fontsize=FONT_SIZES["label"])
    for axis in list(axes.flat)[len(sweeps):]:
        axis.set_visible(False)
    seeds = int(summary["seeds"].max()) if len(summary) else 0
    episodes = int(table.groupby(["method", "seed", "sweep", "sweep_value"]).size().max()) if len(table) else 0
    handles = [Line2D([], [], linewidth=2, markersize=6, **styles[method]) for method in sorted(styles, key=method_order)]
    handles += [Line2D([], [], color="black", linestyle="--", linewidth=1.2, label="training context $c_0$"),
                Patch(color="black", alpha=0.08, label=rf"training ball $|c - c_0| \leq {eps:g}$")]
    figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 2 if columns == 1 else 3),
                  frameon=False, fontsize=FONT_SIZES["legend"])
    figure.suptitle(title or f"{task_title(task)}: mean return and {level:.0%} CI\nover {seeds} seeds, {episodes} episodes "
                    "per context",
                    fontsize=FONT_SIZES["title"])
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=130)
        plt.close(figure)
    return figure


def method_order(method: str) -> tuple[int, str]:
    """The fixed methods first, in :data:`METHOD_STYLE`'s order, then the others by name."""
    order = list(METHOD_STYLE)
    return (order.index(method), "") if method in order else (len(order), method)


def plot_named_contexts(table: pd.DataFrame, sweep: str = "authors", path: str | Path | None = None,
                        level: float = 0.95):
    """The contexts of one named family (``sweep``, e.g. the authors' test contexts): per context, each
    method's mean return and ``level`` interval over seeds, side by side, the context written under its group.
    Returns the figure (``None`` when the table has no such contexts); with ``path`` it is written and closed."""
    import matplotlib.pyplot as plt

    summary = summarize(table, level)
    summary = summary[summary["sweep"] == sweep]
    if summary.empty:
        return None
    task = str(table["task"].iloc[0])
    columns = [c for c in summary.columns if c.startswith("context_")]
    values = sorted(summary["sweep_value"].unique())
    methods = sorted(summary["method"].unique(), key=method_order)
    styles = method_styles(methods, learner_name(task))
    width = 0.8 / len(methods)
    figure, axis = plt.subplots(figsize=(max(6.0, 1.6 * len(values) + 2), 5.0), layout="constrained")
    for offset, method in enumerate(methods):
        part = summary[summary["method"] == method].set_index("sweep_value").reindex(values)
        x = np.arange(len(values)) + (offset - (len(methods) - 1) / 2) * width
        style = dict(styles[method])
        axis.errorbar(
            x,
            part["mean_return"],
            yerr=[part["mean_return"] - part["ci_low"], part["ci_high"] - part["mean_return"]],
            linestyle="none",
            markersize=8,
            capsize=4,
            elinewidth=1.5,
            **style,
        )
    first = summary.drop_duplicates("sweep_value").set_index("sweep_value").reindex(values)
    names = [f"#{int(value)}\n" + ", ".join(f"{float(first.loc[value, c]):g}" for c in columns) for value in values]
    axis.set_xticks(np.arange(len(values)), names, fontsize=FONT_SIZES["ticks"])
    axis.tick_params(axis="y", labelsize=FONT_SIZES["ticks"])
    axis.set_ylabel("mean episode return", fontsize=FONT_SIZES["label"])
    axis.set_xlabel("the authors' test contexts (#0 is c0)" if sweep == "authors" else f"{sweep} contexts",
                    fontsize=FONT_SIZES["label"])
    axis.grid(alpha=0.3, axis="y")
    axis.legend(fontsize=FONT_SIZES["legend"], frameon=False)
    seeds = int(summary["seeds"].max())
    axis.set_title(f"{task_title(task)}: mean return and {level:.0%} CI over {seeds} seeds", fontsize=FONT_SIZES["title"])
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=130)
        plt.close(figure)
    return figure


def plot_error_orders(ax, sizes: Sequence[float], errors: dict[str, Sequence[float]], *, slope: float | None = 2.0,
                      reference: float = 1e-2, floor: float = 1e-17, mark: float | None = None, mark_label: str = "",
                      xlabel: str = "", ylabel: str = "", title: str = "") -> None:
    """Errors against a step size on log-log axes, one labelled curve per entry of ``errors`` (each as long as
    ``sizes``), as the MuJoCo checks of notebook 04 draw them: an error of 0 is drawn at ``floor``, where a log
    axis can show it; ``slope`` adds the dashed reference line ``reference * sizes**slope`` (``None``: none);
    ``mark`` a vertical dashed line at that size, labelled ``mark_label``. No pyplot: it draws on ``ax``."""
    sizes = np.asarray(sizes, dtype=float)
    for label, values in errors.items():
        values = np.asarray(values, dtype=float)
        if values.shape != sizes.shape:
            raise ValueError(f"{label!r}: {values.size} errors for {sizes.size} sizes")
        ax.loglog(sizes, np.maximum(values, floor), "o-", label=label)
    if slope is not None:
        ax.loglog(sizes, reference * sizes**slope, "k--", label=f"reference: slope {slope:g}")
    if mark is not None:
        ax.axvline(mark, color="black", linestyle=":", label=mark_label or f"{mark:g}")
    ax.set_xlabel(xlabel, fontsize=FONT_SIZES["label"])
    ax.set_ylabel(ylabel, fontsize=FONT_SIZES["label"])
    ax.set_title(title, fontsize=FONT_SIZES["title"])
    ax.tick_params(labelsize=FONT_SIZES["ticks"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=FONT_SIZES["legend"] - 2)
