"""An independent, deliberately plain Cliffwalking used as the reference in tests.

Written with Python loops and hand-derived derivatives, sharing no code with ``cebe_theory`` (no sympy,
no sparse matrices), so that agreement with the library is evidence, not tautology.

Derivatives used below (by hand):
    d/dp (1 - p) = -1,           d/dp (p / 3) = 1/3
    inverse:  d/dp p^-2 = -2 p^-3,            d/dp (-100 / p) = 100 / p^2
    power:    d/dp (1+p)^-1.5 = -1.5 (1+p)^-2.5,  d/dp (-10 / (1+p)) = 10 / (1+p)^2
"""

import numpy as np

MOVES = [(0, -1), (0, 1), (1, 0), (-1, 0)]  # left, right, up, down; row 0 is the bottom row

FAMILIES = {
    # family: (goal(p), fall(p), dgoal/dp, dfall/dp)
    "constant": (lambda p: 1.0, lambda p: -100.0, lambda p: 0.0, lambda p: 0.0),
    "inverse": (lambda p: p**-2, lambda p: -100.0 / p, lambda p: -2.0 * p**-3, lambda p: 100.0 / p**2),
    "power": (
        lambda p: (1 + p) ** -1.5,
        lambda p: -10.0 / (1 + p),
        lambda p: -1.5 * (1 + p) ** -2.5,
        lambda p: 10.0 / (1 + p) ** 2,
    ),
}


def dense_cliffwalking(rows, cols, p, family, derivative=False):
    """Dense T[s, a, s'] and R[s, a, s'] at slip p (or their p-derivatives if ``derivative``)."""
    goal, fall, dgoal, dfall = FAMILIES[family]
    n = rows * cols
    T = np.zeros((n, 4, n))
    R = np.zeros((n, 4, n))
    cliff = {c for c in range(1, cols - 1)}  # row 0 cells, index = col
    goal_cell = cols - 1
    for s in range(n):
        r, c = divmod(s, cols)
        for a in range(4):
            if s in cliff or s == goal_cell:
                T[s, a, s] = 0.0 if derivative else 1.0
                continue
            for d, (dr, dcol) in enumerate(MOVES):
                nr = min(max(r + dr, 0), rows - 1)
                nc = min(max(c + dcol, 0), cols - 1)
                s2 = nr * cols + nc
                if derivative:
                    T[s, a, s2] += -1.0 if d == a else 1.0 / 3.0
                else:
                    T[s, a, s2] += (1 - p) if d == a else p / 3
                if s2 in cliff:
                    R[s, a, s2] = dfall(p) if derivative else fall(p)
                elif s2 == goal_cell:
                    R[s, a, s2] = dgoal(p) if derivative else goal(p)
    return T, R


def dense_q(T, R, policy, gamma):
    """Q^pi by a dense solve of the (s, a) system (I - gamma M) q = r, M[(s,a),(s',a')] = T pi."""
    n, A, _ = T.shape
    r = (T * R).sum(axis=2).reshape(-1)
    M = (T[:, :, :, None] * policy[None, None, :, :]).reshape(n * A, n * A)
    return np.linalg.solve(np.eye(n * A) - gamma * M, r).reshape(n, A)
