"""What `conformance run` shows: progress (live on a terminal, plain lines in a log, none with --quiet) and a
final summary table that says what the reports say."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from support import conformance_cli, free_port

from conformance.checker.outcome import RunOutcome
from conformance.checker.scenarios import SCENARIOS_ENGINE
from conformance.faces.console import RunConsole
from conformance.reports import redacted_report


class Terminal(io.StringIO):
    """Output that says it is a terminal, as a user's shell is."""

    def isatty(self) -> bool:
        return True


def check_with_console(check_reference: Any, console: RunConsole) -> RunOutcome:
    """A scenarios-only run of the LIST group against a server that skips a record when paging."""
    return check_reference(fault="list-off-by-one", engines=(SCENARIOS_ENGINE,), console=console, only="LIST")


def test_plain_progress_is_one_line_per_phase_and_each_engine_says_its_own_findings(check_reference: Any) -> None:
    log = io.StringIO()
    outcome = check_with_console(check_reference, RunConsole(log))
    lines = [line[10:] for line in log.getvalue().splitlines()]
    assert lines[:2] == [f"run {outcome.run_id}: checking {outcome.profile.base_url} ...", "targeted scenarios ..."]
    assert lines[-1] == "cleaning up ..."
    summary = lines[2]
    requests, findings = map(
        int,
        re.fullmatch(
            r"targeted scenarios: (\d+) requests, (\d+) finding\(s\) on LIST-03; \d+ scenario\(s\)", summary
        ).groups(),
    )
    assert requests > 0 and findings == outcome.results.by_id["LIST-03"].failures
    assert not any("0 findings on 0 requirements" in line for line in lines)


def test_an_engine_that_finds_nothing_says_so_in_its_own_line(check_reference: Any) -> None:
    log = io.StringIO()
    check_reference(engines=(SCENARIOS_ENGINE,), console=RunConsole(log), only="LIST-06")
    assert re.search(r"\] targeted scenarios: \d+ requests, no findings; \d+ scenario\(s\)$", log.getvalue(), re.M)


def test_quiet_console_shows_nothing(check_reference: Any) -> None:
    log = io.StringIO()
    console = RunConsole(log, quiet=True)
    outcome = check_with_console(check_reference, console)
    console.summary(redacted_report(outcome))
    assert outcome.results.status("LIST-03") == "failed"
    assert log.getvalue() == ""


def test_terminal_gets_a_live_status_line_with_the_counters(check_reference: Any) -> None:
    screen = Terminal()
    console = RunConsole(screen)
    check_with_console(check_reference, console)
    shown = screen.getvalue()
    assert console.live
    assert "\x1b[" in shown  # the status line is redrawn in place
    assert re.search(r"cleaning up · \d+ s · \d+ requests, \d+ findings on 1 requirements", shown)
    assert " | " not in shown  # no plain-log counters on a terminal


def test_summary_lists_each_failed_requirement_with_its_reason_and_the_counts(
    check_reference: Any,
) -> None:
    log = io.StringIO()
    outcome = check_with_console(check_reference, RunConsole(io.StringIO()))
    report = redacted_report(outcome)
    RunConsole(log).summary(report)
    text = log.getvalue()
    failed_row = next(line for line in text.splitlines() if line.startswith("LIST-03"))
    first_finding = next(r for r in report["requirements"] if r["id"] == "LIST-03")["findings"][0]
    assert "MUST" in failed_row and "FAILED" in failed_row and first_finding["actual"][:30] in failed_row
    left_out = sum(1 for r in report["requirements"] if r["reason"] == "left out by --only/--skip")
    assert re.search(rf"not-run \({left_out}\) +left out by --only/--skip", text)
    counts = report["counts"]
    must = (counts["must_passed"], counts["must_failed"], counts["must_not_run"])
    assert re.search(r"^MUST +{} +{} +{} *$".format(*must), text, re.M)


@pytest.mark.parametrize("quiet", [False, True], ids=["plain", "quiet"])
def test_cli_in_a_log_prints_plain_lines_and_quiet_prints_only_the_outcome(tmp_path: Path, quiet: bool) -> None:
    keys = {"CONFORMANCE_PARTNER_KEY": "partner-key-value", "CONFORMANCE_DEVELOPER_KEY": "developer-key-value"}
    quietly = ["--quiet"] if quiet else []
    result = conformance_cli("run", "--base-url", f"http://127.0.0.1:{free_port()}", *quietly, cwd=tmp_path, env=keys)
    assert result.returncode == 3
    assert result.stdout.startswith("ERROR: 0 passed, 0 failed, 51 not-run") and result.stdout.count("\n") == 1
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    if quiet:
        assert result.stderr.splitlines() == [line for line in result.stderr.splitlines() if "unreachable" in line]
        assert progress == []
    else:
        assert progress and not any(" | " in line for line in progress)  # no running totals repeated per line
        assert "\x1b[" not in result.stderr  # no terminal codes in a log


def test_the_checkers_own_filter_and_guard_are_explained_in_the_console_and_every_report(
    check_reference: Any, tmp_path: Path
) -> None:
    """What Schemathesis's filter set aside and the staging guard held back: a short phrase on the engine's line,
    a plain note (saying it is nothing against the target) in the console's summary and in every report."""
    from conformance.checker.budget import BUDGETS
    from conformance.checker.client import TargetClient
    from conformance.checker.fuzz.recorder import VerdictRecorder
    from conformance.checker.profile import TargetProfile
    from conformance.checker.results import Results
    from conformance.checker.run_state import RunState
    from conformance.contract.spec import load_spec
    from conformance.reports import write_reports

    profile = TargetProfile("http://127.0.0.1:9", "partner", "developer")
    state = RunState(profile, TargetClient(profile), Results(1), BUDGETS["quick"], 1, "t35t", load_spec())
    recorder = VerdictRecorder(state, transport=None)
    recorder.unbacked, recorder.refused = 4, 3
    assert recorder.in_words(state) == "4 of its failed checks set aside, 3 writes held back"
    notes = state.results.notes["schemathesis"]
    assert [note[:2] for note in notes] == ["4 ", "3 "]
    assert all("nothing against the target" in note for note in notes)

    outcome = check_reference(engines=(SCENARIOS_ENGINE,), only="LIST-06")
    outcome.notes += notes
    report = redacted_report(outcome)
    log = io.StringIO()
    RunConsole(log).summary(report)
    assert all(f"note: {note[:80]}" in log.getvalue() for note in notes)
    write_reports(outcome, tmp_path)
    for name in ("report.md", "report.html", "junit.xml"):
        assert all(note[:60] in (tmp_path / name).read_text() for note in notes), name


def test_the_verdict_line_names_report_html(tmp_path: Path) -> None:
    keys = {"CONFORMANCE_PARTNER_KEY": "partner-key-value", "CONFORMANCE_DEVELOPER_KEY": "developer-key-value"}
    result = conformance_cli("run", "--base-url", f"http://127.0.0.1:{free_port()}", cwd=tmp_path, env=keys)
    assert result.stdout.rstrip().endswith("report: reports/report.html")
