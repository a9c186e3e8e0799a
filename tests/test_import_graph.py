"""The package's import graph, read from the source with `ast` (imports inside functions and under
`TYPE_CHECKING` included): no cycle anywhere, and the layers import downwards only, contract -> checker ->
reports -> faces. A function-level import of the package is allowed only for a heavy optional thing, and
says so in a comment (`late: ...`)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import conformance

PACKAGE = Path(conformance.__file__).parent

# Which layer a module is in: the longest prefix that matches its name decides.
LAYERS = {
    "conformance.contract": "contract",
    "conformance.checker": "checker",
    "conformance.reports": "reports",
    "conformance.faces": "faces",
    "conformance.reference": "reference",
}
# Layer -> the layers it must never import.
NEVER_IMPORTS = {
    "contract": {"checker", "reports", "faces"},
    "checker": {"reports", "faces"},
    "reports": {"faces"},
    "reference": {"checker", "reports", "faces"},  # the oracle shares no code with what it judges
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> list[tuple[str, ast.AST]]:
    """The package's modules that module `name` imports anywhere in its source, with the import statement."""
    path = modules()[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from package import module` imports the module; `from module import name`, the module.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base for alias in node.names]
        else:
            continue
        found += [(target, node) for target in targets if target in modules()]
    return found


def graph() -> dict[str, set[str]]:
    return {name: {target for target, _ in imports_of(name)} - {name} for name in modules()}


def layer(name: str) -> str | None:
    matches = [prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + ".")]
    return LAYERS[max(matches, key=len)] if matches else None


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (the modules in order, the first repeated at the end), or None."""
    state: dict[str, str] = {}  # module -> "open" while on the path, "done" after
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = "open"
        path.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[name] = "done"
        return None

    for name in sorted(edges):
        if name not in state and (cycle := visit(name)) is not None:
            return cycle
    return None


def test_the_graph_sees_every_kind_of_import() -> None:
    """The walk finds top-level, function-level and TYPE_CHECKING imports alike (else the tests below see
    less than there is)."""
    edges = graph()
    assert "conformance.checker.engine" in edges["conformance.checker.runner"]  # top level
    assert "conformance.checker.results" in edges["conformance.checker.engine"]  # under TYPE_CHECKING
    assert "conformance.checker.runner" in edges["conformance.checker.replay"]  # inside a function


def test_find_cycle_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle() -> None:
    assert find_cycle(graph()) is None


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = [
        f"{name} ({layer(name)}) imports {target} ({layer(target)})"
        for name, targets in graph().items()
        for target in sorted(targets)
        if layer(target) in NEVER_IMPORTS.get(layer(name) or "", set())
    ]
    assert wrong == []


def test_the_library_imports_the_package_late_only_for_a_reason() -> None:
    """A function-level import of the package hides a dependency; the library keeps one only for a heavy
    optional thing, with a `late:` comment saying why (the faces are lazy on purpose: a command's start)."""
    unexplained = []
    for name, path in modules().items():
        if layer(name) == "faces":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom) and _of_the_package(inner, name):
                    said = " ".join(lines[max(0, inner.lineno - 2) : inner.end_lineno])
                    if "late:" not in said:
                        unexplained.append(f"{name}:{inner.lineno}")
    assert unexplained == []


def _of_the_package(node: ast.Import | ast.ImportFrom, name: str) -> bool:
    if isinstance(node, ast.ImportFrom):
        return bool(node.level) or (node.module or "").split(".")[0] == "conformance"
    return any(alias.name.split(".")[0] == "conformance" for alias in node.names)
