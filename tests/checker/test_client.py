"""The target client keeps to the rate limit, waits out 429s, never follows a redirect, caps what it reads and
how long it waits for it, gives up on an operation that keeps getting no answer, and can be interrupted."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import requests
from hostile.server import Answer, Drop, Hang, HostileServer, Huge, Request, Trickle, always
from urllib3 import HTTPConnectionPool
from urllib3.connection import HTTPConnection

from conformance.checker import attribution
from conformance.checker.client import GIVE_UP_AFTER, TargetClient, TransportError
from conformance.checker.ledger import Ledger
from conformance.checker.marks import RunMark
from conformance.checker.profile import TargetProfile
from conformance.checker.raw_request import RawRequest
from conformance.checker.silence import STOPPED_ANSWERING
from conformance.checker.transport import (
    ANSWER_TIMEOUTS,
    MAX_429_RETRIES,
    MAX_ANSWER_BYTES,
    READ_PIECE,
    AnswerTooLarge,
    Places,
    RateLimiter,
    interrupt,
    resume,
)
from conformance.contract.facts import COLLECTION_PATH, DEFAULT_EVENT_TYPE, item_path
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY


class _Scripted(BaseHTTPRequestHandler):
    """Answers from a script: each GET takes the next (status, headers) pair; the last one repeats."""

    script: ClassVar[list[tuple[int, dict[str, str]]]] = []
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        status, headers = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        body = b'{"values": [], "skip": 0, "limit": 1, "total": 0}'
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[_Scripted]]]:
    handler = type("Handler", (_Scripted,), {"script": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _client(base_url: str) -> TargetClient:
    return TargetClient(TargetProfile(base_url, "partner-secret", "developer-secret", timeout=5))


def test_429_with_retry_after_is_waited_out_and_retried(scripted) -> None:
    base_url, handler = scripted
    handler.script += [(429, {"Retry-After": "0"}), (429, {"Retry-After": "0"}), (200, {})]
    client = _client(base_url)

    reply = client.list({"limit": 1})

    assert reply.status == 200
    assert client.stats.retries_429 == 2
    assert len(handler.seen) == 3


def test_an_interrupt_ends_the_wait_for_a_retry_after_at_once(scripted) -> None:
    base_url, handler = scripted
    handler.script += [(429, {"Retry-After": "25"}), (200, {})]
    client = _client(base_url)
    outcome: list[BaseException] = []
    thread = _list_in_a_thread(client, outcome)
    thread.start()
    while not handler.seen:
        time.sleep(0.01)
    time.sleep(0.2)  # into its wait
    try:
        interrupt()
        thread.join(timeout=5)
        assert not thread.is_alive() and isinstance(outcome[0], KeyboardInterrupt)
    finally:
        client.resume_all()
    assert len(handler.seen) == 1


def test_redirect_is_not_followed_and_keys_do_not_travel(scripted) -> None:
    base_url, handler = scripted
    handler.script += [(302, {"Location": "http://127.0.0.2:9/elsewhere"})]

    reply = _client(base_url).list()

    assert reply.status == 302
    assert len(handler.seen) == 1


def test_keys_are_sent_raw_and_redacted_in_the_evidence(scripted) -> None:
    base_url, handler = scripted
    handler.script += [(200, {})]

    reply = _client(base_url).list()

    assert handler.seen[0]["x-api-key"] == "partner-secret"
    assert handler.seen[0]["Authorization"] == "developer-secret"
    assert "secret" not in reply.exchange.curl()
    assert "${CONFORMANCE_DEVELOPER_KEY}" in reply.exchange.curl()


def test_rate_limiter_spaces_requests() -> None:
    limiter = RateLimiter(50.0)
    started = time.monotonic()
    for _ in range(6):
        with limiter.turn():
            pass
    assert time.monotonic() - started >= 5 / 50 * 0.95


def test_rate_limiter_counts_each_second_from_when_the_target_surely_had_the_request() -> None:
    limiter = RateLimiter(2.0)
    first = limiter.take()
    time.sleep(0.3)  # the first request is still on its way
    first.finish()
    with limiter.turn():
        pass
    limiter.take()  # the third request within a second of the first's arrival: it waits for that second to end
    assert first.finished is not None and time.monotonic() - first.finished >= 1.0


def test_turns_taken_together_never_wait_for_each_other() -> None:
    """Schemathesis's engines each take turns for their two start-up probes before sending them. Taken one by
    one, the first (unfinished until its probe reaches the target) could be the one the second waits for: the
    run hung. Taken together, they do not wait for each other; a request after them still waits for them."""
    limiter = RateLimiter(1.0)  # one turn in the window: the second of two taken one by one waits for the first
    taken: list[list[Any]] = []
    worker = threading.Thread(target=lambda: taken.append(limiter.take_several(2)), daemon=True)

    worker.start()
    worker.join(timeout=5)

    assert taken and len(taken[0]) == 2, "the second turn waited for the first"
    waiter = threading.Thread(target=limiter.take, daemon=True)
    waiter.start()
    waiter.join(timeout=1.5)
    assert waiter.is_alive()  # the window is full of turns still on their way
    for turn in taken[0]:
        turn.finish()
    waiter.join(timeout=5)
    assert not waiter.is_alive()


def test_an_interrupt_ends_a_wait_for_a_turn_of_a_slow_rate_limit_and_leaves_no_turn_unfinished() -> None:
    limiter = RateLimiter(0.2)  # a turn every 5 s
    outcome: list[BaseException] = []

    def take_two() -> None:
        try:
            limiter.take_several(2)  # the first at once, the second 5 s later
        except BaseException as error:  # what the thread saw is the assertion
            outcome.append(error)

    thread = threading.Thread(target=take_two)
    thread.start()
    time.sleep(0.3)
    try:
        interrupt()
        thread.join(timeout=2)
        assert not thread.is_alive() and isinstance(outcome[0], KeyboardInterrupt)
    finally:
        resume()
    # The first turn of the batch was taken but never goes out: unfinished, every later request would wait for it.
    assert [turn.finished is not None for turn in limiter._turns] == [True]


def test_a_free_place_goes_to_the_waiting_request_of_the_highest_priority_engine() -> None:
    """Across a network a run ends when its longest chains of requests do: a place that comes free goes to the
    waiting request of the engine of the highest priority, whichever waited longer; no more places are taken
    than there are."""
    places = Places(1, {"schemathesis": 2, "lifecycle state machine": 1})
    places.take()  # the one place is taken
    order: list[str] = []
    lock = threading.Lock()

    def request(engine: str) -> None:
        attribution.ENGINE.set(engine)
        places.take()
        with lock:
            order.append(engine)
        places.give_back()

    threads = []
    for engine in ["targeted scenarios", "targeted scenarios", "lifecycle state machine", "schemathesis"]:
        threads.append(threading.Thread(target=request, args=(engine,), daemon=True))
        threads[-1].start()
        time.sleep(0.1)  # they wait in this order: the lowest priority first
    assert order == []  # nobody took a place that was not free

    places.give_back()
    for thread in threads:
        thread.join(timeout=5)

    assert order == ["schemathesis", "lifecycle state machine", "targeted scenarios", "targeted scenarios"]


def test_a_free_place_wakes_only_the_request_it_goes_to_the_longest_waiting_first() -> None:
    """Of the requests of one priority, the one that has waited longest gets the free place, and only it wakes:
    the others are still waiting, not woken to find the place taken."""
    places = Places(1)
    places.take()
    taken: list[int] = []
    threads = []
    for number in range(4):
        threads.append(threading.Thread(target=lambda n=number: (places.take(), taken.append(n)), daemon=True))
        threads[-1].start()
        time.sleep(0.05)

    for handed in range(1, 5):
        places.give_back()
        threads[handed - 1].join(timeout=5)
        time.sleep(0.05)
        assert taken == list(range(handed)), "one place, one request on: the longest waiting"
        assert [thread.is_alive() for thread in threads] == [False] * handed + [True] * (4 - handed)


def test_a_request_interrupted_while_it_waits_for_a_place_leaves_the_line() -> None:
    """Ctrl-C strikes the main thread as it waits for a place (at --concurrency 1 it sends itself): it stops
    waiting, and leaves the line; a place that comes free goes to the next request, whatever its priority."""
    places = Places(1, {"schemathesis": 2})
    places.take()
    engine = attribution.ENGINE.set("schemathesis")  # the highest priority
    previous = signal.signal(signal.SIGALRM, _raise_keyboard_interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            places.take()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        attribution.ENGINE.reset(engine)
    later = threading.Thread(target=places.take, daemon=True)  # a thread of its own context: priority 0
    later.start()
    time.sleep(0.1)  # it waits, second in line if the interrupted request still stood first
    places.give_back()
    later.join(timeout=5)
    assert not later.is_alive(), "a request that had stopped waiting still stood first in line"


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def test_item_path_encodes_every_reserved_character_and_dot_ids() -> None:
    assert item_path("a/b c") == "/api/v1/partner/webHooks/a%2Fb%20c"
    assert item_path("..") == "/api/v1/partner/webHooks/%2E%2E"


def test_429_past_the_retries_is_no_answer_rather_than_a_failure(scripted) -> None:
    base_url, handler = scripted
    handler.script += [(429, {"Retry-After": "0"})]
    client = _client(base_url)

    with pytest.raises(TransportError, match=f"still 429 Too Many Requests after {MAX_429_RETRIES} retries"):
        client.list()

    assert len(handler.seen) == MAX_429_RETRIES + 1
    assert client.stats.transport_errors == 1


def test_retry_after_as_an_http_date_is_waited_out(scripted) -> None:
    base_url, handler = scripted
    handler.script += [(429, {"Retry-After": formatdate(time.time() + 1, usegmt=True)}), (200, {})]
    client = _client(base_url)

    assert client.list().status == 200
    assert (client.stats.retries_429, client.stats.unannounced_429) == (1, 0)


@pytest.fixture
def hostile_server() -> Iterator[Callable[..., HostileServer]]:
    servers: list[HostileServer] = []

    def start(behaviour: Callable[[Request], object], upstream: str | None = None) -> HostileServer:
        servers.append(HostileServer(behaviour, upstream=upstream))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_an_operation_that_keeps_getting_no_answer_is_no_longer_sent(hostile_server) -> None:
    server = hostile_server(always(Drop()))
    client = _client(server.base_url)

    for _ in range(GIVE_UP_AFTER + 2):
        with pytest.raises(TransportError):
            client.list()

    assert len(server.requests) == GIVE_UP_AFTER
    assert "not sent: listWebHooks requests got no usable answer" in client.refusal("listWebHooks")
    assert any("stopped sending listWebHooks" in note for note in client.notes())
    client.resume_all()
    with pytest.raises(TransportError):
        client.list()
    assert len(server.requests) == GIVE_UP_AFTER + 1


def test_one_operation_without_answers_is_not_a_target_that_stopped_answering(hostile_server) -> None:
    """Side by side, the requests in flight may all be to one operation that hangs, and time out one after another
    with no answer between them: that operation is silenced, and the run goes on. Failures of a second operation
    in the same streak are a target that no longer answers at all."""
    server = hostile_server(always(Drop()))
    client = _client(server.base_url)

    for _ in range(GIVE_UP_AFTER):
        with pytest.raises(TransportError):
            client.list()

    assert not client.stopped_answering
    with pytest.raises(TransportError):
        client.get("some-id")
    assert client.stopped_answering


@dataclass(frozen=True)
class Late:
    """Answer after `seconds`, as a target across a network does."""

    seconds: float
    answer: Answer

    def perform(self, handler: Any, request: Request) -> None:
        time.sleep(self.seconds)
        handler.answer(self.answer)


def test_a_target_that_drops_one_request_in_five_side_by_side_has_not_stopped_answering(hostile_server) -> None:
    """The drops come back at once, the answers after 200 ms: with 16 in flight, the drops of requests 5, 10 and
    15 arrive before the answers to the requests sent between them, to two operations (at 8 in flight, a drop's
    sender sends again at once, and the same comes about a little later). Counted as they arrive, that was a
    target that stopped answering; in the order the requests went out, it is not. (One operation may still be
    given up on: its own GIVE_UP_AFTER failures are counted as they arrive.)"""
    answer = Late(0.2, Answer(200, b"{}", {"Content-Type": "application/json"}))
    server = hostile_server(lambda request: Drop() if request.number % 5 == 0 else answer)
    client = _client(server.base_url)
    client.transport.limit_in_flight(16)
    seen: list[bool] = []

    def send(index: int) -> None:
        for _ in range(3):
            try:
                client.list() if index % 2 else client.get("some-id")
            except TransportError:
                seen.append(client.stopped_answering)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len([request for request in server.requests if request.number % 5 == 0]) >= STOPPED_ANSWERING
    assert seen and not any(seen) and not client.stopped_answering


def test_an_operation_that_drops_now_and_then_is_still_sent(hostile_server) -> None:
    """Only requests in a row without an answer silence an operation: one answer between drops starts the count
    again (side by side, a few drops here and there would otherwise stop a run's deletes)."""
    listed = Answer(200, b'{"values": [], "skip": 0, "limit": 100, "total": 0}', {"Content-Type": "application/json"})
    server = hostile_server(lambda request: Drop() if request.number % 2 == 0 else listed)
    client = _client(server.base_url)

    outcomes = []
    for _ in range(4 * GIVE_UP_AFTER):
        try:
            outcomes.append(client.list().status)
        except TransportError:
            outcomes.append(None)

    assert outcomes.count(None) >= GIVE_UP_AFTER and client.refusal("listWebHooks") is None
    assert len(server.requests) == 4 * GIVE_UP_AFTER


@dataclass(frozen=True)
class AnswerThenCloseSilently:
    """Answer, then close the connection a moment later without having said so (no `Connection: close` in the
    answer): what a server may do after a request that asked for `close`."""

    answer: Answer

    def perform(self, handler: Any, request: Request) -> None:
        handler.answer(self.answer)
        time.sleep(0.3)  # long enough for a client that reuses the connection to have sent its next request
        handler.drop()


def test_a_request_that_asked_to_close_its_connection_leaves_that_connection_unused(hostile_server) -> None:
    """RFC 9112 9.6: a client that sent `Connection: close` sends nothing more on that connection, whatever the
    answer said. Reused, it would carry the next request into a close: no answer, and a correct server cried
    down as one that drops requests."""
    listed = Answer(200, b'{"values": [], "skip": 0, "limit": 100, "total": 0}', {"Content-Type": "application/json"})
    server = hostile_server(
        lambda request: AnswerThenCloseSilently(listed) if request.headers.get("Connection") == "close" else listed
    )
    client = _client(server.base_url)

    for _ in range(3):
        assert client.call("GET", "/api/v1/partner/webHooks", headers={"Connection": "close"}).status == 200
        assert client.list().status == 200

    assert client.stats.transport_errors == 0 and len(server.requests) == 6


def test_a_connection_that_asked_to_close_is_closed_before_the_pool_has_it(hostile_server, monkeypatch) -> None:
    """Back in the pool, a connection is another thread's at once: closed after that (side by side, in CI), it
    broke that thread's request mid-way (AttributeError deep in http.client: an internal error of the checker).
    A request that sent `close` has its connection closed before the pool gets it back."""
    returned: list[bool] = []  # for each connection the pool gets back: whether it is open
    put_back = HTTPConnectionPool._put_conn

    def put(pool: Any, connection: Any) -> None:
        returned.append(connection is not None and connection.sock is not None)
        put_back(pool, connection)

    monkeypatch.setattr(HTTPConnectionPool, "_put_conn", put)
    listed = Answer(200, b'{"values": [], "skip": 0, "limit": 100, "total": 0}', {"Content-Type": "application/json"})
    client = _client(hostile_server(always(listed)).base_url)

    assert client.call("GET", "/api/v1/partner/webHooks", headers={"Connection": "close"}).status == 200
    assert client.list().status == 200

    assert returned == [False, True]  # the first closed as it went back; the second (kept alive) still open


def test_an_answer_that_trickles_in_is_cut_after_its_time(hostile_server) -> None:
    server = hostile_server(always(Trickle(0.1)))
    client = TargetClient(TargetProfile(server.base_url, "p", "d", timeout=0.5))
    started = time.monotonic()

    with pytest.raises(TransportError, match="still arriving"):
        client.list()

    assert time.monotonic() - started < ANSWER_TIMEOUTS * 0.5 + 1


class _Announced:
    """A 200 announcing a body of 1 GiB, of which it sends 100 KiB and then nothing more."""

    def perform(self, handler, request: Request) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(1 << 30))
        handler.end_headers()
        handler.wfile.write(b"[" + b"0," * 50_000)
        handler.wfile.flush()
        handler.server.stopping.wait(10)


def test_an_answer_announced_larger_than_the_cap_is_not_read(hostile_server) -> None:
    server = hostile_server(always(_Announced()))
    client = _client(server.base_url)
    started = time.monotonic()

    with pytest.raises(TransportError, match=f"larger than {MAX_ANSWER_BYTES} bytes") as raised:
        client.list()

    assert time.monotonic() - started < 2
    assert raised.value.exchange.status == 200
    assert raised.value.exchange.response_body.startswith("[0,0,")


def _list_in_a_thread(
    client: TargetClient, outcome: list[BaseException], send: Callable[[TargetClient], Any] = TargetClient.list
) -> threading.Thread:
    """A thread (not started) that sends a list (or what `send` sends) and puts what it raised into `outcome`."""

    def call() -> None:
        try:
            send(client)
        except BaseException as error:  # what the thread saw is the assertion
            outcome.append(error)

    return threading.Thread(target=call)


def _raw_list(client: TargetClient) -> Any:
    return client.call_raw(RawRequest("GET", COLLECTION_PATH))  # on a plain socket of its own (`raw_request`)


@pytest.mark.parametrize("send", [TargetClient.list, _raw_list], ids=["by-requests", "raw"])
def test_interrupt_cuts_a_request_hanging_in_another_thread_and_refuses_new_ones(
    hostile_server, send: Callable[[TargetClient], Any]
) -> None:
    server = hostile_server(always(Hang(30)))
    client = TargetClient(TargetProfile(server.base_url, "p", "d", timeout=30))
    outcome: list[BaseException] = []
    thread = _list_in_a_thread(client, outcome, send)
    thread.start()
    while not server.requests:
        time.sleep(0.01)
    try:
        interrupt()
        thread.join(timeout=5)
        assert not thread.is_alive() and isinstance(outcome[0], TransportError)
        with pytest.raises(KeyboardInterrupt):
            send(client)
    finally:
        client.resume_all()
    assert len(server.requests) == 1


def test_a_request_interrupted_while_it_waits_for_its_place_in_flight_never_goes_out(hostile_server) -> None:
    """A request of a low priority may wait long for a place in flight; interrupted meanwhile, it must not go out
    once the place is free (the cut requests free theirs at once)."""
    server = hostile_server(always(Hang(30)))
    client = TargetClient(TargetProfile(server.base_url, "p", "d", timeout=30))
    client.transport.limit_in_flight(1)
    outcome: list[BaseException] = []
    threads = [_list_in_a_thread(client, outcome) for _ in range(2)]
    threads[0].start()
    while not server.requests:
        time.sleep(0.01)
    threads[1].start()  # it waits for the one place
    time.sleep(0.2)
    try:
        interrupt()
        for thread in threads:
            thread.join(timeout=5)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        client.resume_all()
    assert len(server.requests) == 1
    assert sorted(type(error).__name__ for error in outcome) == ["KeyboardInterrupt", "TransportError"]


# Where a signal may land in a sending thread: after its last look at the interrupt, as it takes a connection
# from the pool; and while that connection is being made, before it has a socket that `interrupt` could cut.
_LANDS_AS_IT_TAKES_A_CONNECTION = (HTTPConnectionPool, "_get_conn")
_LANDS_AS_IT_CONNECTS = (HTTPConnection, "_new_conn")


@pytest.mark.parametrize(
    ("owner", "method"), [_LANDS_AS_IT_TAKES_A_CONNECTION, _LANDS_AS_IT_CONNECTS], ids=["taking", "connecting"]
)
def test_an_interrupt_that_lands_as_a_request_sets_out_keeps_it_from_going_out(
    hostile_server, monkeypatch, owner: type, method: str
) -> None:
    """Otherwise the request goes out after the interrupt has cut those in flight, and hangs the run's end for a
    whole request timeout (a fresh clone's SIGTERM once took 30.8 s to stop a run)."""
    server = hostile_server(always(Hang(30)))
    client = TargetClient(TargetProfile(server.base_url, "p", "d", timeout=30))
    original = getattr(owner, method)

    def interrupted_meanwhile(*args: Any, **kwargs: Any) -> Any:
        got = original(*args, **kwargs)
        interrupt()  # the signal's handler, run in the middle of this thread's sending
        return got

    monkeypatch.setattr(owner, method, interrupted_meanwhile)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.list()
    finally:
        client.resume_all()
    assert time.monotonic() - started < 5
    assert server.requests == []


def _bytes_held(error: BaseException) -> int:
    """The bytes that the locals of every frame of an exception's tracebacks (and its causes') keep alive."""
    held, seen = 0, set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        traceback = error.__traceback__
        while traceback is not None:
            for value in traceback.tb_frame.f_locals.values():
                items = value if isinstance(value, list) else [value]
                held += sum(len(item) for item in items if isinstance(item, bytes | bytearray))
            traceback = traceback.tb_next
        error = error.__cause__ or error.__context__
    return held


def test_an_answer_too_large_keeps_only_its_first_piece_alive(hostile_server) -> None:
    """Schemathesis and Hypothesis keep a failed case's exception, and with it its traceback's frames: a frame
    that still held the body read so far kept up to MAX_ANSWER_BYTES alive per answer (1.5 GiB in one run).
    Schemathesis's requests meet the transport policy as this session does, the exception raised as it is."""
    server = hostile_server(always(Huge(4 * MAX_ANSWER_BYTES)))
    session = _client(server.base_url).transport.mount(requests.Session())

    with pytest.raises(AnswerTooLarge) as caught:
        session.get(server.base_url + item_path("some-id"))

    assert len(caught.value.response.content) <= READ_PIECE
    assert _bytes_held(caught.value) < MAX_ANSWER_BYTES // 8


def test_a_record_whose_delete_and_its_retry_got_no_answer_is_deleted_after_the_others(
    hostile_server, start_reference
) -> None:
    """Side by side, a target that drops some requests may drop a delete and its retry both; the cleanup tries
    such a delete once more after the others, one at a time, rather than leave the record behind."""
    deletes: list[Request] = []

    def drop_the_first_two_deletes(request: Request) -> Drop | None:
        if request.method != "DELETE":
            return None
        deletes.append(request)
        return Drop() if len(deletes) <= 2 else None

    server = hostile_server(drop_the_first_two_deletes, upstream=start_reference().base_url)
    client = TargetClient(TargetProfile(server.base_url, DEMO_PARTNER_KEY, DEMO_DEVELOPER_KEY, timeout=5))
    mark = RunMark("t35t")
    ledger = Ledger(mark)
    client.observers.append(ledger.observe)
    client.intents.append(ledger.intend)
    shop = "wc-t35t.cleanup.1"
    body = {"shopId": shop, "webHookType": DEFAULT_EVENT_TYPE, "webHookUrls": [mark.url("cleanup")]}
    made = [client.create(body).json()["id"] for _ in range(2)]

    outcome = ledger.clean_up(client, [client.profile.primary])

    assert outcome.left_behind == [] and outcome.deleted == 2
    assert len(deletes) == 4  # the first delete, its retry, the second record's, the first's once more
    assert client.list({"shopId": shop}).json()["values"] == []
    assert {request.path.rsplit("/", 1)[-1] for request in deletes} == set(made)
