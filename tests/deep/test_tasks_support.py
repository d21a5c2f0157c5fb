"""Finite-difference references for the task tests (no tests here; imported by tests/deep/test_tasks*.py).

Every reference is taken from the environment's own ``step`` at perturbed contexts, starting from a copy of
the simulator state -- never from the task's Jacobian code:

    dobs_dcontext[:, i]  ~  (obs'(c + h e_i) - obs'(c - h e_i)) / 2h          (central difference, O(h^2))
    total dr/dc_i        ~  (r(c + h e_i) - r(c - h e_i)) / 2h
                          =  dreward_dcontext_i + dreward_dnextobs . dobs_dcontext[:, i]   (chain rule)
"""

from __future__ import annotations

import copy

import numpy as np


def relative_error(reported, reference, floor: float = 1e-8) -> float:
    """max |reported - reference| / max(max |reference|, floor): a max-norm relative error with an absolute
    floor, so an exactly-zero reference is compared absolutely."""
    reported, reference = np.asarray(reported, float), np.asarray(reference, float)
    return float(np.max(np.abs(reported - reference)) / max(np.max(np.abs(reference)), floor))


def copy_analytic_env(env):
    """A twin of a pure-numpy task (its whole state lives in Python attributes, so deepcopy is exact)."""
    return copy.deepcopy(env)


def finite_difference_step(env, action, step_sizes, make_twin=copy_analytic_env):
    """Central differences of ``(next state part, reward)`` in each context coordinate.

    ``env`` is an unwrapped task mid-episode; it is not stepped. Returns ``(dobs_fd (n, d), dreward_fd (d,))``,
    the latter the *total* derivative of the reward.
    """
    context = env.context
    n, d = env.state_dim, env.context_dim
    dobs_fd, dreward_fd = np.zeros((n, d)), np.zeros(d)
    for i in range(d):
        results = []
        for sign in (+1.0, -1.0):
            twin = make_twin(env)
            shifted = context.copy()
            shifted[i] += sign * step_sizes[i]
            twin.set_context(shifted)
            observation, reward, *_ = twin.step(action)
            results.append((observation[:n], reward))
        (obs_plus, reward_plus), (obs_minus, reward_minus) = results
        dobs_fd[:, i] = (obs_plus - obs_minus) / (2 * step_sizes[i])
        dreward_fd[i] = (reward_plus - reward_minus) / (2 * step_sizes[i])
    return dobs_fd, dreward_fd


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
