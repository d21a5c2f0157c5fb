"""From sympy expressions of the context to fast numeric functions and their context derivatives.

This is the one place where the package turns symbolic context dependence into numbers. Both halves use
it: :mod:`cebe_theory.cmdp` for tabular transition probabilities and rewards, and ``cebe_deep`` for the
step maps and rewards of the ODE tasks.

A :class:`CompiledExpressions` holds a list of ``K`` expressions ``e_k(c)`` of a context vector
``c = (c_1, ..., c_d)``. sympy differentiates each expression once; all values, first derivatives
(Jacobian, shape ``(K, d)``) and second derivatives (Hessian, shape ``(K, d, d)``) are lambdified into
one numpy function each, so evaluating them at a context costs one vectorized call, whatever ``K`` is.

Example
-------
>>> import sympy
>>> p = sympy.Symbol("p")
>>> compiled = CompiledExpressions([1 - p, p / 3, 1 / p**2], [p])
>>> compiled.values([0.1]).round(6).tolist()
[0.9, 0.033333, 100.0]
>>> compiled.jacobian([0.1])[:, 0].round(6).tolist()
[-1.0, 0.333333, -2000.0]
>>> round(float(compiled.hessian([0.1])[2, 0, 0]), 6)    # d^2/dp^2 p^-2 = 6 p^-4
60000.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy

from cebe_theory.errors import InputError

__all__ = ["CompiledExpressions", "as_context_vector"]


def as_context_vector(context, dimension: int, *, name: str = "context") -> np.ndarray:
    """Return ``context`` as a finite float64 vector of length ``dimension`` or raise a one-line InputError."""
    try:
        vector = np.atleast_1d(np.asarray(context, dtype=np.float64))
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a vector of {dimension} real numbers, got {context!r}") from None
    if vector.ndim != 1 or vector.shape[0] != dimension:
        raise InputError(f"{name} must have shape ({dimension},), got shape {vector.shape} ({context!r})")
    if not np.all(np.isfinite(vector)):
        raise InputError(f"{name} must be finite, got {vector.tolist()}")
    return vector


def _lambdify_array(symbols: Sequence[sympy.Symbol], expressions: list, shape: tuple[int, ...]):
    """One numpy function ``(*arguments) -> array(shape + batch)`` for a flat list of expressions.

    Arguments may be scalars or broadcastable arrays (a batch); constant expressions, which lambdify
    returns as Python scalars, are broadcast to the batch shape.
    """
    if not expressions:
        return lambda *args: np.zeros(shape + np.broadcast(*args).shape if args else shape)
    function = sympy.lambdify(list(symbols), expressions, modules="numpy", cse=True)

    def evaluate(*args):
        results = function(*args)
        batch = np.broadcast(*args).shape if args else ()
        if not batch:
            return np.array(results, dtype=np.float64).reshape(shape)
        stacked = np.stack([np.broadcast_to(np.asarray(r, dtype=np.float64), batch) for r in results])
        return stacked.reshape(shape + batch)

    return evaluate


class CompiledExpressions:
    """Numeric values, Jacobian and Hessian of ``K`` sympy expressions in ``d`` context symbols.

    Parameters
    ----------
    expressions:
        The expressions ``e_k(c)``; anything ``sympy.sympify`` accepts.
    symbols:
        The context symbols ``(c_1, ..., c_d)``, in the order of the context vector.
    order:
        Highest derivative to compile (0, 1 or 2). Derivatives are taken symbolically by sympy.
    arguments:
        Further symbols the expressions depend on but are not differentiated by (a state, an action).
        Their values follow the context in every call, as scalars or broadcastable arrays; a batch of
        shape ``B`` makes the results ``(K, *B)``, ``(K, d, *B)`` and ``(K, d, d, *B)``.
    """

    def __init__(
        self,
        expressions: Sequence,
        symbols: Sequence[sympy.Symbol],
        order: int = 2,
        arguments: Sequence[sympy.Symbol] = (),
    ):
        if order not in (0, 1, 2):
            raise InputError(f"order must be 0, 1 or 2, got {order!r}")
        self.symbols = tuple(symbols)
        self.arguments = tuple(arguments)
        self.expressions = [sympy.sympify(expression) for expression in expressions]
        used = set().union(*(e.free_symbols for e in self.expressions)) if self.expressions else set()
        unknown = used - set(self.symbols) - set(self.arguments)
        if unknown:
            names = ", ".join(sorted(str(s) for s in unknown))
            raise InputError(
                f"expressions use symbols {names} that are neither context symbols {list(self.symbols)} "
                f"nor arguments {list(self.arguments)}"
            )
        self.order = order
        n, d = len(self.expressions), len(self.symbols)
        every_symbol = self.symbols + self.arguments
        self._values = _lambdify_array(every_symbol, self.expressions, (n,))
        self.first_derivatives: list[list[sympy.Expr]] = []
        self.second_derivatives: list[list[list[sympy.Expr]]] = []
        if order >= 1:
            self.first_derivatives = [[sympy.diff(e, s) for s in self.symbols] for e in self.expressions]
            flat = [entry for row in self.first_derivatives for entry in row]
            self._jacobian = _lambdify_array(every_symbol, flat, (n, d))
        if order >= 2:
            self.second_derivatives = [
                [[sympy.diff(first, s) for s in self.symbols] for first in row] for row in self.first_derivatives
            ]
            flat = [entry for block in self.second_derivatives for row in block for entry in row]
            self._hessian = _lambdify_array(every_symbol, flat, (n, d, d))

    def __len__(self) -> int:
        return len(self.expressions)

    @property
    def context_dimension(self) -> int:
        return len(self.symbols)

    def _arguments(self, context, arguments) -> list:
        if len(arguments) != len(self.arguments):
            raise InputError(f"expected {len(self.arguments)} arguments {list(self.arguments)}, got {len(arguments)}")
        return [*as_context_vector(context, self.context_dimension), *arguments]

    def scalar_function(self):
        """The values as a plain function ``(*context, *arguments) -> list of K floats`` of Python floats.

        Lambdified with Python's ``math`` module: no validation and no batching, but about 20x faster than the
        numpy form on scalars (for a simulator that evaluates one state per step).
        """
        return sympy.lambdify(list(self.symbols + self.arguments), self.expressions, modules="math", cse=True)

    def values(self, context, *arguments) -> np.ndarray:
        """``e_k(c)`` for every expression, shape ``(K,)`` (``(K, *B)`` for batched arguments)."""
        return self._values(*self._arguments(context, arguments))

    def jacobian(self, context, *arguments) -> np.ndarray:
        """``d e_k / d c_i`` at ``c``, shape ``(K, d)`` (``(K, d, *B)`` for batched arguments)."""
        if self.order < 1:
            raise InputError("first derivatives were not compiled (order=0)")
        return self._jacobian(*self._arguments(context, arguments))

    def hessian(self, context, *arguments) -> np.ndarray:
        """``d^2 e_k / d c_i d c_j`` at ``c``, shape ``(K, d, d)`` (``(K, d, d, *B)`` batched)."""
        if self.order < 2:
            raise InputError(f"second derivatives were not compiled (order={self.order})")
        return self._hessian(*self._arguments(context, arguments))
