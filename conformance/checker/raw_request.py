"""Requests that an HTTP library will not send as written: no `Host`, `CONNECT` to a path, an invalid
percent-escape (`%zz`) or a dot segment in the path, a header name with a space.

`requests` (through urllib3) adds a `Host`, re-encodes `%zz` as `%25zz`, resolves `..` and refuses odd header
names, so these go out over a plain socket, one connection each (`Connection: close`). `TargetClient.call_raw`
signs them, keeps them to the rate limit, records them as redacted evidence and hands the answer to the
observers like every other request; this module only writes the bytes and reads the answer, on a socket that an
interrupt cuts like every other request's (`transport.interrupt`).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.checker.transport import carrying_a_request


@dataclass(frozen=True)
class RawRequest:
    """One request as it goes on the wire. `target` is the request-target after the base URL's path, sent
    exactly as given; `host=False` leaves the `Host` header out; a `Content-Length` is added for a body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    host: bool = True


@dataclass(frozen=True)
class RawAnswer:
    """The answer to a raw request: status, headers (in order, names as sent) and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def send_raw(base_url: str, request: RawRequest, timeout: float, max_body: int) -> RawAnswer:
    """Send one raw request to the target at `base_url` and read its answer (at most `max_body` bytes of the
    body). OSError or http.client.HTTPException when there is no answer to read."""
    parts = urlsplit(base_url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    host = parts.hostname or ""
    connection = socket.create_connection((host, port), timeout=timeout)
    try:
        if secure:
            with carrying_a_request(connection):  # a handshake that hangs is cut too
                connection = ssl.create_default_context().wrap_socket(connection, server_hostname=host)
        with carrying_a_request(connection):
            # A server may answer and close before it has read the whole request: read what it said.
            with contextlib.suppress(OSError):
                connection.sendall(request_bytes(parts.netloc, parts.path.rstrip("/"), request))
            response = http.client.HTTPResponse(connection, method=request.method)
            response.begin()
            body = response.read(max_body + 1)
        return RawAnswer(response.status, list(response.getheaders()), body)
    finally:
        connection.close()


def request_bytes(netloc: str, prefix: str, request: RawRequest) -> bytes:
    """The request's bytes: request line, headers, blank line, body."""
    lines = [f"{request.method} {prefix}{request.target} HTTP/1.1"]
    if request.host:
        lines.append(f"Host: {netloc}")
    lines += [f"{name}: {value}" for name, value in request.headers]
    if request.body or request.method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(request.body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body
