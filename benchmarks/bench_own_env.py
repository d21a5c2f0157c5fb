"""Cost per step of the Jacobians of a user's own task: differentiable_task (torch.func) and mujoco_task
(central differences), against the built-in tasks' Jacobians, measured in one run.

    PYTHONPATH=. python benchmarks/bench_own_env.py [--rounds 3] [--scale 1.0]

Rows (microseconds per env step, best of ``--rounds`` alternating rounds: the machine is shared, the fastest
round is the least disturbed; torch on one thread, as training runs it):

* SimpleDirection and PendulumGoal: the closed-form / sympy task, and the same task from a torch step function
  (``cebe_deep.tasks.torch_examples``), Jacobians off and on; the torch rows with ``jacrev`` (used) and
  ``jacfwd`` (the fallback) -- which is why ``jacrev`` is the default;
* HalfCheetah-v5 through ``mujoco_task`` with 1 and 3 physical parameters (torso mass; gravity; a joint's
  damping): Jacobians off and on, and the ratio against the ideal ``2 k + 1`` simulator steps;
* for scale, one SAC gradient step (batch 256, 64x64 networks; 256x256 for the authors' profile), the cost
  the Jacobians add to.
"""

from __future__ import annotations

import argparse
import time
import warnings

import gymnasium
import numpy as np
import torch

import cebe_deep  # noqa: F401  (registers cebe/<Task>-v0)
from cebe_deep.tasks import mujoco_task
from cebe_deep.tasks.torch_examples import pendulum_goal_torch, simple_direction_torch


def microseconds_per_step(make_env, steps: int, seed: int = 0) -> float:
    env = make_env()
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    start = time.perf_counter()
    for action in actions:
        *_, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return 1e6 * elapsed / steps


def with_mode(make_env, mode: str):
    def make():
        env = make_env()
        env.unwrapped._jacobian_mode = mode
        return env
    return make


def sac_update_microseconds(net_arch, updates: int = 50) -> float:
    from stable_baselines3 import SAC

    env = gymnasium.make("cebe/PendulumGoal-v0")
    model = SAC("MlpPolicy", env, batch_size=256, learning_starts=0, policy_kwargs=dict(net_arch=list(net_arch)),
                device="cpu", seed=0)
    model.learn(300)  # fill the buffer
    start = time.perf_counter()
    model.train(gradient_steps=updates, batch_size=256)
    return 1e6 * (time.perf_counter() - start) / updates


CHEETAH_ONE = {"torso_mass": ("body_mass", "torso")}
CHEETAH_THREE = {"torso_mass": ("body_mass", "torso"), "gravity_z": ("opt.gravity", 2),
                 "bthigh_damping": ("dof_damping", "bthigh")}


def rows(scale: float):
    n_fast, n_slow = max(10, int(2000 * scale)), max(10, int(300 * scale))
    yield "SimpleDirection (closed form)", n_fast, {
        "off": lambda: gymnasium.make("cebe/SimpleDirection-v0", jacobians=False),
        "on": lambda: gymnasium.make("cebe/SimpleDirection-v0", jacobians=True)}
    yield "SimpleDirection (torch step)", n_slow, {
        "off": lambda: simple_direction_torch(jacobians=False),
        "on": with_mode(simple_direction_torch, "jacrev"),
        "on, jacfwd": with_mode(simple_direction_torch, "jacfwd")}
    yield "PendulumGoal (sympy)", n_fast, {
        "off": lambda: gymnasium.make("cebe/PendulumGoal-v0", jacobians=False),
        "on": lambda: gymnasium.make("cebe/PendulumGoal-v0", jacobians=True)}
    yield "PendulumGoal (torch step)", n_slow, {
        "off": lambda: pendulum_goal_torch(jacobians=False),
        "on": with_mode(pendulum_goal_torch, "jacrev"),
        "on, jacfwd": with_mode(pendulum_goal_torch, "jacfwd")}
    yield "HalfCheetah-v5, 1 parameter", n_slow, {
        "off": lambda: mujoco_task("HalfCheetah-v5", CHEETAH_ONE, jacobians=False),
        "on": lambda: mujoco_task("HalfCheetah-v5", CHEETAH_ONE)}
    yield "HalfCheetah-v5, 3 parameters", n_slow, {
        "off": lambda: mujoco_task("HalfCheetah-v5", CHEETAH_THREE, jacobians=False),
        "on": lambda: mujoco_task("HalfCheetah-v5", CHEETAH_THREE)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each is kept")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every step count")
    arguments = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    print(f"{'task':<32}{'steps':>6}{'off us':>9}{'on us':>9}{'ratio':>7}   other")
    for name, steps, builders in rows(arguments.scale):
        best = {label: np.inf for label in builders}
        for _ in range(arguments.rounds):
            for label, make in builders.items():
                best[label] = min(best[label], microseconds_per_step(make, steps))
        extra = "  ".join(f"{label}: {value:,.0f} us" for label, value in best.items() if label not in ("off", "on"))
        if name.startswith("HalfCheetah"):
            k = 1 if "1 parameter" in name else 3
            extra = f"ideal 2k+1 = {2 * k + 1}x"
        print(f"{name:<32}{steps:>6}{best['off']:>9,.0f}{best['on']:>9,.0f}{best['on'] / best['off']:>7.1f}   {extra}")
    for net_arch in ((64, 64), (256, 256)):
        print(f"SAC gradient step, batch 256, {'x'.join(map(str, net_arch))}: "
              f"{min(sac_update_microseconds(net_arch) for _ in range(arguments.rounds)):,.0f} us")


if __name__ == "__main__":
    main()
