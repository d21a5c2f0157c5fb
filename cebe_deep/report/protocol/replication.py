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
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cebe_deep.errors import InputError
from cebe_deep.report.protocol.inference import compare_paired, holm
from cebe_deep.report.protocol.scores import COMPARISONS, EPS, LEVEL, MARGIN, ZERO_ACTION_FILE, read_zero_action
from cebe_deep.report.protocol.verdicts import (
    TaskScores,
    folder_inputs,
    folder_label,
    paired_away,
    signed_interval,
    task_scores,
)

__all__ = ["per_seed_differences", "replication_table", "render_replication", "spread_table", "render_spread",
           "print_replication", "pooled_table", "render_pooled", "print_pooled"]


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


def _shared_differences(normalized: Sequence[TaskScores], candidate: str,
                        other: str) -> tuple[set, list[pd.Series]]:
    """The keys of the contexts away from c0 where every table of ``normalized`` has both methods for every paired
    seed, and each table's per-seed differences ``candidate - other`` over them (:func:`_differences`)."""
    away = [paired_away(scores, candidate, other) for scores in normalized]
    keys = set.intersection(*(set(scores.contexts.loc[found[4], "key"]) for scores, found in zip(normalized, away)))
    return keys, [_differences(scores, found, keys) for scores, found in zip(normalized, away)]


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
        normalized = _pair_scores(table_folder, rerun_folder, eps)
        original, rerun = normalized
        for candidate, other in COMPARISONS:
            if not all(method in scores.scores for scores in normalized for method in (candidate, other)):
                continue
            keys, (first, second) = _shared_differences(normalized, candidate, other)
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


def _one_task_scores(folders: Sequence[Path], mismatch: Callable[[list[str]], str], eps: float) -> list[TaskScores]:
    """The normalized scores of ``folders``, which must hold runs of one task: otherwise an :class:`InputError` of
    ``mismatch(tasks)`` (each folder's task names), raised before any folder is scored (two tasks' contexts need
    not even have one length)."""
    inputs = [folder_inputs(folder, None, False) for folder in folders]
    tasks = [", ".join(sorted(map(str, evaluation["task"].unique()))) for evaluation, _, _ in inputs]
    if len(set(tasks)) > 1:
        raise InputError(mismatch(tasks))
    return [task_scores(evaluation, zero, variant, eps) for evaluation, zero, variant in inputs]


def _pair_scores(table_folder: str | Path, rerun_folder: str | Path, eps: float) -> list[TaskScores]:
    """The normalized scores of a table and of its re-run; two tasks are an :class:`InputError`."""
    return _one_task_scores([Path(table_folder), Path(rerun_folder)],
                            lambda tasks: f"{rerun_folder}: a re-run of {tasks[1]}, not of {table_folder}'s {tasks[0]}",
                            eps)


def spread_table(pairs: Sequence[tuple[str | Path, str | Path]], eps: float = EPS) -> pd.DataFrame:
    """How much the seeds of a table and of its re-run spread: exploratory, not part of results/PROTOCOL.md.

    One row per (table, re-run) pair and per quantity both hold: each method's per-seed score (the mean normalized
    score over the contexts away from c0 that both tables have a score at for every seed of the method) and each
    comparison's per-seed difference :math:`d_s` (as :func:`replication_table`).  Columns: ``table``, ``rerun``,
    ``task``, ``quantity`` (``cse``, ``cse - baseline``, ...), ``seeds_table``, ``seeds_rerun``, ``contexts``, the
    standard deviations over seeds (``sd_table``, ``sd_rerun``, ddof 1), the ranges (``min_table``, ``max_table``,
    ``min_rerun``, ``max_rerun``), ``levene_p`` (Brown and Forsythe's median-centred Levene test of equal spread,
    :func:`scipy.stats.levene`'s default; no multiplicity adjustment: not a verdict) and ``correlation`` (Pearson's,
    over the seeds both tables have, of the same seed's value in each; NaN with fewer than 3 such seeds)."""
    rows = []
    for table_folder, rerun_folder in pairs:
        normalized = _pair_scores(table_folder, rerun_folder, eps)
        quantities: list[tuple[str, list[pd.Series]]] = []
        methods = [method for method in normalized[0].scores if all(method in scores.scores for scores in normalized)]
        for method in methods:
            frames = [scores.scores[method] for scores in normalized]
            keys = set.intersection(*(set(scores.contexts.loc[scores.contexts["away"].to_numpy()
                                                              & frame.notna().all(axis=0).to_numpy(), "key"])
                                      for scores, frame in zip(normalized, frames)))
            quantities.append((method, [frame.loc[:, scores.contexts["key"].isin(keys).to_numpy()].mean(axis=1)
                                        for scores, frame in zip(normalized, frames)] if keys else []))
        for candidate, other in COMPARISONS:
            if not (candidate in methods and other in methods):
                continue
            keys, differences = _shared_differences(normalized, candidate, other)
            quantities.append((f"{candidate} - {other}", differences if keys else []))
        for quantity, (first, second) in ((name, values) for name, values in quantities if values):
            if len(first) < 2 or len(second) < 2:
                continue
            shared = sorted(set(first.index) & set(second.index))
            correlation = (float(np.corrcoef(first.loc[shared], second.loc[shared])[0, 1]) if len(shared) >= 3
                           else float("nan"))
            rows.append(dict(table=folder_label(Path(table_folder)), rerun=folder_label(Path(rerun_folder)),
                             task=normalized[0].task, quantity=quantity, seeds_table=len(first),
                             seeds_rerun=len(second), contexts=len(keys), sd_table=float(first.std(ddof=1)),
                             sd_rerun=float(second.std(ddof=1)), min_table=float(first.min()),
                             max_table=float(first.max()), min_rerun=float(second.min()),
                             max_rerun=float(second.max()), levene_p=float(stats.levene(first, second).pvalue),
                             correlation=correlation))
    return pd.DataFrame(rows)


def render_spread(table: pd.DataFrame) -> str:
    """The markdown of :func:`spread_table`, with a caption saying what each column is and that it is exploratory."""
    if table.empty:
        return "no method is held by both folders of a pair\n"
    lines = ["| table | per-seed | seeds | sd over seeds: table's, re-run's | range: table's; re-run's | Levene p | "
             "same seed's correlation |", "|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        correlation = "" if np.isnan(row.correlation) else f"{row.correlation:+.2f}"
        lines.append(f"| {row.table} | {_comparison_name(row.task, row.quantity)} | {row.seeds_table} / {row.seeds_rerun} | "
                     f"{row.sd_table:.3f}, {row.sd_rerun:.3f} | {row.min_table:+.3f} to {row.max_table:+.3f}; "
                     f"{row.min_rerun:+.3f} to {row.max_rerun:+.3f} | {row.levene_p:.3f} | {correlation} |")
    caption = ("Exploratory, not part of results/PROTOCOL.md and not a verdict: how much the seeds of a table and of "
               "its re-run spread.  Per seed, a method's mean normalized score over the contexts away from c0 "
               "that both tables have (a comparison's row: its per-seed difference, paired by seed as in the primary "
               "endpoint); the "
               "standard deviation over seeds (ddof 1) and the range in each table; Brown and Forsythe's "
               "median-centred Levene test of equal spread (two-sided p, no multiplicity adjustment); and Pearson's "
               "correlation, over the seeds both tables have, of a seed's value in the table and in its re-run "
               "(near 0: the same seed number gives an unrelated run).  Runs identical in both tables (runs.csv: "
               "`identical`) are in both samples, so neither test nor correlation is of independent runs there.")
    return "\n".join(lines) + "\n\n" + caption + "\n"


def pooled_table(folders: Sequence[str | Path], level: float = LEVEL, eps: float = EPS,
                 margin: float = MARGIN) -> pd.DataFrame:
    """Several samples of one task's runs pooled (results/PROTOCOL.md, section 9: a secondary analysis, never a
    verdict of its own): per comparison every folder's per-seed differences :math:`d_s` (paired by seed within its
    folder, over the contexts away from c0 that every folder has), all taken as independent pairs, with one
    Student-t interval and the protocol's word.  Columns: ``task``, ``comparison``, ``folders`` (their
    :func:`folder_label`), ``pairs`` (per folder), ``pairs_total``, ``contexts``, ``difference``, ``ci_low``,
    ``ci_high``, ``word``.  Folders of different tasks are an :class:`InputError`."""
    folders = [Path(folder) for folder in folders]
    normalized = _one_task_scores(
        folders, lambda tasks: f"{', '.join(map(str, folders))}: runs of {', '.join(sorted(set(tasks)))}; pool one "
                               "task's folders", eps)
    rows = []
    for candidate, other in COMPARISONS:
        if not all(method in scores.scores for scores in normalized for method in (candidate, other)):
            continue
        keys, differences = _shared_differences(normalized, candidate, other)
        if not keys:
            continue
        values = np.concatenate([series.to_numpy() for series in differences])
        result = compare_paired(values[:, None], np.zeros((values.size, 1)), margin, level)
        rows.append(dict(task=normalized[0].task, comparison=f"{candidate} - {other}",
                         folders=", ".join(folder_label(folder) for folder in folders),
                         pairs=" + ".join(str(len(series)) for series in differences), pairs_total=int(values.size),
                         contexts=len(keys), difference=result["difference"], ci_low=result["ci_low"],
                         ci_high=result["ci_high"], word=result["word"]))
    return pd.DataFrame(rows)


def render_pooled(table: pd.DataFrame, level: float = LEVEL, margin: float = MARGIN) -> str:
    """The markdown of :func:`pooled_table`, with its caption."""
    if table.empty:
        return "no comparison is held by every folder\n"
    lines = [f"| task | comparison | pairs | pooled, {100 * level:g}% |", "|---|---|---|---|"]
    for row in table.itertuples():
        lines.append(f"| {row.task} | {_comparison_name(row.task, row.comparison)} | {row.pairs} = {row.pairs_total} | "
                     f"{signed_interval(row.difference, row.ci_low, row.ci_high)} **{row.word}** |")
    caption = (f"Secondary, never a verdict (results/PROTOCOL.md, section 9): the per-seed differences of "
               f"{table['folders'].iloc[0]} (each paired by seed within its own table, over the {table['contexts'].iloc[0]} "
               f"contexts away from c0 that all of them have) pooled as independent pairs, one Student-t interval; "
               f"the words as the protocol's (margin +-{margin:g}).")
    return "\n".join(lines) + "\n\n" + caption + "\n"


def _check_scored(folders: Sequence[Path]) -> None:
    """An :class:`InputError` for the first folder that is missing or has no zero_action.csv."""
    missing = [folder for folder in folders if not folder.is_dir()]
    if missing:
        raise InputError(f"{missing[0]}: no such folder")
    unscored = [folder for folder in folders if read_zero_action(folder) is None]
    if unscored:
        raise InputError(f"{unscored[0]}: no {ZERO_ACTION_FILE}; write it first with `cebe-deep report protocol "
                         f"{unscored[0]} --write-zero-action`")


def print_pooled(folders: Sequence[str | Path], level: float = LEVEL, eps: float = EPS) -> None:
    """Print :func:`render_pooled` for ``folders`` (each with its zero_action.csv)."""
    folders = [Path(folder) for folder in folders]
    _check_scored(folders)
    print(render_pooled(pooled_table(folders, level, eps), level), end="")


def _comparison_name(task: str, comparison: str) -> str:
    """``cse - baseline`` as the figures name it: CSE - SAC, or CSE - DQN for a task with discrete actions (a lone
    method likewise: SAC, CSE, LDR)."""
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


def print_replication(folders: Sequence[str | Path], level: float = LEVEL, eps: float = EPS,
                      spread: bool = False) -> None:
    """Print :func:`render_replication` for ``folders`` read as pairs: TABLE RERUN [TABLE RERUN ...];
    ``spread``: :func:`render_spread` instead."""
    folders = [Path(folder) for folder in folders]
    if not folders or len(folders) % 2:
        raise InputError(f"{len(folders)} folders: expected pairs, TABLE RERUN [TABLE RERUN ...]")
    _check_scored(folders)
    pairs = list(zip(folders[::2], folders[1::2]))
    if spread:
        print(render_spread(spread_table(pairs, eps)), end="")
    else:
        print(render_replication(replication_table(pairs, level, eps), level), end="")
