"""The `conformance` command: a thin face over the library.

Subcommands register themselves from the module that implements them, so this file stays small.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from conformance import __version__
from conformance.faces import cleanup as cleanup_cli
from conformance.faces import replay as replay_cli
from conformance.faces import report as report_cli
from conformance.faces import run as run_cli
from conformance.faces import serve as serve_cli


class UsageProblem(Exception):
    """A usage error argparse found, with the (sub)parser that found it, so that its usage is the one shown."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is raised (to be reported, with the reports of `run` written) not exited on.
    (Not an ArgumentError: the top-level parser would catch that and show its own usage instead.)"""

    def error(self, message: str) -> NoReturn:
        raise UsageProblem(self, message)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with one subparser per subcommand."""
    parser = _Parser(
        prog="conformance",
        description="Contract test suite and conformance checker for the Partner WebHooks API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_cli.add_parser(subcommands)
    cleanup_cli.add_parser(subcommands)
    serve_cli.add_parser(subcommands)
    report_cli.add_parser(subcommands)
    replay_cli.add_parser(subcommands)
    return parser


def main(argv: list[str] | None = None, *, exiting: bool = False) -> int:
    """Run the command in `argv` (default: the process's); returns its exit code. `exiting`: the process ends
    when this returns (`entry`)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # an unknown option belongs to the subcommand it was given to: its usage is the helpful one
            raise UsageProblem(_subcommand(parser, args.command), f"unrecognized arguments: {' '.join(extra)}")
    except UsageProblem as problem:
        return _usage_error(problem, argv)
    _keep_hypothesis_out_of_the_working_directory()
    args.exiting = exiting
    return int(args.handler(args) or 0)


def entry() -> None:
    """The console script, and `python -m conformance.faces.cli`: the command, then the process exits with its
    code."""
    sys.exit(main(exiting=True))


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse offers no other way to reach a subparser
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    return parser


def _usage_error(problem: UsageProblem, argv: list[str]) -> int:
    """The usage of the parser that found the problem and one line; a `run` also writes its four reports."""
    problem.parser.print_usage(sys.stderr)
    print(f"{problem.parser.prog}: error: {problem}", file=sys.stderr)
    if problem.parser.prog.endswith(" run"):
        run_cli.write_error_reports(f"usage error: {problem}", run_cli.report_dir_of(argv))
    return 2


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
    entry()
