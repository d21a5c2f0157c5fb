"""Grade a student's notebook: run it top to bottom, then report every exercise it checks, right or wrong.

:func:`grade` executes the notebook with nbclient in its own folder (as JupyterLab would), at the budget asked for
(``CEBE_NOTEBOOK_BUDGET``, ``small`` by default: the grade needs the answers, not the long sweeps), with
``CEBE_COURSE_RESULTS`` pointing at a scratch file where every ``check(...)`` call records its verdict
(:mod:`cebe_course.checks`).  An exercise counts once per notebook, by its last check; an exercise whose
``check("LABEL", ...)`` appears in the notebook but never ran (a cell raised first) counts as not run.  A cell
that raises does not stop the run: it is reported, and the cells after it still run.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from cebe_cli import InputError

__all__ = ["Grade", "grade", "checked_exercises"]

_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([\w.-]+)["']""")


@dataclass
class Grade:
    """The outcome of grading one notebook: ``exercises`` maps each checked label to ``(status, hint)`` with status
    ``right``, ``wrong``, ``missing`` (no answer) or ``not run``; ``errors`` lists the cells that raised."""

    notebook: Path
    exercises: dict[str, tuple[str, str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.exercises) and all(status == "right" for status, _ in self.exercises.values())

    def to_dict(self) -> dict:
        return {"notebook": str(self.notebook), "passed": self.passed, "seconds": round(self.seconds, 1),
                "exercises": {label: {"status": status, "hint": hint} for label, (status, hint) in self.exercises.items()},
                "errors": self.errors}

    def render(self) -> str:
        right = sum(status == "right" for status, _ in self.exercises.values())
        width = max((len(label) for label in self.exercises), default=0)
        lines = [f"{self.notebook.name}: ran in {self.seconds:.0f} s"]
        lines += [f"  {label:<{width}}  {status}" + (f": {hint}" if hint and status != "right" else "")
                  for label, (status, hint) in self.exercises.items()]
        lines += [f"  cell that raised: {error}" for error in self.errors]
        lines.append(f"{right} of {len(self.exercises)} exercises right")
        return "\n".join(lines)


def checked_exercises(notebook) -> list[str]:
    """The labels of the ``check("LABEL", ...)`` calls in the notebook's code cells, in order, each once."""
    labels = [label for cell in notebook.cells if cell.cell_type == "code" for label in _CHECK_CALL.findall(cell.source)]
    return list(dict.fromkeys(labels))


def _read(path: Path):
    if not path.is_file():
        raise InputError(f"{path}: no such notebook")
    try:
        if path.suffix == ".ipynb":
            return nbformat.read(str(path), as_version=4)
        if path.suffix == ".py":
            return jupytext.read(path)
    except Exception as error:  # a file that is not a notebook: whatever the reader raises, one line for the user
        raise InputError(f"{path}: not a readable notebook ({type(error).__name__}: {error})") from None
    raise InputError(f"{path}: expected a notebook (.ipynb, or a jupytext .py)")


def grade(path, *, budget: str = "small", timeout: int = 600, kernel: str = "python3") -> Grade:
    """Run the notebook at ``path`` and grade its checks (module docstring)."""
    path = Path(path)
    notebook = _read(path)
    labels = checked_exercises(notebook)
    if not labels:
        raise InputError(f"{path}: no check(\"LABEL\", ...) call in this notebook: nothing to grade")
    with tempfile.TemporaryDirectory(prefix="cebe-course-grade-") as scratch:
        results = Path(scratch) / "verdicts.jsonl"
        environment = {**os.environ, "CEBE_COURSE_RESULTS": str(results), "CEBE_NOTEBOOK_BUDGET": budget}
        client = NotebookClient(notebook, timeout=timeout, kernel_name=kernel, allow_errors=True,
                                resources={"metadata": {"path": str(path.resolve().parent)}})
        began, stopped = time.perf_counter(), None
        try:
            client.execute(env=environment)
        except (CellTimeoutError, DeadKernelError) as error:  # the verdicts recorded so far still count
            stopped = f"the run stopped: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        seconds = time.perf_counter() - began
        recorded = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    verdicts = {entry["exercise"]: (entry["status"], entry["hint"]) for entry in recorded}
    outcome = Grade(path, seconds=seconds)
    outcome.exercises = {label: verdicts.get(label, ("not run", "a cell before this check raised, or it never ran"))
                         for label in labels}
    outcome.errors = [f"cell {index}: {output.ename}: {output.evalue}" for index, cell in enumerate(notebook.cells)
                      if cell.cell_type == "code" for output in cell.get("outputs", []) if output.output_type == "error"]
    if stopped:
        outcome.errors.append(stopped)
    return outcome
