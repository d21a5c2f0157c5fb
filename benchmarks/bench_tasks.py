"""Steps per second of every cebe task with and without context Jacobians, measured in one run.

    /work/venv/bin/python benchmarks/bench_tasks.py [--rounds 3] [--scale 1.0]

Each task is built with ``gymnasium.make("cebe/<Name>-v0", jacobians=...)`` (time limit and Gymnasium's
checker wrappers included, as a learner sees it) and stepped with one pre-drawn sequence of random actions
(resetting at episode ends). On and off runs alternate, ``--rounds`` times; the best round of each is kept
(the machine is shared, so the fastest round is the least disturbed). Targets (the task design's): closed-form and
sympy tasks cost at most 1.5x a plain step with Jacobians on; the finite-difference task at most (2k + 1)x,
k its number of dynamics context dimensions.
"""

from __future__ import annotations

import argparse
import time
import warnings

import gymnasium

import cebe_deep  # noqa: F401  (registers cebe/<Task>-v0)
from cebe_deep.tasks import TASKS

# steps per measurement, sized so that each takes roughly 0.2-0.5 s on one core
STEPS = {
    "SimpleDirection": 20000,
    "PendulumGoal": 20000,
    "CartGoal": 20000,
    "CheetahVelocity": 4000,
    "AntDirection": 2000,
    "AntGoal": 2000,
    "CheetahMassVelocity": 1500,
}


def target_ratio(name: str) -> float:
    task = TASKS[name]
    dynamics_dimensions = len(getattr(task, "dynamics_context_indices", ()))
    return 2 * dynamics_dimensions + 1.0 if dynamics_dimensions else 1.5


def steps_per_second(name: str, jacobians: bool, actions) -> float:
    env = gymnasium.make(f"cebe/{name}-v0", jacobians=jacobians)
    env.reset(seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return len(actions) / elapsed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating on/off rounds; the best is kept")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every task's step count")
    parser.add_argument("--tasks", nargs="*", default=list(STEPS), choices=list(STEPS))
    arguments = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"{'task':<22}{'steps':>7}{'off steps/s':>14}{'on steps/s':>13}{'ratio':>8}{'target':>8}")
    for name in arguments.tasks:
        space = gymnasium.make(f"cebe/{name}-v0").action_space
        space.seed(0)
        count = max(1, int(STEPS[name] * arguments.scale))
        actions = [space.sample() for _ in range(count)]
        best = {True: 0.0, False: 0.0}
        for _ in range(arguments.rounds):
            for jacobians in (False, True):
                best[jacobians] = max(best[jacobians], steps_per_second(name, jacobians, actions))
        ratio = best[False] / best[True]
        target = target_ratio(name)
        verdict = "ok" if ratio <= target else "OVER"
        print(f"{name:<22}{count:>7}{best[False]:>14,.0f}{best[True]:>13,.0f}{ratio:>8.2f}{target:>7.1f}x {verdict}")


if __name__ == "__main__":
    main()
