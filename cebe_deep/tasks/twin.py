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

**At the edge of the context box** ``c_i +- h`` may leave it, and ``set_context`` refuses a context outside.
:func:`finite_differences` with ``box = (low, high)`` then uses the one-sided second-order stencil on the side
that fits, from ``c``, ``c -+ h e_i`` and ``c -+ 2h e_i`` (:func:`difference_stencil`):

    df/dc_i  ~  (3 f(c) - 4 f(c - h e_i) + f(c - 2h e_i)) / 2h        at the upper edge (error O(h^2))

and its mirror image at the lower edge; it needs ``4 h_i <= high_i - low_i`` so that one side always fits.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["step_twin", "central_differences", "finite_differences", "difference_stencil", "combine", "simulator_data"]

#: The central stencil ``(offsets in units of h, coefficients)``, the derivative ``sum_k coefficient_k f_k / 2h``,
#: and the one-sided ones at the edges.
CENTRAL = (np.array([1.0, -1.0]), np.array([1.0, -1.0]))
BACKWARD = (np.array([0.0, -1.0, -2.0]), np.array([3.0, -4.0, 1.0]))
FORWARD = (np.array([0.0, 1.0, 2.0]), np.array([-3.0, 4.0, -1.0]))


def simulator_data(source):
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
    data = simulator_data(source)
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
    dobs, dreward, _ = finite_differences(twin, source, action, step_sizes, context=context)
    return dobs, dreward


def difference_stencil(context, step_sizes, box=None) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Per context coordinate ``i``, ``(contexts, coefficients, denominator)``: the contexts to step at, shape
    ``(k, context_dim)``, so that ``df/dc_i ~ sum_k coefficients[k] f(contexts[k]) / denominator`` (``2 h_i``).
    Central (``c +- h_i e_i``) where it fits in ``box = (low, high)`` (or no box is given), one-sided at an edge
    (module docstring). The central one is ``(f(c + h e_i) - f(c - h e_i)) / 2h`` to the last bit."""
    context = np.asarray(context, dtype=np.float64)
    step_sizes = np.broadcast_to(np.asarray(step_sizes, dtype=np.float64), context.shape)
    stencils = []
    for i, h in enumerate(step_sizes):
        offsets, coefficients = CENTRAL
        if box is not None:
            if context[i] + h > float(box[1][i]):
                offsets, coefficients = BACKWARD
            elif context[i] - h < float(box[0][i]):
                offsets, coefficients = FORWARD
        contexts = np.repeat(context[None, :], len(offsets), axis=0)
        contexts[:, i] += offsets * h
        stencils.append((contexts, coefficients, 2 * h))
    return stencils


def combine(values, coefficients, denominator):
    """``sum_k coefficients[k] values[k] / denominator`` over the leading axis (``(f+ - f-) / 2h`` for the central
    stencil, bit for bit)."""
    total = coefficients[0] * values[0]  # 1.0 * x is x, and x + (-1.0) * y is x - y: exact in floating point
    for coefficient, value in zip(coefficients[1:], values[1:]):
        total = total + coefficient * value
    return total / denominator


def finite_differences(twin, source, action, step_sizes, context=None, box=None) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`central_differences` that stays inside ``box = (low, high)`` (one-sided at its edges, module
    docstring); also returns the number of steps it took."""
    if context is None:
        context = source.unwrapped.context
    columns, rewards, evaluations = [], [], 0
    for contexts, coefficients, denominator in difference_stencil(context, step_sizes, box):
        outcomes = [step_twin(twin, source, action, row) for row in contexts]
        evaluations += len(outcomes)
        columns.append(combine([state for state, _ in outcomes], coefficients, denominator))
        rewards.append(combine([reward for _, reward in outcomes], coefficients, denominator))
    return np.stack(columns, axis=1), np.array(rewards, dtype=np.float64), evaluations
