"""The create and validation scenarios (CREATE-01 to CREATE-07, VALID-01 to VALID-10) as the checker runs them.

On the clean reference server every one of these requirements passes with no finding; each planted fault that
breaks one of them makes exactly that requirement fail; findings reproduce as curl commands without keys; and
the checker leaves the target as it found it.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import requests

from conformance.checker.results import Finding
from conformance.checker.runner import SWEEP_CHECK
from conformance.checker.scenario import SCENARIOS
from conformance.checker.scenarios import SCENARIOS_ENGINE, create, edges_json, edges_urls, validation
from conformance.contract.catalogue import ids
from conformance.reference.faults import FAULTS, Fault
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

SCENARIOS_ONLY = (SCENARIOS_ENGINE,)  # these scenarios alone must catch each fault

GROUPS = ("CREATE-", "VALID-")
ONLY = "CREATE,VALID"
OURS = tuple(item for item in ids() if item.startswith(GROUPS))
COLLECTION = "/api/v1/partner/webHooks"
KEYS = {"x-api-key": DEMO_PARTNER_KEY, "Authorization": DEMO_DEVELOPER_KEY}
VALIDATION_MARK = "_get_400/"  # in the webhook URLs of the validation scenarios' records (named `..._get_400`)


def _breaking_ours(fault: Fault) -> tuple[str, ...]:
    return tuple(item for item in fault.breaks if item.startswith(GROUPS))


FAULTS_BREAKING_OURS = [fault for fault in FAULTS if _breaking_ours(fault)]
# The checks of the scenario modules under test (findings name the check that made them): create and
# validation, and the edge corpus of bodies and webhook URLs. The cleanup's sweep judges the scenarios' own
# writes too (a record stored though its write got no answer).
OUR_MODULES = (create.__name__, validation.__name__, edges_json.__name__, edges_urls.__name__)
OUR_CHECKS = {item.name for item in SCENARIOS if item.run.__module__ in OUR_MODULES}
OUR_CHECKS.add(SWEEP_CHECK)


def _records(base_url: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of the demo company `acme` that the server lists (with these filters)."""
    answer = requests.get(base_url + COLLECTION, params={"limit": 100, **params}, headers=KEYS, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["values"]


def _finding(findings: list[Finding], text: str) -> Finding:
    return next(item for item in findings if text in item.expected)


def test_clean_server_passes_every_create_and_validation_requirement(check_reference) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, only=ONLY)

    statuses = {item: outcome.results.status(item) for item in OURS}
    assert statuses == dict.fromkeys(OURS, "passed")
    assert outcome.results.findings() == []
    assert outcome.exit_code == 0, outcome.error
    assert outcome.cleanup.left_behind == []


def test_without_a_second_key_every_create_requirement_still_passes(check_reference) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, only="CREATE", second_developer_key=None)

    creates = [item for item in OURS if item.startswith("CREATE-")]
    assert {item: outcome.results.status(item) for item in creates} == dict.fromkeys(creates, "passed")


@pytest.mark.parametrize("fault", FAULTS_BREAKING_OURS, ids=lambda fault: fault.name)
def test_each_planted_fault_fails_the_requirement_it_breaks(check_reference, fault: Fault) -> None:
    # Only the broken requirements are selected: the other engines then run only where they speak to them.
    outcome = check_reference(engines=SCENARIOS_ONLY, fault=fault.name, only=",".join(_breaking_ours(fault)))

    for requirement_id in _breaking_ours(fault):
        entry = outcome.results.by_id[requirement_id]
        assert entry.status == "failed", f"{fault.name} ({fault.description}) not caught as {requirement_id}"
        ours = [item for item in entry.findings if item.check in OUR_CHECKS]
        assert ours, f"{requirement_id} failed under {fault.name}, but not by a create or validation scenario"
        assert all(item.requirement_id == requirement_id and item.exchanges for item in ours)


def test_findings_reproduce_as_curl_without_any_key(check_reference) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, fault="valid-http-accepted", only="VALID-09")

    findings = outcome.results.by_id["VALID-09"].findings
    report = json.dumps([item.to_dict() for item in findings])
    curl = findings[0].to_dict()["reproduction"][0]
    assert curl.startswith("curl ") and "${CONFORMANCE_PARTNER_KEY}" in curl
    assert "${CONFORMANCE_DEVELOPER_KEY}" in curl
    for secret in (DEMO_PARTNER_KEY, DEMO_DEVELOPER_KEY, DEMO_SECOND_DEVELOPER_KEY):
        assert secret not in report


def test_oversize_body_finding_reproduces_the_body_with_a_shell_command(check_reference) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, fault="valid-no-body-limit", only="VALID-10")

    exchange = outcome.results.by_id["VALID-10"].findings[0].exchanges[0]
    printed = subprocess.run(["bash", "-c", exchange.body_shell], capture_output=True, check=True).stdout
    body = json.loads(printed)
    assert len(printed) > 1024 * 1024
    assert body["webHookUrls"] and len(body["wcPadding"]) > 1024 * 1024
    assert f"--data-binary @<({exchange.body_shell})" in exchange.curl()


def test_not_utf8_finding_reproduces_the_exact_bytes(check_reference) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, fault="valid-malformed-json-500", only="VALID-04")

    exchange = _finding(outcome.results.by_id["VALID-04"].findings, "not UTF-8").exchanges[0]
    printed = subprocess.run(["bash", "-c", exchange.body_shell], capture_output=True, check=True).stdout
    assert b"\xff" in printed
    assert printed.replace(b"\xff", b"").decode("utf-8").startswith('{"shopId": ')


def test_records_that_rejected_creates_stored_are_reported_and_deleted(check_reference) -> None:
    outcome = check_reference(engines=SCENARIOS_ONLY, fault="valid-insert-before-validate", only="VALID-06")

    leak = _finding(outcome.results.by_id["VALID-06"].findings, "no record created by a rejected create")
    assert "appeared in the shop after a create body with `webHookType`" in leak.actual
    left = [record for record in _records(outcome.profile.base_url) if VALIDATION_MARK in json.dumps(record)]
    assert left == []


def test_no_false_alarm_in_given_shops_that_already_hold_company_records(check_reference, start_reference) -> None:
    server = start_reference()
    theirs = []
    for shop in ("shop-a", "shop-b"):
        for number in range(3):
            body = {"shopId": shop, "webHookUrls": [f"https://theirs.example.com/{shop}/{number}"]}
            answer = requests.post(server.base_url + COLLECTION, json=body, headers=KEYS, timeout=10)
            assert answer.status_code == 200, answer.text
            theirs.append(answer.json())

    outcome = check_reference(base_url=server.base_url, shop_id="shop-a,shop-b", only=ONLY)

    assert {item: outcome.results.status(item) for item in OURS} == dict.fromkeys(OURS, "passed")
    assert outcome.results.findings() == []
    assert sorted(_records(server.base_url), key=lambda record: record["id"]) == sorted(
        theirs, key=lambda record: record["id"]
    )
