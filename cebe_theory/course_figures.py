"""The figures of the teaching notebooks 01, 02 and 05: one function per figure, data in, a drawn ``Axes`` out.

Each function draws on the axes it is given (no pyplot, no backend chosen), so a notebook cell reads
"compute, then one call to draw", and the idea stays visible above the plotting details:

- :func:`plot_cliffwalking_grid`: the Cliffwalking layout, and the transition row of one state-action pair;
- :func:`plot_bound_sweeps`: Theorem 3's bound against the measured CEBE error, and the ratio of the two;
- :func:`plot_transfer_grids`: Theorem 4's value gap against its allowance ``2 delta + 2 eps``, and their ratio;
- :func:`plot_coefficient_sweep`: deterministic CEBE's error on the contextual LQR (Theorem 2's ``O(dc^2)``);
- :func:`plot_estimator_sweeps`: the four stochastic estimators' Q errors on a finite CMDP (notebook 05).

>>> from matplotlib.figure import Figure
>>> from cebe_theory.cliffwalking import cliffwalking
>>> ax = Figure().subplots()
>>> cmdp = cliffwalking(5, 6, "inverse")
>>> plot_cliffwalking_grid(ax, cmdp, context=[0.1], state=cmdp.state_index(1, 1), action=3)
>>> sorted(text.get_text() for text in ax.texts if text.get_text() in ("S", "G"))
['G', 'S']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle

from cebe_theory.bound_results import BoundCheck
from cebe_theory.cliffwalking import ACTIONS, CliffWalking
from cebe_theory.lqr import CoefficientSweep
from cebe_theory.stochastic_cse import ESTIMATORS, EstimatorSweep
from cebe_theory.transfer import TransferGrid

__all__ = ["plot_cliffwalking_grid", "plot_bound_sweeps", "plot_transfer_grids", "plot_coefficient_sweep",
           "plot_estimator_sweeps"]

FONT_SIZES = dict(title=14, label=13, ticks=12, legend=11, cell=14)
"""Point sizes: readable on a slide (nothing under 11 pt)."""

CELL_COLOURS = {"start": "#cfe2f3", "cliff": "#e06666", "goal": "#93c47d", "open": "white"}


def plot_cliffwalking_grid(ax, cmdp: CliffWalking, *, context=None, state: int | None = None, action: int | None = None,
                           title: str = "") -> None:
    """Draw the grid of ``cmdp`` with row 0 at the bottom: start ``S``, cliff cells ``C``, goal ``G``.

    With ``context``, ``state`` (a state index) and ``action`` (an index into ``ACTIONS``), also draw an arrow
    from ``state`` to every next state ``s'`` of the row ``T^c(. | state, action)``, labelled with its probability
    (written below the arrow's head; a move off the grid, which stays in place, is written in the cell itself).
    """
    kinds = np.full(cmdp.n_states, "open", dtype=object)
    kinds[cmdp.start_state], kinds[cmdp.cliff_states], kinds[cmdp.goal_state] = "start", "cliff", "goal"
    letters = {"start": "S", "cliff": "C", "goal": "G", "open": ""}
    for index in range(cmdp.n_states):
        row, col = divmod(index, cmdp.cols)
        ax.add_patch(Rectangle((col, row), 1, 1, facecolor=CELL_COLOURS[kinds[index]], edgecolor="black", linewidth=1))
        ax.text(col + 0.5, row + 0.5, letters[kinds[index]], ha="center", va="center", fontsize=FONT_SIZES["cell"],
                fontweight="bold")
    if state is not None:
        if context is None or action is None:
            raise ValueError("give context and action together with state")
        mdp = cmdp.mdp(context)
        transition_row = mdp.transition[state * cmdp.n_actions + action]
        row, col = divmod(state, cmdp.cols)
        start = np.array([col + 0.5, row + 0.5])
        ax.add_patch(Rectangle((col, row), 1, 1, facecolor="none", edgecolor="tab:blue", linewidth=3))
        for next_state, probability in zip(transition_row.indices, transition_row.data, strict=True):
            next_row, next_col = divmod(int(next_state), cmdp.cols)
            end = np.array([next_col + 0.5, next_row + 0.5])
            if next_state == state:
                ax.text(*(start + [0, -0.3]), f"stay {probability:.3g}", ha="center", va="center",
                        fontsize=FONT_SIZES["legend"])
                continue
            ax.add_patch(FancyArrowPatch(tuple(start + 0.1 * (end - start)), tuple(start + 0.85 * (end - start)),
                                         arrowstyle="-|>", mutation_scale=18, color="tab:blue", linewidth=2))
            ax.text(*(end + [0, -0.3]), f"{probability:.3g}", ha="center", va="center", fontsize=FONT_SIZES["legend"],
                    color="tab:blue", bbox=dict(facecolor="white", edgecolor="none", pad=1))
        values = np.atleast_1d(context)
        where = ", ".join(f"{symbol} = {value:g}" for symbol, value in zip(cmdp.context_symbols, values, strict=True))
        title = title or f"T(. | s, {ACTIONS[action]}) at {where}"
    ax.set_xlim(0, cmdp.cols)
    ax.set_ylim(0, cmdp.rows)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cmdp.cols) + 0.5, [str(col) for col in range(cmdp.cols)])
    ax.set_yticks(np.arange(cmdp.rows) + 0.5, [str(row) for row in range(cmdp.rows)])
    ax.tick_params(length=0, labelsize=FONT_SIZES["ticks"])
    ax.set_xlabel("column", fontsize=FONT_SIZES["label"])
    ax.set_ylabel("row (0 at the bottom)", fontsize=FONT_SIZES["label"])
    ax.set_title(title, fontsize=FONT_SIZES["title"])


def plot_bound_sweeps(error_ax, ratio_ax, sweeps: Mapping[str, Sequence[BoundCheck]], *, title: str = "") -> None:
    """Left (``error_ax``): measured error and bound against ``|dc|`` (log-log), per labelled sweep of checks.
    Right (``ratio_ax``): bound / measured, which is at least 1 wherever the bound holds. Checks whose conditions
    fail (no bound) leave a gap in the bound's curve."""
    for index, (label, checks) in enumerate(sweeps.items()):
        dc = np.array([check.result.dc_norm for check in checks])
        measured = np.array([check.measured for check in checks])
        bound = np.array([np.nan if check.result.bound is None else check.result.bound for check in checks])
        colour = f"C{index}"
        error_ax.loglog(dc, measured, "o-", ms=4, color=colour, label=f"{label}: measured")
        error_ax.loglog(dc, bound, "s--", ms=4, color=colour, label=f"{label}: bound")
        ratio_ax.semilogx(dc, bound / measured, "d-", ms=4, color=colour, label=label)
    ratio_ax.axhline(1.0, color="black", linestyle=":", linewidth=1.2, label="ratio 1: bound = measured")
    ratio_ax.set_ylim(bottom=0)
    error_ax.set(xlabel="|dc| (dimensionless)", ylabel=r"$\max_{s,a}|Q_{CE}-Q_{BE}|$ (reward units)", title=title)
    ratio_ax.set(xlabel="|dc| (dimensionless)", ylabel="bound / measured", title="How loose the bound is")
    for axis in (error_ax, ratio_ax):
        axis.xaxis.label.set_size(FONT_SIZES["label"])
        axis.yaxis.label.set_size(FONT_SIZES["label"])
        axis.title.set_size(FONT_SIZES["title"])
        axis.tick_params(labelsize=FONT_SIZES["ticks"])
        axis.legend(fontsize=FONT_SIZES["legend"])


def plot_transfer_grids(gap_ax, ratio_ax, grids: Mapping[float, TransferGrid], *, title: str = "") -> None:
    """Theorem 4 over a one-dimensional grid of contexts, one curve pair per ``eps``-target (``grids`` maps the
    ``suboptimality`` asked for to its :class:`~cebe_theory.transfer.TransferGrid`).

    Left: the value gap of the CEBE policy and the allowance ``2 delta + 2 eps``. Right: their ratio, at most 1
    by Theorem 4. The two targets can nearly coincide: each has its own colour, marker and line style."""
    styles = [dict(color="C0", marker="o", markersize=9, markerfacecolor="none", linewidth=2.5),
              dict(color="C3", marker="s", markersize=5, linewidth=1.5)]
    context0 = None
    for index, (suboptimality, grid) in enumerate(grids.items()):
        style = styles[index % len(styles)]
        contexts = [float(check.context[0]) for check in grid.checks]
        context0 = float(grid.context0[0])
        gap_ax.plot(contexts, [check.gap for check in grid.checks], linestyle="-" if index == 0 else ":", **style,
                    label=f"value gap, eps-target {suboptimality:g}")
        gap_ax.plot(contexts, [check.allowed for check in grid.checks], linestyle="--" if index == 0 else "-.",
                    color=style["color"], linewidth=style["linewidth"],
                    label=rf"allowed $2\delta + 2\varepsilon$, eps-target {suboptimality:g}")
        ratio_ax.plot(contexts, [check.ratio for check in grid.checks], linestyle="-" if index == 0 else ":", **style,
                      label=f"eps-target {suboptimality:g}")
    for axis in (gap_ax, ratio_ax):
        if context0 is not None:
            axis.axvline(context0, color="grey", lw=1.5, label="training context $c_0$")
        axis.set_ylim(bottom=0)  # a gap is never negative: linear axes from 0
        axis.set_xlabel("test context c", fontsize=FONT_SIZES["label"])
        axis.tick_params(labelsize=FONT_SIZES["ticks"])
    ratio_ax.axhline(1.0, color="black", linestyle="--", lw=1.2, label="ratio 1: Theorem 4's limit")
    ratio_ax.set_ylim(top=1.1)
    gap_ax.set_ylabel("value gap (reward units)", fontsize=FONT_SIZES["label"])
    ratio_ax.set_ylabel(r"gap / $(2\delta + 2\varepsilon)$", fontsize=FONT_SIZES["label"])
    gap_ax.set_title(title, fontsize=FONT_SIZES["title"])
    ratio_ax.set_title("How much of the allowance is used", fontsize=FONT_SIZES["title"])
    gap_ax.legend(fontsize=FONT_SIZES["legend"])
    ratio_ax.legend(fontsize=FONT_SIZES["legend"])


COEFFICIENT_LABELS = {
    "policy_q_error": r"fixed policy $u = Kx$: $\max|G_{CE} - G_{BE}|$",
    "policy_value_error": r"fixed policy: $\max_x |V_{CE}(x) - V_{BE}(x)|$",
    "optimal_q_error": r"optimal policies: $\max|G^*_{CE} - G^*_{BE}|$",
    "optimal_value_error": r"optimal policies: $\max_x |V^*_{CE}(x) - V^*_{BE}(x)|$",
}


def plot_coefficient_sweep(ax, sweep: CoefficientSweep, *, title: str = "Contextual LQR: CEBE error is $O(dc^2)$") -> None:
    """Every error column of a :func:`~cebe_theory.lqr.coefficient_sweep` against ``|dc|`` (log-log), with its
    fitted slope. The Q errors of the fixed and the optimal policy lie on each other: each column has its own
    marker and line style, so both show."""
    frame = sweep.frame
    for index, (column, label) in enumerate(COEFFICIENT_LABELS.items()):
        ax.loglog(frame["dc"], frame[column], marker="os^D"[index], linestyle=("-", "--", "-.", ":")[index],
                  markevery=(2 * index, 8), label=f"{label}: slope {sweep.slopes[column]:.3f}")
    ax.set_xlabel("|dc| (dimensionless)", fontsize=FONT_SIZES["label"])
    ax.set_ylabel("error (cost units)", fontsize=FONT_SIZES["label"])
    ax.set_title(title, fontsize=FONT_SIZES["title"])
    ax.tick_params(labelsize=FONT_SIZES["ticks"])
    ax.legend(fontsize=FONT_SIZES["legend"])


ESTIMATOR_STYLES = {"cebe": dict(color="tab:blue", marker="o", linestyle="-"),
                    "pathwise": dict(color="tab:red", marker="s", linestyle="--"),
                    "importance": dict(color="tab:green", marker="^", linestyle=":"),
                    "importance_first_order": dict(color="tab:purple", marker="D", linestyle="-.")}
"""One colour, marker and line style per estimator of :data:`~cebe_theory.stochastic_cse.ESTIMATORS`: the exact
ones lie on each other at the floor, and each stays visible."""



def plot_estimator_sweeps(axes, sweeps: Mapping[str, EstimatorSweep], *, floor: float = 1e-12) -> None:
    """One panel per direction (``sweeps`` maps a direction's name to its
    :func:`~cebe_theory.stochastic_cse.estimator_sweep`): each estimator's ``max |Q_model - Q_BE|`` against
    ``|dc|`` (log-log). An exact estimator (error at round-off, or 0) is drawn at ``floor``, where a log axis can
    show it. The y label and the legend are on the first panel (the panels may share their y axis)."""
    axes = list(np.atleast_1d(axes))
    if len(axes) != len(sweeps):
        raise ValueError(f"{len(sweeps)} sweeps need as many axes, got {len(axes)}")
    for ax, (name, sweep) in zip(axes, sweeps.items()):
        for estimator in ESTIMATORS:
            ax.loglog(sweep.dc, np.maximum(sweep.sup_error[estimator], floor), label=estimator,
                      **ESTIMATOR_STYLES[estimator])
        ax.set_title(f"dc along {name}", fontsize=FONT_SIZES["title"])
        ax.set_xlabel("|dc| (dimensionless)", fontsize=FONT_SIZES["label"])
        ax.tick_params(labelsize=FONT_SIZES["ticks"])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"max |Q_model - Q_true|\n(reward units; exact: at {floor:g})", fontsize=FONT_SIZES["label"])
    axes[0].legend(fontsize=FONT_SIZES["legend"])
