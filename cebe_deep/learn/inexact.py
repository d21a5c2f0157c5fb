"""Inexact context Jacobians for CSE (open question 3): noisy, biased, or estimated by finite differences.

CSE moves a transition with the partials ``d_c T``, ``d_c R`` and ``d_{s'} R`` (:mod:`cebe_deep.learn.cse`).  In
practice these come from a learned model, a differentiable simulator with approximations, or finite
differences.  This module degrades them in controlled ways:

1. :class:`InexactJacobianCSEBuffer` (and its prioritized twin :class:`PrioritizedInexactJacobianCSEBuffer`):
   every stored partial ``J`` becomes

       J_used = bias * (1 + sigma * Z) * J,        Z ~ N(0, 1) elementwise, independent entries

   so ``E[J_used] = bias * J`` and ``std(J_used) = |bias| sigma |J|`` entrywise.  ``sigma`` is
   ``jacobian_noise``, ``bias`` is ``jacobian_bias`` (1: unbiased).  The CSE reward term
   ``d_{s'} R (d_c T dc)`` multiplies two partials, so a bias ``b`` scales it by ``b^2`` and the rest by ``b``.

   **When the noise is drawn.**  Once per stored transition, at ``add()`` time, and kept: a sample replayed
   many times is moved with the *same* wrong Jacobian every time.  That is what a Jacobian estimator does (a
   learned model or a finite difference gives one answer per ``(s, a, c)``), and it is the hard case: the
   error cannot average out over replays.  Drawing anew per replay would make the CSE target, which is affine
   in each partial and uses independent factors, unbiased on average over replays (``E[(1 + sigma Z) J] = J``),
   so the critic would mostly see extra variance; per-transition noise is the honest stress test.

2. :class:`FiniteDifferenceJacobians`: a Gymnasium wrapper that replaces the task's closed-form partials in
   ``info`` by central differences of the true step at ``c +/- h e_i``

       dobs_dcontext[:, i]   = (s'(c + h e_i) - s'(c - h e_i)) / 2h
       dreward_dcontext[i]   = (r(c + h e_i) - r(c - h e_i)) / 2h          (the *total* derivative)
       dreward_dnextobs      = 0

   The CSE reward uses the partials only through ``d_c R dc + d_{s'} R d_c T dc``, which is the total
   derivative ``dr/dc . dc`` (chain rule), so reporting the total derivative as ``dreward_dcontext`` with
   ``dreward_dnextobs = 0`` gives the same first-order CSE and needs no access to the reward's form.  Each step
   costs ``2 context_dim`` extra simulator steps; the wrapper counts them and their wall time
   (:attr:`FiniteDifferenceJacobians.seconds_per_step`).  Tasks with a batched ``simulate`` are differenced
   in one batched call; MuJoCo tasks on a twin environment, any other task on a deep copy
   (:func:`cebe_deep.tasks.twin.finite_differences`); at the context box's edges the differences are one-sided.
   For :class:`~cebe_deep.tasks.noisy_pendulum.NoisyPendulumGoal` the step's noise is held fixed
   (``simulate(..., noise=last_noise)``), the reparameterization of open question 1.

>>> import numpy as np
>>> from cebe_deep.tasks import SimpleDirection
>>> env = FiniteDifferenceJacobians(SimpleDirection(context=[0.3, -0.2], jacobians=False), step_size=1e-3)
>>> _ = env.reset(seed=0)
>>> _, _, _, _, info = env.step(np.array([0.5, 0.5]))
>>> np.allclose(info["dobs_dcontext"], np.eye(2)), info["finite_difference_evaluations"]
(True, 4)
"""

from __future__ import annotations

import copy
import time
from typing import Any

import gymnasium
import numpy as np

from cebe_deep.learn.cse import ContextSampleEnhancementBuffer
from cebe_deep.learn.replay import PrioritizedReplay
from cebe_deep.tasks.jacobian_watch import ZeroJacobianWatch
from cebe_deep.tasks.twin import combine, difference_stencil, finite_differences, simulator_data

__all__ = ["InexactJacobianCSEBuffer", "PrioritizedInexactJacobianCSEBuffer", "FiniteDifferenceJacobians",
           "degrade_partials"]


def degrade_partials(partials: np.ndarray, jacobian_noise: float, jacobian_bias: float,
                     generator: np.random.Generator) -> np.ndarray:
    """``jacobian_bias * (1 + jacobian_noise * Z) * partials`` with ``Z ~ N(0, 1)`` of the same shape (a new array)."""
    factor = jacobian_bias * (1.0 + jacobian_noise * generator.standard_normal(np.shape(partials)))
    return (factor * partials).astype(np.asarray(partials).dtype, copy=False)


class InexactJacobianCSEBuffer(ContextSampleEnhancementBuffer):
    """CSE with each stored partial multiplied by ``jacobian_bias * (1 + jacobian_noise * N(0, 1))`` at ``add()``
    (module docstring: why per transition).  Takes every keyword of
    :class:`~cebe_deep.learn.cse.ContextSampleEnhancementBuffer`, plus

    :param jacobian_noise: ``sigma >= 0``, the relative noise scale (0: exact Jacobians)
    :param jacobian_bias: a fixed factor (> 0 is the sensible range; 1: unbiased)

    The noise generator is seeded from numpy's global generator (which SB3 seeds before building the buffer),
    so a run is reproducible per seed.  The partials as stored are the degraded ones
    (:meth:`~cebe_deep.learn.cse.ContextSampleEnhancementBuffer.partials` returns them).
    """

    def __init__(self, *args, jacobian_noise: float = 0.0, jacobian_bias: float = 1.0, **kwargs):
        jacobian_noise, jacobian_bias = float(jacobian_noise), float(jacobian_bias)
        if not (np.isfinite(jacobian_noise) and jacobian_noise >= 0):
            raise ValueError(f"jacobian_noise must be a finite number >= 0, got {jacobian_noise!r}")
        if not np.isfinite(jacobian_bias):
            raise ValueError(f"jacobian_bias must be finite, got {jacobian_bias!r}")
        super().__init__(*args, **kwargs)
        if self.mode != "first_order" and (jacobian_noise != 0 or jacobian_bias != 1):
            raise ValueError("jacobian_noise and jacobian_bias act on the stored Jacobians: they need mode='first_order'")
        self.jacobian_noise, self.jacobian_bias = jacobian_noise, jacobian_bias
        self.jacobian_rng = np.random.default_rng(np.random.randint(2**31))

    def add(self, obs, next_obs, action, reward, done, infos: list[dict[str, Any]]) -> None:
        position = self.pos
        super().add(obs, next_obs, action, reward, done, infos)
        if self.mode == "first_order" and (self.jacobian_noise != 0 or self.jacobian_bias != 1):
            self.context_derivatives[position] = degrade_partials(
                self.context_derivatives[position], self.jacobian_noise, self.jacobian_bias, self.jacobian_rng)


class PrioritizedInexactJacobianCSEBuffer(PrioritizedReplay, InexactJacobianCSEBuffer):
    """Prioritized replay (:mod:`cebe_deep.learn.replay`) over :class:`InexactJacobianCSEBuffer`: the authors'
    profile's buffer with degraded Jacobians.  Takes ``priority_alpha``, ``priority_beta`` as well."""

    def __init__(self, *args, priority_alpha: float = 0.6, priority_beta: float = 0.4, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_priorities(priority_alpha, priority_beta)


class FiniteDifferenceJacobians(gymnasium.Wrapper):
    """Replace a contextual task's ``info`` Jacobians by central differences of its true step (module docstring).

    Wrap the bare task (inside any time limit, LDR or GDR wrapper, so that the context of each step is the
    task's current one); the task may be built with ``jacobians=False``. How the step is replayed at ``c +- h``:

    * a task with a batched ``simulate`` (``supports_simulate``): one call, from the pre-step state;
    * a MuJoCo task (its ``unwrapped.data`` is a ``mujoco.MjData``): on a twin whose simulator state is set
      from the task's (``mujoco.mj_copyData``): ``twin`` if given, else the task's ``make_twin()``, else a deep
      copy of the task (its own model and data, parameters set through its ``set_context``);
    * any other task (its whole state in Python attributes): on a deep copy of the task, per step and context.

    At the edge of the context box the difference is one-sided, from ``c``, ``c -+ h e_i`` and ``c -+ 2h e_i``
    (:func:`~cebe_deep.tasks.twin.difference_stencil`; 3 steps instead of 2), so it never steps outside the box;
    a step size over a quarter of the box width is refused. Jacobians that stay zero over the first 10 steps get
    a warning (:class:`~cebe_deep.tasks.jacobian_watch.ZeroJacobianWatch`: a ``set_context`` that does not
    write the parameter into the simulator makes CSE a silent relabelling).

    :param env: a contextual task (``cebe_deep.tasks``)
    :param step_size: ``h``, a scalar or one per context coordinate (absolute, in the context's units)
    :param twin: for a MuJoCo task, a second environment of the same task (built by the same constructor) that
        :func:`~cebe_deep.tasks.twin.finite_differences` replays the state in; ignored for other tasks

    Counters: :attr:`steps`, :attr:`evaluations` (simulator steps spent on differences, ``2 context_dim`` per
    step away from the box's edges), :attr:`seconds` (their wall time); :attr:`seconds_per_step` is the cost per
    env step. Each step's ``info`` also carries ``finite_difference_evaluations`` and ``finite_difference_seconds``.
    """

    def __init__(self, env: gymnasium.Env, step_size, twin: gymnasium.Env | None = None):
        super().__init__(env)
        task = env.unwrapped
        name = type(task).__name__
        step_size = np.broadcast_to(np.asarray(step_size, dtype=np.float64), (task.context_dim,)).copy()
        if not np.all(np.isfinite(step_size) & (step_size > 0)):
            raise ValueError(f"finite-difference step sizes must be finite and > 0, got {step_size.tolist()}")
        self.box = (np.asarray(task.context_low, dtype=np.float64), np.asarray(task.context_high, dtype=np.float64))
        widths = self.box[1] - self.box[0]
        for i in np.flatnonzero(4 * step_size > widths):
            raise ValueError(f"{name}: finite-difference step {step_size[i]:g} of context[{i}] ({task.context_names[i]}) "
                             f"must be at most a quarter of the box width {widths[i]:g} (the one-sided differences "
                             "at the box's edges step 2h into it)")
        if not task.supports_simulate and simulator_data(task) is not None and twin is None:
            twin = task.make_twin() if hasattr(task, "make_twin") else self._copy(task, "a twin environment")
        elif not task.supports_simulate and simulator_data(task) is None:
            self._copy(task, "a deep copy per step")
            twin = None
        self.step_size, self.twin = step_size, twin
        self.steps, self.evaluations, self.seconds = 0, 0, 0.0
        self.watch = ZeroJacobianWatch(f"{name} (finite differences)", task.context_names)
        self._state_obs: np.ndarray | None = None

    @staticmethod
    def _copy(task, purpose: str):
        try:
            return copy.deepcopy(task)
        except Exception as error:  # noqa: BLE001 - any failure to copy is the same answer: pass a twin
            raise ValueError(f"{type(task).__name__} has no simulate() and cannot be deep-copied ({type(error).__name__}: "
                             f"{error}); FiniteDifferenceJacobians needs {purpose}: give it simulate(), or make it "
                             "copyable") from None

    @property
    def seconds_per_step(self) -> float:
        """Wall time of the differences per env step (0 before the first step)."""
        return self.seconds / self.steps if self.steps else 0.0

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        self._state_obs = np.asarray(observation[: self.env.unwrapped.state_dim], dtype=np.float64)
        return observation, info

    def step(self, action):
        task = self.env.unwrapped
        context = task.context  # the context this step runs at
        started = time.perf_counter()
        if not task.supports_simulate:  # difference before stepping: the twin (or copy) takes the pre-step state
            dobs, dreward, evaluations = finite_differences(self.twin, self.env, action, self.step_size, context, self.box)
        seconds = time.perf_counter() - started
        observation, reward, terminated, truncated, info = self.env.step(action)
        started = time.perf_counter()
        if task.supports_simulate:
            dobs, dreward, evaluations = self._simulated_differences(task, action, context)
        seconds += time.perf_counter() - started
        self.watch.update(dobs, dreward)
        info = dict(info)
        info["dobs_dcontext"] = dobs
        info["dreward_dcontext"] = dreward
        info["dreward_dnextobs"] = np.zeros(task.state_dim)
        info["finite_difference_evaluations"] = evaluations
        info["finite_difference_seconds"] = seconds
        self.steps += 1
        self.evaluations += evaluations
        self.seconds += seconds
        self._state_obs = np.asarray(observation[: task.state_dim], dtype=np.float64)
        return observation, reward, terminated, truncated, info

    def _simulated_differences(self, task, action, context: np.ndarray):
        """Every perturbed step in one batched ``simulate`` call, from the pre-step state; the rows are ordered
        point-major (all ``c + h e_i``, then all ``c - h e_i`` away from the edges)."""
        stencils = difference_stencil(context, self.step_size, self.box)
        rows = [(k, i) for k in range(max(len(c) for c, _, _ in stencils)) for i, (c, _, _) in enumerate(stencils)
                if k < len(c)]
        contexts = np.stack([stencils[i][0][k] for k, i in rows])
        states = np.repeat(self._state_obs[None, :], len(rows), axis=0)
        actions = np.repeat(np.asarray(action, dtype=np.float64).reshape(1, -1), len(rows), axis=0)
        extra = {"noise": task.last_noise} if hasattr(task, "last_noise") else {}
        next_states, rewards = task.simulate(states, actions, contexts, **extra)
        next_states, rewards = np.asarray(next_states, dtype=np.float64), np.asarray(rewards, dtype=np.float64)
        where = {row: index for index, row in enumerate(rows)}
        columns, dreward = [], []
        for i, (points, coefficients, denominator) in enumerate(stencils):
            indices = [where[k, i] for k in range(len(points))]
            columns.append(combine(next_states[indices], coefficients, denominator))
            dreward.append(combine(rewards[indices], coefficients, denominator))
        return np.stack(columns, axis=1), np.array(dreward), len(rows)
