"""The verdict and exit code of a run, derived from its results and how it ended."""

from __future__ import annotations

from enum import IntEnum

from conformance.checker.results import Results


class ExitCode(IntEnum):
    """The documented exit codes of `conformance run`."""

    CONFORMANT = 0  # no MUST failed (and, with --strict, no SHOULD)
    NONCONFORMANT = 1  # a MUST failed (or, with --strict, a SHOULD)
    USAGE = 2  # bad flag, option or spec: nothing was checked
    INCOMPLETE = 3  # the run could not complete: target unreachable, timed out, interrupted


def verdict_of(results: Results, *, strict: bool, error: str | None, interrupted: bool = False) -> tuple[str, ExitCode]:
    """(`conformant` | `nonconformant` | `error`, exit code).

    A failed MUST makes the target nonconformant even when the run then broke off: what was seen stands.
    Only an interruption (Ctrl-C, SIGTERM) is always `error`: the user stopped the run, not the target.
    """
    if interrupted:
        return "error", ExitCode.INCOMPLETE
    failed_must = bool(results.failed("MUST"))
    failed_should = bool(results.failed("SHOULD"))
    if failed_must or (strict and failed_should):
        return "nonconformant", ExitCode.NONCONFORMANT
    if error is not None:
        return "error", ExitCode.INCOMPLETE
    return "conformant", ExitCode.CONFORMANT
