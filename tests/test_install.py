"""The lean install: `pip install instructor-lib` gives the embedder, MEDI, training, evaluation and the drop-ins;
the notebook stack comes with the `workbench` extra, and only the workbench imports it (at module level or inside
functions: a lazy import still fails where the extra is not installed)."""
import ast
from pathlib import Path

import pytest

from test_layers import PACKAGE, import_graph, module_name

PYPROJECT = PACKAGE.parent / "pyproject.toml"
# The workbench extra's distributions, each with the module it is imported as.
WORKBENCH_EXTRA = {"plotly": "plotly", "umap-learn": "umap", "jupyterlab": "jupyterlab", "ipywidgets": "ipywidgets",
                   "ipython": "IPython", "papermill": "papermill", "nbconvert": "nbconvert", "nbformat": "nbformat"}
# What only the workbench may import: the extra's modules and the kernel client they bring (papermill's kernels).
FORBIDDEN = frozenset(WORKBENCH_EXTRA.values()) | {"jupyter_client"}


def in_workbench(module: str) -> bool:
    return module.split(".")[0] == "workbench"


def imported_packages(source: str) -> set[str]:
    """Top-level names of the packages a module imports: import statements anywhere in it, and
    `importlib.import_module` / `__import__` calls with a literal name."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function in ("import_module", "__import__"):
                found.add(node.args[0].value.split(".")[0])
    return found


def lean_modules() -> dict[str, Path]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: path for name, path in sorted(paths.items()) if not in_workbench(name)}


def test_only_the_workbench_imports_the_notebook_stack():
    offenders = {name: sorted(imported_packages(path.read_text(encoding="utf-8")) & FORBIDDEN)
                 for name, path in lean_modules().items()}
    offenders = {name: packages for name, packages in offenders.items() if packages}
    assert not offenders, f"modules outside the workbench import the workbench extra's packages: {offenders}"


def test_no_module_outside_the_workbench_imports_the_workbench():
    """Otherwise the notebook stack would come in through it."""
    graph = import_graph()
    upward = {name: sorted(target for target in graph[name] if in_workbench(target)) for name in lean_modules()}
    upward = {name: targets for name, targets in upward.items() if targets}
    assert not upward, f"modules outside the workbench import workbench modules: {upward}"


def test_the_walker_sees_every_kind_of_import():
    source = ("import plotly.express as px\nfrom umap import UMAP\nimport numpy\nfrom . import viz\n"
              "def f():\n    import papermill\n    importlib.import_module('nbformat.v4')\n    __import__('IPython')\n")
    assert imported_packages(source) == {"plotly", "umap", "numpy", "papermill", "nbformat", "IPython"}


def requirement_names(requirements: list[str]) -> set[str]:
    return {requirement.split(";")[0].split("[")[0].split("=")[0].split("<")[0].split(">")[0].strip().lower()
            for requirement in requirements}


def test_the_workbench_extra_and_the_forbidden_list_agree():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert requirement_names(project["optional-dependencies"]["workbench"]) == set(WORKBENCH_EXTRA)
    core = requirement_names(project["dependencies"])
    assert not core & set(WORKBENCH_EXTRA), "a workbench package is a core dependency"
    assert not core & {"jupyter-client", "jupyter_client"}
    assert all("==" in requirement for requirement in project["optional-dependencies"]["workbench"]), "pin them"


def test_the_makefile_installs_the_workbench():
    """`make test`, `make reproduce`, `make pilot` and `make bench` run notebooks or their tests: one virtualenv
    with both extras serves them all."""
    makefile = (PACKAGE.parent / "Makefile").read_text(encoding="utf-8")
    assert 'pip install -q -e ".[workbench,test]"' in makefile
    prerequisites = {line.split(":")[0]: line.split(":", 1)[1].split() for line in makefile.splitlines()
                     if line.startswith(("test:", "reproduce:", "pilot:", "bench:"))}
    assert all("$(STAMP)" in prerequisites[target] for target in ("test", "reproduce", "pilot", "bench"))


def test_environment_yml_pins_the_core_and_the_workbench_as_pyproject_does():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    pins = {requirement.split("#")[0].strip() for requirement in
            project["dependencies"] + project["optional-dependencies"]["workbench"]}
    lines = (PACKAGE.parent / "environment.yml").read_text(encoding="utf-8").splitlines()
    conda = {line.strip()[2:] for line in lines if line.strip().startswith("- ") and "==" in line}
    assert conda == pins
    assert '- -e ".[workbench,test]"' in lines[-1]
