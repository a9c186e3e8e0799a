"""Verdicts a CI gate can trust, each case through the real CLI in a subprocess: a wrong option or an
unusable target stops the run with exit 2 or 3 and one line saying what to fix, never a false green or red."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from hostile.server import Drop, HostileServer
from support import conformance_cli, free_port

from conformance.reference.app import RunningServer
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY, Keys
from conformance.reports import FORMATS

KEYS = {"CONFORMANCE_PARTNER_KEY": "p-secret", "CONFORMANCE_DEVELOPER_KEY": "d-secret"}


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return conformance_cli("run", *args, cwd=cwd, env=env)


def reports(directory: Path) -> dict[str, str]:
    """The four report files' texts, by format name (each must exist)."""
    return {name: (directory / "reports" / filename).read_text() for name, (filename, _) in FORMATS.items()}


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in result.stdout + result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("conformance: error")]


@pytest.mark.parametrize(
    ("args", "env", "config", "source"),
    [
        (["--base-url", ""], {}, None, "--base-url"),
        ([], {"CONFORMANCE_BASE_URL": ""}, None, "CONFORMANCE_BASE_URL"),
        ([], {}, 'base-url = ""\n', "config file"),
    ],
)
def test_an_empty_base_url_is_a_usage_error_not_the_bundled_server(
    tmp_path: Path, args: list[str], env: dict[str, str], config: str | None, source: str
) -> None:
    if config is not None:
        (tmp_path / "conformance.toml").write_text(config)
    result = run_cli(*args, cwd=tmp_path, env=env)
    assert result.returncode == 2
    [line] = error_lines(result)
    assert "base URL is empty" in line and source in line
    texts = reports(tmp_path)
    report = json.loads(texts["json"])
    assert (report["verdict"], report["exit_code"]) == ("error", 2)
    assert report["run"]["reference_server"] is False and report["run"]["target"] is None


def test_without_any_base_url_the_bundled_server_is_named_first_and_in_every_report(tmp_path: Path) -> None:
    result = run_cli("--budget", "quick", "--only", "HTTP-01", "--seed", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert "checking the bundled reference server (http://127.0.0.1:" in first
    for name, text in reports(tmp_path).items():
        assert "the bundled reference server" in text, name


# -- preflight: a wrong option stops the run before any judgement -------------------------------------------

DEMO = {"CONFORMANCE_PARTNER_KEY": DEMO_PARTNER_KEY, "CONFORMANCE_DEVELOPER_KEY": DEMO_DEVELOPER_KEY}


def assert_stopped_before_judging(tmp_path: Path, result: subprocess.CompletedProcess[str], reason: str) -> None:
    """Exit 3, one error line with `reason`, reports written with no finding and no pass counted."""
    assert result.returncode == 3, result.stdout + result.stderr
    [line] = error_lines(result)
    assert reason in line
    report = json.loads(reports(tmp_path)["json"])
    assert (report["verdict"], report["exit_code"]) == ("error", 3)
    assert {item["status"] for item in report["requirements"]} == {"not-run"}
    assert report["cleanup"]["left_behind"] == []


@pytest.mark.parametrize(
    ("path", "hint"),
    [("/wrong", "it should end before /api/v1/..."), ("/api/v1/partner/webHooks", "drop '/api/v1/partner/webHooks'")],
)
def test_a_wrong_base_path_is_not_the_api_not_nonconformant(
    tmp_path: Path, reference_server: RunningServer, path: str, hint: str
) -> None:
    url = reference_server.base_url + path
    result = run_cli("--base-url", url, "--budget", "quick", cwd=tmp_path, env=DEMO)
    assert_stopped_before_judging(tmp_path, result, f"not the API at {url}: a list call answered 404")
    assert hint in error_lines(result)[0] and "check --base-url" in error_lines(result)[0]


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"CONFORMANCE_DEVELOPER_KEY": "not-a-key"}, "rejected the partner or developer key (401"),
        ({"CONFORMANCE_PARTNER_KEY": "not-a-key"}, "rejected the partner or developer key (401"),
        ({"CONFORMANCE_SECOND_DEVELOPER_KEY": "not-a-key"}, "rejected the second developer key (401"),
    ],
)
def test_a_rejected_key_stops_the_run_with_what_to_fix(
    tmp_path: Path, reference_server: RunningServer, env: dict[str, str], reason: str
) -> None:
    keys = {**DEMO, "CONFORMANCE_SECOND_DEVELOPER_KEY": DEMO_SECOND_DEVELOPER_KEY, **env}
    result = run_cli("--base-url", reference_server.base_url, "--budget", "quick", cwd=tmp_path, env=keys)
    assert_stopped_before_judging(tmp_path, result, reason)
    assert "not-a-key" not in result.stderr + reports(tmp_path)["json"]


def test_a_second_key_of_the_same_company_stops_the_run(tmp_path: Path, start_reference) -> None:
    same = Keys(frozenset({DEMO_PARTNER_KEY}), {DEMO_DEVELOPER_KEY: "acme", "another-acme-key": "acme"})
    server = start_reference(keys=same)
    keys = {**DEMO, "CONFORMANCE_SECOND_DEVELOPER_KEY": "another-acme-key"}
    result = run_cli("--base-url", server.base_url, "--budget", "quick", cwd=tmp_path, env=keys)
    assert_stopped_before_judging(tmp_path, result, "the second developer key belongs to the same company")
    assert server.api.store.records("acme") == []  # the two records of the test are gone


# -- complete or not ---------------------------------------------------------------------------------------


def test_a_run_that_checked_nothing_is_never_conformant(tmp_path: Path, reference_server: RunningServer) -> None:
    result = run_cli("--base-url", reference_server.base_url, "--only", "TENANT", cwd=tmp_path, env=DEMO)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.startswith("INCOMPLETE: 0 passed, 0 failed, 51 not-run")
    [line] = [line for line in result.stderr.splitlines() if line.startswith("conformance: INCOMPLETE")]
    assert "subset: 4 of 51 requirements selected" in line and "needs --second-developer-key" in line
    texts = reports(tmp_path)
    report = json.loads(texts["json"])
    assert (report["verdict"], report["exit_code"]) == ("incomplete", 3)
    assert report["completeness"]["unchecked"] == {
        "needs --second-developer-key (a developer key of another company)": [
            "TENANT-01",
            "TENANT-02",
            "TENANT-03",
            "TENANT-04",
        ]
    }
    assert "INCOMPLETE: subset: 4 of 51" in texts["md"] and 'id="incomplete"' in texts["html"]
    assert '<error type="incomplete" message="INCOMPLETE: subset: 4 of 51' in texts["junit"]


@pytest.mark.parametrize(
    ("flag", "env", "exit_code"),
    [([], {}, 0), (["--require-complete"], {}, 3), ([], {"CONFORMANCE_REQUIRE_COMPLETE": "1"}, 3)],
    ids=["default", "flag", "environment"],
)
def test_a_must_not_run_is_incomplete_exit_0_unless_completeness_is_required(
    tmp_path: Path, reference_server: RunningServer, flag: list[str], env: dict[str, str], exit_code: int
) -> None:
    args = ["--base-url", reference_server.base_url, "--only", "TENANT,AUTH", "--budget", "quick", *flag]
    result = run_cli(*args, cwd=tmp_path, env={**DEMO, **env})
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert result.stdout.startswith("INCOMPLETE: 3 passed, 0 failed, 48 not-run")
    report = json.loads(reports(tmp_path)["json"])
    assert (report["verdict"], report["exit_code"]) == ("incomplete", exit_code)
    junit = reports(tmp_path)["junit"]
    assert f'<{"error" if exit_code else "skipped"} type="incomplete" message="INCOMPLETE: subset: 7 of 51' in junit


# -- early answers: a server that refuses an oversize body from its headers -----------------------------------


@pytest.mark.parametrize("seed", ["1", "2"])
def test_a_server_that_answers_an_oversize_body_before_reading_it_is_conformant(
    tmp_path: Path, start_reference, seed: str
) -> None:
    server = start_reference(reject_oversize_early=True)
    keys = {**DEMO, "CONFORMANCE_SECOND_DEVELOPER_KEY": DEMO_SECOND_DEVELOPER_KEY}
    result = run_cli("--base-url", server.base_url, "--budget", "quick", "--seed", seed, cwd=tmp_path, env=keys)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("CONFORMANT: 51 passed, 0 failed, 0 not-run")
    report = json.loads(reports(tmp_path)["json"])
    assert not [note for note in report["run"]["notes"] if "usable answer" in note]


def test_a_connection_closed_on_an_oversize_upload_is_a_refusal_not_a_lost_answer(
    tmp_path: Path, reference_server: RunningServer
) -> None:
    oversize = 1024 * 1024
    proxy = HostileServer(lambda request: Drop() if len(request.body) > oversize else None, reference_server.base_url)
    try:
        args = ("--base-url", proxy.base_url, "--only", "VALID-10", "--budget", "quick")
        result = run_cli(*args, cwd=tmp_path, env=DEMO)
    finally:
        proxy.stop()
    assert any(len(request.body) > oversize for request in proxy.requests)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(reports(tmp_path)["json"])
    assert report["error"] is None
    assert next(item for item in report["requirements"] if item["id"] == "VALID-10")["status"] == "passed"
    assert any("closed the connection during the upload" in note for note in report["run"]["notes"])


# -- transport errors in words ----------------------------------------------------------------------------------


@pytest.fixture
def tls_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A loopback port that speaks TLS (a self-signed certificate made with openssl), answering nothing."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    directory = tmp_path_factory.mktemp("tls")
    make = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    make += ["-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")]
    subprocess.run(make, check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_to_a_plain_http_port_says_so(tmp_path: Path, reference_server: RunningServer) -> None:
    url = reference_server.base_url.replace("http://", "https://")
    result = run_cli("--base-url", url, cwd=tmp_path, env=DEMO)
    assert_stopped_before_judging(tmp_path, result, "TLS handshake failed: the port speaks plain HTTP")
    assert "use http:// in --base-url" in error_lines(result)[0]


def test_plain_http_to_a_tls_port_says_so(tmp_path: Path, tls_port: int) -> None:
    result = run_cli("--base-url", f"http://127.0.0.1:{tls_port}", cwd=tmp_path, env=DEMO)
    assert_stopped_before_judging(tmp_path, result, "target unreachable")
    assert "use https:// in --base-url" in error_lines(result)[0]


def test_an_untrusted_certificate_says_so(tmp_path: Path, tls_port: int) -> None:
    result = run_cli("--base-url", f"https://127.0.0.1:{tls_port}", cwd=tmp_path, env=DEMO)
    assert_stopped_before_judging(tmp_path, result, "TLS certificate is not trusted")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://no-such-host.invalid", "the host name does not resolve (DNS): check the host in --base-url"),
        ("http://127.0.0.1:{port}", "Connection refused: nothing listens on that host and port"),
    ],
    ids=["dns", "refused"],
)
def test_unreachable_targets_say_the_cause_and_the_fix(tmp_path: Path, url: str, words: str) -> None:
    result = run_cli("--base-url", url.format(port=free_port()), cwd=tmp_path, env=DEMO)
    assert_stopped_before_judging(tmp_path, result, words)


def test_a_target_that_does_not_answer_in_time_says_how_to_wait_longer(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts connections (the backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result = run_cli("--base-url", url, "--timeout", "0.5", cwd=tmp_path, env=DEMO)
    assert_stopped_before_judging(tmp_path, result, "no answer within 0.5 s")
    assert "a longer --timeout" in error_lines(result)[0]


# -- argparse's usage errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "reports_in", "message"),
    [
        (["--budgett", "quick"], "reports", "conformance run: error: unrecognized arguments: --budgett quick"),
        (["--budget", "fast", "--report-dir", "elsewhere"], "elsewhere", "argument --budget: invalid choice: 'fast'"),
    ],
    ids=["misspelt-option", "bad-choice"],
)
def test_a_usage_error_shows_runs_usage_and_still_writes_the_reports(
    tmp_path: Path, args: list[str], reports_in: str, message: str
) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: conformance run ")
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0]
    report = json.loads((tmp_path / reports_in / "report.json").read_text())
    assert (report["verdict"], report["exit_code"]) == ("error", 2) and message.split(": ", 1)[-1] in report["error"]
    assert all((tmp_path / reports_in / filename).is_file() for filename, _ in FORMATS.values())
