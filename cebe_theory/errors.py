"""The project's own input-error type.

Library functions in ``cebe_theory`` (and ``cebe_deep``) raise :class:`InputError` for input the caller can
fix: a context outside its box, a discount outside ``[0, 1)``, a malformed policy table. Both command lines
catch this type alone (plus ``OSError`` on the user's paths) and print it as one line with exit status 2,
so any other exception, a bug, still shows its traceback. It subclasses ``ValueError``, so code that
catches ``ValueError`` keeps working.

>>> issubclass(InputError, ValueError)
True
"""

__all__ = ["InputError"]


class InputError(ValueError):
    """Input the caller can fix; the message names the argument, its value and what is allowed."""
