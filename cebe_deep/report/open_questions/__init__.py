"""The answers of results/open/README.md, read from the CSVs under results/open/ (the five open-question experiments).

Called by ``cebe-deep report open results/open EXPERIMENT [--figure PATH]``. One module
per experiment (``dimension``, ``jacobians``, ``stochastic``, ``extrapolation``, ``eps``), each with a ``*_tables``
function that returns tidy DataFrames, a ``print_*`` function that prints them as markdown, and a ``plot_*``
function that draws its one figure; ``common`` holds what they share.  The folders are the ones the ``open`` section of
``results/commands.sh`` writes (one ``cebe-deep sweep --results`` folder per cell)::

    dimension/d<d>/evaluation.csv               OQ2, d in 2 4 8 16 32, baseline / cse / ldr, dimension-test contexts
    dimension-budget/d<d>-<steps>/evaluation.csv OQ2, d in 8 32, steps in 5000 .. 80000 (53500 too)
    dimension-eps/d<d>-eps<eps>/                 OQ2 follow-up, CSE with eps = 0.1 sqrt(d / 2): d8-eps0.2, d32-eps0.4
    dimension-eps/d<d>-ldr-eps<eps>/             and LDR with eps = 0.1 / sqrt(d / 2): d8-ldr-eps0.05, d32-ldr-eps0.025
    (OQ2's tables are gzipped, evaluation.csv.gz, except d = 2 and the 5k stages; the readers take either name)
    jacobians/{noise-<s>,bias-<b>,fd-<h>}/      OQ3, PendulumGoal cse, authors' contexts
    stochastic/noise-<s>[-importance]/          OQ1, NoisyPendulumGoal, listed contexts (sweep "listed")
    extrapolation/evaluation.csv                far extrapolation, CheetahVelocity, listed goal velocities
    extrapolation/reward_error.csv              the first-order reward error (cebe_deep/report/open_questions/reward_error.py)
    eps/<eps>-<shape>/                          eps and the perturbation shape, PendulumGoal cse

Statistics: the unit of replication is the seed (one trained policy).  A seed's number at a context is the mean
over its evaluation episodes (:func:`cebe_deep.report.statistics.per_seed_returns`); where several contexts are pooled
(the 16 directions of a radius, the authors' contexts) a seed's number is the mean over them.  Intervals are the
95% Student-t interval over seeds (:func:`cebe_deep.report.statistics.t_interval`); differences of methods are Welch
intervals (:func:`cebe_deep.report.statistics.welch_interval`), the methods' runs being independent.

The per-run logs the training writes beside the model (``fd_cost.json``, ``importance.json``) live in the run
directories under ``runs/``, which are not committed; :func:`collect_run_logs` copies them into each cell's
``run_logs.csv`` (``cebe-deep report open results/open collect-logs``), and the tables read that file.  Where it is
missing they read the run directories named in the cell's evaluation.csv, and say so.
"""

from .common import (
                     EPS_VALUES,
                     JACOBIAN_CELLS,
                     LEVEL,
                     NOISE_LEVELS,
                     NOT_RUN,
                     ROOT,
                     SHAPES,
                     away_seed_means,
                     collect_run_logs,
                     read_evaluation,
                     read_run_logs,
                     reference_table,
                     seed_means,
)
from .dimension import (
                     DimensionCells,
                     budget_to_reach,
                     dimension_cells,
                     dimension_tables,
                     dimension_trend,
                     fraction_by_radius,
                     fraction_intervals,
                     plot_dimension,
                     print_dimension,
                     scaled_eps_tables,
)
from .eps import eps_differences, eps_tables, plot_eps, print_eps
from .extrapolation import extrapolation_tables, plot_extrapolation, print_extrapolation, sign_changes
from .jacobians import jacobian_differences, jacobian_tables, plot_jacobians, print_jacobians
from .status import print_status, status_table
from .stochastic import plot_stochastic, print_stochastic, stochastic_tables

__all__ = [
    "EPS_VALUES",
    "EXPERIMENTS",
    "JACOBIAN_CELLS",
    "LEVEL",
    "NOISE_LEVELS",
    "NOT_RUN",
    "ROOT",
    "SHAPES",
    "DimensionCells",
    "away_seed_means",
    "budget_to_reach",
    "collect_run_logs",
    "dimension_cells",
    "dimension_tables",
    "dimension_trend",
    "scaled_eps_tables",
    "eps_differences",
    "eps_tables",
    "extrapolation_tables",
    "fraction_by_radius",
    "fraction_intervals",
    "jacobian_differences",
    "jacobian_tables",
    "plot_dimension",
    "plot_eps",
    "plot_extrapolation",
    "plot_jacobians",
    "plot_stochastic",
    "print_dimension",
    "print_eps",
    "print_extrapolation",
    "print_jacobians",
    "print_status",
    "print_stochastic",
    "read_evaluation",
    "read_run_logs",
    "reference_table",
    "seed_means",
    "sign_changes",
    "status_table",
    "stochastic_tables",
]

EXPERIMENTS = {
    "dimension": (print_dimension, plot_dimension),
    "jacobians": (print_jacobians, plot_jacobians),
    "stochastic": (print_stochastic, plot_stochastic),
    "extrapolation": (print_extrapolation, plot_extrapolation),
    "eps": (print_eps, plot_eps),
}
"""Per experiment: its markdown printer and its figure."""
