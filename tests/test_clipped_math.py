"""No display equation of the built course site is cut off at 1000 or 1400 px, or fails to typeset:
``docs/check_clipped_math.py`` opens every page in headless Chromium and measures each typeset equation. One cause
of a failure is also checked in the sources, without a browser: a ``$$`` display with a line break and a ``\\tag``.

It needs a built site (``docs/_build/html``, the README's build command, or ``CEBE_SITE`` naming another folder)
and Chromium on the PATH; without either it skips and says which is missing. It does not build the site itself:
``tests/test_docs.py`` does that, and one build per test run is enough."""

import os
import re
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

import check_clipped_math  # noqa: E402  (a script of docs/, not a package module)

SITE = Path(os.environ.get("CEBE_SITE", ROOT / "docs" / "_build" / "html"))


@pytest.fixture(scope="module")
def equations():
    if check_clipped_math.find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): the clipped-math check needs a browser")
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built site at {SITE}: build it with `python -m sphinx -W -b html docs docs/_build/html`")
    return check_clipped_math.check(SITE, widths=(1000, 1400))


def test_every_page_with_math_was_measured(equations):
    pages = {equation.page for equation in equations}
    assert "index.html" in pages and "theory.html" in pages, sorted(pages)
    assert any(page.startswith("notebooks/") for page in pages), sorted(pages)


def test_no_display_equation_is_clipped_or_off_screen(equations):
    bad = [equation.line() for equation in equations if equation.status in check_clipped_math.BAD]
    assert not bad, "display equations a reader cannot see whole:\n" + "\n".join(bad)


DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)


def _markdown_sources():
    for path in sorted((ROOT / "notebooks").glob("*.py")):
        for index, cell in enumerate(jupytext.read(path).cells):
            if cell.cell_type == "markdown":
                yield f"{path.name} cell {index}", cell.source
    for path in sorted((ROOT / "docs").glob("*.md")):
        yield path.name, path.read_text(encoding="utf-8")


def test_no_dollar_display_has_both_a_line_break_and_a_tag():
    """Sphinx wraps every ``$$`` display that contains ``\\\\`` in ``\\begin{split}``, where MathJax refuses ``\\tag``
    and shows a red error instead of the equation. A tagged multi-line equation is written as a
    ``\\begin{equation*} ... \\tag{..} \\end{equation*}`` block (myst's amsmath extension leaves it unwrapped)."""
    bad = [f"{where}: {math.strip()[:80]}" for where, text in _markdown_sources() for math in DISPLAY.findall(text)
           if "\\\\" in math and "\\tag" in math]
    assert not bad, "tagged multi-line $$ displays (MathJax: \\tag not allowed in split environment):\n" + "\n".join(bad)
