"""The options of `conformance run` that say what to check and how: one definition for the CLI and the
pytest plugin (which mirrors each as `--conformance-<name>`).

Light on purpose, argparse and the profile's constants only: the plugin reads these in every pytest session.
How each value is converted and checked, and its environment variable, is the profile's `OPTIONS` table.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from conformance.checker.profile import BUDGET_NAMES, PARTNER_KEY_HEADERS

RUN_ID_HELP = (
    "marks every record this run writes (shop ids, webhook URLs), for `conformance cleanup --run-id`; "
    "default: a fresh random id (a CI can pass its job id)"
)


def add_target_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the options that say how to reach the target (`conformance run` and `conformance cleanup`)."""
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
    return target


def add_run_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the target and run options to `parser`; returns the `run` group (for a face's own options)."""
    add_target_arguments(parser)
    how = parser.add_argument_group("run")
    how.add_argument("--spec", type=Path, help="the OpenAPI spec (default: the bundled one)")
    how.add_argument("--report-dir", type=Path, help="where the reports go (default: reports/)")
    how.add_argument("--run-id", help=RUN_ID_HELP)
    how.add_argument("--seed", help="seed for every random choice, to rerun a run exactly")
    how.add_argument("--budget", choices=BUDGET_NAMES, help="how hard to try: quick, standard (default), deep")
    how.add_argument("--strict", action="store_true", default=None, help="SHOULD failures fail the run too")
    how.add_argument("--only", help="check only these requirement IDs or groups (comma-separated)")
    how.add_argument("--skip", help="leave out these requirement IDs or groups (comma-separated)")
    how.add_argument(
        "--baseline", type=Path, metavar="FILE", help="known failures: only a failure not listed there fails the run"
    )
    how.add_argument(
        "--update-baseline", action="store_true", default=None, help="write this run's failures into --baseline"
    )
    how.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="send only GET/HEAD/OPTIONS/TRACE: the checks that need writes are not-run (for a target whose data "
        "must not change)",
    )
    how.add_argument(
        "--require-complete",
        action="store_true",
        default=None,
        help="exit 3 unless every requirement was checked: an incomplete run (a MUST not run, a subset) does not "
        "pass (for a vendor verification)",
    )
    return how


# The options a rerun command leaves out, each with why. Every other option of `add_run_arguments` is carried,
# so a new option that changes what is sent reaches the rerun without anyone remembering to add it.
NOT_IN_A_RERUN = {
    "partner_key": "keys come from the environment only: a value in argv shows in the process list",
    "developer_key": "keys come from the environment only",
    "second_developer_key": "keys come from the environment only",
    "report_dir": "where the rerun writes its reports is the rerun's own business",
    "only": "a rerun names the one requirement it checks itself",
    "skip": "a rerun names the one requirement it checks itself",
    "baseline": "a rerun reports what it sees, known or not",
    "update_baseline": "a rerun must not rewrite the baseline",
    "run_id": "a rerun is a run of its own: a fresh run id keeps its sweep off any other run's records",
}


def rerun_arguments(values: dict[str, Any]) -> list[str]:
    """The `conformance run` arguments that reproduce `values` (named as in the profile's OPTIONS table, as
    the user would write them), shell-quoted; the options in NOT_IN_A_RERUN are left out."""
    parser = argparse.ArgumentParser(add_help=False)
    add_run_arguments(parser)
    arguments: list[str] = []
    for action in parser._actions:
        value = values.get(action.dest)
        if action.dest in NOT_IN_A_RERUN or value is None or value is False or not action.option_strings:
            continue
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            arguments.append(flag)
        else:
            for item in value if isinstance(value, list | tuple) else [value]:
                arguments += [flag, shlex.quote(str(item))]
    return arguments
