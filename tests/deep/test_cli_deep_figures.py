"""`cebe-deep figures` redraws every committed sweep figure from its evaluation CSV (the README's main job)."""

import shutil
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "results"


def _run(*args):
    return subprocess.run([sys.executable, "-m", "cebe_deep", *args], capture_output=True, text=True)


def test_figures_redraws_each_task_folder(tmp_path):
    source = RESULTS / "quick" / "SimpleDirection" / "evaluation.csv"
    (tmp_path / "SimpleDirection").mkdir()
    shutil.copy(source, tmp_path / "SimpleDirection" / "evaluation.csv")
    result = _run("figures", "--results", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "SimpleDirection" / "sweep.png").stat().st_size > 10_000
    assert not (tmp_path / "SimpleDirection" / "training.png").exists()  # no training_curves.csv there


def test_figures_redraws_the_training_curves_too(tmp_path):
    folder = tmp_path / "authors" / "CartGoal"
    folder.mkdir(parents=True)
    shutil.copy(RESULTS / "authors" / "CartGoal" / "training_curves.csv", folder)
    result = _run("figures", "--results", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (folder / "training.png").stat().st_size > 10_000 and str(folder / "training.png") in result.stdout
    (folder / "training_curves.csv").write_text("x,y\n1,2\n")
    result = _run("figures", "--results", str(tmp_path))
    assert result.returncode == 2 and "not a curves CSV" in result.stderr and result.stderr.count("\n") == 1


def test_figures_without_results_is_a_one_line_error(tmp_path):
    result = _run("figures", "--results", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no */evaluation.csv" in result.stderr


def test_every_task_names_its_context_axes_with_units():
    from cebe_deep.tasks import TASKS

    for name, task_class in TASKS.items():
        task = task_class()  # SimpleDirection names its coordinates per instance (its dimension)
        try:
            assert len(task.context_labels) == task.context_dim == len(task_class.context_labels), name
            assert all(label.endswith(")") and "(" in label for label in task.context_labels), name  # "... (unit)"
        finally:
            task.close()


def test_sweep_figure_fits_a_slide():
    # PendulumGoal's four sweeps: a 2 x 2 grid, axes named with units, no text under 12 pt (legend included).
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.text import Text

    from cebe_deep.report.plots import plot_context_sweeps
    from cebe_deep.tasks import PendulumGoal

    table = pd.read_csv(RESULTS / "quick" / "PendulumGoal" / "evaluation.csv")
    figure = plot_context_sweeps(table, PendulumGoal.default_context, 0.1, context_names=PendulumGoal.context_names)
    try:
        visible = [axis for axis in figure.axes if axis.get_visible()]
        assert len(visible) == 4 and visible[0].get_gridspec().ncols == 2
        assert [axis.get_xlabel() for axis in visible] == list(PendulumGoal.context_labels)
        figure.canvas.draw()
        sizes = [text.get_fontsize() for text in figure.findobj(Text) if text.get_visible() and text.get_text()]
        assert sizes and min(sizes) >= 12
    finally:
        plt.close(figure)


def test_named_contexts_figure_has_one_group_per_context(tmp_path):
    """The authors' test contexts: one tick per context, named by its coordinates, one marker series per method."""
    import pandas as pd

    from cebe_deep.report.plots import plot_named_contexts

    rows = []
    for method in ("baseline", "cse"):
        for seed in range(3):
            for index, context in enumerate([(0.0, 0.0), (0.8, 0.8), (-0.8, 0.8)]):
                rows.append(dict(task="SimpleDirection", method=method, seed=seed, sweep="authors", sweep_value=float(index),
                                 context_0=context[0], context_1=context[1], episode=0, episode_return=index + seed))
    table = pd.DataFrame(rows)
    figure = plot_named_contexts(table)
    axis = figure.axes[0]
    labels = [tick.get_text() for tick in axis.get_xticklabels()]
    assert labels == ["#0\n0, 0", "#1\n0.8, 0.8", "#2\n-0.8, 0.8"]
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["SAC (baseline)", "SAC + CSE"]
    assert plot_named_contexts(table.assign(sweep="context_0")) is None  # no such family: no figure
    plot_named_contexts(table, path=tmp_path / "named.png")
    assert (tmp_path / "named.png").stat().st_size > 10_000


def test_figures_name_the_learner_the_task_trains_with():
    """CartGoal's actions are discrete, so training trains DQN there: its figures must not say SAC."""
    import pandas as pd
    from stable_baselines3 import DQN

    from cebe_deep.report.curves import plot_training_curves
    from cebe_deep.report.plots import plot_context_sweeps, plot_named_contexts
    from cebe_deep.run import training
    from cebe_deep.run.config import make_config

    assert training.algorithm_class(make_config("CartGoal", "cse")) is DQN
    assert training.algorithm_class(make_config("PendulumGoal", "cse")) is not DQN
    rows = [dict(task="CartGoal", method=method, seed=seed, sweep=sweep, sweep_value=value, context_0=value,
                 context_1=0.1, episode=0, episode_return=value + seed)
            for method in ("baseline", "cse") for seed in range(2) for sweep in ("authors", "context_0")
            for value in (0.0, 1.0)]
    table = pd.DataFrame(rows)
    named = plot_named_contexts(table)
    assert [text.get_text() for text in named.axes[0].get_legend().get_texts()] == ["DQN (baseline)", "DQN + CSE"]
    sweeps = plot_context_sweeps(table, [10.0, 0.1, 1.0, 0.5, 0.0], 0.1)
    legend = [text.get_text() for text in sweeps.legends[0].get_texts()]
    assert {"DQN (baseline)", "DQN + CSE"} <= set(legend) and not any("SAC" in text for text in legend)
    curves = pd.DataFrame([dict(task="CartGoal", method=method, seed=seed, run=f"{method}{seed}", budget=10, bin=0,
                                env_steps=10, episodes=1, **{"return": 1.0 + seed}) for method in ("baseline", "cse")
                           for seed in range(2)])
    labels = [text.get_text() for text in plot_training_curves(curves).axes[0].get_legend().get_texts()]
    assert labels == ["DQN (baseline), 2 seeds", "DQN + CSE, 2 seeds"]
    assert plot_training_curves(curves.assign(task="PendulumGoal")).axes[0].get_legend().get_texts()[0].get_text() \
        == "SAC (baseline), 2 seeds"
