r"""A contextual task from a torch step function, its context Jacobians by automatic differentiation.

CSE (arXiv 2507.07348, Section 5) moves a transition ``(s, a, r, s')`` from context ``c`` to ``c + dc`` with

    s'_new = s' + d_c T dc,        r_new = r + d_c R dc + d_{s'} R (d_c T dc),

so a task must report the three partials ``d_c T`` (``dobs_dcontext``), ``d_c R`` (``dreward_dcontext``) and
``d_{s'} R`` (``dreward_dnextobs``) at every step (:mod:`cebe_deep.tasks.base`). :func:`differentiable_task`
builds such a task from one function written with torch operations,

    step(state, action, context) -> (next_state, reward)        (1-D float64 tensors; reward a scalar)

and gets the partials from ``torch.func`` instead of by hand:

* ``d_c T`` is the Jacobian of ``next_state`` in ``context`` (``torch.func.jacrev``).
* The reward. Its partials ``d_c R`` and ``d_{s'} R`` are taken at fixed ``s'`` and fixed ``c`` respectively,
  so they need the reward written as a function of the next state: pass it as
  ``reward(state, action, next_state, context) -> scalar``. Then ``d_c R`` and ``d_{s'} R`` are its gradients
  in ``context`` and ``next_state`` (one ``jacrev`` call gives all three partials). Without ``reward``, the
  reward ``r(c) = R(s, a, T(s, a, c), c)`` of ``step`` is differentiated as a whole, and its *total* derivative
  ``dr/dc = d_c R + d_{s'} R d_c T`` is reported as ``dreward_dcontext``, with ``dreward_dnextobs = 0``. The
  first-order CSE reward is the same either way: it uses the partials only through
  ``d_c R dc + d_{s'} R (d_c T dc) = (dr/dc) dc`` (chain rule). What differs is the rounding (one product
  fewer) and what a reader of ``info`` sees; ``cebe_deep.learn.inexact.FiniteDifferenceJacobians`` uses the same rule.

Everything runs in double precision (the observation is float64; ``step`` receives float64 tensors and must
return float64). With ``jacobians=False`` the step function is called once per step, under
``torch.no_grad``; with ``jacobians=True`` the values come from that same call (so the trajectory is
bit-for-bit the same either way) and the Jacobians from one further ``jacrev`` call.

**Cost per step** (``benchmarks/bench_own_env.py``, torch on one thread, on the project's 2-core machine with
other jobs running, so read the ratios more than the times; two runs): SimpleDirection 0.12 ms a step without
Jacobians and 1.5 ms with; PendulumGoal 0.5 ms and 3.7-4.0 ms (the sympy tasks: 0.03-0.05 ms either way).
``torch.func``'s per-operation overhead on scalars dominates, so the cost grows with the number of torch
operations in ``step``, hardly with the dimensions (a synthetic step with ``n`` from 3 to 100 and
``context_dim`` from 1 to 10 cost the same). One SAC gradient step (batch 256, 64x64 networks) took 10-12 ms on
the same machine, so the Jacobians add about 10-40% to a run with one update per step, less under the authors'
one update per 8 steps.
``jacrev`` (a ``vmap`` over the rows of the reverse pass) was 1.4x (SimpleDirection) to 3.6x (PendulumGoal)
faster than ``jacfwd``, and 2-3x at every synthetic shape, so it is used; ``jacfwd`` is the fallback for a
step ``jacrev`` cannot trace. ``vmap`` pays in :meth:`DifferentiableTask.simulate`, the batched re-simulation
that CSE's ``exact`` mode and ``FiniteDifferenceJacobians`` call.

**Checks at construction.** The task steps once from ``reset(numpy.random.default_rng(0))`` at ``c0`` with
the middle action and raises a one-line :class:`StepFunctionError` if ``step`` returns the wrong types,
dtypes or shapes, a non-finite value, or cannot be differentiated (naming torch's message), and -- because
``torch.func`` silently drops the derivative through ``.item()``, ``float()`` or ``.detach()`` -- if the
autodiff Jacobian disagrees with a central difference of ``step`` (naming the output and the context
coordinate). ``check_jacobians=False`` skips the comparison (for a step with a kink at that point).
A context coordinate whose Jacobians stay zero over the first 10 steps gets a warning
(:class:`~cebe_deep.tasks.jacobian_watch.ZeroJacobianWatch`).

Example: SimpleDirection (``s' = s + a + c``, ``r = s' . c``) in four lines, with the reward separated:

>>> import numpy as np, torch
>>> env = differentiable_task(
...     lambda s, a, c: (s + a + c, torch.dot(s + a + c, c)), lambda rng: rng.uniform(-1, 1, size=2),
...     reward=lambda s, a, next_s, c: torch.dot(next_s, c),
...     state_dim=2, action_low=[-1, -1], action_high=[1, 1], context_low=[-2, -2], context_high=[2, 2],
...     c0=[0.3, -0.2], horizon=10)
>>> obs, info = env.reset(seed=0)
>>> obs, reward, terminated, truncated, info = env.step(np.array([0.5, 0.5]))
>>> info["dobs_dcontext"].tolist()                           # d_c T = I
[[1.0, 0.0], [0.0, 1.0]]
>>> np.allclose(info["dreward_dcontext"], obs[:2]), info["dreward_dnextobs"].tolist()   # d_c R = s', d_s' R = c
(True, [0.3, -0.2])
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit

from cebe_deep.tasks.base import ContextualEnv
from cebe_deep.tasks.jacobian_watch import ZeroJacobianWatch
from cebe_theory.errors import InputError

__all__ = ["differentiable_task", "DifferentiableTask", "StepFunctionError", "JACOBIAN_MODES"]

#: The torch.func transforms tried for the Jacobians, in order (the first that traces the step is kept).
JACOBIAN_MODES = ("jacrev", "jacfwd")

#: Relative step of the construction-time central difference that checks the autodiff Jacobian.
CHECK_RELATIVE_STEP = 1e-6
#: Tolerance of that check, relative to ``1 + max |Jacobian| + max |output|`` (central-difference error with
#: this step: truncation ~1e-12, rounding ~1e-10 of the outputs; a cut derivative is off by O(1)).
CHECK_TOLERANCE = 1e-5


class StepFunctionError(InputError):
    """A step, reset, reward or terminated function that the task cannot use; the message says what and why."""


def _vector(value, name: str, owner: str) -> np.ndarray:
    try:
        vector = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise InputError(f"{owner}: {name} must be a vector of real numbers, got {value!r}") from None
    if vector.ndim != 1 or vector.size == 0:
        raise InputError(f"{owner}: {name} must be a non-empty 1-D vector, got shape {vector.shape} ({value!r})")
    if not np.all(np.isfinite(vector)):
        raise InputError(f"{owner}: {name} must be finite, got {vector.tolist()}")
    return vector


def _box(low, high, names: tuple[str, str], owner: str) -> tuple[np.ndarray, np.ndarray]:
    low, high = _vector(low, names[0], owner), _vector(high, names[1], owner)
    if low.shape != high.shape:
        raise InputError(f"{owner}: {names[0]} and {names[1]} must have the same shape, got {low.shape} and {high.shape}")
    if not np.all(low < high):
        bad = int(np.flatnonzero(~(low < high))[0])
        raise InputError(f"{owner}: {names[0]}[{bad}] = {float(low[bad])!r} must be < "
                         f"{names[1]}[{bad}] = {float(high[bad])!r}")
    return low, high


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def differentiable_task(step, reset, *, state_dim, action_low, action_high, context_low, context_high, c0, horizon,
                        terminated=None, reward=None, **options) -> gymnasium.Env:
    """A contextual task (the package's interface) from a torch step function; see the module docstring.

    :param step: ``step(state, action, context) -> (next_state, reward)`` on 1-D float64 torch tensors of shapes
        ``(state_dim,)``, ``(action_dim,)``, ``(context_dim,)``; returns ``next_state`` of shape ``(state_dim,)``
        (float64) and a scalar reward tensor. With ``reward`` given, it may return ``next_state`` alone.
    :param reset: ``reset(rng) -> state``, ``rng`` a ``numpy.random.Generator`` (the env's ``np_random``);
        a numpy array or torch tensor of shape ``(state_dim,)``
    :param state_dim: the state part of the observation (the observation is ``state`` then ``context``)
    :param action_low, action_high: the action box, shape ``(action_dim,)``; actions are clipped to it
    :param context_low, context_high: the context box, shape ``(context_dim,)``
    :param c0: the base (training) context, in the box
    :param horizon: the episode's time limit (a ``TimeLimit`` wrapper)
    :param terminated: optional ``terminated(next_state, context) -> bool`` (torch tensors); default never
    :param reward: optional ``reward(state, action, next_state, context) -> scalar tensor``, the same reward with
        its dependence on the next state explicit, for the partials ``d_c R`` and ``d_{s'} R``
    :param options: passed to :class:`DifferentiableTask`: ``context_names``, ``context`` (the starting
        context, default ``c0``), ``jacobians`` (default True), ``check_jacobians`` (default True), ``name``
    :returns: ``TimeLimit(DifferentiableTask(...), horizon)``; ``env.unwrapped`` is the task
    """
    task = DifferentiableTask(step, reset, state_dim=state_dim, action_low=action_low, action_high=action_high,
                              context_low=context_low, context_high=context_high, c0=c0, horizon=horizon,
                              terminated=terminated, reward=reward, **options)
    return TimeLimit(task, max_episode_steps=task.max_episode_steps)


class DifferentiableTask(ContextualEnv):
    r"""A contextual task whose dynamics and reward are a torch step function (module docstring).

    ## Dynamics and reward
    ``s', r = step(s, clip(a, action_low, action_high), c)``; the reward reported is ``step``'s (or, when
    ``step`` returns only ``s'``, ``reward(s, a, s', c)``). Start: ``reset(np_random)``, or
    ``reset(options={"state": s0})``.

    ## Context
    ``c`` in ``[context_low, context_high]``, default ``c0``; ``set_context`` validates it (one-line error).

    ## Observation
    ``(s', c)``, shape ``(state_dim + context_dim,)``, float64, unbounded in the state part.

    ## Context derivatives (torch.func, exact up to rounding)
    ``dobs_dcontext = d s'/dc``. With ``reward``: ``dreward_dcontext = dR/dc`` at fixed ``s'``,
    ``dreward_dnextobs = dR/ds'`` at fixed ``c``. Without: ``dreward_dcontext = dr/dc`` (total),
    ``dreward_dnextobs = 0`` (the same first-order CSE, module docstring).

    ## Episode
    ``horizon`` steps (``differentiable_task`` adds the ``TimeLimit``); ``terminated(s', c)`` ends it early.
    """

    supports_simulate = True
    watches_jacobians = True

    def __init__(self, step: Callable, reset: Callable, *, state_dim: int, action_low, action_high, context_low,
                 context_high, c0, horizon: int, terminated: Callable | None = None, reward: Callable | None = None,
                 context_names=None, context=None, jacobians: bool = True, check_jacobians: bool = True,
                 name: str | None = None):
        self.name = name or f"DifferentiableTask({getattr(step, '__name__', type(step).__name__)})"
        for label, function, required in (("step", step, True), ("reset", reset, True),
                                          ("terminated", terminated, False), ("reward", reward, False)):
            if (required or function is not None) and not callable(function):
                raise StepFunctionError(f"{self.name}: {label} must be a function, got {function!r}")
        for label, value in (("state_dim", state_dim), ("horizon", horizon)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InputError(f"{self.name}: {label} must be a positive integer, got {value!r}")
        self._step_function, self._reset_function = step, reset
        self._terminated_function, self._reward_function = terminated, reward
        self.state_dim = int(state_dim)
        self.max_episode_steps = int(horizon)
        action_low, action_high = _box(action_low, action_high, ("action_low", "action_high"), self.name)
        self.context_low, self.context_high = _box(context_low, context_high, ("context_low", "context_high"), self.name)
        self.context_dim = self.context_low.size
        self.default_context = _vector(c0, "c0", self.name)
        if self.default_context.shape != self.context_low.shape:
            raise InputError(f"{self.name}: c0 must have {self.context_dim} values like context_low, "
                             f"got {self.default_context.size}")
        if context_names is None:
            context_names = tuple(f"context_{i}" for i in range(self.context_dim))
        self.context_names = tuple(str(n) for n in context_names)
        if len(self.context_names) != self.context_dim:
            raise InputError(f"{self.name}: context_names must name all {self.context_dim} coordinates, "
                             f"got {list(self.context_names)}")
        self.action_space = spaces.Box(action_low.astype(np.float32), action_high.astype(np.float32), dtype=np.float32)
        self._action_low, self._action_high = action_low, action_high
        self.observation_space = self._observation_space(-np.inf, np.inf)
        self._jacobian_mode: str | None = None
        self._vmap_works: bool | None = None
        self._init_context(self.default_context if context is None else context, jacobians)
        self._watch = ZeroJacobianWatch(self.name, self.context_names)
        self._state = self._validated_state(reset(np.random.default_rng(0)), "reset(rng)")
        self._check_at(self._state, 0.5 * (action_low + action_high), check_jacobians)

    # ---------------------------------------------------------------- context
    def _apply_context(self, context: np.ndarray) -> None:
        self._context_tensor = torch.from_numpy(context.copy())

    @property
    def state(self) -> np.ndarray:
        """The current state part ``s`` (a float64 copy)."""
        return self._state.copy()

    # ------------------------------------------------------------- validation
    def _validated_state(self, state, where: str) -> np.ndarray:
        if isinstance(state, torch.Tensor):
            state = state.detach().cpu().numpy()
        try:
            vector = np.asarray(state, dtype=np.float64)
        except (TypeError, ValueError):
            raise StepFunctionError(
                f"{self.name}: {where} must give a real vector of shape ({self.state_dim},), got {state!r}") from None
        if vector.shape != (self.state_dim,):
            raise StepFunctionError(f"{self.name}: {where} must give shape ({self.state_dim},), got shape {vector.shape}")
        if not np.all(np.isfinite(vector)):
            raise StepFunctionError(f"{self.name}: {where} must be finite, got {vector.tolist()}")
        return vector.copy()

    def _split(self, output):
        """``step``'s output as ``(next_state, reward or None)``."""
        if isinstance(output, (tuple, list)) and len(output) == 2:
            return output[0], output[1]
        if isinstance(output, torch.Tensor) and self._reward_function is not None:
            return output, None
        expected = "(next_state, reward) or next_state" if self._reward_function is not None else "(next_state, reward)"
        raise StepFunctionError(f"{self.name}: step must return {expected} as torch tensors, got {type(output).__name__}")

    def _checked_tensor(self, value, what: str, shape: tuple[int, ...] | None) -> torch.Tensor:
        if not isinstance(value, torch.Tensor):
            raise StepFunctionError(
                f"{self.name}: {what} must be a torch tensor, got {type(value).__name__} (write it with torch operations "
                "so that torch.func can differentiate it)")
        if value.dtype != torch.float64:
            raise StepFunctionError(
                f"{self.name}: {what} must be float64, got {value.dtype} (make constants with dtype=torch.float64)")
        if shape is None:
            if value.numel() != 1:
                raise StepFunctionError(f"{self.name}: {what} must be a scalar, got shape {tuple(value.shape)}")
        elif tuple(value.shape) != shape:
            raise StepFunctionError(f"{self.name}: {what} must have shape {shape}, got shape {tuple(value.shape)}")
        if not bool(torch.all(torch.isfinite(value))):
            raise StepFunctionError(f"{self.name}: {what} must be finite, got {value.tolist()}")
        return value

    # ----------------------------------------------------------------- values
    def _values(self, state: torch.Tensor, action: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, float]:
        """``(next_state, reward)`` with every output checked; no autodiff."""
        with torch.no_grad():
            next_state, step_reward = self._split(self._step_function(state, action, context))
            next_state = self._checked_tensor(next_state, "step's next_state", (self.state_dim,))
            if step_reward is not None:
                step_reward = float(self._checked_tensor(step_reward, "step's reward", None).reshape(()))
            if self._reward_function is None:
                return next_state, step_reward
            reward = float(self._checked_tensor(self._reward_function(state, action, next_state, context),
                                                "reward(state, action, next_state, context)", None).reshape(()))
        if step_reward is None:
            return next_state, reward
        if not abs(step_reward - reward) <= 1e-9 * (1.0 + abs(step_reward)):
            raise StepFunctionError(
                f"{self.name}: step's reward {step_reward!r} differs from reward(state, action, next_state, context) = "
                f"{reward!r}; they must be the same reward")
        return next_state, step_reward

    # -------------------------------------------------------------- Jacobians
    def _jacobian_function(self, state: torch.Tensor, action: torch.Tensor):
        """``(function, argnums)``: the outputs ``[s' (n), r (1)]`` as a function of the context (and, with a
        separate reward, of an independent next-state argument, so that ``jacrev`` gives ``dR/ds'`` too)."""
        if self._reward_function is None:
            def outputs(context):
                next_state, reward = self._split(self._step_function(state, action, context))
                return torch.cat([next_state.reshape(-1), reward.reshape(1)])
            return outputs, 0

        def outputs_with_next_state(context, next_state_argument):
            next_state = self._split(self._step_function(state, action, context))[0]
            reward = self._reward_function(state, action, next_state_argument, context)
            return torch.cat([next_state.reshape(-1), reward.reshape(1)])
        return outputs_with_next_state, (0, 1)

    def _jacobians(self, state: torch.Tensor, action: torch.Tensor, context: torch.Tensor, next_state: torch.Tensor):
        """``(dobs_dcontext (n, d), dreward_dcontext (d,), dreward_dnextobs (n,))`` as float64 numpy arrays."""
        function, argnums = self._jacobian_function(state, action)
        arguments = (context,) if argnums == 0 else (context, next_state)
        modes = JACOBIAN_MODES if self._jacobian_mode is None else (self._jacobian_mode,)
        failures = []
        for mode in modes:
            try:
                jacobian = getattr(torch.func, mode)(function, argnums=argnums)(*arguments)
            except StepFunctionError:
                raise
            except Exception as error:  # noqa: BLE001 - torch.func raises many types; each is reported in one line
                failures.append(f"{mode}: {_first_line(error)}")
                continue
            self._jacobian_mode = mode
            break
        else:
            raise StepFunctionError(
                f"{self.name}: torch.func cannot differentiate step in the context ({'; '.join(failures)})")
        n = self.state_dim
        if argnums == 0:
            by_context = jacobian.detach().numpy().copy()
            return by_context[:n], by_context[n], np.zeros(n)
        by_context, by_next_state = (part.detach().numpy().copy() for part in jacobian)
        return by_context[:n], by_context[n], by_next_state[n]

    def _check_at(self, state: np.ndarray, action: np.ndarray, compare: bool) -> None:
        """One step at the current context: outputs checked; Jacobians traced and, if ``compare``, checked
        against central differences of ``step`` (and of ``reward`` in the next state)."""
        s, a, c = (torch.from_numpy(np.array(x, dtype=np.float64)) for x in (state, action, self._context))
        next_state, _ = self._values(s, a, c)
        dobs, dreward_dcontext, dreward_dnextobs = self._jacobians(s, a, c, next_state)
        if not compare:
            return
        # the total derivative of [s', r] in c, autodiff against a central difference
        autodiff = np.vstack([dobs, (dreward_dcontext + dreward_dnextobs @ dobs)[None]])
        central = np.zeros_like(autodiff)
        for i in range(self.context_dim):
            h = CHECK_RELATIVE_STEP * max(1.0, abs(float(c[i])))
            shifted = [c.clone(), c.clone()]
            shifted[0][i] += h
            shifted[1][i] -= h
            values = []
            for context in shifted:
                ns, r = self._values(s, a, context)
                values.append(np.append(ns.numpy(), r))
            central[:, i] = (values[0] - values[1]) / (2 * h)
        outputs = [f"next_state[{k}]" for k in range(self.state_dim)] + ["reward"]
        scale = 1.0 + np.max(np.abs(central)) + max(np.max(np.abs(next_state.numpy())), 1.0)
        self._compare(autodiff, central, scale, outputs, [f"context coordinate {i} ({self.context_names[i]})"
                                                          for i in range(self.context_dim)])
        if self._reward_function is not None:
            central_next = np.zeros(self.state_dim)
            for k in range(self.state_dim):
                h = CHECK_RELATIVE_STEP * max(1.0, abs(float(next_state[k])))
                rewards = []
                for sign in (1.0, -1.0):
                    shifted = next_state.clone()
                    shifted[k] += sign * h
                    with torch.no_grad():
                        rewards.append(float(self._reward_function(s, a, shifted, c).reshape(())))
                central_next[k] = (rewards[0] - rewards[1]) / (2 * h)
            self._compare(dreward_dnextobs[None], central_next[None], scale, ["reward(state, action, next_state, context)"],
                          [f"next_state[{k}]" for k in range(self.state_dim)])

    def _compare(self, autodiff, central, scale, rows, columns) -> None:
        error = np.abs(autodiff - central)
        if np.max(error) > CHECK_TOLERANCE * scale:
            row, column = np.unravel_index(int(np.argmax(error)), error.shape)
            raise StepFunctionError(
                f"{self.name}: the torch.func derivative of {rows[row]} in {columns[column]} is "
                f"{autodiff[row, column]:.6g} but a central difference gives {central[row, column]:.6g}: the function "
                "leaves torch somewhere (.item(), float(), .numpy(), .detach(), a numpy or math call on a tensor), "
                "which cuts the derivative; use torch operations (check_jacobians=False skips this check for a "
                "step with a kink at the check point)")

    # ------------------------------------------------------------- gymnasium
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"state"}
        if unknown:
            raise InputError(f"{self.name} reset options may set 'state' only, got {sorted(unknown)}")
        if "state" in options:
            self._state = self._validated_state(options["state"], "reset option 'state'")
        else:
            self._state = self._validated_state(self._reset_function(self.np_random), "reset(rng)")
        return self._observation(self._state), self._reset_info()

    def step(self, action):
        action = self._box_action(action, self.action_space)
        state, action_tensor, context = torch.from_numpy(self._state), torch.from_numpy(action), self._context_tensor
        next_state, reward = self._values(state, action_tensor, context)
        info = {}
        if self.jacobians:
            dobs, dreward_dcontext, dreward_dnextobs = self._jacobians(state, action_tensor, context, next_state)
            self._watch.update(dobs, dreward_dcontext)
            info = {"dobs_dcontext": dobs, "dreward_dcontext": dreward_dcontext, "dreward_dnextobs": dreward_dnextobs}
        terminated = False
        if self._terminated_function is not None:
            with torch.no_grad():
                terminated = bool(self._terminated_function(next_state, context))
        self._state = next_state.numpy().copy()
        return self._observation(self._state), reward, terminated, False, info

    def _box_action(self, action, space: spaces.Box) -> np.ndarray:
        # clip to the float64 bounds given (the float32 space may round them)
        return np.clip(self._validated_box_action(action, space), self._action_low, self._action_high)

    # -------------------------------------------------------------- simulate
    def simulate(self, state_obs, action, context):
        """Batched exact step ``(next_state (B, n), reward (B,))`` from states ``(B, n)``, actions ``(B, m)`` and
        contexts ``(B, d)`` (each broadcastable over the batch; actions clipped to the box), by ``torch.func.vmap``
        over ``step`` (a Python loop if ``step`` cannot be vmapped, e.g. data-dependent control flow)."""
        state_obs, action, context = (np.asarray(x, dtype=np.float64) for x in (state_obs, action, context))
        batch = np.broadcast_shapes(state_obs.shape[:-1], action.shape[:-1], context.shape[:-1])
        columns = []
        for array, width in ((state_obs, self.state_dim), (action, self._action_low.size), (context, self.context_dim)):
            columns.append(torch.from_numpy(np.broadcast_to(array, batch + (width,)).reshape(-1, width).copy()))
        columns[1] = columns[1].clamp(torch.from_numpy(self._action_low), torch.from_numpy(self._action_high))

        def one(s, a, c):
            next_state, reward = self._split(self._step_function(s, a, c))
            if self._reward_function is not None:
                reward = self._reward_function(s, a, next_state, c)
            return next_state, reward.reshape(())

        next_states = rewards = None
        with torch.no_grad():
            if self._vmap_works is not False:
                try:
                    next_states, rewards = torch.func.vmap(one)(*columns)
                    self._vmap_works = True
                except Exception:  # noqa: BLE001 - any failure to batch falls back to the loop below
                    self._vmap_works = False
            if next_states is None:
                pairs = [one(*(column[k] for column in columns)) for k in range(columns[0].shape[0])]
                next_states = torch.stack([p[0] for p in pairs]).reshape(-1, self.state_dim)
                rewards = torch.stack([p[1] for p in pairs]).reshape(-1)
        return next_states.numpy().reshape(batch + (self.state_dim,)), rewards.numpy().reshape(batch)
