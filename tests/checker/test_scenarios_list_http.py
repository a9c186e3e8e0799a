"""The listing and HTTP scenarios catch every planted LIST and HTTP fault, and raise no false alarm.

Each run is `conformance run --only LIST,HTTP --budget quick` in-process against a reference server.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checker.scenarios import SCENARIOS_ENGINE
from conformance.contract.catalogue import catalogue
from conformance.reference.faults import FAULTS

SCENARIOS_ONLY = (SCENARIOS_ENGINE,)  # these scenarios alone must catch each fault

SELECTION = "LIST,HTTP"
GROUPS = ("LIST-", "HTTP-")
OWNED = tuple(item.id for item in catalogue() if item.id.startswith(GROUPS))
SHOP = "partner-shop-7"  # the shop a user names with --shop-id


def _faults_breaking_list_or_http() -> list[Any]:
    return [
        pytest.param(item.name, tuple(r for r in item.breaks if r.startswith(GROUPS)), id=item.name)
        for item in FAULTS
        if any(r.startswith(GROUPS) for r in item.breaks)
    ]


def _statuses(outcome: Any, ids: tuple[str, ...]) -> dict[str, str]:
    return {requirement_id: outcome.results.status(requirement_id) for requirement_id in ids}


def _company_records(api: Any) -> dict[str, dict[str, Any]]:
    """Every live record of the api's company, by id."""
    records: dict[str, dict[str, Any]] = {}
    start = 0
    while True:
        page = api.list(start=start, limit=100).json()
        records.update({value["id"]: value for value in page["values"]})
        start += 100
        if start >= page["total"]:
            return records


def test_clean_reference_passes_every_list_and_http_requirement(check_reference):
    outcome = check_reference(engines=SCENARIOS_ONLY, only=SELECTION)

    assert [finding.to_dict() for finding in outcome.results.findings()] == []
    assert _statuses(outcome, OWNED) == dict.fromkeys(OWNED, "passed")
    assert outcome.exit_code == 0
    assert outcome.cleanup.left_behind == []


@pytest.mark.parametrize(("fault", "broken"), _faults_breaking_list_or_http())
def test_fault_fails_the_requirement_it_breaks(check_reference, fault, broken):
    outcome = check_reference(engines=SCENARIOS_ONLY, fault=fault, only=SELECTION)

    assert _statuses(outcome, broken) == dict.fromkeys(broken, "failed")
    findings = [f for f in outcome.results.findings() if f.requirement_id in broken]
    assert findings, "a failed requirement carries its findings"
    assert all(finding.exchanges for finding in findings), "every finding shows the exchanges behind it"


def test_given_shop_holding_company_records_raises_no_false_alarm(reference_server, api, check_reference):
    # The company already uses the shop, and shops whose ids a loose filter would confuse with it.
    shops = [SHOP, SHOP, SHOP, f"{SHOP}x", SHOP.upper(), None]
    kinds = ["UPDATE_PRODUCT", "CANCEL_TRANSACTION", None, "CANCEL_TRANSACTION", "UPDATE_PRODUCT", "NEW_MEMBER"]
    for index, (shop, kind) in enumerate(zip(shops, kinds, strict=True)):
        api.create(shopId=shop, webHookType=kind, webHookUrls=[f"https://partner.example.com/hooks/{index}"])
    api.as_second().create(shopId=SHOP, webHookType="UPDATE_PRODUCT")
    before, before_second = _company_records(api), _company_records(api.as_second())

    outcome = check_reference(base_url=reference_server.base_url, shop_id=SHOP, only=SELECTION)

    assert [finding.to_dict() for finding in outcome.results.findings()] == []
    assert _statuses(outcome, OWNED) == dict.fromkeys(OWNED, "passed")
    assert _company_records(api) == before, "the company's records are unchanged and none of the run's remain"
    assert _company_records(api.as_second()) == before_second


def test_run_with_shop_id_writes_only_to_that_shop_and_removes_it_all(reference_server, api, check_reference):
    outcome = check_reference(base_url=reference_server.base_url, shop_id=SHOP, only=SELECTION)

    # The store keeps deleted rows (soft delete), so it shows every record the run ever wrote.
    written = reference_server.api.store.records(None, include_deleted=True)
    assert outcome.cleanup.created == len(written) > 0
    assert {record.shop_id for record in written} == {SHOP}
    assert _company_records(api) == {}
