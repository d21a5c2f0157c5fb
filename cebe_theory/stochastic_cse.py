"""Two ways to move a *stochastic* sample to another context, computed exactly on a finite CMDP (open question 1).

CSE (arXiv 2507.07348, Section 5) moves a sample ``(s, a, r, s')`` from ``c0`` to ``c = c0 + dc`` by moving
``s'``, which assumes deterministic dynamics.  With stochastic transitions there are two candidate estimators
of the Bellman backup at ``c`` from samples ``s' ~ T^{c0}(. | s, a)``.  Both use the first-order reward
``R1 = R^{c0} + d_c R^{c0} dc`` (as CEBE does), so they differ only in how the transition is treated:

**Reparameterized (pathwise, transport map).**  Write ``s' = g(s, a, u; c)`` with noise ``u ~ U[0, 1]`` that does
not depend on ``c`` (inverse-CDF sampling) and move ``s'`` by ``d_c g dc`` holding ``u`` fixed.  On a *finite*
state space ``g`` is piecewise constant in ``c`` (``s'`` changes only when ``u`` crosses a CDF breakpoint), so
``d_c g = 0`` for almost every ``u``: the sample keeps ``s'`` and only its reward moves.  In expectation this is
the MDP ``(T^{c0}, R1)`` (:func:`pathwise_mdp`) and its error is **first order** in ``dc`` wherever ``T``
depends on ``c``.  (For continuous, additive noise the same estimator is exact to first order:
:mod:`cebe_deep.tasks.noisy_pendulum`.)

**Importance-weighted.**  Keep ``s'`` and weight its target by ``w(s') = T^{c}(s' | s, a) / T^{c0}(s' | s, a)``,
optionally clipped at ``max_weight``.  In expectation this is the kernel ``T^{c0} w`` (:func:`importance_weighted_mdp`):
unclipped it is exactly ``T^c`` (where ``T^{c0} > 0`` covers ``T^c``'s support), so the only error left is the
reward's, **second order**; clipping makes the kernel substochastic.  With first-order weights
``w = 1 + d_c T dc / T^{c0}`` the kernel is ``T^{c0} + d_c T dc``, CEBE's before its projection.

Exact answers: ``Q_BE`` at ``c`` (:mod:`cebe_theory.bellman`), CEBE's ``Q_CE`` (:mod:`cebe_theory.cebe`), and for
each estimator the Q-function of its expected kernel, plus the exact mean and variance of one sample's target
(:func:`target_statistics`).  :func:`stochastic_cliffwalking` is the example with the two effects on separate
axes: the slip ``p`` moves only ``T``, a reward parameter ``b`` moves only ``R``.

>>> cmdp = stochastic_cliffwalking()
>>> sweep = estimator_sweep(cmdp, [0.1, 0.0], [1e-4, 1e-3, 1e-2], direction=[1.0, 0.0], fit_points=3)
>>> round(sweep.slopes["pathwise"], 2), bool(sweep.sup_error["importance"].max() < 1e-10)
(1.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sympy

from cebe_theory.bellman import check_discount, evaluate_policy, uniform_policy
from cebe_theory.cebe import FirstOrderExpansion
from cebe_theory.cliffwalking import CliffWalking
from cebe_theory.cmdp import SymbolicCMDP, TabularMDP
from cebe_theory.errors import InputError
from cebe_theory.sweep import fitted_slope, q_function, sweep_contexts

__all__ = [
    "stochastic_cliffwalking",
    "pathwise_mdp",
    "importance_weighted_mdp",
    "TargetStatistics",
    "target_statistics",
    "EstimatorSweep",
    "estimator_sweep",
    "ESTIMATORS",
]

#: The estimators :func:`estimator_sweep` compares (``cebe``: the paper's projected first-order kernel).
ESTIMATORS = ("cebe", "pathwise", "importance", "importance_first_order")

SLIP = sympy.Symbol("p", positive=True)
REWARD_PARAMETER = sympy.Symbol("b", real=True)


def stochastic_cliffwalking(rows: int = 5, cols: int = 6) -> CliffWalking:
    """Cliffwalking with a two-dimensional context ``c = (p, b)``: slip probability ``p`` (moves only ``T``) and a
    reward parameter ``b`` (moves only ``R``): goal ``(1 + b)^(-3/2)``, fall ``-10 / (1 + b)`` (the paper's
    "power" family with ``p`` replaced by ``b``).  Box ``p in [0, 1]``, ``b in [-0.5, 1]``; ``c0 = (0.1, 0)``
    is the natural base.  Along ``p`` the transitions are affine and the rewards fixed, so CEBE and the
    importance-weighted estimator are exact and the pathwise one is first-order; along ``b`` the three agree.
    """
    goal = (1 + REWARD_PARAMETER) ** sympy.Rational(-3, 2)
    fall = -10 / (1 + REWARD_PARAMETER)
    return CliffWalking(rows, cols, context=[SLIP, REWARD_PARAMETER], slip=SLIP, goal_reward=goal, fall_reward=fall,
                        context_box=([0.0, -0.5], [1.0, 1.0]), family="slip-and-reward")


def _tabular(cmdp: SymbolicCMDP, transition: np.ndarray, reward: np.ndarray) -> TabularMDP:
    return TabularMDP(cmdp.n_states, cmdp.n_actions, cmdp.matrix(transition), cmdp.matrix(reward))


def pathwise_mdp(expansion: FirstOrderExpansion, dc) -> TabularMDP:
    """The expected MDP of the reparameterized estimator at ``c0 + dc``: ``(T^{c0}, R^{c0} + d_c R dc)``
    (module docstring: on a finite state space the transport map's ``d_c s'`` vanishes almost surely)."""
    return _tabular(expansion.cmdp, expansion.derivatives.transition, expansion.reward(dc))


def _weights(expansion: FirstOrderExpansion, dc, weights: str, max_weight: float) -> np.ndarray:
    """Per pattern entry ``w(s' | s, a)`` (0 where ``T^{c0} = 0``: importance weighting never sees those)."""
    base = expansion.derivatives.transition
    if weights == "exact":
        target = expansion.cmdp.mdp(expansion.context0 + np.asarray(dc, dtype=np.float64))
        moved = target.transition[expansion.cmdp.pattern_rows, expansion.cmdp.pattern_cols].A1
    elif weights == "first_order":
        moved = expansion.linear_transition(dc)
    else:
        raise InputError(f"weights must be 'exact' or 'first_order', got {weights!r}")
    ratio = np.divide(moved, base, out=np.zeros_like(base), where=base > 0)
    return np.minimum(ratio, max_weight)


def importance_weighted_mdp(expansion: FirstOrderExpansion, dc, *, max_weight: float = np.inf,
                            weights: str = "exact") -> TabularMDP:
    """The expected MDP of the importance-weighted estimator at ``c0 + dc``: kernel ``T^{c0} w``, reward
    ``R^{c0} + d_c R dc``, with ``w = min(T^c / T^{c0}, max_weight)`` (``weights="exact"``) or
    ``w = 1 + d_c T dc / T^{c0}`` (``"first_order"``, not clipped below; clipped above at ``max_weight``).
    Rows need not sum to 1 (clipping loses mass); the Bellman equation is still solved exactly."""
    w = _weights(expansion, dc, weights, max_weight)
    return _tabular(expansion.cmdp, expansion.derivatives.transition * w, expansion.reward(dc))


@dataclass(frozen=True)
class TargetStatistics:
    """Exact moments of one sample's TD target ``y`` at ``c0 + dc``, per ``(s, a)`` (arrays ``(S, A)``).

    ``s' ~ T^{c0}(. | s, a)``, ``V = V^pi`` of the true MDP at ``c0 + dc``; the exact backup is ``Q_BE(s, a)``.
    ``pathwise``: ``y = R1(s, a, s') + gamma V(s')``; ``importance``: ``y = w(s') (R1 + gamma V(s'))``.
    ``*_bias = E[y] - Q_BE``; ``*_std = sqrt(Var[y])``; ``ess_fraction = (E w)^2 / E[w^2]`` (the effective
    sample size of a batch, per sample, for this ``(s, a)``).
    """

    exact_backup: np.ndarray
    pathwise_bias: np.ndarray
    pathwise_std: np.ndarray
    importance_bias: np.ndarray
    importance_std: np.ndarray
    ess_fraction: np.ndarray


def target_statistics(cmdp: SymbolicCMDP, context0, dc, *, gamma: float = 0.9, policy=None,
                      max_weight: float = np.inf) -> TargetStatistics:
    """Exact mean and variance of the two one-sample targets (see :class:`TargetStatistics`), by summing over
    ``s'``.  ``policy``: an ``(S, A)`` table (default uniform)."""
    gamma = check_discount(gamma)
    expansion = FirstOrderExpansion.at(cmdp, context0)
    dc = np.asarray(dc, dtype=np.float64)
    true = cmdp.mdp(expansion.context0 + dc)
    policy = uniform_policy(true) if policy is None else np.asarray(policy, dtype=np.float64)
    q = evaluate_policy(true, policy, gamma)
    value = (policy * q).sum(axis=1)
    rows, cols = cmdp.pattern_rows, cmdp.pattern_cols
    base = expansion.derivatives.transition
    target = expansion.reward(dc) + gamma * value[cols]          # y(s') per pattern entry
    w = _weights(expansion, dc, "exact", max_weight)
    n = cmdp.n_states * cmdp.n_actions

    def moments(sample):
        mean = np.bincount(rows, weights=base * sample, minlength=n)
        second = np.bincount(rows, weights=base * sample**2, minlength=n)
        return mean, np.sqrt(np.maximum(second - mean**2, 0.0))

    exact = q.reshape(-1)
    path_mean, path_std = moments(target)
    iw_mean, iw_std = moments(w * target)
    mean_w = np.bincount(rows, weights=base * w, minlength=n)
    second_w = np.bincount(rows, weights=base * w**2, minlength=n)
    ess = np.divide(mean_w**2, second_w, out=np.ones(n), where=second_w > 0)
    shape = (cmdp.n_states, cmdp.n_actions)
    return TargetStatistics(
        exact_backup=q, pathwise_bias=(path_mean - exact).reshape(shape), pathwise_std=path_std.reshape(shape),
        importance_bias=(iw_mean - exact).reshape(shape), importance_std=iw_std.reshape(shape),
        ess_fraction=ess.reshape(shape),
    )


@dataclass(frozen=True)
class EstimatorSweep:
    """``sup_error[name][i] = max |Q_name - Q_BE|`` at ``c0 + dc[i] direction`` for each name in
    :data:`ESTIMATORS`, the fitted log-log slope of each, and the smallest per-(s, a) ESS fraction of the
    exact importance weights at each ``dc``."""

    context0: np.ndarray
    direction: np.ndarray
    dc: np.ndarray
    sup_error: dict[str, np.ndarray]
    slopes: dict[str, float]
    min_ess_fraction: np.ndarray
    gamma: float
    max_weight: float
    fit_points: int = field(default=10)

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per ``(dc, estimator)`` with ``sup_error``, ``min_ess_fraction`` and the settings."""
        frames = []
        for name, errors in self.sup_error.items():
            frames.append(pd.DataFrame({"dc": self.dc, "estimator": name, "sup_error": errors,
                                        "min_ess_fraction": self.min_ess_fraction}))
        frame = pd.concat(frames, ignore_index=True)
        frame["gamma"], frame["max_weight"] = self.gamma, self.max_weight
        return frame


def estimator_sweep(cmdp: SymbolicCMDP, context0, dc, *, direction=None, gamma: float = 0.9, policy="uniform",
                    max_weight: float = np.inf, fit_points: int = 10) -> EstimatorSweep:
    """The CEBE error sweep (:func:`cebe_theory.sweep.error_sweep`) for the estimators of :data:`ESTIMATORS`.

    ``policy``: ``"uniform"``, ``"optimal"`` (each MDP its own optimal policy) or an ``(S, A)`` table.
    ``max_weight`` clips the exact importance weights (and the first-order ones from above).
    """
    gamma = check_discount(gamma)
    context0, direction, dc = sweep_contexts(cmdp, context0, dc, direction)
    expansion = FirstOrderExpansion.at(cmdp, context0)
    errors = {name: np.empty(dc.size) for name in ESTIMATORS}
    min_ess = np.empty(dc.size)
    for i, step in enumerate(dc):
        shift = step * direction
        true_q = q_function(cmdp.mdp(context0 + shift), gamma, policy)
        models = {
            "cebe": expansion.mdp(shift),
            "pathwise": pathwise_mdp(expansion, shift),
            "importance": importance_weighted_mdp(expansion, shift, max_weight=max_weight),
            "importance_first_order": importance_weighted_mdp(expansion, shift, max_weight=max_weight, weights="first_order"),
        }
        for name, model in models.items():
            errors[name][i] = np.max(np.abs(q_function(model, gamma, policy) - true_q))
        w = _weights(expansion, shift, "exact", max_weight)
        base, rows, n = expansion.derivatives.transition, cmdp.pattern_rows, cmdp.n_states * cmdp.n_actions
        mean_w = np.bincount(rows, weights=base * w, minlength=n)
        second_w = np.bincount(rows, weights=base * w**2, minlength=n)
        min_ess[i] = float(np.min(np.divide(mean_w**2, second_w, out=np.ones(n), where=second_w > 0)))
    slopes = {name: fitted_slope(dc, values, fit_points) for name, values in errors.items()}
    return EstimatorSweep(context0=context0, direction=direction, dc=dc, sup_error=errors, slopes=slopes,
                          min_ess_fraction=min_ess, gamma=gamma, max_weight=float(max_weight), fit_points=int(fit_points))
