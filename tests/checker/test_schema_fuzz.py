"""The Schemathesis engine: its contract rules, its check table, and what it finds on the reference server.

The engine runs here on its own (no scenarios, no state machine) over a hand-built run state wired like the
runner's, so every finding and every record below is its own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import load_all_checks

from conformance.checker.budget import BUDGETS, Budget
from conformance.checker.client import TargetClient
from conformance.checker.fuzz import engine as schemathesis_engine
from conformance.checker.fuzz.checks import CHECKS, COVERS
from conformance.checker.fuzz.config import EDGE_VALUES, longest_coverage_first, selected_operations, target_spec
from conformance.checker.fuzz.hook import ForeignRecordWrite, ObservedTransport
from conformance.checker.fuzz.recorder import VerdictRecorder
from conformance.checker.ledger import Cleanup, Ledger
from conformance.checker.marks import RunMark
from conformance.checker.observer import ResponseObserver, ResponseSpec
from conformance.checker.profile import make_profile
from conformance.checker.results import Results
from conformance.checker.run_state import RunState
from conformance.contract import json_text
from conformance.contract.facts import MAX_URL_LENGTH
from conformance.contract.request_rules import RequestRules, url_breaks
from conformance.contract.spec import load_spec
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

SEED = 1234
# Every part of the engine at quick's size: these tests are about what the engine finds, whatever a budget leaves out.
WHOLE_ENGINE = replace(BUDGETS["quick"], invalid_coverage=True)
PROFILE = make_profile({"base_url": "http://x.test", "partner_key": "p", "developer_key": "d"})
RULES = RequestRules.of(PROFILE, load_spec())
SCHEMATHESIS_WORKERS = ("schemathesis_unit_tests", "schemathesis_stateful_tests")  # its threads' names


@dataclass
class EngineRun:
    """What one run of the engine left: its results, the cleanup, and how many requests it sent."""

    results: Results
    cleanup: Cleanup
    requests: int
    base_url: str

    def failed(self) -> set[str]:
        return {entry.requirement.id for entry in self.results.failed()}


def _state(base_url: str, budget: Budget = WHOLE_ENGINE, **profile: Any) -> tuple[RunState, Ledger]:
    """A run state wired as the runner wires it: the every-answer observer and the ledger on the client."""
    values = {
        "base_url": base_url,
        "partner_key": DEMO_PARTNER_KEY,
        "developer_key": DEMO_DEVELOPER_KEY,
        "second_developer_key": DEMO_SECOND_DEVELOPER_KEY,
        **profile,
    }
    spec = load_spec()
    results = Results(SEED)
    client = TargetClient(make_profile(values))
    mark = RunMark("t35t")
    ledger = Ledger(mark)
    client.observers += [ResponseObserver(ResponseSpec(spec), results), ledger.observe]
    client.intents.append(ledger.intend)
    return RunState(client.profile, client, results, budget, SEED, mark, spec), ledger


@pytest.fixture
def run_engine(start_reference) -> Iterator[Callable[..., EngineRun]]:
    """Run only the Schemathesis engine against a fresh reference server (`fault=` plants one defect,
    `only=` selects requirements as --only does, other keywords go to the profile)."""
    clients: list[TargetClient] = []

    def run(fault: str | None = None, only: tuple[str, ...] = (), **profile: Any) -> EngineRun:
        server = start_reference(fault=fault, partner_key_header=profile.get("partner_key_header", "x-api-key"))
        state, ledger = _state(server.base_url, **profile)
        state.only = frozenset(only)
        clients.append(state.client)
        schemathesis_engine.run_schemathesis(state, lambda line: None)
        sent = state.client.stats.requests
        return EngineRun(state.results, ledger.clean_up(state.client), sent, server.base_url)

    yield run
    for client in clients:
        client.close()


def _live_records(base_url: str, developer_key: str) -> int:
    reply = requests.get(
        f"{base_url}/api/v1/partner/webHooks",
        headers={"x-api-key": DEMO_PARTNER_KEY, "Authorization": developer_key},
        timeout=10,
    )
    return reply.json()["total"]


# -- the contract's rules for a request ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "requirement_id"),
    [
        ("/relative/path", "VALID-02"),
        ("javascript:alert(1)", "VALID-02"),
        ("ftp://hooks.example.com/x", "VALID-02"),
        ("https:///no-host", "VALID-02"),
        (42, "VALID-02"),
        ("http://hooks.example.com/x", "VALID-09"),
        ("https://127.0.0.1/x", "VALID-08"),
        ("https://[::1]/x", "VALID-08"),
        ("https://[::ffff:10.1.2.3]/x", "VALID-08"),
        ("https://169.254.169.254/latest", "VALID-08"),
        ("https://localhost/x", "VALID-08"),
        ("https://hooks.example.com/" + "a" * 2048, "VALID-07"),
    ],
)
def test_url_rules_name_the_requirement_a_url_breaks(url: Any, requirement_id: str) -> None:
    assert [item.requirement_id for item in url_breaks(url)] == [requirement_id]


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/x", "https://8.8.8.8/x", "HTTPS://Hooks.Example.COM/a%20b", "https://a.b:99999/"],
)
def test_url_rules_leave_alone_what_the_contract_allows_though_the_spec_pattern_does_not(url: str) -> None:
    assert url_breaks(url) == []


@pytest.mark.parametrize(
    ("body", "requirement_id"),
    [
        (b"not json", "VALID-04"),
        (b"[1, 2]", "VALID-04"),
        (b'{"webHookUrls": NaN}', "VALID-04"),
        (b"{}", "VALID-01"),
        (b'{"webHookUrls": []}', "VALID-01"),
        (b'{"webHookUrls": "https://hooks.example.com/x"}', "VALID-05"),
        (b'{"webHookUrls": ["https://hooks.example.com/x"], "shopId": 7}', "VALID-05"),
        (b'{"webHookUrls": ["https://hooks.example.com/x"], "webHookType": "new_member"}', "VALID-03"),
        (b'{"webHookUrls": ["https://hooks.example.com/x"], "url": "file:///etc/passwd"}', "VALID-02"),
        (b'{"webHookUrls": ["https://a.example.com/x", "https://a.example.com/x"]}', "VALID-07"),
    ],
)
def test_body_rules_name_the_requirement_a_create_body_breaks(body: bytes, requirement_id: str) -> None:
    assert [item.requirement_id for item in RULES.body_breaks(body)] == [requirement_id]


def test_a_body_with_server_owned_and_unknown_fields_breaks_nothing() -> None:
    body = {"webHookUrls": ["https://hooks.example.com/x"], "id": 5, "companyId": None, "extra": {"a": 1}}
    assert RULES.body_breaks(json.dumps(body).encode()) == []


@pytest.mark.parametrize(
    ("query", "broken"),
    [
        ("start=-1", True),
        ("limit=0", True),
        ("limit=1.5", True),
        ("start=ten", True),
        ("type=new_member", True),
        ("start=0&limit=500&type=UPDATE_PRODUCT&shopId=any", False),
        ("start=&limit=", False),  # empty: the contract does not say whether that is the default
        ("start=1&start=2", False),  # repeated: nor which one counts
    ],
)
def test_query_rules_follow_list_06(query: str, broken: bool) -> None:
    assert [item.requirement_id for item in RULES.query_breaks(query)] == (["LIST-06"] if broken else [])


def test_key_rules_tell_a_missing_key_from_an_unknown_one() -> None:
    missing = RULES.key_breaks(CaseInsensitiveDict({"Authorization": "d"}))
    unknown = RULES.key_breaks(CaseInsensitiveDict({"x-api-key": "p", "Authorization": "other"}))
    assert [item.requirement_id for item in missing] == ["AUTH-01"]
    assert [item.requirement_id for item in unknown] == ["AUTH-02"]
    assert RULES.key_breaks(CaseInsensitiveDict({"X-Api-Key": "p", "authorization": "d"})) == []


def test_the_rules_take_event_types_and_server_owned_fields_from_the_spec() -> None:
    assert len(RULES.event_types) == 11 and "UPDATE_PRODUCT" in RULES.event_types
    assert RULES.server_fields == {"id", "companyId", "created", "modified", "deleted", "updated"}
    assert RULES.client_fields == {"url", "shopId", "webHookType", "webHookUrls"}


def test_every_edge_value_for_a_url_breaks_a_contract_rule() -> None:
    urls, _ = EDGE_VALUES["contract-urls"]
    assert all(url_breaks(url) for url in urls)


# -- the check table and the spec the engine uses ---------------------------------------------------------


def test_every_built_in_check_of_schemathesis_has_a_row_saying_what_it_is_about() -> None:
    """A Schemathesis upgrade that adds a built-in check must get a row in CHECKS, not run undecided."""
    load_all_checks()
    built_in = {item.__name__ for item in REGISTRY.get_all() if item.__module__.startswith("schemathesis.")}
    assert built_in and sorted(built_in - set(CHECKS)) == []


def test_every_check_that_is_off_says_why() -> None:
    off = {name: use.note for name, use in CHECKS.items() if use.speaks_to is None}
    assert set(off) == {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "object_level_authorization",
        "max_response_time",
    }
    assert all(why.startswith("off: ") and len(why) > 30 for why in off.values())


def test_the_engine_covers_only_catalogue_requirements() -> None:
    from conformance.contract.catalogue import ids

    assert set(COVERS) <= set(ids())


def test_target_spec_uses_the_targets_partner_key_header_and_no_sample_record_id() -> None:
    state, _ = _state("http://x.test", partner_key_header="partner_key")
    spec = target_spec(state)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["partnerKey"]["name"] == "partner_key"
    assert schemes["developerKey"]["name"] == "Authorization"
    text = json.dumps(spec)
    assert "6650a1f2c3d4e5f60718293a" not in text
    assert "wc-t35t-no-such-record" in text
    assert "6650a1f2c3d4e5f60718293a" in json.dumps(state.spec)  # the run's own copy is left as it was


def test_schemathesis_begins_the_operation_with_the_most_inputs_first() -> None:
    # Its workers take operations in the spec's order, and the update's coverage test (a case per boundary value
    # of its 10 body properties and its id) is a quick run's longest chain of requests in a row.
    state, _ = _state("http://x.test")
    schema = schemathesis.openapi.from_dict(target_spec(state))
    order = [result.ok().label for result in schema.get_all_operations()]
    assert order == [
        "PUT /api/v1/partner/webHooks/{webHookId}",
        "GET /api/v1/partner/webHooks/{webHookId}",
        "DELETE /api/v1/partner/webHooks/{webHookId}",
        "POST /api/v1/partner/webHooks",
        "GET /api/v1/partner/webHooks",
    ]


def test_inputs_are_counted_through_references_and_all_of_and_a_broken_spec_keeps_its_order() -> None:
    body = {"$ref": "#/components/requestBodies/Wide"}
    spec = {
        "paths": {
            "/few": {"get": {"parameters": [{"name": "a"}]}, "post": {"requestBody": body}},
            "/none": {"x-note": "not an operation", "delete": {}},
            "/shared/{id}": {"parameters": [{"name": "id"}], "get": {"parameters": [{"name": "q"}]}},
            "/broken": {"put": {"requestBody": {"$ref": "#/components/requestBodies/Missing"}}},
            "/looped": {"put": {"requestBody": {"$ref": "#/components/requestBodies/Loop"}}},
            "/not-an-object": "text",
        },
        "components": {
            "requestBodies": {
                "Wide": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Wide"}}}},
                "Loop": {"$ref": "#/components/requestBodies/Loop"},
            },
            "schemas": {
                "Wide": {"properties": {"a": {}, "b": {}}, "allOf": [{"$ref": "#/components/schemas/More"}]},
                "More": {"properties": {"b": {}, "c": {}}},
            },
        },
    }
    ordered = longest_coverage_first(spec)
    assert ordered == spec["paths"]  # every path and operation as it was, only in another order
    assert list(ordered) == ["/few", "/shared/{id}", "/none", "/broken", "/looped", "/not-an-object"]
    assert list(ordered["/few"]) == ["post", "get"]  # 3 body properties (b counted once) before 1 parameter
    assert list(ordered["/shared/{id}"]) == ["parameters", "get"]  # the path's parameter and its own: 2
    assert ordered["/none"] == {"x-note": "not an operation", "delete": {}}
    assert longest_coverage_first({"paths": None}) is None


def test_only_list_requirements_run_only_the_list_operation() -> None:
    state, _ = _state("http://x.test")
    state.only = frozenset({"LIST-01", "LIST-06"})
    assert selected_operations(state) == ["listWebHooks"]
    state.only = frozenset({"HTTP-01"})
    assert selected_operations(state) is None


# -- against the reference server ------------------------------------------------------------------------


def test_a_worker_thread_ended_by_an_exception_leaves_the_engine_not_run_and_prints_no_traceback(
    run_engine, monkeypatch, capfd
) -> None:
    # Schemathesis turns what fails within a test into events; what fails around one (taking the next operation,
    # setting its test up) ends the worker thread, and the engine finishes without that operation's tests.
    from schemathesis.engine.run import unit

    before = threading.excepthook
    run_operation = unit._run_operation

    def around(operation: Any, **kwargs: Any) -> None:
        if operation.method.upper() == "PUT":
            raise RuntimeError("setting up the update's test failed")
        run_operation(operation, **kwargs)

    monkeypatch.setattr(unit, "_run_operation", around)
    run = run_engine()
    assert "Traceback" not in capfd.readouterr().err
    [note] = run.results.notes["checker"]
    assert note.startswith("internal error in schemathesis (") and "of its threads ended)" in note
    assert "RuntimeError: setting up the update's test failed" in note
    assert {run.results.status(item) for item in COVERS} == {"not-run"}  # never a pass on the strength of the rest
    assert run.cleanup.left_behind == []
    assert threading.excepthook is before


def test_an_error_of_the_checkers_own_code_within_a_test_leaves_the_engine_not_run(run_engine, monkeypatch) -> None:
    # Schemathesis catches it as an error of the case, and that operation's test ends there or goes on without it.
    observe = ObservedTransport._observe

    def failing(self: ObservedTransport, case: Any, response: Any) -> Any:
        if case.method.upper() == "PUT":  # a parse of the checker's that refuses, where none should
            json_text.loads_refusing_deep("[" * 600 + "]" * 600)
        return observe(self, case, response)

    monkeypatch.setattr(ObservedTransport, "_observe", failing)
    run = run_engine()
    [note] = run.results.notes["checker"]
    assert note.startswith("internal error in schemathesis (") and "of its cases)" in note
    assert "TooDeep" in note and "json_text.py" in note  # what and where
    assert {run.results.status(item) for item in COVERS} == {"not-run"}
    assert run.cleanup.left_behind == []


def test_clean_reference_gets_no_finding_and_nothing_is_left_behind(run_engine) -> None:
    run = run_engine()
    assert run.results.findings() == []
    passed = {item for item in COVERS if run.results.status(item) == "passed"}
    assert {"AUTH-01", "CREATE-01", "VALID-03", "UPDATE-06", "LIST-06", "DELETE-02", "HTTP-05"} <= passed
    assert run.cleanup.created > 0 and run.cleanup.left_behind == []
    assert _live_records(run.base_url, DEMO_DEVELOPER_KEY) == 0


def test_a_record_the_run_did_not_create_is_left_untouched(run_engine, start_reference) -> None:
    server = start_reference()
    keys = {"x-api-key": DEMO_PARTNER_KEY, "Authorization": DEMO_DEVELOPER_KEY}
    collection = f"{server.base_url}/api/v1/partner/webHooks"
    body = {"webHookUrls": ["https://hooks.example.com/theirs"]}
    before = requests.post(collection, json=body, headers=keys, timeout=10)
    state, ledger = _state(server.base_url)
    schemathesis_engine.run_schemathesis(state, lambda line: None)
    ledger.clean_up(state.client)
    after = requests.get(f"{collection}/{before.json()['id']}", headers=keys, timeout=10)
    assert after.status_code == 200 and after.json() == before.json()
    assert _live_records(server.base_url, DEMO_DEVELOPER_KEY) == 1


def test_a_target_reading_the_partner_key_from_partner_key_is_judged_by_that_header(run_engine) -> None:
    run = run_engine(partner_key_header="partner_key", only=("AUTH-01", "AUTH-02"))
    assert run.results.findings() == []
    assert run.results.status("AUTH-01") == "passed"


def test_schemathesis_traffic_keeps_to_the_rate_limit(run_engine) -> None:
    started = time.monotonic()
    run = run_engine(only=("LIST-06",), rate_limit=40.0)
    elapsed = time.monotonic() - started
    assert run.requests > 20
    assert elapsed >= (run.requests - 1) / 40.0


def test_a_write_naming_a_record_of_someone_else_is_never_sent() -> None:
    state, _ = _state("http://x.test")
    state.preexisting = {"their-shop": [{"id": "their-record"}]}
    transport = ObservedTransport(state, deadline=0.0)
    for case in (
        SimpleNamespace(method="PUT", path_parameters={"webHookId": "their-record"}, body={}),
        SimpleNamespace(method="DELETE", path_parameters={"webHookId": "their-record"}, body=None),
        SimpleNamespace(method="POST", path_parameters={}, body={"id": "their-record"}),
    ):
        with pytest.raises(ForeignRecordWrite):
            transport.send(case)
    assert state.client.stats.requests == 0


def test_the_anchor_record_of_generated_updates_is_never_deleted_but_still_updated() -> None:
    state, _ = _state("http://x.test")
    transport = ObservedTransport(state, deadline=0.0)
    transport.anchor = "our-anchor"
    with pytest.raises(ForeignRecordWrite, match="anchor"):
        transport.send(SimpleNamespace(method="DELETE", path_parameters={"webHookId": "our-anchor"}, body=None))
    transport._refuse_foreign_write(SimpleNamespace(method="PUT", path_parameters={"webHookId": "our-anchor"}, body={}))
    assert state.client.stats.requests == 0


def test_findings_carry_redacted_curl_evidence(run_engine) -> None:
    run = run_engine(fault="auth-list-unauthenticated")
    findings = run.results.by_id["AUTH-01"].findings
    assert findings and all(item.check.startswith("schemathesis:") for item in findings)
    report = json.dumps([item.to_dict() for item in run.results.findings()])
    assert DEMO_PARTNER_KEY not in report and DEMO_DEVELOPER_KEY not in report
    curls = [curl for item in findings for curl in item.to_dict()["reproduction"]]
    assert any("${CONFORMANCE_DEVELOPER_KEY}" in curl for curl in curls)
    assert findings[0].requirement_id == "AUTH-01" and "AUTH-01" not in findings[0].expected  # said once, in words


# Faults this engine finds on its own, whatever the seed (checked over several): the every-answer checks
# on its traffic, and the built-in checks whose verdicts the contract backs.
@pytest.mark.parametrize(
    ("fault", "requirement_id"),
    [
        ("http-crash-on-unicode", "HTTP-01"),
        ("valid-non-object-json-crash", "HTTP-01"),
        ("list-bad-limit-crash", "HTTP-01"),
        ("read-long-id-crash", "HTTP-01"),
        ("create-returns-id-only", "HTTP-02"),
        ("http-error-without-message", "HTTP-03"),
        ("http-leaks-internals", "HTTP-04"),
        ("http-no-405", "HTTP-05"),
        ("http-405-without-allow", "HTTP-05"),
        ("http-validation-422", "HTTP-06"),
        ("auth-partner-key-optional", "AUTH-01"),
        ("auth-list-unauthenticated", "AUTH-01"),
        ("delete-soft-readable", "DELETE-02"),
    ],
)
def test_engine_finds_the_fault_by_its_requirement(run_engine, fault: str, requirement_id: str) -> None:
    run = run_engine(fault=fault)
    assert requirement_id in run.failed(), sorted(run.failed())
    assert run.cleanup.left_behind == []


# Faults in what a request may hold: the contract's rules blame the server for accepting what they forbid.
@pytest.mark.parametrize(
    ("fault", "requirement_id"),
    [
        ("create-rejects-unknown-fields", "CREATE-07"),
        ("valid-empty-urls-accepted", "VALID-01"),
        ("valid-relative-url-accepted", "VALID-02"),
        ("valid-url-field-unchecked", "VALID-02"),
        ("valid-type-unchecked", "VALID-03"),
        ("valid-shopid-number-coerced", "VALID-05"),
        ("valid-no-url-limits", "VALID-07"),
        ("valid-duplicate-urls-accepted", "VALID-07"),
        ("update-skips-validation", "UPDATE-06"),
        ("list-negative-start-accepted", "LIST-06"),
        ("list-unknown-type-empty", "LIST-06"),
    ],
)
def test_engine_finds_the_validation_fault_by_its_requirement(run_engine, fault: str, requirement_id: str) -> None:
    run = run_engine(fault=fault, only=(requirement_id,))
    assert requirement_id in run.failed(), sorted(run.failed())
    assert run.cleanup.left_behind == []


# -- staging safety: every generated write carries the run's mark ----------------------------------------


def test_every_record_a_generated_write_stored_carries_the_runs_mark(start_reference) -> None:
    server = start_reference(fault="valid-type-unchecked")  # it stores more of what the engine generates
    state, ledger = _state(server.base_url)
    schemathesis_engine.run_schemathesis(state, lambda line: None)
    cleanup = ledger.clean_up(state.client)
    stored = [record.to_json() for record in server.api.store.records(None, include_deleted=True)]

    assert len(stored) > 10
    assert [record["id"] for record in stored if not state.mark.carries(record)] == []
    assert [record["shopId"] for record in stored if not state.mark.is_run_shop(record["shopId"] or "wc-t35t.")] == []
    assert server.api.store.records(None) == [] and cleanup.left_behind == []


def test_marking_a_body_keeps_what_makes_it_valid_or_invalid() -> None:
    mark = RunMark("t35t")
    longest = "https://hooks.example.com/" + "a" * (MAX_URL_LENGTH - 26)
    body = {
        "shopId": "shop-1042",
        "webHookUrls": ["https://hooks.example.com/a?x=1", "https://hooks.example.com", longest, "ftp://h/x", 7],
        "url": "https://backup.example.org:8443/orders",
    }
    before = [item.requirement_id for item in RULES.body_breaks(json.dumps(body).encode())]
    mark.mark_body(body)

    assert [item.requirement_id for item in RULES.body_breaks(json.dumps(body).encode())] == before
    assert body["shopId"] == "wc-t35t.0-shop-1042"
    assert body["webHookUrls"] == [
        "https://hooks.example.com/wc-run-t35t/a?x=1",
        "https://hooks.example.com/wc-run-t35t",
        longest,  # marked, it would break VALID-07's length: it stays as it was
        "ftp://h/x",
        7,
    ]
    assert body["url"] == "https://backup.example.org:8443/wc-run-t35t/orders"
    for wrong in (7, None):
        unmarked = {"shopId": wrong, "webHookUrls": ["https://h.example.com/x"]}
        mark.mark_body(unmarked)
        assert unmarked["shopId"] == wrong  # a negative case's wrong type, or a null shopId, stays


# -- the engine's own threads ------------------------------------------------------------------------------


def _schemathesis_workers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(SCHEMATHESIS_WORKERS)]


def test_no_worker_of_schemathesis_outlives_the_engine_when_following_it_fails(
    start_reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while its events are read (here: judging a finished test) ends the engine there: its workers
    are stopped and joined before the failure goes on, so none sends beside the run's cleanup."""
    server = start_reference()
    state, ledger = _state(server.base_url)
    state.concurrency = 8  # its operations on workers of its own

    def fail(recorder: Any, scenario: Any) -> None:
        raise RuntimeError("judging failed")

    monkeypatch.setattr(VerdictRecorder, "record", fail)
    made: list[ObservedTransport] = []
    init = ObservedTransport.__init__

    def kept(transport: ObservedTransport, *args: Any) -> None:
        init(transport, *args)
        made.append(transport)

    monkeypatch.setattr(ObservedTransport, "__init__", kept)
    with pytest.raises(RuntimeError, match="judging failed"):
        schemathesis_engine.run_schemathesis(state, lambda line: None)
    assert _schemathesis_workers() == []
    sent = state.client.stats.requests
    time.sleep(0.3)
    assert state.client.stats.requests == sent
    # Had one been left running, it would send nothing more.
    with pytest.raises(KeyboardInterrupt):
        made[0].send(SimpleNamespace(method="GET", path_parameters={}, body=None))
    assert state.client.stats.requests == sent
    assert ledger.clean_up(state.client).left_behind == []
    state.client.close()


def test_the_coverage_phases_invalid_cases_run_where_the_budget_has_them() -> None:
    def coverage_modes(budget: str, read_only: bool = False) -> list[str]:
        parts = schemathesis_engine.parts_of_the_run(read_only, BUDGETS[budget])
        return [part.mode for part in parts if part.phases == ("coverage",)]

    assert coverage_modes("quick") == ["positive"]
    assert coverage_modes("standard") == coverage_modes("deep") == ["positive", "negative"]
    assert coverage_modes("standard", read_only=True) == ["positive", "negative"]
