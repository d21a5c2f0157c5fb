"""Sphinx configuration of the course site (build: ``python -m sphinx -W -b html docs docs/_build/html``).

The site is built from the sources, never from copies:

- ``docs/notebooks`` is a link to ``../notebooks``; each notebook's ``.ipynb`` (committed without outputs, the
  pair of its jupytext ``.py``) is executed by myst-nb at every build, at ``CEBE_NOTEBOOK_BUDGET=small``;
- ``theory.md`` and ``results.md`` are MyST notebooks executed at build time: the theory checks call
  ``cebe_theory``, the results page reads the committed files under ``results/``;
- the API pages list every module of ``cebe_theory`` and ``cebe_deep`` found at build time (autodoc);
- the teacher's pack (slide figures and the one-page handout) is drawn by ``docs/teacher_pack.py`` into
  ``docs/_generated/teacher_pack`` before the pages are read;
- the student and teacher editions of the notebooks (``cebe_course.editions``) are written and zipped into
  ``docs/_generated/editions`` before the pages are read.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))  # teacher_pack
sys.path.insert(0, str(ROOT))  # the package, also when it is not installed in develop mode

# Every executed page runs at the small budget (shorter sweeps and training; docs/index.md says what it changes).
os.environ["CEBE_NOTEBOOK_BUDGET"] = os.environ.get("CEBE_DOCS_BUDGET", "small")
# A non-interactive MPLBACKEND (the test suite sets Agg) would stop the kernels from showing figures inline.
os.environ.pop("MPLBACKEND", None)

project = "cebe: context-enhanced Bellman equations"
author = "the cebe contributors"
copyright = "2025, the cebe contributors"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 served from the site's own _static: the pages typeset math offline
    "sphinx_proof",
    "sphinx_exercise",
    "sphinx_togglebutton",
]

exclude_patterns = [
    "_build",
    "_generated",
    "**.ipynb_checkpoints",
    "notebooks/README*",
    "Thumbs.db",
    ".DS_Store",
]

# --- MyST and myst-nb --------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"  # every build executes every notebook: a stale cell fails the build
nb_execution_timeout = 900
nb_execution_raise_on_error = True  # an exception in any cell stops the build, naming the cell
nb_execution_show_tb = True
nb_merge_streams = True
nb_output_stderr = "show"
nb_render_markdown_format = "gfm"  # markdown outputs (display(Markdown(...))) with tables, as JupyterLab shows them
# tqdm draws an ipywidget in Jupyter; a static page can only show its text form.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- theme -------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "cebe: a course on CEBE and CSE"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "show_navbar_depth": 1,
}

# --- autodoc -----------------------------------------------------------------------------------------
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_mock_imports = ["ray"]

API_PACKAGES = {"api/theory": "cebe_theory", "api/deep": "cebe_deep"}
API_MARKER = "<!-- modules -->"


def _modules(package_name: str) -> list[str]:
    """Every module of a package, found at build time (so a module added or split needs no edit here)."""
    package = importlib.import_module(package_name)
    names = [package_name]
    for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
        if info.name.rsplit(".", 1)[-1] in {"__main__"}:
            continue
        names.append(info.name)
    return sorted(names)


def _api_source(app, docname: str, source: list[str]) -> None:
    """Replace the marker of an API page with one ``automodule`` per module.  ``:ignore-module-all:`` documents
    only what each module defines itself, so a re-export facade does not document its members twice."""
    if docname not in API_PACKAGES or API_MARKER not in source[0]:
        return
    blocks = []
    for name in _modules(API_PACKAGES[docname]):
        blocks.append(f"## `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}\n   :ignore-module-all:\n```\n")
    source[0] = source[0].replace(API_MARKER, "\n".join(blocks))


def _docstring_as_text(app, what, name, obj, options, lines) -> None:
    """Show each docstring as preformatted text, exactly as a reader of the source sees it.

    The docstrings are plain text with the paper's formulas and equation tags (``|dc|``, ``d_c T``, aligned
    tables), not reStructuredText: parsed as reST, ``|dc|`` would be a substitution and an aligned formula an
    indentation error. A literal block keeps them readable and keeps the warning-free build independent of how
    the package's docstrings are written."""
    if not any(line.strip() for line in lines):
        return
    text = [line.rstrip() for line in lines]
    lines[:] = ["::", ""] + ["    " + line if line else "" for line in text] + [""]


RESULTS_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?!https?:|#|mailto:)([^)\s]+)\)")


def _results_links(app, relative_path, parent_docname, content) -> None:
    """In ``results/README.md`` (included by ``results.md``), a link to a file next to it (``commands.sh``)
    becomes a download of that file, so the include needs no edited copy of the README."""
    if "results" not in Path(relative_path).parent.parts:
        return
    folder = Path(relative_path).parent.as_posix()

    def download(match):
        label, target = match.group(1).replace("`", ""), match.group(2)
        if target.endswith(".md"):
            return label
        return f"{{download}}`{label} <{folder}/{target}>`"

    content[0] = RESULTS_LINK.sub(download, content[0])


def _teacher_pack(app) -> None:
    import teacher_pack

    teacher_pack.build(DOCS / "_generated" / "teacher_pack")


def _editions(app) -> None:
    """The student and teacher editions of the notebooks (``cebe-course``), one zip each, for ``editions.md``."""
    from cebe_course.editions import write_edition

    out = DOCS / "_generated" / "editions"
    for edition in ("student", "teacher"):
        folder = out / f"cebe-course-{edition}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_edition(edition, ROOT / "notebooks", folder)
        shutil.make_archive(str(folder), "zip", root_dir=out, base_dir=folder.name)


def setup(app):
    app.connect("builder-inited", _teacher_pack)
    app.connect("builder-inited", _editions)
    app.connect("source-read", _api_source)
    app.connect("autodoc-process-docstring", _docstring_as_text)
    app.connect("include-read", _results_links)
