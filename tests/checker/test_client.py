"""The target client keeps to the rate limit, waits out 429s, and never follows a redirect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from conformance.checker.client import RateLimiter, TargetClient, item_path
from conformance.checker.profile import TargetProfile


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
        limiter.wait()
    assert time.monotonic() - started >= 5 / 50 * 0.95


def test_item_path_encodes_every_reserved_character_and_dot_ids() -> None:
    assert item_path("a/b c") == "/api/v1/partner/webHooks/a%2Fb%20c"
    assert item_path("..") == "/api/v1/partner/webHooks/%2E%2E"
