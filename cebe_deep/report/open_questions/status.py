"""Which cells of the five experiments are committed: the status table of results/open/README.md, printed from the
folders themselves (a cell counts once its evaluation.csv, or evaluation.csv.gz, is committed), so that it cannot go
stale."""

from __future__ import annotations

from pathlib import Path

from cebe_deep.run.evaluation import EVALUATION_FILES

from .common import (
    BUDGET_DIMENSIONS,
    BUDGETS,
    DIMENSIONS,
    EPS_VALUES,
    JACOBIAN_CELLS,
    NOISE_LEVELS,
    ROOT,
    SCALED_EPS,
    SCALED_LDR_EPS,
    SHAPES,
)

#: question, the part of ``bash results/commands.sh open PART``, what a cell holds, and the cells (folders under
#: results/open/ with the file that marks them done) in the order of the commands.
PARTS = (
    ("OQ1, stochastic transitions: tabular", "tabular", "exact, no seeds",
     [("stochastic-tabular", "slopes.csv")]),
    ("OQ1, stochastic transitions: NoisyPendulumGoal", "stochastic",
     "per noise level: SAC, CSE, LDR x 5; importance-weighted CSE x 5",
     [(f"stochastic/noise-{noise}{suffix}", "evaluation.csv") for noise in NOISE_LEVELS for suffix in ("", "-importance")]),
    ("OQ2, context dimension", "dimension", "per d: SAC, CSE, LDR x 5",
     [(f"dimension/d{dimension}", "evaluation.csv") for dimension in DIMENSIONS]),
    ("OQ2, budget to reach 90% of the optimum", "budget", "per (d, env steps): SAC, CSE, LDR x 5",
     [(f"dimension-budget/d{dimension}-{steps}", "evaluation.csv") for dimension in BUDGET_DIMENSIONS
      for steps in BUDGETS]),
    ("OQ2 follow-up, eps scaled with d", "dimension-eps",
     "per d: CSE x 5 at eps 0.1 sqrt(d / 2); LDR x 5 at eps 0.1 / sqrt(d / 2)",
     [(f"dimension-eps/d{dimension}-eps{eps:g}", "evaluation.csv") for dimension, eps in SCALED_EPS.items()]
     + [(f"dimension-eps/d{dimension}-ldr-eps{eps:g}", "evaluation.csv") for dimension, eps in SCALED_LDR_EPS.items()]),
    ("OQ3, inexact Jacobians", "jacobians", "per cell: CSE x 5", [(f"jacobians/{cell}", "evaluation.csv")
                                                                 for cell in JACOBIAN_CELLS]),
    ("far extrapolation (CheetahVelocity)", "extrapolation", "SAC, CSE, LDR x 5 at 11 goal velocities; reward error",
     [("extrapolation", "evaluation.csv"), ("extrapolation", "reward_error.csv")]),
    ("eps and the perturbation shape", "eps", "per cell: CSE x 5",
     [(f"eps/{eps}-{shape}", "evaluation.csv") for eps in EPS_VALUES for shape in SHAPES]),
)


def status_table(root: Path = ROOT) -> list[tuple[str, str, str, list[str], list[str]]]:
    """Per part: question, part, what a cell holds, the committed cells and the missing ones (folder names)."""
    rows = []
    for question, part, cell, cells in PARTS:
        # a cell is named by its folder; the extrapolation part's two cells share one, so there by the file
        named = [(f"{folder}/{name}" if part == "extrapolation" else folder, Path(root) / folder / name)
                 for folder, name in cells]
        rows.append((question, part, cell, [label for label, path in named if _committed(path)],
                     [label for label, path in named if not _committed(path)]))
    return rows


def _committed(path: Path) -> bool:
    """Whether the file marking a cell done is there; an evaluation table counts plain or gzipped."""
    if path.name == EVALUATION_FILES[0]:
        return any((path.parent / name).is_file() for name in EVALUATION_FILES)
    return path.exists()


def _short(folder: str) -> str:
    return folder.split("/", 1)[1] if "/" in folder else folder


def print_status(root: Path = ROOT) -> None:
    """The status table: per part, how many of its cells are committed and which are missing."""
    print("| question | part | cells | status |\n|---|---|---|---|")
    for question, part, cell, done, missing in status_table(root):
        total = len(done) + len(missing)
        if not missing:
            state = "done"
        elif not done:
            state = f"not run yet ({total} cells)"
        else:
            state = (f"{len(done)} of {total} cells committed; not yet: "
                     + ", ".join(_short(folder) for folder in missing))
        print(f"| {question} | `{part}` | {cell} | {state} |")
    print("\nA cell is committed when its results folder holds its evaluation.csv or evaluation.csv.gz (the tabular "
          "part: slopes.csv); `DRY_RUN=1 bash results/commands.sh open` says what each missing cell still has to train.")
