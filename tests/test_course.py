"""The course's editions (``cebe-course student`` / ``teacher``): the student edition holds no solution and no
teaching note of the sources, the teacher edition holds all of them, both are valid notebooks without outputs, a
student edition runs top to bottom (notebook 01, the fastest), and bad input is one line with exit status 2."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import tomllib
import yaml
from nbclient import NotebookClient

from cebe_course.cli import main

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
