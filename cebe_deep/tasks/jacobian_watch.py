"""A warning for a task whose context Jacobians stay zero: CSE would then only relabel the context.

If a context coordinate has no effect on the step -- a ``set_context`` that forgets to write the model
parameter, a step function that never reads ``context[i]``, a MuJoCo parameter no contact or body uses --
then ``dobs_dcontext[:, i] = 0`` and ``dreward_dcontext[i] = 0`` at every step, and CSE moves every sample
to ``c + dc`` without changing ``s'`` or ``r``: a silent relabelling that trains the policy to ignore the
context. :class:`ZeroJacobianWatch` watches the first steps of a task and warns once, naming the coordinates.

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

import numpy as np

__all__ = ["ZeroJacobianWatch", "ZERO_JACOBIAN_STEPS"]

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
