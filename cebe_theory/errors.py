"""The project's input-error type, as ``cebe_theory`` names it.

:class:`InputError` is defined once, in the top-level module ``cebe_cli`` that both halves share; it is re-exported
here so that ``from cebe_theory.errors import InputError`` keeps working. Library functions raise it for input the
caller can fix; both command lines catch this type alone and print it as one line with exit status 2, so any
other exception, a bug, still shows its traceback. It subclasses ``ValueError``.

>>> issubclass(InputError, ValueError)
True
"""

from cebe_cli import InputError

__all__ = ["InputError"]
