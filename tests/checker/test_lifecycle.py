"""The lifecycle state machine: silent on a conformant server, and it finds semantic faults on its own.

Each test runs only this engine, on a `RunState` built as the runner builds it (the response observer and
the ledger watch every answer), against a fresh reference server with or without a planted fault.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
import requests

from conformance.checker.budget import BUDGETS, Budget
from conformance.checker.client import TargetClient
from conformance.checker.ledger import Ledger
from conformance.checker.lifecycle import CHECK, COVERS, run_lifecycle
from conformance.checker.marks import RunMark
from conformance.checker.observer import ResponseObserver, ResponseSpec
from conformance.checker.profile import Credentials, TargetProfile
from conformance.checker.results import Finding, Results
from conformance.checker.run_state import RunState
from conformance.contract.spec import load_spec
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY

SEED = 1234
QUICK = BUDGETS["quick"]

# The semantic faults this engine must find on its own, and the requirement each must fail.
SEMANTIC_FAULTS = {
    "list-off-by-one": "LIST-03",
    "list-total-includes-deleted": "LIST-02",
    "update-not-persisted": "UPDATE-01",
    "read-stale-cache": "UPDATE-01",
    "list-stale-cache": "LIST-07",
    "delete-by-shop": "DELETE-04",
    "update-drops-type": "UPDATE-01",
    "list-shopid-prefix": "LIST-04",
    "create-sorts-urls": "CREATE-02",
    "update-modified-unchanged": "UPDATE-03",
    "delete-soft-listed": "DELETE-02",
}


@dataclass
class EngineRun:
    """What one run of the lifecycle engine left behind."""

    results: Results
    left_behind: dict[str, Credentials]  # records the engine itself did not delete
    requests: int
    lines: list[str]

    def status(self, requirement_id: str) -> str:
        return self.results.status(requirement_id)

    def findings(self, requirement_id: str) -> list[Finding]:
        return self.results.by_id[requirement_id].findings


@pytest.fixture
def run_engine(start_reference) -> Callable[..., EngineRun]:
    """`run_engine(fault=None, shop_ids=(), budget=QUICK, base_url=None)`: the lifecycle engine against a
    fresh reference server (or `base_url`) with the demo keys; the ledger cleans up afterwards."""
    spec = load_spec()

    def run(
        fault: str | None = None,
        *,
        shop_ids: tuple[str, ...] = (),
        budget: Budget = QUICK,
        base_url: str | None = None,
    ) -> EngineRun:
        url = base_url or start_reference(fault=fault).base_url
        profile = TargetProfile(url, DEMO_PARTNER_KEY, DEMO_DEVELOPER_KEY, shop_ids=shop_ids, timeout=2.0)
        client = TargetClient(profile)
        results = Results(SEED)
        mark = RunMark(secrets.token_hex(4))
        ledger = Ledger(mark)
        client.observers += [ResponseObserver(ResponseSpec(spec), results), ledger.observe]
        state = RunState(profile, client, results, budget, SEED, mark, spec)
        lines: list[str] = []
        run_lifecycle(state, lines.append)
        outcome = EngineRun(results, ledger.live(), client.stats.requests, lines)
        ledger.clean_up(client)
        client.close()
        return outcome

    return run


def test_a_conformant_server_gets_no_finding(run_engine):
    outcome = run_engine()
    assert outcome.results.findings() == []


def test_a_conformant_server_passes_every_requirement_the_engine_covers(run_engine):
    outcome = run_engine()
    assert {requirement_id: outcome.status(requirement_id) for requirement_id in COVERS} == dict.fromkeys(
        COVERS, "passed"
    )


def test_every_example_deletes_the_records_it_created(run_engine):
    outcome = run_engine()
    assert outcome.left_behind == {}


def test_a_quick_run_stays_small(run_engine):
    outcome = run_engine()
    assert outcome.requests < 600
    assert "lifecycle:" in outcome.lines[-1]


def test_records_already_in_a_given_shop_raise_no_false_alarm_and_stay_untouched(run_engine, reference_server, api):
    """With `--shop-id`, the shop holds records from before the run (and the company has more elsewhere)."""
    theirs = [api.create(shopId="their-shop", webHookType="NEW_MEMBER") for _ in range(3)]
    elsewhere = [api.create(shopId="their-shop-2") for _ in range(2)]
    outcome = run_engine(shop_ids=("their-shop",), base_url=reference_server.base_url)
    assert outcome.results.findings() == []
    assert all(outcome.status(requirement_id) == "passed" for requirement_id in COVERS)
    assert [api.get(record["id"]).json() for record in theirs + elsewhere] == theirs + elsewhere


@pytest.mark.parametrize(("fault", "requirement_id"), SEMANTIC_FAULTS.items())
def test_a_semantic_fault_fails_its_requirement_with_the_requests_that_show_it(run_engine, fault, requirement_id):
    outcome = run_engine(fault)
    assert outcome.status(requirement_id) == "failed"
    finding = next(finding for finding in outcome.findings(requirement_id) if finding.check == CHECK)
    assert finding.requirement_id == requirement_id and requirement_id not in finding.expected  # named once
    assert finding.exchanges and all(exchange.status is not None for exchange in finding.exchanges)
    reproduction = "\n".join(finding.to_dict()["reproduction"])
    assert reproduction.count("curl") == len(finding.exchanges)
    assert DEMO_DEVELOPER_KEY not in reproduction and DEMO_PARTNER_KEY not in reproduction


def test_a_finding_is_shrunk_to_a_short_sequence(run_engine):
    """`create-sorts-urls` needs one create: the evidence is the shop lists and that one POST."""
    outcome = run_engine("create-sorts-urls")
    (finding,) = outcome.findings("CREATE-02")
    assert [exchange.method for exchange in finding.exchanges] == ["GET", "GET", "POST"]


def test_a_broken_should_is_reported_without_stopping_the_musts(run_engine):
    outcome = run_engine("update-flag-not-set")
    assert outcome.status("UPDATE-04") == "failed"
    assert outcome.status("UPDATE-01") == "passed"
    assert outcome.status("DELETE-04") == "passed"


def test_a_spent_time_budget_leaves_the_requirements_not_run(run_engine):
    outcome = run_engine(budget=replace(QUICK, time_limit=0))
    assert {outcome.status(requirement_id) for requirement_id in COVERS} == {"not-run"}
    assert "time budget" in outcome.results.by_id["LIST-03"].not_run_reason


def test_a_target_that_does_not_answer_leaves_the_requirements_not_run(run_engine, start_reference):
    server = start_reference()
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.base_url, timeout=2)
    outcome = run_engine(base_url=server.base_url)
    assert {outcome.status(requirement_id) for requirement_id in COVERS} == {"not-run"}
    assert "no answer" in outcome.results.by_id["CREATE-01"].not_run_reason
