"""The verdict and exit code of a run, derived from its results and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from conformance.checker.results import Results


class ExitCode(IntEnum):
    """The documented exit codes of `conformance run`."""

    CONFORMANT = 0  # no MUST failed (and, with --strict, no SHOULD), or only failures the baseline lists
    NONCONFORMANT = 1  # a MUST failed (or, with --strict, a SHOULD) that no baseline lists
    USAGE = 2  # bad flag, option or spec: nothing was checked
    INCOMPLETE = 3  # the run could not complete: target unreachable, timed out, interrupted; or checked nothing


def fails_the_run(level: str, *, strict: bool, known: bool) -> bool:
    """The one rule for a failed requirement: a MUST, or a SHOULD under --strict, fails the run, unless a
    baseline lists it as a known failure. The verdict, the exit code and every report apply it."""
    return not known and (level == "MUST" or strict)


@dataclass(frozen=True)
class Completeness:
    """How much of the contract a run checked: the selection, and the selected requirements that count
    (MUST, and SHOULD under --strict) but were not run, by reason."""

    selected: int
    total: int
    unchecked: dict[str, list[str]] = field(default_factory=dict)  # reason -> requirement IDs
    checked_any: bool = True

    @property
    def subset(self) -> bool:
        return self.selected < self.total

    @property
    def complete(self) -> bool:
        return not self.subset and not self.unchecked

    def summary(self) -> str | None:
        """One line: `subset: 4 of 51 requirements selected; 4 MUST requirements not run: reason (IDs); ...`,
        or None for a complete run."""
        parts = [f"subset: {self.selected} of {self.total} requirements selected"] if self.subset else []
        count = sum(len(ids) for ids in self.unchecked.values())
        if count:
            reasons = "; ".join(f"{why} ({', '.join(ids)})" for why, ids in self.unchecked.items())
            parts.append(f"{count} requirement(s) that count not run: {reasons}")
        return "; ".join(parts) or None


def completeness_of(results: Results, *, strict: bool) -> Completeness:
    """What the run left unchecked of what was asked, and whether it asked for the whole contract."""
    selected = [entry for entry in results.by_id.values() if entry.selected]
    unchecked: dict[str, list[str]] = {}
    for entry in selected:
        if entry.status == "not-run" and fails_the_run(entry.requirement.level, strict=strict, known=False):
            unchecked.setdefault(entry.not_run_reason or "not run", []).append(entry.requirement.id)
    checked_any = any(entry.status != "not-run" for entry in selected)
    return Completeness(len(selected), len(results.by_id), unchecked, checked_any)


def verdict_of(
    results: Results,
    *,
    strict: bool,
    error: str | None,
    interrupted: bool = False,
    known: frozenset[str] = frozenset(),
    require_complete: bool = False,
) -> tuple[str, ExitCode]:
    """(`conformant` | `nonconformant` | `incomplete` | `error`, exit code).

    A failed MUST makes the target nonconformant even when the run then broke off: what was seen stands.
    Only an interruption (Ctrl-C, SIGTERM) is always `error`: the user stopped the run, not the target.
    `known` are the requirement IDs of a baseline: their failures keep the verdict truthful but do not
    make the exit code 1 (a CI gate fails only on a new failure).
    Without a failure, a run that did not check the whole contract (a subset, or a MUST not run) is
    `incomplete`: exit 0, or 3 with `require_complete`; one that checked nothing is never conformant: exit 3.
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
    completeness = completeness_of(results, strict=strict)
    if not completeness.checked_any:
        return "incomplete", ExitCode.INCOMPLETE
    if not completeness.complete:
        return "incomplete", ExitCode.INCOMPLETE if require_complete else ExitCode.CONFORMANT
    return "conformant", ExitCode.CONFORMANT
