"""Self-checks for the course's exercises.

In a notebook, put your answer where the exercise's cell has ``None`` and run the cell::

    from cebe_course import check
    check("nb01-residual", my_rho_limit)

``check`` prints one line: right, or not right yet with a hint, or no answer yet. It never prints the solution:
the reference is computed by the package when the check runs (:mod:`cebe_course.theory_checks`,
:mod:`cebe_course.deep_checks`) and only the verdict leaves it. :func:`verdict` returns the same verdict without
printing. When the environment variable ``CEBE_COURSE_RESULTS`` names a file, every check also appends its verdict
there as one JSON line: that is how ``cebe-course grade`` collects the verdicts of a notebook it runs.

:data:`EXERCISES` lists the exercises that have a check (label, notebook, what the answer is);
:data:`UNCHECKED` the exercises that have none, and why.

>>> verdict("nb05-ess", None).status
'missing'
>>> verdict("nb05-ess", lambda ratio: 1.0).status
'wrong'
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass

from cebe_cli import InputError
from cebe_course.verdicts import AnswerError, Verdict

__all__ = ["check", "verdict", "Exercise", "EXERCISES", "UNCHECKED", "RESULTS_VARIABLE"]

RESULTS_VARIABLE = "CEBE_COURSE_RESULTS"
THEORY, DEEP = "cebe_course.theory_checks", "cebe_course.deep_checks"


@dataclass(frozen=True)
class Exercise:
    """One checked exercise: its label (as in the notebook's ``:label:``), what the answer is, and the function of
    ``module`` that checks it."""

    label: str
    answer: str
    module: str
    function: str

    @property
    def notebook(self) -> str:
        return self.label.split("-", 1)[0].removeprefix("nb")


EXERCISES = {exercise.label: exercise for exercise in (
    Exercise("nb01-derivative", "the row of d_p T, as {next-state label: derivative} or an array over the states",
             THEORY, "row_derivative"),
    Exercise("nb01-residual", "a number: the limit of max |rho| / dc^2 as dc -> 0", THEORY, "residual_limit"),
    Exercise("nb01-custom-reward", "a number: error / dc^2 with goal exp(-50 p) divided by the same with exp(-5 p)",
             THEORY, "custom_reward_ratio"),
    Exercise("nb01-optimal", "a number: the fitted slope of the error sweep with policy='optimal'", THEORY,
             "optimal_slope"),
    Exercise("nb01-projection", "a function of w0 < 0: the smallest dw > 0 at which the projection acts", THEORY,
             "projection_threshold"),
    Exercise("nb02-gamma", "a number: Theorem 3's bound at gamma = 0.48, predicted from the constants at 0.45", THEORY,
             "theorem3_at_048"),
    Exercise("nb02-slack", "a number: max |Q_2|", THEORY, "second_derivative_q"),
    Exercise("nb02-affine-lqr", "a ContextualLQR (A constant, B affine in c) on which CEBE is exact", THEORY,
             "exact_lqr"),
    Exercise("nb03-write-cse", "the function my_cse", DEEP, "cse_function"),
    Exercise("nb03-by-hand", "three things: (r, s'_CSE, r_CSE)", DEEP, "cse_by_hand"),
    Exercise("nb03-ball", "two numbers: the mean of r_exact - r_CSE on the sphere, and in the ball (eps = 0.5)", DEEP,
             "ball_errors"),
    Exercise("nb04-antgoal", "two things: (the set of info keys whose arrays are non-zero, True if CSE is exact)", DEEP,
             "antgoal_partials"),
    Exercise("nb05-ess", "a function of Delta / sigma: the limit of the ESS fraction", THEORY, "ess_limit"),
    Exercise("nb05-bias", "two numbers: E|b(1 + sigma Z) - 1| for bias 1.5 (no noise), and for noise 0.5 (no bias)",
             DEEP, "bias_or_noise"),
    Exercise("nb05-clip", "a number: the |dc| along p from which the clipped estimator errs", THEORY, "clip_threshold"),
    Exercise("nb06-edge", "a number: the extra steps each step costs FiniteDifferenceJacobians at the box's corner", DEEP,
             "corner_evaluations"),
)}

UNCHECKED = {
    "nb03-exact": "its answer is a judgement on trained policies, which differ from seed to seed and budget to budget",
    "nb03-context": "its answer is read from training runs: which coordinate keeps a gain depends on seeds and budget",
    "nb04-contacts": "the constant in front of dc^2 changes from state to state with no single right value",
    "nb04-time": "the count of extra MuJoCo steps is stated in §1, and the share of a SAC step depends on the machine",
    "nb06-detach": "its answer is an explanation (which check fails, and why CSE would still run without it)",
    "nb06-friction": "its answer is a prediction and an explanation read from warnings, not a value",
}


def verdict(exercise: str, answer) -> Verdict:
    """The :class:`~cebe_course.verdicts.Verdict` on ``answer`` for ``exercise``, without printing.  ``None`` (or
    ``...``) is no answer yet.  An unknown label, or an exercise without a check, raises :class:`InputError`."""
    if exercise in UNCHECKED:
        raise InputError(f"{exercise} has no check: {UNCHECKED[exercise]}")
    if exercise not in EXERCISES:
        raise InputError(f"no exercise {exercise!r}; the checked ones are {', '.join(EXERCISES)}")
    entry = EXERCISES[exercise]
    if answer is None or answer is Ellipsis:
        return Verdict("missing", f"replace the None with your answer ({entry.answer}) and run the cell again")
    checker = getattr(importlib.import_module(entry.module), entry.function)
    try:
        return checker(answer)
    except AnswerError as error:
        return Verdict("wrong", str(error))


def check(exercise: str, answer) -> None:
    """Print whether ``answer`` is right for ``exercise`` (a label such as ``"nb01-residual"``), with a hint when it
    is not; never the solution.  Records the verdict in ``$CEBE_COURSE_RESULTS`` when that is set."""
    result = verdict(exercise, answer)
    if result.status == "right":
        print(f"✓ {exercise}: right.")
    elif result.status == "missing":
        print(f"… {exercise}: no answer yet: {result.hint}.")
    else:
        print(f"✗ {exercise}: not right yet. {result.hint}")
    path = os.environ.get(RESULTS_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps({"exercise": exercise, "status": result.status, "hint": result.hint}) + "\n")
