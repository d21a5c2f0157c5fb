"""Contexts away from c0, the all-zero action and the normalized scores of the protocol (results/PROTOCOL.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from cebe_deep.errors import InputError
from cebe_deep.learn.eps import PAPER_EPS
from cebe_deep.report.statistics import away_from_c0
from cebe_deep.tasks import default_context

# "Away from c0" has one definition, cebe_deep.report.statistics.away_from_c0 (|c - c0|_2 > eps + AWAY_TOLERANCE),
# the same for the protocol, the earlier per-context rule (comparison.csv) and the open questions.

#: The CSE radius of the runs analysed, by default (``--eps`` otherwise): the training ball is |c - c0| <= EPS.
EPS = PAPER_EPS
LEVEL = 0.95
#: The equivalence margin of "matches", in normalized units (results/PROTOCOL.md, section 5).
MARGIN = 0.02
#: Trained policies per method in the paper; fewer is marked in the table.
PAPER_SEEDS = 10
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 2021
POWER = 0.8
#: The evaluation's episodes per context and its first reset seed (cebe_deep.run.evaluation.evaluate).
EVALUATION_EPISODES = 64
EVALUATION_SEED = 10_000
ZERO_ACTION_FILE = "zero_action.csv"
#: (candidate, other) pairs of the protocol, and the claim each is judged against.
COMPARISONS = (("cse", "baseline"), ("cse", "ldr"))
CLAIMS = {"baseline": "beats", "ldr": "matches or beats"}


def _ant_threshold() -> float:
    import gymnasium

    return float(gymnasium.spec("Ant-v5").reward_threshold)


def _half_cheetah_threshold() -> float:
    import gymnasium

    return float(gymnasium.spec("HalfCheetah-v5").reward_threshold)


#: Per task without a closed-form optimum: U (the return called 1 at c0) and where it comes from, fixed without
#: any learner.  SimpleDirection is absent: its optimum is known at every context (:func:`context_scale`).
REFERENCES: dict[str, tuple[Callable[[], float], str]] = {
    "PendulumGoal": (lambda: 0.0, "0, the supremum of the return (every reward term is <= 0)"),
    "CheetahVelocity": (lambda: 0.0, "0, the supremum of the return (forward term <= 0, control cost >= 0)"),
    "CartGoal": (lambda: 500.0, "500: reward <= 1 per step, 500 steps"),
    "AntDirection": (_ant_threshold, "Gymnasium's reward_threshold of Ant-v5 (AntDirection's reward at c0 is Ant-v5's)"),
    # The stress test on a physics context (results/own-env/, issue 29): HalfCheetah-v5's own reward at every mass.
    "cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass": (
        _half_cheetah_threshold, "Gymnasium's reward_threshold of HalfCheetah-v5 (the task's reward is HalfCheetah-v5's)"),
    "cebe_deep.tasks.mujoco_examples:half_cheetah_floor_friction": (
        _half_cheetah_threshold, "Gymnasium's reward_threshold of HalfCheetah-v5 (the task's reward is HalfCheetah-v5's)"),
}


# ------------------------------------------------------------------------------------------------ contexts
def context_columns(table: pd.DataFrame) -> list[str]:
    return sorted((c for c in table.columns if c.startswith("context_")), key=lambda c: int(c.split("_")[1]))


def context_keys(coordinates: np.ndarray) -> list[tuple[float, ...]]:
    """One hashable key per row of coordinates: rounded to 9 decimals, -0.0 made 0.0 (AntDirection's -pi and pi)."""
    rounded = np.round(np.asarray(coordinates, dtype=np.float64), 9) + 0.0
    return [tuple(row) for row in rounded]


def task_and_c0(table: pd.DataFrame) -> tuple[str, np.ndarray]:

    tasks = table["task"].unique()
    if len(tasks) != 1:
        raise ValueError(f"one task per analysis, got {sorted(tasks)}")
    task = str(tasks[0])
    columns = context_columns(table)
    return task, default_context(task, len(columns) if task == "SimpleDirection" else None)


def distinct_contexts(table: pd.DataFrame, c0: Sequence[float], eps: float = EPS) -> pd.DataFrame:
    """The distinct contexts of an evaluation table, each once (a context on two sweeps is one context): columns
    ``key`` (the rounded coordinates), ``context_i``, ``authors`` (it has a row of the authors' test contexts),
    ``distance`` (|c - c0|_2) and ``away`` (:func:`cebe_deep.report.statistics.away_from_c0`), in the table's order
    of first appearance."""
    columns = context_columns(table)
    rows = table[["sweep", *columns]].drop_duplicates()
    rows = rows.assign(key=context_keys(rows[columns].to_numpy()))
    authors = set(rows.loc[rows["sweep"] == "authors", "key"])
    contexts = rows.drop_duplicates("key")[["key", *columns]].reset_index(drop=True)
    coordinates = contexts[columns].to_numpy(np.float64)
    return contexts.assign(authors=contexts["key"].isin(authors),
                           distance=np.linalg.norm(coordinates - np.asarray(c0, np.float64), axis=1),
                           away=away_from_c0(coordinates, c0, eps))


# ------------------------------------------------------------------------------------------- normalization
def zero_action_table(task: str, contexts: np.ndarray, dynamics: str | None = None,
                      episodes: int = EVALUATION_EPISODES, seed: int = EVALUATION_SEED) -> pd.DataFrame:
    """The all-zero action's mean return at each context (rows of ``contexts``) over the evaluation's start states
    (reset seeds ``seed + k``), simulated (:func:`cebe_deep.run.evaluation.zero_action_returns`): columns
    ``context_i``, ``dynamics`` (``"default"`` for the task's), ``episodes``, ``seed``, ``zero_return``."""
    from cebe_deep.run.evaluation import zero_action_returns

    contexts = np.atleast_2d(np.asarray(contexts, dtype=np.float64))
    rows = []
    for context in contexts:
        returns = zero_action_returns(task, context, episodes, seed, dynamics)
        rows.append({**{f"context_{i}": float(v) for i, v in enumerate(context)}, "dynamics": dynamics or "default",
                     "episodes": episodes, "seed": seed, "zero_return": float(returns.mean())})
    return pd.DataFrame(rows)


def read_zero_action(folder: str | Path) -> pd.DataFrame | None:
    """The folder's committed ``zero_action.csv`` (:func:`zero_action_table`), None where it has none."""
    path = Path(folder) / ZERO_ACTION_FILE
    return pd.read_csv(path) if path.is_file() else None


def lookup_zero(zero: pd.DataFrame, keys: list[tuple], dynamics: str) -> np.ndarray:
    part = zero[zero["dynamics"] == dynamics]
    table = dict(zip(context_keys(part[context_columns(part)].to_numpy()), part["zero_return"]))
    missing = [key for key in keys if key not in table]
    if missing:
        raise ValueError(f"the zero-action table ({dynamics} dynamics) lacks {len(missing)} context(s), e.g. "
                         f"{missing[0]}: write it with `cebe-deep report protocol FOLDER --write-zero-action`")
    return np.array([table[key] for key in keys])


def evaluation_start_states(task: str, episodes: int = EVALUATION_EPISODES, seed: int = EVALUATION_SEED,
                            dimension: int | None = None) -> np.ndarray:
    """The state parts of the evaluation's start states (reset seed ``seed + k``), shape (episodes, state_dim)."""
    from cebe_deep.run.config import make_task_env

    env = make_task_env(task, dimension=dimension)
    state_dim = env.unwrapped.state_dim
    starts = np.stack([env.reset(seed=seed + k)[0][:state_dim] for k in range(episodes)])
    env.close()
    return starts


def context_scale(task: str, contexts: np.ndarray, zero: np.ndarray, zero_at_c0: float,
                  episodes: int = EVALUATION_EPISODES, seed: int = EVALUATION_SEED,
                  reference: float | None = None) -> tuple[np.ndarray, str]:
    """S(c), the return difference that counts as one normalized unit at each context, and its description.

    SimpleDirection: the closed-form optimum over the evaluation's start states minus the zero action's return
    ``zero`` there (= 55 |c|_1 for every start state: the terms 10 s0 . c and 55 |c|^2 are common to both).
    Other tasks: ``U - zero_at_c0``, one constant, U of :data:`REFERENCES`, or ``reference`` where it is given
    (``cebe-deep report protocol --reference U``: a researcher's own task, U fixed before looking at the runs)."""
    contexts = np.atleast_2d(np.asarray(contexts, dtype=np.float64))
    if reference is not None:
        if not reference - zero_at_c0 > 0:
            raise InputError(f"--reference {reference:g} must be above the all-zero action's return at c0 "
                             f"({zero_at_c0:g}): one normalized unit is the distance between the two")
        return np.full(len(contexts), reference - zero_at_c0), f"U = {reference:g} (given with --reference)"
    if task == "SimpleDirection":
        from cebe_deep.tasks.simple_direction import simple_direction_optimal_return

        starts = evaluation_start_states(task, episodes, seed, dimension=contexts.shape[1])
        optimum = np.array([np.mean([simple_direction_optimal_return(c, start_state=s) for s in starts])
                            for c in contexts])
        return optimum - np.asarray(zero, np.float64), "the closed-form optimum at each context"
    if task not in REFERENCES:
        raise InputError(f"no reference return fixed for task {task!r}: pass --reference U, the return that counts as "
                         "1 at c0, fixed before looking at the runs (results/PROTOCOL.md, section 3)")
    reference, source = REFERENCES[task]
    return np.full(len(contexts), reference() - zero_at_c0), f"U = {source}"


def seed_scores(table: pd.DataFrame, contexts: pd.DataFrame, zero: np.ndarray,
                scale: np.ndarray) -> dict[str, pd.DataFrame]:
    """Per method, the normalized scores ``(R - zero) / scale`` as a (seed x context) frame, columns in the order of
    ``contexts`` (:func:`distinct_contexts`); NaN where a seed lacks a context or the scale is 0 (SimpleDirection's
    c0).  R is a seed's mean return over its episodes at that context."""
    columns = context_columns(table)
    per_seed = table.groupby(["method", "seed", *columns], as_index=False)["episode_return"].mean()
    per_seed["key"] = context_keys(per_seed[columns].to_numpy())
    per_seed = per_seed.groupby(["method", "seed", "key"], as_index=False)["episode_return"].mean()
    position = {key: index for index, key in enumerate(contexts["key"])}
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(scale != 0, 1.0 / np.where(scale != 0, scale, 1.0), np.nan)
    result = {}
    for method, part in per_seed.groupby("method"):
        frame = part.pivot(index="seed", columns="key", values="episode_return")
        frame = frame.reindex(columns=list(contexts["key"]))
        result[str(method)] = (frame - zero[[position[k] for k in frame.columns]]) * unit
    return result
