"""The floor of benchmarks/bench_protocol.py is a real SAC update and a real env step (not an empty loop)."""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from protocol_floor import BareSAC, floor_seconds_per_env_step  # noqa: E402

from cebe_deep.run.config import make_config  # noqa: E402


def test_one_bare_update_moves_every_network_and_the_targets_by_tau():
    torch.manual_seed(0)
    sac = BareSAC(obs_dim=5, act_dim=2, hidden=[16, 16], batch=8, gamma=0.99, tau=0.005, learning_rate=1e-3)
    actor = [p.detach().clone() for p in sac.actor.parameters()]
    critics = [p.detach().clone() for p in sac.critics.parameters()]
    targets = [p.detach().clone() for p in sac.targets.parameters()]
    alpha = sac.log_alpha.detach().clone()
    sac.update()
    assert all(not torch.equal(a, b) for a, b in zip(actor, sac.actor.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(critics, sac.critics.parameters()))
    assert not torch.equal(alpha, sac.log_alpha.detach())
    for old, new, critic in zip(targets, sac.targets.parameters(), sac.critics.parameters()):  # Polyak, by hand
        np.testing.assert_allclose(new.detach(), (1 - 0.005) * old + 0.005 * critic.detach(), rtol=1e-6, atol=1e-7)


def test_the_floor_adds_the_update_share_and_the_env_step():
    config = make_config("PendulumGoal", "cse", "authors")
    floor = floor_seconds_per_env_step(config, updates=3, env_steps=20)
    assert floor["updates_per_env_step"] == config.gradient_steps / (config.train_freq * config.n_envs) == 1 / 8
    assert floor["update"] > 0 and floor["env"] > 0
    assert np.isclose(floor["floor"], floor["update"] / 8 + floor["env"])


def test_the_breakdown_times_the_parts_and_leaves_the_learner_as_it_was():
    """bench_protocol's breakdown: each part is timed (> 0), the update's sub-parts fit inside it, every part fits
    inside the total, and the timers are gone afterwards (the learner's methods are its class's again)."""
    from bench_protocol import PARTS, _model, breakdown

    model = _model("PendulumGoal", "cse", "authors", warmup=300, seed=0)
    parts = breakdown(model, 160)
    assert set(parts) == {label for label, *_ in PARTS} | {"total"} and all(value > 0 for value in parts.values())
    update = parts["update (SB3 train, all of it)"]
    assert parts["  of which replay draw + CSE"] + parts["  of which priority update"] < update
    assert update + parts["vector env step"] + parts["acting"] + parts["storing (buffer add)"] < parts["total"]
    for owner in (model, model.replay_buffer, model.env):
        assert not {"train", "sample", "update_priorities", "step", "_sample_action", "add"} & set(vars(owner))
