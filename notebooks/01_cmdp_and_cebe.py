# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Contextual MDPs and the context-enhanced Bellman equation
#
# **What you will learn**
#
# 1. What a *contextual MDP* is, on the paper's Cliffwalking, and how sympy gives its context
#    derivatives $\partial_c T$ and $\partial_c R$ exactly.
# 2. The *context-enhanced Bellman equation* (CEBE, arXiv 2507.07348): the first-order expansion of $T$ and $R$
#    around the training context $c_0$.
# 3. Why its Q-function is within $O(|c-c_0|^2)$ of the true one: a three-step derivation, checked number by
#    number, then Figure 1 of the paper, reproduced.
# 4. Where CEBE is *exact*, and where the projection onto the simplex has to act.
#
# Everything here calls the `cebe_theory` package; nothing is reimplemented in the notebook.
#
# **Run time.** Top to bottom at the default budget: 16 s on a 2-core machine (measured with
# `jupyter nbconvert --execute`, the machine also running other jobs at a load average of about 5).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sympy

from cebe_theory import (
    FirstOrderExpansion,
    TabularMDP,
    cliffwalking,
    error_sweep,
    evaluate_policy,
    log_grid,
    uniform_policy,
    windy_cliffwalking,
)
from cebe_theory.bellman import bellman_backup
from cebe_theory.course_figures import plot_cliffwalking_grid
from cebe_theory.figures import plot_error_sweeps, SweepCase

# CI and the course site set CEBE_NOTEBOOK_BUDGET=small (shorter sweeps and training); a student runs the full budget.
SMALL = os.environ.get("CEBE_NOTEBOOK_BUDGET", "full") == "small"
POINTS = 20 if SMALL else 100

# %% [markdown]
# ## 1. A contextual MDP
#
# A contextual MDP is a family $\mathcal M(c) = (S, A, T^c, R^c, \gamma)$ indexed by a context $c$.
# In Cliffwalking (5 × 6 grid, start bottom-left, cliff along the bottom row, goal bottom-right) the
# context is the **slip probability** $p$: the intended move happens with probability $1-p$ and each of the
# other three with $p/3$. Rewards (the paper's "reward 1"): goal $1/p^2$, fall $-100/p$.

# %%
cmdp = cliffwalking(rows=5, cols=6, family="inverse")
cmdp

# %% [markdown]
# The whole transition and reward structure uses only a handful of distinct expressions of $p$.
# sympy differentiates each once; these are the $\partial_p T$ and $\partial_p R$ that CEBE needs.
#
# **Notation.** In notebooks 01 and 02, $\partial_c T$ is the derivative of the *transition kernel*: one number
# $\partial_c T(s' \mid s, a)$ per triple (a vector of them when $c$ is a vector), and each row of it sums to 0.
# Notebook 03 has deterministic transitions $s' = f^c(s, a)$ instead; there the object is the *Jacobian*
# $\partial_c f$ of the next state (a state_dim × context_dim matrix), and we write $\partial_c f$, never
# $\partial_c T$, for it.

# %%
p = cmdp.context_symbols[0]
for expression, (first,) in zip(cmdp.expressions.expressions, cmdp.expressions.first_derivatives):
    print(f"{str(expression):>12}   d/dp = {sympy.simplify(first)}")

# %% [markdown]
# At a context, the CMDP becomes an ordinary MDP: a sparse $T$ of shape $(|S||A|, |S|)$ (row $s|A|+a$)
# and a reward on the same pattern. Here is the grid (row 0 at the bottom: **S** start, **C** cliff, **G** goal;
# cliff and goal are absorbing), with the row of $T$ for "down" from the cell above the first cliff cell drawn
# as arrows, at $p_0 = 0.1$:

# %%
p0 = 0.1
action_down = 3  # actions: 0 left, 1 right, 2 up, 3 down
mdp = cmdp.mdp([p0])
above_cliff = cmdp.state_index(1, 1)
row = mdp.transition[above_cliff * 4 + action_down]
for next_state, probability in zip(row.indices, row.data):
    reward = mdp.reward[above_cliff * 4 + action_down, next_state]
    print(f"to {cmdp.state_labels[next_state]}: T = {probability:.4f}, R = {reward:.1f}")
fig, ax = plt.subplots(figsize=(6.5, 5.5))
plot_cliffwalking_grid(ax, cmdp, context=[p0], state=above_cliff, action=action_down);

# %% [markdown]
# ## 2. The Bellman equation and the context-enhanced Bellman equation
#
# Fix a policy $\pi(a \mid s, c)$. The true Q-function at context $c$ solves the ordinary **Bellman equation**
# of $\mathcal M(c)$; we call it $Q_{BE}$:
#
# \begin{equation*}
# \begin{aligned} Q_{BE}^\pi(s,a,c) = \mathbb E_{s'\sim T^c(s,a)}\Big[&R^c(s,a,s') \\
#   &+ \gamma\,\mathbb E_{a'\sim\pi(s',c)}\, Q_{BE}^\pi(s',a',c)\Big]. \end{aligned} \tag{BE}
# \end{equation*}
#
# With $dc = c - c_0$, stochastic CEBE (arXiv 2507.07348) replaces $T^c$ and $R^c$ by their first-order
# expansion around $c_0$:
#
# $$T_{CE}^c(s,a) = P\big[T^{c_0}(s,a) + \partial_c T^{c_0}(s,a)\,dc\big], \tag{CE-T}$$
#
# $$R_{CE}^c(s,a,s') = R^{c_0}(s,a,s') + \partial_c R^{c_0}(s,a,s')\,dc, \tag{CE-R}$$
#
# with $P$ the Euclidean projection onto the probability simplex (each row becomes a distribution again), and
# $Q_{CE}$ solves the Bellman equation of this MDP:
#
# \begin{equation*}
# \begin{aligned} Q_{CE}^\pi(s,a,c) = \mathbb E_{s'\sim T_{CE}^c(s,a)}\Big[&R_{CE}^c(s,a,s') \\
#   &+ \gamma\,\mathbb E_{a'\sim\pi(s',c)}\, Q_{CE}^\pi(s',a',c)\Big]. \end{aligned} \tag{CEBE}
# \end{equation*}
#
# Only $T^{c_0}$, $R^{c_0}$ and their derivatives at $c_0$ enter (CEBE): it can be solved without ever visiting
# $c$. We solve both equations exactly (a sparse linear solve) for the uniform policy and compare. The error is
# printed next to the scale of the Q-function it is an error of.

# %%
gamma = 0.9
expansion = FirstOrderExpansion.at(cmdp, [p0])
policy = uniform_policy(mdp)
rows = []
for dc in (0.0, 0.0001, 0.001, 0.01, 0.04):
    bellman_q = evaluate_policy(cmdp.mdp([p0 + dc]), policy, gamma)
    cebe_q = evaluate_policy(expansion.mdp([dc]), policy, gamma)
    error = np.max(np.abs(cebe_q - bellman_q))
    rows.append({"dc": dc, "max |Q_BE|": np.max(np.abs(bellman_q)), "max |Q_CE - Q_BE|": error,
                 "relative error": error / np.max(np.abs(bellman_q)), "error / dc^2": error / dc**2 if dc else np.nan})
pd.DataFrame(rows).set_index("dc").map(lambda value: "0/0" if np.isnan(value) else f"{value:.4g}")  # 4 digits

# %% [markdown]
# At $dc = 0$ CEBE *is* the Bellman equation (the last column reads `0/0` there). The Q-values run to several
# hundred (column `max |Q_BE|`; the fall reward is $-100/p = -1000$ at $p_0$). Each tenfold increase of $dc$
# multiplies the error by about a hundred, so `error / dc^2` tends to a constant as $dc \to 0$ and drifts away from
# it only at the larger $dc$ (about 30% lower at $dc = 0.04$): the error is second order in $dc$. Why?
#
# ## 3. Why the error is $O(|dc|^2)$
#
# Fix $c = c_0 + dc$ and $\pi$. For a kernel $T$ and reward $R$ write the one-step (Bellman) operator
#
# $$(\mathcal B_{T,R}\,Q)(s,a) = \sum_{s'} T(s' \mid s,a)\Big[R(s,a,s') + \gamma \sum_{a'} \pi(a' \mid s')\,Q(s',a')\Big],$$
#
# so that (BE) reads $Q_{BE} = \mathcal B_{T^c,R^c} Q_{BE}$ and (CEBE) reads $Q_{CE} = \mathcal B_{T_{CE},R_{CE}} Q_{CE}$.
# Let $V_{BE}(s') = \sum_{a'} \pi(a' \mid s') Q_{BE}(s', a')$.
#
# **Step 1: the first-order residuals are second order.** Taylor's theorem with remainder, entry by entry, gives
# for some $\xi, \xi'$ on the segment $[c_0, c]$ (one per entry)
#
# $$\begin{aligned} T^{c_0} + \partial_c T^{c_0}\,dc - T^c &= -\tfrac12\, dc^\top \partial_c^2 T^{\xi}\, dc, \\
#   R_{CE}^c - R^c &= -\tfrac12\, dc^\top \partial_c^2 R^{\xi'}\, dc . \end{aligned}$$
#
# The projection does not spoil this: $T^c$ is already a distribution, and $P$ moves a row summing to 1 by at most
# twice its $\ell_1$ distance to any distribution, so $|T_{CE}^c - T^c|_1 \le 3 \cdot \tfrac12 |\partial_c^2 T|\,|dc|^2$.
#
# **Step 2: the residual that $Q_{BE}$ sees.** Apply CEBE's operator to the true Q-function:
#
# $$\begin{aligned} \rho &:= \mathcal B_{T_{CE},R_{CE}} Q_{BE} - Q_{BE} \\
#   &= \sum_{s'} T_{CE}\,(R_{CE} - R^c) + \sum_{s'} (T_{CE} - T^c)\,\big(R^c + \gamma V_{BE}\big)(s'). \end{aligned}$$
#
# Both terms are a Step-1 residual times a bounded quantity, so $\rho = O(|dc|^2)$. (In the second term only the
# spread $\max - \min$ of $R^c + \gamma V_{BE}$ over $s'$ counts, since each row of $T_{CE} - T^c$ sums to 0.)
#
# **Step 3: propagate through $(I - \gamma P_\pi)^{-1}$.** Subtract $Q_{BE} = \mathcal B_{T_{CE},R_{CE}} Q_{BE} - \rho$
# from $Q_{CE} = \mathcal B_{T_{CE},R_{CE}} Q_{CE}$. The rewards cancel and what is left is linear:
#
# \begin{equation*}
# \begin{aligned} Q_{CE} - Q_{BE} &= \gamma P^{CE}_\pi\,(Q_{CE} - Q_{BE}) + \rho, \quad\text{so} \\
#   Q_{CE} - Q_{BE} &= (I - \gamma P^{CE}_\pi)^{-1} \rho = \sum_{k \ge 0} \gamma^k (P^{CE}_\pi)^k \rho, \end{aligned} \tag{3.1}
# \end{equation*}
#
# with $P^{CE}_\pi\big((s,a),(s',a')\big) = T_{CE}(s' \mid s,a)\,\pi(a' \mid s')$, a stochastic matrix. Each term of the
# sum is at most $|\rho|_\infty$, so
#
# \begin{equation*}
# \begin{aligned} |Q_{CE} - Q_{BE}|_\infty &\le \frac{|\rho|_\infty}{1-\gamma} \\
#   &\le \frac{|dc|^2}{1-\gamma}\Big(\tfrac12 |\partial_c^2 R| \\
#   &\qquad\quad + \tfrac34 |\partial_c^2 T|\,\big(\max - \min\big)(R^c + \gamma V_{BE})\Big).
#   \end{aligned} \tag{3.2}
# \end{equation*}
#
# Here $|\partial_c^2 R|$ is the largest second derivative of $R$ over all $(s, a, s')$ and all contexts of the segment
# $[c_0, c]$, and $|\partial_c^2 T|$ the largest $\ell_1$ norm (a sum over $s'$) of a row of second derivatives of $T$.
# The error is second order because the residual is; the horizon $1/(1-\gamma)$ only multiplies the constant.
# The paper states a bound of this form, with its own constants, as its Theorem 3; notebook 02 computes each
# constant. Here $T$ is affine in $p$ (every entry is $1-p$ or $p/3$), so $\partial_p^2 T = 0$ and all of $\rho$ is
# the reward's Taylor remainder.
#
# **Check, number by number.** The package computes $Q_{BE}$ and $Q_{CE}$; `bellman_backup` applies CEBE's
# operator to $V_{BE}$, which gives $\rho$; and (3.1) says $Q_{CE} - Q_{BE}$ is the Q-function of an MDP with
# CEBE's transitions and reward $\rho$, which `evaluate_policy` solves.

# %%
n_states, n_actions = mdp.n_states, mdp.n_actions
rows = []
for dc in (0.0001, 0.001, 0.01, 0.04):
    true_mdp, cebe_mdp = cmdp.mdp([p0 + dc]), expansion.mdp([dc])
    bellman_q = evaluate_policy(true_mdp, policy, gamma)
    cebe_q = evaluate_policy(cebe_mdp, policy, gamma)
    bellman_v = (policy * bellman_q).sum(axis=1)
    residual = bellman_backup(cebe_mdp, bellman_v, gamma) - bellman_q  # rho of step 2
    residual_mdp = TabularMDP.from_dense(cebe_mdp.transition.toarray().reshape(n_states, n_actions, n_states), residual)
    propagated = evaluate_policy(residual_mdp, policy, gamma)  # (I - gamma P_CE)^-1 rho, (3.1)
    error = np.max(np.abs(cebe_q - bellman_q))
    rows.append({"dc": dc, "max |rho|": np.max(np.abs(residual)), "max |rho| / dc^2": np.max(np.abs(residual)) / dc**2,
                 "max |Q_CE - Q_BE|": error, "max |rho| / (1 - gamma)": np.max(np.abs(residual)) / (1 - gamma),
                 "(3.1) misses by": np.max(np.abs(propagated - (cebe_q - bellman_q))), "max |Q_BE|": np.max(np.abs(bellman_q))})
pd.DataFrame(rows).set_index("dc").map("{:.4g}".format)

# %% [markdown]
# Reading the columns: `max |rho| / dc^2` tends to a constant as $dc \to 0$ (Step 2: $\rho$ is second order); the
# error `max |Q_CE - Q_BE|` stays below `max |rho| / (1 - gamma)` (the bound (3.2)); and (3.1) holds to round-off
# (column `(3.1) misses by`, next to Q-values of size `max |Q_BE|`).
#
# ## 4. Figure 1: the error curve and its slope
#
# The paper sweeps $dc$ from $e^{-8}$ to $e^{-3}$ (reward 1) or $e^{-1}$ (reward 2) on 100 log-spaced points and
# fits the log-log slope on the 10 smallest. So does this notebook at its full budget, and its slopes are then
# the README's (`cebe-theory reproduce`). At the small budget (`CEBE_NOTEBOOK_BUDGET=small`, as on the course
# site) the sweep has 20 points: the 10 smallest then reach further out, where the error bends away from the
# $dc^2$ line, and the fitted slope comes out a little lower.

# %%
sweeps = []
for family, high in (("inverse", -3.0), ("power", -1.0)):
    sweep = error_sweep(cliffwalking(5, 6, family), [p0], log_grid(-8.0, high, POINTS), gamma=gamma)
    sweeps.append(SweepCase("figure1", family, "cliffwalking", family, sweep))
    print(f"{family:>8}: fitted slope {sweep.fitted_slope:.4f} (on the 10 smallest of {POINTS} dc)")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, case, title in zip(axes, sweeps, ("Figure 1a: goal $1/p^2$, fall $-100/p$", "Figure 1b: goal $(1+p)^{-1.5}$, fall $-10/(1+p)$")):
    plot_error_sweeps(ax, [case], title=title)
plt.tight_layout()

# %% [markdown]
# ## 5. Where CEBE is exact, and where the projection acts
#
# In the paper's Cliffwalking every transition probability is $1-p$ or $p/3$ (or a sum): **$T$ is affine in
# $p$**, so $T^{c_0} + \partial_p T\,dc = T^{c_0+dc}$ exactly. With the constant reward family (goal $+1$,
# fall $-100$) $R$ does not depend on $p$ either, so both residuals of Step 1 vanish and CEBE is exact for every
# $dc$: the error is round-off.

# %%
constant = error_sweep(cliffwalking(5, 6, "constant"), [p0], log_grid(-8.0, -1.0, POINTS), gamma=gamma)
constant_scale = np.max(np.abs(evaluate_policy(cliffwalking(5, 6, "constant").mdp([p0]), policy, gamma)))
print(f"constant rewards: largest error over the sweep = {constant.sup_error.max():.1e}, for Q-values up to {constant_scale:.1f}")

# %% [markdown]
# For the same reason the projection $P$ never acts in the paper's experiment. The *windy* Cliffwalking makes
# the slip probability a nonlinear function of a crosswind $w$: $p(w) = w^2$, so $T$ is quadratic in $w$. At
# $w_0 = -0.2$ the linearized slip $w_0^2 + 2w_0\,dw$ turns negative for $dw > 0.1$: there the first-order
# rows leave the simplex, and the Euclidean projection (the paper) and the renormalization (the authors'
# code) give different MDPs. Both errors remain $O(dw^2)$.

# %%
windy = windy_cliffwalking(5, 6, "constant")
cases = [
    SweepCase("windy", variant, "windy", "constant",
              error_sweep(windy, [-0.2], log_grid(-8.0, -1.0, POINTS), gamma=gamma, transition_variant=variant))
    for variant in ("projection", "renormalize")
]
fig, ax = plt.subplots(figsize=(6, 4))
plot_error_sweeps(ax, cases, title="Windy Cliffwalking: grey where the projection acts")

# %% [markdown]
# ## Exercises
#
# Five exercises, from derivations by hand to a question about the projection. In the teacher edition and on the
# course site each solution follows its exercise, folded away (on the site: click to open; in JupyterLab: click the
# collapsed cells); the student edition leaves them out. Try first. Where an answer can be checked, the cell under the exercise ends with `check(...)`: put your answer in
# place of its `None` and run the cell.

# %% [markdown]
# :::{admonition} Teaching note
# :class: dropdown
#
# Exercises 1 and 2 are pencil-and-paper work of 10 to 15 minutes each, a good start in class; exercises 3 to 5 run
# in seconds. In exercise 2 the usual slips are the $\tfrac12$ of Taylor's remainder and the probability $1 - p_0$
# of the move that lands in the cliff. In exercise 3 a student who writes `sympy.Symbol("p")` gets an `InputError`
# from the package: that is what the remark on `SLIP` prepares. Exercise 5 links back to §5: ask why the projection
# cannot act for small $dw$ before anyone runs a sweep. All five exercises have a check; `cebe-course grade` runs a
# returned notebook and reports each of them.
# :::

# %%
from cebe_course import check  # says right, or not yet with a hint; never the solution

# %% [markdown]
# :::{exercise} $\partial_p T$ by hand
# :label: nb01-derivative
#
# Take the row printed in §1: the action "down" from the cell above the first cliff cell. Write each of its
# transition probabilities as a function of the slip $p$ and differentiate by hand. Then check your
# $\partial_p T$ against a central finite difference of `cmdp.mdp([p]).transition` and against sympy.
# :::

# %%
my_row_derivative = None  # TODO: the row of d_p T, as {next-state label: derivative} or an array over the states
check("nb01-derivative", my_row_derivative)

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-start} nb01-derivative
# :class: dropdown
# :::
#
# The intended move (into the cliff) happens with probability $1 - p$, each of the three other moves (left,
# right, up: all open cells here) with $p/3$. So
# $\partial_p T = -1$ for the cliff cell and $+1/3$ for each of the three others, whatever $p$: the row is affine
# in $p$, its derivatives sum to zero (the row keeps summing to one), and the finite difference is exact up to
# round-off.

# %% jupyter={"source_hidden": true}
step = 1e-4
finite_difference = (cmdp.mdp([p0 + step]).transition[above_cliff * 4 + action_down]
                     - cmdp.mdp([p0 - step]).transition[above_cliff * 4 + action_down]) / (2 * step)
for next_state, derivative in zip(finite_difference.indices, finite_difference.data):
    print(f"to {cmdp.state_labels[next_state]}: dT/dp = {derivative:+.6f}")
print("sympy:", sympy.diff(1 - p, p), "and", sympy.diff(p / 3, p))
check("nb01-derivative", {cmdp.state_labels[s]: d for s, d in zip(finite_difference.indices, finite_difference.data)})

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-end}
# :::

# %% [markdown]
# :::{exercise} The residual by hand
# :label: nb01-residual
#
# With pencil and paper, predict the limit of the column `max |rho| / dc^2` of §3 as $dc \to 0$ (reward 1: goal
# $1/p^2$, fall $-100/p$, at $p_0 = 0.1$). Hints: $T$ is affine in $p$, so only the first term of $\rho$ in Step 2 is left,
# and Step 1 gives $R_{CE} - R^c$ to leading order. Which state-action pair has the largest $|\rho|$? Check your number
# against $\rho$ at $dc = 10^{-5}$.
# :::

# %%
my_rho_limit = None  # TODO: your prediction of the limit of max |rho| / dc^2, a number
check("nb01-residual", my_rho_limit)

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-start} nb01-residual
# :class: dropdown
# :::
#
# With $\partial_p^2 T = 0$, $\rho(s,a) = \sum_{s'} T_{CE}(s' \mid s,a)\,(R_{CE} - R^c)(s,a,s') \approx -\tfrac12 dc^2 \sum_{s'} T(s' \mid s,a)\,\partial_p^2 R(s,a,s')$.
# Rewards are paid on landing, so only landings in the cliff or the goal count. The fall reward $-100/p$ has
# $\partial_p^2 = -200/p^3 = -2\times 10^5$ at $p_0$, the goal reward $1/p^2$ has $6/p^4 = 6 \times 10^4$. The largest
# $|\rho|$ comes from an intended move into the cliff (probability $1 - p_0 = 0.9$, for instance "down" from above a
# cliff cell): $\max|\rho|/dc^2 \to \tfrac12 \cdot 0.9 \cdot 2\times10^5 = 9\times 10^4$.

# %% jupyter={"source_hidden": true}
second_derivative = float(sympy.diff(cmdp.fall_reward, p, 2).subs(p, p0))
predicted = 0.5 * (1 - p0) * abs(second_derivative)
small = 1e-5
bellman_q = evaluate_policy(cmdp.mdp([p0 + small]), policy, gamma)
residual = bellman_backup(expansion.mdp([small]), (policy * bellman_q).sum(axis=1), gamma) - bellman_q
state, action = np.unravel_index(np.argmax(np.abs(residual)), residual.shape)
print(f"predicted limit {predicted:.6g}; max |rho| / dc^2 at dc = {small:g}: {np.abs(residual).max() / small**2:.6g}")
print(f"attained at {cmdp.state_labels[state]}, action {cmdp.action_labels[action]}")
check("nb01-residual", predicted)

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-end}
# :::

# %% [markdown]
# :::{exercise} A reward family of your own
# :label: nb01-custom-reward
#
# Build `cliffwalking(family="custom", goal_reward=..., fall_reward=...)` with the goal reward $e^{-5p}$ (and the
# fall reward $-100$). The rewards must be sympy expressions of the package's own slip symbol,
# `cebe_theory.cliffwalking.SLIP`: a fresh `sympy.Symbol("p")` is a different symbol (it lacks `positive=True`)
# and the package refuses it. Predict the fitted slope before you run the sweep. What happens to the *constant*
# in front of $dc^2$ when you multiply the exponent by 10?
# :::

# %%
my_constant_ratio = None  # TODO: (error / dc^2 with goal exp(-50 p)) / (the same with exp(-5 p)), a number
check("nb01-custom-reward", my_constant_ratio)

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-start} nb01-custom-reward
# :class: dropdown
# :::
#
# $T$ is affine in $p$, so all of CEBE's error comes from the reward, whose first-order expansion misses
# $\tfrac12 R''(p_0)\,dc^2$: the slope is 2. With $R = e^{-kp}$, $R'' = k^2 e^{-kp}$. From $k = 5$ to $k = 50$ at
# $p_0 = 0.1$ the second derivative grows by $100\, e^{-4.5} \approx 1.1$: the exponent's factor 100 is almost
# cancelled by the smaller reward $e^{-5}$ against $e^{-0.5}$. The measured constants agree.

# %% jupyter={"source_hidden": true}
from cebe_theory.cliffwalking import SLIP  # noqa: E402

constants = {}
for rate in (5, 50):
    custom = cliffwalking(5, 6, "custom", goal_reward=sympy.exp(-rate * SLIP), fall_reward=sympy.Integer(-100))
    sweep = error_sweep(custom, [p0], log_grid(-8.0, -3.0, POINTS), gamma=gamma)
    constants[rate] = sweep.sup_error[0] / sweep.dc[0] ** 2
    print(f"goal exp(-{rate} p): fitted slope {sweep.fitted_slope:.3f}, error / dc^2 at the smallest dc = {constants[rate]:.4g}")
print(f"ratio of the constants: {constants[50] / constants[5]:.3f}; predicted 100 exp(-4.5) = {100 * np.exp(-4.5):.3f}")
check("nb01-custom-reward", constants[50] / constants[5])

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-end}
# :::

# %% [markdown]
# :::{exercise} Optimal policies
# :label: nb01-optimal
#
# Sweep with `policy="optimal"` (each MDP with its own optimal Q). Is the slope still 2? Can the optimal
# *policy* of CEBE differ from the true one at some $dc$? (Hint: compare `policy_iteration(...).policy` for
# `cmdp.mdp([p0 + dc])` and `expansion.mdp([dc])`.)
# :::

# %%
my_optimal_slope = None  # TODO: the fitted slope of the sweep with policy="optimal", a number
check("nb01-optimal", my_optimal_slope)

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-start} nb01-optimal
# :class: dropdown
# :::
#
# The slope stays 2: $Q^*$ is a maximum of Q-functions, and the $O(dc^2)$ bound holds for each policy. The
# policies agree for small $dc$ (the optimal action wins by a margin that a tiny perturbation cannot overturn)
# and can differ once $dc$ is large enough that CEBE's error exceeds the margin between the best and second-best
# action in some state. Where they differ, Theorem 4 (notebook 02) bounds what that costs.

# %% jupyter={"source_hidden": true}
from cebe_theory import policy_iteration  # noqa: E402

optimal_sweep = error_sweep(cmdp, [p0], log_grid(-8.0, -3.0, POINTS), gamma=gamma, policy="optimal")
print(f"optimal policies: fitted slope {optimal_sweep.fitted_slope:.4f}")
for dc in (0.001, 0.01, 0.05, 0.2, 0.5):
    true_policy = policy_iteration(cmdp.mdp([p0 + dc]), gamma).policy
    cebe_policy = policy_iteration(expansion.mdp([dc]), gamma).policy
    print(f"dc = {dc:5.3f}: the optimal policies differ in {int(np.sum(true_policy != cebe_policy))} of {true_policy.size} states")
check("nb01-optimal", optimal_sweep.fitted_slope)

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-end}
# :::

# %% [markdown]
# :::{exercise} When does the projection act?
# :label: nb01-projection
#
# In the windy Cliffwalking, predict the smallest $dw > 0$ at which the projection starts to act, as a function of
# $w_0 < 0$, and check it for $w_0 = -0.2, -0.1, -0.05$ with `error_sweep(...).projection_acts`. Why can the
# projection never act for arbitrarily small $dw$ when $w_0 \neq 0$? What happens at $w_0 = 0$?
# :::

# %%
my_projection_threshold = None  # TODO: a function of w0 < 0: the smallest dw > 0 at which the projection acts
check("nb01-projection", my_projection_threshold)

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-start} nb01-projection
# :class: dropdown
# :::
#
# The linearized slip is $w_0^2 + 2 w_0\,dw$, negative once $dw > |w_0|/2$ (for $w_0 < 0$ and $dw > 0$). For
# $w_0 \neq 0$ every probability of the row at $w_0$ is positive, and a perturbation smaller than the smallest of
# them keeps the row inside the simplex: the projection has nothing to do. At $w_0 = 0$ the slip $w^2$ has
# derivative 0, so CEBE keeps the slip at exactly 0 for every $dw$: the rows never leave the simplex, and all of
# the error is the missing $dw^2$.

# %% jupyter={"source_hidden": true}
for w0 in (-0.2, -0.1, -0.05, 0.0):
    windy_sweep = error_sweep(windy, [w0], np.linspace(0.005, 0.3, 60), gamma=gamma)
    acting = windy_sweep.dc[windy_sweep.projection_acts]
    first = f"{acting.min():.3f}" if acting.size else "never (on this grid)"
    print(f"w0 = {w0:+.2f}: projection acts from dw = {first}; predicted |w0|/2 = {abs(w0) / 2:.3f}")
check("nb01-projection", lambda w0: abs(w0) / 2)

# %% [markdown] jupyter={"source_hidden": true}
# :::{solution-end}
# :::
