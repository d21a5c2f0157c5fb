"""ContextSAC against SB3's SAC: with the MSE loss and unit weights its own update (the path prioritized
replay takes) equals SB3's ``SAC.train`` on the same batch; per-network learning rates reach the optimizers;
the authors' initialisation has the stated output gain; the Huber loss is RLlib's."""

from __future__ import annotations

import copy

import pytest
import torch

from cebe_deep.learn.replay import PrioritizedReplay
from cebe_deep.learn.sac import ContextSAC
from cebe_deep.run.config import make_config
from cebe_deep.run.training import make_model, make_vec_training_env


def _model(critic_loss="mse", replay="prioritized", **overrides):
    config = make_config("PendulumGoal", "baseline", "authors", total_steps=2_000, learning_starts=64, batch_size=32,
                         net_arch=(16, 16), replay=replay, priority_alpha=0.0, priority_beta=0.0,
                         critic_loss=critic_loss, **overrides)
    model = make_model(config, make_vec_training_env(config))
    model.learn(128)  # fills the buffer (and makes a few updates)
    return model


def _parameters(model):
    return {name: tensor.detach().clone() for name, tensor in model.policy.state_dict().items()}


def test_own_update_equals_sb3_update_on_the_same_batch():
    model = _model()
    assert isinstance(model.replay_buffer, PrioritizedReplay)
    batch = model.replay_buffer.sample(32)
    model.replay_buffer.sample = lambda *args, **kwargs: batch  # both updates see this batch
    state = {key: value.clone() for key, value in model.policy.state_dict().items()}
    optimizers = [model.actor.optimizer, model.critic.optimizer, model.ent_coef_optimizer]
    saved = [copy.deepcopy(optimizer.state_dict()) for optimizer in optimizers]  # Adam's moments change in place
    log_alpha = model.log_ent_coef.detach().clone()

    torch.manual_seed(5)
    model.train(gradient_steps=1, batch_size=32)  # ContextSAC's own update (prioritized buffer)
    ours = _parameters(model)

    model.policy.load_state_dict(state)
    for optimizer, snapshot in zip(optimizers, saved):
        optimizer.load_state_dict(snapshot)
    with torch.no_grad():
        model.log_ent_coef.copy_(log_alpha)
    torch.manual_seed(5)
    super(ContextSAC, model).train(gradient_steps=1, batch_size=32)  # SB3's SAC.train
    theirs = _parameters(model)
    for name in ours:
        torch.testing.assert_close(ours[name], theirs[name], rtol=1e-5, atol=1e-6, msg=name)


def test_per_network_learning_rates_and_authors_initialisation():
    model = _model()
    rates = [group["lr"] for optimizer in (model.actor.optimizer, model.critic.optimizer, model.ent_coef_optimizer)
             for group in optimizer.param_groups]
    assert rates == [2e-4, 8e-4, 9e-4]  # docs/authors_protocol.md, PendulumGoal
    fresh = make_model(make_config("PendulumGoal", "baseline", "authors", net_arch=(64, 64)),
                       make_vec_training_env(make_config("PendulumGoal", "baseline", "authors")))
    mu = fresh.actor.mu.weight.detach()
    # orthogonal with gain 0.01: the rows of a (1, 64) output are orthonormal times 0.01 -> norm 0.01
    assert torch.linalg.norm(mu).item() == pytest.approx(0.01, rel=1e-5)
    assert torch.count_nonzero(fresh.actor.latent_pi[0].bias).item() == 0


def test_huber_critic_loss_is_rllibs():
    # Huber with delta 1: 0.5 x^2 for |x| <= 1, |x| - 0.5 beyond
    x = torch.tensor([0.5, -2.0, 3.0])
    expected = torch.tensor([0.125, 1.5, 2.5])
    torch.testing.assert_close(torch.nn.functional.huber_loss(x, torch.zeros(3), reduction="none", delta=1.0), expected)
    model = _model(critic_loss="huber", replay="uniform")
    before = _parameters(model)
    model.train(gradient_steps=2, batch_size=32)  # uniform replay, Huber: ContextSAC's own update runs
    after = _parameters(model)
    assert any(not torch.equal(before[name], after[name]) for name in before)
    with pytest.raises(ValueError, match="critic_loss"):
        make_config("PendulumGoal", "baseline", critic_loss="l1")
