"""The reference server's HTTP plumbing: a threaded stdlib HTTP/1.1 server with keep-alive.

What the stdlib does not do for us, and why it matters to a conformance target:
- it answers 501 (a 5xx) for a method without a ``do_X``: every method is dispatched here instead;
- it answers protocol errors with HTML, some with a 5xx (505): ``send_error`` answers JSON 400 instead;
- a handler that answers early without reading the body leaves it on the keep-alive connection, where it is
  read as the next request: every body is read before the request is dispatched, and a connection whose
  body is not read (oversize, bad framing) is closed.
"""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from conformance.reference.api import MAX_BODY_BYTES, Reply, WebHooksApi
from conformance.reference.errors import ApiError, PlantedDrop
from conformance.reference.keys import Keys

_MAX_LINE = 65536
_MAX_EMPTY_LINES = 4  # RFC 9112 2.2: empty lines before a request line are skipped
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_LINGER_SECONDS = 1.0
EARLY_RECEIVE_BUFFER = 16 * 1024  # bytes: with reject_oversize_early, what the kernel takes in before the server reads
_PROTOCOL_ERRORS = {
    414: "the request line is too long",
    431: "the request headers are too large or too many",
    505: "the HTTP version is not supported",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The stdlib's default, HTTP/0.9, would answer a garbled request line with a bare body and no status.
    default_request_version = "HTTP/1.0"
    server_version = "partner-webhooks-reference"
    timeout = 30  # an idle keep-alive connection is closed after this many seconds
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the client's
    # delayed ACK, 40 ms per keep-alive request.
    disable_nagle_algorithm = True
    server: ReferenceHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def handle_one_request(self) -> None:
        """Read one request, answer it; like the stdlib's, but every method is dispatched to the API."""
        try:
            self.raw_requestline = self._request_line()
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > _MAX_LINE:
                self.requestline, self.command, self.request_version = "", None, self.default_request_version
                self.send_error(414)
                return
            if not self.parse_request():  # it has answered through send_error
                return
            body = self._read_body()
            if body is None:  # already answered, or the client went away
                return
            self._send(self.server.api.handle(self.command, self.path, self.headers, body))
            self.wfile.flush()
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        except PlantedDrop:  # a planted fault: the request acted, and the connection closes without an answer
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _request_line(self) -> bytes:
        line = b""
        for _ in range(_MAX_EMPTY_LINES):
            line = self.rfile.readline(_MAX_LINE + 1)
            if line not in (b"\r\n", b"\n"):
                break
        return line

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A protocol-level failure found by the stdlib (request line, headers, version): JSON 400, never a
        5xx, and the connection is closed because the request's framing cannot be trusted."""
        self.close_connection = True
        text = _PROTOCOL_ERRORS.get(code, "the request is malformed")
        self._send(self.server.api.error_reply(ApiError(400, text)))

    def handle_expect_100(self) -> bool:
        """Invite only a body that will be read: an oversize one gets its 413 instead of 100 Continue."""
        length = self.headers.get("Content-Length", "").strip()
        if _CONTENT_LENGTH.fullmatch(length) and int(length) > self.server.api.body_limit(self.command):
            return True
        return super().handle_expect_100()

    # -- the body -----------------------------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        """The whole request body (Content-Length or chunked); None after refusing it or losing the client."""
        limit = self.server.api.body_limit(self.command)
        encodings = self.headers.get_all("Transfer-Encoding") or []
        lengths = self.headers.get_all("Content-Length") or []
        if encodings:
            # Both headers at once is how requests are smuggled; any coding but chunked we cannot decode.
            if lengths or [e.strip().lower() for e in encodings] != ["chunked"]:
                return self._refuse(400, "unsupported Transfer-Encoding")
            return self._read_chunked(limit)
        if not lengths:
            return b""
        values = {value.strip() for value in lengths}
        length_text = values.pop()
        if values or not _CONTENT_LENGTH.fullmatch(length_text):
            return self._refuse(400, "invalid Content-Length")
        length = int(length_text)
        if length > limit:
            return self._refuse(413, f"request body exceeds {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def _read_chunked(self, limit: int) -> bytes | None:
        body = bytearray()
        while True:
            line = self.rfile.readline(_MAX_LINE + 1)
            size_text = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not _CHUNK_SIZE.fullmatch(size_text):
                return self._refuse(400, "malformed chunked body")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > limit:
                return self._refuse(413, f"request body exceeds {MAX_BODY_BYTES} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                self.close_connection = True
                return None
            body += chunk
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                return self._refuse(400, "malformed chunked body")
        for _ in range(100):  # the trailer section, which we ignore, ends with an empty line
            if self.rfile.readline(_MAX_LINE + 1) in (b"\r\n", b"\n", b""):
                return bytes(body)
        return self._refuse(400, "malformed chunked body")

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request whose body will not be read, then close the connection."""
        self.close_connection = True
        error_type = "PAYLOAD_TOO_LARGE" if status == 413 else "BAD_REQUEST"
        self._send(self.server.api.error_reply(ApiError(status, message, error_type=error_type)))
        if status == 413 and self.server.reject_oversize_early:
            self.wfile.flush()  # and close at once, the body unread: the client may lose the answer to a reset
            return
        self._linger()

    def _linger(self) -> None:
        """Stop sending, then drop whatever the client is still sending for a moment before closing: closing
        a socket with unread input resets the connection, and the client would lose the answer."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_LINGER_SECONDS)
            deadline = time.monotonic() + _LINGER_SECONDS
            while time.monotonic() < deadline and self.connection.recv(65536):
                pass
        except OSError:
            pass

    # -- the answer ---------------------------------------------------------------------------------------

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.content_type is not None:
            self.send_header("Content-Type", reply.content_type)
        if reply.status != 204:
            self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":
            self.send_header("Connection", "keep-alive")
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has headers only, or the connection would desync
            self.wfile.write(reply.body)

    def version_string(self) -> str:
        return self.server_version  # the stdlib appends the Python version; a target should not reveal it

    def log_message(self, format: str, *args: object) -> None:
        if self.server.access_log:
            super().log_message(format, *args)


class ReferenceHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that serves a ``WebHooksApi`` and can close its open connections on stop."""

    daemon_threads = True
    request_queue_size = 128  # concurrent clients connect in bursts

    def __init__(
        self,
        address: tuple[str, int],
        api: WebHooksApi,
        *,
        access_log: bool = False,
        reject_oversize_early: bool = False,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.api = api
        self.access_log = access_log
        # Answer 413 to an oversize body from its headers alone and close the connection without reading it,
        # as many servers and proxies do (the default reads on for a moment so that the answer arrives).
        self.reject_oversize_early = reject_oversize_early
        self._connections: set[socket.socket] = set()
        self._connections_changed = threading.Condition()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        if self.reject_oversize_early:  # a small window, as over a real network: the client is still uploading
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, EARLY_RECEIVE_BUFFER)
        # HTTPServer.server_bind looks up the host's FQDN, a DNS query that can take seconds; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def track(self, connection: socket.socket) -> None:
        with self._connections_changed:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_changed:
            self._connections.discard(connection)
            self._connections_changed.notify_all()

    def close_connections(self, timeout: float) -> None:
        """Shut down every open connection (idle keep-alive ones too) and wait for their handlers to end."""
        with self._connections_changed:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections_changed.wait_for(lambda: not self._connections, timeout)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that went away mid-answer is not the server's error; anything else is a bug.
        if isinstance(sys.exc_info()[1], OSError):
            return
        self.api.unexpected_errors.append(traceback.format_exc())
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class RunningServer:
    """A reference server serving in a background thread. ``stop()``, or leaving a ``with`` block, shuts it
    down: the listening socket, open connections and the database are closed."""

    def __init__(self, httpd: ReferenceHTTPServer) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="reference-server", daemon=True
        )
        self._stopped = False
        self._thread.start()

    @property
    def api(self) -> WebHooksApi:
        """The served API (its store, keys and fault)."""
        return self._httpd.api

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        """The port the server listens on (the one the OS chose for port 0)."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``, with IPv6 hosts in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def fault(self) -> str | None:
        """The planted fault, or None for the clean server."""
        return self.api.fault

    @property
    def keys(self) -> Keys:
        """The keys the server accepts."""
        return self.api.keys

    @property
    def unexpected_errors(self) -> list[str]:
        """Tracebacks of exceptions the server did not expect (a bug in it); empty for a healthy server."""
        return self.api.unexpected_errors

    def stop(self) -> None:
        """Stop serving and close the socket, every open connection and the database; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        # Shutting the listening socket down wakes the accept loop at once, instead of at its next poll.
        with contextlib.suppress(OSError):
            self._httpd.socket.shutdown(socket.SHUT_RDWR)
        self._httpd.shutdown()
        self._thread.join()
        self._httpd.server_close()
        self._httpd.close_connections(timeout=2.0)
        self.api.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def start_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    db: str = ":memory:",
    keys: Keys | None = None,
    fault: str | None = None,
    partner_key_header: str = "x-api-key",
    access_log: bool = False,
    reject_oversize_early: bool = False,
) -> RunningServer:
    """Start a reference server in a background thread and return it once it accepts connections.

    ``port=0`` lets the OS choose a free port (see ``.port`` / ``.base_url``). ``db`` is ``":memory:"`` or
    a SQLite file that survives restarts. ``keys`` defaults to ``Keys.demo()``. ``fault`` plants one defect
    from ``faults.FAULTS``: an unknown name raises ``ValueError``. ``reject_oversize_early`` answers an
    oversize body 413 before reading it and closes the connection at once (a conformant behaviour that
    clients must cope with). ``OSError`` if the port cannot be bound.
    """
    if not partner_key_header:
        raise ValueError("the partner key header name must not be empty")
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is not between 0 and 65535")
    api = WebHooksApi(db=db, keys=keys, fault=fault, partner_key_header=partner_key_header)
    try:
        httpd = ReferenceHTTPServer(
            (host, port), api, access_log=access_log, reject_oversize_early=reject_oversize_early
        )
    except BaseException:
        api.close()
        raise
    return RunningServer(httpd)
