"""The latency benchmark's delay proxy passes every byte on, in order, both ways, and passes a half-close on."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from delay_proxy import DelayProxy


@pytest.fixture
def echo_server():
    """A TCP server that sends back everything it reads, then closes when its client half-closes."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def test_every_byte_comes_back_in_order_through_the_proxy(echo_server: int) -> None:
    payload = bytes(range(256)) * 2048  # 512 KiB: many chunks, each scheduled on its own
    with DelayProxy("127.0.0.1", echo_server, rtt_seconds=0.01) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as client:
            sender = threading.Thread(target=lambda: (client.sendall(payload), client.shutdown(socket.SHUT_WR)))
            sender.start()
            received = bytearray()
            while chunk := client.recv(65536):
                received += chunk
            sender.join()
        assert proxy.connections == 1
    assert bytes(received) == payload  # and the loop ended: the half-close travelled to the server and back
