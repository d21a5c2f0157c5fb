"""Accuracy of central finite differences through MuJoCo against the step size h (CheetahMassVelocity).

    /work/venv/bin/python benchmarks/fd_step_study.py [--states 6] [--steps-in 50]

For several simulator states (random actions, ``--steps-in`` steps into an episode, at c0 and at two
other contexts) this computes d(next state part)/d(torso mass) and d/d(gravity) by central differences

    D(h) = (s'(c + h e_i) - s'(c - h e_i)) / 2h,           h = rel * |c_i|,

with the environment's own ``step`` on a twin environment that receives the simulator state through
``mujoco.mj_copyData``. The reference is the fourth-order five-point stencil at rel = 1e-3
(``(-s'(c+2h) + 8 s'(c+h) - 8 s'(c-h) + s'(c-2h)) / 12h``: truncation ~h^4 ~ 1e-12, round-off
~1e-16 / 1e-3). The relative error is ``max|D(h) - D_ref| / max|D_ref|`` per state and dimension; the
table shows its median and maximum over states. Central differences err by ~h^2 (truncation) for large h
and by ~eps / h (round-off, amplified by contacts and the constraint solver) for small h; the task's
``FD_RELATIVE_STEP`` is taken from the flat bottom. The script ends with the error of the Jacobian the
task reports (``info["dobs_dcontext"]``) against the same reference.
"""

from __future__ import annotations

import argparse
import warnings

import mujoco
import numpy as np

from cebe_deep.tasks import step_twin
from cebe_deep.tasks.cheetah import FD_RELATIVE_STEP, CheetahMassVelocity

RELATIVE_STEPS = [10.0**exponent for exponent in np.arange(-9.0, -0.5, 1.0)]


def next_state(twin, source, action, context) -> np.ndarray:
    """The next state part of one step from ``source`` (a saved MjData) at ``context``: the package's twin."""
    return step_twin(twin, source, action, context)[0]


def study_state(seed: int, context, steps_in: int):
    env = CheetahMassVelocity(context=context, jacobians=True)
    twin = CheetahMassVelocity(context=context, jacobians=False)
    twin.reset(seed=0)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps_in):
        env.step(rng.uniform(-1, 1, size=6))
    action = rng.uniform(-1, 1, size=6)
    before = mujoco.MjData(env.model)
    mujoco.mj_copyData(before, env.model, env.data)
    _, _, _, _, info = env.step(action)
    errors = {}  # (dimension, rel) -> relative error
    reported = {}
    for index in CheetahMassVelocity.dynamics_context_indices:
        def shifted(offset):
            c = np.array(context, dtype=float)
            c[index] += offset
            return next_state(twin, before, action, c)

        h = 1e-3 * abs(context[index])
        reference = (-shifted(2 * h) + 8 * shifted(h) - 8 * shifted(-h) + shifted(-2 * h)) / (12 * h)
        scale = np.max(np.abs(reference))
        for rel in RELATIVE_STEPS:
            h = rel * abs(context[index])
            central = (shifted(h) - shifted(-h)) / (2 * h)
            errors[index, rel] = np.max(np.abs(central - reference)) / scale
        reported[index] = np.max(np.abs(info["dobs_dcontext"][:, index] - reference)) / scale
    return errors, reported


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=6, help="states per context")
    parser.add_argument("--steps-in", type=int, default=50, help="random steps before the studied step")
    arguments = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    contexts = [CheetahMassVelocity.default_context, np.array([2.0, 4.0, 6.0]), np.array([3.0, 10.0, 15.0])]
    runs = [study_state(seed, context, arguments.steps_in) for context in contexts for seed in range(arguments.states)]
    names = CheetahMassVelocity.context_names
    print(f"relative error of central differences against a 5-point reference ({len(runs)} states, "
          f"{arguments.steps_in} steps into an episode, contexts {[c.tolist() for c in contexts]})")
    header = "".join(
        f"{names[i] + ' median':>20}{names[i] + ' max':>18}" for i in CheetahMassVelocity.dynamics_context_indices
    )
    print(f"{'h / |c_i|':>10}{header}")
    for rel in RELATIVE_STEPS:
        row = ""
        for index in CheetahMassVelocity.dynamics_context_indices:
            values = [errors[index, rel] for errors, _ in runs]
            row += f"{np.median(values):>20.2e}{np.max(values):>18.2e}"
        print(f"{rel:>10.0e}{row}")
    for index in CheetahMassVelocity.dynamics_context_indices:
        values = [reported[index] for _, reported in runs]
        print(f"reported Jacobian (FD_RELATIVE_STEP = {FD_RELATIVE_STEP:g}), {names[index]}: "
              f"median {np.median(values):.2e}, max {np.max(values):.2e}")


if __name__ == "__main__":
    main()
