"""The requirement catalogue: every CONTRACT.md requirement as data (ID, level, text).

`requirements.yaml` beside this module is the one place these facts live; the checker, the reports, the
fault catalogue and the docs all derive from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

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


@cache
def catalogue() -> tuple[Requirement, ...]:
    """All requirements, in the order CONTRACT.md lists them."""
    import yaml  # late: importing the catalogue module (the CLI, the pytest plugin) must stay cheap

    raw = yaml.safe_load(files("conformance.contract").joinpath("requirements.yaml").read_text(encoding="utf-8"))
    return tuple(Requirement(**entry) for entry in raw["requirements"])


def requirement(requirement_id: str) -> Requirement:
    """The requirement with this ID; ``KeyError`` for an ID the contract does not have."""
    for item in catalogue():
        if item.id == requirement_id:
            return item
    raise KeyError(f"no requirement {requirement_id!r} in the catalogue")


def ids() -> tuple[str, ...]:
    """Every requirement ID, in catalogue order."""
    return tuple(item.id for item in catalogue())
