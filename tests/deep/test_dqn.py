"""ContextDQN, RLlib's DQN as the authors ran CartGoal: the double-Q target and the dueling aggregation against
hand computations on tiny networks with set weights; the importance-weighted Huber loss and the priority update
against an update written out by hand; CSE rewrites the batch the loss sees; seeded runs repeat, and an
interrupted run resumes bit for bit; the authors' profile trains through the package's train path."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest
import torch

from cebe_deep.learn.dqn import ContextDQN, dueling_q_values
from cebe_deep.learn.replay import PRIORITY_EPSILON, PrioritizedCSEBuffer, PrioritizedReplayBuffer
from cebe_deep.run import training
from cebe_deep.run.config import PROFILES, ConfigError, TrainConfig, make_config, make_task_env
from cebe_deep.run.evaluation import evaluate
from cebe_deep.tasks import TASKS
from tests.deep.test_resume import SignalAt, assert_same_run

#: The authors' CartGoal profile with small networks and a short budget (updates from step 200).
SMALL = dict(total_steps=1_200, learning_starts=200, batch_size=16, net_arch=(8,), head_arch=(8,),
             checkpoint_every=10_000)


def _tiny_model(**kwargs) -> ContextDQN:
    """A ContextDQN on CartGoal (9 observations, 2 actions) whose networks are single linear layers."""
    return ContextDQN("MlpPolicy", make_task_env("CartGoal"), buffer_size=64, learning_starts=0, seed=0,
                      policy_kwargs=dict(net_arch=[], head_arch=[]), device="cpu", **kwargs)


def _set_linear(layer: torch.nn.Linear, weight_rows, bias) -> None:
    with torch.no_grad():
        layer.weight.zero_()
        for row, values in enumerate(weight_rows):
            layer.weight[row, : len(values)] = torch.tensor(values, dtype=torch.float32)
        layer.bias.copy_(torch.tensor(bias, dtype=torch.float32))


def _model(method: str = "baseline", seed: int = 0, learn: int = 400, **overrides) -> ContextDQN:
    config = make_config("CartGoal", method, "authors", seed=seed, **(SMALL | overrides))
    model = training.make_model(config, training.make_vec_training_env(config))
    model.learn(learn)
    return model


def _parameters(model) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.policy.state_dict().items()}


def test_double_q_target_against_a_hand_computation():
    """Online Q(s', .) = (1, 2) picks action 1; the target network values it Q'(s', 1) = 3, while the plain
    target takes max Q'(s', .) = 5.  With r = 1, gamma = 0.5: y = 1 + 0.5 * 3 = 2.5 (double) and
    1 + 0.5 * 5 = 3.5 (max); a terminated transition's target is r = 1 either way."""
    model = _tiny_model(dueling=False, double_q=True, gamma=0.5)
    next_observation = torch.zeros(2, 9)
    next_observation[:, 0] = 2.0  # s' = (2, 0, ..., 0): Q = 2 * (first weight column) + bias
    _set_linear(model.q_net.q_head[0], [[0.5], [1.0]], [0.0, 0.0])          # Q(s', .)  = (1, 2)
    _set_linear(model.q_net_target.q_head[0], [[2.5], [1.5]], [0.0, 0.0])   # Q'(s', .) = (5, 3)
    rewards, dones = torch.tensor([[1.0], [1.0]]), torch.tensor([[0.0], [1.0]])

    double = model.q_target(rewards, dones, model.gamma, next_observation)
    torch.testing.assert_close(double, torch.tensor([[2.5], [1.0]]))
    model.double_q = False
    plain = model.q_target(rewards, dones, model.gamma, next_observation)
    torch.testing.assert_close(plain, torch.tensor([[3.5], [1.0]]))


def test_dueling_aggregation_against_a_hand_computation():
    """x = (1, 2, 0, ...): V = (1, 1) . (1, 2) + 0.5 = 3.5; A = ((1, 0) . (1, 2), (0, 3) . (1, 2)) + (0, -1)
    = (1, 5), mean 3; Q = V + A - mean(A) = (1.5, 5.5)."""
    model = _tiny_model(dueling=True)
    _set_linear(model.q_net.value_head[0], [[1.0, 1.0]], [0.5])
    _set_linear(model.q_net.advantage_head[0], [[1.0, 0.0], [0.0, 3.0]], [0.0, -1.0])
    observation = torch.zeros(1, 9)
    observation[0, :2] = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(model.q_net(observation), torch.tensor([[1.5, 5.5]]))
    torch.testing.assert_close(dueling_q_values(torch.tensor([[3.5]]), torch.tensor([[1.0, 5.0]])),
                               torch.tensor([[1.5, 5.5]]))
    # The centring makes V identifiable: a constant added to every advantage leaves Q unchanged.
    torch.testing.assert_close(dueling_q_values(torch.tensor([[3.5]]), torch.tensor([[11.0, 15.0]])),
                               torch.tensor([[1.5, 5.5]]))
    assert model.predict(observation.numpy(), deterministic=True)[0].tolist() == [1]


def test_authors_network_and_settings():
    """One tanh layer of 256 shared by a value and an advantage stream of one ReLU layer of 256 each, biases
    0, the target a copy; lr 5e-4, batch 32, 50k prioritized (0.6, 0.4), target copy every 500 env steps,
    gradient clip 40, epsilon 1 -> 0.02 over 10k env steps of a 2M-step run."""
    config = make_config("CartGoal", "cse", "authors")
    assert config.total_steps >= 2_000_000 and (config.double_q, config.dueling) == (True, True)
    model = training.make_model(config, training.make_vec_training_env(config))
    network = model.q_net
    assert isinstance(model, ContextDQN) and isinstance(model.replay_buffer, PrioritizedCSEBuffer)
    assert [type(layer).__name__ for layer in network.shared] == ["Linear", "Tanh"]
    assert network.shared[0].weight.shape == (256, 9)
    for head, outputs in ((network.value_head, 1), (network.advantage_head, 2)):
        assert [type(layer).__name__ for layer in head] == ["Linear", "ReLU", "Linear"]
        assert (head[0].weight.shape, head[2].weight.shape) == ((256, 256), (outputs, 256))
    assert all(torch.count_nonzero(layer.bias) == 0 for layer in network.modules() if isinstance(layer, torch.nn.Linear))
    target = model.q_net_target.state_dict()
    assert all(torch.equal(value, target[name]) for name, value in network.state_dict().items())
    assert (model.learning_rate, model.batch_size, model.replay_buffer.buffer_size * 8) == (5e-4, 32, 50_000)
    assert (model.replay_buffer.alpha, model.replay_buffer.beta) == (0.6, 0.4)
    assert (model.target_update_interval, model.max_grad_norm, model.tau, model.gamma) == (500, 40.0, 1.0, 0.99)
    epsilon = [model.exploration_schedule(1 - steps / config.total_steps) for steps in (0, 5_000, 10_000, 500_000)]
    np.testing.assert_allclose(epsilon, [1.0, 0.51, 0.02, 0.02])
    optimizer = model.policy.optimizer
    assert type(optimizer) is torch.optim.Adam and optimizer.defaults["fused"] is True
    assert (optimizer.defaults["lr"], optimizer.defaults["eps"]) == (5e-4, 1e-8)


def test_fused_adam_is_the_per_tensor_adam_up_to_rounding():
    """The policy's fused Adam against torch's per-tensor loop on the same gradients: 20 steps, equal to float32
    rounding (the fused kernel orders the arithmetic differently, so not bit for bit)."""
    torch.manual_seed(0)
    model = _model(learn=0)  # an optimizer without state yet, as the reference's
    assert not model.policy.optimizer.state
    fused = model.policy.q_net
    plain = copy.deepcopy(fused)
    reference = torch.optim.Adam(plain.parameters(), lr=5e-4, foreach=False)
    observations = torch.randn(20, 32, fused.shared[0].in_features)
    for batch in observations:
        for network, optimizer in ((fused, model.policy.optimizer), (plain, reference)):
            optimizer.zero_grad()
            network(batch).square().mean().backward()
            optimizer.step()
    for (name, value), other in zip(fused.named_parameters(), plain.parameters()):
        torch.testing.assert_close(value, other, rtol=1e-5, atol=1e-6, msg=name)


def test_importance_weighted_huber_loss_and_priority_update_match_a_hand_written_update():
    model = _model()
    buffer = model.replay_buffer
    assert isinstance(buffer, PrioritizedReplayBuffer)
    batch = buffer.sample(16)
    slots = buffer.last_slots.copy()
    weights = torch.linspace(0.1, 1.0, 16).reshape(-1, 1)

    def fixed_batch(*args, **kwargs):
        buffer.last_slots, buffer.last_weights = slots, weights
        return batch

    buffer.sample = fixed_batch
    model._last_target_update = model.num_timesteps  # no target copy inside this update
    state, optimizer_state = _parameters(model), copy.deepcopy(model.policy.optimizer.state_dict())

    def update_by_hand(sample_weights):
        model.policy.load_state_dict(state)
        model.policy.optimizer.load_state_dict(copy.deepcopy(optimizer_state))  # Adam's moments change in place
        q_taken = model.q_net(batch.observations).gather(1, batch.actions.long())
        with torch.no_grad():
            best = model.q_net(batch.next_observations).argmax(dim=1, keepdim=True)
            target = batch.rewards + (1 - batch.dones) * model.gamma * model.q_net_target(batch.next_observations).gather(
                1, best
            )
        error = q_taken - target
        huber = torch.where(error.abs() <= 1, 0.5 * error**2, error.abs() - 0.5)  # Huber, delta 1
        loss = (sample_weights * huber).mean()
        model.policy.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.policy.parameters(), 40.0)
        model.policy.optimizer.step()
        return _parameters(model), error.detach().abs().numpy().reshape(-1)

    unweighted, _ = update_by_hand(torch.ones(16, 1))
    expected, td_errors = update_by_hand(weights)
    assert any(not torch.allclose(unweighted[name], expected[name]) for name in expected)  # the weights matter

    model.policy.load_state_dict(state)
    model.policy.optimizer.load_state_dict(copy.deepcopy(optimizer_state))  # Adam's moments change in place
    model.train(gradient_steps=1, batch_size=16)
    for name, value in _parameters(model).items():
        torch.testing.assert_close(value, expected[name], rtol=1e-5, atol=1e-7, msg=name)
    # New priorities: (|TD error| + eps)^alpha of the pre-update networks (a repeated slot keeps its last).
    last = {slot: error for slot, error in zip(slots, td_errors)}
    np.testing.assert_allclose(buffer.tree.values(np.array(list(last))),
                               (np.array(list(last.values())) + PRIORITY_EPSILON) ** 0.6, rtol=1e-5)


def test_the_loss_sees_the_cse_rewritten_batch():
    """The batch ContextDQN trains on has the context moved by |dc| = eps = 0.1, and the rewards and next states
    of the first-order expansion r + d_c R dc + d_s'R (d_c T dc), s' + d_c T dc from the stored partials."""
    model = _model("cse")
    buffer = model.replay_buffer
    assert isinstance(buffer, PrioritizedCSEBuffer)
    seen = []
    sample = buffer.sample

    def recording(*args, **kwargs):
        seen.append(sample(*args, **kwargs))
        return seen[-1]

    buffer.sample = recording
    model.train(gradient_steps=1, batch_size=16)
    batch, slots = seen[0], buffer.last_slots
    rows, envs = slots // buffer.n_envs, slots % buffer.n_envs
    stored_obs, stored_next = buffer.observations[rows, envs], buffer.next_observations[rows, envs]
    stored_reward = buffer.rewards[rows, envs]
    partials = [buffer.partials(row, env) for row, env in zip(rows, envs)]
    dobs = np.stack([p[0] for p in partials])
    dreward = np.stack([p[1] for p in partials])
    dreward_dnext = np.stack([p[2] for p in partials])

    observations = batch.observations.numpy()
    dcontext = observations[:, 4:] - stored_obs[:, 4:]
    np.testing.assert_allclose(np.linalg.norm(dcontext, axis=1), 0.1, rtol=1e-5)
    np.testing.assert_allclose(observations[:, :4], stored_obs[:, :4])
    shift = np.einsum("bij,bj->bi", dobs, dcontext)
    expected_reward = stored_reward + (dreward * dcontext).sum(1) + (dreward_dnext * shift).sum(1)
    np.testing.assert_allclose(batch.rewards.numpy().reshape(-1), expected_reward, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(batch.next_observations.numpy()[:, :4], stored_next[:, :4] + shift, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(batch.next_observations.numpy()[:, 4:], observations[:, 4:])
    assert np.abs(batch.rewards.numpy().reshape(-1) - stored_reward).max() > 1e-4  # CSE changed the rewards


def test_a_seeded_run_repeats_and_another_seed_differs():
    first, second, other = (_parameters(_model("cse", seed=seed, learn=800)) for seed in (3, 3, 4))
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert any(not torch.equal(first[name], other[name]) for name in first)


def test_interrupted_and_resumed_run_equals_the_uninterrupted_one(tmp_path):
    """Checkpointed at 600 env steps, after the target copy at 504: the copy's step travels with the model."""
    config = make_config("CartGoal", "cse", "authors", **SMALL)
    training.train(config, tmp_path / "whole", progress=False)
    with pytest.raises(training.TrainingInterrupted):
        training.train(config, tmp_path / "cut", progress=False, callback=SignalAt(600))
    result = training.train(config, tmp_path / "cut", progress=False)
    assert (result.resumed_from, result.num_timesteps) == (600, 1_200)
    assert training.load_model(tmp_path / "cut")[0]._last_target_update == 1_008
    assert_same_run(tmp_path / "whole", tmp_path / "cut")


def test_authors_profile_trains_through_the_package_train_path(tmp_path):
    """The authors' full-size CartGoal DQN with CSE, a tiny budget: trains, saves, loads, evaluates."""
    config = make_config("CartGoal", "cse", "authors", total_steps=1_600, checkpoint_every=800)
    result = training.train(config, tmp_path, progress=False)
    assert result.num_timesteps == 1_600
    model, loaded = training.load_model(tmp_path)
    assert loaded == config and isinstance(model, ContextDQN) and (model.double_q, model.dueling) == (True, True)
    assert model._n_updates == (1_600 - 1_000) // 8 and model.q_net.dueling
    saved = json.loads((tmp_path / "config.json").read_text())
    assert (saved["double_q"], saved["dueling"], saved["replay"], saved["head_arch"]) == (True, True, "prioritized", [256])
    returns = evaluate(tmp_path, points=2, episodes=1, write=False)["episode_return"]
    assert len(returns) > 0 and np.isfinite(returns).all()


def test_configs_without_the_dqn_fields_load_unchanged():
    """config.json files written before double_q, dueling and head_arch existed load and compare equal."""
    for task in TASKS:
        for profile in PROFILES:
            if (task, profile) == ("CartGoal", "authors"):
                continue
            config = make_config(task, "cse", profile)
            old = {key: value for key, value in config.to_json().items() if key not in ("double_q", "dueling", "head_arch")}
            assert TrainConfig.from_json(json.loads(json.dumps(old))) == config
    authors = make_config("CartGoal", "ldr", "authors")
    assert TrainConfig.from_json(json.loads(json.dumps(authors.to_json()))) == authors
    assert training.algorithm_class(authors) is ContextDQN
    assert training.algorithm_class(dataclasses.replace(authors, init="sb3", double_q=False, dueling=False, head_arch=(),
                                                   replay="uniform")) is not ContextDQN


@pytest.mark.parametrize("task, overrides, message", [
    ("PendulumGoal", dict(double_q=True), "double_q acts on DQN only"),
    ("PendulumGoal", dict(head_arch=(8,)), "head_arch acts on DQN only"),
    ("CartGoal", dict(dueling=True), "dueling needs the authors' DQN"),
    ("CartGoal", dict(replay="prioritized"), "replay needs the authors' DQN"),
    ("CartGoal", dict(init="authors", head_arch=(0,)), "head_arch must be positive"),
    ("CartGoal", dict(init="authors", double_q="yes"), "double_q must be true or false"),
])
def test_bad_dqn_options_are_one_line_errors(task, overrides, message):
    with pytest.raises(ConfigError, match=message) as error:
        make_config(task, "baseline", **overrides)
    assert "\n" not in str(error.value)


def test_context_dqn_rejects_non_boolean_flags():
    with pytest.raises(ConfigError, match="double_q and dueling must be True or False"):
        _tiny_model(double_q=1)
