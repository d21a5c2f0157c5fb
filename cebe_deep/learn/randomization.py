"""Domain randomization baselines (paper section 5) as Gymnasium wrappers around a contextual task.

- :class:`LocalDomainRandomization` (LDR): every episode runs in context ``c0 + eps * N(0, I)``, clipped to
  the task's context box.  Unlike CSE, this needs the real environment at many contexts.
- :class:`GlobalDomainRandomization` (GDR): every episode's context is uniform over the task's box.

Both draw the context at ``reset()`` from the wrapper's own ``np_random`` (seeded by ``reset(seed=...)``)
and set it with the task's ``set_context``; the observation then carries that context as usual.

>>> from cebe_deep.tasks import make_task
>>> env = LocalDomainRandomization(make_task("SimpleDirection"), eps=0.1)
>>> obs, info = env.reset(seed=0)
>>> bool(np.allclose(obs[2:], info["context"]))   # the observation carries the drawn context
True
>>> bool(np.all(np.abs(info["context"]) < 1.0))   # c0 = (0, 0) plus N(0, 0.1^2) noise: 10 sigma away
True
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.utils import seeding

from cebe_deep.errors import ConfigError
from cebe_deep.learn.eps import PAPER_EPS, check_eps


class _ContextRandomization(gymnasium.Wrapper):
    """Common part: pick a context at each reset, set it on the task, report it in ``info["context"]``."""

    def __init__(self, env: gymnasium.Env):
        super().__init__(env)
        task = env.unwrapped
        for name in ("set_context", "context_low", "context_high", "default_context"):
            if not hasattr(task, name):
                raise TypeError(f"{type(self).__name__} needs a contextual task (missing {name!r}), got {task!r}")
        self.context_low = np.asarray(task.context_low, dtype=np.float64)
        self.context_high = np.asarray(task.context_high, dtype=np.float64)
        self.base_context = np.asarray(task.default_context, dtype=np.float64).copy()
        self._randomization_rng, _ = seeding.np_random(None)

    def draw_context(self) -> np.ndarray:
        raise NotImplementedError

    def _draw_valid_context(self, attempts: int = 1000) -> np.ndarray:
        """Redraw while the task rejects the context for constraints beyond the box (e.g. PendulumGoal's
        |tau| < m g l): rejection sampling, so the draw is the stated law conditioned on validity."""
        validate = getattr(self.env.unwrapped, "validate_context", None)
        for _ in range(attempts):
            context = self.draw_context()
            if validate is None:
                return context
            try:
                validate(context)
                return context
            except ValueError:
                continue
        raise ValueError(f"{type(self).__name__}: no valid context in {attempts} draws")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            # A separate stream from the task's own, so that randomization does not shift the task's noise.
            self._randomization_rng, _ = seeding.np_random(seed + 7919)
        context = self._draw_valid_context()
        self.env.unwrapped.set_context(context)
        obs, info = self.env.reset(seed=seed, options=options)
        info = dict(info, context=context)
        return obs, info


class LocalDomainRandomization(_ContextRandomization):
    """LDR: each episode's context is ``clip(c0 + eps * N(0, I), low, high)``.

    :param env: a contextual task (``cebe_deep.tasks.ContextualEnv``), possibly wrapped
    :param eps: the Gaussian's scale (the paper uses the same eps as CSE, 0.1)
    :param base_context: c0; default the task's ``default_context``
    """

    def __init__(self, env: gymnasium.Env, eps: float = PAPER_EPS, base_context: np.ndarray | None = None):
        super().__init__(env)
        check_eps(eps)
        self.eps = float(eps)
        if base_context is not None:
            self.base_context = np.asarray(base_context, dtype=np.float64).copy()
        if np.any(self.base_context < self.context_low) or np.any(self.base_context > self.context_high):
            raise ConfigError(f"base context {self.base_context} is outside the box [{self.context_low}, {self.context_high}]")

    def draw_context(self) -> np.ndarray:
        noise = self._randomization_rng.normal(0.0, self.eps, size=self.base_context.shape)
        return np.clip(self.base_context + noise, self.context_low, self.context_high)


class GlobalDomainRandomization(_ContextRandomization):
    """GDR: each episode's context is uniform over the task's box ``[context_low, context_high]``, or over
    ``box = (low, high)`` when given (e.g. the task's ``authors_context_box``); contexts the task rejects
    (constraints beyond the box) are redrawn."""

    def __init__(self, env: gymnasium.Env, box=None):
        super().__init__(env)
        if box is not None:
            low, high = (np.asarray(bound, dtype=np.float64) for bound in box)
            if low.shape != self.context_low.shape or np.any(low > high):
                raise ConfigError(f"GDR box must be (low, high) of {self.context_low.size} values with low <= high, got {box}")
            if np.any(low < self.context_low) or np.any(high > self.context_high):
                raise ConfigError(f"GDR box {low.tolist()}..{high.tolist()} leaves the task's box "
                                 f"{self.context_low.tolist()}..{self.context_high.tolist()}")
            self.context_low, self.context_high = low, high
        if not (np.all(np.isfinite(self.context_low)) and np.all(np.isfinite(self.context_high))):
            raise ConfigError("global domain randomization needs a bounded context box")

    def draw_context(self) -> np.ndarray:
        return self._randomization_rng.uniform(self.context_low, self.context_high)
