"""The flags of the option table (`conformance.checker.options`) on an argparse parser: `conformance run` has the
target and run options, `conformance cleanup` the target's and the run id, `conformance replay` the target's."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from conformance.checker.options import RUN_OPTIONS, TARGET_OPTIONS, Option


def add_options(group: Any, options: Iterable[Option], **helps: str) -> None:
    """Add the flags of `options` to an argparse parser or group; `helps` gives a face's own words for one."""
    for option in options:
        group.add_argument(option.flag, dest=option.name, **option.argparse_settings(helps.get(option.name)))


def add_target_arguments(parser: argparse.ArgumentParser, **helps: str) -> argparse._ArgumentGroup:
    """Add the options that say how to reach the target (`conformance run`, `cleanup` and `replay`)."""
    target = parser.add_argument_group("target")
    add_options(target, TARGET_OPTIONS, **helps)
    return target


def add_run_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the target and run options to `parser`; returns the `run` group (for a face's own options)."""
    add_target_arguments(parser)
    how = parser.add_argument_group("run")
    add_options(how, RUN_OPTIONS)
    return how
