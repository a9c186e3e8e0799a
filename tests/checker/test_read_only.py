"""The read-only run: nothing that could write reaches the target, the checks that only read still catch
what they claim, and a scenario that promises to write nothing is held to it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support import conformance_cli, count_methods

from conformance.checker.budget import BUDGETS
from conformance.checker.client import SAFE_METHODS, TargetClient, WriteRefused
from conformance.checker.engine import READ_ONLY
from conformance.checker.marks import RunMark
from conformance.checker.options import resolve_options
from conformance.checker.outcome import RunOutcome
from conformance.checker.profile import make_options, make_profile
from conformance.checker.results import Results
from conformance.checker.run_state import RunState
from conformance.checker.runner import read_only_requirements, run
from conformance.checker.scenario import Scenario
from conformance.checker.scenarios import SCENARIOS_ENGINE, run_scenario
from conformance.contract.catalogue import ids
from conformance.reference.app import RunningServer
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY


def _target(server: RunningServer) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "partner_key": DEMO_PARTNER_KEY,
        "developer_key": DEMO_DEVELOPER_KEY,
        "second_developer_key": DEMO_SECOND_DEVELOPER_KEY,
    }


def _read_only_run(server: RunningServer, engines: tuple[str, ...] = (), **flags: Any) -> RunOutcome:
    merged = resolve_options({**_target(server), "budget": "quick", "seed": 1234, **flags}, environ={})
    return run(replace(make_options(merged), read_only=True, engines=engines), merged)


def test_a_read_only_client_refuses_every_method_that_is_not_safe(reference_server: RunningServer) -> None:
    methods = count_methods(reference_server)
    client = TargetClient(make_profile(_target(reference_server)), read_only=True)
    for send in (lambda: client.create({}), lambda: client.delete("x"), lambda: client.call("PATCH", "/")):
        with pytest.raises(WriteRefused, match="the run is read-only"):
            send()
    assert client.list().status == 200
    assert methods == {"GET": 1}


def test_a_read_only_run_sends_only_safe_methods_and_checks_what_reads_can(reference_server: RunningServer) -> None:
    methods = count_methods(reference_server)
    outcome = _read_only_run(reference_server)
    assert set(methods) <= SAFE_METHODS
    statuses = {item: outcome.results.status(item) for item in ids()}
    assert {item for item in read_only_requirements() if statuses[item] != "passed"} == set()
    assert "failed" not in statuses.values()
    assert READ_ONLY in (outcome.results.by_id["LIST-03"].not_run_reason or "")
    assert not [note for note in outcome.notes if "internal error" in note]
    assert reference_server.api.store.records(None, include_deleted=True) == []


@pytest.mark.parametrize(
    ("fault", "broken"),
    [
        ("auth-list-unauthenticated", "AUTH-01"),
        ("auth-unknown-developer-key", "AUTH-02"),
        ("read-dotdot-lists", "READ-02"),
        ("list-negative-start-accepted", "LIST-06"),
    ],
)
def test_the_checks_that_only_read_catch_their_faults(start_reference, fault: str, broken: str) -> None:
    outcome = _read_only_run(start_reference(fault=fault), engines=(SCENARIOS_ENGINE,), only=broken)
    assert outcome.results.status(broken) == "failed"


def test_a_scenario_that_promises_to_read_only_but_writes_is_a_checker_error(reference_server: RunningServer) -> None:
    profile = make_profile(_target(reference_server))
    results = Results(seed=1)
    state = RunState(profile, TargetClient(profile, read_only=True), results, BUDGETS["quick"], 1, RunMark("test"))
    run_scenario(state, Scenario("sneaky", ("LIST-06",), lambda probe: probe.create(), writes=False))
    assert results.status("LIST-06") == "not-run"
    assert "internal error in sneaky: WriteRefused" in (results.by_id["LIST-06"].not_run_reason or "")


def test_a_check_that_breaks_leaves_its_requirements_not_run_even_where_others_passed_them(
    reference_server: RunningServer,
) -> None:
    """An internal error in one check: a requirement another check passed is not-run all the same (the broken
    check's part of it never ran: no pass on the strength of the rest); one that failed stays failed."""
    profile = make_profile(_target(reference_server))
    results = Results(seed=1)
    state = RunState(profile, TargetClient(profile), results, BUDGETS["quick"], 1, RunMark("test"))
    results.check("LIST-06", "another", True, "a pass", "it passed")
    results.check("LIST-02", "another", False, "a total", "another total")

    def broken(probe: Any) -> None:
        raise ValueError("a bug of the checker")

    run_scenario(state, Scenario("broken", ("LIST-06", "LIST-02"), broken, writes=False))
    assert results.status("LIST-06") == "not-run"
    assert "internal error in broken" in (results.by_id["LIST-06"].not_run_reason or "")
    assert results.status("LIST-02") == "failed"


def test_the_cli_read_only_flag_sends_no_write_and_says_so_in_the_report(
    reference_server: RunningServer, tmp_path: Path
) -> None:
    methods = count_methods(reference_server)
    keys = {"CONFORMANCE_PARTNER_KEY": DEMO_PARTNER_KEY, "CONFORMANCE_DEVELOPER_KEY": DEMO_DEVELOPER_KEY}
    command = ["--base-url", reference_server.base_url, "--read-only", "--budget", "quick", "--seed", "1", "-q"]
    result = conformance_cli("run", *command, cwd=tmp_path, env=keys)
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert result.returncode == 0, result.stderr
    assert methods["GET"] > 0 and set(methods) <= SAFE_METHODS
    assert any("read-only run" in note for note in report["run"]["notes"])
    assert READ_ONLY in next(r["reason"] for r in report["requirements"] if r["id"] == "LIST-03")
