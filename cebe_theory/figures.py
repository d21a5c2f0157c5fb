"""Figure 1 of arXiv 2507.07348 and its companions, regenerated from the library (the README's main job).

:func:`figure1_sweeps` computes every sweep as data; :func:`plot_error_sweeps` draws one panel;
:func:`reproduce` writes all figures (PNG and PDF), the sweeps as one tidy CSV and a summary table
(CSV and Markdown) into a folder. Nothing here computes anything the library does not already offer.

No backend is chosen here: files are drawn on :class:`matplotlib.figure.Figure` objects, which need no
pyplot and no backend, so a notebook that imports this module keeps its inline figures.

Cases (the paper's Figure 1: 5 x 6 Cliffwalking, gamma = 0.9, p0 = 0.1, 100 log-spaced dc):

- ``figure1a``: reward family ``inverse`` (paper's reward 1), dc in [e^-8, e^-3], uniform policy;
- ``figure1b``: reward family ``power`` (reward 2), dc in [e^-8, e^-1], uniform policy;
- ``constant``: reward 0 with both transition variants: CEBE is exact (error at round-off);
- ``optimal``: the same three families, ``Q*_CE`` against ``Q*_BE`` (each MDP's own optimal policy);
- ``windy``: transitions nonlinear in the context (:func:`~cebe_theory.cliffwalking.windy_cliffwalking`,
  w0 = -0.2), projection against renormalization, marking where the projection acts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cebe_theory.cliffwalking import cliffwalking, windy_cliffwalking
from cebe_theory.sweep import ErrorSweep, error_sweep, log_grid

__all__ = ["SweepCase", "figure1_sweeps", "plot_error_sweeps", "reproduce", "markdown_table", "save_figure", "summary_table"]

GAMMA = 0.9
ROUND_OFF = 1e-10
P0 = 0.1
W0 = -0.2


@dataclass(frozen=True)
class SweepCase:
    """One labelled sweep: which figure it belongs to, the CMDP it ran on, and its result."""

    figure: str
    label: str
    cmdp: str
    family: str
    sweep: ErrorSweep


def figure1_sweeps(points: int = 100) -> list[SweepCase]:
    """Every sweep shown by :func:`reproduce`, as data (``points`` dc values per sweep)."""
    cases = []
    for figure, family, high in (("figure1a", "inverse", -3.0), ("figure1b", "power", -1.0)):
        sweep = error_sweep(cliffwalking(5, 6, family), [P0], log_grid(-8.0, high, points), gamma=GAMMA)
        cases.append(SweepCase(figure, f"{family} (uniform policy)", "cliffwalking", family, sweep))
    constant = cliffwalking(5, 6, "constant")
    for variant in ("projection", "renormalize"):
        sweep = error_sweep(constant, [P0], log_grid(-8.0, -1.0, points), gamma=GAMMA, transition_variant=variant)
        cases.append(SweepCase("constant", f"constant, {variant}", "cliffwalking", "constant", sweep))
    for family, high in (("constant", -1.0), ("inverse", -3.0), ("power", -1.0)):
        sweep = error_sweep(cliffwalking(5, 6, family), [P0], log_grid(-8.0, high, points), gamma=GAMMA, policy="optimal")
        cases.append(SweepCase("optimal", f"{family} (optimal policies)", "cliffwalking", family, sweep))
    for family in ("constant", "power"):
        windy = windy_cliffwalking(5, 6, family)
        for variant in ("projection", "renormalize"):
            sweep = error_sweep(windy, [W0], log_grid(-8.0, -1.0, points), gamma=GAMMA, transition_variant=variant)
            cases.append(SweepCase("windy", f"windy {family}, {variant}", "windy_cliffwalking", family, sweep))
    return cases


FONT_SIZES = dict(title=14, label=14, ticks=12, legend=12)
"""Point sizes of every figure here: readable on a slide (nothing under 12 pt, legends included)."""

CURVE_STYLES = (("o", "-"), ("s", "--"), ("^", "-."), ("D", ":"), ("v", (0, (5, 1, 1, 1))), ("P", (0, (3, 1, 1, 1, 1, 1))))
"""(marker, line style) of the 1st, 2nd, ... curve of a panel: no two curves look alike, so a curve that lies on
another (windy Cliffwalking's projection and renormalization agree until the projection acts) still shows."""

MARK_EVERY = 12
"""A marker on every 12th point of a curve, each curve starting at another offset so that markers do not stack."""


def plot_error_sweeps(ax, cases: list[SweepCase], *, reference_slope: float | None = 2.0, title: str = "") -> None:
    """Log-log ``sup_error`` against ``dc`` for each case, with a dashed ``dc^reference_slope`` guide.

    Each case gets its own colour, marker and line style (:data:`CURVE_STYLES`); fonts are :data:`FONT_SIZES`."""
    acting = None
    for index, case in enumerate(cases):
        sweep = case.sweep
        positive = sweep.sup_error > 0
        slope = f"slope {sweep.fitted_slope:.3f}" if sweep.sup_error.max() >= ROUND_OFF else "exact (round-off)"
        marker, linestyle = CURVE_STYLES[index % len(CURVE_STYLES)]
        offset = (index * MARK_EVERY // max(len(cases), 1)) % MARK_EVERY
        ax.loglog(sweep.dc[positive], sweep.sup_error[positive], marker=marker, linestyle=linestyle,
                  markevery=(offset, MARK_EVERY), markersize=7, linewidth=1.8, color=f"C{index}",
                  label=f"{case.label}: {slope}")
        if sweep.projection_acts.any() and acting is None:
            acting = sweep.dc[sweep.projection_acts]
    if acting is not None:  # after the curves, so that the legend lists the curves first
        ax.axvspan(acting.min(), acting.max(), color="grey", alpha=0.2, linewidth=0, label="projection acts")
    if reference_slope is not None and cases:
        sweep = cases[0].sweep
        anchor = np.argmin(sweep.dc)
        if sweep.sup_error[anchor] > 0:
            guide = sweep.sup_error[anchor] * (sweep.dc / sweep.dc[anchor]) ** reference_slope
            ax.loglog(sweep.dc, guide, color="black", linestyle=(0, (2, 2)), linewidth=1.2, zorder=1.5,
                      label=f"slope {reference_slope:g} guide")
    ax.set_xlabel(r"context change $|dc|$ (dimensionless)", fontsize=FONT_SIZES["label"])
    ax.set_ylabel(r"$\max_{s,a} |Q_{CE} - Q_{BE}|$ (reward units)", fontsize=FONT_SIZES["label"])
    ax.set_title(title, fontsize=FONT_SIZES["title"])
    ax.tick_params(which="major", labelsize=FONT_SIZES["ticks"])
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=FONT_SIZES["legend"], loc="best")


FIGURE_TITLES = {
    "figure1a": r"Figure 1a: goal $1/p^2$, fall $-100/p$",
    "figure1b": r"Figure 1b: goal $(1+p)^{-1.5}$, fall $-10/(1+p)$",
    "constant": "Constant rewards: T affine in p, CEBE exact",
    "optimal": r"Optimal policies: $Q^*_{CE}$ against $Q^*_{BE}$",
    "windy": "Windy Cliffwalking, T quadratic in the wind w",
}


def summary_table(cases: list[SweepCase]) -> pd.DataFrame:
    """One row per sweep: setting, fitted slope, largest and smallest error."""
    rows = []
    for case in cases:
        sweep = case.sweep
        rows.append({
            "figure": case.figure,
            "case": case.label,
            "cmdp": case.cmdp,
            "family": case.family,
            "context0": float(sweep.context0[0]),
            "policy": sweep.policy,
            "transition_variant": sweep.transition_variant,
            "dc_min": float(sweep.dc.min()),
            "dc_max": float(sweep.dc.max()),
            # Errors at round-off have no meaningful slope: report nan and flag the sweep as exact.
            "fitted_slope": sweep.fitted_slope if sweep.sup_error.max() >= ROUND_OFF else float("nan"),
            "exact": bool(sweep.sup_error.max() < ROUND_OFF),
            "max_sup_error": float(sweep.sup_error.max()),
            "sup_error_at_dc_min": float(sweep.sup_error[np.argmin(sweep.dc)]),
            "projection_acts_points": int(sweep.projection_acts.sum()),
        })
    return pd.DataFrame(rows)


def markdown_table(frame: pd.DataFrame, *, missing: str = "nan") -> str:
    """``frame`` as a Markdown table: floats to 4 significant digits (``missing`` for NaN), ``|`` escaped."""
    def cell(value) -> str:
        if isinstance(value, float):
            return missing if math.isnan(value) else f"{value:.4g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Save ``fig`` as ``stem.png`` (150 dpi) and ``stem.pdf`` (no creation date, so reruns are byte-identical)."""
    paths = []
    for suffix in ("png", "pdf"):
        path = Path(f"{stem}.{suffix}")
        fig.savefig(path, dpi=150, metadata={"CreationDate": None} if suffix == "pdf" else None)
        paths.append(path)
    return paths


def reproduce(out_dir: str | Path = "figures", points: int = 100) -> list[Path]:
    """Write every tabular figure (PNG and PDF), ``error_sweeps.csv`` and ``summary.{csv,md}``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cases = figure1_sweeps(points)
    written = []
    for figure, title in FIGURE_TITLES.items():
        selected = [case for case in cases if case.figure == figure]
        fig = Figure(figsize=(8.0, 6.0), layout="constrained")
        ax = fig.subplots()
        plot_error_sweeps(ax, selected, reference_slope=None if figure == "constant" else 2.0, title=title)
        if figure == "constant":
            ax.axhline(ROUND_OFF, color="red", linewidth=1.2, linestyle=":", label="round-off threshold 1e-10")
            ax.legend(fontsize=FONT_SIZES["legend"], loc="best")
        written += save_figure(fig, out / figure)
    tidy = pd.concat(
        [
            case.sweep.to_frame().assign(figure=case.figure, case=case.label, cmdp=case.cmdp, family=case.family)
            for case in cases
        ],
        ignore_index=True,
    )
    tidy_path = out / "error_sweeps.csv"
    tidy.to_csv(tidy_path, index=False)
    summary = summary_table(cases)
    summary_csv, summary_md = out / "summary.csv", out / "summary.md"
    summary.to_csv(summary_csv, index=False)
    summary_md.write_text(markdown_table(summary))
    written += [tidy_path, summary_csv, summary_md]
    return written
