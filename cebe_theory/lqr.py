"""Deterministic CEBE with exact answers: a contextual linear-quadratic regulator (Theorem 2).

The contextual LQR (scalar context ``c``, state ``x`` in R^n, action ``u`` in R^m, ``z = (x, u)``)::

    x' = f^c(x, u) = A(c) x + B(c) u = F(c) z,                 F = [A  B]
    R^c(x, u, x') = -( x^T Qx(c) x + u^T Ru(c) u + x'^T N(c) x' )   (reward = minus cost; N charges the landing state)

so the realized reward is ``r^c(z) = R^c(z, F(c) z) = -z^T H(c) z`` with
``H = blockdiag(Qx, Ru) + F^T N F``. Every Q-function is a quadratic form ``Q(z) = -z^T G z``:

- a linear policy ``u = K x``: ``V(x) = -x^T P x`` with the discrete Lyapunov equation
  ``P = [I; K]^T H [I; K] + gamma (A + B K)^T P (A + B K)``, and ``G = H + gamma F^T P F``;
- the optimal policy: ``P`` from the discounted Riccati equation (``scipy.linalg.solve_discrete_are`` with
  ``a = sqrt(gamma) A``, ``b = sqrt(gamma) B``, ``q = H_xx``, ``r = H_uu``, ``s = H_xu``),
  ``G = H + gamma F^T P F`` and ``K* = -G_uu^{-1} G_ux``.

CEBE for deterministic transitions (arXiv 2507.07348, the CEBE with ``s' = f^c(s, a)``), around ``c0`` with ``dc = c - c0``::

    f_CE(z)  = F(c0) z + d_c F(c0) z dc                         -> F_CE = F0 + F' dc          (still linear)
    R_CE(z)  = R^{c0}(z, s0') + d_c R^{c0}(z, s0') dc + d_{s'} R^{c0}(z, s0') d_c f^{c0}(z) dc,   s0' = F0 z
             = -z^T ( H0 + dc [ blockdiag(Qx', Ru') + F0^T N' F0 + F0^T N F' + F'^T N F0 ] ) z = -z^T H_CE z

(reading: the CE reward is evaluated at the training next state ``s0'``, as in the paper's context sample
enhancement; it is the first-order expansion in ``c`` of the realized reward ``r^c(z)``). So the CEBE
problem is again an LQR, with ``(F_CE, H_CE)``, and ``Q_CE`` comes from the same equations. Because ``A``,
``B`` and the costs are nonlinear in ``c``, ``|G_CE - G_BE| = O(dc^2)`` (Theorem 2); :func:`coefficient_sweep`
measures it.

Theorem 2 on a compact set. Over all of R^n the sup norms of a quadratic reward are infinite, so we read
Theorem 2 on ``Z = X x U``, ``X = {|x| <= rho}``, ``U = {|u| <= upsilon}`` (Euclidean norms), which must be
invariant: ``|A| rho + |B| upsilon <= rho`` and ``|K| rho <= upsilon`` for the true and the CE system on the
segment (checked; otherwise the result says the condition fails). See :func:`theorem2_bound`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
import sympy

from cebe_theory.bellman import check_discount
from cebe_theory.bound_results import BoundCheck, BoundResult, Condition, Constant
from cebe_theory.errors import InputError
from cebe_theory.sweep import fitted_slope
from cebe_theory.symbolic import CompiledExpressions

__all__ = [
    "ContextualLQR",
    "LinearQuadratic",
    "default_lqr",
    "policy_q_matrix",
    "optimal_q_matrix",
    "theorem2_bound",
    "theorem2_sweep",
    "coefficient_sweep",
    "monte_carlo_q",
    "CoefficientSweep",
    "DEFAULT_GAIN",
    "DEFAULT_CONTEXT0",
    "FIXED_STATES",
]


@dataclass(frozen=True)
class LinearQuadratic:
    """One LQR: ``x' = F z`` with ``F = [A B]`` and reward ``-z^T H z`` (``H`` symmetric, ``(n+m, n+m)``)."""

    dynamics: np.ndarray  # F, (n, n + m)
    cost: np.ndarray  # H, (n + m, n + m)

    @property
    def n_states(self) -> int:
        return self.dynamics.shape[0]

    def split(self):
        n = self.n_states
        return self.dynamics[:, :n], self.dynamics[:, n:]


def _symmetric(matrix: np.ndarray) -> np.ndarray:
    return (matrix + matrix.T) / 2


def policy_q_matrix(problem: LinearQuadratic, gain: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """``(G, P)`` with ``Q^K(z) = -z^T G z`` and ``V^K(x) = -x^T P x`` for ``u = K x`` (Lyapunov equation).

    Raises InputError when ``sqrt(gamma) (A + B K)`` is not stable (the discounted value is infinite).
    """
    gamma = check_discount(gamma)
    A, B = problem.split()
    gain = np.atleast_2d(np.asarray(gain, dtype=np.float64))
    if gain.shape != (B.shape[1], A.shape[0]):
        raise InputError(f"gain K must have shape {(B.shape[1], A.shape[0])}, got {gain.shape}")
    closed = A + B @ gain
    radius = float(np.abs(np.linalg.eigvals(closed)).max())
    if math.sqrt(gamma) * radius >= 1:
        raise InputError(f"sqrt(gamma) * spectral radius of A + B K = {math.sqrt(gamma) * radius:.4g} >= 1: "
                         "the value is infinite")
    lift = np.vstack([np.eye(A.shape[0]), gain])  # x -> z = (x, K x)
    stage = lift.T @ problem.cost @ lift
    value = scipy.linalg.solve_discrete_lyapunov(math.sqrt(gamma) * closed.T, stage)
    value = _symmetric(value)
    q = _symmetric(problem.cost + gamma * problem.dynamics.T @ value @ problem.dynamics)
    return q, value


def optimal_q_matrix(problem: LinearQuadratic, gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(G*, P*, K*)`` of the optimal policy from the discounted Riccati equation (module docstring)."""
    gamma = check_discount(gamma)
    A, B = problem.split()
    n = A.shape[0]
    H = problem.cost
    root = math.sqrt(gamma)
    value = _symmetric(scipy.linalg.solve_discrete_are(root * A, root * B, H[:n, :n], H[n:, n:], s=H[:n, n:]))
    q = _symmetric(H + gamma * problem.dynamics.T @ value @ problem.dynamics)
    gain = -np.linalg.solve(q[n:, n:], q[n:, :n])
    return q, value, gain


class ContextualLQR:
    """A contextual LQR from sympy matrices of one context symbol (module docstring).

    Parameters
    ----------
    context:
        The context symbol ``c``.
    A, B, state_cost, action_cost, next_state_cost:
        sympy matrices of shapes ``(n, n)``, ``(n, m)``, ``(n, n)``, ``(m, m)``, ``(n, n)``, functions of ``c``.
    context_box:
        ``(low, high)`` of the open interval of allowed contexts.
    """

    def __init__(self, context, A, B, state_cost, action_cost, next_state_cost, *, context_box=(-1.0, 1.0)):
        self.context_symbol = context
        A, B = sympy.Matrix(A), sympy.Matrix(B)
        Qx, Ru, N = sympy.Matrix(state_cost), sympy.Matrix(action_cost), sympy.Matrix(next_state_cost)
        n, m = B.shape
        if A.shape != (n, n) or Qx.shape != (n, n) or N.shape != (n, n) or Ru.shape != (m, m):
            raise InputError(f"inconsistent shapes: A {A.shape}, B {B.shape}, state_cost {Qx.shape}, "
                             f"action_cost {Ru.shape}, next_state_cost {N.shape}")
        self.n, self.m = n, m
        self.symbolic = dict(A=A, B=B, state_cost=Qx, action_cost=Ru, next_state_cost=N)
        F = A.row_join(B)
        H = sympy.diag(Qx, Ru) + F.T * N * F
        self._F = CompiledExpressions(list(F), [context])
        self._H = CompiledExpressions(list(H), [context])
        self._stage = CompiledExpressions(list(Qx) + list(Ru) + list(N), [context])
        low, high = context_box
        if not low < high:
            raise InputError(f"context_box needs low < high, got {context_box}")
        self.context_box = (float(low), float(high))

    def check_context(self, context, name: str = "context") -> float:
        try:
            value = float(np.asarray(context, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            raise InputError(f"{name} must be one real number, got {context!r}") from None
        low, high = self.context_box
        if not (math.isfinite(value) and low < value < high):
            raise InputError(f"{name} {value!r} is outside the allowed context interval ({low:g}, {high:g})")
        return value

    # ---------------------------------------------------------------- matrices and derivatives
    def _shape_F(self, flat):
        return np.asarray(flat).reshape(self.n, self.n + self.m)

    def _shape_H(self, flat):
        k = self.n + self.m
        return np.asarray(flat).reshape(k, k)

    def dynamics(self, context, order: int = 0) -> np.ndarray:
        """``F(c)`` (order 0), ``d_c F`` (1) or ``d_c^2 F`` (2), shape ``(n, n + m)``."""
        c = [self.check_context(context)]
        flat = (self._F.values(c), self._F.jacobian(c)[:, 0], self._F.hessian(c)[:, 0, 0])[order]
        return self._shape_F(flat)

    def realized_cost(self, context, order: int = 0) -> np.ndarray:
        """``H(c)`` with ``r^c(z) = -z^T H z`` (order 0) or its first / second context derivative."""
        c = [self.check_context(context)]
        flat = (self._H.values(c), self._H.jacobian(c)[:, 0], self._H.hessian(c)[:, 0, 0])[order]
        return _symmetric(self._shape_H(flat))

    def stage_costs(self, context, order: int = 0):
        """``(Qx, Ru, N)`` at ``c`` (order 0) or their context derivatives."""
        c = [self.check_context(context)]
        flat = (self._stage.values(c), self._stage.jacobian(c)[:, 0])[order]
        n, m = self.n, self.m
        return flat[: n * n].reshape(n, n), flat[n * n : n * n + m * m].reshape(m, m), flat[n * n + m * m :].reshape(n, n)

    def true_problem(self, context) -> LinearQuadratic:
        """The LQR ``M(c)``."""
        return LinearQuadratic(self.dynamics(context), self.realized_cost(context))

    def cebe_problem(self, context0, dc) -> LinearQuadratic:
        """The CEBE LQR at ``c0 + dc``: ``F_CE = F0 + F' dc`` and ``H_CE`` from the CEBE reward (module docstring).

        ``H_CE`` is assembled term by term from the CEBE reward formula (``d_c R`` at fixed ``s'`` plus
        ``d_{s'} R d_c f``), not from ``d_c H``; the tests check that the two agree.
        """
        c0 = self.check_context(context0, "c0")
        self.check_context(c0 + float(dc), "c0 + dc")
        F0, F1 = self.dynamics(c0), self.dynamics(c0, 1)
        Qx0, Ru0, N0 = self.stage_costs(c0)
        Qx1, Ru1, N1 = self.stage_costs(c0, 1)
        H0 = scipy.linalg.block_diag(Qx0, Ru0) + F0.T @ N0 @ F0
        dH_fixed_next = scipy.linalg.block_diag(Qx1, Ru1) + F0.T @ N1 @ F0  # -d_c R at fixed s' = F0 z
        dH_next_shift = F0.T @ N0 @ F1 + F1.T @ N0 @ F0  # -d_{s'} R . d_c f   (d_{s'} R = -2 N s')
        return LinearQuadratic(F0 + float(dc) * F1, _symmetric(H0 + float(dc) * (dH_fixed_next + dH_next_shift)))

    def transition_samples(self, context, states: np.ndarray, actions: np.ndarray) -> dict:
        """Transitions ``(x, u) -> (x', r)`` at ``c`` with the partials CSE needs (batch-first arrays).

        Returns ``next_state (b, n)``, ``reward (b,)``, ``dnext_dcontext (b, n, 1)`` = ``d_c f``,
        ``dreward_dcontext (b, 1)`` = ``d_c R`` at fixed ``s'`` and ``dreward_dnext (b, n)`` = ``d_{s'} R``.
        """
        c = self.check_context(context)
        z = np.hstack([np.atleast_2d(states), np.atleast_2d(actions)])
        x, u = z[:, : self.n], z[:, self.n :]
        F, F1 = self.dynamics(c), self.dynamics(c, 1)
        Qx, Ru, N = self.stage_costs(c)
        Qx1, Ru1, N1 = self.stage_costs(c, 1)
        nxt = z @ F.T
        quad = lambda v, M: np.einsum("bi,ij,bj->b", v, M, v)  # noqa: E731
        reward = -(quad(x, Qx) + quad(u, Ru) + quad(nxt, N))
        return dict(
            next_state=nxt,
            reward=reward,
            dnext_dcontext=(z @ F1.T)[:, :, None],
            dreward_dcontext=-(quad(x, Qx1) + quad(u, Ru1) + quad(nxt, N1))[:, None],
            dreward_dnext=-2 * nxt @ N,
        )

    def __repr__(self) -> str:
        return f"ContextualLQR(n={self.n}, m={self.m}, context={self.context_symbol})"


def default_lqr() -> ContextualLQR:
    """The example of the report: ``n = 2``, ``m = 1``, ``c`` in ``(-0.7, 0.7)``, study point ``c0 = 0.3``.

    ``A(c) = 0.6 [[cos c, sin c], [-sin c, cos c]]`` (a rotation, ``|A| = 0.6``), ``B(c) = (0, 0.3 + 0.1 c^2)^T``,
    ``Qx = diag(1 + c^2 / 2, 1/2)``, ``Ru = 0.1 e^c``, ``N = 0.2 e^{-c} I``: every matrix nonlinear in ``c``.
    With ``rho = upsilon = 1`` the unit balls are invariant for ``|K| <= 1`` (``|A| + |B| <= 0.95``).
    """
    c = sympy.Symbol("c", real=True)
    A = sympy.Rational(3, 5) * sympy.Matrix([[sympy.cos(c), sympy.sin(c)], [-sympy.sin(c), sympy.cos(c)]])
    B = sympy.Matrix([[0], [sympy.Rational(3, 10) + c**2 / 10]])
    Qx = sympy.diag(1 + c**2 / 2, sympy.Rational(1, 2))
    Ru = sympy.Matrix([[sympy.exp(c) / 10]])
    N = sympy.exp(-c) / 5 * sympy.eye(2)
    return ContextualLQR(c, A, B, Qx, Ru, N, context_box=(-0.7, 0.7))


DEFAULT_GAIN = np.array([[-0.2, -0.5]])
DEFAULT_CONTEXT0 = 0.3


# ----------------------------------------------------------------------------------------- Theorem 2
def theorem2_bound(
    lqr: ContextualLQR,
    context0: float,
    dc: float,
    gain=DEFAULT_GAIN,
    gamma: float = 0.9,
    *,
    state_radius: float = 1.0,
    action_radius: float = 1.0,
    n_segment: int = 33,
) -> BoundResult:
    """Theorem 2 (deterministic CEBE) for the policy ``u = K x`` on ``Z = X x U`` (module docstring)::

        |Q_CE^c - Q_BE^c|_inf <= |dc|^2/(1-gamma) ( |D^2R| + gamma (1+L_pi) |D^2f| (|R| + |DR|)
                                                   / (1 - gamma max(1, |Df| (1+L_pi))) )
        if gamma < 1 / ((|Df| + |D^2f| |dc|)(1+L_pi)).

    Reading (Euclidean norms, sups over ``z`` in ``Z`` and ``c`` on the segment, ``zeta^2 = rho^2 + upsilon^2``):
    ``|R| = sup |r^c(z)| <= |H|_2 zeta^2`` and ``|DR| = sup |grad_z r^c| <= 2 |H|_2 zeta`` for the realized reward
    ``r^c(z) = -z^T H(c) z`` (``|R| + |DR|`` bounds its Lipschitz constant on ``Z``);
    ``|D^2R| = sup |d_c^2 r^c| <= |H''|_2 zeta^2``; ``|Df| = sup |d_z f| = |F|_2`` (Lipschitz constant of the
    dynamics); ``|D^2f| = max(sup |d_c^2 f| = |F''|_2 zeta, sup |d_c d_z f| = |F'|_2)`` (the mixed derivative
    bounds the growth of the CE dynamics' Lipschitz constant, ``|F_CE| <= |F0| + |F'| |dc|``);
    ``L_pi = |K|_2``. Our proof sketch under this reading: ``Q_CE - Q = (r_CE - r) + gamma (V_CE - V)(f_CE)
    + gamma (V(f_CE) - V(f))`` with ``|r_CE - r| <= |D^2R| dc^2 / 2``, ``|f_CE - f| <= |D^2f| dc^2 / 2`` and
    ``Lip V <= (1+L_pi) Lip r / (1 - gamma |Df| (1+L_pi))``; it needs ``f(Z)``, ``f_CE(Z) in X`` (invariance).
    """
    gamma = check_discount(gamma)
    c0 = lqr.check_context(context0, "c0")
    dc = float(dc)
    lqr.check_context(c0 + dc, "c0 + dc")
    for name, value in (("state_radius", state_radius), ("action_radius", action_radius)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive number, got {value!r}")
    gain = np.atleast_2d(np.asarray(gain, dtype=np.float64))
    rho, upsilon = float(state_radius), float(action_radius)
    zeta = math.hypot(rho, upsilon)
    steps = np.linspace(0.0, dc, int(n_segment))
    norm2 = lambda M: float(np.linalg.norm(M, 2))  # noqa: E731
    H_sup = max(norm2(lqr.realized_cost(c0 + t)) for t in steps)
    H2_sup = max(norm2(lqr.realized_cost(c0 + t, 2)) for t in steps)
    F_sup = max(norm2(lqr.dynamics(c0 + t)) for t in steps)
    F1_sup = max(norm2(lqr.dynamics(c0 + t, 1)) for t in steps)
    F2_sup = max(norm2(lqr.dynamics(c0 + t, 2)) for t in steps)
    n = lqr.n
    F0, F1 = lqr.dynamics(c0), lqr.dynamics(c0, 1)
    reach = 0.0  # worst |A| rho + |B| upsilon over the true and CE systems on the segment
    for t in steps:
        for F in (lqr.dynamics(c0 + t), F0 + t * F1):
            reach = max(reach, norm2(F[:, :n]) * rho + norm2(F[:, n:]) * upsilon)
    sup_R, sup_DR, sup_D2R = H_sup * zeta**2, 2 * H_sup * zeta, H2_sup * zeta**2
    sup_DT, sup_D2T = F_sup, max(F2_sup * zeta, F1_sup)
    lpi = norm2(gain)
    growth = max(1.0, sup_DT * (1 + lpi))
    denominator = 1 - gamma * growth
    value = (dc**2 / (1 - gamma) * (sup_D2R + gamma * (1 + lpi) * sup_D2T * (sup_R + sup_DR) / denominator)
             if denominator > 0 else float("nan"))
    constants = (
        Constant("|R|", sup_R, "sup_Z |r^c(z)| <= |H|_2 zeta^2, realized reward r = -z^T H z"),
        Constant("|DR|", sup_DR, "sup_Z |grad_z r^c| <= 2 |H|_2 zeta"),
        Constant("|D^2R|", sup_D2R, "sup_Z |d_c^2 r^c| <= |H''|_2 zeta^2"),
        Constant("|Df|", sup_DT, "sup |d_z f| = |[A B]|_2"),
        Constant("|D^2f|", sup_D2T, "max(|F''|_2 zeta, |F'|_2): d_c^2 f and d_c d_z f"),
        Constant("L_pi", lpi, "|K|_2 (policy u = K x)"),
        Constant("zeta", zeta, f"sup |z| on Z: rho={rho:g}, upsilon={upsilon:g}"),
    )
    conditions = (
        Condition("gamma < 1/((|Df| + |D^2f| |dc|)(1+L_pi))", gamma, 1 / ((sup_DT + sup_D2T * abs(dc)) * (1 + lpi))),
        Condition("gamma max(1, |Df|(1+L_pi)) < 1 (denominator)", gamma * growth, 1.0),
        Condition("X invariant: sup |A| rho + |B| upsilon <= rho", reach, rho * (1 + 1e-12)),
        Condition("U holds the policy: |K| rho <= upsilon", lpi * rho, upsilon * (1 + 1e-12)),
    )
    formula = "|dc|^2/(1-g) (|D^2R| + g (1+L_pi) |D^2f| (|R| + |DR|) / (1 - g max(1, |Df| (1+L_pi))))"
    return BoundResult("Theorem 2", f"{lqr!r}, c0={c0:g}, u = K x, K={gain.round(4).tolist()}", gamma, abs(dc),
                       constants, conditions, formula, float(value))


def _sup_on_Z(matrix: np.ndarray, rho: float, upsilon: float) -> float:
    """Upper estimate of ``sup_{z in Z} |z^T M z|``: ``|M|_2 (rho^2 + upsilon^2)``."""
    return float(np.linalg.norm(matrix, 2)) * (rho**2 + upsilon**2)


def theorem2_sweep(lqr: ContextualLQR, context0: float, dcs, gain=DEFAULT_GAIN, gamma: float = 0.9, *,
                   state_radius: float = 1.0, action_radius: float = 1.0) -> list[BoundCheck]:
    """:func:`theorem2_bound` next to the measured ``sup_Z |Q_CE - Q_BE| <= |G_CE - G_BE|_2 zeta^2`` for every ``dc``.

    The measured value is an upper estimate of the sup over ``Z`` (so ``measured <= bound`` is conclusive
    and ``bound / measured`` understates the true tightness ratio).
    """
    checks = []
    for dc in np.atleast_1d(np.asarray(dcs, dtype=np.float64)):
        result = theorem2_bound(lqr, context0, dc, gain, gamma, state_radius=state_radius, action_radius=action_radius)
        true_q, _ = policy_q_matrix(lqr.true_problem(context0 + dc), gain, gamma)
        cebe_q, _ = policy_q_matrix(lqr.cebe_problem(context0, dc), gain, gamma)
        checks.append(BoundCheck(result, _sup_on_Z(cebe_q - true_q, state_radius, action_radius), {"dc": float(dc)}))
    return checks


@dataclass(frozen=True)
class CoefficientSweep:
    """``|G_CE - G_BE|`` (max abs entry) and ``|V_CE - V_BE|`` at fixed states for every ``dc``, with slopes."""

    frame: pd.DataFrame
    slopes: dict


FIXED_STATES = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, -0.8]])


def coefficient_sweep(lqr: ContextualLQR, context0: float, dcs, gain=DEFAULT_GAIN, gamma: float = 0.9, *,
                      states=FIXED_STATES, fit_points: int = 10) -> CoefficientSweep:
    """The O(dc^2) error of the CEBE LQR, for the fixed policy ``u = K x`` and for the optimal policies.

    Columns: ``dc``; ``policy_q_error = max |G_CE^K - G^K|``, ``policy_value_error = max_x |V_CE^K(x) - V^K(x)|``
    over ``states``; ``optimal_q_error``, ``optimal_value_error`` for ``G*``/``V*`` (each problem with its own
    optimal policy). ``slopes``: :func:`cebe_theory.sweep.fitted_slope` of each column.
    """
    states = np.atleast_2d(np.asarray(states, dtype=np.float64))
    rows = []
    for dc in np.atleast_1d(np.asarray(dcs, dtype=np.float64)):
        true, cebe = lqr.true_problem(context0 + dc), lqr.cebe_problem(context0, dc)
        gt, pt = policy_q_matrix(true, gain, gamma)
        gc, pc = policy_q_matrix(cebe, gain, gamma)
        ot, opt, _ = optimal_q_matrix(true, gamma)
        oc, opc, _ = optimal_q_matrix(cebe, gamma)
        value = lambda P: np.einsum("bi,ij,bj->b", states, P, states)  # noqa: E731
        rows.append(dict(
            dc=float(dc),
            policy_q_error=float(np.abs(gc - gt).max()),
            policy_value_error=float(np.abs(value(pc) - value(pt)).max()),
            optimal_q_error=float(np.abs(oc - ot).max()),
            optimal_value_error=float(np.abs(value(opc) - value(opt)).max()),
        ))
    frame = pd.DataFrame(rows)
    slopes = {col: fitted_slope(frame["dc"].to_numpy(), frame[col].to_numpy(), fit_points)
              for col in frame.columns if col != "dc"}
    return CoefficientSweep(frame, slopes)


def monte_carlo_q(step, state: np.ndarray, action: np.ndarray, gain, gamma: float, *, rollouts: int = 20000,
                  seed: int = 0, max_steps: int = 2000) -> tuple[float, float]:
    """Monte Carlo estimate of ``Q^K(x, u)`` and its standard error, independent of the Lyapunov solution.

    ``step(z) -> (next_states (b, n), rewards (b,))`` simulates one transition for a batch of ``z = (x, u)``.
    Uses the geometric-horizon identity ``sum_t gamma^t r_t = E[ sum_{t <= tau} r_t ]`` with
    ``P(tau >= t) = gamma^t``: each rollout continues after every step with probability ``gamma``, so the
    undiscounted sum of its rewards is an unbiased, finite-variance sample of ``Q``.
    """
    gamma = check_discount(gamma)
    rng = np.random.default_rng(seed)
    gain = np.atleast_2d(np.asarray(gain, dtype=np.float64))
    x = np.repeat(np.atleast_2d(np.asarray(state, dtype=np.float64)), rollouts, axis=0)
    u = np.repeat(np.atleast_2d(np.asarray(action, dtype=np.float64)), rollouts, axis=0)
    total = np.zeros(rollouts)
    alive = np.ones(rollouts, dtype=bool)
    for _ in range(max_steps):
        nxt, reward = step(np.hstack([x, u]))
        total += np.where(alive, reward, 0.0)
        alive &= rng.random(rollouts) < gamma
        if not alive.any():
            break
        x = nxt
        u = x @ gain.T
    return float(total.mean()), float(total.std(ddof=1) / math.sqrt(rollouts))
