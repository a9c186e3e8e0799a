"""The baseline gate: a failure the baseline knows passes the gate (and stays in the report, marked), a new
one fails it, a known one that passes now is reported fixed; `--update-baseline` writes the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.checker.baseline import compare, read_baseline, updated_baseline
from conformance.checker.options import ConfigError
from conformance.checker.profile import make_options
from conformance.checker.results import Finding, Results
from conformance.checker.verdict import ExitCode, verdict_of
from conformance.faces.cli import main
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY

BROKEN = "UPDATE-07"  # what the fault below breaks; checked by one scenario alone, so each run takes a moment
FAULT = "update-uses-body-id"


def _results(failed: tuple[str, ...] = (), passed: tuple[str, ...] = ()) -> Results:
    results = Results(seed=1)
    for item in failed:
        results.fail(Finding(item, "test", "expected", "actual"))
    for item in passed:
        results.exercised(item, "test")
    return results


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# -- the file ---------------------------------------------------------------------------------------------------


def test_a_baseline_lists_its_failed_requirement_ids(tmp_path: Path) -> None:
    path = _write(tmp_path / "baseline.json", {"format": 1, "failed": ["LIST-03", "VALID-08"]})
    assert read_baseline(path) == {"LIST-03", "VALID-08"}


def test_a_report_is_accepted_as_a_baseline_of_its_failures(tmp_path: Path) -> None:
    report = {"requirements": [{"id": "LIST-03", "status": "failed"}, {"id": "LIST-04", "status": "passed"}]}
    assert read_baseline(_write(tmp_path / "report.json", report)) == {"LIST-03"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not a baseline"),
        ('{"failed": "LIST-03"}', "is not a baseline"),
        ('{"failed": ["LIST-99"]}', "lists IDs the catalogue does not have: LIST-99"),
    ],
)
def test_a_file_that_is_not_a_baseline_is_a_config_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        read_baseline(path)


def test_a_missing_baseline_is_a_config_error_unless_it_is_about_to_be_written(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="write it with --update-baseline"):
        read_baseline(tmp_path / "nowhere.json")
    assert read_baseline(tmp_path / "nowhere.json", missing_ok=True) == frozenset()


def test_update_baseline_needs_a_baseline_file() -> None:
    with pytest.raises(ConfigError, match="--update-baseline needs --baseline FILE"):
        make_options({"update_baseline": True})


# -- the comparison and the gate --------------------------------------------------------------------------------


def test_failures_are_known_new_or_fixed_against_the_baseline(tmp_path: Path) -> None:
    results = _results(failed=("LIST-03", "LIST-04"), passed=("VALID-08",))
    comparison = compare(tmp_path, frozenset({"LIST-03", "VALID-08", "READ-02"}), results)
    assert (comparison.known, comparison.new, comparison.fixed) == (("LIST-03",), ("LIST-04",), ("VALID-08",))


def test_an_update_keeps_the_entries_of_requirements_the_run_did_not_check() -> None:
    results = _results(failed=("LIST-04",), passed=("VALID-08",))
    assert updated_baseline(frozenset({"VALID-08", "READ-02"}), results) == {"LIST-04", "READ-02"}


def test_known_failures_keep_the_verdict_but_not_the_exit_code() -> None:
    results = _results(failed=("LIST-03",))
    assert verdict_of(results, strict=False, error=None, known=frozenset({"LIST-03"})) == (
        "nonconformant",
        ExitCode.CONFORMANT,
    )
    assert verdict_of(results, strict=False, error=None) == ("nonconformant", ExitCode.NONCONFORMANT)
    assert verdict_of(results, strict=False, error="timed out", known=frozenset({"LIST-03"}))[1] == ExitCode.INCOMPLETE


def test_a_should_failure_counts_against_the_baseline_only_with_strict() -> None:
    results = _results(failed=("CREATE-06",))
    assert verdict_of(results, strict=True, error=None)[1] == ExitCode.NONCONFORMANT
    assert verdict_of(results, strict=True, error=None, known=frozenset({"CREATE-06"}))[1] == ExitCode.CONFORMANT


# -- `conformance run --baseline` against a target ---------------------------------------------------------------


@pytest.fixture
def gate(start_reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`gate(fault, *flags)`: `conformance run --only UPDATE-07` against a fresh reference server; returns
    (exit code, report)."""
    monkeypatch.setenv("CONFORMANCE_PARTNER_KEY", DEMO_PARTNER_KEY)
    monkeypatch.setenv("CONFORMANCE_DEVELOPER_KEY", DEMO_DEVELOPER_KEY)
    monkeypatch.chdir(tmp_path)

    def run(fault: str | None, *flags: str) -> tuple[int, dict[str, Any]]:
        server = start_reference(fault=fault)
        code = main(["run", "--base-url", server.base_url, "--only", BROKEN, "--budget", "quick", "-q", *flags])
        return code, json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))

    return run


def test_update_baseline_writes_the_runs_failures_and_passes_the_gate(gate, tmp_path: Path) -> None:
    code, report = gate(FAULT, "--baseline", "baseline.json", "--update-baseline")
    assert code == 0
    written = json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))
    assert written["failed"] == [BROKEN]
    assert written["spec"]["sha256"] == report["run"]["spec"]["sha256"]
    assert report["baseline"]["updated"] is True


def test_a_known_failure_passes_the_gate_and_stays_in_the_report_marked(gate, tmp_path: Path) -> None:
    _write(tmp_path / "baseline.json", {"failed": [BROKEN]})
    code, report = gate(FAULT, "--baseline", "baseline.json")
    assert code == 0
    assert report["verdict"] == "nonconformant"
    assert report["baseline"]["known"] == [BROKEN] and report["baseline"]["new"] == []
    assert [item["baselined"] for item in report["requirements"] if item["id"] == BROKEN] == [True]


def test_a_new_failure_fails_the_gate(gate, tmp_path: Path) -> None:
    _write(tmp_path / "baseline.json", {"failed": ["LIST-03"]})
    code, report = gate(FAULT, "--baseline", "baseline.json")
    assert code == 1
    assert report["baseline"]["new"] == [BROKEN]
    assert not any(item["baselined"] for item in report["requirements"])


def test_a_known_failure_that_passes_now_is_reported_fixed(gate, tmp_path: Path) -> None:
    _write(tmp_path / "baseline.json", {"failed": [BROKEN]})
    code, report = gate(None, "--baseline", "baseline.json")
    assert code == 0
    assert report["baseline"]["fixed"] == [BROKEN]


def test_a_missing_baseline_is_a_usage_error_with_one_line(gate, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = gate(FAULT, "--baseline", "missing.json")
    assert code == 2
    assert report["error"] == "baseline missing.json not found (write it with --update-baseline)"
    assert "Traceback" not in capsys.readouterr().err
