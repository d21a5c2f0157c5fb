"""What both halves share at their command lines: the project's input-error type and one-line usage errors.

``cebe_theory`` and ``cebe_deep`` both import from here; this module imports nothing of either, so neither
half owns the other's plumbing. Library functions raise :class:`InputError` for input the caller can fix (a
context outside its box, a discount outside ``[0, 1)``, a malformed table). Bad command-line input prints one
line ``PROGRAM: error: ...`` and exits with status 2, without argparse's usage dump or a traceback:
:class:`OneLineParser` turns argparse's errors into :class:`UsageError`, a subclass, so that each ``main``
catches ``InputError`` alone (plus ``OSError`` on the user's paths) and a real bug still shows its traceback.
Files the user names are written atomically (:func:`write_user_file`).

>>> issubclass(UsageError, InputError) and issubclass(InputError, ValueError)
True
>>> parser = OneLineParser(prog="demo")
>>> _ = parser.add_argument("--n", type=int)
>>> try:
...     parser.parse_args(["--n", "x"])
... except InputError as error:
...     print(error)
argument --n: invalid int value: 'x'
"""

import argparse
import math
import os
from pathlib import Path

__all__ = ["InputError", "UsageError", "OneLineParser", "write_user_file", "finite_number", "output_folder"]


class InputError(ValueError):
    """Input the caller can fix; the message names the argument, its value and what is allowed."""


class UsageError(InputError):
    """Bad command-line input (argparse's own errors included); reported as one line with exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message):
        raise UsageError(message)


def write_user_file(path, flag: str, write) -> None:
    """Run ``write(path)`` for a file the user named with ``flag``, atomically: the writer fills a temporary file
    beside it (same suffix, so matplotlib and pandas infer the format), which then replaces ``path``, so an error
    or an interrupt midway never leaves a half-written file or a figure drawn from less data in its place.  A
    folder is filled in place.  An ``OSError`` (disk full, permissions changed meanwhile) becomes one
    :class:`UsageError` line naming the flag and the path."""
    path = Path(path)
    temporary = None if path.is_dir() else path.with_name(f".{path.name}.partial{path.suffix}")
    try:
        write(path if temporary is None else temporary)
        if temporary is not None and temporary.exists():  # (a writer may write the final name itself)
            os.replace(temporary, path)
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot write ({error.strerror or error})") from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def finite_number(text: str) -> float:
    """An argparse ``type``: a finite float, else argparse's one-line error naming the text."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def output_folder(path, flag: str) -> Path:
    """Create the folder the user named with ``flag`` (with parents), before any work, and check that it is
    writable; otherwise one :class:`UsageError` line naming the flag and the path."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot create this folder ({error.strerror or error})") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{flag} {path}: this folder is not writable")
    return folder
