"""Error sweeps: how far CEBE's Q-function is from the true one as the context moves (Figure 1).

For each ``dc`` on a grid, ``sup_error(dc) = max_{s, a} |Q_CE^{c0 + dc}(s, a) - Q_BE^{c0 + dc}(s, a)|`` where

- ``Q_BE`` solves the Bellman equation of the true MDP ``M(c0 + dc)``,
- ``Q_CE`` solves it for the context-enhanced MDP built from derivatives at ``c0`` (:mod:`cebe_theory.cebe`),

both either for one fixed policy (``"uniform"``, or any ``(S, A)`` table) or each for its own optimal
policy (``"optimal"``: ``Q*_CE`` against ``Q*_BE``, both from policy iteration). Theorems 2 and 3 say
``sup_error = O(|dc|^2)``, so the least-squares slope of ``log sup_error`` against ``log |dc|`` on the
smallest ``dc`` is about 2 (:func:`fitted_slope`).

For a vector context, ``dc`` runs along a fixed unit ``direction``: ``c = c0 + dc * direction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cebe_theory.bellman import check_discount, evaluate_policy, policy_iteration, uniform_policy
from cebe_theory.cebe import TRANSITION_VARIANTS, FirstOrderExpansion
from cebe_theory.cmdp import SymbolicCMDP, TabularMDP
from cebe_theory.errors import InputError
from cebe_theory.symbolic import as_context_vector

__all__ = ["log_grid", "fitted_slope", "q_function", "sweep_contexts", "ErrorSweep", "error_sweep", "POLICIES"]

POLICIES = ("uniform", "optimal")


def log_grid(low_exponent: float = -8.0, high_exponent: float = -1.0, num: int = 100) -> np.ndarray:
    """``num`` values ``e^x`` for ``x`` evenly spaced in ``[low_exponent, high_exponent]`` (the paper's grid)."""
    if not low_exponent < high_exponent:
        raise InputError(f"need low_exponent < high_exponent, got {low_exponent} and {high_exponent}")
    if int(num) < 2:
        raise InputError(f"num must be at least 2, got {num}")
    return np.exp(np.linspace(low_exponent, high_exponent, int(num)))


def fitted_slope(dc: np.ndarray, error: np.ndarray, fit_points: int = 10) -> float:
    """Least-squares slope of ``log error`` against ``log |dc|`` on the ``fit_points`` smallest ``|dc|``.

    Points with ``error == 0`` (exact to the last bit) have no logarithm and are skipped; with fewer than
    two usable points the slope is ``nan``.
    """
    dc, error = np.abs(np.asarray(dc, float)), np.asarray(error, float)
    usable = (dc > 0) & (error > 0)
    order = np.argsort(dc[usable])[: int(fit_points)]
    x, y = np.log(dc[usable][order]), np.log(error[usable][order])
    if x.size < 2 or np.ptp(x) == 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def sweep_contexts(cmdp: SymbolicCMDP, context0, dc, direction=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a sweep ``c0 + dc_k * direction`` before any solve; return ``(c0, unit direction, dc)``.

    ``direction`` defaults to the first coordinate axis and is normalized; ``dc`` must be a non-empty list
    of finite numbers and every ``c0 + dc_k * direction`` must lie in the CMDP's context box (InputError
    naming the first that does not).
    """
    context0 = cmdp.check_context(context0, name="c0")
    if direction is None:
        direction = np.eye(cmdp.context_dimension)[0]
    direction = as_context_vector(direction, cmdp.context_dimension, name="direction")
    norm = np.linalg.norm(direction)
    if norm == 0:
        raise InputError("direction must be a nonzero vector")
    dc = np.atleast_1d(np.asarray(dc, dtype=np.float64))
    if dc.ndim != 1 or dc.size == 0 or not np.all(np.isfinite(dc)):
        raise InputError(f"dc must be a non-empty list of finite numbers, got {dc.tolist()}")
    direction = direction / norm
    for step in dc:
        cmdp.check_context(context0 + step * direction, name=f"c0 + dc (dc={step:g})")
    return context0, direction, dc


def q_function(mdp: TabularMDP, gamma: float, policy) -> np.ndarray:
    """``Q^pi`` for ``policy="uniform"`` or an ``(S, A)`` table, or ``Q*`` for ``policy="optimal"``."""
    if isinstance(policy, str):
        if policy == "uniform":
            return evaluate_policy(mdp, uniform_policy(mdp), gamma)
        if policy == "optimal":
            return policy_iteration(mdp, gamma).q
        raise InputError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)} or pass an (S, A) table")
    return evaluate_policy(mdp, policy, gamma)


@dataclass(frozen=True)
class ErrorSweep:
    """Result of :func:`error_sweep`: ``sup_error[i]`` at ``dc[i]``, and the fitted log-log slope."""

    context0: np.ndarray
    direction: np.ndarray
    dc: np.ndarray
    sup_error: np.ndarray
    fitted_slope: float
    fit_points: int
    gamma: float
    policy: str
    transition_variant: str
    projection_acts: np.ndarray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per ``dc``: ``dc, context, sup_error, projection_acts`` plus the sweep's settings."""
        contexts = self.context0[None, :] + self.dc[:, None] * self.direction[None, :]
        frame = pd.DataFrame({"dc": self.dc, "sup_error": self.sup_error, "projection_acts": self.projection_acts})
        for i in range(contexts.shape[1]):
            frame.insert(1 + i, f"context_{i}", contexts[:, i])
        frame["policy"] = self.policy
        frame["transition_variant"] = self.transition_variant
        frame["gamma"] = self.gamma
        return frame

    def to_dict(self) -> dict:
        """Plain JSON-ready dictionary (``dc``, ``sup_error``, ``fitted_slope`` and the settings)."""
        return {
            "context0": self.context0.tolist(),
            "direction": self.direction.tolist(),
            "gamma": self.gamma,
            "policy": self.policy,
            "transition_variant": self.transition_variant,
            "fit_points": self.fit_points,
            "fitted_slope": None if np.isnan(self.fitted_slope) else self.fitted_slope,
            "dc": self.dc.tolist(),
            "sup_error": self.sup_error.tolist(),
            "projection_acts": self.projection_acts.tolist(),
        }


def error_sweep(
    cmdp: SymbolicCMDP,
    context0,
    dc,
    *,
    gamma: float = 0.9,
    policy="uniform",
    transition_variant: str = "projection",
    direction=None,
    fit_points: int = 10,
) -> ErrorSweep:
    """``max |Q_CE - Q_BE|`` at ``c0 + dc * direction`` for every ``dc`` (module docstring).

    Parameters
    ----------
    cmdp:
        The contextual MDP.
    context0:
        The training context ``c0`` (inside the CMDP's context box).
    dc:
        Step sizes along ``direction`` (may be negative); every ``c0 + dc * direction`` must lie in the box.
    gamma:
        Discount in ``[0, 1)``.
    policy:
        ``"uniform"``, ``"optimal"`` or an ``(S, A)`` policy table evaluated in both MDPs.
    transition_variant:
        ``"projection"`` (the paper's) or ``"renormalize"`` (the authors' code).
    direction:
        Unit vector of the context change; default the first coordinate axis.
    fit_points:
        How many of the smallest ``|dc|`` enter :func:`fitted_slope`.
    """
    gamma = check_discount(gamma)
    if transition_variant not in TRANSITION_VARIANTS:
        raise InputError(f"unknown transition variant {transition_variant!r}; choose one of {', '.join(TRANSITION_VARIANTS)}")
    if isinstance(policy, str) and policy not in POLICIES:
        raise InputError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)} or pass an (S, A) table")
    context0, direction, dc = sweep_contexts(cmdp, context0, dc, direction)
    expansion = FirstOrderExpansion.at(cmdp, context0)
    errors = np.empty(dc.size)
    acts = np.empty(dc.size, dtype=bool)
    for i, step in enumerate(dc):
        shift = step * direction
        true_q = q_function(cmdp.mdp(context0 + shift), gamma, policy)
        cebe_q = q_function(expansion.mdp(shift, transition_variant), gamma, policy)
        errors[i] = np.max(np.abs(cebe_q - true_q))
        acts[i] = expansion.projection_acts(shift)
    return ErrorSweep(
        context0=context0,
        direction=direction,
        dc=dc,
        sup_error=errors,
        fitted_slope=fitted_slope(dc, errors, fit_points),
        fit_points=int(fit_points),
        gamma=gamma,
        policy=policy if isinstance(policy, str) else "table",
        transition_variant=transition_variant,
        projection_acts=acts,
    )
