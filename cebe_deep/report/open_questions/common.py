"""What every experiment of the open questions' report shares: where the results live, the cells of each
experiment (the loops of results/commands.sh), per-seed means, intervals and their formatting, the reference runs
and the runs' own logs (see the package docstring)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from cebe_deep.report.statistics import away_from_c0, per_seed_returns, t_interval, welch_interval
from cebe_deep.run.evaluation import EVALUATION_FILES, read_evaluation

ROOT = Path("results/open")
NOT_RUN = "not run yet"
LEVEL = 0.95

DIMENSIONS = (2, 4, 8, 16, 32)
RADII = (0.2, 0.5, 0.8)
BUDGET_DIMENSIONS = (8, 32)
BUDGETS = (5000, 10000, 20000, 40000, 53500, 80000)  # 53,500: the dimension experiment's budget
BUDGET_RADIUS = 0.5
#: The follow-up to OQ2: CSE with eps = 0.1 sqrt(d / 2) (results/commands.sh, part dimension-eps): d -> eps.
SCALED_EPS = {8: 0.2, 32: 0.4}
#: Its converse: LDR with eps = 0.1 / sqrt(d / 2), spreading about 0.1 sqrt(2) as at d = 2: d -> eps.
SCALED_LDR_EPS = {8: 0.05, 32: 0.025}
TARGET_FRACTION = 0.9
JACOBIAN_CELLS = {  # folder -> (kind, value), the loops of results/commands.sh
    "noise-0": ("sigma", 0.0), "noise-0.1": ("sigma", 0.1), "noise-0.3": ("sigma", 0.3), "noise-1.0": ("sigma", 1.0),
    "bias-0.5": ("bias", 0.5), "bias-1.5": ("bias", 1.5), "fd-1e-2": ("fd step h", 1e-2), "fd-1e-4": ("fd step h", 1e-4)}
NOISE_LEVELS = ("0.05", "0.2")
STOCHASTIC_METHODS = {"baseline": "(c) SAC baseline", "cse": "(a) first-order CSE (noise held fixed)",
                      "cse-importance": "(b) importance-weighted CSE", "ldr": "(d) LDR"}
EXTRAPOLATION_C0 = 2.0
EPS_VALUES = ("0.05", "0.1", "0.2", "0.4")
SHAPES = ("sphere", "ball")
FONT = dict(title=15, label=14, ticks=12, legend=13)  # slide-sized: nothing under 12 pt
REFERENCE_TASK = "PendulumGoal"  # results/authors/<task>: SAC and LDR under the authors' protocol (10 seeds)
METHOD_LABELS = {"baseline": "SAC (baseline)", "cse": "SAC + CSE", "ldr": "SAC + LDR"}
METHOD_COLORS = {"baseline": "tab:gray", "cse": "tab:blue", "ldr": "tab:orange", "cse-importance": "tab:purple"}



def experiment_cells() -> list[str]:
    """Every results folder of the open questions' sweeps, relative to results/open, from the grids above: the
    cells the ``open`` section of results/commands.sh writes (tests/deep/test_sweep_cli.py checks that it writes
    exactly these)."""
    cells = [f"jacobians/{folder}" for folder in JACOBIAN_CELLS]
    cells += [f"stochastic/noise-{level}{suffix}" for level in NOISE_LEVELS for suffix in ("", "-importance")]
    cells += [f"eps/{eps}-{shape}" for eps in EPS_VALUES for shape in SHAPES]
    cells += [f"dimension/d{d}" for d in DIMENSIONS]
    cells += [f"dimension-budget/d{d}-{steps}" for d in BUDGET_DIMENSIONS for steps in BUDGETS]
    cells += [f"dimension-eps/d{d}-eps{eps:g}" for d, eps in SCALED_EPS.items()]
    cells += [f"dimension-eps/d{d}-ldr-eps{eps:g}" for d, eps in SCALED_LDR_EPS.items()]
    return sorted(cells + ["extrapolation"])

# ------------------------------------------------------------------------------------------------ helpers
def interval_text(values) -> dict:
    mean, low, high = t_interval(np.asarray(values, dtype=np.float64), LEVEL)
    return dict(mean=mean, ci_low=low, ci_high=high, seeds=len(values))


def cell_text(mean: float, low: float, high: float, digits: int = 1, signed: bool = False) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    form = f"{'+' if signed else ''}.{digits}f"
    if math.isnan(low):
        return f"{mean:{form}}"
    return f"{mean:{form}} [{low:{form}}, {high:{form}}]"


def sign_text(low: float, high: float) -> str:
    if math.isnan(low):
        return "?"
    return "above 0" if low > 0 else ("below 0" if high < 0 else "contains 0")


def seed_means(table: pd.DataFrame, value: str = "episode_return") -> pd.DataFrame:
    """Mean of ``value`` over the episodes of each (method, seed, sweep, sweep_value): one row per seed and context."""
    keys = ["method", "seed", "sweep", "sweep_value"]
    context = sorted((c for c in table.columns if c.startswith("context_")), key=lambda c: int(c.split("_")[1]))
    if value == "episode_return":
        return per_seed_returns(table)[keys + context + ["episode_return"]]
    return table.groupby(keys + context, as_index=False, dropna=False)[value].mean()


def figure_not_written(path) -> None:
    print(f"\n(figure {path} not written: nothing has run yet)")


def new_figure(empty: bool, path, *subplots, **options):
    """``(figure, axes)`` of ``plt.subplots(*subplots, layout="constrained", **options)``, or None (saying the
    figure at ``path`` is not written) where there is nothing to plot."""
    if empty:
        figure_not_written(path)
        return None
    import matplotlib.pyplot as plt

    return plt.subplots(*subplots, layout="constrained", **options)


def interval_errorbar(axis, x, rows: pd.DataFrame, **style):
    """``axis.errorbar`` of ``rows``' mean at ``x`` with its interval (columns mean, ci_low, ci_high) as the bar."""
    return axis.errorbar(x, rows["mean"], yerr=[rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]], **style)


def save(figure, path) -> None:
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=130)
    plt.close(figure)
    print(f"\nfigure: {path}")


def named_context_means(table: pd.DataFrame, sweep: str) -> pd.DataFrame:
    means = seed_means(table)
    return means[means["sweep"] == sweep]


def away_seed_means(table: pd.DataFrame, method: str | None = None, sweeps: bool = False,
                    radius: float = 0.1, where=None) -> np.ndarray:
    """One number per seed: its mean return over the contexts away from c0
    (:func:`cebe_deep.report.statistics.away_from_c0` with eps = ``radius``, the authors' training ball by default):
    ``sweeps=False`` the authors' test contexts, ``sweeps=True`` the points of the one-axis sweeps.  ``where``: a
    function of the per-seed rows (columns sweep, sweep_value, context_i) returning which of them to keep, applied
    after the above (one sweep, a part of one)."""
    means = seed_means(table)
    if method is not None:
        means = means[means["method"] == method]
    means = means[means["sweep"].str.startswith("context_")] if sweeps else means[means["sweep"] == "authors"]
    columns = sorted((c for c in means.columns if c.startswith("context_")), key=lambda c: int(c.split("_")[1]))
    from cebe_deep.tasks import default_context

    c0 = default_context(str(table["task"].iloc[0]), len(columns))
    means = means[away_from_c0(means[columns].to_numpy(np.float64), c0[: len(columns)], radius)]
    if where is not None:
        means = means[where(means).to_numpy(dtype=bool)]
    return means.groupby("seed")["episode_return"].mean().to_numpy()


def reference_table(root: Path) -> pd.DataFrame | None:
    """results/authors/PendulumGoal/evaluation.csv(.gz) beside ``root`` (results/open): SAC and LDR under the authors'
    protocol, the reference of the Jacobian and eps cells; None where it is not there."""
    return read_evaluation(Path(root).parent / "authors" / REFERENCE_TASK)


def difference_row(label: str, comparisons: dict[str, tuple[np.ndarray, np.ndarray | None]]) -> dict:
    """One row of :func:`print_differences`: per comparison name, the Welch interval of candidate - other (nan
    where either side is missing); ``seeds`` counts the first comparison's candidate."""
    row = dict(cell=label, seeds=len(next(iter(comparisons.values()))[0]))
    for name, (candidate, other) in comparisons.items():
        if other is None or len(other) == 0 or len(candidate) == 0:
            row[name] = (math.nan, math.nan, math.nan)
        else:
            row[name] = welch_interval(candidate, other, LEVEL)
    return row


def interval_cells(rows: pd.DataFrame, keys, digits: int = 1, signed=(), sign=()) -> list[str]:
    """Formatted ``mean [low, high]`` of ``rows`` (indexed by key) for each key, ``-`` where a key is absent; keys in
    ``signed`` get a sign, keys in ``sign`` also say whether the interval is above, below or around 0."""
    cells = []
    for key in keys:
        if key not in rows.index:
            cells.append("-")
            continue
        mean, low, high = rows.loc[key, ["mean", "ci_low", "ci_high"]]
        cells.append(cell_text(mean, low, high, digits=digits, signed=key in signed or key in sign)
                     + (f" ({sign_text(low, high)})" if key in sign else ""))
    return cells


def not_run_row(label, blanks: int) -> str:
    """A markdown table row: ``label`` (one or more cells), "not run yet", then ``blanks`` empty cells."""
    return f"| {label} | {NOT_RUN} |" + " |" * blanks


def print_differences(rows: list[dict], names: list[str]) -> None:
    print("| cell | seeds | " + " | ".join(names) + " |\n|---|---|" + "---|" * len(names))
    for row in rows:
        cells = [cell_text(*row[name], signed=True) + (f" ({sign_text(row[name][1], row[name][2])})"
                                                   if not math.isnan(row[name][0]) else "") for name in names]
        print(f"| {row['cell']} | {row['seeds']} | {' | '.join(cells)} |")


def read_run_logs(folder: Path, name: str) -> tuple[pd.DataFrame, str]:
    """The ``name`` (``fd_cost`` or ``importance``) logs of a cell's runs: from ``folder/run_logs.csv`` if present,
    else from the run directories named in ``folder/evaluation.csv`` (with a note saying so); an empty frame and
    the reason where neither has them."""
    committed = Path(folder) / "run_logs.csv"
    if committed.exists():
        logs = pd.read_csv(committed)
        logs = logs[logs["log"] == name]
        return logs, "" if len(logs) else f"no {name}.json in {committed}"
    table = read_evaluation(folder)
    if table is None or "run" not in table.columns:
        return pd.DataFrame(), NOT_RUN
    rows = [log_row(Path(run), name) for run in cell_runs(table)]
    rows = [row for row in rows if row is not None]
    if not rows:
        return pd.DataFrame(), (f"no {name}.json in results ({committed} missing) nor in the run directories; "
                                f"the runs are needed: they live under runs/, not committed")
    return pd.DataFrame(rows), (f"read from the run directories under runs/ ({committed} missing; "
                                f"`cebe-deep report open results/open collect-logs` copies them into results)")


def cell_runs(table: pd.DataFrame) -> list[str]:
    """The run directories named in an evaluation table's ``run`` column (empty where it has none)."""
    return sorted(str(run) for run in table["run"].dropna().unique() if str(run))


def log_row(run: Path, name: str) -> dict | None:
    path = run / f"{name}.json"
    if not path.exists():
        return None
    values = {key: value for key, value in json.loads(path.read_text()).items() if np.isscalar(value)}
    seed = run.name.removeprefix("seed")
    return dict(log=name, run=str(run), method=run.parent.name, seed=int(seed) if seed.isdigit() else -1, **values)


def collect_run_logs(root: Path = ROOT) -> list[Path]:
    """Copy every run's ``fd_cost.json`` / ``importance.json`` (run directories named in each cell's
    evaluation.csv) into the cell's ``run_logs.csv``; returns the files written."""
    written = []
    evaluations = [path for name in EVALUATION_FILES for pattern in (f"*/*/{name}", f"*/{name}")
                   for path in sorted(Path(root).glob(pattern))]
    for evaluation in evaluations:
        table = pd.read_csv(evaluation, usecols=lambda column: column == "run")
        if "run" not in table.columns:
            continue
        rows = [row for run in cell_runs(table) for name in ("fd_cost", "importance")
                if (row := log_row(Path(run), name)) is not None]
        if rows:
            path = evaluation.parent / "run_logs.csv"
            pd.DataFrame(rows).to_csv(path, index=False)
            written.append(path)
    return written
