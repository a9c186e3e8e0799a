"""`conformance run`: check a target against the contract and write the reports."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from conformance.checker.evidence import Redactor
from conformance.checker.options import ConfigError, resolve_options
from conformance.checker.profile import make_options
from conformance.checker.transport import defer_interrupt, interrupt
from conformance.checker.verdict import ExitCode
from conformance.faces.console import RunConsole
from conformance.faces.flags import add_run_arguments

EPILOG = """\
exit codes:
  0  conformant: no MUST requirement failed (with --strict: no SHOULD either); also `incomplete`: none
     failed, but not the whole contract was checked (a subset, or a MUST not run), unless --require-complete
  1  nonconformant: a MUST requirement failed (with --strict: or a SHOULD)
  2  usage or configuration error: a bad flag or option, an empty base URL, a spec that does not load
  3  the run could not complete: target unreachable or not the API, keys rejected, requests left
     without a usable answer, time ran out, interrupted; or it checked nothing; or it is incomplete
     and --require-complete is given
With --baseline FILE only a failure that FILE does not list counts (the verdict still names them all).

Every option can also come from the environment (CONFORMANCE_BASE_URL, CONFORMANCE_PARTNER_KEY,
CONFORMANCE_DEVELOPER_KEY, CONFORMANCE_SECOND_DEVELOPER_KEY, CONFORMANCE_BUDGET, ...) or from a
[tool.conformance] table in pyproject.toml or a conformance.toml; flags win. Pass keys by environment.
The bundled reference server is started and checked only when no base URL is configured anywhere; an
empty one (CONFORMANCE_BASE_URL= as CI sets it for a missing secret) is a usage error."""


def add_parser(subcommands: Any) -> None:
    """Add the `run` subcommand."""
    parser = subcommands.add_parser(
        "run",
        help="check a target against the contract",
        description="Check a Partner WebHooks API target against the contract and write the reports.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    how = add_run_arguments(parser)
    how.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the checker with parsed arguments; returns the exit code."""
    from conformance.checker.runner import RunOutcome, run
    from conformance.reports import write_reports

    flags = {
        name: value for name, value in vars(args).items() if name not in ("handler", "command", "quiet", "exiting")
    }
    console = RunConsole(quiet=args.quiet)
    previous = {signum: signal.signal(signum, _interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            merged = resolve_options(flags)
            options = make_options(merged)
        except ConfigError as error:
            return _config_error(error, flags)
        with console:
            outcome: RunOutcome = run(options, merged, console.say, console.watch)
        for signum in previous:  # the run is over and cleaned up: a late Ctrl-C does not cut its reports short
            signal.signal(signum, _after_the_run)
        try:
            path = write_reports(outcome, options.report_dir)
        except OSError as problem:
            print(f"conformance: error: cannot write the reports into {options.report_dir}: {problem}", file=sys.stderr)
            return int(ExitCode.USAGE)
        if outcome.exit_code == ExitCode.USAGE:
            print(f"conformance: error: {outcome.error}", file=sys.stderr)
            return int(outcome.exit_code)
        _summarise(outcome, path, console, quiet=args.quiet)
        return int(outcome.exit_code)
    finally:
        for signum, handler in previous.items():
            # A process that exits next goes on ignoring Ctrl-C: Python puts SIGINT back to its default while it
            # shuts down (joining threads), and a late one would end it by the signal, not with the run's code.
            exiting = getattr(args, "exiting", False) and signum == signal.SIGINT
            signal.signal(signum, signal.SIG_IGN if exiting else handler)


def _config_error(error: ConfigError, flags: dict[str, Any]) -> int:
    """Exit 2 with one line, still leaving a report that says what happened."""
    print(f"conformance: error: {error}", file=sys.stderr)
    write_error_reports(str(error), Path(flags.get("report_dir") or "reports"))
    return int(ExitCode.USAGE)


def write_error_reports(message: str, report_dir: Path, exit_code: int = ExitCode.USAGE) -> None:
    """The four reports of a run that could not start (verdict `error`; exit code 2, or 3 when it was interrupted
    before it began); a line if they cannot be written."""
    from conformance.checker.runner import error_outcome
    from conformance.reports import write_reports

    try:
        write_reports(error_outcome(message, exit_code=ExitCode(exit_code)), report_dir)
    except OSError as problem:
        print(f"conformance: error: cannot write the report into {report_dir}: {problem}", file=sys.stderr)


def report_dir_of(argv: list[str]) -> Path:
    """Where the reports of a `run` whose arguments did not parse go: its --report-dir, else the environment's
    or the config file's, else reports/ (as a run that parsed would decide)."""
    for number, token in enumerate(argv):
        if token == "--report-dir" and number + 1 < len(argv):
            return Path(argv[number + 1])
        if token.startswith("--report-dir="):
            return Path(token.split("=", 1)[1])
    try:
        merged = resolve_options({})
    except ConfigError:
        return Path("reports")
    return Path(merged.get("report_dir") or "reports")


def _interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C or SIGTERM: cut the requests in flight (one may hang in another thread), then stop the run, which
    still cleans up and writes the reports. During the cleanup the first one waits for it to end."""
    if defer_interrupt():
        return
    interrupt()
    raise KeyboardInterrupt


def _after_the_run(signum: int, frame: Any) -> None:
    """Ctrl-C or SIGTERM once the run has ended and cleaned up: its reports and verdict line take a moment and
    are written all the same (the verdict is the run's: nothing was left unchecked by the signal)."""


def _summarise(outcome: Any, path: Path, console: RunConsole, *, quiet: bool) -> None:
    from conformance.reports import redacted_report
    from conformance.reports.digest import incomplete_line

    results = outcome.results
    failed = results.failed()
    redact = Redactor(outcome.profile.secrets() if outcome.profile else {})
    report = redacted_report(outcome)
    console.summary(report)
    passed = sum(1 for e in results.by_id.values() if e.status == "passed")
    line = (
        f"{outcome.verdict.upper()}: {passed} passed, {len(failed)} failed, "
        f"{len(results.by_id) - passed - len(failed)} not-run ({outcome.requests} requests, "
        f"{outcome.duration:.1f} s, seed {results.seed}); report: {path.with_name('report.html')}"
    )
    print(line)
    if outcome.baseline and not quiet:
        print(outcome.baseline.summary(), file=sys.stderr)
    if outcome.error:
        print(f"conformance: error: {redact(outcome.error)}", file=sys.stderr)
    elif incomplete_line(report):
        print(f"conformance: {incomplete_line(report)}", file=sys.stderr)
    if outcome.cleanup.left_behind:
        print(
            f"conformance: {len(outcome.cleanup.left_behind)} record(s) could not be deleted (see the report)",
            file=sys.stderr,
        )
