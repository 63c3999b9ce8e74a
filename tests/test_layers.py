"""The package's modules import each other in one direction only: no cycles, even lazy ones."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "arcnn"


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every arcnn module ``path`` imports, at the top or inside a function (lazy imports count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("arcnn"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("arcnn"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = {d for d in _imports(path) if d in modules and d != name}
        # A package's __init__ re-exports its modules; importing from the package is importing them.
        graph[name] = {d for d in deps if not (name.startswith(d + ".") and d != "arcnn")}
    return graph


def test_no_import_cycles():
    graph, state, path = _graph(), {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for dep in sorted(graph[node]):
            surface = dep == "arcnn" or dep.startswith("arcnn.cli")
            if surface and not node.startswith(("arcnn.cli", "arcnn.__main__")):
                raise AssertionError(f"{node} imports {dep}: the library must not import its surfaces")
            if state.get(dep) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(dep) :] + [dep]))
            if dep not in state:
                visit(dep)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_package_exports_the_pipeline_not_a_module_named_restore():
    import arcnn

    assert callable(arcnn.restore) and not (SRC / "restore.py").exists()
    assert {"Restorer", "RestoreOptions", "load_model"} <= set(arcnn.__all__)
