"""The checks of the exercises that need ``cebe_deep`` (the ``deep`` extra: torch, Gymnasium, MuJoCo): notebooks
03, 04 and the inexact-Jacobian exercise of 05.  :mod:`cebe_course.checks` imports this module only when one of
these checks runs, so that ``from cebe_course import check`` works with the core dependencies alone.  As in
:mod:`cebe_course.theory_checks`, every reference is computed here, by the package, when the check runs."""

from __future__ import annotations

import numpy as np
import torch

from cebe_course.verdicts import RIGHT, Verdict, as_array, call_answer, compare_number, wrong
from cebe_deep.learn.cse import context_sample_enhancement, sample_context_perturbation
from cebe_deep.learn.inexact import degrade_partials
from cebe_deep.tasks import JACOBIAN_KEYS, make_task, step_twin

WARMUP_STEPS = 50  # notebook 04 walks this many random steps into an episode before it looks at one


def _random_batch(rng: np.random.Generator, size: int, n: int, d: int) -> dict:
    return dict(next_state=rng.normal(size=(size, n)), reward=rng.normal(size=size), dcontext=rng.normal(size=(size, d)),
                dobs_dcontext=rng.normal(size=(size, n, d)), dreward_dcontext=rng.normal(size=(size, d)),
                dreward_dnextobs=rng.normal(size=(size, n)))


def _reward_hint(batch: dict, rewards: np.ndarray) -> str:
    """Which first-order term of (5.1) the student's rewards lack, if exactly one (or both) is missing."""
    shift = np.einsum("bnd,bd->bn", batch["dobs_dcontext"], batch["dcontext"])
    own = np.sum(batch["dreward_dcontext"] * batch["dcontext"], axis=1)
    chain = np.sum(batch["dreward_dnextobs"] * shift, axis=1)
    if np.allclose(rewards, batch["reward"], atol=1e-9):
        return "the rewards have not moved: (5.1) adds two first-order terms to r."
    if np.allclose(rewards, batch["reward"] + own, atol=1e-9):
        return "the chain-rule term is missing: moving the context moves s', and the reward sees that move."
    if np.allclose(rewards, batch["reward"] + chain, atol=1e-9):
        return "the reward's own dependence on the context, d_c R . dc, is missing."
    return "compare each term of your reward with (5.1), one transition at a time."


def cse_function(answer) -> Verdict:
    """nb03-write-cse: ``my_cse`` against ``context_sample_enhancement`` on random batches (one with ``n != d``,
    where a transposed Jacobian shows)."""
    if not callable(answer):
        return wrong(f"the answer should be your function my_cse, not a {type(answer).__name__}.")
    rng = np.random.default_rng()
    for size, n, d in ((64, 3, 2), (5, 2, 2), (7, 1, 4)):
        batch = _random_batch(rng, size, n, d)
        expected_state, expected_reward = context_sample_enhancement(**{k: v.copy() for k, v in batch.items()})
        result = call_answer(lambda: answer(**{k: v.copy() for k, v in batch.items()}), what="my_cse")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return wrong("my_cse should return two arrays: (moved next states, moved rewards).")
        where = f"a random batch of {size} transitions with n = {n}, d = {d}"
        states = as_array(result[0], (size, n), f"the moved next states on {where}")
        rewards = as_array(result[1], (size,), f"the moved rewards on {where}")
        if not np.allclose(states, expected_state, atol=1e-9):
            return wrong(f"the moved next states are wrong on {where}: s' moves by d_c f dc, one (n, d) matrix "
                         "times one (d,) vector per transition.")
        if not np.allclose(rewards, expected_reward, atol=1e-9):
            return wrong(f"the moved rewards are wrong on {where}: " + _reward_hint(batch, rewards))
    return RIGHT


def _simple_direction_partials(task, next_state: np.ndarray, context: np.ndarray, h: float = 1e-6):
    """The three partials of SimpleDirection at ``(s', c)``, by central differences of the task's own ``simulate``
    (a step from ``s = s' - c`` with action 0 lands on ``s'``); its dynamics and reward are (bi)linear, so the
    differences are exact up to round-off."""
    d = len(context)

    def step(state_next, ctx):  # next state and reward of the step that lands on state_next at context ctx
        return task.simulate(state_next - ctx, np.zeros(d), ctx)

    unit, state, action = np.eye(d), next_state - context, np.zeros(d)
    dobs = np.stack([(task.simulate(state, action, context + h * e)[0] - task.simulate(state, action, context - h * e)[0])
                     / (2 * h) for e in unit], axis=1)  # at fixed (s, a)
    dreward = np.array([(task.simulate(next_state - context - h * e, np.zeros(d), context + h * e)[1]
                         - task.simulate(next_state - context + h * e, np.zeros(d), context - h * e)[1]) / (2 * h)
                        for e in unit])  # at fixed s': the step from s' - (c + h e) with the drift c + h e
    dnext = np.array([(step(next_state + h * e, context)[1] - step(next_state - h * e, context)[1]) / (2 * h)
                      for e in unit])
    return dobs, dreward, dnext


def cse_by_hand(answer) -> Verdict:
    """nb03-by-hand: ``(r, s'_CSE, r_CSE)`` for the SimpleDirection transition ending in ``s' = (1, 0.5)`` at
    ``c = (0.5, -0.3)``, moved by ``dc = (0.1, 0)``."""
    context, next_state, dc = np.array([0.5, -0.3]), np.array([1.0, 0.5]), np.array([0.1, 0.0])
    task = make_task("SimpleDirection", context=context).unwrapped
    _, reward = task.simulate(next_state - context, np.zeros(2), context)
    dobs, dreward, dnext = _simple_direction_partials(task, next_state, context)
    moved_state, moved_reward = context_sample_enhancement(next_state[None], np.array([float(reward)]), dc[None],
                                                           dobs[None], dreward[None], dnext[None])
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return wrong("the answer should be three things: (r, s'_CSE, r_CSE).")
    r_verdict = compare_number(answer[0], float(reward), rel=1e-6, absolute=1e-9, what="r",
                               too_large="SimpleDirection pays r = s' . c.", too_small="SimpleDirection pays r = s' . c.")
    if not r_verdict.right:
        return r_verdict
    state = as_array(answer[1], (2,), "s'_CSE")
    if not np.allclose(state, moved_state[0], atol=1e-6):
        return wrong("s'_CSE is wrong: s' moves by d_c f dc, and SimpleDirection's d_c f is the identity.")
    advice = "r_CSE = r + d_c R . dc + d_s'R . (d_c f dc), with d_c R = s' and d_s'R = c for SimpleDirection."
    return compare_number(answer[2], float(moved_reward[0]), rel=1e-6, absolute=1e-9, what="r_CSE", too_large=advice,
                          too_small=advice)


def ball_errors(answer) -> Verdict:
    """nb03-ball: the mean of ``r_exact - r_CSE`` at ``eps = 0.5`` on the sphere and in the ball (SimpleDirection,
    ``c = (0.5, -0.3)``), from many draws of the package's sampler."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return wrong("the answer should be two numbers: (mean error on the sphere, mean error in the ball).")
    context = np.array([0.5, -0.3])
    task = make_task("SimpleDirection", context=context).unwrapped
    rng, draws = np.random.default_rng(), 40_000
    state, action = rng.uniform(-1, 1, size=(draws, 2)), rng.uniform(-1, 1, size=(draws, 2))
    next_state, reward = task.simulate(state, action, context)
    partials = dict(dobs_dcontext=np.broadcast_to(np.eye(2), (draws, 2, 2)), dreward_dcontext=next_state,
                    dreward_dnextobs=np.broadcast_to(context, (draws, 2)))
    for index, perturbation in enumerate(("sphere", "ball")):
        dc = sample_context_perturbation(draws, 2, 0.5, perturbation=perturbation,
                                         generator=torch.Generator().manual_seed(int(rng.integers(2**31)))).double().numpy()
        _, cse_reward = context_sample_enhancement(next_state, reward, dc, **partials)
        _, exact_reward = task.simulate(state, action, context + dc)
        verdict = compare_number(answer[index], float(np.mean(exact_reward - cse_reward)), rel=0.03,
                                 what=f"the mean error {'on the sphere' if index == 0 else 'in the ball'}",
                                 too_large="The error of one sample is exactly |dc|^2 (§1): what is its mean?",
                                 too_small="The error of one sample is exactly |dc|^2 (§1): what is its mean?")
        if not verdict.right:
            return verdict
    return RIGHT


def antgoal_partials(answer) -> Verdict:
    """nb04-antgoal: ``(set of the info keys whose arrays are non-zero, whether CSE is exact)`` for AntGoal."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return wrong("the answer should be two things: (the set of non-zero info keys, True or False).")
    keys, exact = answer
    if isinstance(keys, str) or not all(isinstance(key, str) for key in keys):
        return wrong(f"the first part should be a set of info keys, some of {', '.join(JACOBIAN_KEYS)}.")
    if not isinstance(exact, (bool, np.bool_)):
        return wrong("the second part should be True (CSE is exact on AntGoal) or False.")
    env, twin = make_task("AntGoal"), make_task("AntGoal", jacobians=False)
    twin.reset(seed=0)
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(WARMUP_STEPS):
        env.step(env.action_space.sample())
    action = env.action_space.sample()
    task = env.unwrapped
    dc = 0.1 * np.eye(task.context_dim)[0]
    exact_state, exact_reward = step_twin(twin, env, action, task.context + dc)
    observation, reward, _, _, info = env.step(action)
    nonzero = {key for key in JACOBIAN_KEYS if np.count_nonzero(info[key])}
    _, moved_reward = context_sample_enhancement(observation[None, : task.state_dim], np.array([reward]), dc[None],
                                                 info["dobs_dcontext"][None], info["dreward_dcontext"][None],
                                                 info["dreward_dnextobs"][None])
    reference_exact = abs(moved_reward[0] - exact_reward) < 1e-9
    unknown = set(keys) - set(JACOBIAN_KEYS)
    if unknown:
        return wrong(f"{sorted(unknown)} are not info keys; the keys are {', '.join(JACOBIAN_KEYS)}.")
    if set(keys) != nonzero:
        return wrong("the set of non-zero arrays is not right: which of goal and physics does the context enter, "
                     "and what does the reward read from the next observation?")
    if bool(exact) != reference_exact:
        return wrong("the set is right, but not the verdict on exactness: is AntGoal's reward linear in the goal?")
    return RIGHT


def bias_or_noise(answer) -> Verdict:
    """nb05-bias: ``(E|b (1 + sigma Z) - 1|`` for ``b = 1.5, sigma = 0``, the same for ``b = 1, sigma = 0.5)``, from
    many draws of the package's ``degrade_partials``."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return wrong("the answer should be two numbers: (bias 1.5 without noise, noise 0.5 without bias).")
    generator = np.random.default_rng()
    for value, (noise, bias, label) in zip(answer, ((0.0, 1.5, "bias 1.5"), (0.5, 1.0, "noise 0.5"))):
        factors = degrade_partials(np.ones(400_000), noise, bias, generator)
        verdict = compare_number(value, float(np.abs(factors - 1.0).mean()), rel=0.02,
                                 what=f"E|b(1 + sigma Z) - 1| for {label}",
                                 too_large="For b = 1 the change is sigma |Z|: what is the mean of |Z|?",
                                 too_small="For b = 1 the change is sigma |Z|: what is the mean of |Z|?")
        if not verdict.right:
            return verdict
    return RIGHT


__all__ = ["cse_function", "cse_by_hand", "ball_errors", "antgoal_partials", "bias_or_noise"]


def corner_evaluations(answer) -> Verdict:
    """nb06-edge: the extra steps one env step costs to FiniteDifferenceJacobians at a corner of a 2-d context box.
    Measured here on SimpleDirection (context box [-2, 2]^2) at its corner (2, 2): the count depends only on the
    context's dimension and on which coordinates sit on the box's edge, not on the task."""
    from cebe_deep.learn.inexact import FiniteDifferenceJacobians

    env = FiniteDifferenceJacobians(make_task("SimpleDirection", context=[2.0, 2.0], jacobians=False), step_size=1e-3)
    env.reset(seed=0)
    info = env.step(np.zeros(env.action_space.shape, dtype=env.action_space.dtype))[-1]
    return compare_number(answer, float(info["finite_difference_evaluations"]), rel=0.0, what="the extra steps",
                          too_small="At the corner, c + h e_i is outside the box for both coordinates.",
                          too_large="A second-order one-sided difference needs f(c), f(c - h e_i) and f(c - 2h e_i).")
