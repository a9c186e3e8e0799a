"""`conformance report REPORT.json --format html|md|junit` renders the very files the run wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import conformance_cli
from written_reports import WrittenRun

from conformance.faces.cli import main

FILES = {"html": "report.html", "md": "report.md", "junit": "junit.xml"}


@pytest.mark.parametrize("format_name", FILES)
def test_report_command_re_renders_the_file_the_run_wrote(fault_run: WrittenRun, format_name: str) -> None:
    result = conformance_cli(
        "report", str(fault_run.directory / "report.json"), "--format", format_name, cwd=Path.cwd()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == fault_run.text(FILES[format_name])


def test_report_command_writes_to_output(error_run: WrittenRun, tmp_path: Path) -> None:
    output = tmp_path / "again.html"
    result = conformance_cli(
        "report", str(error_run.directory / "report.json"), "--format", "html", "-o", str(output), cwd=tmp_path
    )
    assert (result.returncode, result.stdout) == (0, "")
    assert output.read_text(encoding="utf-8") == error_run.text("report.html")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "is not JSON"),
        (json.dumps({"verdict": "conformant"}), "is not a conformance report"),
    ],
    ids=["missing", "not-json", "not-a-report"],
)
def test_report_command_refuses_what_is_not_a_report_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["report", str(path), "--format", "md"]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.count("\n") == 1 and printed.err.startswith("conformance: error: ") and message in printed.err
