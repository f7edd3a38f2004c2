"""The package's import graph: no cycle, and no module imports one of a higher layer (function-level imports
count too: a lazy import is still a dependency). The layer order is written here once; docs/architecture.md's
layer table and module list describe it."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "instructor_lib"

# Lowest first. A module may import modules of its own layer or of lower ones. A package name covers its modules.
LAYERS = [
    ("ground", {"provenance", "files", "presets", "stats", "claims", "readers"}),
    ("formats", {"config", "precision", "records", "instructions", "datadir", "weights"}),
    ("embedder", {"loss", "model", "model_folder", "onnx", "tiny", "data", "dropout"}),
    ("stages", {"medi", "evaluation", "training", "compat", "finetuning"}),
    ("workbench", {"workbench", "workbench.viz", "workbench.widgets"}),
    ("workbench experiments", {"workbench.experiments"}),
    ("workbench reporting", {"workbench.reporting"}),
    ("entry points", {"__init__", "__main__"}),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The package modules that `path` imports, at module level or inside functions."""
    name = module_name(path)
    package = [] if name == "__init__" else name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module.split(".") if node.module else []
            if node.level:  # relative: `from .x import y` in a.b is a.x
                stem = package[:len(package) - (node.level - 1)] + module
            elif module[:1] == ["instructor_lib"]:
                stem = module[1:]
            else:
                continue
            targets = [".".join(stem + [alias.name]) for alias in node.names] + [".".join(stem)]
            found.update(target for target in targets if target in known)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "instructor_lib" and ".".join(parts[1:]) in known:
                    found.add(".".join(parts[1:]))
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {name: imported_modules(path, known) for name, path in paths.items()}


def layer_of(module: str) -> int:
    """The layer of the longest listed name that is `module` or a package above it."""
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        for index, (_, members) in enumerate(LAYERS):
            if ".".join(parts[:length]) in members:
                return index
    raise AssertionError(f"module {module} has no layer: add it to LAYERS in {Path(__file__).name} and to the "
                         "layer table of docs/architecture.md")


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first = last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    assert find_cycle(import_graph()) is None, f"import cycle: {' -> '.join(find_cycle(import_graph()))}"


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [f"{source} ({LAYERS[layer_of(source)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
            for source, targets in sorted(graph.items()) for target in sorted(targets)
            if layer_of(target) > layer_of(source)]


def test_no_module_imports_a_higher_layer():
    upward = upward_imports(import_graph())
    assert not upward, "\n".join(upward)


def test_the_walker_sees_relative_absolute_and_lazy_imports(tmp_path, monkeypatch):
    """The checks above could not fail if the walker missed imports: a toy package with each kind of import."""
    package = tmp_path / "instructor_lib"
    (package / "medi").mkdir(parents=True)
    (package / "workbench").mkdir()
    (package / "__init__.py").write_text("")
    (package / "medi" / "__init__.py").write_text("from .build import x\n")
    (package / "medi" / "build.py").write_text("from .. import presets\nfrom ..records import load\n")
    (package / "presets.py").write_text("def f():\n    from .workbench.reporting import g\n")
    (package / "records.py").write_text("import instructor_lib.presets\n")
    (package / "workbench" / "__init__.py").write_text("")
    (package / "workbench" / "reporting.py").write_text("from instructor_lib.medi import build\n")
    monkeypatch.setitem(globals(), "PACKAGE", package)
    graph = import_graph()
    assert graph["medi"] == {"medi.build"} and graph["medi.build"] == {"presets", "records"}
    assert graph["presets"] == {"workbench.reporting"} and graph["records"] == {"presets"}
    assert graph["workbench.reporting"] == {"medi", "medi.build"}
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and {"presets", "workbench.reporting", "medi.build"} <= set(cycle)
    assert upward_imports(graph) == ["presets (ground) imports workbench.reporting (workbench reporting)"]
    assert layer_of("workbench.experiments.pilot") == layer_of("workbench.experiments") > layer_of("workbench.viz")
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    with pytest.raises(AssertionError, match="has no layer"):
        layer_of("nowhere")
