"""What both command lines (``cebe-theory`` and ``cebe-deep``) share: one-line usage errors.

Bad input must print one line ``PROGRAM: error: ...`` and exit with status 2, without argparse's usage
dump or a traceback; :class:`OneLineParser` turns argparse's errors into :class:`UsageError` so that each
``main`` reports them together with the library's own ``ValueError`` s.
"""

import argparse

__all__ = ["UsageError", "OneLineParser"]


class UsageError(Exception):
    """Bad command-line input; reported as one line with exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message):
        raise UsageError(message)
