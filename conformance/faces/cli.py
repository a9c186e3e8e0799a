"""The `conformance` command: a thin face over the library.

Subcommands register themselves from the module that implements them, so this file stays small. It imports them
only when the command starts (`build_parser`), so that a Ctrl-C during their imports (most of a second) is caught by
`entry` and ends in one line, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

from conformance import __version__

INTERRUPTED = 3  # a command's exit code when a Ctrl-C stops it (`run`'s ExitCode.INCOMPLETE)
EPILOG = f"""\
A Ctrl-C stops a command with one line and exit code {INTERRUPTED} (`serve` stops the server and exits 0). A run
stops so on SIGTERM too, once it has cleaned up what it wrote and written its reports."""


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
    from conformance.faces import cleanup as cleanup_cli
    from conformance.faces import replay as replay_cli
    from conformance.faces import report as report_cli
    from conformance.faces import run as run_cli
    from conformance.faces import serve as serve_cli

    parser = _Parser(
        prog="conformance",
        description="Contract test suite and conformance checker for the Partner WebHooks API.",
        epilog=EPILOG,
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
    code. A Ctrl-C that no command caught (it came while the command was starting) ends it with one line."""
    try:
        code = main(exiting=True)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the process exits next: a second Ctrl-C changes nothing
        code = _interrupted(sys.argv[1:])
    _forget_caught_interrupts()
    sys.exit(code)


def _interrupted(argv: list[str]) -> int:
    """A Ctrl-C no command caught: one line. A `run` catches its own once it has begun, so this one came before,
    and its four reports say so (the last run's must not stand for this one)."""
    print("conformance: error: interrupted", file=sys.stderr)
    if _command_of(argv) == "run":
        from conformance.faces import run as run_cli

        run_cli.write_error_reports("interrupted before the run began", run_cli.report_dir_of(argv), INTERRUPTED)
    return INTERRUPTED


def _command_of(argv: list[str]) -> str | None:
    """The subcommand in `argv`, read without the parser (which may be what the interrupt cut short)."""
    return next((token for token in argv if not token.startswith("-")), None)


def _forget_caught_interrupts() -> None:
    """CPython (3.11, 3.12) marks a KeyboardInterrupt that ends a string `exec` or `eval` as unhandled, even when a
    caller catches it, and under `python -m` it then ends the process by SIGINT instead of with its exit code.
    A Ctrl-C mid-run strikes in such an `exec` now and then (dataclasses and namedtuples build their methods
    with one), and the run, which handled it, cleaned up and wrote its reports, still died by the signal. Every
    string `exec` clears the mark when it begins; the command is over, so no interrupt is left unhandled."""
    exec("pass", {})


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
        from conformance.faces import run as run_cli

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
