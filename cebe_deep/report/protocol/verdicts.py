"""The one function that applies the protocol to a task (:func:`task_verdicts`), the verdict table of results
folders and its markdown."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from cebe_deep.errors import InputError
from cebe_deep.report.protocol.inference import (
    claim_status,
    compare_paired,
    iqm,
    iqm_difference,
    paired_bootstrap_interval,
    per_context_tests,
    probability_of_improvement,
    seeds_for_difference,
    verdict_word,
)
from cebe_deep.report.protocol.scores import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CLAIMS,
    COMPARISONS,
    EPS,
    LEVEL,
    MARGIN,
    PAPER_SEEDS,
    ZERO_ACTION_FILE,
    context_columns,
    context_keys,
    context_scale,
    distinct_contexts,
    lookup_zero,
    read_zero_action,
    seed_scores,
    task_and_c0,
    zero_action_table,
)
from cebe_deep.report.statistics import compare_methods, summarize, verdict


# ------------------------------------------------------------------------------------------- the one function
def _old_rule(table: pd.DataFrame, c0: np.ndarray, eps: float) -> dict:
    """The verdict of the earlier per-context rule (:func:`cebe_deep.report.statistics.verdict`): claim -> status."""
    comparison = compare_methods(summarize(table), c0, eps, table=table)
    result = verdict(comparison)
    return {"baseline": result.get("beats_baseline", "no data"), "ldr": result.get("matches_ldr", "no data")}


def _holm_claim(words: np.ndarray, claim: str) -> str:
    if words.size == 0:
        return "no data"
    count = {word: int((words == word).sum()) for word in ("beats", "matches", "worse")}
    half = words.size / 2
    if claim == "beats":
        if count["beats"] >= half and count["worse"] == 0:
            return "reproduced"
        return "not reproduced" if count["beats"] == 0 else "inconclusive"
    if count["worse"] == 0 and count["beats"] + count["matches"] >= half:
        return "reproduced"
    return "not reproduced" if count["worse"] >= half else "inconclusive"


@dataclass(frozen=True)
class TaskScores:
    """One task's normalized scores (results/PROTOCOL.md, section 3): ``contexts`` (:func:`distinct_contexts`),
    ``scores`` (method -> seed x context frame, :func:`seed_scores`), ``scale`` (S(c) per context, return units per
    normalized unit) and where the scale comes from."""

    task: str
    c0: np.ndarray
    contexts: pd.DataFrame
    scores: dict[str, pd.DataFrame]
    scale: np.ndarray
    scale_source: str

    def away(self, method: str) -> np.ndarray:
        """``method``'s scores at the contexts away from c0, (seeds x contexts), contexts a seed lacks dropped."""
        frame = self.scores[method].loc[:, self.contexts["away"].to_numpy()]
        return frame.dropna(axis=1).to_numpy()


def task_scores(table: pd.DataFrame, zero: pd.DataFrame | None = None, dynamics: str | None = None,
                eps: float = EPS, reference: float | None = None) -> TaskScores:
    """The normalized scores of one task's evaluation table.  ``zero``: the all-zero action's returns
    (:func:`zero_action_table`: rows of the runs' ``dynamics`` at every context, ``"default"`` at c0); None
    simulates them (minutes for the MuJoCo tasks).  ``reference``: U for a task without one in
    :data:`REFERENCES` (:func:`context_scale`)."""
    task, c0 = task_and_c0(table)
    contexts = distinct_contexts(table, c0, eps)
    coordinates = contexts[context_columns(contexts)].to_numpy(np.float64)
    name = dynamics or "default"
    if zero is None:
        zero = zero_action_table(task, coordinates, dynamics)
        if name != "default":
            zero = pd.concat([zero, zero_action_table(task, c0[None], None)], ignore_index=True)
    zero_returns = lookup_zero(zero, list(contexts["key"]), name)
    zero_at_c0 = float(lookup_zero(zero, context_keys(c0[None]), "default")[0])
    scale, source = context_scale(task, coordinates, zero_returns, zero_at_c0, reference=reference)
    return TaskScores(task, c0, contexts, seed_scores(table, contexts, zero_returns, scale), scale, source)


def paired_away(normalized: TaskScores, candidate: str, other: str
                ) -> tuple[list, list, np.ndarray, np.ndarray, np.ndarray]:
    """The seeds both methods have (``paired``) and those only one has (``unpaired``), the two methods' scores of the
    paired seeds (seeds x contexts), and ``usable``: the contexts away from c0 where both have a score for every
    paired seed (the primary endpoint's contexts)."""
    mine, theirs = normalized.scores[candidate], normalized.scores[other]
    paired = sorted(set(mine.index) & set(theirs.index))
    unpaired = sorted(set(mine.index) ^ set(theirs.index))
    first, second = mine.loc[paired].to_numpy(), theirs.loc[paired].to_numpy()
    usable = normalized.contexts["away"].to_numpy() & ~np.isnan(first).any(axis=0) & ~np.isnan(second).any(axis=0)
    return paired, unpaired, first, second, usable


def task_verdicts(table: pd.DataFrame, zero: pd.DataFrame | None = None, dynamics: str | None = None,
                  margin: float = MARGIN, eps: float = EPS, level: float = LEVEL,
                  resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED, old_rule: bool = True,
                  reference: float | None = None) -> pd.DataFrame:
    """The protocol of results/PROTOCOL.md applied to one task's evaluation table: one row per comparison of
    :data:`COMPARISONS` whose two methods the table holds.

    ``zero``, ``dynamics`` and ``reference``: as :func:`task_scores`.  ``old_rule=False`` skips the earlier
    per-context rule (it needs the whole table twice more).

    Columns: task, comparison, claim, seeds_candidate, seeds_other, paired_seeds, paired (those seeds, as
    ``"0 1 2"``), unpaired (seeds left out),
    fewer_than_paper, contexts_away, authors_away, scale (return units per normalized unit; NaN where it varies
    by context), margin, margin_return (the margin in return units, NaN where it varies), the primary
    (difference, ci_low, ci_high, word, claim_status), the words at margin / 2 and 2 margin, the levels
    (mean_candidate, mean_other, iqm_candidate, iqm_other), iqm_difference with iqm_low / iqm_high / iqm_status,
    poi with poi_low / poi_high, the per-context Holm counts (holm_beats, holm_matches, holm_worse,
    holm_inconclusive) and holm_status, the authors'-contexts-only primary (authors_difference, authors_low,
    authors_high, authors_status; "not computed" for a table without the authors' test contexts), the primary on
    the away contexts where some method's mean score is above 0, i.e. beats the all-zero action (learned_away,
    learned_difference, learned_low, learned_high, learned_status),
    old_status (the earlier rule), sd (of the per-seed differences), detectable (the
    80%-power detectable difference) and seeds_for_margin (the paired seeds at which it would be the margin).
    """
    normalized = task_scores(table, zero, dynamics, eps, reference)
    task, c0, contexts, scores = normalized.task, normalized.c0, normalized.contexts, normalized.scores
    constant_scale = float(normalized.scale[0]) if np.ptp(normalized.scale) == 0 else float("nan")
    old = _old_rule(table, c0, eps) if old_rule else {}
    # a context where some method's mean (over its seeds) beats the all-zero action: there an agent learned the task
    learned = (np.stack([frame.mean(axis=0).to_numpy() for frame in scores.values()]) > 0).any(axis=0)  # NaN: False
    rows = []
    for candidate, other in COMPARISONS:
        if candidate not in scores or other not in scores:
            continue
        claim = CLAIMS[other]
        mine, theirs = scores[candidate], scores[other]
        paired, unpaired, first, second, usable = paired_away(normalized, candidate, other)
        authors = usable & contexts["authors"].to_numpy()
        x, y = first[:, usable], second[:, usable]
        primary = compare_paired(x, y, margin, level)
        none = dict(difference=float("nan"), ci_low=float("nan"), ci_high=float("nan"), word="no data")
        authors_primary = compare_paired(first[:, authors], second[:, authors], margin, level) if authors.any() else none
        learned_primary = compare_paired(first[:, usable & learned], second[:, usable & learned], margin, level) \
            if (usable & learned).any() else none
        row = dict(task=task, comparison=f"{candidate} - {other}", claim=claim, seeds_candidate=len(mine),
                   seeds_other=len(theirs), paired_seeds=len(paired), paired=" ".join(map(str, paired)),
                   unpaired=" ".join(map(str, unpaired)),
                   fewer_than_paper=len(paired) < PAPER_SEEDS, contexts_away=int(usable.sum()),
                   authors_away=int(authors.sum()), scale=constant_scale, margin=margin,
                   margin_return=margin * constant_scale,
                   difference=primary["difference"], ci_low=primary["ci_low"], ci_high=primary["ci_high"],
                   word=primary["word"], claim_status=claim_status(primary["word"], claim),
                   word_half_margin=verdict_word(primary["ci_low"], primary["ci_high"], margin / 2),
                   word_double_margin=verdict_word(primary["ci_low"], primary["ci_high"], 2 * margin))
        if len(paired) >= 1 and usable.any():
            row.update(mean_candidate=float(x.mean()), mean_other=float(y.mean()), iqm_candidate=float(iqm(x)),
                       iqm_other=float(iqm(y)))
            difference, low, high = paired_bootstrap_interval(iqm_difference, x, y, level, resamples, seed)
            row.update(iqm_difference=difference, iqm_low=low, iqm_high=high,
                       iqm_status=claim_status(verdict_word(low, high, margin), claim))
            row.update(zip(("poi", "poi_low", "poi_high"),
                           paired_bootstrap_interval(probability_of_improvement, x, y, level, resamples, seed)))
        if len(paired) >= 2 and usable.any():
            words = per_context_tests(x - y, margin, level)["word"].to_numpy()
            row.update({f"holm_{word}": int((words == word).sum()) for word in ("beats", "matches", "worse", "inconclusive")})
            row["holm_status"] = _holm_claim(words, claim)
        else:
            row["holm_status"] = "no data"
        row.update(authors_difference=authors_primary["difference"], authors_low=authors_primary["ci_low"],
                   authors_high=authors_primary["ci_high"], authors_status=claim_status(authors_primary["word"], claim)
                   if contexts["authors"].any() else "not computed")  # a task the authors did not test (an own task)
        row.update(learned_away=int((usable & learned).sum()), learned_difference=learned_primary["difference"],
                   learned_low=learned_primary["ci_low"], learned_high=learned_primary["ci_high"],
                   learned_status=claim_status(learned_primary["word"], claim))
        row["old_status"] = old.get(other, "not computed")
        row.update(sd=primary["sd"], detectable=primary["detectable"],
                   seeds_for_margin=seeds_for_difference(primary["sd"], margin, level) if len(paired) >= 2 else None)
        rows.append(row)
    return pd.DataFrame(rows)


def folder_inputs(folder: Path, dynamics: dict[str, str] | None,
                   simulate_missing: bool) -> tuple[pd.DataFrame, pd.DataFrame | None, str | None]:
    """A results folder's evaluation table, its zero-action table (None: to be simulated) and its runs' dynamics."""
    from cebe_deep.run.evaluation import read_evaluation

    table = read_evaluation(folder)
    if table is None:
        raise ValueError(f"{folder}: no evaluation.csv or evaluation.csv.gz")
    zero = read_zero_action(folder)
    variant = (dynamics or {}).get(folder.name)
    if zero is not None:
        names = set(zero["dynamics"]) - {"default"}
        variant = names.pop() if names else None
    elif not simulate_missing:
        raise ValueError(f"{folder}: no {ZERO_ACTION_FILE}")
    return table, zero, variant


def folder_label(folder: Path) -> str:
    """A results folder's name in the verdict table: its own name, except a task's ``first-seeds/`` (the table of its
    first seeds, kept when later seeds were merged in), which is named with its task.

    >>> folder_label(Path("results/authors/PendulumGoal")), folder_label(Path("results/authors/AntDirection/first-seeds"))
    ('PendulumGoal', 'AntDirection/first-seeds')
    """
    return f"{folder.parent.name}/{folder.name}" if folder.name == "first-seeds" else folder.name


RERUN_SUFFIX = "-rerun"


def verdict_table(folders: Sequence[str | Path], dynamics: dict[str, str] | None = None,
                  simulate_missing: bool = True, reruns: str | Path | None = None, **options) -> pd.DataFrame:
    """:func:`task_verdicts` of every results folder (its evaluation.csv or .gz and its zero_action.csv), with a
    column ``folder`` (:func:`folder_label`) first.  ``dynamics``: folder name -> the task variant its runs used
    (for a zero-action table that has to be simulated).  A folder without a zero-action table is simulated when
    ``simulate_missing``, an error otherwise.  ``reruns``: a folder of re-runs (``results/reruns``); a folder's
    ``<name>-rerun`` there (with its own zero_action.csv) gives its rows the re-run's claim status
    (:func:`mark_reruns`)."""
    seen: dict[str, Path] = {}
    for folder in map(Path, folders):
        if folder_label(folder) in seen:
            raise InputError(f"{seen[folder_label(folder)]} and {folder}: both are named {folder_label(folder)!r} in the "
                             "verdict table; give one of them another folder name")
        seen[folder_label(folder)] = folder
    frames = []
    for folder in map(Path, folders):
        table, zero, variant = folder_inputs(folder, dynamics, simulate_missing)
        frame = task_verdicts(table, zero, dynamics=variant, **options)
        frames.append(frame.assign(folder=folder_label(folder))[["folder", *frame.columns]])
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if reruns is None:
        return table
    found = [Path(reruns) / f"{Path(folder).name}{RERUN_SUFFIX}" for folder in folders]
    options = {**options, "old_rule": False}  # only the re-run's claim status is shown
    return mark_reruns(table, verdict_table([folder for folder in found if folder.is_dir()], dynamics, False,
                                            **options))


def mark_reruns(table: pd.DataFrame, reruns: pd.DataFrame) -> pd.DataFrame:
    """``table`` (of :func:`verdict_table`) with the claim status of each row's re-run: where ``reruns`` holds the
    folder ``<folder>-rerun`` (``results/reruns/``, results/PROTOCOL.md section 8) with the same comparison over the
    same paired seeds (a re-run of every run of the row), the columns ``rerun_difference``, ``rerun_low``,
    ``rerun_high`` and ``rerun_status`` are its; elsewhere ``rerun_status`` is ``"not computed"``.  A re-run of
    fewer seeds (the first seeds of a task whose later seeds were merged in) marks nothing here: it is set beside
    its own table (``first-seeds/``)."""
    index = {(row["folder"], row["comparison"], row["paired"]): row for row in reruns.to_dict("records")}
    marked = table.copy()
    columns = {"rerun_difference": "difference", "rerun_low": "ci_low", "rerun_high": "ci_high",
               "rerun_status": "claim_status"}
    found = [index.get((f"{row.folder}{RERUN_SUFFIX}", row.comparison, row.paired)) for row in table.itertuples()]
    for column, source in columns.items():
        default = "not computed" if column == "rerun_status" else float("nan")
        marked[column] = [default if rerun is None else rerun[source] for rerun in found]
    return marked


def write_zero_action(folder: str | Path, dynamics: str | None = None) -> Path:
    """Simulate and write ``folder/zero_action.csv`` for every distinct context of its evaluation table (with
    ``dynamics``), plus c0 with the task's default dynamics where ``dynamics`` is another."""
    from cebe_deep.run.evaluation import read_evaluation

    table = read_evaluation(folder, usecols=lambda c: c in ("task", "sweep") or c.startswith("context_"))
    task, c0 = task_and_c0(table)
    contexts = distinct_contexts(table, c0)
    zero = zero_action_table(task, contexts[context_columns(contexts)].to_numpy(np.float64), dynamics)
    if dynamics is not None:
        zero = pd.concat([zero, zero_action_table(task, c0[None], None)], ignore_index=True)
    path = Path(folder) / ZERO_ACTION_FILE
    zero.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------------------------ rendering
def signed_interval(estimate: float, low: float, high: float, digits: int = 3) -> str:
    """``+0.071 [+0.051, +0.090]``: an estimate and its interval, signed; ``-`` for no estimate.

    >>> signed_interval(0.0712, 0.0511, 0.0904), signed_interval(float("nan"), 0.0, 0.0)
    ('+0.071 [+0.051, +0.090]', '-')
    """
    if math.isnan(estimate):
        return "-"
    if math.isnan(low):
        return f"{estimate:+.{digits}f}"
    return f"{estimate:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def _robustness(row) -> str:
    checks = (("IQM", row.get("iqm_status")), ("Holm per context", row.get("holm_status")),
              ("authors' contexts", row.get("authors_status")), ("learned contexts", row.get("learned_status")),
              ("old rule", row.get("old_status")), ("the re-run", row.get("rerun_status")))
    holds = [name for name, status in checks if status == row["claim_status"]]
    differs = [f"{name} ({status})" for name, status in checks if status not in (row["claim_status"], "not computed", None)]
    parts = []
    if holds:
        parts.append("same under " + ", ".join(holds))
    if differs:
        parts.append("differs: " + ", ".join(differs))
    return "; ".join(parts) or "-"


def render_markdown(table: pd.DataFrame) -> str:
    """The verdict table of :func:`verdict_table` as markdown: one row per results folder, CSE - baseline and
    CSE - LDR side by side (primary difference in normalized score [95% CI], word, claim status), then the
    robustness of each claim status, the detectable difference and notes; a legend below."""
    lines = ["| task | seeds (paired) | contexts away (authors'; learned) | CSE - baseline: mean normalized score [95% CI] "
             "| CSE - LDR: same | robustness | detectable with 80% power (seeds for the margin) |",
             "|---|---|---|---|---|---|---|"]
    notes = []
    for folder, group in table.groupby("folder", sort=False):
        by = {row["comparison"].split(" - ")[1]: row for row in group.to_dict("records")}
        first = next(iter(by.values()))
        seeds = first["paired_seeds"]
        seed_text = f"{seeds}" + (f" (< paper's {PAPER_SEEDS})" if first["fewer_than_paper"] else "") + _rerun_seeds(group)
        cells, robust, power = [], [], []
        for other in ("baseline", "ldr"):
            row = by.get(other)
            if row is None:
                cells.append("not run")
                continue
            cells.append(f"{signed_interval(row['difference'], row['ci_low'], row['ci_high'])} **{row['word']}** "
                         f"({row['claim_status']})")
            label = "vs baseline" if other == "baseline" else "vs LDR"
            robust.append(f"{label}: {_robustness(row)}")
            seeds_needed = row.get("seeds_for_margin")
            needed = "-" if seeds_needed is None or (isinstance(seeds_needed, float) and math.isnan(seeds_needed)) \
                else f"{int(seeds_needed)}"
            power.append(f"{label}: {row['detectable']:.3f} ({needed})")
            if row["word_half_margin"] != row["word"] or row["word_double_margin"] != row["word"]:
                notes.append(f"{folder}, {row['comparison']}: {row['word_half_margin']} at margin "
                             f"{row['margin'] / 2:g}, {row['word_double_margin']} at {row['margin'] * 2:g}")
            if row["unpaired"]:
                notes.append(f"{folder}, {row['comparison']}: seeds without a partner left out: {row['unpaired']}")
        lines.append(f"| {folder} | {seed_text} | {first['contexts_away']} ({first['authors_away']}; "
                     f"{first.get('learned_away', '-')}) | "
                     f"{cells[0]} | {cells[1]} | {'<br>'.join(robust)} | {'<br>'.join(power)} |")
    units = []
    for folder, group in table.groupby("folder", sort=False):
        row = group.iloc[0]
        units.append(f"{folder} {row['scale']:.1f}" if not math.isnan(row["scale"]) else
                     f"{folder}: the optimum's gain over the zero action at each context")
    legend = [
        "",
        f"Normalized score: 0 = the all-zero action at the context, 1 unit = {'; '.join(units)} (return units per "
        "normalized unit; results/PROTOCOL.md, section 3). Primary: CSE minus the other method in mean normalized "
        "score over the contexts away from c0, paired by seed, Student-t 95% interval over the paired seeds. "
        f"Words: beats (interval above 0), matches (inside +-{table['margin'].iloc[0]:g}), worse (below 0), "
        "inconclusive; the claim status in parentheses. Robustness: the claim status under the IQM difference "
        "(bootstrap), the Holm-corrected per-context rule, the authors' test contexts alone, the learned contexts "
        "alone (those where some method's mean beats the all-zero action) and the earlier per-context rule of "
        f"results/README.md{_rerun_legend(table)}.",
    ]
    if notes:
        legend += ["", "Margin sensitivity and pairing: " + "; ".join(notes) + "."]
    return "\n".join(lines + legend) + "\n"


def disagreeing_analyses(row: dict) -> list[str]:
    """The secondary analyses (not the earlier rule) under which the claim status of ``row`` (a row of
    :func:`task_verdicts`) does not hold: of IQM, Holm, authors' contexts, learned contexts, and the re-run of every
    run where :func:`mark_reruns` found one."""
    checks = (("IQM", "iqm_status"), ("Holm", "holm_status"), ("authors' contexts", "authors_status"),
              ("learned contexts", "learned_status"), ("the re-run", "rerun_status"))
    return [name for name, column in checks if row.get(column) not in (row["claim_status"], "not computed", None)]


def _has_reruns(table: pd.DataFrame) -> bool:
    """Whether :func:`mark_reruns` found a re-run of any row of ``table``."""
    return "rerun_status" in table and bool((table["rerun_status"] != "not computed").any())


def _rerun_legend(table: pd.DataFrame) -> str:
    """The legend's words on the re-runs, where :func:`mark_reruns` found any."""
    if not _has_reruns(table):
        return ""
    return ("; \"the re-run\": the protocol's claim status on a re-run of every run of the row (the same seeds and "
            "command, on another machine: results/reruns/, results/PROTOCOL.md section 8)")


def _rerun_seeds(group: pd.DataFrame) -> str:
    """``"; re-run 10"`` where :func:`mark_reruns` found a re-run of a folder's rows, else nothing."""
    if not _has_reruns(group):
        return ""
    return f"; re-run {group.loc[group['rerun_status'] != 'not computed', 'paired_seeds'].iloc[0]}"


def render_compact(table: pd.DataFrame) -> str:
    """The verdict table of :func:`verdict_table` in four columns, for a summary (the README, the course site): per
    results folder the paired seeds and, per comparison, the primary difference [95% CI], the word, the claim
    status and the secondary analyses under which that status does not hold."""
    lines = ["| task | paired seeds | CSE - baseline (SAC; DQN for CartGoal) | CSE - LDR |", "|---|---|---|---|"]
    for folder, group in table.groupby("folder", sort=False):
        by = {row["comparison"].split(" - ")[1]: row for row in group.to_dict("records")}
        first = next(iter(by.values()))
        cells = []
        for other in ("baseline", "ldr"):
            row = by.get(other)
            if row is None:
                cells.append("not run")
                continue
            differs = disagreeing_analyses(row)
            cells.append(f"{signed_interval(row['difference'], row['ci_low'], row['ci_high'])} **{row['word']}** "
                         f"({row['claim_status']}{'; not under ' + ', '.join(differs) if differs else ''})")
        seeds = (f"{first['paired_seeds']}" + (f" (< {PAPER_SEEDS})" if first["fewer_than_paper"] else "")
                 + _rerun_seeds(group))
        lines.append(f"| {folder} | {seeds} | {cells[0]} | {cells[1]} |")
    lines += ["", f"Mean normalized score (0 = the all-zero action, results/PROTOCOL.md) of CSE minus the other method "
              "over the contexts away from c0, paired by seed, 95% t-interval; beats / matches (inside "
              f"+-{table['margin'].iloc[0]:g}) / worse / inconclusive, the paper's claim in parentheses, and the "
              "secondary analyses (IQM, Holm per context, the authors' contexts, the learned contexts) under which "
              f"that claim status does not hold{_rerun_legend(table)}."]
    return "\n".join(lines) + "\n"

