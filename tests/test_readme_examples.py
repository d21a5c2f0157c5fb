"""Every ```python block of the README runs as a reader would paste it, and says what the README says it does."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def _block(marker: str) -> str:
    found = [block for block in BLOCKS if marker in block]
    assert len(found) == 1, f"one README python block should contain {marker!r}, found {len(found)}"
    return found[0]


def test_every_block_is_checked_below():
    markers = ("error_sweep(", "SymbolicCMDP(", "theorem3_bound(", 'gymnasium.make("cebe/PendulumGoal-v0"',
               'make_task("PendulumGoal")', "differentiable_task(step", 'mujoco_task("HalfCheetah-v5"')
    assert len(BLOCKS) == len(markers) and all(_block(marker) for marker in markers)


def test_figure1_sweep_block_prints_the_slope_it_states():
    namespace: dict = {}
    exec(_block("error_sweep("), namespace)  # noqa: S102 - the README's own example
    stated = float(re.search(r"print\(sweep\.fitted_slope\)\s+# ([0-9.]+)", _block("error_sweep(")).group(1))
    assert namespace["sweep"].fitted_slope == pytest.approx(stated, abs=5e-5)
    assert {"dc", "sup_error"} <= set(namespace["sweep"].to_frame().columns)


def test_symbolic_cmdp_block_builds_the_two_state_chain():
    namespace: dict = {}
    exec(_block("SymbolicCMDP("), namespace)  # noqa: S102
    mdp = namespace["mdp"]
    # at p = 0.25: stay with 1 - p = 0.75, switch with p = 0.25, from either state; a switch pays 1 / p = 4
    np.testing.assert_allclose(mdp.transition.toarray(), [[0.75, 0.25], [0.25, 0.75]])
    np.testing.assert_allclose(mdp.reward.toarray(), [[0.0, 4.0], [4.0, 0.0]])


def test_theorem3_block_runs(capsys):
    exec(_block("theorem3_bound("), {})  # noqa: S102
    assert capsys.readouterr().out.strip()


def test_task_block_reports_the_jacobian_shape_it_states():
    namespace: dict = {}
    exec(_block('gymnasium.make("cebe/PendulumGoal-v0"'), namespace)  # noqa: S102
    assert namespace["info"]["dobs_dcontext"].shape == (3, 4)


def test_cse_block_gives_sac_the_enhanced_samples():
    namespace: dict = {}
    exec(_block('make_task("PendulumGoal")'), namespace)  # noqa: S102
    model = namespace["model"]
    model.learn(120)  # SAC's default learning_starts is 100
    batch = model.replay_buffer.sample(16)
    c0 = np.asarray(namespace["env"].unwrapped.default_context)
    np.testing.assert_allclose(np.linalg.norm(batch.observations[:, 3:].numpy() - c0, axis=1), 0.1, rtol=1e-4)


def test_own_environment_block_trains_cse_on_its_torch_step():
    from cebe_deep.tasks import central_differences

    namespace: dict = {}
    exec(_block("differentiable_task(step"), namespace)  # noqa: S102
    env, model = namespace["env"], namespace["model"]
    model.learn(120)
    batch = model.replay_buffer.sample(16)
    np.testing.assert_allclose(np.linalg.norm(batch.observations[:, 2:].numpy() - [1.0, 0.0], axis=1), 0.1, rtol=1e-4)
    env.reset(seed=0)
    action = np.array([0.5])
    dobs, total = central_differences(None, env, action, 1e-6)
    *_, info = env.step(action)
    np.testing.assert_allclose(info["dobs_dcontext"], dobs, atol=1e-7)
    np.testing.assert_allclose(info["dreward_dcontext"] + info["dreward_dnextobs"] @ info["dobs_dcontext"], total, atol=1e-7)
    assert np.any(info["dreward_dnextobs"] != 0)


def test_mujoco_block_builds_half_cheetah_with_its_model_values_as_c0():
    namespace: dict = {}
    exec(_block('mujoco_task("HalfCheetah-v5"'), namespace)  # noqa: S102
    task = namespace["env"].unwrapped
    np.testing.assert_allclose(task.default_context, [6.25020920502092, -9.81])
    np.testing.assert_allclose(task.context_low, [3.12510460251046, -14.715])
    namespace["env"].reset(seed=0)
    assert namespace["env"].step(np.zeros(6))[4]["dobs_dcontext"].shape == (17, 2)
