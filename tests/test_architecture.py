"""The layout shows the architecture, and stays that way: cebe_deep's layers import only downwards
(cli -> report -> run -> learn -> tasks, with ``errors`` below all), no module imports a private name of another,
no module is over 450 lines, and at most 8 modules sit directly in ``cebe_deep/``.  Read from the source with
``ast``, so a violation names the file and the line."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
PACKAGE = REPOSITORY / "cebe_deep"
#: layer -> rank; a module may import from its own layer or a lower one.
LAYERS = {"errors": 0, "tasks": 1, "learn": 2, "run": 3, "report": 4, "cli": 5}
#: modules directly in cebe_deep/ that are not a layer: what each may import.
TOP = {"__init__": 1, "moved": 0, "experiment": 4, "__main__": 5}


def _modules(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "_build" not in path.parts)


def _layer_rank(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "cebe_deep" or len(parts) < 2:
        return None
    return LAYERS.get(parts[1], TOP.get(parts[1]))


def _imports(path: Path):
    """(line, imported module, names) of every import of cebe_deep / cebe_theory in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(REPOSITORY).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            yield node.lineno, module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []


def _own_rank(path: Path) -> int:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return LAYERS[parts[0]] if parts[0] in LAYERS else TOP[parts[0]]


def test_layers_import_only_downwards():
    upward = []
    for path in _modules(PACKAGE):
        rank = _own_rank(path)
        for line, module, names in _imports(path):
            for target in [module] + [f"{module}.{name}" for name in names]:
                target_rank = _layer_rank(target)
                if target_rank is not None and target_rank > rank and not target.startswith("cebe_deep.moved"):
                    upward.append(f"{path.relative_to(REPOSITORY)}:{line} imports {target}")
                    break
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_no_private_name_is_imported_across_modules():
    offenders = []
    for folder in ("cebe_deep", "cebe_theory", "tests", "notebooks", "benchmarks", "docs"):
        for path in _modules(REPOSITORY / folder):
            for line, module, names in _imports(path):
                if module.startswith(("cebe_deep", "cebe_theory")):
                    offenders += [f"{path.relative_to(REPOSITORY)}:{line} {module}.{name}"
                                  for name in names if name.startswith("_") and not name.startswith("__")]
    assert not offenders, "private names imported from another module:\n" + "\n".join(offenders)


def test_module_sizes_and_the_top_level():
    long = [f"{path.relative_to(REPOSITORY)}: {len(path.read_text().splitlines())} lines"
            for path in _modules(PACKAGE) + _modules(REPOSITORY / "cebe_theory")
            if len(path.read_text().splitlines()) > 450]
    assert not long, "modules over 450 lines:\n" + "\n".join(long)
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    assert not list((REPOSITORY / "results").rglob("*.py")), "code under results/ belongs in the package"


def test_no_import_cycle_between_modules():
    """Module-level imports only (an import inside a function does not run at import time)."""
    graph: dict[str, set[str]] = {}
    for path in _modules(PACKAGE):
        name = ".".join(path.relative_to(REPOSITORY).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        targets = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cebe_deep") and not node.level:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name.startswith("cebe_deep"))
        graph[name] = targets
    graph = {name: {target for target in targets if target in graph and target != name} for name, targets in graph.items()}
    for name in graph:  # a package importing its own submodules is not a cycle of modules
        graph[name] = {target for target in graph[name] if not target.startswith(name + ".")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in graph[node]:
            if state.get(target) == 1:
                pytest.fail("import cycle: " + " -> ".join(trail[trail.index(target):] + [target]))
            if target not in state:
                visit(target, trail + [target])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize(
    "old, new",
    [
        ("cebe_deep.cse", "cebe_deep.learn.cse"),
        ("cebe_deep.training", "cebe_deep.run.training"),
        ("cebe_deep.statistics", "cebe_deep.report.statistics"),
    ],
)
def test_old_import_paths_give_the_same_module_with_a_warning(old, new):
    import importlib
    import sys

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert any(f"{old} moved to {new}" in str(warning.message) for warning in caught)
    assert importlib.import_module("cebe_deep.experiment").train is importlib.import_module("cebe_deep.run.training").train
    from cebe_deep.tasks import make_task  # noqa: F401  (kept where it was)


def test_the_shared_command_line_module_belongs_to_neither_half():
    """``cebe_cli`` (input errors, one-line usage errors, atomic writes) imports neither package, and cebe_deep
    takes none of that plumbing from cebe_theory's command line."""
    ours = ("cebe_deep", "cebe_theory")
    shared = [module for _, module, _ in _imports(REPOSITORY / "cebe_cli.py") if module.startswith(ours)]
    assert not shared, shared
    borrowed = [f"{path.relative_to(REPOSITORY)}:{line} {module}" for path in _modules(PACKAGE)
                for line, module, _ in _imports(path) if module in ("cebe_theory.cli_support", "cebe_theory.cli")]
    assert not borrowed, borrowed
