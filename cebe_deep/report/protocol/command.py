"""``cebe-deep report protocol FOLDER...`` and the ``<!-- report protocol ... -->`` block of a write-up: one function,
:func:`print_protocol`, for both (the command line checks its arguments, :mod:`cebe_deep.report.readme` resolves a
block's paths), so the table a write-up shows is the one the command prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from cebe_deep.errors import InputError
from cebe_deep.learn.eps import check_eps
from cebe_deep.report.protocol.figures import plot_performance_profiles, plot_verdicts
from cebe_deep.report.protocol.scores import BOOTSTRAP_RESAMPLES, EPS, ZERO_ACTION_FILE, read_zero_action
from cebe_deep.report.protocol.verdicts import (
    folder_inputs,
    folder_label,
    render_compact,
    render_markdown,
    task_scores,
    verdict_table,
    write_zero_action,
)

__all__ = ["print_protocol", "parse_dynamics", "block_arguments"]


def parse_dynamics(items: Sequence[str]) -> dict[str, str]:
    """``["PendulumGoal-gymnasium=gymnasium"]`` -> ``{"PendulumGoal-gymnasium": "gymnasium"}``; an item without a
    folder and a name is an :class:`~cebe_deep.errors.InputError`."""
    bad = [item for item in items if "=" not in item or not all(item.split("=", 1))]
    if bad:
        raise InputError(f"--dynamics {bad[0]!r}: expected FOLDER=NAME, e.g. PendulumGoal-gymnasium=gymnasium")
    return dict(item.split("=", 1) for item in items)


def print_protocol(folders: Sequence[str | Path], dynamics: dict[str, str] | None = None, csv: Path | None = None,
                   figures: Path | None = None, resamples: int = BOOTSTRAP_RESAMPLES,
                   write_missing: bool = False, compact: bool = False, eps: float = EPS,
                   reference: float | None = None, reruns: Path | None = None) -> None:
    """Print the verdict table of results/PROTOCOL.md for ``folders`` (markdown, :func:`render_markdown`).

    ``dynamics``: folder name -> the task variant its runs used, for a zero-action table that has to be simulated
    (a committed ``zero_action.csv`` names its own).  A folder without one is simulated (minutes for MuJoCo), and
    written there with ``write_missing``.  ``csv``: also write every column of :func:`verdict_table`; ``figures``:
    also draw ``figures/verdicts.png`` (the intervals) and ``figures/profiles.png`` (the performance profiles);
    ``compact``: print :func:`render_compact` (four columns) instead; ``eps``: the runs' CSE radius (the ball around c0
    that is not "away from c0"); ``reference``: U of a task without one (:func:`context_scale`); ``reruns``: a folder
    of re-runs (``results/reruns``): a folder's ``<name>-rerun`` there, where it re-ran every run, gives each row the
    re-run's claim status (:func:`~cebe_deep.report.protocol.verdicts.mark_reruns`)."""
    folders = [Path(folder) for folder in folders]
    dynamics = dynamics or {}
    missing = [folder for folder in folders if not folder.is_dir()]
    if missing:
        raise InputError(f"{missing[0]}: no such folder")
    for folder in folders:
        if read_zero_action(folder) is None:
            if write_missing:
                print(f"{write_zero_action(folder, dynamics.get(folder.name))}: written", file=sys.stderr)
            else:
                print(f"{folder}: no {ZERO_ACTION_FILE}, simulating the zero action (not written)", file=sys.stderr)
    if reruns is not None and not Path(reruns).is_dir():
        raise InputError(f"--reruns {reruns}: no such folder")
    table = verdict_table(folders, dynamics, resamples=resamples, eps=eps, reference=reference, reruns=reruns)
    if csv is not None:
        table.to_csv(csv, index=False)
    if figures is not None:
        figures = Path(figures)
        figures.mkdir(parents=True, exist_ok=True)
        plot_verdicts(table, figures / "verdicts.png")
        scores = {}
        for folder in folders:
            evaluation, zero, variant = folder_inputs(folder, dynamics, True)
            scores[folder_label(folder)] = task_scores(evaluation, zero, variant, eps, reference)
        plot_performance_profiles(scores, figures / "profiles.png")
    print((render_compact if compact else render_markdown)(table), end="")


def block_arguments(arguments: Sequence[str], base: Path) -> dict:
    """The keyword arguments of :func:`print_protocol` for a write-up's block ``<!-- report protocol ARGS -->``:
    folders, then optionally ``--dynamics FOLDER=NAME`` (repeatable), ``--figures FOLDER``, ``--compact``,
    ``--eps EPS`` (the runs' CSE radius, default the authors' 0.1) and ``--reruns FOLDER`` (the re-runs whose claim
    status each row shows, :func:`mark_reruns`); paths relative to ``base`` (the write-up's folder).

    >>> options = block_arguments(["authors/A", "--figures", "authors/figures", "--dynamics", "A=gymnasium"], Path("results"))
    >>> [str(folder) for folder in options["folders"]], options["dynamics"], str(options["figures"]), options["compact"]
    (['results/authors/A'], {'A': 'gymnasium'}, 'results/authors/figures', False)
    >>> block_arguments(["HalfCheetah-torso-mass", "--eps", "0.625"], Path("results/own-env"))["eps"], options["eps"]
    (0.625, 0.1)
    """
    parser = argparse.ArgumentParser(prog="<!-- report protocol", add_help=False, exit_on_error=False)
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--dynamics", action="append", default=[])
    parser.add_argument("--figures")
    parser.add_argument("--compact", action="store_true")
    parser.add_argument("--eps", type=float, default=EPS)
    parser.add_argument("--reruns")
    try:
        parsed = parser.parse_args(list(arguments))
    except (argparse.ArgumentError, SystemExit) as error:
        raise InputError(f"protocol block {' '.join(arguments)!r}: {error}; expected FOLDER... "
                         "[--dynamics FOLDER=NAME] [--figures FOLDER] [--compact] [--eps EPS] [--reruns FOLDER]") from None
    try:
        check_eps(parsed.eps, "--eps")
    except InputError as error:
        raise InputError(f"protocol block {' '.join(arguments)!r}: {error}") from None
    return dict(folders=[base / folder for folder in parsed.folders], dynamics=parse_dynamics(parsed.dynamics),
                figures=None if parsed.figures is None else base / parsed.figures, compact=parsed.compact,
                eps=parsed.eps, reruns=None if parsed.reruns is None else base / parsed.reruns)
