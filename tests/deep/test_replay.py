"""Prioritized replay: the sum tree against brute force, sampling frequencies against the exact law
P(i) = p_i^alpha / sum_k p_k^alpha (chi-square), alpha = 0 is uniform, importance weights by hand, priorities
from TD errors, and the composition with CSE."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from scipy import stats

from cebe_deep.learn.replay import PRIORITY_EPSILON, PrioritizedCSEBuffer, PrioritizedReplayBuffer, SumTree


def test_sum_tree_matches_brute_force_prefix_sums():
    rng = np.random.default_rng(0)
    tree = SumTree(13)  # not a power of two
    values = rng.random(13) * 5
    tree.update(np.arange(13), values)
    assert tree.total == pytest.approx(values.sum()) and tree.minimum == pytest.approx(values.min())
    masses = rng.random(1000) * values.sum()
    expected = np.searchsorted(np.cumsum(values), masses, side="right")  # first i with cumsum[i] > m
    np.testing.assert_array_equal(tree.find(masses), expected)
    tree.update(np.array([3, 3]), np.array([1.0, 0.0]))  # repeated index: the last value wins
    assert tree.values(np.array([3]))[0] == 0.0 and tree.total == pytest.approx(values.sum() - values[3])


def _buffer(size=6, n_envs=1, alpha=1.0, beta=0.0, cls=PrioritizedReplayBuffer, **kwargs):
    observation_space = spaces.Box(-np.inf, np.inf, shape=(kwargs.pop("obs_dim", 2),), dtype=np.float32)
    action_space = spaces.Box(-1, 1, shape=(1,), dtype=np.float32)
    buffer = cls(size, observation_space, action_space, device="cpu", n_envs=n_envs, priority_alpha=alpha,
                 priority_beta=beta, **kwargs)
    return buffer


def _fill(buffer, count, n_envs=1, infos=None):
    for t in range(count):
        obs = np.full((n_envs, buffer.observation_space.shape[0]), float(t), dtype=np.float32)
        buffer.add(obs, obs + 1, np.zeros((n_envs, 1)), np.full(n_envs, float(t)), np.zeros(n_envs),
                   infos or [{} for _ in range(n_envs)])


@pytest.mark.parametrize("alpha", [1.0, 0.6])
def test_sampling_frequencies_match_the_priorities(alpha):
    buffer = _buffer(alpha=alpha)
    _fill(buffer, 6)
    buffer.rng = np.random.default_rng(1)
    td_errors = np.array([0.5, 1.0, 2.0, 4.0, 0.1, 3.0])
    buffer.update_priorities(td_errors, slots=np.arange(6))
    exact = (np.abs(td_errors) + PRIORITY_EPSILON) ** alpha
    exact /= exact.sum()
    counts = np.zeros(6)
    for _ in range(200):
        samples = buffer.sample(256)
        counts += np.bincount(samples.rewards.numpy().astype(int).ravel(), minlength=6)  # reward t marks slot t
    statistic, p_value = stats.chisquare(counts, counts.sum() * exact)
    assert p_value > 1e-3, (counts / counts.sum(), exact)


def test_alpha_zero_is_uniform_and_beta_weights_by_hand():
    buffer = _buffer(alpha=0.0, beta=0.5)
    _fill(buffer, 4)
    buffer.update_priorities(np.array([1.0, 10.0, 100.0, 1000.0]), slots=np.arange(4))
    assert np.allclose(buffer.tree.values(np.arange(4)), 1.0)  # p^0 = 1: every transition equally likely
    buffer.sample(8)
    np.testing.assert_allclose(buffer.last_weights.numpy(), 1.0)  # uniform draw: all weights 1

    buffer = _buffer(alpha=1.0, beta=0.5)
    _fill(buffer, 4)
    priorities = np.array([1.0, 2.0, 3.0, 4.0])
    buffer.update_priorities(priorities - PRIORITY_EPSILON, slots=np.arange(4))
    buffer.sample(64)
    # w_i = (N P(i))^-beta / max_k (N P(k))^-beta = (p_i / p_min)^-beta with N = 4
    expected = (priorities[buffer.last_slots] / 1.0) ** -0.5
    np.testing.assert_allclose(buffer.last_weights.numpy().ravel(), expected, rtol=1e-6)


def test_new_transitions_get_the_largest_priority_and_slots_cover_all_envs():
    buffer = _buffer(size=12, n_envs=3)  # SB3 keeps size // n_envs = 4 positions of 3 envs
    _fill(buffer, 2, n_envs=3)
    buffer.update_priorities(np.array([7.0]), slots=np.array([4]))
    _fill(buffer, 1, n_envs=3)
    new = buffer.tree.values(np.arange(6, 9))
    np.testing.assert_allclose(new, 7.0 + PRIORITY_EPSILON)
    samples = buffer.sample(500)
    assert set(buffer.last_slots) == set(range(9)) and len(samples.rewards) == 500


def test_prioritized_buffer_composes_with_cse():
    """SimpleDirection-shaped sample (state 2, context 2, d_cT = I, d_cR = s', d_s'R = c): every drawn sample
    is moved to |dc| = eps and its reward follows the CSE formula."""
    buffer = _buffer(size=8, cls=PrioritizedCSEBuffer, obs_dim=4, state_dim=2, context_dim=2, eps=0.1)
    infos = [{"dobs_dcontext": np.eye(2), "dreward_dcontext": np.array([1.0, 2.0]), "dreward_dnextobs": np.zeros(2)}]
    for _ in range(8):
        obs = np.array([[0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
        next_obs = np.array([[1.0, 2.0, 0.0, 0.0]], dtype=np.float32)
        buffer.add(obs, next_obs, np.zeros((1, 1)), np.array([0.0]), np.zeros(1), infos)
    samples = buffer.sample(32)
    context = samples.observations.numpy()[:, 2:]
    np.testing.assert_allclose(np.linalg.norm(context, axis=1), 0.1, rtol=1e-5)
    np.testing.assert_allclose(samples.next_observations.numpy()[:, :2], np.array([1.0, 2.0]) + context, rtol=1e-5)
    np.testing.assert_allclose(samples.rewards.numpy().ravel(), context @ np.array([1.0, 2.0]), atol=1e-6)
    buffer.update_priorities(np.ones(32))  # the last batch's slots


@pytest.mark.parametrize("alpha, beta", [(-0.1, 0.0), (1.5, 0.0), (0.5, -1.0), (0.5, 2.0)])
def test_bad_alpha_or_beta_is_refused(alpha, beta):
    with pytest.raises(ValueError, match="alpha|beta"):
        _buffer(alpha=alpha, beta=beta)


def test_eight_envs_keep_their_own_jacobians_and_ldr_contexts():
    """The authors' profile steps 8 envs together: the CSE buffer stores each env's partials in its own slot
    (SimpleDirection: d_cT = I, d_cR = s' and d_s'R = c, in closed form), and LDR gives each env its own
    context per episode."""
    from cebe_deep.run.config import make_config
    from cebe_deep.run.training import make_model, make_vec_training_env

    config = make_config("SimpleDirection", "cse", "authors", total_steps=400, learning_starts=400, net_arch=(8, 8))
    model = make_model(config, make_vec_training_env(config))
    model.learn(80)  # 10 vector steps, no update
    buffer = model.replay_buffer
    for position in range(10):
        for env_index in range(8):
            dobs, dreward_dc, dreward_dnext = buffer.partials(position, env_index)
            next_state = buffer.next_observations[position, env_index, :2]
            np.testing.assert_allclose(dobs, np.eye(2))
            np.testing.assert_allclose(dreward_dc, next_state, rtol=1e-6)
            np.testing.assert_allclose(dreward_dnext, buffer.observations[position, env_index, 2:], atol=1e-7)

    ldr = make_config("SimpleDirection", "ldr", "authors", total_steps=400, learning_starts=400, net_arch=(8, 8))
    model = make_model(ldr, make_vec_training_env(ldr))
    model.learn(160)  # two 10-step episodes per env
    contexts = model.replay_buffer.observations[:20, :, 2:]  # (step, env, context)
    assert np.unique(contexts[0].round(6), axis=0).shape[0] == 8  # 8 envs, 8 different contexts
    np.testing.assert_array_equal(contexts[0], contexts[9])  # fixed within an episode
    assert not np.allclose(contexts[0], contexts[10])  # redrawn for the next one
