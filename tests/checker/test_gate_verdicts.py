"""Verdicts a CI gate can trust, each case through the real CLI in a subprocess: a wrong option or an
unusable target stops the run with exit 2 or 3 and one line saying what to fix, never a false green or red."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support import conformance_cli

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
    assert "target: the bundled reference server (http://127.0.0.1:" in first
    for name, text in reports(tmp_path).items():
        assert "the bundled reference server" in text, name
