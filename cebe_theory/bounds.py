"""Theorems 1 and 3 as calculators that show every constant (PAPER.md section 3), and their checks.

Theorem 2 (deterministic CEBE) is evaluated on the contextual LQR in :mod:`cebe_theory.lqr`, Theorem 4
(policy transfer) in :mod:`cebe_theory.transfer`; all four return the same :class:`BoundResult`.

Reading of the norms (one reading, used everywhere in ``cebe_theory``)
-----------------------------------------------------------------------
Metric on a finite state space: the **discrete metric** ``d(s, s~) = 1[s != s~]``; on actions too, and on
state-action pairs ``d((s, a), (s~, a~)) = 1[(s, a) != (s~, a~)]``. Consequences:

- ``W_1(mu, nu) = TV(mu, nu) = 1/2 |mu - nu|_1`` (Kantorovich duality with 1-Lipschitz = oscillation <= 1);
- ``diam(S) = 1``;
- the Lipschitz constant of a function ``f`` is its oscillation ``max f - min f`` (``<= 2 sup |f|``);
- ``L_T = max_{(s,a), (s~,a~)} TV(T(s,a), T(s~,a~))`` (``<= 1``) and, for a policy table,
  ``L_pi = max_{s, s~} TV(pi(s), pi(s~))``: 0 for the uniform policy, 1 for a non-constant deterministic one.

(A grid metric is the other natural choice; it makes ``W_1`` larger than TV and ``diam(S)`` the grid's
diameter. We use the discrete metric because the simplex projection's error is controlled in ``l1``,
which is exactly TV; see below.)

Sup norms are over ``(s, a, s')`` on the CMDP's sparse pattern and over contexts on the segment
``[c0, c0 + dc]``, the sup over the segment taken on sample points of the segment (33 evenly spaced points,
both ends included, or every point of a sweep's grid). For a vector context, first derivatives are
Euclidean norms of gradients and second derivatives spectral norms of ``d x d`` Hessians:

- ``|R| = sup |R^c(s,a,s')|``, ``|DR| = sup |d_c R|``, ``|D^2R| = sup |d_c^2 R|``;
- ``|DT| = sup_{s,a} sum_{s'} |d_c T(s'|s,a)|`` and ``|D^2T| = sup_{s,a} sum_{s'} sup_c |d_c^2 T(s'|s,a)|``:
  the ``l1`` norm over next states, i.e. twice the TV size of the derivative of a row.

Theorem 1 reads ``R`` as the expected reward ``r(s, a) = sum_s' T(s'|s,a) R(s,a,s')`` (the theorem is
about two MDPs given by ``(T, r)``); with that reading the published formula is a proven bound.

Theorem 3 reads ``R`` as ``R(s, a, s')`` (CEBE linearizes it on the pattern) and ``|R|_Lip`` as its
oscillation. Our own derivation under these readings, which we also report as ``discrete_metric_bound``::

    |Q_CE - Q_BE| <= 1/(1-gamma) [ |R_CE - R^c| + TV(T_CE, T^c) (osc_{s'} R + gamma osc V^c) ]
    |R_CE - R^c|     <= 1/2 |D^2R| |dc|^2                       (Taylor, remainder on the segment)
    TV(T_CE, T^c)    <= 1/2 * 3 |T^{c0} + d_cT dc - T^c|_1 <= 3/4 |D^2T| |dc|^2
    osc V^c          <= osc R / (1 - gamma)

(the factor 3: for a row ``x`` summing to 1 with negative mass ``N`` and any distribution ``y``, the
projection ``P[x] = max(x - tau, 0)`` has ``tau >= 0`` and ``|P[x] - x|_1 = 2 N <= 2 |x - y|_1``). Here
``osc_{s'} R`` is the largest oscillation of ``R(s, a, .)`` within one row. Comparing with the published
formula: it is implied by ours whenever ``R`` does not depend on ``s'`` (``osc_{s'} R = 0``) or
``gamma >= 1/4`` (``3 gamma >= 3/4``). For ``gamma < 1/4`` and a next-state reward the published formula
misses the first-step term ``TV * osc_{s'} R`` (its transition term carries a factor ``gamma``) and can be
violated; ``tests/theory/test_bounds.py`` shows a counterexample.

When a condition fails the result says so: ``bound`` is ``None`` and the table prints the failed
condition; ``formula_value`` keeps the formula's number for plots, and is not a bound then.

>>> from cebe_theory.cliffwalking import windy_cliffwalking
>>> result = theorem3_bound(windy_cliffwalking(), [-0.2], [0.05], gamma=0.9)
>>> result.conditions_hold, round(result.constant("|D^2T|"), 6), result.constant("diam(S)")
(True, 4.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cebe_theory.bellman import check_discount
from cebe_theory.cebe import FirstOrderExpansion
from cebe_theory.cmdp import SymbolicCMDP, TabularMDP
from cebe_theory.sweep import q_function
from cebe_theory.symbolic import as_context_vector

__all__ = [
    "METRIC",
    "Constant",
    "Condition",
    "BoundResult",
    "BoundCheck",
    "checks_frame",
    "policy_lipschitz",
    "transition_lipschitz",
    "total_variation_rows",
    "theorem1_bound",
    "theorem1_check",
    "theorem3_bound",
    "theorem3_check",
    "theorem3_sweep",
    "write_bounds_report",
    "bounds_command",
]

METRIC = "discrete"
SEGMENT_POINTS = 33
# A measured error may exceed a bound by this relative amount before we call it a violation: the exact
# solver's floating-point error (sparse LU, cond(I - gamma P) <= 2 / (1 - gamma)).
FLOAT_SLACK = 1e-9


# ----------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Constant:
    """One constant of a bound: its symbol as in PAPER.md, its value and how we read it."""

    name: str
    value: float
    reading: str


@dataclass(frozen=True)
class Condition:
    """A hypothesis of a theorem, written ``lhs < rhs``."""

    statement: str
    lhs: float
    rhs: float

    @property
    def holds(self) -> bool:
        return bool(self.lhs < self.rhs)

    def __str__(self) -> str:
        verdict = "holds" if self.holds else "FAILS"
        return f"{self.statement}: {self.lhs:.4g} < {self.rhs:.4g} {verdict}"


@dataclass(frozen=True)
class BoundResult:
    """A theorem's bound with every constant that enters it.

    ``bound`` is the formula's value when every condition holds and ``None`` otherwise;
    ``formula_value`` always holds the formula's number (``nan`` if a denominator is not positive).
    ``discrete_metric_bound`` is the bound we derive ourselves under the same readings (Theorem 3 only).
    """

    theorem: str
    setting: str
    gamma: float
    dc_norm: float
    constants: tuple[Constant, ...]
    conditions: tuple[Condition, ...]
    formula: str
    formula_value: float
    discrete_metric_bound: float | None = None

    @property
    def conditions_hold(self) -> bool:
        return all(condition.holds for condition in self.conditions)

    @property
    def bound(self) -> float | None:
        return self.formula_value if self.conditions_hold else None

    @property
    def failed_conditions(self) -> list[str]:
        return [str(condition) for condition in self.conditions if not condition.holds]

    def constant(self, name: str) -> float:
        for constant in self.constants:
            if constant.name == name:
                return constant.value
        raise ValueError(f"no constant {name!r} in {self.theorem}; have {', '.join(c.name for c in self.constants)}")

    def as_row(self) -> dict:
        """Flat dictionary for a table row: settings, every constant, conditions and the bound."""
        row = {"theorem": self.theorem, "setting": self.setting, "gamma": self.gamma, "|dc|": self.dc_norm}
        row.update({constant.name: constant.value for constant in self.constants})
        row["conditions"] = "hold" if self.conditions_hold else "condition fails: " + "; ".join(self.failed_conditions)
        row["formula_value"] = self.formula_value
        row["bound"] = self.bound if self.bound is not None else float("nan")
        if self.discrete_metric_bound is not None:
            row["discrete_metric_bound"] = self.discrete_metric_bound
        return row

    def table(self) -> str:
        lines = [f"{self.theorem}  ({self.setting}, gamma={self.gamma:g}, |dc|={self.dc_norm:.4g})", f"  bound = {self.formula}"]
        width = max(len(c.name) for c in self.constants) if self.constants else 0
        for constant in self.constants:
            lines.append(f"  {constant.name:<{width}}  {constant.value:>12.6g}   {constant.reading}")
        for condition in self.conditions:
            lines.append(f"  condition  {condition}")
        if self.conditions_hold:
            lines.append(f"  bound      {self.formula_value:.6g}")
        else:
            lines.append(f"  bound      none: condition fails (the formula would give {self.formula_value:.6g})")
        if self.discrete_metric_bound is not None:
            lines.append(f"  ours       {self.discrete_metric_bound:.6g}   (discrete-metric derivation, module docstring)")
        return "\n".join(lines)

    __str__ = table


@dataclass(frozen=True)
class BoundCheck:
    """A bound next to the measured ``|Q_CE - Q_BE|_inf`` (or ``|Q1 - Q2|_inf``), with ``ratio = bound / measured``."""

    result: BoundResult
    measured: float
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def ratio(self) -> float | None:
        if self.result.bound is None:
            return None
        return math.inf if self.measured == 0 else self.result.bound / self.measured

    @property
    def within_bound(self) -> bool | None:
        """``measured <= bound`` (up to :data:`FLOAT_SLACK`), or ``None`` when a condition fails."""
        if self.result.bound is None:
            return None
        return bool(self.measured <= self.result.bound * (1 + FLOAT_SLACK) + 1e-12)

    def as_row(self) -> dict:
        row = self.result.as_row()
        row["measured"] = self.measured
        row["ratio"] = self.ratio if self.ratio is not None else float("nan")
        row["within_bound"] = self.within_bound
        row.update(self.extra)
        return row

    def __str__(self) -> str:
        verdict = {None: "not checked (condition fails)", True: "measured <= bound", False: "VIOLATED"}[self.within_bound]
        ratio = "" if self.ratio is None else f", ratio bound/measured = {self.ratio:.4g}"
        return f"{self.result}\n  measured   {self.measured:.6g}   {verdict}{ratio}"


def checks_frame(checks: Sequence[BoundCheck]) -> pd.DataFrame:
    """One row per check (:meth:`BoundCheck.as_row`)."""
    return pd.DataFrame([check.as_row() for check in checks])


# ----------------------------------------------------------------------------------------- metric helpers
def total_variation_rows(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``TV`` between matching rows of two ``(n, S)`` arrays: ``1/2 sum_s' |first - second|``."""
    return 0.5 * np.abs(np.asarray(first) - np.asarray(second)).sum(axis=-1)


def _pairwise_total_variation_max(rows: np.ndarray) -> float:
    """``max_{i, j} TV(rows[i], rows[j])`` for an ``(n, S)`` array (chunked to bound memory)."""
    rows = np.asarray(rows, dtype=np.float64)
    best = 0.0
    chunk = max(1, 2_000_000 // max(1, rows.shape[0] * rows.shape[1]))
    for start in range(0, rows.shape[0], chunk):
        block = rows[start : start + chunk]
        best = max(best, float(0.5 * np.abs(block[:, None, :] - rows[None, :, :]).sum(axis=-1).max()))
    return best


def transition_lipschitz(mdp: TabularMDP) -> float:
    """``L_T = max TV(T(s,a), T(s~,a~))`` over all pairs of state-action rows (discrete metric on S x A)."""
    return _pairwise_total_variation_max(mdp.transition.toarray())


def policy_lipschitz(policy: np.ndarray) -> float:
    """``L_pi = max_{s, s~} TV(pi(s), pi(s~))`` (discrete metrics on S and A): 0 uniform, 1 deterministic non-constant."""
    return _pairwise_total_variation_max(np.asarray(policy, dtype=np.float64))


def _policy_table(cmdp_or_mdp, policy) -> tuple[np.ndarray, str]:
    n_states, n_actions = cmdp_or_mdp.n_states, cmdp_or_mdp.n_actions
    if isinstance(policy, str):
        if policy != "uniform":
            raise ValueError(f"policy must be 'uniform' or an (S, A) table (a bound is for one fixed policy), got {policy!r}")
        return np.full((n_states, n_actions), 1.0 / n_actions), "uniform"
    table = np.asarray(policy, dtype=np.float64)
    if table.shape != (n_states, n_actions):
        raise ValueError(f"policy must have shape ({n_states}, {n_actions}), got {table.shape}")
    if np.any(table < -1e-12) or not np.allclose(table.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("policy rows must be probability distributions over actions")
    deterministic = np.all(np.isclose(table.max(axis=1), 1.0))
    return table, "deterministic table" if deterministic else "stochastic table"


# ----------------------------------------------------------------------------------------- Theorem 1
def theorem1_bound(mdp1: TabularMDP, mdp2: TabularMDP, policy="uniform", gamma: float = 0.9, *, setting: str = "two MDPs") -> BoundResult:
    """Theorem 1 (Q stability) for two finite MDPs under the discrete metric (module docstring)::

        |Q1^pi - Q2^pi|_inf <= 1/(1-gamma) * ( dR + gamma (1+L_pi) dT |R2|_Lip / (1 - gamma max(1, L_T2 (1+L_pi))) )
        if gamma < 1 / (max(L_T1, L_T2) (1 + L_pi)),

    with ``dR = |r1 - r2|_inf`` (expected rewards ``r(s,a) = sum_s' T R``), ``dT = max_{s,a} TV(T1(s,a), T2(s,a))``
    (``W_1`` under the discrete metric), ``|R2|_Lip = max r2 - min r2`` (Lipschitz constant of ``r2`` under
    the discrete metric on ``S x A``), ``L_Ti = max TV`` between rows of ``Ti`` and ``L_pi`` from
    :func:`policy_lipschitz`. Under this reading the formula is proven: ``Q1 - Q2 = (r1 - r2) +
    gamma (T1 - T2) V2 + gamma T1 (V1 - V2)``, ``|(T1 - T2) V2| <= dT osc V2`` and
    ``osc V2 <= osc Q2 <= osc r2 / (1 - gamma L_T2)``.
    """
    gamma = check_discount(gamma)
    if (mdp1.n_states, mdp1.n_actions) != (mdp2.n_states, mdp2.n_actions):
        raise ValueError(f"the two MDPs must have the same sizes, got {(mdp1.n_states, mdp1.n_actions)} and {(mdp2.n_states, mdp2.n_actions)}")
    table, policy_name = _policy_table(mdp2, policy)
    r1, r2 = mdp1.expected_reward(), mdp2.expected_reward()
    reward_gap = float(np.abs(r1 - r2).max())
    transition_gap = float(total_variation_rows(mdp1.transition.toarray(), mdp2.transition.toarray()).max())
    lt1, lt2 = transition_lipschitz(mdp1), transition_lipschitz(mdp2)
    lpi = policy_lipschitz(table)
    reward_lip = float(r2.max() - r2.min())
    growth = max(1.0, lt2 * (1 + lpi))
    denominator = 1 - gamma * growth
    value = (reward_gap + gamma * (1 + lpi) * transition_gap * reward_lip / denominator) / (1 - gamma) if denominator > 0 else float("nan")
    worst = max(lt1, lt2) * (1 + lpi)
    constants = (
        Constant("dR", reward_gap, "max_{s,a} |r1 - r2|, expected rewards r = sum_s' T R"),
        Constant("dT", transition_gap, "max_{s,a} W_1(T1, T2) = TV (discrete metric)"),
        Constant("L_T1", lt1, "max TV between rows of T1"),
        Constant("L_T2", lt2, "max TV between rows of T2"),
        Constant("L_pi", lpi, f"max TV between rows of pi ({policy_name})"),
        Constant("|R2|_Lip", reward_lip, "max r2 - min r2 (oscillation)"),
        Constant("diam(S)", 1.0, "discrete metric"),
    )
    conditions = (
        Condition("gamma < 1/(max(L_T1, L_T2)(1+L_pi))", gamma, math.inf if worst == 0 else 1 / worst),
        Condition("gamma max(1, L_T2(1+L_pi)) < 1 (denominator)", gamma * growth, 1.0),
    )
    formula = "1/(1-g) (dR + g (1+L_pi) dT |R2|_Lip / (1 - g max(1, L_T2 (1+L_pi))))"
    return BoundResult("Theorem 1", setting, gamma, float("nan"), constants, conditions, formula, float(value))


def theorem1_check(mdp1: TabularMDP, mdp2: TabularMDP, policy="uniform", gamma: float = 0.9, *, setting: str = "two MDPs") -> BoundCheck:
    """:func:`theorem1_bound` next to the measured ``|Q1^pi - Q2^pi|_inf`` (both by exact evaluation)."""
    result = theorem1_bound(mdp1, mdp2, policy, gamma, setting=setting)
    table, _ = _policy_table(mdp2, policy)
    measured = float(np.abs(q_function(mdp1, gamma, table) - q_function(mdp2, gamma, table)).max())
    return BoundCheck(result, measured)


# ----------------------------------------------------------------------------------------- Theorem 3
@dataclass(frozen=True)
class _PointConstants:
    """Per-context quantities at sample points ``c0 + t_i dc_direction`` of a segment (arrays over points)."""

    steps: np.ndarray  # (n,) signed step t_i along the direction
    reward_sup: np.ndarray
    reward_oscillation: np.ndarray
    next_state_reward_oscillation: np.ndarray
    d1_reward: np.ndarray
    d2_reward: np.ndarray
    d1_transition: np.ndarray
    d2_transition_entries: np.ndarray  # (n, nnz)
    transition_lipschitz: np.ndarray


def _spectral_norms(hessians: np.ndarray) -> np.ndarray:
    """``|H_k|_2`` for ``hessians`` of shape ``(d, d, nnz)`` (symmetric)."""
    stacked = np.moveaxis(hessians, -1, 0)
    return np.abs(np.linalg.eigvalsh(stacked)).max(axis=-1)


def _row_max(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    out = np.full(n_rows, -np.inf)
    np.maximum.at(out, rows, values)
    return out


def _row_min(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    out = np.full(n_rows, np.inf)
    np.minimum.at(out, rows, values)
    return out


def _point_constants(cmdp: SymbolicCMDP, context0: np.ndarray, direction: np.ndarray, steps: np.ndarray) -> _PointConstants:
    n_rows = cmdp.n_states * cmdp.n_actions
    fields: dict[str, list] = {name: [] for name in _PointConstants.__dataclass_fields__ if name != "steps"}
    for step in steps:
        der = cmdp.derivatives(context0 + step * direction, second=True)
        reward = der.reward
        fields["reward_sup"].append(np.abs(reward).max())
        fields["reward_oscillation"].append(reward.max() - reward.min())
        within_row = _row_max(reward, cmdp.pattern_rows, n_rows) - _row_min(reward, cmdp.pattern_rows, n_rows)
        fields["next_state_reward_oscillation"].append(within_row.max())
        fields["d1_reward"].append(np.linalg.norm(der.dreward, axis=0).max())
        fields["d2_reward"].append(_spectral_norms(der.d2reward).max())
        gradient_norms = np.linalg.norm(der.dtransition, axis=0)
        fields["d1_transition"].append(np.bincount(cmdp.pattern_rows, weights=gradient_norms, minlength=n_rows).max())
        fields["d2_transition_entries"].append(_spectral_norms(der.d2transition))
        dense = cmdp.matrix(der.transition).toarray()
        fields["transition_lipschitz"].append(_pairwise_total_variation_max(dense))
    return _PointConstants(steps=np.asarray(steps, float), **{k: np.asarray(v) for k, v in fields.items()})


def _theorem3_result(cmdp, points: _PointConstants, mask: np.ndarray, dc_norm: float, gamma: float, lpi: float, policy_name: str, setting: str) -> BoundResult:
    n_rows = cmdp.n_states * cmdp.n_actions
    d2t_entries = points.d2_transition_entries[mask].max(axis=0)
    d2t = float(np.bincount(cmdp.pattern_rows, weights=d2t_entries, minlength=n_rows).max())
    sup = {name: float(getattr(points, name)[mask].max()) for name in (
        "reward_sup", "reward_oscillation", "next_state_reward_oscillation", "d1_reward", "d2_reward", "d1_transition", "transition_lipschitz")}
    diameter = 1.0
    reward_lip = sup["reward_oscillation"]
    growth = max(1.0, diameter * sup["transition_lipschitz"] * (1 + lpi))
    denominator = 1 - gamma * growth
    if denominator > 0:
        value = dc_norm**2 / (1 - gamma) * (sup["d2_reward"] + 3 * gamma * diameter * (1 + lpi) * reward_lip * d2t / denominator)
    else:
        value = float("nan")
    ours = dc_norm**2 / (1 - gamma) * (
        0.5 * sup["d2_reward"] + 0.75 * d2t * (sup["next_state_reward_oscillation"] + gamma * reward_lip / (1 - gamma))
    )
    constants = (
        Constant("|R|", sup["reward_sup"], "sup |R(s,a,s')| on the pattern and the segment"),
        Constant("|DR|", sup["d1_reward"], "sup |d_c R| (Euclidean norm of the gradient)"),
        Constant("|D^2R|", sup["d2_reward"], "sup |d_c^2 R| (spectral norm)"),
        Constant("|DT|", sup["d1_transition"], "sup_{s,a} sum_s' |d_c T(s'|s,a)|  (l1 over s')"),
        Constant("|D^2T|", d2t, "sup_{s,a} sum_s' sup_c |d_c^2 T(s'|s,a)|  (l1 over s')"),
        Constant("|R|_Lip", reward_lip, "max R - min R (Lipschitz under the discrete metric)"),
        Constant("osc_s' R", sup["next_state_reward_oscillation"], "largest oscillation of R(s,a,.) within a row (ours only)"),
        Constant("L_T", sup["transition_lipschitz"], "max TV between rows of T^c, sup over the segment"),
        Constant("L_pi", lpi, f"max TV between rows of pi ({policy_name})"),
        Constant("diam(S)", diameter, "discrete metric"),
    )
    conditions = (
        Condition("|dc| < |D^2T|^(-1/2)", dc_norm, math.inf if d2t == 0 else d2t**-0.5),
        Condition("gamma max(1, diam(S) L_T (1+L_pi)) < 1 (denominator)", gamma * growth, 1.0),
    )
    formula = "|dc|^2/(1-g) (|D^2R| + 3 g diam(S) (1+L_pi) |R|_Lip |D^2T| / (1 - g max(1, diam(S) L_T (1+L_pi))))"
    return BoundResult("Theorem 3", setting, gamma, dc_norm, constants, conditions, formula, float(value), float(ours))


def _segment_setup(cmdp: SymbolicCMDP, context0, dc):
    context0 = cmdp.check_context(context0, name="c0")
    dc = as_context_vector(dc, cmdp.context_dimension, name="dc")
    norm = float(np.linalg.norm(dc))
    direction = dc / norm if norm > 0 else np.eye(cmdp.context_dimension)[0]
    cmdp.check_context(context0 + dc, name="c0 + dc")
    return context0, dc, norm, direction


def theorem3_bound(cmdp: SymbolicCMDP, context0, dc, policy="uniform", gamma: float = 0.9, *, n_segment: int = SEGMENT_POINTS, setting: str | None = None) -> BoundResult:
    """Theorem 3 (stochastic CEBE with the l2 simplex projection) on ``[c0, c0 + dc]``::

        |Q_CE^c - Q_BE^c|_inf <= |dc|^2/(1-gamma) ( |D^2R| + 3 gamma diam(S) (1+L_pi) |R|_Lip |D^2T|
                                                    / (1 - gamma max(1, diam(S) L_T (1+L_pi))) )
        if |dc| < |D^2T|^(-1/2)   (and the denominator is positive).

    Norms as in the module docstring (discrete metric, sups over the segment on ``n_segment`` points).
    ``policy``: ``"uniform"`` or an ``(S, A)`` table (the bound is for one fixed policy).
    """
    gamma = check_discount(gamma)
    if int(n_segment) < 2:
        raise ValueError(f"n_segment must be at least 2, got {n_segment}")
    context0, dc, norm, direction = _segment_setup(cmdp, context0, dc)
    table, policy_name = _policy_table(cmdp, policy)
    steps = np.linspace(0.0, norm, int(n_segment))
    points = _point_constants(cmdp, context0, direction, steps)
    setting = setting or f"{cmdp!r}, c0={context0.tolist()}, {policy_name} policy"
    return _theorem3_result(cmdp, points, np.ones(steps.size, bool), norm, gamma, policy_lipschitz(table), policy_name, setting)


def _measured_cebe_error(cmdp, expansion: FirstOrderExpansion, shift: np.ndarray, gamma: float, table: np.ndarray) -> float:
    true_q = q_function(cmdp.mdp(expansion.context0 + shift), gamma, table)
    cebe_q = q_function(expansion.mdp(shift, "projection"), gamma, table)
    return float(np.abs(cebe_q - true_q).max())


def theorem3_check(cmdp: SymbolicCMDP, context0, dc, policy="uniform", gamma: float = 0.9, *, n_segment: int = SEGMENT_POINTS, setting: str | None = None) -> BoundCheck:
    """:func:`theorem3_bound` next to the measured ``max |Q_CE - Q_BE|`` (projection variant, exact solves)."""
    result = theorem3_bound(cmdp, context0, dc, policy, gamma, n_segment=n_segment, setting=setting)
    context0, dc, _, _ = _segment_setup(cmdp, context0, dc)
    table, _ = _policy_table(cmdp, policy)
    expansion = FirstOrderExpansion.at(cmdp, context0)
    measured = _measured_cebe_error(cmdp, expansion, dc, gamma, table)
    return BoundCheck(result, measured, {"projection_acts": expansion.projection_acts(dc)})


def theorem3_sweep(
    cmdp: SymbolicCMDP,
    context0,
    dc: Sequence[float],
    policy="uniform",
    gamma: float = 0.9,
    *,
    direction=None,
    setting: str | None = None,
) -> list[BoundCheck]:
    """:func:`theorem3_check` at ``c0 + dc_k * direction`` for every ``dc_k``, sharing the segment samples.

    The constants at ``dc_k`` are sups over every sample point ``t`` of the segment ``[0, dc_k]``, where the
    sample points are ``0``, all ``dc`` of the sweep and 33 evenly spaced points up to the largest ``|dc|``.
    """
    gamma = check_discount(gamma)
    context0 = cmdp.check_context(context0, name="c0")
    if direction is None:
        direction = np.eye(cmdp.context_dimension)[0]
    direction = as_context_vector(direction, cmdp.context_dimension, name="direction")
    if np.linalg.norm(direction) == 0:
        raise ValueError("direction must be a nonzero vector")
    direction = direction / np.linalg.norm(direction)
    dc = np.atleast_1d(np.asarray(dc, dtype=np.float64))
    if dc.ndim != 1 or dc.size == 0 or not np.all(np.isfinite(dc)):
        raise ValueError(f"dc must be a non-empty list of finite numbers, got {dc.tolist()}")
    for step in dc:
        cmdp.check_context(context0 + step * direction, name=f"c0 + dc (dc={step:g})")
    table, policy_name = _policy_table(cmdp, policy)
    lpi = policy_lipschitz(table)
    extra_points = []
    for sign in (-1.0, 1.0):
        reach = np.abs(dc[np.sign(dc) == sign]).max(initial=0.0)
        if reach > 0:
            extra_points.append(sign * np.linspace(0.0, reach, SEGMENT_POINTS))
    steps = np.unique(np.concatenate([[0.0], dc, *extra_points]))
    points = _point_constants(cmdp, context0, direction, steps)
    expansion = FirstOrderExpansion.at(cmdp, context0)
    setting = setting or f"{cmdp!r}, c0={context0.tolist()}, {policy_name} policy"
    checks = []
    for step in dc:
        mask = (steps * np.sign(step) >= 0) & (np.abs(steps) <= abs(step) + 1e-15)
        result = _theorem3_result(cmdp, points, mask, abs(float(step)), gamma, lpi, policy_name, setting)
        measured = _measured_cebe_error(cmdp, expansion, step * direction, gamma, table)
        checks.append(BoundCheck(result, measured, {"dc": float(step), "projection_acts": expansion.projection_acts(step * direction)}))
    return checks


# ----------------------------------------------------------------------------------------- report
def _markdown(frame: pd.DataFrame) -> str:
    def cell(value):
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.4g}"
        return str(value).replace("|", "\\|")
    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def _report_sweeps(quick: bool) -> dict[str, list[BoundCheck]]:
    """The settings of the report: name -> sweep of checks (see :func:`write_bounds_report`)."""
    from cebe_theory.bellman import greedy_policy, policy_iteration
    from cebe_theory.cliffwalking import cliffwalking, windy_cliffwalking
    from cebe_theory.lqr import DEFAULT_CONTEXT0, DEFAULT_GAIN, default_lqr, theorem2_sweep
    from cebe_theory.sweep import log_grid

    num = 8 if quick else 24
    sweeps: dict[str, list[BoundCheck]] = {}
    for family, high in (("constant", -1.0), ("inverse", -3.0), ("power", -1.0)):
        cmdp = cliffwalking(family=family)
        sweeps[f"Thm 3: Cliffwalking {family}, uniform, gamma 0.9"] = theorem3_sweep(
            cmdp, [0.1], log_grid(-8.0, high, num), "uniform", 0.9, setting=f"Cliffwalking {family}, p0=0.1, uniform")
    windy = windy_cliffwalking()
    windy_grid = np.exp(np.linspace(-8.0, math.log(0.65), num))
    sweeps["Thm 3: windy Cliffwalking, uniform, gamma 0.9"] = theorem3_sweep(
        windy, [-0.2], windy_grid, "uniform", 0.9, setting="windy Cliffwalking (T quadratic in w), w0=-0.2, uniform")
    greedy = greedy_policy(policy_iteration(windy.mdp([-0.2]), 0.9).q)
    for gamma in (0.9, 0.45):
        sweeps[f"Thm 3: windy Cliffwalking, optimal-at-w0 policy, gamma {gamma}"] = theorem3_sweep(
            windy, [-0.2], windy_grid, greedy, gamma, setting="windy Cliffwalking, w0=-0.2, deterministic policy optimal at w0")
    power = cliffwalking(family="power")
    pairs = []
    for dc in log_grid(-8.0, -1.0, num):
        pairs.append(theorem1_check(power.mdp([0.1]), power.mdp([0.1 + dc]), "uniform", 0.9, setting="Cliffwalking power, M(0.1) vs M(0.1+dc)"))
        pairs[-1].extra["dc"] = float(dc)
    sweeps["Thm 1: Cliffwalking power, M(p0) vs M(p0+dc), gamma 0.9"] = pairs
    lqr = default_lqr()
    lqr_grid = np.exp(np.linspace(-8.0, math.log(0.35), num))
    for gamma in (0.9, 0.8):
        sweeps[f"Thm 2: contextual LQR, u = Kx, gamma {gamma}"] = theorem2_sweep(lqr, DEFAULT_CONTEXT0, lqr_grid, DEFAULT_GAIN, gamma)
    return sweeps


def _transfer_frame(quick: bool) -> pd.DataFrame:
    from cebe_theory.cliffwalking import cliffwalking
    from cebe_theory.transfer import policy_transfer_over_grid

    rows = []
    grid = np.linspace(0.02, 0.3, 8 if quick else 29)
    for family in ("constant", "inverse", "power"):
        for suboptimality in (0.0, 1.0):
            result = policy_transfer_over_grid(cliffwalking(family=family), [0.1], grid, 0.9, suboptimality=suboptimality)
            rows.append(dict(family=family, contexts=len(grid), suboptimality=suboptimality, max_gap=result.max_gap,
                             uniform_delta=result.uniform_delta, uniform_eps=result.uniform_eps, max_ratio=result.max_ratio,
                             uniform_ratio=result.uniform_ratio, holds=result.holds))
    return pd.DataFrame(rows)


def _figure(sweeps: dict[str, list[BoundCheck]], out_dir) -> list:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(sweeps)
    # Panels in a grid of `columns` settings; each setting is two stacked axes (error and bound, ratio).
    columns = 3
    grid_rows = -(-len(names) // columns)
    fig, axes = plt.subplots(2 * grid_rows, columns, figsize=(4.2 * columns, 4.6 * grid_rows), squeeze=False)
    for index, name in enumerate(names):
        row, column = 2 * (index // columns), index % columns
        frame = checks_frame(sweeps[name])
        dc = frame["dc"].to_numpy()
        top, bottom = axes[row, column], axes[row + 1, column]
        bottom.sharex(top)
        measured = frame["measured"].to_numpy()
        top.loglog(dc[measured > 0], measured[measured > 0], "o-", ms=3, label="measured |Q_CE - Q_BE|")
        holds = frame["bound"].notna().to_numpy()
        top.loglog(dc[holds], frame["bound"].to_numpy()[holds], "s-", ms=3, label="bound (conditions hold)")
        failing = ~holds & np.isfinite(frame["formula_value"].to_numpy())
        if failing.any():
            top.loglog(dc[failing], frame["formula_value"].to_numpy()[failing], "x", color="gray", label="formula, condition fails")
        top.set_title(name, fontsize=8)
        top.set_ylabel("sup error / bound", fontsize=8)
        top.legend(fontsize=6)
        ratio = frame["ratio"].to_numpy(dtype=float)
        usable = np.isfinite(ratio) & (ratio > 0)
        bottom.plot(dc[usable], ratio[usable], "d-", ms=3, color="C2", label="bound / measured")
        bottom.axhline(1.0, color="k", lw=0.8, ls="--", label="ratio 1 (a violation below)")
        bottom.set_xscale("log")
        bottom.set_yscale("log")
        if not usable.any():
            message = "bound 0 (CEBE exact), error is round-off" if holds.any() else "no bound: condition fails"
            bottom.text(0.5, 0.75, message, transform=bottom.transAxes, ha="center", fontsize=7)
        bottom.set_xlabel("|dc|", fontsize=8)
        bottom.set_ylabel("bound / measured", fontsize=8)
        bottom.legend(fontsize=6)
    for index in range(len(names), grid_rows * columns):
        axes[2 * (index // columns), index % columns].axis("off")
        axes[2 * (index // columns) + 1, index % columns].axis("off")
    fig.tight_layout()
    paths = []
    for suffix in ("png", "pdf"):
        path = out_dir / f"bounds.{suffix}"
        fig.savefig(path, dpi=150, metadata={"CreationDate": None} if suffix == "pdf" else None)
        paths.append(path)
    plt.close(fig)
    return paths


def write_bounds_report(out_dir, *, quick: bool = False) -> list:
    """Write the bound tables and figures into ``out_dir``; return the written paths.

    Settings: Theorem 3 on the paper's Cliffwalking (families constant / inverse / power, ``p0 = 0.1``,
    uniform policy, gamma 0.9), on the windy Cliffwalking (transitions quadratic in ``w``, ``w0 = -0.2``)
    with the uniform policy and with the deterministic policy optimal at ``w0`` (gamma 0.9, where the gamma
    condition fails, and 0.45, where it holds); Theorem 1 on the pairs ``M(p0)``, ``M(p0 + dc)`` of the power
    family; Theorem 2 on the contextual LQR (:mod:`cebe_theory.lqr`, gamma 0.9 and 0.8); Theorem 4 over 29
    contexts ``p in [0.02, 0.3]`` for each family, exact (``eps = 0``) and 1-suboptimal CEBE policies.

    Files: ``bounds_theorem{1,2,3}.csv`` / ``.md`` (one row per ``dc``: every constant, conditions, bound,
    measured error, ratio), ``bounds_theorem4.csv`` / ``.md``, ``bounds.png`` and ``bounds.pdf``.
    ``quick`` uses 8 ``dc`` per sweep instead of 24 (and 8 transfer contexts).
    """
    from pathlib import Path

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sweeps = _report_sweeps(quick)
    paths = []
    by_theorem: dict[str, list[pd.DataFrame]] = {}
    for name, checks in sweeps.items():
        frame = checks_frame(checks)
        frame.insert(0, "sweep", name)
        by_theorem.setdefault(name.split(":")[0].replace("Thm ", "theorem"), []).append(frame)
    for key, frames in sorted(by_theorem.items()):
        frame = pd.concat(frames, ignore_index=True)
        frame = frame.drop(columns=["setting", "theorem"])
        csv, md = out_dir / f"bounds_{key}.csv", out_dir / f"bounds_{key}.md"
        frame.to_csv(csv, index=False)
        md.write_text(_markdown(frame))
        paths += [csv, md]
    transfer = _transfer_frame(quick)
    csv, md = out_dir / "bounds_theorem4.csv", out_dir / "bounds_theorem4.md"
    transfer.to_csv(csv, index=False)
    md.write_text(_markdown(transfer))
    paths += [csv, md]
    paths += _figure(sweeps, out_dir)
    return paths


def bounds_command(out_dir, *, quick: bool = False) -> int:
    """``cebe-theory bounds``: write the report, print the paths and a verdict; exit code 1 on a violation."""
    from pathlib import Path

    paths = write_bounds_report(Path(out_dir), quick=quick)
    violations = 0
    for path in paths:
        if path.suffix == ".csv":
            frame = pd.read_csv(path)
            if "within_bound" in frame:
                violations += int((frame["within_bound"].astype(str) == "False").sum())
            if "holds" in frame:
                violations += int((frame["holds"].astype(str) == "False").sum())
        print(path)
    print("no bound violated where its conditions hold" if violations == 0 else f"{violations} VIOLATIONS: see the tables")
    return 0 if violations == 0 else 1
