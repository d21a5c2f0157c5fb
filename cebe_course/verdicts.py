"""What a check answers, and the comparisons the checks share.

A :class:`Verdict` is ``right``, ``wrong`` (with a hint) or ``missing`` (no answer yet).  A hint says what is
off (the type, the shape, the direction of the error, which part of the formula) and never the expected value:
the reference is computed by the package when the check runs, and stays inside the check.

>>> compare_number(0.5, 0.5, rel=1e-3, what="the bound").status
'right'
>>> verdict = compare_number(0.7, 0.5, rel=1e-3, what="the bound", too_large="Check the denominator.")
>>> verdict.status, verdict.hint
('wrong', 'the bound: your value is too large. Check the denominator.')
>>> compare_number("0.5", 0.5, rel=1e-3, what="the bound").hint
'the bound should be a number, not a str'
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["Verdict", "AnswerError", "RIGHT", "wrong", "as_number", "as_array", "call_answer", "compare_number",
           "compare_function"]


@dataclass(frozen=True)
class Verdict:
    """``status``: ``"right"``, ``"wrong"`` or ``"missing"``; ``hint``: what to look at when it is wrong."""

    status: str
    hint: str = ""

    @property
    def right(self) -> bool:
        return self.status == "right"


RIGHT = Verdict("right")


def wrong(hint: str) -> Verdict:
    return Verdict("wrong", hint)


class AnswerError(Exception):
    """The answer cannot be compared (wrong type or shape, or the student's function raised): the message is the
    hint, and the verdict is ``wrong``."""


def as_number(answer, what: str) -> float:
    """``answer`` as a finite float (a Python or numpy number, or an array of one element)."""
    if isinstance(answer, (bool, np.bool_)) or isinstance(answer, (str, bytes)):
        raise AnswerError(f"{what} should be a number, not a {type(answer).__name__}")
    if isinstance(answer, numbers.Real):
        value = float(answer)
    else:
        try:
            array = np.asarray(answer, dtype=np.float64)
        except (TypeError, ValueError):
            raise AnswerError(f"{what} should be a number, not a {type(answer).__name__}") from None
        if array.size != 1:
            raise AnswerError(f"{what} should be one number, got {array.size} of them")
        value = float(array.reshape(()))
    if not np.isfinite(value):
        raise AnswerError(f"{what} should be a finite number, got {value}")
    return value


def as_array(answer, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``answer`` as a float array of ``shape`` (a scipy sparse row is made dense)."""
    if hasattr(answer, "toarray"):
        answer = answer.toarray()
    try:
        array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        raise AnswerError(f"{what} should be an array of numbers, not a {type(answer).__name__}") from None
    if array.size == int(np.prod(shape)) and array.shape != shape:
        array = array.reshape(shape)
    if array.shape != shape:
        raise AnswerError(f"{what} should have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise AnswerError(f"{what} has entries that are not finite numbers")
    return array


def call_answer(function, *args, what: str):
    """Call the student's ``function``; an exception it raises becomes an :class:`AnswerError` naming it."""
    if not callable(function):
        raise AnswerError(f"{what} should be a function, not a {type(function).__name__}")
    try:
        return function(*args)
    except Exception as error:  # the student's code: any failure is a wrong answer, reported by its message
        raise AnswerError(f"{what} raised {type(error).__name__}: {error}") from None


def compare_number(answer, reference: float, *, rel: float, what: str, too_large: str = "", too_small: str = "",
                   absolute: float = 0.0) -> Verdict:
    """Right when ``|answer - reference| <= max(rel |reference|, absolute)``; otherwise a hint that says whether
    the answer is too large or too small, followed by ``too_large`` or ``too_small``."""
    try:
        value = as_number(answer, what)
    except AnswerError as error:
        return wrong(str(error))
    if abs(value - reference) <= max(rel * abs(reference), absolute):
        return RIGHT
    larger = value > reference
    advice = too_large if larger else too_small
    return wrong(f"{what}: your value is {'too large' if larger else 'too small'}." + (f" {advice}" if advice else ""))


def compare_function(answer, points, reference, *, where, hint, rel: float = 1e-3) -> Verdict:
    """Right when the student's function ``answer`` is within ``rel`` (relative) of ``reference(x)`` at every
    ``x`` in ``points``; at the first point where it is not, ``wrong(hint(x, side))`` with ``side`` "too large" or
    "too small".  ``where(x)`` names the point in the message of an answer that is not a number there."""
    for x in points:
        expected = reference(x)
        value = as_number(call_answer(answer, x, what="your function"), f"your function{where(x)}")
        if abs(value - expected) > rel * expected:
            return wrong(hint(x, "too large" if value > expected else "too small"))
    return RIGHT
