"""Random smooth contextual MDPs for property tests of Theorems 1-4 of arXiv 2507.07348.

A :class:`RandomCMDPSpec` names one CMDP completely (a seed and a few sizes), so a failing property test
shrinks to a line such as ``RandomCMDPSpec(seed=0, n_states=2, n_actions=1, context_dimension=1)`` that
anyone can rebuild with :func:`random_smooth_cmdp`.

Smooth, nonlinear family (``affine=False``). Context ``c`` in the open box ``C = (-1, 1)^d``, ``d`` in 1..3.
Every row of ``T^c`` is a softmax of logits that are affine-plus-quadratic in ``c``::

    logit(s' | s, a; c) = alpha + beta . c + c^T Gamma c          (alpha, beta, Gamma random; Gamma symmetric)
    T^c(s' | s, a)      = exp(logit(s')) / sum_k exp(logit(k))

so ``T`` is nonlinear in ``c``, every entry is positive and every row sums to 1 by construction. Rewards
are smooth nonlinear functions::

    R^c(s, a, s') = a0 + b . c + kappa sin(omega . c + phi)

drawn independently per ``(s, a, s')``, or per ``(s, a)`` when ``reward_on_next_state=False`` (the reward
then does not depend on ``s'``: the setting in which the published Theorem 3 formula holds for every
gamma; see :mod:`cebe_theory.bounds`).

Affine family (``affine=True``): ``T^c = T0 + sum_i c_i D_i`` and ``R^c = R0 + sum_i c_i E_i`` with ``T0``
row-stochastic, every row of ``D_i`` summing to 0 and ``|D_i| <= min(T0) / (2 d)`` so that ``T^c`` stays a
distribution on all of ``C``. CEBE is exact on this family (``T`` and ``R`` are affine in ``c``).

The training context ``c0`` is drawn in ``[-0.3, 0.3]^d`` and stored on the CMDP (``cmdp.context0``).

Two builds of the same draw. :func:`random_smooth_cmdp` evaluates ``T``, ``R`` and their first and second
context derivatives in closed form with numpy (softmax calculus below), because sympy needs ~40 s to
differentiate a 6-state, 3-action, 3-dimensional softmax twice; :func:`random_smooth_cmdp_symbolic` builds
the same CMDP from sympy expressions (slow, for small specs), and the tests check one against the other.
Closed forms, with ``g_j = d logit_j / dc = beta_j + 2 Gamma_j c`` and ``p = T(. | s, a)``::

    d p_j / dc        = p_j (g_j - gbar),                       gbar = sum_k p_k g_k
    d^2 p_j / dc^2    = p_j [ (g_j - gbar)(g_j - gbar)^T + 2 Gamma_j - 2 Gammabar - Cov_p(g) ]

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

from cebe_theory.cmdp import ContextDerivatives, SymbolicCMDP, TabularMDP
from cebe_theory.errors import InputError

__all__ = ["RandomCMDPSpec", "RandomCMDP", "random_smooth_cmdp", "random_smooth_cmdp_symbolic", "CONTEXT_BOX_HALF_WIDTH"]

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
                raise InputError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed!r}")


@dataclass(frozen=True)
class _Draw:
    """The random parameters of one spec (arrays indexed ``[s, a, s', ...]``)."""

    alpha: np.ndarray | None  # (S, A, S)        softmax family
    beta: np.ndarray | None  # (S, A, S, d)
    curvature: np.ndarray | None  # (S, A, S, d, d)  Gamma, symmetric
    base: np.ndarray | None  # (S, A, S)        affine family: T0
    slopes: np.ndarray | None  # (S, A, S, d)     affine family: D_i stacked last
    reward_offset: np.ndarray  # (S, A, S or 1)
    reward_slope: np.ndarray  # (S, A, S or 1, d)
    reward_amplitude: np.ndarray  # (S, A, S or 1)  0 for the affine family
    reward_frequency: np.ndarray  # (S, A, S or 1, d)
    reward_phase: np.ndarray  # (S, A, S or 1)
    context0: np.ndarray  # (d,)


def _draw(spec: RandomCMDPSpec) -> _Draw:
    rng = np.random.default_rng(spec.seed)
    S, A, d = spec.n_states, spec.n_actions, spec.context_dimension
    R = S if spec.reward_on_next_state else 1
    alpha = beta = curvature = base = slopes = None
    if spec.affine:
        base = rng.dirichlet(np.ones(S), size=(S, A)) * 0.8 + 0.2 / S  # min entry >= 0.2 / S
        scale = base.min() / (2 * d)
        q, q_prime = rng.dirichlet(np.ones(S), size=(2, d, S, A))
        slopes = np.moveaxis(scale * (q - q_prime), 0, -1)  # rows sum to 0, |entries| <= scale
        amplitude = np.zeros((S, A, R))
        reward_offset, reward_slope = rng.normal(size=(S, A, R)), rng.normal(size=(S, A, R, d))
        frequency, phase = np.zeros((S, A, R, d)), np.zeros((S, A, R))
    else:
        alpha = rng.normal(size=(S, A, S))
        beta = rng.normal(size=(S, A, S, d))
        raw = rng.normal(scale=0.5, size=(S, A, S, d, d))
        curvature = (raw + np.swapaxes(raw, -1, -2)) / 2
        reward_offset = rng.normal(size=(S, A, R))
        reward_slope = rng.normal(scale=0.5, size=(S, A, R, d))
        amplitude = rng.uniform(0.5, 1.5, size=(S, A, R))
        frequency = rng.normal(size=(S, A, R, d))
        phase = rng.uniform(0, 2 * np.pi, size=(S, A, R))
    context0 = rng.uniform(-0.3, 0.3, size=d)
    return _Draw(alpha, beta, curvature, base, slopes, reward_offset, reward_slope, amplitude, frequency, phase, context0)


class RandomCMDP(SymbolicCMDP):
    """A random smooth CMDP with the :class:`~cebe_theory.cmdp.SymbolicCMDP` interface, evaluated in closed form.

    The pattern is dense (every ``(s, a, s')``). :meth:`mdp` and :meth:`derivatives` evaluate the module's
    closed forms with numpy; the inherited sympy machinery only lays out the pattern.
    """

    def __init__(self, spec: RandomCMDPSpec):
        S, A, d = spec.n_states, spec.n_actions, spec.context_dimension
        states, actions, next_states = np.meshgrid(np.arange(S), np.arange(A), np.arange(S), indexing="ij")
        layout = [(sympy.Rational(1, S), states.ravel(), actions.ravel(), next_states.ravel())]
        half = CONTEXT_BOX_HALF_WIDTH
        super().__init__(S, A, sympy.symbols(f"c0:{d}", real=True), layout, context_box=([-half] * d, [half] * d))
        self.spec = spec
        self._draw = _draw(spec)
        self.context0 = self._draw.context0.copy()

    def _evaluate(self, context: np.ndarray, order: int):
        """``(T, dT, d2T, R, dR, d2R)`` as ``(S, A, S, ...)`` arrays; derivatives up to ``order``."""
        p = self._draw
        S = self.n_states
        if self.spec.affine:
            T = p.base + p.slopes @ context
            dT = np.broadcast_to(p.slopes, T.shape + (context.size,))
            d2T = np.zeros(T.shape + (context.size, context.size))
        else:
            logits = p.alpha + p.beta @ context + np.einsum("...ij,i,j->...", p.curvature, context, context)
            logits -= logits.max(axis=-1, keepdims=True)
            T = np.exp(logits)
            T /= T.sum(axis=-1, keepdims=True)
            g = p.beta + 2 * p.curvature @ context  # (S, A, S, d)
            gbar = np.einsum("...k,...ki->...i", T, g)[..., None, :]
            centred = g - gbar
            dT = T[..., None] * centred
            d2T = None
            if order >= 2:
                outer = centred[..., :, None] * centred[..., None, :]
                covariance = np.einsum("...k,...kij->...ij", T, outer)[..., None, :, :]
                mean_curvature = np.einsum("...k,...kij->...ij", T, p.curvature)[..., None, :, :]
                d2T = T[..., None, None] * (outer + 2 * p.curvature - 2 * mean_curvature - covariance)
        phase = p.reward_frequency @ context + p.reward_phase
        R = p.reward_offset + p.reward_slope @ context + p.reward_amplitude * np.sin(phase)
        dR = p.reward_slope + (p.reward_amplitude * np.cos(phase))[..., None] * p.reward_frequency
        d2R = None
        if order >= 2:
            d2R = -(p.reward_amplitude * np.sin(phase))[..., None, None] * (
                p.reward_frequency[..., :, None] * p.reward_frequency[..., None, :]
            )
        widen = (lambda x: np.broadcast_to(x, (S, self.n_actions, S) + x.shape[3:])) if R.shape[2] == 1 else (lambda x: x)
        return T, dT, d2T, widen(R), widen(dR), None if d2R is None else widen(d2R)

    def mdp(self, context) -> TabularMDP:
        context = self.check_context(context)
        T, _, _, R, _, _ = self._evaluate(context, order=1)
        data = T.reshape(-1)
        self.validate_transition(data, context)
        return TabularMDP(self.n_states, self.n_actions, self.matrix(data), self.matrix(np.ascontiguousarray(R).reshape(-1)))

    def derivatives(self, context, *, second: bool = False) -> ContextDerivatives:
        context = self.check_context(context)
        T, dT, d2T, R, dR, d2R = self._evaluate(context, order=2 if second else 1)
        flat = lambda x, k: np.moveaxis(np.ascontiguousarray(x).reshape((self.nnz,) + x.shape[3:]), 0, -1)  # noqa: E731
        self.validate_transition(T.reshape(-1), context)
        return ContextDerivatives(
            context=context,
            transition=T.reshape(-1),
            dtransition=flat(dT, 1),
            reward=np.ascontiguousarray(R).reshape(-1),
            dreward=flat(dR, 1),
            d2transition=flat(d2T, 2) if second else None,
            d2reward=flat(d2R, 2) if second else None,
        )

    def symbolic_expressions(self):
        """``(transition_terms, reward_terms)`` of the same CMDP as sympy terms (for :func:`random_smooth_cmdp_symbolic`)."""
        p, spec = self._draw, self.spec
        S, A = self.n_states, self.n_actions
        c = self.context_symbols
        dot = lambda v: sum((sympy.Float(float(x), 17) * ci for x, ci in zip(v, c)), sympy.Integer(0))  # noqa: E731
        transitions, rewards = [], []
        for s in range(S):
            for a in range(A):
                if spec.affine:
                    row = [sympy.Float(float(p.base[s, a, j]), 17) + dot(p.slopes[s, a, j]) for j in range(S)]
                else:
                    weights = []
                    for j in range(S):
                        quadratic = sum(
                            (
                                sympy.Float(float(p.curvature[s, a, j, i, k]), 17) * c[i] * c[k]
                                for i in range(len(c))
                                for k in range(len(c))
                            ),
                            sympy.Integer(0),
                        )
                        weights.append(sympy.exp(sympy.Float(float(p.alpha[s, a, j]), 17) + dot(p.beta[s, a, j]) + quadratic))
                    total = sum(weights)
                    row = [w / total for w in weights]
                for j in range(S):
                    transitions.append((row[j], s, a, j))
                for j in range(p.reward_offset.shape[2]):
                    expression = (
                        sympy.Float(float(p.reward_offset[s, a, j]), 17)
                        + dot(p.reward_slope[s, a, j])
                        + sympy.Float(float(p.reward_amplitude[s, a, j]), 17)
                        * sympy.sin(dot(p.reward_frequency[s, a, j]) + sympy.Float(float(p.reward_phase[s, a, j]), 17))
                    )
                    rewards.append((expression, s, a, j if spec.reward_on_next_state else np.arange(S)))
        return transitions, rewards

    def __repr__(self) -> str:
        return f"random_smooth_cmdp({self.spec!r})"


@lru_cache(maxsize=512)
def random_smooth_cmdp(spec: RandomCMDPSpec) -> RandomCMDP:
    """Build the CMDP named by ``spec`` (module docstring). Cached: equal specs give the same object."""
    if not isinstance(spec, RandomCMDPSpec):
        raise InputError(f"spec must be a RandomCMDPSpec, got {spec!r}")
    return RandomCMDP(spec)


def random_smooth_cmdp_symbolic(spec: RandomCMDPSpec) -> SymbolicCMDP:
    """The same CMDP as :func:`random_smooth_cmdp`, built from sympy expressions (slow: small specs only)."""
    numeric = random_smooth_cmdp(spec)
    transitions, rewards = numeric.symbolic_expressions()
    half = CONTEXT_BOX_HALF_WIDTH
    d = spec.context_dimension
    return SymbolicCMDP(
        spec.n_states, spec.n_actions, numeric.context_symbols, transitions, rewards,
        context_box=([-half] * d, [half] * d), check_row_sums=False,  # float softmax rows: checked numerically
    )
