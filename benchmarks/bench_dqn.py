"""Env steps per second of the authors' CartGoal DQN (:class:`cebe_deep.learn.dqn.ContextDQN`) on one torch thread.

Each method trains ``--steps`` env steps under ``--profile authors`` (8 envs, one update of 32 per vector step,
prioritized replay, double Q, dueling heads; updates from step 1,000) and prints env steps per second by wall
clock and by this process's CPU time (the better estimate on a loaded machine), and what the authors' budget
of 2,000,000 env steps would take at that rate.

    python benchmarks/bench_dqn.py                  # baseline and CSE, 20k env steps each
    python benchmarks/bench_dqn.py --methods cse --steps 5000
"""

from __future__ import annotations

import argparse
import time

import torch

from cebe_deep.run.config import make_config
from cebe_deep.run.training import make_model, make_vec_training_env


def measure(method: str, steps: int, seed: int = 0) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, budget) of ``steps`` env steps of the authors' CartGoal run."""
    config = make_config("CartGoal", method, "authors", seed=seed)
    model = make_model(config, make_vec_training_env(config))
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(steps)
    return time.perf_counter() - wall, time.process_time() - cpu, config.total_steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["baseline", "cse"])
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{'method':10s} {'env steps/s (wall)':>19s} {'(CPU)':>8s} {'2M-step run at the CPU rate':>28s}")
    for method in args.methods:
        wall, cpu, budget = measure(method, args.steps)
        print(f"{method:10s} {args.steps / wall:19,.0f} {args.steps / cpu:8,.0f} "
              f"{budget / (args.steps / cpu) / 60:24,.1f} min")


if __name__ == "__main__":
    main()
