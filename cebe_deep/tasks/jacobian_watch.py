"""A warning for a task whose context Jacobians stay zero: CSE would then only relabel the context.

If a context coordinate has no effect on the step -- a ``set_context`` that forgets to write the model
parameter, a step function that never reads ``context[i]``, a MuJoCo parameter no contact or body uses --
then ``dobs_dcontext[:, i] = 0`` and ``dreward_dcontext[i] = 0`` at every step, and CSE moves every sample
to ``c + dc`` without changing ``s'`` or ``r``: a silent relabelling that trains the policy to ignore the
context. :class:`ZeroJacobianWatch` watches the first steps of a task and warns once, naming the coordinates;
:class:`WatchZeroJacobians` is the same as a Gymnasium wrapper around any task that reports Jacobians in ``info``
(the built tasks of ``differentiable_task`` and ``mujoco_task`` watch their own: ``watches_jacobians``).

>>> import numpy as np, warnings
>>> watch = ZeroJacobianWatch("MyTask", ("mass", "friction"), steps=2)
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     for _ in range(2):
...         watch.update(np.array([[1.0, 0.0]]), np.zeros(2))
>>> print(caught[0].message)  # doctest: +ELLIPSIS
MyTask: the context Jacobians of friction (coordinate 1) were zero at each of the first 2 steps: ... relabel the context
"""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np

__all__ = ["ZeroJacobianWatch", "WatchZeroJacobians", "ZERO_JACOBIAN_STEPS"]

#: How many steps with Jacobians :class:`ZeroJacobianWatch` looks at before it judges.
ZERO_JACOBIAN_STEPS = 10


class ZeroJacobianWatch:
    """Count the first ``steps`` Jacobian reports; warn once (``UserWarning``) about coordinates that were zero in all.

    A coordinate counts as active at a step if its column of ``dobs_dcontext`` or its entry of
    ``dreward_dcontext`` is non-zero (``dreward_dnextobs`` acts only through ``dobs_dcontext``).
    """

    def __init__(self, task_name: str, context_names, steps: int = ZERO_JACOBIAN_STEPS):
        self.task_name, self.context_names, self.steps = task_name, tuple(context_names), int(steps)
        self._active = np.zeros(len(self.context_names), dtype=bool)
        self._seen = 0

    def update(self, dobs_dcontext: np.ndarray, dreward_dcontext: np.ndarray) -> None:
        if self._seen >= self.steps:
            return
        self._active |= np.any(np.asarray(dobs_dcontext) != 0, axis=0) | (np.asarray(dreward_dcontext) != 0)
        self._seen += 1
        if self._seen == self.steps and not self._active.all():
            silent = ", ".join(f"{self.context_names[i]} (coordinate {i})" for i in np.flatnonzero(~self._active))
            warnings.warn(
                f"{self.task_name}: the context Jacobians of {silent} were zero at each of the first {self.steps} steps: "
                "the step does not depend on it there (a set_context that does not write it, a step that never reads it, "
                "or a model parameter no contact uses); CSE would only relabel the context",
                UserWarning,
                stacklevel=3,
            )


class WatchZeroJacobians(gymnasium.Wrapper):
    """A :class:`ZeroJacobianWatch` on the ``info`` Jacobians of ``env``'s first ``steps`` steps (steps whose info
    has none are not counted); everything else passes through unchanged."""

    def __init__(self, env: gymnasium.Env, steps: int = ZERO_JACOBIAN_STEPS):
        super().__init__(env)
        task = env.unwrapped
        names = getattr(task, "context_names", None) or tuple(f"context_{i}" for i in range(task.context_dim))
        self.watch = ZeroJacobianWatch(getattr(task, "name", type(task).__name__), names, steps)

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        if "dobs_dcontext" in info and "dreward_dcontext" in info:
            self.watch.update(info["dobs_dcontext"], info["dreward_dcontext"])
        return observation, reward, terminated, truncated, info
