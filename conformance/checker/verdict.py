"""The verdict and exit code of a run, derived from its results and how it ended."""

from __future__ import annotations

from enum import IntEnum

from conformance.checker.results import Results


class ExitCode(IntEnum):
    """The documented exit codes of `conformance run`."""

    CONFORMANT = 0  # no MUST failed (and, with --strict, no SHOULD), or only failures the baseline lists
    NONCONFORMANT = 1  # a MUST failed (or, with --strict, a SHOULD) that no baseline lists
    USAGE = 2  # bad flag, option or spec: nothing was checked
    INCOMPLETE = 3  # the run could not complete: target unreachable, timed out, interrupted


def fails_the_run(level: str, *, strict: bool, known: bool) -> bool:
    """The one rule for a failed requirement: a MUST, or a SHOULD under --strict, fails the run, unless a
    baseline lists it as a known failure. The verdict, the exit code and every report apply it."""
    return not known and (level == "MUST" or strict)


def verdict_of(
    results: Results,
    *,
    strict: bool,
    error: str | None,
    interrupted: bool = False,
    known: frozenset[str] = frozenset(),
) -> tuple[str, ExitCode]:
    """(`conformant` | `nonconformant` | `error`, exit code).

    A failed MUST makes the target nonconformant even when the run then broke off: what was seen stands.
    Only an interruption (Ctrl-C, SIGTERM) is always `error`: the user stopped the run, not the target.
    `known` are the requirement IDs of a baseline: their failures keep the verdict truthful but do not
    make the exit code 1 (a CI gate fails only on a new failure).
    """
    if interrupted:
        return "error", ExitCode.INCOMPLETE
    counted = [e for e in results.failed() if fails_the_run(e.requirement.level, strict=strict, known=False)]
    if any(fails_the_run(e.requirement.level, strict=strict, known=e.requirement.id in known) for e in counted):
        return "nonconformant", ExitCode.NONCONFORMANT
    if counted:
        return "nonconformant", ExitCode.CONFORMANT if error is None else ExitCode.INCOMPLETE
    if error is not None:
        return "error", ExitCode.INCOMPLETE
    return "conformant", ExitCode.CONFORMANT
