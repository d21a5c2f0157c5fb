"""Training curves: did the agents learn, and how fast?

The evaluation (:mod:`cebe_deep.run.evaluation`) scores each *final* deterministic policy across contexts.  This module
reads what happened on the way, from SB3's ``Monitor`` files that every run writes (``run_dir/monitor/<k>.monitor.csv``,
one row per finished training episode of env k: return ``r``, length ``l``), and puts each episode on the env-step
axis of the run:

    env steps when episode j of env k ends = n_envs * (l_1 + ... + l_j)     (the envs of a run step together)

(exact up to the ``n_envs - 1`` steps the other envs of the last vector step take).  The episodes are then binned
along that axis, each run's mean return per bin is one value per seed, and per method and bin the mean over seeds
gets a Student-t interval (:func:`cebe_deep.report.statistics.t_interval`).

What a training return is: the *stochastic* policy's return while it learned, at the training context c0 for SAC and
CSE (CSE changes the replay samples, never the environment), and at the randomized contexts for LDR and GDR, whose
training episodes therefore score what their contexts allow; compare their final policies with the evaluation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from cebe_deep.report.statistics import t_interval

__all__ = ["run_episodes", "training_curves", "curve_summary", "window_summary", "plot_training_curves",
           "CURVE_COLUMNS"]

CURVE_COLUMNS = ("task", "method", "seed", "run", "budget", "bin", "env_steps", "episodes", "return")
"""Columns of :func:`training_curves`: one row per run and bin that holds at least one finished episode;
``budget`` is the run's env-step budget (``total_steps``), ``env_steps`` the bin's right edge, ``return`` the mean
return of the episodes ending in the bin."""


def run_episodes(run_dir: str | Path, n_envs: int) -> pd.DataFrame:
    """Every finished training episode of a run with the run's env-step count when it ended.

    Columns ``env``, ``episode`` (per env), ``r``, ``l``, ``env_steps``; sorted by ``env_steps``.  Reads the Monitor
    files as they are (a running or interrupted run gives its episodes so far; a resumed run's files were restored
    from its checkpoint, so no episode is counted twice)."""
    folder = Path(run_dir) / "monitor"
    files = sorted(folder.glob("*.monitor.csv"), key=lambda path: int(path.name.split(".")[0]))
    frames = []
    for path in files:
        log = pd.read_csv(path, skiprows=1)  # first line: the Monitor's JSON header
        # a run training now may be writing its last line: a row cut short has no length yet, and is left out
        log = log.dropna(subset=["r", "l"])
        frames.append(pd.DataFrame({"env": int(path.name.split(".")[0]), "episode": np.arange(len(log)),
                                    "r": log["r"].to_numpy(dtype=np.float64),
                                    "l": log["l"].to_numpy(dtype=np.int64),
                                    "env_steps": n_envs * np.cumsum(log["l"].to_numpy(dtype=np.int64))}))
    if not frames:
        return pd.DataFrame(columns=["env", "episode", "r", "l", "env_steps"])
    return pd.concat(frames, ignore_index=True).sort_values(["env_steps", "env"], kind="stable").reset_index(drop=True)


def training_curves(runs: Sequence[tuple[str | Path, str | None]], bins: int = 50) -> pd.DataFrame:
    """Tidy binned training curves of run directories (each with its ``config.json`` and Monitor files).

    ``runs``: ``(run_dir, label)`` pairs; ``label`` names the method in the output (None: the config's method),
    so that variants of one method trained under different roots can be told apart.  Each run's axis, from 0 to its
    ``total_steps``, is cut into ``bins`` equal bins (an episode ending exactly on an edge belongs to the bin the
    edge closes; one ending after ``total_steps``, from the last vector step, to the last bin).  Columns:
    :data:`CURVE_COLUMNS`."""
    if not (isinstance(bins, int) and bins >= 1):
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    rows = []
    for run_dir, label in runs:
        config = json.loads((Path(run_dir) / "config.json").read_text())
        episodes = run_episodes(run_dir, int(config.get("n_envs", 1)))
        if episodes.empty:
            continue
        width = config["total_steps"] / bins
        index = np.clip(np.ceil(episodes["env_steps"].to_numpy() / width).astype(int) - 1, 0, bins - 1)
        grouped = episodes.assign(bin=index).groupby("bin")["r"].agg(["size", "mean"])
        for number, (count, mean) in grouped.iterrows():
            rows.append((config["task"], label or config["method"], int(config["seed"]), str(run_dir),
                         int(config["total_steps"]), int(number), (int(number) + 1) * width, int(count), float(mean)))
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def curve_summary(curves: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per method and bin: the seeds with an episode there, the mean over seeds of their mean return, and its
    Student-t interval (NaN with one seed).  The runs of a method must share their budget (else bin k would be a
    different stretch of env steps in each)."""
    budgets = curves.groupby("method")["budget"].nunique()
    if (budgets > 1).any():
        raise ValueError(f"method {budgets[budgets > 1].index[0]!r} has runs of different budgets: bins cannot be "
                         "averaged across them")
    rows = []
    for (method, number), part in curves.groupby(["method", "bin"], sort=True):
        mean, low, high = t_interval(part["return"].to_numpy(), level)
        rows.append((method, int(number), float(part["env_steps"].iloc[0]), len(part), mean, low, high))
    return pd.DataFrame(rows, columns=["method", "bin", "env_steps", "seeds", "mean", "ci_low", "ci_high"])


def window_summary(curves: pd.DataFrame, windows: int = 4, level: float = 0.95) -> pd.DataFrame:
    """The learning progress in a few numbers: each run's budget cut into ``windows`` equal parts (a bin belongs
    to the part that holds its centre; a run still training has no rows in the parts it has not reached); per
    method and part, each seed's mean return over the episodes ending there (weighted by the episodes of each
    bin), then the mean over seeds and its Student-t interval."""
    if not (isinstance(windows, int) and windows >= 1):
        raise ValueError(f"windows must be an integer >= 1, got {windows!r}")
    width = curves["env_steps"] / (curves["bin"] + 1)
    bins = int(np.round(curves["budget"] / width).min()) if len(curves) else 1
    if windows > bins:
        raise ValueError(f"windows ({windows}) cannot exceed the bins of the curves ({bins})")
    centre = (curves["env_steps"] - width / 2) / curves["budget"]
    frame = curves.assign(window=np.minimum(np.floor(centre * windows).astype(int), windows - 1),
                          weighted=curves["return"] * curves["episodes"])
    per_seed = frame.groupby(["method", "run", "window"]).agg(weighted=("weighted", "sum"),
                                                               episodes=("episodes", "sum"))
    per_seed["return"] = per_seed["weighted"] / per_seed["episodes"]
    rows = []
    for (method, window), part in per_seed.reset_index().groupby(["method", "window"], sort=True):
        mean, low, high = t_interval(part["return"].to_numpy(), level)
        rows.append((method, int(window), f"{window / windows:.0%}-{(window + 1) / windows:.0%}", len(part),
                     int(part["episodes"].sum()), mean, low, high))
    return pd.DataFrame(rows, columns=["method", "window", "of the budget", "seeds", "episodes", "mean", "ci_low",
                                       "ci_high"])


def plot_training_curves(curves: pd.DataFrame, path: str | Path | None = None, title: str | None = None):
    """Training return against env steps: mean over seeds per method with its 95% interval as a band (matplotlib
    picks a non-interactive backend by itself where there is no display).  The y-axis spans the seeds' own bin
    values (with a margin): with two or three seeds the t-interval can reach far beyond any seed and would
    otherwise flatten the curves; such a band runs off the axis."""
    import matplotlib.pyplot as plt

    from cebe_deep.report.plots import FONT_SIZES, learner_name, method_order, method_styles, task_title

    summary = curve_summary(curves)
    methods = sorted(summary["method"].unique(), key=method_order)
    tasks = sorted(curves["task"].unique())
    styles = method_styles(methods, learner_name(tasks[0]) if len(tasks) == 1 else "SAC")
    figure, axis = plt.subplots(figsize=(9, 5.4))
    for method in methods:
        part = summary[summary["method"] == method]
        style = styles[method]
        seeds = int(curves.loc[curves["method"] == method, "seed"].nunique())
        axis.plot(part["env_steps"], part["mean"], color=style["color"],
                  label=f"{style['label']}, {seeds} seed{'s' if seeds != 1 else ''}")
        axis.fill_between(part["env_steps"], part["ci_low"], part["ci_high"], color=style["color"], alpha=0.2,
                          linewidth=0)
    low, high = float(curves["return"].min()), float(curves["return"].max())
    margin = 0.05 * (high - low) or 1.0
    axis.set_ylim(low - margin, high + margin)
    axis.set_title(title or f"{', '.join(map(task_title, tasks))}: return of the training episodes\n(mean, 95% CI over seeds)",
                   fontsize=FONT_SIZES["title"])  # two lines: a long task name fits
    axis.set_xlabel("env steps", fontsize=FONT_SIZES["label"])
    axis.set_ylabel("training episode return", fontsize=FONT_SIZES["label"])
    axis.tick_params(labelsize=FONT_SIZES["ticks"])
    axis.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    axis.legend(fontsize=FONT_SIZES["legend"])
    axis.grid(alpha=0.3)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=130)
        plt.close(figure)
    return figure
