"""Every requirement of the catalogue is pinned by a test of the reference server, and only those.

The marks are read from the source of ``test_requirements_*.py``, so the answer does not depend on which
tests a run selects (``-k``, ``-n``, a single file).
"""

from __future__ import annotations

import ast
from pathlib import Path

from conformance.contract.catalogue import ids

REQUIREMENT_MODULES = sorted(Path(__file__).parent.glob("test_requirements_*.py"))


def _requirement_marks(decorator: ast.expr) -> list[str]:
    """The IDs of a ``@pytest.mark.requirement("A-01", ...)`` decorator; [] for any other decorator."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return []
    if decorator.func.attr != "requirement" or ast.unparse(decorator.func.value) != "pytest.mark":
        return []
    return [arg.value for arg in decorator.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]


def _tests_and_their_requirements() -> dict[str, list[str]]:
    """``module::test`` -> the requirement IDs it is marked with, for every test function."""
    tests: dict[str, list[str]] = {}
    for module in REQUIREMENT_MODULES:
        for node in ast.parse(module.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marks = [req for decorator in node.decorator_list for req in _requirement_marks(decorator)]
                tests[f"{module.name}::{node.name}"] = marks
    return tests


def test_requirement_test_modules_are_found():
    assert len(REQUIREMENT_MODULES) == 5


def test_every_catalogue_requirement_has_a_test():
    marked = {req for marks in _tests_and_their_requirements().values() for req in marks}

    assert [req for req in ids() if req not in marked] == []


def test_every_marked_requirement_is_in_the_catalogue():
    marked = {req for marks in _tests_and_their_requirements().values() for req in marks}

    assert sorted(marked - set(ids())) == []


def test_every_requirement_test_names_its_requirement():
    unmarked = [name for name, marks in _tests_and_their_requirements().items() if not marks]

    assert unmarked == []
