"""`conformance report`: render a saved report.json again as HTML, Markdown or JUnit XML."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

RENDERED_FORMATS = ("html", "md", "junit")

EPILOG = """\
exit codes:
  0  rendered
  2  the file cannot be read, is not JSON, or is not a report of this schema version

The output is byte for byte the file `conformance run` wrote next to the report (report.html, report.md,
junit.xml), e.g. `conformance report reports/report.json --format md >> "$GITHUB_STEP_SUMMARY"`."""


def add_parser(subcommands: Any) -> None:
    """Add the `report` subcommand."""
    parser = subcommands.add_parser(
        "report",
        help="render a saved report.json again (html, md or junit)",
        description="Render a saved report.json again, as the run wrote it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("report", type=Path, metavar="REPORT.json", help="a report.json written by `conformance run`")
    parser.add_argument("--format", required=True, choices=RENDERED_FORMATS, help="what to render")
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Render the report; returns the exit code."""
    from conformance.reports import render
    from conformance.reports.schema import schema_errors

    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    except OSError as problem:
        return _error(f"cannot read {args.report}: {problem.strerror or problem}")
    except ValueError as problem:
        return _error(f"{args.report} is not JSON: {problem}")
    problems = schema_errors(report)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        return _error(f"{args.report} is not a conformance report of this version: {problems[0]}{more}")
    text = render(report, args.format).encode("utf-8")
    if args.output is None:
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
        return 0
    try:
        args.output.write_bytes(text)
    except OSError as problem:
        return _error(f"cannot write {args.output}: {problem.strerror or problem}")
    return 0


def _error(message: str) -> int:
    print(f"conformance: error: {message}", file=sys.stderr)
    return 2
