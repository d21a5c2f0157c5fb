"""The deep side's input errors, below every layer so that any module may raise them.

:class:`ConfigError` is the project's :class:`~cebe_cli.InputError` (one error type for both halves):
a command line catches ``InputError`` alone, prints its one line and exits with status 2, while any other
exception, a bug, keeps its traceback.

>>> issubclass(ConfigError, InputError)
True
"""

from cebe_cli import InputError

__all__ = ["InputError", "ConfigError"]


class ConfigError(InputError):
    """Bad user input (unknown task or method, eps <= 0, a context outside the box, ...): a one-line message."""
