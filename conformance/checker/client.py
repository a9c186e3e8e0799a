"""The target client: every request the checker's own suites send goes through here.

It signs requests with an identity's keys, keeps to the rate limit, waits out 429s, never follows a
redirect (a redirect must not carry the keys elsewhere), caps how much of a body it reads, records each
exchange as redacted evidence, and hands every answer to the observers (the checks that hold for every
response, e.g. HTTP-01 no 5xx).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import requests
from requests.structures import CaseInsensitiveDict

from conformance.checker.evidence import Exchange, Redactor, clip
from conformance.checker.profile import Credentials, TargetProfile

COLLECTION_PATH = "/api/v1/partner/webHooks"
MAX_BODY_BYTES = 8 * 1024 * 1024  # read no more of one answer than this
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After is capped (and the run's time budget still holds)
MAX_429_RETRIES = 5
_UNSET: Any = object()


class TransportError(Exception):
    """The target gave no HTTP answer: refused, reset, timed out, or not HTTP at all."""

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
    truncated: bool = False
    _parsed: Any = field(default=_UNSET, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The parsed JSON body; ValueError when it does not parse (or was cut off)."""
        if self._parsed is _UNSET:
            if self.truncated:
                raise ValueError(f"body larger than {MAX_BODY_BYTES} bytes was cut off")
            self._parsed = json.loads(self.body.decode("utf-8"))
        return self._parsed

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


Observer = Callable[[Reply], None]


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
    by_operation: dict[tuple[str, int | None], int] = field(default_factory=dict)


class TargetClient:
    """Sends requests to the target as one of the profile's identities."""

    def __init__(self, profile: TargetProfile, *, deadline: float | None = None) -> None:
        self.profile = profile
        self.redact = Redactor(profile.secrets())
        self.stats = ClientStats()
        self.observers: list[Observer] = []
        self.deadline = deadline  # time.monotonic() after which 429 waits are cut short
        self._limiter = RateLimiter(profile.rate_limit)
        self._session = requests.Session()
        self._session.trust_env = False  # never send a user's proxy settings or netrc credentials along
        self._lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    # The five operations, named as in the spec.
    def create(self, body: Any, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call("POST", COLLECTION_PATH, json_body=body, identity=identity, operation="createWebHook", **kw)

    def get(self, webhook_id: str, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call("GET", item_path(webhook_id), identity=identity, operation="getWebHook", **kw)

    def update(self, webhook_id: str, body: Any, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call(
            "PUT", item_path(webhook_id), json_body=body, identity=identity, operation="updateWebHook", **kw
        )

    def delete(self, webhook_id: str, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call("DELETE", item_path(webhook_id), identity=identity, operation="deleteWebHook", **kw)

    def list(self, params: dict[str, Any] | None = None, *, identity: Credentials | None = None, **kw: Any) -> Reply:
        return self.call("GET", COLLECTION_PATH, params=params, identity=identity, operation="listWebHooks", **kw)

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
    ) -> Reply:
        """Send one request (retrying after 429) and return the answer; TransportError if there is none.

        `identity` defaults to the primary identity; a Credentials with None drops that header.
        `json_body` is serialised as JSON; `data` is sent as is (with `headers` saying its type).
        """
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
            reply = self._send_once(method, url, sent_headers, data, operation, body_shell, identity)
            if reply.status != 429 or attempt == MAX_429_RETRIES or not self._wait_for_retry(reply, attempt):
                break
        for observe in self.observers:
            observe(reply)
        return reply

    def observe_external(self, reply: Reply) -> None:
        """Count and observe an answer that another HTTP stack got from the target (Schemathesis's), so
        every request of a run is counted, judged by the same observers, and its creates reach the ledger."""
        with self._lock:
            self.stats.requests += 1
        self._count(reply.operation, reply.status)
        for observe in self.observers:
            observe(reply)

    def _wait_for_retry(self, reply: Reply, attempt: int) -> bool:
        """Sleep as the 429 asks (or back off); False when the run's deadline does not leave time."""
        try:
            delay = float(reply.headers.get("Retry-After", ""))
        except ValueError:
            delay = min(2.0**attempt, 8.0)
        delay = max(0.0, min(delay, MAX_RETRY_AFTER))
        if self.deadline is not None and time.monotonic() + delay > self.deadline:
            return False
        with self._lock:
            self.stats.retries_429 += 1
        time.sleep(delay)
        return True

    def _send_once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | str | None,
        operation: str | None,
        body_shell: str | None,
        identity: Credentials,
    ) -> Reply:
        self._limiter.wait()
        body_text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
        exchange = Exchange(
            method=method,
            url=self.redact(url),
            request_headers={name: self.redact(value) for name, value in headers.items()},
            request_body=clip(self.redact(body_text)) if body_text is not None else None,
            full_request_body=self.redact(body_text) if body_text is not None and len(body_text) < 20_000 else None,
            body_shell=body_shell,
        )
        started = time.monotonic()
        with self._lock:
            self.stats.requests += 1
        try:
            response = self._session.request(
                method,
                url,
                headers=headers,
                data=data,
                timeout=self.profile.timeout,
                allow_redirects=False,
                stream=True,
            )
            body, truncated = _read_capped(response, self.profile.timeout, started)
        except requests.Timeout:
            exchange.error = f"no answer within {self.profile.timeout:g} s"
        except requests.ConnectionError as error:
            exchange.error = f"connection failed: {_reason(error)}"
        except requests.RequestException as error:
            exchange.error = f"request failed: {_reason(error)}"
        exchange.elapsed_ms = (time.monotonic() - started) * 1000
        if exchange.error:
            self._count(operation, None)
            raise TransportError(f"{method} {exchange.url}: {exchange.error}", exchange)
        self._count(operation, response.status_code)
        exchange.status = response.status_code
        exchange.response_headers = {name: self.redact(value) for name, value in response.headers.items()}
        exchange.response_body = clip(self.redact(body.decode("utf-8", errors="replace"))) if body else None
        if truncated:
            exchange.response_body = (exchange.response_body or "") + f" [answer cut off at {MAX_BODY_BYTES} bytes]"
        return Reply(response.status_code, response.headers, body, exchange, operation, identity, truncated)

    def _count(self, operation: str | None, status: int | None) -> None:
        with self._lock:
            key = (operation or "other", status)
            self.stats.by_operation[key] = self.stats.by_operation.get(key, 0) + 1


def item_path(webhook_id: str) -> str:
    """The item path for an id, every reserved character percent-encoded (dot-only ids too: a client
    library would otherwise resolve `..` away before sending)."""
    encoded = quote(webhook_id, safe="")
    if set(webhook_id) <= {"."}:
        encoded = encoded.replace(".", "%2E")
    return f"{COLLECTION_PATH}/{encoded}"


def _read_capped(response: requests.Response, timeout: float, started: float) -> tuple[bytes, bool]:
    """Read at most MAX_BODY_BYTES of the body, within the request timeout; (body, was it cut off)."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return b"".join(chunks)[:MAX_BODY_BYTES], True
            if time.monotonic() - started > timeout * 3:
                raise requests.Timeout()
    finally:
        response.close()
    return b"".join(chunks), False


def _reason(error: Exception) -> str:
    """A one-line reason from a requests exception (they nest urllib3's, which nest the socket's)."""
    text = str(error)
    for marker in ("Errno", "Connection refused", "Name or service not known", "Read timed out", "RemoteDisconnected"):
        if marker in text:
            tail = text[text.index(marker) :]
            return tail.split("'))")[0].split(")")[0].strip(" '\"")
    return text.splitlines()[0][:200] if text else type(error).__name__
