r"""Context Jacobians of a :func:`~cebe_deep.tasks.mujoco_task` environment by automatic differentiation in MJX.

An optional extra (``pip install "cebe[mjx]"``: ``mujoco-mjx`` and ``jax[cpu]``). :class:`MjxJacobian` puts the
task's compiled model into MJX (``mjx.put_model``), writes the context's named parameters into it as
:class:`~cebe_deep.tasks.model_parameters.ModelParameter` names them (``body_mass``, ``geom_friction``,
``opt.gravity``, ...; MuJoCo's derived constants keep their compiled values, as in ``mujoco_task``), steps the
environment's ``frame_skip`` physics steps with ``mjx.step`` from the task's current simulator state and
action, and differentiates the observation (``qpos[k:]`` then ``qvel``, clipped where the environment clips it)
with ``jax.jacfwd`` in double precision:

    dobs_dcontext = d obs(step^frame_skip(state, action; c)) / dc         (exact for MJX's dynamics)

It is the same quantity as the finite differences ``info["dobs_dcontext"]`` of ``mujoco_task``, but of MJX's
physics, which is not bit-for-bit MuJoCo's C solver (MJX's contact and constraint solver differ slightly).
The agreement with the finite differences, measured by ``tests/deep/test_mjx_jacobians.py`` and stated in the
README, is the evidence that the two compute the same derivative. It needs ``jax_enable_x64`` (turned on here,
for the whole process: float32 derivatives of a contact step are too coarse to compare).

Supported environments: those whose observation is ``qpos[k:]`` then ``qvel`` (:data:`OBSERVATIONS`:
HalfCheetah, Hopper, Walker2d, Swimmer, InvertedPendulum); others are a one-line :class:`InputError`.

::

    from cebe_deep.tasks import mujoco_task
    from cebe_deep.tasks.mjx_jacobians import MjxJacobian

    env = mujoco_task("Hopper-v5", {"torso_mass": ("body_mass", "torso")})
    obs, info = env.reset(seed=0)
    jacobian = MjxJacobian(env.unwrapped)               # puts the model into MJX; compiles on the first call
    action = env.action_space.sample()
    dobs_dcontext = jacobian(action)                    # (11, 1), from the state before the step
    obs, reward, terminated, truncated, info = env.step(action)   # info["dobs_dcontext"]: the same, by differences
"""

from __future__ import annotations

import time

import numpy as np

from cebe_theory.errors import InputError

__all__ = ["MjxJacobian", "mjx_next_state_jacobian", "OBSERVATIONS", "INSTALL_HINT", "import_mjx"]

#: What to install for this module.
INSTALL_HINT = 'pip install "cebe[mjx]"'
#: Environment name (without "-vN") -> the clip of ``qvel`` in its observation (None: not clipped).
OBSERVATIONS = {"HalfCheetah": None, "Hopper": 10.0, "Walker2d": 10.0, "Swimmer": None, "InvertedPendulum": None}


def import_mjx():
    """``(jax, jax.numpy, mujoco.mjx)`` with double precision on, or a one-line :class:`InputError` naming the extra."""
    try:
        import jax
        import jax.numpy as jnp
        from mujoco import mjx
    except ImportError as error:
        raise InputError(f"MJX Jacobians need mujoco-mjx and jax ({error}): {INSTALL_HINT}") from None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp, mjx


def _base_name(env_id: str) -> str:
    return env_id.split("/")[-1].rsplit("-v", 1)[0]


class MjxJacobian:
    """``d obs' / d c`` of one step of a ``mujoco_task`` task, by ``jax.jacfwd`` through ``mjx.step``.

    Built once per task (the model is put into MJX and the step compiled on the first call, a few seconds to
    minutes); each call then differentiates from the task's current simulator state (or ``data``) at its
    current context (or ``context``). :attr:`seconds` and :attr:`calls` time the compiled calls.
    """

    def __init__(self, task):
        task = getattr(task, "unwrapped", task)
        self.jax, self.jnp, self.mjx = import_mjx()
        if not hasattr(task, "parameters") or not hasattr(task, "model"):
            raise InputError(f"MjxJacobian: {type(task).__name__} is not a mujoco_task environment (no named model "
                             "parameters); build it with cebe_deep.tasks.mujoco_task")
        self.task = task
        name = _base_name(task.env_id)
        if name not in OBSERVATIONS:
            raise InputError(f"MjxJacobian: {task.env_id}'s observation is not known to be qpos[k:] then qvel; supported: "
                             f"{', '.join(OBSERVATIONS)}")
        model = task.model
        self.velocity_clip = OBSERVATIONS[name]
        self.position_start = int(model.nq + model.nv - task.state_dim)
        if not 0 <= self.position_start <= model.nq:
            raise InputError(f"MjxJacobian: {task.env_id}'s observation has {task.state_dim} numbers, not qpos[k:] then "
                             f"qvel ({model.nq} + {model.nv}); pass the environment's default observation options")
        self.frame_skip = int(task.env.frame_skip)
        self.model = self.mjx.put_model(model)
        for parameter in task.parameters:
            field = parameter.field[4:] if parameter.field.startswith("opt.") else parameter.field
            holder = self.model.opt if parameter.field.startswith("opt.") else self.model
            if not hasattr(holder, field):
                raise InputError(f"MjxJacobian: MJX's model has no field {parameter.field!r} (context "
                                 f"{parameter.name!r}); differentiate it with mujoco_task's finite differences")
        self._compiled = self.jax.jit(self._value_and_jacobian)
        self.calls, self.seconds, self.compile_seconds = 0, 0.0, 0.0

    # ------------------------------------------------------------------ the step
    def _with_context(self, model, context):
        """``model`` with each named parameter set to its context entry (traced: ``context`` is differentiated)."""
        for parameter, value in zip(self.task.parameters, context):
            index = tuple(i for i in (parameter.row, parameter.column) if i is not None)
            if parameter.field.startswith("opt."):
                option = parameter.field[4:]
                array = getattr(model.opt, option)
                new = value if not index else array.at[index].set(value)
                model = model.replace(opt=model.opt.replace(**{option: new}))
            else:
                array = getattr(model, parameter.field)
                model = model.replace(**{parameter.field: array.at[index].set(value)})
        return model

    def _observation(self, data):
        velocity = data.qvel
        if self.velocity_clip is not None:
            velocity = self.jnp.clip(velocity, -self.velocity_clip, self.velocity_clip)
        return self.jnp.concatenate([data.qpos[self.position_start:], velocity])

    def _next_observation(self, context, data, action):
        model = self._with_context(self.model, context)
        data = data.replace(ctrl=action)
        # the first step outside a loop (it turns put_data's int32 contact indices into int64 under x64), the
        # others in one: frame_skip unrolled copies of the step compiled about frame_skip times longer
        data = self.mjx.step(model, data)
        data = self.jax.lax.fori_loop(1, self.frame_skip, lambda _, state: self.mjx.step(model, state), data)
        return self._observation(data)

    def _value_and_jacobian(self, context, data, action):
        return self._next_observation(context, data, action), self.jax.jacfwd(self._next_observation)(context, data, action)

    # --------------------------------------------------------------------- calls
    def next_observation_and_jacobian(self, action, *, data=None, context=None) -> tuple[np.ndarray, np.ndarray]:
        """MJX's next observation (the state part, ``state_dim`` numbers) and ``dobs_dcontext``
        (``state_dim x context_dim``) from ``data`` (default: the task's current simulator state) at ``context``
        (default: the task's current context) under ``action``. The task itself is only read."""
        task = self.task
        action = np.asarray(action, dtype=np.float64).reshape(task.action_space.shape)
        if not np.all(np.isfinite(action)):
            raise InputError(f"MjxJacobian: the action must be finite, got {action.tolist()!r}")
        context = np.asarray(task.context if context is None else context, dtype=np.float64).reshape(-1)
        if context.shape != (task.context_dim,):
            raise InputError(f"MjxJacobian: context must be {task.context_dim} numbers ({', '.join(task.context_names)}), "
                             f"got {context.tolist()!r}")
        mjx_data = self.mjx.put_data(task.model, task.data if data is None else data)
        started = time.perf_counter()
        value, jacobian = self._compiled(self.jnp.asarray(context), mjx_data, self.jnp.asarray(action))
        value, jacobian = np.asarray(value, dtype=np.float64), np.asarray(jacobian, dtype=np.float64)
        seconds = time.perf_counter() - started
        if self.calls == 0 and self.compile_seconds == 0.0:
            self.compile_seconds = seconds  # the first call traces and compiles
        else:
            self.calls += 1
            self.seconds += seconds
        return value, jacobian

    def __call__(self, action, *, data=None, context=None) -> np.ndarray:
        """``dobs_dcontext`` (``state_dim x context_dim``), as :meth:`next_observation_and_jacobian`."""
        return self.next_observation_and_jacobian(action, data=data, context=context)[1]

    def cost(self) -> dict:
        """``compile_seconds`` (the first call), and ``calls``, ``seconds``, ``seconds_per_step`` of the later ones."""
        return {"compile_seconds": self.compile_seconds, "calls": self.calls, "seconds": self.seconds,
                "seconds_per_step": self.seconds / self.calls if self.calls else 0.0}


def mjx_next_state_jacobian(task, action, *, data=None, context=None) -> np.ndarray:
    """``dobs_dcontext`` of one step of ``task`` (a ``mujoco_task`` environment) by MJX autodiff.

    Builds and compiles a :class:`MjxJacobian` each call: for more than one step, build one and call it.
    """
    return MjxJacobian(task)(action, data=data, context=context)
