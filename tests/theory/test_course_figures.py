"""The notebooks' figure helpers draw what they say: every curve from the data given, labelled, on the axes given."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from cebe_theory import cliffwalking, coefficient_sweep, default_lqr, log_grid, policy_transfer_over_grid, theorem3_sweep
from cebe_theory.course_figures import plot_bound_sweeps, plot_cliffwalking_grid, plot_coefficient_sweep, plot_transfer_grids
from cebe_theory.lqr import DEFAULT_CONTEXT0


def test_the_grid_shows_start_cliff_goal_and_one_row_of_t():
    cmdp = cliffwalking(5, 6, "inverse")
    ax = Figure().subplots()
    plot_cliffwalking_grid(ax, cmdp, context=[0.1], state=cmdp.state_index(1, 1), action=3)
    texts = [text.get_text() for text in ax.texts]
    assert texts.count("S") == 1 and texts.count("G") == 1 and texts.count("C") == cmdp.cols - 2
    # the four next states of "down" from above the first cliff cell: 0.9 into the cliff, p/3 = 0.0333 each other way
    assert sorted(text for text in texts if text.startswith("0.")) == ["0.0333", "0.0333", "0.0333", "0.9"]
    assert "down" in ax.get_title() and "p = 0.1" in ax.get_title()
    assert len(ax.patches) == cmdp.n_states + 1 + 4  # cells, the highlighted state, four arrows


def test_the_grid_alone_and_a_state_without_its_action_is_refused():
    cmdp = cliffwalking(3, 4, "constant")
    ax = Figure().subplots()
    plot_cliffwalking_grid(ax, cmdp)
    assert len(ax.patches) == cmdp.n_states
    with pytest.raises(ValueError, match="context and action"):
        plot_cliffwalking_grid(Figure().subplots(), cmdp, state=0)


def test_bound_sweeps_draw_measured_bound_and_ratio():
    checks = theorem3_sweep(cliffwalking(5, 6, "power"), [0.1], log_grid(-6.0, -2.0, 4), gamma=0.9)
    error_ax, ratio_ax = Figure().subplots(1, 2)
    plot_bound_sweeps(error_ax, ratio_ax, {"power": checks})
    measured, bound = error_ax.lines
    assert np.allclose(measured.get_ydata(), [check.measured for check in checks])
    assert np.allclose(bound.get_ydata(), [check.result.bound for check in checks])
    assert np.allclose(ratio_ax.lines[0].get_ydata(), [check.ratio for check in checks])
    assert [text.get_text() for text in error_ax.get_legend().get_texts()] == ["power: measured", "power: bound"]


def test_transfer_grids_draw_gap_allowance_and_ratio():
    grid = policy_transfer_over_grid(cliffwalking(5, 6, "inverse"), [0.1], [0.05, 0.15], 0.9)
    gap_ax, ratio_ax = Figure().subplots(1, 2)
    plot_transfer_grids(gap_ax, ratio_ax, {0.0: grid})
    assert np.allclose(gap_ax.lines[0].get_ydata(), [check.gap for check in grid.checks])
    assert np.allclose(gap_ax.lines[1].get_ydata(), [check.allowed for check in grid.checks])
    assert np.allclose(ratio_ax.lines[0].get_ydata(), [check.ratio for check in grid.checks])


def test_coefficient_sweep_draws_every_error_column_with_its_slope():
    sweep = coefficient_sweep(default_lqr(), DEFAULT_CONTEXT0, log_grid(-6.0, -2.0, 12))
    ax = Figure().subplots()
    plot_coefficient_sweep(ax, sweep)
    assert len(ax.lines) == 4
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert all(f"slope {sweep.slopes[column]:.3f}" in label for column, label in zip(sweep.slopes, labels, strict=True))


def test_estimator_sweeps_draw_each_estimator_per_direction_with_exact_ones_at_the_floor():
    from cebe_theory.course_figures import plot_estimator_sweeps
    from cebe_theory.stochastic_cse import ESTIMATORS, estimator_sweep, stochastic_cliffwalking

    cliff = stochastic_cliffwalking()
    dc = np.geomspace(1e-3, 5e-2, 4)
    sweeps = {name: estimator_sweep(cliff, [0.1, 0.0], dc, direction=direction, gamma=0.9)
              for name, direction in {"slip p": (1.0, 0.0), "reward b": (0.0, 1.0)}.items()}
    axes = Figure().subplots(1, 2, sharey=True)
    plot_estimator_sweeps(axes, sweeps, floor=1e-12)
    for ax, (name, sweep) in zip(axes, sweeps.items(), strict=True):
        assert name in ax.get_title() and len(ax.lines) == len(ESTIMATORS)
        for line, estimator in zip(ax.lines, ESTIMATORS, strict=True):
            assert line.get_label() == estimator
            assert np.allclose(line.get_ydata(), np.maximum(sweep.sup_error[estimator], 1e-12))
    assert [text.get_text() for text in axes[0].get_legend().get_texts()] == list(ESTIMATORS)
    assert "reward units" in axes[0].get_ylabel()
    with pytest.raises(ValueError, match="2 sweeps need as many axes"):
        plot_estimator_sweeps(Figure().subplots(), sweeps)
