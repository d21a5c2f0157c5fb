"""cebe_course: the course's student and teacher editions, self-checks for its exercises, and their grading.

- ``check("nb01-residual", answer)``: right or wrong with a hint, never the solution ....... :mod:`cebe_course.checks`
- the references behind the checks, computed by the package at check time ...... :mod:`cebe_course.theory_checks`,
  :mod:`cebe_course.deep_checks` (the latter needs the ``deep`` extra and is imported only when used)
- student and teacher editions of the notebooks .................................. :mod:`cebe_course.editions`
- grading a student's notebook (run it, collect every check) ...................... :mod:`cebe_course.grading`
- the ``cebe-course`` command ..................................................... :mod:`cebe_course.cli`

This package sits above both halves of the project: it imports ``cebe_theory`` and (for the checks of notebooks
03-05) ``cebe_deep``, and neither of them imports it. The checks need both halves, ``cebe_theory`` must not depend
on the optional, torch-based ``cebe_deep``, and the editions and the grader need the notebook tools (jupytext,
nbclient) of the ``notebooks`` extra, which neither library needs.
"""

from cebe_course.checks import check, verdict

__all__ = ["check", "verdict"]
