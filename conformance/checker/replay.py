"""`conformance replay REPORT.json --finding ID`: does this finding still show?

A finding is replayed from a clean start by the check that found it: a targeted scenario runs again alone (it
creates the records it needs in the run's shops, sends its requests, judges the answers and deletes what it
created); a finding of the every-answer checks replays the check whose request got that answer; a finding of
the lifecycle state machine or of Schemathesis replays that engine with the report's seed, which draws the same
sequences again. Exit 1 when the finding's requirement fails again, 0 when it passes (fixed), 3 when the replay
cannot tell (the target is unreachable, rejects the keys, or the check could not run), 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.checker.profile import ConfigError, RunOptions, check_base_url, resolve_options
from conformance.checker.verdict import ExitCode


class ReplayError(ValueError):
    """The report or the finding cannot be replayed as given (exit 2)."""


@dataclass(frozen=True)
class ReplayVerdict:
    """How the replay came out: the exit code and one line that says why."""

    exit_code: ExitCode
    message: str


def add_parser(subcommands: Any) -> None:
    """Add the `replay` subcommand."""
    parser = subcommands.add_parser(
        "replay",
        help="replay one finding of a report: does it still show?",
        description="Replay one finding of a report.json from a clean start against the target (keys from "
        "CONFORMANCE_PARTNER_KEY, CONFORMANCE_DEVELOPER_KEY and CONFORMANCE_SECOND_DEVELOPER_KEY).",
        epilog="exit codes: 0 the failure no longer shows (fixed), 1 it shows again, 2 bad input, "
        "3 cannot tell (target unreachable, keys rejected, the check could not run)",
    )
    parser.add_argument("report", type=Path, metavar="REPORT.json", help="a report.json that `conformance run` wrote")
    parser.add_argument("--finding", required=True, metavar="ID", help="the finding's id, as report.json gives it")
    parser.add_argument("--base-url", help="the target (default: the report's target)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Replay the finding; print one line; return the exit code."""
    try:
        report = read_report(args.report)
        finding = finding_of(report, args.finding)
        target = target_of(report, args.base_url)
    except (ReplayError, ConfigError) as error:
        print(f"conformance replay: error: {error}", file=sys.stderr)
        return int(ExitCode.USAGE)
    verdict = replay(report, finding, target)
    print(f"{args.finding}: {verdict.message}")
    return int(verdict.exit_code)


def read_report(path: Path) -> dict[str, Any]:
    """The report model from report.json; ReplayError when it cannot be read."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReplayError(f"cannot read the report {path}: {error}") from error
    if not isinstance(report, dict) or not isinstance(report.get("requirements"), list):
        raise ReplayError(f"{path} is not a report.json of `conformance run`")
    return report


def finding_of(report: dict[str, Any], finding_id: str) -> dict[str, Any]:
    """The finding with this id; ReplayError naming the ids there are when it is not in the report."""
    findings = [finding for item in report["requirements"] for finding in item.get("findings", [])]
    for finding in findings:
        if finding.get("id") == finding_id:
            return finding
    known = ", ".join(str(finding.get("id")) for finding in findings[:10]) or "none"
    raise ReplayError(f"no finding {finding_id!r} in the report (its findings: {known})")


def target_of(report: dict[str, Any], base_url: str | None) -> dict[str, Any]:
    """The target options for the replay: the report's (without keys), keys from the environment."""
    run = report.get("run", {})
    options = run.get("options", {})
    if base_url is None:
        if run.get("reference_server") or not run.get("target"):
            raise ReplayError("the report's run checked the bundled reference server, which is gone: give --base-url")
        base_url = run["target"]
    flags = {
        "base_url": check_base_url(base_url),
        "partner_key_header": options.get("partner_key_header"),
        "shop_id": options.get("shop_ids") or None,
        "rate_limit": options.get("rate_limit"),
        "timeout": options.get("timeout"),
    }
    return resolve_options({name: value for name, value in flags.items() if value is not None})


def replay(report: dict[str, Any], finding: dict[str, Any], target: dict[str, Any]) -> ReplayVerdict:
    """Run the check that found `finding` again against `target`; whether its requirement fails again."""
    # late: the engines load Schemathesis and Hypothesis, which `conformance --help` need not wait for
    from conformance.checker.engines import engines
    from conformance.checker.runner import run
    from conformance.checker.scenario import SCENARIOS
    from conformance.checker.scenarios import SCENARIOS_ENGINE

    requirement_id = finding["requirement"]
    origin = finding.get("origin") or finding["check"]
    engine = next((item for item in engines() if item.name == origin or _engine_check(item.name, origin)), None)
    scenario = next((item for item in SCENARIOS if item.name == origin), None)  # registered with the engines
    if scenario is not None:
        chosen, checks, covers = (SCENARIOS_ENGINE,), frozenset({origin}), scenario.covers
    elif engine is not None:
        chosen, checks, covers = (engine.name,), frozenset(), engine.covers
    else:  # the preflight's list call, which every run sends
        chosen, checks, covers = (SCENARIOS_ENGINE,), frozenset({"(none)"}), ()
    run_facts = report.get("run", {})
    options = RunOptions(
        seed=finding.get("seed") if finding.get("seed") is not None else run_facts.get("seed"),
        budget=run_facts.get("budget") or "quick",
        only=frozenset({requirement_id, *covers}),
        quiet=True,
        engines=chosen,
        checks=checks,
    )
    outcome = run(options, target)
    entry = outcome.results.by_id[requirement_id]
    if entry.status == "failed":
        again = next((item for item in entry.findings if item.check == finding["check"]), entry.findings[0])
        return ReplayVerdict(ExitCode.NONCONFORMANT, f"the failure shows again: {again.said}")
    if entry.status == "passed" and not outcome.error:
        return ReplayVerdict(ExitCode.CONFORMANT, f"fixed: {requirement_id} passed {entry.exercised} assertion(s)")
    why = outcome.error or entry.not_run_reason or "the check did not run"
    return ReplayVerdict(ExitCode.INCOMPLETE, f"cannot tell: {why}")


def _engine_check(engine_name: str, check: str) -> bool:
    """Whether `check` (a finding's check) belongs to the engine of that name."""
    from conformance.checker import lifecycle  # late: Hypothesis, as in `replay`

    return (engine_name == "schemathesis" and check.startswith("schemathesis")) or (
        engine_name.startswith("lifecycle") and check == lifecycle.CHECK
    )
