r"""Any Gymnasium MuJoCo environment as a contextual task whose context is a set of named model parameters.

:func:`mujoco_task` wraps a stock environment (``"HalfCheetah-v5"``, ``"Hopper-v5"``, ``"Ant-v5"``, ...) so that
its context ``c`` is a vector of MuJoCo model parameters -- a body's mass, a geom's friction, gravity -- named in
a dict, e.g. ::

    {"torso_mass": ("body_mass", "torso"),            # model.body_mass[id of body "torso"]
     "floor_friction": ("geom_friction", "floor", 0),  # model.geom_friction[id of geom "floor", 0] (sliding)
     "gravity_z": ("opt.gravity", 2)}                  # model.opt.gravity[2]

A parameter is ``(field, object name, index...)``: ``field`` is an ``mjModel`` array whose prefix names the
object type (``body_``, ``geom_``, ``jnt_``, ``dof_`` (named by its joint), ``actuator_``, ``site_``,
``tendon_``, ``eq_``, ``pair_``) or an ``opt.`` option (``opt.gravity``, ``opt.timestep``, ``opt.wind``,
``opt.density``, ``opt.viscosity``, ...), which has no object name. The object name is resolved with MuJoCo's
own lookup (``mujoco.mj_name2id``); an index is needed exactly where the field holds several numbers per object
(``geom_friction``: sliding, torsional, rolling) or the joint several degrees of freedom. A bad field, name or
index is a one-line :class:`ModelParameterError` naming it and listing the valid ones
(:mod:`cebe_deep.tasks.model_parameters`).

The parameters are written into the compiled model (``set_context``). MuJoCo's derived constants (the
``*_invweight0``, ``body_subtreemass``, ``actuator_acc0`` that ``mj_setConst`` computes at compile time) keep
their values at c0, as in :class:`~cebe_deep.tasks.cheetah.CheetahMassVelocity`: the model at ``c`` is "the
compiled model with these fields set to ``c``", the same in the real step, the finite differences and the
domain-randomization baselines. ``body_mass`` changes the mass only (add ``("body_inertia", name, k)`` for the
inertia). Contact friction is the larger of the two geoms' (MuJoCo's default mixing): a friction context at a
tie (HalfCheetah's floor and body geoms are all 0.4) has a kink there, and its central difference is the mean
of the two one-sided slopes.

## Context derivatives: central differences of the real step
At every step (``jacobians=True``), before the real step, a *twin* environment (a second instance of the same
environment) is put in the real simulator state with ``mujoco.mj_copyData`` (positions, velocities,
activations, time, warm start: everything), its parameter ``i`` is set to ``c_i +- h_i``, and it runs the
environment's own ``step`` (all frames of the frame skip at the perturbed parameter, the environment's own
reward and observation):

    dobs_dcontext[:, i]  = (obs(c + h_i e_i) - obs(c - h_i e_i)) / 2 h_i          (error O(h^2))
    dreward_dcontext[i]  = (r(c + h_i e_i) - r(c - h_i e_i)) / 2 h_i              (the total derivative)
    dreward_dnextobs     = 0

The reward's derivative is the total one because the stock rewards are not functions of the observed next
state (HalfCheetah's, Hopper's and Ant's forward term is the root displacement over the step, whose position
the observation excludes): with ``dreward_dnextobs = 0`` the first-order CSE reward ``r + (dr/dc) dc`` is the
same as ``r + d_c R dc + d_{s'} R d_c T dc`` (chain rule; :mod:`cebe_deep.tasks.differentiable` states the
same rule). The real ``data`` is only read, so the trajectory is bit-for-bit the same with ``jacobians=False``.

The step sizes scale with ``|c0|``: ``h_i = step_size * |c0_i|`` (``step_size`` relative, default
:data:`~cebe_deep.tasks.cheetah.FD_RELATIVE_STEP` = 1e-5, chosen by ``benchmarks/fd_step_study.py`` for mass and
gravity); they are recorded in :attr:`MujocoModelTask.step_sizes`. The cost is ``2 * context_dim`` extra
environment steps per step: measured by ``benchmarks/bench_own_env.py``, HalfCheetah-v5 took 5.0-5.3x a plain
step with one parameter and 7.2-8.6x with three, in two runs (ideally 3x and 7x; each twin step also copies
the data and builds an observation). :meth:`MujocoModelTask.jacobian_cost` reports a run's own (counted and
timed), and every step's ``info`` carries ``finite_difference_evaluations`` and ``finite_difference_seconds``.

>>> env = mujoco_task("HalfCheetah-v5", {"torso_mass": ("body_mass", "torso"), "gravity_z": ("opt.gravity", 2)})
>>> task = env.unwrapped
>>> task.context_names, task.default_context.round(3).tolist(), task.context_low.round(3).tolist()
(('torso_mass', 'gravity_z'), [6.25, -9.81], [3.125, -14.715])
>>> obs, info = env.reset(seed=0)
>>> obs.shape, info["dobs_dcontext"].shape            # HalfCheetah's 17 numbers, then the context
((19,), (17, 2))
>>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
>>> info["finite_difference_evaluations"], task.step_sizes.round(7).tolist()
(4, [6.25e-05, 9.81e-05])
>>> try:
...     mujoco_task("HalfCheetah-v5", {"m": ("body_mass", "torsoo")})
... except ValueError as error:  # a ModelParameterError, one line naming the bad name and the valid ones
...     print(error)  # doctest: +ELLIPSIS
context 'm' ...: no body named 'torsoo'; bodies: world, torso, bthigh, ...
"""

from __future__ import annotations

import time

import gymnasium
import mujoco
import numpy as np
from gymnasium.wrappers import TimeLimit

from cebe_deep.tasks.base import ContextualEnv
from cebe_deep.tasks.cheetah import FD_RELATIVE_STEP, quiet_settotalmass_deprecation
from cebe_deep.tasks.jacobian_watch import ZeroJacobianWatch
from cebe_deep.tasks.model_parameters import ModelParameterError, resolve_parameter
from cebe_theory.errors import InputError

__all__ = ["mujoco_task", "MujocoModelTask", "ModelParameterError", "DEFAULT_BOX_FRACTION"]

#: The default context box is ``c0 +- DEFAULT_BOX_FRACTION * |c0|``.
DEFAULT_BOX_FRACTION = 0.5


def mujoco_task(env_id: str, parameters: dict, *, c0=None, step_size: float | None = None, **options) -> gymnasium.Env:
    """A Gymnasium MuJoCo environment whose context is the named model ``parameters`` (module docstring).

    :param env_id: a registered Gymnasium MuJoCo id, e.g. ``"HalfCheetah-v5"``, ``"Hopper-v5"``, ``"Ant-v5"``
    :param parameters: ``{context name: (field, object name, index...)}``, in the context's order
    :param c0: the base context (default: the model's own values)
    :param step_size: the relative finite-difference step, ``h_i = step_size * |c0_i|`` (default 1e-5)
    :param options: passed to :class:`MujocoModelTask`: ``context_low``, ``context_high`` (default
        ``c0 -+ 50% |c0|``), ``context`` (the starting context, default ``c0``), ``jacobians`` (default True),
        and any keyword of the environment (``gymnasium.make(env_id, **kwargs)``)
    :returns: ``TimeLimit(MujocoModelTask(...), the environment's own time limit)``
    """
    task = MujocoModelTask(env_id, parameters, c0=c0, step_size=step_size, **options)
    return TimeLimit(task, max_episode_steps=task.max_episode_steps)


class MujocoModelTask(ContextualEnv):
    r"""A Gymnasium MuJoCo environment with named model parameters as context (module docstring).

    ## Dynamics, reward, termination
    The environment's own (``gymnasium.make(env_id, **kwargs)``), with the model's parameters set to the context.
    Actions outside the action box are passed on as the environment does (MuJoCo clamps limited controls).

    ## Context
    ``c = (model parameter named by parameters[k])_k``; default c0 = the compiled model's values; box
    ``c0 -+ 50% |c0|`` unless ``context_low``/``context_high`` are given (a parameter with ``c0 = 0`` needs them).

    ## Observation
    The environment's observation, then the context: ``state_dim`` = the environment's observation size.

    ## Context derivatives
    Central differences of the environment's step from the same simulator state, on a twin environment
    (module docstring): ``dobs_dcontext``, the total ``dreward_dcontext``, ``dreward_dnextobs = 0``.

    ## Episode
    The environment's time limit (``max_episode_steps`` of its spec), added by :func:`mujoco_task`.
    """

    watches_jacobians = True

    def __init__(self, env_id: str, parameters: dict, *, c0=None, step_size: float | None = None, context_low=None,
                 context_high=None, context=None, jacobians: bool = True, **env_kwargs):
        self.env_id = str(env_id)
        self._arguments = dict(parameters=parameters, c0=c0, step_size=step_size, context_low=context_low,
                               context_high=context_high, **env_kwargs)  # for :meth:`make_twin`
        self._env = self._make(env_id, env_kwargs)
        self.metadata = self._env.metadata
        self.render_mode = self._env.render_mode
        if not isinstance(parameters, dict) or not parameters:
            raise InputError(f"{env_id}: parameters must be a non-empty dict {{context name: (field, object name, "
                             f"index...)}}, got {parameters!r}")
        model = self._env.model
        self.parameters = tuple(resolve_parameter(model, str(name), spec, env_id) for name, spec in parameters.items())
        seen: dict[tuple, str] = {}
        for parameter in self.parameters:
            key = (parameter.field, parameter.row, parameter.column)
            if key in seen:
                raise ModelParameterError(f"{env_id}: contexts {seen[key]!r} and {parameter.name!r} name the same "
                                          f"parameter {parameter.describe()}")
            seen[key] = parameter.name
        self.context_names = tuple(p.name for p in self.parameters)
        self.context_dim = len(self.parameters)
        self.model_context = np.array([p.read(model) for p in self.parameters])
        self.default_context = self._vector(self.model_context if c0 is None else c0, "c0")
        self.context_low, self.context_high = self._context_box(context_low, context_high)
        step_size = FD_RELATIVE_STEP if step_size is None else step_size
        if isinstance(step_size, bool) or not isinstance(step_size, (int, float, np.floating)) or not 0 < step_size < 1:
            raise InputError(f"{env_id}: step_size (relative finite-difference step) must be in (0, 1), got {step_size!r}")
        self.relative_step = float(step_size)
        scale = np.where(self.default_context != 0, np.abs(self.default_context),
                         0.5 * (self.context_high - self.context_low))
        #: The absolute finite-difference steps ``h_i = step_size * |c0_i|`` (half the box width where c0_i = 0).
        self.step_sizes = self.relative_step * scale
        spec = gymnasium.spec(env_id)
        self.max_episode_steps = int(spec.max_episode_steps or 1000)
        self.state_dim = int(self._env.observation_space.shape[0])
        self.action_space = self._env.action_space
        self.observation_space = self._observation_space(self._env.observation_space.low, self._env.observation_space.high)
        self._twin = None
        self.steps, self.evaluations, self.seconds = 0, 0, 0.0
        self._watch = ZeroJacobianWatch(env_id, self.context_names)
        self._init_context(context, jacobians)

    # ------------------------------------------------------------ construction
    @staticmethod
    def _make(env_id, env_kwargs):
        try:
            with quiet_settotalmass_deprecation():
                env = gymnasium.make(env_id, **env_kwargs).unwrapped
        except gymnasium.error.Error as error:
            raise InputError(f"mujoco_task: {env_id!r} cannot be made: {str(error).splitlines()[0]}") from None
        model, data = getattr(env, "model", None), getattr(env, "data", None)
        if not (isinstance(model, mujoco.MjModel) and isinstance(data, mujoco.MjData)):
            raise InputError(f"mujoco_task: {env_id!r} is not a MuJoCo environment (it has no mujoco model and data); "
                             "use differentiable_task for a torch step function")
        return env

    def _vector(self, value, what: str) -> np.ndarray:
        try:
            vector = np.atleast_1d(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise InputError(f"{self.env_id}: {what} must be {self.context_dim} real numbers, got {value!r}") from None
        if vector.shape != (self.context_dim,) or not np.all(np.isfinite(vector)):
            raise InputError(f"{self.env_id}: {what} must be {self.context_dim} finite numbers (one per parameter "
                             f"{', '.join(self.context_names)}), got {np.asarray(value).tolist()!r}")
        return vector

    def _context_box(self, low, high) -> tuple[np.ndarray, np.ndarray]:
        c0 = self.default_context
        if low is None or high is None:
            zero = [self.context_names[i] for i in np.flatnonzero(c0 == 0)]
            if zero:
                raise InputError(f"{self.env_id}: {', '.join(zero)} has c0 = 0, so the default box c0 -+ 50% |c0| is empty; "
                                 "pass context_low and context_high")
        low = c0 - DEFAULT_BOX_FRACTION * np.abs(c0) if low is None else self._vector(low, "context_low")
        high = c0 + DEFAULT_BOX_FRACTION * np.abs(c0) if high is None else self._vector(high, "context_high")
        for i in range(self.context_dim):
            if not low[i] < high[i]:
                raise InputError(f"{self.env_id}: context_low[{i}] ({self.context_names[i]}) = {float(low[i])!r} must be < "
                                 f"context_high[{i}] = {float(high[i])!r}")
            if not low[i] <= c0[i] <= high[i]:
                raise InputError(f"{self.env_id}: c0[{i}] ({self.context_names[i]}) = {float(c0[i])!r} is outside the box "
                                 f"[{float(low[i])}, {float(high[i])}]")
        return low, high

    # ---------------------------------------------------------------- context
    def _apply_context(self, context: np.ndarray) -> None:
        for parameter, value in zip(self.parameters, context):
            parameter.write(self._env.model, value)
            if self._twin is not None:
                parameter.write(self._twin.model, value)

    @property
    def model(self) -> mujoco.MjModel:
        """The environment's ``mujoco.MjModel`` (its context parameters set to the current context)."""
        return self._env.model

    @property
    def data(self) -> mujoco.MjData:
        """The environment's ``mujoco.MjData`` (what :func:`~cebe_deep.tasks.step_twin` copies)."""
        return self._env.data

    @property
    def env(self) -> gymnasium.Env:
        """The wrapped (unwrapped) Gymnasium MuJoCo environment."""
        return self._env

    def _twin_env(self):
        if self._twin is None:
            self._twin = self._make(self.env_id, {k: v for k, v in self._env.spec.kwargs.items() if k != "render_mode"}
                                    if self._env.spec is not None else {})
            for parameter, value in zip(self.parameters, self._context):
                parameter.write(self._twin.model, value)
        return self._twin

    # ------------------------------------------------------------- gymnasium
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        observation, info = self._env.reset(seed=seed, options=options)
        return self._observation(observation), self._reset_info(info)

    def step(self, action):
        self._validated_box_action(action, self.action_space)  # shape and finiteness (one-line errors)
        # the action as given (its dtype too: the stock control cost of a float32 action is computed in float32)
        action = np.asarray(action).reshape(self.action_space.shape)
        jacobians = {}
        if self.jacobians:
            started = time.perf_counter()
            dobs, dreward = self._central_differences(action)
            seconds = time.perf_counter() - started
            self.steps += 1
            self.evaluations += 2 * self.context_dim
            self.seconds += seconds
            self._watch.update(dobs, dreward)
            jacobians = {"dobs_dcontext": dobs, "dreward_dcontext": dreward, "dreward_dnextobs": np.zeros(self.state_dim),
                         "finite_difference_evaluations": 2 * self.context_dim, "finite_difference_seconds": seconds}
        observation, reward, terminated, truncated, info = self._env.step(action)
        info = {**info, **jacobians}
        return self._observation(observation), float(reward), bool(terminated), bool(truncated), info

    def _central_differences(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Columns ``(obs(c + h_i e_i) - obs(c - h_i e_i)) / 2 h_i`` and the same of the reward, from the current
        simulator state (copied into the twin; the real data is only read)."""
        twin = self._twin_env()
        dobs = np.zeros((self.state_dim, self.context_dim))
        dreward = np.zeros(self.context_dim)
        for i, parameter in enumerate(self.parameters):
            outcomes = []
            for sign in (1.0, -1.0):
                mujoco.mj_copyData(twin.data, twin.model, self._env.data)
                parameter.write(twin.model, self._context[i] + sign * self.step_sizes[i])
                observation, reward, *_ = twin.step(action)
                outcomes.append((np.asarray(observation, dtype=np.float64), float(reward)))
            parameter.write(twin.model, self._context[i])
            (obs_plus, reward_plus), (obs_minus, reward_minus) = outcomes
            dobs[:, i] = (obs_plus - obs_minus) / (2 * self.step_sizes[i])
            dreward[i] = (reward_plus - reward_minus) / (2 * self.step_sizes[i])
        return dobs, dreward

    def make_twin(self, jacobians: bool = False) -> "MujocoModelTask":
        """A second task built like this one (same environment, parameters, c0, box), at the current context:
        the twin :func:`~cebe_deep.tasks.step_twin` and :func:`~cebe_deep.tasks.check_jacobians` replay a step on."""
        return MujocoModelTask(self.env_id, context=self.context, jacobians=jacobians, **self._arguments)

    def jacobian_cost(self) -> dict:
        """The finite differences so far: ``steps``, simulator ``evaluations`` (``2 context_dim`` per step), their
        wall time ``seconds`` and ``seconds_per_step``, the ``relative_step`` and the absolute ``step_sizes``."""
        return {"steps": self.steps, "evaluations": self.evaluations, "seconds": self.seconds,
                "seconds_per_step": self.seconds / self.steps if self.steps else 0.0,
                "relative_step": self.relative_step, "step_sizes": self.step_sizes.tolist()}

    def render(self):
        return self._env.render()

    def close(self):
        self._env.close()
        if self._twin is not None:
            self._twin.close()
