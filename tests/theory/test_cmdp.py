"""SymbolicCMDP: construction, validation and derivatives (cebe_theory.cmdp, cebe_theory.symbolic)."""

import numpy as np
import pytest
import sympy

from cebe_theory import SymbolicCMDP, cliffwalking
from cebe_theory.symbolic import CompiledExpressions

p = sympy.Symbol("p")
q = sympy.Symbol("q")


def _chain(stay=1 - p, move=p, **kwargs):
    return SymbolicCMDP(
        2, 1, [p], [(stay, [0, 1], 0, [0, 1]), (move, [0, 1], 0, [1, 0])], [(1 / p, [0, 1], 0, [1, 0])],
        context_box=([0.0], [1.0]), **kwargs,
    )


def test_rows_that_do_not_sum_to_one_are_rejected_symbolically():
    with pytest.raises(ValueError, match=r"sum to .*not 1"):
        _chain(stay=1 - p, move=p**2)


def test_rows_that_sum_to_one_only_after_simplification_are_accepted():
    cmdp = _chain(stay=sympy.cos(p) ** 2, move=sympy.sin(p) ** 2)
    np.testing.assert_allclose(cmdp.mdp([0.3]).transition.sum(axis=1), 1.0)


def test_probabilities_outside_unit_interval_name_state_action_and_context():
    cmdp = SymbolicCMDP(
        2, 1, [p], [(1 - 2 * p, [0, 1], 0, [0, 1]), (2 * p, [0, 1], 0, [1, 0])], [], state_labels=["left", "right"]
    )
    cmdp.mdp([0.4])
    with pytest.raises(ValueError, match=r"next state .* \(left, 0\).* outside \[0, 1\] at context p=0.7"):
        cmdp.mdp([0.7])


def test_context_outside_the_box_is_a_clear_error():
    with pytest.raises(ValueError, match=r"p=1.2 is outside the allowed context box: p in \(0, 1\)"):
        _chain().mdp([1.2])
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        _chain().mdp([0.1, 0.2])


def test_missing_rows_and_bad_indices_are_reported():
    with pytest.raises(ValueError, match="no transition given"):
        SymbolicCMDP(2, 1, [p], [(1, [0], 0, [0])])
    with pytest.raises(ValueError, match=r"next_states must lie in \[0, 1\]"):
        SymbolicCMDP(2, 1, [p], [(1, [0, 1], 0, [0, 2])])
    with pytest.raises(ValueError, match="not context symbols|neither context"):
        SymbolicCMDP(1, 1, [p], [(1, [0], 0, [0])], [(q, [0], 0, [0])])


def test_duplicate_entries_add_up():
    # Both terms land on (0, 0, 0): the probability is their sum.
    cmdp = SymbolicCMDP(1, 1, [p], [(p, [0], 0, [0]), (1 - p, [0], 0, [0])])
    assert cmdp.mdp([0.3]).transition[0, 0] == pytest.approx(1.0)


def test_vector_context_derivatives_match_finite_differences():
    a, b = sympy.symbols("a b")
    stay = sympy.exp(-a * b) / (1 + sympy.exp(-a * b))
    cmdp = SymbolicCMDP(
        2, 2, [a, b],
        [(stay, [0, 1], [[0], [1]], [0, 1]), (1 - stay, [0, 1], [[0], [1]], [1, 0])],
        [(sympy.sin(a) + b**2, [0, 1], [[0], [1]], [1, 0])],
    )
    c, h = np.array([0.3, -0.7]), 1e-6
    derivatives = cmdp.derivatives(c, second=True)
    for i in range(2):
        e = np.eye(2)[i] * h
        plus, minus = cmdp.mdp(c + e), cmdp.mdp(c - e)
        dT = (plus.transition - minus.transition).toarray().ravel() / (2 * h)
        dR = (plus.reward - minus.reward).toarray().ravel() / (2 * h)
        np.testing.assert_allclose(cmdp.matrix(derivatives.dtransition[i]).toarray().ravel(), dT, atol=1e-8)
        np.testing.assert_allclose(cmdp.matrix(derivatives.dreward[i]).toarray().ravel(), dR, atol=1e-8)
        # Second derivatives: central differences of the first derivatives.
        d_plus, d_minus = cmdp.derivatives(c + e), cmdp.derivatives(c - e)
        np.testing.assert_allclose(
            derivatives.d2transition[i], (d_plus.dtransition - d_minus.dtransition) / (2 * h), atol=1e-7
        )
        np.testing.assert_allclose(derivatives.d2reward[i], (d_plus.dreward - d_minus.dreward) / (2 * h), atol=1e-7)


def test_compiled_expressions_broadcast_over_batched_arguments():
    x = sympy.Symbol("x")
    compiled = CompiledExpressions([p * x, sympy.Integer(3), p**2], [p], arguments=[x])
    xs = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(compiled.values([0.5], xs), [[0.5, 1.0, 1.5], [3, 3, 3], [0.25] * 3])
    assert compiled.jacobian([0.5], xs).shape == (3, 1, 3)
    np.testing.assert_allclose(compiled.jacobian([0.5], xs)[0, 0], xs)
    np.testing.assert_allclose(compiled.hessian([0.5], xs)[2, 0, 0], [2, 2, 2])


def test_large_grid_has_few_distinct_expressions():
    cmdp = cliffwalking(60, 60, "power")
    assert len(cmdp.expressions) <= 8  # 1 - p, p/3, sums of them, 1, goal and fall rewards
    assert cmdp.n_states == 3600
