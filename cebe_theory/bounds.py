"""Theorems 1 and 3 of arXiv 2507.07348 as calculators that show every constant, and their checks.

Theorem 2 (deterministic CEBE) is evaluated on the contextual LQR in :mod:`cebe_theory.lqr`, Theorem 4
(policy transfer) in :mod:`cebe_theory.transfer`; Theorems 1-3 return the same :class:`BoundResult`, and
:mod:`cebe_theory.bounds_report` writes them all as tables and a figure.

Reading of the norms (one reading, used everywhere in ``cebe_theory``)
-----------------------------------------------------------------------
Metric on a finite state space: the **discrete metric** ``d(s, s~) = 1[s != s~]``; on actions too, and on
state-action pairs. Consequences: ``W_1(mu, nu) = TV(mu, nu) = 1/2 |mu - nu|_1``; ``diam(S) = 1``; the
Lipschitz constant of a function is its oscillation ``max f - min f``; ``L_T = max TV(T(s,a), T(s~,a~))``
over pairs of rows (``<= 1``) and ``L_pi = max_{s, s~} TV(pi(s), pi(s~))`` (0 for the uniform policy, 1
for a non-constant deterministic one). A grid metric is the other natural choice; we use the discrete
one because the simplex projection's error is controlled in ``l1``, which is exactly TV (see below).

Sup norms are over ``(s, a, s')`` on the CMDP's sparse pattern and over contexts on the segment
``[c0, c0 + dc]``, taken on sample points of the segment (33 evenly spaced points, both ends included, or
every point of a sweep's grid). For a vector context, first derivatives are Euclidean norms of gradients
and second derivatives spectral norms of ``d x d`` Hessians. ``|DT| = sup_{s,a} sum_{s'} |d_c T(s'|s,a)|``
and ``|D^2T| = sup_{s,a} sum_{s'} sup_c |d_c^2 T(s'|s,a)|``: ``l1`` norms over next states.

Reading of the reward ``R`` (both calculators offer both; ``reward_reading=``)
------------------------------------------------------------------------------
- ``"expected"``: ``R`` is the expected reward ``r(s, a) = sum_s' T(s'|s,a) R(s,a,s')``; its context
  derivatives include those of ``T``. **Theorem 1 uses this reading by default**: the theorem compares two
  MDPs given as ``(T, r)``, and under this reading its formula is a proven bound (:func:`theorem1_bound`).
- ``"next_state"``: ``R`` is ``R(s, a, s')`` on the pattern, the object CEBE linearizes. **Theorem 3 uses
  this reading by default** (``|R|_Lip`` is then the oscillation of ``R(s, a, s')``).

Every result also carries the formula's value under the other reading (``other_reading_value``), so a table
shows both. What the readings give, as far as our numbers go (``tests/theory/test_bounds.py``):

- a two-state CMDP whose reward is paid on landing (``gamma = 0.01``, ``|dc| = 0.2``): measured error
  0.101. Read with ``R(s, a, s')`` the published Theorem 3 gives 0.012 (violated; on this example exactly
  when ``gamma < 1/13``) and Theorem 1 read the same way is violated too. Read with ``r(s, a)`` Theorem 3
  gives 0.202 and Theorem 1 0.101 (both hold).
- ``RandomCMDPSpec(seed=112, n_states=3, n_actions=3, context_dimension=1)`` at ``gamma = 0``,
  ``|dc| = 0.1``: measured 0.0088, Theorem 3 read with ``r(s, a)`` gives 0.0071 (violated: CEBE's expected
  reward ``sum_s' T_CE R_CE`` carries the cross term ``dc^2 sum_s' d_cT d_cR``, which ``|d_c^2 r|`` does not
  cover); read with ``R(s, a, s')`` it gives 0.051 (holds). At ``gamma = 0.05`` both hold there.

So neither reading makes the published Theorem 3 formula hold for every ``gamma``; the violations we found
are all at ``gamma < 1/12``, and every check of the report (``gamma`` 0.45 to 0.9) holds under both readings.

Our own bound, under the ``R(s, a, s')`` reading (reported as ``discrete_metric_bound``)::

    |Q_CE - Q_BE| <= 1/(1-gamma) [ |R_CE - R^c| + TV(T_CE, T^c) (osc_{s'} R + gamma osc V^c) ]
    |R_CE - R^c|     <= 1/2 |D^2R| |dc|^2                       (Taylor, remainder on the segment)
    TV(T_CE, T^c)    <= 1/2 * 3 |T^{c0} + d_cT dc - T^c|_1 <= 3/4 |D^2T| |dc|^2
    osc V^c          <= osc R / (1 - gamma)

(the factor 3: for a row ``x`` summing to 1 with negative mass ``N`` and any distribution ``y``, the
projection ``P[x] = max(x - tau, 0)`` has ``tau >= 0`` and ``|P[x] - x|_1 = 2 N <= 2 |x - y|_1``). Here
``osc_{s'} R`` is the largest oscillation of ``R(s, a, .)`` within one row. It implies the published
Theorem 3 (read with ``R(s, a, s')``) whenever ``R`` does not depend on ``s'`` or ``gamma >= 1/4``
(``3 gamma >= 3/4``); the published formula's transition term carries a factor ``gamma`` where ours has the
first-step term ``TV * osc_{s'} R``. Between ``gamma = 1/13`` and ``1/4`` we have neither a proof nor a
counterexample for the published formula under that reading.

When a condition fails the result says so: ``bound`` is ``None`` and the table prints the failed
condition; ``formula_value`` keeps the formula's number for plots, and is not a bound then.

>>> from cebe_theory.cliffwalking import windy_cliffwalking
>>> result = theorem3_bound(windy_cliffwalking(), [-0.2], [0.05], gamma=0.9)
>>> result.conditions_hold, round(result.constant("|D^2T|"), 6), result.constant("diam(S)"), result.reward_reading
(True, 4.0, 1.0, 'next_state')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

from cebe_theory.bellman import check_discount, check_policy
from cebe_theory.bound_results import BoundCheck, BoundResult, Condition, Constant, checks_frame
from cebe_theory.cebe import FirstOrderExpansion
from cebe_theory.cmdp import SymbolicCMDP, TabularMDP
from cebe_theory.errors import InputError
from cebe_theory.sweep import q_function, sweep_contexts
from cebe_theory.symbolic import as_context_vector

__all__ = [
    "METRIC",
    "REWARD_READINGS",
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
]

METRIC = "discrete"
REWARD_READINGS = ("expected", "next_state")
SEGMENT_POINTS = 33


# ----------------------------------------------------------------------------------------- metric helpers
def total_variation_rows(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``TV`` between matching rows of two ``(n, S)`` arrays: ``1/2 sum_s' |first - second|``."""
    return 0.5 * np.abs(np.asarray(first) - np.asarray(second)).sum(axis=-1)


def _largest_pairwise_total_variation(rows: np.ndarray) -> float:
    """``max_{i, j} TV(rows[i], rows[j])`` for an ``(n, S)`` array: ``cityblock / 2``, in blocks of rows."""
    rows = np.asarray(rows, dtype=np.float64)
    block = max(1, 4_000_000 // max(1, rows.shape[0]))
    return max(
        float(cdist(rows[start : start + block], rows, "cityblock").max()) / 2 for start in range(0, rows.shape[0], block)
    )


def transition_lipschitz(mdp: TabularMDP) -> float:
    """``L_T = max TV(T(s,a), T(s~,a~))`` over all pairs of state-action rows (discrete metric on S x A)."""
    return _largest_pairwise_total_variation(mdp.transition.toarray())


def policy_lipschitz(policy: np.ndarray) -> float:
    """``L_pi = max_{s, s~} TV(pi(s), pi(s~))`` (discrete metrics on S and A): 0 uniform, 1 deterministic non-constant."""
    return _largest_pairwise_total_variation(np.asarray(policy, dtype=np.float64))


def _policy_table(model, policy) -> tuple[np.ndarray, str]:
    """``"uniform"`` or an ``(S, A)`` table (validated by :func:`~cebe_theory.bellman.check_policy`), and its name."""
    if isinstance(policy, str):
        if policy != "uniform":
            raise InputError(f"policy must be 'uniform' or an (S, A) table (a bound is for one fixed policy), got {policy!r}")
        return np.full((model.n_states, model.n_actions), 1.0 / model.n_actions), "uniform"
    table = check_policy(model, policy)
    return table, "deterministic table" if np.all(np.isclose(table.max(axis=1), 1.0)) else "stochastic table"


def _check_reading(reward_reading: str) -> str:
    if reward_reading not in REWARD_READINGS:
        raise InputError(f"reward_reading must be one of {', '.join(REWARD_READINGS)}, got {reward_reading!r}")
    return reward_reading


def _other(reward_reading: str) -> str:
    return REWARD_READINGS[1 - REWARD_READINGS.index(reward_reading)]


# ----------------------------------------------------------------------------------------- Theorem 1
def theorem1_bound(mdp1: TabularMDP, mdp2: TabularMDP, policy="uniform", gamma: float = 0.9, *, setting: str = "two MDPs",
                   reward_reading: str = "expected") -> BoundResult:
    """arXiv 2507.07348, Theorem 1 (Q stability), for two finite MDPs under the discrete metric::

        |Q1^pi - Q2^pi|_inf <= 1/(1-gamma) * ( dR + gamma (1+L_pi) dT |R2|_Lip / (1 - gamma max(1, L_T2 (1+L_pi))) )
        if gamma < 1 / (max(L_T1, L_T2) (1 + L_pi)),

    with ``dT = max_{s,a} TV(T1(s,a), T2(s,a))`` (``W_1`` under the discrete metric), ``L_Ti = max TV``
    between rows of ``Ti`` and ``L_pi`` from :func:`policy_lipschitz`. ``reward_reading="expected"``
    (default): ``dR = |r1 - r2|_inf`` and ``|R2|_Lip = max r2 - min r2`` for the expected rewards
    ``r(s,a) = sum_s' T R``; then the formula is proven: ``Q1 - Q2 = (r1 - r2) + gamma (T1 - T2) V2 +
    gamma T1 (V1 - V2)``, ``|(T1 - T2) V2| <= dT osc V2`` and ``osc V2 <= osc r2 / (1 - gamma L_T2)``.
    ``"next_state"``: the same with ``R(s, a, s')`` on the stored entries (an entry stored in one MDP only
    counts as 0 in the other); the test suite has an example where this reading is violated.
    """
    gamma = check_discount(gamma)
    reward_reading = _check_reading(reward_reading)
    if (mdp1.n_states, mdp1.n_actions) != (mdp2.n_states, mdp2.n_actions):
        raise InputError(
            f"the two MDPs must have the same sizes, got {(mdp1.n_states, mdp1.n_actions)} "
            f"and {(mdp2.n_states, mdp2.n_actions)}"
        )
    table, policy_name = _policy_table(mdp2, policy)
    r1, r2 = mdp1.expected_reward(), mdp2.expected_reward()
    rewards = {
        "expected": (float(np.abs(r1 - r2).max()), float(r2.max() - r2.min())),
        "next_state": (
            float(abs(mdp1.reward - mdp2.reward).max()),
            float(np.ptp(mdp2.reward.data)) if mdp2.reward.nnz else 0.0,
        ),
    }
    transition_gap = float(total_variation_rows(mdp1.transition.toarray(), mdp2.transition.toarray()).max())
    lt1, lt2 = transition_lipschitz(mdp1), transition_lipschitz(mdp2)
    lpi = policy_lipschitz(table)
    growth = max(1.0, lt2 * (1 + lpi))
    denominator = 1 - gamma * growth

    def formula(reward_gap: float, reward_lip: float) -> float:
        if denominator <= 0:
            return float("nan")
        return (reward_gap + gamma * (1 + lpi) * transition_gap * reward_lip / denominator) / (1 - gamma)

    reward_gap, reward_lip = rewards[reward_reading]
    if reward_reading == "expected":
        readings = ("max_{s,a} |r1 - r2|, expected rewards r = sum_s' T R", "max r2 - min r2 (oscillation)")
    else:
        readings = ("max_{s,a,s'} |R1 - R2| on the stored entries", "max R2 - min R2 over (s,a,s') (oscillation)")
    worst = max(lt1, lt2) * (1 + lpi)
    constants = (
        Constant("dR", reward_gap, readings[0]),
        Constant("dT", transition_gap, "max_{s,a} W_1(T1, T2) = TV (discrete metric)"),
        Constant("L_T1", lt1, "max TV between rows of T1"),
        Constant("L_T2", lt2, "max TV between rows of T2"),
        Constant("L_pi", lpi, f"max TV between rows of pi ({policy_name})"),
        Constant("|R2|_Lip", reward_lip, readings[1]),
        Constant("diam(S)", 1.0, "discrete metric"),
    )
    conditions = (
        Condition("gamma < 1/(max(L_T1, L_T2)(1+L_pi))", gamma, math.inf if worst == 0 else 1 / worst),
        Condition("gamma max(1, L_T2(1+L_pi)) < 1 (denominator)", gamma * growth, 1.0),
    )
    text = "1/(1-g) (dR + g (1+L_pi) dT |R2|_Lip / (1 - g max(1, L_T2 (1+L_pi))))"
    return BoundResult("Theorem 1", setting, gamma, float("nan"), constants, conditions, text, formula(reward_gap, reward_lip),
                       reward_reading=reward_reading, other_reading_value=formula(*rewards[_other(reward_reading)]))


def theorem1_check(mdp1: TabularMDP, mdp2: TabularMDP, policy="uniform", gamma: float = 0.9, *, setting: str = "two MDPs",
                   reward_reading: str = "expected") -> BoundCheck:
    """:func:`theorem1_bound` next to the measured ``|Q1^pi - Q2^pi|_inf`` (both by exact evaluation)."""
    result = theorem1_bound(mdp1, mdp2, policy, gamma, setting=setting, reward_reading=reward_reading)
    table, _ = _policy_table(mdp2, policy)
    measured = float(np.abs(q_function(mdp1, gamma, table) - q_function(mdp2, gamma, table)).max())
    return BoundCheck(result, measured)


# ----------------------------------------------------------------------------------------- Theorem 3
@dataclass(frozen=True)
class _PointConstants:
    """Per-context quantities at sample points ``c0 + t_i direction`` of a segment (arrays over points).

    ``reward_*`` read ``R`` as ``R(s, a, s')``, ``expected_reward_*`` as ``r(s, a) = sum_s' T R``.
    """

    steps: np.ndarray  # (n,) signed step t_i along the direction
    reward_sup: np.ndarray
    reward_oscillation: np.ndarray
    next_state_reward_oscillation: np.ndarray
    d1_reward: np.ndarray
    d2_reward: np.ndarray
    expected_reward_sup: np.ndarray
    expected_reward_oscillation: np.ndarray
    d1_expected_reward: np.ndarray
    d2_expected_reward: np.ndarray
    d1_transition: np.ndarray
    d2_transition_entries: np.ndarray  # (n, nnz)
    transition_lipschitz: np.ndarray


def _spectral_norms(hessians: np.ndarray) -> np.ndarray:
    """``|H_k|_2`` for ``hessians`` of shape ``(d, d, K)`` (symmetric)."""
    return np.abs(np.linalg.eigvalsh(np.moveaxis(hessians, -1, 0))).max(axis=-1)


def _row_sums(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Sum the trailing (pattern) axis of ``values`` into rows: ``(..., nnz) -> (..., n_rows)``."""
    flat = values.reshape(-1, values.shape[-1])
    summed = np.stack([np.bincount(rows, weights=entry, minlength=n_rows) for entry in flat])
    return summed.reshape(*values.shape[:-1], n_rows)


def _point_constants(cmdp: SymbolicCMDP, context0: np.ndarray, direction: np.ndarray, steps: np.ndarray) -> _PointConstants:
    n_rows, rows = cmdp.n_states * cmdp.n_actions, cmdp.pattern_rows
    fields: dict[str, list] = {name: [] for name in _PointConstants.__dataclass_fields__ if name != "steps"}
    for step in steps:
        der = cmdp.derivatives(context0 + step * direction, second=True)
        T, dT, d2T, R, dR, d2R = der.transition, der.dtransition, der.d2transition, der.reward, der.dreward, der.d2reward
        fields["reward_sup"].append(np.abs(R).max())
        fields["reward_oscillation"].append(np.ptp(R))
        within_row = np.full(n_rows, -np.inf), np.full(n_rows, np.inf)
        np.maximum.at(within_row[0], rows, R)
        np.minimum.at(within_row[1], rows, R)
        fields["next_state_reward_oscillation"].append((within_row[0] - within_row[1]).max())
        fields["d1_reward"].append(np.linalg.norm(dR, axis=0).max())
        fields["d2_reward"].append(_spectral_norms(d2R).max())
        # r = sum_s' T R, dr = sum (dT R + T dR), d2r = sum (d2T R + dT dR^T + dR dT^T + T d2R) (product rule).
        expected = _row_sums(T * R, rows, n_rows)
        fields["expected_reward_sup"].append(np.abs(expected).max())
        fields["expected_reward_oscillation"].append(np.ptp(expected))
        fields["d1_expected_reward"].append(np.linalg.norm(_row_sums(dT * R + T * dR, rows, n_rows), axis=0).max())
        cross = dT[:, None, :] * dR[None, :, :]
        d2_expected = _row_sums(d2T * R + cross + np.swapaxes(cross, 0, 1) + T * d2R, rows, n_rows)
        fields["d2_expected_reward"].append(_spectral_norms(d2_expected).max())
        fields["d1_transition"].append(_row_sums(np.linalg.norm(dT, axis=0), rows, n_rows).max())
        fields["d2_transition_entries"].append(_spectral_norms(d2T))
        fields["transition_lipschitz"].append(_largest_pairwise_total_variation(cmdp.matrix(T).toarray()))
    return _PointConstants(steps=np.asarray(steps, float), **{k: np.asarray(v) for k, v in fields.items()})


_REWARD_CONSTANTS = {  # reading -> (field, symbol, how it is read) for |R|, |DR|, |D^2R|, |R|_Lip
    "next_state": (("reward_sup", "|R|", "sup |R(s,a,s')| on the pattern and the segment"),
                   ("d1_reward", "|DR|", "sup |d_c R(s,a,s')| (Euclidean norm of the gradient)"),
                   ("d2_reward", "|D^2R|", "sup |d_c^2 R(s,a,s')| (spectral norm)"),
                   ("reward_oscillation", "|R|_Lip", "max R - min R over (s,a,s') (Lipschitz, discrete metric)")),
    "expected": (("expected_reward_sup", "|R|", "sup |r(s,a)|, r = sum_s' T R, on the segment"),
                 ("d1_expected_reward", "|DR|", "sup |d_c r(s,a)| (Euclidean norm of the gradient)"),
                 ("d2_expected_reward", "|D^2R|", "sup |d_c^2 r(s,a)| (spectral norm; includes d_c T)"),
                 ("expected_reward_oscillation", "|R|_Lip", "max r - min r (Lipschitz, discrete metric)")),
}


def _theorem3_result(cmdp, points: _PointConstants, mask: np.ndarray, dc_norm: float, gamma: float, lpi: float,
                     policy_name: str, setting: str, reward_reading: str) -> BoundResult:
    n_rows = cmdp.n_states * cmdp.n_actions
    d2t = float(np.bincount(cmdp.pattern_rows, weights=points.d2_transition_entries[mask].max(axis=0), minlength=n_rows).max())

    def sup(name: str) -> float:
        return float(getattr(points, name)[mask].max())

    diameter, lt = 1.0, sup("transition_lipschitz")
    growth = max(1.0, diameter * lt * (1 + lpi))
    denominator = 1 - gamma * growth

    def formula(reading: str) -> float:
        d2r, reward_lip = sup(_REWARD_CONSTANTS[reading][2][0]), sup(_REWARD_CONSTANTS[reading][3][0])
        if denominator <= 0:
            return float("nan")
        return dc_norm**2 / (1 - gamma) * (d2r + 3 * gamma * diameter * (1 + lpi) * reward_lip * d2t / denominator)

    ours = (
        dc_norm**2
        / (1 - gamma)
        * (
            0.5 * sup("d2_reward")
            + 0.75 * d2t * (sup("next_state_reward_oscillation") + gamma * sup("reward_oscillation") / (1 - gamma))
        )
    )
    (r_sup, r_d1, r_d2, r_lip) = _REWARD_CONSTANTS[reward_reading]
    constants = (
        Constant(r_sup[1], sup(r_sup[0]), r_sup[2]),
        Constant(r_d1[1], sup(r_d1[0]), r_d1[2]),
        Constant(r_d2[1], sup(r_d2[0]), r_d2[2]),
        Constant("|DT|", sup("d1_transition"), "sup_{s,a} sum_s' |d_c T(s'|s,a)|  (l1 over s')"),
        Constant("|D^2T|", d2t, "sup_{s,a} sum_s' sup_c |d_c^2 T(s'|s,a)|  (l1 over s')"),
        Constant(r_lip[1], sup(r_lip[0]), r_lip[2]),
        Constant("osc_s' R", sup("next_state_reward_oscillation"),
                 "largest oscillation of R(s,a,.) within a row (enters our bound only)"),
        Constant("L_T", lt, "max TV between rows of T^c, sup over the segment"),
        Constant("L_pi", lpi, f"max TV between rows of pi ({policy_name})"),
        Constant("diam(S)", diameter, "discrete metric"),
    )
    conditions = (
        Condition("|dc| < |D^2T|^(-1/2)", dc_norm, math.inf if d2t == 0 else d2t**-0.5),
        Condition("gamma max(1, diam(S) L_T (1+L_pi)) < 1 (denominator)", gamma * growth, 1.0),
    )
    text = "|dc|^2/(1-g) (|D^2R| + 3 g diam(S) (1+L_pi) |R|_Lip |D^2T| / (1 - g max(1, diam(S) L_T (1+L_pi))))"
    return BoundResult(
        "Theorem 3",
        setting,
        gamma,
        dc_norm,
        constants,
        conditions,
        text,
        float(formula(reward_reading)),
        float(ours),
        reward_reading=reward_reading,
        other_reading_value=float(formula(_other(reward_reading))),
    )


def _segment_setup(cmdp: SymbolicCMDP, context0, dc):
    context0 = cmdp.check_context(context0, name="c0")
    dc = as_context_vector(dc, cmdp.context_dimension, name="dc")
    norm = float(np.linalg.norm(dc))
    direction = dc / norm if norm > 0 else np.eye(cmdp.context_dimension)[0]
    cmdp.check_context(context0 + dc, name="c0 + dc")
    return context0, dc, norm, direction


def theorem3_bound(cmdp: SymbolicCMDP, context0, dc, policy="uniform", gamma: float = 0.9, *, n_segment: int = SEGMENT_POINTS,
                   setting: str | None = None, reward_reading: str = "next_state") -> BoundResult:
    """arXiv 2507.07348, Theorem 3 (stochastic CEBE with the l2 simplex projection), on ``[c0, c0 + dc]``::

        |Q_CE^c - Q_BE^c|_inf <= |dc|^2/(1-gamma) ( |D^2R| + 3 gamma diam(S) (1+L_pi) |R|_Lip |D^2T|
                                                    / (1 - gamma max(1, diam(S) L_T (1+L_pi))) )
        if |dc| < |D^2T|^(-1/2)   (and the denominator is positive).

    Norms as in the module docstring (discrete metric, sups over the segment on ``n_segment`` points);
    ``reward_reading``: ``"next_state"`` (default, ``R(s, a, s')``) or ``"expected"`` (``r(s, a)``).
    ``policy``: ``"uniform"`` or an ``(S, A)`` table (the bound is for one fixed policy).
    """
    gamma = check_discount(gamma)
    reward_reading = _check_reading(reward_reading)
    if int(n_segment) < 2:
        raise InputError(f"n_segment must be at least 2, got {n_segment}")
    context0, dc, norm, direction = _segment_setup(cmdp, context0, dc)
    table, policy_name = _policy_table(cmdp, policy)
    steps = np.linspace(0.0, norm, int(n_segment))
    points = _point_constants(cmdp, context0, direction, steps)
    setting = setting or f"{cmdp!r}, c0={context0.tolist()}, {policy_name} policy"
    return _theorem3_result(
        cmdp, points, np.ones(steps.size, bool), norm, gamma, policy_lipschitz(table), policy_name, setting, reward_reading
    )


def _measured_cebe_error(cmdp, expansion: FirstOrderExpansion, shift: np.ndarray, gamma: float, table: np.ndarray) -> float:
    true_q = q_function(cmdp.mdp(expansion.context0 + shift), gamma, table)
    cebe_q = q_function(expansion.mdp(shift, "projection"), gamma, table)
    return float(np.abs(cebe_q - true_q).max())


def theorem3_check(cmdp: SymbolicCMDP, context0, dc, policy="uniform", gamma: float = 0.9, *, n_segment: int = SEGMENT_POINTS,
                   setting: str | None = None, reward_reading: str = "next_state") -> BoundCheck:
    """:func:`theorem3_bound` next to the measured ``max |Q_CE - Q_BE|`` (projection variant, exact solves)."""
    result = theorem3_bound(
        cmdp, context0, dc, policy, gamma, n_segment=n_segment, setting=setting, reward_reading=reward_reading
    )
    context0, dc, _, _ = _segment_setup(cmdp, context0, dc)
    table, _ = _policy_table(cmdp, policy)
    expansion = FirstOrderExpansion.at(cmdp, context0)
    measured = _measured_cebe_error(cmdp, expansion, dc, gamma, table)
    return BoundCheck(result, measured, {"projection_acts": expansion.projection_acts(dc)})


def theorem3_sweep(cmdp: SymbolicCMDP, context0, dc: Sequence[float], policy="uniform", gamma: float = 0.9, *, direction=None,
                   setting: str | None = None, reward_reading: str = "next_state") -> list[BoundCheck]:
    """:func:`theorem3_check` at ``c0 + dc_k * direction`` for every ``dc_k``, sharing the segment samples.

    The constants at ``dc_k`` are sups over every sample point ``t`` of the segment ``[0, dc_k]``, where the
    sample points are ``0``, all ``dc`` of the sweep and 33 evenly spaced points up to the largest ``|dc|``.
    Inputs are validated as for :func:`~cebe_theory.sweep.error_sweep`.
    """
    gamma = check_discount(gamma)
    reward_reading = _check_reading(reward_reading)
    context0, direction, dc = sweep_contexts(cmdp, context0, dc, direction)
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
        result = _theorem3_result(cmdp, points, mask, abs(float(step)), gamma, lpi, policy_name, setting, reward_reading)
        measured = _measured_cebe_error(cmdp, expansion, step * direction, gamma, table)
        checks.append(
            BoundCheck(result, measured, {"dc": float(step), "projection_acts": expansion.projection_acts(step * direction)})
        )
    return checks
