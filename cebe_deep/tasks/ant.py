"""Ant tasks: walk in a context direction (AntDirection) or to a context goal position (AntGoal).

Both subclass Gymnasium's ``AntEnv`` (Ant-v5) and only post-process its ``step`` and ``reset``: Ant-v5's
``info`` carries the torso's x-y velocity and each reward term (``reward_survive``, ``reward_ctrl``,
``reward_contact``), from which the contextual reward is assembled; nothing of Gymnasium is copied.
The context enters only the reward, so ``dobs_dcontext = 0`` (the paper's setting).

Reward terms shared by both tasks, as functions of the next observation ``s'`` and the action ``a``
(Ant-v5 defaults): ``healthy(s') = 1`` if ``0.2 <= z' <= 1`` else 0 (``z'`` is in the observation; its
derivative is 0 almost everywhere and is reported as 0), ``ctrl(a) = 0.5 |a|^2``,
``contact(s') = 5e-4 |clip(cfrc_ext', -1, 1)|^2`` over the bodies the observation lists (the world body,
which the observation omits, has no external contact force) -- so ``d contact / d s'`` is
``1e-3 * (clipped contact force)`` on the observation's contact-force entries.
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.ant_v5 import AntEnv

from cebe_deep.tasks.base import ContextualEnv

__all__ = ["AntDirection", "AntGoal"]


class _ContextualAnt(ContextualEnv, AntEnv):
    """Ant-v5 with a contextual goal term replacing ``reward_forward``; subclasses define the goal term."""

    max_episode_steps = 1000
    _extra_state = 0  # numbers appended to Ant-v5's observation in the state part
    _ant_defaults: dict = {}

    def __init__(self, context=None, jacobians: bool = True, **kwargs):
        AntEnv.__init__(self, **{**self._ant_defaults, **kwargs})
        utils.EzPickle.__init__(self, context, jacobians, **kwargs)
        if not self._include_cfrc_ext_in_observation:
            raise ValueError(
                f"{type(self).__name__} needs include_cfrc_ext_in_observation=True (the contact cost is part of the reward)"
            )
        if (
            self._ant_defaults.get("exclude_current_positions_from_observation") is False
            and self._exclude_current_positions_from_observation
        ):
            raise ValueError(
                f"{type(self).__name__} needs exclude_current_positions_from_observation=False (the goal term "
                "uses the x-y position)"
            )
        self.state_dim = self.observation_space.shape[0] + self._extra_state
        structure = self.observation_structure
        self._z_index = 2 - structure["skipped_qpos"]
        self._contact_slice = slice(
            structure["qpos"] + structure["qvel"], structure["qpos"] + structure["qvel"] + structure["cfrc_ext"]
        )
        self.observation_space = self._observation_space(-np.inf, np.inf)
        self._init_context(context, jacobians)

    def reset(self, *, seed=None, options=None):
        observation, info = AntEnv.reset(self, seed=seed, options=options)
        return self._observation(self._state_part(observation, self.data.qvel[:2])), self._reset_info(info)

    def _state_part(self, ant_observation: np.ndarray, xy_velocity) -> np.ndarray:
        return ant_observation

    def step(self, action):
        action = self._validated_box_action(action, self.action_space)
        observation, _, terminated, truncated, info = AntEnv.step(self, action)
        xy_velocity = np.array([info["x_velocity"], info["y_velocity"]])
        state = self._state_part(observation, xy_velocity)
        goal_reward, dgoal_dcontext, dgoal_dnextobs = self._goal_term(state)
        reward = goal_reward + info["reward_survive"] + info["reward_ctrl"] + info["reward_contact"]
        info["reward_forward"] = goal_reward
        if self.jacobians:
            dreward_dnextobs = dgoal_dnextobs
            # contact cost 5e-4 |f|^2 on the (already clipped) contact forces of the observation
            dreward_dnextobs[self._contact_slice] -= 2.0 * self._contact_cost_weight * state[self._contact_slice]
            info["dobs_dcontext"] = np.zeros((self.state_dim, self.context_dim))
            info["dreward_dcontext"] = dgoal_dcontext
            info["dreward_dnextobs"] = dreward_dnextobs
        return self._observation(state), float(reward), terminated, truncated, info

    def _goal_term(self, state: np.ndarray):
        """``(goal reward, d/dc (context_dim,), d/ds' (state_dim,))``."""
        raise NotImplementedError


class AntDirection(_ContextualAnt):
    r"""Ant-v5 rewarded for its velocity along a context direction (the paper's AntDirection).

    ## Dynamics
    Gymnasium's Ant-v5, unchanged (terminates when unhealthy: torso height outside ``[0.2, 1]``).

    ## Reward
    ``r = c . v_xy + healthy - 0.5 |a|^2 - 5e-4 |contact forces|^2`` with ``v_xy`` Ant-v5's torso
    x-y velocity (displacement of the torso over the step / dt); the last three terms are Ant-v5's.

    ## Context
    ``c = (c_x, c_y)``, the direction vector itself (not an angle). The paper evaluates unit vectors; the
    reward is defined (linear) for every ``c`` in the Box ``[-1.5, 1.5]^2``, so CSE perturbations
    ``c0 + dc`` off the unit circle are meaningful and first-order CSE is exact. Default ``c0 = (1, 0)``
    (the authors' c0; then the reward is Ant-v5's). The authors' test contexts (:attr:`authors_contexts`):
    ``(cos t, sin t)`` for ``t in {0, +-0.1, +-0.2, +-0.5, +-1, pi}``, in their order.

    ## Differs from the authors
    Their box is ``[-1, 1]^2`` (:attr:`authors_context_box`); ours is wider so that ``c0 + dc`` with
    ``c0 = (1, 0)`` is valid in every direction. Their observation has no ``v_xy`` entries; ours appends
    them so that the reward is a function of the observation (the values and the reward are theirs).

    ## Observation
    Ant-v5's 105 numbers (``qpos[2:]``, ``qvel``, clipped external contact forces), then ``v_xy``, then
    ``c``: ``state_dim = 107``, shape ``(109,)``. ``v_xy`` is in the state part because the reward uses
    it and ``qvel`` holds only the instantaneous velocity; at reset it is ``qvel[:2]``.

    ## Context derivatives (closed form, exact)
    ``dobs_dcontext = 0``; ``dreward_dcontext = v_xy``; ``dreward_dnextobs``: ``c`` at the ``v_xy``
    entries, ``-1e-3 * (contact force)`` at the contact-force entries, 0 elsewhere.

    ## Episode
    1000 steps (``gymnasium.make("cebe/AntDirection-v0")``).
    """

    state_dim = 107
    context_dim = 2
    context_names = ("direction_x", "direction_y")
    context_labels = ("direction $c_x$ (dimensionless)", "direction $c_y$ (dimensionless)")
    context_low = np.array([-1.5, -1.5])
    context_high = np.array([1.5, 1.5])
    default_context = np.array([1.0, 0.0])
    authors_contexts = tuple(
        (math.cos(angle), math.sin(angle)) for angle in (0.0, 0.1, -0.1, 0.2, -0.2, 0.5, -0.5, 1.0, -1.0, math.pi)
    )
    authors_context_box = ((-1.0, -1.0), (1.0, 1.0))
    _extra_state = 2

    def _state_part(self, ant_observation: np.ndarray, xy_velocity) -> np.ndarray:
        return np.concatenate([ant_observation, xy_velocity])

    def _goal_term(self, state: np.ndarray):
        xy_velocity = state[-2:]
        dgoal_dnextobs = np.zeros(self.state_dim)
        dgoal_dnextobs[-2:] = self._context
        return float(self._context @ xy_velocity), xy_velocity.copy(), dgoal_dnextobs


class AntGoal(_ContextualAnt):
    r"""Ant-v5 rewarded for reaching a context goal position (the paper's AntGoal).

    ## Dynamics
    Gymnasium's Ant-v5 built as the authors do: ``exclude_current_positions_from_observation=False`` (the
    torso's x-y position is observed), ``healthy_reward=0`` and ``terminate_when_unhealthy=False`` (the
    episode never ends early).

    ## Reward
    ``r = 1 - sqrt(1 + |p_xy - goal|^2) - 0.5 |a|^2 - 5e-4 |contact forces|^2`` with
    ``p_xy = qpos[0:2]`` the torso position after the step (a smooth distance, as CartGoal's); no healthy
    reward.

    ## Context
    ``c = goal = (goal_x, goal_y)`` in metres. Box ``[-10, 10]^2``; default ``c0 = (3, 0)`` (the authors'
    c0). The authors' test contexts (:attr:`authors_contexts`): ``3 (cos t, sin t)`` for
    ``t in {0, 0.1, 0.2, 0.5, 1, pi}``.

    ## Differs from the authors
    Their box is ``[-1, 1]^2`` (:attr:`authors_context_box`), which holds neither their c0 nor any of
    their test goals (it matters only for their GDR); ours holds them all. Their goal term reads the
    torso's ``xpos``, which MuJoCo leaves one physics substep (of five) behind ``qpos`` after a step
    (about 4e-4 m apart); ours reads ``qpos[0:2]``, the position in the observation, so that the reward is
    a function of the observation and ``dreward_dnextobs`` is exact.

    ## Observation
    Ant-v5's 107 numbers with positions (``qpos``, ``qvel``, clipped external contact forces), then ``c``:
    ``state_dim = 107``, shape ``(109,)``; ``p_xy = obs[0:2]``.

    ## Context derivatives (closed form, exact)
    ``dobs_dcontext = 0``; ``dreward_dcontext = (p_xy - goal) / sqrt(1 + |p_xy - goal|^2)``;
    ``dreward_dnextobs``: minus that at ``obs[0:2]``, ``-1e-3 * (contact force)`` at the contact-force
    entries, 0 elsewhere.

    ## Episode
    1000 steps (``gymnasium.make("cebe/AntGoal-v0")``).
    """

    state_dim = 107
    context_dim = 2
    context_names = ("goal_x", "goal_y")
    context_labels = ("goal position $x_{goal}$ (m)", "goal position $y_{goal}$ (m)")
    context_low = np.array([-10.0, -10.0])
    context_high = np.array([10.0, 10.0])
    default_context = np.array([3.0, 0.0])
    authors_contexts = tuple((3 * math.cos(angle), 3 * math.sin(angle)) for angle in (0.0, 0.1, 0.2, 0.5, 1.0, math.pi))
    authors_context_box = ((-1.0, -1.0), (1.0, 1.0))
    _ant_defaults = {
        "exclude_current_positions_from_observation": False,
        "healthy_reward": 0.0,
        "terminate_when_unhealthy": False,
    }

    def _goal_term(self, state: np.ndarray):
        offset = state[0:2] - self._context
        root = np.sqrt(1.0 + offset @ offset)
        dgoal_dnextobs = np.zeros(self.state_dim)
        dgoal_dnextobs[0:2] = -offset / root
        return float(1.0 - root), offset / root, dgoal_dnextobs
