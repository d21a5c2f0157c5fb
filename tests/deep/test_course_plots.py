"""The error-order figure of notebook 04 draws what it is given: one labelled curve per entry, zeros at the
floor, the reference slope and the marked step where asked."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from cebe_deep.report.plots import plot_error_orders


def test_error_orders_draw_each_curve_the_reference_slope_and_the_floor():
    sizes = np.logspace(-4, 0, 5)
    errors = {"dc in mass": 0.02 * sizes**2, "dc in goal": np.zeros(5)}
    ax = Figure().subplots()
    plot_error_orders(ax, sizes, errors, xlabel="|dc|", ylabel="error", title="reward", floor=1e-17)
    mass, goal, reference = ax.lines
    assert mass.get_label() == "dc in mass" and np.allclose(mass.get_ydata(), 0.02 * sizes**2)
    assert np.allclose(goal.get_ydata(), 1e-17)  # an exact curve sits at the floor of the log axis
    assert np.allclose(reference.get_ydata(), 1e-2 * sizes**2) and "slope 2" in reference.get_label()
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("|dc|", "error", "reward")


def test_error_orders_mark_a_step_without_a_reference_slope():
    steps = np.logspace(-9, -1, 9)
    ax = Figure().subplots()
    plot_error_orders(ax, steps, {"d/d mass": np.abs(np.log10(steps) + 5) * 1e-6}, slope=None, mark=1e-5,
                      mark_label="package's step")
    curve, marker = ax.lines
    assert np.allclose(marker.get_xdata(), 1e-5) and marker.get_label() == "package's step"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["d/d mass", "package's step"]


def test_error_orders_refuse_curves_of_the_wrong_length():
    with pytest.raises(ValueError, match="3 errors for 4 sizes"):
        plot_error_orders(Figure().subplots(), np.ones(4), {"short": np.ones(3)})
