"""The checks of the exercises that need only ``cebe_theory`` (notebooks 01, 02 and the tabular and closed-form
exercises of 05).  Each takes the student's answer and returns a :class:`~cebe_course.verdicts.Verdict`; the
reference is computed here, by the package, every time a check runs (no stored copies of numbers), in the
setting the notebook uses (Cliffwalking 5 x 6 at ``p0 = 0.1``, ``gamma = 0.9``, and so on)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.integrate
import sympy

from cebe_course.verdicts import (
    RIGHT,
    Verdict,
    as_array,
    as_number,
    compare_function,
    compare_number,
    wrong,
)
from cebe_theory import (
    ContextualLQR,
    FirstOrderExpansion,
    TabularMDP,
    cliffwalking,
    coefficient_sweep,
    error_sweep,
    evaluate_policy,
    greedy_policy,
    log_grid,
    policy_iteration,
    theorem3_bound,
    uniform_policy,
    windy_cliffwalking,
)
from cebe_theory.bellman import bellman_backup
from cebe_theory.cliffwalking import SLIP
from cebe_theory.lqr import DEFAULT_CONTEXT0, DEFAULT_GAIN
from cebe_theory.stochastic_cse import estimator_sweep, stochastic_cliffwalking

P0, GAMMA = 0.1, 0.9  # notebook 01's training context and discount (also notebook 02's and 05's)
DOWN = 3  # Cliffwalking's actions: 0 left, 1 right, 2 up, 3 down


def _bisect(acts, low: float, high: float, steps: int = 50) -> float:
    """The smallest ``x`` in ``(low, high]`` with ``acts(x)``, for ``acts`` false at ``low`` and true at ``high``."""
    for _ in range(steps):
        middle = 0.5 * (low + high)
        low, high = (low, middle) if acts(middle) else (middle, high)
    return high


# ------------------------------------------------------------------------------------------------ notebook 01
def row_derivative(answer) -> Verdict:
    """nb01-derivative: the row of ``d_p T`` for "down" from the cell above the first cliff cell."""
    cmdp = cliffwalking(5, 6, "inverse")
    row = cmdp.state_index(1, 1) * cmdp.n_actions + DOWN
    reference = cmdp.matrix(cmdp.derivatives([P0]).dtransition[0])[row].toarray()[0]
    if isinstance(answer, Mapping):
        dense = np.zeros(cmdp.n_states)
        for label, value in answer.items():
            if label not in cmdp.state_labels:
                return wrong(f"{label!r} is not a state label of cmdp.state_labels (they look like "
                             f"{cmdp.state_labels[0]!r})")
            dense[cmdp.state_labels.index(label)] = as_number(value, f"the derivative for {label!r}")
        answer = dense
    values = as_array(answer, (cmdp.n_states,), "the row of d_p T (one entry per next state)")
    if np.allclose(values, reference, atol=1e-6):
        return RIGHT
    if abs(values.sum()) > 1e-6:
        return wrong(f"your row sums to {values.sum():.4g}: the row of T sums to 1 whatever p is, so the row of its "
                     "derivative sums to 0.")
    return wrong("write each probability of the row as a function of p (§1: the intended move 1 - p, each of the "
                 "other three p/3), find the cell each move lands in, and differentiate.")


def residual_limit(answer) -> Verdict:
    """nb01-residual: the limit of ``max |rho| / dc^2`` (reward 1, ``p0 = 0.1``)."""
    cmdp = cliffwalking(5, 6, "inverse")
    policy = uniform_policy(cmdp.mdp([P0]))
    dc = 1e-5
    bellman_q = evaluate_policy(cmdp.mdp([P0 + dc]), policy, GAMMA)
    cebe_mdp = FirstOrderExpansion.at(cmdp, [P0]).mdp([dc])
    residual = bellman_backup(cebe_mdp, (policy * bellman_q).sum(axis=1), GAMMA) - bellman_q
    return compare_number(answer, np.abs(residual).max() / dc**2, rel=0.01, what="the limit of max |rho| / dc^2",
                          too_large="Taylor's remainder carries a factor 1/2, and the move that pays the reward "
                                    "happens only with its probability.",
                          too_small="Which reward has the largest second derivative in p at p0 = 0.1, and which "
                                    "single move lands there most often?")


def custom_reward_ratio(answer) -> Verdict:
    """nb01-custom-reward: (error / dc^2 with goal ``exp(-50 p)``) / (the same with ``exp(-5 p)``)."""
    dc = [1e-4]  # small enough that the third-order term is below 0.2%, large enough to stay clear of round-off
    constants = {}
    for rate in (5, 50):
        custom = cliffwalking(5, 6, "custom", goal_reward=sympy.exp(-rate * SLIP), fall_reward=sympy.Integer(-100))
        constants[rate] = error_sweep(custom, [P0], dc, gamma=GAMMA).sup_error[0] / dc[0] ** 2
    return compare_number(answer, constants[50] / constants[5], rel=0.03,
                          what="the ratio of the constants (goal exp(-50 p) over goal exp(-5 p))",
                          too_large="The second derivative of exp(-k p) has two factors that depend on k: "
                                    "did you keep both?",
                          too_small="The second derivative of exp(-k p) has two factors that depend on k: "
                                    "did you keep both?")


def optimal_slope(answer) -> Verdict:
    """nb01-optimal: the fitted log-log slope of the error sweep with optimal policies."""
    sweep = error_sweep(cliffwalking(5, 6, "inverse"), [P0], log_grid(-8.0, -3.0, 100), gamma=GAMMA, policy="optimal")
    return compare_number(answer, sweep.fitted_slope, rel=0.0, absolute=0.1,
                          what="the fitted slope with optimal policies",
                          too_large="CEBE's error is a sum of first-order residuals' remainders: what order are they?",
                          too_small="Each policy's error is O(dc^2), and Q* is the Q-function of one policy.")


def projection_threshold(answer) -> Verdict:
    """nb01-projection: a function ``w0 -> `` the smallest ``dw > 0`` at which the projection acts (``w0 < 0``)."""
    windy = windy_cliffwalking(5, 6, "constant")

    def threshold(w0):
        expansion = FirstOrderExpansion.at(windy, [w0])
        return _bisect(lambda dw: expansion.projection_acts([dw]), 0.0, 1.0)

    return compare_function(answer, (-0.4, -0.2, -0.1, -0.05), threshold, where=lambda w0: f"'s value at w0 = {w0}",
                            hint=lambda w0, side: f"at w0 = {w0} your threshold is {side}. Write the slip to first "
                                                  "order in dw around w0 and ask when it turns negative.")


# ------------------------------------------------------------------------------------------------ notebook 02
def theorem3_at_048(answer) -> Verdict:
    """nb02-gamma: Theorem 3's bound at ``gamma = 0.48`` for the greedy policy of the windy Cliffwalking."""
    windy = windy_cliffwalking(5, 6, "power")
    deterministic = greedy_policy(policy_iteration(windy.mdp([-0.2]), GAMMA).q)
    reference = theorem3_bound(windy, [-0.2], [0.05], policy=deterministic, gamma=0.48).bound
    advice = ("None of the constants depends on gamma: only 1/(1 - gamma), the gamma in the numerator and the "
              "denominator 1 - gamma max(1, diam(S) L_T (1 + L_pi)) change.")
    return compare_number(answer, reference, rel=0.01, what="Theorem 3's bound at gamma = 0.48", too_large=advice,
                          too_small=advice)


def second_derivative_q(answer) -> Verdict:
    """nb02-slack: ``max |Q_2|``, the uniform policy's Q-function for the reward ``d^2 R / dp^2`` at ``p0``."""
    inverse = cliffwalking(5, 6, "inverse")
    derivatives = inverse.derivatives([P0], second=True)
    mdp0 = inverse.mdp([P0])
    curvature = TabularMDP(mdp0.n_states, mdp0.n_actions, mdp0.transition, inverse.matrix(derivatives.d2reward[0, 0]))
    reference = np.abs(evaluate_policy(curvature, uniform_policy(mdp0), GAMMA)).max()
    return compare_number(answer, reference, rel=0.01, what="max |Q_2|",
                          too_large="Q_2 is the Q-function of the uniform policy in M(p0) with the reward "
                                    "replaced by its second derivative in p (transitions unchanged, discount 0.9).",
                          too_small="Q_2 is the Q-function of the uniform policy in M(p0) with the reward "
                                    "replaced by its second derivative in p (transitions unchanged, discount 0.9).")


def exact_lqr(answer) -> Verdict:
    """nb02-affine-lqr: a ``ContextualLQR`` with ``A`` constant and ``B`` affine (not constant) in ``c`` on which
    CEBE is exact (its error at round-off)."""
    if not isinstance(answer, ContextualLQR):
        return wrong(f"the answer should be a cebe_theory.ContextualLQR, not a {type(answer).__name__}")
    c, matrices = answer.context_symbol, answer.symbolic
    if any(entry != 0 for entry in matrices["A"].diff(c)):
        return wrong("the exercise asks for a constant A.")
    if all(entry == 0 for entry in matrices["B"].diff(c)):
        return wrong("B should depend on c (affinely): with nothing depending on c there is nothing to expand.")
    if any(entry != 0 for entry in matrices["B"].diff(c, 2)):
        return wrong("B should be affine in c: its second derivative in c is not zero.")
    low, high = answer.context_box
    context0 = DEFAULT_CONTEXT0 if low < DEFAULT_CONTEXT0 < high else 0.5 * (low + high)
    dcs = log_grid(-6.0, np.log(0.5 * min(high - context0, 1.0)), 6)
    gain = DEFAULT_GAIN if np.shape(DEFAULT_GAIN) == (answer.m, answer.n) else np.zeros((answer.m, answer.n))
    frame = coefficient_sweep(answer, context0, dcs, gain=gain).frame
    scale = max(np.abs(answer.true_problem(context0).cost).max(), 1.0)
    if frame[["policy_q_error", "optimal_q_error"]].to_numpy().max() <= 1e-9 * scale:
        return RIGHT
    return wrong("CEBE's error on your LQR is not at round-off: some part of the reward a step really pays, "
                 "R(x, u, f(x, u)), is not affine in c. Look at every cost, the next-state cost included.")


# ------------------------------------------------------------------------------------------------ notebook 05
def ess_limit(answer) -> Verdict:
    """nb05-ess: a function ``Delta / sigma -> `` the limit of the ESS fraction of Gaussian importance weights."""
    def ess_fraction(ratio):  # E[w]^2 / E[w^2] by quadrature over z ~ N(0, 1), w = exp(ratio z - ratio^2 / 2)
        density = lambda x, power: np.exp(-0.5 * x**2 + power * (ratio * x - 0.5 * ratio**2)) / np.sqrt(2 * np.pi)
        mean = scipy.integrate.quad(density, -np.inf, np.inf, args=(1,))[0]
        second = scipy.integrate.quad(density, -np.inf, np.inf, args=(2,))[0]
        return mean**2 / second

    return compare_function(answer, (0.25, 0.5, 1.0, 1.5, 2.0), ess_fraction,
                            where=lambda ratio: f" at Delta/sigma = {ratio}",
                            hint=lambda ratio, side: f"at Delta/sigma = {ratio} your ESS fraction is {side}. log w is "
                                                     "Gaussian in z: use E[exp(a Z)] = exp(a^2 / 2) for E[w] and E[w^2].")


def clip_threshold(answer) -> Verdict:
    """nb05-clip: the ``|dc|`` along ``p`` from which importance weights clipped at 1.2 make the estimator err."""
    cliff = stochastic_cliffwalking()

    def errs(dc):
        sweep = estimator_sweep(cliff, [0.1, 0.0], [dc], direction=(1.0, 0.0), gamma=GAMMA, max_weight=1.2)
        return sweep.sup_error["importance"][0] > 1e-10

    reference = _bisect(errs, 1e-4, 0.2, steps=30)
    return compare_number(answer, reference, rel=0.02, what="the |dc| from which the clipped estimator errs",
                          too_large="The clip binds as soon as one ratio T_{c0+dc}(s'|s,a) / T_{c0}(s'|s,a) passes "
                                    "1.2: which entry of a row grows fastest, relative to its size, with p?",
                          too_small="Below the threshold no weight reaches 1.2 and the estimator is exact: which "
                                    "entry of a row grows fastest, relative to its size, with p?")


__all__ = ["row_derivative", "residual_limit", "custom_reward_ratio", "optimal_slope", "projection_threshold",
           "theorem3_at_048", "second_derivative_q", "exact_lqr", "ess_limit", "clip_threshold"]
