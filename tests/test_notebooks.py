"""Every teaching notebook executes top to bottom (small budget) and its paired text form is in sync."""

import os
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PAIRED = sorted(NOTEBOOKS.glob("*.py"))


def _sources(notebook):
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_there_are_notebooks():
    assert PAIRED, "no notebooks/*.py found"


@pytest.mark.parametrize("text_form", PAIRED, ids=lambda p: p.stem)
def test_paired_text_form_is_in_sync(text_form):
    ipynb = text_form.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run `jupytext --sync {text_form.name}`"
    from_text = jupytext.read(text_form)
    from_ipynb = nbformat.read(ipynb, as_version=4)
    assert _sources(from_text) == _sources(from_ipynb), (
        f"{ipynb.name} and {text_form.name} differ: run `jupytext --sync notebooks/{text_form.name}`"
    )


@pytest.mark.parametrize("text_form", PAIRED, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_with_the_small_budget(text_form, monkeypatch):
    monkeypatch.setenv("CEBE_NOTEBOOK_BUDGET", "small")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(text_form.with_suffix(".ipynb"), as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
