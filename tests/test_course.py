"""The course's tooling (``cebe_course``).

Editions (``cebe-course student`` / ``teacher``): the student edition holds no solution and no teaching note of the
sources, the teacher edition holds all of them, both are valid notebooks without outputs, a student edition runs top
to bottom (notebook 01, the fastest), and bad input is one line with exit status 2.

Self-checks: every exercise has a check or a stated reason for none; each check takes a right answer, hints at a
wrong one without showing the answer, and calls ``None`` no answer yet. Grading (``cebe-course grade``): a right
submission of notebook 01 passes (exit 0), a wrong one fails (exit 1) and the report names each exercise's verdict.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy
import tomllib
import yaml
from nbclient import NotebookClient

from cebe_cli import InputError
from cebe_course import check, verdict
from cebe_course.checks import EXERCISES, UNCHECKED
from cebe_course.cli import main
from cebe_theory import (
    ContextualLQR,
    cliffwalking,
    evaluate_policy,
    greedy_policy,
    policy_iteration,
    theorem3_bound,
    uniform_policy,
    windy_cliffwalking,
)

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("[0-9]*.py"))
LABEL = re.compile(r"^# :label: (\S+)", re.M)


def _cells(path: Path) -> list[tuple[str, str]]:
    """(kind, text) of each cell of a percent-format source, read here without jupytext (markdown without '# ')."""
    cells, kind, lines = [], None, []
    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            if kind:
                cells.append((kind, "\n".join(lines).strip()))
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind:
            lines.append(line)
    cells.append((kind, "\n".join(lines).strip()))
    return cells


def _split(path: Path) -> tuple[list[str], list[str], str]:
    """The lines of the source's solutions, the lines of its teaching notes, and the text of everything else."""
    solution, notes, rest, inside = [], [], [], False
    for _, text in _cells(path):
        inside = inside or ":::{solution-start}" in text
        if inside:
            solution += text.splitlines()
            inside = ":::{solution-end}" not in text
            continue
        note = False
        for line in text.splitlines():
            note = note or line.startswith(":::{admonition} Teaching note")
            (notes if note else rest).append(line)
            note = note and line.strip() != ":::"
    return solution, notes, "\n".join(rest)


def _distinctive(lines: list[str], elsewhere: str) -> list[str]:
    """The lines long enough to be telling that appear nowhere outside the solutions or notes."""
    return [line.strip() for line in lines if len(line.strip()) >= 25 and line.strip() not in elsewhere]


def _text(notebook) -> str:
    return "\n".join(cell.source for cell in notebook.cells)


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    folders = {}
    for edition in ("student", "teacher"):
        folders[edition] = tmp_path_factory.mktemp(edition)
        assert main([edition, "--out", str(folders[edition])]) == 0
    return folders


def test_there_are_sources_with_solutions_and_teaching_notes():
    assert SOURCES
    for path in SOURCES:
        solution, notes, rest = _split(path)
        assert _distinctive(solution, rest) and _distinctive(notes, rest), f"{path.name}: no solution or teaching note"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_the_student_edition_leaves_out_every_solution_and_teaching_note(editions, source):
    student = nbformat.read(editions["student"] / f"{source.stem}.ipynb", as_version=4)
    text = _text(student)
    solution, notes, rest = _split(source)
    leaked = [line for line in _distinctive(solution + notes, rest) if line in text]
    assert not leaked, f"{source.stem}: solution or teaching-note lines in the student edition: {leaked[:5]}"
    assert ":::{solution" not in text and "Teaching note" not in text
    assert LABEL.findall(source.read_text()) == re.findall(r"^:label: (\S+)", text, re.M), "an exercise went missing"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_the_teacher_edition_is_the_whole_source(editions, source):
    teacher = nbformat.read(editions["teacher"] / f"{source.stem}.ipynb", as_version=4)
    assert [(cell.cell_type, cell.source.strip()) for cell in teacher.cells] == [
        (kind, text) for kind, text in _cells(source) if kind == "code" or text], f"{source.stem}: cells differ"
    solution, notes, rest = _split(source)
    missing = [line for line in _distinctive(solution + notes, rest) if line not in _text(teacher)]
    assert not missing, missing[:5]


@pytest.mark.parametrize("edition", ["student", "teacher"])
def test_both_editions_are_valid_notebooks_without_outputs(editions, edition):
    written = sorted(editions[edition].glob("*.ipynb"))
    assert [path.stem for path in written] == [path.stem for path in SOURCES]
    for path in written:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["cebe_course"]["edition"] == edition
        assert "jupytext" not in notebook.metadata, "an edition is not paired with a text file the reader lacks"
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_the_student_edition_of_notebook_01_runs_top_to_bottom(editions, monkeypatch):
    monkeypatch.setenv("CEBE_NOTEBOOK_BUDGET", "small")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    path = editions["student"] / "01_cmdp_and_cebe.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [f"cell {index}: {output.ename}: {output.evalue}" for index, cell in enumerate(notebook.cells)
              if cell.cell_type == "code" for output in cell.outputs if output.output_type == "error"]
    assert not errors, errors


def _broken_source(folder: Path) -> Path:
    folder.mkdir()
    (folder / "01_broken.py").write_text(
        "# %% [markdown]\n# :::{exercise} E\n# :label: e\n# :::\n\n"
        "# %% [markdown]\n# :::{solution-start} e\n# :::\n\n# %%\nanswer = 42\n")
    return folder


@pytest.mark.parametrize("arguments", [
    [],
    ["pupil", "--out", "{tmp}/x"],
    ["student"],
    ["student", "--out", "{tmp}/a-file"],
    ["teacher", "--out", "{tmp}/x", "--source", "{tmp}/nowhere"],
    ["student", "--out", "{tmp}/x", "--source", "{tmp}/broken"],
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, arguments):
    (tmp_path / "a-file").write_text("not a folder")
    _broken_source(tmp_path / "broken")
    assert main([argument.format(tmp=tmp_path) for argument in arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and captured.err.startswith("cebe-course: error: "), captured.err


def test_the_command_runs_as_a_module(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cebe_course", "student", "--out", str(tmp_path / "f"), "--source",
                             str(tmp_path / "nowhere")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("cebe-course: error: --source"), result.stderr


def test_jupyterlab_myst_is_in_the_notebooks_extra_and_environment_yml():
    # JupyterLab shows the exercises, solutions and teaching notes (MyST directives) only with this extension.
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["notebooks"]
    assert any(requirement.startswith("jupyterlab-myst") for requirement in extra)
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    assert any(isinstance(entry, str) and entry.startswith("jupyterlab-myst") for entry in environment)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["cebe-course"] == "cebe_course.cli:main"


def test_cebe_course_sits_above_both_halves():
    """Neither half, nor the shared command-line module, imports the course package."""
    offenders = []
    for path in [ROOT / "cebe_cli.py", *(ROOT / "cebe_theory").rglob("*.py"), *(ROOT / "cebe_deep").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for name in names if name.startswith("cebe_course")]
    assert not offenders, offenders


# ------------------------------------------------------------------------------------------------ self-checks
# The answers below are the test's own (closed forms, or the solutions' computations), not the checks' references.
def _row_answer(sign: float = 1.0) -> dict:
    cmdp = cliffwalking(5, 6, "inverse")  # "down" from the cell above the first cliff cell: into the cliff, 1 - p
    labels = cmdp.state_labels
    return {labels[cmdp.state_index(0, 1)]: -sign, labels[cmdp.state_index(1, 0)]: sign / 3,
            labels[cmdp.state_index(1, 2)]: sign / 3, labels[cmdp.state_index(2, 1)]: sign / 3}


def _theorem3_at(gamma: float, constants_at: float = 0.45) -> float:
    windy = windy_cliffwalking(5, 6, "power")
    deterministic = greedy_policy(policy_iteration(windy.mdp([-0.2]), 0.9).q)
    table = theorem3_bound(windy, [-0.2], [0.05], policy=deterministic, gamma=constants_at)
    d2r, r_lip, d2t, l_t, l_pi, diameter = (table.constant(name) for name in
                                            ("|D^2R|", "|R|_Lip", "|D^2T|", "L_T", "L_pi", "diam(S)"))
    return 0.05**2 / (1 - gamma) * (d2r + 3 * gamma * diameter * (1 + l_pi) * r_lip * d2t
                                    / (1 - gamma * max(1.0, diameter * l_t * (1 + l_pi))))


def _q2_max(sup: bool = False) -> float:
    inverse, p0, h = cliffwalking(5, 6, "inverse"), 0.1, 1e-4
    second = (inverse.mdp([p0 + h]).reward - 2 * inverse.mdp([p0]).reward + inverse.mdp([p0 - h]).reward) / h**2
    if sup:  # the sup term |D^2 R| / (1 - gamma): the wrong answer of the exercise
        return np.abs(second.data).max() / (1 - 0.9)
    mdp0 = inverse.mdp([p0])
    return np.abs(evaluate_policy(replace(mdp0, reward=second), uniform_policy(mdp0), 0.9)).max()


def _lqr(next_state_cost):
    c = sympy.Symbol("c", real=True)
    return ContextualLQR(c, A=sympy.Rational(3, 5) * sympy.eye(2), B=sympy.Matrix([[0], [sympy.Rational(3, 10) + c / 10]]),
                         state_cost=sympy.diag(1, sympy.Rational(1, 2)), action_cost=sympy.Matrix([[sympy.Rational(1, 10)]]),
                         next_state_cost=next_state_cost, context_box=(-0.7, 0.7))


def _cse(chain: bool = True):
    def cse(next_state, reward, dcontext, dobs_dcontext, dreward_dcontext, dreward_dnextobs):
        shift = np.einsum("bnd,bd->bn", dobs_dcontext, dcontext)
        moved = reward + np.sum(dreward_dcontext * dcontext, axis=1)
        return next_state + shift, moved + (np.sum(dreward_dnextobs * shift, axis=1) if chain else 0.0)
    return cse


THEORY_ANSWERS = {  # label: (right answer, wrong answer), built lazily
    "nb01-derivative": (lambda: _row_answer(), lambda: _row_answer(-1.0)),
    "nb01-residual": (lambda: 0.5 * 0.9 * 200 / 0.1**3, lambda: 0.9 * 200 / 0.1**3),
    "nb01-custom-reward": (lambda: 100 * np.exp(-4.5), lambda: 100.0),
    "nb01-optimal": (lambda: 2.0, lambda: 1.0),
    "nb01-projection": (lambda: lambda w0: abs(w0) / 2, lambda: lambda w0: w0**2),
    "nb02-gamma": (lambda: _theorem3_at(0.48), lambda: _theorem3_at(0.45)),
    "nb02-slack": (lambda: _q2_max(), lambda: _q2_max(sup=True)),
    "nb02-affine-lqr": (lambda: _lqr(sympy.zeros(2, 2)), lambda: _lqr(sympy.Rational(1, 5) * sympy.eye(2))),
    "nb05-ess": (lambda: lambda ratio: np.exp(-ratio**2), lambda: lambda ratio: np.exp(-ratio**2 / 2)),
    "nb05-clip": (lambda: 0.2 * 0.1, lambda: 0.05),
}
DEEP_ANSWERS = {
    "nb03-write-cse": (lambda: _cse(), lambda: _cse(chain=False)),
    "nb03-by-hand": (lambda: (0.35, np.array([1.1, 0.5]), 0.5), lambda: (0.35, np.array([1.1, 0.5]), 0.51)),
    "nb03-ball": (lambda: (0.25, 0.125), lambda: (0.25, 0.25)),
    "nb04-antgoal": (lambda: ({"dreward_dcontext", "dreward_dnextobs"}, False), lambda: ({"dreward_dcontext"}, False)),
    "nb05-bias": (lambda: (0.5, 0.5 * np.sqrt(2 / np.pi)), lambda: (0.5, 0.5)),
    # two coordinates at their upper edge, each by (3 f(c) - 4 f(c - h) + f(c - 2h)) / 2h on the twin: 2 x 3; the
    # central differences of an inner point would take 2 x 2
    "nb06-edge": (lambda: 6, lambda: 4),
}


def _mentions(text: str, value: float) -> bool:
    """Whether ``text`` shows ``value`` to 2-6 significant digits (a hint must not give the answer away)."""
    return any(re.search(rf"(?<![\d.]){re.escape(f'{value:.{digits}g}')}(?![\d])", text) for digits in range(2, 7))


def test_every_exercise_has_a_check_or_a_reason_for_none():
    labels = [label for path in SOURCES for label in LABEL.findall(path.read_text())]
    assert sorted(labels) == sorted([*EXERCISES, *UNCHECKED]) and not set(EXERCISES) & set(UNCHECKED)
    assert set(THEORY_ANSWERS) | set(DEEP_ANSWERS) == set(EXERCISES), "a check without its test below"
    assert {label for label, exercise in EXERCISES.items() if exercise.module.endswith("theory_checks")} == set(THEORY_ANSWERS)


@pytest.mark.parametrize("label", sorted(EXERCISES))
def test_the_student_edition_calls_each_check_under_its_exercise(editions, label):
    (stem,) = [path.stem for path in SOURCES if path.stem.startswith(EXERCISES[label].notebook + "_")]
    text = _text(nbformat.read(editions["student"] / f"{stem}.ipynb", as_version=4))
    call = re.search(rf'^check\("{label}", (\w+)\)$', text, re.M)
    assert call, f"no check(\"{label}\", ...) in the student edition"
    if label != "nb03-write-cse":  # the others give the student a None to replace
        assert re.search(rf"^{call.group(1)} = None  # TODO: ", text, re.M)
    assert text.index(f":label: {label}") < call.start(), "the check comes before its exercise"


def _verdicts(label, answers, capsys):
    right, wrong_answer = (make() for make in answers)
    assert verdict(label, right).status == "right", verdict(label, right).hint
    result = verdict(label, wrong_answer)
    assert result.status == "wrong" and result.hint
    check(label, wrong_answer)
    printed = capsys.readouterr().out
    assert printed.startswith(f"✗ {label}: not right yet.")
    if isinstance(right, float) and not float(right).is_integer():
        assert not _mentions(printed, right), f"the hint shows the answer: {printed}"
    assert verdict(label, None).status == "missing"


@pytest.mark.parametrize("label", sorted(THEORY_ANSWERS))
def test_each_theory_check_takes_the_right_answer_and_hints_at_a_wrong_one(label, capsys):
    _verdicts(label, THEORY_ANSWERS[label], capsys)


@pytest.mark.parametrize("label", sorted(DEEP_ANSWERS))
def test_each_deep_check_takes_the_right_answer_and_hints_at_a_wrong_one(label, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("mujoco")
    _verdicts(label, DEEP_ANSWERS[label], capsys)


def test_a_check_survives_answers_of_the_wrong_kind():
    assert verdict("nb01-residual", "90000").status == "wrong"
    assert verdict("nb01-derivative", [1.0, 2.0]).status == "wrong"
    assert "raised ZeroDivisionError" in verdict("nb01-projection", lambda w0: 1 / 0).hint
    assert verdict("nb02-affine-lqr", 3).status == "wrong"


def test_an_unknown_or_unchecked_label_is_an_input_error():
    with pytest.raises(InputError, match="no exercise 'nb01-typo'"):
        check("nb01-typo", 1.0)
    with pytest.raises(InputError, match="nb04-contacts has no check"):
        check("nb04-contacts", 1.0)


def test_check_records_each_verdict_for_the_grader(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CEBE_COURSE_RESULTS", str(tmp_path / "verdicts.jsonl"))
    check("nb05-clip", None)
    check("nb05-clip", 0.02)
    lines = [json.loads(line) for line in (tmp_path / "verdicts.jsonl").read_text().splitlines()]
    assert [line["status"] for line in lines] == ["missing", "right"]
    assert capsys.readouterr().out.splitlines() == [
        "… nb05-clip: no answer yet: replace the None with your answer (a number: the |dc| along p from which the "
        "clipped estimator errs) and run the cell again.", "✓ nb05-clip: right."]


@pytest.mark.parametrize("module", ["cebe_course.verdicts", "cebe_course.checks", "cebe_course.editions"])
def test_docstring_examples(module):
    assert doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


# ------------------------------------------------------------------------------------------------ grading
# Submissions are the student edition of notebook 01 with its TODO lines filled in, as a student would.
RIGHT_FILLS = {
    "my_row_derivative": "(cmdp.mdp([p0 + 1e-6]).transition[above_cliff * 4 + action_down]"
                         " - cmdp.mdp([p0 - 1e-6]).transition[above_cliff * 4 + action_down]).toarray()[0] / 2e-6",
    "my_rho_limit": "0.5 * (1 - p0) * 200 / p0**3",
    "my_constant_ratio": "100 * np.exp(-4.5)",
    "my_optimal_slope": "2.0",
    "my_projection_threshold": "lambda w0: abs(w0) / 2",
}


def _submission(student: Path, folder: Path, fills: dict) -> Path:
    notebook = nbformat.read(student, as_version=4)
    for cell in notebook.cells:
        for name, expression in fills.items():
            cell.source = re.sub(rf"^{name} = None  # TODO: .*$", f"{name} = {expression}", cell.source, flags=re.M)
    folder.mkdir()
    nbformat.write(notebook, folder / student.name)
    return folder / student.name


def test_grade_passes_a_right_submission(editions, tmp_path, capsys):
    path = _submission(editions["student"] / "01_cmdp_and_cebe.ipynb", tmp_path / "right", RIGHT_FILLS)
    assert main(["grade", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] and not report["errors"]
    assert {label: entry["status"] for label, entry in report["exercises"].items()} == {
        label: "right" for label in EXERCISES if label.startswith("nb01-")}


def test_grade_fails_a_wrong_submission_and_says_where(editions, tmp_path, capsys):
    fills = {**RIGHT_FILLS, "my_rho_limit": "(1 - p0) * 200 / p0**3"}  # Taylor's 1/2 forgotten
    del fills["my_projection_threshold"]  # left as None
    path = _submission(editions["student"] / "01_cmdp_and_cebe.ipynb", tmp_path / "wrong", fills)
    assert main(["grade", str(path)]) == 1
    printed = capsys.readouterr().out
    lines = {line.split()[0]: line for line in printed.splitlines() if line.startswith("  nb01-")}
    assert "  right" in lines["nb01-derivative"] and "  right" in lines["nb01-optimal"]
    assert "  wrong: " in lines["nb01-residual"] and "  missing: " in lines["nb01-projection"]
    assert printed.rstrip().endswith("3 of 5 exercises right")
    assert not _mentions(printed, 90000.0) and "9e+04" not in printed


@pytest.mark.parametrize("content, name", [("print('no checks here')\n", "plain.py"), ("not json", "broken.ipynb"),
                                           ("", "notes.txt")])
def test_grade_refuses_what_it_cannot_grade(tmp_path, capsys, content, name):
    (tmp_path / name).write_text(content)
    assert main(["grade", str(tmp_path / name)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("cebe-course: error: ") and len(error.strip().splitlines()) == 1, error


def test_the_exercises_command_lists_every_exercise(capsys):
    assert main(["exercises"]) == 0
    printed = capsys.readouterr().out
    assert all(label in printed for label in [*EXERCISES, *UNCHECKED])


def test_the_editions_page_names_the_exercises_without_a_check():
    page = (ROOT / "docs" / "editions.md").read_text()
    named = set(re.findall(r"^\| `(nb\d\d-[\w-]+)` \|", page, re.M))
    assert named == set(UNCHECKED), named
