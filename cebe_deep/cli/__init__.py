"""The ``cebe-deep`` command line (:mod:`cebe_deep.cli.main`); its up-front checks are :mod:`cebe_deep.cli.checks`."""

from cebe_deep.cli.main import build_parser, main

__all__ = ["main", "build_parser"]
