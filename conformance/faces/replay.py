"""`conformance replay REPORT.json --finding ID`: does this finding still show? (the library part, and how each
finding is replayed, is `conformance.checker.replay`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from conformance.checker.options import TARGET_OPTIONS, ConfigError
from conformance.checker.replay import ReplayError, finding_of, read_report, replay, target_of
from conformance.checker.verdict import ExitCode
from conformance.faces.flags import add_options


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
    target = parser.add_argument_group("target (default: the report's, keys from the environment)")
    add_options(target, TARGET_OPTIONS, base_url="the target (default: the report's target)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Replay the finding; print one line; return the exit code."""
    try:
        report = read_report(args.report)
        finding = finding_of(report, args.finding)
        target = target_of(report, {option.name: getattr(args, option.name) for option in TARGET_OPTIONS})
    except (ReplayError, ConfigError) as error:
        print(f"conformance replay: error: {error}", file=sys.stderr)
        return int(ExitCode.USAGE)
    verdict = replay(report, finding, target)
    print(f"{args.finding}: {verdict.message}")
    return int(verdict.exit_code)
