"""The requirement catalogue: every CONTRACT.md requirement as data (ID, level, text).

`requirements.yaml` beside this module is the one place these facts live; the checker, the reports, the
fault catalogue and the docs all derive from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

Level = Literal["MUST", "SHOULD"]


@dataclass(frozen=True)
class Requirement:
    """One requirement of the contract, e.g. ``LIST-03 MUST ...``."""

    id: str
    level: Level
    text: str

    @property
    def group(self) -> str:
        """The requirement's group, the ID's prefix: ``AUTH``, ``LIST``, ..."""
        return self.id.split("-", 1)[0]


@dataclass(frozen=True)
class Group:
    """A group of requirements (the ID prefix), with the rules around them that the contract states."""

    id: str
    title: str
    rules: str = ""  # Markdown: what a reader needs besides the requirements (defaults, bodies, exceptions)
    operation: str | None = None  # the operationId the group is about, where it is about one


@cache
def _catalogue_file() -> dict[str, Any]:
    # late: importing the catalogue module (the CLI, the pytest plugin) must stay cheap, and the spec's loads YAML
    from conformance.contract.spec import parse_yaml

    return parse_yaml(files("conformance.contract").joinpath("requirements.yaml").read_text(encoding="utf-8"))


@cache
def catalogue() -> tuple[Requirement, ...]:
    """All requirements, in the order CONTRACT.md lists them."""
    return tuple(Requirement(**entry) for entry in _catalogue_file()["requirements"])


@cache
def groups() -> tuple[Group, ...]:
    """The groups of requirements, in the contract's order."""
    return tuple(Group(**entry) for entry in _catalogue_file()["groups"])


def catalogue_text(name: str) -> str:
    """One of the catalogue's texts for readers: ``levels`` (what MUST and SHOULD mean), ``staging_safety``."""
    return str(_catalogue_file()[name])


def requirement(requirement_id: str) -> Requirement:
    """The requirement with this ID; ``KeyError`` for an ID the contract does not have."""
    for item in catalogue():
        if item.id == requirement_id:
            return item
    raise KeyError(f"no requirement {requirement_id!r} in the catalogue")


def ids() -> tuple[str, ...]:
    """Every requirement ID, in catalogue order."""
    return tuple(item.id for item in catalogue())
