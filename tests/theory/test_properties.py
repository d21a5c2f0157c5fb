"""Property tests over random smooth CMDPs (cebe_theory.random_cmdp): CEBE's exactness, its O(|dc|^2)
error, Theorem 3's bound and Theorem 4's transfer gap. A failure shrinks to a RandomCMDPSpec(...) line."""

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cebe_theory.bellman import evaluate_policy, uniform_policy
from cebe_theory.bounds import theorem1_check, theorem3_check
from cebe_theory.cebe import FirstOrderExpansion
from cebe_theory.random_cmdp import RandomCMDPSpec, random_smooth_cmdp
from cebe_theory.sweep import error_sweep, log_grid
from cebe_theory.transfer import policy_transfer_check

PROPERTY_SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("CEBE_PROPERTY_EXAMPLES", 100)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def specs(draw, affine=False):
    return RandomCMDPSpec(
        seed=draw(st.integers(0, 1000)),
        n_states=draw(st.integers(1, 5)),
        n_actions=draw(st.integers(1, 3)),
        context_dimension=draw(st.integers(1, 3)),
        affine=affine,
        reward_on_next_state=draw(st.booleans()),
    )


@st.composite
def unit_directions(draw, dimension):
    vector = np.array(draw(st.lists(st.floats(-1, 1), min_size=dimension, max_size=dimension)))
    assume(np.linalg.norm(vector) > 0.1)
    return vector / np.linalg.norm(vector)


def _q_error(cmdp, dc, gamma=0.9):
    expansion = FirstOrderExpansion.at(cmdp, cmdp.context0)
    true, cebe = cmdp.mdp(cmdp.context0 + dc), expansion.mdp(dc)
    policy = uniform_policy(true)
    return np.abs(evaluate_policy(cebe, policy, gamma) - evaluate_policy(true, policy, gamma)).max()


@PROPERTY_SETTINGS
@given(specs(), st.floats(0.0, 0.99))
def test_cebe_equals_be_at_the_training_context(spec, gamma):
    cmdp = random_smooth_cmdp(spec)
    cebe = FirstOrderExpansion.at(cmdp, cmdp.context0).mdp(np.zeros(spec.context_dimension))
    true = cmdp.mdp(cmdp.context0)
    assert abs(cebe.transition - true.transition).max() == 0.0
    assert abs(cebe.reward - true.reward).max() == 0.0
    assert _q_error(cmdp, np.zeros(spec.context_dimension), gamma) == 0.0


@PROPERTY_SETTINGS
@given(specs(affine=True), st.data())
def test_affine_cmdps_are_exact(spec, data):
    cmdp = random_smooth_cmdp(spec)
    # Any c0 + dc in the box (-1, 1)^d: c0 in [-0.3, 0.3], so |dc_i| <= 0.65 keeps it inside.
    dc = np.array(
        data.draw(st.lists(st.floats(-0.65, 0.65), min_size=spec.context_dimension, max_size=spec.context_dimension))
    )
    assert _q_error(cmdp, dc) <= 1e-10 * (1 + np.abs(dc).max())


@PROPERTY_SETTINGS
@given(specs(), st.data())
def test_error_is_second_order_in_dc(spec, data):
    cmdp = random_smooth_cmdp(spec)
    direction = data.draw(unit_directions(spec.context_dimension))
    # Small dc: the slope is asymptotic, and a third-order term can bend it on a coarser grid when the
    # second-order coefficient is small (e.g. RandomCMDPSpec(seed=114, n_states=1, n_actions=1, ...) on
    # [e^-6, e^-3]: slope 1.41 from cancellation of a dc^2 (a = 0.0047) against b dc^3, b / a ~ 20).
    # The statement is asymptotic: the slope is fitted on the 5 smallest dc of the grid (a CI run drew a CMDP whose
    # slope over all of [e^-10, e^-6] bent to 1.85 by the same cancellation, while it was 1.97 on the lower half).
    sweep = error_sweep(cmdp, cmdp.context0, log_grid(-10.0, -6.0, 10), gamma=0.9, direction=direction, fit_points=5)
    # Errors at the round-off level (~1e-13 for |Q| ~ 10) carry no slope.
    assume(sweep.sup_error.min() > 1e-11)
    assert sweep.fitted_slope >= 1.9, (sweep.sup_error, sweep.fitted_slope)
    # |Q_CE - Q_BE| / |dc|^2 stays bounded: the ratio changes by less than a factor 2 over the same 5 smallest dc.
    ratio = (sweep.sup_error / sweep.dc**2)[np.argsort(sweep.dc)[:5]]
    assert ratio.max() <= 2 * ratio.min()


@PROPERTY_SETTINGS
@given(specs(), st.data())
def test_error_never_exceeds_theorem3_where_its_conditions_hold(spec, data):
    cmdp = random_smooth_cmdp(spec)
    # The published formula is implied by our derivation when gamma >= 1/4 or R does not depend on s'
    # (cebe_theory.bounds); below 1/4 with next-state rewards it can fail (test_bounds.py shows one case).
    low = 0.0 if not spec.reward_on_next_state else 0.25
    gamma = data.draw(st.floats(low, 0.98))
    direction = data.draw(unit_directions(spec.context_dimension))
    size = data.draw(st.floats(1e-3, 0.65))
    deterministic = data.draw(st.booleans())
    policy = "uniform"
    if deterministic:
        actions = data.draw(st.lists(st.integers(0, spec.n_actions - 1), min_size=spec.n_states, max_size=spec.n_states))
        policy = np.eye(spec.n_actions)[actions]
    check = theorem3_check(cmdp, cmdp.context0, size * direction, policy, gamma, n_segment=17)
    assert check.measured <= check.result.discrete_metric_bound * (1 + 1e-9) + 1e-12
    if check.result.conditions_hold:
        assert check.within_bound, str(check)


@PROPERTY_SETTINGS
@given(specs(), st.data())
def test_theorem1_on_random_pairs(spec, data):
    cmdp = random_smooth_cmdp(spec)
    gamma = data.draw(st.floats(0.0, 0.98))
    shift = np.array(
        data.draw(st.lists(st.floats(-0.6, 0.6), min_size=spec.context_dimension, max_size=spec.context_dimension))
    )
    check = theorem1_check(cmdp.mdp(cmdp.context0), cmdp.mdp(cmdp.context0 + shift), "uniform", gamma)
    assert check.result.conditions_hold  # uniform policy: L_pi = 0 and L_T <= 1
    assert check.within_bound, str(check)


@PROPERTY_SETTINGS
@given(specs(), st.data())
def test_theorem4_gap_never_exceeds_two_delta_plus_two_eps(spec, data):
    cmdp = random_smooth_cmdp(spec)
    gamma = data.draw(st.floats(0.0, 0.95))
    context = cmdp.context0 + np.array(
        data.draw(st.lists(st.floats(-0.65, 0.65), min_size=spec.context_dimension, max_size=spec.context_dimension))
    )
    suboptimality = data.draw(st.sampled_from([0.0, 0.1, 1.0]))
    check = policy_transfer_check(cmdp, cmdp.context0, context, gamma, suboptimality=suboptimality)
    assert check.eps <= suboptimality + 1e-9  # performance-difference lemma
    assert check.holds, check.as_row()
