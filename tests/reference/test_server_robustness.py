"""The reference server as an HTTP server: keep-alive, framing, garbage, concurrency, persistence, CLI."""

from __future__ import annotations

import http.client
import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from conformance.faces.cli import main
from conformance.reference.api import COLLECTION_PATH, MAX_BODY_BYTES
from conformance.reference.app import RunningServer, start_server
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY

if TYPE_CHECKING:
    from conftest import ApiClient

KEYS = {"x-api-key": DEMO_PARTNER_KEY, "Authorization": DEMO_DEVELOPER_KEY}
VALID_BODY = json.dumps({"webHookUrls": ["https://hooks.example.com/partner/orders"]}).encode()


def exchange(server: RunningServer, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes on a fresh connection; the status, headers (lower-case names) and body of the answer."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def assert_json_error(status: int, headers: dict[str, str], body: bytes) -> None:
    assert 400 <= status < 500
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert isinstance(json.loads(body)["message"], str)


# -- keep-alive: an early answer still consumes the request body ---------------------------------------------

EARLY_ANSWERS = {
    "401 without keys": ("POST", COLLECTION_PATH, {"Content-Type": "application/json"}, 401),
    "405 for PATCH": ("PATCH", COLLECTION_PATH, {**KEYS, "Content-Type": "application/json"}, 405),
    "404 for an unknown path": ("POST", "/nowhere", {**KEYS, "Content-Type": "application/json"}, 404),
    "415 for text/plain": ("POST", COLLECTION_PATH, {**KEYS, "Content-Type": "text/plain"}, 415),
    "400 for a GET with a body": ("GET", COLLECTION_PATH + "?start=x", KEYS, 400),
}


@pytest.mark.parametrize("case", EARLY_ANSWERS.values(), ids=EARLY_ANSWERS.keys())
def test_early_answer_leaves_the_connection_usable(reference_server, case) -> None:
    method, path, headers, status = case
    connection = http.client.HTTPConnection(reference_server.host, reference_server.port, timeout=5)
    try:
        connection.request(method, path, body=VALID_BODY, headers=headers)
        first = connection.getresponse()
        first.read()
        assert first.status == status
        sock = connection.sock
        connection.request(
            "POST", COLLECTION_PATH, body=VALID_BODY, headers={**KEYS, "Content-Type": "application/json"}
        )
        second = connection.getresponse()
        assert second.status == 200, second.read()
        assert connection.sock is sock, "the server closed the keep-alive connection"
    finally:
        connection.close()


def test_session_survives_401_405_and_404_with_bodies(api: ApiClient) -> None:
    assert api.without_keys().post(api.body()).status_code == 401
    assert api.raw("PATCH", COLLECTION_PATH, json=api.body()).status_code == 405
    assert api.raw("POST", COLLECTION_PATH + "x", json=api.body()).status_code == 404
    assert api.post(api.body()).status_code == 200
    assert api.list().json()["total"] == 1


# -- malformed requests get JSON 4xx, never a 5xx -----------------------------------------------------------

GARBAGE = {
    "one word": b"GARBAGE\r\n\r\n",
    "four words": b"GET / HTTP/1.1 extra\r\n\r\n",
    "bad version": b"GET / HTTP/x.y\r\n\r\n",
    "HTTP/2.0 request line": b"GET / HTTP/2.0\r\n\r\n",
    "TLS client hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",
    "request line over 64 KiB": b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
    "header line over 64 KiB": b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
    "over 100 headers": b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(120)) + b"\r\n",
    "HTTP/0.9 GET": b"GET /api/v1/partner/webHooks\r\n\r\n",
    "non-GET HTTP/0.9": b"POST /api/v1/partner/webHooks\r\n\r\n",
}


@pytest.mark.parametrize("raw", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_gets_a_json_4xx(reference_server, raw: bytes) -> None:
    assert_json_error(*exchange(reference_server, raw))


FRAMING = {
    "Content-Length not a number": b"Content-Length: ten\r\n",
    "negative Content-Length": b"Content-Length: -1\r\n",
    "two different Content-Lengths": b"Content-Length: 5\r\nContent-Length: 6\r\n",
    "Transfer-Encoding and Content-Length": b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    "unknown Transfer-Encoding": b"Transfer-Encoding: gzip\r\n",
}


@pytest.mark.parametrize("header", FRAMING.values(), ids=FRAMING.keys())
def test_bad_body_framing_gets_400_and_close(reference_server, header: bytes) -> None:
    raw = b"POST " + COLLECTION_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n" + header + b"\r\nhello"
    status, headers, body = exchange(reference_server, raw)
    assert status == 400
    assert headers["connection"] == "close"
    assert_json_error(status, headers, body)


def test_malformed_json_gets_400_with_an_error_body(api: ApiClient) -> None:
    truncated = b'{"webHookUrls": ["https://hooks.example.com/x"'
    answer = api.post(data=truncated, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.json()["message"]


def test_chunked_body_is_accepted(api: ApiClient) -> None:
    chunks = iter([VALID_BODY[:10], VALID_BODY[10:]])  # a generator body makes requests send it chunked
    answer = api.post(data=chunks, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["webHookUrls"] == ["https://hooks.example.com/partner/orders"]


def test_malformed_chunked_body_gets_400(reference_server) -> None:
    raw = (
        b"POST " + COLLECTION_PATH.encode() + b" HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    )
    status, headers, body = exchange(reference_server, raw)
    assert status == 400
    assert_json_error(status, headers, body)


# -- undefined methods --------------------------------------------------------------------------------------

UNDEFINED = [
    ("PATCH", COLLECTION_PATH, "GET, POST"),
    ("OPTIONS", COLLECTION_PATH, "GET, POST"),
    ("TRACE", COLLECTION_PATH, "GET, POST"),
    ("PUT", COLLECTION_PATH, "GET, POST"),
    ("DELETE", COLLECTION_PATH, "GET, POST"),
    ("BREW", COLLECTION_PATH, "GET, POST"),
    ("PATCH", COLLECTION_PATH + "/some-id", "GET, PUT, DELETE"),
    ("POST", COLLECTION_PATH + "/some-id", "GET, PUT, DELETE"),
    ("OPTIONS", COLLECTION_PATH + "/some-id", "GET, PUT, DELETE"),
    ("X-CUSTOM", COLLECTION_PATH + "/some-id", "GET, PUT, DELETE"),
]


@pytest.mark.parametrize(("method", "path", "allow"), UNDEFINED)
def test_undefined_method_gets_405_with_allow_even_without_keys(api: ApiClient, method, path, allow) -> None:
    answer = api.without_keys().raw(method, path)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == allow
    assert answer.json()["message"]


@pytest.mark.parametrize("path", [COLLECTION_PATH, COLLECTION_PATH + "/some-id"])
def test_head_gets_405_with_headers_only_and_keeps_the_connection(api: ApiClient, path: str) -> None:
    answer = api.raw("HEAD", path)
    assert answer.status_code == 405
    assert answer.content == b""
    assert api.list().status_code == 200  # nothing was left on the connection


def test_connect_gets_405(reference_server) -> None:
    status, headers, _ = exchange(reference_server, f"CONNECT {COLLECTION_PATH} HTTP/1.1\r\n\r\n".encode())
    assert status == 405
    assert headers["allow"] == "GET, POST"


def test_unknown_path_gets_404_with_an_error_body(api: ApiClient) -> None:
    answer = api.raw("GET", "/api/v1/partner/webhooks")
    assert answer.status_code == 404
    assert answer.json()["message"]


# -- oversize bodies ----------------------------------------------------------------------------------------


def test_oversize_body_gets_413_and_nothing_is_stored(api: ApiClient) -> None:
    answer = api.post(api.body(padding="x" * MAX_BODY_BYTES))
    assert answer.status_code == 413
    assert answer.headers["Connection"] == "close"
    assert answer.json()["message"]
    assert api.list().json()["total"] == 0


def test_oversize_chunked_body_gets_413(api: ApiClient) -> None:
    chunks = (b" " * 65536 for _ in range(MAX_BODY_BYTES // 65536 + 2))
    answer = api.post(data=chunks, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_oversize_body_announced_with_expect_100_is_refused_before_it_is_sent(reference_server) -> None:
    raw = (
        f"POST {COLLECTION_PATH} HTTP/1.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {10 * MAX_BODY_BYTES}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    status, _, _ = exchange(reference_server, raw)
    assert status == 413


def test_body_of_exactly_one_mebibyte_is_processed(api: ApiClient) -> None:
    body = api.body(padding="")
    body["padding"] = "x" * (MAX_BODY_BYTES - len(json.dumps(body)))
    data = json.dumps(body).encode()
    assert len(data) == MAX_BODY_BYTES
    assert api.post(data=data, headers={"Content-Type": "application/json"}).status_code == 200


# -- concurrency --------------------------------------------------------------------------------------------


def test_concurrent_creates_are_all_stored(reference_server, client_for) -> None:
    threads, per_thread = 8, 50

    def create_many(worker: int) -> list[tuple[int, str]]:
        client = client_for(reference_server)
        answers = [client.post(client.body(shopId=f"shop-{worker}")) for _ in range(per_thread)]
        return [(answer.status_code, answer.json().get("id", "")) for answer in answers]

    with ThreadPoolExecutor(threads) as pool:
        results = [item for batch in pool.map(create_many, range(threads)) for item in batch]

    assert {status for status, _ in results} == {200}
    ids = [webhook_id for _, webhook_id in results]
    assert len(set(ids)) == threads * per_thread
    client = client_for(reference_server)
    assert client.list().json()["total"] == threads * per_thread
    assert client.list(shopId="shop-3").json()["total"] == per_thread
    listed = [v["id"] for start in range(0, len(ids), 100) for v in client.list(start=start).json()["values"]]
    assert sorted(listed) == sorted(ids)


def test_concurrent_updates_of_one_record_keep_modified_increasing(reference_server, client_for) -> None:
    record = client_for(reference_server).create()

    def update(n: int) -> int:
        client = client_for(reference_server)
        return client.put(record["id"], json=client.body(shopId=f"shop-{n}")).json()["modified"]

    with ThreadPoolExecutor(8) as pool:
        modified = list(pool.map(update, range(40)))
    assert len(set(modified)) == len(modified), "two updates got the same modified"
    assert client_for(reference_server).get(record["id"]).json()["modified"] == max(modified)


# -- lifecycle ----------------------------------------------------------------------------------------------


def test_database_file_survives_a_restart(tmp_path: Path, client_for) -> None:
    db = str(tmp_path / "webhooks.db")
    with start_server(db=db) as first:
        record = client_for(first).create(shopId="kept")
        deleted = client_for(first).create()
        client_for(first).delete(deleted["id"])
    with start_server(db=db) as second:
        client = client_for(second)
        assert client.get(record["id"]).json() == record
        assert client.get(deleted["id"]).status_code == 404
        assert client.list().json()["total"] == 1


def test_stop_closes_idle_keep_alive_connections_and_the_port(api: ApiClient, reference_server) -> None:
    assert api.list().status_code == 200  # leaves an idle keep-alive connection open
    started = time.monotonic()
    reference_server.stop()
    assert time.monotonic() - started < 1.0
    with pytest.raises(OSError):
        socket.create_connection((reference_server.host, reference_server.port), timeout=1).close()


def test_partner_key_header_is_configurable(start_reference, client_for) -> None:
    server = start_reference(partner_key_header="partner_key")
    assert client_for(server, partner_key_header="partner_key").list().status_code == 200
    assert client_for(server).list().status_code == 401


def test_http_1_0_request_is_answered_and_closed(reference_server) -> None:
    keys = "".join(f"{name}: {value}\r\n" for name, value in KEYS.items())
    status, headers, body = exchange(reference_server, f"GET {COLLECTION_PATH} HTTP/1.0\r\n{keys}\r\n".encode())
    assert status == 200
    assert headers["connection"] == "close"
    assert json.loads(body)["total"] == 0


def test_port_in_use_raises_oserror(reference_server) -> None:
    with pytest.raises(OSError):
        start_server(port=reference_server.port)


# -- `conformance serve` ------------------------------------------------------------------------------------


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance.faces.cli", "serve", *args]


@pytest.fixture
def serve_process() -> Iterator[subprocess.Popen[str]]:
    """`conformance serve --port 0` running as a subprocess, killed if a test leaves it running."""
    process = subprocess.Popen(serve_command("--port", "0"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def wait_for_serving_line(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if line.startswith("serving on "):
            return line.split()[-1], seen
    pytest.fail(f"no 'serving on' line; got {seen}")


def test_serve_prints_its_url_and_demo_keys_and_stops_on_sigterm(serve_process) -> None:
    base_url, lines = wait_for_serving_line(serve_process)
    assert any(DEMO_PARTNER_KEY in line for line in lines)
    answer = requests.get(base_url + COLLECTION_PATH, headers=KEYS, timeout=5)
    assert answer.status_code == 200
    serve_process.send_signal(signal.SIGTERM)
    assert serve_process.wait(timeout=10) == 0
    assert serve_process.stderr is not None
    assert "Traceback" not in serve_process.stderr.read()


def test_serve_prints_export_lines_that_reach_it(serve_process) -> None:
    base_url, lines = wait_for_serving_line(serve_process)
    exported = dict(shlex.split(line.strip())[1].split("=", 1) for line in lines if line.strip().startswith("export "))
    assert exported["CONFORMANCE_BASE_URL"] == base_url
    headers = {"x-api-key": exported["CONFORMANCE_PARTNER_KEY"], "Authorization": exported["CONFORMANCE_DEVELOPER_KEY"]}
    assert requests.get(base_url + COLLECTION_PATH, headers=headers, timeout=5).status_code == 200
    assert exported["CONFORMANCE_SECOND_DEVELOPER_KEY"] != exported["CONFORMANCE_DEVELOPER_KEY"]


def test_serve_stops_on_sigint(serve_process) -> None:
    wait_for_serving_line(serve_process)
    serve_process.send_signal(signal.SIGINT)
    assert serve_process.wait(timeout=10) == 0


def test_serve_unknown_fault_is_one_line_on_stderr_and_exit_2() -> None:
    result = subprocess.run(serve_command("--fault", "no-such-fault"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "conformance serve: unknown fault 'no-such-fault'; `conformance serve --list-faults` lists them"
    ]


BAD_INPUT: dict[str, tuple[str, ...]] = {
    "developer key without company": ("--partner-key", "p", "--developer-key", "dev-only"),
    "partner key without developer key": ("--partner-key", "p"),
    "missing keys file": ("--keys", "/nonexistent/keys.toml"),
    "database in a missing directory": ("--db", "/nonexistent/dir/webhooks.db"),
}


@pytest.mark.parametrize("args", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_serve_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], capsys) -> None:
    assert main(["serve", "--port", "0", *args]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_serve_port_in_use_is_exit_2(reference_server, capsys) -> None:
    assert main(["serve", "--port", str(reference_server.port)]) == 2
    assert capsys.readouterr().err.startswith("conformance serve: ")


def test_serve_with_keys_file_and_flags(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text('partner_keys = ["file-partner"]\n[developer_keys]\n"file-dev" = "file-co"\n')
    process = subprocess.Popen(
        serve_command("--port", "0", "--keys", str(keys_file), "--developer-key", "flag-dev=flag-co"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url, lines = wait_for_serving_line(process)
        assert not any(DEMO_PARTNER_KEY in line for line in lines)
        for developer_key, company in (("file-dev", "file-co"), ("flag-dev", "flag-co")):
            headers = {"x-api-key": "file-partner", "Authorization": developer_key, "Content-Type": "application/json"}
            answer = requests.post(base_url + COLLECTION_PATH, data=VALID_BODY, headers=headers, timeout=5)
            assert answer.json()["companyId"] == company
        assert requests.get(base_url + COLLECTION_PATH, headers=KEYS, timeout=5).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
