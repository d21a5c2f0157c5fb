"""Domain randomization baselines (arXiv 2507.07348, Section 5): LDR draws c0 + eps N(0, I) clipped to the box each
episode, GDR draws uniformly from the box."""

from __future__ import annotations

import numpy as np
import pytest

from cebe_deep.learn.randomization import GlobalDomainRandomization, LocalDomainRandomization
from cebe_deep.tasks import make_task


def _contexts(env, episodes, seed=0):
    contexts = []
    for k in range(episodes):
        obs, info = env.reset(seed=seed if k == 0 else None)
        task = env.unwrapped
        np.testing.assert_array_equal(obs[task.state_dim:], info["context"])  # the observation carries it
        np.testing.assert_array_equal(task.context, info["context"])
        contexts.append(info["context"])
    return np.array(contexts)


def test_ldr_is_gaussian_around_c0_with_scale_eps():
    env = LocalDomainRandomization(make_task("SimpleDirection"), eps=0.1)
    contexts = _contexts(env, 2000)
    np.testing.assert_allclose(contexts.mean(0), 0.0, atol=0.01)
    np.testing.assert_allclose(contexts.std(0), 0.1, rtol=0.08)


def test_ldr_clips_to_the_box_and_is_seeded():
    c0 = [2.0, -2.0]  # a corner of SimpleDirection's box [-2, 2]^2
    env = LocalDomainRandomization(make_task("SimpleDirection", context=c0), eps=0.5, base_context=c0)
    contexts = _contexts(env, 300, seed=3)
    assert contexts[:, 0].max() <= 2.0 and contexts[:, 1].min() >= -2.0
    assert np.mean(contexts[:, 0] == 2.0) == pytest.approx(0.5, abs=0.1)  # half the draws land outside
    again = _contexts(
        LocalDomainRandomization(make_task("SimpleDirection", context=c0), eps=0.5, base_context=c0), 300, seed=3
    )
    np.testing.assert_array_equal(contexts, again)


def test_gdr_is_uniform_over_the_box():
    env = GlobalDomainRandomization(make_task("SimpleDirection"))
    contexts = _contexts(env, 3000)
    assert contexts.min() >= -2.0 and contexts.max() <= 2.0
    np.testing.assert_allclose(contexts.mean(0), 0.0, atol=0.1)
    np.testing.assert_allclose(contexts.var(0), 16 / 12, rtol=0.1)  # Var U[-2, 2] = 4^2 / 12


def test_randomization_rejects_bad_input():
    with pytest.raises(ValueError, match="eps must be > 0"):
        LocalDomainRandomization(make_task("SimpleDirection"), eps=0.0)
    with pytest.raises(ValueError, match="outside the box"):
        LocalDomainRandomization(make_task("SimpleDirection"), eps=0.1, base_context=[5.0, 0.0])
    import gymnasium

    with pytest.raises(TypeError, match="contextual task"):
        LocalDomainRandomization(gymnasium.make("Pendulum-v1"), eps=0.1)
