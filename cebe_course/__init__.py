"""cebe_course: the course's student and teacher editions.

- student and teacher editions of the notebooks .................................. :mod:`cebe_course.editions`
- the ``cebe-course`` command ..................................................... :mod:`cebe_course.cli`

This package sits above both halves of the project, and neither of them imports it: the editions need the
notebook tools (jupytext, nbformat) of the ``notebooks`` extra, which neither library needs.
"""
