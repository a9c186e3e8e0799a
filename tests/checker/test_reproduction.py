"""A finding's shell reproduction: only the requests its failure needs, the run's ids captured again, every request
sent as the run sent it (exact bytes, odd paths and headers), and what it created deleted by the captured id."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading

from conformance.checker.evidence import Exchange, Redactor, body_fields
from conformance.checker.reproduction import needed_steps, shell_script
from conformance.checker.results import Finding
from conformance.contract.facts import COLLECTION_PATH

BASE = "http://127.0.0.1:9"
KEYS = {"x-api-key": "${CONFORMANCE_PARTNER_KEY}", "Authorization": "${CONFORMANCE_DEVELOPER_KEY}"}


def create(shop: str, made: str, status: int = 201) -> Exchange:
    body = json.dumps({"shopId": shop, "webHookType": "NEW_CONSUMER_ORDER"})
    answer = json.dumps({"id": made, "shopId": shop}) if status < 300 else '{"message": "no"}'
    return Exchange("POST", BASE + COLLECTION_PATH, KEYS, body, status, response_body=answer, full_request_body=body)


def request(method: str, path: str, status: int, answer: str = "") -> Exchange:
    return Exchange(method, BASE + COLLECTION_PATH + path, KEYS, None, status, response_body=answer)


def test_a_script_holds_only_the_requests_its_failing_request_needs() -> None:
    ours, other = create("wc-run.1", "rec-ours-0001"), create("wc-run.2", "rec-other-002")
    read_other = request("GET", "/rec-other-002", 200)
    update = request("PUT", "/rec-ours-0001", 200)
    failing = request("GET", "/rec-ours-0001", 200, '{"id": "rec-ours-0001", "shopId": "stale"}')
    later = request("DELETE", "/rec-other-002", 204)

    assert needed_steps([ours, other, read_other, update, failing, later], [failing]) == [ours, update, failing]


def test_a_list_by_shop_needs_every_request_that_names_the_shop() -> None:
    first, second, elsewhere = create("wc-run.1", "rec-a"), create("wc-run.1", "rec-b"), create("wc-run.9", "rec-c")
    gone = request("DELETE", "/rec-b", 204)
    listed = request("GET", "?shopId=wc-run.1", 200, '{"values": [{"id": "rec-a"}, {"id": "rec-b"}], "total": 2}')

    assert needed_steps([first, second, elsewhere, gone, listed], [listed]) == [first, second, gone, listed]


def test_a_record_only_a_list_answer_named_is_deleted_by_the_id_the_script_captured() -> None:
    refused = create("wc-run.1", "", status=400)
    listed = request("GET", "?shopId=wc-run.1", 200, '{"values": [{"id": "leaked-run-id"}], "total": 1}')
    deleted = request("DELETE", "/leaked-run-id", 204)
    finding = Finding("VALID-06", "check", "nothing stored", "stored", [listed, deleted])
    finding.sequence = [refused, listed, deleted]

    script = shell_script(finding)

    assert "leaked-run-id" not in script  # never the run's old id
    assert "WC_ID_1=$(printf '%s\\n' \"$WC_ANSWER\" | grep -o" in script
    assert f"{COLLECTION_PATH}/${{WC_ID_1}}" in script


def test_the_closing_delete_names_the_captured_id_with_the_keys_that_created_it() -> None:
    made = create("wc-run.1", "rec-ours-0001")
    made.request_headers = {**KEYS, "Content-Type": "application/json", "Content-Encoding": "br"}
    failing = request("GET", "/rec-ours-0001", 500)
    finding = Finding("HTTP-01", "check", "no 5xx", "500", [failing])
    finding.sequence = [made, failing]

    closing = shell_script(finding).splitlines()[-1]

    assert closing.startswith('if [ -n "${WC_ID_1}" ]; then curl') and f"{COLLECTION_PATH}/${{WC_ID_1}}" in closing
    assert "${CONFORMANCE_DEVELOPER_KEY}" in closing and "Content-Encoding" not in closing
    assert "rec-ours-0001" not in closing


def test_a_body_that_cannot_be_quoted_is_printed_exactly() -> None:
    for data in (b'{"shopId": "\xff\xfe"}', b"[" * 30_000, b'{"a": "\x00"}'):
        exchange = Exchange("POST", BASE + COLLECTION_PATH, {}, **body_fields(data, Redactor({})))
        assert exchange.body_printer is not None
        printed = subprocess.run(["sh", "-c", exchange.body_printer], capture_output=True, check=True).stdout
        assert printed == data
    assert Exchange("POST", BASE, {}, **body_fields(b'{"ok": true}', Redactor({}))).body_printer is None


def test_a_body_that_holds_a_key_is_never_packed() -> None:
    fields = body_fields(b"\xff the-secret", Redactor({"the-secret": "CONFORMANCE_PARTNER_KEY"}))
    assert fields["packed_body"] is None and "${CONFORMANCE_PARTNER_KEY}" in fields["request_body"]


def run_against_one_answer(step: Exchange, answer: bytes) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run the script of a finding shown by `step` against a listener that gives `answer` and keeps the
    connection open; the script's outcome and the bytes of the request it sent."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    seen: list[bytes] = []

    def serve() -> None:
        connection, _ = listener.accept()
        seen.append(connection.recv(65536))
        connection.sendall(answer)
        connection.settimeout(60)
        with contextlib.suppress(OSError):
            connection.recv(1)  # until the client closes
        connection.close()

    thread = threading.Thread(target=serve)
    thread.start()
    step.url = step.url.replace(BASE, f"http://127.0.0.1:{port}")
    finding = Finding("HTTP-01", "check", "no 5xx", "500", [step])
    finding.sequence = [step]
    environment = {**os.environ, "CONFORMANCE_BASE_URL": f"http://127.0.0.1:{port}"}
    try:
        done = subprocess.run(
            ["sh", "-c", shell_script(finding)], capture_output=True, text=True, env=environment, timeout=30
        )
    finally:
        thread.join(timeout=90)
        listener.close()
    return done, seen[0]


def test_odd_requests_go_out_as_the_run_sent_them() -> None:
    """No `Host`, a dot segment, an invalid percent-escape and a header name with a space: curl sends them as
    written (the server sees the request the run sent)."""
    odd = Exchange("GET", f"{BASE}{COLLECTION_PATH}/../wc%zz", {"Host": "", "Bad Header": "x"}, None, 400)
    done, sent = run_against_one_answer(odd, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}")

    assert done.returncode == 0, done.stderr
    head = sent.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0] == f"GET {COLLECTION_PATH}/../wc%zz HTTP/1.1".encode()
    assert b"Bad Header: x" in head and not any(line.lower().startswith(b"host:") for line in head)


def test_a_head_request_does_not_wait_for_a_body() -> None:
    """A HEAD answer announces the GET's Content-Length but has no body: the script does not wait for one."""
    head = Exchange("HEAD", f"{BASE}{COLLECTION_PATH}", KEYS, None, 200)
    done, sent = run_against_one_answer(head, b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n")

    assert done.returncode == 0 and "<<< HTTP 200" in done.stdout, done.stderr
    assert sent.startswith(f"HEAD {COLLECTION_PATH} HTTP/1.1".encode())
