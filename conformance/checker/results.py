"""What a run found, requirement by requirement.

A requirement is `passed` only when some check exercised it and none failed; `failed` when a check
recorded a finding; otherwise `not-run`, with the reason. Every engine records an assertion one way,
`Results.check`. A finding is data: the requirement, the check, what was expected, what came back, and the
exchanges that show it; the requirement's own text is the report's to add.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.checker import attribution
from conformance.checker.evidence import Exchange
from conformance.checker.reproduction import sequence_steps, shell_script
from conformance.contract.catalogue import Requirement, catalogue, requirement

MAX_FINDINGS_PER_REQUIREMENT = 5  # more of the same adds nothing for the reader; the count is kept
# Distinct findings held per requirement while the run goes on. Checks run side by side, so which come first
# is chance: the run keeps this many, then the first MAX_FINDINGS_PER_REQUIREMENT in an order of their own.
MAX_FINDINGS_HELD = 50


@dataclass
class Finding:
    """One observed break of a requirement."""

    requirement_id: str
    check: str
    expected: str
    actual: str
    exchanges: list[Exchange] = field(default_factory=list)
    seed: int | None = None
    operation: str | None = None  # operationId of the request that broke it, where known
    id: str = ""  # stable within a run and across runs with the same seed (set when the results keep it)
    origin: str | None = None  # the check whose request got the answer (for the every-answer checks)
    answering: str | None = None  # that request in words (`POST /webHooks with a body of 1.0 MiB`), where named
    # Every request the check sent up to the failure, from a clean start: the self-contained reproduction.
    sequence: list[Exchange] = field(default_factory=list, repr=False)
    # A lifecycle finding's example as the machine's rules and their arguments (`lifecycle.logged`).
    machine_steps: list[dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def signature(self) -> tuple[str, str, str]:
        """What makes two findings different; not the request, lest one cause fill every place kept."""
        return (self.check, self.expected, self.actual)

    @property
    def said(self) -> str:
        """What came back, and, where the check sees every answer, to which request."""
        return f"{self.actual}, answering {self.answering}" if self.answering else self.actual

    def stable_stem(self) -> str:
        """`LIST-03-1a2b3c`: the requirement and a digest of the check and the request's method and operation,
        none of which depend on the ids or shops a run made up."""
        request = self.exchanges[-1].method if self.exchanges else ""
        digest = hashlib.sha256(f"{self.check}|{request}|{self.operation}".encode()).hexdigest()[:6]
        return f"{self.requirement_id}-{digest}"

    def order(self, run_order: Sequence[str] = ()) -> tuple[int, str, str, int, str, str]:
        """Where the finding stands among its requirement's: by the check whose request got the answer, in the
        run's order of checks, then by how far into that check it came, then by the request (`stable_stem`):
        the order a run one check at a time shows them in, and none of it depends on the ids a run made up or
        on what ran beside the check."""
        sender = self.origin or self.check
        ranks = {name: index for index, name in enumerate(run_order)}
        rank = ranks.get(sender, ranks.get(sender.split(":")[0], len(ranks)))
        return (rank, sender, self.check, len(self.sequence), self.stable_stem(), self.expected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requirement": self.requirement_id,
            "check": self.check,
            "expected": self.expected,
            "actual": self.said,
            "exchanges": [exchange.to_dict() for exchange in self.exchanges],
            "reproduction": [exchange.curl() for exchange in self.exchanges],
            "seed": self.seed,
            "operation": self.operation,
            "origin": self.origin or self.check,
            "script": shell_script(self) if self.sequence else None,
            "sequence": sequence_steps(self) if self.sequence else None,
            "machine_steps": self.machine_steps,
        }


@dataclass
class RequirementResult:
    """The outcome of one requirement in a run."""

    requirement: Requirement
    checks: set[str] = field(default_factory=set)
    exercised: int = 0  # how many assertions about it were evaluated
    findings: list[Finding] = field(default_factory=list)
    failures: int = 0  # all failed assertions, also those beyond the findings kept
    not_run_reason: str | None = None
    # Left out (`Results.leave_out`): what other checks still see of it does not make it pass; a failure still counts.
    left_out: bool = False
    selected: bool = True  # False when --only/--skip (or pytest's -k, -m) left it out of the run
    # Per operationId, the assertions about requests to it (of those whose operation is known), and the failed.
    operations: Counter[str] = field(default_factory=Counter)
    failed_operations: Counter[str] = field(default_factory=Counter)

    @property
    def status(self) -> str:
        if self.failures:
            return "failed"
        if self.exercised:
            return "passed"
        return "not-run"


def _name(findings: list[Finding]) -> None:
    """Give each finding its id: its stable stem, numbered from the second finding with the same stem on."""
    seen: Counter[str] = Counter()
    for finding in findings:
        stem = finding.stable_stem()
        seen[stem] += 1
        finding.id = stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"


class Results:
    """The run's results, one entry per catalogue requirement; safe to record into from several threads."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.by_id: dict[str, RequirementResult] = {item.id: RequirementResult(item) for item in catalogue()}
        self._lock = threading.Lock()
        self.notes: dict[str, list[str]] = defaultdict(list)
        # Engine -> requirement -> failed assertions its checks recorded (`attribution.ENGINE`): engines run side
        # by side, and each console line gives its own.
        self.failures_by_engine: dict[str, Counter[str]] = defaultdict(Counter)
        self.run_order: list[str] = []  # the run's checks in the order they would run one at a time (`settle`)

    def check(
        self,
        requirement_id: str,
        check: str,
        ok: bool,
        expected: str,
        actual: str | Callable[[], str],
        exchanges: Sequence[Exchange] = (),
        *,
        operation: str | None = None,
        sequence: Sequence[Exchange] | None = None,
        origin: str | None = None,
        answering: str | None = None,
        machine_steps: list[dict[str, Any]] | None = None,
    ) -> Finding | None:
        """Record one assertion of `check` about a requirement: exercised when `ok`; else a finding, returned, of
        what was `expected` and what came back (`actual`: a callable for words that cost to build), with the
        `exchanges` that show it (the request it is about first), that request's `operation`, the `sequence`
        that reproduces it from a clean start, and, for a check that sees every answer, the check whose request
        got the answer (`origin`) and that request in words (`answering`); for the lifecycle machine, the
        example's rules (`machine_steps`)."""
        if ok:
            self.exercised(requirement_id, check, operation)
            return None
        said = actual() if callable(actual) else actual
        finding = Finding(requirement_id, check, expected, said, list(exchanges), operation=operation, origin=origin)
        finding.answering = answering
        finding.sequence = list(sequence or ())
        finding.machine_steps = machine_steps
        self.fail(finding)
        return finding

    def exercised(self, requirement_id: str, check: str, operation: str | None = None) -> None:
        """A check evaluated an assertion about this requirement (pass or fail); `operation` is the operationId
        of the request it was about, where the check knows it."""
        with self._lock:
            entry = self.by_id[requirement_id]
            if entry.left_out:
                return
            entry.exercised += 1
            entry.checks.add(check)
            if operation:
                entry.operations[operation] += 1

    def fail(self, finding: Finding) -> None:
        """Record a finding; keeps the first few distinct ones per requirement."""
        requirement(finding.requirement_id)  # a typo in an ID is a bug in the checker: fail loudly
        with self._lock:
            entry = self.by_id[finding.requirement_id]
            entry.exercised += 1
            entry.failures += 1
            self.failures_by_engine[attribution.ENGINE.get()][finding.requirement_id] += 1
            entry.checks.add(finding.check)
            if finding.operation:
                entry.operations[finding.operation] += 1
                entry.failed_operations[finding.operation] += 1
            if finding.seed is None:
                finding.seed = self.seed
            signatures = [item.signature for item in entry.findings]
            same = signatures.index(finding.signature) if finding.signature in signatures else None
            if same is not None:  # the same failure again: the one first in order stands for both, whoever came first
                if finding.order(self.run_order) < entry.findings[same].order(self.run_order):
                    entry.findings[same] = finding
            elif len(entry.findings) < MAX_FINDINGS_HELD:
                entry.findings.append(finding)
            _name(entry.findings)

    def settle(self) -> None:
        """Once every check has ended: per requirement, the findings kept for the report, in an order that does
        not depend on which check ran first (see `Finding.order`), named by that order."""
        with self._lock:
            for entry in self.by_id.values():
                ordered = sorted(entry.findings, key=lambda finding: finding.order(self.run_order))
                entry.findings = ordered[:MAX_FINDINGS_PER_REQUIREMENT]
                _name(entry.findings)

    def not_run(self, requirement_id: str, reason: str) -> None:
        """Say why a requirement could not be exercised (kept only if nothing exercised it)."""
        with self._lock:
            entry = self.by_id[requirement_id]
            if entry.not_run_reason is None:
                entry.not_run_reason = reason

    def leave_out(self, requirement_id: str, reason: str) -> None:
        """Forget everything recorded about a requirement: it is not-run for `reason`, whatever touched it, and
        stays so whatever checks still running beside see of it, unless one sees it fail."""
        with self._lock:
            entry = self.by_id[requirement_id]
            self.by_id[requirement_id] = RequirementResult(entry.requirement, not_run_reason=reason, left_out=True)

    def deselect(self, requirement_id: str, reason: str) -> None:
        """Leave a requirement out of the selection: not-run for `reason`, and not part of what was asked."""
        self.leave_out(requirement_id, reason)
        self.by_id[requirement_id].selected = False

    def status(self, requirement_id: str) -> str:
        return self.by_id[requirement_id].status

    def failed(self, level: str | None = None) -> list[RequirementResult]:
        return [
            entry
            for entry in self.by_id.values()
            if entry.status == "failed" and (level is None or entry.requirement.level == level)
        ]

    def findings(self) -> list[Finding]:
        return [finding for entry in self.by_id.values() for finding in entry.findings]
