"""Theorems 1 and 3 as calculators: constants from independent computations, bounds against measured errors.

Reading of the norms: discrete metric on S; reading of R: expected reward r(s, a) or R(s, a, s') (module
docstring of cebe_theory.bounds).
"""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from cebe_theory.bellman import greedy_policy, policy_iteration
from cebe_theory.bounds import (
    REWARD_READINGS,
    checks_frame,
    policy_lipschitz,
    theorem1_check,
    theorem3_bound,
    theorem3_check,
    theorem3_sweep,
)
from cebe_theory.bounds_report import bounds_report
from cebe_theory.cebe import project_rows_to_simplex
from cebe_theory.cliffwalking import cliffwalking, windy_cliffwalking
from cebe_theory.cmdp import SymbolicCMDP
from cebe_theory.errors import InputError
from cebe_theory.random_cmdp import RandomCMDPSpec, random_smooth_cmdp
from cebe_theory.sweep import log_grid


# ------------------------------------------------------------------ constants from closed forms / finite differences
def test_windy_second_derivative_of_transitions_is_four():
    # Closed form: intended move 1 - 1/20 - w^2 (d2 = -2), three slips w^2/3 (d2 = 2/3 each): l1 = 2 + 3 * 2/3.
    result = theorem3_bound(windy_cliffwalking(), [-0.2], [0.05], gamma=0.9)
    assert result.constant("|D^2T|") == pytest.approx(4.0, rel=1e-12)
    # Reward of the constant family: goal +1, fall -100, 0 elsewhere -> oscillation 101, no context dependence.
    assert result.constant("|R|_Lip") == 101.0
    assert result.constant("|D^2R|") == 0.0
    assert result.constant("L_pi") == 0.0
    # |dc| condition: 1/sqrt(4) = 0.5.
    assert result.conditions[0].rhs == pytest.approx(0.5)


def test_inverse_family_reward_curvature_is_its_closed_form_at_p0():
    # fall -100/p: d2 = -200/p^3; goal 1/p^2: d2 = 6/p^4. On [0.1, 0.1 + dc] both shrink with p: sup at p0.
    result = theorem3_bound(cliffwalking(family="inverse"), [0.1], [0.01], gamma=0.9)
    assert result.constant("|D^2R|") == pytest.approx(max(200 / 0.1**3, 6 / 0.1**4), rel=1e-12)
    assert result.constant("|D^2T|") == 0.0  # T affine in p
    assert result.constant("|R|") == pytest.approx(1000.0)  # |fall| at p0


def test_second_derivatives_agree_with_finite_differences_on_a_random_cmdp():
    cmdp = random_smooth_cmdp(RandomCMDPSpec(seed=5, n_states=3, n_actions=2, context_dimension=1))
    c0, dc = cmdp.context0, np.array([0.2])
    result = theorem3_bound(cmdp, c0, dc, gamma=0.9, n_segment=65)
    h = 1e-4
    reward_d2, transition_d2 = [], []
    for t in np.linspace(0, 0.2, 65):
        values = [cmdp.derivatives(c0 + t + k * h) for k in (-1, 0, 1)]
        reward_d2.append((values[0].reward - 2 * values[1].reward + values[2].reward) / h**2)
        transition_d2.append((values[0].transition - 2 * values[1].transition + values[2].transition) / h**2)
    assert result.constant("|D^2R|") == pytest.approx(np.abs(reward_d2).max(), rel=1e-4)
    per_entry = np.abs(transition_d2).max(axis=0)
    assert result.constant("|D^2T|") == pytest.approx(np.bincount(cmdp.pattern_rows, per_entry).max(), rel=1e-4)


def test_policy_lipschitz_under_the_discrete_metric():
    assert policy_lipschitz(np.full((4, 3), 1 / 3)) == 0.0
    assert policy_lipschitz(np.eye(3)[[0, 1, 1, 2]]) == 1.0
    assert policy_lipschitz(np.array([[0.5, 0.5], [0.8, 0.2]])) == pytest.approx(0.3)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 7), st.integers(0, 10_000))
def test_projection_error_is_at_most_three_times_the_linear_error_in_l1(size, seed):
    # The lemma behind the factor 3 of Theorem 3 (module docstring): x sums to 1, y any distribution.
    rng = np.random.default_rng(seed)
    y = rng.dirichlet(np.ones(size))
    step = rng.normal(size=size)
    step -= step.mean()
    x = y + rng.exponential() * step
    projected = project_rows_to_simplex(x, np.array([0, size]))
    assert np.abs(projected - y).sum() <= 3 * np.abs(x - y).sum() + 1e-12


# ------------------------------------------------------------------ Theorem 3 checks
@pytest.mark.parametrize("family, high", [("inverse", -3.0), ("power", -1.0)])
def test_theorem3_holds_on_the_paper_cliffwalking(family, high):
    checks = theorem3_sweep(cliffwalking(family=family), [0.1], log_grid(-8.0, high, 8), "uniform", 0.9)
    frame = checks_frame(checks)
    assert (frame["conditions"] == "hold").all()
    assert frame["within_bound"].all(), frame[["dc", "measured", "bound"]]
    assert (frame["ratio"] >= 1).all()
    assert (frame["discrete_metric_bound"] >= frame["measured"]).all()


def test_theorem3_on_the_windy_cliffwalking_marks_the_dc_condition():
    windy = windy_cliffwalking()
    checks = theorem3_sweep(windy, [-0.2], [0.01, 0.05, 0.2, 0.45, 0.6], "uniform", 0.9)
    frame = checks_frame(checks)
    # Projection acts beyond dw = |w0| / 2 = 0.1 (cliffwalking docstring), and |dc| < 1/2 is the condition.
    assert frame["projection_acts"].tolist() == [False, False, True, True, True]
    assert frame["conditions"].str.startswith("hold").tolist() == [True, True, True, True, False]
    assert checks[-1].result.bound is None and checks[-1].within_bound is None
    assert all(check.within_bound for check in checks[:-1])
    assert "condition fails" in str(checks[-1])


def test_gamma_condition_fails_for_a_deterministic_policy_at_0_9_and_the_bound_holds_at_0_45():
    windy = windy_cliffwalking()
    policy = greedy_policy(policy_iteration(windy.mdp([-0.2]), 0.9).q)
    failing = theorem3_check(windy, [-0.2], [0.05], policy, 0.9)
    # L_pi = 1, L_T = 1: gamma max(1, 2) = 1.8 >= 1.
    assert failing.result.constant("L_pi") == 1.0
    assert not failing.result.conditions_hold and failing.result.bound is None and failing.ratio is None
    holding = theorem3_check(windy, [-0.2], [0.05], policy, 0.45)
    assert holding.result.conditions_hold and holding.within_bound


def _two_state_cmdp(reward_on_next_state: bool) -> SymbolicCMDP:
    """One action; from either state go to state 1 with probability 1/2 + c^2/4 (d2T = 1/2 per entry)."""
    c = sympy.Symbol("c")
    up = sympy.Rational(1, 2) + c**2 / 4
    transitions = [(1 - up, [0, 1], 0, 0), (up, [0, 1], 0, 1)]
    if reward_on_next_state:
        rewards = [(sympy.Integer(10), [0, 1], 0, 1)]  # landing in state 1 pays 10
    else:
        rewards = [(sympy.Integer(10), 1, 0, [0, 1])]  # being in state 1 pays 10, whatever s'
    return SymbolicCMDP(2, 1, [c], transitions, rewards, context_box=([-1.0], [1.0]))


def test_finding_read_with_next_state_rewards_theorems_3_and_1_fail_at_small_gamma():
    # With c0 = 0, d_cT = 0 so T_CE = T^{c0}; both states earn r^c = 10 (1/2 + c^2/4), so
    # Q_BE - Q_CE = 10 dc^2 / 4 / (1 - gamma) = 2.5 dc^2 / (1 - gamma) (measured 0.101 at gamma 0.01, dc 0.2).
    # Read with R(s, a, s'): |D^2R| = 0, osc R = 10, |D^2T| = 1/2 + 1/2 = 1, L_T = L_pi = 0, so Theorem 3 gives
    # 30 gamma dc^2 / (1 - gamma)^2: below the error exactly when 30 gamma / (1 - gamma) < 2.5, gamma < 1/13.
    two_state = _two_state_cmdp(True)
    check = theorem3_check(two_state, [0.0], [0.2], gamma=0.01)
    assert check.result.reward_reading == "next_state" and check.result.conditions_hold
    assert check.measured == pytest.approx(2.5 * 0.2**2 / 0.99, rel=1e-9)
    assert check.result.bound == pytest.approx(30 * 0.01 * 0.2**2 / 0.99**2, rel=1e-9)  # 0.012
    assert check.within_bound is False
    assert theorem3_check(two_state, [0.0], [0.2], gamma=0.07).within_bound is False
    assert theorem3_check(two_state, [0.0], [0.2], gamma=0.08).within_bound is True
    # Read with r(s, a): |D^2 r| = 10 * 1/2 = 5 and osc r = 0, so the formula gives 5 dc^2 / (1 - gamma) = 0.202.
    assert check.result.other_reading_bound == pytest.approx(5 * 0.2**2 / 0.99, rel=1e-9)
    assert check.within_other_reading_bound is True
    assert theorem3_check(two_state, [0.0], [0.2], gamma=0.01, reward_reading="expected").within_bound is True
    # Our discrete-metric bound (first-step term without gamma) covers it, and the formula holds when the
    # reward does not depend on s' or gamma >= 1/4.
    assert check.measured <= check.result.discrete_metric_bound
    assert theorem3_check(_two_state_cmdp(False), [0.0], [0.2], gamma=0.01).within_bound
    assert theorem3_check(two_state, [0.0], [0.2], gamma=0.25).within_bound
    # Theorem 1 on M(0) against M(0.2): read with r(s, a) (its default) dR = 10 * 0.04 / 4 = 0.1 and osc r = 0,
    # a tight and valid bound 0.1 / (1 - gamma); read with R(s, a, s') dR = 0 and it misses the error.
    pair = theorem1_check(two_state.mdp([0.0]), two_state.mdp([0.2]), "uniform", 0.01)
    assert pair.result.reward_reading == "expected" and pair.within_bound is True
    assert pair.result.bound == pytest.approx(0.1 / 0.99, rel=1e-9)
    assert pair.within_other_reading_bound is False
    assert (
        theorem1_check(two_state.mdp([0.0]), two_state.mdp([0.2]), "uniform", 0.01, reward_reading="next_state").within_bound
        is False
    )


def test_finding_read_with_expected_rewards_theorem3_fails_at_gamma_zero():
    # CEBE's expected reward sum_s' T_CE R_CE = r0 + dr dc + dc^2 sum_s' d_cT d_cR: the cross term is not
    # covered by |d_c^2 r| dc^2, and at gamma = 0 (Q = r) nothing else in the formula covers it.
    cmdp = random_smooth_cmdp(RandomCMDPSpec(seed=112, n_states=3, n_actions=3, context_dimension=1))
    expected = theorem3_check(cmdp, cmdp.context0, [0.1], gamma=0.0, reward_reading="expected")
    assert expected.result.conditions_hold and not expected.extra["projection_acts"]
    assert expected.within_bound is False  # measured above the formula's value (0.0088 against 0.0071 here)
    assert expected.measured <= expected.result.discrete_metric_bound
    assert expected.within_other_reading_bound is True  # read with R(s, a, s'): 0.051
    assert theorem3_check(cmdp, cmdp.context0, [0.1], gamma=0.05, reward_reading="expected").within_bound is True


def test_each_reading_reports_its_own_constants():
    cmdp = windy_cliffwalking(family="power")
    by_reading = {
        reading: theorem3_bound(cmdp, [-0.2], [0.05], gamma=0.9, reward_reading=reading) for reading in REWARD_READINGS
    }
    # Transition constants and conditions do not depend on the reading of R; the two values swap places.
    assert by_reading["expected"].constant("|D^2T|") == by_reading["next_state"].constant("|D^2T|")
    assert by_reading["expected"].formula_value == pytest.approx(by_reading["next_state"].other_reading_value, rel=1e-12)
    assert by_reading["next_state"].formula_value == pytest.approx(by_reading["expected"].other_reading_value, rel=1e-12)
    # Averaging over s' cannot widen the spread of the rewards.
    assert by_reading["expected"].constant("|R|_Lip") <= by_reading["next_state"].constant("|R|_Lip")
    row = checks_frame([theorem3_check(cmdp, [-0.2], [0.05], gamma=0.9)]).iloc[0]
    assert row["reward_reading"] == "next_state" and row["within_bound_other_reading"]
    with pytest.raises(InputError, match="reward_reading must be one of expected, next_state"):
        theorem3_bound(cmdp, [-0.2], [0.05], reward_reading="average")


# ------------------------------------------------------------------ Theorem 1
@pytest.mark.parametrize("family", ["inverse", "power"])
def test_theorem1_on_nearby_cliffwalking_pairs(family):
    cmdp = cliffwalking(family=family)
    for dc in (1e-3, 1e-2, 5e-2):
        check = theorem1_check(cmdp.mdp([0.1]), cmdp.mdp([0.1 + dc]), "uniform", 0.9)
        assert check.result.conditions_hold and check.within_bound
        # dT from the closed form: T moves by dc in the intended entry and dc/3 in each slip entry -> TV = dc
        # (rows of open cells whose four moves land on four distinct cells).
        assert check.result.constant("dT") == pytest.approx(dc, rel=1e-9)


def test_theorem1_with_a_deterministic_policy_needs_gamma_below_one_half():
    cmdp = cliffwalking(family="power")
    policy = greedy_policy(policy_iteration(cmdp.mdp([0.1]), 0.9).q)
    failing = theorem1_check(cmdp.mdp([0.1]), cmdp.mdp([0.12]), policy, 0.9)
    assert not failing.result.conditions_hold and failing.within_bound is None
    holding = theorem1_check(cmdp.mdp([0.1]), cmdp.mdp([0.12]), policy, 0.45)
    assert holding.result.conditions_hold and holding.within_bound


# ------------------------------------------------------------------ bad input
def test_bad_input_is_rejected_with_one_line_messages():
    cmdp = cliffwalking(family="power")
    with pytest.raises(InputError, match="policy must be 'uniform'"):
        theorem3_bound(cmdp, [0.1], [0.01], policy="optimal")
    with pytest.raises(InputError, match="outside the allowed context box"):
        theorem3_bound(cmdp, [0.1], [0.95])
    with pytest.raises(InputError, match="n_segment"):
        theorem3_bound(cmdp, [0.1], [0.01], n_segment=1)
    with pytest.raises(InputError, match="gamma"):
        theorem3_bound(cmdp, [0.1], [0.01], gamma=1.0)
    with pytest.raises(InputError, match="policy must have shape"):
        theorem3_bound(cmdp, [0.1], [0.01], policy=np.ones((2, 2)) / 2)


# ------------------------------------------------------------------ the full report (slow)
@pytest.mark.slow
def test_full_bound_report_has_no_violation_under_either_reading_of_the_reward():
    # The settings of figures/bounds (24 dc per sweep, 29 transfer contexts): every bound whose conditions
    # hold is above the measured error, with R read as the calculators do and read the other way.
    report = bounds_report(quick=False)
    assert report.violations() == 0
    assert report.other_reading_violations() == 0
