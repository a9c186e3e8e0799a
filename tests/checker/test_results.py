"""A requirement passes only when exercised without failure; the verdict follows the levels."""

from __future__ import annotations

from dataclasses import replace

from conformance.checker.results import MAX_FINDINGS_PER_REQUIREMENT, Finding, Results
from conformance.checker.verdict import ExitCode, completeness_of, verdict_of
from conformance.contract.catalogue import catalogue


def test_unexercised_requirement_is_not_run_never_passed() -> None:
    results = Results()
    assert {results.status(item.id) for item in catalogue()} == {"not-run"}


def test_exercised_without_failure_passes_and_one_failure_fails() -> None:
    results = Results()
    results.exercised("LIST-01", "a")
    results.exercised("LIST-02", "a")
    results.fail(Finding("LIST-02", "b", "expected", "actual"))
    assert results.status("LIST-01") == "passed"
    assert results.status("LIST-02") == "failed"


def test_check_records_a_held_assertion_as_exercised_and_a_broken_one_as_a_finding() -> None:
    results = Results(seed=7)
    built: list[str] = []

    held = results.check("LIST-01", "walk", True, "a page", lambda: built.append("words") or "words")
    broken = results.check("LIST-02", "walk", False, "3 records", lambda: "2 records", operation="listWebHooks")

    assert held is None and built == []  # the words of an assertion that held are never built
    assert (results.status("LIST-01"), results.status("LIST-02")) == ("passed", "failed")
    assert broken is not None and (broken.expected, broken.actual, broken.seed) == ("3 records", "2 records", 7)
    assert results.by_id["LIST-02"].failed_operations == {"listWebHooks": 1}


def test_findings_are_deduplicated_and_capped_but_counted() -> None:
    results = Results(seed=5)
    for index in range(MAX_FINDINGS_PER_REQUIREMENT + 3):
        results.fail(Finding("HTTP-01", "c", "no 5xx", f"status 50{index % 10}"))
        results.fail(Finding("HTTP-01", "c", "no 5xx", f"status 50{index % 10}"))
    results.settle()  # the cap holds once every check has ended
    entry = results.by_id["HTTP-01"]
    assert len(entry.findings) == MAX_FINDINGS_PER_REQUIREMENT
    assert entry.failures == 2 * (MAX_FINDINGS_PER_REQUIREMENT + 3)
    assert entry.findings[0].seed == 5


def test_the_findings_kept_and_their_ids_do_not_depend_on_which_check_came_first() -> None:
    findings = [
        Finding("HTTP-01", check, "no 5xx", f"status 500 to request {number}", operation="createWebHook")
        for check in ("scenario-a", "scenario-b", "scenario-c")
        for number in range(4)
    ]
    for finding, steps in zip(findings, range(len(findings)), strict=True):
        finding.sequence = [None] * steps  # type: ignore[list-item]  (only its length orders it)

    def settled(order: list[Finding]) -> list[tuple[str, str, str]]:
        results = Results(seed=1)
        for finding in order:
            results.fail(replace(finding))
        results.settle()
        return [(item.id, item.check, item.actual, item.origin) for item in results.by_id["HTTP-01"].findings]

    forwards = settled(findings)
    assert forwards == settled(list(reversed(findings))) == settled(findings[1::2] + findings[::2])
    assert len(forwards) == MAX_FINDINGS_PER_REQUIREMENT
    assert len({kept[0] for kept in forwards}) == len(forwards)


def test_of_one_failure_seen_by_two_checks_the_first_in_the_runs_order_stands_for_both() -> None:
    def kept(origins: tuple[str, ...]) -> list[str | None]:
        results = Results(seed=1)
        results.run_order = ["preflight", "scenario-z", "scenario-y"]
        for origin in origins:
            results.fail(Finding("HTTP-01", "every answer", "no 5xx", "status 500", origin=origin))
        results.settle()
        return [item.origin for item in results.by_id["HTTP-01"].findings]

    assert kept(("scenario-z", "scenario-y")) == kept(("scenario-y", "scenario-z")) == ["scenario-z"]


def test_assertions_and_failures_are_counted_per_operation_where_known() -> None:
    results = Results()
    results.exercised("LIST-03", "a", "listWebHooks")
    results.exercised("LIST-03", "a", "listWebHooks")
    results.exercised("LIST-03", "a")
    results.fail(Finding("LIST-03", "b", "each once", "one missing", operation="listWebHooks"))
    results.fail(Finding("LIST-03", "b", "each once", "created twice", operation="createWebHook"))
    entry = results.by_id["LIST-03"]
    assert entry.exercised == 5
    assert entry.operations == {"listWebHooks": 3, "createWebHook": 1}
    assert entry.failed_operations == {"listWebHooks": 1, "createWebHook": 1}


def test_left_out_requirement_forgets_what_touched_it() -> None:
    results = Results()
    results.fail(Finding("LIST-03", "b", "each once", "one missing", operation="listWebHooks"))
    results.leave_out("LIST-03", "left out by --only/--skip")
    entry = results.by_id["LIST-03"]
    assert entry.status == "not-run" and entry.not_run_reason == "left out by --only/--skip"
    assert (entry.findings, entry.operations, entry.failed_operations, entry.checks) == ([], {}, {}, set())


def test_a_requirement_left_out_mid_run_is_not_passed_by_checks_still_running_but_a_failure_counts() -> None:
    # An engine's internal error leaves its requirements out while other engines still run beside it.
    results = Results()
    results.exercised("READ-01", "a")
    results.leave_out("READ-01", "internal error in a")
    results.exercised("READ-01", "b", "getWebHook")
    assert results.status("READ-01") == "not-run"
    results.fail(Finding("READ-01", "b", "the record as written", "another record", operation="getWebHook"))
    assert results.status("READ-01") == "failed"


def test_should_failure_is_a_warning_unless_strict() -> None:
    results = Results()
    for requirement_id in results.by_id:
        results.exercised(requirement_id, "c")
    results.fail(Finding("VALID-09", "c", "400", "200"))
    assert verdict_of(results, strict=False, error=None) == ("conformant", ExitCode.CONFORMANT)
    assert verdict_of(results, strict=True, error=None) == ("nonconformant", ExitCode.NONCONFORMANT)


def test_must_failure_is_nonconformant_even_when_the_run_broke_off() -> None:
    results = Results()
    results.fail(Finding("AUTH-01", "c", "401", "200"))
    assert verdict_of(results, strict=False, error="target stopped answering")[0] == "nonconformant"
    assert verdict_of(Results(), strict=False, error="target unreachable") == ("error", ExitCode.INCOMPLETE)


def test_an_interrupted_run_is_an_error_whatever_it_saw() -> None:
    results = Results()
    results.fail(Finding("AUTH-01", "c", "401", "200"))
    assert verdict_of(results, strict=False, error="interrupted", interrupted=True) == ("error", ExitCode.INCOMPLETE)


def test_a_must_not_run_makes_the_run_incomplete_and_exit_3_only_when_completeness_is_required() -> None:
    results = Results()
    for requirement_id in results.by_id:
        if requirement_id != "TENANT-01":
            results.exercised(requirement_id, "c")
    results.not_run("TENANT-01", "needs --second-developer-key")
    assert verdict_of(results, strict=False, error=None) == ("incomplete", ExitCode.CONFORMANT)
    assert verdict_of(results, strict=False, error=None, require_complete=True) == ("incomplete", ExitCode.INCOMPLETE)
    assert completeness_of(results, strict=False).summary() == (
        "1 requirement(s) that count not run: needs --second-developer-key (TENANT-01)"
    )


def test_a_subset_is_never_conformant_and_a_run_that_checked_nothing_exits_3() -> None:
    results = Results()
    for requirement_id in results.by_id:
        if requirement_id.startswith("LIST"):
            results.exercised(requirement_id, "c")
        else:
            results.deselect(requirement_id, "left out by --only/--skip")
    assert verdict_of(results, strict=False, error=None) == ("incomplete", ExitCode.CONFORMANT)
    nothing = Results()
    for requirement_id in nothing.by_id:
        if not requirement_id.startswith("TENANT"):
            nothing.deselect(requirement_id, "left out by --only/--skip")
    assert verdict_of(nothing, strict=False, error=None) == ("incomplete", ExitCode.INCOMPLETE)
