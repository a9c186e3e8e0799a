"""`conformance run` as a user meets it: exit codes, one-line errors, and a report in every case."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest
from support import conformance_cli, free_port

from conformance.contract.catalogue import ids
from conformance.faces.cli import main


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return conformance_cli("run", *args, cwd=cwd, env=env)


def _report(directory: Path) -> dict:
    return json.loads((directory / "reports" / "report.json").read_text())


def test_unreachable_target_exits_3_with_one_line_and_a_report(tmp_path: Path) -> None:
    keys = {"CONFORMANCE_PARTNER_KEY": "p-secret", "CONFORMANCE_DEVELOPER_KEY": "d-secret"}
    result = run_cli("--base-url", f"http://127.0.0.1:{free_port()}", cwd=tmp_path, env=keys)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr + result.stdout
    assert [line for line in result.stderr.splitlines() if "error" in line] == [
        line for line in result.stderr.splitlines() if "unreachable" in line
    ]
    report = _report(tmp_path)
    assert report["verdict"] == "error"
    assert {item["id"] for item in report["requirements"]} == set(ids())
    assert {item["status"] for item in report["requirements"]} == {"not-run"}
    text = (tmp_path / "reports" / "report.json").read_text()
    assert "p-secret" not in text and "d-secret" not in text


@pytest.mark.parametrize("given", ["ci-42", None])
def test_the_run_id_is_in_the_first_console_line_and_the_report(tmp_path: Path, given: str | None) -> None:
    env = {"CONFORMANCE_PARTNER_KEY": "p-secret", "CONFORMANCE_DEVELOPER_KEY": "d-secret"}
    env |= {"CONFORMANCE_RUN_ID": given} if given else {}
    result = run_cli("--base-url", f"http://127.0.0.1:{free_port()}", cwd=tmp_path, env=env)
    run_id = _report(tmp_path)["run"]["id"]
    assert run_id == given if given else re.fullmatch(r"[0-9a-f]{12}", run_id)
    assert f"run {run_id}:" in result.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "not a url", "--partner-key", "p", "--developer-key", "d"], "--base-url"),
        (["--base-url", "http://127.0.0.1:9"], "--partner-key"),
        (["--rate-limit", "lots"], "--rate-limit"),
        (["--spec", "missing.yaml"], "missing.yaml"),
        (["--run-id", "a/b"], "--run-id"),
    ],
)
def test_configuration_errors_exit_2_with_one_line_and_a_report(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    error_lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1 and message in error_lines[0]
    report = _report(tmp_path)
    assert report["verdict"] == "error"
    assert report["exit_code"] == 2


def test_spec_that_does_not_parse_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("openapi: [unclosed\n")
    result = run_cli("--spec", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert _report(tmp_path)["verdict"] == "error"


def test_unknown_flag_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("--no-such-flag", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_help_documents_the_exit_codes(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for code in ("0  conformant", "1  nonconformant", "2  usage", "3  the run could not complete"):
        assert code in result.stdout


def test_a_run_leaves_no_hypothesis_directory_in_the_working_directory(tmp_path: Path) -> None:
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    result = run_cli("--budget", "quick", "--seed", "1", "-q", cwd=work, env={"XDG_CACHE_HOME": str(cache)})
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in work.iterdir()) == ["reports"]
    assert (cache / "webhook-conformance" / "hypothesis").is_dir()


@pytest.mark.parametrize("exiting", [True, False])
def test_a_run_the_process_ends_after_goes_on_ignoring_ctrl_c(tmp_path: Path, monkeypatch, exiting: bool) -> None:
    """Python puts SIGINT back to its default while it shuts down: a Ctrl-C that came then (the slow tier's
    signal test caught one) ended the process by the signal, not with the run's exit code. The console script
    ignores it from the run's end; a caller that goes on after `main` gets its own handler back."""
    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setenv("CONFORMANCE_PARTNER_KEY", "p")
    monkeypatch.setenv("CONFORMANCE_DEVELOPER_KEY", "d")
    try:
        base_url = f"http://127.0.0.1:{free_port()}"
        code = main(["run", "--base-url", base_url, "-q", "--report-dir", str(tmp_path)], exiting=exiting)
        after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, before)

    assert code == 3  # unreachable: the run ended, its reports written
    assert after is (signal.SIG_IGN if exiting else before)
