"""Every teaching notebook executes top to bottom (small budget), shows its figures, and its paired text
form is in sync."""

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PAIRED = sorted(NOTEBOOKS.glob("*.py"))
# A cell that draws: it makes a pyplot figure or shows one.
PLOT_CALL = re.compile(r"\bplt\.(subplots|figure|show)\(")
# A cell that plots: it makes or shows a pyplot figure, draws on axes, or calls one of the package's plotting helpers.
DRAWING_CALL = re.compile(
    r"\bplt\.(subplots|figure|show)\("
    r"|\.(plot|loglog|semilogx|semilogy|fill_between|scatter|bar|barh|imshow|errorbar|hist|axvline|axhline|axvspan)\("
    r"|\bplot_\w+\("
)
VISIBLE_PLOT_LINES = 10


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
def test_notebook_runs_top_to_bottom_and_shows_its_figures(text_form, monkeypatch):
    # No backend is forced: the kernel uses matplotlib's inline backend, as in JupyterLab, so a library
    # module that chose a backend at import (and hid every figure) would fail the image check below.
    monkeypatch.setenv("CEBE_NOTEBOOK_BUDGET", "small")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook = nbformat.read(text_form.with_suffix(".ipynb"), as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    code_cells = [(index, cell) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    errors = [f"cell {index}: {output.ename}: {output.evalue}"
              for index, cell in code_cells for output in cell.outputs if output.output_type == "error"]
    assert not errors, "\n".join(errors)
    plot_cells = [(index, cell) for index, cell in code_cells if PLOT_CALL.search(cell.source)]
    without_image = [index for index, cell in plot_cells
                     if not any("image/png" in output.get("data", {}) for output in cell.outputs)]
    assert not without_image, f"{text_form.stem}: plot cells {without_image} produced no image/png output"


@pytest.mark.parametrize("text_form", PAIRED, ids=lambda p: p.stem)
def test_no_visible_plotting_cell_drowns_the_idea(text_form):
    # Plotting longer than a few lines lives in a helper of the package (cebe_theory.course_figures,
    # cebe_deep.report.plots) or is folded on the site with the myst-nb tag "hide-input" (or, in an exercise's
    # solution, hidden with the solution).
    notebook = jupytext.read(text_form)  # the text form is what is edited; the sync test keeps the .ipynb equal
    long = []
    for index, cell in enumerate(notebook.cells):
        hidden = "hide-input" in cell.metadata.get("tags", []) or cell.metadata.get("jupyter", {}).get("source_hidden")
        lines = len(cell.source.strip().splitlines())
        if cell.cell_type == "code" and not hidden and DRAWING_CALL.search(cell.source) and lines > VISIBLE_PLOT_LINES:
            long.append(f"cell {index}: {lines} lines")
    assert not long, f"{text_form.stem}: visible plotting cells over {VISIBLE_PLOT_LINES} lines: {long}"


@pytest.mark.parametrize("text_form", PAIRED, ids=lambda p: p.stem)
def test_the_header_states_the_measured_run_time(text_form):
    """A teacher plans a class with it: the first cell says how long the notebook runs at its default budget."""
    header = next(cell.source for cell in jupytext.read(text_form).cells if cell.cell_type == "markdown")
    found = re.search(r"\*\*Run time\.\*\* Top to bottom at the default budget: ([^()]*?) on a 2-core machine", header)
    assert found and re.search(r"\d", found.group(1)), f"{text_form.stem}: no measured run time in its first cell"
