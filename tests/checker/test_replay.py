"""Reproductions that reproduce: a finding replayed from a clean start against a fresh server with the fault shows
again (`conformance replay` exits 1) and against the clean server does not (exit 0); its shell script, run with
bash against the faulty server, gets the answers the run saw, and against the clean server does not.

The normal tier replays a few representative faults; the `slow` tier (`make test-all`) runs, for every requirement
the fault catalogue breaks, one script with bash; the `campaign` tier (`make test-campaign`, about 10 minutes) replays
every finding of a quick run of every fault in the catalogue.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support import conformance_cli, free_port

from conformance.checker.evidence import clip
from conformance.checker.options import resolve_options
from conformance.checker.profile import make_options
from conformance.checker.replay import replay
from conformance.checker.runner import run
from conformance.checker.scenarios import SCENARIOS_ENGINE
from conformance.checker.verdict import ExitCode
from conformance.reference.app import RunningServer, start_server
from conformance.reference.faults import FAULTS
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY
from conformance.reports import redacted_report, write_reports

KEYS = {
    "CONFORMANCE_PARTNER_KEY": DEMO_PARTNER_KEY,
    "CONFORMANCE_DEVELOPER_KEY": DEMO_DEVELOPER_KEY,
    "CONFORMANCE_SECOND_DEVELOPER_KEY": DEMO_SECOND_DEVELOPER_KEY,
}
SEED = 1234
# One fault per kind of finding: a tenancy write, a paging walk, a validation create that is accepted, an
# every-answer finding (a 500) whose request a scenario sent.
SAMPLE = ("tenant-put-no-check", "list-off-by-one", "valid-no-ssrf-guard", "valid-malformed-json-500")


@pytest.fixture
def servers() -> Iterator[Callable[[str | None], RunningServer]]:
    """`servers(fault)`: a fresh reference server (stopped after the test)."""
    started: list[RunningServer] = []

    def start(fault: str | None) -> RunningServer:
        started.append(start_server(fault=fault))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def quick_report(
    server: RunningServer,
    tmp_path: Path,
    engines: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
    budget: str = "quick",
) -> dict[str, Any]:
    """The report model of a run at `budget` (seed 1234) against `server`, of `only` these requirements if given."""
    values = {"base_url": server.base_url, "budget": budget, "seed": SEED, "report_dir": tmp_path / "reports"}
    if only:
        values["only"] = ",".join(only)
    merged = resolve_options(values, environ=KEYS, directory=tmp_path)
    outcome = run(replace(make_options(merged), engines=engines), merged)
    return redacted_report(outcome)


def findings_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [finding for item in report["requirements"] for finding in item["findings"]]


def replayed(report: dict[str, Any], finding: dict[str, Any], server: RunningServer, tmp_path: Path) -> ExitCode:
    target = resolve_options({"base_url": server.base_url}, environ=KEYS, directory=tmp_path)
    return replay(report, finding, target).exit_code


def assert_every_finding_replays(fault: str, servers: Any, tmp_path: Path, engines: tuple[str, ...]) -> None:
    report = quick_report(servers(fault), tmp_path, engines)
    findings = findings_of(report)
    assert findings, f"{fault}: the quick run found nothing to replay"
    for finding in findings:
        assert replayed(report, finding, servers(fault), tmp_path) == ExitCode.NONCONFORMANT, (fault, finding["id"])
        assert replayed(report, finding, servers(None), tmp_path) == ExitCode.CONFORMANT, (fault, finding["id"])


@pytest.mark.parametrize("fault", SAMPLE)
def test_a_finding_replays_against_its_fault_and_not_against_the_clean_server(fault, servers, tmp_path) -> None:
    assert_every_finding_replays(fault, servers, tmp_path, (SCENARIOS_ENGINE,))


# Findings whose answer needed more than a rerun of their check gives: the preflight's own probe, a record stored
# by a refused write that only the cleanup's sweep finds, a list showing a record another check created.
BEYOND_THEIR_CHECK = [
    ("http-error-without-message", "every-response", "preflight"),
    ("update-upsert-404", "cleanup sweep", "update_of_missing_id_creates_nothing"),
    ("valid-type-case-insensitive", "every-response", "lists_are_per_company"),
]


@pytest.mark.parametrize(("fault", "check", "origin"), BEYOND_THEIR_CHECK)
def test_a_finding_beyond_its_checks_own_requests_replays(fault, check, origin, servers, tmp_path) -> None:
    report = quick_report(servers(fault), tmp_path, (SCENARIOS_ENGINE,))
    finding = next(item for item in findings_of(report) if (item["check"], item["origin"]) == (check, origin))
    assert replayed(report, finding, servers(fault), tmp_path) == ExitCode.NONCONFORMANT
    assert replayed(report, finding, servers(None), tmp_path) == ExitCode.CONFORMANT


@pytest.mark.campaign
@pytest.mark.parametrize("fault", [item.name for item in FAULTS])
def test_every_finding_of_every_fault_replays(fault, servers, tmp_path) -> None:
    assert_every_finding_replays(fault, servers, tmp_path, ())


def test_a_record_stored_by_a_create_that_got_no_answer_is_created_again(servers, tmp_path) -> None:
    """A create whose connection dropped after the target stored its record: only lists show the record, found
    by the scenarios' lists (and, side by side, by other engines'). Each such finding's sequence sends that
    create again (its dropped answer is no reason to stop) and shows the failure only where the fault is."""
    fault = "create-stores-then-drops"
    report = quick_report(servers(fault), tmp_path)
    shown = [item for item in findings_of(report) if item["requirement"] == "HTTP-02"]
    assert "lists_are_per_company" in {item["origin"] for item in shown}  # side by side, other engines' lists too
    for finding in shown:
        assert any(step["method"] == "POST" and step["status"] is None for step in finding["sequence"])
        assert replayed(report, finding, servers(fault), tmp_path) == ExitCode.NONCONFORMANT, finding["id"]
        assert replayed(report, finding, servers(None), tmp_path) == ExitCode.CONFORMANT, finding["id"]


@pytest.mark.parametrize("fault", ["list-unstable-order", "delete-soft-listed"])
def test_a_lifecycle_finding_takes_its_example_again(fault, servers, tmp_path) -> None:
    """The machine's rules and their arguments (`machine_steps`), taken again on a fresh machine whose model
    judges the answers: the failure shows where the fault is and not on the clean server."""
    report = quick_report(servers(fault), tmp_path, ("lifecycle state machine",))
    shown = [item for item in findings_of(report) if item["check"] == "lifecycle"]
    assert shown, f"{fault}: the lifecycle found nothing"
    for finding in shown:
        assert finding["machine_steps"][0]["rule"] == "open_shops"
        assert replayed(report, finding, servers(fault), tmp_path) == ExitCode.NONCONFORMANT, finding["id"]
        assert replayed(report, finding, servers(None), tmp_path) == ExitCode.CONFORMANT, finding["id"]


def test_a_lifecycle_finding_about_records_of_other_engines_makes_them_again(servers, tmp_path) -> None:
    """`shopId` and `type` matched as either one: the machine's list shows records that the scenarios and
    Schemathesis made in shops of their own. Its sequence makes them first (the creates of every engine are
    journaled), then the machine takes its example again."""
    fault = "list-filters-union"
    report = quick_report(servers(fault), tmp_path)
    finding = next(item for item in findings_of(report) if item["check"] == "lifecycle")
    setup = [step for step in finding["sequence"] if not step["shows"]]
    assert any(step["method"] == "POST" and step["status"] == 200 for step in setup)
    assert replayed(report, finding, servers(fault), tmp_path) == ExitCode.NONCONFORMANT
    assert replayed(report, finding, servers(None), tmp_path) == ExitCode.CONFORMANT


def test_a_schemathesis_finding_replays_its_sequence_with_the_ids_captured_again(servers, tmp_path) -> None:
    """An update that Schemathesis sent to the record it created for updates: the replay and the script create
    that record again, send the update to the new id, and show the failure only where the fault is."""
    fault = "valid-type-unchecked"
    # standard: the invalid update comes from Schemathesis's invalid coverage cases, which quick leaves out
    report = quick_report(servers(fault), tmp_path, ("schemathesis",), ("UPDATE-06",), "standard")
    finding = next(item for item in findings_of(report) if item["requirement"] == "UPDATE-06")
    created, failing = finding["sequence"][0], finding["sequence"][-1]
    assert finding["check"].startswith("schemathesis:") and created["method"] == "POST" and failing["shows"]
    assert replayed(report, finding, servers(fault), tmp_path) == ExitCode.NONCONFORMANT
    assert replayed(report, finding, servers(None), tmp_path) == ExitCode.CONFORMANT
    assert script_shows_the_failure(finding, servers, tmp_path, fault)


def test_a_schemathesis_finding_on_the_anchor_takes_the_anchors_last_update_again(servers, tmp_path) -> None:
    """Generated updates all go to one record, the anchor: a PUT that moved it to the body's company made every
    later one a 404. The sequence updates the anchor as the run had before the failing PUT (its last update the
    target accepted), so the replay and the script show the 404 where the fault is, and not on the clean server."""
    fault = "update-company-from-body"
    report = quick_report(servers(fault), tmp_path, ("schemathesis",))
    finding = next(item for item in findings_of(report) if item["check"] == "schemathesis:ensure_resource_availability")
    failing, setup = finding["sequence"][-1], [step for step in finding["sequence"] if not step["shows"]]
    assert (failing["method"], failing["status"]) == ("PUT", 404)
    moved = [step for step in setup if step["method"] == "PUT" and step["url"] == failing["url"]]
    assert moved and moved[-1]["status"] == 200 and '"companyId"' in moved[-1]["request_body"]
    assert replayed(report, finding, servers(fault), tmp_path) == ExitCode.NONCONFORMANT
    assert replayed(report, finding, servers(None), tmp_path) == ExitCode.CONFORMANT
    assert script_shows_the_failure(finding, servers, tmp_path, fault)


def test_replay_command_exit_codes(servers, tmp_path: Path) -> None:
    """1 when it shows again, 0 when fixed, 3 when the target cannot be reached, 2 for an unknown finding."""
    faulty = servers("tenant-put-no-check")
    report = quick_report(faulty, tmp_path, (SCENARIOS_ENGINE,))
    finding = next(item for item in findings_of(report) if item["requirement"] == "TENANT-01")
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    def replay_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return conformance_cli("replay", str(path), *args, cwd=tmp_path, env=KEYS)

    shown = replay_cli("--finding", finding["id"])
    assert shown.returncode == 1 and shown.stdout.startswith(f"{finding['id']}: the failure shows again: ")
    fixed = replay_cli("--finding", finding["id"], "--base-url", servers(None).base_url)
    assert fixed.returncode == 0 and "fixed" in fixed.stdout
    gone = replay_cli("--finding", finding["id"], "--base-url", f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 3 and "cannot tell: target unreachable" in gone.stdout
    unknown = replay_cli("--finding", "NOPE-01-000000")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "Traceback" not in unknown.stderr


# -- the shell script -----------------------------------------------------------------------------------------

RUN_SPECIFIC = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{8,}|\d{10,}")


def _masked(text: str) -> str:
    """An answer without what differs from run to run (ids, run tags, timestamps), keeping what a timestamp is:
    its number of digits (epoch seconds or milliseconds)."""
    return RUN_SPECIFIC.sub(lambda match: f"#{len(match.group()) if match.group().isdigit() else ''}", text)


def shown_answers(output: str) -> list[tuple[int, str]]:
    """(status, body) of each request the script shows (`>>> ...`, the body, `<<< HTTP nnn`)."""
    return [
        (int(status), body.strip())
        for body, status in re.findall(r"^>>> [^\n]*\n(.*?)\n?<<< HTTP (\d{3})$", output, re.S | re.M)
    ]


def run_script(finding: dict[str, Any], server: RunningServer, tmp_path: Path) -> list[tuple[int, str]]:
    script = tmp_path / f"{finding['id']}.sh"
    script.write_text(finding["script"], encoding="utf-8")
    environment = {**os.environ, **KEYS, "CONFORMANCE_BASE_URL": server.base_url}
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=environment, timeout=120)
    assert done.returncode == 0 and "<<< HTTP" in done.stdout, done.stderr
    return shown_answers(done.stdout)


def recorded_answers(finding: dict[str, Any]) -> list[tuple[int, str]]:
    return [(item["status"], item["response_body"] or "") for item in finding["exchanges"]]


def same_answers(got: list[tuple[int, str]], recorded: list[tuple[int, str]]) -> bool:
    """Whether the script got the answers the run recorded (bodies as far as the run kept them)."""

    def key(answers: list[tuple[int, str]]) -> list[tuple[int, str]]:  # bodies cut where the run's evidence cuts
        return sorted((status, _masked((clip(body) or "").split("... [")[0])) for status, body in answers)

    return key(got) == key(recorded)


def modified_not_later(answers: list[tuple[int, str]]) -> bool:
    """UPDATE-03's failure in a script's output: the last answer's `modified` (the PUT's) not later than the
    first's (the GET before it)."""
    try:
        values = [json.loads(body).get("modified") for _, body in answers]
    except (ValueError, AttributeError):
        return False
    numbers = [value for value in values if isinstance(value, int)]
    return len(numbers) == len(values) >= 2 and numbers[-1] <= numbers[0]


# Requirements whose failure is a relation between two answers' values, which masking the run-specific
# timestamps hides from a comparison of answers: the script's output is judged by that relation instead.
JUDGED_BY_RELATION = {"UPDATE-03": modified_not_later}


def script_shows_the_failure(finding: dict[str, Any], servers: Any, tmp_path: Path, fault: str) -> bool:
    """Against the faulty server the script gets the answers the run saw (or, for a relation, shows it); against
    the clean one it does not."""
    relation = JUDGED_BY_RELATION.get(finding["requirement"])
    if relation is not None:
        faulty, clean = run_script(finding, servers(fault), tmp_path), run_script(finding, servers(None), tmp_path)
        return relation(faulty) and not relation(clean)
    recorded = recorded_answers(finding)
    return same_answers(run_script(finding, servers(fault), tmp_path), recorded) and not same_answers(
        run_script(finding, servers(None), tmp_path), recorded
    )


def scripts_show_each_requirement(faults: list[str], servers: Any, tmp_path: Path) -> dict[str, str]:
    """For each requirement these faults break (each fault's run checks those alone), a finding whose script shows
    the failure: requirement -> id."""
    breaks = {item.name: item.breaks for item in FAULTS}
    shown: dict[str, str] = {}
    failed: set[str] = set()
    for fault in faults:
        report = quick_report(servers(fault), tmp_path, (SCENARIOS_ENGINE,), breaks[fault])
        for finding in findings_of(report):
            failed.add(finding["requirement"])
            if finding["requirement"] in shown or not finding["script"]:
                continue
            if script_shows_the_failure(finding, servers, tmp_path, fault):
                shown[finding["requirement"]] = finding["id"]
    assert sorted(failed - set(shown)) == []
    return shown


def test_a_script_shows_the_failure_against_the_fault_and_not_against_the_clean_server(servers, tmp_path) -> None:
    faults = ["tenant-put-no-check", "list-total-is-page-size", "update-modified-unchanged"]
    shown = scripts_show_each_requirement(faults, servers, tmp_path)
    assert {"TENANT-01", "TENANT-03", "LIST-02", "UPDATE-03"} <= set(shown)


@pytest.mark.slow
def test_for_every_requirement_one_script_shows_its_failure(servers, tmp_path) -> None:
    shown = scripts_show_each_requirement([item.name for item in FAULTS], servers, tmp_path)
    caught = {requirement for item in FAULTS for requirement in item.breaks}
    assert caught <= set(shown)


def test_written_reports_carry_the_script_and_the_replay_command(servers, tmp_path: Path) -> None:
    values = {"base_url": servers("tenant-put-no-check").base_url, "budget": "quick", "seed": SEED, "only": "TENANT"}
    merged = resolve_options(values, environ=KEYS, directory=tmp_path)
    outcome = run(replace(make_options(merged), engines=(SCENARIOS_ENGINE,)), merged)
    write_reports(outcome, tmp_path)
    finding = findings_of(redacted_report(outcome))[0]
    command = f"conformance replay report.json --finding {finding['id']}"
    assert command in (tmp_path / "report.md").read_text() and command in (tmp_path / "report.html").read_text()
    assert finding["script"].startswith("#!/bin/sh") and DEMO_DEVELOPER_KEY not in finding["script"]
    assert "${CONFORMANCE_SECOND_DEVELOPER_KEY}" in finding["script"] and "WC_ID_1=$(" in finding["script"]
