"""`conformance run`: check a target against the contract and write the reports."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from conformance.checker.evidence import Redactor
from conformance.checker.profile import BUDGET_NAMES, PARTNER_KEY_HEADERS, ConfigError, make_options, resolve_options
from conformance.checker.verdict import ExitCode

EPILOG = """\
exit codes:
  0  conformant: no MUST requirement failed (with --strict: no SHOULD either)
  1  nonconformant: a MUST requirement failed (with --strict: or a SHOULD)
  2  usage or configuration error: a bad flag or option, a spec that does not load
  3  the run could not complete: target unreachable, keys rejected, time ran out, interrupted

Every option can also come from the environment (CONFORMANCE_BASE_URL, CONFORMANCE_PARTNER_KEY,
CONFORMANCE_DEVELOPER_KEY, CONFORMANCE_SECOND_DEVELOPER_KEY, CONFORMANCE_BUDGET, ...) or from a
[tool.conformance] table in pyproject.toml or a conformance.toml; flags win. Pass keys by environment.
Without --base-url the bundled reference server is started and checked."""


def add_parser(subcommands: Any) -> None:
    """Add the `run` subcommand."""
    parser = subcommands.add_parser(
        "run",
        help="check a target against the contract",
        description="Check a Partner WebHooks API target against the contract and write the reports.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_argument_group("target")
    target.add_argument("--base-url", help="the target's base URL (default: start the bundled reference server)")
    target.add_argument("--partner-key", help="partner key (better: CONFORMANCE_PARTNER_KEY)")
    target.add_argument("--developer-key", help="developer key (better: CONFORMANCE_DEVELOPER_KEY)")
    target.add_argument("--second-developer-key", help="a developer key of another company, for the tenancy checks")
    target.add_argument("--partner-key-header", choices=PARTNER_KEY_HEADERS, help="header of the partner key")
    target.add_argument(
        "--shop-id", action="append", help="use this shop id for test records (repeatable; default: run-unique ids)"
    )
    target.add_argument("--rate-limit", metavar="N/s", help="at most N requests per second")
    target.add_argument("--timeout", metavar="S", help="seconds to wait for each answer (default 10)")
    how = parser.add_argument_group("run")
    how.add_argument("--spec", type=Path, help="the OpenAPI spec (default: the bundled one)")
    how.add_argument("--report-dir", type=Path, help="where the reports go (default: reports/)")
    how.add_argument("--seed", help="seed for every random choice, to rerun a run exactly")
    how.add_argument("--budget", choices=BUDGET_NAMES, help="how hard to try: quick, standard (default), deep")
    how.add_argument("--strict", action="store_true", default=None, help="SHOULD failures fail the run too")
    how.add_argument("--only", help="check only these requirement IDs or groups (comma-separated)")
    how.add_argument("--skip", help="leave out these requirement IDs or groups (comma-separated)")
    how.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the checker with parsed arguments; returns the exit code."""
    from conformance.checker.runner import RunOutcome, run
    from conformance.reports import write_reports

    flags = {name: value for name, value in vars(args).items() if name not in ("handler", "command", "quiet")}
    say = _printer(quiet=args.quiet)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        try:
            merged = resolve_options(flags)
            options = make_options(merged)
        except ConfigError as error:
            return _config_error(error, flags)
        outcome: RunOutcome = run(options, merged, say)
    finally:
        signal.signal(signal.SIGTERM, previous)
    try:
        path = write_reports(outcome, options.report_dir)
    except OSError as problem:
        print(f"conformance: error: cannot write the reports into {options.report_dir}: {problem}", file=sys.stderr)
        return int(ExitCode.USAGE)
    if outcome.exit_code == ExitCode.USAGE:
        print(f"conformance: error: {outcome.error}", file=sys.stderr)
        return int(outcome.exit_code)
    _summarise(outcome, path, quiet=args.quiet)
    return int(outcome.exit_code)


def _config_error(error: ConfigError, flags: dict[str, Any]) -> int:
    """Exit 2 with one line, still leaving a report that says what happened."""
    from conformance.checker.runner import error_outcome
    from conformance.reports import write_reports

    print(f"conformance: error: {error}", file=sys.stderr)
    report_dir = flags.get("report_dir") or Path("reports")
    try:
        write_reports(error_outcome(str(error)), Path(report_dir))
    except OSError as problem:
        print(f"conformance: error: cannot write the report into {report_dir}: {problem}", file=sys.stderr)
    return int(ExitCode.USAGE)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _printer(*, quiet: bool):
    def say(line: str) -> None:
        if not quiet:
            print(line, file=sys.stderr, flush=True)

    return say


def _summarise(outcome: Any, path: Path, *, quiet: bool) -> None:
    results = outcome.results
    failed = results.failed()
    redact = Redactor(outcome.profile.secrets() if outcome.profile else {})
    if not quiet:
        for entry in failed:
            first = entry.findings[0] if entry.findings else None
            detail = redact(f": {first.actual}" if first else "")
            print(f"  FAILED {entry.requirement.id} ({entry.requirement.level}){detail[:160]}", file=sys.stderr)
        not_run = [e for e in results.by_id.values() if e.status == "not-run"]
        for entry in not_run:
            print(f"  not-run {entry.requirement.id}: {entry.not_run_reason}", file=sys.stderr)
    passed = sum(1 for e in results.by_id.values() if e.status == "passed")
    line = (
        f"{outcome.verdict.upper()}: {passed} passed, {len(failed)} failed, "
        f"{len(results.by_id) - passed - len(failed)} not-run ({outcome.requests} requests, "
        f"{outcome.duration:.1f} s, seed {results.seed}); report: {path}"
    )
    print(line)
    if outcome.error:
        print(f"conformance: error: {redact(outcome.error)}", file=sys.stderr)
    if outcome.cleanup.left_behind:
        print(
            f"conformance: {len(outcome.cleanup.left_behind)} record(s) could not be deleted (see the report)",
            file=sys.stderr,
        )
