"""What every theorem calculator returns: a bound with its constants and conditions, and a check of it.

:class:`BoundResult` holds a theorem's bound with every constant that enters it (name, value and how it is
read), its hypotheses as :class:`Condition` s and the formula; :class:`BoundCheck` puts it next to a
measured error. Theorems 1 and 3 (:mod:`cebe_theory.bounds`), 2 (:mod:`cebe_theory.lqr`) return these;
:mod:`cebe_theory.bounds_report` tabulates them.

>>> condition = Condition("gamma < 1/L", 0.9, 2.0)
>>> result = BoundResult("Theorem X", "example", 0.9, 0.1, (Constant("L", 0.5, "a constant"),), (condition,), "2 |dc|", 0.2)
>>> check = BoundCheck(result, measured=0.05)
>>> check.within_bound, check.ratio
(True, 4.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Constant", "Condition", "BoundResult", "BoundCheck", "checks_frame", "FLOAT_SLACK"]

READING_NAMES = {"next_state": "R(s,a,s')", "expected": "the expected reward r(s,a) = sum_s' T R"}
"""How each reward reading is named in a printed table (``cebe_theory.bounds`` explains the two readings)."""

# A measured error may exceed a bound by this relative amount before we call it a violation: the exact
# solver's floating-point error (sparse LU, cond(I - gamma P) <= 2 / (1 - gamma)).
FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class Constant:
    """One constant of a bound: its symbol as in the theorem's statement, its value and how we read it."""

    name: str
    value: float
    reading: str


@dataclass(frozen=True)
class Condition:
    """A hypothesis of a theorem, written ``lhs < rhs``."""

    statement: str
    lhs: float
    rhs: float

    @property
    def holds(self) -> bool:
        return bool(self.lhs < self.rhs)

    def __str__(self) -> str:
        verdict = "holds" if self.holds else "FAILS"
        return f"{self.statement}: {self.lhs:.4g} < {self.rhs:.4g} {verdict}"


@dataclass(frozen=True)
class BoundResult:
    """A theorem's bound with every constant that enters it.

    ``bound`` is the formula's value when every condition holds and ``None`` otherwise;
    ``formula_value`` always holds the formula's number (``nan`` if a denominator is not positive).
    ``reward_reading`` is how ``R`` was read (module docstring) and ``other_reading_value`` the formula under
    the other reading (same conditions). ``discrete_metric_bound`` is our own bound (Theorem 3 only).
    """

    theorem: str
    setting: str
    gamma: float
    dc_norm: float
    constants: tuple[Constant, ...]
    conditions: tuple[Condition, ...]
    formula: str
    formula_value: float
    discrete_metric_bound: float | None = None
    reward_reading: str | None = None
    other_reading_value: float | None = None

    @property
    def conditions_hold(self) -> bool:
        return all(condition.holds for condition in self.conditions)

    @property
    def bound(self) -> float | None:
        return self.formula_value if self.conditions_hold else None

    @property
    def other_reading_bound(self) -> float | None:
        """The formula under the other reward reading, when every condition holds."""
        return self.other_reading_value if self.conditions_hold else None

    @property
    def failed_conditions(self) -> list[str]:
        return [str(condition) for condition in self.conditions if not condition.holds]

    def constant(self, name: str) -> float:
        for constant in self.constants:
            if constant.name == name:
                return constant.value
        raise KeyError(f"no constant {name!r} in {self.theorem}; have {', '.join(c.name for c in self.constants)}")

    def as_row(self) -> dict:
        """Flat dictionary for a table row: settings, every constant, conditions and the bound."""
        row = {"theorem": self.theorem, "setting": self.setting, "gamma": self.gamma, "|dc|": self.dc_norm}
        row.update({constant.name: constant.value for constant in self.constants})
        row["conditions"] = "hold" if self.conditions_hold else "condition fails: " + "; ".join(self.failed_conditions)
        row["formula_value"] = self.formula_value
        row["bound"] = self.bound if self.bound is not None else float("nan")
        if self.reward_reading is not None:
            row["reward_reading"] = self.reward_reading
            other = self.other_reading_bound
            row["bound_other_reading"] = other if other is not None else float("nan")
        if self.discrete_metric_bound is not None:
            row["discrete_metric_bound"] = self.discrete_metric_bound
        return row

    def table(self) -> str:
        """The bound as a block of text: every constant with how it is read, every condition, the bound, and (when
        present) the same formula with the reward read the other way and our own bound, each line saying what it is."""
        reading = f", R read as {READING_NAMES[self.reward_reading]}" if self.reward_reading else ""
        step = "" if math.isnan(self.dc_norm) else f", |dc|={self.dc_norm:.4g}"
        lines = [f"{self.theorem}  ({self.setting}, gamma={self.gamma:g}{step}{reading})", f"  bound = {self.formula}"]
        width = max(len(c.name) for c in self.constants) if self.constants else 0
        for constant in self.constants:
            lines.append(f"  {constant.name:<{width}}  {constant.value:>12.6g}   {constant.reading}")
        for condition in self.conditions:
            lines.append(f"  condition  {condition}")
        if self.conditions_hold:
            lines.append(f"  bound      {self.formula_value:.6g}")
        else:
            lines.append(f"  bound      none: condition fails (the formula would give {self.formula_value:.6g})")
        if self.other_reading_value is not None:
            other = next(name for key, name in READING_NAMES.items() if key != self.reward_reading)
            lines.append(f"  alt. bound {self.other_reading_value:.6g}   the same formula with R read instead as {other}")
        if self.discrete_metric_bound is not None:
            lines.append(f"  our bound  {self.discrete_metric_bound:.6g}   our own derivation (discrete metric): Taylor's 1/2,"
                         " oscillations for Lipschitz constants")
        return "\n".join(lines)

    __str__ = table


def _within(measured: float, bound: float | None) -> bool | None:
    if bound is None:
        return None
    return bool(measured <= bound * (1 + FLOAT_SLACK) + 1e-12)


@dataclass(frozen=True)
class BoundCheck:
    """A bound next to the measured ``|Q_CE - Q_BE|_inf`` (or ``|Q1 - Q2|_inf``), with ``ratio = bound / measured``."""

    result: BoundResult
    measured: float
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def ratio(self) -> float | None:
        if self.result.bound is None:
            return None
        return math.inf if self.measured == 0 else self.result.bound / self.measured

    @property
    def within_bound(self) -> bool | None:
        """``measured <= bound`` (up to :data:`FLOAT_SLACK`), or ``None`` when a condition fails."""
        return _within(self.measured, self.result.bound)

    @property
    def within_other_reading_bound(self) -> bool | None:
        """``measured <=`` the formula under the other reward reading, or ``None`` when a condition fails."""
        return _within(self.measured, self.result.other_reading_bound)

    def as_row(self) -> dict:
        row = self.result.as_row()
        row["measured"] = self.measured
        row["ratio"] = self.ratio if self.ratio is not None else float("nan")
        row["within_bound"] = self.within_bound
        if self.result.reward_reading is not None:
            row["within_bound_other_reading"] = self.within_other_reading_bound
        row.update(self.extra)
        return row

    def __str__(self) -> str:
        verdict = {None: "not checked (condition fails)", True: "measured <= bound", False: "VIOLATED"}[self.within_bound]
        ratio = "" if self.ratio is None else f", ratio bound/measured = {self.ratio:.4g}"
        return f"{self.result}\n  measured   {self.measured:.6g}   {verdict}{ratio}"


def checks_frame(checks: Sequence[BoundCheck]) -> pd.DataFrame:
    """One row per check (:meth:`BoundCheck.as_row`)."""
    return pd.DataFrame([check.as_row() for check in checks])
