"""Every task against the authors' protocol (docs/authors_protocol.md: "Base contexts and test contexts" and the tasks
table): their c0, their test contexts and their context box, as the tasks record them, and AntGoal built as the
authors build it."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from cebe_deep.tasks import TASKS, AntGoal, SimpleDirection

# c0 of the authors' get_env_config, written from docs/authors_protocol.md (CheetahMassVelocity is ours: c0 is
# HalfCheetah-v5's)
AUTHORS_C0 = {
    "SimpleDirection": (0.0, 0.0),
    "PendulumGoal": (2.0, 1.0, 1.0, 0.0),
    "CartGoal": (10.0, 0.1, 1.0, 0.5, 0.0),
    "CheetahVelocity": (2.0,),
    "AntDirection": (1.0, 0.0),
    "AntGoal": (3.0, 0.0),
}
AUTHORS_CONTEXT_COUNT = {
    "SimpleDirection": 5,
    "PendulumGoal": 3,
    "CartGoal": 5,
    "CheetahVelocity": 7,
    "AntDirection": 10,
    "AntGoal": 6,
}


def build(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TASKS[name]()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_default_context_is_the_authors_c0(name):
    task = build(name)
    if name in AUTHORS_C0:
        np.testing.assert_array_equal(task.default_context, AUTHORS_C0[name])
        np.testing.assert_allclose(task.authors_contexts[0], task.default_context, rtol=0, atol=1e-15)
        assert len(task.authors_contexts) == AUTHORS_CONTEXT_COUNT[name]
    else:
        assert task.authors_contexts == () and task.authors_context_box is None


@pytest.mark.parametrize("name", sorted(TASKS))
def test_authors_contexts_lie_in_the_task_box_and_are_valid(name):
    task = build(name)
    for context in task.authors_contexts:
        assert len(context) == task.context_dim
        assert np.all(task.context_low <= context) and np.all(np.asarray(context) <= task.context_high)
        task.set_context(context)  # also the constraints beyond the box (PendulumGoal's |tau| < m g l)
        np.testing.assert_array_equal(task.context, context)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_authors_box_lies_inside_ours(name):
    task = build(name)
    if task.authors_context_box is None:
        return
    low, high = (np.asarray(bound, dtype=float) for bound in task.authors_context_box)
    assert low.shape == high.shape == (task.context_dim,) and np.all(low < high)
    assert np.all(task.context_low <= low) and np.all(high <= task.context_high)


def test_named_authors_contexts():
    assert TASKS["PendulumGoal"].authors_contexts[1:] == ((2.0, 1.0, 1.0, 0.75), (2.0, 1.2, 1.0, -0.75))
    assert [c[4] for c in TASKS["CartGoal"].authors_contexts] == [0.0, -0.5, 0.5, -1.0, 1.0]
    assert [c[0] for c in TASKS["CheetahVelocity"].authors_contexts] == [2.0, 0.75, 1.25, 1.75, 2.25, 2.75, -1.0]
    angles = [math.atan2(y, x) for x, y in TASKS["AntDirection"].authors_contexts]
    np.testing.assert_allclose(angles, [0, 0.1, -0.1, 0.2, -0.2, 0.5, -0.5, 1, -1, math.pi], atol=1e-12)
    goals = np.array(TASKS["AntGoal"].authors_contexts)
    np.testing.assert_allclose(np.hypot(goals[:, 0], goals[:, 1]), 3.0)
    np.testing.assert_allclose(np.arctan2(goals[:, 1], goals[:, 0]), [0, 0.1, 0.2, 0.5, 1, math.pi], atol=1e-12)


def test_simple_direction_contexts_in_other_dimensions():
    assert set(SimpleDirection().authors_contexts) == {(0.0, 0.0)} | {(x, y) for x in (0.8, -0.8) for y in (0.8, -0.8)}
    for dimension in (1, 3):
        task = SimpleDirection(dimension=dimension)
        contexts = task.authors_contexts
        assert contexts[0] == (0.0,) * dimension and len(contexts) == 1 + 2**dimension
        assert {tuple(abs(v) for v in c) for c in contexts[1:]} == {(0.8,) * dimension}
        assert len(set(contexts)) == len(contexts)
        assert task.authors_context_box == ((-1.0,) * dimension, (1.0,) * dimension)
    assert SimpleDirection.authors_contexts[1] == (0.8, 0.8)  # the class keeps the authors' d = 2 list


def test_ant_goal_has_no_healthy_reward_and_never_terminates():
    """As the authors build it: healthy_reward 0, terminate_when_unhealthy False."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = AntGoal()
    env.reset(seed=0)
    env.data.qpos[2] = 2.0  # torso far above the healthy range: Ant-v5's default would end the episode
    _, _, terminated, _, info = env.step(np.zeros(8))
    assert not terminated and info["reward_survive"] == 0.0
