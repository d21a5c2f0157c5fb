"""What a sweep or ``summarize`` writes into a results folder, and the verdict in words.

:func:`write_summary_outputs` computes the per-context summary and the method comparison of an evaluation table and
writes ``evaluation.csv`` (or ``.csv.gz``), ``summary.csv``, ``comparison.csv``, ``headline.csv``, ``sweep.png``
and ``authors_contexts.png``; :func:`write_training_curves` the runs' ``training_curves.csv`` and
``training.png``; :func:`verdict_lines` prints :func:`cebe_deep.report.statistics.verdict` as sentences.
A file that cannot be written is an :class:`~cebe_theory.errors.InputError` naming it (``--results PATH``).
"""

from __future__ import annotations

from pathlib import Path

from cebe_cli import write_user_file
from cebe_deep.learn.eps import PAPER_EPS

__all__ = ["base_context", "write_summary_outputs", "verdict_lines", "write_training_curves"]


def base_context(table) -> tuple[list[float], list[str]]:
    from cebe_deep.run.config import make_task_env

    task = str(table["task"].iloc[0])
    # SimpleDirection of another dimension (--dimension): as many coordinates as the table has context columns
    columns = [column for column in table.columns if column.startswith("context_") and table[column].notna().any()]
    env = make_task_env(task, dimension=len(columns) if task == "SimpleDirection" else None)
    context = list(env.unwrapped.default_context)
    names = list(getattr(env.unwrapped, "context_names", []))
    env.close()
    return context, names


def write_summary_outputs(table, eps: float, results: Path | None, candidate: str = "cse", gzip: bool = False):
    """Summary and comparison tables (and files under ``results``, a folder already checked)."""
    from cebe_deep.report.statistics import compare_methods, headline, summarize

    context0, names = base_context(table)
    summary = summarize(table)
    comparison = compare_methods(summary, context0, eps, candidate=candidate, table=table)
    if results is not None:
        from cebe_deep.report.plots import plot_context_sweeps, plot_named_contexts
        from cebe_deep.run.evaluation import write_evaluation

        write_user_file(results / ("evaluation.csv.gz" if gzip else "evaluation.csv"), "--results",
               lambda path: write_evaluation(table, path.parent, compress=gzip))
        write_user_file(results / "summary.csv", "--results", lambda path: summary.to_csv(path, index=False))
        write_user_file(results / "comparison.csv", "--results", lambda path: comparison.to_csv(path, index=False))
        write_user_file(results / "headline.csv", "--results", lambda path: headline(comparison).to_csv(path, index=False))
        write_user_file(
            results / "sweep.png", "--results", lambda path: plot_context_sweeps(table, context0, eps, path, names)
        )
        if (table["sweep"] == "authors").any():
            write_user_file(
                results / "authors_contexts.png", "--results", lambda path: plot_named_contexts(table, "authors", path)
            )
    return summary, comparison


def verdict_lines(comparison, candidate: str = "cse", eps: float = PAPER_EPS) -> str:
    """The verdict of :func:`cebe_deep.report.statistics.verdict` in words: per difference, at how many distinct contexts
    away from c0 its 95% Welch interval is above, around or below 0, and what the rule says of the paper's claim."""
    from cebe_deep.report.statistics import verdict

    judged = verdict(comparison)
    lines = [f"Verdict over the {judged['contexts']} distinct contexts farther than eps = {eps:g} from c0 "
             "(95% Welch interval of each difference over seeds; cebe_deep.report.statistics.verdict):"]
    for name, other, part, claim in (("cse_minus_baseline", "baseline", "beats_baseline", "beats the baseline"),
                                     ("cse_minus_ldr", "ldr", "matches_ldr", "matches LDR")):
        if judged[part] == "no data":
            lines.append(f"  {candidate} - {other}: no data")
            continue
        lines.append(f"  {candidate} - {other}: above 0 at {judged[f'{name}_above']}, contains 0 at "
                     f"{judged[f'{name}_unclear']}, below 0 at {judged[f'{name}_below']}: '{candidate} {claim}' "
                     f"{judged[part]}")
    if judged["matches_ldr"] == "reproduced" and judged["cse_minus_ldr_unclear"] > judged["contexts"] / 2:
        lines.append("  (at most of these contexts the interval of CSE - LDR holds 0: no difference detectable with "
                     "these seeds, which is not evidence that the two are equal)")
    return "\n".join(lines)


def write_training_curves(runs: list[Path], results: Path) -> None:
    """A sweep's training curves into its results folder: ``training_curves.csv`` and ``training.png``; and its
    runs' provenance, ``runs.csv`` (:func:`cebe_deep.run.provenance.runs_table`)."""
    from cebe_deep.report.curves import plot_training_curves, training_curves
    from cebe_deep.run.provenance import runs_table

    table = runs_table(runs)
    if not table.empty:
        write_user_file(results / "runs.csv", "--results", lambda path: table.to_csv(path, index=False))

    curves = training_curves([(run, None) for run in runs])
    if curves.empty:  # runs trained elsewhere and copied in without their Monitor files
        return
    write_user_file(results / "training_curves.csv", "--results", lambda path: curves.to_csv(path, index=False))
    write_user_file(results / "training.png", "--results", lambda path: plot_training_curves(curves, path))
