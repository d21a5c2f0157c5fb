"""The course site builds with warnings as errors (the README's command), and what a student opens is there:
every notebook page with its figures, no traceback or error output anywhere, every theorem and definition of
the Theory page, every exercise with a folded solution, and internal links that resolve."""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")
pytest.importorskip("sphinx_proof")
pytest.importorskip("sphinx_exercise")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(path.stem for path in (ROOT / "notebooks").glob("*.py"))
THEOREMS = ("thm-1", "thm-2", "thm-3", "thm-4")
DEFINITIONS = ("def-cmdp", "def-cebe", "def-cse", "def-optimal")
EXERCISE = re.compile(r"^# :::\{exercise\}.*\n# :label: (\S+)", re.M)


class _Page(HTMLParser):
    """Collects a page's ids, links and image sources."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.images, self.scripts = set(), [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site once, exactly as the README says (``-W``: any warning fails), into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    environment = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    command = [sys.executable, "-m", "sphinx", "-W", "-b", "html", "-d", str(out / "doctrees"), "docs", str(out / "html")]
    build = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, f"site build failed:\n{build.stdout[-3000:]}\n{build.stderr[-6000:]}"
    html = out / "html"
    pages = {}
    for path in html.rglob("*.html"):
        parser = _Page()
        text = path.read_text(encoding="utf-8")
        parser.feed(text)
        pages[path] = (text, parser)
    return html, pages


def _page(site, name):
    html, pages = site
    path = html / f"{name}.html"
    assert path in pages, f"{name}.html was not built"
    return pages[path]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_notebook_page_exists_and_shows_a_figure(site, notebook):
    _, page = _page(site, f"notebooks/{notebook}")
    assert any(source.endswith((".png", ".svg", ".jpg")) or source.startswith("data:image") for source in page.images), (
        f"{notebook}: no figure on the page")


def test_no_page_shows_a_traceback_or_an_error_output(site):
    _, pages = site
    bad = []
    for path, (text, _) in pages.items():
        if "Traceback" in text or "highlight-ipythontb" in text or 'class="output traceback' in text:
            bad.append(path.name)
    assert not bad, f"pages with a traceback or an error output: {bad}"


def test_no_notebook_page_shows_stderr(site):
    # warnings printed by libraries (MuJoCo's settotalmass deprecation was one) are noise on a student's page
    _, pages = site
    bad = [path.name for path, (text, _) in pages.items() if 'class="output stderr' in text]
    assert not bad, f"pages with a stderr output: {bad}"


def test_markdown_tables_are_rendered_as_tables(site):
    # a markdown table (notebook 05 displays the committed answers with Markdown(...)) shown as its raw pipes
    # and dashes means the output was parsed without table support
    _, pages = site
    bad = []
    for path, (text, _) in pages.items():
        prose = re.sub(r"<pre.*?</pre>", "", text, flags=re.S)
        if re.search(r"\|\s*(---|—|–)+\s*\|", prose):
            bad.append(path.name)
    assert not bad, f"pages with a raw markdown table: {bad}"


def test_math_is_typeset_without_the_network(site):
    # MathJax comes from the site's own _static (sphinx-mathjax-offline), and no page loads a script from elsewhere
    html, pages = site
    text, page = _page(site, "theory")
    mathjax = [source for source in page.scripts if "mathjax" in source.lower()]
    assert mathjax and all((html / "theory.html").parent.joinpath(source).resolve().exists() for source in mathjax), mathjax
    remote = sorted({f"{path.name}: {source}" for path, (_, parsed) in pages.items() for source in parsed.scripts
                     if urlsplit(source).scheme in ("http", "https") or source.startswith("//")})
    assert not remote, f"scripts loaded from the network: {remote[:10]}"


def test_theory_page_has_every_definition_and_theorem_with_its_check(site):
    text, page = _page(site, "theory")
    missing = [label for label in THEOREMS + DEFINITIONS if label not in page.ids]
    assert not missing, f"theory.html lacks {missing}"
    assert text.count('class="proof theorem') >= len(THEOREMS)
    assert text.count('class="proof definition') >= len(DEFINITIONS)
    assert len(page.images) >= len(THEOREMS), "each theorem's check should come with its figure"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_exercise_is_present_with_a_folded_solution(site, notebook):
    labels = EXERCISE.findall((ROOT / "notebooks" / f"{notebook}.py").read_text(encoding="utf-8"))
    assert 2 <= len(labels) <= 5, f"{notebook}: {len(labels)} exercises (want 2 to 5)"
    text, page = _page(site, f"notebooks/{notebook}")
    missing = [label for label in labels if label not in page.ids]
    assert not missing, f"{notebook}: exercises missing on the page: {missing}"
    solutions = re.findall(r'<div[^>]*class="([^"]*\bsolution\b[^"]*)"', text)
    assert len(solutions) >= len(labels), f"{notebook}: {len(solutions)} solutions for {len(labels)} exercises"
    assert all("dropdown" in classes for classes in solutions), f"{notebook}: a solution is not folded: {solutions}"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_cells_tagged_hide_input_are_folded_on_the_page(site, notebook):
    # myst-nb folds the source of a cell tagged "hide-input" into a <details> block ("Show code cell source")
    tagged = (ROOT / "notebooks" / f"{notebook}.py").read_text(encoding="utf-8").count('tags=["hide-input"]')
    text, _ = _page(site, f"notebooks/{notebook}")
    folded = len(re.findall(r'<div class="cell tag_hide-input[^"]*">\s*<details class="[^"]*\bhide above-input', text))
    assert folded == tagged, f"{notebook}: {tagged} cells tagged hide-input, {folded} folded on the page"


def test_internal_links_resolve(site):
    html, pages = site
    broken = []
    for path, (_, page) in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(html)} -> {link}")
            elif parts.fragment and target.suffix == ".html" and target in pages:
                if unquote(parts.fragment) not in pages[target][1].ids:
                    broken.append(f"{path.relative_to(html)} -> {link} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(sorted(set(broken))[:40])
