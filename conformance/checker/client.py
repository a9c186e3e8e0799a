"""The target client: every request the checker's own suites send goes through here.

It signs requests with an identity's keys, keeps to the rate limit, waits out 429s, never follows a
redirect (a redirect must not carry the keys elsewhere), caps how much of a body it reads and how long it
waits for it, records each exchange as redacted evidence, and hands every answer to the observers (the
checks that hold for every response, e.g. HTTP-01 no 5xx).

A request that gets no answer the checker can judge raises `TransportError`; after `GIVE_UP_AFTER` of them
for one operation the client stops sending that operation (hangs cost a timeout each, so a target that hangs
on one operation costs a few timeouts, not one per request), and the rest of the run goes on. The reading
rules live in `GuardedAdapter`, which Schemathesis's sessions mount too (`guard`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from conformance.checker.evidence import Exchange, Redactor, body_fields, clip
from conformance.checker.profile import Credentials, TargetProfile
from conformance.checker.raw_request import RawRequest, send_raw
from conformance.contract.facts import CONTRACT, MAX_LIST_LIMIT

MAX_ANSWER_BYTES = 8 * 1024 * 1024  # read no more of one answer than this (not VALID-10's limit on a request)
READ_PIECE = 64 * 1024  # bytes read at a time
ANSWER_TIMEOUTS = 3  # a whole answer must arrive within this many request timeouts (a trickle cannot hold a run)
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After is capped (and the run's time budget still holds)
MAX_429_RETRIES = 5
GIVE_UP_AFTER = 3  # requests to one operation without a usable answer, after which it is no longer sent
STOPPED_ANSWERING = 3  # requests in a row without a usable answer: the target has stopped answering
OTHER = "other"  # the operation key of a request outside the spec
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # RFC 9110 9.2.1: they ask the server to change nothing
_UNSET: Any = object()


class WriteRefused(Exception):
    """A read-only client was asked for a request that could write (not a safe method); nothing was sent."""


class UploadRefused(Exception):
    """The target closed the connection, without an answer the checker could read, while a request that
    allowed it (`refusable_upload`, an oversize body) was being sent: a refusal to take the body, not a
    failure of the target. Many servers and proxies answer an oversize body from its headers and close."""

    def __init__(self, message: str, exchange: Exchange) -> None:
        super().__init__(message)
        self.exchange = exchange


class TransportError(Exception):
    """The target gave no answer the checker can judge: refused, reset, timed out, cut off, larger than
    MAX_ANSWER_BYTES, still 429 after the retries; or the request was not sent, its operation given up on."""

    def __init__(self, message: str, exchange: Exchange) -> None:
        super().__init__(message)
        self.exchange = exchange


@dataclass
class Reply:
    """An HTTP answer as the checker saw it, with the evidence of the exchange."""

    status: int
    headers: CaseInsensitiveDict
    body: bytes
    exchange: Exchange
    operation: str | None  # operationId in the spec, or None for a request outside the spec
    identity: Credentials
    # False for a request that is not an API call (invalid HTTP, a path outside the two API paths): any 4xx
    # with any body may answer it (CONTRACT.md after HTTP-06), so only HTTP-01 judges its answer.
    api_call: bool = True
    _parsed: Any = field(default=_UNSET, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The parsed JSON body; ValueError when it does not parse."""
        if self._parsed is _UNSET:
            self._parsed = json.loads(self.body.decode("utf-8"))
        return self._parsed

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


Observer = Callable[[Reply], None]
# Told of every write before it is sent: the operation, the body (a JSON value, or bytes as sent), the identity,
# and the exchange, which fills in as the answer comes (or does not). The ledger's intent journal is one.
Intent = Callable[[str | None, Any, Credentials, Exchange], Any]


class AnswerTooLarge(requests.RequestException):
    """The answer's body is larger than MAX_ANSWER_BYTES; its `response` keeps only the first piece read."""


class AnswerTooSlow(requests.ReadTimeout):
    """The answer kept arriving, but not all of it within ANSWER_TIMEOUTS request timeouts."""


class _TrackedHTTPConnectionPool(HTTPConnectionPool):
    """A connection pool that knows which of its connections carry a request right now (`interrupt`)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        _IN_FLIGHT.add(connection)
        return connection

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:  # None: the connection broke and was closed
            _IN_FLIGHT.discard(conn)
        super()._put_conn(conn)


class _TrackedHTTPSConnectionPool(_TrackedHTTPConnectionPool, HTTPSConnectionPool):
    pass


_IN_FLIGHT: weakref.WeakSet[Any] = weakref.WeakSet()  # connections of the guarded pools that carry a request
_INTERRUPTED = threading.Event()


def interrupt() -> None:
    """The run is interrupted (Ctrl-C, SIGTERM: a signal handler calls this). Cut every request in flight, in
    whichever thread it waits (one may hang in a Schemathesis thread), and refuse every new one with
    KeyboardInterrupt until the run resumes for its cleanup (`TargetClient.resume_all`): so the run stops even
    when Python swallows the KeyboardInterrupt that the handler raises (inside a garbage-collector callback)."""
    _INTERRUPTED.set()
    for connection in _in_flight():
        if getattr(connection, "sock", None) is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)


def _in_flight() -> list[Any]:
    """The connections carrying a request now. (No lock: a signal handler must not wait for one its own thread
    may hold; a snapshot that another thread disturbed is taken again.)"""
    for _ in range(100):
        try:
            return list(_IN_FLIGHT)
        except RuntimeError:  # the set changed size while it was copied
            continue
    return []


def raise_if_interrupted() -> None:
    """KeyboardInterrupt if the run has been interrupted and has not yet resumed for its cleanup."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


class GuardedAdapter(HTTPAdapter):
    """requests' HTTP adapter with the checker's rules for reading an answer: the body is read whole before
    `send` returns, at most MAX_ANSWER_BYTES of it (AnswerTooLarge beyond), and within ANSWER_TIMEOUTS request
    timeouts (AnswerTooSlow beyond: a server that trickles its answer cannot hold the run). Its requests can be
    cut from another thread (`interrupt`)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _TrackedHTTPConnectionPool,
            "https": _TrackedHTTPSConnectionPool,
        }

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any):
        raise_if_interrupted()  # a retry of a request that `interrupt` cut must not go out again
        started = time.monotonic()
        response = super().send(request, stream=True, timeout=timeout, **kwargs)
        seconds = max(timeout) if isinstance(timeout, tuple) else timeout
        try:
            body = _read_capped(response, started + ANSWER_TIMEOUTS * seconds if seconds else None)
        except BaseException:
            response.close()  # the rest of the body is unread: the connection is discarded, not reused
            raise
        response._content, response._content_consumed = body, True
        response.close()  # read to its end: the connection goes back to the pool
        return response


def guard(session: requests.Session) -> requests.Session:
    """Make a session read every answer by the checker's rules (`GuardedAdapter`); returns it."""
    if not isinstance(session.get_adapter("http://"), GuardedAdapter):
        adapter = GuardedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


class RateLimiter:
    """At most `rate` requests a second across all threads (None: no limit)."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            time.sleep(delay)


@dataclass
class ClientStats:
    requests: int = 0
    retries_429: int = 0
    unannounced_429: int = 0  # of those, 429s without a Retry-After the checker could read
    transport_errors: int = 0  # requests that got no usable answer
    by_operation: dict[tuple[str, int | None], int] = field(default_factory=dict)


class TargetClient:
    """Sends requests to the target as one of the profile's identities."""

    def __init__(self, profile: TargetProfile, *, deadline: float | None = None, read_only: bool = False) -> None:
        self.profile = profile
        self.read_only = read_only  # refuse every request that is not a safe method (WriteRefused)
        self.redact = Redactor(profile.secrets())
        self.stats = ClientStats()
        self.observers: list[Observer] = []
        self.intents: list[Intent] = []
        self.deadline = deadline  # time.monotonic() after which 429 waits are cut short
        self._limiter = RateLimiter(profile.rate_limit)
        self._session = guard(requests.Session())
        self._session.trust_env = False  # never send a user's proxy settings or netrc credentials along
        self._lock = threading.Lock()
        self.silenced: dict[str, str] = {}  # operation -> its last failure, after which it is no longer sent
        self._failures: Counter[str] = Counter()  # operation -> requests without a usable answer
        self._in_a_row = 0  # requests without a usable answer since the last answer
        self._first_failure: str | None = None

    def close(self) -> None:
        self._session.close()

    # The five operations, named as in the spec; their methods and paths are the spec's.
    def create(self, body: Any, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call_operation("createWebHook", json_body=body, identity=identity, **kw)

    def get(self, webhook_id: str, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call_operation("getWebHook", webhook_id, identity=identity, **kw)

    def update(self, webhook_id: str, body: Any, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call_operation("updateWebHook", webhook_id, json_body=body, identity=identity, **kw)

    def delete(self, webhook_id: str, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call_operation("deleteWebHook", webhook_id, identity=identity, **kw)

    def list(self, params: dict[str, Any] | None = None, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call_operation("listWebHooks", params=params, identity=identity, **kw)

    def call_operation(self, operation_id: str, webhook_id: str | None = None, **kw: Any) -> Reply:
        """Call one operation of the spec by its operationId; ``webhook_id`` names the record of an item path."""
        operation = CONTRACT.operation(operation_id)
        path = operation.path_for(webhook_id) if webhook_id is not None else operation.path
        return self.call(operation.method, path, operation=operation_id, **kw)

    def list_all(
        self,
        params: dict[str, Any] | None = None,
        *,
        page: int = MAX_LIST_LIMIT,
        limit_pages: int = 50,
        identity: Credentials | None = None,
    ) -> list[Reply]:
        """Every page of a list, walking start = 0, page, 2*page, ... until a short page (bounded)."""
        replies = []
        start = 0
        for _ in range(limit_pages):
            reply = self.list({**(params or {}), "start": start, "limit": page}, identity=identity)
            replies.append(reply)
            values = page_values(reply)
            if values is None or len(values) < page:
                break
            start += page
        return replies

    def call(
        self,
        method: str,
        path: str,
        *,
        identity: Credentials | None = None,
        params: dict[str, Any] | None = None,
        json_body: Any = _UNSET,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        operation: str | None = None,
        body_shell: str | None = None,
        observed: bool = True,
        refusable_upload: bool = False,
    ) -> Reply:
        """Send one request (retrying after 429) and return the answer; TransportError if there is none the
        checker can judge.

        `identity` defaults to the primary identity; a Credentials with None drops that header.
        `json_body` is serialised as JSON; `data` is sent as is (with `headers` saying its type).
        `observed=False` leaves the observers out: the caller hands the answer on with `observe` (or not).
        `refusable_upload=True` (an oversize body): a connection closed without an answer raises UploadRefused.
        A read-only client raises WriteRefused for a method that is not safe.
        """
        if self.read_only and method.upper() not in SAFE_METHODS:
            raise WriteRefused(f"{method} {path} not sent: the run is read-only")
        identity = identity or self.profile.primary
        sent_headers: dict[str, str] = {}
        if identity.partner_key is not None:
            sent_headers[self.profile.partner_key_header] = identity.partner_key
        if identity.developer_key is not None:
            sent_headers["Authorization"] = identity.developer_key
        if json_body is not _UNSET:
            data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            sent_headers["Content-Type"] = "application/json"
        sent_headers.update(headers or {})
        url = self.profile.base_url + path + ("?" + urlencode(params, doseq=True) if params else "")
        for attempt in range(MAX_429_RETRIES + 1):
            reply = self._send_once(
                method, url, sent_headers, data, operation, body_shell, identity, refusable_upload=refusable_upload
            )
            if reply.status != 429:
                break
            if attempt == MAX_429_RETRIES:
                raise self._failed(operation, reply.exchange, f"still 429 Too Many Requests after {attempt} retries")
            delay = self.retry_delay(reply.headers.get("Retry-After"), attempt)
            if delay is None:
                raise self._failed(operation, reply.exchange, "429 Too Many Requests, and no time left to wait")
            time.sleep(delay)
        if observed:
            self.observe(reply)
        return reply

    def call_raw(
        self,
        request: RawRequest,
        *,
        identity: Credentials | None = None,
        operation: str | None = None,
        api_call: bool = True,
        body_shell: str | None = None,
    ) -> Reply:
        """Send a request exactly as written (`raw_request`), signed as `identity`, within the rate limit,
        recorded and observed like `call`. No retries: TransportError when it gets no answer. A connection
        closed without an answer is the caller's to judge (such a request may be refused by dropping it) and
        is not counted against the run; a timeout is, like any hang (`operation` names what it aims at, so a
        hanging operation is given up on for raw requests too). `api_call=False` marks a request that is not
        an API call (see `Reply.api_call`)."""
        if self.read_only and request.method.upper() not in SAFE_METHODS:
            raise WriteRefused(f"{request.method} {request.target} not sent: the run is read-only")
        identity = identity or self.profile.primary
        keys = [(self.profile.partner_key_header, identity.partner_key), ("Authorization", identity.developer_key)]
        signed = [(name, value) for name, value in keys if value is not None] + list(request.headers)
        request = RawRequest(request.method, request.target, tuple(signed), request.body, request.host)
        shown = dict(signed) if request.host else {"Host": "", **dict(signed)}  # an empty Host: left out (`header_arg`)
        url = self.profile.base_url + request.target
        raise_if_interrupted()
        exchange = self._begin(request.method, url, shown, request.body or None, operation, body_shell, identity)
        started = time.monotonic()
        with self._lock:
            self.stats.requests += 1
        try:
            answer = send_raw(self.profile.base_url, request, self.profile.timeout, MAX_ANSWER_BYTES)
        except TimeoutError:
            exchange.elapsed_ms = (time.monotonic() - started) * 1000
            raise self._failed(operation, exchange, f"no answer within {self.profile.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as error:
            exchange.error = f"no answer: {type(error).__name__}: {error}"[:200]
            raise TransportError(f"{request.method} {exchange.url}: {exchange.error}", exchange) from None
        finally:
            exchange.elapsed_ms = (time.monotonic() - started) * 1000
        exchange.status = answer.status
        exchange.response_headers = {name: self.redact(value) for name, value in answer.headers}
        text = answer.body.decode("utf-8", errors="replace")
        exchange.response_body = clip(self.redact(text)) if text else None
        self._count(operation, answer.status)
        headers = CaseInsensitiveDict(answer.headers)
        reply = Reply(answer.status, headers, answer.body, exchange, operation, identity, api_call)
        self.observe(reply)
        return reply

    def observe(self, reply: Reply) -> None:
        """Hand an answer to the observers."""
        for observe in self.observers:
            observe(reply)

    def intend(self, operation: str | None, body: Any, identity: Credentials, exchange: Exchange) -> list[Any]:
        """Tell the intents of a write about to be sent; returns what they return (a ledger's entry)."""
        return [record(operation, body, identity, exchange) for record in self.intents]

    def observe_external(self, reply: Reply) -> None:
        """Count and observe an answer that another HTTP stack got from the target (Schemathesis's), so
        every request of a run is counted, judged by the same observers, and its creates reach the ledger."""
        with self._lock:
            self.stats.requests += 1
            self._in_a_row = 0
        self._count(reply.operation, reply.status)
        self.observe(reply)

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

    def refusal(self, operation: str | None) -> str | None:
        """Why requests to this operation are no longer sent, or None while they are."""
        with self._lock:
            last = self.silenced.get(operation or OTHER)
        if last is None:
            return None
        return f"not sent: {operation or OTHER} requests got no usable answer {GIVE_UP_AFTER} times, the last: {last}"

    def record_failure(self, operation: str | None, problem: str) -> None:
        """Count a request that got no usable answer; the GIVE_UP_AFTER-th for one operation silences it."""
        key = operation or OTHER
        with self._lock:
            self.stats.transport_errors += 1
            self._in_a_row += 1
            self._failures[key] += 1
            self._first_failure = self._first_failure or problem
            if self._failures[key] >= GIVE_UP_AFTER:
                self.silenced.setdefault(key, problem)

    @property
    def stopped_answering(self) -> bool:
        """Whether the last STOPPED_ANSWERING requests all went without a usable answer."""
        return self._in_a_row >= STOPPED_ANSWERING

    def resume_all(self) -> None:
        """Send every operation again, after failures or an interrupt: the cleanup must try its deletes."""
        _INTERRUPTED.clear()
        with self._lock:
            self.silenced.clear()
            self._failures.clear()
            self._in_a_row = 0

    def notes(self) -> list[str]:
        """What the report should say about how the target answered: requests it left without a usable answer,
        operations the checker stopped sending, 429s waited out."""
        lines = []
        if self.stats.transport_errors:
            lines.append(
                f"{self.stats.transport_errors} request(s) got no usable answer; the first: {self._first_failure}"
            )
        lines += [
            f"stopped sending {operation} after {GIVE_UP_AFTER} requests without a usable answer; the last: {last}"
            for operation, last in self.silenced.items()
        ]
        if self.stats.retries_429:
            lines.append(
                f"the target answered 429 Too Many Requests {self.stats.retries_429} time(s), "
                f"{self.stats.unannounced_429} of them without a Retry-After; the checker waited and retried"
            )
        return lines

    def _failed(self, operation: str | None, exchange: Exchange, problem: str) -> TransportError:
        """Record a request without a usable answer; returns the TransportError to raise."""
        exchange.error = problem
        message = f"{exchange.method} {exchange.url}: {problem}"
        self.record_failure(operation, message)
        return TransportError(message, exchange)

    def _send_once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | str | None,
        operation: str | None,
        body_shell: str | None,
        identity: Credentials,
        *,
        refusable_upload: bool = False,
    ) -> Reply:
        exchange = self._begin(method, url, headers, data, operation, body_shell, identity)
        started = time.monotonic()
        with self._lock:
            self.stats.requests += 1
        response: requests.Response | None = None
        problem = None
        try:
            response = self._session.request(
                method, url, headers=headers, data=data, timeout=self.profile.timeout, allow_redirects=False
            )
        except requests.RequestException as error:
            response, problem = error.response, unanswered_because(error, self.profile.timeout)
            if refusable_upload and response is None and _closed(error):
                exchange.error = f"the target closed the connection during the upload: {problem}"
                self._count(operation, None)
                raise UploadRefused(f"{method} {exchange.url}: {exchange.error}", exchange) from error
        exchange.elapsed_ms = (time.monotonic() - started) * 1000
        if response is not None:
            exchange.status = response.status_code
            exchange.response_headers = {name: self.redact(value) for name, value in response.headers.items()}
            text = response.content.decode("utf-8", errors="replace")
            exchange.response_body = clip(self.redact(text)) if text else None
        if problem is not None or response is None:
            self._count(operation, None)
            raise self._failed(operation, exchange, problem or "no answer")
        with self._lock:
            self._in_a_row = 0
        self._count(operation, response.status_code)
        return Reply(response.status_code, response.headers, response.content, exchange, operation, identity)

    def _begin(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | str | None,
        operation: str | None,
        body_shell: str | None,
        identity: Credentials,
    ) -> Exchange:
        """Everything before a request goes out: its evidence (`_exchange`), the run's rate limit, and, for a
        write, the journal entry (an answer may never come, and the sweep must know what was sent)."""
        exchange = self._exchange(method, url, headers, data, operation, body_shell)
        self._limiter.wait()
        if method.upper() not in SAFE_METHODS:
            self.intend(operation, data, identity, exchange)
        return exchange

    def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | str | None,
        operation: str | None,
        body_shell: str | None,
    ) -> Exchange:
        """The redacted evidence of a request about to be sent; TransportError if its operation is no longer
        sent (`refusal`)."""
        exchange = Exchange(
            method=method,
            url=self.redact(url),
            request_headers={name: self.redact(value) for name, value in headers.items()},
            **body_fields(data.encode("utf-8") if isinstance(data, str) else data, self.redact),
            body_shell=body_shell,
            request_bytes=len(data) if data is not None else None,
        )
        refusal = self.refusal(operation)
        if refusal is not None:
            exchange.error = refusal
            raise TransportError(f"{method} {exchange.url}: {refusal}", exchange)
        return exchange

    def _count(self, operation: str | None, status: int | None) -> None:
        with self._lock:
            key = (operation or "other", status)
            self.stats.by_operation[key] = self.stats.by_operation.get(key, 0) + 1


def page_values(reply: Reply) -> list[dict[str, Any]] | None:
    """The records on one list page, or None when the answer is not a 200 with a `values` list."""
    body = reply.json_or_none()
    values = body.get("values") if isinstance(body, dict) else None
    if reply.status != 200 or not isinstance(values, list):
        return None
    return [item for item in values if isinstance(item, dict)]


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


def _closed(error: requests.RequestException) -> bool:
    """Whether the target closed or reset the connection (not a timeout, a refused connect or a bad answer)."""
    return (
        isinstance(error, requests.ConnectionError)
        and not isinstance(error, requests.Timeout)
        and not isinstance(error, requests.exceptions.ChunkedEncodingError)
        and "refused" not in str(error).lower()
    )


def unanswered_because(error: requests.RequestException, timeout: float) -> str:
    """Why a request got no answer the checker can judge, in one line, from what requests raised."""
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
