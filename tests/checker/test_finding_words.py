"""A finding says in words what was expected and what came back, with the values, so that a reader needs neither
the checker's code nor the requirement text inside it (the report shows that once per requirement)."""

from __future__ import annotations

import re

from conformance.checker.scenarios import SCENARIOS_ENGINE
from conformance.contract.catalogue import requirement

SCENARIOS_ONLY = (SCENARIOS_ENGINE,)


def test_a_wrong_total_says_what_it_was_and_what_it_should_be(check_reference) -> None:
    outcome = check_reference(fault="list-total-is-page-size", engines=SCENARIOS_ONLY, only="LIST-02")
    actual = outcome.results.by_id["LIST-02"].findings[0].actual
    was, wanted = map(int, re.match(r"total was (\d+), expected (\d+): the live records with shopId=", actual).groups())
    assert was != wanted


def test_tenancy_finding_says_the_other_company_could_change_our_record(check_reference) -> None:
    outcome = check_reference(fault="tenant-put-no-check", engines=SCENARIOS_ONLY, only="TENANT-01")
    findings = outcome.results.by_id["TENANT-01"].findings
    assert any(
        item.actual.startswith("answered 200: the other company's key could PUT our record") for item in findings
    ), [item.actual for item in findings]
    assert not any("('application/json'" in item.actual for item in findings)  # no Python tuples


def test_an_accepted_internal_url_is_named_in_the_finding(check_reference) -> None:
    outcome = check_reference(fault="valid-no-ssrf-guard", engines=SCENARIOS_ONLY, only="VALID-08")
    finding = outcome.results.by_id["VALID-08"].findings[0]
    url = re.search(r"the internal (webhook URL|url) (https://\S+)", finding.expected).group(2)
    assert finding.actual.startswith("answered 2") and url in finding.actual  # the reason line names it too


def test_expected_does_not_repeat_the_requirement_text(check_reference) -> None:
    outcome = check_reference(fault="list-off-by-one", engines=SCENARIOS_ONLY, only="LIST")
    findings = outcome.results.findings()
    assert findings
    for finding in findings:
        assert requirement(finding.requirement_id).text not in finding.expected
        assert f"{finding.requirement_id}:" not in finding.expected


def test_an_every_answer_finding_names_the_request_and_what_was_special(check_reference) -> None:
    outcome = check_reference(fault="valid-malformed-json-500", engines=SCENARIOS_ONLY, only="VALID-04,HTTP-01")
    every_answer = [item for item in outcome.results.findings() if item.check == "every-response"]
    assert every_answer
    assert all(re.search(r"^status 500, answering POST /\S+", item.said) for item in every_answer)
    assert any(item.said.endswith("with a body that is not JSON") for item in every_answer)


def test_a_text_error_body_names_the_request_it_answered(check_reference) -> None:
    outcome = check_reference(fault="http-errors-html", engines=SCENARIOS_ONLY, only="HTTP-02")
    finding = outcome.results.by_id["HTTP-02"].findings[0]
    assert re.search(r"Content-Type text/html.*, answering (GET|POST|PUT|DELETE) /\S+", finding.said)


def test_finding_ids_are_unique_and_the_same_for_the_same_seed(check_reference) -> None:
    first, second = (check_reference(fault="list-off-by-one", engines=SCENARIOS_ONLY, only="LIST") for _ in range(2))
    ids = [item.id for item in first.results.findings()]
    assert ids and len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"LIST-\d\d-[0-9a-f]{6}(-\d+)?", item) for item in ids)
    assert ids == [item.id for item in second.results.findings()]
