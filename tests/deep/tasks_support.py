"""Finite-difference helpers for the task tests (no tests here; imported by tests/deep/test_tasks_*.py).

The reference Jacobians come from :func:`cebe_deep.tasks.central_differences`: the environment's own ``step``
at perturbed contexts, from a copy of its state -- never from the task's Jacobian code.
"""

from __future__ import annotations

import numpy as np


def relative_error(reported, reference, floor: float = 1e-8) -> float:
    """max |reported - reference| / max(max |reference|, floor): a max-norm relative error with an absolute
    floor, so an exactly-zero reference is compared absolutely."""
    reported, reference = np.asarray(reported, float), np.asarray(reference, float)
    return float(np.max(np.abs(reported - reference)) / max(np.max(np.abs(reference)), floor))


def central_gradient(function, point, step: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar ``function`` at ``point`` (relative step per coordinate)."""
    point = np.asarray(point, dtype=float)
    gradient = np.zeros_like(point)
    for i in range(point.size):
        h = step * max(1.0, abs(point[i]))
        plus, minus = point.copy(), point.copy()
        plus[i] += h
        minus[i] -= h
        gradient[i] = (function(plus) - function(minus)) / (2 * h)
    return gradient
