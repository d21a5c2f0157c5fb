"""Open question 1 on the tabular side, where exact answers exist: moving a stochastic sample to another context.

Runs :func:`cebe_theory.stochastic_cse.estimator_sweep` on the stochastic Cliffwalking (5 x 6, context
(p, b): the slip p moves only the transitions, the reward parameter b only the rewards), gamma 0.9, the
uniform policy, c0 = (0.1, 0), along three directions (p alone, b alone, both) and for the importance weights
unclipped and clipped at 2 and 1.2; 40 log-spaced |dc| in [1e-4, 5e-2].  Writes
into a folder (``results/open/stochastic-tabular/`` in the repository)::

    sweep.csv    tidy: direction, max_weight, dc, estimator, sup_error (max |Q_est - Q_BE|), min_ess_fraction
    slopes.csv   per (direction, max_weight, estimator): exact (largest error < 1e-10), else the fitted log-log
                 slope on the 10 smallest dc; the largest error; the smallest ESS fraction of the weights
    sweep.png    sup error against dc, one panel per direction (unclipped weights)

    cebe-theory stochastic-cse --out results/open/stochastic-tabular     # a few seconds
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cebe_theory.stochastic_cse import ESTIMATORS, estimator_sweep, stochastic_cliffwalking

DIRECTIONS = {"slip p": (1.0, 0.0), "reward b": (0.0, 1.0), "both": (2**-0.5, 2**-0.5)}
MAX_WEIGHTS = (np.inf, 2.0, 1.2)
LABELS = {"cebe": "CEBE (projected first-order kernel)", "pathwise": "pathwise (keep s', move r)",
          "importance": "importance weights (exact ratio)", "importance_first_order": "importance weights (first order)"}


def write_stochastic_cse(out: Path) -> list[Path]:
    """Run the sweep and write ``sweep.csv``, ``slopes.csv`` and ``sweep.png`` into ``out`` (an existing folder);
    returns their paths."""
    cmdp = stochastic_cliffwalking()
    dc = np.geomspace(1e-4, 5e-2, 40)
    frames, slopes = [], []
    for name, direction in DIRECTIONS.items():
        for max_weight in MAX_WEIGHTS:
            sweep = estimator_sweep(cmdp, [0.1, 0.0], dc, direction=direction, gamma=0.9, max_weight=max_weight)
            frames.append(sweep.to_frame().assign(direction=name))
            for estimator in ESTIMATORS:
                largest = float(sweep.sup_error[estimator].max())
                exact = largest < 1e-10  # round-off only: a slope fitted to it means nothing
                slopes.append(dict(direction=name, max_weight=max_weight, estimator=estimator, exact=exact,
                                   fitted_slope=np.nan if exact else sweep.slopes[estimator], largest_error=largest,
                                   min_ess_fraction=float(sweep.min_ess_fraction.min())))
    table = pd.concat(frames, ignore_index=True)
    table.to_csv(out / "sweep.csv", index=False)
    pd.DataFrame(slopes).to_csv(out / "slopes.csv", index=False)

    figure = Figure(figsize=(15, 4.8))  # no pyplot: no backend chosen, nothing kept in a global figure list
    axes = figure.subplots(1, 3, sharey=True)
    styles = dict(zip(ESTIMATORS, [("tab:blue", "o", "-"), ("tab:red", "s", "--"), ("tab:green", "^", ":"),
                                   ("tab:purple", "D", "-.")]))
    for axis, name in zip(axes, DIRECTIONS):
        part = table[(table["direction"] == name) & np.isinf(table["max_weight"])]
        for estimator, group in part.groupby("estimator"):
            color, marker, line = styles[estimator]
            values = np.maximum(group["sup_error"], 1e-12)  # exact estimators: round-off, drawn at the floor
            axis.loglog(group["dc"], values, color=color, marker=marker, linestyle=line, markevery=5,
                        label=LABELS[estimator])
        axis.set_title(f"dc along {name}", fontsize=14)
        axis.set_ylim(5e-13, 2)
        axis.axhline(1e-12, color="black", linewidth=0.6)
        axis.text(1.1e-4, 2e-12, "exact (error below 1e-12)", fontsize=10)
        axis.set_xlabel("context change |dc| (dimensionless)", fontsize=13)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("max |Q_estimator - Q_true| (reward units)", fontsize=13)
    axes[0].legend(fontsize=11, loc="lower right")
    figure.suptitle("Stochastic Cliffwalking (5 x 6, gamma 0.9, uniform policy, c0 = (p, b) = (0.1, 0))", fontsize=14)
    figure.tight_layout()
    figure.savefig(out / "sweep.png", dpi=110)
    print(pd.DataFrame(slopes).round(3).to_string(index=False))
    return [out / "sweep.csv", out / "slopes.csv", out / "sweep.png"]

