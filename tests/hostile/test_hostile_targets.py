"""The checker against targets that misbehave beneath the contract: down, not the API, hanging, dropping
connections, cutting or faking bodies, redirecting, flooding, rate-limiting, failing in bursts.

Each case runs the real CLI in a subprocess against a real misbehaving server on loopback (the reference
server behind a hostile proxy, so the operations left alone work). Whatever the target does, the run ends
well before its budget's time limit, with exit 1 (what it saw breaks a MUST: the failures carry the evidence)
or 3 (it could not complete: the reason in one line, what it could not test not-run with the reason), its
reports written, and no traceback. The exception is a 429 with Retry-After, which the contract always allows:
waited out, it leaves a conforming target conformant (exit 0).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from support import free_port

from conformance.checker.budget import BUDGETS
from conformance.checker.client import GIVE_UP_AFTER
from conformance.checker.options import NEAR_TARGET_MS, NETWORK_CONCURRENCY
from conformance.checker.runner import PREFLIGHT_PAIRS
from conformance.checker.transport import MAX_429_RETRIES, MAX_ANSWER_BYTES
from conformance.reference.app import start_server
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY
from conformance.reports import FORMATS
from conformance.reports.schema import schema_errors
from hostile.conftest import REQUEST_TIMEOUT, CheckerRun, run_checker
from hostile.server import (
    COLLECTION_PATH,
    HTML_PAGE,
    Answer,
    CutOff,
    Drop,
    Hang,
    HostileServer,
    Huge,
    Request,
    Rewrite,
    always,
    on,
)

# A run that ends only when its budget's time runs out has hung somewhere; every case here must end sooner.
BOUND = BUDGETS["quick"].time_limit * 2 / 3
VERDICTS = {0: "conformant", 1: "nonconformant", 3: "error"}
KEYS = {"x-api-key": DEMO_PARTNER_KEY, "Authorization": DEMO_DEVELOPER_KEY}
JSON = {"Content-Type": "application/json"}
# A quick run peaks near 110 MiB (near 270 MiB on Hypothesis's first use of a storage directory: its Unicode table);
# reading one of the huge answers whole would add at least three times its size.
HUGE = 128 << 20
PEAK_RSS_MIB = 400
PREFLIGHT_REQUESTS = 8  # with two developer keys: a list with each, then a create, a read and a delete with each


def assert_reports(run: CheckerRun, exit_code: int, verdict: str | None = None) -> dict[str, Any]:
    """All four reports are written, report.json is valid and agrees with the exit code, and no file holds a key;
    returns report.json's content."""
    for filename, _ in FORMATS.values():
        path = run.directory / "reports" / filename
        assert path.is_file(), f"{filename} missing: {run.stderr[-2000:]}"
        text = path.read_text(encoding="utf-8")
        assert DEMO_PARTNER_KEY not in text and DEMO_DEVELOPER_KEY not in text
    report = run.report
    assert schema_errors(report) == []
    assert (report["exit_code"], report["verdict"]) == (exit_code, verdict or VERDICTS[exit_code])
    return report


def assert_ended(run: CheckerRun, exit_code: int, verdict: str | None = None) -> dict[str, Any]:
    """The run ended in time with this exit code, no traceback, its one-line reason and its reports."""
    assert run.returncode == exit_code, run.stderr[-3000:]
    assert run.elapsed < BOUND, f"the run took {run.elapsed:.1f} s"
    assert "Traceback" not in run.stdout + run.stderr
    if exit_code == 3:
        assert len(run.error_lines()) == 1, run.stderr[-3000:]
    else:
        shown = (verdict or VERDICTS[exit_code]).upper()
        assert [line for line in run.stdout.splitlines() if line.startswith(f"{shown}:")]
    report = assert_reports(run, exit_code, verdict)
    assert [note for note in report["run"]["notes"] if "internal error" in note] == []
    return report


def not_run_reasons(report: dict[str, Any]) -> dict[str, str]:
    return {item["id"]: item["reason"] for item in report["requirements"] if item["status"] == "not-run"}


def findings(report: dict[str, Any], requirement_id: str) -> list[dict[str, Any]]:
    entry = next(item for item in report["requirements"] if item["id"] == requirement_id)
    return entry["findings"]


def statuses(report: dict[str, Any]) -> set[str]:
    return {item["status"] for item in report["requirements"]}


def records_left(reference_url: str) -> int:
    """How many records the reference server behind a proxy still holds for the demo company."""
    return requests.get(f"{reference_url}{COLLECTION_PATH}", headers=KEYS, timeout=10).json()["total"]


def upstream_url(proxy: HostileServer) -> str:
    assert proxy.upstream is not None
    return f"http://{proxy.upstream.hostname}:{proxy.upstream.port}"


# -- the target is not there, or not the API --------------------------------------------------------------


def test_refused_connection_ends_the_run_as_unreachable(checker) -> None:
    run = checker(f"http://127.0.0.1:{free_port()}")

    report = assert_ended(run, 3)
    assert "target unreachable" in run.error_lines()[0] and "Connection refused" in run.error_lines()[0]
    assert set(not_run_reasons(report).values()) == {f"the run stopped early: {report['error']}"}


def test_unresolvable_host_ends_the_run_as_unreachable(checker) -> None:
    run = checker("http://no-such-host.invalid")  # RFC 6761: .invalid never resolves

    report = assert_ended(run, 3)
    assert "target unreachable" in run.error_lines()[0] and "no-such-host.invalid" in run.error_lines()[0]
    assert statuses(report) == {"not-run"}


def test_html_pages_everywhere_are_not_the_api_and_end_the_run(hostile, checker) -> None:
    proxy = hostile(always(Answer(200, HTML_PAGE, {"Content-Type": "text/html"})), upstream=False)

    run = checker(proxy.base_url)

    report = assert_ended(run, 3)
    assert "not JSON" in report["error"] and "--base-url" in report["error"] and "text/html" in report["error"]
    assert statuses(report) == {"not-run"}  # nothing is judged on a target that is not the API
    assert len(proxy.requests) == 1


def test_redirects_everywhere_are_not_followed_and_end_the_run(hostile, checker) -> None:
    proxy = hostile(lambda request: Answer(302, headers={"Location": "/login"}), upstream=False)

    run = checker(proxy.base_url)

    report = assert_ended(run, 3)
    assert "302 to /login" in report["error"] and "follows none" in report["error"]
    assert [request.path for request in proxy.requests] == [f"{COLLECTION_PATH}?limit=1"]


# -- hangs and dropped connections --------------------------------------------------------------------------


def test_hangs_on_one_operation_cost_a_few_timeouts_and_leave_its_checks_not_run(hostile, checker) -> None:
    proxy = hostile(on({"getWebHook"}, Hang(30)))

    run = checker(proxy.base_url, "--only", "READ,LIST-02")

    report = assert_ended(run, 3)
    hung = [request for request in proxy.requests if request.operation == "getWebHook"]
    # The GIVE_UP_AFTER-th hang silences the operation; the requests in flight when it is counted still hang (up
    # to --concurrency of them: its own turn may have gone to another by then).
    assert 1 <= len(hung) <= GIVE_UP_AFTER + NETWORK_CONCURRENCY
    assert any("stopped sending getWebHook" in note for note in report["run"]["notes"])
    reason = not_run_reasons(report)["READ-01"]
    assert f"no answer within {REQUEST_TIMEOUT} s" in reason or "not sent: getWebHook" in reason
    # The rest of the run went on: LIST-02 passes, unless a check of it needed the hanging read before the
    # operation was silenced (likelier side by side), and then it is not run for that reason, never failed.
    list_02 = run.requirement("LIST-02")
    hung_reason = list_02["status"] == "not-run" and any(
        words in list_02["reason"] for words in ("getWebHook", f"no answer within {REQUEST_TIMEOUT} s")
    )
    assert list_02["status"] == "passed" or hung_reason, list_02
    assert report["cleanup"]["left_behind"] == []
    assert records_left(upstream_url(proxy)) == 0


def test_connections_dropped_on_some_requests_leave_those_checks_not_run(hostile, checker) -> None:
    proxy = hostile(lambda request: Drop() if request.number % 5 == 0 else None)

    run = checker(proxy.base_url, "--only", "LIST")

    report = assert_ended(run, 3)
    assert "without a usable answer" in report["error"]
    assert any("closed the connection without an answer" in reason for reason in not_run_reasons(report).values())
    assert report["cleanup"]["left_behind"] == []  # a delete whose connection dropped is tried once more
    assert records_left(upstream_url(proxy)) == 0


def test_a_target_that_goes_dark_mid_run_ends_the_run_as_stopped_answering(hostile, checker) -> None:
    """After its 60th request the target drops every connection: the run does not go on asking it (each check
    failing on its own), it ends at once with the reason, and the records it could not delete are named."""
    proxy = hostile(lambda request: Drop() if request.number > 60 else None)

    run = checker(proxy.base_url, "--only", "LIST")

    report = assert_ended(run, 3)
    assert "the target stopped answering" in report["error"]
    assert len(proxy.requests) < 160  # 60 answered, then those in flight and the cleanup's few tries
    left = report["cleanup"]["left_behind"]
    assert len(left) == records_left(upstream_url(proxy))


def test_an_answer_cut_off_mid_transfer_leaves_its_checks_not_run(hostile, checker) -> None:
    proxy = hostile(on({"getWebHook"}, CutOff()))

    run = checker(proxy.base_url, "--only", "UPDATE-02")

    report = assert_ended(run, 3)
    assert "the connection closed after" in not_run_reasons(report)["UPDATE-02"]
    assert "bytes of the answer" in not_run_reasons(report)["UPDATE-02"]


# -- bodies that are cut, mislabelled or missing, and a burst of 503s (one run, one fault per operation) ------


def _cut_in_half(answer: Answer) -> Answer:
    return replace(answer, body=answer.body[: len(answer.body) // 2])


BROKEN_BODIES = {
    "getWebHook": Rewrite(_cut_in_half),  # complete HTTP, half the JSON
    "listWebHooks": Rewrite(lambda answer: answer.with_header("Content-Type", "text/html")),  # JSON, labelled HTML
    "updateWebHook": Rewrite(lambda answer: replace(answer, body=b"")),  # 200, and no body
}
BURST = range(40, 46)  # request numbers answered 503


def _faulty(request: Request) -> Answer | Rewrite | None:
    if request.number in BURST:
        return Answer(503, b'{"message": "overloaded"}', JSON)
    return BROKEN_BODIES.get(request.operation or "")


@pytest.fixture(scope="module")
def faulty_answers(tmp_path_factory, hypothesis_storage: Path) -> Iterator[tuple[CheckerRun, HostileServer]]:
    with start_server() as reference:
        proxy = HostileServer(_faulty, upstream=reference.base_url)
        try:
            directory = tmp_path_factory.mktemp("faulty-answers")
            yield run_checker(proxy.base_url, directory=directory, hypothesis_storage=hypothesis_storage), proxy
        finally:
            proxy.stop()


def test_json_cut_in_half_is_a_failure_with_the_cut_body_as_evidence(faulty_answers) -> None:
    run, _ = faulty_answers

    report = assert_ended(run, 1)
    cut = [item for item in findings(report, "HTTP-02") if "does not parse as JSON" in item["actual"]]
    assert cut and all(item["exchanges"][0]["method"] == "GET" for item in cut)
    body = cut[0]["exchanges"][0]["response_body"]
    assert body.startswith("{") and not body.endswith("}")
    assert "READ-01" in run.failed()


def test_a_content_type_that_lies_is_a_failure_with_evidence(faulty_answers) -> None:
    run, _ = faulty_answers

    report = assert_ended(run, 1)
    lying = [
        item
        for item in findings(report, "HTTP-02")
        if item["actual"].startswith("Content-Type text/html, body JSON, answering ")
    ]
    assert lying
    assert lying[0]["exchanges"][0]["response_headers"]["Content-Type"] == "text/html"


def test_an_empty_body_where_json_is_due_is_a_failure(faulty_answers) -> None:
    run, _ = faulty_answers

    report = assert_ended(run, 1)
    empty = [
        item for item in findings(report, "HTTP-02") if item["actual"].startswith("an empty body, answering PUT /")
    ]
    assert empty and empty[0]["exchanges"][0]["method"] == "PUT"
    assert empty[0]["exchanges"][0]["status"] == 200


# -- redirects (one run: a loop on reads, writes sent to another host) -------------------------------------


def _loop(request: Request) -> Answer:
    """A redirect to the same record with `loop=1`, which redirects to itself again: a follower never ends."""
    return Answer(302, headers={"Location": request.path.split("?")[0] + "?loop=1"})


@pytest.fixture(scope="module")
def redirects(tmp_path_factory, hypothesis_storage: Path) -> Iterator[tuple[CheckerRun, HostileServer, HostileServer]]:
    elsewhere = HostileServer(lambda request: Answer(200, b"{}", JSON), host="127.0.0.2")

    def behaviour(request: Request) -> Answer | None:
        if request.operation == "getWebHook":
            return _loop(request)
        if request.operation == "createWebHook" and request.number % 2:
            return Answer(307, headers={"Location": elsewhere.base_url + request.path})
        return None

    with start_server() as reference:
        proxy = HostileServer(behaviour, upstream=reference.base_url)
        try:
            directory = tmp_path_factory.mktemp("redirects")
            yield (
                run_checker(proxy.base_url, directory=directory, hypothesis_storage=hypothesis_storage),
                proxy,
                elsewhere,
            )
        finally:
            proxy.stop()
            elsewhere.stop()


def _by_schemathesis(request: Request) -> bool:
    return any(name.lower() == "x-schemathesis-testcaseid" for name in request.headers)


def test_a_redirect_loop_is_not_followed_and_is_a_failure(redirects) -> None:
    run, proxy, _ = redirects

    report = assert_ended(run, 1)
    looped = [request for request in proxy.requests if request.operation == "getWebHook"]
    assert any(_by_schemathesis(request) for request in looped)  # its engine met the loop too
    assert [request for request in looped if "loop=1" in request.path] == []
    assert any(item["actual"].startswith("status 302, answering GET /") for item in findings(report, "HTTP-06"))


def test_a_redirect_to_another_host_is_never_followed_so_the_keys_stay_home(redirects) -> None:
    run, proxy, elsewhere = redirects

    report = assert_ended(run, 1)
    redirected = [request for request in proxy.requests if request.operation == "createWebHook" and request.number % 2]
    assert any(_by_schemathesis(request) for request in redirected)  # its engine was sent away too
    assert elsewhere.requests == []
    assert any(item["actual"].startswith("status 307, answering POST /") for item in findings(report, "HTTP-06"))


# -- very large bodies -------------------------------------------------------------------------------------


def test_huge_answers_are_capped_reported_and_memory_stays_bounded(hostile, checker) -> None:
    proxy = hostile(on({"getWebHook"}, Huge(HUGE)))

    run = checker(proxy.base_url, "--only", "READ")

    report = assert_ended(run, 3)
    assert any(f"larger than {MAX_ANSWER_BYTES} bytes" in note for note in report["run"]["notes"])
    assert f"larger than {MAX_ANSWER_BYTES} bytes" in not_run_reasons(report)["READ-01"]
    assert run.peak_rss_mib < PEAK_RSS_MIB, f"peak RSS {run.peak_rss_mib:.0f} MiB"
    print(f"peak RSS of a run answered with {HUGE >> 20} MiB bodies: {run.peak_rss_mib:.0f} MiB")


DEEP_ECHO = b', "wcEcho": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"  # as a server that keeps unknown fields


def _with_a_deep_unknown_field(answer: Answer) -> Answer:
    if 200 <= answer.status < 300 and answer.body.rstrip().endswith(b"}"):
        return replace(answer, body=answer.body.rstrip()[:-1] + DEEP_ECHO)
    return answer


def test_records_that_carry_a_deeply_nested_unknown_field_are_read_and_judged_conformant(hostile, checker) -> None:
    """A record may carry fields the contract does not name (the spec leaves its properties open): a server that
    keeps and echoes the unknown fields a client sent, the edges' 10,000-deep one too, is conformant. Every
    engine reads those answers side by side, while Hypothesis raises and lowers the recursion limit they share."""
    deep_records = Rewrite(_with_a_deep_unknown_field)
    proxy = hostile(on({"createWebHook", "getWebHook", "updateWebHook"}, deep_records))

    run = checker(proxy.base_url, second_key=True)

    assert (run.returncode, run.failed()) == (0, set()), run.stderr[-3000:]
    assert_reports(run, 0)
    assert "Traceback" not in run.stderr  # no thread of Schemathesis's died on one (its run would go on without it)
    assert sum(request.operation == "getWebHook" for request in proxy.requests) > 10


def test_a_first_run_on_a_fresh_machine_builds_hypothesis_unicode_table_once(start_reference, tmp_path) -> None:
    """Hypothesis builds its table of UTF-8's characters on first use, in a cache without a lock: side by side,
    each thread built one (1.2 GB, where a run with the table stored takes about 100 MB)."""
    storage = tmp_path / "fresh-hypothesis-storage"  # as on a new machine, or in a fresh CI container

    run = run_checker(start_reference().base_url, "--only", "READ", directory=tmp_path, hypothesis_storage=storage)

    assert_ended(run, 0, "incomplete")  # a subset: never the whole contract
    assert list(storage.glob("unicode_data/*/codec-*utf-8*"))  # built, and stored for the next run
    assert run.peak_rss_mib < PEAK_RSS_MIB, f"peak RSS {run.peak_rss_mib:.0f} MiB"


# -- rate limits and bursts --------------------------------------------------------------------------------

class SlowAnswers:
    """Forward each request after `seconds` (a target across a network), counting the requests it holds at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.most = 0
        self._held = 0
        self._lock = threading.Lock()

    def perform(self, handler: Any, request: Request) -> None:
        with self._lock:
            self._held += 1
            self.most = max(self.most, self._held)
        try:
            time.sleep(self.seconds)
            answer = handler.server.forward(request)
        finally:
            with self._lock:  # before the answer goes out: the client may send its next request once it has it
                self._held -= 1
        handler.answer(answer)


def _chosen_concurrency(report: dict[str, Any]) -> tuple[int, float]:
    """The level `--concurrency auto` chose, and the answer time it went by, from the report's note."""
    notes = [note for note in report["run"]["notes"] if note.startswith("--concurrency auto: ")]
    assert len(notes) == 1, report["run"]["notes"]
    found = re.fullmatch(r"--concurrency auto: (\d+) \(the target answered in ([0-9.]+) ms.*\)", notes[0])
    assert found, notes[0]
    return int(found[1]), float(found[2])


def test_auto_concurrency_sends_side_by_side_to_a_target_across_a_network(hostile, checker) -> None:
    slow = SlowAnswers(0.01)  # 10 ms an answer: a target in the same region
    proxy = hostile(always(slow))

    run = checker(proxy.base_url, "--only", "LIST", "--concurrency", "auto")

    report = assert_ended(run, 0, "incomplete")
    assert report["run"]["options"]["concurrency"] == "auto"
    level, fastest = _chosen_concurrency(report)
    assert (level, fastest >= 10) == (NETWORK_CONCURRENCY, True)
    assert 1 < slow.most <= NETWORK_CONCURRENCY


def test_the_preflight_sends_each_keys_request_beside_the_others(hostile, checker) -> None:
    """The check that the two developer keys are of two companies (a create, a read and a delete for each key)
    sends each key's request beside the other's: three round trips, where one after another took six."""
    slow = SlowAnswers(0.05)
    proxy = hostile(lambda request: slow if request.number <= PREFLIGHT_REQUESTS else None)

    run = checker(proxy.base_url, "--only", "TENANT-01", "--concurrency", "auto", second_key=True)

    assert_ended(run, 0, "incomplete")
    preflight = [request.operation for request in proxy.requests[:PREFLIGHT_REQUESTS]]
    steps = ("listWebHooks", "createWebHook", "getWebHook", "deleteWebHook")  # each step: one request per key
    assert preflight == [operation for operation in steps for _key in range(2)]
    assert slow.most == PREFLIGHT_PAIRS


def test_no_more_requests_than_the_concurrency_are_in_flight_whichever_engine_sends_them(hostile, checker) -> None:
    """Schemathesis's start-up probes go out on sessions of its own: each engine holds a place in flight for
    them until its probing ends."""
    slow = SlowAnswers(0.01)
    proxy = hostile(always(slow))

    run = checker(proxy.base_url, "--only", "LIST", "--concurrency", "2")

    assert_ended(run, 0, "incomplete")
    assert slow.most == 2


def test_auto_concurrency_goes_by_the_fastest_answer_of_a_target_on_loopback(checker) -> None:
    """On loopback the reference answers in about a millisecond: one request at a time (on a busy machine it may
    take longer, and get eight: the same requests and findings either way, only sooner or later)."""
    with start_server() as server:
        run = checker(server.base_url, "--only", "LIST", "--concurrency", "auto")

    report = assert_ended(run, 0, "incomplete")
    level, fastest = _chosen_concurrency(report)  # the note rounds to 0.1 ms
    assert level == (1 if fastest < NEAR_TARGET_MS - 0.05 else NETWORK_CONCURRENCY) or abs(fastest - 2) < 0.1


SLOW_DOWN = b'{"message": "slow down"}'


@pytest.mark.parametrize("concurrency", [1, 4])
def test_some_429s_with_or_without_retry_after_are_waited_out_and_noted(hostile, checker, concurrency) -> None:
    announced = Answer(429, SLOW_DOWN, {**JSON, "Retry-After": "0"})
    unannounced = Answer(429, SLOW_DOWN, JSON)
    proxy = hostile(lambda request: {7: announced, 15: announced, 23: unannounced}.get(request.number))

    run = checker(proxy.base_url, "--only", "UPDATE-02", "--concurrency", str(concurrency))

    report = assert_ended(run, 0, "incomplete")  # one requirement of 51 selected: never the whole contract
    assert run.requirement("UPDATE-02")["status"] == "passed"
    assert "429 Too Many Requests 3 time(s), 1 of them without a Retry-After" in " ".join(report["run"]["notes"])
    for number in (7, 15, 23):  # each was retried: one at a time the next request is the same one, side by
        refused = proxy.requests[number - 1]  # side a later one (others may go out in between)
        later = proxy.requests[number : number + 1] if concurrency == 1 else proxy.requests[number:]
        assert any(
            (retried.method, retried.path, retried.body) == (refused.method, refused.path, refused.body)
            for retried in later
        )


def test_429_to_every_request_ends_the_run_after_bounded_retries(hostile, checker) -> None:
    proxy = hostile(always(Answer(429, SLOW_DOWN, {**JSON, "Retry-After": "0"})), upstream=False)

    run = checker(proxy.base_url)

    report = assert_ended(run, 3)
    assert f"still 429 Too Many Requests after {MAX_429_RETRIES} retries" in report["error"]
    assert len(proxy.requests) == MAX_429_RETRIES + 1
    assert statuses(report) == {"not-run"}


def test_a_burst_of_503s_is_a_failure_with_evidence_and_the_run_goes_on(faulty_answers) -> None:
    run, proxy = faulty_answers

    report = assert_ended(run, 1)
    evidence = [exchange for item in findings(report, "HTTP-01") for exchange in item["exchanges"]]
    assert evidence and {exchange["status"] for exchange in evidence} == {503}
    assert len(proxy.requests) > BURST.stop + 200  # no retry storm, no stop: the run went on after the burst
    assert report["cleanup"]["left_behind"] == []
