"""The Euclidean projection onto the probability simplex and the renormalization (cebe_theory.cebe)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cebe_theory.cebe import project_rows_to_simplex, renormalize_rows

finite = st.floats(min_value=-5, max_value=5, allow_nan=False, allow_infinity=False)
rows_strategy = st.lists(arrays(np.float64, st.integers(1, 7), elements=finite), min_size=1, max_size=6)


def _csr(rows):
    indptr = np.concatenate(([0], np.cumsum([len(r) for r in rows])))
    return np.concatenate(rows), indptr


def _threshold_by_bisection(v):
    """A second algorithm: tau with sum(max(v - tau, 0)) = 1, by bisection (monotone in tau)."""
    low, high = v.min() - 1.0, v.max()
    for _ in range(200):
        mid = 0.5 * (low + high)
        if np.maximum(v - mid, 0).sum() > 1:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


@settings(max_examples=300, deadline=None)
@given(rows_strategy)
def test_projection_is_a_distribution_and_satisfies_the_optimality_conditions(rows):
    data, indptr = _csr(rows)
    projected = project_rows_to_simplex(data, indptr)
    for i, v in enumerate(rows):
        x = projected[indptr[i]:indptr[i + 1]]
        assert np.all(x >= 0)
        assert abs(x.sum() - 1) < 1e-9
        if abs(v.sum() - 1) <= 1e-12 and np.all(v >= 0):
            np.testing.assert_array_equal(x, v)  # already a distribution: untouched
            continue
        # KKT conditions of min |x - v|^2 on the simplex: x = max(v - tau, 0) for one tau, i.e.
        # v_i - x_i = tau where x_i > 0 and v_i <= tau where x_i = 0.
        support = x > 0
        tau = np.mean(v[support] - x[support])
        np.testing.assert_allclose(v[support] - x[support], tau, atol=1e-9)
        assert np.all(v[~support] <= tau + 1e-9)
        # And the same tau as an independent bisection.
        assert abs(tau - _threshold_by_bisection(v)) < 1e-8


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.integers(0, 2**32 - 1))
def test_projection_is_nearer_than_any_other_distribution(rows, seed):
    data, indptr = _csr(rows)
    projected = project_rows_to_simplex(data, indptr)
    rng = np.random.default_rng(seed)
    for i, v in enumerate(rows):
        x = projected[indptr[i]:indptr[i + 1]]
        others = rng.dirichlet(np.full(v.size, 0.5), size=50)
        assert np.all(np.linalg.norm(others - v, axis=1) >= np.linalg.norm(x - v) - 1e-12)


@settings(max_examples=100, deadline=None)
@given(rows_strategy)
def test_projection_is_idempotent_and_rowwise(rows):
    data, indptr = _csr(rows)
    once = project_rows_to_simplex(data, indptr)
    np.testing.assert_allclose(project_rows_to_simplex(once, indptr), once, atol=1e-12)
    for i, v in enumerate(rows):  # rows are independent: projecting alone gives the same row
        alone = project_rows_to_simplex(v, np.array([0, v.size]))
        np.testing.assert_allclose(once[indptr[i]:indptr[i + 1]], alone, atol=1e-12)


def test_projection_hand_cases():
    # (1.2, -0.2): tau = 0.2 -> (1, 0).  (0.6, 0.6, -0.2): tau = 0.1 -> (0.5, 0.5, 0).
    data, indptr = _csr([np.array([1.2, -0.2]), np.array([0.6, 0.6, -0.2]), np.array([0.3, 0.7])])
    np.testing.assert_allclose(project_rows_to_simplex(data, indptr), [1, 0, 0.5, 0.5, 0, 0.3, 0.7], atol=1e-15)


def test_renormalization_hand_case_differs_from_projection():
    # (0.6, 0.3, -0.1... ) with sum 1: renormalize -> (0.6, 0.5) / 1.1 ; project -> tau = 0.05 -> (0.55, 0.45, 0)
    data, indptr = _csr([np.array([0.6, 0.5, -0.1])])
    np.testing.assert_allclose(renormalize_rows(data, indptr), [0.6 / 1.1, 0.5 / 1.1, 0], atol=1e-15)
    np.testing.assert_allclose(project_rows_to_simplex(data, indptr), [0.55, 0.45, 0], atol=1e-15)
