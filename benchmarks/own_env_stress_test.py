"""The paper's stress test on a physics context through ``mujoco_task``: HalfCheetah-v5 with the torso mass as
context, SAC vs CSE (finite-difference Jacobians) vs LDR, trained at c0 under the authors' CheetahVelocity
protocol and budget, evaluated on a sweep of the mass over its box (issue 29, item 3).

    PYTHONPATH=. python benchmarks/own_env_stress_test.py --root runs/own-env --out results/own-env --workers 2
    PYTHONPATH=. python benchmarks/own_env_stress_test.py --smoke          # minutes: the whole path, tiny budget

What it runs. The task is ``mujoco_task("HalfCheetah-v5", {"torso_mass": ("body_mass", "torso")})`` (or
``--parameter floor_friction``: ``("geom_friction", "floor", 0)``; at c0 = 0.4 it ties with the body geoms'
0.4, a kink of MuJoCo's max rule, see :mod:`cebe_deep.tasks.mujoco_model`): HalfCheetah-v5's own reward (forward
velocity minus control cost), c0 the model's torso mass 6.25 kg, box +-50% (3.13-9.38 kg). Each method trains
with the ``authors`` profile of CheetahVelocity (:func:`cebe_deep.run.config.make_config`: 8 environments, one
update per 8 env steps, prioritized replay, 256x256 networks, 535k env steps), ``--seeds`` seeds:

* ``baseline``: SAC at c0;
* ``cse``: SAC with the CSE replay buffer, Jacobians by ``mujoco_task``'s central differences (2 extra
  simulator steps per step);
* ``ldr``: SAC with each episode's mass drawn from ``c0 + eps N(0, 1)`` (:class:`LocalDomainRandomization`).

``eps`` defaults to 10% of c0 (0.625 kg): the paper's eps = 0.1 is in the units of its contexts (a goal
velocity, a direction), and 0.1 kg would be 1.6% of this mass. Each trained policy is evaluated (deterministic
actions) at ``--points`` masses spanning the box, ``--episodes`` episodes each (episode k reset with seed
10,000 + k for every method), and the table goes through the project's statistics
(:func:`cebe_deep.report.statistics.compare_methods` and :func:`verdict`: CSE against SAC and LDR away from the
training ball, Welch intervals over seeds). Written to ``--out``: ``evaluation.csv``, ``summary.csv``,
``comparison.csv``, ``verdict.json`` (with the runs' env steps per second and the Jacobians' cost), ``sweep.png``.
Runs already trained under ``--root`` (a ``model.zip``) are not trained again.

What the full run costs (not run here): the authors' CheetahVelocity sweep (5 seeds x 3 methods x 535k env steps)
took about 4 hours with two workers on the project's 2-core machine (results/README.md); the finite differences
add 2 HalfCheetah steps per CSE env step (about 0.1-0.4 ms against the 2-10 ms of the step's share of a
256x256 SAC update), a few percent of a CSE run; evaluation is 5 x 3 policies x 11 masses x 64 episodes of
1,000 steps, 10.6M env steps, about 1-2 hours on one core. ``--smoke`` runs every part at 2,000 env steps, one
seed, 3 masses, 2 episodes of 200 steps.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

PARAMETERS = {"torso_mass": ("body_mass", "torso"), "floor_friction": ("geom_friction", "floor", 0)}
METHODS = ("baseline", "cse", "ldr")
ENV_ID = "HalfCheetah-v5"


def make_env(parameter: str, method: str, eps: float, horizon: int | None = None):
    """One training (or, with method ``"evaluate"``, evaluation) environment of the stress test."""
    from gymnasium.wrappers import TimeLimit

    from cebe_deep.learn.randomization import LocalDomainRandomization
    from cebe_deep.tasks import mujoco_task

    env = mujoco_task(ENV_ID, {parameter: PARAMETERS[parameter]}, jacobians=method == "cse")
    if horizon is not None:
        env = TimeLimit(env.unwrapped, max_episode_steps=horizon)
    if method == "ldr":
        env = LocalDomainRandomization(env, eps=eps)
    return env


def train_one(parameter: str, method: str, seed: int, eps: float, steps: int, run_dir: str, horizon: int | None,
              learning_starts: int | None) -> dict:
    """Train one (method, seed) under the authors' CheetahVelocity profile; write model.zip and summary.json."""
    import torch
    from stable_baselines3.common.env_util import make_vec_env

    from cebe_deep.experiment import make_config, make_model

    run = Path(run_dir)
    if (run / "model.zip").exists():
        return json.loads((run / "summary.json").read_text())
    torch.set_num_threads(1)
    run.mkdir(parents=True, exist_ok=True)
    config = make_config("CheetahVelocity", method, "authors", seed=seed, eps=eps, total_steps=steps,
                         learning_starts=learning_starts)
    venv = make_vec_env(lambda: make_env(parameter, method, eps, horizon), n_envs=config.n_envs,
                        monitor_dir=str(run), seed=seed)
    model = make_model(config, venv)
    started = time.perf_counter()
    model.learn(config.total_steps)
    seconds = time.perf_counter() - started
    model.save(run / "model.zip")
    tasks = venv.get_attr("unwrapped")
    cost = [task.jacobian_cost() for task in tasks] if method == "cse" else []
    summary = dict(method=method, seed=seed, parameter=parameter, eps=eps, env_steps=int(model.num_timesteps),
                   seconds=seconds, env_steps_per_second=model.num_timesteps / seconds,
                   jacobian_seconds=sum(c["seconds"] for c in cost), jacobian_evaluations=sum(c["evaluations"] for c in cost),
                   jacobian_seconds_per_step=(sum(c["seconds"] for c in cost) / max(1, sum(c["steps"] for c in cost))),
                   step_sizes=cost[0]["step_sizes"] if cost else None, config=dataclasses.asdict(config))
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    venv.close()
    return summary


def evaluate_one(parameter: str, method: str, seed: int, run_dir: str, contexts: list[float], episodes: int,
                 horizon: int | None) -> pd.DataFrame:
    """Returns of the deterministic policy at each context, ``episodes`` episodes side by side (seeds 10,000 + k)."""
    import torch

    from cebe_deep.learn.sac import ContextSAC

    torch.set_num_threads(1)
    model = ContextSAC.load(Path(run_dir) / "model.zip", device="cpu")
    rows = []
    for value in contexts:
        envs = [make_env(parameter, "evaluate", 0.0, horizon) for _ in range(episodes)]
        for env in envs:
            env.unwrapped.set_context([value])
        observations = np.stack([env.reset(seed=10_000 + k)[0] for k, env in enumerate(envs)])
        returns, running = np.zeros(episodes), np.ones(episodes, dtype=bool)
        while running.any():
            active = np.flatnonzero(running)
            actions, _ = model.predict(observations[active], deterministic=True)
            for row, k in enumerate(active):
                observations[k], reward, terminated, truncated, _ = envs[k].step(actions[row])
                returns[k] += reward
                running[k] = not (terminated or truncated)
        rows += [dict(task=f"{ENV_ID}:{parameter}", method=method, seed=seed, run=str(run_dir), sweep="context_0",
                      sweep_value=value, context_0=value, episode=k, episode_return=returns[k]) for k in range(episodes)]
        for env in envs:
            env.close()
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="runs/own-env", help="run directories (model.zip, summary.json, monitors)")
    parser.add_argument("--out", default="results/own-env", help="where the tables, verdict and figure go")
    parser.add_argument("--parameter", choices=sorted(PARAMETERS), default="torso_mass")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="env steps per run (default: the authors' 535k)")
    parser.add_argument("--eps", type=float, default=None, help="CSE radius and LDR scale (default: 10%% of c0)")
    parser.add_argument("--points", type=int, default=11, help="masses (or frictions) evaluated, spanning the box")
    parser.add_argument("--episodes", type=int, default=64, help="evaluation episodes per policy and context")
    parser.add_argument("--workers", type=int, default=1, help="runs trained and evaluated in parallel")
    parser.add_argument("--smoke", action="store_true", help="2,000 steps, 1 seed, 3 points, 2 episodes of 200 steps")
    arguments = parser.parse_args(argv)
    from cebe_deep.experiment import compare_methods, make_config, summarize
    from cebe_deep.report.plots import plot_context_sweeps
    from cebe_deep.report.statistics import verdict

    horizon = learning_starts = None
    if arguments.smoke:
        arguments.steps, arguments.seeds, arguments.points, arguments.episodes = 2_000, 1, 3, 2
        horizon, learning_starts = 200, 500
        arguments.root, arguments.out = f"{arguments.root}-smoke", f"{arguments.out}-smoke"
    task = make_env(arguments.parameter, "baseline", 0.0).unwrapped
    c0, low, high = float(task.default_context[0]), float(task.context_low[0]), float(task.context_high[0])
    eps = arguments.eps if arguments.eps is not None else float(f"{0.1 * abs(c0):.3g}")
    steps = arguments.steps or make_config("CheetahVelocity", "baseline", "authors").total_steps
    contexts = np.linspace(low, high, arguments.points).tolist()
    jobs = [(method, seed, str(Path(arguments.root) / arguments.parameter / method / f"seed{seed}"))
            for method in arguments.methods for seed in range(arguments.seeds)]
    print(f"{ENV_ID}, context {arguments.parameter}: c0 {c0:.4g}, box [{low:.4g}, {high:.4g}], eps {eps:.4g}; "
          f"{len(jobs)} runs of {steps:,} env steps; evaluation {len(contexts)} contexts x {arguments.episodes} episodes")
    with ProcessPoolExecutor(max_workers=arguments.workers) as pool:
        summaries = list(pool.map(train_one, *zip(*[(arguments.parameter, m, s, eps, steps, d, horizon, learning_starts)
                                                    for m, s, d in jobs])))
        tables = list(pool.map(evaluate_one, *zip(*[(arguments.parameter, m, s, d, contexts, arguments.episodes, horizon)
                                                    for m, s, d in jobs])))
    table = pd.concat(tables, ignore_index=True)
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "evaluation.csv", index=False)
    summary = summarize(table)
    summary.to_csv(out / "summary.csv", index=False)
    comparison = compare_methods(summary, [c0], eps, table=table)
    comparison.to_csv(out / "comparison.csv", index=False)
    speed = pd.DataFrame(summaries).groupby("method")[["env_steps_per_second", "jacobian_seconds_per_step"]].mean()
    baseline_speed = speed.loc["baseline", "env_steps_per_second"] if "baseline" in speed.index else None
    overhead = {method: dict(env_steps_per_second=float(row.env_steps_per_second),
                             jacobian_ms_per_step=1e3 * float(row.jacobian_seconds_per_step),
                             speed_against_baseline=None if baseline_speed is None
                             else float(row.env_steps_per_second / baseline_speed))
                for method, row in speed.iterrows()}
    result = dict(env_id=ENV_ID, parameter=arguments.parameter, c0=c0, box=[low, high], eps=eps, env_steps=steps,
                  seeds=arguments.seeds, contexts=contexts, episodes=arguments.episodes, smoke=arguments.smoke,
                  verdict=verdict(comparison) if {"cse", "baseline"} <= set(arguments.methods) else None,
                  speed=overhead)
    (out / "verdict.json").write_text(json.dumps(result, indent=2))
    plot_context_sweeps(table, [c0], eps, out / "sweep.png", context_labels=[f"{arguments.parameter} ({ENV_ID})"],
                        title=f"{ENV_ID}, context {arguments.parameter}\n{arguments.seeds} seeds, "
                              f"{arguments.episodes} episodes per context")
    print(json.dumps(result["verdict"], indent=2))
    print(json.dumps(overhead, indent=2))
    names = ("evaluation.csv", "summary.csv", "comparison.csv", "verdict.json", "sweep.png")
    print(f"written: {', '.join(str(out / name) for name in names)}")


if __name__ == "__main__":
    main()
