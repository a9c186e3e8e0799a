"""How a suite item ends, from its requirement's result: the plugin's rules, on hand-made run outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from conformance.checker.baseline import compare
from conformance.checker.evidence import Exchange
from conformance.checker.outcome import RunOutcome
from conformance.checker.profile import RunOptions, TargetProfile
from conformance.checker.results import Finding, Results
from conformance.checker.verdict import ExitCode
from conformance.faces.pytest_plugin import ConformanceWarning, report_requirement

PROFILE = TargetProfile("https://staging.example.com", "partner-secret", "developer-secret")


def _outcome(
    failed: tuple[str, ...] = (),
    passed: tuple[str, ...] = (),
    *,
    strict: bool = False,
    known: frozenset[str] | None = None,
    error: str | None = None,
) -> RunOutcome:
    results = Results(seed=7)
    exchange = Exchange("GET", "https://staging.example.com/api", {"x-api-key": "${CONFORMANCE_PARTNER_KEY}"}, None)
    for item in failed:
        results.fail(Finding(item, "check", "a 400", "a 200 for key partner-secret", [exchange]))
    for item in passed:
        results.exercised(item, "check")
    outcome = RunOutcome(
        "nonconformant" if failed else "conformant",
        ExitCode.NONCONFORMANT if failed else ExitCode.CONFORMANT,
        results,
        RunOptions(strict=strict),
        PROFILE,
        None,
        datetime.now(UTC),
        1.0,
        error=error,
    )
    if known is not None:
        outcome.baseline = compare(Path("baseline.json"), known, results)
    return outcome


def test_a_passed_requirement_passes() -> None:
    report_requirement(_outcome(passed=("LIST-03",)), "LIST-03")


def test_a_failed_must_fails_with_the_finding_and_its_curl_without_key_values() -> None:
    with pytest.raises(pytest.fail.Exception) as failure:
        report_requirement(_outcome(failed=("LIST-03",)), "LIST-03")
    message = str(failure.value)
    assert message.startswith("LIST-03 (MUST) failed")
    assert 'curl -sS -i -X GET -H "x-api-key: ${CONFORMANCE_PARTNER_KEY}"' in message
    assert "partner-secret" not in message and "${CONFORMANCE_PARTNER_KEY}" in message.split("actual:")[1]


def test_a_failed_should_passes_with_a_warning_unless_strict() -> None:
    with pytest.warns(ConformanceWarning, match=r"CREATE-06 \(SHOULD\) failed"):
        report_requirement(_outcome(failed=("CREATE-06",)), "CREATE-06")
    with pytest.raises(pytest.fail.Exception):
        report_requirement(_outcome(failed=("CREATE-06",), strict=True), "CREATE-06")


def test_a_not_run_requirement_skips_with_the_reason() -> None:
    outcome = _outcome()
    outcome.results.not_run("TENANT-01", "needs --second-developer-key")
    with pytest.raises(pytest.skip.Exception, match="needs --second-developer-key"):
        report_requirement(outcome, "TENANT-01")


def test_a_requirement_not_run_because_the_run_broke_off_fails() -> None:
    outcome = _outcome(error="the target stopped answering")
    outcome.results.not_run("LIST-03", "no check exercised it in this run")
    with pytest.raises(pytest.fail.Exception, match=r"the run did not complete \(the target stopped answering\)"):
        report_requirement(outcome, "LIST-03")


def test_a_failure_the_baseline_knows_is_xfail() -> None:
    with pytest.raises(pytest.xfail.Exception, match=r"^known failure \(baseline\): LIST-03"):
        report_requirement(_outcome(failed=("LIST-03",), known=frozenset({"LIST-03"})), "LIST-03")


def test_a_known_failure_that_passes_now_warns_that_the_baseline_can_shrink() -> None:
    with pytest.warns(ConformanceWarning, match="LIST-03 passes now, but the baseline baseline.json lists it"):
        report_requirement(_outcome(passed=("LIST-03",), known=frozenset({"LIST-03"})), "LIST-03")
