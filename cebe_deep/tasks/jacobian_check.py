r"""One call that checks a task's reported Jacobians against central differences of its own step.

For a task of your own (a :class:`~cebe_deep.tasks.base.ContextualEnv` subclass, a
:func:`~cebe_deep.tasks.differentiable_task` or a :func:`~cebe_deep.tasks.mujoco_task`), :func:`check_jacobians`
steps it with random actions and, at every step, compares what it reports in ``info`` with central differences
of the same step replayed at ``c +- h e_i`` from the same state (:func:`~cebe_deep.tasks.central_differences`):

    dobs_dcontext                                      against  (s'(c + h e_i) - s'(c - h e_i)) / 2h
    dreward_dcontext + dreward_dnextobs @ dobs_dcontext  against  (r(c + h e_i) - r(c - h e_i)) / 2h

(the second is the chain rule: CSE uses the reward partials only through this total derivative). The errors
are relative, ``max |reported - reference| / max(max |reference|, 1e-8)`` over the steps. At the edge of the
context box the reference is one-sided (:func:`~cebe_deep.tasks.twin.finite_differences`). A coordinate whose
reference is zero at every step checked gets a warning: the step does not depend on it (a ``set_context``
that does not write it into the simulator), so the check passes trivially and CSE would only relabel it.

>>> from cebe_deep.tasks import SimpleDirection
>>> result = check_jacobians(SimpleDirection(context=[0.3, -0.2]), steps=5)
>>> result.passed(), result.dobs_error < 1e-8
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cebe_deep.tasks.jacobian_watch import ZeroJacobianWatch
from cebe_deep.tasks.twin import finite_differences
from cebe_theory.errors import InputError

__all__ = ["check_jacobians", "JacobianCheck"]


@dataclass(frozen=True)
class JacobianCheck:
    """What :func:`check_jacobians` found: the largest relative errors over ``steps`` steps, the step where the
    worse of the two was largest, and the absolute difference steps ``h_i`` used."""

    steps: int
    dobs_error: float
    dreward_error: float
    worst_step: int
    step_sizes: tuple[float, ...]

    def passed(self, tolerance: float = 1e-4) -> bool:
        """Both errors at most ``tolerance`` (1e-4 suits closed-form and autodiff Jacobians; finite-difference
        ones, such as a MuJoCo task's, against a reference at a ten times larger step: 1e-3)."""
        return max(self.dobs_error, self.dreward_error) <= tolerance


def _relative_error(reported, reference) -> float:
    reported, reference = np.asarray(reported, float), np.asarray(reference, float)
    return float(np.max(np.abs(reported - reference)) / max(float(np.max(np.abs(reference))), 1e-8))


def check_jacobians(env, steps: int = 20, step_size: float | None = None, twin=None, seed: int = 0) -> JacobianCheck:
    """Compare ``env``'s reported Jacobians with central differences of its step, over ``steps`` random steps.

    :param env: a contextual task (wrapped or not) built with ``jacobians=True``; it is reset and stepped
    :param steps: how many steps to check (episodes restart when they end)
    :param step_size: relative difference step, ``h_i = step_size * max(|c_i|, 1)``; default 1e-6 for tasks
        with an exact model (``supports_simulate``), 1e-4 otherwise (a MuJoCo task: ten times its own ``1e-5 |c0|``)
    :param twin: for a MuJoCo task, a second environment of the same task the step is replayed in; a
        :func:`~cebe_deep.tasks.mujoco_task` makes its own (``make_twin``), other tasks need none
    :param seed: seeds the reset and the random actions
    """
    task = env.unwrapped
    for name in ("context", "context_dim", "state_dim"):
        if not hasattr(task, name):
            raise InputError(f"check_jacobians needs a contextual task (missing {name!r}), got {type(task).__name__}")
    if not getattr(task, "jacobians", False):
        raise InputError(f"check_jacobians: {type(task).__name__} was built with jacobians=False; it reports nothing to check")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise InputError(f"check_jacobians: steps must be a positive integer, got {steps!r}")
    if step_size is None:
        step_size = 1e-6 if task.supports_simulate else 1e-4
    if not 0 < step_size < 1:
        raise InputError(f"check_jacobians: step_size must be in (0, 1), got {step_size!r}")
    if twin is None and hasattr(task, "make_twin"):
        twin = task.make_twin()
    env.reset(seed=seed)
    env.action_space.seed(seed)
    box = (np.asarray(task.context_low, dtype=np.float64), np.asarray(task.context_high, dtype=np.float64))
    watch = ZeroJacobianWatch(f"check_jacobians({type(task).__name__})", task.context_names, steps)
    dobs_error = dreward_error = worst = 0.0
    worst_step, sizes = 0, None
    for step in range(steps):
        context = task.context
        sizes = step_size * np.maximum(np.abs(context), 1.0)
        action = env.action_space.sample()
        dobs_reference, dreward_reference, _ = finite_differences(twin, env, action, sizes, context, box)
        watch.update(dobs_reference, dreward_reference)
        *_, terminated, truncated, info = env.step(action)
        missing = [key for key in ("dobs_dcontext", "dreward_dcontext", "dreward_dnextobs") if key not in info]
        if missing:
            raise InputError(f"check_jacobians: {type(task).__name__}'s step info lacks {', '.join(missing)}")
        total = info["dreward_dcontext"] + info["dreward_dnextobs"] @ info["dobs_dcontext"]
        errors = _relative_error(info["dobs_dcontext"], dobs_reference), _relative_error(total, dreward_reference)
        dobs_error, dreward_error = max(dobs_error, errors[0]), max(dreward_error, errors[1])
        if max(errors) > worst:
            worst, worst_step = max(errors), step
        if terminated or truncated:
            env.reset()
    return JacobianCheck(steps, dobs_error, dreward_error, worst_step, tuple(float(h) for h in sizes))
