"""The speed-ups of the authors'-profile loop change no number.

- :class:`~cebe_deep.learn.sac.ContextSACPolicy` (no argument validation in the actor's Gaussian, no repeated
  training-mode walk): a seeded CSE run with prioritized replay ends with the same parameters, to the bit, as the
  same run with SB3's own ``SACPolicy``.
- :meth:`~cebe_deep.learn.replay.SumTree.update` (one sort, then neighbour de-duplication per level): after many
  random updates, every node equals the tree rebuilt from its leaves by pairwise sums and minima, level by level
  (an independent construction: numpy reshapes, no index bookkeeping).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stable_baselines3 import SAC
from stable_baselines3.sac.policies import SACPolicy

from cebe_deep.learn.replay import SumTree
from cebe_deep.learn.sac import ContextSAC, ContextSACPolicy, UncheckedSquashedGaussian
from cebe_deep.run.config import make_config
from cebe_deep.run.training import make_model, make_vec_training_env


def _trained_parameters(policy_aliases, monkeypatch) -> tuple[dict[str, torch.Tensor], type]:
    monkeypatch.setattr(ContextSAC, "policy_aliases", policy_aliases)
    config = make_config("PendulumGoal", "cse", "authors", seed=5, total_steps=1_200, learning_starts=200)
    model = make_model(config, make_vec_training_env(config))
    model.learn(1_200)
    return {name: tensor.clone() for name, tensor in model.policy.state_dict().items()}, type(model.policy)


def test_context_policy_trains_bit_identically_to_sb3s(monkeypatch):
    ours, ours_class = _trained_parameters({**SAC.policy_aliases, "MlpPolicy": ContextSACPolicy}, monkeypatch)
    sb3, sb3_class = _trained_parameters(dict(SAC.policy_aliases), monkeypatch)
    assert ours_class is ContextSACPolicy and sb3_class is SACPolicy
    assert ours.keys() == sb3.keys()
    different = [name for name in ours if not torch.equal(ours[name], sb3[name])]
    assert not different, f"parameters differ: {different}"


def test_context_policy_is_the_default_and_skips_only_a_mode_it_has(monkeypatch):
    config = make_config("PendulumGoal", "baseline", "authors", seed=0, total_steps=500, learning_starts=100)
    model = make_model(config, make_vec_training_env(config))
    policy = model.policy
    assert isinstance(policy, ContextSACPolicy) and isinstance(policy.actor.action_dist, UncheckedSquashedGaussian)
    policy.set_training_mode(False)
    assert not policy.training and not policy.actor.training and not policy.critic.training
    walks = []
    monkeypatch.setattr(SACPolicy, "set_training_mode", lambda self, mode: walks.append(mode))
    policy.set_training_mode(False)  # already in eval mode: nothing to do
    assert walks == []
    policy.set_training_mode(True)
    assert walks == [True]


def test_unchecked_gaussian_gives_sb3s_numbers_without_validation():
    torch.manual_seed(0)
    mean, log_std = torch.randn(64, 3), torch.randn(64, 3)
    ours = UncheckedSquashedGaussian(3).proba_distribution(mean, log_std)
    default = torch.distributions.Distribution._validate_args
    assert ours.distribution._validate_args is False and default  # the global default is left as it was
    from stable_baselines3.common.distributions import SquashedDiagGaussianDistribution

    sb3 = SquashedDiagGaussianDistribution(3).proba_distribution(mean, log_std)
    actions = torch.tanh(torch.randn(64, 3)) * 0.99
    assert torch.equal(ours.log_prob(actions), sb3.log_prob(actions))
    gaussian = torch.randn(64, 3)
    assert torch.equal(ours.log_prob(torch.tanh(gaussian), gaussian), sb3.log_prob(torch.tanh(gaussian), gaussian))


def _rebuilt(tree: SumTree) -> tuple[np.ndarray, np.ndarray]:
    """Every node of ``tree`` recomputed from its leaves: level by level, pairwise sums and minima."""
    sums, mins = np.zeros_like(tree.sums), np.full_like(tree.mins, np.inf)
    level_sums = tree.sums[tree.leaves:].copy()
    level_mins = tree.mins[tree.leaves:].copy()
    start = tree.leaves
    while True:
        sums[start:start + level_sums.size] = level_sums
        mins[start:start + level_mins.size] = level_mins
        if level_sums.size == 1:
            return sums, mins
        level_sums = level_sums.reshape(-1, 2).sum(axis=1)
        level_mins = level_mins.reshape(-1, 2).min(axis=1)
        start //= 2


@pytest.mark.parametrize("capacity", [1, 2, 3, 13, 1000, 70_000])
def test_sum_tree_updates_equal_a_rebuild_from_the_leaves(capacity):
    rng = np.random.default_rng(capacity)
    tree = SumTree(capacity)
    for _ in range(200):
        count = int(rng.integers(1, 300))
        indices = rng.integers(0, capacity, count)
        values = rng.random(count) * (rng.random() < 0.9)  # some batches all zero
        tree.update(indices, values)
        if rng.random() < 0.3:  # consecutive slots, as a vector step adds them
            start = int(rng.integers(0, capacity))
            slots = (start + np.arange(8)) % capacity
            tree.update(slots, np.full(8, rng.random()))
    sums, mins = _rebuilt(tree)
    np.testing.assert_array_equal(tree.sums[1:], sums[1:])
    np.testing.assert_array_equal(tree.mins[1:], mins[1:])
