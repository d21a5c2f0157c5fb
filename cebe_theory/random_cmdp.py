"""Random smooth contextual MDPs for property tests of Theorems 1-4 (issue #4).

A :class:`RandomCMDPSpec` names one CMDP completely (a seed and a few sizes), so a failing property test
shrinks to a line such as ``RandomCMDPSpec(seed=0, n_states=2, n_actions=1, context_dimension=1)`` that
anyone can rebuild with :func:`random_smooth_cmdp`.

Smooth, nonlinear family (``affine=False``). Context ``c`` in the open box ``C = (-1, 1)^d``, ``d`` in 1..3.
Every row of ``T^c`` is a softmax of logits that are affine-plus-quadratic in ``c``::

    logit(s' | s, a; c) = alpha + beta . c + c^T Gamma c          (alpha, beta, Gamma random; Gamma symmetric)
    T^c(s' | s, a)      = exp(logit(s')) / sum_k exp(logit(k))

so ``T`` is nonlinear in ``c``, every entry is positive (the simplex projection of the first-order row acts
only for large ``dc``) and every row sums to 1 by construction. Rewards are smooth nonlinear functions::

    R^c(s, a, s') = a0 + b . c + kappa sin(omega . c + phi)

drawn independently per ``(s, a, s')``, or per ``(s, a)`` when ``reward_on_next_state=False`` (the reward
then does not depend on ``s'``, the setting in which the published Theorem 3 formula holds for every
gamma; see :mod:`cebe_theory.bounds`).

Affine family (``affine=True``). ``T^c = T0 + sum_i c_i D_i`` and ``R^c = R0 + sum_i c_i E_i`` with
``T0`` a random row-stochastic matrix, every row of ``D_i`` summing to 0 and ``|D_i| <= min(T0) / (2 d)``
so that ``T^c`` stays a distribution on all of ``C``. CEBE is exact on this family (PAPER.md section 2).

The training context ``c0`` is drawn in ``[-0.3, 0.3]^d`` and stored on the CMDP (``cmdp.context0``).

>>> cmdp = random_smooth_cmdp(RandomCMDPSpec(seed=3, n_states=3, n_actions=2, context_dimension=2))
>>> cmdp.mdp(cmdp.context0).transition.shape
(6, 3)
>>> bool(abs(cmdp.mdp([0.5, -0.5]).transition.sum(axis=1) - 1).max() < 1e-12)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from cebe_theory.cmdp import SymbolicCMDP

__all__ = ["RandomCMDPSpec", "RandomCMDP", "random_smooth_cmdp", "CONTEXT_BOX_HALF_WIDTH"]

CONTEXT_BOX_HALF_WIDTH = 1.0


@dataclass(frozen=True)
class RandomCMDPSpec:
    """Everything that determines one random CMDP; its ``repr`` is a readable counterexample."""

    seed: int
    n_states: int = 3
    n_actions: int = 2
    context_dimension: int = 1
    affine: bool = False
    reward_on_next_state: bool = True

    def __post_init__(self):
        for name, value, low, high in (
            ("n_states", self.n_states, 1, 12),
            ("n_actions", self.n_actions, 1, 6),
            ("context_dimension", self.context_dimension, 1, 3),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")


class RandomCMDP(SymbolicCMDP):
    """A :class:`~cebe_theory.cmdp.SymbolicCMDP` that remembers its spec and its training context ``c0``."""

    spec: RandomCMDPSpec
    context0: np.ndarray

    def __repr__(self) -> str:
        return f"random_smooth_cmdp({self.spec!r})"


def _number(x: float) -> sympy.Float:
    return sympy.Float(float(x), 17)


def _dot(coefficients, symbols) -> sympy.Expr:
    return sum((_number(b) * c for b, c in zip(coefficients, symbols)), sympy.Integer(0))


@lru_cache(maxsize=256)
def random_smooth_cmdp(spec: RandomCMDPSpec) -> RandomCMDP:
    """Build the CMDP named by ``spec`` (module docstring). Cached: equal specs give the same object."""
    if not isinstance(spec, RandomCMDPSpec):
        raise ValueError(f"spec must be a RandomCMDPSpec, got {spec!r}")
    rng = np.random.default_rng(spec.seed)
    S, A, d = spec.n_states, spec.n_actions, spec.context_dimension
    context = sympy.symbols(f"c0:{d}", real=True)
    states, actions, next_states = np.meshgrid(np.arange(S), np.arange(A), np.arange(S), indexing="ij")
    transitions, rewards = [], []

    if spec.affine:
        base = rng.dirichlet(np.ones(S), size=(S, A)) * 0.8 + 0.2 / S  # min entry >= 0.2 / S
        scale = base.min() / (2 * d)
        slopes = []
        for _ in range(d):
            q, q_prime = rng.dirichlet(np.ones(S), size=(2, S, A))
            slopes.append(scale * (q - q_prime))  # rows sum to 0, |entries| <= scale
        for s in range(S):
            for a in range(A):
                for s_next in range(S):
                    expression = _number(base[s, a, s_next]) + _dot([D[s, a, s_next] for D in slopes], context)
                    transitions.append((expression, s, a, s_next))
    else:
        for s in range(S):
            for a in range(A):
                logits = []
                for _ in range(S):
                    alpha = rng.normal()
                    beta = rng.normal(size=d)
                    gamma_matrix = rng.normal(scale=0.5, size=(d, d))
                    gamma_matrix = (gamma_matrix + gamma_matrix.T) / 2
                    quadratic = sum(
                        (_number(gamma_matrix[i, j]) * context[i] * context[j] for i in range(d) for j in range(d)),
                        sympy.Integer(0),
                    )
                    logits.append(_number(alpha) + _dot(beta, context) + quadratic)
                weights = [sympy.exp(logit) for logit in logits]
                total = sum(weights)
                for s_next in range(S):
                    transitions.append((weights[s_next] / total, s, a, s_next))

    def reward_expression():
        if spec.affine:
            return _number(rng.normal()) + _dot(rng.normal(size=d), context)
        omega = rng.normal(size=d)
        return (
            _number(rng.normal())
            + _dot(rng.normal(scale=0.5, size=d), context)
            + _number(rng.uniform(0.5, 1.5)) * sympy.sin(_dot(omega, context) + _number(rng.uniform(0, 2 * np.pi)))
        )

    if spec.reward_on_next_state:
        for s, a, s_next in zip(states.ravel(), actions.ravel(), next_states.ravel()):
            rewards.append((reward_expression(), int(s), int(a), int(s_next)))
    else:
        for s in range(S):
            for a in range(A):
                rewards.append((reward_expression(), s, a, np.arange(S)))

    half = CONTEXT_BOX_HALF_WIDTH
    cmdp = RandomCMDP(
        S, A, context, transitions, rewards, context_box=([-half] * d, [half] * d),
        check_row_sums=False,  # softmax rows / affine rows sum to 1 by construction; mdp() re-checks numerically
    )
    cmdp.spec = spec
    cmdp.context0 = rng.uniform(-0.3, 0.3, size=d)
    return cmdp
