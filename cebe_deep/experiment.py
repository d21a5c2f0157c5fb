"""One import for the whole experiment pipeline (train, evaluate, sweep, statistics).

Each job lives in its own module; this module only gathers their public names, so that
``from cebe_deep.experiment import train, evaluate, summarize`` keeps working:

- :mod:`cebe_deep.run.config`: :class:`TrainConfig`, the ``quick`` and ``authors`` profiles, validation;
- :mod:`cebe_deep.run.training`: environments, the SB3 learner, resumable training;
- :mod:`cebe_deep.run.evaluation`: context grids (sweeps, the authors' test contexts) and policy evaluation;
- :mod:`cebe_deep.report.statistics`: per-seed means, t-intervals, method comparisons;
- :mod:`cebe_deep.report.curves`: training curves from the runs' Monitor files;
- :mod:`cebe_deep.run.executors` and :mod:`cebe_deep.run.sweeps`: many runs in parallel, resumable.
"""

from cebe_deep.report.curves import curve_summary, training_curves, window_summary  # noqa: F401
from cebe_deep.report.statistics import compare_methods, headline, per_seed_returns, summarize, t_interval  # noqa: F401
from cebe_deep.run.config import (  # noqa: F401
                              AUTHORS_ITERATIONS,
                              ENV_STEPS_PER_ITERATION,
                              INITS,
                              METHODS,
                              PROFILES,
                              REPLAYS,
                              ConfigError,
                              TrainConfig,
                              check_context,
                              make_config,
                              make_task_env,
                              validate_config,
)
from cebe_deep.run.evaluation import (  # noqa: F401
                              ANGLE_SWEEP_TASKS,
                              SWEEP_RANGES,
                              authors_grid,
                              context_grid,
                              evaluate,
                              evaluate_policy_at_context,
                              evaluation_grid,
                              listed_grid,
                              parse_contexts,
)
from cebe_deep.run.executors import BACKENDS, LocalExecutor, RayExecutor, SerialExecutor, make_executor  # noqa: F401
from cebe_deep.run.sweeps import Job, JobResult, collect, run_dir_for, run_job, sweep  # noqa: F401
from cebe_deep.run.training import (  # noqa: F401
                              TrainResult,
                              episode_log,
                              is_trained,
                              load_model,
                              make_model,
                              make_training_env,
                              make_vec_training_env,
                              save_checkpoint,
                              train,
)
