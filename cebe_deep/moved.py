"""Import paths of the flat layout before the layered one, still importable.

Until version 0.1 every module sat directly in ``cebe_deep/``; they now live in the layer subpackages
(``tasks`` < ``learn`` < ``run`` < ``report`` < ``cli``).  ``import cebe_deep.cse`` (or unpickling a model saved
under the old names) still works: it returns the very module ``cebe_deep.learn.cse``, with a
:class:`DeprecationWarning` naming the new path.

>>> import sys, warnings
>>> _ = sys.modules.pop("cebe_deep.cse", None)  # as in a fresh process
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     import cebe_deep.cse as old
>>> import cebe_deep.learn.cse as new
>>> old is new, str(caught[0].message)
(True, 'cebe_deep.cse moved to cebe_deep.learn.cse; import it from there')
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MOVED", "install"]

#: Old module path -> new module path.
MOVED = {
    **{f"cebe_deep.{name}": f"cebe_deep.learn.{name}"
       for name in ("cse", "replay", "sac", "importance", "inexact", "randomization")},
    **{f"cebe_deep.{name}": f"cebe_deep.run.{name}"
       for name in ("config", "training", "checkpoint", "evaluation", "sweeps", "executors")},
    **{f"cebe_deep.{name}": f"cebe_deep.report.{name}" for name in ("statistics", "curves", "plots")},
    "cebe_deep.cli_checks": "cebe_deep.cli.checks",
}


class _MovedModuleLoader(importlib.abc.Loader):
    def __init__(self, new_name: str):
        self.new_name = new_name

    def create_module(self, spec):
        return importlib.import_module(self.new_name)  # the module itself: its classes, monkeypatches, state

    def exec_module(self, module):
        pass


class _MovedModuleFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new_name = MOVED.get(fullname)
        if new_name is None:
            return None
        warnings.warn(f"{fullname} moved to {new_name}; import it from there", DeprecationWarning, stacklevel=3)
        return importlib.util.spec_from_loader(fullname, _MovedModuleLoader(new_name))


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
