"""The CSE radius eps (also LDR's Gaussian scale): the paper's value, and the one rule every entry point checks.

A small module of its own so that the report and command-line layers can use both without importing torch.

>>> check_eps(PAPER_EPS)
>>> try:
...     check_eps(0.0, "--eps")
... except ValueError as error:  # a ConfigError: one line, exit status 2 on a command line
...     print(error)
--eps must be > 0 and finite, got 0
"""

from __future__ import annotations

import math

from cebe_deep.errors import ConfigError

__all__ = ["PAPER_EPS", "check_eps"]

#: The paper's eps (arXiv 2507.07348, Section 5): CSE's ball radius and LDR's scale, in the units of the task's
#: contexts.  The default of every run, sweep and report here.
PAPER_EPS = 0.1


def check_eps(eps: float, name: str = "eps") -> None:
    """Raise :class:`~cebe_deep.errors.ConfigError` naming ``name`` unless ``eps`` is a finite number > 0."""
    if not 0 < eps < math.inf:
        raise ConfigError(f"{name} must be > 0 and finite, got {eps:g}")
