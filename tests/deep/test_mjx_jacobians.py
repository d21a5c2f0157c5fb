"""MJX autodiff Jacobians of mujoco_task environments against the tasks' own finite differences.

The mjx extra (``pip install "cebe[mjx]"``) is not installed by the test command, so the comparisons skip there,
saying why; the one-line error without it is checked everywhere (the import is made to fail).

Tolerance: on the 2-core CPU machine (mujoco 3.17.0, mujoco-mjx 3.17.0, jax 0.10.2, float64) the relative
error ``|J_mjx - J_fd|_F / |J_fd|_F`` of the next observation's context Jacobian was, over random-action
trajectories that include contact steps, median 7.0e-10 and at most 1.5e-8 on Hopper-v5 (torso mass, 100 steps)
and median 6.5e-10, at most 8.9e-9 on HalfCheetah-v5 (torso mass, 60 steps); MJX's next observation equalled
MuJoCo's to 2e-13. That is the size of the central difference's own error (h = 1e-5 |c0|: truncation
~1e-10, rounding ~1e-16 / 1e-5 relative to the state). MJX_TOLERANCE = 1e-6 leaves about 60x headroom over the
largest error seen, for other platforms' rounding, and is still 1e5 below an O(1e-1) disagreement such as a
missed frame of the frame skip or a parameter written to the wrong body.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from cebe_deep.tasks import mjx_jacobians as mjx_jacobians_module
from cebe_deep.tasks import mujoco_task
from cebe_theory.errors import InputError

MJX_TOLERANCE = 1e-6
VALUE_TOLERANCE = 1e-9  # MJX's next observation against MuJoCo's (seen: 2e-13)


def _mjx_importable() -> bool:
    try:
        return importlib.util.find_spec("jax") is not None and importlib.util.find_spec("mujoco.mjx") is not None
    except (ImportError, ValueError):
        return False


needs_mjx = pytest.mark.skipif(not _mjx_importable(),
                               reason='mujoco.mjx or jax is not importable: the mjx extra (pip install "cebe[mjx]") '
                                      "is not installed (the test command does not install it)")


def _make(env_id, parameters):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mujoco_task(env_id, parameters)


def _compare(env_id, parameters, steps):
    env = _make(env_id, parameters)
    task = env.unwrapped
    env.reset(seed=0)
    jacobian = mjx_jacobians_module.MjxJacobian(task)
    rng = np.random.default_rng(0)
    errors, value_errors, contacts = [], [], 0
    for step in range(steps):
        action = rng.uniform(-1.0, 1.0, env.action_space.shape)
        next_observation, dobs = jacobian.next_observation_and_jacobian(action)  # from the state before the step
        observation, _, terminated, truncated, info = env.step(action)
        reference = info["dobs_dcontext"]
        assert dobs.shape == reference.shape == (task.state_dim, task.context_dim)
        errors.append(np.linalg.norm(dobs - reference) / np.linalg.norm(reference))
        value_errors.append(np.max(np.abs(next_observation - observation[: task.state_dim])))
        contacts += task.data.ncon > 0
        if terminated or truncated:
            env.reset(seed=step + 1)
    env.close()
    return np.array(errors), np.array(value_errors), contacts, jacobian.cost()


@needs_mjx
@pytest.mark.parametrize("env_id, parameters, steps", [
    ("HalfCheetah-v5", {"torso_mass": ("body_mass", "torso")}, 12),
    # slow: MJX compiles Hopper's RK4 contact step in about 3 minutes on the 2-core machine (HalfCheetah: 40 s)
    pytest.param("Hopper-v5", {"torso_mass": ("body_mass", "torso")}, 12, marks=pytest.mark.slow),
])
def test_mjx_jacobians_agree_with_the_finite_differences(env_id, parameters, steps):
    errors, value_errors, contacts, cost = _compare(env_id, parameters, steps)
    assert contacts > 0, f"{env_id}: no step with a contact, so the contact dynamics were not compared"
    assert value_errors.max() < VALUE_TOLERANCE, f"{env_id}: MJX's next observation is off by {value_errors.max():.2e}"
    assert errors.max() < MJX_TOLERANCE, f"{env_id}: relative errors {np.round(errors, 12).tolist()}"
    assert cost["calls"] == steps - 1 and cost["seconds_per_step"] > 0


@needs_mjx
def test_mjx_jacobian_of_gravity_and_a_context_away_from_c0():
    env = _make("HalfCheetah-v5", {"torso_mass": ("body_mass", "torso"), "gravity_z": ("opt.gravity", 2)})
    task = env.unwrapped
    env.reset(seed=3)
    task.set_context([8.0, -7.0])
    action = np.full(env.action_space.shape, 0.3)
    dobs = mjx_jacobians_module.mjx_next_state_jacobian(task, action)
    _, _, _, _, info = env.step(action)
    reference = info["dobs_dcontext"]
    for i in range(2):
        error = np.linalg.norm(dobs[:, i] - reference[:, i]) / np.linalg.norm(reference[:, i])
        assert error < MJX_TOLERANCE, (task.context_names[i], error)


def test_without_mjx_the_error_is_one_line_naming_the_extra(monkeypatch):
    env = _make("HalfCheetah-v5", {"torso_mass": ("body_mass", "torso")})
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax raises ImportError
    monkeypatch.setitem(sys.modules, "mujoco.mjx", None)
    with pytest.raises(InputError) as caught:
        mjx_jacobians_module.mjx_next_state_jacobian(env.unwrapped, np.zeros(6))
    message = str(caught.value)
    assert "\n" not in message and 'pip install "cebe[mjx]"' in message
    env.close()


def test_the_module_imports_jax_and_mjx_only_inside_a_function():
    # So cebe_deep.tasks imports without the extra: no module-level import of jax or mujoco.mjx.
    tree = ast.parse(Path(mjx_jacobians_module.__file__).read_text())
    top = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    top += [f"{node.module}.{alias.name}" for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names]
    assert not [name for name in top if name.startswith(("jax", "mujoco"))], top
