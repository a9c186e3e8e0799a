"""Raw requests (`TargetClient.call_raw`): sent exactly as written, signed, recorded as redacted evidence,
judged by the observers like any request, and a dropped one is the caller's to judge, not a run failure."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from conformance.checker.client import Reply, TargetClient, TransportError
from conformance.checker.profile import TargetProfile
from conformance.checker.raw_request import RawRequest, request_bytes
from conformance.contract.facts import COLLECTION_PATH
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY


def test_request_bytes_are_as_written_and_leave_host_out_when_asked() -> None:
    sent = request_bytes("h:1", "/base", RawRequest("GET", "/x?start=%zz", (("Bad Header", "1"),), host=False))

    assert sent.startswith(b"GET /base/x?start=%zz HTTP/1.1\r\n")
    assert b"Host:" not in sent
    assert b"\r\nBad Header: 1\r\n" in sent


def test_a_raw_request_is_signed_observed_and_recorded_without_keys(reference_server) -> None:
    profile = TargetProfile(reference_server.base_url, DEMO_PARTNER_KEY, DEMO_DEVELOPER_KEY, timeout=5)
    client = TargetClient(profile)
    observed: list[Reply] = []
    client.observers.append(observed.append)

    reply = client.call_raw(RawRequest("GET", f"{COLLECTION_PATH}?start=%zz", host=False), api_call=False)

    assert reply.status == 400  # signed: the keys were accepted, the bad escape was not
    assert observed == [reply] and reply.api_call is False
    evidence = str(reply.exchange.to_dict())
    assert "%zz" in reply.exchange.url
    assert DEMO_PARTNER_KEY not in evidence and DEMO_DEVELOPER_KEY not in evidence
    assert " -H Host: -H " in reply.exchange.curl()  # `Host:` leaves it out; curl would send `Host: ` empty
    assert client.stats.requests == 1


@pytest.fixture
def closing_server() -> Iterator[str]:
    """A server that accepts a connection and closes it without an answer."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_dropped_raw_request_raises_without_counting_against_the_run(closing_server) -> None:
    client = TargetClient(TargetProfile(closing_server, "p", "d", timeout=5))

    with pytest.raises(TransportError) as raised:
        client.call_raw(RawRequest("CONNECT", COLLECTION_PATH), api_call=False)

    assert raised.value.exchange.error
    assert client.stats.transport_errors == 0 and not client.stopped_answering
