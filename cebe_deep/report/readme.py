r"""Write-ups whose tables are printed from the CSVs: the blocks ``<!-- report COMMAND ARGS -->`` ... ``<!-- end -->``
of a markdown file are replaced by the output of ``cebe-deep report COMMAND ARGS``, so that every number in the
text comes from the committed results.  A block's path arguments are relative to the markdown file's own
folder (``<!-- report differences authors/PendulumGoal -->`` in results/README.md reads
results/authors/PendulumGoal), so a write-up refreshes the same wherever the command is run from.  The protocol's
verdict table (results/PROTOCOL.md) is the block ``<!-- report protocol FOLDER... [--dynamics FOLDER=NAME]
[--figures FOLDER] [--compact] [--eps EPS] -->``, printed as ``cebe-deep report protocol`` prints it;
``<!-- report replication TABLE RERUN... [--spread] -->`` is ``cebe-deep report replication``'s (a table's verdict
sizes beside its re-run's; with ``--spread``, how much their seeds spread), and ``<!-- report pooled FOLDER... -->``
``cebe-deep report pooled``'s (samples of one task pooled).

>>> text = "intro\n<!-- report zero-action -->\nold\n<!-- end -->\n"
>>> [match.group("command") for match in BLOCK.finditer(text)]
['zero-action']
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Callable

from cebe_deep.errors import InputError
from cebe_deep.report import tables
from cebe_deep.report.protocol.command import block_arguments, print_protocol
from cebe_deep.report.protocol.replication import print_pooled, print_replication

__all__ = ["BLOCK", "block_commands", "refresh_readme"]

BLOCK = re.compile(r"(<!-- report (?P<command>[^>]*?) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)


def block_commands(folder: Path) -> dict[str, Callable[..., None]]:
    """The commands a block may name, with their path arguments resolved against ``folder``."""
    folder = Path(folder)
    return {"verdicts": lambda root: tables.verdicts(folder / root),
            "ablation": lambda results=".": tables.ablation(folder / results),
            "differences": lambda path: tables.differences(folder / path),
            "training": lambda root: tables.training(folder / root),
            "open": lambda experiment, root=".": tables.open_questions(folder / root, experiment),
            "protocol": lambda *arguments: print_protocol(**block_arguments(arguments, folder)),
            "pooled": lambda *paths: print_pooled([folder / path for path in paths]),
            "replication": lambda *arguments: print_replication(
                [folder / path for path in arguments if path != "--spread"], spread="--spread" in arguments)}


def refresh_readme(path: Path, only: list[str] | None = None) -> int:
    """Rewrite the blocks of ``path`` with the commands' output; returns how many were refreshed.

    ``only``: refresh just the blocks whose command starts with one of these (``"open eps"``, ``"differences"``);
    the others are left as they are.  The tables can take minutes (the all-zero action is simulated), so the file
    is read again before it is written and the new tables go into the text as it is then: an edit made
    meanwhile outside the blocks is kept.  An unknown block command or ``only`` prefix is an
    :class:`~cebe_deep.errors.InputError` naming it, raised before anything is computed."""
    path = Path(path)
    commands = block_commands(path.parent)
    for prefix in only or []:
        if not prefix.split() or prefix.split()[0] not in commands:
            raise InputError(f"--only {prefix!r}: not a block command; known: {', '.join(commands)}")

    def wanted(command: str) -> bool:
        return only is None or any(command.split()[:len(prefix.split())] == prefix.split() for prefix in only)

    def check(text: str) -> None:
        unknown = [match.group("command") for match in BLOCK.finditer(text)
                   if match.group("command").split()[0] not in commands]
        if unknown:
            raise InputError(f"{path}: unknown block command {unknown[0]!r}; known: {', '.join(commands)}")

    printed: dict[str, str] = {}

    def table(command: str) -> str:
        if command not in printed:
            name, *arguments = command.split()
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                commands[name](*arguments)
            printed[command] = buffer.getvalue().rstrip() + "\n"
        return printed[command]

    text = path.read_text()
    check(text)
    for match in BLOCK.finditer(text):
        if wanted(match.group("command")):
            table(match.group("command"))
    current = path.read_text()  # as it is now, after the minutes above
    check(current)

    def render(match) -> str:
        if not wanted(match.group("command")):
            return match.group(0)
        return match.group(1) + table(match.group("command")) + match.group(4)

    path.write_text(BLOCK.sub(render, current))
    return sum(wanted(match.group("command")) for match in BLOCK.finditer(current))
