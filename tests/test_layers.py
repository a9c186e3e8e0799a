"""The package reads contract -> checker -> reports -> faces: a layer imports only the layers before it (every
import counted, function-level ones too), so the library never imports a command line, a console or the plugin.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"
FACES = "conformance.faces"
# package -> the packages it must never import. The reference server is an oracle: it shares nothing with the
# checker it judges, and no face.
FORBIDDEN = {
    "conformance.checker": (FACES, "conformance.reports"),
    "conformance.reports": (FACES,),
    "conformance.reference": (FACES, "conformance.checker", "conformance.reports"),
}


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code (absolute imports; the package has no other)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def test_imports_of_sees_function_level_imports(tmp_path: Path) -> None:
    source = tmp_path / "late.py"
    source.write_text("def f():\n    from conformance.faces import cli\n", encoding="utf-8")
    assert "conformance.faces.cli" in imports_of(source)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_never_imports_a_later_one(package: str) -> None:
    folder = PACKAGE / package.split(".")[-1]
    breaks = {
        module_name(path): sorted(
            name for name in imports_of(path) for banned in FORBIDDEN[package] if (name + ".").startswith(banned + ".")
        )
        for path in folder.rglob("*.py")
    }
    assert {module: names for module, names in breaks.items() if names} == {}


def test_every_face_lives_in_the_faces_package() -> None:
    """A command-line face (argparse) or the pytest plugin's hooks outside `conformance.faces` is a face in the
    library."""
    outside = [
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if "faces" not in path.relative_to(PACKAGE).parts
        and ({"argparse", "rich"} & imports_of(path) or "def pytest_addoption" in path.read_text(encoding="utf-8"))
    ]
    assert outside == []
