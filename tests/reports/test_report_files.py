"""The four reports say what the run found, agree with each other, and follow their schemas.

report.json is validated against the shipped JSON Schema, junit.xml against the Jenkins xUnit plugin's JUnit
XSD (tests/reports/junit-10.xsd); a known fault shows up as its requirement failed in all four.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import xmlschema
from written_reports import HOSTILE_BODY, REPORT_FILES, SEED, WrittenRun, junit_schema

from conformance.contract.catalogue import ids
from conformance.contract.document import REQUIREMENTS_DOCUMENT
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY
from conformance.reports.schema import schema_errors

RUNS = ("clean_run", "fault_run", "should_run", "strict_should_run", "error_run", "hostile_run")


@pytest.fixture(params=RUNS)
def any_run(request: pytest.FixtureRequest) -> WrittenRun:
    return request.getfixturevalue(request.param)


def test_every_run_writes_all_four_reports(any_run: WrittenRun) -> None:
    assert all((any_run.directory / name).is_file() for name in REPORT_FILES)


def test_report_json_follows_the_shipped_schema(any_run: WrittenRun) -> None:
    assert schema_errors(any_run.report) == []


def test_junit_follows_the_jenkins_junit_xsd(any_run: WrittenRun) -> None:
    junit_schema().validate(any_run.text("junit.xml"))


def test_junit_has_one_testcase_per_requirement_classed_by_group(any_run: WrittenRun) -> None:
    cases = [case for case in any_run.junit.iter("testcase") if case.get("classname") != "RUN"]
    assert [case.get("name", "").split(" ")[0] for case in cases] == list(ids())
    assert all(case.get("name", "").startswith(case.get("classname", "") + "-") for case in cases)


def test_counts_add_up_to_the_requirement_statuses(any_run: WrittenRun) -> None:
    report = any_run.report
    for level in ("MUST", "SHOULD"):
        for status in ("passed", "failed", "not-run"):
            expected = sum(1 for r in report["requirements"] if r["level"] == level and r["status"] == status)
            assert report["counts"][f"{level.lower()}_{status.replace('-', '_')}"] == expected


def test_no_key_value_reaches_any_report(any_run: WrittenRun) -> None:
    secrets = (DEMO_PARTNER_KEY, DEMO_DEVELOPER_KEY, DEMO_SECOND_DEVELOPER_KEY, "p-secret-value", "d-secret-value")
    for name in REPORT_FILES:
        text = any_run.text(name)
        assert [secret for secret in secrets if secret in text] == [], name


def test_known_fault_fails_its_requirement_in_all_four_reports(fault_run: WrittenRun) -> None:
    requirement = fault_run.requirement("LIST-03")
    assert fault_run.report["verdict"] == "nonconformant" and fault_run.exit_code == 1
    assert requirement["status"] == "failed" and requirement["findings"]
    failure = fault_run.testcase("LIST-03").find("failure")
    assert failure is not None and failure.get("type") == "MUST"
    assert requirement["findings"][0]["actual"] in (failure.text or "")
    assert re.search(r"^\| \*\*LIST-03\*\* \| MUST \|", fault_run.text("report.md"), re.M)
    html = fault_run.text("report.html")
    assert '<tr id="req-LIST-03" data-status="failed" data-level="MUST">' in html
    assert 'id="finding-LIST-03"' in html


def test_requirements_that_passed_pass_in_junit_and_html(fault_run: WrittenRun) -> None:
    passed = [item["id"] for item in fault_run.report["requirements"] if item["status"] == "passed"]
    assert passed
    for requirement_id in passed:
        assert len(fault_run.testcase(requirement_id)) == 0  # no failure, skipped or output
        assert f'<tr id="req-{requirement_id}" data-status="passed"' in fault_run.text("report.html")


def test_clean_run_is_conformant_in_all_four_reports(clean_run: WrittenRun) -> None:
    assert clean_run.report["verdict"] == "conformant"
    assert {item["status"] for item in clean_run.report["requirements"]} == {"passed"}
    assert clean_run.junit.get("failures") == "0" and clean_run.junit.get("errors") == "0"
    assert clean_run.text("report.md").startswith("## ✅ Partner WebHooks API conformance: CONFORMANT")
    assert '<header class="banner conformant"' in clean_run.text("report.html")


def test_unreachable_target_is_an_error_run_that_says_why_in_all_four(error_run: WrittenRun) -> None:
    report = error_run.report
    assert error_run.exit_code == 3 and report["verdict"] == "error"
    assert "unreachable" in report["error"]
    assert {item["status"] for item in report["requirements"]} == {"not-run"}
    run_case = next(case for case in error_run.junit.iter("testcase") if case.get("classname") == "RUN")
    error = run_case.find("error")
    assert error is not None and "unreachable" in (error.get("message") or "")
    assert error_run.junit.get("errors") == "1"
    assert all(case.find("skipped") is not None for case in error_run.junit.iter("testcase") if case is not run_case)
    assert "**The run could not complete:** target unreachable" in error_run.text("report.md")
    assert '<p class="run-error">The run could not complete: target unreachable' in error_run.text("report.html")


def test_not_run_requirements_are_skipped_with_the_reason(fault_run: WrittenRun) -> None:
    skipped = fault_run.testcase("AUTH-01").find("skipped")
    assert fault_run.requirement("AUTH-01")["reason"] == "left out by --only/--skip"
    assert skipped is not None and skipped.get("message") == "left out by --only/--skip"


def test_should_failure_is_a_junit_failure_only_under_strict(
    should_run: WrittenRun, strict_should_run: WrittenRun
) -> None:
    for written in (should_run, strict_should_run):
        assert written.requirement("CREATE-06")["status"] == "failed"
    lenient = should_run.testcase("CREATE-06")
    assert lenient.find("failure") is None
    assert (lenient.findtext("system-out") or "").startswith("WARNING: this SHOULD requirement failed")
    assert should_run.report["verdict"] == "incomplete" and should_run.report["exit_code"] == 0  # a subset
    assert should_run.junit.get("failures") == "0"
    strict = strict_should_run.testcase("CREATE-06").find("failure")
    assert strict is not None and strict.get("type") == "SHOULD"
    assert strict_should_run.report["verdict"] == "nonconformant" and strict_should_run.junit.get("failures") == "1"


def test_findings_carry_curl_reproductions_and_a_rerun_command_with_the_seed(fault_run: WrittenRun) -> None:
    finding = fault_run.requirement("LIST-03")["findings"][0]
    assert finding["reproduction"] and all(command.startswith("curl ") for command in finding["reproduction"])
    assert all("${CONFORMANCE_PARTNER_KEY}" in command for command in finding["reproduction"])
    rerun = finding["rerun"]
    assert rerun.startswith("conformance run --base-url http://127.0.0.1:")
    assert f"--seed {SEED}" in rerun and rerun.endswith("--budget quick --only LIST-03")
    assert "key" not in rerun.replace("--partner-key-header", "")  # keys come from the environment only
    assert rerun in fault_run.text("report.md") and rerun in (fault_run.testcase("LIST-03").findtext("failure") or "")


def test_requirement_operations_feed_the_matrix(fault_run: WrittenRun) -> None:
    tally = fault_run.requirement("LIST-03")["operations"]["listWebHooks"]
    assert 0 < tally["failed"] <= tally["exercised"]
    assert f"✗ {tally['failed']}/{tally['exercised']}</td>" in fault_run.text("report.html")
    assert fault_run.requirement("LIST-03")["findings"][0]["operation"] == "listWebHooks"


def test_coverage_and_cleanup_match_the_run(fault_run: WrittenRun) -> None:
    report = fault_run.report
    assert sum(item["requests"] for item in report["coverage"]) == report["run"]["requests"] > 0
    cleanup = report["cleanup"]
    assert cleanup["created"] > 0 and cleanup["left_behind"] == []
    assert cleanup["created"] == cleanup["deleted"] + cleanup["already_gone"]


def test_hostile_body_is_shown_escaped_never_as_markup(hostile_run: WrittenRun) -> None:
    assert hostile_run.requirement("HTTP-01")["status"] == "failed"
    exchange = hostile_run.requirement("HTTP-01")["findings"][0]["exchanges"][0]
    assert exchange["response_body"] == HOSTILE_BODY  # the evidence is kept as it came
    html = hostile_run.text("report.html")
    assert "&lt;script&gt;window.__pwned = true;&lt;/script&gt;" in html
    assert "<script>window.__pwned" not in html and "<img src=x" not in html
    junit = hostile_run.text("junit.xml")
    assert "\x00" not in junit and "\x1b" not in junit and "\\x1b[31m red \\x00 nul" in junit


def test_markdown_escapes_what_the_target_sent(hostile_run: WrittenRun) -> None:
    text = hostile_run.text("report.md")
    assert "<script>" not in text and "<img" not in text
    table_row = next(line for line in text.splitlines() if line.startswith("| **HTTP-01**"))
    assert table_row.count(" | ") == 2  # the body's `|` does not split the row


def test_baselined_requirement_is_a_known_failure_not_a_failure(fault_run: WrittenRun) -> None:
    from conformance.reports import render

    report = copy.deepcopy(fault_run.report)
    baselined = next(item for item in report["requirements"] if item["id"] == "LIST-03")
    baselined["baselined"] = True
    report["baseline"] = {"path": "baseline.json"}
    assert schema_errors(report) == []
    case = _case(render(report, "junit"), "LIST-03")
    skipped = case.find("skipped")
    assert case.find("failure") is None and skipped is not None and skipped.get("message") == "known failure (baseline)"
    assert "known failure (baseline)" in render(report, "html")


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (lambda report: report["run"]["options"].__setitem__("partner_key", "a-real-key"), "partner_key"),
        (lambda report: report["requirements"][0].__setitem__("status", "skipped"), "status"),
        (lambda report: report.__setitem__("surprise", 1), "surprise"),
        (lambda report: report.__setitem__("schema_version", "2.0"), "schema_version"),
        (lambda report: report["requirements"][0].pop("operations"), "operations"),
    ],
    ids=["key-value", "unknown-status", "undocumented-field", "other-version", "missing-field"],
)
def test_schema_rejects_a_report_that_breaks_it(fault_run: WrittenRun, breakage: Any, where: str) -> None:
    report = copy.deepcopy(fault_run.report)
    breakage(report)
    errors = schema_errors(report)
    assert errors and any(where in error for error in errors)


def test_xsd_rejects_junit_that_breaks_it(fault_run: WrittenRun) -> None:
    broken = fault_run.text("junit.xml").replace("<testcase ", '<testcase bogus="1" ', 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        junit_schema().validate(broken)


def _case(junit_text: str, requirement_id: str):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(junit_text)
    return next(case for case in root.iter("testcase") if case.get("name", "").startswith(requirement_id))


def test_every_report_names_the_requirements_document(clean_run: WrittenRun) -> None:
    """A reader of any report finds what each requirement means: docs/requirements.md."""
    assert json.loads(clean_run.text("report.json"))["run"]["requirements_document"] == REQUIREMENTS_DOCUMENT
    assert f"What each requirement means: {REQUIREMENTS_DOCUMENT} in the" in clean_run.text("report.md")
    assert f"<dt>Requirements</dt><dd>{REQUIREMENTS_DOCUMENT} in the" in clean_run.text("report.html")
