"""The context-enhanced MDP: first-order transitions and rewards around ``c0`` (arXiv 2507.07348, the
context-enhanced Bellman equation).

With ``dc = c - c0`` and derivatives taken at the training context ``c0``, stochastic CEBE uses

    T_CE^c(s, a) = P[ T^{c0}(s, a) + d_c T^{c0}(s, a) dc ]          (each row mapped back to a distribution)
    R_CE^c(s, a, s') = R^{c0}(s, a, s') + d_c R^{c0}(s, a, s') dc

and ``Q_CE`` solves the ordinary Bellman equation of that MDP. Two maps ``P`` are offered, by name:

``"projection"``
    the Euclidean (l2) projection of the row onto the probability simplex, the paper's definition
    (Theorem 3 is proved for it). Computed exactly by the sort-and-threshold algorithm
    (Held, Wolfe and Crowder 1974; Duchi et al. 2008): ``x = max(v - tau, 0)`` with
    ``tau = (sum_{j <= rho} u_j - 1) / rho`` where ``u`` is ``v`` sorted decreasingly and ``rho`` the
    largest ``j`` with ``u_j > (sum_{i <= j} u_i - 1) / j``.
``"renormalize"``
    clip negative entries to 0 and divide the row by its sum, as in the authors' code.

Both leave a row untouched when it is already a distribution. Because every row of ``T^c`` sums to 1 for
all ``c``, every row of ``d_c T`` sums to 0 and the linearized row sums to exactly 1; its projection's
threshold ``tau`` is then ``>= 0``, so next states outside the row's support keep probability 0 and the
projection computed on the support equals the projection in all of ``R^S``.

At ``dc = 0`` CEBE is exactly the Bellman equation; where ``T`` and ``R`` are affine in ``c`` it is exact.

>>> from cebe_theory.cliffwalking import cliffwalking
>>> expansion = FirstOrderExpansion.at(cliffwalking(family="constant"), [0.1])
>>> cebe = expansion.mdp([0.05])
>>> true = cliffwalking(family="constant").mdp([0.15])
>>> float(abs(cebe.transition - true.transition).max()) < 1e-15   # T is affine in p
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cebe_theory.cmdp import ContextDerivatives, SymbolicCMDP, TabularMDP
from cebe_theory.errors import InputError
from cebe_theory.symbolic import as_context_vector

__all__ = [
    "TRANSITION_VARIANTS",
    "project_rows_to_simplex",
    "renormalize_rows",
    "FirstOrderExpansion",
    "context_enhanced_mdp",
]

TRANSITION_VARIANTS = ("projection", "renormalize")


def _row_ids(indptr: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(indptr.size - 1), np.diff(indptr))


def project_rows_to_simplex(data: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Euclidean projection of every CSR row (its stored entries) onto the probability simplex.

    ``data`` holds the entries of all rows, row ``i`` being ``data[indptr[i]:indptr[i+1]]`` (CSR layout).
    Rows that already are distributions are returned unchanged; the others are projected together,
    vectorized over rows. Returns a new array.
    """
    data = np.asarray(data, dtype=np.float64)
    rows = _row_ids(indptr)
    n_rows = indptr.size - 1
    row_sums = np.bincount(rows, weights=data, minlength=n_rows)
    has_negative = np.bincount(rows, weights=(data < 0), minlength=n_rows) > 0
    needs = has_negative | (np.abs(row_sums - 1.0) > 1e-12)
    result = data.copy()
    if not needs.any():
        return result
    entry_mask = needs[rows]
    values, owners = data[entry_mask], rows[entry_mask]
    order = np.lexsort((-values, owners))  # by row, then decreasing value
    sorted_values, sorted_owners = values[order], owners[order]
    starts = np.flatnonzero(np.r_[True, sorted_owners[1:] != sorted_owners[:-1]])
    lengths = np.diff(np.r_[starts, sorted_values.size])
    rank = np.arange(sorted_values.size) - np.repeat(starts, lengths) + 1  # 1-based position within the row
    cumulative = np.cumsum(sorted_values)
    offsets = np.repeat(np.r_[0.0, cumulative[starts[1:] - 1]], lengths)
    running = cumulative - offsets  # sum of the row's largest `rank` entries
    active = sorted_values - (running - 1.0) / rank > 0
    # The active set is a prefix of each sorted row; rho = its length (>= 1 always).
    rho = np.add.reduceat(active.astype(np.int64), starts)
    last = starts + rho - 1
    tau = (running[last] - 1.0) / rho
    tau_per_entry = np.repeat(tau, lengths)
    projected_sorted = np.maximum(sorted_values - tau_per_entry, 0.0)
    projected = np.empty_like(projected_sorted)
    projected[order] = projected_sorted
    result[entry_mask] = projected
    return result


def renormalize_rows(data: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Clip every CSR row at 0 and divide it by its sum (the authors' variant). Returns a new array."""
    rows = _row_ids(indptr)
    clipped = np.maximum(np.asarray(data, dtype=np.float64), 0.0)
    sums = np.bincount(rows, weights=clipped, minlength=indptr.size - 1)
    if np.any(sums <= 0):
        bad = int(np.flatnonzero(sums <= 0)[0])
        raise InputError(f"row {bad} has no positive entry left after clipping; renormalization is undefined")
    return clipped / sums[rows]


@dataclass(frozen=True)
class FirstOrderExpansion:
    """``T``, ``R`` and their context derivatives at ``c0``: everything CEBE needs, computed once.

    Build with :meth:`at`; then :meth:`mdp` gives the context-enhanced MDP at any ``c0 + dc`` cheaply.
    """

    cmdp: SymbolicCMDP
    derivatives: ContextDerivatives

    @classmethod
    def at(cls, cmdp: SymbolicCMDP, context0) -> FirstOrderExpansion:
        return cls(cmdp, cmdp.derivatives(context0))

    @property
    def context0(self) -> np.ndarray:
        return self.derivatives.context

    def linear_transition(self, dc) -> np.ndarray:
        """``T^{c0} + d_c T^{c0} dc`` on the pattern, before any projection, shape ``(nnz,)``."""
        dc = as_context_vector(dc, self.cmdp.context_dimension, name="dc")
        return self.derivatives.transition + dc @ self.derivatives.dtransition

    def reward(self, dc) -> np.ndarray:
        """``R^{c0} + d_c R^{c0} dc`` on the pattern, shape ``(nnz,)``."""
        dc = as_context_vector(dc, self.cmdp.context_dimension, name="dc")
        return self.derivatives.reward + dc @ self.derivatives.dreward

    def mdp(self, dc, transition_variant: str = "projection") -> TabularMDP:
        """The context-enhanced MDP at ``c0 + dc`` (module docstring), as a :class:`TabularMDP`."""
        if transition_variant not in TRANSITION_VARIANTS:
            raise InputError(
                f"unknown transition variant {transition_variant!r}; choose one of {', '.join(TRANSITION_VARIANTS)}"
            )
        linear = self.linear_transition(dc)
        indptr = self.cmdp.matrix(linear).indptr
        if transition_variant == "projection":
            transition = project_rows_to_simplex(linear, indptr)
        else:
            transition = renormalize_rows(linear, indptr)
        cmdp = self.cmdp
        return TabularMDP(cmdp.n_states, cmdp.n_actions, cmdp.matrix(transition), cmdp.matrix(self.reward(dc)))

    def projection_acts(self, dc) -> bool:
        """Whether the first-order transition at ``c0 + dc`` leaves the simplex (some entry < 0)."""
        return bool(np.any(self.linear_transition(dc) < 0))


def context_enhanced_mdp(cmdp: SymbolicCMDP, context0, dc, transition_variant: str = "projection") -> TabularMDP:
    """One-shot form of :meth:`FirstOrderExpansion.mdp` (derivatives at ``context0``)."""
    return FirstOrderExpansion.at(cmdp, context0).mdp(dc, transition_variant)

