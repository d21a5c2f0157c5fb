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
               "ContextSampleEnhancementBuffer")
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
    exec(_block("ContextSampleEnhancementBuffer"), namespace)  # noqa: S102
    model = namespace["model"]
    model.learn(120)  # SAC's default learning_starts is 100
    batch = model.replay_buffer.sample(16)
    c0 = np.asarray(namespace["env"].unwrapped.default_context)
    np.testing.assert_allclose(np.linalg.norm(batch.observations[:, 3:].numpy() - c0, axis=1), 0.1, rtol=1e-4)
