"""HalfCheetah tasks: run at a goal velocity (CheetahVelocity), and the same with the torso mass and gravity
as further context dimensions that change the physics (CheetahMassVelocity).

Both subclass Gymnasium's ``HalfCheetahEnv`` (HalfCheetah-v5) and only post-process its ``step`` and
``reset`` (its ``info`` carries ``x_velocity`` and the control cost); nothing of Gymnasium is copied.
"""

from __future__ import annotations

import contextlib
import warnings

import mujoco
import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

from cebe_deep.tasks.base import ContextualEnv

__all__ = ["CheetahVelocity", "CheetahMassVelocity", "FD_RELATIVE_STEP"]

#: Central-difference step of CheetahMassVelocity, relative to |c_i| (h_i = FD_RELATIVE_STEP * |c_i|).
#: Chosen by benchmarks/fd_step_study.py (18 states, 50 steps into episodes, three contexts; error of the
#: central difference against a fourth-order 5-point reference, median / max over states):
#:   h/|c| = 1e-7: 7e-8 / 6e-7    1e-6: 1e-8 / 4e-8    1e-5: 1e-9 / 1.4e-8    1e-4: 3e-9 / 6e-7
#:   h/|c| = 1e-3: 3e-7 / 6e-5    1e-2: 3e-5 / 6e-3    (round-off ~eps/h below, truncation ~h^2 above)
FD_RELATIVE_STEP = 1e-5


#: The one MuJoCo warning :func:`quiet_settotalmass_deprecation` drops.
SETTOTALMASS_DEPRECATION = "compiler attribute 'settotalmass' is deprecated"


def forward_mujoco_warning(message: str) -> None:
    """MuJoCo warning handler while HalfCheetah compiles: the settotalmass deprecation is dropped, any other warning
    becomes a Python ``RuntimeWarning`` naming MuJoCo."""
    if SETTOTALMASS_DEPRECATION not in message:
        warnings.warn(f"MuJoCo: {message}", RuntimeWarning, stacklevel=2)


@contextlib.contextmanager
def quiet_settotalmass_deprecation():
    """While HalfCheetah's model compiles, drop MuJoCo's deprecation warning about ``settotalmass``.

    Gymnasium's ``half_cheetah.xml`` sets ``<compiler settotalmass="14">``; MuJoCo 4 warns about the attribute
    on every compile, on stderr and appended to ``MUJOCO_LOG.TXT`` in the working directory: over a thousand
    times per evaluated run (64 environments per context), and on the course site's notebook pages. The model
    is compiled exactly as before (the attribute still applies); only that message is dropped, other MuJoCo
    warnings are passed on (:func:`forward_mujoco_warning`), and the previous handler is restored after."""
    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(forward_mujoco_warning)
    try:
        yield
    finally:
        mujoco.set_mju_user_warning(previous)


def velocity_reward_terms(x_velocity: float, goal_velocity: float):
    """``1 - sqrt(1 + (v - v_goal)^2)`` and its derivative in ``v`` (the one in ``v_goal`` is its negative)."""
    root = np.sqrt(1.0 + (x_velocity - goal_velocity) ** 2)
    return 1.0 - root, -(x_velocity - goal_velocity) / root


class CheetahVelocity(ContextualEnv, HalfCheetahEnv):
    r"""HalfCheetah-v5 rewarded for running at a goal velocity (the paper's CheetahVelocity).

    ## Dynamics
    Gymnasium's HalfCheetah-v5, unchanged (MuJoCo, frame skip 5, ``dt = 0.05``); the context does not act
    on the physics.

    ## Reward
    ``r = 1 - sqrt(1 + (v - v_goal)^2) - 0.1 |a|^2``, ``v = (x_after - x_before) / dt`` the forward
    velocity HalfCheetah-v5 computes from the root displacement over the step.

    ## Context
    ``c = (v_goal,)``, the goal forward velocity. Box ``[-6, 6]``; default ``c0 = (2.0,)`` (the authors'
    c0). The authors' test contexts (:attr:`authors_contexts`): ``v_goal in {2.0, 0.75, 1.25, 1.75, 2.25,
    2.75, -1.0}``.

    ## Differs from the authors
    Their box is ``[-3, 3]`` (:attr:`authors_context_box`); ours is wider so that sweeps can go past it.
    Their observation has no ``v`` entry (17 numbers, then ``c``); ours appends ``v`` so that the reward
    is a function of the observation (the values and the reward are theirs).

    ## Observation
    HalfCheetah-v5's 17 numbers (``qpos[1:]``, ``qvel``), then ``v`` (the displacement velocity the reward
    uses, which is *not* ``qvel[0]``; at reset it is ``qvel[0]``), then the context:
    ``state_dim = 18``, shape ``(19,)``. ``v`` is in the state part so that the reward is a function of
    ``(s', a, c)`` and ``dreward_dnextobs`` is a true partial derivative.

    ## Context derivatives (closed form, exact)
    ``dobs_dcontext = 0``. ``dreward_dcontext = (v - v_goal) / sqrt(1 + (v - v_goal)^2)``;
    ``dreward_dnextobs`` is ``-(v - v_goal) / sqrt(...)`` at the ``v`` entry (index 17) and 0 elsewhere.

    ## Episode
    1000 steps (``gymnasium.make("cebe/CheetahVelocity-v0")``), no termination. Actions outside
    ``[-1, 1]^6`` are passed on as in HalfCheetah-v5 (MuJoCo clamps the control; the cost uses ``a``).
    """

    state_dim = 18
    context_dim = 1
    context_names = ("goal_velocity",)
    context_labels = ("goal velocity $v_{goal}$ (m/s)",)
    context_low = np.array([-6.0])
    context_high = np.array([6.0])
    default_context = np.array([2.0])
    authors_contexts = ((2.0,), (0.75,), (1.25,), (1.75,), (2.25,), (2.75,), (-1.0,))
    authors_context_box = ((-3.0,), (3.0,))
    max_episode_steps = 1000

    def __init__(self, context=None, jacobians: bool = True, **kwargs):
        with quiet_settotalmass_deprecation():
            HalfCheetahEnv.__init__(self, **kwargs)
        utils.EzPickle.__init__(self, context, jacobians, **kwargs)
        self.state_dim = self.observation_space.shape[0] + 1
        self._velocity_index = self.state_dim - 1
        self._setup_context_parameters()
        self.observation_space = self._observation_space(-np.inf, np.inf)
        self._init_context(context, jacobians)

    def _setup_context_parameters(self) -> None:
        """Hook for subclasses whose context acts on the MuJoCo model."""

    def reset(self, *, seed=None, options=None):
        observation, info = HalfCheetahEnv.reset(self, seed=seed, options=options)
        return self._observation(np.append(observation, self.data.qvel[0])), self._reset_info(info)

    def step(self, action):
        action = self._validated_box_action(action, self.action_space)
        observation, _, terminated, truncated, info = HalfCheetahEnv.step(self, action)
        x_velocity = float(info["x_velocity"])
        forward_reward, dforward_dvelocity = velocity_reward_terms(x_velocity, self._context[0])
        reward = forward_reward + info["reward_ctrl"]
        info["reward_forward"] = forward_reward
        if self.jacobians:
            info.update(self._jacobians(action, x_velocity, dforward_dvelocity))
        return self._observation(np.append(observation, x_velocity)), float(reward), terminated, truncated, info

    def _jacobians(self, action, x_velocity: float, dforward_dvelocity: float) -> dict:
        dreward_dcontext = np.zeros(self.context_dim)
        dreward_dcontext[0] = -dforward_dvelocity
        dreward_dnextobs = np.zeros(self.state_dim)
        dreward_dnextobs[self._velocity_index] = dforward_dvelocity
        return {
            "dobs_dcontext": np.zeros((self.state_dim, self.context_dim)),
            "dreward_dcontext": dreward_dcontext,
            "dreward_dnextobs": dreward_dnextobs,
        }


class CheetahMassVelocity(CheetahVelocity):
    r"""CheetahVelocity whose context also sets the torso mass and gravity: the context changes the physics.

    ## Dynamics
    HalfCheetah-v5 with ``model.body_mass[torso] = m_torso`` (the torso's inertia scaled by the same
    factor, i.e. the density changes) and ``model.opt.gravity = (0, 0, -g)``.

    ## Reward
    As :class:`CheetahVelocity`: ``r = 1 - sqrt(1 + (v - v_goal)^2) - 0.1 |a|^2``.

    ## Context
    ``c = (v_goal, m_torso, g)``. Box ``v_goal in [-6, 6]``, ``m_torso in [3, 12]`` kg,
    ``g in [4, 20]`` m/s^2. Default ``c0 = (2.0, 6.25020920502092, 9.81)`` (HalfCheetah-v5's own
    torso mass and gravity, so at c0 the physics is exactly HalfCheetah-v5's).

    ## Observation
    As :class:`CheetahVelocity`: 17 HalfCheetah-v5 numbers, the displacement velocity ``v``, then
    ``c``: ``state_dim = 18``, shape ``(21,)``.

    ## Context derivatives
    ``dobs_dcontext[:, 0] = 0`` (goal velocity); the columns of ``m_torso`` and ``g`` are central finite
    differences through MuJoCo: the simulator state before the step is copied with ``mujoco.mj_copyData``
    into a separate ``MjData``, stepped (same control, same frame skip) with the model parameter at
    ``c_i +/- h_i``, and the parameter is put back -- the real ``data`` is never touched, so the trajectory
    is the same with ``jacobians=False`` (tested). ``h_i = FD_RELATIVE_STEP * |c_i|`` with
    ``FD_RELATIVE_STEP = 1e-5``, chosen by ``benchmarks/fd_step_study.py`` (relative error against a
    fourth-order reference: median 1e-9, max 1.4e-8 over 18 states). Cost: ``2k = 4`` extra
    MuJoCo steps per step. ``dreward_dcontext`` and ``dreward_dnextobs`` are the closed forms of
    :class:`CheetahVelocity` (the reward's dependence on mass and gravity goes through ``v``, i.e. through
    ``dreward_dnextobs @ dobs_dcontext``).

    ## Episode
    1000 steps (``gymnasium.make("cebe/CheetahMassVelocity-v0")``), no termination.

    ## Differs from the authors
    Not one of the authors' tasks (ours, to exercise CSE where the context acts on the physics), so it has
    no ``authors_contexts`` and no ``authors_context_box``.
    """

    context_dim = 3
    context_names = ("goal_velocity", "torso_mass", "gravity")
    context_labels = ("goal velocity $v_{goal}$ (m/s)", "torso mass $m_{torso}$ (kg)", "gravity $g$ (m/s$^2$)")
    context_low = np.array([-6.0, 3.0, 4.0])
    context_high = np.array([6.0, 12.0, 20.0])
    default_context = np.array([2.0, 6.25020920502092, 9.81])
    authors_contexts = ()
    authors_context_box = None
    #: Indices of the context dimensions that act on the physics (differentiated by finite differences).
    dynamics_context_indices = (1, 2)

    def _setup_context_parameters(self) -> None:
        self._torso = self.model.body("torso").id
        self._base_torso_mass = float(self.model.body_mass[self._torso])
        self._base_torso_inertia = self.model.body_inertia[self._torso].copy()
        self._before = mujoco.MjData(self.model)  # the simulator state before the current step
        self._perturbed_data = mujoco.MjData(self.model)  # stepped at c +/- h

    def _set_physics(self, torso_mass: float, gravity: float) -> None:
        self.model.body_mass[self._torso] = torso_mass
        self.model.body_inertia[self._torso] = self._base_torso_inertia * (torso_mass / self._base_torso_mass)
        self.model.opt.gravity[2] = -gravity

    def _apply_context(self, context: np.ndarray) -> None:
        self._set_physics(context[1], context[2])

    def _state_part(self, data: mujoco.MjData, x_before: float) -> np.ndarray:
        position = data.qpos[1:] if self._exclude_current_positions_from_observation else data.qpos
        return np.concatenate([position, data.qvel, [(data.qpos[0] - x_before) / self.dt]])

    def step(self, action):
        if self.jacobians:
            mujoco.mj_copyData(self._before, self.model, self.data)
        return super().step(action)

    def _jacobians(self, action, x_velocity: float, dforward_dvelocity: float) -> dict:
        info = super()._jacobians(action, x_velocity, dforward_dvelocity)
        dobs_dcontext = info["dobs_dcontext"]
        x_before = float(self._before.qpos[0])
        for index in self.dynamics_context_indices:
            step_size = FD_RELATIVE_STEP * abs(self._context[index])
            states = []
            for sign in (1.0, -1.0):
                shifted = self._context.copy()
                shifted[index] += sign * step_size
                mujoco.mj_copyData(self._perturbed_data, self.model, self._before)
                self._set_physics(shifted[1], shifted[2])
                self._perturbed_data.ctrl[:] = action
                mujoco.mj_step(self.model, self._perturbed_data, nstep=self.frame_skip)
                states.append(self._state_part(self._perturbed_data, x_before))
            self._set_physics(self._context[1], self._context[2])  # the exact stored values again
            dobs_dcontext[:, index] = (states[0] - states[1]) / (2.0 * step_size)
        return info
