"""Contextual MDPs on finite state and action spaces (the contextual MDPs of arXiv 2507.07348).

A contextual MDP is a family of MDPs ``M(c) = (S, A, T^c, R^c, gamma)`` indexed by a context vector ``c``
in an open box ``C``. Here ``T^c(s' | s, a)`` and ``R^c(s, a, s')`` are sympy expressions of the context
symbols, so sympy gives the context derivatives ``d_c T``, ``d_c R`` (and second derivatives for the
bounds) exactly.

Scale: a grid world has many entries but few distinct expressions (``1 - p``, ``p/3``, ``2p/3``, ...).
A :class:`SymbolicCMDP` is therefore built from *terms* ``(expression, states, actions, next_states)``
that attach one expression to many entries at once; entries that appear several times add up (a slip
off the grid and the intended move can both land on the same cell). Each distinct expression is
differentiated and lambdified once (:class:`~cebe_theory.symbolic.CompiledExpressions`); evaluating at a
context is one vectorized call plus a ``bincount`` onto a fixed sparse pattern.

Conventions used throughout ``cebe_theory``:

- rows of the transition matrix are state-action pairs, row index ``s * n_actions + a``; columns are next
  states, so ``T`` has shape ``(S * A, S)``;
- the reward matrix ``R[(s, a), s']`` shares the pattern of ``T`` (rewards off that pattern are never
  reached and are not stored);
- all numeric arrays are float64.

Example: a two-state chain that stays with probability ``1 - p`` and earns ``1/p`` for moving.

>>> import sympy
>>> p = sympy.Symbol("p")
>>> chain = SymbolicCMDP(
...     n_states=2, n_actions=1, context=[p],
...     transitions=[(1 - p, [0, 1], [0, 0], [0, 1]), (p, [0, 1], [0, 0], [1, 0])],
...     rewards=[(1 / p, [0, 1], [0, 0], [1, 0])],
...     context_box=([0.0], [1.0]),
... )
>>> chain.mdp([0.25]).transition.toarray().tolist()
[[0.75, 0.25], [0.25, 0.75]]
>>> chain.mdp([0.25]).expected_reward().tolist()
[[1.0], [1.0]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import sympy

from cebe_theory.errors import InputError
from cebe_theory.symbolic import CompiledExpressions, as_context_vector

__all__ = ["TabularMDP", "SymbolicCMDP", "ContextDerivatives", "Term"]

# A term attaches one sympy expression to the entries (states[i], actions[i], next_states[i]).
Term = tuple  # (expression, states, actions, next_states)

ROW_SUM_TOLERANCE = 1e-9
PROBABILITY_TOLERANCE = 1e-12


@dataclass(frozen=True)
class TabularMDP:
    """One finite MDP: ``transition[(s, a), s'] = T(s' | s, a)`` and ``reward[(s, a), s'] = R(s, a, s')``.

    Both are ``scipy.sparse.csr_matrix`` of shape ``(n_states * n_actions, n_states)``, row ``s * n_actions + a``.
    """

    n_states: int
    n_actions: int
    transition: sp.csr_matrix
    reward: sp.csr_matrix

    def expected_reward(self) -> np.ndarray:
        """``r(s, a) = sum_s' T(s' | s, a) R(s, a, s')``, shape ``(n_states, n_actions)``."""
        t, r = self.transition, self.reward
        if t.nnz == r.nnz and np.array_equal(t.indptr, r.indptr) and np.array_equal(t.indices, r.indices):
            # Same pattern (always so for MDPs built by SymbolicCMDP): one product per stored entry.
            rows = np.repeat(np.arange(t.shape[0]), np.diff(t.indptr))
            expected = np.bincount(rows, weights=t.data * r.data, minlength=t.shape[0])
        else:
            expected = np.asarray(t.multiply(r).sum(axis=1)).ravel()
        return expected.reshape(self.n_states, self.n_actions)

    @classmethod
    def from_dense(cls, transition: np.ndarray, reward: np.ndarray) -> TabularMDP:
        """Build from dense ``transition[s, a, s']`` and ``reward[s, a, s']`` (or ``reward[s, a]``)."""
        transition = np.asarray(transition, dtype=np.float64)
        if transition.ndim != 3 or transition.shape[0] != transition.shape[2]:
            raise InputError(f"transition must have shape (S, A, S), got {transition.shape}")
        n_states, n_actions, _ = transition.shape
        reward = np.asarray(reward, dtype=np.float64)
        if reward.shape == (n_states, n_actions):
            reward = np.repeat(reward[:, :, None], n_states, axis=2)
        if reward.shape != transition.shape:
            raise InputError(f"reward must have shape {transition.shape} or {transition.shape[:2]}, got {reward.shape}")
        flat_transition = sp.csr_matrix(transition.reshape(n_states * n_actions, n_states))
        # Put the reward on the transition's pattern (rewards of impossible transitions never count).
        rows, cols = flat_transition.nonzero()
        reward_on_pattern = reward.reshape(n_states * n_actions, n_states)[rows, cols]
        flat_reward = sp.csr_matrix((reward_on_pattern, (rows, cols)), shape=flat_transition.shape)
        return cls(n_states, n_actions, flat_transition, flat_reward)


@dataclass(frozen=True)
class ContextDerivatives:
    """Values and context derivatives of ``T`` and ``R`` at one context, on the CMDP's sparse pattern.

    Arrays have the pattern's ``nnz`` entries last: ``transition (nnz,)``, ``dtransition (d, nnz)``,
    ``d2transition (d, d, nnz)``; the same for ``reward``. ``d2*`` are ``None`` when not requested.
    """

    context: np.ndarray
    transition: np.ndarray
    dtransition: np.ndarray
    reward: np.ndarray
    dreward: np.ndarray
    d2transition: np.ndarray | None = None
    d2reward: np.ndarray | None = None


class SymbolicCMDP:
    """A contextual MDP whose transition probabilities and rewards are sympy expressions of the context.

    Parameters
    ----------
    n_states, n_actions:
        Sizes of the finite state and action spaces.
    context:
        The context symbols ``(c_1, ..., c_d)`` (sympy Symbols), in context-vector order.
    transitions:
        Terms ``(expression, states, actions, next_states)``: ``T(next_states[i] | states[i], actions[i])``
        receives ``expression``; index arrays broadcast against each other; repeated entries add up.
    rewards:
        Terms of the same form for ``R(s, a, s')``; entries not listed are 0.
    context_box:
        ``(low, high)``: the open box ``C`` of allowed contexts (arXiv 2507.07348 takes C open and convex). Default: all of
        R^d.
    state_labels, action_labels:
        Names used in error messages (e.g. ``"(row 0, col 3)"``, ``"left"``).
    check_row_sums:
        Prove symbolically that every row of ``T`` sums to 1 (done once per distinct row shape).

    Raises
    ------
    InputError
        If indices are out of range, a row provably does not sum to 1, or expressions use unknown symbols.
    """

    def __init__(
        self,
        n_states: int,
        n_actions: int,
        context: Sequence[sympy.Symbol],
        transitions: Iterable[Term],
        rewards: Iterable[Term] = (),
        *,
        context_box: tuple[Sequence[float], Sequence[float]] | None = None,
        state_labels: Sequence[str] | None = None,
        action_labels: Sequence[str] | None = None,
        check_row_sums: bool = True,
    ):
        if int(n_states) < 1 or int(n_actions) < 1:
            raise InputError(f"n_states and n_actions must be positive, got {n_states} and {n_actions}")
        self.n_states = int(n_states)
        self.n_actions = int(n_actions)
        self.context_symbols = tuple(context)
        self.context_dimension = len(self.context_symbols)
        if self.context_dimension == 0:
            raise InputError("a contextual MDP needs at least one context symbol")
        self.state_labels = list(state_labels) if state_labels is not None else [str(s) for s in range(self.n_states)]
        self.action_labels = list(action_labels) if action_labels is not None else [str(a) for a in range(self.n_actions)]
        self.context_box = self._parse_box(context_box)

        expression_ids: dict[sympy.Expr, int] = {}
        t_rows, t_cols, t_exprs = self._collect(transitions, expression_ids, "transitions")
        r_rows, r_cols, r_exprs = self._collect(rewards, expression_ids, "rewards")
        self.expressions = CompiledExpressions(list(expression_ids), self.context_symbols, order=2)

        # The sparse pattern: every (row, next state) that some transition term touches, in CSR order.
        n_cols = self.n_states
        t_keys = t_rows * n_cols + t_cols
        pattern_keys, self._transition_slot = np.unique(t_keys, return_inverse=True)
        self.pattern_rows = pattern_keys // n_cols
        self.pattern_cols = pattern_keys % n_cols
        self.nnz = pattern_keys.size
        self._indptr = np.concatenate(
            ([0], np.cumsum(np.bincount(self.pattern_rows, minlength=self.n_states * self.n_actions)))
        )
        self._transition_exprs = t_exprs
        # Rewards land on the transition pattern; those on entries no transition reaches never count.
        r_keys = r_rows * n_cols + r_cols
        position = np.searchsorted(pattern_keys, r_keys)
        position = np.minimum(position, max(self.nnz - 1, 0))
        on_pattern = pattern_keys[position] == r_keys if self.nnz else np.zeros(r_keys.shape, bool)
        self._reward_slot = position[on_pattern]
        self._reward_exprs = r_exprs[on_pattern]

        missing = np.setdiff1d(np.arange(self.n_states * self.n_actions), self.pattern_rows)
        if missing.size:
            raise InputError(f"no transition given for (state, action) = {self._describe_row(missing[0])}")
        if check_row_sums:
            self._check_row_sums_symbolically()

    # ------------------------------------------------------------------ construction helpers
    def _parse_box(self, box):
        if box is None:
            return None
        low = as_context_vector(box[0], self.context_dimension, name="context_box low")
        high = as_context_vector(box[1], self.context_dimension, name="context_box high")
        if np.any(low >= high):
            raise InputError(f"context_box needs low < high, got low={low.tolist()} high={high.tolist()}")
        return low, high

    def _collect(self, terms, expression_ids, what):
        rows, cols, exprs = [], [], []
        for index, term in enumerate(terms):
            try:
                expression, states, actions, next_states = term
            except (TypeError, ValueError):
                raise InputError(f"{what}[{index}] must be (expression, states, actions, next_states)") from None
            states, actions, next_states = np.broadcast_arrays(
                np.asarray(states, dtype=np.int64),
                np.asarray(actions, dtype=np.int64),
                np.asarray(next_states, dtype=np.int64),
            )
            for name, values, size in (
                ("states", states, self.n_states),
                ("actions", actions, self.n_actions),
                ("next_states", next_states, self.n_states),
            ):
                if values.size and (values.min() < 0 or values.max() >= size):
                    raise InputError(
                        f"{what}[{index}]: {name} must lie in [0, {size - 1}], got {values.min()}..{values.max()}"
                    )
            expression = sympy.sympify(expression)
            key = expression_ids.setdefault(expression, len(expression_ids))
            rows.append((states * self.n_actions + actions).ravel())
            cols.append(next_states.ravel())
            exprs.append(np.full(states.size, key, dtype=np.int64))
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(exprs)

    def _describe_row(self, row: int) -> str:
        state, action = divmod(int(row), self.n_actions)
        return f"({self.state_labels[state]}, {self.action_labels[action]})"

    def _check_row_sums_symbolically(self) -> None:
        """Prove ``sum_s' T(s'|s,a) = 1`` once per distinct multiset of expressions in a row."""
        n_rows, n_exprs = self.n_states * self.n_actions, len(self.expressions)
        counts = sp.csr_matrix(
            (np.ones(self._transition_exprs.size), (self.pattern_rows[self._transition_slot], self._transition_exprs)),
            shape=(n_rows, n_exprs),
        )
        if n_exprs <= 256:
            signatures, first_row = np.unique(counts.toarray(), axis=0, return_index=True)
        else:  # many distinct expressions: one signature per row, built row by row
            seen: dict[tuple, int] = {}
            for row in range(n_rows):
                start, stop = counts.indptr[row], counts.indptr[row + 1]
                seen.setdefault((tuple(counts.indices[start:stop]), tuple(counts.data[start:stop])), row)
            first_row = np.array(list(seen.values()))
            signatures = counts[first_row].toarray()
        for signature, row in zip(signatures, first_row):
            total = sum(int(n) * self.expressions.expressions[k] for k, n in enumerate(signature) if n)
            residual = sympy.simplify(total - 1)
            if residual != 0 and residual.equals(0) is False:
                raise InputError(
                    f"transition probabilities from (state, action) = {self._describe_row(row)} sum to {total}, not 1"
                )

    # ------------------------------------------------------------------ evaluation
    def check_context(self, context, *, name: str = "context") -> np.ndarray:
        """Return ``context`` as a vector, or raise InputError if it is malformed or outside the open box C."""
        vector = as_context_vector(context, self.context_dimension, name=name)
        if self.context_box is not None:
            low, high = self.context_box
            if np.any(vector <= low) or np.any(vector >= high):
                pairs = ", ".join(f"{s}={v:g}" for s, v in zip(self.context_symbols, vector))
                box = ", ".join(f"{s} in ({lo:g}, {hi:g})" for s, lo, hi in zip(self.context_symbols, low, high))
                raise InputError(f"{name} {pairs} is outside the allowed context box: {box}")
        return vector

    def _scatter(self, slots: np.ndarray, expr_ids: np.ndarray, per_expression: np.ndarray) -> np.ndarray:
        """Sum per-expression values (trailing axis = expression) onto the pattern (trailing axis = nnz)."""
        leading = per_expression.shape[:-1]
        flat = per_expression.reshape(-1, per_expression.shape[-1])
        out = np.empty((flat.shape[0], self.nnz))
        for i, values in enumerate(flat):
            out[i] = np.bincount(slots, weights=values[expr_ids], minlength=self.nnz)
        return out.reshape(leading + (self.nnz,))

    def _transition_data(self, per_expression):
        return self._scatter(self._transition_slot, self._transition_exprs, per_expression)

    def _reward_data(self, per_expression):
        return self._scatter(self._reward_slot, self._reward_exprs, per_expression)

    def matrix(self, data: np.ndarray) -> sp.csr_matrix:
        """A ``(S * A, S)`` CSR matrix with this CMDP's pattern and the given ``(nnz,)`` data."""
        return sp.csr_matrix((data, self.pattern_cols, self._indptr), shape=(self.n_states * self.n_actions, self.n_states))

    def validate_transition(self, data: np.ndarray, context) -> None:
        """Raise InputError naming state, action and context if a row leaves [0, 1] or does not sum to 1."""
        row_sums = np.bincount(self.pattern_rows, weights=data, minlength=self.n_states * self.n_actions)
        bad_entries = np.flatnonzero((data < -PROBABILITY_TOLERANCE) | (data > 1 + PROBABILITY_TOLERANCE))
        bad_rows = np.flatnonzero(np.abs(row_sums - 1) > ROW_SUM_TOLERANCE)
        where = ", ".join(f"{s}={v:g}" for s, v in zip(self.context_symbols, np.atleast_1d(context)))
        if bad_entries.size:
            k = bad_entries[0]
            raise InputError(
                f"T(next state {self.state_labels[self.pattern_cols[k]]} | {self._describe_row(self.pattern_rows[k])}) "
                f"= {data[k]:.6g} is outside [0, 1] at context {where}"
            )
        if bad_rows.size:
            row = bad_rows[0]
            raise InputError(
                f"transition probabilities from (state, action) = {self._describe_row(row)} sum to {row_sums[row]:.12g}, "
                f"not 1, at context {where}"
            )

    def mdp(self, context) -> TabularMDP:
        """The MDP ``M(c)``: transitions and rewards evaluated (and validated) at ``context``."""
        context = self.check_context(context)
        values = self.expressions.values(context)
        transition = self._transition_data(values)
        self.validate_transition(transition, context)
        reward = self._reward_data(values)
        return TabularMDP(self.n_states, self.n_actions, self.matrix(transition), self.matrix(reward))

    def derivatives(self, context, *, second: bool = False) -> ContextDerivatives:
        """``T``, ``d_c T``, ``R``, ``d_c R`` (and second derivatives if ``second``) at ``context``, on the pattern."""
        context = self.check_context(context)
        values = self.expressions.values(context)
        jacobian = self.expressions.jacobian(context).T  # (d, K)
        transition = self._transition_data(values)
        self.validate_transition(transition, context)
        result = dict(
            context=context,
            transition=transition,
            dtransition=self._transition_data(jacobian),
            reward=self._reward_data(values),
            dreward=self._reward_data(jacobian),
        )
        if second:
            hessian = np.moveaxis(self.expressions.hessian(context), 0, -1)  # (d, d, K)
            result["d2transition"] = self._transition_data(hessian)
            result["d2reward"] = self._reward_data(hessian)
        return ContextDerivatives(**result)

    def __repr__(self) -> str:
        return (
            f"SymbolicCMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
            f"context={list(self.context_symbols)}, distinct_expressions={len(self.expressions)}, nnz={self.nnz})"
        )
