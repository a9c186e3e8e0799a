"""What a finished run hands its reports: `RunOutcome`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from conformance.checker.baseline import BaselineComparison
from conformance.checker.ledger import Cleanup
from conformance.checker.profile import RunOptions, TargetProfile
from conformance.checker.results import Results
from conformance.checker.verdict import ExitCode
from conformance.contract.spec import SpecInfo


@dataclass
class RunOutcome:
    """Everything a report needs about one finished run."""

    verdict: str
    exit_code: ExitCode
    results: Results
    options: RunOptions
    profile: TargetProfile | None
    spec: SpecInfo | None
    started: datetime
    duration: float
    requests: int = 0
    requests_by_check: dict[str, int] = field(default_factory=dict)  # the answered ones, by the check that sent them
    cleanup: Cleanup = field(default_factory=Cleanup)
    error: str | None = None
    reference_server: bool = False
    notes: list[str] = field(default_factory=list)
    coverage: dict[tuple[str, int | None], int] = field(default_factory=dict)
    baseline: BaselineComparison | None = None
    run_id: str | None = None  # marks every record the run wrote (`marks`)
