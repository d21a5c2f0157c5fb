"""``cebe-deep sweep --dry-run``: what a sweep would do with each of its runs, and how long the training would take."""

from __future__ import annotations

import argparse

from cebe_cli import UsageError

__all__ = ["plan_sweep", "time_to_train", "duration"]


def plan_sweep(args: argparse.Namespace, configs, episodes: int) -> int:
    """``sweep --dry-run``: one line per run (what the sweep would do with it), nothing written; exit 2 when a
    run directory holds another config (the sweep would fail that run)."""
    from cebe_deep.run.sweeps import Job, makespan, measured_steps_per_second, plan_run, run_dir_for, steps_to_train

    for path, flag in ((args.root, "--root"), (args.results, "--results")):
        if path is not None and path.exists() and not path.is_dir():
            raise UsageError(f"{flag} {path}: exists and is not a folder")
    spec = Job(configs[0], "", args.points, episodes, args.span, args.contexts).evaluation_spec()
    plans = [(config, run_dir_for(args.root, config), *plan_run(config, run_dir_for(args.root, config), spec))
             for config in configs]
    for _, run_dir, action, detail in plans:
        print(f"{action:9s} {run_dir}  ({detail})")
    counts = {action: sum(plan[2] == action for plan in plans) for action in dict.fromkeys(plan[2] for plan in plans)}
    remaining = [steps_to_train(config, run_dir) for config, run_dir, _, _ in plans]
    print(f"{len(plans)} runs: " + ", ".join(f"{count} {action}" for action, count in counts.items())
          + time_to_train(remaining, measured_steps_per_second(plan[1] for plan in plans), args.workers, makespan)
          + (f"; results to {args.results}" if args.results else ""))
    conflicts = [str(plan[1]) for plan in plans if plan[2] == "conflict"]
    if conflicts:
        raise UsageError(f"{len(conflicts)} run directories hold another config (first: {conflicts[0]}); "
                         "use another --root")
    return 0


def time_to_train(remaining: list[int], measured: tuple[float, int], workers: int, makespan) -> str:
    """``; N env steps to train, about T with W workers at R env steps/s per run (...)`` for a plan, or ``""``."""
    total = sum(remaining)
    if total == 0:
        return ""
    text = f"; {total:,} env steps to train"
    rate, finished = measured
    if finished == 0:
        return text + " (no finished run here to time them)"
    workers = max(1, min(workers, sum(1 for steps in remaining if steps)))
    return (f"{text}, about {duration(makespan([steps / rate for steps in remaining], workers))} with {workers} "
            f"worker{'s' if workers > 1 else ''} at {rate:.0f} env steps/s per run ("
            + (f"the median of the {finished} finished runs here" if finished > 1 else "the one finished run here")
            + "; evaluation not included)")


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
