"""What a resumable checkpoint holds beyond SB3's own files, so that a resumed run equals the uninterrupted one.

SB3's ``model.save`` keeps the networks, the optimizers and the learner's counters, and ``save_replay_buffer``
pickles the replay buffer (with CSE's perturbation pool ``_perturbation_pool`` / ``_perturbation_next`` and the
prioritized buffer's generator ``rng`` and sum tree, which are attributes of the buffer).  A run continues
bit for bit only if, in addition, everything random and everything mid-episode is restored:

- the random generators: numpy's global one (SB3's replay sampling), torch's (actions, CSE's perturbation
  draws, SAC's noise), Python's ``random`` and the learner's action space (random actions before
  ``learning_starts``);
- the learner's position in its loop: ``_last_obs``, ``_last_episode_starts``, ``_last_original_obs``,
  ``num_timesteps``, ``_n_updates``, ``_episode_num``, the learning-rate progress (and DQN's counters);
- every training environment, layer by layer (:func:`environment_state`): SB3's ``Monitor`` (the running
  episode's rewards), the LDR/GDR wrappers (``_randomization_rng``), Gymnasium's ``TimeLimit`` (elapsed steps)
  and ``OrderEnforcing``, and the task itself (its ``np_random`` and its current episode state).

The state of a layer is its *plain data*: the attributes that are numbers, strings, numpy arrays or
containers of those, and its numpy generators (as their bit-generator state).  For the analytic tasks that is
the whole episode state (``_state``, ``_theta``, ``_context``, ...).  A MuJoCo task keeps its state in
``MjData``: all of it is saved (pickled) and copied back with ``mj_copyData``, derived quantities included
(Gymnasium's Ant reads the torso position left by the previous step before it steps: restoring only qpos and
qvel and recomputing it with ``mj_forward`` would move it by about 2e-5).  :func:`training_state` collects all of it;
:func:`restore_training_state` puts it back into a
model freshly loaded from the checkpoint's ``model.zip``.

The checkpoint is taken between two vector steps of the learner (SB3's ``on_rollout_start``: the previous
transition stored, its gradient updates done), the only point where all of the above is consistent.
"""

from __future__ import annotations

import pickle
import random
from collections import deque
from typing import Any

import gymnasium
import numpy as np
import torch

__all__ = ["STATE_VERSION", "training_state", "restore_training_state", "environment_state", "restore_environment",
           "grow_replay_buffer"]

#: Version of the state dictionary written next to model.zip (``state.pkl``).  Checkpoints without it (written
#: before resume became exact) restart the running episodes from a reset.
STATE_VERSION = 1

#: The learner's loop position and counters (those a model has).
LEARNER_ATTRIBUTES = ("_last_obs", "_last_episode_starts", "_last_original_obs", "num_timesteps", "_n_updates",
                      "_episode_num", "_current_progress_remaining", "_n_calls", "exploration_rate")

#: Layer attributes never restored: the next layer and the Monitor's open file (its clock ``t_start`` is kept,
#: so that the episode times of the monitor files keep increasing across segments).
_SKIPPED = {"env", "results_writer"}

_PLAIN_SCALARS = (bool, int, float, str, bytes, type(None), np.generic)


def _is_plain(value: Any) -> bool:
    if isinstance(value, _PLAIN_SCALARS) or isinstance(value, np.ndarray):
        return not (isinstance(value, np.ndarray) and value.dtype == object)
    if isinstance(value, (list, tuple, deque)):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_plain(item) for key, item in value.items())
    return False


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, deque)):
        return type(value)(_copy(item) for item in value)
    if isinstance(value, tuple):
        return tuple(_copy(item) for item in value)
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    return value


def _layers(env: gymnasium.Env):
    while True:
        yield env
        if not isinstance(env, gymnasium.Wrapper):
            return
        env = env.env


def _layer_state(layer) -> dict[str, Any]:
    plain, generators = {}, {}
    for name, value in vars(layer).items():
        if name in _SKIPPED:
            continue
        if isinstance(value, np.random.Generator):
            generators[name] = value.bit_generator.state
        elif _is_plain(value):
            plain[name] = _copy(value)
    state: dict[str, Any] = dict(type=type(layer).__name__, plain=plain, generators=generators)
    mujoco_state = _mujoco_state(layer)
    if mujoco_state is not None:
        state["mujoco"] = mujoco_state
    return state


def _restore_layer(layer, state: dict[str, Any]) -> None:
    if type(layer).__name__ != state["type"]:
        raise ValueError(f"checkpoint holds an environment layer {state['type']}, the run has {type(layer).__name__}")
    for name, value in state["plain"].items():
        setattr(layer, name, _copy(value))
    for name, generator_state in state["generators"].items():
        generator = np.random.Generator(getattr(np.random, generator_state["bit_generator"])())
        generator.bit_generator.state = generator_state
        setattr(layer, name, generator)
    if hasattr(layer, "set_context") and "_context" in state["plain"]:
        layer.set_context(state["plain"]["_context"])  # also into the simulator, where the context is a model parameter
    if "mujoco" in state:
        _restore_mujoco(layer, state["mujoco"])


def _mujoco_state(layer) -> bytes | None:
    model, data = getattr(layer, "model", None), getattr(layer, "data", None)
    if model is None or data is None or type(data).__name__ != "MjData":
        return None
    return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


def _restore_mujoco(layer, state: bytes) -> None:
    import mujoco

    mujoco.mj_copyData(layer.data, layer.model, pickle.loads(state))


def environment_state(env: gymnasium.Env) -> list[dict[str, Any]]:
    """The state of each layer of ``env``'s wrapper stack, outermost first (see the module docstring)."""
    return [_layer_state(layer) for layer in _layers(env)]


def restore_environment(env: gymnasium.Env, state: list[dict[str, Any]]) -> None:
    """Put :func:`environment_state`'s result back into an environment built the same way."""
    layers = list(_layers(env))
    if len(layers) != len(state):
        raise ValueError(f"checkpoint holds {len(state)} environment layers, the run has {len(layers)}")
    for layer, layer_state in zip(layers, state):
        _restore_layer(layer, layer_state)


def training_state(model) -> dict[str, Any]:
    """Everything beyond ``model.save`` and ``save_replay_buffer`` that a bit-identical resume needs."""
    action_rng = getattr(model.action_space, "_np_random", None)
    return dict(
        version=STATE_VERSION,
        rng=dict(numpy=np.random.get_state(), torch=torch.get_rng_state(), python=random.getstate(),
                 action_space=None if action_rng is None else action_rng.bit_generator.state),
        learner={name: _copy(getattr(model, name)) for name in LEARNER_ATTRIBUTES if hasattr(model, name)},
        environments=[environment_state(env) for env in model.get_env().envs],
    )


def restore_training_state(model, state: dict[str, Any]) -> None:
    """Restore :func:`training_state` into ``model`` (loaded from the same checkpoint, its env and replay buffer
    attached).  Call it last: loading a model reseeds the global generators."""
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"checkpoint state version {state.get('version')!r}, this code reads {STATE_VERSION}")
    vec_env = model.get_env()
    if len(vec_env.envs) != len(state["environments"]):
        raise ValueError(f"checkpoint holds {len(state['environments'])} environments, the run has {len(vec_env.envs)}")
    for env, env_state in zip(vec_env.envs, state["environments"]):
        restore_environment(env, env_state)
    vec_env._reset_seeds()  # loading seeded the vector env for a reset that will not happen
    vec_env._reset_options()
    for name, value in state["learner"].items():
        setattr(model, name, _copy(value))
    rng = state["rng"]
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    if rng["action_space"] is not None:
        generator = np.random.Generator(getattr(np.random, rng["action_space"]["bit_generator"])())
        generator.bit_generator.state = rng["action_space"]
        model.action_space._np_random = generator


def grow_replay_buffer(buffer, buffer_size: int) -> None:
    """Give an SB3 replay buffer (uniform, CSE or prioritized) room for ``buffer_size`` transitions in all,
    keeping its contents in the order they were added (oldest first), as a run with the larger budget would
    have them.  Used when a finished run is extended: its buffer was sized to the old budget."""
    rows = max(buffer_size // buffer.n_envs, 1)
    old_rows = buffer.buffer_size
    if rows <= old_rows:
        return
    order = np.roll(np.arange(old_rows), -buffer.pos) if buffer.full else np.arange(buffer.pos)
    for name, value in list(vars(buffer).items()):
        if (
            isinstance(value, np.ndarray)
            and value.ndim >= 2
            and value.shape[0] == old_rows
            and value.shape[1] == buffer.n_envs
        ):
            grown = np.zeros((rows, *value.shape[1:]), dtype=value.dtype)
            grown[: len(order)] = value[order]
            setattr(buffer, name, grown)
    tree = getattr(buffer, "tree", None)
    if tree is not None:  # prioritized replay: the same leaves at the new slots (slot = row * n_envs + env)
        from cebe_deep.learn.replay import SumTree

        envs = np.arange(buffer.n_envs)
        old_slots = (order[:, None] * buffer.n_envs + envs).reshape(-1)
        new_slots = (np.arange(len(order))[:, None] * buffer.n_envs + envs).reshape(-1)
        was_set = np.isfinite(tree.mins[tree.leaves + old_slots])
        new_tree = SumTree(rows * buffer.n_envs)
        if was_set.any():
            new_tree.update(new_slots[was_set], tree.values(old_slots[was_set]))
        buffer.tree = new_tree
    buffer.buffer_size, buffer.pos, buffer.full = rows, len(order), False
