"""A hostile target: the reference server behind a proxy that misbehaves on the requests a test chooses.

`HostileServer(behaviour, upstream=...)` listens on a free loopback port. For every request it asks
`behaviour(request)` what to do: `None` forwards the request to the upstream (a reference server) and
relays its answer unchanged; an `Action` misbehaves instead. So "on some operations only" and "on some
requests only" are real: everything the behaviour leaves alone is a correct API.

    proxy = HostileServer(on({"getWebHook"}, Hang(5)), upstream=reference.base_url)
    proxy = HostileServer(lambda request: Drop() if request.number % 5 == 0 else None, upstream=reference.base_url)
    elsewhere = HostileServer(lambda request: Answer(200, b"{}"), host="127.0.0.2")  # records what it gets

Every request the proxy received is kept in `requests`, with its headers, for assertions.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Container
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

COLLECTION_PATH = "/api/v1/partner/webHooks"
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade"})
HTML_PAGE = b"<!doctype html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>"


@dataclass(frozen=True)
class Request:
    """One request the proxy received; `number` counts from 1 in arrival order."""

    number: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float = 0.0  # time.monotonic() when the proxy read it

    @property
    def operation(self) -> str | None:
        """The spec's operationId this request addresses, or None for anything else."""
        path = urlsplit(self.path).path
        if path == COLLECTION_PATH:
            return {"GET": "listWebHooks", "POST": "createWebHook"}.get(self.method)
        if path.startswith(COLLECTION_PATH + "/") and "/" not in path[len(COLLECTION_PATH) + 1 :]:
            return {"GET": "getWebHook", "PUT": "updateWebHook", "DELETE": "deleteWebHook"}.get(self.method)
        return None


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, as the upstream gave it or as an action makes it up."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def with_header(self, name: str, value: str) -> Answer:
        kept = {key: item for key, item in self.headers.items() if key.lower() != name.lower()}
        return replace(self, headers={**kept, name: value})

    def perform(self, handler: _Handler, request: Request) -> None:
        handler.answer(self)


class Forward:
    """Relay the request to the upstream and its answer back (what `None` from a behaviour does)."""

    def perform(self, handler: _Handler, request: Request) -> None:
        handler.answer(handler.server.forward(request))


@dataclass(frozen=True)
class Rewrite:
    """Forward, then change the answer before relaying it (cut its body, lie about its type, ...)."""

    change: Callable[[Answer], Answer]

    def perform(self, handler: _Handler, request: Request) -> None:
        handler.answer(self.change(handler.server.forward(request)))


@dataclass(frozen=True)
class Hang:
    """Read the request, say nothing for `seconds`, then close the connection."""

    seconds: float

    def perform(self, handler: _Handler, request: Request) -> None:
        handler.server.stopping.wait(self.seconds)
        handler.drop()


class Drop:
    """Close the connection without an answer."""

    def perform(self, handler: _Handler, request: Request) -> None:
        handler.drop()


class CutOff:
    """Forward, announce the whole body's length, send half of it and close the connection."""

    def perform(self, handler: _Handler, request: Request) -> None:
        answer = handler.server.forward(request)
        handler.answer(answer, send=len(answer.body) // 2)
        handler.drop()


@dataclass(frozen=True)
class Huge:
    """A 200 with a valid JSON array of `size` bytes, sent chunked (no length announced: a reader learns the size
    only by reading) in pieces, so that the proxy never holds it."""

    size: int
    piece: int = 1 << 20

    def perform(self, handler: _Handler, request: Request) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        filler, left = b"0," * (self.piece // 2), (self.size - 3) // 2 * 2  # "[" + "0," * n + "0]"
        try:
            handler.wfile.write(_chunk(b"["))
            for written in range(0, left, len(filler)):
                handler.wfile.write(_chunk(filler[: left - written]))
            handler.wfile.write(_chunk(b"0]") + _chunk(b""))
        except OSError:
            pass  # the reader stopped reading, which is what a capped client does
        handler.close_connection = True


@dataclass(frozen=True)
class Trickle:
    """A 200 whose body comes a byte every `interval` seconds, each well within a read timeout, never ending."""

    interval: float

    def perform(self, handler: _Handler, request: Request) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        try:
            while not handler.server.stopping.wait(self.interval):
                handler.wfile.write(b" ")
                handler.wfile.flush()
        except OSError:
            pass  # the reader gave up
        handler.close_connection = True


def _chunk(data: bytes) -> bytes:
    """One piece of a chunked body (an empty one ends the body)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


Action = Answer | Forward | Rewrite | Hang | Drop | CutOff | Huge | Trickle
Behaviour = Callable[[Request], Action | None]


def on(operations: Container[str | None], action: Action) -> Behaviour:
    """Misbehave on these operations (None: requests outside the spec), forward the rest."""
    return lambda request: action if request.operation in operations else None


def always(action: Action) -> Behaviour:
    """Misbehave on every request."""
    return lambda request: action


class HostileServer(ThreadingHTTPServer):
    """The proxy, serving in a background thread from construction until `stop()`."""

    daemon_threads = True

    def __init__(self, behaviour: Behaviour, upstream: str | None = None, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), _Handler)
        self.behaviour = behaviour
        self.upstream = urlsplit(upstream) if upstream else None
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, a DNS query that can take seconds; skip it.
        socketserver.TCPServer.server_bind(self)

    def receive(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Request:
        with self._lock:
            request = Request(len(self.requests) + 1, method, path, headers, body, time.monotonic())
            self.requests.append(request)
        return request

    def forward(self, request: Request) -> Answer:
        """The upstream's answer to the request."""
        if self.upstream is None:
            raise RuntimeError("this hostile server has no upstream to forward to")
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            headers = {name: value for name, value in request.headers.items() if name.lower() not in HOP_BY_HOP}
            connection.request(request.method, request.path, body=request.body or None, headers=headers)
            response = connection.getresponse()
            body = response.read()
            kept = {name: value for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP}
            if request.method == "HEAD" and response.getheader("Content-Length"):
                kept["Content-Length"] = response.getheader("Content-Length", "0")
            return Answer(response.status, body, kept)
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop serving; requests still hanging give up at once."""
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait for a delayed ACK
    server: HostileServer

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every method, PATCH and made-up ones too, goes to the behaviour
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = self.server.receive(self.command, self.path, dict(self.headers.items()), body)
        action = self.server.behaviour(request) or Forward()
        action.perform(self, request)

    def answer(self, answer: Answer, send: int | None = None) -> None:
        """Write an answer; `send` bytes of its body only, if given (the length header still says all)."""
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            if name.lower() != "content-length" or self.command == "HEAD":
                self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body[:send])
        self.wfile.flush()

    def drop(self) -> None:
        """Close the connection, answered or not."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass
