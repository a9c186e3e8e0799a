"""The record and tenancy scenarios (READ, UPDATE, DELETE, TENANT) against the reference server.

Clean, they pass every requirement with no finding, also in a user's shop that already holds records of both
companies; against each planted fault that breaks one of these requirements, they report it failed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.checker.options import resolve_options
from conformance.checker.profile import make_options
from conformance.checker.runner import run
from conformance.checker.scenario import SCENARIOS
from conformance.checker.scenarios import SCENARIOS_ENGINE, edges_http, edges_json, edges_urls, records, tenancy
from conformance.contract.catalogue import ids
from conformance.reference.faults import FAULTS, Fault
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

SCENARIOS_ONLY = (SCENARIOS_ENGINE,)  # these scenarios alone must catch each fault

GROUPS = ("TENANT", "READ", "UPDATE", "DELETE")
ONLY = ",".join(GROUPS)
# The record and tenancy scenarios, and the edge corpus of paths and of updates (it runs first, in name order,
# and may report a fault before them).
OUR_MODULES = (records.__name__, tenancy.__name__, edges_http.__name__, edges_json.__name__, edges_urls.__name__)
OUR_CHECKS = {item.name for item in SCENARIOS if item.run.__module__ in OUR_MODULES}
TENANT_IDS = ("TENANT-01", "TENANT-02", "TENANT-03", "TENANT-04")


def ours(requirement_ids: tuple[str, ...] | list[str]) -> list[str]:
    """The requirement IDs among these that the record and tenancy scenarios verify."""
    return [item for item in requirement_ids if item.split("-")[0] in GROUPS]


FAULTS_BREAKING_OURS = [item for item in FAULTS if ours(item.breaks)]


def test_every_requirement_of_these_groups_has_a_scenario() -> None:
    covered = {item for scenario in SCENARIOS if scenario.name in OUR_CHECKS for item in scenario.covers}

    assert set(ours(ids())) <= covered


def test_clean_server_passes_every_record_and_tenancy_requirement(check_reference) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, only=ONLY)

    statuses = {item: outcome.results.status(item) for item in ours(ids())}
    assert outcome.results.findings() == []
    assert set(statuses.values()) == {"passed"}, statuses
    assert outcome.exit_code == 0, (outcome.verdict, outcome.error, outcome.notes)


def test_records_already_under_odd_ids_give_no_false_alarm(reference_server, api, check_reference) -> None:
    """A target may hold records under odd ids (a NUL in one, encoded slashes): another tool's, or stored by an
    upsert when another of our checks sent a PUT there. The odd-id checks send ids of their run and check alone, so
    their 404s are still owed; with ids shared by checks (`wc\\x00id`), such a record was a false READ-02 finding."""
    api.create()
    template = reference_server.api.store.records(None)[0]
    for odd_id in ("wc\x00id", "a/../../x"):
        reference_server.api.store.insert(replace(template, id=odd_id))

    outcome = check_reference(engines=SCENARIOS_ONLY, base_url=reference_server.base_url, only="READ,UPDATE,DELETE")

    assert outcome.results.findings() == []
    assert outcome.results.status("READ-02") == "passed"


def test_tenancy_is_not_run_without_a_second_developer_key(check_reference) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, only="TENANT", second_developer_key=None)

    for item in TENANT_IDS:
        entry = outcome.results.by_id[item]
        assert entry.status == "not-run"
        assert "--second-developer-key" in (entry.not_run_reason or "")


@pytest.mark.parametrize("fault", FAULTS_BREAKING_OURS, ids=lambda item: item.name)
def test_planted_fault_is_reported_against_the_requirement_it_breaks(check_reference, fault: Fault) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, fault=fault.name, only=ONLY)

    for item in ours(fault.breaks):
        entry = outcome.results.by_id[item]
        assert entry.status == "failed", f"{fault.name} should fail {item}: {entry.not_run_reason}"
        assert {finding.check for finding in entry.findings} & OUR_CHECKS, [f.check for f in entry.findings]
        assert all(finding.exchanges for finding in entry.findings if finding.check in OUR_CHECKS)


def test_users_shop_with_records_of_both_companies_gives_no_false_alarm(start_reference, tmp_path: Path) -> None:
    server = start_reference()
    seeded = {key: seed_records(server.base_url, key) for key in (DEMO_DEVELOPER_KEY, DEMO_SECOND_DEVELOPER_KEY)}
    options = {
        "base_url": server.base_url,
        "partner_key": DEMO_PARTNER_KEY,
        "developer_key": DEMO_DEVELOPER_KEY,
        "second_developer_key": DEMO_SECOND_DEVELOPER_KEY,
        "shop_id": "user-shop",
        "only": ONLY,
        "budget": "quick",
        "seed": 7,
        "report_dir": tmp_path / "reports",
    }
    merged = resolve_options(options, environ={}, directory=tmp_path)

    outcome = run(make_options(merged), merged)

    assert outcome.results.findings() == []
    assert outcome.exit_code == 0, (outcome.verdict, outcome.error, outcome.notes)
    assert outcome.cleanup.left_behind == []
    assert {key: all_records(server.base_url, key) for key in seeded} == seeded


def seed_records(base_url: str, developer_key: str) -> list[dict[str, Any]]:
    """Records that were on the target before the run: in the user's shop, another shop and none."""
    for shop_id in ("user-shop", "another-shop", None):
        for number in range(3):
            response = requests.post(
                f"{base_url}/api/v1/partner/webHooks",
                json={"shopId": shop_id, "webHookUrls": [f"https://before.example.com/{number}"]},
                headers=key_headers(developer_key),
                timeout=10,
            )
            assert response.status_code == 200, response.text
    return all_records(base_url, developer_key)


def all_records(base_url: str, developer_key: str) -> list[dict[str, Any]]:
    response = requests.get(f"{base_url}/api/v1/partner/webHooks", headers=key_headers(developer_key), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["values"]


def key_headers(developer_key: str) -> dict[str, str]:
    return {"x-api-key": DEMO_PARTNER_KEY, "Authorization": developer_key}
