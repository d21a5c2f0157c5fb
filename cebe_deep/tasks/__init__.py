"""Contextual control tasks of arXiv 2507.07348, Section 5, each reporting its context Jacobians at every step.

The interface (observation = state part then context, ``set_context``, the ``info`` keys
``dobs_dcontext``, ``dreward_dcontext``, ``dreward_dnextobs``) is documented once, in
:mod:`cebe_deep.tasks.base`. Importing this package registers every task with Gymnasium as
``cebe/<Name>-v0`` with the paper's time limit, so ``gymnasium.make("cebe/PendulumGoal-v0", context=...)``
works after ``import cebe_deep`` (Gymnasium 1.x has no plugin entry points; the ``"cebe_deep:cebe/..."``
module prefix of ``gymnasium.make`` imports the package on demand).

A researcher's own task needs no Jacobians by hand: :func:`differentiable_task` builds one from a torch step
function (Jacobians by ``torch.func``), :func:`mujoco_task` from any Gymnasium MuJoCo environment with named
model parameters as context (Jacobians by central differences of the real step); these are built, not
registered. :func:`make_task` (and so ``cebe-deep train --task``) also takes a registered Gymnasium id of such a
task, or ``module:callable`` returning one (:mod:`cebe_deep.tasks.sources`).
"""

from __future__ import annotations

import gymnasium
import numpy as np

from cebe_deep.tasks.ant import AntDirection, AntGoal
from cebe_deep.tasks.base import JACOBIAN_KEYS, ContextualEnv
from cebe_deep.tasks.cart_goal import CartGoal
from cebe_deep.tasks.cheetah import CheetahMassVelocity, CheetahVelocity
from cebe_deep.tasks.differentiable import DifferentiableTask, StepFunctionError, differentiable_task
from cebe_deep.tasks.jacobian_check import JacobianCheck, check_jacobians
from cebe_deep.tasks.mujoco_model import ModelParameterError, MujocoModelTask, mujoco_task
from cebe_deep.tasks.noisy_pendulum import NoisyPendulumGoal
from cebe_deep.tasks.pendulum_goal import PendulumGoal
from cebe_deep.tasks.simple_direction import SimpleDirection
from cebe_deep.tasks.sources import TASK_FORMS, TaskSourceError, make_task_from_source, task_factory, task_folder
from cebe_deep.tasks.twin import central_differences, step_twin

__all__ = [
    "ContextualEnv",
    "JACOBIAN_KEYS",
    "TASKS",
    "VARIANTS",
    "make_task",
    "is_builtin",
    "task_folder",
    "task_factory",
    "TaskSourceError",
    "TASK_FORMS",
    "default_context",
    "CartGoal",
    "CheetahVelocity",
    "CheetahMassVelocity",
    "AntDirection",
    "AntGoal",
    "PendulumGoal",
    "NoisyPendulumGoal",
    "SimpleDirection",
    "step_twin",
    "central_differences",
    "differentiable_task",
    "DifferentiableTask",
    "StepFunctionError",
    "mujoco_task",
    "MujocoModelTask",
    "ModelParameterError",
    "check_jacobians",
    "JacobianCheck",
]

#: Task name -> class; every name is registered as ``cebe/<name>-v0``.
TASKS: dict[str, type[ContextualEnv]] = {
    "SimpleDirection": SimpleDirection,
    "PendulumGoal": PendulumGoal,
    "CartGoal": CartGoal,
    "CheetahVelocity": CheetahVelocity,
    "AntDirection": AntDirection,
    "AntGoal": AntGoal,
    "CheetahMassVelocity": CheetahMassVelocity,
    "NoisyPendulumGoal": NoisyPendulumGoal,
}


def gymnasium_id(name: str) -> str:
    """The Gymnasium id of a task name, e.g. ``"cebe/PendulumGoal-v0"``."""
    return f"cebe/{name}-v0"


#: Variants registered under ids of their own (Gymnasium's convention: a changed environment gets a new id), with
#: the keyword arguments that make them.  ``cebe/PendulumGoal-v0`` is the paper's task (the authors' dynamics:
#: the speed is clipped before the angle is updated with it); ``cebe/PendulumGoal-gym-v0`` is the Gymnasium-order
#: pendulum (angle updated with the new, clipped speed, as ``Pendulum-v1``) that our first runs used.
VARIANTS: dict[str, tuple[str, dict]] = {
    "cebe/PendulumGoal-gym-v0": ("PendulumGoal", {"dynamics": "gymnasium"}),
}


def register_tasks() -> None:
    """Register every task in :data:`TASKS` and every variant in :data:`VARIANTS` with Gymnasium (idempotent)."""
    entries = [(gymnasium_id(name), name, {}) for name in TASKS]
    entries += [(variant_id, name, kwargs) for variant_id, (name, kwargs) in VARIANTS.items()]
    for env_id, name, kwargs in entries:
        task = TASKS[name]
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=f"{task.__module__}:{task.__name__}",
                               max_episode_steps=task.max_episode_steps, kwargs=kwargs)


def default_context(name: str, dimension: int | None = None) -> np.ndarray:
    """c0 of a task: of a built-in one without building its environment (a class attribute of each task;
    SimpleDirection's is the zero vector of its dimension, default 2); of a Gymnasium id or ``module:callable``
    (:mod:`cebe_deep.tasks.sources`) from the environment it builds.  A ValueError lists the known names."""
    if name not in TASKS:
        if isinstance(name, str) and (":" in name or "/" in name or name in gymnasium.registry):
            env = make_task_from_source(name, TASKS)
            try:
                return np.asarray(env.unwrapped.default_context, dtype=np.float64).copy()
            finally:
                env.close()
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}; or give a registered Gymnasium id of "
                         "a contextual task, or module:callable")
    if name == "SimpleDirection":
        return np.zeros(2 if dimension is None else int(dimension))
    return np.asarray(TASKS[name].default_context, dtype=np.float64).copy()


def is_builtin(name) -> bool:
    """Whether ``name`` is one of the built-in task names of :data:`TASKS`."""
    return isinstance(name, str) and name in TASKS


def make_task(name: str, **kwargs) -> gymnasium.Env:
    """``gymnasium.make`` of a built-in task by name (with its time limit), or the task of a registered Gymnasium id
    or ``module:callable`` (:func:`~cebe_deep.tasks.sources.make_task_from_source`, with the keywords ``context``
    and ``jacobians`` where it takes them); a one-line ValueError lists the known names and the other forms."""
    if is_builtin(name):
        return gymnasium.make(gymnasium_id(name), **kwargs)
    return make_task_from_source(name, TASKS, **kwargs)


register_tasks()
