"""Replaying one step of a task at another context, from the same state: the finite-difference reference.

A *twin* is a spare environment of the same task. :func:`step_twin` puts the source environment's current
state into it and steps it once at a given context, leaving the source untouched; :func:`central_differences`
does that at ``c +/- h e_i`` for every context coordinate:

    dobs_dcontext[:, i]  ~  (s'(c + h e_i) - s'(c - h e_i)) / 2h                 (central difference, O(h^2))
    total dr/dc_i        ~  (r(c + h e_i) - r(c - h e_i)) / 2h
                          =  dreward_dcontext_i + dreward_dnextobs . dobs_dcontext[:, i]   (chain rule)

These go through the environment's public ``set_context`` and ``step`` only, never through a task's
Jacobian code, so they are the reference the tests, notebook 04 and ``benchmarks/fd_step_study.py`` check
the reported Jacobians against. (CheetahMassVelocity's own finite differences, the implementation under
test, step raw MuJoCo data instead: cheaper, and independent of this reference.)

How the state is carried over: for a MuJoCo task the simulator state is copied into the twin with
``mujoco.mj_copyData`` (a ``copy.deepcopy`` of a Gymnasium MuJoCo environment does not carry it); the
source may also be a saved ``mujoco.MjData``. For the analytic tasks, whose whole state lives in Python
attributes, the twin may be ``None``: a deep copy of the source is stepped instead.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["step_twin", "central_differences"]


def _simulator_data(source):
    """``source``'s ``mujoco.MjData`` (``source`` itself if it is one), or None for a non-MuJoCo task."""
    try:
        import mujoco
    except ImportError:  # pragma: no cover - mujoco is a dependency of the deep extra
        return None
    if isinstance(source, mujoco.MjData):
        return source
    data = getattr(source.unwrapped, "data", None)
    return data if isinstance(data, mujoco.MjData) else None


def step_twin(twin, source, action, context) -> tuple[np.ndarray, float]:
    """Step ``twin`` once from ``source``'s current state at ``context``; ``source`` is left untouched.

    :param twin: an environment of the same task (wrapped or not; its Jacobians are best off), or None for an
        analytic task (then a deep copy of ``source`` is stepped)
    :param source: the environment whose state is replayed (wrapped or not), or a ``mujoco.MjData``
    :param action: the action of the step
    :param context: the context to step at, shape ``(context_dim,)``
    :returns: ``(next state part (state_dim,), reward)``
    """
    data = _simulator_data(source)
    if data is not None:
        if twin is None:
            raise ValueError("a MuJoCo task needs a twin environment (a deep copy does not carry the simulator state)")
        task = twin.unwrapped
        import mujoco

        mujoco.mj_copyData(task.data, task.model, data)
    else:
        task = copy.deepcopy(source.unwrapped)
    task.set_context(context)
    observation, reward, *_ = task.step(action)
    return np.array(observation[: task.state_dim], dtype=np.float64), float(reward)


def central_differences(twin, source, action, step_sizes, context=None) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of the next state part and of the reward in each context coordinate.

    :param twin, source, action: as in :func:`step_twin`
    :param step_sizes: ``h_i`` per context coordinate, shape ``(context_dim,)``
    :param context: the context ``c`` to difference around (default: ``source``'s current context; required
        when ``source`` is a ``mujoco.MjData``)
    :returns: ``(dobs_dcontext (state_dim, context_dim), total dreward/dcontext (context_dim,))``; the latter
        is the *total* derivative of the reward, to compare with
        ``dreward_dcontext + dreward_dnextobs @ dobs_dcontext``
    """
    if context is None:
        context = source.unwrapped.context
    context = np.asarray(context, dtype=np.float64)
    step_sizes = np.broadcast_to(np.asarray(step_sizes, dtype=np.float64), context.shape)
    columns, rewards = [], []
    for i in range(context.size):
        plus, minus = context.copy(), context.copy()
        plus[i] += step_sizes[i]
        minus[i] -= step_sizes[i]
        (state_plus, reward_plus), (state_minus, reward_minus) = (
            step_twin(twin, source, action, plus),
            step_twin(twin, source, action, minus),
        )
        columns.append((state_plus - state_minus) / (2 * step_sizes[i]))
        rewards.append((reward_plus - reward_minus) / (2 * step_sizes[i]))
    return np.stack(columns, axis=1), np.array(rewards)
