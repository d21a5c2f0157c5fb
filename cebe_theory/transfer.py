"""Theorem 4 (policy transfer): a policy optimal for CEBE is nearly optimal for the true CMDP.

arXiv 2507.07348, Theorem 4. If ``pi_CE`` is ``(C, eps)``-optimal for CEBE and
``|Q_CE^c - Q_BE^c|_inf < delta`` for all ``c`` in ``C``, then for every ``c`` in ``C``::

    V*_BE^c(s) - V_BE^{pi_CE, c}(s) <= 2 delta + 2 eps        for every state s.

Reading. ``delta`` is the CEBE error over the policies the proof uses: the transferred policy ``pi_CE`` and
a true optimal policy ``pi*``, ``delta(c) = max_{pi in {pi_CE, pi*}} max_{s,a} |Q_CE^{pi,c} - Q_BE^{pi,c}|``
(measured by exact evaluation). The proof::

    V* - V^{pi_CE} = (V^{pi*} - V_CE^{pi*}) + (V_CE^{pi*} - V_CE^{pi_CE}) + (V_CE^{pi_CE} - V^{pi_CE})
                  <=        delta          +          eps               +         delta

``eps`` is the CEBE-suboptimality of ``pi_CE``: ``max_s V*_CE(s) - V_CE^{pi_CE}(s)``, 0 for exact policy
iteration. To exercise the ``eps`` term, ``suboptimality > 0`` picks, in every state, the *worst* action
whose CEBE advantage is within ``(1 - gamma) suboptimality`` of the best (so ``pi_CE`` is
``suboptimality``-optimal by the performance-difference lemma), and ``eps`` is then measured exactly.

Context-conditioned version (:func:`policy_transfer_over_grid`): one policy table ``pi_CE(s, c)`` over a
grid of contexts, optimized for CEBE built at ``c0`` and evaluated in the true CMDP at every grid context;
there ``delta`` is the theorem's uniform ``delta = max_c delta(c)``.

A gap may exceed ``2 delta + 2 eps`` by at most the floating-point tolerance
``1e-9 (1 + max |Q*|)`` of the exact solver before we call it a violation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cebe_theory.bellman import check_discount, deterministic_policy, evaluate_policy, policy_iteration
from cebe_theory.cebe import TRANSITION_VARIANTS, FirstOrderExpansion
from cebe_theory.cmdp import SymbolicCMDP
from cebe_theory.errors import InputError

__all__ = ["TransferCheck", "TransferGrid", "policy_transfer_check", "policy_transfer_over_grid"]

FLOAT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class TransferCheck:
    """Theorem 4 at one context: ``gap <= 2 delta + 2 eps`` (plus float tolerance)."""

    context: np.ndarray
    gap: float  # max_s V*_BE(s) - V_BE^{pi_CE}(s)
    delta: float  # CEBE error over {pi_CE, pi*}
    eps: float  # max_s V*_CE(s) - V_CE^{pi_CE}(s)
    tolerance: float  # floating-point slack of the exact solver
    cebe_policy: np.ndarray  # action per state, optimal (eps = 0) or eps-optimal for CEBE
    true_policy: np.ndarray  # action per state, optimal for the true MDP

    @property
    def allowed(self) -> float:
        return 2 * self.delta + 2 * self.eps

    @property
    def ratio(self) -> float:
        """``gap / (2 delta + 2 eps)``: at most 1 by Theorem 4 (0/0 read as 0)."""
        if self.allowed == 0:
            return 0.0 if self.gap <= self.tolerance else math.inf
        return self.gap / self.allowed

    @property
    def holds(self) -> bool:
        return bool(self.gap <= self.allowed + self.tolerance)

    def as_row(self) -> dict:
        row = {f"context_{i}": float(v) for i, v in enumerate(self.context)}
        row.update(gap=self.gap, delta=self.delta, eps=self.eps, bound=self.allowed, ratio=self.ratio, holds=self.holds,
                   policies_differ=int(np.sum(self.cebe_policy != self.true_policy)))
        return row


def _cebe_policy(q_star_ce: np.ndarray, gamma: float, suboptimality: float) -> np.ndarray:
    """Optimal actions (``suboptimality == 0``) or the worst action with advantage >= -(1-gamma) suboptimality."""
    if suboptimality == 0:
        return np.argmax(q_star_ce, axis=1)
    best = q_star_ce.max(axis=1, keepdims=True)
    allowed = q_star_ce >= best - (1 - gamma) * suboptimality
    return np.argmin(np.where(allowed, q_star_ce, np.inf), axis=1)


def _check(cmdp, expansion, context, gamma, variant, suboptimality) -> TransferCheck:
    n_actions = cmdp.n_actions
    true_mdp = cmdp.mdp(context)
    cebe_mdp = expansion.mdp(context - expansion.context0, variant)
    cebe_opt = policy_iteration(cebe_mdp, gamma)
    true_opt = policy_iteration(true_mdp, gamma)
    actions = _cebe_policy(cebe_opt.q, gamma, suboptimality)
    pi_ce = deterministic_policy(actions, n_actions)
    pi_star = deterministic_policy(true_opt.policy, n_actions)
    q_true_pice = evaluate_policy(true_mdp, pi_ce, gamma)
    q_cebe_pice = evaluate_policy(cebe_mdp, pi_ce, gamma)
    q_cebe_pistar = evaluate_policy(cebe_mdp, pi_star, gamma)
    states = np.arange(cmdp.n_states)
    v_true_pice = q_true_pice[states, actions]
    gap = float(np.max(true_opt.v - v_true_pice))
    delta = float(max(np.abs(q_cebe_pice - q_true_pice).max(), np.abs(q_cebe_pistar - true_opt.q).max()))
    eps = float(max(0.0, np.max(cebe_opt.v - q_cebe_pice[states, actions])))
    tolerance = FLOAT_TOLERANCE * (1 + float(np.abs(true_opt.q).max()) + float(np.abs(cebe_opt.q).max()))
    return TransferCheck(np.asarray(context, float), gap, delta, eps, tolerance, actions, true_opt.policy)


def policy_transfer_check(
    cmdp: SymbolicCMDP,
    context0,
    context,
    gamma: float = 0.9,
    *,
    transition_variant: str = "projection",
    suboptimality: float = 0.0,
) -> TransferCheck:
    """Theorem 4 at one test context (module docstring): optimize CEBE at ``context``, evaluate in the true MDP."""
    return policy_transfer_over_grid(
        cmdp, context0, [context], gamma, transition_variant=transition_variant, suboptimality=suboptimality
    ).checks[0]


@dataclass(frozen=True)
class TransferGrid:
    """The context-conditioned check: one CEBE policy table over a grid of contexts."""

    context0: np.ndarray
    checks: tuple[TransferCheck, ...]
    policy_table: np.ndarray  # (n_contexts, S) action per (context, state)

    @property
    def uniform_delta(self) -> float:
        """The theorem's ``delta = max_c delta(c)`` over the grid."""
        return max(check.delta for check in self.checks)

    @property
    def uniform_eps(self) -> float:
        return max(check.eps for check in self.checks)

    @property
    def max_gap(self) -> float:
        return max(check.gap for check in self.checks)

    @property
    def max_ratio(self) -> float:
        """Largest per-context ``gap / (2 delta(c) + 2 eps(c))`` (the stronger, per-context reading)."""
        return max(check.ratio for check in self.checks)

    @property
    def uniform_ratio(self) -> float:
        """``max_c gap(c) / (2 delta + 2 eps)`` with the uniform ``delta``, ``eps`` (the theorem as stated)."""
        allowed = 2 * self.uniform_delta + 2 * self.uniform_eps
        return (
            0.0
            if allowed == 0 and self.max_gap <= max(c.tolerance for c in self.checks)
            else (self.max_gap / allowed if allowed else math.inf)
        )

    @property
    def holds(self) -> bool:
        return all(check.holds for check in self.checks)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([check.as_row() for check in self.checks])


def policy_transfer_over_grid(
    cmdp: SymbolicCMDP,
    context0,
    contexts: Sequence,
    gamma: float = 0.9,
    *,
    transition_variant: str = "projection",
    suboptimality: float = 0.0,
) -> TransferGrid:
    """Theorem 4 over a grid: ``pi_CE(s, c)`` optimal (or ``suboptimality``-optimal) for CEBE at each grid ``c``.

    ``contexts``: a sequence of context vectors (scalars for a one-dimensional context).
    """
    gamma = check_discount(gamma)
    if transition_variant not in TRANSITION_VARIANTS:
        raise InputError(f"unknown transition variant {transition_variant!r}; choose one of {', '.join(TRANSITION_VARIANTS)}")
    if not (isinstance(suboptimality, (int, float)) and math.isfinite(suboptimality) and suboptimality >= 0):
        raise InputError(f"suboptimality must be a finite number >= 0, got {suboptimality!r}")
    context0 = cmdp.check_context(context0, name="c0")
    grid = [cmdp.check_context(np.atleast_1d(c), name="test context") for c in contexts]
    if not grid:
        raise InputError("contexts must not be empty")
    expansion = FirstOrderExpansion.at(cmdp, context0)
    checks = tuple(_check(cmdp, expansion, c, gamma, transition_variant, float(suboptimality)) for c in grid)
    return TransferGrid(context0, checks, np.stack([check.cebe_policy for check in checks]))
