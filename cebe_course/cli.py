"""The ``cebe-course`` command: the course's student and teacher editions.

::

    cebe-course student --out DIR        # every notebook without solutions and teaching notes
    cebe-course teacher --out DIR        # every notebook with solutions and teaching notes

Bad input (an unknown subcommand, an --out that cannot be a folder, a source folder without notebooks) prints
one line ``cebe-course: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cebe_cli import InputError, OneLineParser, output_folder

PROGRAM = "cebe-course"
NOTEBOOK_TOOLS = ("jupytext", "nbformat")  # imported by the subcommands that need them (notebooks extra)
#: the course's notebooks in a source checkout (the package's parent folder)
DEFAULT_SOURCE = Path(__file__).resolve().parents[1] / "notebooks"


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog=PROGRAM, description="Student and teacher editions of the course.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for edition, what in (("student", "without solutions and teaching notes"),
                          ("teacher", "with solutions and teaching notes")):
        command = commands.add_parser(edition, help=f"write every notebook {what}")
        command.add_argument("--out", required=True, type=Path, help="folder to write the notebooks (.ipynb) into")
        command.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                             help="folder of the source notebooks (jupytext .py); default: the checkout's notebooks/")
    return parser


def _run_edition(args) -> int:
    from cebe_course.editions import write_edition  # the notebook tools (jupytext, nbformat) of the notebooks extra

    folder = output_folder(args.out, "--out")
    for path in write_edition(args.command, args.source, folder):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return _run_edition(args)
    except InputError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        if error.name not in NOTEBOOK_TOOLS:
            raise
        print(f"{PROGRAM}: error: {error.name} is missing: install the notebooks extra (pip install -e \".[notebooks]\")",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
