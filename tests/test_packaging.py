"""The package declares every distribution it imports: a fresh `pip install webhook-conformance` must run."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "conformance"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    """The distributions pyproject.toml's `dependencies` name (extras are not installed by a plain install)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_canonical(re.split(r"[\s<>=!~;\[]", item, maxsplit=1)[0]) for item in project["dependencies"]}


def imported_top_level_modules() -> dict[str, set[str]]:
    """Top-level module name -> the package's files that import it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def undeclared(modules: dict[str, set[str]]) -> dict[str, list[str]]:
    """Of `modules` (name -> importing files), those no declared distribution provides."""
    owners = packages_distributions()
    declared = declared_distributions()
    missing = {}
    for module, files in modules.items():
        if module in sys.stdlib_module_names or module == "conformance":
            continue
        if not {_canonical(name) for name in owners.get(module, [module])} & declared:
            missing[module] = sorted(files)
    return missing


def test_every_imported_distribution_is_declared() -> None:
    modules = imported_top_level_modules()
    assert {"jsonschema", "rich", "requests", "schemathesis"} <= set(modules)  # the walk sees third-party imports
    assert undeclared(modules) == {}, "imported by conformance/ but not declared in pyproject.toml's dependencies"


def test_an_import_of_a_dev_only_distribution_is_caught() -> None:
    """xmlschema is installed here (the dev extra) but a plain install lacks it: importing it would break."""
    assert undeclared({"xmlschema": {"conformance/x.py"}, "json": {"conformance/y.py"}}) == {
        "xmlschema": ["conformance/x.py"]
    }
