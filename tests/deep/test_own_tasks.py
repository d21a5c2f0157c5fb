"""Own tasks through ``make_task`` and ``cebe-deep --task``: a registered Gymnasium id or ``module:callable``
(:mod:`cebe_deep.tasks.sources`), with the hand-written point mass of ``tests/deep/point_mass_task.py``."""

from __future__ import annotations

import json
import sys
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest

from cebe_deep.cli import main
from cebe_deep.run.config import make_config
from cebe_deep.tasks import TaskSourceError, check_jacobians, make_task, task_folder

HELPER = "tests.deep.point_mass_task"
TINY = ["--steps", "300", "--learning-starts", "100", "--batch-size", "32", "--net", "16,16"]


@pytest.mark.parametrize("source", [f"{HELPER}:make_point_mass", f"{HELPER}:PointMass-v0", f"{HELPER}:make_without_keywords"])
def test_the_three_forms_build_the_task_at_the_context_with_its_time_limit(source):
    env = make_task(source, context=[1.5, 0.2])
    task = env.unwrapped
    assert type(task).__name__ == "PointMass" and task.context.tolist() == [1.5, 0.2] and task.mass == 1.5
    env.reset(seed=0)
    for step in range(1, 100):  # noqa: B007 - the step count is checked after the loop
        *_, terminated, truncated, info = env.step(np.array([0.5]))
        if truncated:
            break
    assert step == 20 and set(info) >= {"dobs_dcontext", "dreward_dcontext", "dreward_dnextobs"}
    assert check_jacobians(env, steps=10).passed()


def test_a_plain_registered_id_works_once_registered():
    """``PointMass-v0`` is registered when its module is imported (here by the import below); ``cebe/...-v0``, the
    built-in tasks' own ids, are ids of contextual tasks as well."""
    import tests.deep.point_mass_task  # noqa: F401 - registers PointMass-v0

    assert make_task("PointMass-v0", context=[0.7, -0.3]).unwrapped.context.tolist() == [0.7, -0.3]
    assert make_config("PointMass-v0", "cse", total_steps=300).task == "PointMass-v0"
    env = make_task("cebe/SimpleDirection-v0", context=[0.5, 0.5])
    assert type(env.unwrapped).__name__ == "SimpleDirection" and env.unwrapped.context.tolist() == [0.5, 0.5]


def test_jacobians_off_where_the_constructor_takes_the_keyword():
    env = make_task(f"{HELPER}:make_point_mass", jacobians=False)
    env.reset(seed=0)
    assert "dobs_dcontext" not in env.step(np.array([0.5]))[-1]


@pytest.mark.parametrize(
    "source, words",
    [
        ("nosuchmodule_xyz:make", ["cannot import module 'nosuchmodule_xyz'", "ModuleNotFoundError"]),
        (f"{HELPER}:not_a_task", ["not_a_task", "PendulumEnv", "not a contextual task", "state_dim"]),
        (f"{HELPER}:not_an_env", ["returned int, not a Gymnasium environment"]),
        (f"{HELPER}:broken", ["building the environment failed", "RuntimeError: the simulator licence expired"]),
        (f"{HELPER}:nothing", ["has no callable and registered no Gymnasium id named 'nothing'"]),
        (f"{HELPER}:", ["needs both parts"]),
        ("Pendulum-v1", ["PendulumEnv", "not a contextual task"]),
        ("Nope", ["unknown task 'Nope'; known tasks: SimpleDirection", "module:callable"]),
    ],
)
def test_a_bad_source_is_one_line_in_python_and_exit_2_at_the_command_line(source, words, capsys, tmp_path, monkeypatch):
    with pytest.raises(TaskSourceError) as error:
        make_task(source)
    assert "\n" not in str(error.value) and all(word in str(error.value) for word in words), error.value
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--task", source, "--method", "cse", "--steps", "10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cebe-deep: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert all(word in err for word in words), err
    assert not any(tmp_path.iterdir())  # refused before a run directory was made


def test_a_constructor_without_jacobians_is_refused_when_cse_needs_them(tmp_path, monkeypatch):
    module = _module_in(tmp_path, monkeypatch, "from tests.deep.point_mass_task import PointMass\n\n"
                                               "def make():\n    return PointMass(jacobians=False)\n")
    assert make_task(f"{module}:make", jacobians=False).unwrapped.jacobians is False
    with pytest.raises(TaskSourceError, match="reports no Jacobians .* takes no jacobians keyword; CSE needs them"):
        make_task(f"{module}:make")


def _module_in(folder, monkeypatch, text: str) -> str:
    """A module of a fresh name in ``folder``, which becomes the current directory (``sys.path`` restored after)."""
    name = f"own_task_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(text)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(folder)
    return name


def test_the_module_is_found_in_the_current_directory(tmp_path, monkeypatch):
    module = _module_in(tmp_path, monkeypatch, "from tests.deep.point_mass_task import make_point_mass as make\n")
    assert str(tmp_path) not in sys.path
    assert make_task(f"{module}:make").unwrapped.context_names == ("mass", "target")


def test_a_task_whose_jacobians_stay_zero_gets_a_warning():
    """The watch a run puts around an own task: pushed with no force, the mass has no effect, so its Jacobians are
    zero at every step and the warning names it (the target's reward entry is not zero)."""
    env = make_task(f"{HELPER}:make_point_mass")
    env.reset(seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(10):
            env.step(np.array([0.0]))  # no force: the mass column is zero, the target's reward entry is not
    assert [str(w.message) for w in caught if "were zero" in str(w.message)] == [
        "PointMass: the context Jacobians of mass (coordinate 0) were zero at each of the first 10 steps: the step does "
        "not depend on it there (a set_context that does not write it, a step that never reads it, or a model parameter "
        "no contact uses); CSE would only relabel the context"]


def test_the_config_checks_an_own_task_as_a_built_in_one():
    source = f"{HELPER}:make_point_mass"
    assert make_config(source, "cse", total_steps=300).task == source
    for overrides, message in [(dict(dimension=3), "only SimpleDirection has a dimension"),
                               (dict(dynamics="odd"), "has no dynamics variants"),
                               (dict(context=(5.0, 0.0)), "outside the task's box"),
                               (dict(cse_mode="exact"), "no closed-form simulate")]:
        with pytest.raises(ValueError, match=message):
            make_config(source, "cse", **overrides)


def test_settings_of_a_built_in_task_for_an_own_task(capsys):
    """``settings_of``: an own task trained with a built-in task's settings of the profile (recorded in the config);
    a name the profile has no settings for is one line naming the allowed ones, and exit 2 at the command line."""
    from cebe_deep.run.profiles import PROFILE_SETTINGS

    source = f"{HELPER}:make_point_mass"
    config = make_config(source, "cse", "authors", settings_of="CheetahVelocity", eps=0.05)
    cheetah = make_config("CheetahVelocity", "cse", "authors")
    learner_fields = set(PROFILE_SETTINGS["authors"]["CheetahVelocity"])
    assert learner_fields >= {"total_steps", "n_envs", "replay", "actor_learning_rate", "learning_starts"}
    assert {field: getattr(config, field) for field in learner_fields} == {
        field: getattr(cheetah, field) for field in learner_fields}
    assert config.settings_of == "CheetahVelocity" and config.task == source and config.eps == 0.05
    assert make_config(source, "cse", "authors").total_steps != cheetah.total_steps  # without it: the defaults
    with pytest.raises(ValueError, match="settings_of 'Cheetah': the authors profile has settings for SimpleDirection"):
        make_config(source, "cse", "authors", settings_of="Cheetah")
    assert main(["train", "--task", source, "--method", "cse", "--profile", "authors", "--settings-of", "Cheetah"]) == 2
    assert "--settings-of 'Cheetah': the authors profile has settings for" in capsys.readouterr().err


def test_task_folders():
    assert task_folder("PendulumGoal") == "PendulumGoal"
    assert task_folder("my_tasks:make_env") == "my_tasks__make_env"
    assert task_folder("cebe/PendulumGoal-v0") == "cebe__PendulumGoal-v0"


def test_own_task_end_to_end_sweep_resume_evaluate_summarize(tmp_path, monkeypatch, capsys):
    """The point mass from a module in the current directory: a sweep trains baseline and CSE a few hundred steps
    and evaluates them, the CSE run is extended (resumed), evaluated again, and the table summarized."""
    module = _module_in(tmp_path, monkeypatch, "from tests.deep.point_mass_task import make_point_mass\n")
    source = f"{module}:make_point_mass"
    common = ["--task", source, *TINY]
    assert main(["sweep", *common, "--methods", "baseline,cse", "--seeds", "1", "--backend", "serial",
                 "--points", "3", "--episodes", "2", "--root", "runs", "--results", "results"]) == 0
    run = tmp_path / "runs" / task_folder(source) / "cse" / "seed0"
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == source and config["method"] == "cse"
    table = pd.read_csv(tmp_path / "results" / "evaluation.csv")
    assert set(table["task"]) == {source} and set(table["method"]) == {"baseline", "cse"}
    assert (tmp_path / "results" / "sweep.png").stat().st_size > 10_000
    capsys.readouterr()
    assert main(["train", *common, "--steps", "400", "--method", "cse", "--out", str(run), "--no-progress"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["num_timesteps"] == 400 and trained["resumed_from"] == 300
    assert main(["evaluate", str(run), "--points", "3", "--episodes", "2", "--out", "cse.csv"]) == 0
    assert set(pd.read_csv(tmp_path / "cse.csv")["task"]) == {source}
    assert main(["summarize", "results/evaluation.csv"]) == 0
    out = capsys.readouterr().out
    assert "Verdict over the" in out and "cse - baseline" in out
    # The protocol's verdicts need the task's reference return U: asked for in one line, then taken from --reference.
    assert main(["report", "protocol", "results", "--compact", "--resamples", "200"]) == 2
    assert "pass --reference U" in capsys.readouterr().err
    assert main(["report", "protocol", "results", "--compact", "--resamples", "200", "--reference", "0"]) == 0
    assert "| results | 1 (< 10) |" in capsys.readouterr().out


def test_the_interface_names_of_earlier_versions_still_work():
    """A subclass written against the private names (``_init_context``, ``_observation_space``, ``_observation``,
    ``_reset_info``, ``_box_action``, the hooks ``_apply_context``, ``_check_context_constraints``) behaves as one
    written against the public ones."""
    from gymnasium import spaces

    from cebe_deep.tasks import ContextualEnv

    class OldStyle(ContextualEnv):
        state_dim, context_dim, context_names = 1, 1, ("gain",)
        context_low, context_high, default_context, max_episode_steps = np.array([0.0]), np.array([2.0]), np.array([1.0]), 5

        def __init__(self, context=None, jacobians=True):
            self.action_space = spaces.Box(-1.0, 1.0, shape=(1,))
            self.observation_space = self._observation_space(-np.inf, np.inf)
            self.applied = []
            self._init_context(context, jacobians)

        def _apply_context(self, context):
            self.applied.append(float(context[0]))

        def _check_context_constraints(self, context):
            if context[0] == 1.5:
                raise ValueError("1.5 is not allowed")

        def reset(self, *, seed=None, options=None):
            return self._observation([0.0]), self._reset_info()

        def step(self, action):
            value = float(self._box_action(action, self.action_space)[0]) * self.context[0]
            return self._observation([value]), value, False, False, {}

    env = OldStyle(context=[0.5])
    env.set_context([2.0])
    assert env.applied == [0.5, 2.0] and env.jacobians is True
    assert env.reset()[0].tolist() == [0.0, 2.0] and set(env.reset()[1]) == {"dobs_dcontext", "dreward_dcontext",
                                                                              "dreward_dnextobs"}
    assert env.step(np.array([3.0]))[1] == 2.0  # clipped to 1, times the gain
    with pytest.raises(ValueError, match="1.5 is not allowed"):
        env.set_context([1.5])
    assert env.observation_space.shape == (2,) and env.build_observation_space(0, 1).low.tolist() == [0.0, 0.0]


def test_own_task_in_a_sweep_of_worker_processes(tmp_path):
    """As a user runs it: `cebe-deep sweep --task my_tasks:make --workers 2` from the folder holding my_tasks.py,
    the default process executor; each worker process imports the module again from that folder."""
    import subprocess
    from pathlib import Path

    repository = Path(__file__).resolve().parents[2]
    (tmp_path / "my_tasks.py").write_text(f"import sys\nsys.path.insert(0, {str(repository)!r})\n"
                                          "from tests.deep.point_mass_task import make_point_mass as make\n")
    completed = subprocess.run([sys.executable, "-m", "cebe_deep", "sweep", "--task", "my_tasks:make", *TINY,
                                "--methods", "baseline,cse", "--seeds", "1", "--workers", "2", "--points", "3",
                                "--episodes", "2", "--root", "runs", "--results", "results"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    table = pd.read_csv(tmp_path / "results" / "evaluation.csv")
    assert set(table["task"]) == {"my_tasks:make"} and set(table["method"]) == {"baseline", "cse"}
    assert (tmp_path / "runs" / "my_tasks__make" / "cse" / "seed0" / "model.zip").exists()


def test_report_differences_simulates_the_zero_action_where_the_runs_were_evaluated(tmp_path, capsys):
    """A context at the box edge of an own task (HalfCheetah's torso mass at 3.12510 kg, 50% of c0) is shown as 3.125
    but simulated at its own value: rounded first, it would lie outside the box and the table would fail."""
    from cebe_deep.report import tables
    from cebe_deep.tasks.mujoco_examples import half_cheetah_torso_mass

    task = "cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass"
    low, c0 = float(half_cheetah_torso_mass().unwrapped.context_low[0]), 6.25020920502092
    assert round(low, 3) < low  # the case: rounding leaves the box
    rows = [dict(task=task, method=method, seed=seed, run=f"r/{method}/{seed}", sweep="context_0", sweep_value=mass,
                 context_0=mass, episode=episode, episode_return=100.0 * seed + episode + (5.0 if method == "cse" else 0))
            for method in ("baseline", "cse", "ldr") for seed in range(3) for mass in (low, c0) for episode in range(2)]
    folder = tmp_path / "mine"
    pd.DataFrame(rows).to_csv(tmp_path / "evaluation.csv", index=False)
    assert main(["summarize", str(tmp_path / "evaluation.csv"), "--results", str(folder), "--eps", "0.625"]) == 0
    capsys.readouterr()
    tables.differences(folder, zero_episodes=1)
    edge = [line for line in capsys.readouterr().out.splitlines() if "(3.125,)" in line]
    assert len(edge) == 1
    zero = float(edge[0].split(" | ")[6])
    assert zero == round(tables.zero_action_mean(task, (low,), 1), 1)
    assert edge[0].count("| +5.0 [") == 2  # CSE - SAC and CSE - LDR: 5 at every seed


def test_an_own_tasks_figures_name_it_by_its_callable_so_the_title_fits():
    # The stress test's sweep.png cut its title at both edges: "cebe_deep.tasks.mujoco_examples:half_cheetah_..."
    from cebe_deep.report.plots import plot_context_sweeps

    task = "cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass"
    rows = [dict(task=task, method=method, seed=seed, run="r", sweep="context_0", sweep_value=mass, context_0=mass,
                 episode=0, episode_return=float(seed)) for method in ("baseline", "cse") for seed in range(2)
            for mass in (4.0, 6.25, 8.0)]
    figure = plot_context_sweeps(pd.DataFrame(rows), [6.25], 0.625)
    title = figure._suptitle.get_text()
    assert title.startswith("half_cheetah_torso_mass: mean return") and "cebe_deep" not in title
    renderer = figure.canvas.get_renderer()
    box = figure._suptitle.get_window_extent(renderer)
    assert 0 <= box.x0 and box.x1 <= figure.bbox.width  # inside the figure


def test_an_own_tasks_training_figure_keeps_its_title_inside():
    from cebe_deep.report.curves import plot_training_curves

    task = "cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass"
    curves = pd.DataFrame([dict(task=task, method=method, seed=seed, run="r", budget=100, bin=k, env_steps=10.0 * (k + 1),
                                episodes=1, **{"return": float(k + seed)})
                           for method in ("baseline", "cse", "ldr") for seed in range(2) for k in range(5)])
    figure = plot_training_curves(curves)
    title = figure.axes[0].title
    assert title.get_text().startswith("half_cheetah_torso_mass: return of the training episodes")
    box = title.get_window_extent(figure.canvas.get_renderer())
    assert 0 <= box.x0 and box.x1 <= figure.bbox.width


def test_figures_mark_the_training_ball_the_staged_runs_trained_with(tmp_path, monkeypatch):
    """`cebe-deep figures --results results` (the README's command) redrew the stress test's sweep.png with the
    default ball 0.1 over runs trained at eps 0.625; it now takes the radius the folder's staged runs recorded,
    and an explicit --eps still wins."""
    import json

    from cebe_deep.report import plots

    drawn = []
    monkeypatch.setattr(plots, "plot_context_sweeps", lambda table, c0, eps, out, names: drawn.append(eps))
    task = "cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass"
    for name, radius in (("mine", 0.625), ("plain", None)):
        folder = tmp_path / "results" / name
        folder.mkdir(parents=True)
        pd.DataFrame([dict(task=task, method="cse", seed=0, run="r", sweep="context_0", sweep_value=mass, context_0=mass,
                           episode=0, episode_return=1.0) for mass in (4.0, 6.25020920502092)]).to_csv(
            folder / "evaluation.csv", index=False)
        if radius is not None:
            (folder / "staged" / "cse" / "seed0").mkdir(parents=True)
            (folder / "staged" / "cse" / "seed0" / "config.json").write_text(json.dumps({"eps": radius}))
    assert main(["figures", "--results", str(tmp_path / "results")]) == 0
    assert drawn == [0.625, 0.1]  # mine (its staged runs' radius), plain (the default)
    assert main(["figures", "--results", str(tmp_path / "results"), "--eps", "0.3"]) == 0
    assert drawn[2:] == [0.3, 0.3]
