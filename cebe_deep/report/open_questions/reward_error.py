"""Far extrapolation: how wrong is CSE's first-order reward on CheetahVelocity, measured on sampled transitions.

CSE moves a transition (s, a, r, s') collected at c0 to c0 + dc with (cebe_deep.learn.cse.context_sample_enhancement)

    r_CSE = r + d_c R dc + d_{s'} R (d_c T dc)

from the Jacobians the task reports in its step ``info``.  The reference is the same step re-simulated at
c0 + dc from the same simulator state with the same action (:func:`cebe_deep.tasks.step_twin`).  The error per
step is ``r_CSE - r(c0 + dc)``.  For CheetahVelocity the context (the goal velocity) enters only the reward,
``r = 1 - sqrt(1 + (v - v_goal)^2) - 0.1 |a|^2``, so d_c T = 0 and, with x = v - v_goal0,

    error(dc) = sqrt(1 + (x - dc)^2) - sqrt(1 + x^2) + x dc / sqrt(1 + x^2)     (>= 0: the square root is convex)

which grows like dc^2 / (2 (1 + x^2)^(3/2)) for small dc and like |dc| (1 - |x| / sqrt(1 + x^2)) for large.

Transitions come from trained CheetahVelocity policies (run directories on the command line, default
``runs/authors/CheetahVelocity/*/seed*``; the behaviour policy's stochastic actions, as in the replay buffer, or
``--deterministic``) or, with ``--random``, from uniform random actions.  Writes ``--out``
(in the repository ``results/open/extrapolation/reward_error.csv``), one row per (source, goal velocity): ``dc``,
``transitions``,
``episodes``, ``mean_abs_error`` / ``max_abs_error`` / ``mean_error`` per step, ``mean_abs_reward_change``
(|r(c0 + dc) - r(c0)| per step, the size of what CSE corrects), ``mean_velocity`` (the mean forward velocity v
of the transitions, m/s: the error depends on v - v_goal), and the per-episode sums ``episode_sum_error`` and
``episode_sum_abs_error`` (mean over episodes of the sum over the episode's steps).  Rows of another source
already in the file are kept, so the random and the policy-sampled measurements live side by side.

    python -m cebe_deep.report.open_questions.reward_error --random --out results/open/extrapolation/reward_error.csv  #
    uniform random actions (about a minute)
    python -m cebe_deep.report.open_questions.reward_error --out results/open/extrapolation/reward_error.csv  # the authors'
    CheetahVelocity runs, when trained
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from cebe_deep.learn.cse import JACOBIAN_KEYS, context_sample_enhancement
from cebe_deep.run.config import make_task_env
from cebe_deep.tasks import step_twin

TASK = "CheetahVelocity"
GOAL_VELOCITIES = tuple(np.arange(-3.0, 5.01, 0.5))
DEFAULT_RUNS = "runs/authors/CheetahVelocity/*/seed*"


def transition_errors(policy: Callable[[np.ndarray], np.ndarray], goal_velocities, episodes: int, steps: int,
                      seed: int = 0, task: str = TASK, base_context=None, dynamics=None) -> pd.DataFrame:
    """Roll ``policy`` out at c0 for ``episodes`` episodes of at most ``steps`` steps; at every step compare the
    first-order CSE reward at each goal velocity with the step re-simulated there.  One row per (episode, step,
    goal velocity): ``reward`` (at c0), ``first_order_reward``, ``resimulated_reward``, ``error`` (their
    difference, first order minus re-simulated), ``next_velocity`` (s' entry the reward reads).

    :param policy: observations (1, obs_dim) -> actions (1, action_dim)
    :param goal_velocities: the contexts c0 + dc to move each transition to (first coordinate; others stay)
    """
    env = make_task_env(task, base_context, jacobians=True, dynamics=dynamics)
    twin = make_task_env(task, base_context, dynamics=dynamics)
    task_env = env.unwrapped
    c0 = np.array(task_env.context, dtype=np.float64)
    targets = []
    for velocity in goal_velocities:
        target = c0.copy()
        target[0] = velocity
        targets.append(target)
    targets = np.array(targets)
    rows = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode)
        for step in range(steps):
            action = np.asarray(policy(observation[None]))[0]
            resimulated = [step_twin(twin, env, action, target)[1] for target in targets]
            observation, reward, terminated, truncated, info = env.step(action)
            next_state = np.asarray(observation[: task_env.state_dim], dtype=np.float64)
            jacobians = {key: np.asarray(info[key], dtype=np.float64) for key in JACOBIAN_KEYS}
            n = len(targets)
            _, first_order = context_sample_enhancement(
                np.repeat(next_state[None], n, 0), np.full(n, reward), targets - c0,
                np.repeat(jacobians["dobs_dcontext"][None], n, 0), np.repeat(jacobians["dreward_dcontext"][None], n, 0),
                np.repeat(jacobians["dreward_dnextobs"][None], n, 0))
            for target, first, exact in zip(targets, first_order, resimulated):
                rows.append(dict(episode=episode, step=step, goal_velocity=float(target[0]), dc=float(target[0] - c0[0]),
                                 reward=float(reward), first_order_reward=float(first), resimulated_reward=exact,
                                 error=float(first - exact), next_velocity=float(next_state[-1])))
            if terminated or truncated:
                break
    env.close()
    twin.close()
    return pd.DataFrame(rows)


def summarize_errors(errors: pd.DataFrame, source: str) -> pd.DataFrame:
    """Per goal velocity: the error's per-step statistics and its per-episode sums (see the module docstring)."""
    errors = errors.assign(abs_error=errors["error"].abs(),
                           abs_reward_change=(errors["resimulated_reward"] - errors["reward"]).abs())
    sums = errors.groupby(["goal_velocity", "episode"])[["error", "abs_error"]].sum().groupby("goal_velocity").mean()
    table = errors.groupby("goal_velocity").agg(dc=("dc", "first"), transitions=("error", "size"),
                                                episodes=("episode", "nunique"), mean_abs_error=("abs_error", "mean"),
                                                max_abs_error=("abs_error", "max"), mean_error=("error", "mean"),
                                                mean_abs_reward_change=("abs_reward_change", "mean"),
                                                mean_velocity=("next_velocity", "mean"))
    table["episode_sum_error"] = sums["error"]
    table["episode_sum_abs_error"] = sums["abs_error"]
    return table.reset_index().assign(source=source)


def random_policy(task: str = TASK, seed: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """Uniform random actions in the task's action box (its own generator, seeded)."""
    env = make_task_env(task)
    low, high = env.action_space.low, env.action_space.high
    env.close()
    generator = np.random.default_rng(seed)
    return lambda observations: generator.uniform(low, high, size=(len(observations), len(low)))


def policy_errors(run_dirs, goal_velocities, episodes: int, steps: int, deterministic: bool) -> pd.DataFrame:
    """:func:`transition_errors` of each run's trained policy (episodes numbered across runs)."""
    from cebe_deep.run.training import load_model

    frames = []
    for index, run_dir in enumerate(run_dirs):
        model, config = load_model(run_dir)
        if not config.task.startswith(TASK):
            raise SystemExit(f"{run_dir}: a {config.task} run, not {TASK}")
        frame = transition_errors(lambda observations: model.predict(observations, deterministic=deterministic)[0],
                                  goal_velocities, episodes, steps, seed=10_000 + 100 * index, task=config.task,
                                  base_context=config.context)
        frames.append(frame.assign(episode=frame["episode"] + index * episodes))
        print(f"{run_dir}: {len(frame) // len(goal_velocities)} transitions")
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help=f"CheetahVelocity run directories (default {DEFAULT_RUNS})")
    parser.add_argument("--random", action="store_true", help="uniform random actions instead of trained policies")
    parser.add_argument("--deterministic", action="store_true", help="the policies' deterministic actions")
    parser.add_argument("--episodes", type=int, default=4, help="episodes per policy (default 4)")
    parser.add_argument("--steps", type=int, default=1000, help="steps per episode (default 1000, a whole episode)")
    parser.add_argument("--out", type=Path, required=True, help="the CSV to write (rows of other sources kept)")
    args = parser.parse_args()
    if args.random:
        errors = transition_errors(random_policy(), GOAL_VELOCITIES, args.episodes, args.steps)
        source = "random actions"
    else:
        runs = args.runs or sorted(glob.glob(DEFAULT_RUNS))
        runs = [run for run in runs if (Path(run) / "model.zip").exists()]
        if not runs:
            raise SystemExit(f"no trained run in {args.runs or DEFAULT_RUNS} (model.zip missing); --random needs none")
        errors = policy_errors(runs, GOAL_VELOCITIES, args.episodes, args.steps, args.deterministic)
        source = f"{'deterministic' if args.deterministic else 'stochastic'} policies of {len(runs)} runs"
    table = summarize_errors(errors, source)
    if args.out.exists():
        kept = pd.read_csv(args.out)
        table = pd.concat([kept[kept["source"] != source], table], ignore_index=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(table.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
