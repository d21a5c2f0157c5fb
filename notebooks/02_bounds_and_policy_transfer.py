# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · The bounds, policy transfer, and deterministic CEBE on an LQR
#
# **What you will learn**
#
# 1. What each constant in Theorems 1–3 of arXiv 2507.07348 is, computed on Cliffwalking, and how the bound
#    compares with the error we measure exactly.
# 2. When a theorem's *condition* fails (a discount too large for the policy's Lipschitz constant, a step
#    $|dc|$ too large), and why the package then refuses to give a number.
# 3. Theorem 4: a policy optimal for CEBE is $(2\delta + 2\varepsilon)$-optimal in the true CMDP, checked
#    over a grid of contexts.
# 4. Deterministic CEBE (Theorem 2) on a contextual linear-quadratic regulator, where every Q-function is
#    an exact quadratic form.
#
# The norms are read with the **discrete metric** on states: $W_1$ is then the total-variation distance,
# $\mathrm{diam}(S) = 1$ and a Lipschitz constant is an oscillation (`cebe_theory.bounds` docstring).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from cebe_theory import (
    cliffwalking,
    coefficient_sweep,
    default_lqr,
    log_grid,
    policy_transfer_over_grid,
    theorem1_check,
    theorem2_sweep,
    theorem3_bound,
    theorem3_sweep,
    windy_cliffwalking,
)
from cebe_theory.bounds import checks_frame
from cebe_theory.lqr import DEFAULT_CONTEXT0

SMALL = os.environ.get("CEBE_NOTEBOOK_BUDGET", "full") == "small"
POINTS = 8 if SMALL else 24
GRID = 8 if SMALL else 25

# %% [markdown]
# ## 1. Theorem 3: stochastic CEBE, every constant shown
#
# For a finite state space and the Euclidean projection, if $|c-c_0| < |\partial_c^2 T|^{-1/2}$,
#
# $$|Q_{CE}^c - Q_{BE}^c|_\infty \le \frac{|c-c_0|^2}{1-\gamma}\left(|\partial_c^2 R| + \frac{3\gamma\,\mathrm{diam}(S)(1+L_\pi)|R|_{Lip}|\partial_c^2 T|}{1-\gamma\max(1, \mathrm{diam}(S) L_T (1+L_\pi))}\right).$$
#
# On the *windy* Cliffwalking (transitions quadratic in the wind $w$) both terms are alive:

# %%
windy = windy_cliffwalking(5, 6, "power")
result = theorem3_bound(windy, [-0.2], [0.05], policy="uniform", gamma=0.9)
print(result)

# %% [markdown]
# The uniform policy has $L_\pi = 0$ (all its rows are equal). A deterministic policy has $L_\pi = 1$, so the
# condition $\gamma \max(1, L_T (1+L_\pi)) < 1$ needs $\gamma < 1/2$: at $\gamma = 0.9$ the theorem says nothing,
# and the package says so instead of printing a number.

# %%
from cebe_theory import policy_iteration, greedy_policy  # noqa: E402

optimal_at_w0 = policy_iteration(windy.mdp([-0.2]), 0.9).q
deterministic = greedy_policy(optimal_at_w0)
print(theorem3_bound(windy, [-0.2], [0.05], policy=deterministic, gamma=0.9).failed_conditions)
print(theorem3_bound(windy, [-0.2], [0.05], policy=deterministic, gamma=0.45).conditions_hold)

# %% [markdown]
# ### Bound against measurement over a sweep
# `theorem3_sweep` evaluates the bound and the exact error $\max_{s,a}|Q_{CE}-Q_{BE}|$ at each $dc$; the ratio
# bound / measured tells how loose the bound is (it must never drop below 1 where the conditions hold).

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for family, high in (("inverse", -3.0), ("power", -1.0)):
    checks = theorem3_sweep(cliffwalking(5, 6, family), [0.1], log_grid(-8.0, high, POINTS), gamma=0.9)
    dc = np.array([check.result.dc_norm for check in checks])
    measured = np.array([check.measured for check in checks])
    bound = np.array([check.result.bound for check in checks], dtype=float)
    axes[0].loglog(dc, measured, "o-", ms=3, label=f"{family}: measured")
    axes[0].loglog(dc, bound, "s--", ms=3, label=f"{family}: Theorem 3 bound")
    axes[1].semilogx(dc, bound / measured, "d-", ms=3, label=family)
    assert all(check.within_bound for check in checks)
axes[0].set(xlabel="|dc|", ylabel=r"$\max|Q_{CE}-Q_{BE}|$", title="Cliffwalking, uniform policy, $\\gamma=0.9$")
axes[1].set(xlabel="|dc|", ylabel="bound / measured", title="Tightness of Theorem 3")
axes[0].legend(fontsize=7)
axes[1].legend()
plt.tight_layout()

# %% [markdown]
# ## 2. Theorem 1: two nearby MDPs
#
# Theorem 1 bounds $|Q_1 - Q_2|_\infty$ by the distance between rewards and transitions. With
# $\mathcal M_1 = \mathcal M(p_0)$ and $\mathcal M_2 = \mathcal M(p_0 + dc)$:

# %%
power = cliffwalking(5, 6, "power")
check = theorem1_check(power.mdp([0.1]), power.mdp([0.15]), policy="uniform", gamma=0.9)
print(check)

# %% [markdown]
# ## 3. Theorem 4: policy transfer over a grid of contexts
#
# Optimize CEBE (built once at $p_0 = 0.1$) at every test context $c$, then evaluate that policy in the
# *true* MDP $\mathcal M(c)$. Theorem 4: the gap to the true optimum is at most $2\delta + 2\varepsilon$, with
# $\delta$ the CEBE error and $\varepsilon$ the optimization tolerance (0 for exact policy iteration).
# `suboptimality=1.0` picks deliberately worse CEBE policies, so that the $\varepsilon$ term is exercised too.

# %%
contexts = np.linspace(0.02, 0.3, GRID)
fig, ax = plt.subplots(figsize=(6.5, 4))
for suboptimality in (0.0, 1.0):
    grid = policy_transfer_over_grid(cliffwalking(5, 6, "inverse"), [0.1], contexts, 0.9, suboptimality=suboptimality)
    frame = grid.to_frame()
    ax.plot(contexts, [c.gap for c in grid.checks], "o-", ms=3, label=f"gap, eps-target {suboptimality:g}")
    ax.plot(contexts, [c.allowed for c in grid.checks], "--", label=f"2 delta + 2 eps, eps-target {suboptimality:g}")
    print(f"suboptimality {suboptimality}: holds everywhere = {grid.holds}, largest gap / (2 delta + 2 eps) = {grid.max_ratio:.3f}")
ax.axvline(0.1, color="grey", lw=0.8, label="$p_0$")
ax.set(xlabel="slip probability p (test context)", ylabel="value gap", yscale="symlog", title="Theorem 4 on Cliffwalking (inverse rewards)")
ax.legend(fontsize=7)

# %% [markdown]
# ## 4. Deterministic CEBE on a contextual LQR (Theorem 2)
#
# $x' = A(c)x + B(c)u$ with a quadratic cost: every Q-function is $Q(z) = -z^\top G z$ with $z = (x, u)$, from
# a discrete Lyapunov equation (fixed policy $u = Kx$) or Riccati equation (optimal policy). Linearizing $A$, $B$
# and the cost in $c$ gives another LQR (deterministic CEBE, whose accuracy is the paper's Theorem 2), so the error is exact arithmetic:

# %%
lqr = default_lqr()
dcs = log_grid(-8.0, -1.5, 4 * POINTS)
sweep = coefficient_sweep(lqr, DEFAULT_CONTEXT0, dcs)
print({name: round(slope, 4) for name, slope in sweep.slopes.items()})
fig, ax = plt.subplots(figsize=(6.5, 4))
for column in ("policy_q_error", "policy_value_error", "optimal_q_error", "optimal_value_error"):
    ax.loglog(sweep.frame["dc"], sweep.frame[column], label=f"{column}: slope {sweep.slopes[column]:.3f}")
ax.set(xlabel="|dc|", ylabel="error", title="Contextual LQR: CEBE error is $O(dc^2)$")
ax.legend(fontsize=7)

# %% [markdown]
# Theorem 2 on the compact, invariant set $\{|x|\le 1\}\times\{|u|\le 1\}$: every row shows the bound next to the
# exact error (rows where the discount condition fails carry no bound).

# %%
checks = theorem2_sweep(lqr, DEFAULT_CONTEXT0, log_grid(-6.0, -1.0, 5), gamma=0.8)
print(checks[-1])  # every constant, for the largest dc
checks_frame(checks)[["|dc|", "conditions", "bound", "measured", "ratio"]]

# %% [markdown]
# ## Exercises
#
# 1. Raise $\gamma$ from 0.45 towards 0.5 for the deterministic policy on the windy Cliffwalking. What happens
#    to the denominator $1-\gamma\max(1, L_T(1+L_\pi))$ and to the bound?
# 2. The bound of Theorem 3 is 20–30 times the measured error on Cliffwalking. Which constant is most
#    pessimistic? (Hint: compare $|R|_{Lip}$ with the oscillation of $R$ within one row.)
# 3. In the LQR, change $B(c)$ to be affine in $c$ and the costs constant (build your own `ContextualLQR`).
#    What does the error sweep show, and why?
