"""The Cliffwalking family of contextual MDPs (arXiv 2507.07348, the tabular experiment of Figure 1).

Layout (the authors' orientation: row 0 is the bottom row)::

    row rows-1   .  .  .  .  .  .
    ...
    row 1        .  .  .  .  .  .
    row 0        S  C  C  C  C  G      S start, C cliff (absorbing), G goal (absorbing)

Actions ``0 left, 1 right, 2 up, 3 down``. With slip probability ``p`` the intended move happens with
probability ``1 - p`` and each of the other three moves with ``p / 3``; a move off the grid stays in
place. Cliff and goal cells are absorbing with reward 0.

Rewards are paid on *landing*: every transition ``(s, a, s')`` from a non-absorbing ``s`` into a cliff cell
earns the fall reward, into the goal the goal reward, anything else 0. (The authors' tabular script pays
the fall reward only to the action whose intended move enters the cliff, and 0 to a slip into it; we
follow the model as written in the paper. The slopes of Figure 1 are the same: about 2.)

Reward families (the paper's labels in brackets; ``p`` is the slip probability):

=============  ====================  =====================  ====================================
family         goal                  fall                   note
=============  ====================  =====================  ====================================
``constant``   ``1``                 ``-100``               [reward 0] T affine in p: CEBE exact
``inverse``    ``1 / p**2``          ``-100 / p``           [reward 1] Figure 1a
``power``      ``(1 + p)**-1.5``     ``-10 / (1 + p)``      [reward 2] Figure 1b
=============  ====================  =====================  ====================================

Context. In the paper the context *is* the slip probability, ``c = p`` with ``C = (0, 1)``, so ``T`` is
affine in ``c`` and CEBE's transition part is exact. :func:`windy_cliffwalking` makes the slip
probability a nonlinear function of the context (``p = w**2`` for a crosswind ``w``), so that the
first-order transition leaves the simplex for large ``dc`` and the simplex projection acts (it also
adds a fixed stumble probability, so that projection and renormalization differ when they act).

>>> cmdp = cliffwalking(rows=5, cols=6, family="inverse")
>>> cmdp
CliffWalking(rows=5, cols=6, family='inverse', slip=p, context=[p])
>>> mdp = cmdp.mdp([0.1])
>>> float(mdp.transition[cmdp.state_index(1, 1) * 4 + 3, cmdp.state_index(0, 1)])  # down into the cliff
0.9
>>> float(mdp.reward[cmdp.state_index(1, 1) * 4 + 3, cmdp.state_index(0, 1)])       # fall = -100 / p
-1000.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from cebe_theory.cmdp import SymbolicCMDP
from cebe_theory.errors import InputError

__all__ = ["CliffWalking", "cliffwalking", "windy_cliffwalking", "REWARD_FAMILIES", "ACTIONS", "SweepCost", "error_sweep_cost"]

ACTIONS = ("left", "right", "up", "down")
# (row change, column change) of each action; row 0 is the bottom row, so "up" increases the row.
MOVES = np.array([(0, -1), (0, 1), (1, 0), (-1, 0)])

SLIP = sympy.Symbol("p", positive=True)


def _families():
    p = SLIP
    return {
        "constant": (sympy.Integer(1), sympy.Integer(-100)),
        "inverse": (1 / p**2, -100 / p),
        "power": ((1 + p) ** sympy.Rational(-3, 2), -10 / (1 + p)),
    }


REWARD_FAMILIES = tuple(_families())


class CliffWalking(SymbolicCMDP):
    """A Cliffwalking grid as a :class:`~cebe_theory.cmdp.SymbolicCMDP` that also knows its layout.

    Use :func:`cliffwalking` or :func:`windy_cliffwalking` to build one.
    """

    def __init__(self, rows: int, cols: int, *, context, slip, goal_reward, fall_reward, context_box, family, stumble=0):
        for name, value, smallest in (("rows", rows, 1), ("cols", cols, 3)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < smallest:
                raise InputError(f"{name} must be an integer >= {smallest}, got {value!r}")
        self.rows, self.cols = int(rows), int(cols)
        self.family = family
        self.slip = sympy.sympify(slip)
        self.stumble = sympy.sympify(stumble)
        self.goal_reward = sympy.sympify(goal_reward)
        self.fall_reward = sympy.sympify(fall_reward)
        self.start_state = self.state_index(0, 0)
        self.cliff_states = np.array([self.state_index(0, col) for col in range(1, self.cols - 1)], dtype=np.int64)
        self.goal_state = self.state_index(0, self.cols - 1)
        absorbing = np.zeros(self.rows * self.cols, dtype=bool)
        absorbing[self.cliff_states] = True
        absorbing[self.goal_state] = True
        self.absorbing = absorbing

        open_states = np.flatnonzero(~absorbing)
        transitions, rewards = [], []
        for action in range(4):
            for direction in range(4):
                probability = 1 - self.slip - self.stumble if direction == action else self.slip / 3
                landing = self.move(open_states, direction)
                transitions.append((probability, open_states, action, landing))
                for target_cells, value in (
                    (self.cliff_states, self.fall_reward),
                    (np.array([self.goal_state]), self.goal_reward),
                ):
                    hits = np.isin(landing, target_cells)
                    rewards.append((value, open_states[hits], action, landing[hits]))
            if self.stumble != 0:
                transitions.append((self.stumble, open_states, action, open_states))
        absorbing_states = np.flatnonzero(absorbing)
        transitions.append((sympy.Integer(1), absorbing_states[:, None], np.arange(4)[None, :], absorbing_states[:, None]))
        labels = [f"(row {r}, col {c})" for r in range(self.rows) for c in range(self.cols)]
        super().__init__(
            self.rows * self.cols,
            4,
            context,
            transitions,
            rewards,
            context_box=context_box,
            state_labels=labels,
            action_labels=ACTIONS,
        )

    def state_index(self, row, col):
        """Index of the cell ``(row, col)``; row 0 is the bottom row."""
        return row * self.cols + col

    def move(self, states: np.ndarray, direction: int) -> np.ndarray:
        """Cells reached from ``states`` by moving in ``direction``; moves off the grid stay in place."""
        row, col = np.divmod(np.asarray(states), self.cols)
        new_row = np.clip(row + MOVES[direction, 0], 0, self.rows - 1)
        new_col = np.clip(col + MOVES[direction, 1], 0, self.cols - 1)
        return new_row * self.cols + new_col

    def __repr__(self) -> str:
        return (
            f"CliffWalking(rows={self.rows}, cols={self.cols}, family={self.family!r}, "
            f"slip={self.slip}, context={list(self.context_symbols)}"
            + (f", stumble={self.stumble})" if self.stumble != 0 else ")")
        )


def _rewards(family: str, goal_reward, fall_reward, slip):
    """Goal and fall rewards as expressions of the context (the families are written in terms of p)."""
    families = _families()
    if family == "custom":
        if goal_reward is None or fall_reward is None:
            raise InputError("family 'custom' needs both goal_reward and fall_reward expressions")
        goal, fall = sympy.sympify(goal_reward), sympy.sympify(fall_reward)
    elif family in families:
        if goal_reward is not None or fall_reward is not None:
            raise InputError(f"goal_reward and fall_reward are only for family 'custom', not {family!r}")
        goal, fall = families[family]
    else:
        raise InputError(f"unknown reward family {family!r}; choose one of {', '.join(REWARD_FAMILIES)} or 'custom'")
    return goal.subs(SLIP, slip), fall.subs(SLIP, slip)


def cliffwalking(rows: int = 5, cols: int = 6, family: str = "inverse", *, goal_reward=None, fall_reward=None) -> CliffWalking:
    """The paper's Cliffwalking: the context is the slip probability ``p`` itself, ``C = (0, 1)``.

    Parameters
    ----------
    rows, cols:
        Grid size (default 5 x 6 as in Figure 1); ``cols >= 3`` so that start, cliff and goal fit.
    family:
        ``"constant"``, ``"inverse"``, ``"power"`` (table in the module docstring) or ``"custom"``.
    goal_reward, fall_reward:
        For ``family="custom"``: sympy expressions in the symbol ``cebe_theory.cliffwalking.SLIP`` (``p``).
    """
    goal, fall = _rewards(family, goal_reward, fall_reward, SLIP)
    return CliffWalking(
        rows, cols, context=[SLIP], slip=SLIP, goal_reward=goal, fall_reward=fall, context_box=([0.0], [1.0]), family=family
    )


WIND = sympy.Symbol("w", real=True)
STUMBLE = sympy.Rational(1, 20)


def windy_cliffwalking(
    rows: int = 5, cols: int = 6, family: str = "constant", *, goal_reward=None, fall_reward=None
) -> CliffWalking:
    """Cliffwalking whose transitions are *nonlinear* in the context: a crosswind ``w`` in ``C = (-0.9, 0.9)``.

    From an open cell the walker

    - stumbles and stays where it is with the fixed probability ``1/20``,
    - is blown to each of the three unintended neighbours with probability ``w**2 / 3``,
    - makes the intended move otherwise (probability ``1 - 1/20 - w**2``).

    So ``T^w`` is quadratic in ``w``. The first-order slip at ``w0`` is ``w0**2 + 2 w0 dw``, negative once
    ``dw`` passes ``|w0| / 2`` in the direction that weakens the wind: there the linearized row leaves the
    simplex while two of its entries (intended move, stumble) stay positive, so the Euclidean projection
    (subtract the same amount from both) and the renormalization (scale both) give different
    distributions. The default study point is ``w0 = -0.2``; the projection acts for ``dw > 0.1``.

    The reward families are those of :func:`cliffwalking` with the slip probability ``p = w**2``
    substituted (``"inverse"`` is singular at ``w = 0``; the default ``"constant"`` isolates the error
    of the transitions).
    """
    slip = WIND**2
    goal, fall = _rewards(family, goal_reward, fall_reward, slip)
    return CliffWalking(
        rows, cols, context=[WIND], slip=slip, goal_reward=goal, fall_reward=fall, context_box=([-0.9], [0.9]),
        family=family, stumble=STUMBLE,
    )


# ----------------------------------------------------------------------------------------- cost of a large grid
# Calibration of error_sweep_cost (benchmarks/theory_grid_cost.py measures it again): the peak resident memory
# above the interpreter's, in a fresh process per grid, of building the CMDP and a 2-dc sweep with the uniform
# policy, on a 2-core machine (MiB = 2^20 bytes; per state in bytes):
#     grid         cliffwalking "inverse"       windy "constant"
#     5 x 6          3.2 MiB
#     100 x 100     32.7 MiB  3424 B
#     200 x 200    133.6 MiB  3503 B            149.4 MiB  3916 B   (optimal policy: 137.8 MiB)
#     500 x 500    909.9 MiB  3816 B            993.3 MiB  4166 B
#     1000 x 1000   3.94 GiB  4231 B
# The slow growth per state is the fill-in of the sparse LU factor; thin grids need less (10 x 9000: 2.5 kB,
# 1 x 90000: 1.2 kB per state), so square grids bound them.  Time: set-up 22-55 us per state; one policy
# evaluation about 0.05 s at 10^4 states, growing about as S^1.25 (3 s at 2.5 x 10^5 states when the machine is
# quiet, up to 3x more under load); policy iteration took 21, 22, 40 and 74 evaluations on the 25, 50, 100
# and 150-square grids.
_FIXED_BYTES = 16 * 2**20
_BYTES_PER_STATE = 3900.0
_FILL_IN_GROWTH = 0.05
_SETUP_SECONDS_PER_STATE = 30e-6
_EVALUATION_SECONDS = 0.05  # one policy evaluation at 10^4 states


@dataclass(frozen=True)
class SweepCost:
    """The rough cost of an error sweep on a Cliffwalking grid, known before the grid is built.

    ``peak_bytes`` is the peak memory the grid and the sweep add to the running interpreter; ``seconds`` the
    wall time on one quiet core (rough: a factor of 3 either way on the machine we measured).
    """

    rows: int
    cols: int
    n_states: int
    n_dc: int
    policy: str
    peak_bytes: float
    seconds: float


def error_sweep_cost(rows: int, cols: int, n_dc: int, policy: str = "uniform") -> SweepCost:
    """Estimate memory and time of :func:`~cebe_theory.sweep.error_sweep` on a ``rows x cols`` Cliffwalking
    (either variant) with ``n_dc`` steps, without building anything.

    With ``S = rows * cols`` states (measurements in the comment above this function's source)::

        peak_bytes ~ 16 MiB + S * 3.9 kB * (1 + 0.05 ln(max(S, 10^4) / 10^4))
        seconds    ~ 30 us * S  +  n_dc * E * 0.05 s * (max(S, 10^3) / 10^4) ** 1.25

    The first term of ``peak_bytes`` is the fixed overhead of a sweep; 3.9 kB per state holds the sparse
    pattern, the transition and reward data, the CEBE expansion and the sparse LU factor of one policy
    evaluation, whose fill-in grows like ``ln S``. ``E`` is the number of policy evaluations per ``dc``: 2 for a
    fixed policy (the true MDP and CEBE's), ``2 * max(20, (rows + cols) / 4)`` for ``"optimal"`` (policy
    iteration's steps grow with the grid's diameter). Both are calibrated on square grids, which bound
    thin ones of the same size.

    The largest peaks measured (the table above, in MiB) lie below the estimate, and within 25% of it:

    >>> measured = {1000: 4034.9, 500: 993.3}
    >>> all(1 < error_sweep_cost(n, n, 2).peak_bytes / (peak * 2**20) < 1.25 for n, peak in measured.items())
    True
    """
    states = int(rows) * int(cols)
    peak = _FIXED_BYTES + states * _BYTES_PER_STATE * (1 + _FILL_IN_GROWTH * math.log(max(states, 10**4) / 10**4))
    evaluations = 2 * max(20.0, (rows + cols) / 4) if policy == "optimal" else 2.0
    per_evaluation = _EVALUATION_SECONDS * (max(states, 10**3) / 10**4) ** 1.25
    seconds = _SETUP_SECONDS_PER_STATE * states + n_dc * evaluations * per_evaluation
    return SweepCost(int(rows), int(cols), states, int(n_dc), policy, float(peak), float(seconds))
