"""One transport policy for every request of a run, whichever engine sends it.

`TransportPolicy` is the run's manners toward the target, at requests' adapter level (`GuardedAdapter`), so
the checker's own client and Schemathesis's sessions keep the same ones: the rate limit across the whole run
(one `RateLimiter`), patience with 429s (Retry-After, bounded), no redirect followed, every answer read whole
but capped in size and in time, every request cut at once on an interrupt, and the evidence of each exchange
built one way, redacted (`request_evidence`, `answer_evidence`).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from conformance.checker import attribution
from conformance.checker.evidence import Exchange, Redactor, body_fields, clip
from conformance.checker.options import MAX_CONCURRENCY
from conformance.checker.profile import TargetProfile

MAX_ANSWER_BYTES = 8 * 1024 * 1024  # read no more of one answer than this
READ_PIECE = 64 * 1024  # bytes read at a time
ANSWER_TIMEOUTS = 3  # a whole answer must arrive within this many request timeouts (a trickle cannot hold a run)
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After is capped (and the run's time budget still holds)
MAX_429_RETRIES = 5
INTERRUPT_LOOK = 0.1  # seconds: how often a wait for a turn of the rate limit looks whether the run was interrupted
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # RFC 9110 9.2.1: they ask the server to change nothing
# The number, in the order requests took their place in flight, of the last request this thread sent (a sender
# sets None before it sends: a request that never went out has none; Schemathesis's start-up probes, which go
# around the policy, have none). `silence` judges by it.
SENT_AS: ContextVar[int | None] = ContextVar("sent_as", default=None)


@dataclass
class ClientStats:
    """What the run sent: every request that went out (each retry too), the 429s waited out, the requests
    without a usable answer, and the answers per operation and status."""

    requests: int = 0
    retries_429: int = 0
    unannounced_429: int = 0  # of those, 429s without a Retry-After the checker could read
    transport_errors: int = 0  # requests that got no usable answer
    by_operation: dict[tuple[str, int | None], int] = field(default_factory=dict)


class StillTooManyRequests(requests.RequestException):
    """The answer is still 429 after the retries, or no time is left to wait for another; `response` is it."""


class AnswerTooLarge(requests.RequestException):
    """The answer's body is larger than MAX_ANSWER_BYTES; its `response` keeps only the first piece read."""


class AnswerTooSlow(requests.ReadTimeout):
    """The answer kept arriving, but not all of it within ANSWER_TIMEOUTS request timeouts."""


class _UnlessInterrupted:
    """A connection that goes no further once connected if the run was interrupted meanwhile: `interrupt` found
    it without a socket to cut (it was still connecting)."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        if _INTERRUPTED.is_set():
            self.close()  # type: ignore[attr-defined]
            raise KeyboardInterrupt


class _TrackedHTTPConnection(_UnlessInterrupted, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_UnlessInterrupted, HTTPSConnection):
    pass


class _TrackedHTTPConnectionPool(HTTPConnectionPool):
    """A connection pool that knows which of its connections carry a request right now (`interrupt`).

    A request cannot slip past an interrupt between the sender's last look (`raise_if_interrupted`) and its
    connection: `interrupt` raises the flag, then cuts the connections held; a connection is held, then the flag
    is looked at again, and once more when it has connected. So either the sender sees the flag, or `interrupt`
    sees the connection, with its socket to cut or still connecting."""

    ConnectionCls = _TrackedHTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        _IN_FLIGHT.add(connection)
        if _INTERRUPTED.is_set():
            _IN_FLIGHT.discard(connection)
            super()._put_conn(connection)
            raise KeyboardInterrupt
        return connection

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:  # None: the connection broke and was closed
            _IN_FLIGHT.discard(conn)
            if _CLOSE_ON_RELEASE.pop(conn, False):
                # Closed before it is back in the pool: from there it is another thread's at once (it reconnects).
                conn.close()
        super()._put_conn(conn)


class _TrackedHTTPSConnectionPool(_TrackedHTTPConnectionPool, HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


_IN_FLIGHT: weakref.WeakSet[Any] = weakref.WeakSet()  # connections of the guarded pools that carry a request
_RAW_IN_FLIGHT: weakref.WeakSet[socket.socket] = weakref.WeakSet()  # sockets of raw requests (`carrying_a_request`)
_CLOSE_ON_RELEASE: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()  # whose request sent "close"
_INTERRUPTED = threading.Event()


def interrupt() -> None:
    """The run is interrupted (Ctrl-C, SIGTERM: a signal handler calls this). Cut every request in flight, in
    whichever thread it waits (one may hang in a Schemathesis thread), and refuse every new one with
    KeyboardInterrupt until the run resumes for its cleanup (`TargetClient.resume_all`): so the run stops even
    when Python swallows the KeyboardInterrupt that the handler raises (inside a garbage-collector callback)."""
    _INTERRUPTED.set()
    sockets = [getattr(connection, "sock", None) for connection in _snapshot(_IN_FLIGHT)] + _snapshot(_RAW_IN_FLIGHT)
    for sock in sockets:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _snapshot(held: weakref.WeakSet[Any]) -> list[Any]:
    """What carries a request now. (No lock: a signal handler must not wait for one its own thread may hold; a
    snapshot that another thread disturbed is taken again.)"""
    for _ in range(100):
        try:
            return list(held)
        except RuntimeError:  # the set changed size while it was copied
            continue
    return []


@contextlib.contextmanager
def carrying_a_request(sock: socket.socket) -> Iterator[None]:
    """Hold the socket of a request sent around requests (`raw_request`) among those `interrupt` cuts while
    it carries its request; KeyboardInterrupt at once if the run has been interrupted (see
    `_TrackedHTTPConnectionPool` for why it looks after holding)."""
    _RAW_IN_FLIGHT.add(sock)
    try:
        raise_if_interrupted()
        yield
    finally:
        _RAW_IN_FLIGHT.discard(sock)


def resume() -> None:
    """The run resumes after an interrupt, for its cleanup: requests go out again."""
    _INTERRUPTED.clear()


_CLEANUP_SIGNALS = [0]  # how many interrupts came during the cleanup under way
_CLEANING_UP = threading.Event()


@contextlib.contextmanager
def cleanup_first() -> Iterator[None]:
    """The run's cleanup: the first Ctrl-C or SIGTERM that comes meanwhile waits for it (`defer_interrupt`), so a
    signal at the end of a run cannot leave its records behind; a second one still stops it."""
    _CLEANUP_SIGNALS[0] = 0
    _CLEANING_UP.set()
    try:
        yield
    finally:
        _CLEANING_UP.clear()


def defer_interrupt() -> bool:
    """Whether an interrupt that comes now waits for the cleanup under way (the first one during a cleanup)."""
    if not _CLEANING_UP.is_set():
        return False
    _CLEANUP_SIGNALS[0] += 1
    return _CLEANUP_SIGNALS[0] == 1


def interrupted() -> bool:
    """Whether the run has been interrupted and has not yet resumed for its cleanup."""
    return _INTERRUPTED.is_set()


def pause(seconds: float) -> None:
    """Wait `seconds` (a Retry-After: up to MAX_RETRY_AFTER), or until the run is interrupted: KeyboardInterrupt
    then, at once."""
    if _INTERRUPTED.wait(seconds):
        raise KeyboardInterrupt


def raise_if_interrupted() -> None:
    """KeyboardInterrupt if the run has been interrupted and has not yet resumed for its cleanup."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


class Turn:
    """One request's turn of the rate limit: taken before it goes out, finished when its answer has begun to
    arrive (by then the target surely has the request)."""

    def __init__(self, condition: threading.Condition) -> None:
        self._condition = condition
        self.finished: float | None = None  # time.monotonic() when it finished

    def finish(self) -> None:
        """The request has reached the target (idempotent)."""
        with self._condition:
            if self.finished is None:
                self.finished = time.monotonic()
                self._condition.notify_all()


class Places:
    """The run's places for requests in flight (`TransportPolicy.limit_in_flight`): at most `count` taken at a
    time, whichever engine sends. A place that comes free goes to a waiting request of the engine of the highest
    `priorities` (`Engine.priority`; 0 for one not named there), the one that has waited longest: across a
    network a run ends when its longest chains of requests in a row do, and the engines of short independent
    checks fill the places that those leave free. What is sent does not change, only when.

    A free place is handed to the one request it goes to, which alone wakes: with every place taken, dozens of
    requests wait, and waking them all for each place (a condition's `notify_all`) made about 11 wake-ups per
    request in a standard run, each a turn of the interpreter's lock taken from the threads reading answers."""

    def __init__(self, count: int, priorities: Mapping[str, int] | None = None) -> None:
        self._free = count  # never above 0 while a request waits: a place that comes free is handed on
        self._priorities = dict(priorities or {})
        self._waiting: dict[int, deque[threading.Lock]] = {}  # by priority, the longest waiting first
        self._lock = threading.Lock()

    def take(self) -> None:
        """Wait for a place and take it."""
        priority = self._priorities.get(attribution.ENGINE.get(), 0)
        with self._lock:
            if self._free:
                self._free -= 1
                return
            handed = threading.Lock()
            handed.acquire()
            self._waiting.setdefault(priority, deque()).append(handed)
        try:
            handed.acquire()  # released by `give_back`, the place this request's by then
        except BaseException:  # an interrupt (the main thread waits here too at --concurrency 1)
            with self._lock:
                queue = self._waiting[priority]
                still_waiting = handed in queue
                if still_waiting:
                    queue.remove(handed)
            if not still_waiting:  # handed the place as the interrupt came: on to the next, or free again
                self.give_back()
            raise

    def give_back(self) -> None:
        with self._lock:
            waiting = [self._waiting[key] for key in sorted(self._waiting, reverse=True) if self._waiting[key]]
            if not waiting:
                self._free += 1
            else:
                waiting[0].popleft().release()


class Place:
    """One of the run's places for a request in flight (`TransportPolicy.take_place`), held until `finish`."""

    def __init__(self, places: Places | None) -> None:
        self._places = places
        self._lock = threading.Lock()

    def finish(self) -> None:
        """Give the place back (idempotent)."""
        with self._lock:
            places, self._places = self._places, None
        if places is not None:
            places.give_back()


class RateLimiter:
    """At most `rate` requests in any one second, across all threads, as the target counts them (None: no
    limit). Requests go out 1/rate apart, and none goes out until a second has passed since the target surely
    had the one `rate` requests before it (`rate` rounded down, at least 1): whatever the way to the target
    delays, it cannot squeeze more into one of the target's seconds."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._turns: deque[Turn] = deque(maxlen=max(1, int(rate or 1)))  # the last requests' turns
        self._last = float("-inf")  # when the last turn was taken
        self._condition = threading.Condition()

    def take(self) -> Turn:
        """Wait for the next request's turn; the caller finishes it once the request has reached the target."""
        return self.take_several(1)[0]

    def take_several(self, count: int) -> list[Turn]:
        """Turns for `count` requests that go out back to back, each after its wait, taken together: taken one by
        one, a thread holding the first (unfinished until its request reaches the target) could come to wait
        for it itself, and every other thread for that one. A turn of the same batch is never waited for (below
        2 requests a second, such a batch goes out within one second)."""
        turns = [Turn(self._condition) for _ in range(count)]
        if not self._interval:
            for turn in turns:
                turn.finished = time.monotonic()
            return turns
        with self._condition:
            for turn in turns:
                while True:
                    now = time.monotonic()
                    if _INTERRUPTED.is_set():  # a slow rate's wait (1/rate) ends at once too
                        self._give_back(turns, now)
                        raise KeyboardInterrupt
                    oldest = self._turns[0] if len(self._turns) == self._turns.maxlen else None
                    if oldest is not None and any(oldest is own for own in turns):
                        oldest = None  # its own batch's: it goes out just before this one
                    if oldest is not None and oldest.finished is None:  # on its way: its second starts later
                        self._condition.wait(INTERRUPT_LOOK)
                        continue
                    due = max(self._last + self._interval, oldest.finished + 1.0 if oldest is not None else now)
                    if due <= now:
                        break
                    self._condition.wait(min(due - now, INTERRUPT_LOOK))
                self._last = now
                self._turns.append(turn)
        return turns

    def _give_back(self, turns: list[Turn], now: float) -> None:
        """Finish the turns of a batch that will not go out (already among the last turns): unfinished, each
        would hold up every later request, the cleanup's too."""
        for turn in turns:
            if turn.finished is None:
                turn.finished = now
        self._condition.notify_all()

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """A request's turn, finished when the block ends (once the answer has begun to arrive, or failed)."""
        taken = self.take()
        try:
            yield
        finally:
            taken.finish()


class GuardedAdapter(HTTPAdapter):
    """requests' HTTP adapter with the run's transport policy: each request (each retry too) waits for its turn
    of the run's rate limit and is counted; a 429 is retried after its Retry-After (`TransportPolicy.retry_delay`,
    StillTooManyRequests when that runs out); the body is read whole before `send` returns, at most
    MAX_ANSWER_BYTES of it (AnswerTooLarge beyond), and within ANSWER_TIMEOUTS request timeouts (AnswerTooSlow
    beyond: a server that trickles its answer cannot hold the run). Its requests can be cut from another
    thread (`interrupt`)."""

    def __init__(self, policy: TransportPolicy, deadline: float | None = None) -> None:
        super().__init__(pool_maxsize=MAX_CONCURRENCY + 1)  # a connection for each request in flight
        self.policy = policy
        self.deadline = deadline  # time.monotonic() after which a 429 is not waited out (beside the policy's)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _TrackedHTTPConnectionPool,
            "https": _TrackedHTTPSConnectionPool,
        }

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any):
        for attempt in range(MAX_429_RETRIES + 1):
            response = self._send_once(request, timeout, **kwargs)
            if response.status_code != 429:
                return response
            if attempt == MAX_429_RETRIES:
                raise StillTooManyRequests(
                    f"still 429 Too Many Requests after {attempt} retries", request=request, response=response
                )
            delay = self.policy.retry_delay(response.headers.get("Retry-After"), attempt, self.deadline)
            if delay is None:
                raise StillTooManyRequests(
                    "429 Too Many Requests, and no time left to wait", request=request, response=response
                )
            pause(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send_once(self, request: requests.PreparedRequest, timeout: Any, **kwargs: Any) -> requests.Response:
        raise_if_interrupted()  # a retry of a request that `interrupt` cut must not go out again
        with self.policy.in_flight():
            raise_if_interrupted()  # nor a request that was interrupted while it waited for its place
            started = time.monotonic()
            with self.policy.turn():  # finished as the answer's head arrives: the body may take long
                response = super().send(request, stream=True, timeout=timeout, **kwargs)
            connection = getattr(response.raw, "connection", None)  # before the read releases it to the pool
            if connection is not None and _asks_to_close(request):
                # RFC 9112 9.6: a client that sent "close" sends nothing more on that connection, whatever the answer
                # said (a server may close it without saying so; the next request there would get no answer).
                _CLOSE_ON_RELEASE[connection] = True
            seconds = max(timeout) if isinstance(timeout, tuple) else timeout
            try:
                body = _read_capped(response, started + ANSWER_TIMEOUTS * seconds if seconds else None)
            except BaseException:
                response.close()  # the rest of the body is unread: the connection is discarded, not reused
                raise
        response._content, response._content_consumed = body, True
        response.close()  # read to its end: the connection goes back to the pool (a closed one reconnects)
        return response


def _asks_to_close(request: requests.PreparedRequest) -> bool:
    """Whether the request carries the `close` connection option."""
    options = str(request.headers.get("Connection", ""))
    return "close" in (option.strip().lower() for option in options.split(","))


class TransportPolicy:
    """The run's one transport policy (see the module): its rate limit, its request statistics, its redaction,
    and the run's deadline, after which a 429 is no longer waited out."""

    def __init__(self, profile: TargetProfile, *, deadline: float | None = None) -> None:
        self.redact = Redactor(profile.secrets())
        self.limiter = RateLimiter(profile.rate_limit)
        self.stats = ClientStats()
        self.deadline = deadline
        self._lock = threading.Lock()
        self._in_flight: Places | None = None  # `limit_in_flight`
        self.priorities: dict[str, int] = {}  # engine -> its priority for a free place in flight (`Places`)
        self._numbers = itertools.count(1)  # for `SENT_AS`

    def limit_in_flight(self, count: int) -> None:
        """At most `count` requests of the run waiting for their answer at a time, whichever engine sends them
        (`--concurrency`: polite to the target however many checks run side by side); by `priorities`."""
        self._in_flight = Places(count, self.priorities)

    def take_place(self) -> Place:
        """Take one place in flight, held until the Place finishes: a request's (`in_flight`), or that of requests
        that go around this policy one at a time (Schemathesis's start-up probes). Taken before any turn of the
        rate limit."""
        if self._in_flight is not None:
            self._in_flight.take()
        return Place(self._in_flight)

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        """Hold one of the run's places for a request in flight (see `limit_in_flight`) while it is answered; the
        request is numbered in the order the requests take their places (`SENT_AS`)."""
        place = self.take_place()
        SENT_AS.set(next(self._numbers))
        try:
            yield
        finally:
            place.finish()

    def mount(self, session: requests.Session, deadline: float | None = None) -> requests.Session:
        """Make `session` send by this policy (`GuardedAdapter`; a 429 waited out until `deadline` at the latest,
        and the run's); returns it. A session that already does is left as it is."""
        adapter = session.get_adapter("http://")
        if not isinstance(adapter, GuardedAdapter) or adapter.policy is not self:
            adapter = GuardedAdapter(self, deadline)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        session.trust_env = False  # never send a user's proxy settings or netrc credentials along
        return session

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """A request's turn of the rate limit (`RateLimiter.turn`), counted as sent: the request goes out in it."""
        with self.limiter.turn():
            with self._lock:
                self.stats.requests += 1
            yield

    def retry_delay(self, retry_after: str | None, attempt: int, deadline: float | None = None) -> float | None:
        """Seconds to wait before retrying a 429 (its Retry-After, else a backoff of 1, 2, 4, 8 s), counted as
        a retry; None when the run's deadline (or the sooner `deadline`) leaves no time to wait."""
        delay = _retry_after_seconds(retry_after)
        unannounced = delay is None
        delay = max(0.0, min(min(2.0**attempt, 8.0) if delay is None else delay, MAX_RETRY_AFTER))
        ends = min(item for item in (self.deadline, deadline, float("inf")) if item is not None)
        if time.monotonic() + delay > ends:
            return None
        with self._lock:
            self.stats.retries_429 += 1
            self.stats.unannounced_429 += unannounced
        return delay

    def request_evidence(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | str | None,
        body_shell: str | None = None,
    ) -> Exchange:
        """The redacted evidence of a request, its body as `evidence.body_fields` keeps it (exact where a command
        cannot quote it)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        return Exchange(
            method=method,
            url=self.redact(url),
            request_headers={name: self.redact(str(value)) for name, value in headers.items()},
            **body_fields(data, self.redact),
            body_shell=body_shell,
            request_bytes=len(body) if body is not None else None,
        )

    def answer_evidence(
        self, exchange: Exchange, status: int, headers: Mapping[str, str], body: bytes, elapsed_ms: float
    ) -> None:
        """Fill in the answer's part of `exchange`, redacted."""
        text = body.decode("utf-8", errors="replace")
        exchange.status = status
        exchange.response_headers = {name: self.redact(value) for name, value in headers.items()}
        exchange.response_body = clip(self.redact(text)) if text else None
        exchange.elapsed_ms = elapsed_ms


def _read_capped(response: requests.Response, deadline: float | None) -> bytes:
    """The body, read as it arrives (a slow trickle too): AnswerTooSlow past the deadline; AnswerTooLarge past
    MAX_ANSWER_BYTES, or at once when the Content-Length announces more, its response keeping only the first
    piece (the evidence); a broken transfer raises what `response.content` would."""
    chunks, size = [], 0
    request = response.request
    announced = response.headers.get("Content-Length", "")
    try:
        while chunk := response.raw.read1(READ_PIECE, decode_content=True):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ANSWER_BYTES or (announced.isdigit() and int(announced) > MAX_ANSWER_BYTES):
                response._content = chunks[0]
                # The exception's traceback keeps this frame alive wherever it is kept (Schemathesis's and
                # Hypothesis's records of a failed case): without the rest of the body, up to MAX_ANSWER_BYTES
                # each, 200 of them held 1.5 GiB.
                chunks.clear()
                raise AnswerTooLarge(f"an answer larger than {MAX_ANSWER_BYTES} bytes", response=response)
            if deadline is not None and time.monotonic() > deadline:
                raise AnswerTooSlow(f"the answer still arriving after {ANSWER_TIMEOUTS} timeouts", request=request)
    except ReadTimeoutError as error:
        raise requests.ReadTimeout(error, request=request) from error
    except ProtocolError as error:
        raise requests.exceptions.ChunkedEncodingError(error, request=request) from error
    except DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error, request=request) from error
    return b"".join(chunks)


def closed_by_target(error: requests.RequestException) -> bool:
    """Whether the target closed or reset the connection (not a timeout, a refused connect or a bad answer)."""
    return (
        isinstance(error, requests.ConnectionError)
        and not isinstance(error, requests.Timeout)
        and not isinstance(error, requests.exceptions.ChunkedEncodingError)
        and "refused" not in str(error).lower()
    )


def unanswered_because(error: requests.RequestException, timeout: float) -> str:
    """Why a request got no answer the checker can judge, in one line, from what requests raised."""
    if isinstance(error, StillTooManyRequests):
        return str(error)
    if isinstance(error, AnswerTooLarge):
        return f"an answer larger than {MAX_ANSWER_BYTES} bytes: cut off, not judged"
    if isinstance(error, AnswerTooSlow):
        return f"the answer was still arriving after {ANSWER_TIMEOUTS * timeout:g} s"
    if isinstance(error, requests.ConnectTimeout):
        return (
            f"no connection within {timeout:g} s: a wrong host or port, or a firewall that drops the packets; "
            "check --base-url and the network"
        )
    if isinstance(error, requests.Timeout):
        return f"no answer within {timeout:g} s (a target that is only slow needs a longer --timeout)"
    if isinstance(error, requests.ConnectionError):
        return f"connection failed: {_reason(error)}"
    return f"request failed: {_reason(error)}"


_CUT_SHORT = re.compile(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)")
_OS_ERROR = re.compile(r"\[Errno (-?\d+)\] ([^'\")\]]+)")


# (pattern in the nested exception's text, what it means in words, with the likely cause and the fix)
_IN_WORDS = (
    (
        re.compile(r"WRONG_VERSION_NUMBER|wrong version number|record layer failure|packet length too long", re.I),
        "TLS handshake failed: the port speaks plain HTTP, not TLS; use http:// in --base-url (or the TLS port)",
    ),
    (
        re.compile(r"CERTIFICATE_VERIFY_FAILED"),
        "the target's TLS certificate is not trusted (self-signed, expired or for another host name): "
        "check the host name in --base-url, or give the target a certificate from a trusted CA",
    ),
    (
        re.compile(r"NameResolutionError|Name or service not known|nodename nor servname|name resolution|getaddrinfo"),
        "the host name does not resolve (DNS): check the host in --base-url",
    ),
    (
        re.compile(r"Connection refused"),
        "Connection refused: nothing listens on that host and port; check the port in --base-url and that the "
        "server runs",
    ),
    (
        re.compile(r"BadStatusLine\('\\x15\\x03"),
        "the port answered in TLS, not plain HTTP: use https:// in --base-url",
    ),
)


def _reason(error: Exception) -> str:
    """A one-line reason from a requests exception (they nest urllib3's, which nest the socket's): in words, with
    the likely cause and the fix, where the cause is known."""
    text = str(error)
    for pattern, words in _IN_WORDS:
        if pattern.search(text):
            return words
    if match := _CUT_SHORT.search(text):
        return f"the connection closed after {match[1]} bytes of the answer, {match[2]} more announced"
    if "RemoteDisconnected" in text or "Remote end closed connection" in text:
        return "the target closed the connection without an answer"
    if "Connection reset by peer" in text:
        return "the target reset the connection (Connection reset by peer)"
    if match := _OS_ERROR.search(text):
        return f"{match[2].strip()} (errno {match[1]})"
    return text.splitlines()[0][:200] if text else type(error).__name__


def _retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (RFC 9110 10.2.3: a number of seconds or an HTTP-date); None if absent
    or unreadable."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError):
        return None
