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

    from cebe_deep.plots import plot_context_sweeps
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
