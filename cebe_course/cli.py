"""The ``cebe-course`` command: the course's editions, its exercises, and grading.

::

    cebe-course student --out DIR        # every notebook without solutions and teaching notes
    cebe-course teacher --out DIR        # every notebook with solutions and teaching notes
    cebe-course exercises                # which exercises have a check, what answer each wants
    cebe-course grade NOTEBOOK           # run a student's notebook, report each checked exercise

``grade`` exits 0 when every checked exercise of the notebook is right, 1 otherwise. Bad input (an unknown
subcommand, an --out that cannot be a folder, a missing or unreadable notebook) prints one line
``cebe-course: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cebe_cli import InputError, OneLineParser, output_folder
from cebe_course.checks import EXERCISES, UNCHECKED

PROGRAM = "cebe-course"
NOTEBOOK_TOOLS = ("jupytext", "nbformat", "nbclient")  # imported by the subcommands that need them (notebooks extra)
#: the course's notebooks in a source checkout (the package's parent folder)
DEFAULT_SOURCE = Path(__file__).resolve().parents[1] / "notebooks"


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog=PROGRAM, description="Student and teacher editions of the course, and grading.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for edition, what in (("student", "without solutions and teaching notes"),
                          ("teacher", "with solutions and teaching notes")):
        command = commands.add_parser(edition, help=f"write every notebook {what}")
        command.add_argument("--out", required=True, type=Path, help="folder to write the notebooks (.ipynb) into")
        command.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                             help="folder of the source notebooks (jupytext .py); default: the checkout's notebooks/")
    commands.add_parser("exercises", help="list the exercises: the checked ones with the answer each wants, the others")
    grade = commands.add_parser("grade", help="run a student's notebook and report each checked exercise")
    grade.add_argument("notebook", type=Path, help="the notebook (.ipynb, or a jupytext .py)")
    grade.add_argument("--budget", choices=("small", "full"), default="small",
                       help="CEBE_NOTEBOOK_BUDGET for the run (default small: shorter sweeps and training)")
    grade.add_argument("--timeout", type=int, default=600, help="seconds one cell may run (default 600)")
    grade.add_argument("--json", action="store_true", help="print the grade as JSON")
    return parser


def _run_edition(args) -> int:
    from cebe_course.editions import write_edition  # the notebook tools (jupytext, nbformat) of the notebooks extra

    folder = output_folder(args.out, "--out")
    for path in write_edition(args.command, args.source, folder):
        print(path)
    return 0


def _run_exercises(args) -> int:
    for exercise in EXERCISES.values():
        print(f"{exercise.label:<20} {exercise.answer}")
    for label, why in UNCHECKED.items():
        print(f"{label:<20} no check: {why}")
    return 0


def _run_grade(args) -> int:
    from cebe_course.grading import grade  # nbclient, of the notebooks extra

    if args.timeout < 1:
        raise InputError(f"--timeout must be at least 1 second, got {args.timeout}")
    outcome = grade(args.notebook, budget=args.budget, timeout=args.timeout)
    print(json.dumps(outcome.to_dict(), indent=2) if args.json else outcome.render())
    return 0 if outcome.passed else 1


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        run = {"student": _run_edition, "teacher": _run_edition, "exercises": _run_exercises, "grade": _run_grade}
        return run[args.command](args)
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
