"""The `conformance` command: a thin face over the library.

Subcommands register themselves from the module that implements them, so this file stays small.
"""

from __future__ import annotations

import argparse
import sys

from conformance import __version__
from conformance.checker import cli as run_cli
from conformance.reference import cli as serve_cli


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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
