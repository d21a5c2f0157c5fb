"""Packaging: environment.yml names the same packages as pyproject.toml, CI runs the README's command, and no
library module chooses a matplotlib backend."""

import ast
import re
import shutil
import subprocess
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge name, where they differ.
CONDA_NAMES = {"ray": "ray-default", "torch": "pytorch"}
# Extras environment.yml leaves out on purpose: mjx pins mujoco below 4 (there is no mujoco-mjx 4.x), which would
# downgrade the MuJoCo the deep extra and the committed results use; it is installed by hand (README).
OPT_IN_EXTRAS = {"mjx"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        requirements += [] if name in OPT_IN_EXTRAS else extra
    pip_names = {CONDA_NAMES.get(_name(r), _name(r)) for r in requirements}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = [r for d in environment["dependencies"] if isinstance(d, dict) for r in d.get("pip", [])]
    conda_names = ({_name(d) for d in environment["dependencies"] if isinstance(d, str)}
                   | {_name(r) for r in pip_section if not r.startswith("-e")}) - {"python", "pip"}
    assert conda_names == pip_names, (
        f"only in environment.yml: {sorted(conda_names - pip_names)}; "
        f"only in pyproject.toml: {sorted(pip_names - conda_names)}"
    )


def test_ci_runs_the_readme_test_command(tmp_path):
    # Run .ci/run itself in a copy of the repository whose README's test command only leaves a mark: CI must
    # execute the README's command (not a copy of it, not a comment), and nothing else.
    readme = (ROOT / "README.md").read_text()
    assert "<!-- test-command -->" in readme and "<!-- main-command -->" in readme
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    marker = "echo ran > ci_ran_the_readme_command.txt"
    test_block = re.compile(r"(<!-- test-command -->\s*```(?:bash|sh)?\n)(.*?)(\n```)", re.S)
    assert len(test_block.findall(readme)) == 1, "the README needs exactly one code block after <!-- test-command -->"
    (tmp_path / "README.md").write_text(test_block.sub(lambda match: match.group(1) + marker + match.group(3), readme))
    result = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"+ {marker}" in result.stdout
    assert (tmp_path / "ci_ran_the_readme_command.txt").read_text() == "ran\n"


def test_no_library_module_chooses_a_matplotlib_backend():
    # A backend chosen at import hides every inline figure in a notebook that imports the module.
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("cebe_theory", "cebe_deep")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"matplotlib\.use\(|switch_backend\(", line)
    ]
    assert not offenders, offenders


def test_cebe_theory_imports_run_one_way():
    # Module-level imports between cebe_theory's modules form no cycle, and no function imports a module
    # (the usual way to dodge a cycle).
    trees = {path.stem: ast.parse(path.read_text()) for path in (ROOT / "cebe_theory").glob("*.py")}
    graph = {
        name: {node.module.split(".")[1] for node in tree.body
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cebe_theory.")}
        for name, tree in trees.items()
    }
    inner = [f"{name}.{function.name}" for name, tree in trees.items() for function in ast.walk(tree)
             if isinstance(function, ast.FunctionDef)
             and any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(function))]
    assert not inner, f"function-level imports: {inner}"
    finished: set[str] = set()

    def visit(name, path):
        assert name not in path, f"import cycle: {' -> '.join([*path, name])}"
        if name not in finished:
            for dependency in graph.get(name, ()):
                visit(dependency, [*path, name])
            finished.add(name)

    for name in graph:
        visit(name, [])


def test_the_test_command_installs_every_extra_the_tests_need():
    """The Ray sweep test skips without ray: the README's test command (what CI runs) must install the extra."""
    readme = (ROOT / "README.md").read_text()
    command = readme.split("<!-- test-command -->", 1)[1].split("```", 2)[1]
    extras = command.split('-e ".[', 1)[1].split("]", 1)[0].split(",")
    assert {"deep", "notebooks", "docs", "dev", "ray"} <= set(extras)
