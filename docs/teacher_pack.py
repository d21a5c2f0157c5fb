"""The teacher's pack: slide-sized figures and a one-page handout, from the package and the committed results.

    python docs/teacher_pack.py                       # writes docs/_generated/teacher_pack/
    python docs/teacher_pack.py --out slides/ --points 40

Every figure has one panel, fonts of 16 pt (ticks 14 pt), and axes named with their units; each is written
as PNG (exactly 1600 x 1000 px: 8 x 5 inches at 200 dpi, laid out inside the figure) and PDF. ``handout.pdf``
is one A4 page: the two equations, Theorems 1-4 in words, and the headline numbers, computed in the same run
(Figure 1 slopes, bound / measured ratios, Theorem 4) or read from ``results/authors/<Task>/`` (a task without
committed results there is left out; the deep verdicts are the statistical protocol's, results/PROTOCOL.md, as
results/README.md and the README print them: :func:`deep_verdicts`; ``handout.png`` is the handout's preview). The site build
(``docs/conf.py``) calls :func:`build`.

At the default ``points = 100`` the computed numbers are the README's: Figure 1 on the paper's 100 dc (as
``cebe-theory reproduce``) and Theorem 4 over the bound report's 29 contexts
(:func:`cebe_theory.bounds_report.transfer_contexts`); the handout names the settings it used.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; also keeps a Sphinx build from opening windows

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cebe_deep.report.plots import ANGLE_LABEL, context_axis_labels, learner_name  # noqa: E402
from cebe_deep.report.protocol import disagreeing_analyses, verdict_table  # noqa: E402
from cebe_deep.tasks import make_task  # noqa: E402
from cebe_theory import (  # noqa: E402
    cliffwalking,
    coefficient_sweep,
    default_lqr,
    error_sweep,
    log_grid,
    policy_transfer_over_grid,
    theorem3_sweep,
    windy_cliffwalking,
)
from cebe_theory.bounds_report import transfer_contexts  # noqa: E402
from cebe_theory.lqr import DEFAULT_CONTEXT0  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
DEFAULT_OUT = Path(__file__).resolve().parent / "_generated" / "teacher_pack"
SLIDE_STYLE = {
    "font.size": 16,
    "axes.titlesize": 17,
    "axes.labelsize": 16,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "legend.fontsize": 14,
    "lines.linewidth": 2.5,
    "lines.markersize": 7,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.figsize": (8, 5),
    "figure.constrained_layout.use": True,  # labels fit inside the figure, so every file is exactly 1600 x 1000 px
    "savefig.dpi": 200,
    "savefig.bbox": "standard",  # "tight" would crop each figure to its own size
}
GAMMA, P0, W0 = 0.9, 0.1, -0.2
METHOD_STYLE = {  # colour-blind safe (Okabe-Ito), with distinct markers so a grey-scale print works too
    "baseline": dict(color="#000000", marker="o", label="SAC (baseline)"),
    "cse": dict(color="#D55E00", marker="s", label="SAC + CSE"),
    "ldr": dict(color="#0072B2", marker="^", label="SAC + LDR"),
}
# The deep tasks whose committed results the pack draws (where results/ has them), in the paper's order.
DEEP_TASKS = ("SimpleDirection", "PendulumGoal", "CartGoal", "CheetahVelocity", "AntDirection")
EPS = 0.1
Q_ERROR = r"$\max_{s,a}\,|Q_{CE} - Q_{BE}|$ (reward units)"
SLIP_DC = r"change of slip probability $dc$ (probability)"


def _save(fig, out: Path, name: str) -> list[Path]:
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for path in paths:
        fig.savefig(path)
    plt.close(fig)
    return paths


def _guide(ax, x, y, slope=2.0):
    """A dashed ``x^slope`` line through the smallest point: the eye's ruler for the slope."""
    anchor = np.argmin(x)
    ax.loglog(x, y[anchor] * (x / x[anchor]) ** slope, "k--", linewidth=1.5, label=f"slope {slope:g}")


def figure1(out: Path, points: int, facts: dict) -> list[Path]:
    """Figure 1a and 1b of the paper, one figure each."""
    paths = []
    cases = [("figure1a", "inverse", -3.0, r"Cliffwalking, goal $1/p^2$, fall $-100/p$"),
             ("figure1b", "power", -1.0, r"Cliffwalking, goal $(1+p)^{-1.5}$, fall $-10/(1+p)$")]
    for name, family, high, title in cases:
        sweep = error_sweep(cliffwalking(5, 6, family), [P0], log_grid(-8.0, high, points), gamma=GAMMA)
        facts[f"slope_{family}"] = sweep.fitted_slope
        facts["figure1_points"] = points
        fig, ax = plt.subplots()
        ax.loglog(sweep.dc, sweep.sup_error, "o-", color="#0072B2", markersize=4,
                  label=f"CEBE error (fitted slope {sweep.fitted_slope:.3f})")
        _guide(ax, sweep.dc, sweep.sup_error)
        ax.set(xlabel=SLIP_DC, ylabel=Q_ERROR, title=title)
        ax.legend()
        paths += _save(fig, out, name)
    return paths


def windy(out: Path, points: int, facts: dict) -> list[Path]:
    """Projection against renormalization on the windy Cliffwalking: two curves that stay visible where they
    coincide (different markers and line styles), and the region where the projection acts."""
    model = windy_cliffwalking(5, 6, "power")
    fig, ax = plt.subplots()
    styles = {"projection": dict(color="#D55E00", marker="o", linestyle="-", markersize=7, markerfacecolor="none"),
              "renormalize": dict(color="#0072B2", marker="x", linestyle=":", markersize=6)}
    for variant, style in styles.items():
        sweep = error_sweep(model, [W0], log_grid(-8.0, -1.0, points), gamma=GAMMA, transition_variant=variant)
        facts[f"slope_windy_{variant}"] = sweep.fitted_slope
        ax.loglog(sweep.dc, sweep.sup_error, label=f"{variant} (slope {sweep.fitted_slope:.3f})", **style)
        if variant == "projection" and sweep.projection_acts.any():
            acting = sweep.dc[sweep.projection_acts]
            ax.axvspan(acting.min(), acting.max(), color="grey", alpha=0.25, linewidth=0, label="projection acts")
    ax.set(xlabel=r"change of crosswind $dw$ (slip $= w^2$; dimensionless)", ylabel=Q_ERROR,
           title=r"Windy Cliffwalking ($w_0 = -0.2$): T quadratic in $w$")
    ax.legend()
    return _save(fig, out, "windy")


def theorem3(out: Path, points: int, facts: dict) -> list[Path]:
    """Theorem 3's bound against the measured CEBE error (inverse rewards)."""
    checks = theorem3_sweep(cliffwalking(5, 6, "inverse"), [P0], log_grid(-8.0, -3.0, points), gamma=GAMMA)
    facts["theorem3_points"] = points
    dc = np.array([check.result.dc_norm for check in checks])
    measured = np.array([check.measured for check in checks])
    bound = np.array([check.result.bound for check in checks], dtype=float)
    ratio = bound / measured
    facts["theorem3_ratio"] = (float(ratio.min()), float(ratio.max()))
    fig, ax = plt.subplots()
    ax.loglog(dc, bound, "s--", color="#D55E00", label="Theorem 3 bound")
    ax.loglog(dc, measured, "o-", color="#0072B2", label="measured error")
    ax.set(xlabel=SLIP_DC, ylabel=Q_ERROR, title=f"Theorem 3 holds, {ratio.min():.0f}-{ratio.max():.0f}x loose")
    ax.legend()
    return _save(fig, out, "theorem3")


def theorem4(out: Path, points: int, facts: dict) -> list[Path]:
    """Theorem 4 over the bound report's grid of contexts (the README's), on a linear axis (the gap is never
    negative); ``points`` does not change it."""
    contexts = transfer_contexts()
    grid = policy_transfer_over_grid(cliffwalking(5, 6, "inverse"), [P0], contexts, GAMMA)
    facts["theorem4_ratio"] = grid.max_ratio
    facts["theorem4_contexts"] = len(contexts)
    fig, ax = plt.subplots()
    ax.plot(contexts, [check.allowed for check in grid.checks], "s--", color="#D55E00",
            label=r"allowed: $2\delta + 2\varepsilon$")
    ax.plot(contexts, [check.gap for check in grid.checks], "o-", color="#0072B2", label="value gap of the CEBE policy")
    ax.axvline(P0, color="grey", linewidth=1.5, label="training context $p_0$")
    ax.set_ylim(bottom=0)
    ax.set(xlabel="test slip probability $p$ (probability)", ylabel="value gap (reward units)",
           title="Theorem 4: CEBE's policy transfers")
    ax.legend()
    return _save(fig, out, "theorem4")


def lqr(out: Path, points: int, facts: dict) -> list[Path]:
    """Deterministic CEBE (Theorem 2) on the contextual LQR: error of the Q-function's coefficients."""
    sweep = coefficient_sweep(default_lqr(), DEFAULT_CONTEXT0, log_grid(-8.0, -1.5, points))
    facts["slope_lqr"] = sweep.slopes["policy_q_error"]
    fig, ax = plt.subplots()
    labels = {"policy_q_error": "fixed policy", "optimal_q_error": "optimal policies"}
    for (column, label), style in zip(labels.items(), ("o-", "s--")):
        ax.loglog(sweep.frame["dc"], sweep.frame[column], style, markersize=4,
                  label=f"{label} (slope {sweep.slopes[column]:.3f})")
    ax.set(xlabel="context change $|dc|$ (dimensionless)", ylabel="error of the Q coefficients (cost units)",
           title="Contextual LQR: deterministic CEBE is $O(dc^2)$")
    ax.legend()
    return _save(fig, out, "lqr")


def deep_verdicts(results: Path = RESULTS) -> pd.DataFrame:
    """The protocol's verdict table (:func:`cebe_deep.report.protocol.verdict_table`) of the deep tasks with
    committed evaluation and zero-action tables under ``results/authors/``, in the paper's order."""
    folders = [results / "authors" / task for task in DEEP_TASKS if (results / "authors" / task / "zero_action.csv").exists()]
    return verdict_table(folders, simulate_missing=False, old_rule=False) if folders else pd.DataFrame()


def verdict_lines(table: pd.DataFrame) -> list[str]:
    """One handout line per task of :func:`deep_verdicts`: per comparison the primary difference [95% CI] and its
    word, marked † where a secondary analysis disagrees with the claim status
    (:func:`cebe_deep.report.protocol.disagreeing_analyses`; results/README.md names them)."""
    lines = []
    for task, group in table.groupby("folder", sort=False):
        parts = []
        for row in group.to_dict("records"):
            other = learner_name(task) if row["comparison"].endswith("baseline") else "LDR"
            mark = "†" if disagreeing_analyses(row) else ""
            parts.append(f"{other} {row['difference']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}] "
                         f"{row['word']}{mark}")
        lines.append(f"{task} ({group['paired_seeds'].min()}): " + "; ".join(parts))
    return lines


def deep_results(out: Path, facts: dict) -> list[Path]:
    """One figure per swept context coordinate (or direction angle) of each committed task: mean return and 95% CI
    per method, the training ball shaded; the legend names the task's learner (DQN for CartGoal)."""
    paths = []
    for task in DEEP_TASKS:
        # the authors'-protocol results only: the earlier quick-profile MuJoCo agents did not learn their tasks
        folder = RESULTS / "authors" / task
        if not (folder / "summary.csv").exists() or not (folder / "comparison.csv").exists():
            continue
        summary = pd.read_csv(folder / "summary.csv")
        env = make_task(task)
        c0 = np.asarray(env.unwrapped.default_context, dtype=float)
        env.close()
        labels = context_axis_labels(task, len(c0))
        learner = learner_name(task)
        summary = summary[summary["sweep"].str.startswith("context_") | (summary["sweep"] == "angle")]
        for sweep, group in summary.groupby("sweep", sort=True):
            fig, ax = plt.subplots()
            if sweep == "angle":
                center, xlabel = float(np.arctan2(c0[1], c0[0])), ANGLE_LABEL
            else:
                index = int(sweep.split("_")[1])
                center, xlabel = float(c0[index]), labels[index]
            ax.axvspan(center - EPS, center + EPS, color="grey", alpha=0.2, linewidth=0, label="training ball")
            for method, style in METHOD_STYLE.items():
                rows = group[group["method"] == method].sort_values("sweep_value")
                if rows.empty:
                    continue
                ax.plot(rows["sweep_value"], rows["mean_return"], **dict(style, label=style["label"].replace("SAC", learner)))
                ax.fill_between(rows["sweep_value"], rows["ci_low"], rows["ci_high"], color=style["color"], alpha=0.15)
            seeds = int(group["seeds"].max())
            ax.set(xlabel=xlabel, ylabel="mean episode return", title=f"{task}: mean and 95% CI over {seeds} seeds")
            ax.legend()
            paths += _save(fig, out, f"{task}_{sweep}")
    return paths


HANDOUT_THEOREMS = [
    ("Theorem 1 (stability of Q).",
     "Two MDPs whose rewards differ by at most ΔR and whose transition rows differ by at most ΔT (Wasserstein) "
     "have Q-functions, under the same Lipschitz policy, within (ΔR + C·ΔT) / (1 − γ), provided γ is small "
     "enough for the transitions' and the policy's Lipschitz constants."),
    ("Theorem 2 (deterministic CEBE).",
     "If s' = f^c(s, a) is deterministic, the Q-function of the linearized MDP is within K·|dc|² / (1 − γ) "
     "of the true one; K is made of the second derivatives of R and f in c (and first ones), under a condition on γ."),
    ("Theorem 3 (stochastic CEBE).",
     "On a finite state space, with the Euclidean projection onto the simplex, the same O(|dc|²) holds for "
     "|dc| < |∂²T|^(−1/2), with K = |∂²R| + 3γ·diam(S)(1 + L_π)|R|_Lip |∂²T| / (1 − γ max(1, diam(S) L_T (1 + L_π)))."),
    ("Theorem 4 (policy transfer).",
     "If a policy is ε-optimal for CEBE at every context of a set, and CEBE's Q is within δ of the true Q "
     "there, the policy is (2δ + 2ε)-optimal in the true CMDP at every context of the set."),
]


def handout(out: Path, facts: dict) -> Path:
    """One A4 page: the two equations, the four theorems in words, the headline numbers."""
    path = out / "handout.pdf"
    with plt.rc_context({"font.size": 10, "axes.grid": False}):
        fig = plt.figure(figsize=(8.27, 11.69))
        y = 0.955

        def line(text, size=10, weight="normal", dy=0.022, x=0.07, **kwargs):
            nonlocal y
            fig.text(x, y, text, fontsize=size, weight=weight, va="top", **kwargs)
            y -= dy

        def paragraph(text, width=105, size=10):
            for part in textwrap.wrap(text, width):
                line(part, size=size, dy=0.0185)
            line("", dy=0.006)

        line("Zero-shot context generalization: CEBE and CSE", size=17, weight="bold", dy=0.028)
        line("Chapman, Karhadkar, Montufar, NeurIPS 2025, arXiv 2507.07348  |  code: the cebe package", size=10, dy=0.04)
        line("1. The context-enhanced Bellman equation (train at $c_0$, test at $c_0 + dc$)", size=13, weight="bold", dy=0.035)
        line(r"$T_{CE}^{c}(s,a) = P\,[\,T^{c_0}(s,a) + \partial_c T^{c_0}(s,a)\,dc\,]$", size=13, dy=0.03, x=0.1)
        line(r"$R_{CE}^{c}(s,a,s') = R^{c_0}(s,a,s') + \partial_c R^{c_0}(s,a,s')\,dc$", size=13, dy=0.032, x=0.1)
        paragraph("P projects each row back onto the probability simplex. At dc = 0 this is the Bellman equation; where T "
                  "and R are affine in c it is exact.")
        line("2. Context sample enhancement (CSE): a sample moved to $c_0 + dc$", size=13, weight="bold", dy=0.035)
        line(r"$(s, a, r, s') \;\mapsto\; (\,s,\; a,\; r + \partial_c R\,dc + \partial_{s'} R\,\partial_c T\,dc,\;"
             r" s' + \partial_c T\,dc\,)$,   $|dc| = \varepsilon$", size=13, dy=0.032, x=0.1)
        paragraph("The off-policy learner (SAC, DQN) sees many contexts while the environment ran at one. The last reward "
                  "term is the chain rule: moving the context moves the next state, and the reward sees that move.")
        line("3. The theorems, in words", size=13, weight="bold", dy=0.03)
        for title, text in HANDOUT_THEOREMS:
            line(title, weight="bold", dy=0.019)
            paragraph(text)
        line("4. What the code measures", size=13, weight="bold", dy=0.03)
        bullets = [
            f"Figure 1 (5 × 6 Cliffwalking, γ = 0.9, p₀ = 0.1, {facts['figure1_points']} log-spaced dc, slope on the 10 "
            f"smallest): log-log slope of the CEBE error {facts['slope_inverse']:.3f} (goal 1/p²) and "
            f"{facts['slope_power']:.3f} (goal (1+p)^−1.5); the paper: about 2.",
            f"Windy Cliffwalking (T quadratic in the wind): slope {facts['slope_windy_projection']:.3f} with the projection, "
            f"{facts['slope_windy_renormalize']:.3f} with renormalization.",
            f"Theorem 3 on Cliffwalking (goal 1/p², {facts['theorem3_points']} dc): the bound is "
            f"{facts['theorem3_ratio'][0]:.0f}-{facts['theorem3_ratio'][1]:.0f} times the measured error; contextual LQR "
            f"(Theorem 2): slope {facts['slope_lqr']:.3f}.",
            f"Theorem 4 on Cliffwalking (goal 1/p², exact policy iteration), {facts['theorem4_contexts']} contexts p in "
            f"[0.02, 0.3]: largest gap / (2δ + 2ε) = {facts['theorem4_ratio']:.2f} (≤ 1).",
        ]
        deep = facts.get("verdict_lines", [])
        if deep:
            bullets.append("Deep RL at c₀ only (paired seeds): CSE minus SAC/DQN and LDR, mean normalized score away "
                           "from c₀ (0 = the all-zero action), 95% t-interval; † a secondary analysis disagrees "
                           "(results/PROTOCOL.md):")
        for text in deep:
            bullets.append("\t" + text)  # a tab: a sub-item of the line above
        for bullet in bullets:
            sub = bullet.startswith("\t")
            wrapped = textwrap.wrap(bullet.lstrip("\t"), 108 if sub else 100)  # sub-items in 9 pt
            line(("      · " if sub else "-  ") + wrapped[0], dy=0.0172, size=9 if sub else 10)
            for part in wrapped[1:]:
                line(("         " if sub else "   ") + part, dy=0.0172, size=9 if sub else 10)
        fig.savefig(path)
        fig.savefig(path.with_suffix(".png"), dpi=110)  # a preview for the site
        plt.close(fig)
    return path


def build(out: str | Path = DEFAULT_OUT, points: int = 100) -> list[Path]:
    """Draw every figure of the pack and the handout into ``out``; returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    facts: dict = {}
    with plt.rc_context(SLIDE_STYLE):
        paths = figure1(out, points, facts)
        paths += windy(out, points, facts)
        paths += theorem3(out, max(8, points // 4), facts)
        paths += theorem4(out, points, facts)
        paths += lqr(out, points, facts)
        paths += deep_results(out, facts)
    facts["verdict_lines"] = verdict_lines(deep_verdicts())
    paths.append(handout(out, facts))
    return paths


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: docs/_generated/teacher_pack)")
    parser.add_argument("--points", type=int, default=100,
                        help="dc values per error sweep (default 100, the paper's and the README's)")
    args = parser.parse_args(argv)
    for path in build(args.out, args.points):
        print(path)


if __name__ == "__main__":
    main()
