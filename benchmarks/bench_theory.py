"""Speed of the tabular side, printed as ratios against a baseline measured in the same run.

1. The paper's 100-point sweep on 5 x 6 Cliffwalking: our sparse solve on the states against a dense
   ``numpy.linalg.solve`` of the (s, a) system (same MDPs, same CEBE construction).
2. Set-up (sympy derivation, compilation, row-sum proof) and a 20-point sweep on 50 x 50, 100 x 100 and
   200 x 200 grids. Target: the 200 x 200 sweep under 10 s on a 2-core machine.

Run: ``python benchmarks/bench_theory.py`` (about 30 s).
"""

import time

import numpy as np

from cebe_theory import FirstOrderExpansion, cliffwalking, error_sweep, log_grid


def dense_uniform_q(mdp, gamma):
    n, A = mdp.n_states, mdp.n_actions
    T = mdp.transition.toarray()  # (S*A, S)
    r = np.asarray(mdp.transition.multiply(mdp.reward).sum(axis=1)).ravel()
    M = np.repeat(T, A, axis=1) / A  # M[(s,a), (s',a')] = T(s'|s,a) / A
    return np.linalg.solve(np.eye(n * A) - gamma * M, r).reshape(n, A)


def dense_sweep(cmdp, c0, dcs, gamma):
    expansion = FirstOrderExpansion.at(cmdp, [c0])
    return np.array([
        np.max(np.abs(dense_uniform_q(expansion.mdp([dc]), gamma) - dense_uniform_q(cmdp.mdp([c0 + dc]), gamma)))
        for dc in dcs
    ])


def timed(function, repeat=3):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    cmdp = cliffwalking(5, 6, "inverse")
    dcs = log_grid(-8, -3, 100)
    ours, sweep = timed(lambda: error_sweep(cmdp, [0.1], dcs, gamma=0.9))
    baseline, dense_errors = timed(lambda: dense_sweep(cmdp, 0.1, dcs, 0.9))
    assert np.allclose(sweep.sup_error, dense_errors, rtol=1e-6), "the two methods disagree"
    print("5 x 6 Cliffwalking, 100-point sweep (uniform policy), best of 3")
    print(f"  ours (solve on states) : {ours * 1e3:8.1f} ms")
    print(f"  dense (s, a) baseline  : {baseline * 1e3:8.1f} ms")
    print(f"  speed-up (baseline / ours): {baseline / ours:.2f}x")
    print()
    print(f"{'grid':>10} {'states':>8} {'set-up s':>9} {'20-pt sweep s':>14} {'slope':>7}")
    for size in (50, 100, 200):
        start = time.perf_counter()
        big = cliffwalking(size, size, "power")
        setup = time.perf_counter() - start
        start = time.perf_counter()
        result = error_sweep(big, [0.1], log_grid(-8, -1, 20), gamma=0.9)
        elapsed = time.perf_counter() - start
        print(f"{size:>4} x {size:<4} {big.n_states:>8} {setup:>9.2f} {elapsed:>14.2f} {result.fitted_slope:>7.3f}")
    print("target: 200 x 200 sweep under 10 s")


if __name__ == "__main__":
    main()
