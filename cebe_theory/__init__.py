"""cebe_theory: the exact, tabular side of context-enhanced Bellman equations (arXiv 2507.07348).

Objects of the paper and where they live:

- contextual MDPs with sympy transitions and rewards ............ :mod:`cebe_theory.cmdp`
- Cliffwalking (paper's, and a nonlinear-in-context variant) .... :mod:`cebe_theory.cliffwalking`
- exact policy evaluation and policy iteration (BE) ............. :mod:`cebe_theory.bellman`
- the context-enhanced MDP (CEBE), simplex projection ........... :mod:`cebe_theory.cebe`
- error sweeps and fitted slopes (Figure 1) ..................... :mod:`cebe_theory.sweep`
- what a theorem calculator returns (bound, constants, check) .... :mod:`cebe_theory.bound_results`
- Theorems 1 and 3 as calculators that show every constant ...... :mod:`cebe_theory.bounds`
- the bound report (Theorems 1-4: tables and a figure) .......... :mod:`cebe_theory.bounds_report`
- Theorem 4, policy transfer ...................................... :mod:`cebe_theory.transfer`
- deterministic CEBE (Theorem 2) on a contextual LQR ............ :mod:`cebe_theory.lqr`
- random smooth CMDPs for property tests ........................ :mod:`cebe_theory.random_cmdp`
- figures and tables, the command line .......................... :mod:`cebe_theory.figures`, :mod:`cebe_theory.cli`
- the teaching notebooks' figures (grid, bounds, transfer, LQR) ... :mod:`cebe_theory.course_figures`
- the project's input-error type ................................ :mod:`cebe_theory.errors`
"""

from cebe_theory.bellman import evaluate_policy, greedy_policy, policy_iteration, uniform_policy
from cebe_theory.bounds import (
    BoundCheck,
    BoundResult,
    theorem1_bound,
    theorem1_check,
    theorem3_bound,
    theorem3_check,
    theorem3_sweep,
)
from cebe_theory.bounds_report import BoundsReport, bounds_report, write_bounds_report
from cebe_theory.cebe import FirstOrderExpansion, context_enhanced_mdp, project_rows_to_simplex, renormalize_rows
from cebe_theory.cliffwalking import cliffwalking, windy_cliffwalking
from cebe_theory.cmdp import SymbolicCMDP, TabularMDP
from cebe_theory.lqr import ContextualLQR, coefficient_sweep, default_lqr, theorem2_bound, theorem2_sweep
from cebe_theory.random_cmdp import RandomCMDPSpec, random_smooth_cmdp
from cebe_theory.sweep import ErrorSweep, error_sweep, fitted_slope, log_grid
from cebe_theory.transfer import TransferCheck, TransferGrid, policy_transfer_check, policy_transfer_over_grid

__all__ = [
    "SymbolicCMDP",
    "TabularMDP",
    "cliffwalking",
    "windy_cliffwalking",
    "evaluate_policy",
    "policy_iteration",
    "uniform_policy",
    "greedy_policy",
    "FirstOrderExpansion",
    "context_enhanced_mdp",
    "project_rows_to_simplex",
    "renormalize_rows",
    "error_sweep",
    "ErrorSweep",
    "fitted_slope",
    "log_grid",
    "BoundResult",
    "BoundCheck",
    "theorem1_bound",
    "theorem1_check",
    "theorem3_bound",
    "theorem3_check",
    "theorem3_sweep",
    "BoundsReport",
    "bounds_report",
    "write_bounds_report",
    "ContextualLQR",
    "default_lqr",
    "theorem2_bound",
    "theorem2_sweep",
    "coefficient_sweep",
    "RandomCMDPSpec",
    "random_smooth_cmdp",
    "policy_transfer_check",
    "policy_transfer_over_grid",
    "TransferCheck",
    "TransferGrid",
]
