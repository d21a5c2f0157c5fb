"""Stock MuJoCo environments with a physical context, built by :func:`~cebe_deep.tasks.mujoco_task`: what a
researcher's own ``module:callable`` for ``--task`` looks like, and the tasks of the stress test
(``results/own-env/``, issue 29).

Each function takes the keywords the command line passes (``context``, ``jacobians``, any other of
:func:`~cebe_deep.tasks.mujoco_task`) and returns the task; nothing here derives a Jacobian (central differences of
the real step do, :mod:`cebe_deep.tasks.mujoco_model`). Train one under the authors' CheetahVelocity protocol::

    cebe-deep sweep --task cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass --profile authors \\
        --settings-of CheetahVelocity --eps 0.625 --methods baseline,cse,ldr --seeds 0-4 --root runs/own-env

>>> task = half_cheetah_torso_mass().unwrapped
>>> task.context_names, task.default_context.round(4).tolist(), task.context_low.round(4).tolist()
(('torso_mass',), [6.2502], [3.1251])
"""

from __future__ import annotations

import gymnasium

from cebe_deep.tasks.mujoco_model import mujoco_task

__all__ = ["HALF_CHEETAH", "TORSO_MASS", "FLOOR_FRICTION", "half_cheetah_torso_mass", "half_cheetah_floor_friction"]

HALF_CHEETAH = "HalfCheetah-v5"
#: HalfCheetah's torso mass (c0 = the model's 6.2502 kg; box +-50%: 3.1251-9.3753 kg).
TORSO_MASS = {"torso_mass": ("body_mass", "torso")}
#: The floor's sliding friction (c0 = 0.4, a tie with the body geoms' 0.4: MuJoCo's max rule has a kink there).
FLOOR_FRICTION = {"floor_friction": ("geom_friction", "floor", 0)}


def half_cheetah_torso_mass(**options) -> gymnasium.Env:
    """HalfCheetah-v5, its own reward (forward velocity minus control cost), context the torso mass."""
    return mujoco_task(HALF_CHEETAH, TORSO_MASS, **options)


def half_cheetah_floor_friction(**options) -> gymnasium.Env:
    """HalfCheetah-v5, its own reward, context the floor's sliding friction."""
    return mujoco_task(HALF_CHEETAH, FLOOR_FRICTION, **options)
