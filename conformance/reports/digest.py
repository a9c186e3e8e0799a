"""What every rendering of a report says the same way: the headline, a requirement's one-line reason, and
whether a failure fails the run. All of it is read off the report model (`build_report`) alone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from conformance.checker.profile import target_words
from conformance.checker.verdict import fails_the_run

LEVELS = ("MUST", "SHOULD")
STATUSES = ("passed", "failed", "not-run")
KNOWN_FAILURE = "known failure (baseline)"
REASON_LIMIT = 200  # characters of a one-line reason


def one_line(text: str, limit: int = REASON_LIMIT) -> str:
    """The text on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def reason(requirement: dict[str, Any], limit: int = REASON_LIMIT) -> str:
    """Why a requirement is not passed, on one line: what came back (failed) or why it was not run."""
    if requirement["status"] == "failed":
        findings = requirement["findings"]
        if not findings:
            return f"{requirement['failures']} failed assertion(s)"
        return one_line(findings[0]["actual"], limit)
    return one_line(requirement.get("reason") or "", limit)


def not_run_by_reason(report: dict[str, Any], limit: int = REASON_LIMIT) -> dict[str, list[str]]:
    """The not-run requirements' IDs grouped by the reason they were not run (cut to `limit`), in catalogue
    order."""
    grouped: dict[str, list[str]] = {}
    for requirement in report["requirements"]:
        if requirement["status"] == "not-run":
            grouped.setdefault(reason(requirement, limit), []).append(requirement["id"])
    return grouped


def fails_run(requirement: dict[str, Any], strict: bool) -> bool:
    """Whether this requirement's status fails the run: a failed MUST, or a failed SHOULD under --strict,
    unless the baseline lists it as a known failure (`fails_the_run`)."""
    known = bool(requirement.get("baselined"))
    return requirement["status"] == "failed" and fails_the_run(requirement["level"], strict=strict, known=known)


def headline(report: dict[str, Any]) -> str:
    """`NONCONFORMANT: 2 of 55 requirements failed (1 MUST, 1 SHOULD), 50 passed, 3 not run`."""
    counts = report["counts"]
    total = len(report["requirements"])
    failed = counts["must_failed"] + counts["should_failed"]
    passed = counts["must_passed"] + counts["should_passed"]
    not_run = counts["must_not_run"] + counts["should_not_run"]
    return (
        f"{report['verdict'].upper()}: {failed} of {total} requirements failed "
        f"({counts['must_failed']} MUST, {counts['should_failed']} SHOULD), {passed} passed, {not_run} not run"
    )


def operations(report: dict[str, Any]) -> list[str]:
    """The operations of the spec the run touched, for the requirement x operation matrix (sorted)."""
    named = {item["operation"] for item in report["coverage"] if item["operation"] != "other"}
    for requirement in report["requirements"]:
        named.update(requirement["operations"])
    return sorted(named)


def target_name(report: dict[str, Any]) -> str:
    """The target as a reader knows it."""
    return target_words(report["run"]["target"], report["run"]["reference_server"])


def incomplete_line(report: dict[str, Any]) -> str | None:
    """`INCOMPLETE: subset: 4 of 51 requirements selected; ...` when the run did not check the whole contract
    (None otherwise, and for a report written before this field existed)."""
    summary = (report.get("completeness") or {}).get("summary")
    return f"INCOMPLETE: {summary}" if summary else None

def same_answer(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Finding id -> the findings (in report order, itself among them) about the same answer: one cause that
    fails several requirements (a 500 fails HTTP-01 and HTTP-06) or several checks. A finding's first
    exchange is the request it is about; the same exchange, with its timing, is the same answer."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in report["requirements"]:
        for finding in item["findings"]:
            exchanges = finding["exchanges"]
            key = json.dumps(exchanges[0], sort_keys=True) if exchanges else finding.get("id", "")
            groups.setdefault(key, []).append(finding)
    return {finding.get("id", ""): group for group in groups.values() for finding in group}


def also_fails(finding: dict[str, Any], grouped: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The other requirements the answer of this finding fails (empty when it fails only its own)."""
    named = {item["requirement"] for item in grouped.get(finding.get("id", ""), [finding])}
    return sorted(named - {finding["requirement"]})


def shown_first(finding: dict[str, Any], grouped: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The finding under which this finding's answer is shown: the first of its group."""
    return grouped.get(finding.get("id", ""), [finding])[0]


@dataclass
class FailedRow:
    """Failed requirements whose findings come from one answer: one line in a summary, naming them all."""

    requirements: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [item["id"] for item in self.requirements]

    @property
    def first(self) -> dict[str, Any]:
        return self.requirements[0]


def failed_rows(report: dict[str, Any]) -> list[FailedRow]:
    """The failed requirements in catalogue order, a requirement whose every finding is shown under an earlier
    one (the same answer) joined to that one's row: both still fail, the reader sees one cause."""
    grouped = same_answer(report)
    rows: list[FailedRow] = []
    row_of: dict[str, FailedRow] = {}  # requirement id -> its row
    for item in report["requirements"]:
        if item["status"] != "failed":
            continue
        heads = {shown_first(finding, grouped)["requirement"] for finding in item["findings"]}
        home = row_of.get(next(iter(heads))) if len(heads) == 1 else None
        if home is None:
            home = FailedRow([])
            rows.append(home)
        home.requirements.append(item)
        row_of[item["id"]] = home
    return rows
