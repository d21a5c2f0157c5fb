"""Find display equations of the built course site that a reader cannot see whole.

Each page of the built site (``docs/_build/html`` by default) is opened in headless Chromium at each width asked
(1000 and 1400 px by default). The pages are served by a small local HTTP server that adds one script to every
page; once MathJax has typeset, the script measures every display equation (``mjx-container[display="true"]``)
and writes what it found into the page, which Chromium's ``--dump-dom`` prints. An equation is

- ``clipped`` when an element around it hides overflow (``overflow-x: hidden`` or ``clip``) and the equation
  reaches past that element's edge: part of it is cut off, with no way to scroll to it;
- ``off-screen`` when it reaches past the right edge of the window without any scroll container on the way;
- ``scrolls`` when it is wider than its column but sits in a container that scrolls sideways (readable, so not
  an error; reported for information);
- ``error`` when MathJax could not typeset it (it shows a red error message instead, e.g. ``\tag`` inside the
  ``split`` environment that Sphinx wraps around every display with a line break ``\\``);
- ``fits`` otherwise.

What is measured is the ink (every glyph, fraction bar and stretched delimiter), not the boxes MathJax lays out
around it: a tagged equation's box takes the whole column even where its ink fits.

Usage (needs ``chromium`` on the PATH, or ``--chromium PATH``; nothing else beyond the standard library)::

    python docs/check_clipped_math.py [--site docs/_build/html] [--widths 1000,1400] [--pages index.html ...]

It prints one line per page and width, then every equation that is clipped or off-screen, and exits with 1 if
there is any, or any MathJax error (0 otherwise; 2 when Chromium or the site is missing).
"""

from __future__ import annotations

import argparse
import functools
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DOCS = Path(__file__).resolve().parent
DEFAULT_SITE = DOCS / "_build" / "html"
DEFAULT_WIDTHS = (1000, 1400)
HEIGHT = 1800
REPORT_ID = "cebe-clipped-math-report"
BAD = ("clipped", "off-screen", "error")

#: Runs in the page: waits for MathJax to finish, measures each display equation, writes JSON into the page.
MEASURE = r"""
<script>
(function () {
  function measure() {
    var width = document.documentElement.clientWidth;
    var rows = [], tex = new Map();
    try {  // the TeX source of each typeset equation, to name it in the report
      Array.from(MathJax.startup.document.math).forEach(function (item) { tex.set(item.typesetRoot, item.math); });
    } catch (error) { /* no MathJax on this page */ }
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (container, index) {
      // The ink: every glyph, fraction bar and stretched delimiter (the boxes around them can be wider than the
      // ink, e.g. a tagged equation's table takes the whole column).
      var left = Infinity, right = -Infinity, status = 'fits', by = '';
      container.querySelectorAll('mjx-c, mjx-line, mjx-stretchy-h, mjx-stretchy-v').forEach(function (glyph) {
        var r = glyph.getBoundingClientRect();
        if (r.width > 0) { left = Math.min(left, r.left); right = Math.max(right, r.right); }
      });
      var inkWidth = right - left;
      if (container.querySelector('mjx-merror')) {
        status = 'error'; by = 'MathJax: ' + container.querySelector('mjx-merror').textContent.slice(0, 80);
        left = right = 0; inkWidth = 0;
      }
      for (var node = container; status !== 'error' && node && node !== document.documentElement; node = node.parentElement) {
        var style = getComputedStyle(node), edge = node.getBoundingClientRect();
        var overflow = style.overflowX;
        if (right <= edge.right + 1 && left >= edge.left - 1) { continue; }
        if (overflow === 'auto' || overflow === 'scroll') {
          status = 'scrolls'; by = node.tagName.toLowerCase() + '.' + (node.className || '');
          right = Math.min(right, edge.right); left = Math.max(left, edge.left);
        } else if (overflow === 'hidden' || overflow === 'clip') {
          status = 'clipped'; by = node.tagName.toLowerCase() + '.' + (node.className || ''); break;
        }
      }
      if (status === 'fits' || status === 'scrolls') {
        if (right > width + 1 || left < -1) { status = 'off-screen'; by = 'window'; }
      }
      var text = (tex.get(container) || '').replace(/\s+/g, ' ').trim().slice(0, 100);
      rows.push({index: index, status: status, by: String(by).slice(0, 90), width: Math.round(inkWidth),
                 column: Math.round(container.getBoundingClientRect().width), right: Math.round(right),
                 id: (container.closest('[id]') || {}).id || '', tex: text});
    });
    return {window: width, equations: rows};
  }
  function report() {
    var pre = document.createElement('pre'), result;
    try { result = measure(); } catch (error) { result = {failed: String(error)}; }
    pre.id = '""" + REPORT_ID + r"""';
    pre.textContent = JSON.stringify(result);
    document.body.appendChild(pre);
  }
  function typeset() {
    var mathjax = window.MathJax;
    if (!document.querySelector('.math, mjx-container')) { return Promise.resolve(); }
    if (mathjax && mathjax.startup && mathjax.startup.promise) { return mathjax.startup.promise; }
    return new Promise(function (resolve) { setTimeout(function () { typeset().then(resolve); }, 100); });
  }
  window.addEventListener('load', function () {
    typeset().then(function () { return document.fonts ? document.fonts.ready : null; })
             .then(function () { setTimeout(report, 300); });
  });
})();
</script>
"""


@dataclass(frozen=True)
class Equation:
    page: str
    width: int
    index: int
    status: str
    by: str
    equation_width: int
    column_width: int
    anchor: str
    tex: str

    def line(self) -> str:
        where = f"#{self.anchor}" if self.anchor else ""
        return (f"{self.page}{where} at {self.width} px: equation {self.index} {self.status} by {self.by} "
                f"({self.equation_width} px wide in a {self.column_width} px column): {self.tex}")


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site, with :data:`MEASURE` added before ``</body>`` of every HTML page."""

    def do_GET(self):  # noqa: N802 (the standard library's name)
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            return super().do_GET()
        body = path.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>", 1).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


def find_chromium(name: str | None = None) -> str | None:
    """The Chromium executable: ``name`` if given (a path or a name on the PATH), else the first of the usual names."""
    for candidate in ([name] if name else ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def chromium_command(chromium: str, width: int, profile: Path) -> list[str]:
    """Headless Chromium at ``width`` x :data:`HEIGHT` px, sandbox off (it runs as root in containers), no GPU."""
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            f"--user-data-dir={profile}", f"--window-size={width},{HEIGHT}", "--virtual-time-budget=30000"]


def pages_of(site: Path) -> list[str]:
    """Every HTML page of the site that a reader reaches (not the search page, not generated indices)."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html")
                  if path.name not in skip and "_static" not in path.parts and "_sources" not in path.parts)


def measure_page(chromium: str, url: str, width: int, profile: Path, timeout: float = 120.0) -> dict:
    """Load ``url`` at ``width`` and return the report the injected script wrote (``{"window", "equations"}``)."""
    command = chromium_command(chromium, width, profile) + ["--dump-dom", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    found = re.search(rf'<pre id="{REPORT_ID}"[^>]*>(.*?)</pre>', done.stdout, re.S)
    if not found:
        raise RuntimeError(f"{url} at {width} px: no report in the page (Chromium exit {done.returncode}: "
                           f"{done.stderr.strip()[-400:]})")
    report = json.loads(html.unescape(found.group(1)))
    if "failed" in report:
        raise RuntimeError(f"{url} at {width} px: the measuring script failed: {report['failed']}")
    return report


def check(site: Path, widths=DEFAULT_WIDTHS, pages=None, chromium: str | None = None) -> list[Equation]:
    """Every display equation of ``pages`` (default: all of the site) at every width, with its status."""
    executable = find_chromium(chromium)
    if executable is None:
        raise FileNotFoundError("no Chromium found (install it: apt-get install chromium)")
    handler = functools.partial(_Handler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    found = []
    try:
        with tempfile.TemporaryDirectory(prefix="cebe-chromium-") as profile:
            for page in pages or pages_of(site):
                for width in widths:
                    url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
                    report = measure_page(executable, url, width, Path(profile))
                    found += [Equation(page, width, row["index"], row["status"], row["by"], row["width"], row["column"],
                                       row["id"], row["tex"]) for row in report["equations"]]
    finally:
        server.shutdown()
        server.server_close()
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=DEFAULT_SITE, help="the built site (default: docs/_build/html)")
    parser.add_argument("--widths", default=",".join(map(str, DEFAULT_WIDTHS)), help="window widths in px, comma-separated")
    parser.add_argument("--pages", nargs="*", help="pages relative to the site (default: every page)")
    parser.add_argument("--chromium", help="the Chromium executable (default: chromium on the PATH)")
    parser.add_argument("--all", action="store_true", help="also list the equations that scroll")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"no built site at {args.site}: build it first (python -m sphinx -W -b html docs docs/_build/html)")
        return 2
    widths = [int(width) for width in args.widths.split(",")]
    try:
        equations = check(args.site, widths, args.pages, args.chromium)
    except FileNotFoundError as error:
        print(error)
        return 2
    for page in dict.fromkeys(equation.page for equation in equations):
        for width in widths:
            here = [equation for equation in equations if equation.page == page and equation.width == width]
            counts = {status: sum(equation.status == status for equation in here)
                      for status in ("fits", "scrolls", *BAD)}
            print(f"{page} at {width} px: " + ", ".join(f"{count} {status}" for status, count in counts.items()))
    bad = [equation for equation in equations if equation.status in BAD or (args.all and equation.status == "scrolls")]
    for equation in bad:
        print(equation.line())
    clipped = [equation for equation in equations if equation.status in BAD]
    print(f"{len(equations)} display equations measured; {len(clipped)} clipped, off-screen or not typeset")
    return 1 if clipped else 0


if __name__ == "__main__":
    sys.exit(main())
