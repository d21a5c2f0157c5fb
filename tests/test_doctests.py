"""The worked examples in the docstrings are run, so they stay true."""

import doctest
import importlib
import pkgutil

import pytest

import cebe_theory


def _modules(package):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not info.name.endswith("__main__"):
            yield info.name


MODULES = sorted(_modules(cebe_theory)) + [
    "cebe_deep.errors",
    "cebe_deep.moved",
    "cebe_deep.learn.cse",
    "cebe_deep.learn.dqn",
    "cebe_deep.learn.randomization",
    "cebe_deep.learn.replay",
    "cebe_deep.tasks.base",
    "cebe_deep.tasks.jacobian_watch",
    "cebe_deep.run.evaluation",
    "cebe_deep.report.readme",
    "cebe_deep.report.protocol.command",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
