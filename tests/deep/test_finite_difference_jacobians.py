"""FiniteDifferenceJacobians on any task it can copy, one-sided at the context box's edges, and the warning for
Jacobians that stay zero (a ``set_context`` that forgets the simulator)."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
import torch

from cebe_deep.learn.inexact import FiniteDifferenceJacobians
from cebe_deep.tasks import CheetahMassVelocity, check_jacobians, differentiable_task
from cebe_deep.tasks.twin import difference_stencil
from tests.deep.point_mass_task import DT, ForgetfulPointMass, PointMass
from tests.deep.tasks_support import relative_error


def _lockstep(wrapped, reference, steps: int, seed: int = 0):
    """Step the finite-difference task and a task that reports exact Jacobians with the same actions; yield
    both infos."""
    wrapped.reset(seed=seed)
    reference.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        action = rng.uniform(-1, 1, size=reference.action_space.shape)
        yield wrapped.step(action)[-1], reference.step(action)[-1]


def _total(info):
    return info["dreward_dcontext"] + info["dreward_dnextobs"] @ info["dobs_dcontext"]


def test_a_task_without_simulate_is_differenced_on_deep_copies():
    context = [1.3, 0.2]
    wrapped = FiniteDifferenceJacobians(PointMass(context, jacobians=False), step_size=1e-5)
    for fd, exact in _lockstep(wrapped, PointMass(context), steps=12):
        assert relative_error(fd["dobs_dcontext"], exact["dobs_dcontext"]) < 1e-6
        assert relative_error(fd["dreward_dcontext"], _total(exact)) < 1e-6
        assert fd["finite_difference_evaluations"] == 4 and not fd["dreward_dnextobs"].any()
    assert wrapped.steps == 12 and wrapped.evaluations == 48


@pytest.mark.parametrize("context, sides", [([2.0, 1.0], "upper"), ([0.5, -1.0], "lower"), ([2.0, -1.0], "both")])
def test_at_the_box_edge_the_difference_is_one_sided_and_matches_the_analytic_derivative(context, sides):
    """h = 1e-3 is large on purpose: the one-sided stencil is second order, so its error (~h^2 = 1e-6 relative)
    is far below what a first-order one (~h = 1e-3) would leave in the mass column, which is not linear in m."""
    wrapped = FiniteDifferenceJacobians(PointMass(context, jacobians=False), step_size=1e-3)
    for fd, exact in _lockstep(wrapped, PointMass(context), steps=10):
        assert relative_error(fd["dobs_dcontext"], exact["dobs_dcontext"]) < 2e-5
        assert relative_error(fd["dreward_dcontext"], _total(exact)) < 2e-5
        assert fd["finite_difference_evaluations"] == 6  # three points per coordinate, all inside the box
    ((points, coefficients, denominator), _) = difference_stencil(context, [1e-3, 1e-3], wrapped.box)
    assert points[:, 0].tolist() == ([2.0, 1.999, 1.998] if context[0] == 2.0 else [0.5, 0.501, 0.502])


def test_the_mass_derivative_at_the_edge_is_the_analytic_one():
    """The brief's check in one number: d v'/d m = -dt a / m^2 at m = 2, the top of the box, from one step."""
    wrapped = FiniteDifferenceJacobians(PointMass([2.0, 0.0], jacobians=False), step_size=1e-3)
    wrapped.reset(seed=0)
    info = wrapped.step(np.array([0.8]))[-1]
    assert info["dobs_dcontext"][1, 0] == pytest.approx(-DT * 0.8 / 2.0**2, rel=1e-6)


def torch_point_mass(**options):
    """The point mass again, as a torch step function: a task with a batched simulate()."""
    def step(state, action, context):
        velocity = state[1] + DT * action[0] / context[0]
        position = state[0] + DT * velocity
        return torch.stack([position, velocity]), -(position - context[1]) ** 2 - 0.01 * action[0] ** 2

    return differentiable_task(step, lambda rng: rng.uniform(-0.5, 0.5, size=2), state_dim=2, action_low=[-1.0],
                               action_high=[1.0], context_low=[0.5, -1.0], context_high=[2.0, 1.0], c0=[1.0, 0.5],
                               horizon=20, **options)


@pytest.mark.parametrize("context", [[1.2, 0.1], [2.0, 1.0], [0.5, -1.0]])
def test_the_batched_simulate_path_is_one_sided_at_the_edge_too(context):
    wrapped = FiniteDifferenceJacobians(torch_point_mass(context=context, jacobians=False), step_size=1e-3)
    for fd, exact in _lockstep(wrapped, torch_point_mass(context=context), steps=8):
        assert relative_error(fd["dobs_dcontext"], exact["dobs_dcontext"]) < 2e-5
        assert relative_error(fd["dreward_dcontext"], _total(exact)) < 2e-5
        assert fd["finite_difference_evaluations"] == (4 if context == [1.2, 0.1] else 6)


def test_central_differences_are_unchanged_to_the_bit():
    """Away from the edges the batched path computes (f(c + h) - f(c - h)) / 2h as before the stencils."""
    env = torch_point_mass(context=[1.2, 0.1], jacobians=False)
    wrapped = FiniteDifferenceJacobians(env, step_size=1e-4)
    wrapped.reset(seed=1)
    state, action = wrapped.unwrapped.state, np.array([0.3])
    info = wrapped.step(action)[-1]
    h = np.full(2, 1e-4)
    contexts = np.array([1.2, 0.1])[None, :] + np.concatenate([np.diag(h), -np.diag(h)])  # as the wrapper did before
    next_states, rewards = wrapped.unwrapped.simulate(np.repeat(state[None], 4, 0), np.repeat(action[None], 4, 0), contexts)
    assert np.array_equal(info["dobs_dcontext"], ((next_states[:2] - next_states[2:]) / (2 * h[:, None])).T)
    assert np.array_equal(info["dreward_dcontext"], (rewards[:2] - rewards[2:]) / (2 * h))


def test_a_mujoco_task_without_a_twin_gets_a_deep_copy_as_twin():
    """CheetahMassVelocity has no make_twin: the wrapper deep-copies it (own model and data, the state copied in
    with mj_copyData) and agrees with the task's own central differences, at c0 and at the top of the mass box."""
    for context in (None, [2.0, 12.0, 9.81]):
        reference = CheetahMassVelocity(context=context)
        task = CheetahMassVelocity(context=context, jacobians=False)
        wrapped = FiniteDifferenceJacobians(task, step_size=1e-5 * np.abs(task.context))
        assert wrapped.twin is not None and wrapped.twin.model is not task.model
        for fd, exact in _lockstep(wrapped, reference, steps=6):
            columns = [1, 2]  # mass and gravity: the task's own central differences
            assert relative_error(fd["dobs_dcontext"][:, columns], exact["dobs_dcontext"][:, columns]) < 1e-4
            assert relative_error(fd["dreward_dcontext"], _total(exact)) < 1e-4


def test_a_step_size_over_a_quarter_of_the_box_is_refused():
    with pytest.raises(ValueError, match=r"step 0.5 of context\[0\] \(mass\) must be at most a quarter of the box width 1.5"):
        FiniteDifferenceJacobians(PointMass(jacobians=False), step_size=[0.5, 0.01])


class LockedPointMass(PointMass):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lock = threading.Lock()


def test_a_task_that_cannot_be_copied_is_one_line():
    with pytest.raises(ValueError, match="LockedPointMass has no simulate.. and cannot be deep-copied .TypeError") as error:
        FiniteDifferenceJacobians(LockedPointMass(jacobians=False), step_size=1e-5)
    assert "\n" not in str(error.value)


def test_a_set_context_that_forgets_the_simulator_gets_a_warning():
    """ForgetfulPointMass validates and observes the context but never writes the mass into its dynamics: the
    differences in the mass are zero at every step, CSE would only relabel it, and the wrapper says so."""
    wrapped = FiniteDifferenceJacobians(ForgetfulPointMass([1.5, 0.5], jacobians=False), step_size=1e-5)
    wrapped.reset(seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(10):
            wrapped.step(np.array([0.7]))
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1 and messages[0].startswith(
        "ForgetfulPointMass (finite differences): the context Jacobians of mass (coordinate 0) were zero at each of "
        "the first 10 steps"), messages
    with warnings.catch_warnings(record=True) as caught:  # the correct task: no warning
        warnings.simplefilter("always")
        correct = FiniteDifferenceJacobians(PointMass([1.5, 0.5], jacobians=False), step_size=1e-5)
        correct.reset(seed=0)
        for _ in range(10):
            correct.step(np.array([0.7]))
    assert not caught


def test_check_jacobians_at_the_box_edge_and_on_the_forgetful_task():
    assert check_jacobians(PointMass([2.0, 1.0]), steps=10).passed()  # one-sided at the corner, no step outside
    with pytest.warns(UserWarning, match=r"check_jacobians\(ForgetfulPointMass\): the context Jacobians of mass"):
        result = check_jacobians(ForgetfulPointMass([1.5, 0.5]), steps=10)
    assert not result.passed()  # it reports the true dv'/dm, which its own step does not follow


def test_a_run_refuses_a_finite_difference_step_over_a_quarter_of_the_box():
    from cebe_deep.run.config import make_config

    with pytest.raises(ValueError, match="--fd-jacobians 2 must be at most a quarter of the task's narrowest context side"):
        make_config("SimpleDirection", "cse", flags=True, fd_jacobians=2.0)
    assert make_config("tests.deep.point_mass_task:make_point_mass", "cse", fd_jacobians=1e-4).fd_jacobians == 1e-4
