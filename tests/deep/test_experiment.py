"""Runs: configs and profiles, training smoke tests per method, resumable checkpoints, evaluation grids,
the seed statistics (t-interval) and the sweep executors.  Budgets are tiny: these check the plumbing,
not learning (the reproduction lives in results/, not in tests)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from cebe_deep import experiment
from cebe_deep.experiment import ConfigError, TrainConfig, make_config
from cebe_deep.run import training

TINY = dict(total_steps=240, learning_starts=60, batch_size=16, net_arch=(8, 8), checkpoint_every=10_000)


@pytest.mark.parametrize("method", experiment.METHODS)
def test_training_smoke_each_method(tmp_path, method):
    config = make_config("SimpleDirection", method, **TINY)
    result = experiment.train(config, tmp_path / method, progress=False)
    assert result.num_timesteps == 240
    episodes = experiment.episode_log(tmp_path / method)  # SB3 Monitor's files
    assert len(episodes) == 24 and (episodes["l"] == 10).all()  # 10-step episodes
    table = experiment.evaluate(tmp_path / method, points=3, episodes=2)
    assert set(table.columns) >= {"task", "method", "seed", "sweep", "sweep_value", "context_0", "context_1",
                                  "episode", "episode_return"}
    assert len(table) == 2 * 3 * 2 and (table["method"] == method).all()


@pytest.mark.parametrize("mode", ["first_order", "exact"])
def test_training_smoke_pendulum_cse(tmp_path, mode):
    config = make_config("PendulumGoal", "cse", cse_mode=mode, cse_fraction=0.5, **{**TINY, "total_steps": 200})
    assert experiment.train(config, tmp_path, progress=False).num_timesteps == 200


def _crash_after_first_checkpoint(config, run_dir, monkeypatch) -> None:
    """Train ``config`` into ``run_dir`` until its first checkpoint is written, then fail (a simulated kill)."""
    real_save = training.save_checkpoint

    def save_then_crash(model, run_dir, elapsed=0.0):
        real_save(model, run_dir, elapsed)
        raise RuntimeError("simulated interruption")

    with monkeypatch.context() as patch:
        patch.setattr(training, "save_checkpoint", save_then_crash)
        with pytest.raises(RuntimeError, match="simulated"):
            experiment.train(config, run_dir, progress=False)


def test_interrupted_run_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    config = make_config("SimpleDirection", "cse", **{**TINY, "checkpoint_every": 100})
    _crash_after_first_checkpoint(config, tmp_path, monkeypatch)
    assert not (tmp_path / "model.zip").exists()
    result = experiment.train(config, tmp_path, progress=False)
    assert (result.resumed_from, result.num_timesteps) == (100, 240)
    # the episodes of the checkpoint (10 ended by step 100) and of the resumed segment (14 from step 100 to
    # 240), each logged once
    assert len(experiment.episode_log(tmp_path)) == 24
    # the final state is kept (a small buffer), so that a larger budget extends the run
    assert json.loads((tmp_path / "checkpoint" / "elapsed.json").read_text())["seconds"] == pytest.approx(result.seconds)
    # a finished run is not retrained
    assert experiment.train(config, tmp_path, progress=False).seconds == pytest.approx(result.seconds)


def test_a_run_killed_between_the_checkpoint_renames_resumes_from_the_previous_checkpoint(tmp_path, monkeypatch):
    # save_checkpoint renames checkpoint -> checkpoint.old, then checkpoint.tmp -> checkpoint: a kill in between
    # leaves the previous (complete) checkpoint as checkpoint.old and a new one that may be half written
    from cebe_deep.run.sweeps import plan_run

    config = make_config("SimpleDirection", "cse", **{**TINY, "checkpoint_every": 100})
    _crash_after_first_checkpoint(config, tmp_path, monkeypatch)
    (tmp_path / "checkpoint").rename(tmp_path / "checkpoint.old")
    (tmp_path / "checkpoint.tmp").mkdir()
    (tmp_path / "checkpoint.tmp" / "model.zip").write_bytes(b"half")
    assert plan_run(config, tmp_path) == ("resume", "from its last checkpoint at step 100 of 240, 42%")
    assert not (tmp_path / "checkpoint").exists()  # the plan touches nothing
    result = experiment.train(config, tmp_path, progress=False)
    assert (result.resumed_from, result.num_timesteps) == (100, 240)
    assert len(experiment.episode_log(tmp_path)) == 24 and not (tmp_path / "checkpoint.old").exists()


def test_a_run_killed_while_finishing_keeps_its_checkpoint_until_it_is_trained(tmp_path, monkeypatch):
    # a large replay buffer: the final state is not kept, the last checkpoint is removed, but only once the run
    # counts as trained (train_summary.json written); a kill before that resumes from the last checkpoint
    config = make_config("SimpleDirection", "cse", **{**TINY, "checkpoint_every": 100})
    monkeypatch.setattr(training, "KEEP_REPLAY_BYTES", 0)
    real_log = training.episode_log
    monkeypatch.setattr(training, "episode_log", lambda run_dir: (_ for _ in ()).throw(RuntimeError("simulated kill")))
    with pytest.raises(RuntimeError, match="simulated"):
        experiment.train(config, tmp_path, progress=False)
    assert (tmp_path / "model.zip").exists() and not training.is_trained(tmp_path)
    monkeypatch.setattr(training, "episode_log", real_log)
    result = experiment.train(config, tmp_path, progress=False)
    assert (result.resumed_from, result.num_timesteps) == (200, 240)
    assert training.is_trained(tmp_path) and training.latest_checkpoint(tmp_path) is None


def test_run_directory_refuses_a_different_config(tmp_path):
    experiment.train(make_config("SimpleDirection", "baseline", **TINY), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="different config"):
        experiment.train(make_config("SimpleDirection", "baseline", **{**TINY, "seed": 1}), tmp_path, progress=False)


def test_profiles_and_validation():
    quick, authors = make_config("PendulumGoal", "cse"), make_config("PendulumGoal", "cse", profile="authors")
    assert quick.total_steps < authors.total_steps and authors.net_arch == (256, 256) and authors.eps == 0.1
    # docs/authors_protocol.md: 1,000 iterations x 107 env steps, 8 envs, one update per vector step, per-network rates
    assert (authors.total_steps, authors.n_envs, authors.gradient_steps, authors.train_freq) == (107_000, 8, 1, 1)
    assert (authors.actor_learning_rate, authors.critic_learning_rate, authors.entropy_learning_rate) == (2e-4, 8e-4, 9e-4)
    assert (authors.replay, authors.priority_alpha, authors.priority_beta, authors.buffer_size) == (
        "prioritized",
        1.0,
        0.0,
        100_000,
    )
    assert TrainConfig.from_json(json.loads(json.dumps(authors.to_json()))) == authors
    for bad, message in [
        (dict(task="Nope"), "unknown task"),
        (dict(method="nope"), "unknown method"),
        (dict(eps=0.0), "eps must be > 0"),
        (dict(eps=-1.0), "eps must be > 0"),
        (dict(profile="huge"), "unknown profile"),
        (dict(context=(5.0, 0.0)), "outside the task's box"),
        (dict(perturbation="cube"), "unknown perturbation"),
    ]:
        arguments = dict(task="SimpleDirection", method="cse") | bad
        with pytest.raises(ValueError, match=message):
            make_config(**arguments)


def test_context_grid_covers_each_coordinate_and_respects_task_constraints():
    grid = experiment.context_grid("PendulumGoal", points=5)
    assert sorted(set(grid["sweep"])) == ["context_0", "context_1", "context_2", "context_3"]
    c0 = (2.0, 1.0, 1.0, 0.0)
    for _, part in grid.groupby("sweep"):
        assert c0 in set(part["context"])  # c0 is on every sweep
    for context in grid["context"]:
        g, m, l, tau = context
        assert abs(tau) < m * g * l
    simple = experiment.context_grid("SimpleDirection", points=5, span=0.5)
    assert simple["sweep_value"].min() == -0.5 and simple["sweep_value"].max() == 0.5


def test_context_grid_keeps_box_edges_that_rounding_would_push_outside():
    # The point mass's box edges 0.312510460251046 and 2.0000000000006 round (12 decimals) to just outside the box;
    # both edges must be on the mass sweep (before the fix, the grid dropped them as invalid contexts).
    grid = experiment.context_grid("tests.deep.point_mass_task:make_odd_box_point_mass", points=3)
    masses = grid.loc[grid["sweep"] == "context_0", "sweep_value"]
    assert len(masses) == 4  # the 3 points and c0 = 1
    assert masses.min() == pytest.approx(0.312510460251046, abs=1e-12)
    assert masses.max() == pytest.approx(2.0000000000006, abs=1e-12)
    assert masses.min() >= 0.312510460251046 and masses.max() <= 2.0000000000006


def test_t_interval_by_hand():
    # values 1, 2, 3: mean 2, sample sd 1, t_{0.975, 2} = 4.302653 -> half width 4.302653 / sqrt(3) = 2.48414
    mean, low, high = experiment.t_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0
    assert high - mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert mean - low == pytest.approx(high - mean)


def test_summary_and_comparison_by_hand():
    # two seeds per method, one context 0.5 away from c0 = (0, 0), two episodes each
    rows = []
    for method, per_seed in {"baseline": (-10.0, -10.0), "cse": (-6.0, -8.0), "ldr": (-8.0, -6.0)}.items():
        for seed, value in enumerate(per_seed):
            for episode in range(2):
                rows.append(dict(task="SimpleDirection", method=method, seed=seed, sweep="context_0", sweep_value=0.5,
                                 context_0=0.5, context_1=0.0, episode=episode, episode_return=value + (episode - 0.5)))
    summary = experiment.summarize(pd.DataFrame(rows))
    assert summary.set_index("method").loc["cse", "mean_return"] == pytest.approx(-7.0)
    comparison = experiment.compare_methods(summary, (0.0, 0.0), eps=0.1)
    row = comparison.iloc[0]
    assert row["away_from_c0"] and row["relative_improvement"] == pytest.approx(0.3)  # (-7 - -10) / 10
    assert row["cse_within_ldr_ci"]


def test_sweep_runs_in_worker_processes_and_keeps_finished_runs(tmp_path):
    configs = [make_config("SimpleDirection", method, seed=seed, **TINY) for method in ("baseline", "cse") for seed in (0, 1)]
    with experiment.LocalExecutor(2) as executor:
        table = experiment.sweep(configs, tmp_path, executor, points=2, episodes=2, progress=False)
    assert sorted(set(zip(table["method"], table["seed"]))) == [("baseline", 0), ("baseline", 1), ("cse", 0), ("cse", 1)]
    assert (tmp_path / "SimpleDirection" / "evaluation.csv").exists()
    stamp = (tmp_path / "SimpleDirection" / "cse" / "seed0" / "model.zip").stat().st_mtime
    experiment.sweep(configs[2:3], tmp_path, experiment.SerialExecutor(), points=2, episodes=2, progress=False)
    assert (tmp_path / "SimpleDirection" / "cse" / "seed0" / "model.zip").stat().st_mtime == stamp


def test_a_failing_run_does_not_stop_the_sweep(tmp_path, capsys):
    good = make_config("SimpleDirection", "baseline", **TINY)
    bad_dir = experiment.run_dir_for(tmp_path, make_config("SimpleDirection", "cse", **TINY))
    bad_dir.mkdir(parents=True)
    (bad_dir / "config.json").write_text(json.dumps(make_config("SimpleDirection", "cse", **{**TINY, "eps": 0.2}).to_json()))
    table = experiment.sweep([good, make_config("SimpleDirection", "cse", **TINY)], tmp_path, experiment.SerialExecutor(),
                             points=2, episodes=1, progress=False)
    assert set(table["method"]) == {"baseline"}
    assert "different config" in capsys.readouterr().out


@pytest.mark.parametrize("task", ["CheetahVelocity", "AntDirection"])
def test_authors_profile_starts_and_checkpoints_on_mujoco_tasks(tmp_path, task, monkeypatch):
    """The authors' profile (8 envs, 256x256 SAC, prioritized replay, eps 0.1) starts on the MuJoCo tasks,
    writes a resumable checkpoint and resumes from it (budget cut to a few steps here; full runs are not tests)."""
    config = make_config(task, "cse", profile="authors", total_steps=160, learning_starts=40, batch_size=16,
                         checkpoint_every=80)
    assert config.net_arch == (256, 256) and config.n_envs == 8
    real_save = training.save_checkpoint

    def save_then_crash(model, run_dir, elapsed=0.0):
        real_save(model, run_dir, elapsed)
        raise RuntimeError("simulated interruption")

    monkeypatch.setattr(training, "save_checkpoint", save_then_crash)
    with pytest.raises(RuntimeError):
        experiment.train(config, tmp_path, progress=False)
    monkeypatch.setattr(training, "save_checkpoint", real_save)
    result = experiment.train(config, tmp_path, progress=False)
    assert (result.resumed_from, result.num_timesteps) == (80, 160)


def test_any_concurrent_futures_executor_plugs_in(tmp_path):
    """The sweep needs only ``submit(fn, *args) -> Future``: a thread pool stands in here for a cluster
    engine's executor (Ray's ``RayExecutor`` adapter, Dask, ...), with no change to experiment code."""
    import concurrent.futures

    configs = [make_config("SimpleDirection", "baseline", seed=seed, **TINY) for seed in (0, 1)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        table = experiment.sweep(configs, tmp_path, executor, points=2, episodes=1, progress=False)
    assert sorted(set(table["seed"])) == [0, 1]


def test_ray_backend_is_optional(monkeypatch):
    """Without ray installed, --backend ray is a clear input error (ray is simulated missing here, so the
    check runs whether or not ray is installed); an unknown backend is refused too."""
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ConfigError, match="pip install ray"):
        experiment.make_executor("ray")
    monkeypatch.setattr(builtins, "__import__", real_import)
    with pytest.raises(ConfigError, match="unknown backend"):
        experiment.make_executor("mpi")


def test_sweep_on_a_local_ray_instance(tmp_path):
    """A tiny sweep through RayExecutor on a local Ray instance, so the distributed path cannot rot (needs the
    ``ray`` extra, which the README's test command and CI install; skipped without it)."""
    ray = pytest.importorskip("ray")
    import tempfile

    # Ray's socket paths must stay under 107 bytes: a short folder of its own, not pytest's deep temp path
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, _node_ip_address="127.0.0.1",
             _temp_dir=tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    try:
        configs = [make_config("SimpleDirection", method, seed=0, **TINY) for method in ("baseline", "cse")]
        table = experiment.sweep(configs, tmp_path, experiment.make_executor("ray"), points=2, episodes=1,
                                 progress=False)
        assert sorted(set(table["method"])) == ["baseline", "cse"]
        assert all((tmp_path / "SimpleDirection" / method / "seed0" / "model.zip").exists() for method in ("baseline", "cse"))
    finally:
        ray.shutdown()


@pytest.mark.parametrize("mode", ["first_order", "exact"])
def test_dqn_with_cse_on_cart_goal(tmp_path, mode):
    """Discrete actions: the CSE buffer plugs into DQN the same way (exact mode passes integer actions)."""
    from stable_baselines3 import DQN

    config = make_config("CartGoal", "cse", cse_mode=mode, **TINY)
    experiment.train(config, tmp_path, progress=False)
    model, _ = experiment.load_model(tmp_path)
    assert isinstance(model, DQN)
