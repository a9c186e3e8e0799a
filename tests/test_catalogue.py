"""The requirement catalogue is CONTRACT.md's, and every MUST and SHOULD has a check that claims it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.contract.catalogue import catalogue, ids, requirement
from conformance.reference.faults import FAULTS

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "CONTRACT.md"


@pytest.mark.skipif(not CONTRACT.exists(), reason="../shared/CONTRACT.md is not beside this checkout")
def test_catalogue_has_exactly_the_contracts_ids_levels_and_texts() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    pinned = {
        match[0]: (match[1], " ".join(match[2].split()))
        for match in re.findall(r"^- \*\*([A-Z]+-\d\d) (MUST|SHOULD)\*\* (.+?)(?=\n- \*\*|\n\n|\Z)", text, re.M | re.S)
    }
    assert {item.id: (item.level, item.text) for item in catalogue()} == pinned


def test_ids_are_unique_and_levels_known() -> None:
    assert len(set(ids())) == len(ids()) == 51
    assert {item.level for item in catalogue()} == {"MUST", "SHOULD"}
    assert requirement("LIST-03").group == "LIST"


def test_every_requirement_is_claimed_by_a_check() -> None:
    from conformance.checker.engines import engines
    from conformance.checker.scenario import SCENARIOS

    claimed = {item for engine in engines() for item in engine.covers} | {i for s in SCENARIOS for i in s.covers}
    claimed |= {"HTTP-01", "HTTP-02", "HTTP-03", "HTTP-04", "HTTP-06"}  # the observer judges every reply
    assert [item.id for item in catalogue() if item.id not in claimed] == []


def test_every_requirement_has_a_planted_fault() -> None:
    broken = {item for fault in FAULTS for item in fault.breaks}
    assert [item for item in ids() if item not in broken] == []
