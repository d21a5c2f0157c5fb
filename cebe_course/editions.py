"""Student and teacher editions of the course's notebooks.

The sources (``notebooks/*.py``, jupytext percent files) hold everything, and two markers say what is for whom:

- **solutions**: sphinx-exercise's gated form, from a markdown cell with ``:::{solution-start} LABEL`` to one
  with ``:::{solution-end}`` (the course site folds them); the code cells in between are the solution's;
- **teaching notes**: markdown blocks fenced as ``:::{admonition} Teaching note`` ... ``:::`` (on the course site
  a folded admonition; add ``:class: dropdown`` to keep it folded).

The **student edition** leaves out every solution (the cells from its start to its end, and the start and end
directives themselves) and every teaching note; a markdown cell left empty is dropped.  What stays runs top to
bottom: an exercise's own cells (the ``check(...)`` cell with its ``None`` to fill in, a stub such as notebook
03's ``my_cse``) stand outside the solutions, and no cell after a solution uses a name only a solution defines
(``tests/test_course.py`` runs a student edition).  The **teacher edition** is the source as it is: solutions
(folded in JupyterLab, as on the site) and teaching notes.  Both editions are ``.ipynb`` files without outputs,
without the jupytext pairing of the sources, and say which edition they are in their metadata
(``cebe_course.edition``).

>>> print(remove_teaching_notes("Intro.\\n\\n:::{admonition} Teaching note\\nFor the teacher.\\n:::\\n\\nMore."))
Intro.
<BLANKLINE>
More.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jupytext
import nbformat

from cebe_cli import InputError, write_user_file

__all__ = ["EDITIONS", "TEACHING_NOTE", "EditionError", "remove_teaching_notes", "student_edition", "teacher_edition",
           "source_notebooks", "write_edition"]

EDITIONS = ("student", "teacher")
TEACHING_NOTE = "Teaching note"
_NOTE_START = re.compile(r"^(?P<fence>:{3,})\{admonition\}[ \t]+" + re.escape(TEACHING_NOTE) + r"\b.*$")
_SOLUTION_START = re.compile(r"^:{3,}\{solution-start\}[ \t]*(?P<label>\S*)", re.M)
_SOLUTION_END = re.compile(r"^(?P<fence>:{3,})\{solution-end\}.*$", re.M)


class EditionError(InputError):
    """A source notebook whose markers do not pair up (a solution without its end, a teaching note not closed)."""


def remove_teaching_notes(text: str, where: str = "a markdown cell") -> str:
    """``text`` without its teaching-note blocks (each from its opening fence to the same fence alone on a line)."""
    kept, closing = [], None
    for line in text.split("\n"):
        if closing is None:
            match = _NOTE_START.match(line)
            if match:
                closing = match.group("fence")
            else:
                kept.append(line)
        elif line.strip() == closing:
            closing = None
    if closing is not None:
        raise EditionError(f"{where}: a {TEACHING_NOTE!r} block is not closed by a line {closing}")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


def _blank(cell):
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _finish(notebook, cells, edition: str, source: str):
    result = copy.deepcopy(notebook)
    result.cells = cells
    result.metadata.pop("jupytext", None)
    result.metadata["cebe_course"] = {"edition": edition, "source": source}
    nbformat.validate(result)
    return result


def student_edition(notebook, source: str = "notebook"):
    """The student edition of ``notebook`` (an ``nbformat`` notebook): no solution, no teaching note."""
    cells, inside = [], None
    for index, cell in enumerate(notebook.cells):
        where = f"{source}, cell {index}"
        text = cell.source
        if cell.cell_type == "markdown" and inside is None:
            start = _SOLUTION_START.search(text)
            if start:
                inside, before = start.group("label") or "?", text[: start.start()]
                if before.strip():
                    cells.append(_blank(nbformat.v4.new_markdown_cell(remove_teaching_notes(before, where))))
            elif _SOLUTION_END.search(text):
                raise EditionError(f"{where}: a solution-end without a solution-start")
        if inside is not None:
            end = _SOLUTION_END.search(text) if cell.cell_type == "markdown" else None
            if end is None:
                continue
            inside, lines = None, text[end.end():].split("\n")
            # the directive's own closing fence, then whatever follows it in the cell
            rest = "\n".join(lines[next((i for i, line in enumerate(lines) if line.strip() == end.group("fence")),
                                        len(lines) - 1) + 1:])
            if not rest.strip():
                continue
            cell = copy.deepcopy(cell)
            cell.source = rest
            text = rest
        if cell.cell_type == "markdown":
            text = remove_teaching_notes(text, where)
            if not text.strip():
                continue
            cell = copy.deepcopy(cell)
            cell.source = text
        cells.append(_blank(cell))
    if inside is not None:
        raise EditionError(f"{source}: the solution of {inside} has no solution-end")
    return _finish(notebook, cells, "student", source)


def teacher_edition(notebook, source: str = "notebook"):
    """The teacher edition of ``notebook``: every cell, solutions and teaching notes included, without outputs."""
    for index, cell in enumerate(notebook.cells):  # the same markers must pair up as for the student edition
        if cell.cell_type == "markdown":
            remove_teaching_notes(cell.source, f"{source}, cell {index}")
    student_edition(notebook, source)
    return _finish(notebook, [_blank(cell) for cell in notebook.cells], "teacher", source)


def source_notebooks(folder) -> list[Path]:
    """The course's notebooks in ``folder``: its jupytext percent files ``*.py``, in order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--source {folder}: no such folder")
    paths = sorted(folder.glob("[0-9]*.py"))
    if not paths:
        raise InputError(f"--source {folder}: no notebooks (NN_name.py jupytext files) in this folder")
    return paths


def write_edition(edition: str, source_folder, out_folder) -> list[Path]:
    """Write the ``edition`` (``"student"`` or ``"teacher"``) of every notebook of ``source_folder`` into
    ``out_folder`` as ``NAME.ipynb``; return the paths written.  Every notebook is built before any is written."""
    if edition not in EDITIONS:
        raise InputError(f"unknown edition {edition!r}; choose one of {', '.join(EDITIONS)}")
    build = student_edition if edition == "student" else teacher_edition
    built = {}
    for path in source_notebooks(source_folder):
        built[path.stem] = build(jupytext.read(path), source=path.name)
    written = []
    for stem, notebook in built.items():
        target = Path(out_folder) / f"{stem}.ipynb"
        write_user_file(target, "--out", lambda temporary, notebook=notebook: nbformat.write(notebook, str(temporary)))
        written.append(target)
    return written
