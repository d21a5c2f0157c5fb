"""Evaluate trained policies at stated contexts: one-axis sweeps, the authors' test contexts, or any list.

The output is one tidy table (one row per context and episode) with columns task, method, seed, run,
sweep, sweep_value, context_0.., episode, episode_return.  ``sweep`` names the family a context belongs to:
``context_i`` (a one-axis sweep of coordinate i, ``sweep_value`` = that coordinate), ``angle`` (unit-direction
contexts, ``sweep_value`` = the angle), ``authors`` (the authors' test contexts, ``sweep_value`` = their
index in the task's ``authors_contexts``), ``listed`` (an explicit list, ``sweep_value`` = its index) or
``radius_<r>`` (SimpleDirection's context-dimension test contexts at radius r, ``sweep_value`` = the direction's
index; :func:`dimension_test_grid`).  :func:`with_fraction_of_optimum` adds SimpleDirection's closed-form optimum
and the return as a fraction of it.  A run's grid and episodes use its config's ``dimension`` and ``task_noise``.
Every method and policy meets the same initial states: episode k is reset with seed ``seed + k``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from cebe_deep.run.config import ConfigError, check_context, make_task_env
from cebe_deep.run.training import load_model
from cebe_deep.tasks.simple_direction import dimension_test_contexts, simple_direction_optimal_return

__all__ = ["ANGLE_SWEEP_TASKS", "SWEEP_RANGES", "context_grid", "authors_grid", "listed_grid", "dimension_test_grid",
           "parse_contexts", "evaluation_grid", "evaluate_policy_at_context", "zero_action_returns", "evaluate",
           "with_fraction_of_optimum", "EVALUATION_FILES", "evaluation_file", "read_evaluation", "write_evaluation",
           "TABLE_COLUMNS", "read_evaluation_table", "check_evaluation_table"]

#: The names a folder's evaluation table may have: plain, or gzip-compressed (the same CSV; pandas reads both).
#: A results folder holds one of them.  Compressed tables are for large ones: SimpleDirection's context-dimension
#: cells repeat up to 32 context coordinates on every episode row (34 MiB of text at d = 32, 1 MiB gzipped).
EVALUATION_FILES = ("evaluation.csv", "evaluation.csv.gz")

# Tasks whose context is a unit direction: sweep the angle instead of each coordinate.
ANGLE_SWEEP_TASKS = ("AntDirection",)

# Default evaluation range per context coordinate (low, high); None: the task's whole box.  Chosen to cover
# the contexts the paper discusses (e.g. PendulumGoal goal torque > 0.6) without leaving the regime where the
# task is well posed.
SWEEP_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "SimpleDirection": ((-1.0, 1.0), (-1.0, 1.0)),
    "PendulumGoal": ((1.0, 4.0), (0.5, 2.0), (0.5, 2.0), (-1.5, 1.5)),
    "CheetahVelocity": ((0.0, 4.0),),
}


def context_grid(task: str, points: int = 11, span: float | None = None,
                 box: tuple[Sequence[float], Sequence[float]] | None = None, dimension: int | None = None) -> pd.DataFrame:
    """The evaluation contexts of ``task``: one row per context, columns ``sweep``, ``sweep_value``, ``context``.

    Coordinate sweeps (default): for each context dimension i, ``points`` values across ``SWEEP_RANGES``
    (or the task's box; or c0_i +- span, clipped to the box, when ``span`` is given), the other coordinates
    at c0, plus c0_i itself; contexts the task rejects (e.g. PendulumGoal's |tau| < m g l) are dropped.
    ``box = (low, high)`` replaces the ranges (e.g. the authors' context box).
    Angle sweeps (unit-direction contexts, ``ANGLE_SWEEP_TASKS``): c = (cos theta, sin theta), ``points``
    equally spaced angles in [-pi, pi) (each direction once).  ``dimension``: SimpleDirection's d (None: 2).
    """
    if points < 2:
        raise ConfigError(f"--points must be >= 2, got {points}")
    if span is not None and not (span > 0 and math.isfinite(span)):
        raise ConfigError(f"--span must be > 0, got {span}")
    env = make_task_env(task, dimension=dimension)
    base = env.unwrapped
    c0 = np.asarray(base.default_context, dtype=np.float64)
    low, high = np.asarray(base.context_low, np.float64), np.asarray(base.context_high, np.float64)
    rows = []
    if task in ANGLE_SWEEP_TASKS:
        # -pi and pi are the same direction: ``points`` distinct angles, -pi included, pi not.
        for theta in np.linspace(-np.pi, np.pi, points, endpoint=False):
            rows.append(dict(sweep="angle", sweep_value=float(theta), context=(math.cos(theta), math.sin(theta))))
        env.close()
        return pd.DataFrame(rows)
    ranges = SWEEP_RANGES.get(task)
    if task == "SimpleDirection":  # any dimension d: every coordinate over [-1, 1]
        ranges = ranges[:1] * c0.size
    for i in range(c0.size):
        if span is not None:
            lo, hi = max(low[i], c0[i] - span), min(high[i], c0[i] + span)
        elif box is not None:
            lo, hi = float(box[0][i]), float(box[1][i])
        elif ranges is not None and i < len(ranges):
            lo, hi = ranges[i]
        else:
            lo, hi = low[i], high[i]
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ConfigError(f"context dimension {i} of {task} is unbounded; pass a span")
        # Rounded to 12 decimals (one row per value however it was reached), then clipped to the task's box: rounding
        # a box edge such as 0.5 * 6.25020920502092 must not step outside it (validate_context would drop that row).
        values = np.unique(np.clip(np.round(np.append(np.linspace(lo, hi, points), c0[i]), 12), low[i], high[i]))
        for value in values:
            context = c0.copy()
            context[i] = value
            try:
                base.validate_context(context)
            except ValueError:
                continue
            rows.append(dict(sweep=f"context_{i}", sweep_value=float(value), context=tuple(context.tolist())))
    env.close()
    return pd.DataFrame(rows)


def evaluate_policy_at_context(predict: Callable[[np.ndarray], np.ndarray], task: str, context: Sequence[float],
                               episodes: int, seed: int, dynamics: str | None = None, dimension: int | None = None,
                               noise: float | None = None) -> np.ndarray:
    """Undiscounted returns of ``episodes`` episodes of ``predict`` (batched obs -> actions) at ``context``.

    The episodes run side by side (one batched policy call per time step); episode k is reset with seed
    ``seed + k``, so every method and policy meets the same initial states.  ``dynamics``, ``dimension`` and
    ``noise`` build the task as the run's config does (:func:`cebe_deep.run.config.make_task_env`).
    """
    envs = [make_task_env(task, context, dynamics=dynamics, dimension=dimension, noise=noise) for _ in range(episodes)]
    observations = np.stack([env.reset(seed=seed + k)[0] for k, env in enumerate(envs)])
    returns = np.zeros(episodes)
    running = np.ones(episodes, dtype=bool)
    while running.any():
        active = np.flatnonzero(running)
        actions = predict(observations[active])
        for row, k in enumerate(active):
            obs, reward, terminated, truncated, _ = envs[k].step(actions[row])
            observations[k] = obs
            returns[k] += reward
            if terminated or truncated:
                running[k] = False
    for env in envs:
        env.close()
    return returns




def authors_grid(task: str, dimension: int | None = None) -> pd.DataFrame:
    """The authors' test contexts of ``task`` (its ``authors_contexts``), as grid rows (``sweep = "authors"``)."""
    env = make_task_env(task, dimension=dimension)
    contexts = getattr(env.unwrapped, "authors_contexts", None)
    env.close()
    if not contexts:
        raise ConfigError(f"task {task} has no authors' test contexts")
    return pd.DataFrame([dict(sweep="authors", sweep_value=float(k), context=tuple(float(v) for v in context))
                         for k, context in enumerate(contexts)])


def parse_contexts(text: str) -> list[tuple[float, ...]]:
    """``"2,1,1,0.75;2,1.2,1,-0.75"`` -> [(2, 1, 1, 0.75), (2, 1.2, 1, -0.75)]; ConfigError on a bad number."""
    contexts = []
    for position, part in enumerate(text.split(";"), start=1):
        if not part.strip():  # "a;;b", a trailing ";": a typo, never a context to drop
            raise ConfigError(f"--contexts: entry {position} of {text!r} is empty")
        try:
            contexts.append(tuple(float(value) for value in part.split(",")))
        except ValueError:
            raise ConfigError(f"--contexts: {part!r} is not a comma-separated list of numbers") from None
    if not contexts:
        raise ConfigError(f"--contexts: no context in {text!r}")
    return contexts


def listed_grid(task: str, contexts: Sequence[Sequence[float]], dimension: int | None = None) -> pd.DataFrame:
    """Explicit contexts as grid rows (``sweep = "listed"``), each checked against the task's size and box."""
    env = make_task_env(task, dimension=dimension)
    rows = []
    try:
        for k, context in enumerate(contexts):
            try:
                check_context(env.unwrapped, context)
            except ConfigError as error:
                raise ConfigError(f"--contexts entry {k + 1} {tuple(context)}: {error}") from None
            rows.append(dict(sweep="listed", sweep_value=float(k), context=tuple(float(v) for v in context)))
    finally:
        env.close()
    return pd.DataFrame(rows)


def dimension_test_grid(task: str, dimension: int | None = None) -> pd.DataFrame:
    """SimpleDirection's context-dimension test contexts (:func:`~cebe_deep.tasks.simple_direction.dimension_test_contexts`:
    radii 0.2, 0.5, 0.8, 16 random unit directions each, the same for every method) as grid rows,
    ``sweep = "radius_<r>"`` and ``sweep_value`` = the direction's index."""
    if task != "SimpleDirection":
        raise ConfigError(f"--contexts dimension-test: only SimpleDirection has dimension test contexts, not {task}")
    env = make_task_env(task, dimension=dimension)
    d = env.unwrapped.context_dim
    env.close()
    radii, directions = (0.2, 0.5, 0.8), 16
    contexts = dimension_test_contexts(d, radii=radii, directions=directions)
    listed = listed_grid(task, contexts, dimension=dimension)
    listed["sweep"] = [f"radius_{radius:g}" for radius in radii for _ in range(directions)]
    listed["sweep_value"] = [float(k) for _ in radii for k in range(directions)]
    return listed


def evaluation_grid(task: str, contexts: str | None = None, points: int = 11, span: float | None = None,
                    dimension: int | None = None) -> pd.DataFrame:
    """The contexts an evaluation visits: ``contexts`` is None (the one-axis sweeps of :func:`context_grid`),
    ``"authors"`` (the authors' test contexts), ``"authors+sweeps"`` (both; the sweeps span the authors'
    context box, the paper's evaluation region), ``"dimension-test"`` (SimpleDirection, :func:`dimension_test_grid`)
    or an explicit list (see :func:`parse_contexts`).  ``dimension``: SimpleDirection's d (None: 2)."""
    if contexts is None or contexts == "sweeps":
        return context_grid(task, points, span, dimension=dimension)
    if contexts == "authors":
        return authors_grid(task, dimension)
    if contexts == "dimension-test":
        return dimension_test_grid(task, dimension)
    if contexts == "authors+sweeps":
        env = make_task_env(task, dimension=dimension)
        box = getattr(env.unwrapped, "authors_context_box", None)
        env.close()
        sweeps = context_grid(task, points, span, box=None if span is not None else box, dimension=dimension)
        return pd.concat([authors_grid(task, dimension), sweeps], ignore_index=True)
    return listed_grid(task, parse_contexts(contexts), dimension)


def with_fraction_of_optimum(table: pd.DataFrame) -> pd.DataFrame:
    """A SimpleDirection evaluation table (any dimension) with two more columns: ``optimal_return``, the
    closed-form optimum of the undiscounted episode at each row's context averaged over the uniform start,
    ``55 (|c|_1 + |c|_2^2)`` (:func:`~cebe_deep.tasks.simple_direction.simple_direction_optimal_return`), and
    ``fraction_of_optimum = episode_return / optimal_return`` (nan where the optimum is 0, at c = 0).  The
    evaluation returns are undiscounted sums over the 10 steps, which is what the optimum counts."""
    tasks = set(table["task"].unique())
    if tasks != {"SimpleDirection"}:
        raise ConfigError(f"the fraction of the optimum is known in closed form for SimpleDirection only, got {sorted(tasks)}")
    columns = sorted((column for column in table.columns if column.startswith("context_")), key=lambda c: int(c.split("_")[1]))
    contexts = table[columns].to_numpy(dtype=np.float64)
    unique, inverse = np.unique(contexts, axis=0, return_inverse=True)
    optimum = np.array([simple_direction_optimal_return(context[~np.isnan(context)]) for context in unique])[
        inverse.reshape(-1)
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(optimum != 0, table["episode_return"].to_numpy(dtype=np.float64) / optimum, np.nan)
    return table.assign(optimal_return=optimum, fraction_of_optimum=fraction)


def zero_action_returns(task: str, context: Sequence[float], episodes: int = 64, seed: int = 10_000,
                        dynamics: str | None = None) -> np.ndarray:
    """Returns of the all-zero action at ``context`` (for a discrete action space, action 0), with the evaluation's
    reset seeds ``seed + k``: the return of doing nothing, below which a trained agent has learned less than
    nothing."""
    env = make_task_env(task)
    shape = env.action_space.shape
    env.close()
    return evaluate_policy_at_context(lambda observations: np.zeros((len(observations), *shape)), task, context,
                                      episodes, seed, dynamics)


def evaluate(run_dir: str | Path, points: int = 11, episodes: int | None = None, span: float | None = None, seed: int = 10_000,
             grid: pd.DataFrame | None = None, contexts: str | None = None, write: bool = True) -> pd.DataFrame:
    """Evaluate the deterministic policy of ``run_dir`` at the contexts of ``grid`` (default:
    :func:`evaluation_grid` of ``contexts``, ``points``, ``span``), ``episodes`` episodes per context (default
    64 for the authors' profile, as the paper, 32 otherwise); tidy DataFrame, also written to
    ``run_dir/evaluation.csv`` when ``write``.  Columns: task, method, seed, run, sweep, sweep_value,
    context_0.., episode, episode_return (``run`` is the run directory, so that runs stay apart when combined).
    """
    if episodes is not None and episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    if "CEBE_TORCH_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["CEBE_TORCH_THREADS"]))
    elif torch.get_num_threads() > 1:
        torch.set_num_threads(1)
    if write and not os.access(run_dir, os.W_OK):  # before minutes of rollouts, not after
        raise ConfigError(f"run directory {run_dir}: not writable, so its evaluation.csv could not be saved "
                          "(make it writable, or pass --out to write the table elsewhere)")
    model, config = load_model(run_dir)
    episodes = episodes or (64 if config.profile == "authors" else 32)
    grid = evaluation_grid(config.task, contexts, points, span, config.dimension) if grid is None else grid

    def predict(observations: np.ndarray) -> np.ndarray:
        return model.predict(observations, deterministic=True)[0]

    frames = []
    for row in grid.itertuples(index=False):
        returns = evaluate_policy_at_context(predict, config.task, row.context, episodes, seed, config.dynamics,
                                             config.dimension, config.task_noise)
        frame = pd.DataFrame(dict(task=config.task, method=config.method, seed=config.seed, run=str(run_dir),
                                  sweep=row.sweep, sweep_value=row.sweep_value, episode=np.arange(episodes),
                                  episode_return=returns))
        for i, value in enumerate(row.context):
            frame.insert(6 + i, f"context_{i}", value)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    if write:
        partial = Path(run_dir) / ".evaluation.csv.partial"
        table.to_csv(partial, index=False)
        partial.replace(Path(run_dir) / "evaluation.csv")
    return table


def evaluation_file(folder: str | Path) -> Path | None:
    """The evaluation table of ``folder``: ``evaluation.csv`` or ``evaluation.csv.gz``, None where it has neither.
    A folder with both is an error (which one is current could not be told)."""
    found = [Path(folder) / name for name in EVALUATION_FILES if (Path(folder) / name).is_file()]
    if len(found) > 1:
        raise ConfigError(f"{folder} holds both {EVALUATION_FILES[0]} and {EVALUATION_FILES[1]}: delete the stale one")
    return found[0] if found else None


#: The columns every evaluation table has (the context coordinates beyond ``context_0`` vary by task).
TABLE_COLUMNS = ("task", "method", "seed", "sweep", "sweep_value", "context_0", "episode", "episode_return")


def read_evaluation_table(path: str | Path) -> pd.DataFrame:
    """An evaluation table read and checked, so that a damaged file is refused rather than read as a smaller
    table: it decompresses (gzip), ends with a complete line, has the columns, rows, numeric seeds, episodes and
    finite returns, and every (method, seed) has the same contexts, each with the same episodes 0..E-1 (a
    table cut short loses part of its last run).  A problem is one :class:`~cebe_deep.errors.ConfigError` line
    naming the file and what is wrong.

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "evaluation.csv")
    >>> _ = open(path, "w").write("task,method,seed,sweep,sweep_value,context_0,episode,episode_return\\n"
    ...                           "SimpleDirection,cse,0,context_0,0.5,0.5,0,36.0")  # cut: no final newline
    >>> try:
    ...     read_evaluation_table(path)
    ... except ConfigError as error:
    ...     print(str(error).replace(folder, "FOLDER"))
    FOLDER/evaluation.csv: the last line is incomplete (the file was cut short); restore it (git checkout) or regenerate it
    """
    import gzip
    import io
    import zlib

    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise ConfigError(f"{path}: not a complete gzip file ({error}); restore it (git checkout) or regenerate it") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    if not raw.strip():
        raise ConfigError(f"{path}: empty file, expected an evaluation table (columns {', '.join(TABLE_COLUMNS)})")
    if not raw.endswith(b"\n"):
        raise ConfigError(f"{path}: the last line is incomplete (the file was cut short); restore it (git checkout) "
                          "or regenerate it")
    try:
        table = pd.read_csv(io.BytesIO(raw))
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not a readable CSV ({str(error).splitlines()[0]})") from None
    check_evaluation_table(table, str(path))
    return table


def check_evaluation_table(table: pd.DataFrame, where: str) -> None:
    """The checks of :func:`read_evaluation_table` on a table already read (``where`` names it in the error)."""
    missing = [column for column in TABLE_COLUMNS if column not in table.columns]
    if missing:
        raise ConfigError(f"{where}: not an evaluation table (as cebe-deep evaluate writes), missing column(s) "
                          f"{', '.join(missing)}")
    if table.empty:
        raise ConfigError(f"{where}: has a header but no rows")
    for column in ("seed", "sweep_value", "episode", "episode_return"):
        if not pd.api.types.is_numeric_dtype(table[column]):
            raise ConfigError(f"{where}: column {column} holds non-numbers")
    bad = table[~np.isfinite(table["episode_return"].to_numpy(dtype=np.float64))]
    if len(bad):
        row = bad.iloc[0]
        raise ConfigError(f"{where}: {len(bad)} episode return(s) are not finite numbers (first: {row['episode_return']} "
                          f"of {row['method']} seed {row['seed']}, {row['sweep']} = {row['sweep_value']})")
    if table[["method", "seed", "sweep", "sweep_value", "episode"]].isna().any().any():
        raise ConfigError(f"{where}: a row has an empty method, seed, sweep, context or episode")
    run = ["method", "seed"] + (["run"] if "run" in table.columns else [])  # two runs of one seed stay apart here
    episodes = table.groupby([*run, "sweep", "sweep_value"], dropna=False)["episode"].agg(["count", "nunique", "max"])
    expected = int(episodes["count"].max())
    short = episodes[(episodes["count"] != expected) | (episodes["nunique"] != expected) | (episodes["max"] != expected - 1)]
    if len(short):
        key, row = next(iter(short.iterrows()))
        method, seed, sweep, value = key[0], key[1], key[-2], key[-1]
        raise ConfigError(f"{where}: {method} seed {seed} at {sweep} = {value:g} has {int(row['count'])} episode rows, "
                          f"the others have episodes 0..{expected - 1}: the table is incomplete or damaged")
    contexts = table.groupby(run, dropna=False)[["sweep", "sweep_value"]].apply(
        lambda part: frozenset(zip(part["sweep"], part["sweep_value"])))
    full = max(contexts, key=len)
    partial = contexts[contexts.map(lambda found: found != full)]
    if len(partial):
        key, found = next(iter(partial.items()))
        method, seed = key[0], key[1]
        raise ConfigError(f"{where}: {method} seed {seed} was evaluated at {len(found)} contexts, the other runs at "
                          f"{len(full)}: the table is incomplete or damaged")


def read_evaluation(folder: str | Path, **read_csv_arguments) -> pd.DataFrame | None:
    """The evaluation table of ``folder`` (:func:`evaluation_file`, plain or gzipped), None where it has none.
    Read whole it is checked (:func:`read_evaluation_table`); ``read_csv_arguments`` (``usecols``, ``nrows``) read
    a part of it with :func:`pandas.read_csv`, unchecked."""
    path = evaluation_file(folder)
    if path is None:
        return None
    if read_csv_arguments:
        return pd.read_csv(path, **read_csv_arguments)
    return read_evaluation_table(path)


def write_evaluation(table: pd.DataFrame, folder: str | Path, compress: bool = False) -> Path:
    """Write ``table`` as ``folder/evaluation.csv``, or gzip-compressed as ``evaluation.csv.gz`` when ``compress``
    (byte-reproducible: no time stamp in the gzip header); the other name, left from an earlier write, is removed
    once the new file is complete.  Returns the path written."""
    name = EVALUATION_FILES[1] if compress else EVALUATION_FILES[0]
    path = Path(folder) / name
    partial = path.with_name(f".{name}.partial")
    table.to_csv(partial, index=False, compression=dict(method="gzip", mtime=0) if compress else None)
    partial.replace(path)
    (Path(folder) / EVALUATION_FILES[0 if compress else 1]).unlink(missing_ok=True)
    return path
