"""The windy Cliffwalking: transitions nonlinear in the context, where the simplex projection acts."""

import numpy as np
import pytest

from cebe_theory import FirstOrderExpansion, error_sweep, log_grid, windy_cliffwalking


def test_transition_derivative_matches_central_differences():
    cmdp = windy_cliffwalking()
    w0, h = -0.2, 1e-6
    derivatives = cmdp.derivatives([w0], second=True)
    plus = cmdp.mdp([w0 + h]).transition.toarray().ravel()
    minus = cmdp.mdp([w0 - h]).transition.toarray().ravel()
    finite = (plus - minus) / (2 * h)
    np.testing.assert_allclose(cmdp.matrix(derivatives.dtransition[0]).toarray().ravel(), finite, atol=1e-8)
    # Second derivative of w^2 / 3 is 2/3 and of 1 - 1/20 - w^2 is -2: nonzero, so T is not affine.
    assert np.abs(derivatives.d2transition).max() == pytest.approx(2.0)


def test_projection_and_renormalization_differ_where_the_projection_acts():
    cmdp = windy_cliffwalking()
    expansion = FirstOrderExpansion.at(cmdp, [-0.2])
    assert not expansion.projection_acts([0.09])
    assert expansion.projection_acts([0.11])  # linear slip 0.04 - 0.4 dw < 0 for dw > 0.1
    projected = expansion.mdp([0.3], "projection").transition
    renormalized = expansion.mdp([0.3], "renormalize").transition
    assert abs(projected - renormalized).max() > 1e-3
    for matrix in (projected, renormalized):
        assert matrix.data.min() >= 0
        np.testing.assert_allclose(np.asarray(matrix.sum(axis=1)).ravel(), 1.0, atol=1e-12)


@pytest.mark.parametrize("variant", ["projection", "renormalize"])
def test_both_variants_scale_as_dc_squared(variant):
    dcs = log_grid(-8.0, -1.0, 60)
    sweep = error_sweep(windy_cliffwalking(5, 6, "power"), [-0.2], dcs, gamma=0.9, transition_variant=variant)
    assert 1.95 <= sweep.fitted_slope <= 2.05
    # Also where the projection acts the error stays O(dc^2): error / dc^2 there is at most a small
    # multiple of its small-dc limit.
    ratio = sweep.sup_error / dcs**2
    assert sweep.projection_acts.any()
    assert ratio[sweep.projection_acts].max() < 3 * ratio[:10].mean()


def test_projection_and_renormalization_errors_differ_in_a_sweep():
    dcs = log_grid(-3.0, -1.0, 12)
    cmdp = windy_cliffwalking(5, 6, "constant")
    projection = error_sweep(cmdp, [-0.2], dcs, transition_variant="projection")
    renormalize = error_sweep(cmdp, [-0.2], dcs, transition_variant="renormalize")
    acts = projection.projection_acts
    assert np.all(np.abs(projection.sup_error - renormalize.sup_error)[acts] > 1e-6)
    np.testing.assert_allclose(projection.sup_error[~acts], renormalize.sup_error[~acts], rtol=1e-9)
