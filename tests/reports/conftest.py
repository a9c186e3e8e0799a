"""Runs whose reports the tests read: each written once per session (cheap runs: the targeted scenarios only).

- ``clean_run``: the reference server as it is: conformant.
- ``fault_run``: ``list-off-by-one`` planted, LIST only: LIST-03 (MUST) failed.
- ``should_run`` / ``strict_should_run``: ``create-updated-true`` planted, CREATE-06 (SHOULD) only, without and
  with --strict.
- ``error_run``: the real CLI in a subprocess against a closed port: exit 3, every requirement not run.
- ``hostile_run``: a target whose every answer but the list is a 500 with markup, script and control characters
  in the body.

Each is a ``WrittenRun``: the report directory, with the four files parsed on demand.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support import conformance_cli, free_port
from written_reports import (
    HOSTILE_BODY,
    WrittenRun,
    check_and_report,
    check_target_and_report,
)

from conformance.contract.facts import COLLECTION_PATH


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> WrittenRun:
    return check_and_report(tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="session")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> WrittenRun:
    return check_and_report(tmp_path_factory.mktemp("fault"), fault="list-off-by-one", only="LIST")


@pytest.fixture(scope="session")
def should_run(tmp_path_factory: pytest.TempPathFactory) -> WrittenRun:
    return check_and_report(tmp_path_factory.mktemp("should"), fault="create-updated-true", only="CREATE-06")


@pytest.fixture(scope="session")
def strict_should_run(tmp_path_factory: pytest.TempPathFactory) -> WrittenRun:
    directory = tmp_path_factory.mktemp("strict")
    return check_and_report(directory, fault="create-updated-true", only="CREATE-06", strict=True)


@pytest.fixture(scope="session")
def error_run(tmp_path_factory: pytest.TempPathFactory) -> WrittenRun:
    directory = tmp_path_factory.mktemp("error")
    keys = {"CONFORMANCE_PARTNER_KEY": "p-secret-value", "CONFORMANCE_DEVELOPER_KEY": "d-secret-value"}
    result = conformance_cli("run", "--base-url", f"http://127.0.0.1:{free_port()}", cwd=directory, env=keys)
    return WrittenRun(directory / "reports", result.returncode)


class _HostileHandler(BaseHTTPRequestHandler):
    """Lists an empty collection (so the run starts), and answers everything else with a 500 whose body is
    HOSTILE_BODY, as text/html."""

    def _answer(self) -> None:
        if self.command == "GET" and self.path.split("?")[0] == COLLECTION_PATH:
            status, kind, body = 200, "application/json", b'{"values": [], "total": 0, "skip": 0, "limit": 1}'
        else:
            status, kind, body = 500, "text/html", HOSTILE_BODY.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> WrittenRun:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        return check_target_and_report(tmp_path_factory.mktemp("hostile"), base_url, only="HTTP-01")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> WrittenRun:
    """Every requirement the scenarios check, against a server that answers a body that is not JSON with a 500:
    one answer fails VALID-04, HTTP-01 and more."""
    return check_and_report(tmp_path_factory.mktemp("crash"), fault="valid-malformed-json-500")
