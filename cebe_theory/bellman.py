"""Exact solutions of the Bellman equation (BE) on a finite MDP.

For a stochastic policy ``pi(a | s)`` the Bellman equation for ``Q^pi`` (the CEBE of arXiv 2507.07348 at ``dc = 0``) is

    Q(s, a) = r(s, a) + gamma * sum_s' T(s' | s, a) * sum_a' pi(a' | s') Q(s', a'),
    r(s, a) = sum_s' T(s' | s, a) R(s, a, s').

We solve it on the states, which is ``n_actions`` times smaller than the system on ``(s, a)``:

    (I - gamma P_pi) V = r_pi,   P_pi = Pi T,   r_pi = Pi r,   then   Q = r + gamma T V,

where ``Pi`` is the ``(S, S*A)`` matrix with ``Pi[s, s*A + a] = pi(a | s)``. ``I - gamma P_pi`` is an
M-matrix (strictly diagonally dominant by rows for ``gamma < 1``): factorized by SuperLU when sparse, by
LAPACK when the MDP is small enough (``DENSE_STATE_LIMIT`` states) that a dense solve is faster.

The optimal ``Q*`` comes from policy iteration (Howard): evaluate exactly, improve greedily, stop when
the greedy policy no longer changes; on a finite MDP this terminates with an optimal policy.

>>> import numpy as np
>>> from cebe_theory.cmdp import TabularMDP
>>> # One state, one action, reward 1 forever: Q = 1 / (1 - gamma).
>>> mdp = TabularMDP.from_dense(np.ones((1, 1, 1)), np.ones((1, 1)))
>>> evaluate_policy(mdp, uniform_policy(mdp), gamma=0.9).round(10).tolist()
[[10.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cebe_theory.cmdp import TabularMDP
from cebe_theory.errors import InputError

__all__ = [
    "check_discount",
    "check_policy",
    "uniform_policy",
    "greedy_policy",
    "deterministic_policy",
    "evaluate_policy",
    "bellman_backup",
    "policy_iteration",
    "PolicyIterationResult",
]


def check_discount(gamma: float) -> float:
    """Return ``gamma`` as a float, or raise a one-line InputError unless ``0 <= gamma < 1``."""
    try:
        value = float(gamma)
    except (TypeError, ValueError):
        raise InputError(f"gamma must be a number in [0, 1), got {gamma!r}") from None
    if not 0.0 <= value < 1.0:
        raise InputError(f"gamma must be in [0, 1), got {gamma!r}")
    return value


def uniform_policy(mdp: TabularMDP) -> np.ndarray:
    """The uniform random policy ``pi(a | s) = 1 / A``, shape ``(S, A)``."""
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def deterministic_policy(actions: np.ndarray, n_actions: int) -> np.ndarray:
    """One-hot ``(S, A)`` policy table from an action index per state."""
    actions = np.asarray(actions, dtype=np.int64)
    table = np.zeros((actions.size, n_actions))
    table[np.arange(actions.size), actions] = 1.0
    return table


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """The deterministic greedy policy of ``q`` (ties to the lowest action index), shape ``(S, A)``."""
    return deterministic_policy(np.argmax(q, axis=1), q.shape[1])


def check_policy(mdp, policy) -> np.ndarray:
    """Return ``policy`` as a float64 ``(S, A)`` table, or raise InputError unless its rows are distributions.

    ``mdp`` is anything with ``n_states`` and ``n_actions`` (a :class:`TabularMDP` or a contextual MDP).
    """
    policy = np.asarray(policy, dtype=np.float64)
    if policy.shape != (mdp.n_states, mdp.n_actions):
        raise InputError(f"policy must have shape ({mdp.n_states}, {mdp.n_actions}), got {policy.shape}")
    if np.any(policy < -1e-12) or not np.allclose(policy.sum(axis=1), 1.0, atol=1e-9):
        raise InputError("policy rows must be probability distributions over actions")
    return policy


def _policy_matrix(policy: np.ndarray) -> sp.csr_matrix:
    """``Pi`` with ``Pi[s, s*A + a] = pi(a | s)``, shape ``(S, S*A)``."""
    n_states, n_actions = policy.shape
    rows = np.repeat(np.arange(n_states), n_actions)
    return sp.csr_matrix((policy.ravel(), (rows, np.arange(n_states * n_actions))), shape=(n_states, n_states * n_actions))


def bellman_backup(mdp: TabularMDP, value: np.ndarray, gamma: float) -> np.ndarray:
    """``Q(s, a) = r(s, a) + gamma * sum_s' T(s' | s, a) V(s')``, shape ``(S, A)``."""
    continuation = (mdp.transition @ value).reshape(mdp.n_states, mdp.n_actions)
    return mdp.expected_reward() + gamma * continuation


DENSE_STATE_LIMIT = 400


def evaluate_policy(mdp: TabularMDP, policy: np.ndarray, gamma: float, *, method: str = "auto") -> np.ndarray:
    """Exact ``Q^pi``, shape ``(S, A)``, by one linear solve on the states (module docstring).

    ``method``: ``"sparse"`` (SuperLU), ``"dense"`` (LAPACK) or ``"auto"`` (dense up to
    ``DENSE_STATE_LIMIT`` states). Both are exact up to round-off.
    """
    gamma = check_discount(gamma)
    policy = check_policy(mdp, policy)
    if method not in ("auto", "sparse", "dense"):
        raise InputError(f"method must be 'auto', 'sparse' or 'dense', got {method!r}")
    reward = mdp.expected_reward()
    reward_pi = (policy * reward).sum(axis=1)
    if method == "dense" or (method == "auto" and mdp.n_states <= DENSE_STATE_LIMIT):
        transition = mdp.transition.toarray().reshape(mdp.n_states, mdp.n_actions, mdp.n_states)
        system = np.eye(mdp.n_states) - gamma * np.einsum("sa,sat->st", policy, transition)
        value = np.linalg.solve(system, reward_pi)
    else:
        system = sp.identity(mdp.n_states, format="csc") - gamma * (_policy_matrix(policy) @ mdp.transition).tocsc()
        value = spla.spsolve(system, reward_pi)
    return reward + gamma * (mdp.transition @ value).reshape(mdp.n_states, mdp.n_actions)


@dataclass(frozen=True)
class PolicyIterationResult:
    """Optimal policy (action per state), its ``Q`` (= ``Q*``), ``V*`` and the number of improvement steps."""

    policy: np.ndarray
    q: np.ndarray
    v: np.ndarray
    num_iter: int


def policy_iteration(
    mdp: TabularMDP, gamma: float, *, initial_policy: np.ndarray | None = None, max_iter: int = 10_000
) -> PolicyIterationResult:
    """Optimal ``Q*`` by Howard's policy iteration with exact evaluation.

    The greedy step keeps the current action unless another is better by more than ``1e-12 * (1 + |Q|)``,
    which prevents cycling between tied actions in floating point.
    """
    gamma = check_discount(gamma)
    if initial_policy is None:
        actions = np.argmax(mdp.expected_reward(), axis=1)
    else:
        actions = np.asarray(initial_policy, dtype=np.int64)
    for iteration in range(1, max_iter + 1):
        q = evaluate_policy(mdp, deterministic_policy(actions, mdp.n_actions), gamma)
        current = q[np.arange(mdp.n_states), actions]
        best = np.argmax(q, axis=1)
        improves = q[np.arange(mdp.n_states), best] > current + 1e-12 * (1.0 + np.abs(current))
        if not improves.any():
            return PolicyIterationResult(policy=actions, q=q, v=current, num_iter=iteration)
        actions = np.where(improves, best, actions)
    raise RuntimeError(f"policy iteration did not converge in {max_iter} iterations")
