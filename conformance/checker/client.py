"""The target client: every request the checker's own suites send goes through here.

It signs requests with an identity's keys, sends them by the run's one transport policy (`transport`: the
rate limit, 429s waited out, no redirect followed (one must not carry the keys elsewhere), answers capped in
size and time, redacted evidence), and hands every answer to the observers (the checks that hold for every
response, e.g. HTTP-01 no 5xx).

A request that gets no answer the checker can judge raises `TransportError`; after `GIVE_UP_AFTER` of them in
a row for one operation the client stops sending that operation (hangs cost a timeout each, so a target that hangs
on one operation costs a few timeouts, not one per request), and the rest of the run goes on. Schemathesis's
sessions send by the same policy (`TargetClient.transport`).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from requests.structures import CaseInsensitiveDict

from conformance.checker.evidence import Exchange
from conformance.checker.profile import Credentials, TargetProfile
from conformance.checker.raw_request import RawRequest, send_raw
from conformance.checker.silence import Silence
from conformance.checker.transport import (
    MAX_ANSWER_BYTES,
    SAFE_METHODS,
    SENT_AS,
    ClientStats,
    TransportPolicy,
    closed_by_target,
    raise_if_interrupted,
    resume,
    unanswered_because,
)
from conformance.contract import json_text
from conformance.contract.facts import CONTRACT, MAX_LIST_LIMIT

GIVE_UP_AFTER = 3  # requests in a row to one operation without a usable answer, after which it is not sent
OTHER = "other"  # the operation key of a request outside the spec
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
            self._parsed = json_text.loads(self.body.decode("utf-8"))
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


class TargetClient:
    """Sends requests to the target as one of the profile's identities."""

    def __init__(self, profile: TargetProfile, *, deadline: float | None = None, read_only: bool = False) -> None:
        self.profile = profile
        self.read_only = read_only  # refuse every request that is not a safe method (WriteRefused)
        self.transport = TransportPolicy(profile, deadline=deadline)  # the run's, for every engine's requests
        self.redact = self.transport.redact
        self.stats: ClientStats = self.transport.stats
        self.observers: list[Observer] = []
        self.intents: list[Intent] = []
        self.deadline = deadline  # time.monotonic() after which 429 waits are cut short
        self._session = self.transport.mount(requests.Session())
        self._lock = threading.Lock()
        self.silenced: dict[str, str] = {}  # operation -> its last failure, after which it is no longer sent
        self._failures: Counter[str] = Counter()  # operation -> requests without a usable answer
        self.silence = Silence()  # whether the target as a whole has stopped answering
        self._first_failure: str | None = None

    def close(self) -> None:
        self._session.close()

    # The five operations, named as in the spec.
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
        reply = self._send(
            method, url, sent_headers, data, operation, body_shell, identity, refusable_upload=refusable_upload
        )
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
        SENT_AS.set(None)  # until it takes its place in flight
        try:
            # A raw request goes around requests' adapter: it takes its place in flight and its turn here.
            with self.transport.in_flight(), self.transport.turn():
                answer = send_raw(self.profile.base_url, request, self.profile.timeout, MAX_ANSWER_BYTES)
        except TimeoutError:
            exchange.elapsed_ms = (time.monotonic() - started) * 1000
            raise self._failed(operation, exchange, f"no answer within {self.profile.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as error:
            exchange.error = f"no answer: {type(error).__name__}: {error}"[:200]
            self.silence.neither(SENT_AS.get())
            raise TransportError(f"{request.method} {exchange.url}: {exchange.error}", exchange) from None
        finally:
            exchange.elapsed_ms = (time.monotonic() - started) * 1000
        self.transport.answer_evidence(exchange, answer.status, dict(answer.headers), answer.body, exchange.elapsed_ms)
        self.silence.answered(SENT_AS.get())
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
        """Count and observe an answer that another HTTP stack got from the target (Schemathesis's, sent by
        this client's `transport`, which counted the request), so that every answer of a run is judged by the
        same observers, and its creates reach the ledger."""
        self._answered(reply.operation)
        self._count(reply.operation, reply.status)
        self.observe(reply)

    def refusal(self, operation: str | None) -> str | None:
        """Why requests to this operation are no longer sent, or None while they are."""
        with self._lock:
            last = self.silenced.get(operation or OTHER)
        if last is None:
            return None
        times = f"{GIVE_UP_AFTER} times in a row"
        return f"not sent: {operation or OTHER} requests got no usable answer {times}, the last: {last}"

    def _answered(self, operation: str | None) -> None:
        """A usable answer to the request this thread sent last (`SENT_AS`): its operation's requests without one,
        in a row, start again from none, and so does the target's silence if it went out after it."""
        self.silence.answered(SENT_AS.get())
        with self._lock:
            self._failures.pop(operation or OTHER, None)

    def record_failure(self, operation: str | None, problem: str) -> None:
        """Count the request this thread sent last (`SENT_AS`) as one that got no usable answer; the
        GIVE_UP_AFTER-th in a row for one operation (no usable answer to it between them) silences it. A target
        that drops one request in five keeps being asked; one that hangs on an operation costs GIVE_UP_AFTER
        timeouts (and those already in flight beside them)."""
        key = operation or OTHER
        self.silence.failed(SENT_AS.get(), key)
        with self._lock:
            self.stats.transport_errors += 1
            self._failures[key] += 1
            self._first_failure = self._first_failure or problem
            if self._failures[key] >= GIVE_UP_AFTER:
                self.silenced.setdefault(key, problem)

    @property
    def stopped_answering(self) -> bool:
        """Whether the target as a whole has stopped answering (`silence`)."""
        return self.silence.stopped_answering

    def resume_all(self) -> None:
        """Send every operation again, after failures or an interrupt: the cleanup must try its deletes."""
        resume()
        with self._lock:
            self.silenced.clear()
            self._failures.clear()
        self.silence.forget()

    def notes(self) -> list[str]:
        """What the report should say about how the target answered: requests it left without a usable answer,
        operations the checker stopped sending, 429s waited out."""
        lines = []
        if self.stats.transport_errors:
            lines.append(
                f"{self.stats.transport_errors} request(s) got no usable answer; the first: {self._first_failure}"
            )
        lines += [
            f"stopped sending {operation} after {GIVE_UP_AFTER} requests in a row without a usable answer; "
            f"the last: {last}"
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

    def _send(
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
        """One request by the transport policy (429s waited out there); the answer, or TransportError."""
        exchange = self._begin(method, url, headers, data, operation, body_shell, identity)
        started = time.monotonic()
        response: requests.Response | None = None
        problem = None
        SENT_AS.set(None)  # until it takes its place in flight
        try:
            response = self._session.request(
                method, url, headers=headers, data=data, timeout=self.profile.timeout, allow_redirects=False
            )
        except requests.RequestException as error:
            response, problem = error.response, unanswered_because(error, self.profile.timeout)
            if refusable_upload and response is None and closed_by_target(error):
                exchange.error = f"the target closed the connection during the upload: {problem}"
                self.silence.neither(SENT_AS.get())
                self._count(operation, None)
                raise UploadRefused(f"{method} {exchange.url}: {exchange.error}", exchange) from error
        elapsed_ms = (time.monotonic() - started) * 1000
        exchange.elapsed_ms = elapsed_ms
        if response is not None:
            status, content = response.status_code, response.content
            self.transport.answer_evidence(exchange, status, response.headers, content, elapsed_ms)
        if problem is not None or response is None:
            self._count(operation, None)
            raise self._failed(operation, exchange, problem or "no answer")
        self._answered(operation)
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
        """Everything before a request goes out: its redacted evidence, and, for a write, the journal entry (an
        answer may never come, and the sweep must know what was sent); TransportError if its operation is no
        longer sent (`refusal`). Its turn of the rate limit it takes as it goes out (`transport`)."""
        exchange = self.transport.request_evidence(method, url, headers, data, body_shell)
        refusal = self.refusal(operation)
        if refusal is not None:
            exchange.error = refusal
            raise TransportError(f"{method} {exchange.url}: {refusal}", exchange)
        if method.upper() not in SAFE_METHODS:
            self.intend(operation, data, identity, exchange)
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


