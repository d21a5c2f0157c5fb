r"""Does a verdict's size survive a re-run?  The protocol's primary endpoint of a table and of its re-run set side by
side, with the interval of their difference.

A re-run trains every run of a table again with the same commit, command and seeds; on another machine each run
comes out different (results/README.md, "Bit for bit only on the same machine"), so the re-run is an independent
replication of the experiment.  For a comparison (CSE - SAC, CSE - LDR) each table gives per-seed differences
:math:`d_s` (the primary endpoint of results/PROTOCOL.md: the mean over the contexts away from c0 of the normalized
score difference, paired by seed); the replication's statistic is

.. math::  \bar d_{\text{re-run}} - \bar d_{\text{table}},

with Welch's unequal-variance t-interval (the two tables' runs are different runs, not pairs), its two-sided
p-value, and Holm's adjustment over every comparison printed together (one table of re-runs is one family).
*differs* means the Holm-adjusted p-value is below 1 - level; otherwise the sizes are *not shown to differ*, which is
not a proof that they agree: the interval says how large a difference the data leave open.  Both tables use the
contexts away from c0 that both have data at.  Where some runs of the re-run are identical to the table's (the
same machine trained both; ``runs.csv`` says ``identical``), the two samples share those values and are not
independent: the Welch interval then overstates the difference's spread, so it errs towards *not shown to differ*.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cebe_deep.errors import InputError
from cebe_deep.report.protocol.inference import holm
from cebe_deep.report.protocol.scores import COMPARISONS, EPS, LEVEL, ZERO_ACTION_FILE, read_zero_action
from cebe_deep.report.protocol.verdicts import (
    TaskScores,
    folder_inputs,
    folder_label,
    paired_away,
    signed_interval,
    task_scores,
)

__all__ = ["per_seed_differences", "replication_table", "render_replication", "print_replication"]


def per_seed_differences(normalized: TaskScores, candidate: str, other: str,
                         keys: set | None = None) -> pd.Series:
    """The protocol's per-seed primary differences :math:`d_s` of ``candidate - other`` (indexed by the paired
    seeds), over its contexts (:func:`~cebe_deep.report.protocol.verdicts.paired_away`), restricted to those whose
    key is in ``keys`` when given."""
    return _differences(normalized, paired_away(normalized, candidate, other), keys)


def _differences(normalized: TaskScores, away: tuple, keys: set | None) -> pd.Series:
    paired, _, first, second, usable = away
    if keys is not None:
        usable = usable & normalized.contexts["key"].isin(keys).to_numpy()
    return pd.Series((first[:, usable] - second[:, usable]).mean(axis=1), index=paired)


def replication_table(pairs: Sequence[tuple[str | Path, str | Path]], level: float = LEVEL,
                      eps: float = EPS) -> pd.DataFrame:
    """One row per (table, re-run) pair of results folders and comparison both hold: ``table``, ``rerun`` (their
    :func:`folder_label`), ``task``, ``comparison``, ``seeds_table``, ``seeds_rerun``, ``contexts`` (away from c0,
    used by both), the two primary endpoints (``table_difference``, ``rerun_difference``), ``change`` (re-run minus
    table) with Welch's interval ``change_low``, ``change_high``, ``p`` and ``holm_p`` (over all rows), and ``word``
    (``differs`` / ``not shown to differ`` at ``level``).  Each folder needs its zero_action.csv (``cebe-deep report
    protocol FOLDER --write-zero-action``); two folders of different tasks are an :class:`InputError`."""
    rows = []
    for table_folder, rerun_folder in pairs:
        normalized = []
        for folder in (Path(table_folder), Path(rerun_folder)):
            evaluation, zero, variant = folder_inputs(folder, None, False)
            normalized.append(task_scores(evaluation, zero, variant, eps))
        original, rerun = normalized
        if original.task != rerun.task:
            raise InputError(f"{rerun_folder}: a re-run of {rerun.task}, not of {table_folder}'s {original.task}")
        for candidate, other in COMPARISONS:
            if not all(method in scores.scores for scores in normalized for method in (candidate, other)):
                continue
            away = [paired_away(scores, candidate, other) for scores in normalized]
            keys = set.intersection(*(set(scores.contexts.loc[found[4], "key"])
                                      for scores, found in zip(normalized, away)))
            first, second = (_differences(scores, found, keys) for scores, found in zip(normalized, away))
            if len(first) < 2 or len(second) < 2 or not keys:
                continue
            test = stats.ttest_ind(second.to_numpy(), first.to_numpy(), equal_var=False)
            interval = test.confidence_interval(level)
            rows.append(dict(table=folder_label(Path(table_folder)), rerun=folder_label(Path(rerun_folder)),
                             task=original.task, comparison=f"{candidate} - {other}", seeds_table=len(first),
                             seeds_rerun=len(second), contexts=len(keys), table_difference=float(first.mean()),
                             rerun_difference=float(second.mean()), change=float(second.mean() - first.mean()),
                             change_low=float(interval.low), change_high=float(interval.high),
                             p=float(test.pvalue)))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["holm_p"] = holm(table["p"].to_numpy())
    table["word"] = np.where(table["holm_p"] < 1 - level, "differs", "not shown to differ")
    return table


def _comparison_name(task: str, comparison: str) -> str:
    """``cse - baseline`` as the figures name it: CSE - SAC, or CSE - DQN for a task with discrete actions."""
    from cebe_deep.report.plots import learner_name

    return comparison.replace("baseline", learner_name(task)).upper()


def render_replication(table: pd.DataFrame, level: float = LEVEL) -> str:
    """The markdown of :func:`replication_table`, with a caption saying what each column is."""
    if table.empty:
        return "no comparison is held by both folders of a pair\n"
    percent = f"{100 * level:g}%"
    reruns = list(dict.fromkeys(table["rerun"]))
    lines = [f"| table | comparison | seeds | table's, re-run's | re-run - table, {percent} | p (Holm) |",
             "|---|---|---|---|---|---|"]
    for row in table.itertuples():
        flag = " **differs**" if row.word == "differs" else ""
        lines.append(f"| {row.table} | {_comparison_name(row.task, row.comparison)} | "
                     f"{row.seeds_table} / {row.seeds_rerun} | {row.table_difference:+.3f}, {row.rerun_difference:+.3f} | "
                     f"{signed_interval(row.change, row.change_low, row.change_high)}{flag} | "
                     f"{row.p:.3f} ({row.holm_p:.3f}) |")
    caption = (f"The primary endpoint (mean normalized score of CSE minus the other method over the contexts away from "
               f"c0 that both tables have, paired by seed) of a table and of its re-run ({', '.join(reruns)}), and "
               f"the re-run's minus the "
               f"table's: Welch's {percent} t-interval (different runs, not pairs), its p-value and Holm's over the "
               f"{len(table)} row{'s' if len(table) != 1 else ''} here; **differs** where Holm's is below {1 - level:g} "
               f"(elsewhere the sizes are not shown to differ).  "
               f"Runs identical in both tables (runs.csv: `identical`) make the interval wider than it need be.")
    return "\n".join(lines) + "\n\n" + caption + "\n"


def print_replication(folders: Sequence[str | Path], level: float = LEVEL, eps: float = EPS) -> None:
    """Print :func:`render_replication` for ``folders`` read as pairs: TABLE RERUN [TABLE RERUN ...]."""
    folders = [Path(folder) for folder in folders]
    if not folders or len(folders) % 2:
        raise InputError(f"{len(folders)} folders: expected pairs, TABLE RERUN [TABLE RERUN ...]")
    missing = [folder for folder in folders if not folder.is_dir()]
    if missing:
        raise InputError(f"{missing[0]}: no such folder")
    unscored = [folder for folder in folders if read_zero_action(folder) is None]
    if unscored:
        raise InputError(f"{unscored[0]}: no {ZERO_ACTION_FILE}; write it first with `cebe-deep report protocol "
                         f"{unscored[0]} --write-zero-action`")
    print(render_replication(replication_table(list(zip(folders[::2], folders[1::2])), level, eps), level), end="")
