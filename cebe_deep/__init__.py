"""cebe_deep: contextual control tasks, context sample enhancement (CSE) and domain randomization.

The subpackages are layers; each imports only the ones below it::

    cli/     command line: argument parsing, up-front checks, dispatch
    report/  statistics, curves, figures, the verdict tables and the open-question reports
    run/     configs and profiles, training, checkpoints, evaluation rollouts, sweeps, executors
    learn/   the CSE formula and buffers, prioritized replay, ContextSAC, importance weights, inexact
             Jacobians, domain randomization
    tasks/   the contextual environments and their Jacobians

``errors`` (the input-error type) sits below them all; ``experiment`` gathers the pipeline's public names in one
import; ``moved`` keeps the import paths of the earlier flat layout working.
"""

from cebe_deep import moved, tasks  # noqa: F401  (tasks registers the cebe/<Task>-v0 Gymnasium ids)

moved.install()
