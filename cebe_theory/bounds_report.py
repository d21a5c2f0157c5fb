"""The bound report: Theorems 1-4 of arXiv 2507.07348 with every constant, against measured errors.

:func:`bounds_report` computes every check as data (a :class:`BoundsReport`); :meth:`BoundsReport.write`
writes the tables (CSV and Markdown) and one figure; :func:`write_bounds_report` does both.

Settings: Theorem 3 on the paper's Cliffwalking (families constant / inverse / power, ``p0 = 0.1``,
uniform policy, gamma 0.9), on the windy Cliffwalking (transitions quadratic in ``w``, ``w0 = -0.2``) with
the uniform policy and with the deterministic policy optimal at ``w0`` (gamma 0.9, where the gamma condition
fails, and 0.45, where it holds); Theorem 1 on the pairs ``M(p0)``, ``M(p0 + dc)`` of the power family;
Theorem 2 on the contextual LQR (:mod:`cebe_theory.lqr`, gamma 0.9 and 0.8); Theorem 4 over 29 contexts
``p in [0.02, 0.3]`` for each family, exact (``eps = 0``) and 1-suboptimal CEBE policies.

Theorems 1 and 3 are read as their calculators read them by default (Theorem 1: expected reward
``r(s, a)``; Theorem 3: ``R(s, a, s')``, :mod:`cebe_theory.bounds`); the columns ``bound_other_reading``
and ``within_bound_other_reading`` give the same formula with ``R`` read the other way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cebe_theory.bellman import greedy_policy, policy_iteration
from cebe_theory.bound_results import BoundCheck, checks_frame
from cebe_theory.bounds import theorem1_check, theorem3_sweep
from cebe_theory.cliffwalking import cliffwalking, windy_cliffwalking
from cebe_theory.figures import markdown_table, save_figure
from cebe_theory.lqr import DEFAULT_CONTEXT0, DEFAULT_GAIN, default_lqr, theorem2_sweep
from cebe_theory.sweep import log_grid
from cebe_theory.transfer import policy_transfer_over_grid

__all__ = ["BoundsReport", "bounds_report", "write_bounds_report", "transfer_contexts"]


@dataclass(frozen=True)
class BoundsReport:
    """Every check of the report: ``sweeps`` (name -> checks along ``dc``) and the Theorem 4 ``transfer`` table."""

    sweeps: dict[str, list[BoundCheck]]
    transfer: pd.DataFrame

    def violations(self) -> int:
        """Rows where a bound whose conditions hold is below the measured error, plus failed Theorem 4 rows."""
        violated = sum(check.within_bound is False for checks in self.sweeps.values() for check in checks)
        return violated + int((~self.transfer["holds"]).sum())

    def other_reading_violations(self) -> int:
        """Rows of Theorems 1 and 3 where the formula with ``R`` read the other way is below the measured error."""
        return sum(check.within_other_reading_bound is False for checks in self.sweeps.values() for check in checks)

    def tables(self) -> dict[str, pd.DataFrame]:
        """``bounds_theorem{1,2,3,4}`` -> one row per ``dc`` (per context family for Theorem 4)."""
        by_theorem: dict[str, list[pd.DataFrame]] = {}
        for name, checks in self.sweeps.items():
            frame = checks_frame(checks)
            frame.insert(0, "sweep", name)
            by_theorem.setdefault("bounds_" + name.split(":")[0].replace("Thm ", "theorem"), []).append(frame)
        tables = {
            key: pd.concat(frames, ignore_index=True).drop(columns=["setting", "theorem"])
            for key, frames in sorted(by_theorem.items())
        }
        tables["bounds_theorem4"] = self.transfer
        return tables

    def write(self, out_dir) -> list[Path]:
        """Write ``bounds_theorem{1,2,3,4}.csv`` / ``.md``, ``bounds.png`` and ``bounds.pdf``; return the paths."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for key, frame in self.tables().items():
            csv, md = out_dir / f"{key}.csv", out_dir / f"{key}.md"
            frame.to_csv(csv, index=False)
            md.write_text(markdown_table(frame, missing=""))
            paths += [csv, md]
        return paths + save_figure(plot_bound_sweeps(self.sweeps), out_dir / "bounds")


def _bound_sweeps(quick: bool) -> dict[str, list[BoundCheck]]:
    num = 8 if quick else 24
    sweeps: dict[str, list[BoundCheck]] = {}
    for family, high in (("constant", -1.0), ("inverse", -3.0), ("power", -1.0)):
        cmdp = cliffwalking(family=family)
        sweeps[f"Thm 3: Cliffwalking {family}, uniform, gamma 0.9"] = theorem3_sweep(
            cmdp, [0.1], log_grid(-8.0, high, num), "uniform", 0.9, setting=f"Cliffwalking {family}, p0=0.1, uniform")
    windy = windy_cliffwalking()
    windy_grid = np.exp(np.linspace(-8.0, math.log(0.65), num))
    sweeps["Thm 3: windy Cliffwalking, uniform, gamma 0.9"] = theorem3_sweep(
        windy, [-0.2], windy_grid, "uniform", 0.9, setting="windy Cliffwalking (T quadratic in w), w0=-0.2, uniform")
    greedy = greedy_policy(policy_iteration(windy.mdp([-0.2]), 0.9).q)
    for gamma in (0.9, 0.45):
        sweeps[f"Thm 3: windy Cliffwalking, optimal-at-w0 policy, gamma {gamma}"] = theorem3_sweep(
            windy, [-0.2], windy_grid, greedy, gamma, setting="windy Cliffwalking, w0=-0.2, deterministic policy optimal at w0"
        )
    power = cliffwalking(family="power")
    pairs = []
    for dc in log_grid(-8.0, -1.0, num):
        pairs.append(
            theorem1_check(
                power.mdp([0.1]), power.mdp([0.1 + dc]), "uniform", 0.9, setting="Cliffwalking power, M(0.1) vs M(0.1+dc)"
            )
        )
        pairs[-1].extra["dc"] = float(dc)
    sweeps["Thm 1: Cliffwalking power, M(p0) vs M(p0+dc), gamma 0.9"] = pairs
    lqr = default_lqr()
    lqr_grid = np.exp(np.linspace(-8.0, math.log(0.35), num))
    for gamma in (0.9, 0.8):
        sweeps[f"Thm 2: contextual LQR, u = Kx, gamma {gamma}"] = theorem2_sweep(
            lqr, DEFAULT_CONTEXT0, lqr_grid, DEFAULT_GAIN, gamma
        )
    return sweeps


def transfer_contexts(quick: bool = False) -> np.ndarray:
    """The test contexts of the report's Theorem 4 check: 29 slip probabilities evenly spaced in ``[0.02, 0.3]``
    (``quick``: 8). The README's Theorem 4 ratio, the teacher's handout, the Theory page and notebook 02 (at
    its full budget) all use this grid, so they print the same number."""
    return np.linspace(0.02, 0.3, 8 if quick else 29)


def _transfer_frame(quick: bool) -> pd.DataFrame:
    rows = []
    grid = transfer_contexts(quick)
    for family in ("constant", "inverse", "power"):
        for suboptimality in (0.0, 1.0):
            result = policy_transfer_over_grid(cliffwalking(family=family), [0.1], grid, 0.9, suboptimality=suboptimality)
            rows.append(dict(family=family, contexts=len(grid), suboptimality=suboptimality, max_gap=result.max_gap,
                             uniform_delta=result.uniform_delta, uniform_eps=result.uniform_eps, max_ratio=result.max_ratio,
                             uniform_ratio=result.uniform_ratio, holds=result.holds))
    return pd.DataFrame(rows)


def bounds_report(*, quick: bool = False) -> BoundsReport:
    """Every check of the report (module docstring); ``quick``: 8 ``dc`` per sweep instead of 24, 8 transfer contexts."""
    return BoundsReport(_bound_sweeps(quick), _transfer_frame(quick))


def plot_bound_sweeps(sweeps: dict[str, list[BoundCheck]]) -> Figure:
    """One panel pair per sweep: measured error and bound against ``|dc|`` (top), ``bound / measured`` (bottom)."""
    names = list(sweeps)
    columns = 3
    grid_rows = -(-len(names) // columns)
    fig = Figure(figsize=(4.2 * columns, 4.6 * grid_rows))
    axes = fig.subplots(2 * grid_rows, columns, squeeze=False)
    for index, name in enumerate(names):
        row, column = 2 * (index // columns), index % columns
        frame = checks_frame(sweeps[name])
        dc = frame["dc"].to_numpy()
        top, bottom = axes[row, column], axes[row + 1, column]
        bottom.sharex(top)
        measured = frame["measured"].to_numpy()
        top.loglog(dc[measured > 0], measured[measured > 0], "o-", ms=3, label="measured |Q_CE - Q_BE|")
        holds = frame["bound"].notna().to_numpy()
        top.loglog(dc[holds], frame["bound"].to_numpy()[holds], "s-", ms=3, label="bound (conditions hold)")
        failing = ~holds & np.isfinite(frame["formula_value"].to_numpy())
        if failing.any():
            top.loglog(
                dc[failing], frame["formula_value"].to_numpy()[failing], "x", color="gray", label="formula, condition fails"
            )
        top.set_title(name, fontsize=8)
        top.set_ylabel("sup error / bound", fontsize=8)
        top.legend(fontsize=6)
        ratio = frame["ratio"].to_numpy(dtype=float)
        usable = np.isfinite(ratio) & (ratio > 0)
        bottom.plot(dc[usable], ratio[usable], "d-", ms=3, color="C2", label="bound / measured")
        bottom.axhline(1.0, color="k", lw=0.8, ls="--", label="ratio 1 (a violation below)")
        bottom.set_xscale("log")
        bottom.set_yscale("log")
        if not usable.any():
            message = "bound 0 (CEBE exact), error is round-off" if holds.any() else "no bound: condition fails"
            bottom.text(0.5, 0.75, message, transform=bottom.transAxes, ha="center", fontsize=7)
        bottom.set_xlabel("|dc|", fontsize=8)
        bottom.set_ylabel("bound / measured", fontsize=8)
        bottom.legend(fontsize=6)
    for index in range(len(names), grid_rows * columns):
        axes[2 * (index // columns), index % columns].axis("off")
        axes[2 * (index // columns) + 1, index % columns].axis("off")
    fig.tight_layout()
    return fig


def write_bounds_report(out_dir, *, quick: bool = False) -> list[Path]:
    """:func:`bounds_report` written into ``out_dir`` (:meth:`BoundsReport.write`); return the written paths."""
    return bounds_report(quick=quick).write(out_dir)
