"""A loopback TCP proxy that delays every byte by a fixed time each way: a server "in another region".

Each chunk read from one side is written to the other `delay` seconds later, in order, so a request that
fits in one segment costs one round trip of `2 * delay` more, and a client that keeps several requests in
flight (several connections) pays the delay once for all of them, as across a real network. Bandwidth is
not limited: the checkers under test send small requests. Pure Python (asyncio), no root, no tc/netem.

    .venv/bin/python benchmarks/delay_proxy.py --upstream 127.0.0.1:8080 --rtt-ms 50   # prints its URL
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from dataclasses import dataclass, field

CHUNK = 65536


@dataclass
class DelayProxy:
    """Listens on 127.0.0.1 (a free port), forwards to `upstream_host:upstream_port` with `rtt / 2` each way.

    `start()` runs it on its own event-loop thread and returns the port; `stop()` closes everything."""

    upstream_host: str
    upstream_port: int
    rtt_seconds: float
    port: int = 0
    connections: int = 0  # accepted so far: how many connections the client under test opened
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _server: asyncio.base_events.Server | None = None

    @property
    def one_way(self) -> float:
        return self.rtt_seconds / 2

    def start(self) -> int:
        self._thread = threading.Thread(target=self._serve, name="delay-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the delay proxy did not start")
        return self.port

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DelayProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _shutdown(self) -> None:
        """Stop accepting, end every connection still open, then the loop."""
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        asyncio.get_running_loop().stop()

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", self.port))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self._loop.close()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                self._pump(client_reader, upstream_writer),
                self._pump(upstream_reader, client_writer),
                return_exceptions=True,
            )
            await asyncio.sleep(self.one_way)  # what is still scheduled to leave leaves first
        except asyncio.CancelledError:
            pass  # the proxy is stopping: end quietly (asyncio reports a cancelled connection task)
        for writer in (client_writer, upstream_writer):
            writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction, each chunk `one_way` after it arrived; end-of-stream travels with the same delay.

        Chunks are scheduled at increasing times with the same delay, so they leave in the order they came."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await reader.read(CHUNK)
            except (ConnectionError, OSError):
                data = b""
            if not data:
                loop.call_later(self.one_way, _close_write, writer)
                return
            loop.call_later(self.one_way, _write, writer, data)


def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    if not writer.is_closing():
        writer.write(data)


def _close_write(writer: asyncio.StreamWriter) -> None:
    """Pass the half-close on (a client that shut its side down still reads the answer), else close."""
    if writer.is_closing():
        return
    try:
        if writer.can_write_eof():
            writer.write_eof()
            return
    except (OSError, RuntimeError):
        pass
    writer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the server to put at a distance")
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round trip to add, in milliseconds (50)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    proxy = DelayProxy(host or "127.0.0.1", int(port), args.rtt_ms / 1000, port=args.port)
    proxy.start()
    print(f"delaying {args.rtt_ms:g} ms round trip on http://127.0.0.1:{proxy.port} -> {args.upstream}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
