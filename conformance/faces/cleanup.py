"""`conformance cleanup`: delete what a run left on the target, found by its run id alone (the library part is
`conformance.checker.cleanup`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conformance.checker.cleanup import CleanupExit, clean_up_run
from conformance.checker.marks import RunMark
from conformance.checker.options import OPTIONS, ConfigError, resolve_options
from conformance.checker.profile import make_profile
from conformance.faces.flags import add_options, add_target_arguments

EPILOG = """\
exit codes:
  0  nothing of the run remains on the target (in a dry run: nothing was found)
  1  records of the run remain: found in a dry run, or not deleted (each is listed with the reason)
  2  usage or configuration error: no --run-id, a bad option, no --base-url
  3  the target could not be listed, so what remains is not known

Without --yes it only lists what it would delete. Keys come from the environment (CONFORMANCE_PARTNER_KEY,
CONFORMANCE_DEVELOPER_KEY, CONFORMANCE_SECOND_DEVELOPER_KEY), as for `conformance run`; with the second key
the records a run wrote as the other company are found and deleted too. The run id can come from
CONFORMANCE_RUN_ID, as a CI job that sets it for `conformance run` would."""


def add_parser(subcommands: Any) -> None:
    """Add the `cleanup` subcommand."""
    parser = subcommands.add_parser(
        "cleanup",
        help="delete the records a run left behind, found by its run id",
        description="List (and with --yes delete) the records a run left on the target, found by its run id.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_arguments(parser)
    which = parser.add_argument_group("cleanup")
    add_options(which, [OPTIONS["run_id"]], run_id="the run whose records to delete (its report's run.id)")
    which.add_argument(
        "--all-runs", action="store_true", help="every record that carries any run's mark, instead of one run's"
    )
    which.add_argument("--yes", action="store_true", help="delete them (without it: only list them)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the cleanup with parsed arguments; returns the exit code."""
    flags = {
        name: value
        for name, value in vars(args).items()
        if name not in ("handler", "command", "yes", "all_runs") and value is not None
    }
    try:
        merged = resolve_options(flags)
        if args.all_runs and args.run_id:
            raise ConfigError("--run-id and --all-runs exclude each other")
        if not args.all_runs and not merged.get("run_id"):
            raise ConfigError("--run-id ID is required (a run's report names it as run.id), or --all-runs")
        if not merged.get("base_url"):
            raise ConfigError("--base-url is required: the target whose records to delete")
        profile = make_profile(merged)
    except ConfigError as error:
        print(f"conformance: error: {error}", file=sys.stderr)
        return int(CleanupExit.USAGE)
    mark = RunMark(None if args.all_runs else merged["run_id"])
    which = "any run" if mark.run_id is None else f"run {mark.run_id}"
    outcome = clean_up_run(profile, mark, delete=args.yes)
    for item in outcome.found:
        urls = item.record.get("webHookUrls")
        first = urls[0] if isinstance(urls, list) and urls else item.record.get("url")
        print(f"{item.id}\tshop {item.record.get('shopId')}\t{first}")
    for problem in outcome.unlisted:
        print(f"conformance: error: {problem}", file=sys.stderr)
    if outcome.unlisted and not outcome.found:
        print(f"the target could not be listed: what remains of {which} is not known")
        return int(outcome.exit_code)
    if not args.yes:
        verb = "would delete them with --yes" if outcome.found else "nothing to delete"
        print(f"{len(outcome.found)} record(s) of {which} on {profile.base_url}: {verb}")
        return int(outcome.exit_code)
    print(f"deleted {len(outcome.deleted)} record(s) of {which}; {len(outcome.left)} left behind")
    for webhook_id, reason in outcome.left:
        print(f"conformance: left behind {webhook_id}: {reason}", file=sys.stderr)
    return int(outcome.exit_code)
