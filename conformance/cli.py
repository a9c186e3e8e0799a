"""The `conformance` command: a thin face over the library.

Subcommands register themselves from the module that implements them, so this file stays small.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from conformance import __version__
from conformance.checker import cli as run_cli
from conformance.checker import replay as replay_cli
from conformance.reference import cli as serve_cli
from conformance.reports import cli as report_cli


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Contract test suite and conformance checker for the Partner WebHooks API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_cli.add_parser(subcommands)
    serve_cli.add_parser(subcommands)
    report_cli.add_parser(subcommands)
    replay_cli.add_parser(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _keep_hypothesis_out_of_the_working_directory()
    return int(args.handler(args) or 0)


def _keep_hypothesis_out_of_the_working_directory() -> None:
    """Hypothesis caches its Unicode tables in `./.hypothesis` unless told otherwise: a run must not litter the
    user's directory, and a per-user cache spares every later run in a fresh checkout the ~1 s to rebuild it."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "webhook-conformance" / "hypothesis"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # no writable cache: Hypothesis's default applies
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(cache))


if __name__ == "__main__":
    sys.exit(main())
